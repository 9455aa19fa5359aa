// The two lines above the controls. The error banner shows the kernel's `error` trait and this
// view's own errors (audio, microphone, exceptions caught by guard.js), each once, until
// dismissed; a dismissed kernel error comes back only when the kernel reports a different one.
// The warning line says when the kernel is busy (wording from status-panel.js warnText).

import { h } from "./dom.js";

export class ErrorBanner {
  /**
   * @param {{signal: AbortSignal, guard: import("./guard.js").Guard, kernelError: () => string}} opts
   *   `kernelError`: the `error` trait now
   */
  constructor({ signal, guard, kernelError }) {
    this.kernelError = kernelError;
    this.localError = "";
    this.dismissedKernelError = "";
    this.text = h("span", { rtnb: "error", class: "rtnb-error-text" });
    const dismiss = h("button", { class: "rtnb-btn rtnb-btn-small rtnb-dismiss", type: "button", "aria-label": "Dismiss", title: "Dismiss" }, "×");
    this.el = h("div", { class: "rtnb-banner", role: "alert", hidden: true }, this.text, dismiss);
    dismiss.addEventListener(
      "click",
      guard(() => {
        this.localError = "";
        this.dismissedKernelError = this.kernelError();
        this.render();
      }),
      { signal },
    );
  }

  /** @param {string} text this view's own error ("" clears it) */
  setLocalError(text) {
    this.localError = text;
    this.render();
  }

  render() {
    const kernel = this.kernelError();
    if (kernel !== this.dismissedKernelError) this.dismissedKernelError = "";
    const parts = [kernel && kernel !== this.dismissedKernelError ? kernel : "", this.localError].filter(Boolean);
    const text = [...new Set(parts)].join("\n");
    this.text.textContent = text;
    this.el.hidden = !text;
  }
}

export class WarnLine {
  constructor() {
    this.el = h("div", { class: "rtnb-warn", role: "status", hidden: true });
  }

  /** @param {string} text "" hides the line */
  set(text) {
    if (this.el.textContent !== text) this.el.textContent = text;
    this.el.hidden = !text;
  }
}

// The controls: microphone, mode, push-to-talk, mute, stop audio, text input, level meters.
// This module only builds DOM and reports gestures through callbacks; view.js does the work.

import { h } from "./dom.js";
import { Meter } from "./meters.js";

export const MODES = /** @type {const} */ (["hands_free", "push_to_talk"]);
const MIC_LABELS = { off: "Start mic", starting: "Starting…", on: "Stop mic", error: "Start mic" };

/**
 * @typedef {{
 *   micToggle: () => void,
 *   modeChange: (mode: string) => void,
 *   pttPress: () => void,
 *   pttRelease: () => void,
 *   muteToggle: () => void,
 *   stopAudio: () => void,
 *   sendText: (text: string) => void,
 *   enableAudio: () => void,
 *   thresholdChange: (value: number) => void,
 * }} ControlHandlers
 */

export class Controls {
  /**
   * @param {{signal: AbortSignal, handlers: ControlHandlers, guard: import("./guard.js").Guard}} opts
   */
  constructor({ signal, handlers, guard }) {
    const on = (/** @type {EventTarget} */ t, /** @type {string} */ type, /** @type {(e: any) => unknown} */ fn) =>
      t.addEventListener(type, guard(fn), { signal });

    this.micButton = h("button", { rtnb: "mic-button", class: "rtnb-btn rtnb-mic", type: "button", "data-state": "off" }, MIC_LABELS.off);
    this.mode = /** @type {HTMLSelectElement} */ (
      h(
        "select",
        { rtnb: "mode", class: "rtnb-select", title: "Hands-free: the server's voice activity detection ends your turn. Push-to-talk: hold the button while you speak." },
        h("option", { value: "hands_free" }, "hands-free"),
        h("option", { value: "push_to_talk" }, "push-to-talk"),
      )
    );
    this.ptt = h(
      "button",
      { rtnb: "ptt-button", class: "rtnb-btn rtnb-ptt", type: "button", hidden: true, title: "Hold while you speak (mouse, touch, or Space/Enter); release to send the turn", "data-lm-suppress-shortcuts": "true" },
      "Hold to talk",
    );
    this.mute = h("button", { rtnb: "mute", class: "rtnb-btn", type: "button", "aria-pressed": "false", title: "Stop sending microphone audio (the mic stays open)" }, "Mute");
    this.stopAudio = h("button", { rtnb: "stop-audio", class: "rtnb-btn", type: "button", title: "Stop the assistant's audio now (the kernel truncates the item at what you heard)" }, "Stop audio");
    this.enableAudio = h(
      "button",
      { rtnb: "enable-audio", class: "rtnb-btn rtnb-btn-primary rtnb-enable-audio", type: "button", hidden: true, title: "The browser blocks sound until you click in the page" },
      "Click to enable audio",
    );
    this.textInput = /** @type {HTMLInputElement} */ (
      h("input", { rtnb: "text-input", class: "rtnb-input rtnb-text-input", type: "text", placeholder: "Type a message and press Enter", autocomplete: "off", "aria-label": "Message", "data-lm-suppress-shortcuts": "true" })
    );
    this.sendText = h("button", { rtnb: "send-text", class: "rtnb-btn", type: "button" }, "Send");

    this.meterIn = new Meter({ rtnb: "level-in", label: "mic", title: "Microphone level (dBFS); the line is the VAD threshold", withThreshold: true });
    this.meterOut = new Meter({ rtnb: "level-out", label: "out", title: "Assistant audio level (dBFS)" });
    this.threshold = /** @type {HTMLInputElement} */ (
      h("input", { rtnb: "threshold-input", class: "rtnb-threshold-input", type: "range", min: "0", max: "1", step: "0.05", value: "0.5", "aria-label": "VAD threshold" })
    );
    this.thresholdText = h("span", { class: "rtnb-threshold-text" });
    this.hint = h("div", { class: "rtnb-hint" });

    this.el = h(
      "section",
      { class: "rtnb-controls", "aria-label": "Controls" },
      h("div", { class: "rtnb-row" }, this.micButton, this.mode, this.ptt, this.mute, this.stopAudio),
      this.enableAudio,
      h(
        "div",
        { class: "rtnb-meters" },
        this.meterIn.wrap,
        h("label", { class: "rtnb-threshold", title: "VAD threshold (turn_detection.threshold, 0..1): raise it if noise starts turns, lower it if your voice does not" }, "VAD ", this.threshold, this.thresholdText),
        this.meterOut.wrap,
      ),
      h("div", { class: "rtnb-row rtnb-send" }, this.textInput, this.sendText),
      this.hint,
    );
    // what needs a live session: hidden in a replay (setReplay; the rule is in replay.css)
    const thresholdLabel = /** @type {HTMLElement} */ (this.threshold.parentElement);
    for (const el of [this.micButton, this.mode, this.ptt, this.mute, this.meterIn.wrap, thresholdLabel, this.textInput.parentElement, this.hint]) {
      if (el) el.dataset.liveOnly = "";
    }

    on(this.micButton, "click", handlers.micToggle);
    on(this.mode, "change", () => handlers.modeChange(this.mode.value));
    on(this.mute, "click", handlers.muteToggle);
    on(this.stopAudio, "click", handlers.stopAudio);
    on(this.enableAudio, "click", handlers.enableAudio);
    on(this.threshold, "change", () => handlers.thresholdChange(Number(this.threshold.value)));
    on(this.threshold, "input", () => this.showThreshold(Number(this.threshold.value)));
    const send = () => {
      const text = this.textInput.value.trim();
      if (!text) return;
      handlers.sendText(text);
      this.textInput.value = "";
    };
    on(this.sendText, "click", send);
    on(this.textInput, "keydown", (/** @type {KeyboardEvent} */ e) => {
      if (e.key === "Enter" && !e.isComposing) {
        e.preventDefault();
        send();
      }
      e.stopPropagation(); // keep Jupyter's command-mode shortcuts out of the text box
    });

    // push-to-talk: pointer (mouse, touch, pen) and keyboard
    this.held = false;
    const press = () => {
      if (this.held) return;
      this.held = true;
      this.ptt.classList.add("rtnb-held");
      this.ptt.setAttribute("aria-pressed", "true");
      handlers.pttPress();
    };
    const release = () => {
      if (!this.held) return;
      this.held = false;
      this.ptt.classList.remove("rtnb-held");
      this.ptt.setAttribute("aria-pressed", "false");
      handlers.pttRelease();
    };
    this.releasePtt = release;
    on(this.ptt, "pointerdown", (/** @type {PointerEvent} */ e) => {
      if (e.button !== 0) return;
      e.preventDefault();
      try {
        this.ptt.setPointerCapture(e.pointerId);
      } catch {
        /* synthetic events have no active pointer to capture: harmless */
      }
      press();
    });
    on(this.ptt, "pointerup", release);
    on(this.ptt, "pointercancel", release);
    on(this.ptt, "pointerleave", release);
    on(this.ptt, "lostpointercapture", release);
    on(this.ptt, "contextmenu", (/** @type {Event} */ e) => e.preventDefault());
    on(this.ptt, "keydown", (/** @type {KeyboardEvent} */ e) => {
      if (e.key === " " || e.key === "Enter") {
        e.preventDefault();
        e.stopPropagation();
        if (!e.repeat) press();
      }
    });
    on(this.ptt, "keyup", (/** @type {KeyboardEvent} */ e) => {
      if (e.key === " " || e.key === "Enter") {
        e.preventDefault();
        release();
      }
    });
    on(this.ptt, "blur", release);
  }

  /**
   * A replay (`status` "replay") has no microphone and no session: only the speaker's controls stay.
   * @param {boolean} on
   */
  setReplay(on) {
    this.el.classList.toggle("rtnb-replaying", !!on);
  }

  /** @param {"off"|"starting"|"on"|"error"} state */
  setMicState(state) {
    this.micButton.dataset.state = state;
    this.micButton.textContent = MIC_LABELS[state] ?? MIC_LABELS.off;
    /** @type {HTMLButtonElement} */ (this.micButton).disabled = state === "starting";
    this.micButton.setAttribute("aria-pressed", String(state === "on"));
  }

  /** @param {string} mode */
  setMode(mode) {
    const m = mode === "push_to_talk" ? "push_to_talk" : "hands_free";
    if (this.mode.value !== m) this.mode.value = m;
    this.ptt.hidden = m !== "push_to_talk";
    if (m !== "push_to_talk") this.releasePtt();
  }

  /** @param {boolean} muted */
  setMuted(muted) {
    this.mute.setAttribute("aria-pressed", String(!!muted));
    this.mute.textContent = muted ? "Unmute" : "Mute";
    this.mute.classList.toggle("rtnb-active", !!muted);
  }

  /** @param {boolean} needs */
  setNeedsUnlock(needs) {
    if (this.enableAudio.hidden === !needs) return;
    this.enableAudio.hidden = !needs;
  }

  /** @param {number} value */
  showThreshold(value) {
    this.thresholdText.textContent = Number.isFinite(value) ? value.toFixed(2) : "–";
  }

  /**
   * @param {number|null} value API threshold 0..1
   * @param {string|null} turnDetection
   */
  setThreshold(value, turnDetection) {
    const vad = turnDetection === "server_vad";
    const v = typeof value === "number" && Number.isFinite(value) ? value : null;
    /** @type {HTMLInputElement} */ (this.threshold).disabled = !vad;
    if (v !== null && document.activeElement !== this.threshold) this.threshold.value = String(v);
    this.showThreshold(v ?? Number(this.threshold.value));
    this.meterIn.setThreshold(vad ? v : null);
  }

  /** @param {string} text */
  setHint(text) {
    if (this.hint.textContent !== text) this.hint.textContent = text;
    this.hint.hidden = !text;
  }
}

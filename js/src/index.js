// realtime-nb's anywidget front end: the module anywidget loads. One `View` (view.js) per
// rendered output; nothing is shared between views but the page's AudioContext.

import "./styles.css";
import { View } from "./view.js";

/** @typedef {import("./model.js").Model} Model */

export default {
  /** Once per model: nothing is shared between views but the page's AudioContext. */
  initialize() {
    return () => {};
  },

  /**
   * @param {{model: Model, el: HTMLElement, signal?: AbortSignal}} ctx
   */
  render({ model, el, signal }) {
    const view = new View(model, el);
    const cleanup = () => view.destroy();
    if (signal) {
      if (signal.aborted) {
        cleanup();
        return cleanup;
      }
      signal.addEventListener("abort", cleanup, { once: true });
    }
    view.start().catch((e) => view.showError(e));
    return cleanup;
  },
};

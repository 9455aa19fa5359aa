// The header: the connection state (the `status` trait; test hook `status`), the offline badge
// while the kernel talks to the local stand-in instead of a real model (with a tooltip saying
// how to use OpenAI instead), and the endpoint the kernel talks to (a URL, never a key).

import { h } from "./dom.js";

const OFFLINE_TOOLTIP =
  "No API key was found, so the kernel talks to realtime-nb's local stand-in server: scripted " +
  "replies and a simple level-based VAD, no real model. To use OpenAI, pass " +
  "RealtimeWidget(api_key=...) or set the OPENAI_API_KEY environment variable, then create " +
  "the widget again.";

export class StatusLine {
  constructor() {
    this.status = h("span", { rtnb: "status", class: "rtnb-status", "data-state": "idle" }, "idle");
    this.badge = h("span", { rtnb: "badge-offline", class: "rtnb-badge", title: OFFLINE_TOOLTIP, tabindex: "0" }, "offline stand-in");
    this.endpoint = h("span", { class: "rtnb-endpoint" });
    this.el = h("header", { class: "rtnb-header" }, h("span", { class: "rtnb-title" }, "Realtime"), this.status, this.badge, this.endpoint);
  }

  /** @param {{status: string, offline: boolean, endpoint: string}} s the traits */
  render({ status, offline, endpoint }) {
    this.status.textContent = status;
    this.status.dataset.state = status;
    // parentNode, not isConnected: on the first render the view is not in the page yet
    if (offline && !this.badge.parentNode) this.status.after(this.badge);
    if (!offline && this.badge.parentNode) this.badge.remove();
    this.endpoint.textContent = endpoint;
    this.endpoint.title = endpoint;
  }
}

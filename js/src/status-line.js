// The header: the connection state (the `status` trait, and whether the kernel still answers;
// test hook `status`), the offline badge while the kernel talks to the local stand-in instead of a
// real model (with a tooltip saying how to use OpenAI instead), the endpoint the kernel talks to
// (a URL, never a key), plain advice when something is wrong (`connection-advice`) and the
// Reconnect button (`reconnect`) when the session closed but the kernel is alive.

import { h } from "./dom.js";
import { replayLabel } from "./replay-speed.js";

const OFFLINE_TOOLTIP =
  "No API key was found, so the kernel talks to realtime-nb's local stand-in server: scripted " +
  "replies and a simple level-based VAD, no real model. To use OpenAI, pass " +
  "RealtimeWidget(api_key=...) or set the OPENAI_API_KEY environment variable, then create " +
  "the widget again.";

/**
 * What the header says: the state shown (the trait, unless the kernel itself is gone) and advice.
 * @param {string} status the `status` trait
 * @param {"live"|"quiet"|"dead"} kernel whether the widget's link to the kernel is alive
 *   (comm-health.js kernelState)
 * @returns {{state: string, advice: string, canReconnect: boolean}}
 */
export function connectionState(status, kernel) {
  if (kernel === "dead") {
    return { state: "disconnected", advice: "The kernel restarted or stopped: run the cell again to start a new session.", canReconnect: false };
  }
  if (kernel === "quiet") {
    return { state: "not answering", advice: "The kernel is not answering: a cell may still be running. If the kernel restarted, run the cell again.", canReconnect: false };
  }
  if (status === "closed") return { state: "closed", advice: "The session is closed. Press Reconnect for a new one with the same settings.", canReconnect: true };
  if (status === "reconnecting") return { state: "reconnecting", advice: "The connection dropped; reconnecting…", canReconnect: false };
  if (status === "error") return { state: "error", advice: "", canReconnect: true };
  if (status === "replay") return { state: "replay", advice: "", canReconnect: false };
  return { state: status || "idle", advice: "", canReconnect: false };
}

export class StatusLine {
  /** @param {{onReconnect: () => void, signal: AbortSignal, guard: import("./guard.js").Guard}} opts */
  constructor({ onReconnect, signal, guard }) {
    this.status = h("span", { rtnb: "status", class: "rtnb-status", "data-state": "idle" }, "idle");
    this.badge = h("span", { rtnb: "badge-offline", class: "rtnb-badge", title: OFFLINE_TOOLTIP, tabindex: "0" }, "offline stand-in");
    this.endpoint = h("span", { class: "rtnb-endpoint" });
    this.advice = h("span", { rtnb: "connection-advice", class: "rtnb-advice", hidden: true });
    this.reconnect = h("button", { rtnb: "reconnect", class: "rtnb-btn rtnb-btn-small", type: "button", hidden: true, title: "Open a new session with the same settings (w.reconnect())" }, "Reconnect");
    this.reconnect.addEventListener("click", guard(onReconnect), { signal });
    this.el = h("header", { class: "rtnb-header" }, h("span", { class: "rtnb-title" }, "Realtime"), this.status, this.badge, this.endpoint, this.advice, this.reconnect);
  }

  /**
   * @param {{status: string, offline: boolean, endpoint: string, kernel: "live"|"quiet"|"dead",
   *   replay?: string}} s `replay`: the file a replay shows (the `replay_source` trait)
   */
  render({ status, offline, endpoint, kernel, replay = "" }) {
    if (status === "replay" || (replay && status === "closed")) {
      // a recording: nothing to reconnect, no stand-in running, no green dot (data-state "replay")
      const c = connectionState("replay", kernel);
      this.status.textContent = c.state === "replay" ? replayLabel(replay) : c.state;
      this.status.dataset.state = c.state;
      this.advice.textContent = c.advice;
      this.advice.hidden = !c.advice;
      this.reconnect.hidden = true;
      if (this.badge.parentNode) this.badge.remove();
      this.endpoint.textContent = endpoint ? `recorded via ${endpoint}` : "";
      this.endpoint.title = this.endpoint.textContent;
      return;
    }
    const c = connectionState(status, kernel);
    this.status.textContent = c.state;
    this.status.dataset.state = c.state;
    this.advice.textContent = c.advice;
    this.advice.hidden = !c.advice;
    this.reconnect.hidden = !c.canReconnect;
    // parentNode, not isConnected: on the first render the view is not in the page yet
    if (offline && !this.badge.parentNode) this.status.after(this.badge);
    if (!offline && this.badge.parentNode) this.badge.remove();
    this.endpoint.textContent = endpoint;
    this.endpoint.title = endpoint;
  }
}

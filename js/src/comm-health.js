// Whether the kernel is answering. The view pings it every PING_INTERVAL_MS (one ping out at a
// time) and keeps the round trip of the last pong; a ping left unanswered longer than
// STALL_AFTER_MS means a running cell is blocking the kernel, and the view says so
// (status-panel.js warnText) instead of looking dead. Pure: the clock and ids are passed in.

import { PING } from "./bridge.js";

export const PING_INTERVAL_MS = 2000;
/** The kernel counts as stalled when a ping has gone unanswered this long. */
export const STALL_AFTER_MS = 3000;
/** Unanswered this long, the header stops saying "connected": the kernel may be gone. */
export const QUIET_AFTER_MS = 15000;

/**
 * Whether the kernel link is alive, as the header shows it.
 * "dead": the widget manager marked the comm closed (kernel restarted or shut down) or a send
 * failed; "quiet": no pong for QUIET_AFTER_MS (a long blocking cell, or a kernel that died
 * without saying so); "live" otherwise.
 * @param {{commLive: unknown, sendFailed: boolean, silentForMs: number|null}} f
 * @returns {"live"|"quiet"|"dead"}
 */
export function kernelState({ commLive, sendFailed, silentForMs }) {
  if (commLive === false || sendFailed) return "dead";
  if (silentForMs !== null && silentForMs > QUIET_AFTER_MS) return "quiet";
  return "live";
}

export class CommHealth {
  constructor() {
    /** @type {{id: number, t: number}|null} the ping waiting for its pong */
    this.ping = null;
    this.gotPong = false;
    /** @type {number|null} round trip of the last answered ping, ms */
    this.rtt = null;
  }

  /**
   * The ping to send now, or null while the previous one still waits for its pong.
   * @param {number} now epoch ms
   * @param {() => number} newId
   * @returns {{type: string, request_id: number, t: number}|null}
   */
  nextPing(now, newId) {
    if (this.ping) return null;
    this.ping = { id: newId(), t: now };
    return { type: PING, request_id: this.ping.id, t: now };
  }

  /**
   * Take a PONG; returns whether it answered the ping this view is waiting for.
   * @param {{request_id?: unknown}} msg
   * @param {number} now epoch ms
   */
  onPong(msg, now) {
    if (!this.ping || msg.request_id !== this.ping.id) return false;
    this.rtt = now - this.ping.t;
    this.ping = null;
    this.gotPong = true;
    return true;
  }

  /**
   * How long the outstanding ping has waited; null when none waits, or before the first pong
   * (a kernel that has not answered yet may still be starting).
   * @param {number} now epoch ms
   * @returns {number|null}
   */
  silentForMs(now) {
    return this.gotPong && this.ping ? now - this.ping.t : null;
  }
}

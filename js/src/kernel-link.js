// The view's line to the kernel: everything it sends goes through here. The kernel learns about
// a view from `ready` (bridge.js, DESIGN.md §4), so what is sent before it is queued (bounded)
// and goes out right after it. A request for an event's JSON always settles: with the kernel's
// reply, with an error after EVENT_JSON_TIMEOUT_MS (a busy kernel), or when the view closes.

import { COMMAND, GET_EVENT, PROTOCOL_VERSION, READY } from "./bridge.js";

/** A GET_EVENT request that gets no EVENT_JSON reply in this time resolves with an error. */
export const EVENT_JSON_TIMEOUT_MS = 5000;
/** Kernel-bound messages queued while `ready` has not gone out yet. */
export const PRE_READY_QUEUE = 200;

/** @typedef {{payload: object|null, error: string|null}} EventReply */

export class KernelLink {
  /**
   * @param {import("./model.js").Model} model
   * @param {AbortSignal} signal aborted when the view closes: nothing is sent after that
   */
  constructor(model, signal) {
    this.model = model;
    this.signal = signal;
    this.readySent = false;
    /** @type {[object, ArrayBuffer[]|undefined][]} */
    this.queued = [];
    this.nextId = 1 + Math.floor(Math.random() * 1e9);
    /** @type {Map<number, {resolve: (r: EventReply) => void, timer: ReturnType<typeof setTimeout>}>} */
    this.pending = new Map();
    /** True once a send threw (the comm is gone: kernel restarted or shut down). */
    this.sendFailed = false;
  }

  /**
   * model.send, noting a failure instead of throwing: after a kernel restart the comm is closed
   * and every send would otherwise raise into the banner, once per mic frame.
   * @param {object} msg
   * @param {ArrayBuffer[]} [buffers]
   */
  post(msg, buffers) {
    if (this.sendFailed) return;
    try {
      this.model.send(msg, undefined, buffers);
    } catch (e) {
      this.sendFailed = true;
      console.warn("realtime-nb: the kernel link is closed", e);
    }
  }

  /** A fresh request id; event requests and pings share the sequence. */
  newRequestId() {
    return this.nextId++;
  }

  /**
   * Send `ready` (the view's first message), then whatever was queued before it.
   * @param {object} fields the rest of the `ready` message (view_id, sample_rate, ...)
   */
  sendReady(fields) {
    this.post({ type: READY, version: PROTOCOL_VERSION, ...fields });
    this.readySent = true;
    for (const [msg, buffers] of this.queued.splice(0)) this.post(msg, buffers);
  }

  /**
   * Send to the kernel (queued until `ready` has gone out; dropped once the view is closed).
   * @param {object} msg
   * @param {ArrayBuffer[]} [buffers]
   */
  send(msg, buffers) {
    if (this.signal.aborted) return;
    if (!this.readySent) {
      if (this.queued.length < PRE_READY_QUEUE) this.queued.push([msg, buffers]);
      return;
    }
    this.post(msg, buffers);
  }

  /**
   * Send now, not queued: microphone frames, which are worth nothing late.
   * @param {object} msg
   * @param {ArrayBuffer[]} buffers
   */
  sendNow(msg, buffers) {
    this.post(msg, buffers);
  }

  /**
   * @param {string} name one of bridge.js COMMANDS
   * @param {object} args
   */
  command(name, args) {
    this.send({ type: COMMAND, name, args });
  }

  /**
   * Ask for one event's JSON; always settles (an error after EVENT_JSON_TIMEOUT_MS).
   * @param {number} seq
   * @param {{original?: boolean}} [options] original: as it crossed the wire (base64 audio back)
   * @returns {Promise<EventReply>}
   */
  requestEvent(seq, options = {}) {
    const id = this.newRequestId();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve({
          payload: null,
          error:
            `No reply from the kernel within ${EVENT_JSON_TIMEOUT_MS / 1000} s for event #${seq}. ` +
            "A running cell may be blocking the kernel: click the row again when it is idle.",
        });
      }, EVENT_JSON_TIMEOUT_MS);
      this.pending.set(id, { resolve, timer });
      this.send(options.original ? { type: GET_EVENT, request_id: id, seq, original: true } : { type: GET_EVENT, request_id: id, seq });
    });
  }

  /**
   * Settle the request an EVENT_JSON message answers.
   * @param {{request_id: number, payload?: object|null, error?: string|null}} msg
   */
  answerEvent(msg) {
    const p = this.pending.get(msg.request_id);
    if (!p) return; // another view's request, or timed out already
    this.pending.delete(msg.request_id);
    clearTimeout(p.timer);
    p.resolve({ payload: msg.payload ?? null, error: msg.error ?? null });
  }

  /** Settle every open request with an error (the view is closing). */
  close() {
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.resolve({ payload: null, error: "The view was closed." });
    }
    this.pending.clear();
  }
}

// The speaker: 24 kHz PCM16 items -> "rtnb-player" worklet -> analyser -> destination.
//
// The worklet keeps the jitter buffer and the exact per-item played counters (PlaybackQueue in
// audio-math.js); this class forwards audio and commands and turns its reports into epoch times.
import { contextTimeToEpochMs } from "./audio-context.js";

/**
 * @typedef {{item_id: string, samples: number, received: number,
 *   reason: "progress"|"interrupted"|"ended", t_first: number|null}} PlayedReport
 *   samples: 24 kHz samples of the item played so far (exact); t_first: epoch ms at which the
 *   item's first sample reached the speaker (output latency included), or null before it played
 */

export class Player {
  /**
   * Build the graph. Construct after getAudio()'s `ready` has resolved (the player processor must
   * be registered).
   * @param {AudioContext} ctx
   */
  constructor(ctx) {
    this.ctx = ctx;
    this.node = new AudioWorkletNode(ctx, "rtnb-player", {
      numberOfInputs: 0,
      numberOfOutputs: 1,
      outputChannelCount: [1],
    });
    this.analyser = ctx.createAnalyser();
    this.analyser.fftSize = 1024;
    this.node.connect(this.analyser);
    this.analyser.connect(ctx.destination);
    this._scratch = new Float32Array(this.analyser.fftSize);
    /** @type {Set<(report: PlayedReport) => void>} */
    this._playedCbs = new Set();
    this._stats = { underruns: 0, buffered_ms: 0, playing_item: /** @type {string|null} */ (null) };
    this._closed = false;
    this.node.port.onmessage = (e) => this._onMessage(e.data);
  }

  /**
   * Queue audio of an item (copied; the caller keeps its array). Items play in push order.
   * @param {string} itemId
   * @param {Int16Array} pcm 24 kHz mono PCM16
   */
  push(itemId, pcm) {
    if (this._closed || !pcm.length) return;
    const copy = pcm.slice();
    this.node.port.postMessage({ cmd: "push", item: String(itemId), pcm: copy }, [copy.buffer]);
  }

  /**
   * Fade out what is playing (about 12 ms), drop everything queued, and report each dropped item
   * once through onPlayed with reason "interrupted" and its exact played samples. While the
   * context is not running nothing is audible: the queue is dropped at once and still reported.
   */
  flush() {
    if (this._closed) return;
    this.node.port.postMessage({ cmd: "flush", fade: this.ctx.state === "running" });
  }

  /**
   * Receive played reports: progress (about every 100 ms while playing), interrupted, ended.
   * @param {(report: PlayedReport) => void} cb
   * @returns {() => void} unsubscribe
   */
  onPlayed(cb) {
    this._playedCbs.add(cb);
    return () => this._playedCbs.delete(cb);
  }

  /** @returns {number} RMS of what the speaker is being given now, 0..1 */
  level() {
    if (this._closed || this.ctx.state !== "running") return 0;
    this.analyser.getFloatTimeDomainData(this._scratch);
    let s = 0;
    for (let i = 0; i < this._scratch.length; i++) s += this._scratch[i] * this._scratch[i];
    return Math.min(1, Math.sqrt(s / this._scratch.length));
  }

  /** @returns {boolean} the AudioContext is not running (autoplay policy): call unlock() from a gesture */
  get needsUnlock() {
    return this.ctx.state !== "running";
  }

  /** Resume the AudioContext; call from a user gesture (a click on "enable audio"). */
  async unlock() {
    await this.ctx.resume();
  }

  /**
   * As last reported by the worklet (about 20 times a second).
   * @returns {{underruns: number, buffered_ms: number, playing_item: string|null}}
   */
  stats() {
    return { ...this._stats };
  }

  /** Stop playing and disconnect (the shared AudioContext stays open for other views). */
  close() {
    if (this._closed) return;
    this._closed = true;
    this.node.port.onmessage = null;
    this.node.port.postMessage({ cmd: "reset" });
    this.node.port.close();
    this.node.disconnect();
    this.analyser.disconnect();
    this._playedCbs.clear();
  }

  /** @param {any} msg */
  _onMessage(msg) {
    if (!msg) return;
    if (msg.type === "level") {
      this._stats = {
        underruns: msg.underruns,
        buffered_ms: Math.round(msg.buffered_ms),
        playing_item: msg.playing_item,
      };
    } else if (msg.type === "played") {
      /** @type {PlayedReport} */
      const report = {
        item_id: msg.item_id,
        samples: msg.samples,
        received: msg.received,
        reason: msg.reason,
        t_first: msg.t_first === null ? null : contextTimeToEpochMs(this.ctx, msg.t_first),
      };
      for (const cb of this._playedCbs) cb(report);
    }
  }
}

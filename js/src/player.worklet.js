// AudioWorkletProcessor "rtnb-player": plays queued 24 kHz PCM16 items at the context rate.
//
// Owns a PlaybackQueue (pre-buffer, resampling, fade on flush, exact played counters).
// Port messages in:
//   {cmd: "push", item, pcm: Int16Array}   queue audio of an item
//   {cmd: "flush", fade?: boolean}         fade out, drop the queue, report "interrupted"
//   {cmd: "reset"}                         drop everything at once, no report
// Port messages out:
//   {type: "played", item_id, samples, received, reason: "progress"|"interrupted"|"ended",
//    t_first}  -- t_first: AudioContext seconds of the item's first played sample (or null).
//    "progress" about every 100 ms while an item plays (when its count moved), "interrupted"
//    once per item dropped by a flush (after the fade), "ended" once when an item has played out.
//   {type: "level", value, underruns, buffered_ms, playing_item}  about 20 times a second.
// A flush with nothing audible, or with {fade: false}, is completed and reported in the message
// handler itself, so it is reported even while the context is suspended (no process() calls);
// a faded flush is reported by the process() call that finishes the fade.
import { PlaybackQueue } from "./audio-math.js";

const MAX_FIRST_TIMES = 256;

class PlayerProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.queue = new PlaybackQueue({ outputRate: Math.round(sampleRate) });
    /** @type {Map<string, number>} AudioContext seconds of each item's first played sample */
    this.firstTime = new Map();
    this.progressEvery = Math.round(sampleRate * 0.1);
    this.levelEvery = Math.round(sampleRate * 0.05);
    this.sinceProgress = 0;
    this.sinceLevel = 0;
    this.sumSquares = 0;
    /** @type {Map<string, number>} */
    this.lastReported = new Map();
    /** @param {MessageEvent} e */
    this.port.onmessage = (e) => this.onMessage(e.data || {});
  }

  /** @param {{cmd?: string, item?: unknown, pcm?: Int16Array, fade?: boolean}} msg */
  onMessage(msg) {
    if (msg.cmd === "push" && msg.pcm) this.queue.push(String(msg.item), msg.pcm);
    else if (msg.cmd === "flush") {
      this.queue.flush({ fade: msg.fade !== false });
      // items dropped without a fade (nothing audible, or fade: false) are reported now
      for (const id of this.queue.pull(new Float32Array(0)).interrupted) this.report(id, "interrupted");
    } else if (msg.cmd === "reset") {
      this.queue.reset();
      this.firstTime.clear();
      this.lastReported.clear();
    }
  }

  /**
   * @param {string} id
   * @param {"progress" | "interrupted" | "ended"} reason
   */
  report(id, reason) {
    const q = this.queue;
    const samples = q.played(id);
    this.lastReported.set(id, samples);
    if (reason !== "progress") this.lastReported.delete(id);
    const t = this.firstTime.get(id);
    this.port.postMessage({
      type: "played",
      item_id: id,
      samples,
      received: q.received(id),
      reason,
      t_first: t === undefined ? null : t,
    });
  }

  /**
   * @param {Float32Array[][]} inputs
   * @param {Float32Array[][]} outputs
   * @returns {boolean}
   */
  process(inputs, outputs) {
    const channels = outputs[0];
    if (!channels || !channels.length) return true;
    const out = channels[0];
    const res = this.queue.pull(out);
    for (let c = 1; c < channels.length; c++) channels[c].set(out);
    res.started.forEach((id, k) => {
      if (!this.firstTime.has(id)) {
        this.firstTime.set(id, currentTime + res.startedAt[k] / sampleRate);
        const oldest = this.firstTime.keys().next().value;
        if (this.firstTime.size > MAX_FIRST_TIMES && oldest !== undefined) this.firstTime.delete(oldest);
      }
    });
    for (const id of res.interrupted) this.report(id, "interrupted");
    for (const id of res.ended) this.report(id, "ended");

    this.sinceProgress += out.length;
    if (this.sinceProgress >= this.progressEvery) {
      this.sinceProgress = 0;
      const id = this.queue.playingItem;
      if (id !== null && this.queue.played(id) !== this.lastReported.get(id)) this.report(id, "progress");
    }

    for (let i = 0; i < out.length; i++) this.sumSquares += out[i] * out[i];
    this.sinceLevel += out.length;
    if (this.sinceLevel >= this.levelEvery) {
      this.port.postMessage({
        type: "level",
        value: Math.min(1, Math.sqrt(this.sumSquares / this.sinceLevel)),
        underruns: this.queue.underruns,
        buffered_ms: this.queue.bufferedMs,
        playing_item: this.queue.playingItem,
      });
      this.sinceLevel = 0;
      this.sumSquares = 0;
    }
    return true;
  }
}

registerProcessor("rtnb-player", PlayerProcessor);

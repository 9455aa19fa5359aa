// The view's audio out: the page's AudioContext (audio-context.js) and this view's Player. The
// kernel's AUDIO chunks go into the Player; when a widget is displayed twice only the first live
// view plays a chunk (no double audio). The Player's reports of what the speaker actually played
// go back to the kernel as PLAYED, because barge-in truncates at what was heard, never at a guess.

import { PLAYED, asInt16, bufferKind } from "./bridge.js";
import { getAudio } from "./audio-context.js";
import { Player } from "./player.js";
import { num, withTimeout } from "./util.js";

/** Waits for the AudioContext and for the worklet modules before `ready` goes out anyway. */
const AUDIO_START_TIMEOUT_MS = 4000;

/** AUDIO messages already handed to a Player by some view of the same model. All views of a
 * model receive the same message object, so only the first live view plays it. */
const claimedAudio = new WeakSet();

/** @typedef {{ctx: AudioContext, ready: Promise<void>}} Audio */

export class Playback {
  /**
   * @param {{signal: AbortSignal, guard: import("./guard.js").Guard, send: (msg: object) => void,
   *   onContextState: () => void}} opts `onContextState`: the AudioContext started or stopped running
   */
  constructor({ signal, guard, send, onContextState }) {
    this.signal = signal;
    this.guard = guard;
    this.send = send;
    this.onContextState = onContextState;
    /** @type {Audio|null} */
    this.audio = null;
    /** @type {Player|null} */
    this.player = null;
    /** @type {Promise<Audio>|null} */
    this.audioPromise = null;
    /** @type {Record<string, number>} 24 kHz samples played, per item */ this.played = {};
    /** @type {Record<string, number>} 24 kHz samples received, per item */ this.received = {};
    /** @type {Record<string, number>} epoch ms of each item's first played sample */ this.firstPlayed = {};
    /** how the kernel's binary buffers arrive here (DataView in Jupyter, Uint8Array in Colab) */
    this.bufferKind = "unknown";
  }

  /** The page's AudioContext and this view's Player (created once; retried after a failure). */
  ensureAudio() {
    if (!this.audioPromise) {
      this.audioPromise = this.initAudio().catch((e) => {
        this.audioPromise = null;
        throw e;
      });
    }
    return this.audioPromise;
  }

  /** @returns {Promise<Audio>} */
  async initAudio() {
    const audio = await withTimeout(getAudio(), AUDIO_START_TIMEOUT_MS, "Starting the AudioContext");
    await withTimeout(audio.ready, AUDIO_START_TIMEOUT_MS, "Loading the audio worklets");
    if (this.signal.aborted) return audio;
    this.audio = audio;
    if (!this.player) {
      const player = new Player(audio.ctx);
      player.onPlayed(this.guard((r) => this.onPlayed(r)));
      this.player = player;
      audio.ctx.addEventListener("statechange", this.guard(() => this.onContextState()), { signal: this.signal });
    }
    return audio;
  }

  /** @returns {AudioContext|null} */
  get ctx() {
    return this.audio ? this.audio.ctx : null;
  }

  /** The AudioContext's rate, 0 before it started. */
  get contextRate() {
    return this.audio ? this.audio.ctx.sampleRate : 0;
  }

  /** The rate `ready` announces: 0 when this view cannot play audio. */
  get playbackRate() {
    return this.player && this.audio ? this.audio.ctx.sampleRate : 0;
  }

  /** The AudioContext waits for a user gesture (autoplay policy). */
  get needsUnlock() {
    return !!this.player && this.player.needsUnlock;
  }

  /** Output level, 0..1. */
  level() {
    return this.player ? num(this.player.level()) : 0;
  }

  /** Start (or resume) audio from a user gesture. */
  async unlock() {
    if (!this.player) await this.ensureAudio();
    if (this.player) await this.player.unlock();
  }

  /** Fade out and drop everything queued; the Player reports the item as interrupted. */
  flush() {
    if (this.player) this.player.flush();
  }

  /**
   * An AUDIO message from the kernel.
   * @param {import("./bridge.js").Audio} msg
   * @param {(DataView|Uint8Array|ArrayBuffer)[]} [buffers]
   */
  onAudio(msg, buffers) {
    const buf = buffers && buffers[0];
    if (!buf) throw new Error(`audio message for ${msg.item_id} arrived without its buffer`);
    this.bufferKind = bufferKind(buf);
    if (!this.player || claimedAudio.has(msg)) return;
    claimedAudio.add(msg);
    const pcm = asInt16(buf); // Player.push copies it
    this.received[msg.item_id] = (this.received[msg.item_id] || 0) + pcm.length;
    this.player.push(msg.item_id, pcm);
  }

  /** @param {{item_id: string, samples: number, received: number, reason: string, t_first: number|null}} r */
  onPlayed(r) {
    this.played[r.item_id] = r.samples;
    if (r.t_first !== null && r.t_first !== undefined) this.firstPlayed[r.item_id] = r.t_first;
    this.send({
      type: PLAYED,
      item_id: r.item_id,
      samples: r.samples,
      received: r.received,
      reason: r.reason,
      t_first: r.t_first ?? null,
    });
  }

  /** Underruns so far (0 without a player). */
  underruns() {
    if (!this.player) return 0;
    try {
      return num(this.player.stats().underruns);
    } catch {
      return 0;
    }
  }

  /** Stop and disconnect this view's Player (the page's AudioContext stays for other views). */
  close() {
    if (!this.player) return;
    try {
      this.player.close();
    } catch (e) {
      console.error("realtime-nb: closing the player", e);
    }
    this.player = null;
  }
}

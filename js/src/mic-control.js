// The view's microphone: started by a gesture (the mic button, or the first push-to-talk
// press), stopped by the button or when the view closes. Failures are classified (mic.js
// MicError) and shown once; every state change is reported to the kernel (MIC_STATE); frames go
// out as binary MIC_FRAME messages when the mode lets them through (push-to-talk.js).

import { MIC_FRAME, MIC_STATE } from "./bridge.js";
import { Mic, MicError, checkMicSupport } from "./mic.js";
import { errorText, num } from "./util.js";

const PCM_RATE = 24000;

/** @typedef {import("./model.js").MicStateName} MicStateName */

export class MicControl {
  /**
   * @param {{
   *   model: import("./model.js").Model,
   *   signal: AbortSignal,
   *   guard: import("./guard.js").Guard,
   *   link: import("./kernel-link.js").KernelLink,
   *   playback: import("./playback.js").Playback,
   *   ptt: import("./push-to-talk.js").PushToTalk,
   *   banner: import("./banner.js").ErrorBanner,
   *   onStateChange: (state: MicStateName) => void,
   * }} deps
   */
  constructor({ model, signal, guard, link, playback, ptt, banner, onStateChange }) {
    this.model = model;
    this.signal = signal;
    this.guard = guard;
    this.link = link;
    this.playback = playback;
    this.ptt = ptt;
    this.banner = banner;
    this.onStateChange = onStateChange;
    /** @type {Mic|null} */
    this.mic = null;
    /** @type {MicStateName} */
    this.state = "off";
    /** @type {Record<string, unknown>} the track's settings once started */
    this.settings = {};
    this.frameSeq = 0; // frames sent since this mic start
    this.framesSent = 0; // frames sent by this view, ever
    this.lastErrorText = ""; // shown in the banner; cleared from it when the mic starts
  }

  /** Frames are flowing, or about to. */
  get active() {
    return this.state === "on" || this.state === "starting";
  }

  toggle() {
    if (this.active) {
      this.stop();
      return;
    }
    return this.start();
  }

  async start() {
    if (this.active) return;
    const unsupported = checkMicSupport();
    if (unsupported) {
      this.failed(unsupported);
      return;
    }
    // resume within the gesture (autoplay policy), before any await
    const ctx = this.playback.ctx;
    if (ctx) ctx.resume().catch(() => {});
    this.setState("starting");
    /** @type {Mic|null} */
    let mic = null;
    try {
      let audio;
      try {
        audio = await this.playback.ensureAudio();
      } catch (e) {
        console.error("realtime-nb: audio engine", e);
        throw new MicError("audio_context", undefined, { cause: e });
      }
      if (audio.ctx.state !== "running") await audio.ctx.resume().catch(() => {});
      const c = this.model.get("mic_constraints");
      const opts = c && typeof c === "object" && Object.keys(c).length ? { constraints: c } : {};
      mic = new Mic(audio.ctx, opts);
      mic.muted = !!this.model.get("muted");
      this.frameSeq = 0;
      const thisMic = mic;
      mic.onFrame(this.guard((pcm, info) => this.onFrame(thisMic, pcm, info)));
      this.mic = mic;
      await mic.start();
      if (this.signal.aborted || this.mic !== mic) {
        mic.stop();
        return;
      }
      this.settings = /** @type {Record<string, unknown>} */ ({ ...(mic.settings() || {}) });
      this.setState("on");
    } catch (e) {
      if (mic) {
        try {
          mic.stop();
        } catch {
          /* it never started */
        }
      }
      if (this.mic === mic) this.mic = null;
      if (!this.signal.aborted) this.failed(e);
    }
  }

  stop() {
    const mic = this.mic;
    this.mic = null;
    if (mic) mic.stop();
    if (this.ptt.releasing) this.ptt.finish();
    this.setState("off");
  }

  /** @param {unknown} e */
  failed(e) {
    const err = /** @type {any} */ (e);
    const code = e instanceof MicError || (err && typeof err.code === "string") ? err.code : "unknown";
    const message = errorText(e);
    console.error("realtime-nb: microphone", e);
    // the kernel echoes the message into the `error` trait: the same text shows once
    this.lastErrorText = message;
    this.banner.setLocalError(message);
    this.setState("error", code, message);
    if (this.ptt.held) this.ptt.finish();
  }

  /**
   * @param {MicStateName} state
   * @param {string|null} [error]
   * @param {string|null} [message]
   */
  setState(state, error = null, message = null) {
    this.state = state;
    if (state === "on" && this.lastErrorText && this.banner.localError === this.lastErrorText) this.banner.setLocalError("");
    this.link.send({
      type: MIC_STATE,
      state,
      error,
      message,
      settings: state === "on" ? this.settings : {},
      context_rate: this.playback.contextRate,
    });
    this.onStateChange(state);
  }

  /** @param {boolean} muted frames are not delivered while muted (the mic stays open) */
  setMuted(muted) {
    if (this.mic) this.mic.muted = muted;
  }

  /** Input level 0..1 (0 while the mic is off). */
  level() {
    return this.mic && this.state === "on" ? num(this.mic.level()) : 0;
  }

  /**
   * @param {Mic} mic
   * @param {Int16Array} pcm
   * @param {{seq: number, t_capture: number, level: number}} info
   */
  onFrame(mic, pcm, info) {
    if (mic !== this.mic || this.signal.aborted) return;
    const frameMs = (pcm.length / PCM_RATE) * 1000;
    const handsFree = this.model.get("mode") !== "push_to_talk";
    if (this.ptt.wantsFrame(handsFree, info.t_capture, frameMs) && !mic.muted) {
      // the frame's own bytes, as an ArrayBuffer (binary, never JSON)
      const buf = /** @type {ArrayBuffer} */ (
        pcm.byteOffset === 0 && pcm.byteLength === pcm.buffer.byteLength ? pcm.buffer : pcm.slice().buffer
      );
      this.link.sendNow({ type: MIC_FRAME, seq: this.frameSeq++, t_capture: info.t_capture, level: info.level }, [buf]);
      this.framesSent++;
    }
    this.ptt.frameDone(info.t_capture);
  }

  /** The view is closing: stop the mic and tell the kernel (while messages still go out). */
  close() {
    const mic = this.mic;
    if (!mic) return;
    this.mic = null;
    try {
      mic.stop();
      this.setState("off");
    } catch (e) {
      console.error("realtime-nb: stopping the mic", e);
    }
  }
}

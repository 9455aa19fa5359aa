// One `View` per rendered output of the widget: its DOM, audio, microphone and messages.
//
// Order of a view's life (bridge.js, DESIGN.md §4): build the DOM, start audio (the page's
// AudioContext and this view's Player), send `ready` (the first message, with the context's
// sample rate, 0 when audio cannot start), and only then listen to kernel messages. Durable state
// comes from traits (model.get / change:NAME); streams are custom messages whose names all come
// from bridge.js. Every handler runs through `guard`, so an exception lands in the error banner
// (and the console) instead of vanishing.

import {
  AUDIO,
  COMMAND,
  EVENT_JSON,
  FLUSH,
  GET_EVENT,
  MIC_FRAME,
  MIC_STATE,
  PING,
  PLAYED,
  PONG,
  PROTOCOL_VERSION,
  PTT,
  READY,
  ROWS,
  asInt16,
  bufferKind,
} from "./bridge.js";
import { getAudio } from "./audio-context.js";
import { Mic, MicError, checkMicSupport } from "./mic.js";
import { Player } from "./player.js";
import { Controls } from "./controls.js";
import { h } from "./dom.js";
import { EVENT_JSON_TIMEOUT_MS, TableView } from "./table.js";
import { TranscriptView } from "./transcript.js";
import { envRows, hintText, statsNodes, warnText } from "./status-panel.js";
import { errorText, fmtMs, nowEpochMs, num, randomId, withTimeout } from "./util.js";

/** Waits for the AudioContext and for the worklet modules before `ready` goes out anyway. */
const AUDIO_START_TIMEOUT_MS = 4000;
/** After a push-to-talk release, wait this long at most for the frame holding the release. */
const PTT_TAIL_MS = 150;
const PING_INTERVAL_MS = 2000;
/** The kernel counts as stalled when a ping has gone unanswered this long. */
const STALL_AFTER_MS = 3000;
const METER_INTERVAL_MS = 60;
/** Kernel-bound messages queued while `ready` has not gone out yet. */
const PRE_READY_QUEUE = 200;
const PCM_RATE = 24000;

const OFFLINE_TOOLTIP =
  "No API key was found, so the kernel talks to realtime-nb's local stand-in server: scripted " +
  "replies and a simple level-based VAD, no real model. To use OpenAI, pass " +
  "RealtimeWidget(api_key=...) or set the OPENAI_API_KEY environment variable, then create " +
  "the widget again.";

/** AUDIO messages already handed to a Player by some view of the same model. All views of a
 * model receive the same message object, so only the first live view plays (no double audio
 * when a widget is displayed twice). */
const claimedAudio = new WeakSet();

/** @returns {{views: any[]}} */
function registry() {
  const g = /** @type {any} */ (globalThis);
  if (!g.__rtnb || !Array.isArray(g.__rtnb.views)) g.__rtnb = { views: [] };
  return g.__rtnb;
}

/**
 * @typedef {{get(name: string): any, set(name: string, value: any): void, save_changes(): void,
 *   send(content: object, callbacks?: any, buffers?: (ArrayBuffer|ArrayBufferView)[]): void,
 *   on(name: string, fn: (...args: any[]) => void): void,
 *   off(name: string, fn: (...args: any[]) => void): void}} Model
 * @typedef {"off"|"starting"|"on"|"error"} MicStateName
 */

export class View {
  /**
   * @param {Model} model
   * @param {HTMLElement} el
   */
  constructor(model, el) {
    this.model = model;
    this.host = el;
    this.viewId = randomId();
    this.destroyed = false;
    this.ac = new AbortController(); // every DOM listener of this view
    /** @type {[string, (...a: any[]) => void][]} */
    this.modelListeners = [];
    /** @type {ReturnType<typeof setInterval>[]} */
    this.intervals = [];

    /** @type {{ctx: AudioContext, ready: Promise<void>}|null} */
    this.audio = null;
    /** @type {Player|null} */
    this.player = null;
    /** @type {Promise<{ctx: AudioContext, ready: Promise<void>}>|null} */
    this.audioPromise = null;
    /** @type {Mic|null} */
    this.mic = null;
    /** @type {MicStateName} */
    this.micState = "off";
    /** @type {Record<string, unknown>} */
    this.micSettings = {};
    this.frameSeq = 0; // frames sent since this mic start
    this.framesSent = 0; // frames sent by this view, ever
    this.held = false;
    /** @type {number|null} epoch ms of the last push-to-talk release still to be sent */
    this.releaseAt = null;
    /** @type {ReturnType<typeof setTimeout>|null} */
    this.releaseTimer = null;

    /** @type {Record<string, number>} */ this.played = {};
    /** @type {Record<string, number>} */ this.received = {};
    /** @type {Record<string, number>} */ this.firstPlayed = {};
    this.bufferKind = "unknown";

    this.readySent = false;
    /** @type {[object, (ArrayBuffer|ArrayBufferView)[]|undefined][]} */
    this.preReady = [];
    this.nextRequest = 1 + Math.floor(Math.random() * 1e9);
    /** @type {Map<number, {resolve: (r: {payload: object|null, error: string|null}) => void, timer: ReturnType<typeof setTimeout>}>} */
    this.pending = new Map();
    /** @type {{id: number, t: number}|null} */
    this.ping = null;
    this.gotPong = false;
    /** @type {number|null} */
    this.rtt = null;

    this.localError = "";
    this.dismissedKernelError = "";
    this.micPermission = "unknown";
    this.micErrorText = "";

    this.guard = /** @type {<T extends unknown[]>(fn: (...a: T) => unknown) => (...a: T) => void} */ (
      (fn) =>
        (...args) => {
          try {
            const r = /** @type {any} */ (fn(...args));
            if (r && typeof r.then === "function") r.catch((/** @type {unknown} */ e) => this.showError(e));
          } catch (e) {
            this.showError(e);
          }
        }
    );

    // --- DOM
    const signal = this.ac.signal;
    const g = this.guard;
    this.status = h("span", { rtnb: "status", class: "rtnb-status", "data-state": "idle" }, "idle");
    this.badge = h("span", { rtnb: "badge-offline", class: "rtnb-badge", title: OFFLINE_TOOLTIP, tabindex: "0" }, "offline stand-in");
    this.endpoint = h("span", { class: "rtnb-endpoint" });
    this.errorText = h("span", { rtnb: "error", class: "rtnb-error-text" });
    const dismiss = h("button", { class: "rtnb-btn rtnb-btn-small rtnb-dismiss", type: "button", "aria-label": "Dismiss", title: "Dismiss" }, "×");
    this.banner = h("div", { class: "rtnb-banner", role: "alert", hidden: true }, this.errorText, dismiss);
    this.warn = h("div", { class: "rtnb-warn", role: "status", hidden: true });

    this.controls = new Controls({
      signal,
      guard: g,
      handlers: {
        micToggle: () => this.toggleMic(),
        modeChange: (mode) => this.changeMode(mode),
        pttPress: () => this.pttPress(),
        pttRelease: () => this.pttRelease(),
        muteToggle: () => this.setMuted(!this.model.get("muted")),
        stopAudio: () => this.stopAudio(),
        sendText: (text) => this.command("send_text", { text }),
        enableAudio: () => this.unlockAudio(),
        thresholdChange: (value) => this.changeThreshold(value),
      },
    });
    this.transcript = new TranscriptView();
    this.table = new TableView({
      signal,
      requestEvent: (seq) => this.requestEvent(seq),
      clearLog: () => this.command("clear_log", {}),
      onError: (e) => this.showError(e),
    });
    this.statsEl = h("div", { rtnb: "stats", class: "rtnb-stats" });
    this.envBody = h("dl", { class: "rtnb-env-list" });
    this.env = h("details", { class: "rtnb-env" }, h("summary", {}, "environment check"), this.envBody);

    this.root = h(
      "div",
      { rtnb: "root", class: "rtnb-root" },
      h(
        "header",
        { class: "rtnb-header" },
        h("span", { class: "rtnb-title" }, "Realtime"),
        this.status,
        this.badge,
        this.endpoint,
      ),
      this.banner,
      this.warn,
      h(
        "div",
        { class: "rtnb-main" },
        h("div", { class: "rtnb-left" }, this.controls.el, this.transcript.el),
        h("div", { class: "rtnb-right" }, this.table.el),
      ),
      h("footer", { class: "rtnb-footer" }, this.statsEl, this.env),
    );
    this.host.replaceChildren(this.root);

    dismiss.addEventListener(
      "click",
      g(() => {
        this.localError = "";
        this.dismissedKernelError = this.model.get("error") || "";
        this.renderError();
      }),
      { signal },
    );
    // any gesture inside the widget may unlock audio (autoplay policy)
    this.root.addEventListener(
      "pointerdown",
      g(() => {
        if (this.player && this.player.needsUnlock) return this.unlockAudio();
      }),
      { signal, capture: true },
    );
    this.env.addEventListener("toggle", g(() => this.renderEnv()), { signal });
    this.bindTraits();
    this.registryEntry = { view_id: this.viewId, stats: () => this.stats() };
    registry().views.push(this.registryEntry);
  }

  /**
   * Observe a model event; removed in destroy().
   * @param {string} name
   * @param {(...a: any[]) => unknown} fn
   */
  listen(name, fn) {
    const wrapped = this.guard(fn);
    this.model.on(name, wrapped);
    this.modelListeners.push([name, wrapped]);
  }

  bindTraits() {
    const m = this.model;
    const traits = /** @type {[string, () => void][]} */ ([
      ["status", () => this.renderStatus()],
      ["offline", () => this.renderStatus()],
      ["endpoint", () => this.renderStatus()],
      ["error", () => this.renderError()],
      ["mode", () => this.applyMode()],
      ["turn_detection", () => this.applyThreshold()],
      ["vad_threshold", () => this.applyThreshold()],
      ["muted", () => this.applyMuted()],
      ["row_cap", () => this.table.setCap(m.get("row_cap"))],
      ["_transcript", () => this.transcript.update(m.get("_transcript"))],
      ["stats", () => this.renderStats()],
    ]);
    for (const [name, fn] of traits) {
      this.listen(`change:${name}`, fn);
      this.guard(fn)();
    }
  }

  // --- start: audio, then `ready`, then kernel messages --------------------------------------
  async start() {
    try {
      await this.ensureAudio();
    } catch (e) {
      console.error("realtime-nb: audio could not start", e);
      this.setLocalError(`Audio could not start (${errorText(e)}); you can still type messages. Reload the page to retry.`);
    }
    if (this.destroyed) return;
    const nav = /** @type {any} */ (globalThis.navigator || {});
    this.model.send({
      type: READY,
      version: PROTOCOL_VERSION,
      view_id: this.viewId,
      sample_rate: this.player && this.audio ? this.audio.ctx.sampleRate : 0,
      secure_context: !!globalThis.isSecureContext,
      has_media_devices: !!(nav.mediaDevices && nav.mediaDevices.getUserMedia),
      user_agent: String(nav.userAgent || ""),
      buffer_kind: this.bufferKind,
    });
    this.readySent = true;
    this.listen("msg:custom", (msg, buffers) => this.onMessage(msg, buffers));
    for (const [msg, buffers] of this.preReady.splice(0)) this.model.send(msg, undefined, buffers);

    this.intervals.push(setInterval(this.guard(() => this.tick()), METER_INTERVAL_MS));
    this.intervals.push(setInterval(this.guard(() => this.pingTick()), PING_INTERVAL_MS));
    this.pingTick();
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

  async initAudio() {
    const audio = await withTimeout(getAudio(), AUDIO_START_TIMEOUT_MS, "Starting the AudioContext");
    await withTimeout(audio.ready, AUDIO_START_TIMEOUT_MS, "Loading the audio worklets");
    if (this.destroyed) return audio;
    this.audio = audio;
    if (!this.player) {
      const player = new Player(audio.ctx);
      player.onPlayed(this.guard((r) => this.onPlayed(r)));
      this.player = player;
      audio.ctx.addEventListener("statechange", this.guard(() => this.tick()), { signal: this.ac.signal });
    }
    return audio;
  }

  /**
   * Send to the kernel (queued until `ready` has gone out).
   * @param {object} msg
   * @param {(ArrayBuffer|ArrayBufferView)[]} [buffers]
   */
  send(msg, buffers) {
    if (this.destroyed) return;
    if (!this.readySent) {
      if (this.preReady.length < PRE_READY_QUEUE) this.preReady.push([msg, buffers]);
      return;
    }
    this.model.send(msg, undefined, buffers);
  }

  /**
   * @param {string} name one of bridge.js COMMANDS
   * @param {object} args
   */
  command(name, args) {
    this.send({ type: COMMAND, name, args });
  }

  // --- kernel → browser -------------------------------------------------------------------
  /**
   * @param {any} msg
   * @param {(DataView|Uint8Array|ArrayBuffer)[]} [buffers]
   */
  onMessage(msg, buffers) {
    if (!msg || typeof msg !== "object") return;
    switch (msg.type) {
      case ROWS:
        this.table.ingest(msg);
        return;
      case AUDIO:
        this.onAudio(msg, buffers);
        return;
      case FLUSH:
        if (this.player) this.player.flush();
        return;
      case EVENT_JSON: {
        const p = this.pending.get(msg.request_id);
        if (!p) return; // another view's request, or timed out already
        this.pending.delete(msg.request_id);
        clearTimeout(p.timer);
        p.resolve({ payload: msg.payload ?? null, error: msg.error ?? null });
        return;
      }
      case PONG:
        if (this.ping && msg.request_id === this.ping.id) {
          this.rtt = nowEpochMs() - this.ping.t;
          this.ping = null;
          this.gotPong = true;
          this.renderWarn();
        }
        return;
      default:
        return; // a newer kernel's message: ignore
    }
  }

  /**
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

  /**
   * Ask for one event's JSON; always settles (an error after EVENT_JSON_TIMEOUT_MS).
   * @param {number} seq
   * @returns {Promise<{payload: object|null, error: string|null}>}
   */
  requestEvent(seq) {
    const id = this.nextRequest++;
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
      this.send({ type: GET_EVENT, request_id: id, seq });
    });
  }

  // --- microphone -------------------------------------------------------------------------
  toggleMic() {
    if (this.micState === "on" || this.micState === "starting") {
      this.stopMic();
      return;
    }
    return this.startMic();
  }

  async startMic() {
    if (this.micState === "on" || this.micState === "starting") return;
    const unsupported = checkMicSupport();
    if (unsupported) {
      this.micFailed(unsupported);
      return;
    }
    // resume within the gesture (autoplay policy), before any await
    if (this.audio) this.audio.ctx.resume().catch(() => {});
    this.setMicState("starting");
    /** @type {Mic|null} */
    let mic = null;
    try {
      let audio;
      try {
        audio = await this.ensureAudio();
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
      mic.onFrame(this.guard((pcm, info) => this.onMicFrame(thisMic, pcm, info)));
      this.mic = mic;
      await mic.start();
      if (this.destroyed || this.mic !== mic) {
        mic.stop();
        return;
      }
      this.micSettings = /** @type {Record<string, unknown>} */ ({ ...(mic.settings() || {}) });
      this.setMicState("on");
      this.renderEnv();
    } catch (e) {
      if (mic) {
        try {
          mic.stop();
        } catch {
          /* it never started */
        }
      }
      if (this.mic === mic) this.mic = null;
      if (!this.destroyed) this.micFailed(e);
    }
  }

  stopMic() {
    const mic = this.mic;
    this.mic = null;
    if (mic) mic.stop();
    if (this.releaseAt !== null) this.finishRelease();
    this.setMicState("off");
  }

  /** @param {unknown} e */
  micFailed(e) {
    const err = /** @type {any} */ (e);
    const code = e instanceof MicError || (err && typeof err.code === "string") ? err.code : "unknown";
    const message = errorText(e);
    console.error("realtime-nb: microphone", e);
    // the kernel echoes the message into the `error` trait: the same text shows once
    this.micErrorText = message;
    this.setLocalError(message);
    this.setMicState("error", code, message);
    if (this.held) this.finishRelease();
  }

  /**
   * @param {MicStateName} state
   * @param {string|null} [error]
   * @param {string|null} [message]
   */
  setMicState(state, error = null, message = null) {
    this.micState = state;
    this.controls.setMicState(state);
    if (state === "on" && this.micErrorText && this.localError === this.micErrorText) this.setLocalError("");
    this.send({
      type: MIC_STATE,
      state,
      error,
      message,
      settings: state === "on" ? this.micSettings : {},
      context_rate: this.audio ? this.audio.ctx.sampleRate : 0,
    });
    this.renderHint();
  }

  /**
   * @param {Mic} mic
   * @param {Int16Array} pcm
   * @param {{seq: number, t_capture: number, level: number}} info
   */
  onMicFrame(mic, pcm, info) {
    if (mic !== this.mic || this.destroyed) return;
    const frameMs = (pcm.length / PCM_RATE) * 1000;
    let sending = this.mode() !== "push_to_talk" || this.held;
    // after a release, still send the frames captured before it (the end of the sentence)
    if (!sending && this.releaseAt !== null && info.t_capture - frameMs < this.releaseAt) sending = true;
    if (sending && !mic.muted) {
      // the frame's own bytes, as an ArrayBuffer (binary, never JSON)
      const buf = /** @type {ArrayBuffer} */ (
        pcm.byteOffset === 0 && pcm.byteLength === pcm.buffer.byteLength ? pcm.buffer : pcm.slice().buffer
      );
      this.model.send({ type: MIC_FRAME, seq: this.frameSeq++, t_capture: info.t_capture, level: info.level }, undefined, [
        buf,
      ]);
      this.framesSent++;
    }
    if (this.releaseAt !== null && info.t_capture >= this.releaseAt) this.finishRelease();
  }

  // --- push-to-talk, mode, mute, threshold, audio -------------------------------------------
  mode() {
    return this.model.get("mode") === "push_to_talk" ? "push_to_talk" : "hands_free";
  }

  /** @param {string} mode */
  changeMode(mode) {
    this.model.set("mode", mode);
    this.model.save_changes();
    this.command("set_mode", { mode });
    this.applyMode();
  }

  applyMode() {
    this.controls.setMode(this.mode());
    this.renderHint();
  }

  pttPress() {
    if (this.releaseAt !== null) this.finishRelease(); // the previous turn ends first
    this.held = true;
    this.send({ type: PTT, action: "press" });
    if (this.micState !== "on" && this.micState !== "starting") return this.startMic();
  }

  pttRelease() {
    if (!this.held) return;
    this.held = false;
    if (this.micState !== "on") {
      this.finishRelease();
      return;
    }
    this.releaseAt = nowEpochMs();
    if (this.releaseTimer) clearTimeout(this.releaseTimer);
    this.releaseTimer = setTimeout(this.guard(() => this.finishRelease()), PTT_TAIL_MS);
  }

  finishRelease() {
    if (this.releaseTimer) clearTimeout(this.releaseTimer);
    this.releaseTimer = null;
    this.releaseAt = null;
    this.held = false;
    this.send({ type: PTT, action: "release" });
  }

  /** @param {boolean} muted */
  setMuted(muted) {
    this.model.set("muted", !!muted);
    this.model.save_changes();
    this.applyMuted();
  }

  applyMuted() {
    const muted = !!this.model.get("muted");
    if (this.mic) this.mic.muted = muted;
    this.controls.setMuted(muted);
  }

  /** @param {number} value */
  changeThreshold(value) {
    const v = Math.min(1, Math.max(0, value));
    this.model.set("vad_threshold", v);
    this.model.save_changes();
    this.command("set_threshold", { threshold: v });
    this.applyThreshold();
  }

  applyThreshold() {
    const v = this.model.get("vad_threshold");
    this.controls.setThreshold(typeof v === "number" ? v : null, this.model.get("turn_detection") ?? null);
    this.renderHint();
  }

  stopAudio() {
    if (this.player) this.player.flush();
    this.command("stop_audio", {});
  }

  async unlockAudio() {
    if (!this.player) await this.ensureAudio();
    if (this.player) await this.player.unlock();
    this.tick();
  }

  // --- periodic ---------------------------------------------------------------------------
  tick() {
    if (this.destroyed) return;
    const c = this.controls;
    c.meterIn.set(this.mic && this.micState === "on" ? num(this.mic.level()) : 0);
    c.meterOut.set(this.player ? num(this.player.level()) : 0);
    c.setNeedsUnlock(!!this.player && this.player.needsUnlock);
  }

  pingTick() {
    if (this.destroyed || !this.readySent) return;
    const now = nowEpochMs();
    if (!this.ping) {
      this.ping = { id: this.nextRequest++, t: now };
      this.send({ type: PING, request_id: this.ping.id, t: now });
    }
    this.renderWarn();
    if (/** @type {HTMLDetailsElement} */ (this.env).open) this.renderEnv();
  }

  // --- rendering traits ---------------------------------------------------------------------
  renderStatus() {
    const m = this.model;
    const status = String(m.get("status") || "idle");
    this.status.textContent = status;
    this.status.dataset.state = status;
    const offline = !!m.get("offline");
    // parentNode, not isConnected: on the first render the view is not in the page yet
    if (offline && !this.badge.parentNode) this.status.after(this.badge);
    if (!offline && this.badge.parentNode) this.badge.remove();
    const endpoint = String(m.get("endpoint") || "");
    this.endpoint.textContent = endpoint;
    this.endpoint.title = endpoint;
  }

  /** @param {string} text */
  setLocalError(text) {
    this.localError = text;
    this.renderError();
  }

  /** @param {unknown} e */
  showError(e) {
    console.error("realtime-nb:", e);
    if (this.destroyed) return;
    this.setLocalError(`Widget error: ${errorText(e)}`);
  }

  renderError() {
    const kernel = String(this.model.get("error") || "");
    if (kernel !== this.dismissedKernelError) this.dismissedKernelError = "";
    const parts = [kernel && kernel !== this.dismissedKernelError ? kernel : "", this.localError].filter(Boolean);
    const text = [...new Set(parts)].join("\n");
    this.errorText.textContent = text;
    this.banner.hidden = !text;
  }

  renderWarn() {
    const silentFor = this.gotPong && this.ping ? nowEpochMs() - this.ping.t : null;
    const text = warnText(silentFor, STALL_AFTER_MS, this.model.get("stats") || {});
    if (this.warn.textContent !== text) this.warn.textContent = text;
    this.warn.hidden = !text;
  }

  renderStats() {
    this.statsEl.replaceChildren(...statsNodes(this.model.get("stats") || {}, this.table.rowCount));
    this.renderWarn();
  }

  renderHint() {
    this.controls.setHint(hintText(this.mode(), this.model.get("turn_detection"), this.micState));
  }

  renderEnv() {
    const nav = /** @type {any} */ (globalThis.navigator || {});
    if (nav.permissions && typeof nav.permissions.query === "function") {
      nav.permissions.query({ name: "microphone" }).then(
        (/** @type {{state: string}} */ st) => {
          if (st.state !== this.micPermission && !this.destroyed) {
            this.micPermission = st.state;
            this.renderEnv();
          }
        },
        () => {}, // Firefox before 131 cannot query "microphone": leave it unknown
      );
    }
    const ctx = this.audio ? this.audio.ctx : null;
    const rows = envRows({
      secureContext: !!globalThis.isSecureContext,
      micSupport: checkMicSupport(),
      micPermission: this.micPermission,
      context: ctx ? { sampleRate: ctx.sampleRate, state: ctx.state } : null,
      micSettings: this.micSettings || {},
      bufferKind: this.bufferKind,
      rttMs: this.rtt,
      player: this.player ? this.player.stats() : null,
      viewId: this.viewId,
      userAgent: String(nav.userAgent || ""),
    });
    this.envBody.replaceChildren(
      ...rows.flatMap(([k, v, bad]) => [h("dt", {}, k), h("dd", { class: bad ? "rtnb-stat-bad" : null }, v)]),
    );
  }

  // --- tests and teardown -------------------------------------------------------------------
  stats() {
    let underruns = 0;
    if (this.player) {
      try {
        underruns = num(this.player.stats().underruns);
      } catch {
        underruns = 0;
      }
    }
    return {
      mic_frames_sent: this.framesSent,
      mic_state: this.micState,
      context_rate: this.audio ? this.audio.ctx.sampleRate : 0,
      played: { ...this.played },
      received: { ...this.received },
      first_played_epoch_ms: { ...this.firstPlayed },
      underruns,
      rows_in_table: this.table.rowCount,
      buffer_kind: this.bufferKind,
    };
  }

  destroy() {
    if (this.destroyed) return;
    const mic = this.mic;
    if (mic) {
      this.mic = null;
      try {
        mic.stop();
        this.setMicState("off");
      } catch (e) {
        console.error("realtime-nb: stopping the mic", e);
      }
    }
    if (this.releaseAt !== null || this.held) this.finishRelease();
    this.destroyed = true;
    this.ac.abort();
    for (const [name, fn] of this.modelListeners) this.model.off(name, fn);
    this.modelListeners = [];
    for (const t of this.intervals) clearInterval(t);
    if (this.releaseTimer) clearTimeout(this.releaseTimer);
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.resolve({ payload: null, error: "The view was closed." });
    }
    this.pending.clear();
    if (this.player) {
      try {
        this.player.close();
      } catch (e) {
        console.error("realtime-nb: closing the player", e);
      }
      this.player = null;
    }
    const views = registry().views;
    const i = views.indexOf(this.registryEntry);
    if (i >= 0) views.splice(i, 1);
  }
}


// One `View` per rendered output of the widget: it builds its parts, wires them to the model
// and to each other, and tears them all down. What each part does lives in its own module:
//   kernel-link.js      everything sent to the kernel (queued until `ready`; requests that settle)
//   kernel-messages.js  kernel → browser: each custom message to its handler
//   playback.js         the AudioContext and Player: AUDIO in, PLAYED out
//   mic-control.js      the microphone: MIC_STATE, MIC_FRAME
//   push-to-talk.js     press / release, and which frames belong to a turn
//   comm-health.js      ping / pong: is the kernel answering?
//   status-line.js, banner.js, controls.js, settings-panel.js, transcript.js, totals.js,
//   timeline.js, table.js, footer.js: the page, top down
//
// Order of a view's life (bridge.js, DESIGN.md §4): build the DOM, start audio (the page's
// AudioContext and this view's Player), send `ready` (the first message, with the context's
// sample rate, 0 when audio cannot start), and only then listen to kernel messages. Durable state
// comes from traits (model.get / change:NAME); streams are custom messages. Every handler runs
// through a guard (guard.js), so an exception lands in the error banner instead of vanishing.

import { AUDIO, EVENT_JSON, FLUSH, PONG, ROWS, TURNS, UPDATE_SESSION } from "./bridge.js";
import { checkMicSupport } from "./mic.js";
import { h } from "./dom.js";
import { makeGuard } from "./guard.js";
import { KernelLink } from "./kernel-link.js";
import { kernelDispatcher } from "./kernel-messages.js";
import { Playback } from "./playback.js";
import { MicControl } from "./mic-control.js";
import { PushToTalk } from "./push-to-talk.js";
import { CommHealth, PING_INTERVAL_MS, STALL_AFTER_MS, kernelState } from "./comm-health.js";
import { StatusLine } from "./status-line.js";
import { ErrorBanner, WarnLine } from "./banner.js";
import { Controls } from "./controls.js";
import { TranscriptView } from "./transcript.js";
import { TableView } from "./table.js";
import { Footer } from "./footer.js";
import { SettingsPanel } from "./settings-panel.js";
import { TimelineView } from "./timeline.js";
import { TotalsLine } from "./totals.js";
import { ReplayBar, restartPlayback } from "./replay.js";
import { hintText, warnText } from "./status-panel.js";
import { errorText, nowEpochMs, randomId } from "./util.js";

const METER_INTERVAL_MS = 60;

/** @typedef {import("./model.js").Model} Model */

/**
 * `window.__rtnb`: the live views, for the browser tests (docs/widget-contract.md).
 * @returns {{views: {view_id: string, stats: () => object}[]}}
 */
function registry() {
  const g = /** @type {any} */ (globalThis);
  if (!g.__rtnb || !Array.isArray(g.__rtnb.views)) g.__rtnb = { views: [] };
  return g.__rtnb;
}

export class View {
  /**
   * @param {Model} model
   * @param {HTMLElement} el
   */
  constructor(model, el) {
    this.model = model;
    this.viewId = randomId();
    /** @type {number|null} the turn the table shows (filterToTurn), null: every row */
    this.turnFilter = null;
    this.ac = new AbortController(); // aborted when the view closes: every DOM listener, every send
    const signal = this.ac.signal;
    /** @type {[string, (...a: any[]) => void][]} */
    this.modelListeners = [];
    /** @type {ReturnType<typeof setInterval>[]} */
    this.intervals = [];
    const guard = makeGuard((e) => this.showError(e));
    this.guard = guard;

    this.link = new KernelLink(model, signal);
    this.health = new CommHealth();
    this.playback = new Playback({ signal, guard, send: (msg) => this.link.send(msg), onContextState: () => this.tick() });
    this.ptt = new PushToTalk({ send: (msg) => this.link.send(msg), guard });

    this.statusLine = new StatusLine({ signal, guard, onReconnect: () => this.link.command("reconnect", {}) });
    this.banner = new ErrorBanner({ signal, guard, kernelError: () => String(model.get("error") || "") });
    this.warn = new WarnLine();
    this.mic = new MicControl({
      model,
      signal,
      guard,
      link: this.link,
      playback: this.playback,
      ptt: this.ptt,
      banner: this.banner,
      onStateChange: (state) => {
        this.controls.setMicState(state);
        this.renderHint();
        if (state === "on") this.footer.renderEnv();
      },
    });
    this.controls = new Controls({
      signal,
      guard,
      handlers: {
        micToggle: () => this.mic.toggle(),
        modeChange: (mode) => this.changeMode(mode),
        pttPress: () => this.pttPress(),
        pttRelease: () => this.ptt.release(this.mic.state === "on", nowEpochMs()),
        muteToggle: () => this.setMuted(!model.get("muted")),
        stopAudio: () => this.stopAudio(),
        sendText: (text) => this.link.command("send_text", { text }),
        enableAudio: () => this.unlockAudio(),
        thresholdChange: (value) => this.changeThreshold(value),
      },
    });
    this.replay = new ReplayBar({
      signal,
      guard,
      onSpeed: (speed) => this.link.command("set_speed", { speed }),
      onPlay: (itemId) => this.replayPlay(itemId),
    });
    this.settings = new SettingsPanel({ signal, guard, apply: (session) => this.link.send({ type: UPDATE_SESSION, session }) });
    this.totals = new TotalsLine();
    this.timeline = new TimelineView({ signal, guard, onSelect: (n) => this.filterToTurn(n) });
    this.transcript = new TranscriptView({ onSelectTurn: (n) => this.filterToTurn(n) });
    this.table = new TableView({
      signal,
      requestEvent: (seq, options) => this.link.requestEvent(seq, options),
      clearLog: () => this.link.command("clear_log", {}),
      onError: (e) => this.showError(e),
    });
    this.footer = new Footer({ signal, guard, facts: () => this.envFacts() });

    this.root = h(
      "div",
      { rtnb: "root", class: "rtnb-root" },
      this.statusLine.el,
      this.banner.el,
      this.warn.el,
      h(
        "div",
        { class: "rtnb-main" },
        h("div", { class: "rtnb-left" }, this.replay.el, this.controls.el, this.settings.el, this.transcript.el),
        h("div", { class: "rtnb-right" }, this.totals.el, this.timeline.el, this.table.el),
      ),
      this.footer.el,
    );
    el.replaceChildren(this.root);

    // any gesture inside the widget may unlock audio (autoplay policy)
    this.root.addEventListener(
      "pointerdown",
      guard(() => {
        if (this.playback.needsUnlock) return this.unlockAudio();
      }),
      { signal, capture: true },
    );
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

  /** Render every trait now and whenever it changes. */
  bindTraits() {
    const m = this.model;
    const traits = /** @type {[string, () => void][]} */ ([
      ["status", () => this.renderStatus()],
      ["offline", () => this.renderStatus()],
      ["endpoint", () => this.renderStatus()],
      ["error", () => this.banner.render()],
      ["mode", () => this.applyMode()],
      ["turn_detection", () => this.applyThreshold()],
      ["vad_threshold", () => this.applyThreshold()],
      ["muted", () => this.applyMuted()],
      ["row_cap", () => this.table.setCap(m.get("row_cap"))],
      [
        "_transcript",
        () => {
          this.transcript.update(m.get("_transcript"));
          this.replay.decorate(this.transcript); // bubbles drawn anew lose their play button
        },
      ],
      ["stats", () => this.renderStats()],
      ["session_config", () => this.settings.setConfig(m.get("session_config") || {})],
      ["session_config", () => this.replay.setConfig(m.get("session_config") || {})],
      ["speed", () => this.replay.setSpeed(m.get("speed"))],
      [
        "replay_items",
        () => {
          this.replay.setItems(m.get("replay_items"));
          this.replay.decorate(this.transcript);
        },
      ],
      ["replay_source", () => this.renderStatus()],
      ["settings_options", () => this.settings.setOptions(m.get("settings_options") || {})],
      ["settings_errors", () => this.settings.setErrors(m.get("settings_errors") || {})],
      ["totals", () => this.totals.render(m.get("totals") || {})],
    ]);
    for (const [name, fn] of traits) {
      this.listen(`change:${name}`, fn);
      this.guard(fn)();
    }
    // the widget manager marks the comm closed when the kernel restarts or shuts down
    this.listen("comm_live_update", () => this.renderStatus());
  }

  // --- start: audio, then `ready`, then kernel messages --------------------------------------
  async start() {
    try {
      await this.playback.ensureAudio();
    } catch (e) {
      console.error("realtime-nb: audio could not start", e);
      this.banner.setLocalError(`Audio could not start (${errorText(e)}); you can still type messages. Reload the page to retry.`);
    }
    if (this.ac.signal.aborted) return;
    const nav = /** @type {any} */ (globalThis.navigator || {});
    this.link.sendReady({
      view_id: this.viewId,
      sample_rate: this.playback.playbackRate,
      secure_context: !!globalThis.isSecureContext,
      has_media_devices: !!(nav.mediaDevices && nav.mediaDevices.getUserMedia),
      user_agent: String(nav.userAgent || ""),
      buffer_kind: this.playback.bufferKind,
    });
    const playback = this.playback;
    this.listen(
      "msg:custom",
      kernelDispatcher({
        [ROWS]: (msg) => this.table.ingest(msg),
        [AUDIO]: (msg, buffers) => {
          if (msg.restart) restartPlayback(playback, msg.item_id);
          playback.onAudio(msg, buffers);
        },
        [FLUSH]: () => playback.flush(),
        [EVENT_JSON]: (msg) => this.link.answerEvent(msg),
        [PONG]: (msg) => {
          if (this.health.onPong(msg, nowEpochMs())) {
            this.renderWarn();
            this.renderStatus();
          }
        },
        [TURNS]: (msg) => this.timeline.ingest(msg),
      }),
    );
    this.intervals.push(setInterval(this.guard(() => this.tick()), METER_INTERVAL_MS));
    this.intervals.push(setInterval(this.guard(() => this.pingTick()), PING_INTERVAL_MS));
    this.pingTick();
  }

  // --- gestures: mode, push-to-talk, mute, threshold, audio ---------------------------------
  mode() {
    return this.model.get("mode") === "push_to_talk" ? "push_to_talk" : "hands_free";
  }

  /** @param {string} mode */
  changeMode(mode) {
    this.model.set("mode", mode);
    this.model.save_changes();
    this.link.command("set_mode", { mode });
    this.applyMode();
  }

  applyMode() {
    this.controls.setMode(this.mode());
    this.renderHint();
  }

  pttPress() {
    this.ptt.press();
    if (!this.mic.active) return this.mic.start();
  }

  /** @param {boolean} muted */
  setMuted(muted) {
    this.model.set("muted", !!muted);
    this.model.save_changes();
    this.applyMuted();
  }

  applyMuted() {
    const muted = !!this.model.get("muted");
    this.mic.setMuted(muted);
    this.controls.setMuted(muted);
  }

  /** @param {number} value */
  changeThreshold(value) {
    const v = Math.min(1, Math.max(0, value));
    this.model.set("vad_threshold", v);
    this.model.save_changes();
    this.link.command("set_threshold", { threshold: v });
    this.applyThreshold();
  }

  applyThreshold() {
    const v = this.model.get("vad_threshold");
    this.controls.setThreshold(typeof v === "number" ? v : null, this.model.get("turn_detection") ?? null);
    this.renderHint();
  }

  stopAudio() {
    this.playback.flush();
    this.link.command("stop_audio", {});
  }

  async unlockAudio() {
    await this.playback.unlock();
    this.tick();
  }

  // --- periodic -----------------------------------------------------------------------------
  /** Meters and the "enable audio" button. */
  tick() {
    if (this.ac.signal.aborted) return;
    const c = this.controls;
    c.meterIn.set(this.mic.level());
    c.meterOut.set(this.playback.level());
    c.setNeedsUnlock(this.playback.needsUnlock);
  }

  pingTick() {
    if (this.ac.signal.aborted || !this.link.readySent) return;
    const ping = this.health.nextPing(nowEpochMs(), () => this.link.newRequestId());
    if (ping) this.link.send(ping);
    this.renderWarn();
    this.renderStatus();
    this.footer.refreshEnv();
  }

  // --- rendering ----------------------------------------------------------------------------
  /** @returns {"live"|"quiet"|"dead"} whether the kernel at the other end of the comm is there */
  kernelState() {
    return kernelState({
      commLive: /** @type {any} */ (this.model).comm_live,
      sendFailed: this.link.sendFailed,
      silentForMs: this.health.silentForMs(nowEpochMs()),
    });
  }

  renderStatus() {
    const m = this.model;
    const status = String(m.get("status") || "idle");
    const kernel = this.kernelState();
    const replay = String(m.get("replay_source") || "");
    this.statusLine.render({ status, offline: !!m.get("offline"), endpoint: String(m.get("endpoint") || ""), kernel, replay });
    this.setReplay(!!replay);
    // nothing can hear the mic any more: stop capturing instead of sending into the void
    if ((kernel === "dead" || status === "closed") && this.mic.active) this.mic.stop();
  }

  /**
   * A replay: hide what needs a live session (the mic, the settings panel), show the replay bar.
   * @param {boolean} on
   */
  setReplay(on) {
    this.controls.setReplay(on);
    this.settings.el.hidden = on;
    this.replay.setActive(on);
    if (on) this.replay.decorate(this.transcript);
  }

  /**
   * Ask the kernel for an item's recorded audio (a replay's play button). The click is a gesture:
   * it unlocks audio first when the browser held it back.
   * @param {string} itemId
   */
  async replayPlay(itemId) {
    if (this.playback.needsUnlock || !this.playback.player) await this.unlockAudio();
    this.link.command("play_item", { item_id: itemId });
  }

  /**
   * Show only one turn's rows in the table (null: all rows). The timeline and the transcript
   * call this; the table's side is TableView.setTurnFilter.
   * @param {number|null} n
   */
  filterToTurn(n) {
    this.turnFilter = n;
    this.table.setTurnFilter(n);
    this.transcript.selectTurn(n);
    if (this.timeline.selected !== n) this.timeline.selected = n;
  }

  /** @param {unknown} e */
  showError(e) {
    console.error("realtime-nb:", e);
    if (this.ac.signal.aborted) return;
    this.banner.setLocalError(`Widget error: ${errorText(e)}`);
  }

  renderWarn() {
    this.warn.set(warnText(this.health.silentForMs(nowEpochMs()), STALL_AFTER_MS, this.model.get("stats") || {}));
  }

  renderStats() {
    this.footer.renderStats(this.model.get("stats") || {}, this.table.rowCount);
    this.renderWarn();
  }

  renderHint() {
    this.controls.setHint(hintText(this.mode(), this.model.get("turn_detection"), this.mic.state));
  }

  /** @returns {import("./footer.js").ViewFacts} */
  envFacts() {
    const nav = /** @type {any} */ (globalThis.navigator || {});
    const ctx = this.playback.ctx;
    const player = this.playback.player;
    return {
      secureContext: !!globalThis.isSecureContext,
      micSupport: checkMicSupport(),
      context: ctx ? { sampleRate: ctx.sampleRate, state: ctx.state } : null,
      micSettings: this.mic.settings || {},
      bufferKind: this.playback.bufferKind,
      rttMs: this.health.rtt,
      player: player ? player.stats() : null,
      viewId: this.viewId,
      userAgent: String(nav.userAgent || ""),
      commThreads: commThreadNames((this.model.get("stats") || {}).comm_threads),
    };
  }

  // --- tests and teardown -------------------------------------------------------------------
  /** What `window.__rtnb.views[i].stats()` returns (docs/widget-contract.md). */
  stats() {
    const p = this.playback;
    return {
      mic_frames_sent: this.mic.framesSent,
      mic_state: this.mic.state,
      context_rate: p.contextRate,
      played: { ...p.played },
      received: { ...p.received },
      first_played_epoch_ms: { ...p.firstPlayed },
      underruns: p.underruns(),
      rows_in_table: this.table.rowCount,
      buffer_kind: p.bufferKind,
      kernel: this.kernelState(),
      turns: this.timeline.turns.length,
      turn_filter: this.turnFilter ?? null,
      turn_filter_supported: typeof (/** @type {any} */ (this.table).setTurnFilter) === "function",
    };
  }

  destroy() {
    if (this.ac.signal.aborted) return;
    this.mic.close(); // tells the kernel, so before the link closes
    if (this.ptt.releasing || this.ptt.held) this.ptt.finish();
    this.ac.abort();
    for (const [name, fn] of this.modelListeners) this.model.off(name, fn);
    this.modelListeners = [];
    for (const t of this.intervals) clearInterval(t);
    this.link.close();
    this.playback.close();
    const views = registry().views;
    const i = views.indexOf(this.registryEntry);
    if (i >= 0) views.splice(i, 1);
  }
}

/**
 * The kernel threads that handled this widget's messages (the `stats` trait's `comm_threads`).
 * @param {unknown} threads
 * @returns {string[]}
 */
function commThreadNames(threads) {
  if (Array.isArray(threads)) return threads.map(String);
  if (threads && typeof threads === "object") return Object.keys(threads);
  return threads ? [String(threads)] : [];
}

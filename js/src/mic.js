// The microphone: getUserMedia -> "rtnb-capture" worklet -> 24 kHz PCM16 frames of 40 ms.
//
// Every failure becomes a MicError whose .code is one of MIC_ERRORS (bridge.js) and whose
// .message tells the user what to do about it.
import { MIC_ERRORS } from "./bridge.js";
import { contextTimeToEpochMs } from "./audio-context.js";

/**
 * @typedef {"insecure_context"|"no_media_devices"|"permission_denied"|"vscode_webview"|"no_device"|
 *   "device_busy"|"audio_context"|"unknown"} MicErrorCode
 */

const MESSAGES = {
  insecure_context:
    "The microphone needs a secure page: open the notebook over https or http://localhost; remote http gives " +
    "browsers no microphone (for a remote server, tunnel it, e.g. ssh -L 8888:localhost:8888 host, and open " +
    "http://localhost:8888).",
  no_media_devices:
    "This browser offers no microphone API (navigator.mediaDevices is missing): use a current Chrome, Edge, " +
    "Firefox or Safari, or send audio from a cell with w.send_audio(...).",
  permission_denied:
    "The browser blocked the microphone. Allow microphone access for this site (the icon in the address bar, or " +
    "the site's settings) and press the mic button again; if the notebook is embedded in another page, that " +
    "page must allow the microphone too.",
  vscode_webview:
    "VS Code notebooks cannot use the microphone: open the notebook in JupyterLab or Notebook in a browser, or " +
    "send audio from a cell with w.send_audio(...).",
  no_device:
    "No microphone was found (or none matches the requested settings): connect one or choose one in the " +
    "system sound settings, then try again.",
  device_busy:
    "The microphone could not be opened: another application may be using it, or the operating system " +
    "blocks this browser from it (check its privacy settings). Free it and try again.",
  audio_context:
    "Audio processing could not start in this page (AudioContext/AudioWorklet failed). Reload the page; if it " +
    "keeps failing, try another browser.",
  unknown: "The microphone failed.",
};

/** A microphone failure, with a code from MIC_ERRORS and a message that says what to do. */
export class MicError extends Error {
  /**
   * @param {MicErrorCode} code
   * @param {string} [message] defaults to the standard advice for the code
   * @param {{cause?: unknown}} [options]
   */
  constructor(code, message, options) {
    super(message || MESSAGES[code] || MESSAGES.unknown, options);
    this.name = "MicError";
    /** @type {MicErrorCode} */
    this.code = MIC_ERRORS.includes(code) ? code : "unknown";
  }
}

/** @returns {boolean} the page is a VS Code notebook webview (no microphone there) */
export function isVsCodeWebview() {
  const g = /** @type {any} */ (globalThis);
  if (typeof g.acquireVsCodeApi === "function") return true;
  const loc = g.location;
  if (loc && (String(loc.protocol).startsWith("vscode-webview") || String(loc.origin).startsWith("vscode-webview"))) {
    return true;
  }
  const ua = (g.navigator && g.navigator.userAgent) || "";
  return /\bCode\/\d/.test(ua) && /Electron\//.test(ua);
}

/**
 * Say why this page cannot record, before asking for the microphone.
 * @returns {MicError|null} vscode_webview, insecure_context or no_media_devices; null when it can try
 */
export function checkMicSupport() {
  const g = /** @type {any} */ (globalThis);
  if (isVsCodeWebview()) return new MicError("vscode_webview");
  if (g.isSecureContext === false) return new MicError("insecure_context");
  const md = g.navigator && g.navigator.mediaDevices;
  if (!md || typeof md.getUserMedia !== "function") return new MicError("no_media_devices");
  return null;
}

/**
 * Turn a getUserMedia (or audio setup) failure into a MicError.
 * @param {unknown} err
 * @returns {MicError}
 */
export function classifyMicError(err) {
  if (err instanceof MicError) return err;
  const e = /** @type {{name?: string, message?: string, constraint?: string}} */ (err || {});
  const name = e.name || "";
  const detail = `${name}${e.message ? `: ${e.message}` : ""}`;
  switch (name) {
    case "NotAllowedError":
    case "PermissionDeniedError": // old Chrome
    case "SecurityError":
      if (isVsCodeWebview()) return new MicError("vscode_webview", undefined, { cause: err });
      return new MicError("permission_denied", undefined, { cause: err });
    case "NotFoundError":
    case "DevicesNotFoundError":
    case "OverconstrainedError":
    case "ConstraintNotSatisfiedError": {
      const which = e.constraint ? ` (constraint: ${e.constraint})` : "";
      return new MicError("no_device", MESSAGES.no_device + which, { cause: err });
    }
    case "NotReadableError":
    case "TrackStartError":
    case "AbortError":
      return new MicError("device_busy", undefined, { cause: err });
    case "InvalidStateError":
    case "NotSupportedError":
      return new MicError("audio_context", `${MESSAGES.audio_context} (${detail})`, { cause: err });
    default:
      return new MicError("unknown", `${MESSAGES.unknown} ${detail || String(err)}`.trim(), { cause: err });
  }
}

export const DEFAULT_CONSTRAINTS = Object.freeze({
  echoCancellation: true,
  noiseSuppression: true,
  autoGainControl: true,
});

/**
 * @typedef {{seq: number, t_capture: number, level: number}} FrameInfo
 *   seq: 0, 1, 2 ... per delivered frame over the Mic's life (not reset by stop/start, not
 *   advanced by muted frames); t_capture: epoch ms of the frame's last
 *   sample (see Mic); level: the frame's RMS, 0..1
 */

/**
 * The microphone as a stream of 40 ms, 24 kHz PCM16 frames.
 *
 * t_capture is the worklet's endTime (AudioContext seconds of the frame's last sample) mapped to
 * epoch ms with contextTimeToEpochMs — which gives when a sample at that context time is heard —
 * minus ctx.outputLatency (or baseLatency), giving when the graph processed it, minus the track's
 * reported input latency (settings.latency) when the browser reports one. Using the worklet's
 * time, not the message's arrival, keeps main-thread stalls out of the figure.
 * Construct after getAudio()'s `ready` has resolved (the capture processor must be registered).
 */
export class Mic {
  /**
   * @param {AudioContext} ctx
   * @param {{constraints?: MediaTrackConstraints}} [options] passed to getUserMedia as `audio`
   *   (tests turn echoCancellation, noiseSuppression and autoGainControl off to compare audio)
   */
  constructor(ctx, { constraints = DEFAULT_CONSTRAINTS } = {}) {
    this.ctx = ctx;
    this.constraints = { ...constraints };
    /** when true frames are not delivered and level() is 0 */
    this.muted = false;
    /** @type {MediaStream|null} */
    this._stream = null;
    /** @type {AudioWorkletNode|null} */
    this._node = null;
    /** @type {AudioNode[]} */
    this._nodes = [];
    /** @type {Set<(pcm: Int16Array, info: FrameInfo) => void>} */
    this._frameCbs = new Set();
    /** @type {Set<(reason: string) => void>} */
    this._endedCbs = new Set();
    this._seq = 0;
    this._level = 0;
    this._inputLatency = 0;
    this._generation = 0;
    /** @type {Promise<void>|null} */
    this._starting = null;
  }

  /** @returns {boolean} the microphone is open */
  get active() {
    return this._stream !== null;
  }

  /**
   * Ask for the microphone and start delivering frames. Call from a user gesture (it also resumes
   * the AudioContext). Resolves when frames can flow; a second call while on is a no-op.
   * @returns {Promise<void>}
   * @throws {MicError} with a classified code
   */
  async start() {
    if (this._stream) return;
    if (!this._starting) {
      this._starting = this._start().finally(() => {
        this._starting = null;
      });
    }
    return this._starting;
  }

  async _start() {
    const unsupported = checkMicSupport();
    if (unsupported) throw unsupported;
    const ctx = this.ctx;
    // resume inside the gesture, before any await; never wait for it (a blocked resume() stays pending)
    if (ctx.state !== "running" && typeof ctx.resume === "function") ctx.resume().catch(() => {});
    const generation = ++this._generation;
    /** @type {MediaStream} */
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: { ...this.constraints } });
    } catch (err) {
      throw classifyMicError(err);
    }
    if (generation !== this._generation) {
      // stop() was called while the browser was asking
      for (const t of stream.getTracks()) t.stop();
      return;
    }
    try {
      const source = ctx.createMediaStreamSource(stream);
      const node = new AudioWorkletNode(ctx, "rtnb-capture", {
        numberOfInputs: 1,
        numberOfOutputs: 1,
        outputChannelCount: [1],
        channelCount: 1,
        channelCountMode: "explicit",
        channelInterpretation: "speakers",
      });
      // a silent path to the destination keeps the node rendered in every browser
      const sink = ctx.createGain();
      sink.gain.value = 0;
      source.connect(node);
      node.connect(sink);
      sink.connect(ctx.destination);
      node.port.onmessage = (e) => this._onMessage(e.data);
      this._node = node;
      this._nodes = [source, node, sink];
    } catch (err) {
      for (const t of stream.getTracks()) t.stop();
      throw new MicError("audio_context", `${MESSAGES.audio_context} (${describe(err)})`, { cause: err });
    }
    this._stream = stream;
    const track = stream.getAudioTracks()[0];
    const settings = track && typeof track.getSettings === "function" ? track.getSettings() : {};
    this._inputLatency = Number(/** @type {any} */ (settings).latency) || 0;
    for (const track of stream.getAudioTracks()) {
      track.addEventListener("ended", () => {
        if (this._stream !== stream) return;
        this.stop();
        for (const cb of this._endedCbs) cb("track_ended");
      });
    }
  }

  /** Close the microphone (tracks stopped, nodes disconnected). Safe to call at any time. */
  stop() {
    this._generation++;
    if (this._node) {
      this._node.port.onmessage = null;
      try {
        this._node.port.postMessage({ cmd: "stop" });
      } catch {
        // the port may already be closed
      }
      this._node.port.close();
    }
    for (const n of this._nodes) {
      try {
        n.disconnect();
      } catch {
        // already disconnected
      }
    }
    if (this._stream) for (const t of this._stream.getTracks()) t.stop();
    this._node = null;
    this._nodes = [];
    this._stream = null;
    this._level = 0;
  }

  /**
   * Receive each frame; returns a function that unsubscribes.
   * @param {(pcm: Int16Array, info: FrameInfo) => void} cb
   * @returns {() => void}
   */
  onFrame(cb) {
    this._frameCbs.add(cb);
    return () => this._frameCbs.delete(cb);
  }

  /**
   * Be told when the microphone stops by itself (device unplugged, permission revoked).
   * @param {(reason: string) => void} cb
   * @returns {() => void}
   */
  onEnded(cb) {
    this._endedCbs.add(cb);
    return () => this._endedCbs.delete(cb);
  }

  /** @returns {MediaTrackSettings} what the browser applied (sampleRate, echoCancellation, ...) */
  settings() {
    const track = this._stream && this._stream.getAudioTracks()[0];
    return track ? track.getSettings() : {};
  }

  /** @returns {number} RMS of the last frame, 0..1 (0 when muted or off) */
  level() {
    return this.muted ? 0 : this._level;
  }

  /** @param {{frame: Int16Array, level: number, endTime: number}} data */
  _onMessage(data) {
    if (!data || !data.frame) return;
    if (this.muted) {
      this._level = 0;
      return;
    }
    this._level = data.level;
    const info = { seq: this._seq++, t_capture: this._captureEpochMs(data.endTime), level: data.level };
    for (const cb of this._frameCbs) cb(data.frame, info);
  }

  /** @param {number} endTime AudioContext seconds */
  _captureEpochMs(endTime) {
    const ctx = /** @type {any} */ (this.ctx);
    const out = ctx.outputLatency || ctx.baseLatency || 0;
    const t = contextTimeToEpochMs(this.ctx, endTime) - (out + this._inputLatency) * 1000;
    return Math.min(t, performance.timeOrigin + performance.now());
  }
}

/** @param {unknown} err */
function describe(err) {
  const e = /** @type {{name?: string, message?: string}} */ (err || {});
  return e.name || e.message ? `${e.name || "Error"}: ${e.message || ""}` : String(err);
}

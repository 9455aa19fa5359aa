// mic.js, player.js and audio-context.js against fakes of the browser APIs they touch
// (navigator.mediaDevices, AudioContext, AudioWorkletNode). What only a real browser can show
// (permission prompts, real devices, autoplay) is left to the browser tests.
import { test, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { register } from "node:module";
import { resolveObjectURL } from "node:buffer";

// *.worklet.js are imported as text (as js/build.mjs does); teach node the same trick
register(
  "data:text/javascript," +
    encodeURIComponent(`
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
export async function load(url, context, next) {
  if (url.endsWith(".worklet.js")) {
    const text = readFileSync(fileURLToPath(url), "utf8");
    return { format: "module", shortCircuit: true, source: "export default " + JSON.stringify(text) + ";" };
  }
  return next(url, context);
}`),
);

const { Mic, MicError, checkMicSupport, classifyMicError } = await import("../src/mic.js");
const { Player } = await import("../src/player.js");
const { getAudio, contextTimeToEpochMs } = await import("../src/audio-context.js");
const { MIC_ERRORS } = await import("../src/bridge.js");

class FakePort {
  constructor() {
    this.sent = [];
    this.closed = false;
    this.onmessage = null;
  }
  postMessage(msg, transfer = []) {
    this.sent.push({ msg, transfer });
  }
  close() {
    this.closed = true;
  }
  emit(data) {
    this.onmessage && this.onmessage({ data });
  }
}

class FakeNode {
  constructor(name = "node") {
    this.name = name;
    this.connected = [];
    this.disconnected = false;
  }
  connect(n) {
    this.connected.push(n);
    return n;
  }
  disconnect() {
    this.disconnected = true;
  }
}

/** @type {any[]} */
let workletNodes = [];
let workletNodeError = null;
globalThis.AudioWorkletNode = class extends FakeNode {
  constructor(ctx, name, options) {
    if (workletNodeError) throw workletNodeError;
    super(name);
    this.ctx = ctx;
    this.options = options;
    this.port = new FakePort();
    workletNodes.push(this);
  }
};

class FakeContext {
  constructor({ state = "suspended", sampleRate = 44100 } = {}) {
    this.state = state;
    this.sampleRate = sampleRate;
    this.currentTime = 10;
    this.outputLatency = 0.02;
    this.destination = new FakeNode("destination");
    this.resumed = 0;
    this.perfAt = performance.now(); // when the sample at context time 9.95 s left the speaker
    this.modules = [];
    this.audioWorklet = {
      addModule: async (url) => {
        const blob = resolveObjectURL(url);
        this.modules.push(blob ? await blob.text() : url);
      },
    };
  }
  resume() {
    this.resumed++;
    this.state = "running";
    return Promise.resolve();
  }
  close() {
    this.state = "closed";
  }
  getOutputTimestamp() {
    return { contextTime: 9.95, performanceTime: this.perfAt };
  }
  createMediaStreamSource(stream) {
    const n = new FakeNode("source");
    n.stream = stream;
    return n;
  }
  createGain() {
    const n = new FakeNode("gain");
    n.gain = { value: 1 };
    return n;
  }
  createAnalyser() {
    const n = new FakeNode("analyser");
    n.fftSize = 2048;
    n.getFloatTimeDomainData = (arr) => arr.fill(0.25);
    return n;
  }
}

class FakeTrack {
  constructor() {
    this.stopped = false;
    this.listeners = {};
  }
  stop() {
    this.stopped = true;
  }
  getSettings() {
    return { sampleRate: 48000, echoCancellation: true, latency: 0.01 };
  }
  addEventListener(type, fn) {
    this.listeners[type] = fn;
  }
}

function fakeStream() {
  const track = new FakeTrack();
  return { track, getTracks: () => [track], getAudioTracks: () => [track] };
}

let gumCalls = [];
let gumResult = null;

function setBrowser({ secure = true, mediaDevices = true, ua = "Mozilla/5.0 Chrome/150", vscode = false } = {}) {
  globalThis.isSecureContext = secure;
  if (vscode) globalThis.acquireVsCodeApi = () => ({});
  else delete globalThis.acquireVsCodeApi;
  const md = mediaDevices
    ? {
        getUserMedia: (c) => {
          gumCalls.push(c);
          return typeof gumResult === "function" ? gumResult() : gumResult;
        },
      }
    : undefined;
  Object.defineProperty(globalThis, "navigator", {
    value: { userAgent: ua, mediaDevices: md },
    configurable: true,
    writable: true,
  });
}

beforeEach(() => {
  setBrowser();
  workletNodes = [];
  workletNodeError = null;
  gumCalls = [];
  gumResult = null;
});

test("checkMicSupport: null when it can try; each blocker with advice", () => {
  assert.equal(checkMicSupport(), null);
  setBrowser({ secure: false });
  let e = checkMicSupport();
  assert.equal(e.code, "insecure_context");
  assert.match(e.message, /https/);
  assert.match(e.message, /http:\/\/localhost/);
  setBrowser({ mediaDevices: false });
  assert.equal(checkMicSupport().code, "no_media_devices");
  setBrowser({ secure: false, mediaDevices: false });
  assert.equal(checkMicSupport().code, "insecure_context", "the root cause first");
  setBrowser({ vscode: true });
  e = checkMicSupport();
  assert.equal(e.code, "vscode_webview");
  assert.match(e.message, /w\.send_audio/);
  assert.match(e.message, /JupyterLab/);
  setBrowser({ ua: "Mozilla/5.0 (X11) AppleWebKit/537.36 Code/1.99.0 Chrome/132 Electron/34.2.0 Safari/537.36" });
  assert.equal(checkMicSupport().code, "vscode_webview");
  assert.ok(checkMicSupport() instanceof MicError);
  assert.ok(checkMicSupport() instanceof Error);
});

test("classifyMicError maps browser errors to MIC_ERRORS codes", () => {
  const cases = [
    ["NotAllowedError", "permission_denied"],
    ["SecurityError", "permission_denied"],
    ["NotFoundError", "no_device"],
    ["OverconstrainedError", "no_device"],
    ["NotReadableError", "device_busy"],
    ["AbortError", "device_busy"],
    ["InvalidStateError", "audio_context"],
    ["TypeError", "unknown"],
  ];
  for (const [name, code] of cases) {
    const err = classifyMicError(new DOMException("boom", name));
    assert.equal(err.code, code, name);
    assert.ok(MIC_ERRORS.includes(err.code));
    assert.equal(err.cause.name, name);
    assert.ok(err.message.length > 30, `${name}: "${err.message}" says what to do`);
  }
  assert.match(classifyMicError(new DOMException("x", "NotAllowedError")).message, /microphone/i);
  assert.match(classifyMicError(new DOMException("x", "NotAllowedError")).message, /site/);
  assert.match(classifyMicError(new TypeError("weird")).message, /weird/);
  setBrowser({ vscode: true });
  assert.equal(classifyMicError(new DOMException("x", "NotAllowedError")).code, "vscode_webview");
  assert.equal(new MicError("not-a-code").code, "unknown");
});

test("Mic.start: constraints passed through, context resumed, capture node wired", async () => {
  const ctx = new FakeContext();
  const off = { echoCancellation: false, noiseSuppression: false, autoGainControl: false };
  const s = fakeStream();
  gumResult = Promise.resolve(s);
  const mic = new Mic(ctx, { constraints: off });
  await mic.start();
  assert.deepEqual(gumCalls, [{ audio: off }]);
  assert.equal(ctx.resumed, 1);
  assert.equal(workletNodes.length, 1);
  const node = workletNodes[0];
  assert.equal(node.name, "rtnb-capture");
  assert.equal(node.options.channelCount, 1);
  assert.deepEqual(mic.settings(), s.track.getSettings());
  assert.ok(mic.active);
  // a silent path to the destination
  const gain = node.connected[0];
  assert.equal(gain.gain.value, 0);
  assert.equal(gain.connected[0], ctx.destination);
  await mic.start(); // no-op while on
  assert.equal(gumCalls.length, 1);

  // the product default keeps the browser's processing on
  gumResult = Promise.resolve(fakeStream());
  const mic2 = new Mic(new FakeContext());
  await mic2.start();
  assert.deepEqual(gumCalls[1], { audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true } });
});

test("Mic frames: seq, t_capture in epoch ms, level; muted frames are not delivered", async () => {
  const ctx = new FakeContext();
  gumResult = Promise.resolve(fakeStream());
  const mic = new Mic(ctx);
  await mic.start();
  const got = [];
  mic.onFrame((pcm, info) => got.push({ pcm, info }));
  const port = workletNodes[0].port;
  const frame = new Int16Array(960).fill(3);
  const at = performance.timeOrigin + ctx.perfAt;
  port.emit({ frame, level: 0.3, endTime: 9.9 });
  port.emit({ frame, level: 0.2, endTime: 9.94 });
  assert.equal(got.length, 2);
  assert.equal(got[0].pcm, frame);
  assert.deepEqual(got.map((g) => g.info.seq), [0, 1]);
  assert.equal(got[0].info.level, 0.3);
  // 9.9 s is 50 ms before the sample now leaving the speaker; minus 20 ms output, 10 ms input latency
  const expected = at + (9.9 - 9.95) * 1000 - 20 - 10;
  assert.ok(Math.abs(got[0].info.t_capture - expected) < 1e-6, `${got[0].info.t_capture - expected} ms off`);
  assert.ok(Math.abs(got[1].info.t_capture - got[0].info.t_capture - 40) < 1e-6);
  assert.equal(mic.level(), 0.2);
  mic.muted = true;
  port.emit({ frame, level: 0.5, endTime: 9.98 });
  assert.equal(got.length, 2);
  assert.equal(mic.level(), 0);
  mic.muted = false;
  port.emit({ frame, level: 0.5, endTime: 10.02 });
  assert.equal(got.at(-1).info.seq, 2);
});

test("Mic.stop stops tracks and disconnects; stop during the prompt wins", async () => {
  const ctx = new FakeContext();
  const s = fakeStream();
  gumResult = Promise.resolve(s);
  const mic = new Mic(ctx);
  await mic.start();
  mic.stop();
  assert.ok(s.track.stopped);
  assert.ok(workletNodes[0].disconnected);
  assert.ok(workletNodes[0].port.closed);
  assert.equal(mic.active, false);
  assert.deepEqual(mic.settings(), {});
  mic.stop(); // twice is fine

  let resolve;
  const s2 = fakeStream();
  gumResult = new Promise((r) => (resolve = r));
  const pending = mic.start();
  mic.stop();
  resolve(s2);
  await pending;
  assert.ok(s2.track.stopped);
  assert.equal(mic.active, false);
  assert.equal(workletNodes.length, 1, "no node built after stop()");
});

test("Mic.start failures are MicErrors with classified codes", async () => {
  const ctx = new FakeContext();
  gumResult = () => Promise.reject(new DOMException("Permission denied", "NotAllowedError"));
  await assert.rejects(new Mic(ctx).start(), (e) => e instanceof MicError && e.code === "permission_denied");
  gumResult = () => Promise.reject(new DOMException("in use", "NotReadableError"));
  await assert.rejects(new Mic(ctx).start(), (e) => e.code === "device_busy");
  setBrowser({ secure: false });
  await assert.rejects(new Mic(ctx).start(), (e) => e.code === "insecure_context");
  assert.equal(gumCalls.length, 2, "no prompt from an insecure page");
  setBrowser();
  const s = fakeStream();
  gumResult = Promise.resolve(s);
  workletNodeError = new DOMException("no processor", "InvalidStateError");
  await assert.rejects(new Mic(ctx).start(), (e) => e.code === "audio_context" && /InvalidStateError/.test(e.message));
  assert.ok(s.track.stopped, "the mic is released when the graph fails");
});

test("Mic.onEnded fires when the track ends by itself", async () => {
  const s = fakeStream();
  gumResult = Promise.resolve(s);
  const mic = new Mic(new FakeContext());
  await mic.start();
  const reasons = [];
  mic.onEnded((r) => reasons.push(r));
  s.track.listeners.ended();
  assert.deepEqual(reasons, ["track_ended"]);
  assert.equal(mic.active, false);
});

test("Player: push copies and transfers, flush fades only when running, reports in epoch ms", async () => {
  const ctx = new FakeContext({ state: "running" });
  const player = new Player(ctx);
  const node = workletNodes[0];
  assert.equal(node.name, "rtnb-player");
  assert.deepEqual(node.options.outputChannelCount, [1]);
  assert.equal(node.connected[0], player.analyser);
  assert.equal(player.analyser.connected[0], ctx.destination);

  const pcm = new Int16Array([1, 2, 3]);
  player.push("item_1", pcm);
  const { msg, transfer } = node.port.sent[0];
  assert.equal(msg.cmd, "push");
  assert.equal(msg.item, "item_1");
  assert.deepEqual(Array.from(msg.pcm), [1, 2, 3]);
  assert.notEqual(msg.pcm.buffer, pcm.buffer);
  assert.deepEqual(transfer, [msg.pcm.buffer]);
  player.push("item_1", new Int16Array(0));
  assert.equal(node.port.sent.length, 1, "empty chunks are not sent");

  player.flush();
  assert.deepEqual(node.port.sent.at(-1).msg, { cmd: "flush", fade: true });
  ctx.state = "suspended";
  player.flush();
  assert.deepEqual(node.port.sent.at(-1).msg, { cmd: "flush", fade: false });

  const reports = [];
  const unsubscribe = player.onPlayed((r) => reports.push(r));
  const now = performance.timeOrigin + ctx.perfAt;
  const report = { type: "played", reason: "interrupted" };
  node.port.emit({ ...report, item_id: "item_1", samples: 2400, received: 4800, t_first: 9.75 });
  node.port.emit({ ...report, item_id: "item_2", samples: 0, received: 10, t_first: null });
  assert.equal(reports.length, 2);
  assert.equal(reports[0].samples, 2400);
  assert.equal(reports[0].reason, "interrupted");
  assert.ok(Math.abs(reports[0].t_first - (now - 200)) < 1e-6, "context 9.75 s = 200 ms before 9.95 s");
  assert.equal(reports[1].t_first, null);
  unsubscribe();
  node.port.emit({ type: "played", item_id: "x", samples: 0, received: 0, reason: "ended", t_first: null });
  assert.equal(reports.length, 2);

  node.port.emit({ type: "level", value: 0.1, underruns: 2, buffered_ms: 123.4, playing_item: "item_3" });
  assert.deepEqual(player.stats(), { underruns: 2, buffered_ms: 123, playing_item: "item_3" });
});

test("Player: level from the analyser, unlock resumes, close disconnects", async () => {
  const ctx = new FakeContext({ state: "suspended" });
  const player = new Player(ctx);
  assert.equal(player.needsUnlock, true);
  assert.equal(player.level(), 0);
  await player.unlock();
  assert.equal(player.needsUnlock, false);
  assert.ok(Math.abs(player.level() - 0.25) < 1e-6);
  player.close();
  const node = workletNodes[0];
  assert.deepEqual(node.port.sent.at(-1).msg, { cmd: "reset" });
  assert.ok(node.port.closed && node.disconnected && player.analyser.disconnected);
  assert.equal(ctx.state, "running", "the shared context is not closed");
  player.push("a", new Int16Array(3));
  assert.equal(node.port.sent.at(-1).msg.cmd, "reset", "nothing sent after close");
});

test("getAudio: one context per page at the native rate, both worklets added from Blob URLs", async () => {
  const made = [];
  globalThis.AudioContext = class extends FakeContext {
    constructor(options) {
      super();
      this.options = options;
      made.push(this);
    }
  };
  try {
    const a = await getAudio();
    await a.ready;
    const b = await getAudio();
    assert.equal(a, b);
    assert.equal(made.length, 1);
    assert.equal(made[0].options.sampleRate, undefined, "never forced to 24 kHz");
    assert.equal(a.ctx.modules.length, 2);
    assert.match(a.ctx.modules[0], /registerProcessor\("rtnb-capture"/);
    assert.match(a.ctx.modules[1], /registerProcessor\("rtnb-player"/);
    a.ctx.close();
    const c = await getAudio();
    assert.notEqual(c.ctx, a.ctx, "a closed context is replaced");
    // a context without audioWorklet (insecure page) rejects `ready`, without an unhandled rejection
    made.length = 0;
    c.ctx.close();
    globalThis.AudioContext = class extends FakeContext {
      constructor() {
        super();
        this.audioWorklet = undefined;
      }
    };
    const d = await getAudio();
    await assert.rejects(d.ready, /secure context/);
  } finally {
    delete globalThis.AudioContext;
  }
});

test("contextTimeToEpochMs: through getOutputTimestamp, else from currentTime", () => {
  const ctx = new FakeContext({ state: "running" });
  const at = performance.timeOrigin + ctx.perfAt;
  assert.ok(Math.abs(contextTimeToEpochMs(ctx, 9.95) - at) < 1e-6);
  assert.ok(Math.abs(contextTimeToEpochMs(ctx, 10.95) - (at + 1000)) < 1e-6);
  ctx.getOutputTimestamp = () => ({ contextTime: 0, performanceTime: 0 }); // suspended
  // currentTime (10 s) is being rendered now and is heard after outputLatency (20 ms)
  const before = performance.timeOrigin + performance.now();
  const got = contextTimeToEpochMs(ctx, 10.5);
  const after = performance.timeOrigin + performance.now();
  assert.ok(got >= before + 520 - 1e-6 && got <= after + 520 + 1e-6, `${got - before} ms ahead`);
});

// The two AudioWorkletProcessors, run in node against a minimal fake of the worklet scope
// (AudioWorkletProcessor, registerProcessor, sampleRate, currentTime, currentFrame, a port).
import { test } from "node:test";
import assert from "node:assert/strict";
import { pcm16ToFloat, floatToPcm16 } from "../src/audio-math.js";

/** @type {Record<string, any>} */
const registered = {};

class FakePort {
  constructor() {
    /** @type {any[]} */
    this.sent = [];
    this.onmessage = null;
  }
  postMessage(msg, transfer = []) {
    for (const buf of transfer) assert.ok(buf instanceof ArrayBuffer, "only ArrayBuffers are transferred");
    this.sent.push({ msg, transfer });
  }
  deliver(data) {
    this.onmessage({ data });
  }
}

globalThis.AudioWorkletProcessor = class {
  constructor() {
    this.port = new FakePort();
  }
};
globalThis.registerProcessor = (name, cls) => {
  registered[name] = cls;
};
globalThis.currentFrame = 0;
globalThis.currentTime = 0;
globalThis.sampleRate = 44100;

await import("../src/capture.worklet.js");
await import("../src/player.worklet.js");

/** Make a processor at `rate`, with the clock at frame 0. */
function make(name, rate, startFrame = 0) {
  globalThis.sampleRate = rate;
  globalThis.currentFrame = startFrame;
  globalThis.currentTime = startFrame / rate;
  return new registered[name]();
}

function tick(rate) {
  globalThis.currentFrame += 128;
  globalThis.currentTime = globalThis.currentFrame / rate;
}

test("both processors register under their names", () => {
  assert.equal(typeof registered["rtnb-capture"], "function");
  assert.equal(typeof registered["rtnb-player"], "function");
});

test("rtnb-capture: 44.1 kHz in -> 960-sample 24 kHz PCM16 frames, transferred, with level and endTime", () => {
  for (const rate of [44100, 48000]) {
    const start = 12800; // the node was created after the context had run a while
    const p = make("rtnb-capture", rate, start);
    const blocks = Math.ceil(rate / 128); // one second
    for (let b = 0; b < blocks; b++) {
      const x = new Float32Array(128);
      for (let i = 0; i < 128; i++) x[i] = 0.5 * Math.sin((2 * Math.PI * 1000 * (b * 128 + i)) / rate);
      assert.equal(p.process([[x]], [[new Float32Array(128)]]), true);
      tick(rate);
    }
    const frames = p.port.sent;
    assert.equal(frames.length, Math.floor(Math.ceil((blocks * 128 * 24000) / rate) / 960));
    const delay = p.resampler.delay;
    frames.forEach(({ msg, transfer }, k) => {
      assert.ok(msg.frame instanceof Int16Array);
      assert.equal(msg.frame.length, 960);
      assert.deepEqual(transfer, [msg.frame.buffer]);
      const lastInput = start + (((k + 1) * 960 - 1) * rate) / 24000 - delay;
      assert.ok(Math.abs(msg.endTime - lastInput / rate) < 1e-9, `frame ${k} endTime`);
      if (k > 0) assert.ok(Math.abs(msg.level - 0.5 / Math.SQRT2) < 0.005, `level ${msg.level}`);
    });
    // the audio is the same 1 kHz tone: count zero crossings over frames 1..
    const pcm = new Int16Array(960 * (frames.length - 1));
    frames.slice(1).forEach(({ msg }, k) => pcm.set(msg.frame, k * 960));
    let zc = 0;
    for (let i = 1; i < pcm.length; i++) if ((pcm[i - 1] < 0) !== (pcm[i] < 0)) zc++;
    const hz = zc / 2 / (pcm.length / 24000);
    assert.ok(Math.abs(hz - 1000) < 3, `${rate}: ${hz} Hz`);
  }
});

test("rtnb-capture: endTime of a frame matches where a click actually is", () => {
  const rate = 44100;
  const p = make("rtnb-capture", rate, 0);
  const clickFrame = 10000; // context frame of the click
  for (let b = 0; b < 200; b++) {
    const x = new Float32Array(128);
    const at = clickFrame - globalThis.currentFrame;
    if (at >= 0 && at < 128) x[at] = 1;
    p.process([[x]], []);
    tick(rate);
  }
  const frames = p.port.sent.map((s) => s.msg);
  let best = { v: 0, frame: 0, i: 0 };
  frames.forEach((f, k) => f.frame.forEach((v, i) => v > best.v && (best = { v, frame: k, i })));
  const f = frames[best.frame];
  // time of sample i in that frame = endTime - (959 - i) / 24000
  const t = f.endTime - (959 - best.i) / 24000;
  assert.ok(Math.abs(t - clickFrame / rate) < 1 / 24000, `click at ${t}, expected ${clickFrame / rate}`);
});

test("rtnb-capture: stereo is averaged, no input gives silent frames, stop ends it", () => {
  const p = make("rtnb-capture", 48000);
  for (let b = 0; b < 30; b++) {
    p.process([[new Float32Array(128).fill(0.5), new Float32Array(128).fill(-0.1)]], []);
    tick(48000);
  }
  const last = p.port.sent.at(-1).msg.frame;
  assert.equal(last[500], Math.round(0.2 * 32768));
  const q = make("rtnb-capture", 48000);
  for (let b = 0; b < 20; b++) {
    q.process([[]], []); // no source connected
    tick(48000);
  }
  assert.equal(q.port.sent.length, 1);
  assert.equal(q.port.sent[0].msg.level, 0);
  q.port.deliver({ cmd: "stop" });
  assert.equal(q.process([[]], []), false);
});

/** Run the player for `ms` of output; return the output samples. */
function runPlayer(p, rate, ms) {
  const blocks = Math.round((rate * ms) / 1000 / 128);
  const out = new Float32Array(blocks * 128);
  for (let b = 0; b < blocks; b++) {
    const ch = new Float32Array(128);
    assert.equal(p.process([], [[ch]]), true);
    out.set(ch, b * 128);
    tick(rate);
  }
  return out;
}

const played = (p) => p.port.sent.map((s) => s.msg).filter((m) => m.type === "played");

test("rtnb-player: plays pushed audio, reports progress ~10/s, t_first, ended with all samples", () => {
  const rate = 44100;
  const p = make("rtnb-player", rate, 4410 * 128);
  const t0 = globalThis.currentTime;
  const tone = new Float32Array(24000);
  for (let i = 0; i < tone.length; i++) tone[i] = 0.5 * Math.sin((2 * Math.PI * 440 * i) / 24000);
  const pcm = floatToPcm16(tone);
  for (let i = 0; i < pcm.length; i += 2400) p.port.deliver({ cmd: "push", item: "item_1", pcm: pcm.slice(i, i + 2400) });
  const out = runPlayer(p, rate, 1500);
  const reports = played(p);
  const progress = reports.filter((r) => r.reason === "progress");
  assert.ok(progress.length >= 9 && progress.length <= 11, `${progress.length} progress reports in 1 s`);
  for (let k = 1; k < progress.length; k++) assert.ok(progress[k].samples > progress[k - 1].samples);
  for (const r of reports) {
    assert.equal(r.item_id, "item_1");
    assert.equal(r.received, 24000);
    assert.ok(Math.abs(r.t_first - t0) < 1e-9, "first sample played in the first block");
  }
  const ended = reports.filter((r) => r.reason === "ended");
  assert.equal(ended.length, 1);
  assert.equal(ended[0].samples, 24000);
  // what came out is the 440 Hz tone, one second long
  const first = out.findIndex((v) => v !== 0);
  let last = out.length - 1;
  while (out[last] === 0) last--;
  assert.ok(first <= 1 && Math.abs(last + 1 - 44100) <= 2, `played from ${first} to ${last}`);
  const levels = p.port.sent.map((s) => s.msg).filter((m) => m.type === "level");
  assert.ok(levels.length >= 28 && levels.length <= 31, `${levels.length} level messages in 1.5 s`);
  assert.ok(Math.abs(levels[5].value - 0.5 / Math.SQRT2) < 0.01);
  assert.equal(levels.at(-1).playing_item, null);
  assert.equal(levels[5].playing_item, "item_1");
});

test("rtnb-player: t_first is the context time of the first sample, mid-block", () => {
  const rate = 48000;
  const p = make("rtnb-player", rate);
  p.port.deliver({ cmd: "push", item: "a", pcm: new Int16Array(240).fill(1000) });
  p.port.deliver({ cmd: "push", item: "b", pcm: new Int16Array(4800).fill(1000) });
  runPlayer(p, rate, 200);
  p.port.deliver({ cmd: "flush" });
  runPlayer(p, rate, 50);
  const reports = played(p);
  const a = reports.find((r) => r.item_id === "a" && r.reason === "ended");
  const b = reports.find((r) => r.item_id === "b");
  assert.equal(a.samples, 240);
  assert.equal(a.t_first, 0);
  assert.ok(Math.abs(b.t_first - 480 / rate) < 1e-9, `b started at ${b.t_first}`);
});

test("rtnb-player: flush fades, then reports interrupted once with the exact count", () => {
  const rate = 48000;
  const p = make("rtnb-player", rate);
  p.port.deliver({ cmd: "push", item: "a", pcm: new Int16Array(48000).fill(16384) });
  runPlayer(p, rate, 128 * 10 / 48); // 10 blocks
  p.port.deliver({ cmd: "flush" });
  assert.equal(played(p).filter((r) => r.reason === "interrupted").length, 0, "not before the fade");
  const out = runPlayer(p, rate, 128 * 10 / 48);
  const inter = played(p).filter((r) => r.reason === "interrupted");
  assert.equal(inter.length, 1);
  const fade = Math.round(0.012 * rate);
  assert.equal(inter[0].samples, (1280 + fade) / 2);
  assert.equal(inter[0].received, 48000);
  for (let i = fade; i < out.length; i++) assert.equal(out[i], 0);
  // late audio for the interrupted item stays silent
  p.port.deliver({ cmd: "push", item: "a", pcm: new Int16Array(4800).fill(16384) });
  assert.ok(runPlayer(p, rate, 300).every((v) => v === 0));
});

test("rtnb-player: a flush is reported without process() calls (suspended context)", () => {
  const p = make("rtnb-player", 48000);
  p.port.deliver({ cmd: "push", item: "a", pcm: new Int16Array(4800) });
  p.port.deliver({ cmd: "flush", fade: false });
  const inter = played(p).filter((r) => r.reason === "interrupted");
  assert.deepEqual(
    inter.map((r) => [r.item_id, r.samples, r.t_first]),
    [["a", 0, null]],
  );
  // a playing item with fade: false is cut at once too
  p.port.deliver({ cmd: "push", item: "b", pcm: new Int16Array(4800).fill(100) });
  runPlayer(p, 48000, 128 / 48);
  p.port.deliver({ cmd: "flush", fade: false });
  assert.deepEqual(
    played(p).filter((r) => r.reason === "interrupted").map((r) => [r.item_id, r.samples]),
    [["a", 0], ["b", 64]],
  );
});

test("rtnb-player: reset drops everything silently", () => {
  const p = make("rtnb-player", 48000);
  p.port.deliver({ cmd: "push", item: "a", pcm: new Int16Array(4800).fill(100) });
  runPlayer(p, 48000, 20);
  p.port.deliver({ cmd: "reset" });
  const out = runPlayer(p, 48000, 300);
  assert.ok(out.every((v) => v === 0));
  assert.equal(played(p).filter((r) => r.reason !== "progress").length, 0);
  assert.ok(pcm16ToFloat(new Int16Array(1)).length === 1);
});

// Unit tests of the pure audio math (js/src/audio-math.js): numbers, not smoke.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  StreamingResampler,
  floatToPcm16,
  pcm16ToFloat,
  rms,
  FrameAssembler,
  PlaybackQueue,
} from "../src/audio-math.js";

/** @returns {Float32Array} */
function tone(freq, rate, seconds, amp = 0.5) {
  const n = Math.round(rate * seconds);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = amp * Math.sin((2 * Math.PI * freq * i) / rate);
  return out;
}

/** Amplitude of the component at `freq` (single-bin DFT over a Hann window). */
function amplitudeAt(x, freq, rate) {
  let re = 0;
  let im = 0;
  let wsum = 0;
  for (let i = 0; i < x.length; i++) {
    const w = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (x.length - 1));
    const ph = (2 * Math.PI * freq * i) / rate;
    re += w * x[i] * Math.cos(ph);
    im -= w * x[i] * Math.sin(ph);
    wsum += w;
  }
  return (2 * Math.hypot(re, im)) / wsum;
}

function zeroCrossings(x) {
  let n = 0;
  for (let i = 1; i < x.length; i++) if ((x[i - 1] < 0) !== (x[i] < 0)) n++;
  return n;
}

/** Steady-state part of a resampled signal: skip the filter's ramp at both ends. */
function steady(y, skip) {
  return y.subarray(skip, y.length - skip);
}

const db = (a, b) => 20 * Math.log10(a / b);

function runChunked(rs, x, sizes) {
  const parts = [];
  let i = 0;
  let k = 0;
  while (i < x.length) {
    const size = sizes[k++ % sizes.length];
    parts.push(rs.process(x.subarray(i, i + size)));
    i += size;
  }
  const total = parts.reduce((s, p) => s + p.length, 0);
  const out = new Float32Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const RATIOS = [
  [44100, 24000],
  [48000, 24000],
  [24000, 44100],
  [24000, 48000],
  [16000, 24000],
];

test("resampler keeps a 1 kHz tone at 1 kHz (44.1 k -> 24 k), at unit gain", () => {
  const rs = new StreamingResampler(44100, 24000);
  const y = steady(rs.process(tone(1000, 44100, 1)), 200);
  const seconds = y.length / 24000;
  const freq = zeroCrossings(y) / 2 / seconds;
  assert.ok(Math.abs(freq - 1000) < 2, `zero crossings say ${freq} Hz`);
  const a = amplitudeAt(y, 1000, 24000);
  assert.ok(Math.abs(db(a, 0.5)) < 0.05, `1 kHz gain ${db(a, 0.5).toFixed(3)} dB`);
  assert.ok(amplitudeAt(y, 1100, 24000) < 0.5e-3, "energy leaked off the tone");
});

test("every ratio keeps 1 kHz and 8 kHz tones within 0.5 dB", () => {
  for (const [from, to] of RATIOS) {
    for (const f of from === 16000 || to === 16000 ? [1000, 6000] : [1000, 8000]) {
      const rs = new StreamingResampler(from, to);
      const y = steady(rs.process(tone(f, from, 0.5)), 200);
      const g = db(amplitudeAt(y, f, to), 0.5);
      assert.ok(Math.abs(g) < 0.5, `${from}->${to} ${f} Hz: ${g.toFixed(2)} dB`);
    }
  }
});

test("resampler rejects a 15 kHz tone at 48 k -> 24 k by more than 40 dB (no 9 kHz alias)", () => {
  const rs = new StreamingResampler(48000, 24000);
  const y = steady(rs.process(tone(15000, 48000, 0.5)), 200);
  const level = db(rms(y) * Math.SQRT2, 0.5);
  assert.ok(level < -40, `15 kHz came out at ${level.toFixed(1)} dB`);
  assert.ok(db(amplitudeAt(y, 9000, 24000), 0.5) < -40, "alias at 9 kHz");
});

test("resampler rejects 13 kHz at 44.1 k -> 24 k (alias would land at 11 kHz)", () => {
  const rs = new StreamingResampler(44100, 24000);
  const y = steady(rs.process(tone(13000, 44100, 0.5)), 200);
  const level = db(rms(y) * Math.SQRT2, 0.5);
  assert.ok(level < -40, `13 kHz came out at ${level.toFixed(1)} dB`);
});

test("upsampling 24 k -> 48 k leaves no image of a 10 kHz tone at 14 kHz", () => {
  const rs = new StreamingResampler(24000, 48000);
  const y = steady(rs.process(tone(10000, 24000, 0.5)), 400);
  assert.ok(Math.abs(db(amplitudeAt(y, 10000, 48000), 0.5)) < 1, "10 kHz kept");
  assert.ok(db(amplitudeAt(y, 14000, 48000), 0.5) < -40, "image at 14 kHz");
});

test("chunked output equals one-shot output for every ratio", () => {
  for (const [from, to] of RATIOS) {
    const x = new Float32Array(from / 4);
    let seed = 7;
    for (let i = 0; i < x.length; i++) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      x[i] = seed / 2147483648 - 0.5;
    }
    const whole = new StreamingResampler(from, to).process(x);
    const chunked = runChunked(new StreamingResampler(from, to), x, [1, 128, 7, 333, 960, 2, 129]);
    assert.equal(chunked.length, whole.length, `${from}->${to} length`);
    let maxDiff = 0;
    for (let i = 0; i < whole.length; i++) maxDiff = Math.max(maxDiff, Math.abs(whole[i] - chunked[i]));
    assert.ok(maxDiff < 1e-6, `${from}->${to}: chunks differ by ${maxDiff}`);
  }
});

test("output length is exactly ceil(N x to / from) after every chunk", () => {
  for (const [from, to] of RATIOS) {
    const rs = new StreamingResampler(from, to);
    let n = 0;
    let out = 0;
    for (const size of [128, 128, 1, 441, 1000, 3, 128, 4410]) {
      out += rs.process(new Float32Array(size)).length;
      n += size;
      assert.equal(out, Math.ceil((n * to) / from), `${from}->${to} after ${n}`);
    }
  }
  // one second in, one second out
  assert.equal(new StreamingResampler(44100, 24000).process(new Float32Array(44100)).length, 24000);
  assert.equal(new StreamingResampler(24000, 44100).process(new Float32Array(24000)).length, 44100);
});

test("resampler delay: an impulse at input i comes out at (i + delay) x to / from", () => {
  for (const [from, to] of RATIOS) {
    const rs = new StreamingResampler(from, to);
    const x = new Float32Array(from / 10);
    const at = 1000;
    x[at] = 1;
    const y = rs.process(x);
    let peak = 0;
    for (let i = 1; i < y.length; i++) if (Math.abs(y[i]) > Math.abs(y[peak])) peak = i;
    const expected = ((at + rs.delay) * to) / from;
    assert.ok(Math.abs(peak - expected) <= 1, `${from}->${to}: peak ${peak}, expected ${expected}`);
  }
});

test("equal rates pass through; reset forgets history; bad rates throw", () => {
  const same = new StreamingResampler(24000, 24000);
  const x = tone(440, 24000, 0.01);
  assert.deepEqual(same.process(x), x);
  assert.equal(same.delay, 0);
  const rs = new StreamingResampler(48000, 24000);
  const first = rs.process(x);
  rs.process(tone(3000, 48000, 0.1));
  rs.reset();
  assert.deepEqual(rs.process(x), first);
  assert.throws(() => new StreamingResampler(0, 24000), RangeError);
  assert.throws(() => new StreamingResampler(44100.5, 24000), RangeError);
});

test("floatToPcm16 scales by 32768, rounds to nearest and clips", () => {
  const got = floatToPcm16(Float32Array.from([0, 0.5, -0.5, 1, -1, 1.5, -2, 1 / 65536, 3 / 65536, -0.25, NaN]));
  assert.deepEqual(Array.from(got), [0, 16384, -16384, 32767, -32768, 32767, -32768, 1, 2, -8192, 0]);
  const tiny = floatToPcm16(Float32Array.from([0.4 / 32768, 0.6 / 32768, -0.6 / 32768]));
  assert.deepEqual(Array.from(tiny), [0, 1, -1]);
});

test("pcm16ToFloat is in [-1, 1) and round-trips through floatToPcm16 exactly", () => {
  const all = new Int16Array(65536);
  for (let i = 0; i < 65536; i++) all[i] = i - 32768;
  const f = pcm16ToFloat(all);
  assert.equal(f[0], -1);
  assert.equal(f[65535], 32767 / 32768);
  assert.deepEqual(floatToPcm16(f), all);
  // floats -> pcm -> floats: error at most half a step
  const x = tone(1234, 24000, 0.1, 0.9);
  const back = pcm16ToFloat(floatToPcm16(x));
  let err = 0;
  for (let i = 0; i < x.length; i++) err = Math.max(err, Math.abs(back[i] - x[i]));
  assert.ok(err <= 0.5 / 32768 + 1e-9, `round trip error ${err}`);
});

test("rms of silence, a full-scale square and a sine", () => {
  assert.equal(rms(new Float32Array(0)), 0);
  assert.equal(rms(new Float32Array(100)), 0);
  assert.equal(rms(Float32Array.from([1, -1, 1, -1])), 1);
  assert.equal(rms(Float32Array.from([3, -3])), 1); // clamped
  assert.ok(Math.abs(rms(tone(1000, 24000, 1, 1)) - Math.SQRT1_2) < 1e-4);
});

test("FrameAssembler cuts odd chunk sizes into exact 960-sample frames, in order", () => {
  const fa = new FrameAssembler(960);
  const total = 960 * 7 + 123;
  const x = new Float32Array(total);
  for (let i = 0; i < total; i++) x[i] = i;
  const frames = [];
  let i = 0;
  for (const size of [1, 127, 128, 959, 961, 3, 2000, 500]) {
    const got = fa.push(x.subarray(i, i + size));
    i += size;
    frames.push(...got);
    assert.equal(fa.pending, i % 960 === 0 ? 0 : Math.min(i, total) % 960);
  }
  frames.push(...fa.push(x.subarray(i)));
  assert.equal(frames.length, 7);
  frames.forEach((f, k) => {
    assert.equal(f.length, 960);
    assert.equal(f[0], k * 960);
    assert.equal(f[959], k * 960 + 959);
  });
  assert.equal(fa.pending, 123);
  // frames are independent arrays
  assert.notEqual(frames[0].buffer, frames[1].buffer);
  // one push that completes several frames at once
  const fb = new FrameAssembler(960);
  assert.equal(fb.push(new Float32Array(960 * 3)).length, 3);
  assert.throws(() => new FrameAssembler(0), RangeError);
});

// ---------------------------------------------------------------- PlaybackQueue

const pcm = (n, value = 8192) => new Int16Array(n).fill(value);

/** Pull `samples` output samples in blocks of `block`; return the output and merged results. */
function pullFor(q, samples, block = 128) {
  const out = new Float32Array(samples);
  const res = { started: [], startedAt: [], ended: [], interrupted: [] };
  for (let i = 0; i < samples; i += block) {
    const buf = new Float32Array(Math.min(block, samples - i));
    const r = q.pull(buf);
    out.set(buf, i);
    res.started.push(...r.started);
    res.startedAt.push(...r.startedAt.map((o) => o + i));
    res.ended.push(...r.ended);
    res.interrupted.push(...r.interrupted);
  }
  return { out, ...res };
}

const firstNonZero = (x) => x.findIndex((v) => v !== 0);

test("PlaybackQueue waits for 100 ms of audio before it starts an item", () => {
  const q = new PlaybackQueue({ outputRate: 48000 });
  q.push("a", pcm(1200)); // 50 ms
  let r = pullFor(q, 2400); // 50 ms of output: still waiting
  assert.equal(firstNonZero(r.out), -1);
  assert.deepEqual(r.started, []);
  assert.equal(q.playingItem, null);
  assert.equal(q.bufferedMs, 50);
  q.push("a", pcm(1200)); // now 100 ms queued
  r = pullFor(q, 256);
  assert.deepEqual(r.started, ["a"]);
  assert.deepEqual(r.startedAt, [0]);
  assert.equal(firstNonZero(r.out), 0);
  assert.equal(q.playingItem, "a");
});

test("PlaybackQueue starts a short item after 150 ms of waiting", () => {
  const q = new PlaybackQueue({ outputRate: 48000 });
  q.push("a", pcm(480)); // 20 ms: less than the pre-buffer
  const r = pullFor(q, 48000 * 0.3);
  const start = firstNonZero(r.out);
  // starts at the first block boundary after 150 ms (7200 samples) of waiting
  assert.ok(start >= 7200 && start < 7200 + 128, `started at ${start}`);
  assert.deepEqual(r.startedAt, [start]);
  assert.equal(q.played("a"), 480);
});

test("PlaybackQueue starts an item at once when another item is queued behind it", () => {
  const q = new PlaybackQueue({ outputRate: 48000 });
  q.push("a", pcm(240));
  q.push("b", pcm(240));
  const r = pullFor(q, 1024);
  // a: 10 ms, but complete since b follows; b is the last item, so it waits for more audio
  assert.deepEqual(r.started, ["a"]);
  assert.deepEqual(r.startedAt, [0]);
  assert.deepEqual(r.ended, ["a"]);
  assert.equal(q.played("a"), 240);
  assert.equal(firstNonZero(r.out.subarray(480)), -1);
});

test("played is exact: floor of the read position at 44.1 k and 48 k, monotonic, never above received", () => {
  for (const rate of [44100, 48000, 22050]) {
    const q = new PlaybackQueue({ outputRate: rate });
    const received = 24000 * 2;
    for (let i = 0; i < received; i += 480) q.push("a", pcm(480));
    assert.equal(q.received("a"), received);
    let pulled = 0;
    let prev = 0;
    for (const block of [128, 128, 1, 300, 128, 4410, 128]) {
      for (let k = 0; k < 20; k++) {
        q.pull(new Float32Array(block));
        pulled += block;
        const played = q.played("a");
        const exact = Math.min(received, Math.floor((pulled * 24000) / rate));
        assert.equal(played, exact, `${rate} Hz after ${pulled} output samples`);
        assert.ok(played >= prev && played <= q.received("a"));
        prev = played;
      }
    }
  }
});

test("played is exact after a long item (no drift from float accumulation)", () => {
  const q = new PlaybackQueue({ outputRate: 44100 });
  const sec = 30;
  for (let i = 0; i < sec; i++) q.push("a", pcm(24000));
  let pulled = 0;
  const buf = new Float32Array(128);
  while (pulled + 128 <= 44100 * 20) {
    q.pull(buf);
    pulled += 128;
  }
  assert.equal(q.played("a"), Math.floor((pulled * 24000) / 44100));
  q.pull(new Float32Array(44100 * 20 - pulled)); // exactly 20 s of output
  assert.equal(q.played("a"), 24000 * 20);
});

test("24 k -> 44.1 k and -> 48 k: an item lasts exactly ceil(N x out / 24000) output samples", () => {
  for (const rate of [44100, 48000]) {
    const q = new PlaybackQueue({ outputRate: rate });
    const n = 24000 + 37;
    q.push("a", pcm(n, 16384));
    const r = pullFor(q, rate * 2);
    const start = firstNonZero(r.out);
    let end = r.out.length;
    while (r.out[end - 1] === 0) end--;
    assert.equal(start, 0);
    assert.equal(end - start, Math.ceil((n * rate) / 24000), `${rate} Hz`);
    // a constant plays back as the same constant
    assert.ok(Math.abs(r.out[1000] - 0.5) < 1e-6);
    assert.equal(q.played("a"), n);
  }
});

test("playback resampling keeps a 1 kHz tone at 1 kHz and at unit gain (24 k -> 44.1 k)", () => {
  const q = new PlaybackQueue({ outputRate: 44100 });
  q.push("a", floatToPcm16(tone(1000, 24000, 1)));
  const y = pullFor(q, 44100).out;
  const part = y.subarray(1000, 43000);
  assert.ok(Math.abs(zeroCrossings(part) / 2 / (part.length / 44100) - 1000) < 2);
  assert.ok(Math.abs(db(amplitudeAt(part, 1000, 44100), 0.5)) < 0.1);
});

test("items play in push order, chunks of a queued item join it", () => {
  const q = new PlaybackQueue({ outputRate: 48000 });
  q.push("a", pcm(2400, 1000));
  q.push("b", pcm(2400, 2000));
  q.push("a", pcm(2400, 1000)); // more of a, still before b
  q.push("c", pcm(2400, 3000));
  const r = pullFor(q, 48000);
  assert.deepEqual(r.started, ["a", "b", "c"]);
  assert.deepEqual(r.startedAt, [0, 9600, 14400]);
  assert.deepEqual(r.ended, ["a", "b", "c"]); // c: after 200 ms dry
  const at = (i) => Math.round(r.out[i] * 32768);
  assert.equal(at(100), 1000);
  assert.equal(at(9599 - 10), 1000);
  assert.equal(at(9600 + 10), 2000);
  assert.equal(at(14400 + 10), 3000);
  assert.equal(q.played("a"), 4800);
  assert.equal(q.played("b"), 2400);
});

test("an item ends after the grace period once its audio has all played; played == received", () => {
  const q = new PlaybackQueue({ outputRate: 48000 });
  q.push("a", pcm(4800));
  let r = pullFor(q, 9600 + 128 * 10); // played out, dry for ~27 ms
  assert.deepEqual(r.ended, []);
  assert.equal(q.playingItem, "a");
  r = pullFor(q, 48000 * 0.25);
  assert.deepEqual(r.ended, ["a"]);
  assert.equal(q.played("a"), q.received("a"));
  assert.equal(q.playingItem, null);
  assert.equal(q.underruns, 0);
});

test("underruns: counted once per dry spell of an item that had not ended", () => {
  const q = new PlaybackQueue({ outputRate: 48000 });
  q.push("a", pcm(4800)); // 200 ms
  pullFor(q, 48000 * 0.3); // plays it, then 100 ms dry
  assert.equal(q.underruns, 0);
  q.push("a", pcm(1200));
  assert.equal(q.underruns, 1);
  q.push("a", pcm(1200)); // same dry spell
  assert.equal(q.underruns, 1);
  const r = pullFor(q, 48000 * 0.1); // 100 ms queued again: resumes at once
  assert.equal(firstNonZero(r.out), 0);
  assert.deepEqual(r.started, []); // a resumption is not a new start
  pullFor(q, 48000 * 0.05); // dry again
  q.push("a", pcm(480));
  assert.equal(q.underruns, 2);
  // a new item after a dry one is not an underrun: the dry one ended
  pullFor(q, 48000 * 0.2);
  q.push("b", pcm(4800));
  const r2 = pullFor(q, 1280);
  assert.equal(q.underruns, 2);
  assert.deepEqual(r2.started, ["b"]);
  assert.equal(q.played("a"), q.received("a"));
});

test("flush fades out within fadeMs, drops the queue, reports interrupted once", () => {
  const rate = 48000;
  const q = new PlaybackQueue({ outputRate: rate, fadeMs: 12 });
  q.push("a", pcm(24000, 16384)); // 1 s at 0.5
  q.push("b", pcm(24000, 16384));
  pullFor(q, 4800); // 100 ms in
  const before = q.played("a");
  assert.equal(before, 2400);
  q.flush();
  assert.ok(q.fading);
  const fade = Math.round(0.012 * rate); // 576 output samples
  const r = pullFor(q, 2048, 128);
  // decays monotonically to zero and stays there
  for (let i = 1; i < fade; i++) assert.ok(r.out[i] <= r.out[i - 1] + 1e-9);
  assert.ok(r.out[0] > 0.49);
  for (let i = fade - 1; i < r.out.length; i++) assert.equal(r.out[i], 0, `sample ${i} after the flush`);
  assert.deepEqual(r.interrupted, ["a", "b"]);
  // the fade was heard: played counts it, exactly
  assert.equal(q.played("a"), before + fade / 2);
  assert.equal(q.played("b"), 0);
  assert.equal(q.playingItem, null);
  assert.equal(q.bufferedMs, 0);
  // late audio for a flushed item is ignored (but counted as received); new items play
  q.push("a", pcm(4800));
  assert.equal(q.received("a"), 24000 + 4800);
  assert.equal(q.bufferedMs, 0);
  q.push("c", pcm(4800, 8192));
  const r2 = pullFor(q, 1024);
  assert.deepEqual(r2.interrupted, []);
  assert.deepEqual(r2.started, ["c"]);
  assert.equal(firstNonZero(r2.out), 0);
});

test("flush with nothing audible drops at once and reports on the next pull", () => {
  const q = new PlaybackQueue({ outputRate: 44100 });
  q.flush(); // empty: nothing to report
  assert.deepEqual(q.pull(new Float32Array(128)).interrupted, []);
  q.push("a", pcm(480)); // waiting for the pre-buffer
  q.flush();
  assert.equal(q.bufferedMs, 0);
  const r = q.pull(new Float32Array(128));
  assert.deepEqual(r.interrupted, ["a"]);
  assert.equal(q.played("a"), 0);
  // flush({fade: false}) while playing: immediate
  q.push("b", pcm(4800, 8192));
  q.pull(new Float32Array(128));
  q.flush({ fade: false });
  const buf = new Float32Array(128);
  const r2 = q.pull(buf);
  assert.deepEqual(r2.interrupted, ["b"]);
  assert.equal(firstNonZero(buf), -1);
  assert.equal(q.played("b"), Math.floor((128 * 24000) / 44100));
});

test("a new item pushed during the fade plays after it", () => {
  const q = new PlaybackQueue({ outputRate: 48000 });
  q.push("a", pcm(24000, 16384));
  pullFor(q, 1280);
  q.flush();
  q.push("b", pcm(4800, 8192));
  const r = pullFor(q, 2048);
  assert.deepEqual(r.interrupted, ["a"]);
  assert.deepEqual(r.started, ["b"]);
  assert.equal(r.startedAt[0], 576);
  assert.ok(Math.abs(r.out[600] - 0.25) < 1e-6);
});

test("reset forgets everything; unknown items report zero", () => {
  const q = new PlaybackQueue({ outputRate: 48000 });
  q.push("a", pcm(4800));
  pullFor(q, 1280);
  q.reset();
  assert.equal(q.played("a"), 0);
  assert.equal(q.received("a"), 0);
  assert.equal(q.played("nope"), 0);
  assert.equal(q.playingItem, null);
  assert.equal(firstNonZero(pullFor(q, 1280).out), -1);
});

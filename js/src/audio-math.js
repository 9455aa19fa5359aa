// Pure audio math for the widget: resampling, PCM16 packing, framing and the playback jitter
// buffer. No Web Audio here, so node tests it (js/test/audio-math.test.js) and both worklets
// import it (esbuild bundles it into each worklet's source).

/**
 * Modified Bessel function of the first kind, order 0 (series; converges fast for x < 30).
 * @param {number} x
 * @returns {number}
 */
function besselI0(x) {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 60; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-12) break;
  }
  return sum;
}

/**
 * @param {number} a
 * @param {number} b
 * @returns {number}
 */
function gcd(a, b) {
  while (b) [a, b] = [b, a % b];
  return a;
}

const KAISER_BETA = 8; // about 80 dB stop-band attenuation
const MAX_PHASES = 1024; // beyond this the fractional phase is rounded to 1/1024 sample

/**
 * Resample a stream between any two rates with an anti-aliased windowed-sinc filter.
 *
 * The filter is a Kaiser-windowed sinc (beta 8, about 80 dB rejection) with its cutoff at
 * `cutoff` × the lower rate (0.45 × 24 kHz = 10.8 kHz for speech at 24 kHz), spanning `taps`
 * periods of the lower rate on each side of the centre. Coefficients are tabulated once per
 * phase (exact for rational ratios with up to 1024 phases, which covers 44.1/48/16/22.05/96 kHz ↔
 * 24 kHz), and each row is normalised to unit DC gain.
 *
 * Guarantees: state is kept across calls, so feeding a signal in chunks of any sizes gives the
 * same samples as feeding it at once; after N input samples in total exactly ceil(N × to / from)
 * output samples have come out (output sample n sits at input position n × from / to). The
 * output is delayed by `delay` input samples (half the filter, about 1.3 ms at taps = 32).
 * Equal rates pass the samples through unchanged (copied) with no delay.
 */
export class StreamingResampler {
  // stream state, set by reset(): declared here so their types are known to the checker
  /** @type {Float32Array} */ _buf = new Float32Array(0);
  /** samples of history at the front of _buf */ _hist = 0;
  /** input samples fed so far */ _consumed = 0;
  /** absolute input index of floor(position of the next output sample) */ _base = 0;
  /** numerator of the fractional position, in [0, phases) */ _frac = 0;

  /**
   * @param {number} fromRate input sample rate (Hz)
   * @param {number} toRate output sample rate (Hz)
   * @param {{taps?: number, cutoff?: number}} [options] taps: half-width in periods of the lower
   *   rate; cutoff: fraction of the lower rate where the response is −6 dB
   */
  constructor(fromRate, toRate, { taps = 32, cutoff = 0.45 } = {}) {
    if (!(fromRate > 0 && toRate > 0) || !Number.isInteger(fromRate) || !Number.isInteger(toRate)) {
      throw new RangeError(`sample rates must be positive integers, got ${fromRate} and ${toRate}`);
    }
    this.fromRate = fromRate;
    this.toRate = toRate;
    const g = gcd(fromRate, toRate);
    /** input samples advanced per output sample = step / phases */
    this._step = fromRate / g;
    this._phases = toRate / g;
    this._passthrough = fromRate === toRate;
    const low = Math.min(fromRate, toRate);
    const half = Math.max(1, Math.ceil((taps * fromRate) / low)); // in input samples
    this._half = half;
    this._len = 2 * half;
    const rows = Math.min(this._phases, MAX_PHASES);
    this._rows = rows;
    const fc = (cutoff * low) / fromRate; // cycles per input sample
    const i0b = besselI0(KAISER_BETA);
    const table = new Float32Array(rows * this._len);
    for (let p = 0; p < rows; p++) {
      const frac = p / rows;
      let sum = 0;
      const row = new Float64Array(this._len);
      for (let j = 0; j < this._len; j++) {
        // tap j multiplies input sample (base - j); d = distance from the filter centre
        const d = frac + j - half;
        const x = d / half;
        const w = Math.abs(x) >= 1 ? 0 : besselI0(KAISER_BETA * Math.sqrt(1 - x * x)) / i0b;
        const a = 2 * fc * d;
        const s = a === 0 ? 1 : Math.sin(Math.PI * a) / (Math.PI * a);
        row[j] = 2 * fc * s * w;
        sum += row[j];
      }
      for (let j = 0; j < this._len; j++) table[p * this._len + j] = row[j] / sum;
    }
    this._table = table;
    this.reset();
  }

  /** Input samples of delay between a feature in the input and the same feature in the output. */
  get delay() {
    return this._passthrough ? 0 : this._half;
  }

  /** Forget all history, as if newly constructed. */
  reset() {
    // _buf holds the last (len - 1) input samples followed by the current chunk
    this._buf = new Float32Array(this._len - 1 + 1024);
    this._hist = this._len - 1; // samples of history at the front of _buf (zeros at start)
    this._consumed = 0; // input samples fed so far
    this._base = 0; // absolute input index of floor(position of the next output sample)
    this._frac = 0; // numerator of the fractional position, in [0, phases)
  }

  /**
   * Resample the next chunk of the stream.
   * @param {Float32Array} input
   * @returns {Float32Array} the output samples that this chunk completes (possibly empty)
   */
  process(input) {
    if (this._passthrough) return Float32Array.from(input);
    const histLen = this._len - 1;
    const need = histLen + input.length;
    if (this._buf.length < need) {
      const bigger = new Float32Array(need * 2);
      bigger.set(this._buf.subarray(0, histLen));
      this._buf = bigger;
    }
    const buf = this._buf;
    buf.set(input, histLen);
    const start = this._consumed;
    const end = start + input.length;
    const count = Math.max(0, Math.ceil(((end - this._base) * this._phases - this._frac) / this._step));
    const out = new Float32Array(count);
    const len = this._len;
    const table = this._table;
    const rows = this._rows;
    const phases = this._phases;
    const step = this._step;
    let base = this._base;
    let frac = this._frac;
    for (let n = 0; n < count; n++) {
      const row = rows === phases ? frac : Math.min(rows - 1, Math.round((frac * rows) / phases));
      const off = row * len;
      let idx = base - start + histLen; // index of input sample `base` in buf
      let acc = 0;
      for (let j = 0; j < len; j++) acc += table[off + j] * buf[idx - j];
      out[n] = acc;
      frac += step;
      if (frac >= phases) {
        base += Math.floor(frac / phases);
        frac %= phases;
      }
    }
    this._base = base;
    this._frac = frac;
    this._consumed = end;
    // keep the last histLen samples as history for the next chunk
    buf.copyWithin(0, input.length, input.length + histLen);
    return out;
  }
}

/**
 * Convert float samples to PCM16: scaled by 32768, rounded to nearest, clipped to
 * [−32768, 32767]; NaN becomes 0. pcm16ToFloat(floatToPcm16(x)) === x for x = k / 32768.
 * @param {Float32Array} f32
 * @returns {Int16Array}
 */
export function floatToPcm16(f32) {
  const out = new Int16Array(f32.length);
  for (let i = 0; i < f32.length; i++) {
    const v = Math.round(f32[i] * 32768);
    out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v || 0;
  }
  return out;
}

/**
 * Convert PCM16 samples to floats in [−1, 1) (divided by 32768).
 * @param {Int16Array} i16
 * @returns {Float32Array}
 */
export function pcm16ToFloat(i16) {
  const out = new Float32Array(i16.length);
  for (let i = 0; i < i16.length; i++) out[i] = i16[i] / 32768;
  return out;
}

/**
 * Root mean square of the samples, clamped to [0, 1]; 0 for an empty array.
 * @param {Float32Array} f32
 * @returns {number}
 */
export function rms(f32) {
  if (!f32.length) return 0;
  let s = 0;
  for (let i = 0; i < f32.length; i++) s += f32[i] * f32[i];
  return Math.min(1, Math.sqrt(s / f32.length));
}

/** Cut a stream of arbitrary chunks into frames of a fixed size. */
export class FrameAssembler {
  /** @param {number} frameSamples samples per frame (960 = 40 ms at 24 kHz) */
  constructor(frameSamples) {
    if (!(frameSamples > 0) || !Number.isInteger(frameSamples)) {
      throw new RangeError(`frameSamples must be a positive integer, got ${frameSamples}`);
    }
    this.frameSamples = frameSamples;
    this._cur = new Float32Array(frameSamples);
    this._fill = 0;
  }

  /** Samples waiting for the next frame to complete. */
  get pending() {
    return this._fill;
  }

  /**
   * Add samples; return the frames they complete, in order (each a new array).
   * @param {Float32Array} f32
   * @returns {Float32Array[]}
   */
  push(f32) {
    const frames = [];
    let i = 0;
    while (i < f32.length) {
      const take = Math.min(this.frameSamples - this._fill, f32.length - i);
      this._cur.set(f32.subarray(i, i + take), this._fill);
      this._fill += take;
      i += take;
      if (this._fill === this.frameSamples) {
        frames.push(this._cur);
        this._cur = new Float32Array(this.frameSamples);
        this._fill = 0;
      }
    }
    return frames;
  }

  /** Drop the partial frame. */
  reset() {
    this._fill = 0;
  }
}

const STATS_KEPT = 256; // per-item counters remembered after an item leaves the queue

/** @typedef {{received: number, played: number, graceEnded: boolean}} Stat */

/**
 * @typedef {{started: string[], startedAt: number[], ended: string[], interrupted: string[]}} PullResult
 *   startedAt[i]: index in `out` of the first sample of started[i]; interrupted: items dropped by
 *   a flush whose fade finished during (or before) this pull.
 */

/**
 * The player's jitter buffer: queued items of 24 kHz PCM16, played in push order, resampled to
 * the output rate inside pull().
 *
 * Theory of operation. The head item waits until `prebufferMs` of it is queued, or it has waited
 * 150 ms with something queued, or another item is queued behind it (then it is complete); then
 * it plays. The read position is an exact fraction (integer numerator) of source samples,
 * advanced by sourceRate / outputRate per output sample, with Catmull-Rom cubic interpolation
 * (neighbours past the received audio repeat the last sample). `played(item)` is floor(read
 * position), clamped to what was received: the exact count of source samples the speaker was
 * given. When the head runs out of audio: if another item is queued it has ended and the next
 * one starts in the same pull; otherwise the head is dry — it waits (same start rule) for more of
 * its audio, and if more arrives that dry spell counts as one underrun; after `endGraceMs` dry
 * with nothing arriving it has ended. flush() fades the audible item out linearly over `fadeMs`
 * (played keeps counting through the fade: those samples were heard), then drops every item that
 * was queued; later audio for those items is ignored (still counted in `received`).
 */
export class PlaybackQueue {
  // queue state, set by reset(): declared here so their types are known to the checker
  /** @type {Entry[]} */ _items = [];
  /** @type {Map<string, Entry>} */ _live = new Map();
  /** @type {Map<string, Stat>} */ _stats = new Map();
  /** @type {Set<string>} */ _flushed = new Set();
  /** @type {string[]} */ _pendingInterrupted = [];
  _fadeLeft = 0;
  _underruns = 0;

  /**
   * @param {{outputRate: number, sourceRate?: number, prebufferMs?: number, fadeMs?: number,
   *   startWaitMs?: number, endGraceMs?: number}} options
   */
  constructor({ outputRate, sourceRate = 24000, prebufferMs = 100, fadeMs = 12, startWaitMs = 150, endGraceMs = 200 }) {
    if (!(outputRate > 0) || !(sourceRate > 0)) throw new RangeError("rates must be positive");
    this.outputRate = outputRate;
    this.sourceRate = sourceRate;
    if (!Number.isInteger(outputRate) || !Number.isInteger(sourceRate)) throw new RangeError("rates must be integers");
    // the read position is kept as an exact fraction num / den of source samples
    const g = gcd(sourceRate, outputRate);
    this._inc = sourceRate / g; // added to num per output sample
    this._den = outputRate / g;
    this._prebuffer = Math.round((prebufferMs * sourceRate) / 1000); // source samples
    this._startWait = Math.round((startWaitMs * outputRate) / 1000); // output samples
    this._endGrace = Math.round((endGraceMs * outputRate) / 1000); // output samples
    this._fadeSamples = Math.max(1, Math.round((fadeMs * outputRate) / 1000)); // output samples
    this.reset();
  }

  /** Drop everything, counters included, without a fade or a report. */
  reset() {
    /** @type {Entry[]} */
    this._items = [];
    /** @type {Map<string, Entry>} */
    this._live = new Map();
    /** @type {Map<string, {received: number, played: number, graceEnded: boolean}>} */
    this._stats = new Map();
    /** @type {Set<string>} */
    this._flushed = new Set();
    /** @type {string[]} */
    this._pendingInterrupted = [];
    this._fadeLeft = 0;
    this._underruns = 0;
  }

  /**
   * @param {string} itemId
   * @returns {Stat}
   */
  _stat(itemId) {
    let s = this._stats.get(itemId);
    if (!s) {
      s = { received: 0, played: 0, graceEnded: false };
      this._stats.set(itemId, s);
      if (this._stats.size > STATS_KEPT) {
        for (const key of this._stats.keys()) {
          if (!this._live.has(key)) {
            this._stats.delete(key);
            break;
          }
        }
      }
    }
    return s;
  }

  /**
   * Queue a chunk of an item's audio (copied). Chunks of an item already queued join it; a new id
   * queues behind everything else.
   * @param {string} itemId
   * @param {Int16Array} int16 24 kHz PCM16 (source rate)
   */
  push(itemId, int16) {
    const stat = this._stat(itemId);
    stat.received += int16.length;
    if (this._flushed.has(itemId) || int16.length === 0) return;
    let e = this._live.get(itemId);
    if (!e) {
      e = new Entry(itemId, stat.played, stat, this._den);
      if (stat.graceEnded) {
        // more audio after we had declared the item over: that was a long underrun
        this._underruns++;
        stat.graceEnded = false;
        e.everStarted = true;
      }
      this._items.push(e);
      this._live.set(itemId, e);
    } else if (e.dry) {
      this._underruns++;
      e.dry = false;
    }
    e.append(int16);
  }

  /**
   * Fill `out` (output rate) with the next samples; zeros where nothing plays.
   * @param {Float32Array} out
   * @returns {PullResult}
   */
  pull(out) {
    out.fill(0);
    /** @type {PullResult} */
    const res = { started: [], startedAt: [], ended: [], interrupted: this._pendingInterrupted };
    this._pendingInterrupted = [];
    const n = out.length;
    let i = 0;
    while (i < n) {
      const head = this._items[0];
      if (!head) break;
      if (!head.playing) {
        const avail = head.unread();
        if (this._fadeLeft > 0) {
          this._finishFlush(); // nothing audible to fade
          continue;
        }
        if (avail > 0 && (avail >= this._prebuffer || head.waited >= this._startWait || this._items.length > 1)) {
          head.playing = true;
          head.dry = false;
          head.waited = 0;
          if (!head.everStarted) {
            head.everStarted = true;
            res.started.push(head.id);
            res.startedAt.push(i);
          }
        } else if (avail === 0 && this._items.length > 1) {
          this._endHead(res, false);
          continue;
        } else {
          const rest = n - i;
          if (avail > 0) head.waited += rest;
          else if (head.dry) {
            head.dryFor += rest;
            if (head.dryFor >= this._endGrace) this._endHead(res, true);
          }
          break;
        }
      }
      // play the head item
      const data = head.data;
      const last = head.len - 1;
      const den = this._den;
      const inc = this._inc;
      const end = head.len * den;
      let num = head.num;
      while (i < n && num < end) {
        const k = Math.floor(num / den);
        const t = (num - k * den) / den;
        const y0 = data[k > 0 ? k - 1 : 0];
        const y1 = data[k];
        const y2 = data[k + 1 <= last ? k + 1 : last];
        const y3 = data[k + 2 <= last ? k + 2 : last];
        let v =
          y1 + 0.5 * t * (y2 - y0 + t * (2 * y0 - 5 * y1 + 4 * y2 - y3 + t * (3 * (y1 - y2) + y3 - y0)));
        if (this._fadeLeft > 0) {
          this._fadeLeft--;
          v *= this._fadeLeft / this._fadeSamples;
        }
        out[i++] = v;
        num += inc;
        if (this._fadeLeft === 0 && head.flushed) break;
      }
      head.num = num;
      head.syncPlayed();
      if (head.flushed && (this._fadeLeft === 0 || num >= end)) {
        this._finishFlush();
        continue;
      }
      if (num >= end) {
        head.playing = false;
        if (this._items.length > 1) this._endHead(res, false);
        else {
          head.dry = true;
          head.dryFor = 0;
        }
      }
      head.compact();
    }
    res.interrupted.push(...this._pendingInterrupted);
    this._pendingInterrupted = [];
    return res;
  }

  /**
   * @param {PullResult} res
   * @param {boolean} byGrace
   */
  _endHead(res, byGrace) {
    const head = this._items.shift();
    if (!head) return;
    this._live.delete(head.id);
    head.syncPlayed();
    head.stat.graceEnded = byGrace;
    res.ended.push(head.id);
  }

  _finishFlush() {
    this._fadeLeft = 0;
    const keep = [];
    for (const e of this._items) {
      if (e.flushed) {
        e.syncPlayed();
        this._live.delete(e.id);
        this._pendingInterrupted.push(e.id);
      } else keep.push(e);
    }
    this._items = keep;
  }

  /**
   * Fade out the audible item over fadeMs, then drop every item queued now; the next pull()
   * (or the one that finishes the fade) lists them in `interrupted`. Audio pushed later for those
   * items is ignored. With {fade: false} (or when nothing is audible) they are dropped at once.
   * @param {{fade?: boolean}} [options]
   */
  flush({ fade = true } = {}) {
    if (!this._items.length) return;
    for (const e of this._items) {
      e.flushed = true;
      this._flushed.add(e.id);
    }
    if (this._flushed.size > STATS_KEPT) {
      const drop = this._flushed.values().next().value;
      if (drop !== undefined) this._flushed.delete(drop);
    }
    const head = this._items[0];
    if (fade && head?.playing) {
      if (this._fadeLeft === 0) this._fadeLeft = this._fadeSamples;
    } else this._finishFlush();
  }

  /**
   * Source samples of the item played so far: floor of the read position, never above received.
   * @param {string} itemId
   * @returns {number}
   */
  played(itemId) {
    const e = this._live.get(itemId);
    if (e) e.syncPlayed();
    const s = this._stats.get(itemId);
    return s ? s.played : 0;
  }

  /**
   * Source samples of the item pushed so far (including audio ignored after a flush).
   * @param {string} itemId
   * @returns {number}
   */
  received(itemId) {
    const s = this._stats.get(itemId);
    return s ? s.received : 0;
  }

  /** @returns {string|null} the head item once it has started playing (also while dry or fading) */
  get playingItem() {
    const head = this._items[0];
    return head && head.everStarted ? head.id : null;
  }

  /** @returns {number} milliseconds of queued audio not yet played */
  get bufferedMs() {
    let s = 0;
    for (const e of this._items) s += e.unread();
    return (s * 1000) / this.sourceRate;
  }

  /** @returns {number} dry spells of an item that then received more audio */
  get underruns() {
    return this._underruns;
  }

  /** @returns {boolean} a flush fade is in progress */
  get fading() {
    return this._fadeLeft > 0;
  }
}

/** One queued item: its unread audio as floats, and an exact fractional read position. */
class Entry {
  /**
   * @param {string} id
   * @param {number} base source samples of the item before data[0]
   * @param {Stat} stat
   * @param {number} den the read position is num / den source samples into data
   */
  constructor(id, base, stat, den) {
    this.id = id;
    this.stat = stat;
    this.base = base;
    this.den = den;
    this.data = new Float32Array(4800);
    this.len = 0;
    this.num = 0;
    this.playing = false;
    this.everStarted = false;
    this.dry = false;
    this.dryFor = 0;
    this.waited = 0;
    this.flushed = false;
  }

  /** @param {Int16Array} int16 */
  append(int16) {
    if (this.len + int16.length > this.data.length) {
      const bigger = new Float32Array(Math.max(this.data.length * 2, this.len + int16.length));
      bigger.set(this.data.subarray(0, this.len));
      this.data = bigger;
    }
    const d = this.data;
    let j = this.len;
    for (let i = 0; i < int16.length; i++) d[j++] = int16[i] / 32768;
    this.len = j;
  }

  /** Whole source samples read so far (floor of the read position), at most len. */
  read() {
    return Math.min(Math.floor(this.num / this.den), this.len);
  }

  unread() {
    return this.len - this.read();
  }

  syncPlayed() {
    this.stat.played = this.base + this.read();
  }

  /** Drop consumed audio (keeping 2 samples for the interpolation) once a lot has accumulated. */
  compact() {
    const shift = this.read() - 2;
    if (shift < 48000) return;
    this.data.copyWithin(0, shift, this.len);
    this.len -= shift;
    this.num -= shift * this.den;
    this.base += shift;
  }
}

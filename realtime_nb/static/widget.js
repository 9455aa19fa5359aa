// src/bridge.js
var PROTOCOL_VERSION = 1;
var READY = "ready";
var MIC_FRAME = "mic_frame";
var MIC_STATE = "mic_state";
var PTT = "ptt";
var PLAYED = "played";
var COMMAND = "command";
var GET_EVENT = "get_event";
var PING = "ping";
var UPDATE_SESSION = "update_session";
var ROWS = "rows";
var AUDIO = "audio";
var FLUSH = "flush";
var EVENT_JSON = "event_json";
var PONG = "pong";
var TURNS = "turns";
var KERNEL_TO_BROWSER = [ROWS, AUDIO, FLUSH, EVENT_JSON, PONG, TURNS];
var MIC_ERRORS = [
  "insecure_context",
  "no_media_devices",
  "permission_denied",
  "vscode_webview",
  "no_device",
  "device_busy",
  "audio_context",
  "unknown"
];
function asBytes(buf) {
  if (buf instanceof Uint8Array) return buf;
  if (buf instanceof ArrayBuffer) return new Uint8Array(buf);
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}
function asInt16(buf) {
  const bytes = asBytes(buf);
  const n2 = bytes.byteLength >> 1;
  if (bytes.byteOffset % 2 === 0) return new Int16Array(bytes.buffer, bytes.byteOffset, n2);
  return new Int16Array(bytes.slice(0, n2 * 2).buffer);
}
function bufferKind(buf) {
  if (buf instanceof DataView) return "DataView";
  if (buf instanceof Uint8Array) return "Uint8Array";
  if (buf instanceof ArrayBuffer) return "ArrayBuffer";
  return typeof buf;
}

// src/capture.worklet.js
var capture_worklet_default = '"use strict";\n(() => {\n  var __defProp = Object.defineProperty;\n  var __defNormalProp = (obj, key, value) => key in obj ? __defProp(obj, key, { enumerable: true, configurable: true, writable: true, value }) : obj[key] = value;\n  var __publicField = (obj, key, value) => __defNormalProp(obj, typeof key !== "symbol" ? key + "" : key, value);\n\n  // src/audio-math.js\n  function besselI0(x) {\n    let sum = 1;\n    let term = 1;\n    const q = x * x / 4;\n    for (let k = 1; k < 60; k++) {\n      term *= q / (k * k);\n      sum += term;\n      if (term < sum * 1e-12) break;\n    }\n    return sum;\n  }\n  function gcd(a, b) {\n    while (b) [a, b] = [b, a % b];\n    return a;\n  }\n  var KAISER_BETA = 8;\n  var MAX_PHASES = 1024;\n  var StreamingResampler = class {\n    /**\n     * @param {number} fromRate input sample rate (Hz)\n     * @param {number} toRate output sample rate (Hz)\n     * @param {{taps?: number, cutoff?: number}} [options] taps: half-width in periods of the lower\n     *   rate; cutoff: fraction of the lower rate where the response is \u22126 dB\n     */\n    constructor(fromRate, toRate, { taps = 32, cutoff = 0.45 } = {}) {\n      // stream state, set by reset(): declared here so their types are known to the checker\n      /** @type {Float32Array} */\n      __publicField(this, "_buf", new Float32Array(0));\n      /** samples of history at the front of _buf */\n      __publicField(this, "_hist", 0);\n      /** input samples fed so far */\n      __publicField(this, "_consumed", 0);\n      /** absolute input index of floor(position of the next output sample) */\n      __publicField(this, "_base", 0);\n      /** numerator of the fractional position, in [0, phases) */\n      __publicField(this, "_frac", 0);\n      if (!(fromRate > 0 && toRate > 0) || !Number.isInteger(fromRate) || !Number.isInteger(toRate)) {\n        throw new RangeError(`sample rates must be positive integers, got ${fromRate} and ${toRate}`);\n      }\n      this.fromRate = fromRate;\n      this.toRate = toRate;\n      const g = gcd(fromRate, toRate);\n      this._step = fromRate / g;\n      this._phases = toRate / g;\n      this._passthrough = fromRate === toRate;\n      const low = Math.min(fromRate, toRate);\n      const half = Math.max(1, Math.ceil(taps * fromRate / low));\n      this._half = half;\n      this._len = 2 * half;\n      const rows = Math.min(this._phases, MAX_PHASES);\n      this._rows = rows;\n      const fc = cutoff * low / fromRate;\n      const i0b = besselI0(KAISER_BETA);\n      const table = new Float32Array(rows * this._len);\n      for (let p = 0; p < rows; p++) {\n        const frac = p / rows;\n        let sum = 0;\n        const row = new Float64Array(this._len);\n        for (let j = 0; j < this._len; j++) {\n          const d = frac + j - half;\n          const x = d / half;\n          const w = Math.abs(x) >= 1 ? 0 : besselI0(KAISER_BETA * Math.sqrt(1 - x * x)) / i0b;\n          const a = 2 * fc * d;\n          const s = a === 0 ? 1 : Math.sin(Math.PI * a) / (Math.PI * a);\n          row[j] = 2 * fc * s * w;\n          sum += row[j];\n        }\n        for (let j = 0; j < this._len; j++) table[p * this._len + j] = row[j] / sum;\n      }\n      this._table = table;\n      this.reset();\n    }\n    /** Input samples of delay between a feature in the input and the same feature in the output. */\n    get delay() {\n      return this._passthrough ? 0 : this._half;\n    }\n    /** Forget all history, as if newly constructed. */\n    reset() {\n      this._buf = new Float32Array(this._len - 1 + 1024);\n      this._hist = this._len - 1;\n      this._consumed = 0;\n      this._base = 0;\n      this._frac = 0;\n    }\n    /**\n     * Resample the next chunk of the stream.\n     * @param {Float32Array} input\n     * @returns {Float32Array} the output samples that this chunk completes (possibly empty)\n     */\n    process(input) {\n      if (this._passthrough) return Float32Array.from(input);\n      const histLen = this._len - 1;\n      const need = histLen + input.length;\n      if (this._buf.length < need) {\n        const bigger = new Float32Array(need * 2);\n        bigger.set(this._buf.subarray(0, histLen));\n        this._buf = bigger;\n      }\n      const buf = this._buf;\n      buf.set(input, histLen);\n      const start = this._consumed;\n      const end = start + input.length;\n      const count = Math.max(0, Math.ceil(((end - this._base) * this._phases - this._frac) / this._step));\n      const out = new Float32Array(count);\n      const len = this._len;\n      const table = this._table;\n      const rows = this._rows;\n      const phases = this._phases;\n      const step = this._step;\n      let base = this._base;\n      let frac = this._frac;\n      for (let n = 0; n < count; n++) {\n        const row = rows === phases ? frac : Math.min(rows - 1, Math.round(frac * rows / phases));\n        const off = row * len;\n        let idx = base - start + histLen;\n        let acc = 0;\n        for (let j = 0; j < len; j++) acc += table[off + j] * buf[idx - j];\n        out[n] = acc;\n        frac += step;\n        if (frac >= phases) {\n          base += Math.floor(frac / phases);\n          frac %= phases;\n        }\n      }\n      this._base = base;\n      this._frac = frac;\n      this._consumed = end;\n      buf.copyWithin(0, input.length, input.length + histLen);\n      return out;\n    }\n  };\n  function floatToPcm16(f32) {\n    const out = new Int16Array(f32.length);\n    for (let i = 0; i < f32.length; i++) {\n      const v = Math.round(f32[i] * 32768);\n      out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v || 0;\n    }\n    return out;\n  }\n  function rms(f32) {\n    if (!f32.length) return 0;\n    let s = 0;\n    for (let i = 0; i < f32.length; i++) s += f32[i] * f32[i];\n    return Math.min(1, Math.sqrt(s / f32.length));\n  }\n  var FrameAssembler = class {\n    /** @param {number} frameSamples samples per frame (960 = 40 ms at 24 kHz) */\n    constructor(frameSamples) {\n      if (!(frameSamples > 0) || !Number.isInteger(frameSamples)) {\n        throw new RangeError(`frameSamples must be a positive integer, got ${frameSamples}`);\n      }\n      this.frameSamples = frameSamples;\n      this._cur = new Float32Array(frameSamples);\n      this._fill = 0;\n    }\n    /** Samples waiting for the next frame to complete. */\n    get pending() {\n      return this._fill;\n    }\n    /**\n     * Add samples; return the frames they complete, in order (each a new array).\n     * @param {Float32Array} f32\n     * @returns {Float32Array[]}\n     */\n    push(f32) {\n      const frames = [];\n      let i = 0;\n      while (i < f32.length) {\n        const take = Math.min(this.frameSamples - this._fill, f32.length - i);\n        this._cur.set(f32.subarray(i, i + take), this._fill);\n        this._fill += take;\n        i += take;\n        if (this._fill === this.frameSamples) {\n          frames.push(this._cur);\n          this._cur = new Float32Array(this.frameSamples);\n          this._fill = 0;\n        }\n      }\n      return frames;\n    }\n    /** Drop the partial frame. */\n    reset() {\n      this._fill = 0;\n    }\n  };\n\n  // src/capture.worklet.js\n  var WIRE_RATE = 24e3;\n  var FRAME_SAMPLES = 960;\n  var CaptureProcessor = class extends AudioWorkletProcessor {\n    constructor() {\n      super();\n      this.resampler = new StreamingResampler(Math.round(sampleRate), WIRE_RATE);\n      this.frames = new FrameAssembler(FRAME_SAMPLES);\n      this.mono = new Float32Array(128);\n      this.firstFrame = -1;\n      this.outCount = 0;\n      this.alive = true;\n      this.port.onmessage = (e) => {\n        const cmd = e.data && e.data.cmd;\n        if (cmd === "stop") this.alive = false;\n        else if (cmd === "reset") {\n          this.resampler.reset();\n          this.frames.reset();\n          this.firstFrame = -1;\n          this.outCount = 0;\n        }\n      };\n    }\n    /**\n     * @param {Float32Array[][]} inputs\n     * @returns {boolean}\n     */\n    process(inputs) {\n      if (!this.alive) return false;\n      const channels = inputs[0] || [];\n      const n = channels.length ? channels[0].length : 128;\n      if (this.mono.length !== n) this.mono = new Float32Array(n);\n      const mono = this.mono;\n      if (channels.length === 1) mono.set(channels[0]);\n      else {\n        mono.fill(0);\n        for (const ch of channels) for (let i = 0; i < n; i++) mono[i] += ch[i] / channels.length;\n      }\n      if (this.firstFrame < 0) this.firstFrame = currentFrame;\n      const frames = this.frames.push(this.resampler.process(mono));\n      for (const f of frames) {\n        this.outCount += FRAME_SAMPLES;\n        const lastInput = this.firstFrame + (this.outCount - 1) * sampleRate / WIRE_RATE - this.resampler.delay;\n        const pcm = floatToPcm16(f);\n        this.port.postMessage({ frame: pcm, level: rms(f), endTime: lastInput / sampleRate }, [pcm.buffer]);\n      }\n      return true;\n    }\n  };\n  registerProcessor("rtnb-capture", CaptureProcessor);\n})();\n';

// src/player.worklet.js
var player_worklet_default = '"use strict";\n(() => {\n  var __defProp = Object.defineProperty;\n  var __defNormalProp = (obj, key, value) => key in obj ? __defProp(obj, key, { enumerable: true, configurable: true, writable: true, value }) : obj[key] = value;\n  var __publicField = (obj, key, value) => __defNormalProp(obj, typeof key !== "symbol" ? key + "" : key, value);\n\n  // src/audio-math.js\n  function gcd(a, b) {\n    while (b) [a, b] = [b, a % b];\n    return a;\n  }\n  var STATS_KEPT = 256;\n  var PlaybackQueue = class {\n    /**\n     * @param {{outputRate: number, sourceRate?: number, prebufferMs?: number, fadeMs?: number,\n     *   startWaitMs?: number, endGraceMs?: number}} options\n     */\n    constructor({ outputRate, sourceRate = 24e3, prebufferMs = 100, fadeMs = 12, startWaitMs = 150, endGraceMs = 200 }) {\n      // queue state, set by reset(): declared here so their types are known to the checker\n      /** @type {Entry[]} */\n      __publicField(this, "_items", []);\n      /** @type {Map<string, Entry>} */\n      __publicField(this, "_live", /* @__PURE__ */ new Map());\n      /** @type {Map<string, Stat>} */\n      __publicField(this, "_stats", /* @__PURE__ */ new Map());\n      /** @type {Set<string>} */\n      __publicField(this, "_flushed", /* @__PURE__ */ new Set());\n      /** @type {string[]} */\n      __publicField(this, "_pendingInterrupted", []);\n      __publicField(this, "_fadeLeft", 0);\n      __publicField(this, "_underruns", 0);\n      if (!(outputRate > 0) || !(sourceRate > 0)) throw new RangeError("rates must be positive");\n      this.outputRate = outputRate;\n      this.sourceRate = sourceRate;\n      if (!Number.isInteger(outputRate) || !Number.isInteger(sourceRate)) throw new RangeError("rates must be integers");\n      const g = gcd(sourceRate, outputRate);\n      this._inc = sourceRate / g;\n      this._den = outputRate / g;\n      this._prebuffer = Math.round(prebufferMs * sourceRate / 1e3);\n      this._startWait = Math.round(startWaitMs * outputRate / 1e3);\n      this._endGrace = Math.round(endGraceMs * outputRate / 1e3);\n      this._fadeSamples = Math.max(1, Math.round(fadeMs * outputRate / 1e3));\n      this.reset();\n    }\n    /** Drop everything, counters included, without a fade or a report. */\n    reset() {\n      this._items = [];\n      this._live = /* @__PURE__ */ new Map();\n      this._stats = /* @__PURE__ */ new Map();\n      this._flushed = /* @__PURE__ */ new Set();\n      this._pendingInterrupted = [];\n      this._fadeLeft = 0;\n      this._underruns = 0;\n    }\n    /**\n     * @param {string} itemId\n     * @returns {Stat}\n     */\n    _stat(itemId) {\n      let s = this._stats.get(itemId);\n      if (!s) {\n        s = { received: 0, played: 0, graceEnded: false };\n        this._stats.set(itemId, s);\n        if (this._stats.size > STATS_KEPT) {\n          for (const key of this._stats.keys()) {\n            if (!this._live.has(key)) {\n              this._stats.delete(key);\n              break;\n            }\n          }\n        }\n      }\n      return s;\n    }\n    /**\n     * Queue a chunk of an item\'s audio (copied). Chunks of an item already queued join it; a new id\n     * queues behind everything else.\n     * @param {string} itemId\n     * @param {Int16Array} int16 24 kHz PCM16 (source rate)\n     */\n    push(itemId, int16) {\n      const stat = this._stat(itemId);\n      stat.received += int16.length;\n      if (this._flushed.has(itemId) || int16.length === 0) return;\n      let e = this._live.get(itemId);\n      if (!e) {\n        e = new Entry(itemId, stat.played, stat, this._den);\n        if (stat.graceEnded) {\n          this._underruns++;\n          stat.graceEnded = false;\n          e.everStarted = true;\n        }\n        this._items.push(e);\n        this._live.set(itemId, e);\n      } else if (e.dry) {\n        this._underruns++;\n        e.dry = false;\n      }\n      e.append(int16);\n    }\n    /**\n     * Fill `out` (output rate) with the next samples; zeros where nothing plays.\n     * @param {Float32Array} out\n     * @returns {PullResult}\n     */\n    pull(out) {\n      out.fill(0);\n      const res = { started: [], startedAt: [], ended: [], interrupted: this._pendingInterrupted };\n      this._pendingInterrupted = [];\n      const n = out.length;\n      let i = 0;\n      while (i < n) {\n        const head = this._items[0];\n        if (!head) break;\n        if (!head.playing) {\n          const avail = head.unread();\n          if (this._fadeLeft > 0) {\n            this._finishFlush();\n            continue;\n          }\n          if (avail > 0 && (avail >= this._prebuffer || head.waited >= this._startWait || this._items.length > 1)) {\n            head.playing = true;\n            head.dry = false;\n            head.waited = 0;\n            if (!head.everStarted) {\n              head.everStarted = true;\n              res.started.push(head.id);\n              res.startedAt.push(i);\n            }\n          } else if (avail === 0 && this._items.length > 1) {\n            this._endHead(res, false);\n            continue;\n          } else {\n            const rest = n - i;\n            if (avail > 0) head.waited += rest;\n            else if (head.dry) {\n              head.dryFor += rest;\n              if (head.dryFor >= this._endGrace) this._endHead(res, true);\n            }\n            break;\n          }\n        }\n        const data = head.data;\n        const last = head.len - 1;\n        const den = this._den;\n        const inc = this._inc;\n        const end = head.len * den;\n        let num = head.num;\n        while (i < n && num < end) {\n          const k = Math.floor(num / den);\n          const t = (num - k * den) / den;\n          const y0 = data[k > 0 ? k - 1 : 0];\n          const y1 = data[k];\n          const y2 = data[k + 1 <= last ? k + 1 : last];\n          const y3 = data[k + 2 <= last ? k + 2 : last];\n          let v = y1 + 0.5 * t * (y2 - y0 + t * (2 * y0 - 5 * y1 + 4 * y2 - y3 + t * (3 * (y1 - y2) + y3 - y0)));\n          if (this._fadeLeft > 0) {\n            this._fadeLeft--;\n            v *= this._fadeLeft / this._fadeSamples;\n          }\n          out[i++] = v;\n          num += inc;\n          if (this._fadeLeft === 0 && head.flushed) break;\n        }\n        head.num = num;\n        head.syncPlayed();\n        if (head.flushed && (this._fadeLeft === 0 || num >= end)) {\n          this._finishFlush();\n          continue;\n        }\n        if (num >= end) {\n          head.playing = false;\n          if (this._items.length > 1) this._endHead(res, false);\n          else {\n            head.dry = true;\n            head.dryFor = 0;\n          }\n        }\n        head.compact();\n      }\n      res.interrupted.push(...this._pendingInterrupted);\n      this._pendingInterrupted = [];\n      return res;\n    }\n    /**\n     * @param {PullResult} res\n     * @param {boolean} byGrace\n     */\n    _endHead(res, byGrace) {\n      const head = this._items.shift();\n      if (!head) return;\n      this._live.delete(head.id);\n      head.syncPlayed();\n      head.stat.graceEnded = byGrace;\n      res.ended.push(head.id);\n    }\n    _finishFlush() {\n      this._fadeLeft = 0;\n      const keep = [];\n      for (const e of this._items) {\n        if (e.flushed) {\n          e.syncPlayed();\n          this._live.delete(e.id);\n          this._pendingInterrupted.push(e.id);\n        } else keep.push(e);\n      }\n      this._items = keep;\n    }\n    /**\n     * Fade out the audible item over fadeMs, then drop every item queued now; the next pull()\n     * (or the one that finishes the fade) lists them in `interrupted`. Audio pushed later for those\n     * items is ignored. With {fade: false} (or when nothing is audible) they are dropped at once.\n     * @param {{fade?: boolean}} [options]\n     */\n    flush({ fade = true } = {}) {\n      if (!this._items.length) return;\n      for (const e of this._items) {\n        e.flushed = true;\n        this._flushed.add(e.id);\n      }\n      if (this._flushed.size > STATS_KEPT) {\n        const drop = this._flushed.values().next().value;\n        if (drop !== void 0) this._flushed.delete(drop);\n      }\n      const head = this._items[0];\n      if (fade && head?.playing) {\n        if (this._fadeLeft === 0) this._fadeLeft = this._fadeSamples;\n      } else this._finishFlush();\n    }\n    /**\n     * Source samples of the item played so far: floor of the read position, never above received.\n     * @param {string} itemId\n     * @returns {number}\n     */\n    played(itemId) {\n      const e = this._live.get(itemId);\n      if (e) e.syncPlayed();\n      const s = this._stats.get(itemId);\n      return s ? s.played : 0;\n    }\n    /**\n     * Source samples of the item pushed so far (including audio ignored after a flush).\n     * @param {string} itemId\n     * @returns {number}\n     */\n    received(itemId) {\n      const s = this._stats.get(itemId);\n      return s ? s.received : 0;\n    }\n    /** @returns {string|null} the head item once it has started playing (also while dry or fading) */\n    get playingItem() {\n      const head = this._items[0];\n      return head && head.everStarted ? head.id : null;\n    }\n    /** @returns {number} milliseconds of queued audio not yet played */\n    get bufferedMs() {\n      let s = 0;\n      for (const e of this._items) s += e.unread();\n      return s * 1e3 / this.sourceRate;\n    }\n    /** @returns {number} dry spells of an item that then received more audio */\n    get underruns() {\n      return this._underruns;\n    }\n    /** @returns {boolean} a flush fade is in progress */\n    get fading() {\n      return this._fadeLeft > 0;\n    }\n  };\n  var Entry = class {\n    /**\n     * @param {string} id\n     * @param {number} base source samples of the item before data[0]\n     * @param {Stat} stat\n     * @param {number} den the read position is num / den source samples into data\n     */\n    constructor(id, base, stat, den) {\n      this.id = id;\n      this.stat = stat;\n      this.base = base;\n      this.den = den;\n      this.data = new Float32Array(4800);\n      this.len = 0;\n      this.num = 0;\n      this.playing = false;\n      this.everStarted = false;\n      this.dry = false;\n      this.dryFor = 0;\n      this.waited = 0;\n      this.flushed = false;\n    }\n    /** @param {Int16Array} int16 */\n    append(int16) {\n      if (this.len + int16.length > this.data.length) {\n        const bigger = new Float32Array(Math.max(this.data.length * 2, this.len + int16.length));\n        bigger.set(this.data.subarray(0, this.len));\n        this.data = bigger;\n      }\n      const d = this.data;\n      let j = this.len;\n      for (let i = 0; i < int16.length; i++) d[j++] = int16[i] / 32768;\n      this.len = j;\n    }\n    /** Whole source samples read so far (floor of the read position), at most len. */\n    read() {\n      return Math.min(Math.floor(this.num / this.den), this.len);\n    }\n    unread() {\n      return this.len - this.read();\n    }\n    syncPlayed() {\n      this.stat.played = this.base + this.read();\n    }\n    /** Drop consumed audio (keeping 2 samples for the interpolation) once a lot has accumulated. */\n    compact() {\n      const shift = this.read() - 2;\n      if (shift < 48e3) return;\n      this.data.copyWithin(0, shift, this.len);\n      this.len -= shift;\n      this.num -= shift * this.den;\n      this.base += shift;\n    }\n  };\n\n  // src/player.worklet.js\n  var MAX_FIRST_TIMES = 256;\n  var PlayerProcessor = class extends AudioWorkletProcessor {\n    constructor() {\n      super();\n      this.queue = new PlaybackQueue({ outputRate: Math.round(sampleRate) });\n      this.firstTime = /* @__PURE__ */ new Map();\n      this.progressEvery = Math.round(sampleRate * 0.1);\n      this.levelEvery = Math.round(sampleRate * 0.05);\n      this.sinceProgress = 0;\n      this.sinceLevel = 0;\n      this.sumSquares = 0;\n      this.lastReported = /* @__PURE__ */ new Map();\n      this.port.onmessage = (e) => this.onMessage(e.data || {});\n    }\n    /** @param {{cmd?: string, item?: unknown, pcm?: Int16Array, fade?: boolean}} msg */\n    onMessage(msg) {\n      if (msg.cmd === "push" && msg.pcm) this.queue.push(String(msg.item), msg.pcm);\n      else if (msg.cmd === "flush") {\n        this.queue.flush({ fade: msg.fade !== false });\n        for (const id of this.queue.pull(new Float32Array(0)).interrupted) this.report(id, "interrupted");\n      } else if (msg.cmd === "reset") {\n        this.queue.reset();\n        this.firstTime.clear();\n        this.lastReported.clear();\n      }\n    }\n    /**\n     * @param {string} id\n     * @param {"progress" | "interrupted" | "ended"} reason\n     */\n    report(id, reason) {\n      const q = this.queue;\n      const samples = q.played(id);\n      this.lastReported.set(id, samples);\n      if (reason !== "progress") this.lastReported.delete(id);\n      const t = this.firstTime.get(id);\n      this.port.postMessage({\n        type: "played",\n        item_id: id,\n        samples,\n        received: q.received(id),\n        reason,\n        t_first: t === void 0 ? null : t\n      });\n    }\n    /**\n     * @param {Float32Array[][]} inputs\n     * @param {Float32Array[][]} outputs\n     * @returns {boolean}\n     */\n    process(inputs, outputs) {\n      const channels = outputs[0];\n      if (!channels || !channels.length) return true;\n      const out = channels[0];\n      const res = this.queue.pull(out);\n      for (let c = 1; c < channels.length; c++) channels[c].set(out);\n      res.started.forEach((id, k) => {\n        if (!this.firstTime.has(id)) {\n          this.firstTime.set(id, currentTime + res.startedAt[k] / sampleRate);\n          const oldest = this.firstTime.keys().next().value;\n          if (this.firstTime.size > MAX_FIRST_TIMES && oldest !== void 0) this.firstTime.delete(oldest);\n        }\n      });\n      for (const id of res.interrupted) this.report(id, "interrupted");\n      for (const id of res.ended) this.report(id, "ended");\n      this.sinceProgress += out.length;\n      if (this.sinceProgress >= this.progressEvery) {\n        this.sinceProgress = 0;\n        const id = this.queue.playingItem;\n        if (id !== null && this.queue.played(id) !== this.lastReported.get(id)) this.report(id, "progress");\n      }\n      for (let i = 0; i < out.length; i++) this.sumSquares += out[i] * out[i];\n      this.sinceLevel += out.length;\n      if (this.sinceLevel >= this.levelEvery) {\n        this.port.postMessage({\n          type: "level",\n          value: Math.min(1, Math.sqrt(this.sumSquares / this.sinceLevel)),\n          underruns: this.queue.underruns,\n          buffered_ms: this.queue.bufferedMs,\n          playing_item: this.queue.playingItem\n        });\n        this.sinceLevel = 0;\n        this.sumSquares = 0;\n      }\n      return true;\n    }\n  };\n  registerProcessor("rtnb-player", PlayerProcessor);\n})();\n';

// src/audio-context.js
var shared = null;
async function addModule(ctx, source) {
  const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
  try {
    await ctx.audioWorklet.addModule(url);
  } finally {
    URL.revokeObjectURL(url);
  }
}
async function getAudio() {
  if (shared && shared.ctx.state !== "closed") return shared;
  const Ctor = globalThis.AudioContext || /** @type {any} */
  globalThis.webkitAudioContext;
  if (!Ctor) throw new Error("This browser has no Web Audio (AudioContext).");
  const ctx = new Ctor({ latencyHint: "interactive" });
  const ready = (async () => {
    if (!ctx.audioWorklet) {
      throw new Error(
        "AudioWorklet is unavailable (it needs a secure context: open the notebook over https or http://localhost)."
      );
    }
    await addModule(ctx, capture_worklet_default);
    await addModule(ctx, player_worklet_default);
  })();
  ready.catch(() => {
  });
  shared = { ctx, ready };
  return shared;
}
function contextTimeToEpochMs(ctx, t) {
  const origin = performance.timeOrigin;
  const ac = (
    /** @type {AudioContext} */
    ctx
  );
  if (typeof ac.getOutputTimestamp === "function") {
    const ts = ac.getOutputTimestamp();
    if (ts && ts.performanceTime && ts.contextTime !== void 0 && ts.performanceTime > 0) {
      return origin + ts.performanceTime + (t - ts.contextTime) * 1e3;
    }
  }
  const latency = ac.outputLatency || ac.baseLatency || 0;
  return origin + performance.now() + (t - ctx.currentTime + latency) * 1e3;
}

// src/mic.js
var MESSAGES = {
  insecure_context: "The microphone needs a secure page: open the notebook over https or http://localhost; remote http gives browsers no microphone (for a remote server, tunnel it, e.g. ssh -L 8888:localhost:8888 host, and open http://localhost:8888).",
  no_media_devices: "This browser offers no microphone API (navigator.mediaDevices is missing): use a current Chrome, Edge, Firefox or Safari, or send audio from a cell with w.send_audio(...).",
  permission_denied: "The browser blocked the microphone. Allow microphone access for this site (the icon in the address bar, or the site's settings) and press the mic button again; if the notebook is embedded in another page, that page must allow the microphone too.",
  vscode_webview: "VS Code notebooks cannot use the microphone: open the notebook in JupyterLab or Notebook in a browser, or send audio from a cell with w.send_audio(...).",
  no_device: "No microphone was found (or none matches the requested settings): connect one or choose one in the system sound settings, then try again.",
  device_busy: "The microphone could not be opened: another application may be using it, or the operating system blocks this browser from it (check its privacy settings). Free it and try again.",
  audio_context: "Audio processing could not start in this page (AudioContext/AudioWorklet failed). Reload the page; if it keeps failing, try another browser.",
  unknown: "The microphone failed."
};
var MicError = class extends Error {
  /**
   * @param {MicErrorCode} code
   * @param {string} [message] defaults to the standard advice for the code
   * @param {{cause?: unknown}} [options]
   */
  constructor(code, message, options) {
    super(message || MESSAGES[code] || MESSAGES.unknown, options);
    this.name = "MicError";
    this.code = MIC_ERRORS.includes(code) ? code : "unknown";
  }
};
function isVsCodeWebview() {
  const g = (
    /** @type {any} */
    globalThis
  );
  if (typeof g.acquireVsCodeApi === "function") return true;
  const loc = g.location;
  if (loc && (String(loc.protocol).startsWith("vscode-webview") || String(loc.origin).startsWith("vscode-webview"))) {
    return true;
  }
  const ua = g.navigator && g.navigator.userAgent || "";
  return /\bCode\/\d/.test(ua) && /Electron\//.test(ua);
}
function checkMicSupport() {
  const g = (
    /** @type {any} */
    globalThis
  );
  if (isVsCodeWebview()) return new MicError("vscode_webview");
  if (g.isSecureContext === false) return new MicError("insecure_context");
  const md = g.navigator && g.navigator.mediaDevices;
  if (!md || typeof md.getUserMedia !== "function") return new MicError("no_media_devices");
  return null;
}
function classifyMicError(err) {
  if (err instanceof MicError) return err;
  const e = (
    /** @type {{name?: string, message?: string, constraint?: string}} */
    err || {}
  );
  const name = e.name || "";
  const detail = `${name}${e.message ? `: ${e.message}` : ""}`;
  switch (name) {
    case "NotAllowedError":
    case "PermissionDeniedError":
    // old Chrome
    case "SecurityError":
      if (isVsCodeWebview()) return new MicError("vscode_webview", void 0, { cause: err });
      return new MicError("permission_denied", void 0, { cause: err });
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
      return new MicError("device_busy", void 0, { cause: err });
    case "InvalidStateError":
    case "NotSupportedError":
      return new MicError("audio_context", `${MESSAGES.audio_context} (${detail})`, { cause: err });
    default:
      return new MicError("unknown", `${MESSAGES.unknown} ${detail || String(err)}`.trim(), { cause: err });
  }
}
var DEFAULT_CONSTRAINTS = Object.freeze({
  echoCancellation: true,
  noiseSuppression: true,
  autoGainControl: true
});
var Mic = class {
  /**
   * @param {AudioContext} ctx
   * @param {{constraints?: MediaTrackConstraints}} [options] passed to getUserMedia as `audio`
   *   (tests turn echoCancellation, noiseSuppression and autoGainControl off to compare audio)
   */
  constructor(ctx, { constraints = DEFAULT_CONSTRAINTS } = {}) {
    this.ctx = ctx;
    this.constraints = { ...constraints };
    this.muted = false;
    this._stream = null;
    this._node = null;
    this._nodes = [];
    this._frameCbs = /* @__PURE__ */ new Set();
    this._endedCbs = /* @__PURE__ */ new Set();
    this._seq = 0;
    this._level = 0;
    this._inputLatency = 0;
    this._generation = 0;
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
    if (ctx.state !== "running" && typeof ctx.resume === "function") ctx.resume().catch(() => {
    });
    const generation = ++this._generation;
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: { ...this.constraints } });
    } catch (err) {
      throw classifyMicError(err);
    }
    if (generation !== this._generation) {
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
        channelInterpretation: "speakers"
      });
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
    this._inputLatency = Number(
      /** @type {any} */
      settings.latency
    ) || 0;
    for (const track2 of stream.getAudioTracks()) {
      track2.addEventListener("ended", () => {
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
      }
      this._node.port.close();
    }
    for (const n2 of this._nodes) {
      try {
        n2.disconnect();
      } catch {
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
    const ctx = (
      /** @type {any} */
      this.ctx
    );
    const out = ctx.outputLatency || ctx.baseLatency || 0;
    const t = contextTimeToEpochMs(this.ctx, endTime) - (out + this._inputLatency) * 1e3;
    return Math.min(t, performance.timeOrigin + performance.now());
  }
};
function describe(err) {
  const e = (
    /** @type {{name?: string, message?: string}} */
    err || {}
  );
  return e.name || e.message ? `${e.name || "Error"}: ${e.message || ""}` : String(err);
}

// src/dom.js
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === void 0 || v === false) continue;
    if (k === "class") el.className = String(v);
    else if (k === "rtnb") el.dataset.rtnb = String(v);
    else if (k === "hidden") el.hidden = true;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) if (c !== null && c !== void 0 && c !== false) el.append(c);
  return el;
}

// src/guard.js
function makeGuard(onError) {
  return (fn) => (...args) => {
    try {
      const r = (
        /** @type {any} */
        fn(...args)
      );
      if (r && typeof r.then === "function") r.catch((e) => onError(e));
    } catch (e) {
      onError(e);
    }
  };
}

// src/kernel-link.js
var EVENT_JSON_TIMEOUT_MS = 5e3;
var PRE_READY_QUEUE = 200;
var KernelLink = class {
  /**
   * @param {import("./model.js").Model} model
   * @param {AbortSignal} signal aborted when the view closes: nothing is sent after that
   */
  constructor(model, signal) {
    this.model = model;
    this.signal = signal;
    this.readySent = false;
    this.queued = [];
    this.nextId = 1 + Math.floor(Math.random() * 1e9);
    this.pending = /* @__PURE__ */ new Map();
    this.sendFailed = false;
  }
  /**
   * model.send, noting a failure instead of throwing: after a kernel restart the comm is closed
   * and every send would otherwise raise into the banner, once per mic frame.
   * @param {object} msg
   * @param {ArrayBuffer[]} [buffers]
   */
  post(msg, buffers) {
    if (this.sendFailed) return;
    try {
      this.model.send(msg, void 0, buffers);
    } catch (e) {
      this.sendFailed = true;
      console.warn("realtime-nb: the kernel link is closed", e);
    }
  }
  /** A fresh request id; event requests and pings share the sequence. */
  newRequestId() {
    return this.nextId++;
  }
  /**
   * Send `ready` (the view's first message), then whatever was queued before it.
   * @param {object} fields the rest of the `ready` message (view_id, sample_rate, ...)
   */
  sendReady(fields) {
    this.post({ type: READY, version: PROTOCOL_VERSION, ...fields });
    this.readySent = true;
    for (const [msg, buffers] of this.queued.splice(0)) this.post(msg, buffers);
  }
  /**
   * Send to the kernel (queued until `ready` has gone out; dropped once the view is closed).
   * @param {object} msg
   * @param {ArrayBuffer[]} [buffers]
   */
  send(msg, buffers) {
    if (this.signal.aborted) return;
    if (!this.readySent) {
      if (this.queued.length < PRE_READY_QUEUE) this.queued.push([msg, buffers]);
      return;
    }
    this.post(msg, buffers);
  }
  /**
   * Send now, not queued: microphone frames, which are worth nothing late.
   * @param {object} msg
   * @param {ArrayBuffer[]} buffers
   */
  sendNow(msg, buffers) {
    this.post(msg, buffers);
  }
  /**
   * @param {string} name one of bridge.js COMMANDS
   * @param {object} args
   */
  command(name, args) {
    this.send({ type: COMMAND, name, args });
  }
  /**
   * Ask for one event's JSON; always settles (an error after EVENT_JSON_TIMEOUT_MS).
   * @param {number} seq
   * @param {{original?: boolean}} [options] original: as it crossed the wire (base64 audio back)
   * @returns {Promise<EventReply>}
   */
  requestEvent(seq, options = {}) {
    const id = this.newRequestId();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve({
          payload: null,
          error: `No reply from the kernel within ${EVENT_JSON_TIMEOUT_MS / 1e3} s for event #${seq}. A running cell may be blocking the kernel: click the row again when it is idle.`
        });
      }, EVENT_JSON_TIMEOUT_MS);
      this.pending.set(id, { resolve, timer });
      this.send(options.original ? { type: GET_EVENT, request_id: id, seq, original: true } : { type: GET_EVENT, request_id: id, seq });
    });
  }
  /**
   * Settle the request an EVENT_JSON message answers.
   * @param {{request_id: number, payload?: object|null, error?: string|null}} msg
   */
  answerEvent(msg) {
    const p = this.pending.get(msg.request_id);
    if (!p) return;
    this.pending.delete(msg.request_id);
    clearTimeout(p.timer);
    p.resolve({ payload: msg.payload ?? null, error: msg.error ?? null });
  }
  /** Settle every open request with an error (the view is closing). */
  close() {
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.resolve({ payload: null, error: "The view was closed." });
    }
    this.pending.clear();
  }
};

// src/kernel-messages.js
function kernelDispatcher(handlers) {
  const known = new Set(KERNEL_TO_BROWSER);
  const table = new Map(Object.entries(handlers));
  for (const name of table.keys()) {
    if (!known.has(name)) throw new Error(`"${name}" is not a kernel \u2192 browser message (bridge.js)`);
  }
  return (msg, buffers) => {
    if (!msg || typeof msg !== "object") return;
    const handler = table.get(
      /** @type {{type: string}} */
      msg.type
    );
    if (handler) handler(msg, buffers);
  };
}

// src/player.js
var Player = class {
  /**
   * Build the graph. Construct after getAudio()'s `ready` has resolved (the player processor must
   * be registered).
   * @param {AudioContext} ctx
   */
  constructor(ctx) {
    this.ctx = ctx;
    this.node = new AudioWorkletNode(ctx, "rtnb-player", {
      numberOfInputs: 0,
      numberOfOutputs: 1,
      outputChannelCount: [1]
    });
    this.analyser = ctx.createAnalyser();
    this.analyser.fftSize = 1024;
    this.node.connect(this.analyser);
    this.analyser.connect(ctx.destination);
    this._scratch = new Float32Array(this.analyser.fftSize);
    this._playedCbs = /* @__PURE__ */ new Set();
    this._stats = { underruns: 0, buffered_ms: 0, playing_item: (
      /** @type {string|null} */
      null
    ) };
    this._closed = false;
    this.node.port.onmessage = (e) => this._onMessage(e.data);
  }
  /**
   * Queue audio of an item (copied; the caller keeps its array). Items play in push order.
   * @param {string} itemId
   * @param {Int16Array} pcm 24 kHz mono PCM16
   */
  push(itemId, pcm) {
    if (this._closed || !pcm.length) return;
    const copy = pcm.slice();
    this.node.port.postMessage({ cmd: "push", item: String(itemId), pcm: copy }, [copy.buffer]);
  }
  /**
   * Fade out what is playing (about 12 ms), drop everything queued, and report each dropped item
   * once through onPlayed with reason "interrupted" and its exact played samples. While the
   * context is not running nothing is audible: the queue is dropped at once and still reported.
   */
  flush() {
    if (this._closed) return;
    this.node.port.postMessage({ cmd: "flush", fade: this.ctx.state === "running" });
  }
  /**
   * Receive played reports: progress (about every 100 ms while playing), interrupted, ended.
   * @param {(report: PlayedReport) => void} cb
   * @returns {() => void} unsubscribe
   */
  onPlayed(cb) {
    this._playedCbs.add(cb);
    return () => this._playedCbs.delete(cb);
  }
  /** @returns {number} RMS of what the speaker is being given now, 0..1 */
  level() {
    if (this._closed || this.ctx.state !== "running") return 0;
    this.analyser.getFloatTimeDomainData(this._scratch);
    let s2 = 0;
    for (let i = 0; i < this._scratch.length; i++) s2 += this._scratch[i] * this._scratch[i];
    return Math.min(1, Math.sqrt(s2 / this._scratch.length));
  }
  /** @returns {boolean} the AudioContext is not running (autoplay policy): call unlock() from a gesture */
  get needsUnlock() {
    return this.ctx.state !== "running";
  }
  /** Resume the AudioContext; call from a user gesture (a click on "enable audio"). */
  async unlock() {
    await this.ctx.resume();
  }
  /**
   * As last reported by the worklet (about 20 times a second).
   * @returns {{underruns: number, buffered_ms: number, playing_item: string|null}}
   */
  stats() {
    return { ...this._stats };
  }
  /** Stop playing and disconnect (the shared AudioContext stays open for other views). */
  close() {
    if (this._closed) return;
    this._closed = true;
    this.node.port.onmessage = null;
    this.node.port.postMessage({ cmd: "reset" });
    this.node.port.close();
    this.node.disconnect();
    this.analyser.disconnect();
    this._playedCbs.clear();
  }
  /** @param {any} msg */
  _onMessage(msg) {
    if (!msg) return;
    if (msg.type === "level") {
      this._stats = {
        underruns: msg.underruns,
        buffered_ms: Math.round(msg.buffered_ms),
        playing_item: msg.playing_item
      };
    } else if (msg.type === "played") {
      const report = {
        item_id: msg.item_id,
        samples: msg.samples,
        received: msg.received,
        reason: msg.reason,
        t_first: msg.t_first === null ? null : contextTimeToEpochMs(this.ctx, msg.t_first)
      };
      for (const cb of this._playedCbs) cb(report);
    }
  }
};

// src/util.js
function randomId() {
  const c = (
    /** @type {any} */
    globalThis.crypto
  );
  if (c && typeof c.randomUUID === "function") return c.randomUUID();
  return `v${Date.now().toString(36)}${Math.random().toString(36).slice(2, 10)}`;
}
function nowEpochMs() {
  return performance.timeOrigin + performance.now();
}
function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1e3} s`)), ms);
  });
  return (
    /** @type {Promise<T>} */
    Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
  );
}
function errorText(e) {
  if (e instanceof Error) return e.message || e.name;
  return String(e);
}
function fmtMs(ms) {
  const x = Number(ms);
  if (!Number.isFinite(x)) return "\u2013";
  return x >= 1e3 ? `${(x / 1e3).toFixed(1)} s` : `${Math.round(x)} ms`;
}
function num(v) {
  const x = Number(v);
  return Number.isFinite(x) ? x : 0;
}

// src/playback.js
var AUDIO_START_TIMEOUT_MS = 4e3;
var claimedAudio = /* @__PURE__ */ new WeakSet();
var Playback = class {
  /**
   * @param {{signal: AbortSignal, guard: import("./guard.js").Guard, send: (msg: object) => void,
   *   onContextState: () => void}} opts `onContextState`: the AudioContext started or stopped running
   */
  constructor({ signal, guard, send, onContextState }) {
    this.signal = signal;
    this.guard = guard;
    this.send = send;
    this.onContextState = onContextState;
    this.audio = null;
    this.player = null;
    this.audioPromise = null;
    this.played = {};
    this.received = {};
    this.firstPlayed = {};
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
    const pcm = asInt16(buf);
    this.received[msg.item_id] = (this.received[msg.item_id] || 0) + pcm.length;
    this.player.push(msg.item_id, pcm);
  }
  /** @param {{item_id: string, samples: number, received: number, reason: string, t_first: number|null}} r */
  onPlayed(r) {
    this.played[r.item_id] = r.samples;
    if (r.t_first !== null && r.t_first !== void 0) this.firstPlayed[r.item_id] = r.t_first;
    this.send({
      type: PLAYED,
      item_id: r.item_id,
      samples: r.samples,
      received: r.received,
      reason: r.reason,
      t_first: r.t_first ?? null
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
};

// src/mic-control.js
var PCM_RATE = 24e3;
var MicControl = class {
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
    this.mic = null;
    this.state = "off";
    this.settings = {};
    this.frameSeq = 0;
    this.framesSent = 0;
    this.lastErrorText = "";
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
    const ctx = this.playback.ctx;
    if (ctx) ctx.resume().catch(() => {
    });
    this.setState("starting");
    let mic = null;
    try {
      let audio;
      try {
        audio = await this.playback.ensureAudio();
      } catch (e) {
        console.error("realtime-nb: audio engine", e);
        throw new MicError("audio_context", void 0, { cause: e });
      }
      if (audio.ctx.state !== "running") await audio.ctx.resume().catch(() => {
      });
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
      this.settings = /** @type {Record<string, unknown>} */
      { ...mic.settings() || {} };
      this.setState("on");
    } catch (e) {
      if (mic) {
        try {
          mic.stop();
        } catch {
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
    const err = (
      /** @type {any} */
      e
    );
    const code = e instanceof MicError || err && typeof err.code === "string" ? err.code : "unknown";
    const message = errorText(e);
    console.error("realtime-nb: microphone", e);
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
      context_rate: this.playback.contextRate
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
    const frameMs = pcm.length / PCM_RATE * 1e3;
    const handsFree = this.model.get("mode") !== "push_to_talk";
    if (this.ptt.wantsFrame(handsFree, info.t_capture, frameMs) && !mic.muted) {
      const buf = (
        /** @type {ArrayBuffer} */
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
};

// src/push-to-talk.js
var PTT_TAIL_MS = 150;
var PushToTalk = class {
  /**
   * @param {{send: (msg: object) => void, guard: import("./guard.js").Guard, tailMs?: number}} opts
   */
  constructor({ send, guard, tailMs = PTT_TAIL_MS }) {
    this.sendMessage = send;
    this.guard = guard;
    this.tailMs = tailMs;
    this.held = false;
    this.releaseAt = null;
    this.releaseTimer = null;
  }
  /** A release is waiting for its last frame. */
  get releasing() {
    return this.releaseAt !== null;
  }
  press() {
    if (this.releasing) this.finish();
    this.held = true;
    this.sendMessage({ type: PTT, action: "press" });
  }
  /**
   * @param {boolean} micOn whether frames are flowing (if not, the turn ends now)
   * @param {number} now epoch ms of the release, on the capture timestamps' clock
   */
  release(micOn, now) {
    if (!this.held) return;
    this.held = false;
    if (!micOn) {
      this.finish();
      return;
    }
    this.releaseAt = now;
    if (this.releaseTimer) clearTimeout(this.releaseTimer);
    this.releaseTimer = setTimeout(this.guard(() => this.finish()), this.tailMs);
  }
  /** End the turn now: send `release`. */
  finish() {
    if (this.releaseTimer) clearTimeout(this.releaseTimer);
    this.releaseTimer = null;
    this.releaseAt = null;
    this.held = false;
    this.sendMessage({ type: PTT, action: "release" });
  }
  /**
   * Whether a captured frame goes to the kernel: always in hands-free mode, while the button is
   * held, and after a release the frames captured before it (the end of the sentence).
   * @param {boolean} handsFree
   * @param {number} tCapture epoch ms of the frame's last sample
   * @param {number} frameMs the frame's length
   */
  wantsFrame(handsFree, tCapture, frameMs) {
    if (handsFree || this.held) return true;
    return this.releaseAt !== null && tCapture - frameMs < this.releaseAt;
  }
  /**
   * After each frame: a release is complete once a frame captured at or after it went by.
   * @param {number} tCapture
   */
  frameDone(tCapture) {
    if (this.releaseAt !== null && tCapture >= this.releaseAt) this.finish();
  }
};

// src/comm-health.js
var PING_INTERVAL_MS = 2e3;
var STALL_AFTER_MS = 3e3;
var QUIET_AFTER_MS = 15e3;
function kernelState({ commLive, sendFailed, silentForMs }) {
  if (commLive === false || sendFailed) return "dead";
  if (silentForMs !== null && silentForMs > QUIET_AFTER_MS) return "quiet";
  return "live";
}
var CommHealth = class {
  constructor() {
    this.ping = null;
    this.gotPong = false;
    this.rtt = null;
  }
  /**
   * The ping to send now, or null while the previous one still waits for its pong.
   * @param {number} now epoch ms
   * @param {() => number} newId
   * @returns {{type: string, request_id: number, t: number}|null}
   */
  nextPing(now, newId) {
    if (this.ping) return null;
    this.ping = { id: newId(), t: now };
    return { type: PING, request_id: this.ping.id, t: now };
  }
  /**
   * Take a PONG; returns whether it answered the ping this view is waiting for.
   * @param {{request_id?: unknown}} msg
   * @param {number} now epoch ms
   */
  onPong(msg, now) {
    if (!this.ping || msg.request_id !== this.ping.id) return false;
    this.rtt = now - this.ping.t;
    this.ping = null;
    this.gotPong = true;
    return true;
  }
  /**
   * How long the outstanding ping has waited; null when none waits, or before the first pong
   * (a kernel that has not answered yet may still be starting).
   * @param {number} now epoch ms
   * @returns {number|null}
   */
  silentForMs(now) {
    return this.gotPong && this.ping ? now - this.ping.t : null;
  }
};

// src/replay-speed.js
var SPEEDS = (
  /** @type {const} */
  [
    [1, "1\xD7"],
    [2, "2\xD7"],
    [4, "4\xD7"],
    [null, "all"]
  ]
);
function speedOption(speed) {
  return typeof speed === "number" && Number.isFinite(speed) && speed > 0 ? String(speed) : "all";
}
function parseSpeed(value) {
  const n2 = Number(value);
  return value !== "all" && Number.isFinite(n2) && n2 > 0 ? n2 : null;
}
function replayLabel(source) {
  return `replay of ${source || "a recording"}`;
}

// src/status-line.js
var OFFLINE_TOOLTIP = "No API key was found, so the kernel talks to realtime-nb's local stand-in server: scripted replies and a simple level-based VAD, no real model. To use OpenAI, pass RealtimeWidget(api_key=...) or set the OPENAI_API_KEY environment variable, then create the widget again.";
function connectionState(status, kernel) {
  if (kernel === "dead") {
    return { state: "disconnected", advice: "The kernel restarted or stopped: run the cell again to start a new session.", canReconnect: false };
  }
  if (kernel === "quiet") {
    return { state: "not answering", advice: "The kernel is not answering: a cell may still be running. If the kernel restarted, run the cell again.", canReconnect: false };
  }
  if (status === "closed") return { state: "closed", advice: "The session is closed. Press Reconnect for a new one with the same settings.", canReconnect: true };
  if (status === "reconnecting") return { state: "reconnecting", advice: "The connection dropped; reconnecting\u2026", canReconnect: false };
  if (status === "error") return { state: "error", advice: "", canReconnect: true };
  if (status === "replay") return { state: "replay", advice: "", canReconnect: false };
  return { state: status || "idle", advice: "", canReconnect: false };
}
var StatusLine = class {
  /** @param {{onReconnect: () => void, signal: AbortSignal, guard: import("./guard.js").Guard}} opts */
  constructor({ onReconnect, signal, guard }) {
    this.status = h("span", { rtnb: "status", class: "rtnb-status", "data-state": "idle" }, "idle");
    this.badge = h("span", { rtnb: "badge-offline", class: "rtnb-badge", title: OFFLINE_TOOLTIP, tabindex: "0" }, "offline stand-in");
    this.endpoint = h("span", { class: "rtnb-endpoint" });
    this.advice = h("span", { rtnb: "connection-advice", class: "rtnb-advice", hidden: true });
    this.reconnect = h("button", { rtnb: "reconnect", class: "rtnb-btn rtnb-btn-small", type: "button", hidden: true, title: "Open a new session with the same settings (w.reconnect())" }, "Reconnect");
    this.reconnect.addEventListener("click", guard(onReconnect), { signal });
    this.el = h("header", { class: "rtnb-header" }, h("span", { class: "rtnb-title" }, "Realtime"), this.status, this.badge, this.endpoint, this.advice, this.reconnect);
  }
  /**
   * @param {{status: string, offline: boolean, endpoint: string, kernel: "live"|"quiet"|"dead",
   *   replay?: string}} s `replay`: the file a replay shows (the `replay_source` trait)
   */
  render({ status, offline, endpoint, kernel, replay = "" }) {
    if (status === "replay" || replay && status === "closed") {
      const c2 = connectionState("replay", kernel);
      this.status.textContent = c2.state === "replay" ? replayLabel(replay) : c2.state;
      this.status.dataset.state = c2.state;
      this.advice.textContent = c2.advice;
      this.advice.hidden = !c2.advice;
      this.reconnect.hidden = true;
      if (this.badge.parentNode) this.badge.remove();
      this.endpoint.textContent = endpoint ? `recorded via ${endpoint}` : "";
      this.endpoint.title = this.endpoint.textContent;
      return;
    }
    const c = connectionState(status, kernel);
    this.status.textContent = c.state;
    this.status.dataset.state = c.state;
    this.advice.textContent = c.advice;
    this.advice.hidden = !c.advice;
    this.reconnect.hidden = !c.canReconnect;
    if (offline && !this.badge.parentNode) this.status.after(this.badge);
    if (!offline && this.badge.parentNode) this.badge.remove();
    this.endpoint.textContent = endpoint;
    this.endpoint.title = endpoint;
  }
};

// src/banner.js
var ErrorBanner = class {
  /**
   * @param {{signal: AbortSignal, guard: import("./guard.js").Guard, kernelError: () => string}} opts
   *   `kernelError`: the `error` trait now
   */
  constructor({ signal, guard, kernelError }) {
    this.kernelError = kernelError;
    this.localError = "";
    this.dismissedKernelError = "";
    this.text = h("span", { rtnb: "error", class: "rtnb-error-text" });
    const dismiss = h("button", { class: "rtnb-btn rtnb-btn-small rtnb-dismiss", type: "button", "aria-label": "Dismiss", title: "Dismiss" }, "\xD7");
    this.el = h("div", { class: "rtnb-banner", role: "alert", hidden: true }, this.text, dismiss);
    dismiss.addEventListener(
      "click",
      guard(() => {
        this.localError = "";
        this.dismissedKernelError = this.kernelError();
        this.render();
      }),
      { signal }
    );
  }
  /** @param {string} text this view's own error ("" clears it) */
  setLocalError(text) {
    this.localError = text;
    this.render();
  }
  render() {
    const kernel = this.kernelError();
    if (kernel !== this.dismissedKernelError) this.dismissedKernelError = "";
    const parts = [kernel && kernel !== this.dismissedKernelError ? kernel : "", this.localError].filter(Boolean);
    const text = [...new Set(parts)].join("\n");
    this.text.textContent = text;
    this.el.hidden = !text;
  }
};
var WarnLine = class {
  constructor() {
    this.el = h("div", { class: "rtnb-warn", role: "status", hidden: true });
  }
  /** @param {string} text "" hides the line */
  set(text) {
    if (this.el.textContent !== text) this.el.textContent = text;
    this.el.hidden = !text;
  }
};

// src/meters.js
var METER_MIN_DB = -80;
var METER_MAX_DB = 0;
var RELEASE_DB_PER_S = 45;
function levelToDb(level) {
  if (!(level > 0)) return METER_MIN_DB;
  return Math.max(METER_MIN_DB, Math.min(METER_MAX_DB, 20 * Math.log10(level)));
}
function thresholdDb(threshold) {
  const t = Math.min(1, Math.max(0, Number(threshold) || 0));
  return -70 + 60 * t;
}
function dbToFraction(db) {
  const f = (db - METER_MIN_DB) / (METER_MAX_DB - METER_MIN_DB);
  return Math.min(1, Math.max(0, f));
}
var Meter = class {
  /**
   * @param {{rtnb: string, label: string, title: string, withThreshold?: boolean}} opts
   */
  constructor({ rtnb, label, title: title2, withThreshold = false }) {
    this.bar = h("div", { class: "rtnb-meter-bar" });
    this.track = h("div", { class: "rtnb-meter-track" }, this.bar);
    this.el = h("div", { rtnb, class: "rtnb-meter", title: title2, "data-level": "0", role: "meter", "aria-label": label, "aria-valuemin": String(METER_MIN_DB), "aria-valuemax": String(METER_MAX_DB) }, this.track);
    this.dbText = h("span", { class: "rtnb-meter-db" }, "\u2212\u221E");
    this.line = null;
    if (withThreshold) {
      this.line = h("div", { rtnb: "threshold", class: "rtnb-meter-threshold", hidden: true });
      this.track.append(this.line);
    }
    this.shownDb = METER_MIN_DB;
    this.lastLevel = -1;
    this.lastT = 0;
    this.thrDb = null;
    this.wrap = h("div", { class: "rtnb-meter-row" }, h("span", { class: "rtnb-meter-label" }, label), this.el, this.dbText);
  }
  /**
   * Show a new level (RMS 0..1): instant attack, RELEASE_DB_PER_S release.
   * @param {number} level
   * @param {number} [now] ms
   */
  set(level, now = performance.now()) {
    const lv = Number.isFinite(level) ? Math.max(0, level) : 0;
    const dt = this.lastT ? Math.min(0.5, (now - this.lastT) / 1e3) : 0;
    this.lastT = now;
    const db = levelToDb(lv);
    const shown = Math.max(db, this.shownDb - RELEASE_DB_PER_S * dt);
    if (Math.abs(lv - this.lastLevel) > 1e-4) {
      this.el.dataset.level = lv.toFixed(4);
      this.lastLevel = lv;
    }
    if (Math.abs(shown - this.shownDb) < 0.05 && dt) return;
    this.shownDb = shown;
    this.bar.style.transform = `scaleX(${dbToFraction(shown).toFixed(4)})`;
    this.el.setAttribute("aria-valuenow", shown.toFixed(0));
    this.dbText.textContent = shown <= METER_MIN_DB ? "\u2212\u221E" : `${Math.round(shown)} dB`;
    if (this.thrDb !== null) this.el.classList.toggle("rtnb-over", db >= this.thrDb);
  }
  /**
   * Draw the VAD threshold line, or hide it (null).
   * @param {number|null} threshold API value 0..1
   */
  setThreshold(threshold) {
    if (!this.line) return;
    if (threshold === null || threshold === void 0 || !Number.isFinite(Number(threshold))) {
      this.line.hidden = true;
      this.thrDb = null;
      this.el.classList.remove("rtnb-over");
      return;
    }
    const db = thresholdDb(Number(threshold));
    this.thrDb = db;
    this.line.hidden = false;
    this.line.style.left = `${(dbToFraction(db) * 100).toFixed(2)}%`;
    this.line.dataset.dbfs = db.toFixed(1);
    this.line.dataset.threshold = String(threshold);
    this.line.title = `VAD threshold ${Number(threshold).toFixed(2)} \u2248 ${db.toFixed(0)} dBFS`;
  }
};

// src/controls.js
var MIC_LABELS = { off: "Start mic", starting: "Starting\u2026", on: "Stop mic", error: "Start mic" };
var Controls = class {
  /**
   * @param {{signal: AbortSignal, handlers: ControlHandlers, guard: import("./guard.js").Guard}} opts
   */
  constructor({ signal, handlers, guard }) {
    const on = (t, type, fn) => t.addEventListener(type, guard(fn), { signal });
    this.micButton = h("button", { rtnb: "mic-button", class: "rtnb-btn rtnb-mic", type: "button", "data-state": "off" }, MIC_LABELS.off);
    this.mode = /** @type {HTMLSelectElement} */
    h(
      "select",
      { rtnb: "mode", class: "rtnb-select", title: "Hands-free: the server's voice activity detection ends your turn. Push-to-talk: hold the button while you speak." },
      h("option", { value: "hands_free" }, "hands-free"),
      h("option", { value: "push_to_talk" }, "push-to-talk")
    );
    this.ptt = h(
      "button",
      { rtnb: "ptt-button", class: "rtnb-btn rtnb-ptt", type: "button", hidden: true, title: "Hold while you speak (mouse, touch, or Space/Enter); release to send the turn", "data-lm-suppress-shortcuts": "true" },
      "Hold to talk"
    );
    this.mute = h("button", { rtnb: "mute", class: "rtnb-btn", type: "button", "aria-pressed": "false", title: "Stop sending microphone audio (the mic stays open)" }, "Mute");
    this.stopAudio = h("button", { rtnb: "stop-audio", class: "rtnb-btn", type: "button", title: "Stop the assistant's audio now (the kernel truncates the item at what you heard)" }, "Stop audio");
    this.enableAudio = h(
      "button",
      { rtnb: "enable-audio", class: "rtnb-btn rtnb-btn-primary rtnb-enable-audio", type: "button", hidden: true, title: "The browser blocks sound until you click in the page" },
      "Click to enable audio"
    );
    this.textInput = /** @type {HTMLInputElement} */
    h("input", { rtnb: "text-input", class: "rtnb-input rtnb-text-input", type: "text", placeholder: "Type a message and press Enter", autocomplete: "off", "aria-label": "Message", "data-lm-suppress-shortcuts": "true" });
    this.sendText = h("button", { rtnb: "send-text", class: "rtnb-btn", type: "button" }, "Send");
    this.meterIn = new Meter({ rtnb: "level-in", label: "mic", title: "Microphone level (dBFS); the line is the VAD threshold", withThreshold: true });
    this.meterOut = new Meter({ rtnb: "level-out", label: "out", title: "Assistant audio level (dBFS)" });
    this.threshold = /** @type {HTMLInputElement} */
    h("input", { rtnb: "threshold-input", class: "rtnb-threshold-input", type: "range", min: "0", max: "1", step: "0.05", value: "0.5", "aria-label": "VAD threshold" });
    this.thresholdText = h("span", { class: "rtnb-threshold-text" });
    this.hint = h("div", { class: "rtnb-hint" });
    this.el = h(
      "section",
      { class: "rtnb-controls", "aria-label": "Controls" },
      h("div", { class: "rtnb-row" }, this.micButton, this.mode, this.ptt, this.mute, this.stopAudio),
      this.enableAudio,
      h(
        "div",
        { class: "rtnb-meters" },
        this.meterIn.wrap,
        h("label", { class: "rtnb-threshold", title: "VAD threshold (turn_detection.threshold, 0..1): raise it if noise starts turns, lower it if your voice does not" }, "VAD ", this.threshold, this.thresholdText),
        this.meterOut.wrap
      ),
      h("div", { class: "rtnb-row rtnb-send" }, this.textInput, this.sendText),
      this.hint
    );
    const thresholdLabel = (
      /** @type {HTMLElement} */
      this.threshold.parentElement
    );
    for (const el of [this.micButton, this.mode, this.ptt, this.mute, this.meterIn.wrap, thresholdLabel, this.textInput.parentElement, this.hint]) {
      if (el) el.dataset.liveOnly = "";
    }
    on(this.micButton, "click", handlers.micToggle);
    on(this.mode, "change", () => handlers.modeChange(this.mode.value));
    on(this.mute, "click", handlers.muteToggle);
    on(this.stopAudio, "click", handlers.stopAudio);
    on(this.enableAudio, "click", handlers.enableAudio);
    on(this.threshold, "change", () => handlers.thresholdChange(Number(this.threshold.value)));
    on(this.threshold, "input", () => this.showThreshold(Number(this.threshold.value)));
    const send = () => {
      const text = this.textInput.value.trim();
      if (!text) return;
      handlers.sendText(text);
      this.textInput.value = "";
    };
    on(this.sendText, "click", send);
    on(this.textInput, "keydown", (e) => {
      if (e.key === "Enter" && !e.isComposing) {
        e.preventDefault();
        send();
      }
      e.stopPropagation();
    });
    this.held = false;
    const press = () => {
      if (this.held) return;
      this.held = true;
      this.ptt.classList.add("rtnb-held");
      this.ptt.setAttribute("aria-pressed", "true");
      handlers.pttPress();
    };
    const release = () => {
      if (!this.held) return;
      this.held = false;
      this.ptt.classList.remove("rtnb-held");
      this.ptt.setAttribute("aria-pressed", "false");
      handlers.pttRelease();
    };
    this.releasePtt = release;
    on(this.ptt, "pointerdown", (e) => {
      if (e.button !== 0) return;
      e.preventDefault();
      try {
        this.ptt.setPointerCapture(e.pointerId);
      } catch {
      }
      press();
    });
    on(this.ptt, "pointerup", release);
    on(this.ptt, "pointercancel", release);
    on(this.ptt, "pointerleave", release);
    on(this.ptt, "lostpointercapture", release);
    on(this.ptt, "contextmenu", (e) => e.preventDefault());
    on(this.ptt, "keydown", (e) => {
      if (e.key === " " || e.key === "Enter") {
        e.preventDefault();
        e.stopPropagation();
        if (!e.repeat) press();
      }
    });
    on(this.ptt, "keyup", (e) => {
      if (e.key === " " || e.key === "Enter") {
        e.preventDefault();
        release();
      }
    });
    on(this.ptt, "blur", release);
  }
  /**
   * A replay (`status` "replay") has no microphone and no session: only the speaker's controls stay.
   * @param {boolean} on
   */
  setReplay(on) {
    this.el.classList.toggle("rtnb-replaying", !!on);
  }
  /** @param {"off"|"starting"|"on"|"error"} state */
  setMicState(state) {
    this.micButton.dataset.state = state;
    this.micButton.textContent = MIC_LABELS[state] ?? MIC_LABELS.off;
    this.micButton.disabled = state === "starting";
    this.micButton.setAttribute("aria-pressed", String(state === "on"));
  }
  /** @param {string} mode */
  setMode(mode) {
    const m = mode === "push_to_talk" ? "push_to_talk" : "hands_free";
    if (this.mode.value !== m) this.mode.value = m;
    this.ptt.hidden = m !== "push_to_talk";
    if (m !== "push_to_talk") this.releasePtt();
  }
  /** @param {boolean} muted */
  setMuted(muted) {
    this.mute.setAttribute("aria-pressed", String(!!muted));
    this.mute.textContent = muted ? "Unmute" : "Mute";
    this.mute.classList.toggle("rtnb-active", !!muted);
  }
  /** @param {boolean} needs */
  setNeedsUnlock(needs) {
    if (this.enableAudio.hidden === !needs) return;
    this.enableAudio.hidden = !needs;
  }
  /** @param {number} value */
  showThreshold(value) {
    this.thresholdText.textContent = Number.isFinite(value) ? value.toFixed(2) : "\u2013";
  }
  /**
   * @param {number|null} value API threshold 0..1
   * @param {string|null} turnDetection
   */
  setThreshold(value, turnDetection2) {
    const vad = turnDetection2 === "server_vad";
    const v = typeof value === "number" && Number.isFinite(value) ? value : null;
    this.threshold.disabled = !vad;
    if (v !== null && document.activeElement !== this.threshold) this.threshold.value = String(v);
    this.showThreshold(v ?? Number(this.threshold.value));
    this.meterIn.setThreshold(vad ? v : null);
  }
  /** @param {string} text */
  setHint(text) {
    if (this.hint.textContent !== text) this.hint.textContent = text;
    this.hint.hidden = !text;
  }
};

// src/transcript-text.js
var TOOL_TEXT_MAX = 160;
function toolCallText(name, args) {
  if (args === void 0 && name && name.includes("(")) return name;
  const call = `${name || "?"}(${args || ""})`;
  return call.length <= TOOL_TEXT_MAX ? call : `${call.slice(0, TOOL_TEXT_MAX - 1)}\u2026`;
}
function toolResultText(turn) {
  if (turn.error) return { text: `failed: ${turn.error}`, failed: true };
  if (turn.output === void 0 && turn.arguments === void 0) {
    const arrow = (turn.text || "").indexOf(" \u2192 ");
    const out2 = arrow >= 0 ? turn.text.slice(arrow + 3) : "";
    return { text: out2 && out2 !== "\u2026" ? out2 : "waiting for the result\u2026", failed: /^\{?"?error/.test(out2) };
  }
  if (turn.output == null) return { text: turn.status === "completed" ? "waiting for the result\u2026" : "\u2026", failed: false };
  const out = String(turn.output);
  return { text: out.length <= TOOL_TEXT_MAX ? out : `${out.slice(0, TOOL_TEXT_MAX - 1)}\u2026`, failed: false };
}
function isToolCall(turn) {
  return turn.kind === "function_call" || turn.kind === "mcp_call" || turn.role === "tool";
}
function splitHeard(text, heard, interrupted) {
  text = text || "";
  if (!interrupted || heard == null) return { heard: text, unheard: "" };
  if (text.startsWith(heard)) return { heard, unheard: text.slice(heard.length) };
  return { heard, unheard: text ? ` [generated: ${text}]` : "" };
}
function roleLabel(role) {
  if (role === "user") return "you";
  if (role === "assistant") return "assistant";
  return role || "?";
}

// src/transcript.js
function callPart(turn) {
  const text = turn.text || "";
  const arrow = text.indexOf(" \u2192 ");
  return arrow >= 0 ? text.slice(0, arrow) : text || `${turn.name || "?"}()`;
}
var TranscriptView = class {
  /** @param {{onSelectTurn?: (turn: number|null) => void}} [opts] */
  constructor({ onSelectTurn } = {}) {
    this.onSelectTurn = onSelectTurn ?? null;
    this.selectedTurn = null;
    this.turns = /* @__PURE__ */ new Map();
    this.list = h("div", { class: "rtnb-turns", "aria-live": "polite" });
    this.empty = h("div", { class: "rtnb-empty" }, "Talk (start the mic) or type a message below.");
    this.el = h(
      "section",
      { rtnb: "transcript", class: "rtnb-transcript", "aria-label": "Transcript" },
      this.list,
      this.empty
    );
    this.list.addEventListener("click", (ev) => {
      const el = (
        /** @type {HTMLElement|null} */
        /** @type {HTMLElement} */
        ev.target.closest("[data-rtnb=turn]")
      );
      if (!el || !el.dataset.turn) return;
      const turn = Number(el.dataset.turn);
      this.selectTurn(this.selectedTurn === turn ? null : turn);
      if (this.onSelectTurn) this.onSelectTurn(this.selectedTurn);
    });
  }
  /**
   * Mark the bubbles of `turn` (null: none), e.g. when the timeline picked a turn.
   * @param {number|null} turn
   */
  selectTurn(turn) {
    this.selectedTurn = turn;
    for (const { el } of this.turns.values()) {
      el.classList.toggle("rtnb-turn-selected", turn !== null && el.dataset.turn === String(turn));
    }
  }
  /** @param {Turn[]|null|undefined} turns */
  update(turns) {
    const list = Array.isArray(turns) ? turns : [];
    const box = this.el;
    const atEnd = box.scrollTop + box.clientHeight >= box.scrollHeight - 8;
    const seen = /* @__PURE__ */ new Set();
    let cursor = this.list.firstElementChild;
    list.forEach((turn, i) => {
      const id = turn.item_id || `#${i}`;
      seen.add(id);
      const key = JSON.stringify([
        turn.role,
        turn.text,
        turn.heard,
        !!turn.interrupted,
        turn.status,
        turn.turn,
        turn.kind,
        turn.name,
        turn.arguments,
        turn.output,
        turn.error
      ]);
      let entry = this.turns.get(id);
      if (!entry) {
        entry = { el: h("div", { rtnb: "turn", class: "rtnb-turn" }), key: "" };
        this.turns.set(id, entry);
      }
      if (entry.key !== key) {
        this.fill(entry.el, id, turn);
        entry.key = key;
      }
      if (entry.el !== cursor) this.list.insertBefore(entry.el, cursor);
      else cursor = cursor.nextElementSibling;
    });
    for (const [id, entry] of this.turns) {
      if (!seen.has(id)) {
        entry.el.remove();
        this.turns.delete(id);
      }
    }
    this.empty.hidden = list.length > 0;
    if (atEnd) box.scrollTop = box.scrollHeight;
  }
  /**
   * @param {HTMLElement} el
   * @param {string} id
   * @param {Turn} turn
   */
  fill(el, id, turn) {
    const role = turn.role || "";
    const interrupted = !!turn.interrupted;
    el.dataset.role = role;
    el.dataset.item = id;
    el.dataset.interrupted = String(interrupted);
    el.dataset.status = turn.status || "";
    el.dataset.turn = typeof turn.turn === "number" ? String(turn.turn) : "";
    el.title = typeof turn.turn === "number" ? `Turn ${turn.turn}: click to show only its events in the table` : "";
    const selected = this.selectedTurn !== null && turn.turn === this.selectedTurn;
    if (isToolCall(turn)) {
      this.fillTool(el, turn, selected);
      return;
    }
    el.className = `rtnb-turn rtnb-turn-${role || "other"}${turn.status === "in_progress" ? " rtnb-pending" : ""}${selected ? " rtnb-turn-selected" : ""}`;
    const parts = splitHeard(turn.text, turn.heard, interrupted);
    const body = h("div", { class: "rtnb-turn-text" });
    if (parts.heard) body.append(h("span", { class: "rtnb-heard" }, parts.heard));
    if (parts.unheard) {
      body.append(
        h(
          "del",
          { class: "rtnb-unheard", title: "Generated by the model but never played: the speaker was interrupted here" },
          parts.unheard
        )
      );
    }
    if (!parts.heard && !parts.unheard) {
      body.append(h("span", { class: "rtnb-placeholder" }, turn.status === "in_progress" ? "\u2026" : role === "user" ? "(audio, no transcript)" : "(no text)"));
    }
    const meta = h("div", { class: "rtnb-turn-meta" }, h("span", { class: "rtnb-role" }, roleLabel(role)));
    if (interrupted) {
      meta.append(
        h("span", { class: "rtnb-tag rtnb-tag-interrupted", title: "Struck-through text was generated but not heard" }, "interrupted")
      );
    }
    if (turn.status && turn.status !== "completed" && turn.status !== "in_progress") {
      meta.append(h("span", { class: "rtnb-tag" }, turn.status));
    }
    el.replaceChildren(meta, body);
  }
  /**
   * A tool call: its name and arguments, then its result (or error) once it is answered.
   * @param {HTMLElement} el
   * @param {Turn} turn
   * @param {boolean} selected
   */
  fillTool(el, turn, selected) {
    el.dataset.role = "tool";
    el.className = `rtnb-turn rtnb-turn-tool${selected ? " rtnb-turn-selected" : ""}`;
    const result = toolResultText(turn);
    const meta = h(
      "div",
      { class: "rtnb-turn-meta" },
      h("span", { class: "rtnb-role" }, turn.kind === "mcp_call" ? "MCP tool" : "tool call")
    );
    if (result.failed) meta.append(h("span", { class: "rtnb-tag rtnb-tag-interrupted" }, "failed"));
    const body = h(
      "div",
      { class: "rtnb-turn-text" },
      h("code", { rtnb: "tool-call", class: "rtnb-tool-call", title: `${turn.name}(${turn.arguments || ""})` }, turn.arguments === void 0 ? callPart(turn) : toolCallText(turn.name, turn.arguments)),
      h("div", { rtnb: "tool-result", class: `rtnb-tool-result${result.failed ? " rtnb-tool-failed" : ""}`, title: String(turn.output ?? turn.error ?? "") }, "\u2192 ", result.text)
    );
    el.replaceChildren(meta, body);
  }
};

// src/event-rows.js
var COALESCED_TYPES = /* @__PURE__ */ new Set([
  "input_audio_buffer.append",
  "response.output_audio.delta",
  "response.output_audio_transcript.delta",
  "response.output_text.delta",
  "response.function_call_arguments.delta",
  "conversation.item.input_audio_transcription.delta"
]);
var AUDIO_RUN_TYPES = /* @__PURE__ */ new Set(["input_audio_buffer.append", "response.output_audio.delta"]);
var SUMMARY_MAX = 120;
var DEFAULT_ROW_CAP = 2e3;
function normalizeRow(r) {
  const seq = Number(r.seq ?? 0);
  return {
    seq,
    last: Number(r.last ?? seq),
    n: Number(r.n ?? 1),
    t: Number(r.t ?? 0),
    dir: (
      /** @type {Row["dir"]} */
      r.dir ?? "local"
    ),
    type: String(r.type ?? "?"),
    item: r.item ?? null,
    resp: r.resp ?? null,
    summary: String(r.summary ?? ""),
    size: Number(r.size ?? 0),
    audio_ms: Number(r.audio_ms ?? 0),
    turn: typeof r.turn === "number" ? r.turn : null
  };
}
function canMerge(prev, row) {
  return COALESCED_TYPES.has(row.type) && prev.type === row.type && prev.dir === row.dir && (prev.item ?? null) === (row.item ?? null) && prev.turn === row.turn && row.seq > prev.last;
}
function summaryText(summary) {
  const i = summary.indexOf('"');
  if (i < 0) return { text: "", clipped: false };
  const rest = summary.slice(i + 1);
  if (rest.endsWith('"')) return { text: rest.slice(0, -1), clipped: false };
  return { text: rest.endsWith("\u2026") ? rest.slice(0, -1) : rest, clipped: true };
}
function clip(text, limit = SUMMARY_MAX) {
  return text.length <= limit ? text : text.slice(0, limit - 1) + "\u2026";
}
function mergeRows(a, b) {
  const n2 = a.n + b.n;
  const audio_ms = Math.round((a.audio_ms + b.audio_ms) * 1e3) / 1e3;
  let summary;
  if (AUDIO_RUN_TYPES.has(a.type)) {
    summary = `${a.type} \xD7${n2} (${Math.round(audio_ms * 10) / 10} ms)`;
  } else {
    const x = summaryText(a.summary);
    const y = summaryText(b.summary);
    summary = x.clipped ? `${a.type} \xD7${n2} "${x.text}\u2026` : clip(`${a.type} \xD7${n2} "${x.text}${y.text}${y.clipped ? "\u2026" : '"'}`);
  }
  return {
    ...a,
    last: b.last,
    n: n2,
    resp: a.resp ?? b.resp,
    summary,
    size: a.size + b.size,
    audio_ms
  };
}
function compileFilter({ type = "", dir = "", search = "", turn = null } = {}) {
  const pos = [];
  const neg = [];
  for (const tok of type.split(/[\s,]+/)) {
    if (!tok) continue;
    if (tok[0] === "-" || tok[0] === "!") {
      if (tok.length > 1) neg.push(tok.slice(1).toLowerCase());
    } else pos.push(tok.toLowerCase());
  }
  return { pos, neg, dir, q: search.trim().toLowerCase(), turn: typeof turn === "number" ? turn : null };
}
function filterIsEmpty(f) {
  return !f.pos.length && !f.neg.length && !f.dir && !f.q && f.turn === null;
}
function rowMatches(row, f) {
  if (f.turn !== null && row.turn !== f.turn) return false;
  if (f.dir && row.dir !== f.dir) return false;
  const type = row.type.toLowerCase();
  if (f.pos.length && !f.pos.some((p) => type.startsWith(p))) return false;
  if (f.neg.some((p) => type.startsWith(p))) return false;
  if (f.q) {
    const hay = `${row.seq} ${row.type} ${row.item ?? ""} ${row.resp ?? ""} ${row.summary}`.toLowerCase();
    if (!hay.includes(f.q)) return false;
  }
  return true;
}
var RowStore = class {
  /** @param {number} cap */
  constructor(cap = DEFAULT_ROW_CAP) {
    this.rows = [];
    this.cap = sanitizeCap(cap);
    this.hidden = 0;
    this.removedTotal = 0;
    this.epoch = 0;
    this.total = 0;
    this.counts = {};
  }
  /**
   * Take a ROWS batch.
   * @param {Partial<Row>[]} rows
   * @param {{replace?: boolean, total?: number, counts?: Record<string, number>}} [meta]
   */
  ingest(rows, { replace = false, total, counts } = {}) {
    if (replace) this.reset();
    for (const r of rows || []) this.add(r);
    if (typeof total === "number") this.total = total;
    if (counts && typeof counts === "object") this.counts = { ...counts };
    this.trim();
  }
  /**
   * Rows whose turn became known after they were sent (`{seq: turn}`): each gets a new object
   * with its turn. Returns the indices that changed.
   * @param {Record<string, number>|undefined} turns
   * @returns {number[]}
   */
  applyTurns(turns) {
    const changed = [];
    if (!turns) return changed;
    this.rows.forEach((row, i) => {
      const turn = turns[String(row.seq)];
      if (typeof turn === "number" && row.turn !== turn) {
        this.rows[i] = { ...row, turn };
        changed.push(i);
      }
    });
    return changed;
  }
  /** @param {Partial<Row>} raw */
  add(raw) {
    const row = normalizeRow(raw);
    const n2 = this.rows.length;
    if (n2 && canMerge(this.rows[n2 - 1], row)) this.rows[n2 - 1] = mergeRows(this.rows[n2 - 1], row);
    else this.rows.push(row);
  }
  reset() {
    this.rows = [];
    this.hidden = 0;
    this.epoch += 1;
  }
  /** @param {number} cap */
  setCap(cap) {
    this.cap = sanitizeCap(cap);
    this.trim();
  }
  trim() {
    const over = this.rows.length - this.cap;
    if (over > 0) {
      this.rows.splice(0, over);
      this.hidden += over;
      this.removedTotal += over;
    }
  }
  /** @param {Filter} f */
  matching(f) {
    return this.rows.filter((r) => rowMatches(r, f));
  }
};
function sanitizeCap(cap) {
  const n2 = Math.floor(Number(cap));
  return Number.isFinite(n2) && n2 > 0 ? n2 : DEFAULT_ROW_CAP;
}

// src/row-format.js
var DIR_ARROWS = { client: "\u2192", server: "\u2190", local: "\u2022" };
var DIR_TITLES = {
  client: "sent by the client (this notebook) to the server",
  server: "received from the server",
  local: "local: noted by realtime-nb, not on the wire"
};
function shortId(id, keep = 5) {
  if (!id) return "";
  if (id.length <= keep + 7) return id;
  const us = id.indexOf("_");
  const prefix = us > 0 && us < 10 ? id.slice(0, us + 1) : "";
  return `${prefix}\u2026${id.slice(-keep)}`;
}
function formatSize(bytes) {
  if (!bytes) return "";
  if (bytes < 1e3) return `${bytes} B`;
  if (bytes < 1e6) return `${(bytes / 1e3).toFixed(bytes < 1e4 ? 1 : 0)} kB`;
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
function formatTime(t) {
  if (!Number.isFinite(t)) return "";
  if (t < 999.9995) return t.toFixed(3);
  const whole = Math.floor(t);
  if (t < 3600) {
    const m2 = Math.floor(t / 60);
    const s3 = (Math.floor((t - m2 * 60) * 10) / 10).toFixed(1).padStart(4, "0");
    return `${m2}:${s3}`;
  }
  const hours = Math.floor(whole / 3600);
  const m = String(Math.floor(whole % 3600 / 60)).padStart(2, "0");
  const s2 = String(whole % 60).padStart(2, "0");
  return `${hours}:${m}:${s2}`;
}
function timeTitle(t) {
  return Number.isFinite(t) ? `${t.toFixed(3)} s since the session started` : "";
}
function abbreviateType(type, max) {
  if (type.length <= max || max < 6) return type;
  const parts = type.split(/(?<=[._])/);
  const head = parts[0];
  const short = head.replace(/[._]$/, "").slice(0, 4);
  let best = "";
  let bestTail = -1;
  for (let k = 1; k < parts.length; k++) {
    const tail = parts.slice(k).join("");
    for (const prefix of [head, short]) {
      const candidate = `${prefix}\u2026${tail}`;
      if (candidate.length <= max && tail.length > bestTail) {
        best = candidate;
        bestTail = tail.length;
      }
    }
    if (best) break;
  }
  const room = max - short.length - 1;
  if (room > 0 && room >= bestTail + 5) return `${short}\u2026${type.slice(type.length - room)}`;
  return best || `\u2026${type.slice(type.length - (max - 1))}`;
}
function formatAudioMs(ms) {
  if (!ms) return "";
  return ms >= 1e4 ? `${(ms / 1e3).toFixed(1)} s` : `${Math.round(ms)} ms`;
}
function displaySummary(row) {
  const s2 = row.summary;
  const run = `${row.type} \xD7${row.n}`;
  if (row.n > 1 && s2.startsWith(run)) return s2.slice(run.length).trimStart();
  if (s2 === row.type) return "";
  if (s2.startsWith(`${row.type} `)) return s2.slice(row.type.length + 1);
  return s2;
}
function isErrorRow(row) {
  return row.type === "error" || row.type.endsWith(".failed") || row.type.includes("error");
}
function audioMarkers(payload) {
  const found = [];
  const walk = (value, path) => {
    if (!value || typeof value !== "object" || found.length > 20) return;
    if (Array.isArray(value)) {
      value.forEach((v, i) => walk(v, `${path}[${i}]`));
      return;
    }
    const obj2 = (
      /** @type {Record<string, unknown>} */
      value
    );
    if (typeof obj2.audio_bytes === "number" && typeof obj2.ms === "number" && path) {
      found.push({ path, bytes: obj2.audio_bytes, ms: obj2.ms });
      return;
    }
    for (const [k, v] of Object.entries(obj2)) walk(v, path ? `${path}.${k}` : k);
  };
  walk(payload, "");
  return found;
}

// src/table.js
var MAX_ROWS_PER_FRAME = 400;
var MIN_FLUSH_INTERVAL_MS = 200;
var COLUMNS = [
  ["dir", "", "direction"],
  ["t", "t (s)", "seconds since the session started (m:ss.s after 1000 s, h:mm:ss after an hour)"],
  ["turn", "turn", "conversation turn: click a turn in the timeline or a transcript bubble to show only its rows"],
  ["type", "type", "event type, shortened in the middle when the column is narrow (hover for the full name; \xD7n: a run of n deltas shown as one row)"],
  ["ids", "item", "item id, else response id (hover for both)"],
  ["summary", "summary", ""],
  ["size", "size", "bytes on the wire"],
  ["audio", "audio", "audio carried by the event(s)"]
];
var TYPE_SUGGESTIONS = [
  "session.",
  "input_audio_buffer.",
  "-input_audio_buffer.append",
  "conversation.",
  "response.",
  "-response.output_audio.delta",
  "response.done",
  "error",
  "local."
];
var DEFAULT_TYPE_CHARS = 30;
var TableView = class {
  /**
   * @param {{signal: AbortSignal,
   *   requestEvent: (seq: number, options?: EventRequestOptions) => Promise<EventReply>,
   *   clearLog: () => void, onError: (e: unknown) => void}} opts
   */
  constructor({ signal, requestEvent, clearLog, onError }) {
    this.store = new RowStore();
    this.requestEvent = requestEvent;
    this.onError = onError;
    this.filter = compileFilter();
    this.dom = [];
    this.renderedEpoch = 0;
    this.renderedRemoved = 0;
    this.raf = null;
    this.lastFlush = -Infinity;
    this.fallback = null;
    this.autoPaused = false;
    this.lastScrollTop = 0;
    this.selectedSeq = null;
    this.jsonToken = 0;
    this.signal = signal;
    this.turnFilter = null;
    this.typeChars = DEFAULT_TYPE_CHARS;
    this.cleared = null;
    const opt = { signal };
    this.filterType = /** @type {HTMLInputElement} */
    h("input", {
      rtnb: "filter-type",
      type: "search",
      class: "rtnb-input rtnb-filter-type",
      placeholder: "type prefix, e.g. response.  -input_audio",
      title: "Show types starting with these prefixes (space or comma separated); a leading - hides a prefix",
      autocomplete: "off",
      spellcheck: "false",
      "data-lm-suppress-shortcuts": "true"
    });
    const listId = `rtnb-types-${Math.random().toString(36).slice(2, 9)}`;
    this.filterType.setAttribute("list", listId);
    const datalist = h("datalist", { id: listId }, ...TYPE_SUGGESTIONS.map((v) => h("option", { value: v })));
    this.filterDir = /** @type {HTMLSelectElement} */
    h(
      "select",
      { rtnb: "filter-dir", class: "rtnb-select", title: "direction" },
      h("option", { value: "" }, "all"),
      h("option", { value: "client" }, "\u2192 sent"),
      h("option", { value: "server" }, "\u2190 received"),
      h("option", { value: "local" }, "\u2022 local")
    );
    this.search = /** @type {HTMLInputElement} */
    h("input", {
      rtnb: "search",
      type: "search",
      class: "rtnb-input rtnb-search",
      placeholder: "search",
      title: "Search seq, type, ids and summary",
      autocomplete: "off",
      spellcheck: "false",
      "data-lm-suppress-shortcuts": "true"
    });
    this.follow = /** @type {HTMLInputElement} */
    h("input", { rtnb: "follow", type: "checkbox" });
    this.follow.checked = true;
    this.hiddenCount = h("span", { rtnb: "hidden-count" }, "0");
    this.hiddenNote = h("span", { class: "rtnb-hidden-note", hidden: true, title: "Oldest rows were removed from this table to keep it fast (row_cap). The kernel keeps them: w.events" }, this.hiddenCount, " older rows hidden");
    this.countsEl = h("span", { class: "rtnb-counts" });
    this.clearedNote = h("span", { rtnb: "cleared-note", class: "rtnb-cleared-note", hidden: true });
    this.turnChipLabel = h("span", {}, "");
    const turnChipClose = h("button", { class: "rtnb-chip-x", type: "button", title: "Show every turn", "aria-label": "Show every turn" }, "\xD7");
    this.turnChip = h("span", { rtnb: "turn-filter", class: "rtnb-chip", hidden: true, title: "Only this turn's rows are shown" }, this.turnChipLabel, turnChipClose);
    turnChipClose.addEventListener("click", () => this.setTurnFilter(null), opt);
    const clearBtn = h(
      "button",
      { rtnb: "clear", class: "rtnb-btn rtnb-btn-small", type: "button", title: "Hide the rows shown so far from this table (the kernel keeps every event: w.events)" },
      "clear"
    );
    clearBtn.addEventListener(
      "click",
      () => {
        try {
          const rows = this.store.rows.length + this.store.hidden;
          const last = this.store.rows[this.store.rows.length - 1];
          this.cleared = { rows: (this.cleared?.rows ?? 0) + rows, t: last ? last.t : 0 };
          clearLog();
          this.showClearedNote();
        } catch (e) {
          this.onError(e);
        }
      },
      opt
    );
    const toolbar = h(
      "div",
      { class: "rtnb-table-toolbar" },
      this.filterType,
      datalist,
      this.filterDir,
      this.search,
      this.turnChip,
      h("label", { class: "rtnb-follow", title: "Keep the newest row in view (pauses when you scroll up)" }, this.follow, " follow"),
      clearBtn
    );
    this.thead = h(
      "div",
      { class: "rtnb-tr rtnb-thead", role: "row" },
      ...COLUMNS.map(([k, label, title2]) => h("span", { class: `rtnb-th rtnb-c-${k}`, role: "columnheader", title: title2 || null }, label))
    );
    this.tbody = h("div", { class: "rtnb-tbody", role: "rowgroup" });
    this.table = h("div", { class: "rtnb-table", role: "table", "aria-label": "Events" }, this.thead, this.tbody);
    this.scroller = h("div", { rtnb: "table", class: "rtnb-table-scroll", tabindex: "0" }, this.table);
    this.empty = h("div", { class: "rtnb-empty" }, "No events yet. Start the mic or send a message.");
    this.scroller.append(this.empty);
    this.jsonTitle = h("span", { class: "rtnb-json-title" });
    this.jsonPre = h("pre", { class: "rtnb-json-pre" });
    this.jsonNote = h("div", { rtnb: "json-note", class: "rtnb-json-note", hidden: true });
    const copyBtn = h("button", { class: "rtnb-btn rtnb-btn-small", type: "button", title: "Copy the JSON" }, "copy");
    const closeBtn = h("button", { class: "rtnb-btn rtnb-btn-small", type: "button", title: "Close", "aria-label": "Close the JSON panel" }, "\xD7");
    this.json = h(
      "div",
      { rtnb: "json", class: "rtnb-json", hidden: true },
      h("div", { class: "rtnb-json-head" }, this.jsonTitle, h("span", { class: "rtnb-spacer" }), copyBtn, closeBtn),
      this.jsonNote,
      this.jsonPre
    );
    this.el = h(
      "section",
      { class: "rtnb-events", "aria-label": "Events" },
      h("div", { class: "rtnb-section-head" }, h("h3", { class: "rtnb-h" }, "Events"), this.countsEl, this.hiddenNote, this.clearedNote),
      toolbar,
      this.scroller,
      this.json
    );
    this.template = h(
      "div",
      { rtnb: "row", class: "rtnb-tr", role: "row" },
      ...COLUMNS.map(([k]) => h("span", { class: `rtnb-td rtnb-c-${k}`, role: "cell" }))
    );
    let searchTimer = (
      /** @type {ReturnType<typeof setTimeout>|null} */
      null
    );
    const refilter = () => this.applyFilter();
    this.filterType.addEventListener("input", refilter, opt);
    this.filterDir.addEventListener("change", refilter, opt);
    this.search.addEventListener(
      "input",
      () => {
        if (searchTimer) clearTimeout(searchTimer);
        searchTimer = setTimeout(refilter, 120);
      },
      opt
    );
    signal.addEventListener("abort", () => searchTimer && clearTimeout(searchTimer), { once: true });
    this.follow.addEventListener(
      "change",
      () => {
        this.autoPaused = false;
        if (this.follow.checked) this.scrollToEnd();
      },
      opt
    );
    this.scroller.addEventListener("scroll", () => this.onScroll(), { ...opt, passive: true });
    this.tbody.addEventListener(
      "click",
      (ev) => {
        const tr = (
          /** @type {HTMLElement|null} */
          /** @type {HTMLElement} */
          ev.target.closest("[data-rtnb=row]")
        );
        if (tr) this.select(Number(tr.dataset.seq), tr);
      },
      opt
    );
    this.scroller.addEventListener(
      "keydown",
      (ev) => {
        if (ev.key !== "ArrowDown" && ev.key !== "ArrowUp") return;
        const sel = this.tbody.querySelector(".rtnb-selected");
        let tr = (
          /** @type {Element|null} */
          sel
        );
        do {
          tr = tr ? ev.key === "ArrowDown" ? tr.nextElementSibling : tr.previousElementSibling : this.tbody.firstElementChild;
        } while (tr && /** @type {HTMLElement} */
        tr.hidden);
        if (tr instanceof HTMLElement) {
          ev.preventDefault();
          tr.scrollIntoView({ block: "nearest" });
          this.select(Number(tr.dataset.seq), tr);
        }
      },
      opt
    );
    closeBtn.addEventListener("click", () => this.closeJson(), opt);
    copyBtn.addEventListener(
      "click",
      () => {
        const text = this.jsonPre.textContent || "";
        if (navigator.clipboard) navigator.clipboard.writeText(text).catch((e) => this.onError(e));
      },
      opt
    );
    signal.addEventListener("abort", () => this.cancelFrame(), { once: true });
    this.watchTypeWidth();
  }
  /** Re-measure how many characters the type column holds whenever the table is resized. */
  watchTypeWidth() {
    if (typeof ResizeObserver === "undefined") return;
    const cell = (
      /** @type {HTMLElement|null} */
      this.thead.querySelector(".rtnb-c-type")
    );
    if (!cell) return;
    const probe = h("span", { class: "rtnb-probe", "aria-hidden": "true" }, "0000000000");
    this.table.append(probe);
    const observer = new ResizeObserver(() => {
      const charWidth = probe.getBoundingClientRect().width / 10;
      const width = cell.clientWidth - 8;
      if (!(charWidth > 0) || !(width > 0)) return;
      const chars = Math.max(8, Math.floor(width / charWidth));
      if (chars === this.typeChars) return;
      this.typeChars = chars;
      for (const { row, tr } of this.dom) this.fillType(
        /** @type {HTMLElement} */
        tr.children[3],
        row
      );
    });
    observer.observe(cell);
    this.signal.addEventListener("abort", () => observer.disconnect(), { once: true });
  }
  /**
   * Show only the rows of conversation turn `n` (null: every turn).
   * @param {number|null} n
   */
  setTurnFilter(n2) {
    this.turnFilter = typeof n2 === "number" && Number.isFinite(n2) ? n2 : null;
    this.turnChip.hidden = this.turnFilter === null;
    this.turnChipLabel.textContent = this.turnFilter === null ? "" : `turn ${this.turnFilter}`;
    this.applyFilter();
  }
  showClearedNote() {
    const c = this.cleared;
    this.clearedNote.hidden = !c;
    if (!c) return;
    this.clearedNote.textContent = `cleared ${c.rows.toLocaleString()} rows up to ${formatTime(c.t)} s`;
    this.clearedNote.title = "Clear hides rows from this table only. The kernel keeps every event: w.events (and w.events.to_dataframe()).";
  }
  /**
   * Take a ROWS message.
   * @param {import("./bridge.js").Rows} msg
   */
  ingest(msg) {
    this.store.ingest(msg.rows, { replace: !!msg.replace, total: msg.total, counts: msg.counts });
    for (const i of this.store.applyTurns(msg.turns)) {
      const entry = this.dom[i];
      if (entry && entry.row.seq === this.store.rows[i].seq) {
        entry.row = this.store.rows[i];
        this.fill(entry.tr, entry.row);
      }
    }
    this.schedule();
  }
  /** @param {number} cap */
  setCap(cap) {
    this.store.setCap(cap);
    this.schedule();
  }
  get rowCount() {
    return this.store.rows.length;
  }
  schedule() {
    if (this.raf !== null || this.fallback !== null || this.signal.aborted) return;
    const wait = Math.max(0, this.lastFlush + MIN_FLUSH_INTERVAL_MS - performance.now());
    if (wait > 0) {
      this.fallback = setTimeout(() => {
        this.fallback = null;
        this.schedule();
      }, wait);
      return;
    }
    this.raf = requestAnimationFrame(() => this.flush());
    this.fallback = setTimeout(() => this.flush(), 500);
  }
  cancelFrame() {
    if (this.raf !== null) cancelAnimationFrame(this.raf);
    if (this.fallback !== null) clearTimeout(this.fallback);
    this.raf = null;
    this.fallback = null;
  }
  /** Mirror the store into the DOM (one frame's worth). */
  flush() {
    this.cancelFrame();
    this.lastFlush = performance.now();
    try {
      this.render();
    } catch (e) {
      this.onError(e);
    }
  }
  render() {
    const store = this.store;
    if (this.renderedEpoch !== store.epoch) {
      this.tbody.textContent = "";
      this.dom = [];
      this.renderedEpoch = store.epoch;
      this.renderedRemoved = store.removedTotal;
      if (this.selectedSeq !== null) this.selectedSeq = null;
    }
    const drop = Math.min(store.removedTotal - this.renderedRemoved, this.dom.length);
    if (drop > 0) {
      if (drop === this.dom.length) this.tbody.textContent = "";
      else for (let i = 0; i < drop; i++) this.dom[i].tr.remove();
      this.dom.splice(0, drop);
    }
    this.renderedRemoved = store.removedTotal;
    const offset = Math.max(0, this.dom.length - store.rows.length);
    if (offset) {
      for (let i = 0; i < offset; i++) this.dom[i].tr.remove();
      this.dom.splice(0, offset);
    }
    const k = this.dom.length - 1;
    if (k >= 0 && store.rows[k] !== this.dom[k].row) {
      this.dom[k].row = store.rows[k];
      this.fill(this.dom[k].tr, store.rows[k]);
    }
    const start = this.dom.length;
    const end = Math.min(store.rows.length, start + MAX_ROWS_PER_FRAME);
    if (end > start) {
      const frag = document.createDocumentFragment();
      for (let i = start; i < end; i++) {
        const row = store.rows[i];
        const tr = (
          /** @type {HTMLElement} */
          this.template.cloneNode(true)
        );
        this.fill(tr, row);
        frag.append(tr);
        this.dom.push({ row, tr });
      }
      this.tbody.append(frag);
    }
    this.empty.hidden = store.rows.length > 0;
    this.updateCounts();
    if (this.follow.checked) this.scrollToEnd();
    if (end < store.rows.length) this.schedule();
  }
  /**
   * @param {HTMLElement} tr
   * @param {Row} row
   */
  fill(tr, row) {
    const d = tr.dataset;
    d.seq = String(row.seq);
    d.last = String(row.last);
    d.n = String(row.n);
    d.type = row.type;
    d.dir = row.dir;
    d.turn = row.turn === null ? "" : String(row.turn);
    const c = (
      /** @type {HTMLCollectionOf<HTMLElement>} */
      tr.children
    );
    c[0].textContent = DIR_ARROWS[row.dir] ?? "?";
    c[0].title = DIR_TITLES[row.dir] ?? row.dir;
    c[1].textContent = formatTime(row.t);
    c[1].title = timeTitle(row.t);
    c[2].textContent = row.turn === null ? "" : String(row.turn);
    this.fillType(c[3], row);
    c[4].textContent = shortId(row.item || row.resp);
    c[4].title = [row.item && `item ${row.item}`, row.resp && `response ${row.resp}`].filter(Boolean).join("\n");
    c[5].textContent = displaySummary(row);
    c[5].title = row.summary;
    c[6].textContent = formatSize(row.size);
    c[7].textContent = formatAudioMs(row.audio_ms);
    tr.classList.toggle("rtnb-row-error", isErrorRow(row));
    tr.classList.toggle("rtnb-selected", row.seq === this.selectedSeq);
    tr.hidden = !rowMatches(row, this.filter);
  }
  /**
   * The type cell: shortened in the middle to the column's width, the full name on hover.
   * @param {HTMLElement} cell
   * @param {Row} row
   */
  fillType(cell, row) {
    const badge = row.n > 1 ? `\xD7${row.n}` : "";
    const room = this.typeChars - (badge ? badge.length + 1 : 0);
    cell.textContent = abbreviateType(row.type, room);
    if (badge) {
      const el = document.createElement("span");
      el.className = "rtnb-n";
      el.textContent = badge;
      cell.append(" ", el);
    }
    cell.title = row.n > 1 ? `${row.type}: ${row.n} events, seq ${row.seq}\u2013${row.last}` : `${row.type} (seq ${row.seq})`;
  }
  applyFilter() {
    this.filter = compileFilter({
      type: this.filterType.value,
      dir: this.filterDir.value,
      search: this.search.value,
      turn: this.turnFilter
    });
    for (const { row, tr } of this.dom) tr.hidden = !rowMatches(row, this.filter);
    this.updateCounts();
    if (this.follow.checked) this.scrollToEnd();
  }
  updateCounts() {
    const s2 = this.store;
    this.hiddenCount.textContent = String(s2.hidden);
    this.hiddenNote.hidden = s2.hidden === 0;
    const dirs = ["client", "server", "local"].filter((d) => s2.counts[d]).map((d) => `${DIR_ARROWS[
      /** @type {"client"} */
      d
    ]} ${s2.counts[d]}`).join("  ");
    let shown = "";
    if (!filterIsEmpty(this.filter)) {
      let n2 = 0;
      for (const { tr } of this.dom) if (!tr.hidden) n2++;
      shown = ` \xB7 ${n2} rows match`;
    }
    this.countsEl.textContent = s2.total ? `${s2.total} events${dirs ? ` (${dirs})` : ""}${shown}` : shown.slice(3);
  }
  scrollToEnd() {
    const s2 = this.scroller;
    s2.scrollTop = s2.scrollHeight;
    this.lastScrollTop = s2.scrollTop;
  }
  onScroll() {
    const s2 = this.scroller;
    const atEnd = s2.scrollTop + s2.clientHeight >= s2.scrollHeight - 4;
    if (atEnd) {
      if (this.autoPaused) {
        this.autoPaused = false;
        this.follow.checked = true;
      }
    } else if (s2.scrollTop < this.lastScrollTop - 1 && this.follow.checked) {
      this.follow.checked = false;
      this.autoPaused = true;
    }
    this.lastScrollTop = s2.scrollTop;
  }
  /**
   * Select a row and show its JSON (asked from the kernel; never hangs).
   * @param {number} seq
   * @param {HTMLElement} [tr]
   */
  select(seq, tr) {
    for (const old of this.tbody.querySelectorAll(".rtnb-selected")) old.classList.remove("rtnb-selected");
    this.selectedSeq = seq;
    if (tr) tr.classList.add("rtnb-selected");
    const entry = this.dom.find((d) => d.row.seq === seq);
    const row = entry ? entry.row : null;
    const head = row ? `#${row.seq} ${row.type}${row.n > 1 ? ` (first of ${row.n} events, seq ${row.seq}\u2013${row.last})` : ""}` : `#${seq}`;
    this.jsonTitle.textContent = head;
    this.jsonNote.hidden = true;
    this.jsonNote.textContent = "";
    this.jsonPre.textContent = "loading\u2026";
    this.json.hidden = false;
    this.json.classList.remove("rtnb-json-error");
    const token = ++this.jsonToken;
    this.requestEvent(seq).then(
      (reply) => {
        if (token !== this.jsonToken) return;
        if (reply.error) {
          this.jsonPre.textContent = reply.error;
          this.json.classList.add("rtnb-json-error");
        } else {
          this.jsonPre.textContent = JSON.stringify(reply.payload, null, 2);
          this.explainMarkers(seq, reply.payload, token);
        }
      },
      (e) => {
        if (token !== this.jsonToken) return;
        this.jsonPre.textContent = String(e && e.message ? e.message : e);
        this.json.classList.add("rtnb-json-error");
      }
    );
  }
  /**
   * Say that audio was replaced by a marker, and offer the event as it was sent.
   * @param {number} seq
   * @param {object|null} payload
   * @param {number} token
   */
  explainMarkers(seq, payload, token) {
    const markers = audioMarkers(payload);
    if (!markers.length) return;
    const where = markers.map((m) => `${m.path} (${m.bytes.toLocaleString()} bytes, ${m.ms} ms)`).join(", ");
    const asSent = h("button", { rtnb: "json-original", class: "rtnb-btn rtnb-btn-small", type: "button", title: "Ask the kernel for this event with its base64 audio, as it crossed the wire" }, "show as sent");
    this.jsonNote.replaceChildren(
      `The base64 audio in ${where} was replaced here by a marker {audio_bytes, ms}, to keep the log small. `,
      asSent
    );
    this.jsonNote.hidden = false;
    asSent.addEventListener("click", () => {
      asSent.setAttribute("disabled", "");
      this.requestEvent(seq, { original: true }).then(
        (reply) => {
          if (token !== this.jsonToken) return;
          if (reply.error) {
            this.jsonNote.replaceChildren(reply.error);
          } else {
            this.jsonNote.replaceChildren("As sent, with its base64 audio:");
            this.jsonPre.textContent = JSON.stringify(reply.payload, null, 2);
          }
        },
        (e) => {
          if (token === this.jsonToken) this.jsonNote.replaceChildren(String(e && e.message ? e.message : e));
        }
      );
    });
  }
  closeJson() {
    this.jsonToken++;
    this.json.hidden = true;
    this.selectedSeq = null;
    for (const old of this.tbody.querySelectorAll(".rtnb-selected")) old.classList.remove("rtnb-selected");
  }
};

// src/status-panel.js
var PCM_RATE2 = 24e3;
function statsNodes(s2, rowsShown) {
  const parts = [];
  parts.push(`mic ${num(s2.mic_frames)} frames \xB7 ${fmtMs(num(s2.mic_ms))}`);
  const dropped = num(s2.mic_dropped);
  if (dropped > 0) parts.push(h("span", { class: "rtnb-stat-bad" }, `kernel busy: ${dropped} mic frames dropped`));
  parts.push(`audio out ${num(s2.audio_chunks_sent)} chunks \xB7 ${fmtMs(num(s2.audio_ms_sent))}`);
  if (s2.played && typeof s2.played === "object") {
    const samples = Object.values(s2.played).reduce((a, b) => a + num(b), 0);
    parts.push(`played ${fmtMs(samples / (PCM_RATE2 / 1e3))}`);
  } else if (s2.played !== void 0) {
    parts.push(`played ${fmtMs(num(s2.played))}`);
  }
  if (num(s2.interrupts)) parts.push(`${num(s2.interrupts)} interrupts`);
  parts.push(`rows ${num(s2.rows_sent)} sent \xB7 ${rowsShown} shown`);
  if (num(s2.views) > 1) parts.push(`${num(s2.views)} views`);
  const nodes = [];
  for (const p of parts) {
    if (nodes.length) nodes.push(h("span", { class: "rtnb-sep" }, " \xB7 "));
    nodes.push(typeof p === "string" ? h("span", {}, p) : p);
  }
  return nodes;
}
function warnText(silentForMs, stallAfterMs, s2) {
  const lines = [];
  if (silentForMs !== null && silentForMs > stallAfterMs) {
    lines.push(
      `The kernel has not answered for ${Math.floor(silentForMs / 1e3)} s: a running cell is probably blocking it. Events and audio catch up when it is free; mic audio that waits too long is dropped (and counted).`
    );
  }
  const dropped = num(s2.mic_dropped);
  if (dropped > 0) lines.push(`Kernel busy: ${dropped} mic frames dropped (they arrived too late to be useful).`);
  return lines.join("\n");
}
function hintText(mode, turnDetection2, micState) {
  if (mode === "push_to_talk") {
    return micState === "on" ? "Hold the button (or Space on it) while you speak." : "Hold the button while you speak; the mic starts on the first press.";
  }
  if (turnDetection2 === null || turnDetection2 === "none") {
    return "Turn detection is off: use push-to-talk, or type a message.";
  }
  if (micState === "on" && turnDetection2 === "server_vad") {
    return "Speak: the bar turns green above the VAD line. Use headphones so the model does not hear itself.";
  }
  return "";
}
function envRows(f) {
  const st = f.micSettings;
  return [
    ["secure context", f.secureContext ? "yes" : "no: open Jupyter over https or http://localhost (an SSH tunnel works)", !f.secureContext],
    ["microphone API", f.micSupport ? f.micSupport.message : "available", !!f.micSupport],
    ["microphone permission", f.micPermission, f.micPermission === "denied"],
    ["AudioContext", f.context ? `${f.context.sampleRate} Hz, ${f.context.state}` : "not started", !f.context],
    [
      "mic track",
      Object.keys(st).length ? ["sampleRate", "channelCount", "echoCancellation", "noiseSuppression", "autoGainControl"].filter((k) => k in st).map((k) => `${k}=${st[k]}`).join(" ") : "not started"
    ],
    ["kernel buffers arrive as", f.bufferKind],
    ["kernel threads handling the widget", (f.commThreads || []).join(", ") || "\u2013"],
    ["comm round trip", f.rttMs === null ? "\u2013" : `${Math.round(f.rttMs)} ms`],
    ["player", f.player ? `buffered ${Math.round(num(f.player.buffered_ms))} ms, ${num(f.player.underruns)} underruns` : "not started"],
    ["view", f.viewId],
    ["browser", f.userAgent]
  ];
}

// src/footer.js
var Footer = class {
  /**
   * @param {{signal: AbortSignal, guard: import("./guard.js").Guard, facts: () => ViewFacts}} opts
   *   `facts`: what the view knows now, for the environment check
   */
  constructor({ signal, guard, facts }) {
    this.signal = signal;
    this.facts = facts;
    this.micPermission = "unknown";
    this.statsEl = h("div", { rtnb: "stats", class: "rtnb-stats" });
    this.envBody = h("dl", { class: "rtnb-env-list" });
    this.env = /** @type {HTMLDetailsElement} */
    h("details", { class: "rtnb-env" }, h("summary", {}, "environment check"), this.envBody);
    this.el = h("footer", { class: "rtnb-footer" }, this.statsEl, this.env);
    this.env.addEventListener("toggle", guard(() => this.renderEnv()), { signal });
  }
  /**
   * @param {Record<string, any>} stats the `stats` trait
   * @param {number} rowsShown rows in this view's table
   */
  renderStats(stats, rowsShown) {
    this.statsEl.replaceChildren(...statsNodes(stats, rowsShown));
  }
  /** Refresh the environment check if it is open (called periodically). */
  refreshEnv() {
    if (this.env.open) this.renderEnv();
  }
  renderEnv() {
    const nav = (
      /** @type {any} */
      globalThis.navigator || {}
    );
    if (nav.permissions && typeof nav.permissions.query === "function") {
      nav.permissions.query({ name: "microphone" }).then(
        (st) => {
          if (st.state !== this.micPermission && !this.signal.aborted) {
            this.micPermission = st.state;
            this.renderEnv();
          }
        },
        () => {
        }
        // Firefox before 131 cannot query "microphone": leave it unknown
      );
    }
    const rows = envRows({ ...this.facts(), micPermission: this.micPermission });
    this.envBody.replaceChildren(
      ...rows.flatMap(([k, v, bad]) => [h("dt", {}, k), h("dd", { class: bad ? "rtnb-stat-bad" : null }, v)])
    );
  }
};

// src/settings-panel.js
var obj = (v) => v && typeof v === "object" && !Array.isArray(v) ? (
  /** @type {Record<string, any>} */
  v
) : {};
var str = (v) => v === null || v === void 0 ? "" : String(v);
function formFromConfig(config, options = {}) {
  const input = obj(obj(config.audio).input);
  const output = obj(obj(config.audio).output);
  const td = input.turn_detection && typeof input.turn_detection === "object" ? obj(input.turn_detection) : null;
  const tr = input.transcription && typeof input.transcription === "object" ? obj(input.transcription) : null;
  const turn = td && (td.type === "server_vad" || td.type === "semantic_vad") ? td.type : "none";
  const mods = Array.isArray(config.output_modalities) ? config.output_modalities : ["audio"];
  return {
    turn,
    threshold: str(td?.threshold ?? 0.5),
    prefix_padding_ms: str(td?.prefix_padding_ms ?? 300),
    silence_duration_ms: str(td?.silence_duration_ms ?? options.default_silence_ms ?? 600),
    eagerness: str(td?.eagerness ?? "auto"),
    transcription: !!tr,
    transcription_model: str(tr?.model ?? options.default_transcription_model ?? "gpt-transcribe"),
    voice: typeof output.voice === "string" ? output.voice : "",
    instructions: str(config.instructions),
    output_modalities: mods.includes("text") && !mods.includes("audio") ? "text" : "audio"
  };
}
function numberOrText(text) {
  const t = text.trim();
  const x = Number(t);
  return t !== "" && Number.isFinite(x) ? x : text;
}
function turnDetection(f) {
  if (f.turn === "server_vad") {
    return {
      type: "server_vad",
      threshold: numberOrText(f.threshold),
      prefix_padding_ms: numberOrText(f.prefix_padding_ms),
      silence_duration_ms: numberOrText(f.silence_duration_ms)
    };
  }
  if (f.turn === "semantic_vad") return { type: "semantic_vad", eagerness: f.eagerness };
  return null;
}
function sessionUpdate(f, before) {
  const session = {};
  const input = {};
  const tdNow = JSON.stringify(turnDetection(f));
  if (tdNow !== JSON.stringify(turnDetection(before))) input.turn_detection = turnDetection(f);
  if (f.transcription !== before.transcription || f.transcription && f.transcription_model !== before.transcription_model) {
    input.transcription = f.transcription ? { model: f.transcription_model.trim() } : null;
  }
  const audio = {};
  if (Object.keys(input).length) audio.input = input;
  if (f.voice && f.voice !== before.voice) audio.output = { voice: f.voice };
  if (Object.keys(audio).length) session.audio = audio;
  if (f.instructions !== before.instructions) session.instructions = f.instructions;
  if (f.output_modalities !== before.output_modalities) session.output_modalities = [f.output_modalities];
  return session;
}
function pyLiteral(v, indent = "") {
  if (v === null || v === void 0) return "None";
  if (v === true) return "True";
  if (v === false) return "False";
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : "None";
  if (typeof v === "string") return JSON.stringify(v);
  const inner = indent + "    ";
  if (Array.isArray(v)) return `[${v.map((x) => pyLiteral(x, indent)).join(", ")}]`;
  const entries = Object.entries(
    /** @type {Record<string, unknown>} */
    v
  );
  if (!entries.length) return "{}";
  return `{
${entries.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${pyLiteral(x, inner)},`).join("\n")}
${indent}}`;
}
function pythonCode(session) {
  if (!Object.keys(session).length) return "# nothing changed: the session already has these settings";
  const wire = JSON.stringify({ type: "session.update", session: { type: "realtime", ...session } });
  return `w.update_session(${pyLiteral(session)})
# on the wire: ${wire}`;
}
var HELP = {
  turn: "audio.input.turn_detection: who ends your turn. Off = push-to-talk (you commit).",
  threshold: "turn_detection.threshold (0\u20131): how loud speech must be to start a turn.",
  prefix_padding_ms: "turn_detection.prefix_padding_ms: audio kept from before speech started.",
  silence_duration_ms: "turn_detection.silence_duration_ms: silence that ends a turn. Under ~500 ms ordinary pauses between sentences split one thought into several turns.",
  eagerness: "semantic_vad eagerness: low waits longer for you to finish (up to 8 s), high answers sooner (2 s).",
  transcription: "audio.input.transcription: transcribe what you say (your turns then show as text).",
  voice: "audio.output.voice (the service refuses a change once the model has spoken).",
  instructions: "instructions: the session's system prompt.",
  output_modalities: "output_modalities: audio (with a transcript) or text only."
};
var SettingsPanel = class {
  /**
   * @param {{signal: AbortSignal, guard: import("./guard.js").Guard,
   *   apply: (session: Record<string, any>) => void}} opts
   */
  constructor({ signal, guard, apply }) {
    this.apply = apply;
    this.config = {};
    this.options = {};
    this.dirty = /* @__PURE__ */ new Set();
    this.errors = {};
    const on = (t, type, fn) => t.addEventListener(type, guard(fn), { signal });
    const select = (name, choices) => (
      /** @type {HTMLSelectElement} */
      h("select", { rtnb: `settings-${name}`, class: "rtnb-select", name }, ...choices.map(([v, t]) => h("option", { value: v }, t)))
    );
    const input = (name, attrs = {}) => (
      /** @type {HTMLInputElement} */
      h("input", { rtnb: `settings-${name}`, class: "rtnb-input rtnb-settings-num", name, autocomplete: "off", "data-lm-suppress-shortcuts": "true", ...attrs })
    );
    this.fields = {
      turn: select("turn", [["none", "off (push-to-talk)"], ["server_vad", "server VAD"], ["semantic_vad", "semantic VAD"]]),
      threshold: input("threshold", { type: "number", min: "0", max: "1", step: "0.05" }),
      prefix_padding_ms: input("prefix_padding_ms", { type: "number", min: "0", step: "50" }),
      silence_duration_ms: input("silence_duration_ms", { type: "number", min: "0", step: "50" }),
      eagerness: select("eagerness", [["auto", "auto"], ["low", "low"], ["medium", "medium"], ["high", "high"]]),
      transcription: input("transcription", { type: "checkbox", class: "rtnb-settings-check" }),
      transcription_model: select("transcription_model", []),
      voice: select("voice", []),
      instructions: (
        /** @type {HTMLTextAreaElement} */
        h("textarea", { rtnb: "settings-instructions", class: "rtnb-input rtnb-settings-text", name: "instructions", rows: "3", "data-lm-suppress-shortcuts": "true" })
      ),
      output_modalities: select("output_modalities", [["audio", "audio + transcript"], ["text", "text only"]])
    };
    const row = (name, label, unit = "") => {
      const err = h("span", { rtnb: "settings-error", class: "rtnb-settings-error", "data-field": name, hidden: true });
      this.errors[name] = err;
      const extra = name === "transcription" ? this.fields.transcription_model : null;
      return h("label", { class: "rtnb-settings-row", "data-field": name, title: HELP[name] }, h("span", { class: "rtnb-settings-label" }, label), this.fields[name], unit, extra, err);
    };
    this.rows = {
      threshold: row("threshold", "threshold"),
      prefix_padding_ms: row("prefix_padding_ms", "prefix padding", " ms"),
      silence_duration_ms: row("silence_duration_ms", "silence", " ms"),
      eagerness: row("eagerness", "eagerness")
    };
    this.errors.transcription_model = this.errors.transcription = h("span", { rtnb: "settings-error", class: "rtnb-settings-error", "data-field": "transcription_model", hidden: true });
    this.serverError = h("div", { rtnb: "settings-error", class: "rtnb-settings-error", "data-field": "_", hidden: true });
    this.errors._ = this.serverError;
    this.applyButton = h("button", { rtnb: "settings-apply", class: "rtnb-btn rtnb-btn-primary", type: "button", disabled: true }, "Apply");
    this.copyButton = h("button", { rtnb: "settings-copy", class: "rtnb-btn", type: "button", title: "Show the session.update these settings send, as Python, and copy it" }, "Copy as code");
    this.code = h("pre", { rtnb: "settings-code", class: "rtnb-settings-code", hidden: true });
    this.el = /** @type {HTMLDetailsElement} */
    h(
      "details",
      { rtnb: "settings", class: "rtnb-settings" },
      h("summary", {}, "Session settings"),
      h(
        "div",
        { class: "rtnb-settings-grid" },
        row("turn", "turn detection"),
        this.rows.threshold,
        this.rows.prefix_padding_ms,
        this.rows.silence_duration_ms,
        this.rows.eagerness,
        h("label", { class: "rtnb-settings-row", "data-field": "transcription", title: HELP.transcription }, h("span", { class: "rtnb-settings-label" }, "transcribe me"), this.fields.transcription, this.fields.transcription_model, this.errors.transcription_model),
        row("voice", "voice"),
        row("output_modalities", "answers as"),
        row("instructions", "instructions")
      ),
      h("div", { class: "rtnb-row" }, this.applyButton, this.copyButton),
      this.serverError,
      this.code
    );
    for (const [name, el] of Object.entries(this.fields)) {
      on(el, el instanceof HTMLSelectElement || el instanceof HTMLInputElement && el.type === "checkbox" ? "change" : "input", () => {
        this.dirty.add(name);
        this.refreshState();
      });
      on(el, "keydown", (e) => e.stopPropagation());
    }
    on(this.applyButton, "click", () => {
      const update = this.update();
      if (!Object.keys(update).length) return;
      this.apply(update);
      this.dirty.clear();
      this.refreshState();
    });
    on(this.copyButton, "click", () => this.copy());
  }
  /** @returns {SettingsForm} what the form says now */
  read() {
    const f = this.fields;
    return {
      turn: (
        /** @type {SettingsForm["turn"]} */
        f.turn.value
      ),
      threshold: f.threshold.value,
      prefix_padding_ms: f.prefix_padding_ms.value,
      silence_duration_ms: f.silence_duration_ms.value,
      eagerness: f.eagerness.value,
      transcription: f.transcription.checked,
      transcription_model: f.transcription_model.value,
      voice: f.voice.value,
      instructions: f.instructions.value,
      output_modalities: f.output_modalities.value === "text" ? "text" : "audio"
    };
  }
  /** The session.update the form would send now (only what changed). */
  update() {
    return sessionUpdate(this.read(), formFromConfig(this.config, this.options));
  }
  /** @param {SettingsOptions} options the `settings_options` trait */
  setOptions(options) {
    this.options = obj(options);
    this.fill();
  }
  /** @param {Record<string, any>} config the `session_config` trait */
  setConfig(config) {
    this.config = obj(config);
    this.fill();
  }
  /** Put the session's values in every field the person is not editing. */
  fill() {
    const form = formFromConfig(this.config, this.options);
    const f = this.fields;
    setChoices(f.voice, [...this.options.voices || [], form.voice].filter(Boolean));
    setChoices(f.transcription_model, [...this.options.transcription_models || [], form.transcription_model]);
    for (const [name, value] of Object.entries(form)) {
      if (this.dirty.has(name)) continue;
      const el = (
        /** @type {any} */
        f[name]
      );
      if (name === "transcription") el.checked = !!value;
      else if (el.value !== value) el.value = String(value);
    }
    this.refreshState();
  }
  /** Show the fields that apply to the chosen turn detection; enable Apply when it would send. */
  refreshState() {
    const turn = this.fields.turn.value;
    for (const name of ["threshold", "prefix_padding_ms", "silence_duration_ms"]) this.rows[name].hidden = turn !== "server_vad";
    this.rows.eagerness.hidden = turn !== "semantic_vad";
    this.fields.transcription_model.disabled = !this.fields.transcription.checked;
    this.applyButton.disabled = !Object.keys(this.update()).length;
    if (!this.code.hidden) this.code.textContent = pythonCode(this.update());
  }
  /** @param {Record<string, string>} errors the `settings_errors` trait */
  setErrors(errors) {
    const e = obj(errors);
    for (const [name, el] of Object.entries(this.errors)) {
      const text = typeof e[name] === "string" ? e[name] : "";
      el.textContent = text;
      el.hidden = !text;
    }
    if (Object.keys(e).length) this.el.open = true;
  }
  copy() {
    const text = pythonCode(this.update());
    this.code.textContent = text;
    this.code.hidden = false;
    const clip2 = (
      /** @type {any} */
      globalThis.navigator?.clipboard
    );
    if (clip2 && typeof clip2.writeText === "function") clip2.writeText(text).catch(() => {
    });
  }
};
function setChoices(select, values) {
  const unique = [...new Set(values)];
  const now = [...select.options].map((o) => o.value);
  if (JSON.stringify(now) === JSON.stringify(unique)) return;
  const keep = select.value;
  select.replaceChildren(...unique.map((v) => h("option", { value: v }, v)));
  if (unique.includes(keep)) select.value = keep;
}

// src/timeline.js
var SVG = "http://www.w3.org/2000/svg";
var LANE_HEIGHT = 14;
var HEADER_HEIGHT = 16;
var LABEL_WIDTH = 44;
var MAX_AXIS_S = 30;
var MARK_LANE = { speech_started: "you", speech_stopped: "you", committed: "you", response_created: "model", first_audio: "model", first_text: "model", response_done: "model", truncated: "audio", cancelled: "model", error: "model" };
function fmtS(s2) {
  return typeof s2 === "number" && Number.isFinite(s2) ? `${s2.toFixed(3)} s` : "\u2013";
}
function fmtMsOrDash(ms) {
  return typeof ms === "number" && Number.isFinite(ms) ? `${Math.round(ms)} ms` : "\u2013";
}
function axisSeconds(turns) {
  let longest = 1;
  for (const t of turns) longest = Math.max(longest, num2(t.end) - num2(t.start));
  return Math.min(MAX_AXIS_S, longest);
}
function num2(v) {
  return typeof v === "number" && Number.isFinite(v) ? v : 0;
}
function layoutTurn(turn, axisS, width) {
  const t0 = num2(turn.start);
  const end = num2(turn.end) || t0;
  const x = (t) => Math.max(0, Math.min(width, (num2(t ?? end) - t0) / axisS * width));
  const spans = [];
  const marks = [];
  for (const s2 of turn.speech || []) {
    spans.push({ lane: "you", kind: "speech", x0: x(s2.start), x1: x(s2.end ?? end), title: `you spoke ${fmtS(s2.start)} \u2192 ${fmtS(s2.end)}` });
  }
  for (const r of turn.responses || []) {
    const rEnd = r.end ?? end;
    spans.push({ lane: "model", kind: "response", x0: x(r.start), x1: x(rEnd), title: `response ${r.response_id} ${r.status || "in progress"}: created ${fmtS(r.start)}, first audio ${fmtS(r.first_audio)}, done ${fmtS(r.end)}` });
    if (r.first_audio !== null && r.first_audio !== void 0) {
      spans.push({ lane: "model", kind: "waiting", x0: x(r.start), x1: x(r.first_audio), title: `waiting for the first audio: ${fmtMsOrDash((r.first_audio - r.start) * 1e3)}` });
      const from = r.first_audio;
      const received = num2(r.audio_received_ms) / 1e3;
      const played = r.audio_played_ms === null || r.audio_played_ms === void 0 ? null : num2(r.audio_played_ms) / 1e3;
      if (received > 0) spans.push({ lane: "audio", kind: "received", x0: x(from), x1: x(from + received), title: `audio received: ${fmtMsOrDash(r.audio_received_ms)}` });
      if (played !== null) spans.push({ lane: "audio", kind: "played", x0: x(from), x1: x(from + played), title: `audio actually played: ${fmtMsOrDash(r.audio_played_ms)} of ${fmtMsOrDash(r.audio_received_ms)}` });
      if (r.truncated_at_ms !== null && r.truncated_at_ms !== void 0) {
        marks.push({ lane: "audio", kind: "truncated", x: x(from + num2(r.truncated_at_ms) / 1e3), title: `cut at ${fmtMsOrDash(r.truncated_at_ms)} of the answer (barge-in: the rest was never heard)` });
      }
    }
  }
  for (const tool of turn.tools || []) {
    spans.push({ lane: "tools", kind: "tool", x0: x(tool.start), x1: Math.max(x(tool.start) + 2, x(tool.end ?? end)), title: `${tool.name} (${tool.status || "running"}): ${fmtS(tool.start)} \u2192 ${fmtS(tool.end)}` });
  }
  for (const m of turn.marks || []) {
    if (m.kind === "truncated") continue;
    marks.push({ lane: MARK_LANE[
      /** @type {keyof typeof MARK_LANE} */
      m.kind
    ] || "model", kind: m.kind, x: x(m.t), title: `${m.label || m.kind.replace(/_/g, " ")} at ${fmtS(m.t)}${m.seq ? ` (row ${m.seq})` : ""}` });
  }
  for (const e of turn.errors || []) {
    marks.push({ lane: "model", kind: "error", x: x(e.t), title: `error ${e.code || ""} at ${fmtS(e.t)}: ${e.message}` });
  }
  const lanes = ["you", "model", "audio"];
  if ((turn.tools || []).length) lanes.push("tools");
  const peak = Math.max(1e-6, ...(turn.level || []).map(([, v]) => num2(v)));
  const level = (turn.level || []).map(([t, v]) => (
    /** @type {[number, number]} */
    [x(t), num2(v) / peak]
  ));
  return { lanes, spans, marks, level, title: turnTitle(turn) };
}
function turnTitle(turn) {
  const l = turn.latency_ms || {};
  const parts = [
    `Turn ${turn.turn}: ${fmtS(turn.start)} \u2192 ${fmtS(turn.end)}`,
    turn.user_text ? `you: "${turn.user_text}"` : "",
    `end of speech \u2192 response created ${fmtMsOrDash(l.speech_end_to_created)}, \u2192 first audio ${fmtMsOrDash(l.created_to_first_audio)} (total ${fmtMsOrDash(l.speech_end_to_first_audio)})`,
    turn.tokens ? `tokens: ${turn.tokens.input} in, ${turn.tokens.output} out` : "",
    typeof turn.cost_usd === "number" ? `cost: $${turn.cost_usd.toFixed(4)}` : "",
    turn.interrupted ? "interrupted (barge-in)" : "",
    "Click to show only this turn's rows in the table."
  ];
  return parts.filter(Boolean).join("\n");
}
function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "rtnb") el.setAttribute("data-rtnb", String(v));
    else el.setAttribute(k, String(v));
  }
  for (const c of children) if (c) el.append(c);
  return el;
}
function title(text) {
  const t = document.createElementNS(SVG, "title");
  t.textContent = text;
  return t;
}
var TimelineView = class {
  /**
   * @param {{signal: AbortSignal, guard: import("./guard.js").Guard, onSelect: (turn: number|null) => void}} opts
   */
  constructor({ signal, guard, onSelect }) {
    this.onSelect = onSelect;
    this.turns = [];
    this.selected = null;
    this.width = 360;
    this.body = h("div", { class: "rtnb-timeline-body" });
    this.empty = h("div", { class: "rtnb-timeline-empty" }, "Turns appear here as you talk: your speech, the model's answer, what was played and where it was cut.");
    this.legend = h(
      "div",
      { class: "rtnb-timeline-legend" },
      ...[["speech", "you spoke"], ["response", "response"], ["waiting", "waiting for audio"], ["received", "audio received"], ["played", "audio played"], ["truncated", "cut (barge-in)"], ["tool", "tool call"], ["error", "error"]].map(
        ([k, t]) => h("span", { class: `rtnb-legend rtnb-tl-${k}` }, t)
      )
    );
    this.el = h("details", { rtnb: "timeline", class: "rtnb-timeline", open: true }, h("summary", {}, "Turn timeline"), this.legend, this.empty, this.body);
    this.body.addEventListener(
      "click",
      guard((e) => {
        const g = (
          /** @type {Element|null} */
          e.target instanceof Element ? e.target.closest("[data-turn]") : null
        );
        if (!g) return;
        const n2 = Number(g.getAttribute("data-turn"));
        this.select(this.selected === n2 ? null : n2);
      }),
      { signal }
    );
  }
  /** @param {number|null} n */
  select(n2) {
    this.selected = n2;
    for (const g of this.body.querySelectorAll("[data-turn]")) g.classList.toggle("rtnb-tl-selected", Number(g.getAttribute("data-turn")) === n2);
    this.onSelect(n2);
  }
  /** @param {{turns?: unknown}} msg the TURNS message */
  ingest(msg) {
    this.turns = Array.isArray(msg.turns) ? (
      /** @type {TurnData[]} */
      msg.turns
    ) : [];
    this.render();
  }
  render() {
    const measured = this.body.clientWidth;
    if (measured > LABEL_WIDTH + 40) this.width = measured - LABEL_WIDTH - 8;
    this.empty.hidden = this.turns.length > 0;
    const axisS = axisSeconds(this.turns);
    const groups = this.turns.map((t) => this.renderTurn(t, axisS));
    this.body.replaceChildren(...groups, this.turns.length ? this.axis(axisS) : "");
  }
  /**
   * @param {TurnData} turn
   * @param {number} axisS
   */
  renderTurn(turn, axisS) {
    const L = layoutTurn(turn, axisS, this.width);
    const height = HEADER_HEIGHT + L.lanes.length * LANE_HEIGHT + 4;
    const laneY = (lane) => HEADER_HEIGHT + Math.max(0, L.lanes.indexOf(lane)) * LANE_HEIGHT;
    const svg = s("svg", { rtnb: "timeline-turn", class: "rtnb-tl-turn", width: LABEL_WIDTH + this.width + 4, height, "data-turn": turn.turn, "data-interrupted": turn.interrupted ? "true" : "false" });
    if (this.selected === turn.turn) svg.classList.add("rtnb-tl-selected");
    const said = turn.user_text ? ` \u201C${turn.user_text.length > 60 ? turn.user_text.slice(0, 59) + "\u2026" : turn.user_text}\u201D` : "";
    const latency = turn.latency_ms?.speech_end_to_first_audio;
    const head = `Turn ${turn.turn}${said}${typeof latency === "number" ? ` \xB7 ${Math.round(latency)} ms to first audio` : ""}${turn.interrupted ? " \xB7 interrupted" : ""}`;
    svg.append(s("rect", { class: "rtnb-tl-bg", x: 0, y: 0, width: LABEL_WIDTH + this.width + 4, height }, title(L.title)));
    svg.append(s("text", { class: "rtnb-tl-head", x: 2, y: HEADER_HEIGHT - 4 }, document.createTextNode(head), title(L.title)));
    for (const lane of L.lanes) {
      const y = laneY(lane);
      svg.append(s("g", { rtnb: "timeline-lane", "data-lane": lane }, s("text", { class: "rtnb-tl-label", x: 2, y: y + LANE_HEIGHT - 4 }, document.createTextNode(lane)), s("line", { class: "rtnb-tl-guide", x1: LABEL_WIDTH, x2: LABEL_WIDTH + this.width, y1: y + LANE_HEIGHT - 1, y2: y + LANE_HEIGHT - 1 })));
    }
    const plot = s("g", { transform: `translate(${LABEL_WIDTH},0)` });
    if (L.level.length > 1) {
      const y = laneY("you");
      const pts = L.level.map(([x, v]) => `${x.toFixed(1)},${(y + LANE_HEIGHT - 2 - v * (LANE_HEIGHT - 3)).toFixed(1)}`);
      plot.append(s("polyline", { rtnb: "timeline-level", class: "rtnb-tl-level", points: pts.join(" ") }));
    }
    for (const sp of L.spans) {
      const inset = sp.kind === "played" || sp.kind === "waiting" ? 4 : 2;
      plot.append(s("rect", { rtnb: "timeline-span", class: `rtnb-tl-${sp.kind}`, "data-kind": sp.kind, x: sp.x0, y: laneY(sp.lane) + inset, width: Math.max(1, sp.x1 - sp.x0), height: LANE_HEIGHT - 2 * inset }, title(sp.title)));
    }
    for (const m of L.marks) {
      const y = laneY(m.lane);
      plot.append(s("line", { rtnb: "timeline-mark", class: `rtnb-tl-mark rtnb-tl-${m.kind}`, "data-kind": m.kind, x1: m.x, x2: m.x, y1: y, y2: y + LANE_HEIGHT }, title(m.title)));
    }
    svg.append(plot);
    return svg;
  }
  /** @param {number} axisS */
  axis(axisS) {
    const svg = s("svg", { class: "rtnb-tl-axis", width: LABEL_WIDTH + this.width + 4, height: 14 });
    const step = axisS > 10 ? 5 : axisS > 4 ? 1 : 0.5;
    for (let t = 0; t <= axisS + 1e-9; t += step) {
      const x = LABEL_WIDTH + t / axisS * this.width;
      svg.append(s("text", { x, y: 11, class: "rtnb-tl-tick" }, document.createTextNode(`${t}s`)));
    }
    svg.append(title("Seconds from each turn's start (the same scale for every turn)."));
    return svg;
  }
};

// src/totals.js
var n = (v) => typeof v === "number" && Number.isFinite(v) ? v : null;
function totalsText(t) {
  const input = n(t.input_tokens);
  const output = n(t.output_tokens);
  const total = n(t.total_tokens) ?? (input !== null && output !== null ? input + output : null);
  if (!total) return { text: "", title: "", fill: null };
  const parts = [`${total.toLocaleString("en-US")} tokens`];
  const cost = n(t.cost_usd);
  parts.push(cost === null ? "cost unknown for this model" : `$${cost < 0.01 ? cost.toFixed(4) : cost.toFixed(2)}`);
  const context = n(t.context_tokens);
  const window = n(t.context_window);
  let fill = null;
  if (context !== null && window) {
    fill = Math.min(1, context / window);
    parts.push(`context ${Math.round(fill * 100)}% of ${window.toLocaleString("en-US")}`);
  }
  const title2 = [
    `So far: ${input ?? "\u2013"} input and ${output ?? "\u2013"} output tokens${n(t.responses) !== null ? ` over ${t.responses} responses` : ""}.`,
    context !== null ? `The last response read ${context} tokens of conversation (each response reads it all again).` : "",
    "Per turn: hover a turn in the timeline. In Python: w.events.usage_dataframe()."
  ].filter(Boolean).join("\n");
  return { text: parts.join(" \xB7 "), title: title2, fill };
}
var TotalsLine = class {
  constructor() {
    this.bar = h("span", { class: "rtnb-totals-fill" });
    this.text = h("span", { class: "rtnb-totals-text" });
    this.el = h("div", { rtnb: "totals", class: "rtnb-totals", hidden: true }, this.text, h("span", { class: "rtnb-totals-bar" }, this.bar));
  }
  /** @param {Record<string, any>} totals */
  render(totals) {
    const { text, title: title2, fill } = totalsText(totals || {});
    this.el.hidden = !text;
    this.text.textContent = text;
    this.el.title = title2;
    this.bar.style.width = `${Math.round((fill ?? 0) * 100)}%`;
    this.bar.parentElement && (this.bar.parentElement.hidden = fill === null);
    this.el.dataset.fill = fill === null ? "" : fill.toFixed(3);
  }
};

// src/replay.js
var ReplayBar = class {
  /**
   * @param {{signal: AbortSignal, guard: import("./guard.js").Guard,
   *   onSpeed: (speed: number|null) => void, onPlay: (itemId: string) => void}} opts
   */
  constructor({ signal, guard, onSpeed, onPlay }) {
    this.onPlay = onPlay;
    this.guard = guard;
    this.signal = signal;
    this.items = /* @__PURE__ */ new Set();
    this.select = /** @type {HTMLSelectElement} */
    h(
      "select",
      { rtnb: "replay-speed", class: "rtnb-select", title: "How fast the recorded events appear (all: every remaining one now)" },
      ...SPEEDS.map(([value, label]) => h("option", { value: value === null ? "all" : String(value) }, label))
    );
    this.select.addEventListener("change", guard(() => onSpeed(parseSpeed(this.select.value))), { signal });
    this.config = h("pre", {});
    this.el = h(
      "section",
      { rtnb: "replay", class: "rtnb-replay", "aria-label": "Replay", hidden: true },
      h("label", { class: "rtnb-replay-speed" }, "speed ", this.select),
      h("details", { class: "rtnb-replay-config" }, h("summary", {}, "recorded session config"), this.config)
    );
  }
  /** @param {boolean} on the widget is a replay */
  setActive(on) {
    this.el.hidden = !on;
  }
  /** @param {unknown} speed the `speed` trait */
  setSpeed(speed) {
    const value = speedOption(speed);
    if (this.select.value !== value) this.select.value = value;
  }
  /** @param {object} config the `session_config` trait */
  setConfig(config) {
    this.config.textContent = JSON.stringify(config || {}, null, 2);
  }
  /** @param {unknown} ids the `replay_items` trait */
  setItems(ids) {
    this.items = new Set(Array.isArray(ids) ? ids.map(String) : []);
  }
  /**
   * Give every bubble with recorded audio its play button (again after the bubble was redrawn).
   * @param {{turns: Map<string, {el: HTMLElement}>}} transcript the TranscriptView
   */
  decorate(transcript) {
    if (this.el.hidden) return;
    for (const [id, { el }] of transcript.turns) {
      if (!this.items.has(id) || el.querySelector("[data-rtnb=replay-play]")) continue;
      const button = h(
        "button",
        { rtnb: "replay-play", class: "rtnb-btn rtnb-btn-small rtnb-replay-play", type: "button", "data-item": id, title: "Play this item's recorded audio" },
        "\u25B6 play"
      );
      button.addEventListener(
        "click",
        this.guard((e) => {
          e.stopPropagation();
          this.onPlay(id);
        }),
        { signal: this.signal }
      );
      (el.querySelector(".rtnb-turn-meta") || el).append(button);
    }
  }
};
function restartPlayback(playback, itemId) {
  const player = (
    /** @type {any} */
    playback.player
  );
  if (player && player.node && !player._closed) player.node.port.postMessage({ cmd: "reset" });
  delete playback.received[itemId];
  delete playback.played[itemId];
}

// src/view.js
var METER_INTERVAL_MS = 60;
function registry() {
  const g = (
    /** @type {any} */
    globalThis
  );
  if (!g.__rtnb || !Array.isArray(g.__rtnb.views)) g.__rtnb = { views: [] };
  return g.__rtnb;
}
var View = class {
  /**
   * @param {Model} model
   * @param {HTMLElement} el
   */
  constructor(model, el) {
    this.model = model;
    this.viewId = randomId();
    this.turnFilter = null;
    this.ac = new AbortController();
    const signal = this.ac.signal;
    this.modelListeners = [];
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
      }
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
        thresholdChange: (value) => this.changeThreshold(value)
      }
    });
    this.replay = new ReplayBar({
      signal,
      guard,
      onSpeed: (speed) => this.link.command("set_speed", { speed }),
      onPlay: (itemId) => this.replayPlay(itemId)
    });
    this.settings = new SettingsPanel({ signal, guard, apply: (session) => this.link.send({ type: UPDATE_SESSION, session }) });
    this.totals = new TotalsLine();
    this.timeline = new TimelineView({ signal, guard, onSelect: (n2) => this.filterToTurn(n2) });
    this.transcript = new TranscriptView({ onSelectTurn: (n2) => this.filterToTurn(n2) });
    this.table = new TableView({
      signal,
      requestEvent: (seq, options) => this.link.requestEvent(seq, options),
      clearLog: () => this.link.command("clear_log", {}),
      onError: (e) => this.showError(e)
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
        h("div", { class: "rtnb-right" }, this.totals.el, this.timeline.el, this.table.el)
      ),
      this.footer.el
    );
    el.replaceChildren(this.root);
    this.root.addEventListener(
      "pointerdown",
      guard(() => {
        if (this.playback.needsUnlock) return this.unlockAudio();
      }),
      { signal, capture: true }
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
    const traits = (
      /** @type {[string, () => void][]} */
      [
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
            this.replay.decorate(this.transcript);
          }
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
          }
        ],
        ["replay_source", () => this.renderStatus()],
        ["settings_options", () => this.settings.setOptions(m.get("settings_options") || {})],
        ["settings_errors", () => this.settings.setErrors(m.get("settings_errors") || {})],
        ["totals", () => this.totals.render(m.get("totals") || {})]
      ]
    );
    for (const [name, fn] of traits) {
      this.listen(`change:${name}`, fn);
      this.guard(fn)();
    }
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
    const nav = (
      /** @type {any} */
      globalThis.navigator || {}
    );
    this.link.sendReady({
      view_id: this.viewId,
      sample_rate: this.playback.playbackRate,
      secure_context: !!globalThis.isSecureContext,
      has_media_devices: !!(nav.mediaDevices && nav.mediaDevices.getUserMedia),
      user_agent: String(nav.userAgent || ""),
      buffer_kind: this.playback.bufferKind
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
        [TURNS]: (msg) => this.timeline.ingest(msg)
      })
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
      commLive: (
        /** @type {any} */
        this.model.comm_live
      ),
      sendFailed: this.link.sendFailed,
      silentForMs: this.health.silentForMs(nowEpochMs())
    });
  }
  renderStatus() {
    const m = this.model;
    const status = String(m.get("status") || "idle");
    const kernel = this.kernelState();
    const replay = String(m.get("replay_source") || "");
    this.statusLine.render({ status, offline: !!m.get("offline"), endpoint: String(m.get("endpoint") || ""), kernel, replay });
    this.setReplay(!!replay);
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
  filterToTurn(n2) {
    this.turnFilter = n2;
    this.table.setTurnFilter(n2);
    this.transcript.selectTurn(n2);
    if (this.timeline.selected !== n2) this.timeline.selected = n2;
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
    const nav = (
      /** @type {any} */
      globalThis.navigator || {}
    );
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
      commThreads: commThreadNames((this.model.get("stats") || {}).comm_threads)
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
      turn_filter_supported: typeof /** @type {any} */
      this.table.setTurnFilter === "function"
    };
  }
  destroy() {
    if (this.ac.signal.aborted) return;
    this.mic.close();
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
};
function commThreadNames(threads) {
  if (Array.isArray(threads)) return threads.map(String);
  if (threads && typeof threads === "object") return Object.keys(threads);
  return threads ? [String(threads)] : [];
}

// src/index.js
var src_default = {
  /** Once per model: nothing is shared between views but the page's AudioContext. */
  initialize() {
    return () => {
    };
  },
  /**
   * @param {{model: Model, el: HTMLElement, signal?: AbortSignal}} ctx
   */
  render({ model, el, signal }) {
    const view = new View(model, el);
    const cleanup = () => view.destroy();
    if (signal) {
      if (signal.aborted) {
        cleanup();
        return cleanup;
      }
      signal.addEventListener("abort", cleanup, { once: true });
    }
    view.start().catch((e) => view.showError(e));
    return cleanup;
  }
};
export {
  src_default as default
};

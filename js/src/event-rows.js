// The event log as the table holds it: rows (each a coalesced run of events), how a run
// continues across `rows` batches (the twin of realtime_nb/events.py coalescing), the type /
// direction / search filter, and `RowStore` with its cap. Pure, no DOM: node-tested.

/** Event types whose consecutive rows (same direction, type and item) form one run
 * (the twin of realtime_nb/events.py COALESCED_TYPES). */
export const COALESCED_TYPES = new Set([
  "input_audio_buffer.append",
  "response.output_audio.delta",
  "response.output_audio_transcript.delta",
  "response.output_text.delta",
  "response.function_call_arguments.delta",
  "conversation.item.input_audio_transcription.delta",
]);
const AUDIO_RUN_TYPES = new Set(["input_audio_buffer.append", "response.output_audio.delta"]);

/** Longest one-line summary (events.py SUMMARY_MAX). */
export const SUMMARY_MAX = 120;
export const DEFAULT_ROW_CAP = 2000;

/**
 * @typedef {import("./bridge.js").Row} Row
 * @typedef {{pos: string[], neg: string[], dir: string, q: string, turn: number|null}} Filter
 */

/**
 * Fill in missing fields so the rest of the code can trust a row's shape.
 * @param {Partial<Row>} r
 * @returns {Row}
 */
export function normalizeRow(r) {
  const seq = Number(r.seq ?? 0);
  return {
    seq,
    last: Number(r.last ?? seq),
    n: Number(r.n ?? 1),
    t: Number(r.t ?? 0),
    dir: /** @type {Row["dir"]} */ (r.dir ?? "local"),
    type: String(r.type ?? "?"),
    item: r.item ?? null,
    resp: r.resp ?? null,
    summary: String(r.summary ?? ""),
    size: Number(r.size ?? 0),
    audio_ms: Number(r.audio_ms ?? 0),
    turn: typeof r.turn === "number" ? r.turn : null,
  };
}

/**
 * Does `row` continue the run that ends with `prev`?
 * @param {Row} prev
 * @param {Row} row
 */
export function canMerge(prev, row) {
  return (
    COALESCED_TYPES.has(row.type) &&
    prev.type === row.type &&
    prev.dir === row.dir &&
    (prev.item ?? null) === (row.item ?? null) &&
    prev.turn === row.turn &&
    row.seq > prev.last
  );
}

/**
 * The text inside a delta summary: `"abc"` or `type ×3 "abc"`; clipped ones end with `…`.
 * @param {string} summary
 * @returns {{text: string, clipped: boolean}}
 */
export function summaryText(summary) {
  const i = summary.indexOf('"');
  if (i < 0) return { text: "", clipped: false };
  const rest = summary.slice(i + 1);
  if (rest.endsWith('"')) return { text: rest.slice(0, -1), clipped: false };
  return { text: rest.endsWith("…") ? rest.slice(0, -1) : rest, clipped: true };
}

/** @param {string} text */
function clip(text, limit = SUMMARY_MAX) {
  return text.length <= limit ? text : text.slice(0, limit - 1) + "…";
}

/**
 * One row for two consecutive parts of a run (counts, sizes and audio add up exactly).
 * @param {Row} a earlier part
 * @param {Row} b later part
 * @returns {Row}
 */
export function mergeRows(a, b) {
  const n = a.n + b.n;
  const audio_ms = Math.round((a.audio_ms + b.audio_ms) * 1000) / 1000;
  let summary;
  if (AUDIO_RUN_TYPES.has(a.type)) {
    summary = `${a.type} ×${n} (${Math.round(audio_ms * 10) / 10} ms)`;
  } else {
    const x = summaryText(a.summary);
    const y = summaryText(b.summary);
    summary = x.clipped
      ? `${a.type} ×${n} "${x.text}…`
      : clip(`${a.type} ×${n} "${x.text}${y.text}${y.clipped ? "…" : '"'}`);
  }
  return {
    ...a,
    last: b.last,
    n,
    resp: a.resp ?? b.resp,
    summary,
    size: a.size + b.size,
    audio_ms,
  };
}

/**
 * Parse the filter controls. `typeText`: prefixes separated by commas or spaces; a prefix
 * starting with `-` or `!` excludes (e.g. `response. -response.output_audio.delta`).
 * `turn`: only the rows of that conversation turn (null: every turn).
 * @param {{type?: string, dir?: string, search?: string, turn?: number|null}} f
 * @returns {Filter}
 */
export function compileFilter({ type = "", dir = "", search = "", turn = null } = {}) {
  /** @type {string[]} */ const pos = [];
  /** @type {string[]} */ const neg = [];
  for (const tok of type.split(/[\s,]+/)) {
    if (!tok) continue;
    if (tok[0] === "-" || tok[0] === "!") {
      if (tok.length > 1) neg.push(tok.slice(1).toLowerCase());
    } else pos.push(tok.toLowerCase());
  }
  return { pos, neg, dir, q: search.trim().toLowerCase(), turn: typeof turn === "number" ? turn : null };
}

/** @param {Filter} f */
export function filterIsEmpty(f) {
  return !f.pos.length && !f.neg.length && !f.dir && !f.q && f.turn === null;
}

/**
 * @param {Row} row
 * @param {Filter} f
 */
export function rowMatches(row, f) {
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

/**
 * The table's rows, as data: merging continued runs, the cap and its hidden count.
 * Mutations: append, replace the last row (a merge), drop from the front, reset.
 */
export class RowStore {
  /** @param {number} cap */
  constructor(cap = DEFAULT_ROW_CAP) {
    /** @type {Row[]} */
    this.rows = [];
    this.cap = sanitizeCap(cap);
    /** rows dropped by the cap since the last reset (shown in `hidden-count`) */
    this.hidden = 0;
    /** rows dropped from the front ever (lets a view find how many DOM rows to drop) */
    this.removedTotal = 0;
    /** bumped on every reset */
    this.epoch = 0;
    /** events logged in the kernel (from the last batch), and per direction */
    this.total = 0;
    /** @type {Record<string, number>} */
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
    /** @type {number[]} */
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
    const n = this.rows.length;
    if (n && canMerge(this.rows[n - 1], row)) this.rows[n - 1] = mergeRows(this.rows[n - 1], row);
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
}

/** @param {unknown} cap */
function sanitizeCap(cap) {
  const n = Math.floor(Number(cap));
  return Number.isFinite(n) && n > 0 ? n : DEFAULT_ROW_CAP;
}

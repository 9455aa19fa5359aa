// How a row reads in the table: direction arrows, short ids, sizes, times, audio lengths and
// the summary without the repeated type. Pure text, no DOM: node-tested.

/** @typedef {import("./bridge.js").Row} Row */

export const DIR_ARROWS = { client: "→", server: "←", local: "•" };
export const DIR_TITLES = {
  client: "sent by the client (this notebook) to the server",
  server: "received from the server",
  local: "local: noted by realtime-nb, not on the wire",
};

/**
 * `item_C3kdf9Qx2aB7` → `item_…x2aB7`; short ids unchanged.
 * @param {string|null|undefined} id
 */
export function shortId(id, keep = 5) {
  if (!id) return "";
  if (id.length <= keep + 7) return id;
  const us = id.indexOf("_");
  const prefix = us > 0 && us < 10 ? id.slice(0, us + 1) : "";
  return `${prefix}…${id.slice(-keep)}`;
}

/** @param {number} bytes */
export function formatSize(bytes) {
  if (!bytes) return "";
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1e6) return `${(bytes / 1e3).toFixed(bytes < 1e4 ? 1 : 0)} kB`;
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/**
 * Seconds since the session started, in at most 7 characters so the column fits an hour-long
 * session: `12.345`, `999.999`, then `16:40.0` (minutes), then `1:02:03` (hours).
 * @param {number} t
 */
export function formatTime(t) {
  if (!Number.isFinite(t)) return "";
  if (t < 999.9995) return t.toFixed(3);
  const whole = Math.floor(t);
  if (t < 3600) {
    const m = Math.floor(t / 60);
    const s = (Math.floor((t - m * 60) * 10) / 10).toFixed(1).padStart(4, "0");
    return `${m}:${s}`;
  }
  const hours = Math.floor(whole / 3600);
  const m = String(Math.floor((whole % 3600) / 60)).padStart(2, "0");
  const s = String(whole % 60).padStart(2, "0");
  return `${hours}:${m}:${s}`;
}

/** The exact time for a tooltip. @param {number} t */
export function timeTitle(t) {
  return Number.isFinite(t) ? `${t.toFixed(3)} s since the session started` : "";
}

/**
 * An event type shortened to `max` characters without losing what tells it apart: the end.
 * Whole words are dropped from the middle and replaced by `…`
 * (`response.output_audio_transcript.delta` → `resp…transcript.delta`), keeping as much of the
 * end as fits; the full name goes in the tooltip.
 * @param {string} type
 * @param {number} max
 */
export function abbreviateType(type, max) {
  if (type.length <= max || max < 6) return type;
  const parts = type.split(/(?<=[._])/);
  const head = parts[0];
  const short = head.replace(/[._]$/, "").slice(0, 4);
  let best = "";
  let bestTail = -1;
  for (let k = 1; k < parts.length; k++) {
    const tail = parts.slice(k).join("");
    for (const prefix of [head, short]) {
      const candidate = `${prefix}…${tail}`;
      if (candidate.length <= max && tail.length > bestTail) {
        best = candidate;
        bestTail = tail.length;
      }
    }
    if (best) break; // the longest tail that fits is found first
  }
  // when whole words leave only a short last word, cutting inside a word keeps more of the end
  const room = max - short.length - 1;
  if (room > 0 && room >= bestTail + 5) return `${short}…${type.slice(type.length - room)}`;
  return best || `…${type.slice(type.length - (max - 1))}`;
}

/** @param {number} ms */
export function formatAudioMs(ms) {
  if (!ms) return "";
  return ms >= 10000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

/**
 * The summary as the table shows it: without the leading type (and `×n` of a run), which the
 * type column already says (`response.output_audio.delta ×5 (200 ms)` → `(200 ms)`,
 * `response.done completed 120 tokens` → `completed 120 tokens`).
 * @param {Row} row
 */
export function displaySummary(row) {
  const s = row.summary;
  const run = `${row.type} ×${row.n}`;
  if (row.n > 1 && s.startsWith(run)) return s.slice(run.length).trimStart();
  if (s === row.type) return "";
  if (s.startsWith(`${row.type} `)) return s.slice(row.type.length + 1);
  return s;
}

/** @param {Row} row */
export function isErrorRow(row) {
  return row.type === "error" || row.type.endsWith(".failed") || row.type.includes("error");
}

/**
 * Where an event's audio was replaced by a marker `{audio_bytes, ms}` (the kernel's log keeps
 * markers, not base64): `[{path: "delta", bytes: 4800, ms: 100}]`.
 * @param {unknown} payload
 * @returns {{path: string, bytes: number, ms: number}[]}
 */
export function audioMarkers(payload) {
  /** @type {{path: string, bytes: number, ms: number}[]} */
  const found = [];
  /** @param {unknown} value @param {string} path */
  const walk = (value, path) => {
    if (!value || typeof value !== "object" || found.length > 20) return;
    if (Array.isArray(value)) {
      value.forEach((v, i) => walk(v, `${path}[${i}]`));
      return;
    }
    const obj = /** @type {Record<string, unknown>} */ (value);
    if (typeof obj.audio_bytes === "number" && typeof obj.ms === "number" && path) {
      found.push({ path, bytes: obj.audio_bytes, ms: obj.ms });
      return;
    }
    for (const [k, v] of Object.entries(obj)) walk(v, path ? `${path}.${k}` : k);
  };
  walk(payload, "");
  return found;
}

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

/** Seconds since the session started, to the millisecond. @param {number} t */
export function formatTime(t) {
  return Number.isFinite(t) ? t.toFixed(3) : "";
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

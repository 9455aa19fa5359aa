// What the status area says: the stats line, the busy-kernel warning, the hint under the
// controls and the environment check. Pure functions of what the view knows, so the wording
// lives in one place and node can test it; the view only puts the result in the page.

import { h } from "./dom.js";
import { fmtMs, num } from "./util.js";

const PCM_RATE = 24000;

/**
 * The stats line under the table: mic frames, drops, audio out, played, rows. (Kernel threads
 * and buffer types are in the environment check, not here.)
 * @param {Record<string, any>} s the widget's `stats` trait
 * @param {number} rowsShown rows in this view's table
 * @returns {HTMLElement[]}
 */
export function statsNodes(s, rowsShown) {
  /** @type {(string|HTMLElement)[]} */
  const parts = [];
  parts.push(`mic ${num(s.mic_frames)} frames · ${fmtMs(num(s.mic_ms))}`);
  const dropped = num(s.mic_dropped);
  if (dropped > 0) parts.push(h("span", { class: "rtnb-stat-bad" }, `kernel busy: ${dropped} mic frames dropped`));
  parts.push(`audio out ${num(s.audio_chunks_sent)} chunks · ${fmtMs(num(s.audio_ms_sent))}`);
  if (s.played && typeof s.played === "object") {
    // {item_id: 24 kHz samples the speaker played}, recent items
    const samples = Object.values(s.played).reduce((a, b) => a + num(b), 0);
    parts.push(`played ${fmtMs(samples / (PCM_RATE / 1000))}`);
  } else if (s.played !== undefined) {
    parts.push(`played ${fmtMs(num(s.played))}`);
  }
  if (num(s.interrupts)) parts.push(`${num(s.interrupts)} interrupts`);
  parts.push(`rows ${num(s.rows_sent)} sent · ${rowsShown} shown`);
  if (num(s.views) > 1) parts.push(`${num(s.views)} views`);
  /** @type {HTMLElement[]} */
  const nodes = [];
  for (const p of parts) {
    if (nodes.length) nodes.push(h("span", { class: "rtnb-sep" }, " · "));
    nodes.push(typeof p === "string" ? h("span", {}, p) : p);
  }
  return nodes;
}

/**
 * The warning above the table while the kernel is busy (or was: frames dropped).
 * @param {number|null} silentForMs how long the kernel has not answered a ping (null: unknown)
 * @param {number} stallAfterMs when that counts as blocked
 * @param {Record<string, any>} s the widget's `stats` trait
 * @returns {string}
 */
export function warnText(silentForMs, stallAfterMs, s) {
  const lines = [];
  if (silentForMs !== null && silentForMs > stallAfterMs) {
    lines.push(
      `The kernel has not answered for ${Math.floor(silentForMs / 1000)} s: a running cell is probably blocking it. ` +
        "Events and audio catch up when it is free; mic audio that waits too long is dropped (and counted).",
    );
  }
  const dropped = num(s.mic_dropped);
  if (dropped > 0) lines.push(`Kernel busy: ${dropped} mic frames dropped (they arrived too late to be useful).`);
  return lines.join("\n");
}

/**
 * The one-line hint under the controls.
 * @param {string} mode "hands_free" | "push_to_talk"
 * @param {unknown} turnDetection the `turn_detection` trait
 * @param {string} micState
 * @returns {string}
 */
export function hintText(mode, turnDetection, micState) {
  if (mode === "push_to_talk") {
    return micState === "on"
      ? "Hold the button (or Space on it) while you speak."
      : "Hold the button while you speak; the mic starts on the first press.";
  }
  if (turnDetection === null || turnDetection === "none") {
    return "Turn detection is off: use push-to-talk, or type a message.";
  }
  if (micState === "on" && turnDetection === "server_vad") {
    return "Speak: the bar turns green above the VAD line. Use headphones so the model does not hear itself.";
  }
  return "";
}

/**
 * @typedef {{secureContext: boolean, micSupport: {message: string}|null, micPermission: string,
 *   context: {sampleRate: number, state: string}|null, micSettings: Record<string, unknown>,
 *   bufferKind: string, rttMs: number|null, player: {buffered_ms?: unknown, underruns?: unknown}|null,
 *   viewId: string, userAgent: string, commThreads?: string[]}} EnvFacts
 */

/**
 * The environment check: each fact, and whether it is a problem (shown in red).
 * @param {EnvFacts} f
 * @returns {[string, string, boolean?][]}
 */
export function envRows(f) {
  const st = f.micSettings;
  return [
    ["secure context", f.secureContext ? "yes" : "no: open Jupyter over https or http://localhost (an SSH tunnel works)", !f.secureContext],
    ["microphone API", f.micSupport ? f.micSupport.message : "available", !!f.micSupport],
    ["microphone permission", f.micPermission, f.micPermission === "denied"],
    ["AudioContext", f.context ? `${f.context.sampleRate} Hz, ${f.context.state}` : "not started", !f.context],
    [
      "mic track",
      Object.keys(st).length
        ? ["sampleRate", "channelCount", "echoCancellation", "noiseSuppression", "autoGainControl"]
            .filter((k) => k in st)
            .map((k) => `${k}=${st[k]}`)
            .join(" ")
        : "not started",
    ],
    ["kernel buffers arrive as", f.bufferKind],
    ["kernel threads handling the widget", (f.commThreads || []).join(", ") || "–"],
    ["comm round trip", f.rttMs === null ? "–" : `${Math.round(f.rttMs)} ms`],
    ["player", f.player ? `buffered ${Math.round(num(f.player.buffered_ms))} ms, ${num(f.player.underruns)} underruns` : "not started"],
    ["view", f.viewId],
    ["browser", f.userAgent],
  ];
}

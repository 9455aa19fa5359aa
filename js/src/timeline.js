// The turn timeline: one lane set per turn, every turn on the same time axis (seconds from the
// turn's start), so turns compare at a glance. Lanes: "you" (speech spans and the level
// envelope, VAD start/stop marks), "model" (each response: created → first audio → done), "audio"
// (what arrived vs what the speaker actually played, the truncation point on barge-in), "tools"
// (call spans) and errors as marks. Hover shows exact times (SVG <title>); clicking a turn asks the
// view to filter the table to it. The turns come from the kernel (TURNS message,
// realtime_nb.timeline.build_turns); `layoutTurn` is pure and node-tested, `TimelineView` only
// draws what it returns. Plain SVG DOM, no framework.

import { h } from "./dom.js";

/**
 * @typedef {{t: number, kind: string, label?: string, seq?: number}} Mark
 * @typedef {{response_id: string, start: number, end: number|null, status: string|null,
 *   first_audio: number|null, audio_received_ms: number|null, audio_played_ms: number|null,
 *   truncated_at_ms: number|null, output_item_ids?: string[]}} ResponseSpan
 * @typedef {{turn: number, start: number, end: number, user_item_id?: string|null, user_text?: string|null,
 *   speech?: {start: number, end: number|null}[], level?: [number, number][], marks?: Mark[],
 *   responses?: ResponseSpan[], tools?: {call_id: string, name: string, start: number, end: number|null, status: string|null}[],
 *   errors?: {t: number, code: string|null, message: string, seq?: number}[],
 *   latency_ms?: Record<string, number|null>, tokens?: {input: number, output: number, total: number}|null,
 *   cost_usd?: number|null, interrupted?: boolean, seqs?: [number, number]}} TurnData
 * @typedef {{lane: string, kind: string, x0: number, x1: number, title: string}} Span
 * @typedef {{lane: string, kind: string, x: number, title: string}} MarkShape
 * @typedef {{lanes: string[], spans: Span[], marks: MarkShape[], level: [number, number][], title: string}} TurnLayout
 */

const SVG = "http://www.w3.org/2000/svg";
export const LANE_HEIGHT = 14;
export const HEADER_HEIGHT = 16;
export const LABEL_WIDTH = 44;
/** Longest turn drawn in full (a turn with a 10-minute tool call would flatten every other). */
export const MAX_AXIS_S = 30;
const MARK_LANE = { speech_started: "you", speech_stopped: "you", committed: "you", response_created: "model", first_audio: "model", first_text: "model", response_done: "model", truncated: "audio", cancelled: "model", error: "model" };

/** @param {number|null|undefined} s seconds @returns {string} */
export function fmtS(s) {
  return typeof s === "number" && Number.isFinite(s) ? `${s.toFixed(3)} s` : "–";
}

/** @param {number|null|undefined} ms @returns {string} */
function fmtMsOrDash(ms) {
  return typeof ms === "number" && Number.isFinite(ms) ? `${Math.round(ms)} ms` : "–";
}

/**
 * The axis length in seconds: the longest turn, capped at MAX_AXIS_S, at least one second.
 * @param {TurnData[]} turns
 */
export function axisSeconds(turns) {
  let longest = 1;
  for (const t of turns) longest = Math.max(longest, num(t.end) - num(t.start));
  return Math.min(MAX_AXIS_S, longest);
}

/** @param {unknown} v */
function num(v) {
  return typeof v === "number" && Number.isFinite(v) ? v : 0;
}

/**
 * Shapes of one turn in pixels: spans and marks per lane, and the level envelope.
 * @param {TurnData} turn
 * @param {number} axisS seconds the width stands for
 * @param {number} width pixels for the time axis
 * @returns {TurnLayout}
 */
export function layoutTurn(turn, axisS, width) {
  const t0 = num(turn.start);
  const end = num(turn.end) || t0;
  const x = (/** @type {number|null|undefined} */ t) => Math.max(0, Math.min(width, ((num(t ?? end) - t0) / axisS) * width));
  /** @type {Span[]} */
  const spans = [];
  /** @type {MarkShape[]} */
  const marks = [];
  for (const s of turn.speech || []) {
    spans.push({ lane: "you", kind: "speech", x0: x(s.start), x1: x(s.end ?? end), title: `you spoke ${fmtS(s.start)} → ${fmtS(s.end)}` });
  }
  for (const r of turn.responses || []) {
    const rEnd = r.end ?? end;
    spans.push({ lane: "model", kind: "response", x0: x(r.start), x1: x(rEnd), title: `response ${r.response_id} ${r.status || "in progress"}: created ${fmtS(r.start)}, first audio ${fmtS(r.first_audio)}, done ${fmtS(r.end)}` });
    if (r.first_audio !== null && r.first_audio !== undefined) {
      spans.push({ lane: "model", kind: "waiting", x0: x(r.start), x1: x(r.first_audio), title: `waiting for the first audio: ${fmtMsOrDash((r.first_audio - r.start) * 1000)}` });
      const from = r.first_audio;
      const received = num(r.audio_received_ms) / 1000;
      const played = r.audio_played_ms === null || r.audio_played_ms === undefined ? null : num(r.audio_played_ms) / 1000;
      if (received > 0) spans.push({ lane: "audio", kind: "received", x0: x(from), x1: x(from + received), title: `audio received: ${fmtMsOrDash(r.audio_received_ms)}` });
      if (played !== null) spans.push({ lane: "audio", kind: "played", x0: x(from), x1: x(from + played), title: `audio actually played: ${fmtMsOrDash(r.audio_played_ms)} of ${fmtMsOrDash(r.audio_received_ms)}` });
      if (r.truncated_at_ms !== null && r.truncated_at_ms !== undefined) {
        marks.push({ lane: "audio", kind: "truncated", x: x(from + num(r.truncated_at_ms) / 1000), title: `cut at ${fmtMsOrDash(r.truncated_at_ms)} of the answer (barge-in: the rest was never heard)` });
      }
    }
  }
  for (const tool of turn.tools || []) {
    spans.push({ lane: "tools", kind: "tool", x0: x(tool.start), x1: Math.max(x(tool.start) + 2, x(tool.end ?? end)), title: `${tool.name} (${tool.status || "running"}): ${fmtS(tool.start)} → ${fmtS(tool.end)}` });
  }
  for (const m of turn.marks || []) {
    if (m.kind === "truncated") continue; // drawn from the response, where the audio is
    marks.push({ lane: MARK_LANE[/** @type {keyof typeof MARK_LANE} */ (m.kind)] || "model", kind: m.kind, x: x(m.t), title: `${m.label || m.kind.replace(/_/g, " ")} at ${fmtS(m.t)}${m.seq ? ` (row ${m.seq})` : ""}` });
  }
  for (const e of turn.errors || []) {
    marks.push({ lane: "model", kind: "error", x: x(e.t), title: `error ${e.code || ""} at ${fmtS(e.t)}: ${e.message}` });
  }
  const lanes = ["you", "model", "audio"];
  if ((turn.tools || []).length) lanes.push("tools");
  const peak = Math.max(1e-6, ...(turn.level || []).map(([, v]) => num(v)));
  const level = (turn.level || []).map(([t, v]) => /** @type {[number, number]} */ ([x(t), num(v) / peak]));
  return { lanes, spans, marks, level, title: turnTitle(turn) };
}

/**
 * The hover text of a turn's header: what was said, latency stages, tokens and cost.
 * @param {TurnData} turn
 */
export function turnTitle(turn) {
  const l = turn.latency_ms || {};
  const parts = [
    `Turn ${turn.turn}: ${fmtS(turn.start)} → ${fmtS(turn.end)}`,
    turn.user_text ? `you: "${turn.user_text}"` : "",
    `end of speech → response created ${fmtMsOrDash(l.speech_end_to_created)}, → first audio ${fmtMsOrDash(l.created_to_first_audio)} (total ${fmtMsOrDash(l.speech_end_to_first_audio)})`,
    turn.tokens ? `tokens: ${turn.tokens.input} in, ${turn.tokens.output} out` : "",
    typeof turn.cost_usd === "number" ? `cost: $${turn.cost_usd.toFixed(4)}` : "",
    turn.interrupted ? "interrupted (barge-in)" : "",
    "Click to show only this turn's rows in the table.",
  ];
  return parts.filter(Boolean).join("\n");
}

/**
 * @param {string} tag
 * @param {Record<string, string|number>} attrs
 * @param {...(Node|null)} children
 */
function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "rtnb") el.setAttribute("data-rtnb", String(v));
    else el.setAttribute(k, String(v));
  }
  for (const c of children) if (c) el.append(c);
  return el;
}

/** @param {string} text */
function title(text) {
  const t = document.createElementNS(SVG, "title");
  t.textContent = text;
  return t;
}

export class TimelineView {
  /**
   * @param {{signal: AbortSignal, guard: import("./guard.js").Guard, onSelect: (turn: number|null) => void}} opts
   */
  constructor({ signal, guard, onSelect }) {
    this.onSelect = onSelect;
    /** @type {TurnData[]} */
    this.turns = [];
    /** @type {number|null} */
    this.selected = null;
    this.width = 360;
    this.body = h("div", { class: "rtnb-timeline-body" });
    this.empty = h("div", { class: "rtnb-timeline-empty" }, "Turns appear here as you talk: your speech, the model's answer, what was played and where it was cut.");
    this.legend = h(
      "div",
      { class: "rtnb-timeline-legend" },
      ...[["speech", "you spoke"], ["response", "response"], ["waiting", "waiting for audio"], ["received", "audio received"], ["played", "audio played"], ["truncated", "cut (barge-in)"], ["tool", "tool call"], ["error", "error"]].map(([k, t]) =>
        h("span", { class: `rtnb-legend rtnb-tl-${k}` }, t),
      ),
    );
    this.el = h("details", { rtnb: "timeline", class: "rtnb-timeline", open: true }, h("summary", {}, "Turn timeline"), this.legend, this.empty, this.body);
    this.body.addEventListener(
      "click",
      guard((/** @type {MouseEvent} */ e) => {
        const g = /** @type {Element|null} */ (e.target instanceof Element ? e.target.closest("[data-turn]") : null);
        if (!g) return;
        const n = Number(g.getAttribute("data-turn"));
        this.select(this.selected === n ? null : n);
      }),
      { signal },
    );
  }

  /** @param {number|null} n */
  select(n) {
    this.selected = n;
    for (const g of this.body.querySelectorAll("[data-turn]")) g.classList.toggle("rtnb-tl-selected", Number(g.getAttribute("data-turn")) === n);
    this.onSelect(n);
  }

  /** @param {{turns?: unknown}} msg the TURNS message */
  ingest(msg) {
    this.turns = Array.isArray(msg.turns) ? /** @type {TurnData[]} */ (msg.turns) : [];
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
    const laneY = (/** @type {string} */ lane) => HEADER_HEIGHT + Math.max(0, L.lanes.indexOf(lane)) * LANE_HEIGHT;
    const svg = s("svg", { rtnb: "timeline-turn", class: "rtnb-tl-turn", width: LABEL_WIDTH + this.width + 4, height, "data-turn": turn.turn, "data-interrupted": turn.interrupted ? "true" : "false" });
    if (this.selected === turn.turn) svg.classList.add("rtnb-tl-selected");
    const said = turn.user_text ? ` “${turn.user_text.length > 60 ? turn.user_text.slice(0, 59) + "…" : turn.user_text}”` : "";
    const latency = turn.latency_ms?.speech_end_to_first_audio;
    const head = `Turn ${turn.turn}${said}${typeof latency === "number" ? ` · ${Math.round(latency)} ms to first audio` : ""}${turn.interrupted ? " · interrupted" : ""}`;
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
      const x = LABEL_WIDTH + (t / axisS) * this.width;
      svg.append(s("text", { x, y: 11, class: "rtnb-tl-tick" }, document.createTextNode(`${t}s`)));
    }
    svg.append(title("Seconds from each turn's start (the same scale for every turn)."));
    return svg;
  }
}

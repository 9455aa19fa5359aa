// The settings panel's form ⇄ session.update mapping, the timeline's layout, the totals line and
// the connection state: pure functions, checked without a browser DOM.
import { test } from "node:test";
import assert from "node:assert/strict";
import { formFromConfig, pyLiteral, pythonCode, sessionUpdate } from "../src/settings-panel.js";
import { axisSeconds, layoutTurn, MAX_AXIS_S, turnTitle } from "../src/timeline.js";
import { totalsText } from "../src/totals.js";
import { kernelState, QUIET_AFTER_MS } from "../src/comm-health.js";
import { connectionState } from "../src/status-line.js";

const CONFIG = {
  type: "realtime",
  output_modalities: ["audio"],
  instructions: "Be brief.",
  audio: {
    input: {
      transcription: { model: "gpt-transcribe", language: null },
      turn_detection: { type: "server_vad", threshold: 0.5, prefix_padding_ms: 300, silence_duration_ms: 600, create_response: true },
    },
    output: { voice: "marin" },
  },
};

test("the form reads the session as the server confirmed it", () => {
  const f = formFromConfig(CONFIG);
  assert.equal(f.turn, "server_vad");
  assert.equal(f.silence_duration_ms, "600");
  assert.equal(f.transcription, true);
  assert.equal(f.transcription_model, "gpt-transcribe");
  assert.equal(f.voice, "marin");
  assert.equal(f.output_modalities, "audio");
  const off = formFromConfig({ audio: { input: { turn_detection: null, transcription: null } } });
  assert.equal(off.turn, "none");
  assert.equal(off.transcription, false);
});

test("an unchanged form sends nothing; a change sends only its group", () => {
  const before = formFromConfig(CONFIG);
  assert.deepEqual(sessionUpdate({ ...before }, before), {});
  assert.deepEqual(sessionUpdate({ ...before, silence_duration_ms: "800" }, before), {
    audio: { input: { turn_detection: { type: "server_vad", threshold: 0.5, prefix_padding_ms: 300, silence_duration_ms: 800 } } },
  });
  assert.deepEqual(sessionUpdate({ ...before, turn: "semantic_vad", eagerness: "low" }, before), {
    audio: { input: { turn_detection: { type: "semantic_vad", eagerness: "low" } } },
  });
  assert.deepEqual(sessionUpdate({ ...before, turn: "none" }, before), { audio: { input: { turn_detection: null } } });
  assert.deepEqual(sessionUpdate({ ...before, transcription: false }, before), { audio: { input: { transcription: null } } });
  assert.deepEqual(sessionUpdate({ ...before, voice: "cedar", output_modalities: "text" }, before), {
    audio: { output: { voice: "cedar" } },
    output_modalities: ["text"],
  });
});

test("text that is not a number goes to the kernel as typed, so it can say what is wrong", () => {
  const before = formFromConfig(CONFIG);
  const u = sessionUpdate({ ...before, threshold: "loud" }, before);
  assert.equal(u.audio.input.turn_detection.threshold, "loud");
});

test("copy as code is Python that sends the same update, and names the wire event", () => {
  assert.equal(pyLiteral({ a: true, b: null, c: [1, "x"] }), '{\n    "a": True,\n    "b": None,\n    "c": [1, "x"],\n}');
  const code = pythonCode({ audio: { input: { transcription: null } } });
  assert.match(code, /^w\.update_session\(\{/);
  assert.match(code, /"transcription": None/);
  assert.match(code, /"type":"session.update","session":\{"type":"realtime","audio"/);
  assert.match(pythonCode({}), /nothing changed/);
});

const TURN = {
  turn: 2, start: 10, end: 14, user_text: "tell me a story",
  speech: [{ start: 10.2, end: 11.5 }],
  level: [[10.2, 0.1], [10.6, 0.4], [11.0, 0.2]],
  marks: [{ t: 10.2, kind: "speech_started" }, { t: 11.5, kind: "speech_stopped" }, { t: 11.6, kind: "response_created" }, { t: 12.9, kind: "truncated" }],
  responses: [{ response_id: "resp_1", start: 11.6, end: 13.0, status: "cancelled", first_audio: 11.9, audio_received_ms: 2000, audio_played_ms: 1000, truncated_at_ms: 1000, output_item_ids: ["item_a"] }],
  tools: [],
  errors: [{ t: 12.0, code: "x", message: "bad", seq: 40 }],
  latency_ms: { speech_end_to_created: 100, created_to_first_audio: 300, speech_end_to_first_audio: 400, total: 3500 },
  tokens: { input: 120, output: 80, total: 200 }, cost_usd: 0.0123, interrupted: true, seqs: [30, 60],
};

test("a turn's layout: speech, response, received vs played, and the truncation point", () => {
  const L = layoutTurn(TURN, 4, 400); // 100 px per second
  assert.deepEqual(L.lanes, ["you", "model", "audio"]);
  const span = (/** @type {string} */ kind) => L.spans.find((s) => s.kind === kind);
  assert.deepEqual([span("speech")?.x0, span("speech")?.x1].map(Math.round), [20, 150]);
  assert.deepEqual([span("response")?.x0, span("response")?.x1].map(Math.round), [160, 300]);
  assert.equal(Math.round(span("received")?.x1 ?? 0), 390); // first audio 11.9 + 2.0 s
  assert.equal(Math.round(span("played")?.x1 ?? 0), 290); // first audio 11.9 + 1.0 s
  const cut = L.marks.filter((m) => m.kind === "truncated");
  assert.equal(cut.length, 1, "one truncation mark, drawn where the played audio stops");
  assert.equal(Math.round(cut[0].x), 290);
  assert.equal(cut[0].lane, "audio");
  assert.ok(L.marks.some((m) => m.kind === "error" && /bad/.test(m.title)));
  assert.ok(L.level.every(([x, v]) => x >= 0 && x <= 400 && v >= 0 && v <= 1));
  assert.match(turnTitle(TURN), /first audio 300 ms \(total 400 ms\)/);
  assert.match(turnTitle(TURN), /\$0\.0123/);
});

test("tools get a lane; the axis is the longest turn, capped", () => {
  const withTool = { ...TURN, tools: [{ call_id: "c1", name: "get_weather", start: 12, end: 12.5, status: "completed" }] };
  assert.deepEqual(layoutTurn(withTool, 4, 400).lanes, ["you", "model", "audio", "tools"]);
  assert.equal(axisSeconds([TURN]), 4);
  assert.equal(axisSeconds([{ ...TURN, end: 10 + 600 }]), MAX_AXIS_S);
  assert.equal(axisSeconds([]), 1);
});

test("totals: tokens, cost and context fill; nothing before the first response", () => {
  assert.equal(totalsText({}).text, "");
  const t = totalsText({ input_tokens: 1000, output_tokens: 200, total_tokens: 1200, cost_usd: 0.0042, context_tokens: 3200, context_window: 32000, responses: 2 });
  assert.equal(t.text, "1,200 tokens · $0.0042 · context 10% of 32,000");
  assert.equal(t.fill, 0.1);
  assert.match(t.title, /over 2 responses/);
  assert.match(totalsText({ total_tokens: 5, cost_usd: null }).text, /cost unknown/);
});

test("connection: a closed comm is dead, a long silence is quiet; advice for each", () => {
  assert.equal(kernelState({ commLive: true, sendFailed: false, silentForMs: null }), "live");
  assert.equal(kernelState({ commLive: undefined, sendFailed: false, silentForMs: 1000 }), "live");
  assert.equal(kernelState({ commLive: false, sendFailed: false, silentForMs: null }), "dead");
  assert.equal(kernelState({ commLive: true, sendFailed: true, silentForMs: null }), "dead");
  assert.equal(kernelState({ commLive: true, sendFailed: false, silentForMs: QUIET_AFTER_MS + 1 }), "quiet");
  const dead = connectionState("connected", "dead");
  assert.equal(dead.state, "disconnected");
  assert.match(dead.advice, /run the cell again/);
  assert.equal(dead.canReconnect, false);
  assert.equal(connectionState("closed", "live").canReconnect, true);
  assert.equal(connectionState("connected", "live").advice, "");
});

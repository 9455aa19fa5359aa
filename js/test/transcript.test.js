// The transcript's words (transcript-text.js): tool-call bubbles.
import { test } from "node:test";
import assert from "node:assert/strict";
import { TOOL_TEXT_MAX, isToolCall, toolCallText, toolResultText } from "../src/transcript-text.js";

/** @param {Partial<import("../src/transcript-text.js").Turn>} t */
const turn = (t) => ({ item_id: "i", role: "", text: "", heard: null, interrupted: false, status: "completed", ...t });

test("a tool call reads as a call with its arguments, clipped", () => {
  assert.equal(toolCallText("get_weather", '{"city":"Paris"}'), 'get_weather({"city":"Paris"})');
  const long = toolCallText("f", JSON.stringify({ x: "y".repeat(500) }));
  assert.equal(long.length, TOOL_TEXT_MAX);
  assert.ok(long.endsWith("…"));
});

test("a tool result says what came back, that it failed, or that it is awaited", () => {
  assert.deepEqual(toolResultText(turn({ output: '{"temp_c":21}' })), { text: '{"temp_c":21}', failed: false });
  assert.deepEqual(toolResultText(turn({ error: "ValueError: no city" })), { text: "failed: ValueError: no city", failed: true });
  assert.equal(toolResultText(turn({ output: null })).text, "waiting for the result…");
  assert.equal(toolResultText(turn({ output: null, status: "in_progress" })).text, "…");
});

test("only function and MCP calls are tool bubbles", () => {
  assert.equal(isToolCall(turn({ kind: "function_call" })), true);
  assert.equal(isToolCall(turn({ kind: "mcp_call" })), true);
  assert.equal(isToolCall(turn({ kind: "message" })), false);
  assert.equal(isToolCall(turn({})), false);
});

test("the kernel's one-line tool entry reads as call and result", () => {
  const entry = turn({ role: "tool", name: "get_weather", text: 'get_weather({"city":"Paris"}) → {"temp_c": 21}' });
  assert.equal(isToolCall(entry), true);
  assert.deepEqual(toolResultText(entry), { text: '{"temp_c": 21}', failed: false });
  assert.equal(toolResultText({ ...entry, text: "get_weather({}) → …" }).text, "waiting for the result…");
  assert.equal(toolResultText({ ...entry, text: 'f() → {"error": "boom"}' }).failed, true);
});

// The status area's wording (status-panel.js): pure functions, checked without a browser DOM.
import { test } from "node:test";
import assert from "node:assert/strict";
import { envRows, hintText, warnText } from "../src/status-panel.js";

test("hint: push-to-talk, turn detection off, and speaking with server VAD", () => {
  assert.match(hintText("push_to_talk", "server_vad", "off"), /mic starts on the first press/);
  assert.match(hintText("push_to_talk", null, "on"), /Hold the button \(or Space/);
  assert.match(hintText("hands_free", null, "on"), /Turn detection is off/);
  assert.match(hintText("hands_free", "server_vad", "on"), /above the VAD line/);
  assert.equal(hintText("hands_free", "semantic_vad", "on"), "");
});

test("warning: a silent kernel past the stall time, and dropped frames", () => {
  assert.equal(warnText(null, 3000, {}), "");
  assert.equal(warnText(2000, 3000, {}), "");
  assert.match(warnText(7500, 3000, {}), /has not answered for 7 s/);
  assert.match(warnText(null, 3000, { mic_dropped: 12 }), /12 mic frames dropped/);
});

test("environment rows flag what stops the microphone", () => {
  const rows = envRows({
    secureContext: false, micSupport: { message: "VS Code gives notebooks no microphone" },
    micPermission: "denied", context: null, micSettings: {}, bufferKind: "DataView",
    rttMs: 12.4, player: null, viewId: "v1", userAgent: "test",
  });
  const bad = Object.fromEntries(rows.map(([k, , b]) => [k, !!b]));
  assert.deepEqual(
    Object.keys(bad).filter((k) => bad[k]),
    ["secure context", "microphone API", "microphone permission", "AudioContext"],
  );
  assert.equal(rows.find(([k]) => k === "comm round trip")?.[1], "12 ms");
});

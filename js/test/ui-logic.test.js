// Pure helpers of the UI: heard vs generated transcript split, meter scale and VAD line.
import { test } from "node:test";
import assert from "node:assert/strict";
import { roleLabel, splitHeard } from "../src/transcript-text.js";
import { dbToFraction, levelToDb, thresholdDb, METER_MIN_DB } from "../src/meters.js";

test("an interrupted turn splits into heard and unheard text", () => {
  assert.deepEqual(splitHeard("Once upon a time there was", "Once upon a", true), {
    heard: "Once upon a",
    unheard: " time there was",
  });
});

test("a turn that was not interrupted is all heard", () => {
  assert.deepEqual(splitHeard("Hello there", null, false), { heard: "Hello there", unheard: "" });
  assert.deepEqual(splitHeard("Hello there", "Hello", false), { heard: "Hello there", unheard: "" });
  assert.deepEqual(splitHeard("Hello there", null, true), { heard: "Hello there", unheard: "" });
});

test("interrupted before anything was heard: all of it is struck", () => {
  assert.deepEqual(splitHeard("Hello there", "", true), { heard: "", unheard: "Hello there" });
});

test("a heard part that is not a prefix still shows both", () => {
  const parts = splitHeard("Goodbye", "Hello", true);
  assert.equal(parts.heard, "Hello");
  assert.match(parts.unheard, /Goodbye/);
});

test("role labels", () => {
  assert.equal(roleLabel("user"), "you");
  assert.equal(roleLabel("assistant"), "assistant");
  assert.equal(roleLabel(""), "?");
});

test("the VAD line sits at the stand-in's level: -70 + 60 x threshold dBFS", () => {
  assert.equal(thresholdDb(0), -70);
  assert.equal(thresholdDb(0.5), -40);
  assert.equal(thresholdDb(1), -10);
  assert.equal(thresholdDb(2), -10, "clamped");
  assert.equal(thresholdDb(-1), -70, "clamped");
});

test("levels map to dBFS and onto the meter", () => {
  assert.equal(levelToDb(0), METER_MIN_DB);
  assert.equal(levelToDb(1), 0);
  assert.ok(Math.abs(levelToDb(0.01) - -40) < 1e-9);
  assert.equal(dbToFraction(METER_MIN_DB), 0);
  assert.equal(dbToFraction(0), 1);
  assert.equal(dbToFraction(-40), 0.5);
  assert.equal(dbToFraction(-200), 0);
  // a level exactly at the threshold lands on the line
  assert.equal(dbToFraction(levelToDb(0.01)), dbToFraction(thresholdDb(0.5)));
});

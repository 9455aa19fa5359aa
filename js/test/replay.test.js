// A replay's words and numbers (replay-speed.js): the speed selector and the status line.
import { test } from "node:test";
import assert from "node:assert/strict";
import { SPEEDS, parseSpeed, replayLabel, speedOption } from "../src/replay-speed.js";
import { connectionState } from "../src/status-line.js";

test("the speed choices are 1×, 2×, 4× and all (null: every remaining row at once)", () => {
  assert.deepEqual(SPEEDS.map(([v]) => v), [1, 2, 4, null]);
  assert.deepEqual(SPEEDS.map(([, label]) => label), ["1×", "2×", "4×", "all"]);
});

test("the speed trait shows in the selector; null and infinity read as all", () => {
  assert.equal(speedOption(1), "1");
  assert.equal(speedOption(4), "4");
  assert.equal(speedOption(null), "all");
  assert.equal(speedOption(Infinity), "all");
  assert.equal(speedOption(0), "all");
  assert.equal(speedOption("2"), "all", "the trait is a number or null");
});

test("the selector's value becomes the speed the kernel is asked for", () => {
  assert.equal(parseSpeed("2"), 2);
  assert.equal(parseSpeed("all"), null);
  assert.equal(parseSpeed("nonsense"), null);
  for (const [value] of SPEEDS) assert.equal(parseSpeed(speedOption(value)), value);
});

test("the status line says what a replay shows, with no reconnect", () => {
  assert.equal(replayLabel("call.rtnb"), "replay of call.rtnb");
  assert.equal(replayLabel(""), "replay of a recording");
  assert.deepEqual(connectionState("replay", "live"), { state: "replay", advice: "", canReconnect: false });
  assert.equal(connectionState("replay", "dead").state, "disconnected", "a dead kernel still shows");
});

// Push-to-talk (push-to-talk.js): which frames a turn includes, and when `release` goes out.
import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { PushToTalk } from "../src/push-to-talk.js";
import { makeGuard } from "../src/guard.js";

function ptt(tailMs = 150) {
  /** @type {object[]} */
  const sent = [];
  const errors = [];
  const p = new PushToTalk({ send: (m) => sent.push(m), guard: makeGuard((e) => errors.push(e)), tailMs });
  return { p, sent, errors };
}

test("frames go out while held, and after a release only those captured before it", () => {
  const { p, sent } = ptt();
  assert.equal(p.wantsFrame(false, 1000, 40), false, "push-to-talk, not held");
  assert.equal(p.wantsFrame(true, 1000, 40), true, "hands-free sends everything");
  p.press();
  assert.deepEqual(sent, [{ type: "ptt", action: "press" }]);
  assert.equal(p.wantsFrame(false, 1040, 40), true);
  p.release(true, 1050);
  assert.equal(sent.length, 1, "release waits for the frame holding the release instant");
  assert.equal(p.wantsFrame(false, 1080, 40), true, "captured 1040..1080: holds the release");
  p.frameDone(1080);
  assert.deepEqual(sent.at(-1), { type: "ptt", action: "release" });
  assert.equal(p.releasing, false);
  assert.equal(p.wantsFrame(false, 1120, 40), false, "the turn is over");
});

test("a release with the mic off ends the turn at once", () => {
  const { p, sent } = ptt();
  p.press();
  p.release(false, 500);
  assert.deepEqual(sent, [
    { type: "ptt", action: "press" },
    { type: "ptt", action: "release" },
  ]);
  p.release(true, 600);
  assert.equal(sent.length, 2, "not held: nothing to release");
});

test("the release goes out after the tail when no later frame arrives", async () => {
  const { p, sent, errors } = ptt(5);
  p.press();
  p.release(true, 1000);
  await sleep(30);
  assert.deepEqual(sent.at(-1), { type: "ptt", action: "release" });
  assert.equal(sent.length, 2, "exactly one release");
  assert.deepEqual(errors, []);
});

test("a press during a pending release ends the previous turn first", () => {
  const { p, sent } = ptt();
  p.press();
  p.release(true, 1000);
  p.press();
  assert.deepEqual(
    sent.map((m) => /** @type {any} */ (m).action),
    ["press", "release", "press"],
  );
  assert.equal(p.held, true);
  assert.equal(p.releasing, false);
  p.finish(); // clears the timer so the test exits promptly
});

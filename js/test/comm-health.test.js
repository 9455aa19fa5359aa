// Ping / pong bookkeeping (comm-health.js): one ping out at a time, round trip, stall time.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CommHealth } from "../src/comm-health.js";

test("one ping at a time; the matching pong gives the round trip", () => {
  const health = new CommHealth();
  let id = 7;
  assert.deepEqual(health.nextPing(1000, () => id++), { type: "ping", request_id: 7, t: 1000 });
  assert.equal(health.nextPing(3000, () => id++), null, "the first one is still out");
  assert.equal(health.onPong({ request_id: 99 }, 3100), false, "another view's pong");
  assert.equal(health.rtt, null);
  assert.equal(health.onPong({ request_id: 7 }, 1040), true);
  assert.equal(health.rtt, 40);
  assert.equal(health.onPong({ request_id: 7 }, 1050), false, "answered already");
  assert.equal(health.nextPing(5000, () => id++)?.request_id, 8);
});

test("silence is measured from the waiting ping, only once the kernel has answered before", () => {
  const health = new CommHealth();
  health.nextPing(0, () => 1);
  assert.equal(health.silentForMs(10_000), null, "a kernel that never answered may still be starting");
  health.onPong({ request_id: 1 }, 5);
  assert.equal(health.silentForMs(6000), null, "nothing waits");
  health.nextPing(2000, () => 2);
  assert.equal(health.silentForMs(9500), 7500);
});

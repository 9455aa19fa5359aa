// The view's messages to the kernel (kernel-link.js), the dispatch of the kernel's messages
// (kernel-messages.js) and the guard every handler runs through (guard.js).
import { test } from "node:test";
import assert from "node:assert/strict";
import { KernelLink, PRE_READY_QUEUE } from "../src/kernel-link.js";
import { kernelDispatcher } from "../src/kernel-messages.js";
import { makeGuard } from "../src/guard.js";
import { readFileSync } from "node:fs";
import * as bridge from "../src/bridge.js";

const { KERNEL_TO_BROWSER } = bridge;

function fakeModel() {
  /** @type {[any, any, any][]} */
  const sent = [];
  const model = /** @type {any} */ ({ send: (msg, callbacks, buffers) => sent.push([msg, callbacks, buffers]) });
  return { model, sent };
}

test("ready goes out first; what was sent before it follows, in order, bounded", () => {
  const { model, sent } = fakeModel();
  const link = new KernelLink(model, new AbortController().signal);
  link.command("send_text", { text: "hi" });
  for (let i = 0; i < PRE_READY_QUEUE + 5; i++) link.send({ type: "played", i });
  assert.equal(sent.length, 0);
  link.sendReady({ view_id: "v1", sample_rate: 48000 });
  assert.deepEqual(sent[0][0], { type: "ready", version: 1, view_id: "v1", sample_rate: 48000 });
  assert.deepEqual(sent[1][0], { type: "command", name: "send_text", args: { text: "hi" } });
  assert.equal(sent.length, 1 + PRE_READY_QUEUE, "the queue is bounded");
  link.send({ type: "ping" });
  assert.deepEqual(sent.at(-1)?.[0], { type: "ping" });
});

test("nothing is sent once the view is closed", () => {
  const { model, sent } = fakeModel();
  const ac = new AbortController();
  const link = new KernelLink(model, ac.signal);
  link.sendReady({});
  ac.abort();
  link.send({ type: "ping" });
  assert.equal(sent.length, 1);
});

test("an event request settles with the reply, and open ones settle when the view closes", async () => {
  const { model, sent } = fakeModel();
  const link = new KernelLink(model, new AbortController().signal);
  link.sendReady({});
  const first = link.requestEvent(3);
  const request = sent.at(-1)?.[0];
  assert.equal(request.type, "get_event");
  assert.equal(request.seq, 3);
  link.answerEvent({ request_id: request.request_id + 1000, payload: { wrong: true } });
  link.answerEvent({ request_id: request.request_id, payload: { type: "session.created" } });
  assert.deepEqual(await first, { payload: { type: "session.created" }, error: null });
  const second = link.requestEvent(4);
  link.close();
  assert.deepEqual(await second, { payload: null, error: "The view was closed." });
});

test("kernel messages reach their handler; unknown types and non-objects are ignored", () => {
  /** @type {string[]} */
  const got = [];
  const dispatch = kernelDispatcher({
    rows: (msg) => got.push(`rows ${msg.n}`),
    audio: (msg, buffers) => got.push(`audio ${buffers?.length}`),
  });
  dispatch({ type: "rows", n: 2 });
  dispatch({ type: "audio", item_id: "i" }, [new DataView(new ArrayBuffer(2))]);
  dispatch({ type: "from_a_newer_kernel" });
  dispatch({ type: "constructor" });
  dispatch(null);
  dispatch("rows");
  assert.deepEqual(got, ["rows 2", "audio 1"]);
});

test("a handler for a name bridge.js does not define is refused", () => {
  assert.throws(() => kernelDispatcher({ pongg: () => {} }), /"pongg" is not a kernel → browser message/);
  const all = Object.fromEntries(KERNEL_TO_BROWSER.map((name) => [name, () => {}]));
  assert.doesNotThrow(() => kernelDispatcher(all));
});

test("the guard reports thrown errors and rejected promises", async () => {
  /** @type {unknown[]} */
  const errors = [];
  const guard = makeGuard((e) => errors.push(e));
  guard(() => {
    throw new Error("sync");
  })();
  guard(async () => {
    throw new Error("async");
  })();
  guard((/** @type {number} */ x) => x + 1)(1);
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(
    errors.map((e) => /** @type {Error} */ (e).message),
    ["sync", "async"],
  );
});

test("view.js gives every kernel → browser message a handler", () => {
  const view = readFileSync(new URL("../src/view.js", import.meta.url), "utf8");
  const table = view.slice(view.indexOf("kernelDispatcher({"));
  const keys = [...table.slice(0, table.indexOf("})")).matchAll(/^\s*\[(\w+)\]:/gm)].map((m) => m[1]);
  const names = keys.map((k) => /** @type {Record<string, unknown>} */ (bridge)[k]);
  assert.deepEqual([...names].sort(), [...KERNEL_TO_BROWSER].sort());
});

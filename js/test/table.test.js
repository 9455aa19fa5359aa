// The event table's pure logic: continued runs, filters, search, cap and hidden count.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  RowStore,
  canMerge,
  compileFilter,
  filterIsEmpty,
  mergeRows,
  normalizeRow,
  rowMatches,
  summaryText,
  SUMMARY_MAX,
} from "../src/event-rows.js";
import { abbreviateType, audioMarkers, displaySummary, formatAudioMs, formatSize, formatTime, shortId } from "../src/row-format.js";

/** @param {Partial<import("../src/bridge.js").Row>} r */
const row = (r) => normalizeRow({ n: 1, t: 0, dir: "server", item: null, resp: null, summary: "", size: 10, audio_ms: 0, ...r });

const appendRun = (seq, last, ms) =>
  row({
    seq,
    last,
    n: last - seq + 1,
    dir: "client",
    type: "input_audio_buffer.append",
    summary: `input_audio_buffer.append ×${last - seq + 1} (${ms} ms)`,
    size: 100 * (last - seq + 1),
    audio_ms: ms,
  });

test("a run continued in the next batch merges into the last row, counts exact", () => {
  const s = new RowStore(100);
  s.ingest([row({ seq: 1, type: "session.created" }), appendRun(2, 11, 400)], { replace: true, total: 11 });
  s.ingest([appendRun(12, 16, 200), row({ seq: 17, type: "input_audio_buffer.speech_started" })], { total: 17 });
  assert.equal(s.rows.length, 3);
  const run = s.rows[1];
  assert.deepEqual([run.seq, run.last, run.n, run.size, run.audio_ms], [2, 16, 15, 1500, 600]);
  assert.equal(run.summary, "input_audio_buffer.append ×15 (600 ms)");
  assert.equal(s.total, 17);
});

test("a single-event continuation (n=1, plain summary) merges too", () => {
  const s = new RowStore();
  s.ingest([appendRun(1, 3, 120)]);
  s.ingest([row({ seq: 4, dir: "client", type: "input_audio_buffer.append", summary: "input_audio_buffer.append 40 ms", size: 100, audio_ms: 40 })]);
  assert.equal(s.rows.length, 1);
  assert.equal(s.rows[0].n, 4);
  assert.equal(s.rows[0].last, 4);
  assert.equal(s.rows[0].summary, "input_audio_buffer.append ×4 (160 ms)");
});

test("text deltas concatenate their text; clipped summaries stay clipped", () => {
  const type = "response.output_audio_transcript.delta";
  const a = row({ seq: 5, type, item: "item_1", summary: `${type} "Hello"` });
  const b = row({ seq: 6, last: 8, n: 3, type, item: "item_1", summary: `${type} ×3 " there, friend"` });
  const m = mergeRows(a, b);
  assert.equal(m.summary, `${type} ×4 "Hello there, friend"`);
  assert.equal(m.n, 4);
  assert.equal(m.last, 8);
  const long = "x".repeat(200);
  const c = mergeRows(m, row({ seq: 9, type, item: "item_1", summary: `${type} "${long.slice(0, 70)}…` }));
  assert.ok(c.summary.length <= SUMMARY_MAX);
  assert.ok(c.summary.endsWith("…"));
  assert.equal(c.n, 5);
  const d = mergeRows(c, row({ seq: 10, type, item: "item_1", summary: `${type} "more"` }));
  assert.equal(d.n, 6);
  assert.ok(d.summary.endsWith("…"), "once clipped, it stays clipped");
  assert.ok(d.summary.startsWith(`${type} ×6 "Hello there, friend`));
});

test("summaryText reads plain, run and clipped summaries", () => {
  assert.deepEqual(summaryText('"hi"'), { text: "hi", clipped: false });
  assert.deepEqual(summaryText('t ×2 "a"b"'), { text: 'a"b', clipped: false });
  assert.deepEqual(summaryText('t ×9 "abc…'), { text: "abc", clipped: true });
  assert.deepEqual(summaryText("input_audio_buffer.append 40 ms"), { text: "", clipped: false });
  assert.deepEqual(summaryText('response.output_text.delta "say "hi""'), { text: 'say "hi"', clipped: false });
});

test("no merge across type, direction, item, non-delta types or backwards seq", () => {
  const t = "response.output_audio.delta";
  const base = row({ seq: 1, type: t, item: "item_a" });
  assert.ok(canMerge(base, row({ seq: 2, type: t, item: "item_a" })));
  assert.ok(!canMerge(base, row({ seq: 2, type: t, item: "item_b" })));
  assert.ok(!canMerge(base, row({ seq: 2, type: t, item: "item_a", dir: "client" })));
  assert.ok(!canMerge(base, row({ seq: 2, type: "response.output_text.delta", item: "item_a" })));
  assert.ok(!canMerge(base, row({ seq: 1, type: t, item: "item_a" })));
  const done = row({ seq: 3, type: "response.done" });
  assert.ok(!canMerge(done, row({ seq: 4, type: "response.done" })));

  const s = new RowStore();
  s.ingest([row({ seq: 1, type: t, item: "item_a", audio_ms: 40 })]);
  s.ingest([row({ seq: 2, type: "response.output_audio_transcript.delta", item: "item_a" })]);
  s.ingest([row({ seq: 3, type: t, item: "item_a", audio_ms: 40 })]);
  assert.equal(s.rows.length, 3, "a different row in between ends the run");
});

test("replace resets the rows and the hidden count", () => {
  const s = new RowStore(3);
  s.ingest([1, 2, 3, 4, 5].map((seq) => row({ seq, type: "x" })));
  assert.equal(s.hidden, 2);
  const epoch = s.epoch;
  s.ingest([row({ seq: 10, type: "y" })], { replace: true, total: 1, counts: { server: 1 } });
  assert.deepEqual(s.rows.map((r) => r.seq), [10]);
  assert.equal(s.hidden, 0);
  assert.equal(s.epoch, epoch + 1);
  assert.deepEqual(s.counts, { server: 1 });
});

test("the cap drops the oldest rows and counts them; merges do not count", () => {
  const s = new RowStore(5);
  for (let seq = 1; seq <= 12; seq++) s.ingest([row({ seq, type: `t.${seq}` })]);
  assert.deepEqual(s.rows.map((r) => r.seq), [8, 9, 10, 11, 12]);
  assert.equal(s.hidden, 7);
  assert.equal(s.removedTotal, 7);
  s.ingest([appendRun(13, 14, 80)]);
  s.ingest([appendRun(15, 20, 240)]); // continues the run: no new row, nothing dropped
  assert.equal(s.rows.length, 5);
  assert.equal(s.hidden, 8);
  assert.equal(s.rows[4].n, 8);
  s.setCap(2);
  assert.deepEqual(s.rows.map((r) => r.seq), [12, 13]);
  assert.equal(s.hidden, 11);
  s.setCap(0); // invalid: back to the default, nothing comes back
  assert.equal(s.rows.length, 2);
  assert.equal(s.cap, 2000);
});

test("a batch bigger than the cap keeps its newest rows", () => {
  const s = new RowStore(4);
  s.ingest(
    Array.from({ length: 10 }, (_, i) => row({ seq: i + 1, type: "e" })),
    { replace: true },
  );
  assert.deepEqual(s.rows.map((r) => r.seq), [7, 8, 9, 10]);
  assert.equal(s.hidden, 6);
});

test("type filter: prefixes, several at once, exclusions", () => {
  const rows = [
    row({ seq: 1, type: "session.created" }),
    row({ seq: 2, type: "input_audio_buffer.append", dir: "client" }),
    row({ seq: 3, type: "input_audio_buffer.speech_started" }),
    row({ seq: 4, type: "response.created" }),
    row({ seq: 5, type: "response.output_audio.delta" }),
    row({ seq: 6, type: "local.dropped_audio", dir: "local" }),
  ];
  const seqs = (f) => rows.filter((r) => rowMatches(r, compileFilter(f))).map((r) => r.seq);
  assert.deepEqual(seqs({}), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(seqs({ type: "response." }), [4, 5]);
  assert.deepEqual(seqs({ type: "input_audio_buffer" }), [2, 3]);
  assert.deepEqual(seqs({ type: "Response.Created, session" }), [1, 4]);
  assert.deepEqual(seqs({ type: "-input_audio_buffer.append -response.output_audio" }), [1, 3, 4, 6]);
  assert.deepEqual(seqs({ type: "input_audio_buffer !input_audio_buffer.append" }), [3]);
  assert.deepEqual(seqs({ type: "-" }), [1, 2, 3, 4, 5, 6], "a lone dash filters nothing");
});

test("direction filter and its combination with the type filter", () => {
  const rows = [
    row({ seq: 1, type: "session.update", dir: "client" }),
    row({ seq: 2, type: "session.updated", dir: "server" }),
    row({ seq: 3, type: "local.note", dir: "local" }),
  ];
  const seqs = (f) => rows.filter((r) => rowMatches(r, compileFilter(f))).map((r) => r.seq);
  assert.deepEqual(seqs({ dir: "client" }), [1]);
  assert.deepEqual(seqs({ dir: "server" }), [2]);
  assert.deepEqual(seqs({ dir: "local" }), [3]);
  assert.deepEqual(seqs({ dir: "server", type: "session.update" }), [2]);
  assert.deepEqual(seqs({ dir: "client", type: "local." }), []);
});

test("search looks at seq, type, ids and summary, case-insensitively", () => {
  const rows = [
    row({ seq: 41, type: "response.output_audio_transcript.delta", item: "item_ABC123", summary: '"Hello World"' }),
    row({ seq: 42, type: "response.done", resp: "resp_XYZ", summary: "completed 120 tokens" }),
    row({ seq: 43, type: "error", summary: "Invalid value: 'pcm17'" }),
  ];
  const seqs = (q) => rows.filter((r) => rowMatches(r, compileFilter({ search: q }))).map((r) => r.seq);
  assert.deepEqual(seqs("hello world"), [41]);
  assert.deepEqual(seqs("item_abc"), [41]);
  assert.deepEqual(seqs("resp_xyz"), [42]);
  assert.deepEqual(seqs("PCM17"), [43]);
  assert.deepEqual(seqs("43"), [43]);
  assert.deepEqual(seqs("  "), [41, 42, 43]);
  assert.deepEqual(seqs("nothing like it"), []);
});

test("RowStore.matching and filterIsEmpty", () => {
  const s = new RowStore();
  s.ingest([row({ seq: 1, type: "a.b" }), row({ seq: 2, type: "c.d", dir: "client" })]);
  assert.ok(filterIsEmpty(compileFilter({})));
  assert.ok(!filterIsEmpty(compileFilter({ search: "x" })));
  assert.deepEqual(s.matching(compileFilter({ dir: "client" })).map((r) => r.seq), [2]);
});

test("formatting helpers", () => {
  assert.equal(shortId("item_C3kdf9Qx2aB7zz"), "item_…aB7zz");
  assert.equal(shortId("abc"), "abc");
  assert.equal(shortId(null), "");
  assert.equal(formatSize(0), "");
  assert.equal(formatSize(512), "512 B");
  assert.equal(formatSize(1536), "1.5 kB");
  assert.equal(formatSize(25_000), "25 kB");
  assert.equal(formatSize(3_200_000), "3.2 MB");
  assert.equal(formatAudioMs(0), "");
  assert.equal(formatAudioMs(40), "40 ms");
  assert.equal(formatAudioMs(12_345), "12.3 s");
});

test("normalizeRow fills missing fields", () => {
  const r = normalizeRow({ seq: 7, type: "x" });
  assert.deepEqual(r, {
    seq: 7,
    last: 7,
    n: 1,
    t: 0,
    dir: "local",
    type: "x",
    item: null,
    resp: null,
    summary: "",
    size: 0,
    audio_ms: 0,
    turn: null,
  });
  assert.equal(normalizeRow({ seq: 1, type: "x", turn: 3 }).turn, 3);
});

test("the table shows a run's summary without the type and count the type column has", () => {
  const run = appendRun(1, 5, 200);
  assert.equal(displaySummary(run), "(200 ms)");
  const t = "response.output_text.delta";
  assert.equal(displaySummary(row({ seq: 1, last: 3, n: 3, type: t, summary: `${t} ×3 "Hi there"` })), '"Hi there"');
  assert.equal(displaySummary(row({ seq: 1, type: "session.created", summary: "session.created gpt-realtime pcm16" })), "gpt-realtime pcm16");
  assert.equal(displaySummary(row({ seq: 1, type: "rate_limits.updated", summary: "rate_limits.updated" })), "");
  assert.equal(displaySummary(row({ seq: 1, type: t, summary: `${t} "x"` })), '"x"');
  assert.equal(displaySummary(row({ seq: 1, type: "x", summary: "something else" })), "something else");
});


test("a long type is shortened in the middle: its distinguishing end stays", () => {
  const types = [
    "response.output_audio_transcript.delta",
    "response.output_audio.delta",
    "response.output_text.delta",
    "conversation.item.input_audio_transcription.completed",
    "conversation.item.input_audio_transcription.delta",
    "input_audio_buffer.speech_started",
    "input_audio_buffer.speech_stopped",
    "response.function_call_arguments.delta",
  ];
  for (const max of [12, 16, 20, 24, 30]) {
    const shown = types.map((t) => abbreviateType(t, max));
    for (const [i, s] of shown.entries()) {
      assert.ok(s.length <= max, `${s} is longer than ${max}`);
      const tail = s.slice(s.indexOf("…") + 1);
      assert.ok(types[i].endsWith(tail), `${s} does not end like ${types[i]}`);
    }
    if (max >= 16) assert.equal(new Set(shown).size, types.length, `names collide at ${max}: ${shown}`);
  }
  assert.equal(abbreviateType("response.output_audio_transcript.delta", 24), "resp…transcript.delta");
  assert.equal(abbreviateType("input_audio_buffer.speech_started", 24), "inpu…ffer.speech_started");
  assert.equal(abbreviateType("response.done", 16), "response.done");
});

test("times fit seven characters up to ten hours", () => {
  assert.equal(formatTime(1.5), "1.500");
  assert.equal(formatTime(999.9), "999.900");
  assert.equal(formatTime(1000), "16:40.0");
  assert.equal(formatTime(3599.96), "59:59.9");
  assert.equal(formatTime(3600), "1:00:00");
  assert.equal(formatTime(7384.2), "2:03:04");
  for (const t of [0, 12.3, 999.9999, 1234.5, 3599.99, 35999]) assert.ok(formatTime(t).length <= 7, formatTime(t));
});

test("audio markers are found wherever an event carries audio", () => {
  assert.deepEqual(audioMarkers({ type: "response.output_audio.delta", delta: { audio_bytes: 4800, ms: 100 } }), [
    { path: "delta", bytes: 4800, ms: 100 },
  ]);
  const item = { item: { content: [{ type: "input_audio", audio: { audio_bytes: 96, ms: 2 } }] } };
  assert.deepEqual(audioMarkers(item), [{ path: "item.content[0].audio", bytes: 96, ms: 2 }]);
  assert.deepEqual(audioMarkers({ type: "response.done", response: { usage: { total_tokens: 5 } } }), []);
});

test("the turn filter keeps one turn's rows and runs do not merge across turns", () => {
  const a = row({ seq: 1, type: "input_audio_buffer.append", dir: "client", turn: 1 });
  const b = row({ seq: 2, type: "input_audio_buffer.append", dir: "client", turn: 2 });
  assert.equal(canMerge(a, b), false);
  assert.equal(canMerge(a, { ...b, turn: 1 }), true);
  const f = compileFilter({ turn: 2 });
  assert.equal(filterIsEmpty(f), false);
  assert.deepEqual([a, b].filter((r) => rowMatches(r, f)).map((r) => r.seq), [2]);
  assert.equal(rowMatches(row({ seq: 3, type: "x" }), f), false); // no turn: hidden by a turn filter
  assert.equal(filterIsEmpty(compileFilter({ turn: null })), true);
});

test("rows whose turn became known later get it", () => {
  const store = new RowStore();
  store.ingest([row({ seq: 1, type: "session.created" }), row({ seq: 2, type: "input_audio_buffer.append", dir: "client" })]);
  const before = store.rows[1];
  assert.deepEqual(store.applyTurns({ 2: 1, 99: 3 }), [1]);
  assert.equal(store.rows[1].turn, 1);
  assert.notEqual(store.rows[1], before); // a new object: the view re-renders it
  assert.equal(store.rows[0].turn, null);
  assert.deepEqual(store.applyTurns({ 2: 1 }), []); // nothing new
  assert.deepEqual(store.applyTurns(undefined), []);
});

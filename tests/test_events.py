"""events.py: the event log of DESIGN.md §5, fed the recorded streams of realtime-protocol.md §5."""

from __future__ import annotations

import base64
import json
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from realtime_nb.errors import ProtocolError, UsageError
from realtime_nb.events import (
    _SUMMARIES,
    DISPLAY_COLUMNS,
    PRICES,
    ROW_COLUMNS,
    EventLog,
    audio_marker,
    extract_audio,
    price_for,
    usage_row,
)
from tests.schema import CLIENT_EVENTS, SERVER_EVENTS, _extras

FIXTURES = Path(__file__).parent / "fixtures"
STREAMS = ("vad_turn.jsonl", "push_to_talk.jsonl", "barge_in.jsonl", "function_call_text.jsonl")
WALL0 = 1_766_000_000.0
#: Fields a real ``session.created``/``updated`` carries that the SDK's request model lacks
#: (realtime-protocol.md §4.1, observed on the wire).
OBSERVED_SESSION_EXTRAS = {"session.id", "session.object", "session.expires_at"}


@cache
def _text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def lines(name: str) -> list[dict[str, Any]]:
    """The recorded frames of one stream, freshly parsed (extract_audio mutates them)."""
    return [json.loads(line) for line in _text(name).splitlines()]


def replay(name: str, log: EventLog | None = None) -> EventLog:
    """Feed a recording through extract_audio and EventLog.record, as the session does."""
    log = log if log is not None else EventLog()
    for line in lines(name):
        event = line["event"]
        size = len(json.dumps(event, separators=(",", ":")))
        event, pcm = extract_audio(event)
        log.record(line["dir"], event, size=size, t=line["t"], wall=WALL0 + line["t"],
                   audio_bytes=len(pcm) if pcm else 0)  # fmt: skip
    return log


def b64(n: int) -> str:
    return base64.b64encode(bytes(range(256)) * (n // 256) + bytes(n % 256)).decode()


# --- the fixtures are real protocol ------------------------------------------------------------
@pytest.mark.parametrize("name", STREAMS)
def test_fixture_lines_validate_against_the_official_schema(name: str) -> None:
    times = []
    for line in lines(name):
        event = line["event"]
        times.append(line["t"])
        if line["dir"] == "server":
            model = SERVER_EVENTS.validate_python(event)
            assert event["event_id"].startswith("event_") and len(event["event_id"]) == 27
        else:
            model = CLIENT_EVENTS.validate_python(event)
        extras = {x.split(".", 1)[1] for x in _extras(model, "")}
        assert extras <= OBSERVED_SESSION_EXTRAS, extras
    assert times == sorted(times)


# --- §5 audio marker ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("event", "path", "nbytes"),
    [
        ({"type": "input_audio_buffer.append", "audio": b64(1920)}, ("audio",), 1920),
        ({"type": "response.output_audio.delta", "item_id": "i", "delta": b64(960)},
         ("delta",), 960),
        ({"type": "conversation.item.create", "item": {"type": "message", "role": "user",
          "content": [{"type": "input_text", "text": "hi"},
                      {"type": "input_audio", "audio": b64(4800)}]}},
         ("item", "content", 1, "audio"), 4800),
        ({"type": "conversation.item.retrieved", "event_id": "e", "item": {"id": "item_1",
          "type": "message", "role": "assistant",
          "content": [{"type": "output_audio", "audio": b64(480), "transcript": "ok"}]}},
         ("item", "content", 0, "audio"), 480),
    ],
)  # fmt: skip
def test_extract_audio_decodes_once_and_leaves_a_marker(
    event: dict[str, Any], path: tuple[Any, ...], nbytes: int
) -> None:
    original = event
    node: Any = event
    for key in path[:-1]:
        node = node[key]
    expected_pcm = base64.b64decode(node[path[-1]])
    out, pcm = extract_audio(event)
    assert out is original  # mutated in place, no copy
    assert pcm == expected_pcm and len(pcm) == nbytes
    assert node[path[-1]] == {"audio_bytes": nbytes, "ms": round(nbytes / 48, 1)}
    assert extract_audio(out) == (out, None)  # a marker is never decoded again


@pytest.mark.parametrize(
    "event",
    [
        {"type": "response.output_audio.delta", "delta": "not base64!"},
        {"type": "input_audio_buffer.append", "audio": "QUJD\nRA=="},
        {"type": "input_audio_buffer.append", "audio": 12},
        {"type": "conversation.item.create", "item": {"content": [{"audio": "%%%"}]}},
    ],
)
def test_bad_base64_is_a_protocol_error(event: dict[str, Any]) -> None:
    with pytest.raises(ProtocolError, match="audio"):
        extract_audio(event)


@pytest.mark.parametrize(
    "event",
    [
        {"type": "response.output_audio_transcript.delta", "delta": "Hello"},
        {"type": "session.created", "session": {}},
        {"type": "conversation.item.added", "item": None},
        {"type": 5},
        {},
    ],
)
def test_events_without_audio_pass_through(event: dict[str, Any]) -> None:
    before = json.dumps(event)
    assert extract_audio(event) == (event, None)
    assert json.dumps(event) == before


def test_audio_marker_shape() -> None:
    assert audio_marker(1000) == {"audio_bytes": 1000, "ms": 20.8}
    assert audio_marker(0) == {"audio_bytes": 0, "ms": 0.0}


# --- rows and summaries --------------------------------------------------------------------------
LONG = "Invalid value: 'nope'. Supported values are: " + ", ".join(f"'t{i}'" for i in range(40))


@pytest.mark.parametrize(
    ("direction", "event", "summary"),
    [
        ("server", {"type": "response.output_audio_transcript.delta", "delta": "Hel"},
         'response.output_audio_transcript.delta "Hel"'),
        ("server", {"type": "error", "error": {"type": "invalid_request_error",
                                                "code": "invalid_value", "message": LONG}},
         ("error invalid_value: " + LONG)[:119] + "…"),
        ("server", {"type": "session.updated", "session": {"type": "realtime", "audio": {
            "input": {"turn_detection": {"type": "server_vad"}}, "output": {"voice": "alloy"}}}},
         "session.updated voice=alloy vad=server_vad"),
        ("server", {"type": "session.updated", "session": {"type": "realtime", "audio": {
            "input": {"turn_detection": None}}, "output_modalities": ["text"]}},
         "session.updated vad=none out=text"),
        ("server", {"type": "response.done", "response": {"status": "completed",
                    "usage": {"input_tokens": 132, "output_tokens": 188}}},
         "response.done completed in=132 out=188 tokens"),
        ("server", {"type": "response.done", "response": {"status": "cancelled",
                    "status_details": {"type": "cancelled", "reason": "turn_detected"}}},
         "response.done cancelled (turn_detected)"),
        ("server", {"type": "response.done", "response": {"status": "failed", "status_details": {
            "type": "failed", "error": {"type": "server_error", "code": "server_error"}}}},
         "response.done failed (server_error)"),
        ("client", {"type": "input_audio_buffer.append", "audio": audio_marker(1920)},
         "input_audio_buffer.append 40.0 ms"),
        ("client", {"type": "conversation.item.truncate", "item_id": "i", "audio_end_ms": 600},
         "conversation.item.truncate audio_end_ms=600"),
        ("server", {"type": "input_audio_buffer.speech_started", "audio_start_ms": 1500},
         "input_audio_buffer.speech_started at 1500 ms"),
        ("server", {"type": "response.function_call_arguments.done", "name": "get_weather",
                    "arguments": '{"city": "Paris"}'},
         'response.function_call_arguments.done get_weather({"city": "Paris"})'),
        ("server", {"type": "conversation.item.added", "item": {
            "type": "message", "role": "user", "status": "completed",
            "content": [{"type": "input_text", "text": "Say hi"}]}},
         'conversation.item.added user message completed "Say hi"'),
        ("server", {"type": "rate_limits.updated", "rate_limits": [
            {"name": "tokens", "limit": 40000, "remaining": 38490}]},
         "rate_limits.updated tokens 38490/40000"),
        ("server", {"type": "response.output_text.delta", "delta": "two\nlines"},
         'response.output_text.delta "two⏎lines"'),
        ("server", {"type": "response.output_audio.delta", "delta": audio_marker(2400),
                    "_beta_type": "response.audio.delta"},
         "response.output_audio.delta 50.0 ms (beta response.audio.delta)"),
        ("server", {"type": "brand.new_event", "x": 1}, "brand.new_event"),
        ("local", {"type": "local.dropped_audio", "bytes": 960, "reason": "send queue full"},
         "local.dropped_audio bytes=960 reason=send queue full"),
    ],
)  # fmt: skip
def test_one_line_summaries(direction: str, event: dict[str, Any], summary: str) -> None:
    log = EventLog()
    row = log.record(direction, event, size=10, t=0.0, wall=0.0)  # type: ignore[arg-type]
    assert row.summary == summary
    assert len(row.summary) <= 120 and "\n" not in row.summary
    assert row.summary is row.summary  # computed once, cached


def test_record_keeps_the_event_itself_and_its_ids() -> None:
    log = EventLog()
    event = {"type": "response.output_item.added", "event_id": "event_1", "response_id": "resp_1",
             "output_index": 0, "item": {"id": "item_1", "type": "message"}}  # fmt: skip
    row = log.record("server", event, size=123, t=5.0, wall=WALL0)
    assert (row.seq, row.type, row.event_id, row.item_id, row.response_id, row.size) == (
        1, "response.output_item.added", "event_1", "item_1", "resp_1", 123,
    )  # fmt: skip
    assert row.payload == event and row.payload is not event  # a shallow copy
    done = log.record("server", {"type": "response.done", "response": {"id": "resp_1"}},
                      size=7, t=6.0, wall=WALL0)  # fmt: skip
    assert (done.seq, done.response_id, done.item_id) == (2, "resp_1", None)
    local = log.local("local.closed", {"code": 1000, "reason": ""}, t=7.0, wall=WALL0)
    assert (local.seq, local.direction, local.size, local.payload["type"]) == (
        3, "local", 0, "local.closed",
    )  # fmt: skip
    assert log.last_seq == 3 and len(log) == 3
    assert log.counts == {"response.output_item.added": 1, "response.done": 1, "local.closed": 1}
    assert log.bytes_by_direction == {"client": 0, "server": 130, "local": 0}


def test_rows_share_keys_ids_and_markers() -> None:
    log = EventLog()
    rows = [
        log.record("server", json.loads(json.dumps({"type": "response.output_audio.delta",
                   "item_id": "item_1", "response_id": "resp_1", "delta": audio_marker(960)})),
                   size=1, t=0.0, wall=0.0)
        for _ in range(2)
    ]  # fmt: skip
    a, b = (r.payload for r in rows)
    assert a["delta"] is b["delta"] and a["item_id"] is b["item_id"] and a["type"] is b["type"]
    key_a, key_b = (next(k for k in p if k == "response_id") for p in (a, b))
    assert key_a is key_b


def test_record_drops_credentials_and_leftover_base64() -> None:
    log = EventLog()
    event = {"type": "input_audio_buffer.append", "audio": b64(960), "Authorization": "Bearer sk",
             "api-key": "k", "api_key": "k", "API_KEY": "k"}  # fmt: skip
    row = log.record("client", event, size=1400, t=0.0, wall=0.0)
    assert row.payload == {"type": "input_audio_buffer.append", "audio": audio_marker(960)}
    assert row.audio_bytes == 960
    assert log.audio_bytes_by_direction["client"] == 960
    created = {"type": "conversation.item.create", "item": {"type": "message", "role": "user",
               "content": [{"type": "input_audio", "audio": b64(4801)}]}}  # fmt: skip
    row = log.record("client", created, size=10, t=0.0, wall=0.0)
    assert row.payload["item"]["content"][0]["audio"] == audio_marker(4801)
    assert "sk" not in json.dumps(log.to_records())


# --- bounded rows, exact counts -----------------------------------------------------------------
def test_eviction_keeps_counts_exact() -> None:
    log = EventLog(max_rows=10)
    for i in range(25):
        direction = "client" if i % 2 else "server"
        log.record(direction, {"type": f"t.{i % 3}"}, size=i, t=float(i), wall=WALL0 + i)
    assert (len(log), len(log.rows), log.evicted, log.last_seq) == (25, 10, 15, 25)
    assert [r.seq for r in log] == list(range(16, 26))
    assert log.counts == {"t.0": 9, "t.1": 8, "t.2": 8}
    assert log.bytes_by_direction["server"] == sum(range(0, 25, 2))
    assert log.rows_by_direction == {"client": 12, "server": 13, "local": 0}
    assert [r.seq for r in log.since(20)] == [21, 22, 23, 24, 25]
    assert [r.seq for r in log.since(3)] == list(range(16, 26))
    assert log.since(25) == []


def test_turns_and_usage_survive_eviction() -> None:
    full = replay("barge_in.jsonl")
    small = replay("barge_in.jsonl", EventLog(max_rows=5))
    assert small.evicted == len(full) - 5
    assert small.turns() == full.turns()
    assert small.usage() == full.usage()
    assert small.counts == full.counts


def test_max_rows_must_be_positive() -> None:
    with pytest.raises(UsageError):
        EventLog(max_rows=0)


# --- filters -------------------------------------------------------------------------------------
U1 = "item_VadUser10000000000000"
R1 = "resp_VadResp10000000000000"


@pytest.mark.parametrize(
    ("criteria", "count"),
    [
        ({"type": "input_audio_buffer.append"}, 20),
        ({"type": "response.output_audio.delta"}, 10),
        ({"type": "response.*"}, 24),  # created, 3 item/part events, 16 deltas, 5 dones
        ({"type": "response."}, 24),
        ({"type": "input_audio_buffer.*", "direction": "server"}, 3),
        ({"direction": "client"}, 21),
        ({"item_id": U1}, 7),  # VAD ×3, item added/done, transcription delta/completed
        ({"response_id": R1}, 24),
        ({"text": "HELLO"}, 2),  # the input transcription delta and its completion
        ({"text": "vadresp1"}, 24),  # ids are searched too
        ({"type": "response.output_audio_transcript.delta", "text": "help"}, 1),
    ],
)
def test_filter(criteria: dict[str, str], count: int) -> None:
    rows = replay("vad_turn.jsonl").filter(**criteria)
    assert len(rows) == count


# --- coalesced view ------------------------------------------------------------------------------
def test_coalesced_runs_of_appends_and_deltas() -> None:
    log = replay("vad_turn.jsonl")
    view = log.coalesced()
    assert sum(d.count for d in view) == len(log.rows) == 57
    assert [(d.type, d.count) for d in view[:9]] == [
        ("session.created", 1),
        ("session.update", 1),
        ("session.updated", 1),
        ("input_audio_buffer.append", 7),
        ("input_audio_buffer.speech_started", 1),
        ("input_audio_buffer.append", 9),
        ("input_audio_buffer.speech_stopped", 1),
        ("input_audio_buffer.append", 1),
        ("input_audio_buffer.committed", 1),
    ]
    appends = view[3]
    assert (appends.first_seq, appends.last_seq, appends.t, appends.t_end) == (4, 10, 0.25, 0.55)
    assert (appends.audio_bytes, appends.direction) == (7 * 2400, "client")
    assert appends.summary == "input_audio_buffer.append ×7 (350.0 ms)"
    assert appends.size == sum(r.size for r in log.rows[3:10])
    tail = [d for d in view if d.type == "response.output_audio.delta" and d.count > 1]
    assert [d.summary for d in tail] == ["response.output_audio.delta ×5 (250.0 ms)"]


def test_coalesced_text_deltas_show_the_joined_text() -> None:
    view = replay("function_call_text.jsonl").coalesced()
    summaries = {d.type: d.summary for d in view if d.count > 1}
    assert summaries == {
        "response.function_call_arguments.delta":
            'response.function_call_arguments.delta ×3 "{"city": "Paris"}"',
        "response.output_text.delta": 'response.output_text.delta ×3 "It is 21 °C in Paris."',
    }  # fmt: skip


def test_runs_break_on_item_and_direction() -> None:
    log = EventLog()
    for item in ("a", "a", "b", "b", "b", "a"):
        log.record("server", {"type": "response.output_text.delta", "item_id": item,
                              "delta": "x"}, size=1, t=0.0, wall=0.0)  # fmt: skip
    log.record("client", {"type": "input_audio_buffer.append", "audio": audio_marker(48)},
               size=1, t=0.0, wall=0.0, audio_bytes=48)  # fmt: skip
    assert [(d.item_id, d.count) for d in log.coalesced()] == [
        ("a", 2),
        ("b", 3),
        ("a", 1),
        (None, 1),
    ]


# --- derived tables: turns and usage ------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("vad_turn.jsonl", [("completed", 200.0, 125.0, 100.0, 750.0)]),
        ("push_to_talk.jsonl", [("completed", None, 50.0, 40.0, 165.0)]),
        ("barge_in.jsonl", [("cancelled", 190.0, 30.0, 20.0, 736.0),
                            ("completed", 390.0, 35.0, 30.0, 65.0)]),
        ("function_call_text.jsonl", [("completed", None, None, None, 230.0),
                                      ("completed", None, None, 300.0, 510.0)]),
    ],
)  # fmt: skip
def test_turn_latencies(name: str, expected: list[tuple[Any, ...]]) -> None:
    turns = replay(name).turns()
    got = [(t.status, t.created_ms, t.first_audio_ms, t.first_text_ms, t.total_ms) for t in turns]
    assert got == expected


def test_turn_times_come_from_the_rows() -> None:
    (turn,) = replay("vad_turn.jsonl").turns()
    assert turn.response_id == R1 and turn.input_item_id == U1
    assert (turn.speech_stopped_t, turn.created_t, turn.first_audio_t, turn.done_t) == (
        1.05, 1.25, 1.375, 2.0,
    )  # fmt: skip


def test_a_speech_stop_starts_one_turn_only() -> None:
    log = EventLog()
    for t, event in [
        (1.0, {"type": "input_audio_buffer.speech_stopped", "item_id": "u"}),
        (1.2, {"type": "response.created", "response": {"id": "r1"}}),
        (2.0, {"type": "response.done", "response": {"id": "r1", "status": "completed"}}),
        (3.0, {"type": "response.created", "response": {"id": "r2"}}),  # a text turn
    ]:
        log.record("server", event, size=1, t=t, wall=t)
    assert [(t.response_id, t.created_ms) for t in log.turns()] == [("r1", 200.0), ("r2", None)]


@pytest.mark.parametrize(
    ("name", "rows"),
    [
        # realtime-protocol.md §6: the observed gpt-realtime turn; 59×4 + 9×32 + 64×0.40
        # + 41×16 + 147×64 = 10 613.6 per 1M tokens.
        ("vad_turn.jsonl", [("gpt-realtime", 132, 188, 64, 0, 64, 0.0106136)]),
        ("barge_in.jsonl", [("gpt-realtime", 90, 52, 48, 0, 48, 0.0032752),
                            ("gpt-realtime", 130, 30, 92, 32, 60, 0.0026608)]),
        # gpt-realtime-mini: 52×0.60 + 128×0.06 + 15×2.40 = 74.88; 38×0.60 + 192×0.06 + 12×2.40
        ("function_call_text.jsonl", [("gpt-realtime-mini", 180, 15, 128, 128, 0, 7.488e-05),
                                      ("gpt-realtime-mini", 230, 12, 192, 192, 0, 6.312e-05)]),
    ],
)  # fmt: skip
def test_usage_and_cost(name: str, rows: list[tuple[Any, ...]]) -> None:
    usage = replay(name).usage()
    got = [(u.model, u.input_tokens, u.output_tokens, u.cached_tokens, u.cached_text_tokens,
            u.cached_audio_tokens) for u in usage]  # fmt: skip
    assert got == [r[:-1] for r in rows]
    assert [u.cost_usd for u in usage] == pytest.approx([r[-1] for r in rows], rel=1e-9)
    for u in usage:
        assert u.input_tokens == u.input_text_tokens + u.input_audio_tokens + u.input_image_tokens
        assert u.total_tokens == u.input_tokens + u.output_tokens


USAGE = {"input_tokens": 100, "output_tokens": 10, "total_tokens": 110,
         "input_token_details": {"text_tokens": 40, "audio_tokens": 60, "cached_tokens": 50},
         "output_token_details": {"text_tokens": 10, "audio_tokens": 0}}  # fmt: skip


@pytest.mark.parametrize(
    ("model", "prices", "cost"),
    [
        # no cached split given: cached tokens count as text first (40), then audio (10)
        ("gpt-realtime", None, (40 * 0.40 + 10 * 0.40 + 50 * 32 + 10 * 16) / 1e6),
        ("gpt-realtime-2025-08-28", None, (40 * 0.40 + 10 * 0.40 + 50 * 32 + 10 * 16) / 1e6),
        ("gpt-realtime-mini-2025-10-06", None, (40 * 0.06 + 10 * 0.30 + 50 * 10 + 10 * 2.4) / 1e6),
        ("my-model", None, None),
        (None, None, None),
        ("anything", {"text_in": 1, "text_cached": 1, "text_out": 1, "audio_in": 1,
                      "audio_cached": 1, "audio_out": 1}, 110 / 1e6),
        ("my-model", {"my-model": PRICES["gpt-realtime"]},
         (40 * 0.40 + 10 * 0.40 + 50 * 32 + 10 * 16) / 1e6),
    ],
)  # fmt: skip
def test_price_lookup(model: str | None, prices: dict[str, Any] | None, cost: float | None) -> None:
    row = usage_row("r", USAGE, model, "completed", prices)
    assert (row.cached_text_tokens, row.cached_audio_tokens) == (40, 10)
    assert row.cost_usd == (pytest.approx(cost) if cost is not None else None)


# USAGE priced per model: 40 cached text + 10 cached audio, 50 audio in, 10 text out.
@pytest.mark.parametrize(
    ("model", "cached_text", "cached_audio", "audio_in", "text_out"),
    [
        ("gpt-realtime-2", 0.40, 0.40, 32.00, 24.00),  # 2.x text output is $24, not $16
        ("gpt-realtime-2.1", 0.40, 0.40, 32.00, 24.00),
        ("gpt-realtime-2.1-mini", 0.06, 0.30, 10.00, 2.40),
        ("gpt-realtime-1.5", 0.40, 0.40, 32.00, 16.00),
        ("gpt-realtime", 0.40, 0.40, 32.00, 16.00),
        ("gpt-realtime-mini-2025-12-15", 0.06, 0.30, 10.00, 2.40),
        ("gpt-4o-realtime-preview-2025-06-03", 2.50, 2.50, 40.00, 20.00),
        ("gpt-4o-mini-realtime-preview", 0.30, 0.30, 10.00, 2.40),
    ],
)
def test_token_prices_per_model(
    model: str, cached_text: float, cached_audio: float, audio_in: float, text_out: float
) -> None:
    row = usage_row("r", USAGE, model, "completed")
    expected = 40 * cached_text + 10 * cached_audio + 50 * audio_in + 10 * text_out
    assert row.cost_usd == pytest.approx(expected / 1e6)


def test_price_for_takes_no_prefix_guesses() -> None:
    assert price_for("gpt-realtime-2") != price_for("gpt-realtime")
    assert price_for("gpt-realtime-3") is None
    assert price_for("gpt-realtime-2.1-2027-03-01") == PRICES["gpt-realtime-2.1"]


@pytest.mark.parametrize(
    ("model", "seconds", "cost"),
    [
        ("gpt-realtime-whisper", 90, 1.5 * 0.017),
        ("gpt-live-transcribe", 30.5, 30.5 / 60 * 0.017),
        ("gpt-transcribe", 60, 0.0045),
        ("whisper-1", 60, None),  # no rate known
        ("gpt-realtime-2", 60, None),  # a token-priced model has no per-minute rate
        (None, 60, None),
    ],
)
def test_duration_usage_costs_minutes_times_rate(
    model: str | None, seconds: float, cost: float | None
) -> None:
    usage = {"type": "duration", "seconds": seconds}
    row = usage_row("item_1", usage, model, None)
    assert (row.audio_seconds, row.input_tokens, row.output_tokens) == (seconds, 0, 0)
    assert row.cost_usd == (pytest.approx(cost) if cost is not None else None)


def test_token_usage_of_a_per_minute_model_is_not_priced_as_free() -> None:
    usage = {"type": "tokens", "input_tokens": 10, "output_tokens": 5, "total_tokens": 15}
    assert usage_row("item_1", usage, "gpt-realtime-whisper", None).cost_usd is None


# --- DataFrames, JSON Lines ----------------------------------------------------------------------
def test_dataframes() -> None:
    log = replay("vad_turn.jsonl")
    df = log.to_dataframe()
    assert tuple(df.columns) == (*ROW_COLUMNS, "turn")
    assert len(df) == 57
    started = df.loc[df["type"] == "input_audio_buffer.speech_started", "seq"].iloc[0]
    assert list(df["turn"].isna()) == list(df["seq"] < started)  # set-up and silence: no turn
    assert set(df["turn"].dropna()) == {1}
    first = df.iloc[0]
    assert (first["seq"], first["direction"], first["type"], first["t"]) == (
        1, "server", "session.created", 0.01,
    )  # fmt: skip
    assert df["audio_bytes"].sum() == 20 * 2400 + 10 * 2400
    assert (df["type"] == "input_audio_buffer.append").sum() == 20
    view = log.to_dataframe(coalesce=True)
    assert tuple(view.columns) == (*DISPLAY_COLUMNS, "turn")
    assert view["count"].sum() == 57
    responses = log.responses_dataframe()  # the per-response table turns_dataframe used to be
    assert list(responses["total_ms"]) == [750.0]
    assert {"created_ms", "first_audio_ms", "response_id"} <= set(responses.columns)
    turns = log.turns_dataframe()
    assert list(turns["turn"]) == [1] and list(turns["input"]) == ["speech"]
    assert turns["created_to_first_audio_ms"][0] == responses["first_audio_ms"][0]
    usage = log.usage_dataframe()
    assert usage["cost_usd"].sum() == pytest.approx(0.0106136)
    assert list(usage["output_audio_tokens"]) == [147]


def test_empty_dataframes_have_their_columns() -> None:
    log = EventLog()
    assert tuple(log.to_dataframe().columns) == (*ROW_COLUMNS, "turn")
    assert len(log.turns_dataframe()) == 0 and "total_ms" in log.turns_dataframe().columns
    assert log.turns_dataframe().attrs["totals"]["turns"] == 0
    assert "total_ms" in log.responses_dataframe().columns
    assert "cost_usd" in log.usage_dataframe().columns


def test_dataframe_without_pandas(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(UsageError, match=r"pip install 'realtime-nb\[pandas\]'"):
        EventLog().to_dataframe()


def test_to_jsonl(tmp_path: Path) -> None:
    log = replay("push_to_talk.jsonl")
    path = tmp_path / "log.jsonl"
    assert log.to_jsonl(path) == 45
    records = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    assert [r["seq"] for r in records] == list(range(1, 46))
    appends = [r for r in records if r["type"] == "input_audio_buffer.append"]
    assert appends[0]["payload"]["audio"] == audio_marker(2400)
    assert max(len(x) for x in path.read_text(encoding="utf-8").splitlines()) < 2000  # no base64


# --- HTML repr ------------------------------------------------------------------------------------
def test_html_escapes_summaries() -> None:
    log = EventLog()
    event = {"type": "response.output_text.delta", "item_id": "<i>x",
             "delta": "<script>alert(1)</script>"}  # fmt: skip
    log.record("server", event, size=60, t=1.0, wall=1.0)
    html = log._repr_html_()
    assert "<script>" not in html and "<i>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'title="&lt;i&gt;x"' in html


def test_html_shows_the_last_200_coalesced_rows_without_audio() -> None:
    log = replay("vad_turn.jsonl")
    for i in range(300):
        log.local("local.tick", {"n": i}, t=3.0 + i, wall=0.0)
    html = log._repr_html_()
    assert html.count("<tr>") == 201  # header + 200 rows
    assert "357 rows" in html and "→ client 21" in html and "← server 36" in html
    assert "• local 300" in html and "local.tick n=299" in html and "local.tick n=99<" not in html
    deltas = [x["event"]["delta"] for x in lines("vad_turn.jsonl")
              if x["event"]["type"] == "response.output_audio.delta"]  # fmt: skip
    small = replay("vad_turn.jsonl")._repr_html_()
    assert "response.output_audio.delta ×5 (250.0 ms)" in small
    assert ">0.000<" in small and ">1.990<" in small  # t relative to the first row, 3 decimals
    assert all(d[:64] not in small for d in deltas)


# --- property: the log stays exact under any sequence -------------------------------------------
TYPES = ("response.output_audio.delta", "response.output_text.delta", "input_audio_buffer.append",
         "response.done", "error")  # fmt: skip


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    max_rows=st.one_of(st.none(), st.integers(1, 12)),
    events=st.lists(
        st.tuples(
            st.sampled_from(("client", "server", "local")),
            st.sampled_from(TYPES),
            st.sampled_from(("a", "b", None)),
            st.integers(0, 5000),
        ),
        max_size=60,
    ),
    probe=st.integers(-2, 70),
    tail=st.integers(1, 8),
)
def test_log_invariants(
    max_rows: int | None, events: list[tuple[str, str, str | None, int]], probe: int, tail: int
) -> None:
    log = EventLog(max_rows=max_rows)
    for i, (direction, type_, item, nbytes) in enumerate(events):
        if direction == "local":
            log.local(type_, {"item_id": item}, t=float(i), wall=0.0)
        else:
            event = {"type": type_, "item_id": item, "delta": "x"}
            log.record(direction, event, size=nbytes, t=float(i), wall=0.0,  # type: ignore[arg-type]
                       audio_bytes=nbytes)  # fmt: skip
    n = len(events)
    kept = list(log)
    assert len(log) == n and len(kept) == (n if max_rows is None else min(n, max_rows))
    assert log.evicted == n - len(kept)
    assert [r.seq for r in kept] == list(range(n - len(kept) + 1, n + 1))
    assert sum(log.counts.values()) == n
    assert log.since(probe) == [r for r in kept if r.seq > probe]
    view = log.coalesced()
    assert sum(d.count for d in view) == len(kept)
    assert sum(d.audio_bytes for d in view) == sum(r.audio_bytes for r in kept)
    assert log.tail_coalesced(tail) == view[-tail:]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
FIELDS = [
    "session", "response", "item", "part", "error", "delta", "audio", "transcript", "text",
    "rate_limits", "audio_start_ms", "audio_end_ms", "name", "arguments", "_beta_type",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    type_=st.sampled_from([*sorted(_SUMMARIES), "local.x", "unknown.y"]),
    payload=st.dictionaries(st.sampled_from(FIELDS), JSON, max_size=5),
    direction=st.sampled_from(("client", "server", "local")),
)
def test_summaries_never_raise(type_: str, payload: dict[str, Any], direction: str) -> None:
    log = EventLog()
    row = log.record(direction, {"type": type_, **payload}, size=1, t=0.0, wall=0.0)  # type: ignore[arg-type]
    assert isinstance(row.summary, str) and len(row.summary) <= 120
    assert isinstance(log._repr_html_(), str)


def test_lone_surrogates_survive_jsonl_html_and_summaries(tmp_path) -> None:
    import json as _json

    log = EventLog()
    text = "caf\u00e9 \ud800 end"  # a lone surrogate, as a JSON "\ud800" escape decodes to
    event = {"type": "response.output_text.delta", "response_id": "r", "item_id": "i",
             "delta": text}  # fmt: skip
    log.record("server", event, size=40, t=0.0, wall=0.0)
    assert "\ufffd" in log.rows[0].summary and "\ud800" not in log.rows[0].summary
    html = log._repr_html_()
    html.encode("utf-8")  # what a notebook does with it
    path = tmp_path / "log.jsonl"
    assert log.to_jsonl(path) == 1
    back = _json.loads(path.read_text(encoding="utf-8"))
    assert back["payload"]["delta"] == text  # the escape round-trips exactly

"""Odd server shapes in the pure core: each becomes data to log, and every later event applies.

A server (or a proxy, or a newer API) can send a known event type with a field of the wrong
shape: ``item`` a string, ``content`` not a list, ``audio`` a number, a format we do not know,
an odd-length PCM16 delta. The receive path is ``extract_audio`` → ``EventLog.record`` →
``Conversation.apply``; here each odd event goes through that path on its own and is followed by
a clean recorded turn, which must come out exactly as if the odd event had never been sent.
``extract_audio`` signals undecodable audio with ``ProtocolError`` (its one documented
exception, which the receive path turns into a ``local.odd_event`` row); nothing else raises.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from realtime_nb.conversation import Conversation
from realtime_nb.errors import ProtocolError
from realtime_nb.events import EventLog, extract_audio

FIXTURES = Path(__file__).parent / "fixtures"
CLEAN = "vad_turn.jsonl"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# (id, event, does extract_audio report undecodable audio?)
ODD: list[tuple[str, dict[str, Any], bool]] = [
    ("item-not-a-dict", {"type": "conversation.item.added", "item": "a string"}, False),
    ("item-a-list", {"type": "conversation.item.done", "item": ["a", "list"]}, False),
    ("item-none", {"type": "conversation.item.retrieved", "item": None}, False),
    ("content-not-a-list",
     {"type": "conversation.item.added", "item": {"id": "x", "type": "message", "content": "x"}},
     False),
    ("content-parts-not-dicts",
     {"type": "conversation.item.done",
      "item": {"id": "x", "type": "message", "role": "user", "content": ["s", 3, None, []]}},
     False),
    ("part-not-a-dict",
     {"type": "response.content_part.added", "item_id": "x", "response_id": "r", "part": "s"},
     False),
    ("part-audio-a-number",
     {"type": "response.content_part.done", "item_id": "x", "response_id": "r",
      "part": {"type": "audio", "audio": 12}},
     True),
    ("item-audio-a-number",
     {"type": "conversation.item.retrieved",
      "item": {"id": "x", "type": "message", "content": [{"type": "input_audio", "audio": 5}]}},
     True),
    ("item-audio-not-base64",
     {"type": "conversation.item.retrieved",
      "item": {"id": "x", "type": "message", "content": [{"type": "output_audio", "audio": "!!"}]}},
     True),
    ("delta-a-number", {"type": "response.output_audio.delta", "item_id": "x", "delta": 7}, True),
    ("delta-a-list", {"type": "response.output_audio.delta", "item_id": "x", "delta": [1]}, True),
    ("delta-not-base64",
     {"type": "response.output_audio.delta", "item_id": "x", "delta": "not base64!"}, True),
    ("delta-without-item-id", {"type": "response.output_audio.delta", "delta": _b64(b"\0\0")},
     False),
    ("response-not-a-dict", {"type": "response.created", "response": "a string"}, False),
    ("response-output-not-a-list",
     {"type": "response.done", "response": {"id": "r", "output": "x", "usage": 5}}, False),
    ("response-output-junk",
     {"type": "response.done", "response": {"id": "r", "output": [1, "x", {"content": 5}]}},
     False),
    ("error-not-a-dict", {"type": "error", "error": "a string"}, False),
    ("error-none", {"type": "error", "error": None}, False),
    ("session-not-a-dict", {"type": "session.updated", "session": "nope"}, False),
    ("unknown-output-format",
     {"type": "session.updated",
      "session": {"audio": {"output": {"format": {"type": "audio/opus", "rate": "x"}}}}},
     False),
    ("unknown-input-format",
     {"type": "session.updated", "session": {"audio": {"input": {"format": "audio/flac"}}}},
     False),
    ("truncate-end-a-string",
     {"type": "conversation.item.truncated", "item_id": "x", "audio_end_ms": "10"}, False),
    ("transcript-a-number",
     {"type": "response.output_audio_transcript.done", "item_id": "x", "transcript": 5}, False),
    ("ids-not-strings",
     {"type": "response.output_text.delta", "item_id": 5, "response_id": [], "delta": "hi"},
     False),
    ("rate-limits-not-a-list", {"type": "rate_limits.updated", "rate_limits": {"a": 1}}, False),
    ("lone-surrogates",
     {"type": "response.output_text.delta", "item_id": "\ud800", "delta": "caf\udfff"}, False),
    ("type-unknown", {"type": "response.future_thing", "item": 1}, False),
]  # fmt: skip


def _recorded(name: str) -> list[tuple[str, float, dict[str, Any]]]:
    out = []
    for line in (FIXTURES / name).read_text(encoding="utf-8").splitlines():
        raw = json.loads(line)
        out.append((raw["dir"], raw["t"], raw["event"]))
    return out


def _receive(
    log: EventLog, conv: Conversation, direction: str, event: dict[str, Any], t: float
) -> bool:
    """The pure half of the receive path; True when extract_audio reported bad audio."""
    reported = False
    pcm: bytes | None = None
    try:
        event, pcm = extract_audio(event)
    except ProtocolError:
        reported = True
    log.record(direction, event, size=1, t=t, wall=t, audio_bytes=len(pcm or b""))  # type: ignore[arg-type]
    if direction == "server":
        conv.apply(event, pcm, t)
    else:
        conv.apply_client(event, pcm, t)
    return reported


def _clean_turn() -> tuple[EventLog, Conversation]:
    log, conv = EventLog(), Conversation()
    for direction, t, event in _recorded(CLEAN):
        _receive(log, conv, direction, event, t)
    return log, conv


@pytest.mark.parametrize(
    ("event", "bad_audio"), [(e, b) for _, e, b in ODD], ids=[i for i, *_ in ODD]
)
def test_an_odd_event_is_logged_and_every_later_event_still_applies(
    event: dict[str, Any], bad_audio: bool, tmp_path: Path
) -> None:
    clean_log, clean_conv = _clean_turn()
    log, conv = EventLog(), Conversation()
    assert _receive(log, conv, "server", json.loads(json.dumps(event)), 0.0) is bad_audio
    for direction, t, recorded in _recorded(CLEAN):
        assert _receive(log, conv, direction, recorded, t) is False

    # the odd event is data: one row, with a summary, in every view of the log
    assert len(log) == len(clean_log) + 1
    odd_row = log.rows[0]
    assert odd_row.type == event["type"] and isinstance(odd_row.summary, str)
    assert log.to_jsonl(tmp_path / "log.jsonl") == len(log)
    log._repr_html_().encode("utf-8")
    assert len(log.to_records()) == len(log)
    assert [r.to_dict()["type"] for r in log.rows[1:]] == [r.type for r in clean_log.rows]
    # …and the clean turn afterwards comes out as it does alone (an odd event may leave an item
    # or response of its own, with its own ids; it must not touch the turn's)
    clean_ids = [item.id for item in clean_conv.items]
    assert [item.id for item in conv.items if item.id in clean_ids] == clean_ids
    for item in clean_conv.items:
        mine = conv.item(item.id)
        assert mine is not None
        assert (mine.role, mine.status, mine.text, mine.transcript, mine.content) == (
            item.role, item.status, item.text, item.transcript, item.content
        )  # fmt: skip
        assert mine.audio().tobytes() == item.audio().tobytes()
        assert mine.audio_bytes_received == item.audio_bytes_received
    clean_responses = {t.response_id for t in clean_log.turns()}
    assert clean_responses
    for table in ("turns", "usage"):
        mine_rows = [r.to_dict() for r in getattr(log, table)() if r.response_id in clean_responses]
        assert mine_rows == [r.to_dict() for r in getattr(clean_log, table)()]


@pytest.mark.parametrize(
    ("chunks", "samples", "dropped"),
    [
        ([b"\x01\x00\x02", b"\x03\x00\x04\x00"], [1, 3, 4], 1),  # the stray byte goes, no shift
        ([b"\x01\x00", b"\x02", b"\x03\x00"], [1, 3], 1),  # a one-byte delta
        ([b"\x01", b"\x02"], [], 2),
        ([b"\x01\x00\x02\x00", b"\x03\x00"], [1, 2, 3], 0),  # even deltas untouched
        ([b"", b"\x05\x00"], [5], 0),
    ],
)
@pytest.mark.parametrize("decoded_by", ["caller", "conversation"])
def test_an_odd_length_pcm16_delta_does_not_shift_the_rest_of_the_item(
    chunks: list[bytes], samples: list[int], dropped: int, decoded_by: str
) -> None:
    conv = Conversation()
    item = {"id": "item_odd", "type": "message", "role": "assistant", "content": []}
    conv.apply({"type": "conversation.item.added", "item": item})
    for chunk in chunks:
        delta = {"type": "response.output_audio.delta", "item_id": "item_odd",
                 "response_id": "resp_odd", "delta": _b64(chunk)}  # fmt: skip
        if decoded_by == "caller":
            conv.apply(*extract_audio(delta))
        else:
            conv.apply(delta)
    got = conv.item("item_odd")
    assert got is not None
    assert got.audio().tolist() == samples
    assert got.audio_bytes_received == 2 * len(samples)
    assert conv.odd_length_audio_deltas == dropped


@pytest.mark.parametrize(
    "event",
    [
        {"type": "conversation.item.added", "item": {"content": [{"audio": "AAAA"}, 3, "x"]}},
        {"type": "response.content_part.added", "part": {"audio": "AAAA", "transcript": 1}},
        {"type": "input_audio_buffer.append", "audio": "AAAA"},
        {"type": "response.output_audio.delta", "delta": "AAAA"},
    ],
)
def test_extract_audio_takes_what_decodes_among_junk_and_marks_it(event: dict[str, Any]) -> None:
    out, pcm = extract_audio(event)
    assert pcm == b"\0\0\0"
    assert "AAAA" not in json.dumps(out)  # replaced by a marker
    assert extract_audio(out) == (out, None)  # and never decoded twice

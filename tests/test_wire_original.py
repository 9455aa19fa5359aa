"""wire_original.py: an event's base64 audio rebuilt from the conversation, byte for byte, or a
clear reason why not. Fed the recorded service streams, whose frames still hold their base64."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from realtime_nb.conversation import Conversation
from realtime_nb.events import EventLog, extract_audio
from realtime_nb.wire_original import OriginalUnavailable, original_payload

FIXTURES = Path(__file__).parent / "fixtures"


def record(
    name: str, max_rows: int | None = 50_000
) -> tuple[EventLog, Conversation, dict[int, Any]]:
    """Feed a recorded stream to a log and a conversation as the session does; keep each
    row's original frame to compare with."""
    log, conv, originals = EventLog(max_rows=max_rows), Conversation(), {}
    for line in (FIXTURES / name).read_text().splitlines():
        raw = json.loads(line)
        original = copy.deepcopy(raw["event"])
        event, pcm = extract_audio(raw["event"])
        size = len(json.dumps(original))
        row = log.record(
            raw["dir"], event, size=size, t=raw["t"], wall=raw["t"], audio_bytes=len(pcm or b"")
        )
        originals[row.seq] = original
        if raw["dir"] == "server":
            conv.apply(event, pcm, raw["t"])
        else:
            conv.apply_client(event, pcm, raw["t"])
    return log, conv, originals


@pytest.mark.parametrize("name", ["vad_turn.jsonl", "push_to_talk.jsonl"])
def test_every_output_delta_is_rebuilt_exactly(name: str) -> None:
    log, conv, originals = record(name)
    deltas = [r for r in log.rows if r.type == "response.output_audio.delta"]
    assert len(deltas) > 3
    for row in deltas:
        assert original_payload(row, log.rows, conv) == originals[row.seq]
        assert isinstance(row.payload["delta"], dict)  # the log itself keeps its marker


def test_appends_say_where_the_audio_is_instead() -> None:
    log, conv, _ = record("vad_turn.jsonl")
    append = next(r for r in log.rows if r.type == "input_audio_buffer.append")
    with pytest.raises(OriginalUnavailable, match=r"w\.item_audio"):
        original_payload(append, log.rows, conv)


def test_no_guess_when_earlier_deltas_were_evicted() -> None:
    log, conv, originals = record("vad_turn.jsonl", max_rows=10)
    deltas = [r for r in log.rows if r.type == "response.output_audio.delta"]
    assert deltas and log.evicted > 0
    refused = 0
    for row in deltas:
        try:
            rebuilt = original_payload(row, log.rows, conv)
        except OriginalUnavailable as exc:
            assert "evicted" in str(exc)
            refused += 1
        else:  # only possible when every delta of the item is still in the log
            assert rebuilt == originals[row.seq]
    assert refused == len(deltas)


def test_other_formats_and_events_without_audio_are_refused() -> None:
    log, conv, _ = record("vad_turn.jsonl")
    delta = next(r for r in log.rows if r.type == "response.output_audio.delta")
    with pytest.raises(OriginalUnavailable, match=r"audio/pcmu"):
        original_payload(delta, log.rows, conv, output_format="audio/pcmu")
    done = next(r for r in log.rows if r.type == "response.done")
    with pytest.raises(OriginalUnavailable, match="no audio"):
        original_payload(done, log.rows, conv)

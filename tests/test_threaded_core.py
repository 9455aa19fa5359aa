"""The event log and conversation read from one thread while another thread writes them.

The pure core's own half of the "deque mutated during iteration" defect (397 of 51,603 reads
of a live session failed): no session, socket or server here, so the race is the core's alone.
One thread feeds the recorded streams through ``EventLog.record`` and ``Conversation.apply``
(ids renamed per round, so the log evicts and the conversation grows and releases audio);
the test's thread calls every read API in a loop. A tiny switch interval makes the
interpreter hand over between the two threads every few bytecodes, which is what made the
old code fail within a second.
"""

from __future__ import annotations

import copy
import json
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from realtime_nb.conversation import Conversation
from realtime_nb.events import EventLog, extract_audio

FIXTURES = Path(__file__).parent / "fixtures"
STREAMS = ("vad_turn.jsonl", "push_to_talk.jsonl", "barge_in.jsonl", "function_call_text.jsonl")
ID_KEYS = ("item_id", "previous_item_id", "response_id", "id", "call_id")
READ_SECONDS = 2.0


def _renamed(value: Any, suffix: str) -> Any:
    """A deep copy of an event with every id made unique to one round of the replay."""
    if isinstance(value, dict):
        return {
            k: (f"{v}-{suffix}" if k in ID_KEYS and isinstance(v, str) else _renamed(v, suffix))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_renamed(v, suffix) for v in value]
    return value


def _recorded() -> list[tuple[str, dict[str, Any]]]:
    frames = []
    for name in STREAMS:
        for line in (FIXTURES / name).read_text(encoding="utf-8").splitlines():
            raw = json.loads(line)
            frames.append((raw["dir"], raw["event"]))
    return frames


def _stream(frames: list[tuple[str, dict[str, Any]]]) -> Iterator[tuple[str, dict[str, Any]]]:
    round_ = 0
    while True:
        round_ += 1
        for direction, event in frames:
            yield direction, _renamed(copy.deepcopy(event), str(round_))


def _iterate(log: EventLog) -> None:
    for row in log:
        row.summary  # noqa: B018 - reading is the point


def _items(conv: Conversation) -> None:
    for item in list(conv.items):
        conv.item(item.id)
        item.audio()
        item.audio_ms  # noqa: B018
        if item.response_id is not None:
            conv.response_output(item.response_id)


def _reads(log: EventLog, conv: Conversation, jsonl: Path) -> dict[str, Callable[[], object]]:
    """Every read API of the log and the conversation, by name."""
    return {
        "iter(log)": lambda: _iterate(log),
        "len(log)": lambda: len(log),
        "rows": lambda: log.rows,
        "to_records": log.to_records,
        "coalesced": log.coalesced,
        "tail_coalesced": lambda: log.tail_coalesced(50),
        "_repr_html_": log._repr_html_,
        "filter": lambda: log.filter(type="response.output_audio.delta", direction="server"),
        "since": lambda: log.since(max(log.last_seq - 100, 0)),
        "turns": log.turns,
        "usage": log.usage,
        "to_dataframe": log.to_dataframe,
        "to_dataframe(coalesce)": lambda: log.to_dataframe(coalesce=True),
        "turns_dataframe": log.turns_dataframe,
        "usage_dataframe": log.usage_dataframe,
        "to_jsonl": lambda: log.to_jsonl(jsonl),
        "transcript": conv.transcript,
        "items": lambda: _items(conv),
        "response_output": lambda: [conv.response_output(r) for r in list(conv.responses)],
        "retained_audio_bytes": lambda: conv.retained_audio_bytes,
        "pending_input_bytes": lambda: conv.pending_input_bytes,
    }


@pytest.fixture
def fast_switching() -> Iterator[None]:
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def test_every_read_works_while_another_thread_records_and_applies(
    tmp_path: Path, fast_switching: None
) -> None:
    log = EventLog(max_rows=300)  # small: reads also race the evictions
    conv = Conversation(max_audio_seconds=2.0)
    frames = _recorded()
    stop = threading.Event()
    written = 0
    writer_errors: list[BaseException] = []

    def write() -> None:
        nonlocal written
        t = 0.0
        try:
            for direction, event in _stream(frames):
                if stop.is_set():
                    return
                t += 0.001
                event, pcm = extract_audio(event)
                log.record(direction, event, size=100, t=t, wall=t, audio_bytes=len(pcm or b""))
                if direction == "server":
                    conv.apply(event, pcm, t)
                else:
                    conv.apply_client(event, pcm, t)
                written += 1
        except BaseException as exc:
            writer_errors.append(exc)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    reads = _reads(log, conv, tmp_path / "log.jsonl")
    failed: Counter[str] = Counter()
    rounds = 0
    end = time.monotonic() + READ_SECONDS
    try:
        while time.monotonic() < end and writer.is_alive():
            for name, read in reads.items():
                try:
                    read()
                except Exception as exc:  # what the defect looked like
                    failed[f"{name}: {exc!r}"] += 1
            rounds += 1
    finally:
        stop.set()
        writer.join(30)
    assert writer_errors == []
    assert dict(failed) == {}, f"failed reads in {rounds} rounds of {len(reads)} APIs"
    assert written > 2_000, "the writer must have fed thousands of events meanwhile"
    assert rounds > 10
    assert log.evicted > 0  # the reads did race evictions

"""Playback and latency bookkeeping (pure): what was sent, what the speaker played, how late."""

from __future__ import annotations

from pathlib import Path

import pytest

from realtime_nb import playback
from realtime_nb.playback import (
    PLAYING_GRACE_S,
    SAMPLE_RATE,
    LatencyBook,
    MicClock,
    PlaybackTracker,
    server_to_played,
    summarize,
)
from tests.test_purity import violations

SECOND = SAMPLE_RATE


def test_an_item_plays_from_its_first_chunk_until_the_player_says_ended() -> None:
    tr = PlaybackTracker()
    assert tr.playing(0.0) is None
    assert tr.sent("item_a", "resp_1", SECOND, now=0.0)
    assert tr.playing(0.1) == "item_a"
    report = tr.report("item_a", SECOND // 2, SECOND, "progress", 1000.0, now=0.6)
    assert not report.interrupt
    assert tr.playing(0.7) == "item_a"
    tr.report("item_a", SECOND, SECOND, "ended", None, now=1.2)
    assert tr.playing(1.3) is None
    item = tr.item("item_a")
    assert item is not None and item.state == "ended" and item.played_ms == 1000
    assert item.first_played_ms == 1000.0  # the first t_first sticks


def test_played_is_cumulative_and_never_goes_back() -> None:
    tr = PlaybackTracker()
    tr.sent("a", None, SECOND, 0.0)
    tr.report("a", 9000, 12000, "progress", None, 0.5)
    tr.report("a", 4000, 12000, "progress", None, 0.6)  # a late, stale report
    assert tr.played_samples("a") == 9000
    assert tr.played_samples("unknown") is None


def test_a_view_that_stops_reporting_stops_counting_as_playing() -> None:
    tr = PlaybackTracker()
    tr.sent("a", None, SECOND, now=10.0)  # one second of audio, all sent at t=10
    assert tr.playing(10.0 + 1.0 + PLAYING_GRACE_S - 0.01) == "a"
    assert tr.playing(10.0 + 1.0 + PLAYING_GRACE_S + 0.01) is None


def test_reports_move_the_real_time_bound() -> None:
    tr = PlaybackTracker(grace_s=0.5)
    tr.sent("a", None, 2 * SECOND, now=0.0)
    # the player stalled (underruns): at t=3 it has played only half
    tr.report("a", SECOND, 2 * SECOND, "progress", None, now=3.0)
    assert tr.playing(4.2) == "a"  # 3.0 + 1 s left + 0.5 grace
    assert tr.playing(4.6) is None


def test_flush_marks_what_plays_and_suppresses_its_later_audio() -> None:
    tr = PlaybackTracker()
    tr.sent("a", "r", SECOND, 0.0)
    assert tr.flush(0.2) == ["a"]
    assert tr.playing(0.3) is None  # flushing is not playing: no second flush
    assert tr.flush(0.3) == []
    assert not tr.sent("a", "r", 4800, 0.3)  # the server's last deltas for it are not sent
    item = tr.item("a")
    assert item is not None and item.suppressed == 4800 and item.sent == SECOND
    # a new item (the next response) plays normally
    assert tr.sent("b", "r2", 4800, 0.4)
    assert tr.playing(0.5) == "b"


def test_only_the_first_interrupted_report_asks_for_a_truncate() -> None:
    tr = PlaybackTracker()
    tr.sent("a", None, SECOND, 0.0)
    tr.flush(0.1)
    first = tr.report("a", 2400, SECOND, "interrupted", None, 0.2)
    again = tr.report("a", 2400, SECOND, "interrupted", None, 0.25)  # e.g. a second view
    assert first.interrupt and not again.interrupt
    assert first.item.state == "interrupted"
    assert not tr.sent("a", None, 960, 0.3)


def test_ended_on_an_underrun_then_more_audio_plays_on() -> None:
    tr = PlaybackTracker()
    tr.sent("a", None, 4800, 0.0)
    tr.report("a", 4800, 4800, "ended", None, 0.3)  # the queue ran dry mid-item
    assert tr.playing(0.31) is None
    assert tr.sent("a", None, 4800, 0.4)
    assert tr.playing(0.5) == "a"


def test_forced_flush_takes_everything_unfinished() -> None:
    tr = PlaybackTracker(grace_s=0.1)
    tr.sent("old", None, 2400, 0.0)
    tr.sent("new", None, 2400, 5.0)
    tr.report("done", 10, 10, "ended", None, 5.0)
    assert tr.flush(5.1) == ["new"]  # "old" finished long ago by the real-time bound
    assert tr.flush(5.1, force=True) == ["old"]


def test_the_oldest_items_are_forgotten() -> None:
    tr = PlaybackTracker(max_items=3)
    for i in range(5):
        tr.sent(f"i{i}", None, 10, float(i))
    assert [item.item_id for item in tr] == ["i2", "i3", "i4"]
    assert tr.played_map(last=2) == {"i3": 0, "i4": 0}


def test_mic_clock_ignores_a_constant_clock_offset() -> None:
    clock = MicClock()
    offset = -3_600_000.0  # the browser's clock is an hour ahead of the kernel's
    assert clock.lateness_ms(1000.0, 1020.0 + offset) == 0.0
    assert clock.lateness_ms(1040.0, 1058.0 + offset) == 0.0  # faster: the new reference
    assert clock.lateness_ms(1080.0, 1100.0 + offset) == pytest.approx(2.0)
    # a kernel busy for 8 s: frames captured meanwhile arrive together afterwards
    assert clock.lateness_ms(1120.0, 9200.0 + offset) == pytest.approx(8062.0)
    assert clock.lateness_ms(None, 0.0) == 0.0


def test_latency_book_matches_frames_with_server_receipts() -> None:
    book = LatencyBook(max_frames=3)
    book.frame("e1", 1000.0, 1010.0)
    book.frame("e2", 1040.0, 1052.0)
    book.frame("e3", None, 1100.0)  # no capture time: nothing to measure
    assert len(book) == 2
    assert book.capture_to_kernel() == [10.0, 12.0]
    assert book.capture_to_server({"e1": 1.015, "e2": 1.060, "other": 5.0}) == [
        pytest.approx(15.0),
        pytest.approx(20.0),
    ]
    for i in range(4):
        book.frame(f"x{i}", 0.0, 1.0)
    assert len(book) == 3  # bounded


def test_server_to_played_and_summaries() -> None:
    values = server_to_played({"a": 10.0, "b": 20.0}, {"a": 10_150.0, "c": 1.0})
    assert values == [pytest.approx(150.0)]
    assert summarize([]) == {"p50": None, "p95": None, "n": 0}
    assert summarize([5.0]) == {"p50": 5.0, "p95": 5.0, "n": 1}
    stats = summarize(float(v) for v in range(1, 101))
    assert stats == {"p50": 50.5, "p95": 95.05, "n": 100}


def test_the_module_is_pure() -> None:
    assert violations(Path(playback.__file__).read_text(encoding="utf-8")) == []

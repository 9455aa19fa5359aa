"""What the speaker played, and how late things were: the widget's bookkeeping (pure).

Theory of operation. The kernel cannot hear the speaker. It knows what it sent to the browser
(``audio`` messages, per assistant item) and what the browser's player reports back (``played``
messages: exact 24 kHz samples played per item, counted in the audio thread, cumulative).
:class:`PlaybackTracker` keeps both per item and answers the question barge-in needs — is an
item still playing? — from those reports. The wall clock only bounds the answer: a player cannot
play faster than real time, so an item whose audio would have finished long ago, on a view that
stopped reporting, is not playing any more.

Once the widget asks the browser to flush an item, the item is *flushing*: audio that still
arrives for it must not be sent (the player would start it again); the browser's
``reason: "interrupted"`` report closes it, and the first such report is the one that triggers
the truncate.

:class:`MicClock` measures how late microphone frames reach the kernel, against the fastest
frame seen so far, so a constant offset between the browser's and the kernel's clocks is not
mistaken for lateness. :class:`LatencyBook` keeps the capture time and arrival of each frame by
the ``event_id`` of the append that carried it, to match with the stand-in's receipt times.

Pure: no I/O, no clock, no threads. Times are passed in: ``now`` is seconds on any monotonic
clock; ``*_ms`` values are epoch milliseconds; stand-in timeline times are epoch seconds.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

from .protocol import SAMPLE_RATE

#: Slack after the latest moment an item could still be playing (prebuffer, message delays).
PLAYING_GRACE_S = 2.0
#: Items remembered; the oldest are forgotten first.
MAX_ITEMS = 256
#: Microphone frames remembered for latency figures (about 13 minutes of 40 ms frames).
MAX_FRAMES = 20_000

ItemState = Literal["playing", "flushing", "interrupted", "ended"]
Reason = Literal["progress", "interrupted", "ended"]


@dataclass(slots=True)
class ItemPlayback:
    """One assistant item's audio: sent to the browser, and what its player reported."""

    item_id: str
    response_id: str | None = None
    sent: int = 0  #: samples sent to the browser
    suppressed: int = 0  #: samples not sent because the item was being flushed
    played: int = 0  #: samples the player reported as played (cumulative, never decreases)
    received: int = 0  #: samples the player reported as received
    state: ItemState = "playing"
    last_sent_t: float | None = None
    last_report_t: float | None = None
    first_played_ms: float | None = None  #: epoch ms of the first played sample (browser clock)
    interrupt_reported: bool = False

    @property
    def finished(self) -> bool:
        return self.state in ("interrupted", "ended")

    @property
    def played_ms(self) -> float:
        return self.played * 1000 / SAMPLE_RATE

    def busy_until(self, grace_s: float = PLAYING_GRACE_S) -> float | None:
        """The latest time the item could still be playing (None when nothing was sent)."""
        times = [t for t in (self.last_sent_t, self.last_report_t) if t is not None]
        if not times:
            return None
        remaining = max(self.sent - self.played, 0) / SAMPLE_RATE
        return max(times) + remaining + grace_s


@dataclass(frozen=True, slots=True)
class Report:
    """What the widget must do after a ``played`` report."""

    item: ItemPlayback
    interrupt: bool  #: first ``interrupted`` report for the item: tell the server what was heard


class PlaybackTracker:
    """Per-item playback state for one widget (all its views share one audio stream).

    Args:
        grace_s: slack added to the real-time bound of :meth:`playing`.
        max_items: items remembered (oldest dropped).
    """

    def __init__(self, *, grace_s: float = PLAYING_GRACE_S, max_items: int = MAX_ITEMS) -> None:
        self.grace_s = grace_s
        self.max_items = max_items
        self._items: OrderedDict[str, ItemPlayback] = OrderedDict()

    def _get(self, item_id: str, response_id: str | None = None) -> ItemPlayback:
        item = self._items.get(item_id)
        if item is None:
            item = self._items[item_id] = ItemPlayback(item_id, response_id)
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)
        elif item.response_id is None:
            item.response_id = response_id
        return item

    def item(self, item_id: str) -> ItemPlayback | None:
        return self._items.get(item_id)

    def __iter__(self) -> Iterator[ItemPlayback]:
        return iter(list(self._items.values()))

    # --- audio out ---------------------------------------------------------------------------
    def sent(self, item_id: str, response_id: str | None, samples: int, now: float) -> bool:
        """Account for a chunk about to be sent; False when it must not be sent (flushed item)."""
        item = self._get(item_id, response_id)
        if item.state in ("flushing", "interrupted"):
            item.suppressed += samples
            return False
        item.state = "playing"  # an item reported "ended" on an underrun plays on
        item.sent += samples
        item.last_sent_t = now
        return True

    # --- the player's reports ----------------------------------------------------------------
    def report(
        self,
        item_id: str,
        samples: int,
        received: int,
        reason: Reason,
        first_played_ms: float | None,
        now: float,
    ) -> Report:
        """Apply one ``played`` message from the browser."""
        item = self._get(item_id)
        item.played = max(item.played, samples)
        item.received = max(item.received, received)
        item.last_report_t = now
        if first_played_ms is not None and item.first_played_ms is None:
            item.first_played_ms = first_played_ms
        interrupt = False
        if reason == "interrupted":
            interrupt = not item.interrupt_reported
            item.interrupt_reported = True
            item.state = "interrupted"
        elif reason == "ended" and item.state == "playing":
            item.state = "ended"
        return Report(item, interrupt)

    # --- questions -----------------------------------------------------------------------------
    def playing(self, now: float) -> str | None:
        """The item still playing (the oldest one if several are queued), or None."""
        for item in self._items.values():
            if item.state != "playing" or item.sent == 0:
                continue
            until = item.busy_until(self.grace_s)
            if until is not None and now <= until:
                return item.item_id
        return None

    def flush(self, now: float, *, force: bool = False) -> list[str]:
        """Mark what is playing as flushing and return those item ids.

        With ``force`` every unfinished item is flushed, whatever the real-time bound says
        (the user pressed stop: the browser drops whatever it still holds).
        """
        out: list[str] = []
        for item in self._items.values():
            if item.state != "playing" or item.sent == 0:
                continue
            until = item.busy_until(self.grace_s)
            if force or (until is not None and now <= until):
                item.state = "flushing"
                out.append(item.item_id)
        return out

    def played_samples(self, item_id: str) -> int | None:
        item = self._items.get(item_id)
        return None if item is None else item.played

    def played_map(self, last: int = 20) -> dict[str, int]:
        """``{item_id: samples played}`` for the most recent ``last`` items."""
        items = list(self._items.values())[-last:]
        return {i.item_id: i.played for i in items}

    def first_played(self) -> dict[str, float]:
        """``{item_id: epoch ms of its first played sample}`` where the browser said."""
        return {i.item_id: i.first_played_ms for i in self._items.values() if i.first_played_ms}


class MicClock:
    """How late a microphone frame reached the kernel, in ms.

    Lateness is ``(arrival - capture) - fastest``, where ``fastest`` is the smallest
    ``arrival - capture`` seen so far: a constant clock offset between browser and kernel cancels
    out. (A kernel that is busy from the very first frame cannot be told apart from an offset
    until a timely frame arrives; until then nothing counts as late.)
    """

    def __init__(self) -> None:
        self.fastest: float | None = None

    def lateness_ms(self, capture_ms: float | None, arrival_ms: float) -> float:
        if capture_ms is None:
            return 0.0
        delta = arrival_ms - capture_ms
        if self.fastest is None or delta < self.fastest:
            self.fastest = delta
        return delta - self.fastest


class LatencyBook:
    """Capture and arrival times of microphone frames, by the ``event_id`` of their append."""

    def __init__(self, max_frames: int = MAX_FRAMES) -> None:
        self._frames: deque[tuple[str, float, float]] = deque(maxlen=max_frames)

    def frame(self, event_id: str, capture_ms: float | None, arrival_ms: float) -> None:
        if capture_ms is not None:
            self._frames.append((event_id, float(capture_ms), arrival_ms))

    def __len__(self) -> int:
        return len(self._frames)

    def capture_to_kernel(self) -> list[float]:
        """Browser capture → kernel handler, in ms, per frame (includes any clock offset)."""
        return [arrival - capture for _, capture, arrival in self._frames]

    def capture_to_server(self, receipts: Mapping[str, float]) -> list[float]:
        """Browser capture → server receipt in ms; ``receipts`` maps event_id → epoch s."""
        out: list[float] = []
        for event_id, capture, _ in self._frames:
            t = receipts.get(event_id)
            if t is not None:
                out.append(t * 1000 - capture)
        return out


def server_to_played(
    first_sent: Mapping[str, float], first_played_ms: Mapping[str, float]
) -> list[float]:
    """Server send of an item's first audio delta (epoch s) → its first played sample, in ms."""
    return [
        played - first_sent[item_id] * 1000
        for item_id, played in first_played_ms.items()
        if item_id in first_sent
    ]


def summarize(values: Iterable[float]) -> dict[str, float | int | None]:
    """``{"p50", "p95", "n"}`` of ``values`` (linear interpolation; None when empty), in ms."""
    data = sorted(values)
    n = len(data)
    if n == 0:
        return {"p50": None, "p95": None, "n": 0}
    return {"p50": round(_quantile(data, 0.5), 2), "p95": round(_quantile(data, 0.95), 2), "n": n}


def _quantile(data: list[float], q: float) -> float:
    pos = (len(data) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)

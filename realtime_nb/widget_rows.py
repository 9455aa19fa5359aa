"""The widget's feeds to the browser: the event table's rows and the turn timeline.

Why its own module: the widget sends the log to its views as coalesced rows (DESIGN.md §4-5),
at most every 100 ms, only what is new since the last batch, and after "Clear" only rows newer
than the clear; and the turns (``realtime_nb.timeline``) at most twice a second, only when they
changed. That bookkeeping is independent of the comm and of the widget's traits.
Call everything on the session's loop thread.
"""

from __future__ import annotations

import bisect
import importlib
import json
import logging
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

from . import bridge
from .audio import PCM16_BYTES_PER_MS
from .events import DisplayRow, EventLog

log = logging.getLogger(__name__)

Post = Callable[[dict[str, Any]], bool]
#: Turns sent to the views (the newest); older ones stay in ``w.events`` for Python.
MAX_TURNS = 100
#: Rows sent without a turn that are watched for a late assignment (mic frames join their turn
#: when the VAD or a commit ends it); the oldest stop being watched beyond this.
MAX_UNASSIGNED = 2000


def row_message(d: DisplayRow, turn: int | None = None) -> dict[str, Any]:
    """A :class:`bridge.Row` for one display row (``turn``: the turn it belongs to)."""
    return {
        "seq": d.first_seq,
        "last": d.last_seq,
        "n": d.count,
        "t": round(d.t, 4),
        "dir": d.direction,
        "type": d.type,
        "item": d.item_id,
        "resp": d.response_id,
        "summary": d.summary,
        "size": d.size,
        "audio_ms": round(d.audio_bytes / PCM16_BYTES_PER_MS, 1),
        "turn": turn,
    }


class RowFeed:
    """Sends an :class:`EventLog`'s rows to the views: all at once, then only new ones."""

    def __init__(
        self, events: EventLog | ReplayedLog, post: Post, row_cap: Callable[[], int]
    ) -> None:
        self.events = events
        self._post = post
        self._row_cap = row_cap
        self.sent_seq = 0  #: the last log seq the views have
        self.cleared_seq = 0  #: the table shows rows after this seq ("Clear")
        self.rows_sent = 0
        #: ``seq -> turn number or None``; the widget plugs in :meth:`TurnFeed.turn_of`.
        self.turn_of: Callable[[int], int | None] = lambda _seq: None
        #: first seqs of rows the views have with no turn yet (insertion-ordered, bounded)
        self._unassigned: dict[int, None] = {}

    def _message(self, d: DisplayRow) -> dict[str, Any]:
        message = row_message(d, self.turn_of(d.first_seq))
        if message["turn"] is None:
            self._unassigned[d.first_seq] = None
            while len(self._unassigned) > MAX_UNASSIGNED:
                del self._unassigned[next(iter(self._unassigned))]
        return message

    def _late_turns(self) -> dict[str, int]:
        """Rows sent without a turn that have one now (``{seq: turn}``; JSON keys are text)."""
        found: dict[str, int] = {}
        for seq in list(self._unassigned):
            turn = self.turn_of(seq)
            if turn is not None:
                found[str(seq)] = turn
                del self._unassigned[seq]
        return found

    def _send(self, rows: list[dict[str, Any]], *, replace: bool) -> None:
        if replace:
            self._unassigned.clear()
        content: dict[str, Any] = {
            "type": bridge.ROWS,
            "rows": rows,
            "replace": replace,
            "total": len(self.events),
            "counts": dict(self.events.rows_by_direction),
        }
        late = {} if replace else self._late_turns()
        if late:
            content["turns"] = late
        if self._post(content):
            self.rows_sent += len(rows)

    def send_all(self) -> None:
        """Replace the views' table with the newest rows (a view just became ready)."""
        shown = [
            d for d in self.events.tail_coalesced(self._row_cap()) if d.last_seq > self.cleared_seq
        ]
        self.sent_seq = self.events.last_seq
        self._send([self._message(d) for d in shown], replace=True)

    def send_new(self) -> None:
        """Send the rows logged since the last batch (nothing when nothing happened)."""
        events = self.events
        if events.last_seq == self.sent_seq:
            return
        new = events.since(self.sent_seq)
        self.sent_seq = events.last_seq
        shown = events.coalesced(new)[-self._row_cap() :]
        if shown or self._unassigned:
            self._send([self._message(d) for d in shown], replace=False)

    def clear(self) -> None:
        """Hide every row logged so far (the log itself keeps them)."""
        self.cleared_seq = self.sent_seq = self.events.last_seq
        self._send([], replace=True)


def _timeline_module() -> ModuleType | None:
    try:
        module = importlib.import_module("realtime_nb.timeline")
    except ImportError:  # an older realtime-nb without the turn timeline
        return None
    if not all(hasattr(module, name) for name in ("build_turns", "assign_turns")):
        return None
    return module


class TurnFeed:
    """Sends the turn timeline (``realtime_nb.timeline``) to the views when it changed.

    Rows are grouped incrementally (a ``TurnTracker`` fed only the rows new since the last
    call). ``played_ms()`` is ``{assistant item id: ms the speaker actually played}`` and
    ``audio_for(item_id)`` an item's PCM (for the speech level envelope), both from the widget.
    ``timeline`` is the module doing the grouping (``realtime_nb.timeline`` by default).
    """

    def __init__(
        self,
        events: EventLog | ReplayedLog,
        post: Post,
        played_ms: Callable[[], Mapping[str, float]],
        audio_for: Callable[[str], Any],
        timeline: ModuleType | None = None,
    ) -> None:
        self.events = events
        self._post = post
        self._played_ms = played_ms
        self._audio_for = audio_for
        self._timeline = timeline or _timeline_module()
        self._tracker = self._timeline.TurnTracker() if self._timeline is not None else None
        self._built_seq = -1
        self._turns: list[dict[str, Any]] = []
        self._sent_json = ""
        self.sends = 0

    @property
    def available(self) -> bool:
        return self._tracker is not None

    def _catch_up(self) -> None:
        tracker = self._tracker
        if tracker is not None and self.events.last_seq > tracker.last_seq:
            tracker.feed(self.events.since(tracker.last_seq))

    def turns(self) -> list[dict[str, Any]]:
        """The turns now, as JSON-ready dicts (rebuilt only when the log grew)."""
        if self._tracker is None:
            return []
        last = self.events.last_seq
        if last != self._built_seq:
            self._built_seq = last
            try:
                self._catch_up()
                built = self._tracker.timelines(
                    played_ms=self._played_ms(), audio_for=self._audio_for
                )
            except Exception:  # the table and audio must go on: log it, keep the last turns
                log.exception("building the turn timeline failed")
                return self._turns
            self._turns = [t.to_dict() for t in built[-MAX_TURNS:]]
        return self._turns

    def item_turns(self) -> dict[str, int]:
        """``{item id: turn}`` for the transcript: each turn's user item and output items."""
        found: dict[str, int] = {}
        for turn in self.turns():
            n = turn.get("turn")
            if not isinstance(n, int):
                continue
            if turn.get("user_item_id"):
                found[str(turn["user_item_id"])] = n
            for response in turn.get("responses") or ():
                for item_id in response.get("output_item_ids") or ():
                    found.setdefault(str(item_id), n)
        return found

    def send(self, *, force: bool = False) -> None:
        """Post the turns if they changed since the last post (or ``force``: a view is new)."""
        if self._tracker is None:
            return
        text = json.dumps(self.turns(), default=str)
        if text == self._sent_json and not force:
            return
        if self._post({"type": bridge.TURNS, "turns": json.loads(text)}):
            self._sent_json = text
            self.sends += 1

    def turn_of(self, seq: int) -> int | None:
        """The turn a row belongs to (None: before the first turn, or no timeline module)."""
        if self._tracker is None:
            return None
        if seq > self._tracker.last_seq:
            try:
                self._catch_up()
            except Exception:
                log.exception("assigning rows to turns failed")
        return self._tracker.assignment.get(seq)


class ReplayedLog:
    """A recorded log shown up to a cursor: what the views of a replay have been given so far.

    ``RowFeed`` and ``TurnFeed`` read it as they read a live :class:`EventLog` (``last_seq``,
    ``since``, ``coalesced``, ``tail_coalesced``, ``len``, ``rows_by_direction``), so a replay
    reaches the table, the timeline and the transcript through the same messages as a live
    session. :meth:`advance_to` moves the cursor along the rows' recorded times ``t``; the widget
    calls it on a clock running at the replay's speed. The recording's log is never changed.
    """

    def __init__(self, source: EventLog) -> None:
        self.source = source
        self._rows = source.rows
        self._seqs = [row.seq for row in self._rows]
        self._shown = 0
        self.rows_by_direction: dict[str, int] = {"client": 0, "server": 0, "local": 0}
        #: Items that a shown row names (the transcript shows only these until the end).
        self.item_ids: set[str] = set()
        #: The first row's time: the replay clock starts there.
        self.start_t = self._rows[0].t if self._rows else 0.0

    @property
    def total(self) -> int:
        """Rows the recording holds."""
        return len(self._rows)

    @property
    def done(self) -> bool:
        return self._shown >= len(self._rows)

    @property
    def end_t(self) -> float:
        """The last row's time (the replay ends there)."""
        return self._rows[-1].t if self._rows else self.start_t

    def advance_to(self, t: float) -> int:
        """Show every row recorded at or before ``t`` (seconds); returns how many became shown."""
        start = self._shown
        rows = self._rows
        while self._shown < len(rows) and rows[self._shown].t <= t:
            row = rows[self._shown]
            self.rows_by_direction[row.direction] = self.rows_by_direction.get(row.direction, 0) + 1
            if row.item_id:
                self.item_ids.add(row.item_id)
            self._shown += 1
        return self._shown - start

    def __len__(self) -> int:
        return self._shown

    @property
    def last_seq(self) -> int:
        return self._seqs[self._shown - 1] if self._shown else 0

    def since(self, seq: int) -> list[Any]:
        """Shown rows with a sequence number above ``seq``."""
        return self._rows[bisect.bisect_right(self._seqs, seq, 0, self._shown) : self._shown]

    def coalesced(self, rows: list[Any] | None = None) -> list[DisplayRow]:
        return self.source.coalesced(self._rows[: self._shown] if rows is None else rows)

    def tail_coalesced(self, n: int) -> list[DisplayRow]:
        """The last ``n`` coalesced rows shown (a run of deltas counts once)."""
        return self.source.coalesced(self._rows[: self._shown])[-n:]

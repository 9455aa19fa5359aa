"""The event table's feed to the browser: which log rows each view has, sent in batches.

Why its own module: the widget sends the log to its views as coalesced rows (DESIGN.md §4-5),
at most every 100 ms, only what is new since the last batch, and after "Clear" only rows newer
than the clear. That bookkeeping is independent of the comm and of the widget's traits.
Call everything on the session's loop thread.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import bridge
from .audio import PCM16_BYTES_PER_MS
from .events import DisplayRow, EventLog

Post = Callable[[dict[str, Any]], bool]


def row_message(d: DisplayRow) -> dict[str, Any]:
    """A :class:`bridge.Row` for one display row."""
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
    }


class RowFeed:
    """Sends an :class:`EventLog`'s rows to the views: all at once, then only new ones."""

    def __init__(self, events: EventLog, post: Post, row_cap: Callable[[], int]) -> None:
        self.events = events
        self._post = post
        self._row_cap = row_cap
        self.sent_seq = 0  #: the last log seq the views have
        self.cleared_seq = 0  #: the table shows rows after this seq ("Clear")
        self.rows_sent = 0

    def _send(self, rows: list[dict[str, Any]], *, replace: bool) -> None:
        content = {
            "type": bridge.ROWS,
            "rows": rows,
            "replace": replace,
            "total": len(self.events),
            "counts": dict(self.events.rows_by_direction),
        }
        if self._post(content):
            self.rows_sent += len(rows)

    def send_all(self) -> None:
        """Replace the views' table with the newest rows (a view just became ready)."""
        shown = [
            d for d in self.events.tail_coalesced(self._row_cap()) if d.last_seq > self.cleared_seq
        ]
        self.sent_seq = self.events.last_seq
        self._send([row_message(d) for d in shown], replace=True)

    def send_new(self) -> None:
        """Send the rows logged since the last batch (nothing when nothing happened)."""
        events = self.events
        if events.last_seq == self.sent_seq:
            return
        new = events.since(self.sent_seq)
        self.sent_seq = events.last_seq
        shown = events.coalesced(new)[-self._row_cap() :]
        if shown:
            self._send([row_message(d) for d in shown], replace=False)

    def clear(self) -> None:
        """Hide every row logged so far (the log itself keeps them)."""
        self.cleared_seq = self.sent_seq = self.events.last_seq
        self._send([], replace=True)

"""Log rows and the coalesced display rows (runs of deltas merged, counts exact)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, Literal

from .markers import _BYTES_PER_MS
from .summaries import SUMMARY_MAX, _clip, printable, summarize

if TYPE_CHECKING:
    pass


Direction = Literal["client", "server", "local"]

#: Event types whose consecutive rows (same direction, type and item) are merged for display.
COALESCED_TYPES: frozenset[str] = frozenset(
    {
        "input_audio_buffer.append",
        "response.output_audio.delta",
        "response.output_audio_transcript.delta",
        "response.output_text.delta",
        "response.function_call_arguments.delta",
        "conversation.item.input_audio_transcription.delta",
    }
)
_TEXT_DELTA_TYPES = COALESCED_TYPES - {"input_audio_buffer.append", "response.output_audio.delta"}


# --- rows ----------------------------------------------------------------------------------------
@dataclass(slots=True)
class EventRow:
    """One frame sent or received (or a row the library added itself)."""

    seq: int
    t: float
    wall: float
    direction: Direction
    type: str
    event_id: str | None
    item_id: str | None
    response_id: str | None
    size: int  #: bytes on the wire (length of the JSON text); 0 for local rows
    payload: dict[str, Any]  #: the event with audio replaced by a marker
    audio_bytes: int = 0  #: PCM bytes this event carried
    _summary: str | None = field(default=None, repr=False, compare=False)

    @property
    def summary(self) -> str:
        """One-line description, computed on first use and cached."""
        if self._summary is None:
            self._summary = printable(summarize(self.direction, self.type, self.payload))
        return self._summary

    def to_dict(self) -> dict[str, Any]:
        """A flat record for DataFrames and JSON (the payload is included, not copied)."""
        return {
            "seq": self.seq,
            "t": self.t,
            "wall": self.wall,
            "direction": self.direction,
            "type": self.type,
            "event_id": self.event_id,
            "item_id": self.item_id,
            "response_id": self.response_id,
            "size": self.size,
            "audio_bytes": self.audio_bytes,
            "summary": self.summary,
            "payload": self.payload,
        }


ROW_COLUMNS: tuple[str, ...] = (
    "seq", "t", "wall", "direction", "type", "event_id", "item_id", "response_id", "size",
    "audio_bytes", "summary", "payload",
)  # fmt: skip


@dataclass(slots=True)
class DisplayRow:
    """A run of consecutive same-type delta rows shown as one line (counts stay exact)."""

    first_seq: int
    last_seq: int
    count: int
    t: float
    t_end: float
    direction: Direction
    type: str
    item_id: str | None
    response_id: str | None
    size: int
    audio_bytes: int
    summary: str

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


DISPLAY_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(DisplayRow))


def _display(run: list[EventRow]) -> DisplayRow:
    first, last = run[0], run[-1]
    if len(run) == 1:
        summary = first.summary
        size, audio = first.size, first.audio_bytes
    else:
        size = sum(r.size for r in run)
        audio = sum(r.audio_bytes for r in run)
        if first.type in _TEXT_DELTA_TYPES:
            pieces: list[str] = []
            length = 0
            for r in run:
                delta = r.payload.get("delta")
                if isinstance(delta, str):
                    pieces.append(delta)
                    length += len(delta)
                    if length > SUMMARY_MAX:
                        break
            summary = _clip(f'{first.type} ×{len(run)} "{"".join(pieces)}"')
        else:
            summary = f"{first.type} ×{len(run)} ({round(audio / _BYTES_PER_MS, 1)} ms)"
    return DisplayRow(
        first_seq=first.seq,
        last_seq=last.seq,
        count=len(run),
        t=first.t,
        t_end=last.t,
        direction=first.direction,
        type=first.type,
        item_id=first.item_id,
        response_id=first.response_id,
        size=size,
        audio_bytes=audio,
        summary=summary,
    )


def _run_key(row: EventRow) -> tuple[str, str, str | None] | None:
    return (row.direction, row.type, row.item_id) if row.type in COALESCED_TYPES else None


def coalesce(rows: Iterable[EventRow]) -> list[DisplayRow]:
    """Merge runs of consecutive delta rows with the same (direction, type, item_id)."""
    out: list[DisplayRow] = []
    run: list[EventRow] = []
    key: tuple[str, str, str | None] | None = None
    for row in rows:
        k = _run_key(row)
        if run and k is not None and k == key:
            run.append(row)
            continue
        if run:
            out.append(_display(run))
        run, key = [row], k
    if run:
        out.append(_display(run))
    return out

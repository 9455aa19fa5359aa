"""The event log: every frame sent or received as one bounded row, with exact counts."""

from __future__ import annotations

import json
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, fields
from itertools import islice
from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from ..protocol import AUDIO_DELTA_FIELD, event_ids
from .html_view import HTML_ROWS, render_html
from .markers import _AUDIO_CARRIERS, _MARKER_KEYS, _mark_leftover_audio
from .pricing import UsageRow, _int, usage_row
from .rows import DISPLAY_COLUMNS, ROW_COLUMNS, Direction, DisplayRow, EventRow, _run_key, coalesce
from .summaries import _d
from .turns import Turn, _ms, _ResponseTrack

if TYPE_CHECKING:
    from collections.abc import Mapping

    import numpy as np
    import pandas
    from matplotlib.figure import Figure

    from ..timeline import TurnTimeline

#: Top-level keys never stored in a row (belt and braces: events carry no credentials, but a
#: hand-built payload might). Lower, Title and UPPER spellings, checked in one C-level pass.
_SECRET_KEYS: frozenset[str] = frozenset(
    spelling
    for key in ("authorization", "api-key", "api_key", "apikey", "x-api-key")
    for spelling in (key, key.title(), key.upper(), key.replace("key", "Key"))
)
#: Most distinct strings (and markers) a log shares between rows; beyond it rows keep their own.
_MAX_SHARED = 20_000


# --- the log -----------------------------------------------------------------------------------
class EventLog:
    """Every frame as a row, bounded, with exact counts and lazily built views.

    Args:
        max_rows: rows kept; older rows are evicted (``evicted`` says how many). ``None`` keeps
            all. Counts, byte totals, :meth:`turns` and :meth:`usage` stay exact either way.
    """

    def __init__(self, max_rows: int | None = 50_000) -> None:
        if max_rows is not None and max_rows < 1:
            raise UsageError("max_rows must be a positive integer or None (keep every row).")
        self.max_rows = max_rows
        self._rows: deque[EventRow] = deque(maxlen=max_rows)
        self._seq = 0
        self._t0: float | None = None
        self.counts: dict[str, int] = {}
        self.rows_by_direction: dict[str, int] = {"client": 0, "server": 0, "local": 0}
        self.bytes_by_direction: dict[str, int] = {"client": 0, "server": 0, "local": 0}
        self.audio_bytes_by_direction: dict[str, int] = {"client": 0, "server": 0, "local": 0}
        self._tracks: dict[str, _ResponseTrack] = {}
        self._strings: dict[str, str] = {}  # keys, types and ids shared between rows
        self._markers: dict[Any, dict[str, Any]] = {}  # audio markers shared by byte count
        self._stop: tuple[float, str | None] | None = None
        self._model: str | None = None

    # --- recording (hot path) ------------------------------------------------------------------
    def record(
        self,
        direction: Direction,
        event: dict[str, Any],
        *,
        size: int,
        t: float,
        wall: float,
        audio_bytes: int = 0,
    ) -> EventRow:
        """Add one sent or received event as a row and return it.

        The row's payload is a shallow copy of ``event`` whose keys, type, ids and audio
        markers are shared with earlier rows (json.loads makes new strings for every event;
        sharing them cuts a delta row from about 1.2 kB to 0.4 kB). Nested objects are not
        copied: treat payloads as read-only. ``event`` should already have its audio replaced
        by a marker (:func:`extract_audio`); base64 audio still present is replaced by a marker
        computed from its length, and top-level credential keys are left out.
        """
        strings = self._strings
        share = strings.setdefault if len(strings) < _MAX_SHARED else strings.get
        payload = {share(k, k): v for k, v in event.items()}
        if not _SECRET_KEYS.isdisjoint(payload):
            for key in _SECRET_KEYS.intersection(payload):
                del payload[key]
        type_ = payload.get("type")
        if type_.__class__ is str:
            type_ = payload["type"] = share(type_, type_)
        else:
            type_ = "<missing type>"
        if type_ in _AUDIO_CARRIERS:
            leftover = _mark_leftover_audio(type_, payload)
            if leftover and not audio_bytes:
                audio_bytes = leftover
            fieldname = AUDIO_DELTA_FIELD.get(type_)
            marker = payload.get(fieldname) if fieldname else None
            if marker.__class__ is dict and marker.keys() == _MARKER_KEYS:
                shared = self._markers.get(marker["audio_bytes"])
                if shared is None and len(self._markers) < _MAX_SHARED:
                    shared = self._markers[marker["audio_bytes"]] = marker
                if shared is not None and shared == marker and fieldname is not None:
                    payload[fieldname] = shared
        for key in ("item_id", "response_id"):
            value = payload.get(key)
            if value.__class__ is str:
                payload[key] = share(value, value)
        item_id, response_id = event_ids(payload)
        event_id = payload.get("event_id")
        self._seq += 1
        row = EventRow(
            self._seq,
            t,
            wall,
            direction,
            type_,
            event_id if isinstance(event_id, str) else None,
            item_id if isinstance(item_id, str) else None,
            response_id if isinstance(response_id, str) else None,
            size,
            payload,
            audio_bytes,
        )
        self._append(row)
        if direction == "server":
            track = _TRACKERS.get(type_)
            if track is not None:
                track(self, row)
        return row

    def local(
        self, type: str, payload: dict[str, Any] | None = None, *, t: float, wall: float
    ) -> EventRow:
        """Add a row the library itself produced (``local.connected``, ``local.error``…)."""
        body: dict[str, Any] = {"type": type}
        if payload:
            body.update(payload)
        item_id, response_id = event_ids(body)
        self._seq += 1
        row = EventRow(
            self._seq, t, wall, "local", type, None,
            item_id if isinstance(item_id, str) else None,
            response_id if isinstance(response_id, str) else None,
            0, body,
        )  # fmt: skip
        self._append(row)
        return row

    def _append(self, row: EventRow) -> None:
        if self._t0 is None:
            self._t0 = row.t
        self._rows.append(row)
        self.counts[row.type] = self.counts.get(row.type, 0) + 1
        d = row.direction
        self.rows_by_direction[d] = self.rows_by_direction.get(d, 0) + 1
        self.bytes_by_direction[d] = self.bytes_by_direction.get(d, 0) + row.size
        if row.audio_bytes:
            self.audio_bytes_by_direction[d] = (
                self.audio_bytes_by_direction.get(d, 0) + row.audio_bytes
            )

    # --- saving and rebuilding (realtime_nb.recording) ----------------------------------------
    def to_state(self) -> dict[str, Any]:
        """What the log keeps outside its rows, as JSON-able data (see :meth:`from_records`).

        Counts, byte totals and per-response timings and usage: with them a rebuilt log's
        ``turns()``, ``usage()`` and ``totals()`` stay exact even when rows were evicted.
        """
        return {
            "max_rows": self.max_rows,
            "last_seq": self._seq,
            "evicted": self.evicted,
            "t0": self._t0,
            "counts": dict(self.counts),
            "rows_by_direction": dict(self.rows_by_direction),
            "bytes_by_direction": dict(self.bytes_by_direction),
            "audio_bytes_by_direction": dict(self.audio_bytes_by_direction),
            "responses": [asdict(tr) for tr in list(self._tracks.values())],
            "model": self._model,
        }

    @classmethod
    def from_records(
        cls, records: Iterable[Mapping[str, Any]], state: Mapping[str, Any] | None = None
    ) -> EventLog:
        """Rebuild a log from :meth:`to_records` rows (and :meth:`to_state` data, if kept).

        Rows keep their sequence numbers and times, so every view (tables, turns, timeline)
        reads as it did. Without ``state`` counts and per-response timings are recomputed
        from the rows given; with it they are restored exactly. The log keeps every row given
        (``max_rows=None``). Extra keys in a record (``summary``) are ignored.
        """
        log = cls(max_rows=None)
        share = log._strings.setdefault
        for rec in records:
            payload = rec.get("payload")
            if not isinstance(payload, dict):
                payload = {"type": rec.get("type")}
            found = rec.get("direction")
            direction: Direction = (
                "client" if found == "client" else "server" if found == "server" else "local"
            )
            row = EventRow(
                int(rec["seq"]),
                float(rec["t"]),
                float(rec["wall"]),
                direction,
                share(str(rec["type"]), str(rec["type"])),
                _opt_str(rec.get("event_id")),
                _opt_str(rec.get("item_id")),
                _opt_str(rec.get("response_id")),
                int(rec.get("size") or 0),
                payload,
                int(rec.get("audio_bytes") or 0),
            )
            log._append(row)
            log._seq = max(log._seq, row.seq)
            if state is None and row.direction == "server":
                tracker = _TRACKERS.get(row.type)
                if tracker is not None:
                    tracker(log, row)
        if state is not None:
            log._seq = max(log._seq, int(state.get("last_seq") or 0))
            t0 = state.get("t0")
            log._t0 = float(t0) if isinstance(t0, int | float) else log._t0
            for name in ("counts", "rows_by_direction", "bytes_by_direction",
                         "audio_bytes_by_direction"):  # fmt: skip
                value = state.get(name)
                if isinstance(value, dict):
                    setattr(log, name, {str(k): int(v) for k, v in value.items()})
            known = {f.name for f in fields(_ResponseTrack)}
            for data in state.get("responses") or ():
                kept = _ResponseTrack(**{k: v for k, v in data.items() if k in known})
                log._tracks[kept.response_id] = kept
            model = state.get("model")
            log._model = model if isinstance(model, str) else None
        return log

    # --- per-response tracking (only a few server types reach these) ---------------------------
    def _track(self, response_id: str | None) -> _ResponseTrack | None:
        if response_id is None:
            return None
        track = self._tracks.get(response_id)
        if track is None:
            track = self._tracks[response_id] = _ResponseTrack(response_id)
        return track

    def _on_session(self, row: EventRow) -> None:
        model = _d(row.payload.get("session")).get("model")
        if isinstance(model, str):
            self._model = model

    def _on_speech_stopped(self, row: EventRow) -> None:
        self._stop = (row.t, row.item_id)

    def _on_created(self, row: EventRow) -> None:
        track = self._track(row.response_id)
        if track is None:
            return
        track.created_t = row.t
        track.status = _d(row.payload.get("response")).get("status")
        if self._stop is not None:
            track.stop_t, track.input_item_id = self._stop
            self._stop = None  # one speech stop starts at most one turn

    def _on_audio(self, row: EventRow) -> None:
        track = self._tracks.get(row.response_id) if row.response_id else None
        if track is not None and track.first_audio_t is None:
            track.first_audio_t = row.t

    def _on_text(self, row: EventRow) -> None:
        track = self._tracks.get(row.response_id) if row.response_id else None
        if track is not None and track.first_text_t is None:
            track.first_text_t = row.t

    def _on_done(self, row: EventRow) -> None:
        track = self._track(row.response_id)
        if track is None:
            return
        response = _d(row.payload.get("response"))
        track.done_t = row.t
        track.status = response.get("status")
        usage = response.get("usage")
        track.usage = usage if isinstance(usage, dict) else None
        track.model = self._model

    # --- reading -----------------------------------------------------------------------------
    # Every read works on a snapshot taken with ``list(self._rows)`` (or ``list(dict.values())``):
    # CPython builds those lists in C without running Python code, so the GIL is never released
    # half-way and the copy is atomic with respect to the session's loop thread appending rows.
    # Iterating the deque itself from another thread raises "deque mutated during iteration".
    def _snapshot(self) -> list[EventRow]:
        return list(self._rows)

    def __len__(self) -> int:
        """Rows recorded in total, including evicted ones."""
        return self._seq

    def __iter__(self) -> Iterator[EventRow]:
        """The kept rows at this moment, oldest first (safe while rows are being added)."""
        return iter(self._snapshot())

    @property
    def rows(self) -> list[EventRow]:
        """The kept rows, oldest first (a new list, a consistent snapshot)."""
        return self._snapshot()

    @property
    def last_seq(self) -> int:
        return self._seq

    @property
    def evicted(self) -> int:
        """How many of the oldest rows were dropped to keep ``max_rows``."""
        return self._seq - len(self._rows)

    def since(self, seq: int) -> list[EventRow]:
        """Rows with a sequence number above ``seq`` (for live UIs polling for new rows).

        Reads only the newest rows: the widget polls 10×/s and copying a 50,000-row log each
        time would not do. Rows appended meanwhile make the slice start later, which the loop
        notices and widens; a read interrupted by another thread (rare: the garbage collector
        can run Python code while the slice grows) falls back to a full snapshot.
        """
        rows = self._rows
        n = self._seq - seq
        try:
            while n > 0:
                newest = list(islice(reversed(rows), n))
                if len(newest) == len(rows) or newest[-1].seq <= seq + 1:
                    newest.reverse()
                    return [row for row in newest if row.seq > seq]
                n += newest[-1].seq - seq - 1  # rows arrived while we read: take more
        except RuntimeError:  # "deque mutated during iteration"
            return [row for row in self._snapshot() if row.seq > seq]
        return []

    def filter(
        self,
        type: str | None = None,
        direction: str | None = None,
        item_id: str | None = None,
        response_id: str | None = None,
        text: str | None = None,
    ) -> list[EventRow]:
        """Kept rows matching every given criterion.

        ``type`` is an exact type, or a prefix when it ends in ``.`` or ``*`` (``"response.*"``);
        ``text`` is searched case-insensitively in the type, summary and ids.
        """
        prefix: str | None = None
        if type is not None and type.endswith(("*", ".")):
            prefix, type = type.rstrip("*"), None
        needle = text.lower() if text else None
        out: list[EventRow] = []
        for row in self._snapshot():
            if type is not None and row.type != type:
                continue
            if prefix is not None and not row.type.startswith(prefix):
                continue
            if direction is not None and row.direction != direction:
                continue
            if item_id is not None and row.item_id != item_id:
                continue
            if response_id is not None and row.response_id != response_id:
                continue
            if needle is not None:
                hay = " ".join(
                    x for x in (row.type, row.summary, row.event_id, row.item_id, row.response_id)
                    if x
                ).lower()  # fmt: skip
                if needle not in hay:
                    continue
            out.append(row)
        return out

    def coalesced(self, rows: Iterable[EventRow] | None = None) -> list[DisplayRow]:
        """Runs of consecutive delta rows merged into one display row each (counts exact)."""
        return coalesce(self._snapshot() if rows is None else rows)

    def tail_coalesced(self, n: int = HTML_ROWS) -> list[DisplayRow]:
        """The last ``n`` coalesced rows, reading only as many rows as they need."""
        picked: list[EventRow] = []
        groups = 0
        key: tuple[str, str, str | None] | None = None
        for row in reversed(self._snapshot()):
            k = _run_key(row)
            if not picked or k is None or k != key:
                groups += 1
                if groups > n:
                    break
            picked.append(row)
            key = k
        picked.reverse()
        return coalesce(picked)

    def to_records(self) -> list[dict[str, Any]]:
        """The kept rows as flat dicts (payload included)."""
        return [row.to_dict() for row in self._snapshot()]

    def to_dataframe(self, coalesce: bool = False) -> pandas.DataFrame:
        """The kept rows (or the coalesced view) as a pandas DataFrame, with a ``turn`` column.

        ``turn`` is the 1-based turn the row belongs to (see :meth:`timeline`), ``<NA>`` for
        rows before the first turn. It is the last column, so the others keep their places.
        """
        from ..timeline import assign_turns

        pd = _pandas()
        rows = self._snapshot()
        turn_of = assign_turns(rows)
        if coalesce:
            view = self.coalesced(rows)
            df = pd.DataFrame([d.to_dict() for d in view], columns=DISPLAY_COLUMNS)
            turns = [turn_of.get(d.first_seq) for d in view]
        else:
            df = pd.DataFrame([row.to_dict() for row in rows], columns=ROW_COLUMNS)
            turns = [turn_of.get(row.seq) for row in rows]
        df["turn"] = pd.array(turns, dtype="Int64")
        return df

    def to_jsonl(self, path: str | os.PathLike[str]) -> int:
        """Write the kept rows as JSON Lines; return how many were written."""
        n = 0
        # backslashreplace writes a lone surrogate as the JSON escape it came from (\\ud800)
        with open(path, "w", encoding="utf-8", errors="backslashreplace") as fh:
            for row in self._snapshot():
                fh.write(json.dumps(row.to_dict(), ensure_ascii=False, default=str))
                fh.write("\n")
                n += 1
        return n

    # --- derived tables ----------------------------------------------------------------------
    def turns(self) -> list[Turn]:
        """One row per response with its latencies; exact even after rows were evicted.

        The speech stop that starts a turn is the last ``speech_stopped`` since the previous
        ``response.created`` (so a text turn after a voice turn gets no stop time).
        """
        out: list[Turn] = []
        for tr in list(self._tracks.values()):
            first_text = tr.first_text_t
            out.append(
                Turn(
                    response_id=tr.response_id,
                    status=tr.status,
                    input_item_id=tr.input_item_id,
                    speech_stopped_t=tr.stop_t,
                    created_t=tr.created_t,
                    first_audio_t=tr.first_audio_t,
                    first_text_t=first_text,
                    done_t=tr.done_t,
                    created_ms=_ms(tr.stop_t, tr.created_t),
                    first_audio_ms=_ms(tr.created_t, tr.first_audio_t),
                    first_text_ms=_ms(tr.created_t, first_text),
                    total_ms=_ms(tr.created_t, tr.done_t),
                )
            )
        return out

    def usage(self, prices: dict[str, Any] | None = None) -> list[UsageRow]:
        """Tokens and cost per finished response, from ``response.done`` usage.

        ``prices`` defaults to :data:`PRICES`; the model is the one in the latest
        ``session.created``/``session.updated`` before each ``response.done``.
        """
        return [
            usage_row(tr.response_id, tr.usage, tr.model, tr.status, prices)
            for tr in list(self._tracks.values())
            if tr.usage is not None
        ]

    def totals(
        self, model: str | None = None, prices: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Tokens and cost so far, and how full the model's context window is.

        Exact after eviction (usage is kept outside the rows). ``model`` defaults to the
        session's (the latest ``session.created``/``updated``); it names the context window
        (:data:`realtime_nb.models.MODELS`). Keys: ``responses`` (finished, with usage), the
        token counts of :class:`UsageRow` summed (``input_tokens``, ``output_tokens``,
        ``total_tokens``, ``cached_tokens``, ``input_text_tokens``, ``input_audio_tokens``,
        ``output_text_tokens``, ``output_audio_tokens``), ``cost_usd`` (None when no response
        could be priced), ``cost_complete`` (every response was priced), ``model``,
        ``context_window``, ``context_tokens`` (the last response's input tokens: what the
        model read) and ``context_fill`` (their ratio, None when the window is unknown).
        """
        from ..models import model_info

        keys = ("input_tokens", "output_tokens", "total_tokens", "cached_tokens",
                "input_text_tokens", "input_audio_tokens", "output_text_tokens",
                "output_audio_tokens")  # fmt: skip
        out: dict[str, Any] = dict.fromkeys(keys, 0)
        tracks = [tr for tr in list(self._tracks.values()) if tr.usage is not None]
        costs: list[float] = []
        for tr in tracks:
            assert tr.usage is not None
            row = usage_row(tr.response_id, tr.usage, tr.model, tr.status, prices)
            for key in keys:
                out[key] += getattr(row, key)
            if row.cost_usd is not None:
                costs.append(row.cost_usd)
        last = max(tracks, key=lambda tr: tr.done_t or 0.0, default=None)
        name = model or self._model
        info = model_info(name)
        window = info.context_window if info is not None else None
        context = _int(last.usage.get("input_tokens")) if last and last.usage else None
        out.update(
            responses=len(tracks),
            cost_usd=sum(costs) if costs else None,
            cost_complete=len(costs) == len(tracks),
            model=name,
            context_window=window,
            context_tokens=context,
            context_fill=context / window if context is not None and window else None,
        )
        return out

    # --- turns (realtime_nb.timeline) ----------------------------------------------------------
    def timeline(
        self,
        *,
        played_ms: Mapping[str, float] | None = None,
        audio_for: Callable[[str], np.ndarray | None] | None = None,
        prices: dict[str, Any] | None = None,
    ) -> list[TurnTimeline]:
        """The kept rows grouped into turns (docs/timeline.md): a user input and all it caused.

        ``played_ms`` (assistant item id → ms the speaker played) and ``audio_for`` (item id →
        the user's int16 audio, for the level lane) are optional; see
        :func:`realtime_nb.timeline.build_turns`.
        """
        from ..timeline import build_turns

        return build_turns(
            self._snapshot(), played_ms=played_ms, audio_for=audio_for, prices=prices
        )

    def turn_of(self, seq: int) -> int | None:
        """The turn number of the row with sequence number ``seq`` (None: before any turn)."""
        from ..timeline import assign_turns

        return assign_turns(self._snapshot()).get(seq)

    def turns_dataframe(self, prices: dict[str, Any] | None = None) -> pandas.DataFrame:
        """One row per turn: input, heard vs generated, latency stages, tokens, cost.

        Columns are listed in docs/timeline.md; ``df.attrs["totals"]`` has the totals. (Before
        turns were grouped this table had one row per response: see
        :meth:`responses_dataframe`.)
        """
        from ..timeline.frame import turns_frame

        _pandas()
        return turns_frame(self.timeline(prices=prices), self._t0 or 0.0)

    def responses_dataframe(self) -> pandas.DataFrame:
        """One row per response with its latencies from ``response.created`` (:meth:`turns`)."""
        pd = _pandas()
        return pd.DataFrame(
            [t.to_dict() for t in self.turns()], columns=[f.name for f in fields(Turn)]
        )

    def plot_turns(self, last: int | None = 8, **kwargs: Any) -> Figure:
        """A matplotlib Figure: one panel of lanes per turn (the last ``last``; None: all).

        Lanes: your speech (level, VAD marks), the model's responses (first audio dot), audio
        received vs played with the cut, tool spans, errors. Needs ``realtime-nb[plot]``.
        ``kwargs`` go to :meth:`timeline` (``played_ms``, ``audio_for``, ``prices``).
        """
        from ..timeline.figure import plot_turns

        return plot_turns(self.timeline(**kwargs), self._t0 or 0.0, last=last)

    def plot_timeline(self, **kwargs: Any) -> Figure:
        """A matplotlib Figure of the whole session on one axis, turns shaded and numbered."""
        from ..timeline.figure import plot_timeline

        return plot_timeline(self.timeline(**kwargs), self._t0 or 0.0)

    def usage_dataframe(self, prices: dict[str, Any] | None = None) -> pandas.DataFrame:
        pd = _pandas()
        return pd.DataFrame(
            [u.to_dict() for u in self.usage(prices)], columns=[f.name for f in fields(UsageRow)]
        )

    # --- notebook repr -----------------------------------------------------------------------
    def _repr_html_(self) -> str:
        return render_html(self)


_TRACKERS: dict[str, Callable[[EventLog, EventRow], None]] = {
    "session.created": EventLog._on_session,
    "session.updated": EventLog._on_session,
    "input_audio_buffer.speech_stopped": EventLog._on_speech_stopped,
    "response.created": EventLog._on_created,
    "response.output_audio.delta": EventLog._on_audio,
    "response.output_text.delta": EventLog._on_text,
    "response.output_audio_transcript.delta": EventLog._on_text,
    "response.done": EventLog._on_done,
}


def _opt_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _pandas() -> Any:
    try:
        import pandas
    except ImportError:
        raise UsageError(
            "pandas is needed for DataFrames: pip install 'realtime-nb[pandas]'"
        ) from None
    return pandas

"""A recorded session, read-only: the same events, conversation and audio API, no connection.

:class:`Recording` is what :func:`realtime_nb.load` returns and what
:meth:`Recording.from_session` makes from a live (or closed) session without a file. Both go
through one :class:`~realtime_nb.recording.format.RecordingData`, JSON-normalised the same way,
so a recording read from a file and one taken from the session that wrote it read alike.
"""

from __future__ import annotations

import datetime
import html
import json
import os
import platform
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import numpy as np

from ..conversation import Conversation
from ..errors import UsageError
from ..events import EventLog
from ..protocol import SAMPLE_RATE
from .format import FORMAT_NAME, FORMAT_VERSION, RecordingData, audio_member, read, write

if TYPE_CHECKING:
    import pandas
    from matplotlib.figure import Figure

    from ..timeline import TurnTimeline

_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "0.0.0.0"})


class Recording:
    """A saved session, read-only: ``events``, ``conversation``, transcript and audio.

    ``events`` is an :class:`~realtime_nb.events.EventLog` rebuilt from the saved rows, so
    ``to_dataframe()``, ``turns_dataframe()``, ``usage_dataframe()``, ``totals()``,
    ``timeline()``, ``plot_turns()`` and ``plot_timeline()`` work as on a live session;
    ``conversation`` is a :class:`~realtime_nb.conversation.Conversation` (``transcript()``,
    ``item(id).audio()``, ``responses``). Make one with :func:`realtime_nb.load` or
    :meth:`from_session`.
    """

    def __init__(self, data: RecordingData, path: Path | None = None) -> None:
        self._data = data
        self.path = path
        self.manifest: dict[str, Any] = data.manifest
        self.events = EventLog.from_records(data.records, data.events_state)
        self.conversation = Conversation.from_state(data.conversation, data.audio)
        played = data.manifest.get("played_ms") or {}
        self._played: dict[str, float] = {
            str(k): float(v) for k, v in played.items() if isinstance(v, int | float)
        }

    # --- making one ------------------------------------------------------------------------
    @classmethod
    def from_session(
        cls,
        session: Any,
        *,
        played_ms: Mapping[str, float] | None = None,
        created: float | None = None,
        endpoint: str | None = None,
    ) -> Recording:
        """A recording of ``session`` as it is now, without writing a file.

        ``session`` is a :class:`~realtime_nb.RealtimeSession`, a :class:`~realtime_nb.Session`
        or anything with ``events`` and ``conversation`` (a ``ClientProtocol``). The session
        may still be live: rows and items are read from a snapshot. ``played_ms`` (item id →
        ms the speaker played) is what the widget knows; ``created`` is the epoch time to
        record (default: the newest row's); ``endpoint`` overrides the endpoint kind
        (``"openai"``, ``"azure"``, ``"stand-in"``, ``"other"``).
        """
        return cls(snapshot(session, played_ms=played_ms, created=created, endpoint=endpoint))

    # --- reading ---------------------------------------------------------------------------
    @property
    def session_config(self) -> dict[str, Any]:
        """The effective session config (the last ``session.created``/``updated``)."""
        config = self.manifest.get("session_config")
        return config if isinstance(config, dict) else {}

    @property
    def model(self) -> str | None:
        model = self.manifest.get("model")
        return model if isinstance(model, str) else None

    @property
    def transcript(self) -> list[tuple[str, str]]:
        """``(role, text)`` per message item, as :meth:`Conversation.transcript`."""
        return self.conversation.transcript()

    @property
    def audio_item_ids(self) -> list[str]:
        """Ids of the items whose audio the file holds, in conversation order."""
        return [e["item_id"] for e in self.manifest.get("audio") or ()]

    def item_audio(self, item_id: str) -> np.ndarray:
        """The PCM (int16, 24 kHz) of an item, user or assistant (empty when none was kept)."""
        item = self.conversation.item(item_id)
        if item is None:
            raise UsageError(
                f"No item {item_id!r} in this recording; its items are listed in "
                "recording.conversation.items."
            )
        return item.audio()

    def played_ms(self, item_id: str) -> float | None:
        """What the speaker played of an assistant item, in ms (None: not known)."""
        return self._played.get(item_id)

    @property
    def played(self) -> dict[str, float]:
        """``{item id: ms played}`` for every item the widget reported."""
        return dict(self._played)

    def _audio_for(self, item_id: str) -> np.ndarray | None:
        item = self.conversation.item(item_id)
        return item.audio() if item is not None else None

    def timeline(self, **kwargs: Any) -> list[TurnTimeline]:
        """The turns, with played ms and the user's audio level filled in from the file."""
        kwargs.setdefault("played_ms", self._played)
        kwargs.setdefault("audio_for", self._audio_for)
        return self.events.timeline(**kwargs)

    def turns_dataframe(self, prices: dict[str, Any] | None = None) -> pandas.DataFrame:
        """One row per turn (as :meth:`EventLog.turns_dataframe`)."""
        return self.events.turns_dataframe(prices)

    def plot_turns(self, last: int | None = 8, **kwargs: Any) -> Figure:
        """Lanes per turn (as :meth:`EventLog.plot_turns`), with played ms and levels."""
        kwargs.setdefault("played_ms", self._played)
        kwargs.setdefault("audio_for", self._audio_for)
        return self.events.plot_turns(last, **kwargs)

    # --- writing ---------------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write this recording to ``path`` (atomically); return the path."""
        return write(self._data, path)

    # --- notebook repr ---------------------------------------------------------------------
    def _headline(self) -> str:
        m = self.manifest
        counts = m.get("counts") or {}
        audio = counts.get("audio_ms") or {}
        seconds = ", ".join(f"{role} {ms / 1000:.1f} s" for role, ms in sorted(audio.items()))
        where = f"{self.path.name!r}" if self.path is not None else "in memory"
        return (
            f"Recording {where}: {m.get('model') or 'unknown model'} via "
            f"{m.get('endpoint') or 'unknown'}, {len(self.events.turns())} responses, "
            f"{counts.get('items', 0)} items, {counts.get('rows', 0)} rows"
            + (f", audio {seconds}" if seconds else "")
            + f", created {m.get('created') or '?'}"
        )

    def __repr__(self) -> str:
        return f"{self._headline()}\n{self.conversation!r}"

    def _repr_html_(self) -> str:
        head = html.escape(self._headline())
        return f"<div><p><b>{head}</b></p>{self.conversation._repr_html_()}</div>"


def load(path: str | os.PathLike[str]) -> Recording:
    """Open a session file written by ``save()``: a read-only :class:`Recording`.

    Raises :class:`~realtime_nb.recording.RecordingFormatError` for a file that is damaged,
    not a session file, or from a newer realtime-nb (the message says which can read it).
    """
    return Recording(read(path), Path(path))


# --- the snapshot ------------------------------------------------------------------------------
def snapshot(
    session: Any,
    *,
    played_ms: Mapping[str, float] | None = None,
    created: float | None = None,
    endpoint: str | None = None,
) -> RecordingData:
    """Everything a session file holds, taken from ``session`` now (see ``from_session``)."""
    from .. import __version__

    inner = getattr(session, "async_session", session)  # the blocking Session wraps one
    log: EventLog = inner.events
    conversation: Conversation = inner.conversation
    # JSON round trip: the recording shares nothing with the live session, and reads exactly
    # as the same data read back from a file
    records = json.loads(_dumps([_record(r) for r in log.rows]))
    events_state = json.loads(_dumps(log.to_state()))
    conv_state = json.loads(_dumps(conversation.to_state()))
    config = _config(getattr(inner, "session_config", None))
    items = [*conversation.items, *conversation._detached.values()]
    audio: dict[str, bytes] = {}
    entries: list[dict[str, Any]] = []
    played = {str(k): round(float(v), 3) for k, v in (played_ms or {}).items()}
    ms_by_role: dict[str, float] = {}
    for index, item in enumerate(items):
        samples = item.audio()
        if not samples.size:
            continue
        audio[item.id] = samples.astype("<i2", copy=False).tobytes()
        ms = round(samples.size * 1000 / SAMPLE_RATE, 1)
        role = item.role or item.type
        ms_by_role[role] = round(ms_by_role.get(role, 0.0) + ms, 1)
        entries.append(
            {
                "item_id": item.id,
                "member": audio_member(item.id, index),
                "role": item.role,
                "samples": int(samples.size),
                "ms": ms,
                "played_ms": played.get(item.id),
            }
        )
    if created is None:
        rows = log.rows
        created = rows[-1].wall if rows else 0.0
    model = getattr(inner, "model", None) or config.get("model")
    released = [i.id for i in items if i.audio_released]
    manifest: dict[str, Any] = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "written_by": {
            "realtime_nb": __version__,
            "python": platform.python_version(),
            "numpy": np.__version__,
        },
        "created": datetime.datetime.fromtimestamp(created, datetime.UTC).isoformat(),
        "created_epoch": created,
        "model": model if isinstance(model, str) else None,
        "endpoint": endpoint or _endpoint_kind(inner),
        "session_config": config,
        "requested_config": _config(getattr(inner, "requested_config", None)),
        "counts": {
            "rows": len(log),
            "rows_kept": len(records),
            "items": len(conversation.items),
            "responses": len(conversation.responses),
            "items_with_audio": len(entries),
            "audio_ms": ms_by_role,
        },
        "not_included": {
            "evicted_rows": log.evicted,
            "max_rows": log.max_rows,
            "released_audio_item_ids": released,
            "pending_input_audio_bytes": conversation.pending_input_bytes,
            "note": (
                "Rows the log evicted beyond max_rows and audio the conversation released "
                "beyond max_audio_seconds were gone before saving; input audio not yet "
                "committed to an item is not saved. Counts, turns and usage stay exact."
            ),
        },
        "audio": entries,
        "played_ms": {k: v for k, v in played.items() if k in audio or k in conversation._by_id},
    }
    return RecordingData(json.loads(_dumps(manifest)), records, events_state, conv_state, audio)


def _record(row: Any) -> dict[str, Any]:
    return row.to_dict()  # type: ignore[no-any-return]


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=True, default=str)


def _config(value: object) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}


def _endpoint_kind(session: Any) -> str:
    """openai, azure, stand-in (a loopback server) or other: never the URL or its headers."""
    endpoint = getattr(session, "endpoint", None)
    if endpoint is None:
        return "unknown"
    if getattr(endpoint, "azure", False):
        return "azure"
    host = urlsplit(str(getattr(endpoint, "url", ""))).hostname or ""
    if host == "api.openai.com":
        return "openai"
    return "stand-in" if host in _LOOPBACK else "other"

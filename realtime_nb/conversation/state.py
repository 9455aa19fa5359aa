"""The conversation of one session, kept in step with server and sent client events."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import fields
from typing import Any

import numpy as np

from ..audio import b64decode_audio
from ..errors import AudioFormatError
from ..heard import heard_prefix
from ..protocol import SERVER_EVENT_TYPES
from .handlers import _SERVER_HANDLERS
from .items import (
    _AUDIO_PARTS,
    _BYTES_PER_MS,
    _BYTES_PER_SECOND,
    _COMPACT_CHUNKS,
    _EMPTY,
    _MAX_VAD_PENDING,
    _TEXT_PARTS,
    _VAD_IDLE_KEEP_BYTES,
    ConversationItem,
    ResponseState,
    _int,
)
from .view import render_html, render_text


class Conversation:
    """The conversation of one session, kept in step with server (and sent client) events.

    Args:
        retain_audio: keep PCM per item. When False only exact byte counts are kept.
        max_audio_seconds: total PCM kept across items and the pending input buffer; beyond it
            the oldest items' audio is released (``item.audio_released``). ``None``: no bound.
    """

    def __init__(
        self, *, retain_audio: bool = True, max_audio_seconds: float | None = 3600.0
    ) -> None:
        self.retain_audio = retain_audio
        self.max_audio_seconds = max_audio_seconds
        self._limit: int | None = None
        if max_audio_seconds is not None:
            self._limit = int(max_audio_seconds * _BYTES_PER_SECOND)
        self.items: list[ConversationItem] = []
        self._by_id: dict[str, ConversationItem] = {}
        self._detached: dict[str, ConversationItem] = {}  # out-of-band response items
        self._deleted: set[str] = set()
        self.responses: dict[str, ResponseState] = {}
        self.active_response_id: str | None = None
        self.session: dict[str, Any] = {}
        self.conversation_id: str | None = None
        self.rate_limits: list[Any] = []
        self.errors: list[dict[str, Any]] = []
        self.user_speaking = False
        self.malformed_event_count = 0
        #: output audio deltas of odd length, whose last byte was dropped (PCM16 stays aligned)
        self.odd_length_audio_deltas = 0
        self._unknown = 0
        self._vad: dict[str, list[int | None]] = {}  # item_id -> [start_ms, end_ms]
        # Input stream, in bytes since the session started (the VAD's audio_*_ms clock).
        self.input_bytes_total = 0
        self._pending_start = 0  # first byte not yet committed or cleared
        self._pending: deque[bytes] = deque()  # retained input chunks, oldest first
        self._pending_from = 0  # stream offset of the first byte of _pending[0]
        self._pending_retained = 0
        self._vad_on = False  # the session has turn detection: idle input is not kept
        self._speech_open = False  # speech_started seen, its commit not yet
        self._commits: deque[int] = deque()  # stream offsets of commits we sent
        self._clears = 0  # clears we sent whose ``cleared`` has not arrived
        self._retained_total = 0
        self._audio_order: deque[ConversationItem] = deque()

    # --- feeding -----------------------------------------------------------------------------
    def apply(self, event: dict[str, Any], audio: bytes | None = None, t: float = 0.0) -> None:
        """Update the state from one server event; ``audio`` is its decoded PCM, if any."""
        type_ = event.get("type") if isinstance(event, dict) else None
        handler = _SERVER_HANDLERS.get(type_) if isinstance(type_, str) else None
        if handler is None:
            if not isinstance(type_, str) or type_ not in SERVER_EVENT_TYPES:
                self._unknown += 1
            return
        handler(self, event, audio, t)

    def apply_client(
        self, event: dict[str, Any], audio: bytes | None = None, t: float = 0.0
    ) -> None:
        """Update the input buffer from a client event we sent (append, commit, clear).

        ``audio`` is the appended PCM16 24 kHz; without it the byte count is read from the
        payload's marker (or its base64). Other client events are ignored.
        """
        type_ = event.get("type") if isinstance(event, dict) else None
        if type_ == "input_audio_buffer.append":
            data = audio
            if data is None:
                value = event.get("audio")
                if isinstance(value, dict):  # a marker: count it, keep retained input contiguous
                    n = _int(value.get("audio_bytes")) or 0
                    self.input_bytes_total += max(n, 0)
                    self._drop_pending_before(self.input_bytes_total)
                    return
                if isinstance(value, str):
                    try:
                        data = b64decode_audio(value)
                    except AudioFormatError:
                        self.malformed_event_count += 1
                        return
            if not data:
                return
            self.input_bytes_total += len(data)
            if self.retain_audio:
                if not self._pending:
                    self._pending_from = self.input_bytes_total - len(data)
                self._pending.append(bytes(data))
                self._pending_retained += len(data)
                self._retained_total += len(data)
                if self._vad_on and not self._speech_open:
                    # The server VAD only commits speech (plus its prefix padding), so input
                    # older than a few seconds of silence can never reach an item.
                    horizon = self.input_bytes_total - _VAD_IDLE_KEEP_BYTES
                    if self._pending_from < horizon:
                        self._drop_pending_before(horizon)
                self._enforce_retention()
        elif type_ == "input_audio_buffer.commit":
            self._commits.append(self.input_bytes_total)
        elif type_ == "input_audio_buffer.clear":
            self._clears += 1
            self._drop_pending(self.input_bytes_total)

    # --- reading -----------------------------------------------------------------------------
    def __repr__(self) -> str:
        """A short transcript: roles, tool calls with arguments and results, cuts."""
        return render_text(self)

    def _repr_html_(self) -> str:
        return render_html(self)

    def item(self, id: str) -> ConversationItem | None:
        """The item with this id (conversation or out-of-band response), or None."""
        return self._by_id.get(id) or self._detached.get(id)

    @property
    def unknown_event_count(self) -> int:
        """Events whose type is not a known server event (ignored)."""
        return self._unknown

    @property
    def retained_audio_bytes(self) -> int:
        """PCM bytes held now across items and the pending input buffer."""
        return self._retained_total

    @property
    def pending_input_bytes(self) -> int:
        """Bytes appended to the input buffer and not yet committed or cleared (exact)."""
        return self.input_bytes_total - self._pending_start

    def transcript(self) -> list[tuple[str, str]]:
        """``(role, text)`` for each message item in order.

        Assistant: the heard part after a truncation, else the transcript or text. User: the
        typed text, else the input transcription.
        """
        out: list[tuple[str, str]] = []
        for item in list(self.items):  # a snapshot: the loop thread may insert meanwhile
            if item.type != "message":
                continue
            role = item.role or ""
            if role == "assistant":
                if item.truncated_at_ms is not None and item.heard_transcript is not None:
                    text = item.heard_transcript
                else:
                    text = item.transcript or item.text
            else:
                text = item.text or item.transcript
            out.append((role, text))
        return out

    def response_output(self, response_id: str) -> tuple[str, str, np.ndarray]:
        """Text, audio transcript and audio (int16, 24 kHz) of a response's message items."""
        state = self.responses.get(response_id)
        if state is not None and state.output_item_ids:
            items = [i for i in map(self.item, state.output_item_ids) if i is not None]
        else:
            items = [
                i for i in (*self.items, *self._detached.values()) if i.response_id == response_id
            ]
        messages = [i for i in items if i.type == "message"]
        # a reasoning model may answer in several messages (a short preamble, then the answer)
        text = " ".join(i.text for i in messages if i.text)
        transcript = " ".join(i.transcript for i in messages if i.transcript)
        pieces = [a for a in (i.audio() for i in messages) if a.size]
        if not pieces:
            pcm = _EMPTY
        elif len(pieces) == 1:
            pcm = pieces[0]
        else:
            pcm = np.concatenate(pieces)
        return text, transcript, pcm

    def audio_played_limit_ms(self, item_id: str) -> int:
        """Whole ms of audio received for an item: the most a truncate may claim was played."""
        item = self.item(item_id)
        if item is None:
            return 0
        ms = item.audio_bytes_received // _BYTES_PER_MS
        if item.truncated_at_ms is not None:
            ms = min(ms, item.truncated_at_ms)
        return ms

    # --- saving and rebuilding (realtime_nb.recording) --------------------------------------
    def to_state(self) -> dict[str, Any]:
        """The conversation as plain JSON-able data (no audio: see :meth:`from_state`).

        Items keep their public fields (role, status, text, transcript, heard_transcript,
        truncated_at_ms, call fields, VAD span, usage…); responses keep theirs. Audio is left
        out so a caller can store it as WAV beside this; byte counts stay in the items.
        """

        def item_state(item: ConversationItem) -> dict[str, Any]:
            return {f.name: getattr(item, f.name) for f in _ITEM_FIELDS}

        return {
            "items": [item_state(i) for i in list(self.items)],
            "detached_items": [item_state(i) for i in list(self._detached.values())],
            "deleted_item_ids": sorted(self._deleted),
            "responses": [
                {f.name: getattr(r, f.name) for f in fields(ResponseState)}
                for r in list(self.responses.values())
            ],
            "active_response_id": self.active_response_id,
            "session": self.session,
            "conversation_id": self.conversation_id,
            "rate_limits": self.rate_limits,
            "errors": list(self.errors),
            "input_bytes_total": self.input_bytes_total,
            "malformed_event_count": self.malformed_event_count,
            "odd_length_audio_deltas": self.odd_length_audio_deltas,
            "unknown_event_count": self._unknown,
        }

    @classmethod
    def from_state(
        cls, state: Mapping[str, Any], audio: Mapping[str, bytes] | None = None
    ) -> Conversation:
        """Rebuild a conversation from :meth:`to_state` data and each item's PCM16 24 kHz.

        The result is for reading (``transcript()``, ``item(id).audio()``, ``responses``); it
        keeps every byte of ``audio`` (no retention bound). Unknown keys are ignored, so data
        written by a newer realtime-nb with extra fields still loads.
        """
        conv = cls(retain_audio=True, max_audio_seconds=None)
        audio = audio or {}
        known_item = {f.name for f in _ITEM_FIELDS}
        known_response = {f.name for f in fields(ResponseState)}

        def build(data: Mapping[str, Any]) -> ConversationItem:
            item = ConversationItem(**{k: v for k, v in data.items() if k in known_item})
            pcm = audio.get(item.id)
            if pcm:
                item._chunks = [bytes(pcm)]
                item._retained = len(pcm)
                conv._retained_total += len(pcm)
                conv._audio_order.append(item)
            return item

        for data in state.get("items", ()):
            item = build(data)
            conv.items.append(item)
            conv._by_id[item.id] = item
        for data in state.get("detached_items", ()):
            item = build(data)
            conv._detached[item.id] = item
        conv._deleted = set(state.get("deleted_item_ids", ()))
        for data in state.get("responses", ()):
            response = ResponseState(**{k: v for k, v in data.items() if k in known_response})
            conv.responses[response.id] = response
        conv.active_response_id = state.get("active_response_id")
        conv.session = dict(state.get("session") or {})
        conv.conversation_id = state.get("conversation_id")
        conv.rate_limits = list(state.get("rate_limits") or [])
        conv.errors = list(state.get("errors") or [])
        conv.input_bytes_total = int(state.get("input_bytes_total") or 0)
        conv._pending_start = conv.input_bytes_total
        conv.malformed_event_count = int(state.get("malformed_event_count") or 0)
        conv.odd_length_audio_deltas = int(state.get("odd_length_audio_deltas") or 0)
        conv._unknown = int(state.get("unknown_event_count") or 0)
        return conv

    # --- items -------------------------------------------------------------------------------
    def _insert(self, item: ConversationItem, previous_item_id: object) -> None:
        if previous_item_id == "root":
            self.items.insert(0, item)
        elif isinstance(previous_item_id, str) and previous_item_id in self._by_id:
            self.items.insert(self.items.index(self._by_id[previous_item_id]) + 1, item)
        else:
            self.items.append(item)
        self._by_id[item.id] = item
        vad = self._vad.pop(item.id, None)
        if vad is not None:
            item.vad_start_ms, item.vad_end_ms = vad

    def _move(self, item: ConversationItem, previous_item_id: object) -> None:
        """Put an existing item after ``previous_item_id`` when that differs from now."""
        if previous_item_id == item.id:
            return
        pos = self.items.index(item)
        if previous_item_id == "root":
            in_place = pos == 0
        elif isinstance(previous_item_id, str) and previous_item_id in self._by_id:
            in_place = pos > 0 and self.items[pos - 1].id == previous_item_id
        else:
            in_place = True  # unknown predecessor: leave the item where it is
        if in_place:
            return
        del self.items[pos]
        del self._by_id[item.id]
        self._insert(item, previous_item_id)

    def _attach(self, item_id: str, previous_item_id: object) -> ConversationItem | None:
        """The conversation item ``item_id``: existing (moved if needed) or new."""
        self._deleted.discard(item_id)
        item = self._by_id.get(item_id)
        if item is not None:
            if previous_item_id is not None:
                self._move(item, previous_item_id)
            return item
        item = self._detached.pop(item_id, None) or ConversationItem(id=item_id, type="message")
        self._insert(item, previous_item_id)
        return item

    def _ensure(
        self, item_id: object, response_id: object, kind: str, role: str | None
    ) -> ConversationItem | None:
        """The item a delta is about, created as a stub when its ``added`` was not seen."""
        if not isinstance(item_id, str):
            self.malformed_event_count += 1
            return None
        item = self._by_id.get(item_id) or self._detached.get(item_id)
        if item is None:
            if item_id in self._deleted:
                return None
            item = ConversationItem(id=item_id, type=kind, role=role, status="in_progress")
            state = self.responses.get(response_id) if isinstance(response_id, str) else None
            if state is not None and state.out_of_band:
                self._detached[item_id] = item
            else:
                self._insert(item, None)
        if isinstance(response_id, str):
            self._link(item, response_id)
        return item

    def _link(self, item: ConversationItem, response_id: str) -> None:
        if item.response_id is None:
            item.response_id = response_id
        state = self.responses.get(response_id)
        if state is not None and item.id not in state.output_item_ids:
            state.output_item_ids.append(item.id)

    def _update_item(self, item: ConversationItem, data: dict[str, Any], final: bool) -> None:
        """Copy an item object's fields (never its audio) onto our item."""
        for name in ("type", "role", "status", "call_id", "name", "arguments", "output"):
            value = data.get(name)
            if isinstance(value, str):
                setattr(item, name, value)
        content = data.get("content")
        if not isinstance(content, list) or (not content and item.content):
            return
        parts: list[dict[str, Any]] = []
        texts: list[str] = []
        transcripts: list[str] = []
        for part in content:
            if not isinstance(part, dict):
                continue
            if isinstance(part.get("audio"), str):
                part = {k: v for k, v in part.items() if k != "audio"}
            parts.append(part)
            kind = part.get("type")
            if not isinstance(kind, str):
                continue
            if kind in _TEXT_PARTS and isinstance(part.get("text"), str):
                texts.append(part["text"])
            elif kind in _AUDIO_PARTS and isinstance(part.get("transcript"), str):
                transcripts.append(part["transcript"])
        item.content = parts
        text = "".join(texts)
        if text:
            item.text = text
        transcript = "".join(transcripts)
        if transcript:
            self._set_transcript(item, transcript, final and item.role == "assistant")

    def _set_transcript(self, item: ConversationItem, transcript: str, final: bool) -> None:
        if (
            item.truncated_at_ms is not None
            and final
            and len(transcript) < len(item.transcript)
            and item.transcript.startswith(transcript.rstrip())
        ):
            # after a truncate the server's copy is already cut to what was heard: take it as
            # the heard part (cutting it again would lose words) and keep what was generated
            item.heard_transcript = transcript
            item.transcript_final = True
            return
        item.transcript = transcript
        if final:
            item.transcript_final = True
        if item.truncated_at_ms is not None:
            self._update_heard(item)

    def _update_heard(self, item: ConversationItem) -> None:
        assert item.truncated_at_ms is not None
        total_ms = item.audio_bytes_received / _BYTES_PER_MS
        fraction = item.truncated_at_ms / total_ms if total_ms > 0 else 0.0
        item.heard_transcript = heard_prefix(item.transcript, fraction)

    def _forget(self, item: ConversationItem) -> None:
        self._release(item)
        if item in self._audio_order:
            self._audio_order.remove(item)

    # --- audio -------------------------------------------------------------------------------
    def _add_audio(self, item: ConversationItem, data: bytes, nbytes: int | None = None) -> None:
        """Count ``nbytes`` (default ``len(data)``) for the item and keep ``data`` if allowed."""
        item.audio_bytes_received += len(data) if nbytes is None else nbytes
        if (
            not data
            or not self.retain_audio
            or item.audio_released
            or item.truncated_at_ms is not None
        ):
            return
        if item._retained == 0:
            self._audio_order.append(item)
        if len(item._chunks) >= _COMPACT_CHUNKS:  # join on this (the writing) thread only
            item._chunks = [b"".join(item._chunks)]
        item._chunks.append(data)
        item._retained += len(data)
        item._cache = None
        self._retained_total += len(data)
        self._enforce_retention()

    def _set_audio(self, item: ConversationItem, data: bytes) -> None:
        """Replace an item's audio by the server's full copy (``conversation.item.retrieved``)."""
        self._forget(item)
        item.audio_released = False
        item.audio_bytes_received = 0
        truncated, item.truncated_at_ms = item.truncated_at_ms, None  # the copy is already cut
        self._add_audio(item, data)
        item.truncated_at_ms = truncated

    def _release(self, item: ConversationItem) -> None:
        self._retained_total -= item._retained
        item._retained = 0
        item._chunks = []
        item._cache = None

    def _enforce_retention(self) -> None:
        if self._limit is None:
            return
        while self._retained_total > self._limit and self._audio_order:
            item = self._audio_order.popleft()
            if item._retained:
                self._release(item)
                item.audio_released = True
        excess = self._retained_total - self._limit
        if excess > 0 and self._pending:  # only pending input is left: trim its oldest bytes
            self._drop_pending_before(self._pending_from + excess)

    def _pop_pending(self, offset: int, keep: list[bytes] | None) -> None:
        """Remove retained input before stream ``offset`` (into ``keep`` if given)."""
        pending = self._pending
        while pending and self._pending_from < offset:
            chunk = pending[0]
            cut = min(offset - self._pending_from, len(chunk))
            if cut == len(chunk):
                pending.popleft()
            else:
                pending[0] = chunk[cut:]
                chunk = chunk[:cut]
            if keep is not None:
                keep.append(chunk)
            self._pending_from += cut
            self._pending_retained -= cut
            self._retained_total -= cut

    def _drop_pending_before(self, offset: int) -> None:
        self._pop_pending(offset, None)

    def _take_pending(self, start: int, end: int) -> bytes:
        """Stream bytes ``[start, end)`` from the retained input; everything before ``end`` goes."""
        self._pop_pending(start, None)
        pieces: list[bytes] = []
        self._pop_pending(end, pieces)
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    def _drop_pending(self, end: int) -> None:
        self._pop_pending(end, None)
        self._pending_start = max(self._pending_start, end)

    def _vad_slot(self, item_id: str) -> list[int | None]:
        slot = self._vad.get(item_id)
        if slot is None:
            if len(self._vad) >= _MAX_VAD_PENDING:
                del self._vad[next(iter(self._vad))]
            slot = self._vad[item_id] = [None, None]
        return slot


#: The public fields of an item (what :meth:`Conversation.to_state` keeps).
_ITEM_FIELDS = tuple(f for f in fields(ConversationItem) if not f.name.startswith("_"))

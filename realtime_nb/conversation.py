"""Conversation state: items, responses and audio, rebuilt from the events of one session.

Theory of operation. The server owns the conversation; this class mirrors it from what crossed
the wire. :meth:`Conversation.apply` takes each server event (GA names: normalise beta first
with :func:`realtime_nb.beta.normalize_server_event`) and looks its type up in one table,
:data:`_SERVER_HANDLERS`, whose entries are small functions that update the state. Unknown
types are counted and ignored; a malformed event (missing ids, ``item: None``, wrong types) is
counted and ignored too, never raised, so a new or odd server never breaks a session.

Audio arrives decoded (the event log decodes base64 once, :func:`realtime_nb.events.
extract_audio`) and is kept per item as PCM16 24 kHz chunks, joined lazily. User audio comes
from the client side: :meth:`Conversation.apply_client` keeps what was appended to the input
buffer, and ``input_audio_buffer.committed`` moves the committed span into the user item — the
span ``[audio_start_ms, audio_end_ms)`` of the session's input stream when server VAD reported
it, else everything appended up to the matching commit. Byte counts are exact whether audio is
retained or not; retention is bounded by ``max_audio_seconds`` (oldest items released first).

Events are never mutated (the event log holds the same dicts). Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .audio import PCM16_BYTES_PER_MS, b64decode_audio
from .errors import AudioFormatError
from .heard import heard_prefix
from .protocol import SERVER_EVENT_TYPES

_BYTES_PER_MS = PCM16_BYTES_PER_MS
_BYTES_PER_SECOND = PCM16_BYTES_PER_MS * 1000
_MAX_ERRORS = 1000
_MAX_VAD_PENDING = 100
_VAD_IDLE_KEEP_BYTES = 5000 * PCM16_BYTES_PER_MS  # input kept while the VAD hears no speech
_EMPTY = np.zeros(0, dtype="<i2")
_COMPACT_CHUNKS = 256  # an item's audio chunks are joined into one when this many pile up
_EMPTY.setflags(write=False)

_TEXT_PARTS = frozenset({"input_text", "output_text", "text"})
_AUDIO_PARTS = frozenset({"input_audio", "output_audio", "audio"})


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _dict(value: object) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


@dataclass(slots=True, eq=False)  # identity: items hold numpy caches and are looked up by id
class ConversationItem:
    """One item of the conversation (message, function call, call output…), as last seen."""

    id: str
    type: str
    role: str | None = None
    status: str | None = None
    previous_item_id: str | None = None
    response_id: str | None = None
    content: list[dict[str, Any]] = field(default_factory=list)  #: parts, without audio bytes
    text: str = ""  #: output_text (assistant) or input_text (user)
    transcript: str = ""  #: assistant audio transcript, or the user's input transcription
    transcript_final: bool = False
    heard_transcript: str | None = None  #: after truncation: the part that was heard
    truncated_at_ms: int | None = None
    call_id: str | None = None
    name: str | None = None
    arguments: str | None = None
    output: str | None = None
    audio_bytes_received: int = 0  #: exact, even when audio is not retained
    audio_released: bool = False  #: retention limit reached: this item's PCM was dropped
    vad_start_ms: int | None = None  #: server VAD speech start in the session's input stream
    vad_end_ms: int | None = None
    transcription_error: dict[str, Any] | None = None
    transcription_usage: dict[str, Any] | None = None
    _chunks: list[bytes] = field(default_factory=list, repr=False)
    _retained: int = field(default=0, repr=False)
    #: (chunk count, first chunk's id) → samples; one attribute, so one atomic assignment
    _cache: tuple[tuple[int, int], np.ndarray] | None = field(default=None, repr=False)

    def audio(self) -> np.ndarray:
        """The retained PCM as read-only int16 samples at 24 kHz (joined when read, cached).

        Safe to call from any thread while the session's loop appends audio: it reads a
        snapshot of the chunk list (``list(...)`` is atomic under the GIL) and never changes
        ``_chunks`` itself; only the loop thread does (see ``Conversation._add_audio``).
        """
        chunks = list(self._chunks)
        key = (len(chunks), id(chunks[0]) if chunks else 0)
        cached = self._cache
        if cached is not None and cached[0] == key:
            return cached[1]
        if not chunks:
            samples = _EMPTY
        else:
            data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
            usable = len(data) - len(data) % 2
            samples = np.frombuffer(data, dtype="<i2", count=usable // 2)
        self._cache = (key, samples)
        return samples

    @property
    def audio_ms(self) -> float:
        """Length of the item's audio in ms from exact byte counts (retained or not)."""
        ms = self.audio_bytes_received / _BYTES_PER_MS
        if self.truncated_at_ms is not None:
            ms = min(ms, float(self.truncated_at_ms))
        return ms

    @property
    def audio_retained_ms(self) -> float:
        return self._retained / _BYTES_PER_MS


@dataclass(slots=True)
class ResponseState:
    """One response as announced by ``response.created`` and closed by ``response.done``."""

    id: str
    status: str | None = None
    status_details: dict[str, Any] | None = None
    output_item_ids: list[str] = field(default_factory=list)
    usage: dict[str, Any] | None = None
    conversation_id: str | None = None
    metadata: dict[str, Any] | None = None
    created_t: float | None = None
    done_t: float | None = None
    first_audio_t: float | None = None
    first_text_t: float | None = None
    error: dict[str, Any] | None = None
    out_of_band: bool = False  #: created with ``conversation_id: null`` (``conversation:"none"``)


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
        text = "".join(i.text for i in messages)
        transcript = "".join(i.transcript for i in messages)
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


# --- handlers: one small function per event type ------------------------------------------------
Handler = Callable[[Conversation, dict[str, Any], bytes | None, float], None]


def _on_session(c: Conversation, e: dict[str, Any], audio: bytes | None, t: float) -> None:
    session = _dict(e.get("session"))
    if session is None:
        c.malformed_event_count += 1
        return
    c.session = session
    audio_config = _dict(session.get("audio")) or {}
    audio_in = _dict(audio_config.get("input")) or {}
    c._vad_on = bool(audio_in.get("turn_detection", session.get("turn_detection")))


def _on_conversation_created(
    c: Conversation, e: dict[str, Any], audio: bytes | None, t: float
) -> None:
    conv = _dict(e.get("conversation"))
    c.conversation_id = _str(conv.get("id")) if conv else None


def _on_item(c: Conversation, e: dict[str, Any], audio: bytes | None, t: float) -> None:
    """``conversation.item.added/created/done/retrieved``: insert or update, in order."""
    data = _dict(e.get("item"))
    item_id = _str(data.get("id")) if data else None
    if data is None or item_id is None:
        c.malformed_event_count += 1
        return
    item = c._attach(item_id, e.get("previous_item_id"))
    assert item is not None
    prev = e.get("previous_item_id")
    if isinstance(prev, str):
        item.previous_item_id = prev
    final = e.get("type") != "conversation.item.added"
    c._update_item(item, data, final)
    if e.get("type") == "conversation.item.retrieved" and audio is not None:
        c._set_audio(item, audio)


def _on_item_deleted(c: Conversation, e: dict[str, Any], audio: bytes | None, t: float) -> None:
    item_id = _str(e.get("item_id"))
    if item_id is None:
        c.malformed_event_count += 1
        return
    item = c._by_id.pop(item_id, None) or c._detached.pop(item_id, None)
    c._deleted.add(item_id)
    if item is not None:
        if item in c.items:
            c.items.remove(item)
        c._forget(item)


def _on_item_truncated(c: Conversation, e: dict[str, Any], audio: bytes | None, t: float) -> None:
    item = c.item(_str(e.get("item_id")) or "")
    end_ms = _int(e.get("audio_end_ms"))
    if item is None or end_ms is None or end_ms < 0:
        c.malformed_event_count += 1
        return
    item.truncated_at_ms = end_ms
    keep = end_ms * _BYTES_PER_MS
    if item._retained > keep:
        data = b"".join(item._chunks)[:keep]
        c._retained_total -= item._retained - len(data)
        item._chunks = [data] if data else []
        item._retained = len(data)
        item._cache = None
    c._update_heard(item)


def _on_committed(c: Conversation, e: dict[str, Any], audio: bytes | None, t: float) -> None:
    """Move the committed input span into the user item (created here if not yet added)."""
    item_id = _str(e.get("item_id"))
    if item_id is None:
        c.malformed_event_count += 1
        return
    item = c._by_id.get(item_id)
    if item is None:
        item = c._attach(item_id, e.get("previous_item_id"))
        assert item is not None
        item.role, item.status = "user", "completed"
    total = c.input_bytes_total
    lo = c._pending_start
    commit_at = c._commits.popleft() if c._commits else None
    if item.vad_end_ms is not None:
        end = min(max(item.vad_end_ms * _BYTES_PER_MS, lo), total)
    else:
        end = total if commit_at is None else min(max(commit_at, lo), total)
    start = lo
    if item.vad_start_ms is not None:
        start = min(max(item.vad_start_ms * _BYTES_PER_MS, lo), end)
    piece = c._take_pending(start, end)
    c._pending_start = end
    c._speech_open = False
    if end > start:
        c._add_audio(item, piece, end - start)


def _on_cleared(c: Conversation, e: dict[str, Any], audio: bytes | None, t: float) -> None:
    c._speech_open = False
    if c._clears:  # our own clear already dropped the pending input when it was sent
        c._clears -= 1
        return
    c._drop_pending(c.input_bytes_total)


def _on_speech(c: Conversation, e: dict[str, Any], audio: bytes | None, t: float) -> None:
    """``speech_started``/``speech_stopped``/``timeout_triggered``: VAD times for the user item."""
    item_id = _str(e.get("item_id"))
    type_ = e.get("type")
    if type_ == "input_audio_buffer.speech_started":
        c.user_speaking = c._speech_open = True
    elif type_ == "input_audio_buffer.speech_stopped":
        c.user_speaking = False
    if item_id is None:
        c.malformed_event_count += 1
        return
    start, end = _int(e.get("audio_start_ms")), _int(e.get("audio_end_ms"))
    item = c._by_id.get(item_id)
    if item is not None:
        if start is not None:
            item.vad_start_ms = start
        if end is not None:
            item.vad_end_ms = end
        return
    slot = c._vad_slot(item_id)
    if start is not None:
        slot[0] = start
    if end is not None:
        slot[1] = end


def _on_transcription(c: Conversation, e: dict[str, Any], audio: bytes | None, t: float) -> None:
    """``input_audio_transcription.delta/completed/failed``: the user's words."""
    item = c._ensure(e.get("item_id"), None, "message", "user")
    if item is None:
        return
    type_ = e.get("type")
    if type_ == "conversation.item.input_audio_transcription.delta":
        delta = _str(e.get("delta"))
        if delta and not item.transcript_final:
            item.transcript += delta
    elif type_ == "conversation.item.input_audio_transcription.completed":
        transcript = _str(e.get("transcript"))
        if transcript is not None:
            item.transcript = transcript
            item.transcript_final = True
        item.transcription_usage = _dict(e.get("usage"))
    else:
        item.transcription_error = _dict(e.get("error")) or {"message": "transcription failed"}


def _on_response(c: Conversation, e: dict[str, Any], audio: bytes | None, t: float) -> None:
    """``response.created`` / ``response.done``."""
    r = _dict(e.get("response"))
    rid = _str(r.get("id")) if r else None
    if r is None or rid is None:
        c.malformed_event_count += 1
        return
    state = c.responses.get(rid)
    if state is None:
        state = c.responses[rid] = ResponseState(id=rid)
    done = e.get("type") == "response.done"
    if isinstance(r.get("status"), str):
        state.status = r["status"]
    if "status_details" in r:
        state.status_details = _dict(r.get("status_details"))
        state.error = _dict((state.status_details or {}).get("error"))
    if "usage" in r:
        state.usage = _dict(r.get("usage"))
    if "metadata" in r:
        state.metadata = _dict(r.get("metadata"))
    if "conversation_id" in r:
        state.conversation_id = _str(r.get("conversation_id"))
        if not done:
            state.out_of_band = r.get("conversation_id") is None
    if done:
        state.done_t = t
        if c.active_response_id == rid:
            c.active_response_id = None
        output = r.get("output")
        for out in output if isinstance(output, list) else ():
            out_id = _str(out.get("id")) if isinstance(out, dict) else None
            item = c.item(out_id) if out_id else None
            if item is not None:
                c._update_item(item, out, True)
                c._link(item, rid)
            elif out_id and out_id not in state.output_item_ids:
                state.output_item_ids.append(out_id)
    else:
        if state.created_t is None:
            state.created_t = t
        if state.done_t is None:
            c.active_response_id = rid


def _on_output_item(c: Conversation, e: dict[str, Any], audio: bytes | None, t: float) -> None:
    """``response.output_item.added/done``."""
    data = _dict(e.get("item"))
    if data is None:
        c.malformed_event_count += 1
        return
    kind = _str(data.get("type")) or "message"
    item = c._ensure(data.get("id"), e.get("response_id"), kind, _str(data.get("role")))
    if item is not None:
        c._update_item(item, data, e.get("type") == "response.output_item.done")


def _on_content_part(c: Conversation, e: dict[str, Any], audio: bytes | None, t: float) -> None:
    """``response.content_part.added/done``: the part at ``content_index``."""
    part = _dict(e.get("part"))
    index = _int(e.get("content_index"))
    item = c._ensure(e.get("item_id"), e.get("response_id"), "message", "assistant")
    if item is None or part is None or index is None or index < 0:
        if item is not None:
            c.malformed_event_count += 1
        return
    if isinstance(part.get("audio"), str):
        part = {k: v for k, v in part.items() if k != "audio"}
    else:
        part = dict(part)
    if index < len(item.content):
        item.content[index] = part
    else:
        item.content.append(part)
    if e.get("type") == "response.content_part.done":
        transcript, text = _str(part.get("transcript")), _str(part.get("text"))
        if transcript:
            c._set_transcript(item, transcript, True)
        if text:
            item.text = text


def _state(c: Conversation, e: dict[str, Any]) -> ResponseState | None:
    response_id = e.get("response_id")
    return c.responses.get(response_id) if isinstance(response_id, str) else None


def _first_text(c: Conversation, e: dict[str, Any], t: float) -> None:
    state = _state(c, e)
    if state is not None and state.first_text_t is None:
        state.first_text_t = t


def _on_text_delta(c: Conversation, e: dict[str, Any], audio: bytes | None, t: float) -> None:
    item = c._ensure(e.get("item_id"), e.get("response_id"), "message", "assistant")
    delta = _str(e.get("delta"))
    if item is not None and delta:
        item.text += delta
        _first_text(c, e, t)


def _on_text_done(c: Conversation, e: dict[str, Any], audio: bytes | None, t: float) -> None:
    item = c._ensure(e.get("item_id"), e.get("response_id"), "message", "assistant")
    text = _str(e.get("text"))
    if item is not None and text is not None:
        item.text = text


def _on_transcript_delta(c: Conversation, e: dict[str, Any], audio: bytes | None, t: float) -> None:
    item = c._ensure(e.get("item_id"), e.get("response_id"), "message", "assistant")
    delta = _str(e.get("delta"))
    if item is not None and delta and not item.transcript_final:
        item.transcript += delta
        if item.truncated_at_ms is not None:
            c._update_heard(item)
        _first_text(c, e, t)


def _on_transcript_done(c: Conversation, e: dict[str, Any], audio: bytes | None, t: float) -> None:
    item = c._ensure(e.get("item_id"), e.get("response_id"), "message", "assistant")
    transcript = _str(e.get("transcript"))
    if item is not None and transcript is not None:
        c._set_transcript(item, transcript, True)


def _on_audio_delta(c: Conversation, e: dict[str, Any], audio: bytes | None, t: float) -> None:
    item = c._ensure(e.get("item_id"), e.get("response_id"), "message", "assistant")
    if item is None:
        return
    if audio is None:  # not decoded by the caller: decode here, or count a marker's bytes
        delta = e.get("delta")
        if isinstance(delta, str):
            try:
                audio = b64decode_audio(delta)
            except AudioFormatError:
                c.malformed_event_count += 1
                return
        elif isinstance(delta, dict):
            n = _int(delta.get("audio_bytes"))
            if n is not None and n > 0:
                c._add_audio(item, b"", n)
            return
        else:
            return
    c._add_audio(item, audio)
    state = _state(c, e)
    if state is not None and state.first_audio_t is None:
        state.first_audio_t = t


def _on_arguments(c: Conversation, e: dict[str, Any], audio: bytes | None, t: float) -> None:
    """``response.function_call_arguments.delta/done``."""
    item = c._ensure(e.get("item_id"), e.get("response_id"), "function_call", None)
    if item is None:
        return
    call_id = _str(e.get("call_id"))
    if call_id:
        item.call_id = call_id
    if e.get("type") == "response.function_call_arguments.delta":
        delta = _str(e.get("delta"))
        if delta:
            item.arguments = (item.arguments or "") + delta
    else:
        arguments, name = _str(e.get("arguments")), _str(e.get("name"))
        if arguments is not None:
            item.arguments = arguments
        if name:
            item.name = name


def _on_error(c: Conversation, e: dict[str, Any], audio: bytes | None, t: float) -> None:
    err = e.get("error")
    c.errors.append(err if isinstance(err, dict) else {"message": repr(err)})
    if len(c.errors) > _MAX_ERRORS:
        del c.errors[0]


def _on_rate_limits(c: Conversation, e: dict[str, Any], audio: bytes | None, t: float) -> None:
    limits = e.get("rate_limits")
    if isinstance(limits, list):
        c.rate_limits = limits


#: Server event type → handler. Types in protocol.SERVER_EVENT_TYPES that are missing here
#: (output_audio.done, MCP progress, DTMF, WebRTC buffer events…) change no state.
_SERVER_HANDLERS: dict[str, Handler] = {
    "session.created": _on_session,
    "session.updated": _on_session,
    "conversation.created": _on_conversation_created,
    "conversation.item.added": _on_item,
    "conversation.item.created": _on_item,
    "conversation.item.done": _on_item,
    "conversation.item.retrieved": _on_item,
    "conversation.item.deleted": _on_item_deleted,
    "conversation.item.truncated": _on_item_truncated,
    "conversation.item.input_audio_transcription.delta": _on_transcription,
    "conversation.item.input_audio_transcription.completed": _on_transcription,
    "conversation.item.input_audio_transcription.failed": _on_transcription,
    "input_audio_buffer.committed": _on_committed,
    "input_audio_buffer.cleared": _on_cleared,
    "input_audio_buffer.speech_started": _on_speech,
    "input_audio_buffer.speech_stopped": _on_speech,
    "input_audio_buffer.timeout_triggered": _on_speech,
    "response.created": _on_response,
    "response.done": _on_response,
    "response.output_item.added": _on_output_item,
    "response.output_item.done": _on_output_item,
    "response.content_part.added": _on_content_part,
    "response.content_part.done": _on_content_part,
    "response.output_text.delta": _on_text_delta,
    "response.output_text.done": _on_text_done,
    "response.output_audio_transcript.delta": _on_transcript_delta,
    "response.output_audio_transcript.done": _on_transcript_done,
    "response.output_audio.delta": _on_audio_delta,
    "response.function_call_arguments.delta": _on_arguments,
    "response.function_call_arguments.done": _on_arguments,
    "error": _on_error,
    "rate_limits.updated": _on_rate_limits,
}

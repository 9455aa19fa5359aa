"""What the conversation is made of: items (with their audio) and responses, as last seen."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..audio import PCM16_BYTES_PER_MS

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

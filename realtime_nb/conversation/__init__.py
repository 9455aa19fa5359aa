"""Conversation state: items, responses and audio, rebuilt from the events of one session.

Modules: ``items`` (ConversationItem, ResponseState), ``state`` (:class:`Conversation`),
``handlers`` (one function per server event type, in the table ``_SERVER_HANDLERS``).

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

Events are never mutated (the event log holds the same dicts). Pure: no I/O, no clock."""

from __future__ import annotations

from .handlers import (  # noqa: F401
    _SERVER_HANDLERS,
    Handler,
    _first_text,
    _on_arguments,
    _on_audio_delta,
    _on_cleared,
    _on_committed,
    _on_content_part,
    _on_conversation_created,
    _on_error,
    _on_item,
    _on_item_deleted,
    _on_item_truncated,
    _on_output_item,
    _on_rate_limits,
    _on_response,
    _on_session,
    _on_speech,
    _on_text_delta,
    _on_text_done,
    _on_transcript_delta,
    _on_transcript_done,
    _on_transcription,
    _state,
)
from .items import (  # noqa: F401
    _AUDIO_PARTS,
    _BYTES_PER_MS,
    _BYTES_PER_SECOND,
    _COMPACT_CHUNKS,
    _EMPTY,
    _MAX_ERRORS,
    _MAX_VAD_PENDING,
    _TEXT_PARTS,
    _VAD_IDLE_KEEP_BYTES,
    ConversationItem,
    ResponseState,
    _dict,
    _int,
    _str,
)
from .state import (
    Conversation,
)

__all__ = [
    "Conversation",
    "ConversationItem",
    "Handler",
    "ResponseState",
]

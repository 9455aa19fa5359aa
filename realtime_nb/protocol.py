"""The Realtime wire protocol as data: event names, ids and client-event builders.

Pure: no I/O, no clock. Events stay the plain dicts that ``json.loads`` produced (fast and
forward-compatible: an unknown type passes through untouched). Facts and sources are in
``shared/realtime-protocol.md``; section numbers below refer to it.
"""

from __future__ import annotations

import random
import string
from typing import TYPE_CHECKING, Any, Literal, NotRequired, TypedDict

#: The Realtime wire rate for PCM16: the only rate the API accepts for ``audio/pcm``. Every other
#: module takes it from here (``audio.SAMPLE_RATE`` is the same object).
SAMPLE_RATE: int = 24_000

# --- §2: the 11 GA client events -------------------------------------------------------------
CLIENT_EVENT_TYPES: frozenset[str] = frozenset(
    {
        "session.update",
        "input_audio_buffer.append",
        "input_audio_buffer.commit",
        "input_audio_buffer.clear",
        "conversation.item.create",
        "conversation.item.retrieve",
        "conversation.item.truncate",
        "conversation.item.delete",
        "response.create",
        "response.cancel",
        "output_audio_buffer.clear",
    }
)

# --- §3: GA server events (the openai-python RealtimeServerEvent union) ----------------------
SERVER_EVENT_TYPES: frozenset[str] = frozenset(
    {
        "error",
        "session.created",
        "session.updated",
        "conversation.created",
        "conversation.item.added",
        "conversation.item.done",
        "conversation.item.created",
        "conversation.item.retrieved",
        "conversation.item.truncated",
        "conversation.item.deleted",
        "conversation.item.input_audio_transcription.delta",
        "conversation.item.input_audio_transcription.completed",
        "conversation.item.input_audio_transcription.failed",
        "conversation.item.input_audio_transcription.segment",
        "input_audio_buffer.committed",
        "input_audio_buffer.cleared",
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.timeout_triggered",
        "input_audio_buffer.dtmf_event_received",
        "response.created",
        "response.done",
        "response.output_item.added",
        "response.output_item.done",
        "response.content_part.added",
        "response.content_part.done",
        "response.output_text.delta",
        "response.output_text.done",
        "response.output_audio.delta",
        "response.output_audio.done",
        "response.output_audio_transcript.delta",
        "response.output_audio_transcript.done",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.mcp_call_arguments.delta",
        "response.mcp_call_arguments.done",
        "response.mcp_call.in_progress",
        "response.mcp_call.completed",
        "response.mcp_call.failed",
        "mcp_list_tools.in_progress",
        "mcp_list_tools.completed",
        "mcp_list_tools.failed",
        "rate_limits.updated",
        "output_audio_buffer.started",
        "output_audio_buffer.stopped",
        "output_audio_buffer.cleared",
    }
)

# Where base64 audio travels, by event type (the event log and session decode it once).
AUDIO_DELTA_FIELD: dict[str, str] = {
    "input_audio_buffer.append": "audio",
    "response.output_audio.delta": "delta",
}

VOICES: tuple[str, ...] = (
    "alloy",
    "ash",
    "ballad",
    "coral",
    "echo",
    "sage",
    "shimmer",
    "verse",
    "marin",
    "cedar",
)

# Close codes the real service uses (§1.4, §5g).
CLOSE_AUTH_FAILED = 3000
CLOSE_BAD_REQUEST = 4000
CLOSE_EXPIRED = 1001


# --- shapes the code reads (TypedDicts describe, dicts stay dicts) ---------------------------
class ErrorDetail(TypedDict):
    type: str
    code: str | None
    message: str
    param: str | None
    event_id: str | None


class ErrorEvent(TypedDict):
    type: Literal["error"]
    event_id: str
    error: ErrorDetail


class TurnDetection(TypedDict, total=False):
    type: Literal["server_vad", "semantic_vad"]
    threshold: float
    prefix_padding_ms: int
    silence_duration_ms: int
    idle_timeout_ms: int | None
    eagerness: Literal["low", "medium", "high", "auto"]
    create_response: bool
    interrupt_response: bool


class ContentPart(TypedDict, total=False):
    type: str
    text: str
    audio: str
    transcript: str | None


class Item(TypedDict, total=False):
    id: str
    object: str
    type: str
    status: str
    role: str
    content: list[ContentPart]
    call_id: str
    name: str
    arguments: str
    output: str


class ServerEvent(TypedDict, total=False):
    type: str
    event_id: str
    item_id: NotRequired[str]
    response_id: NotRequired[str]


# --- §7: ids -----------------------------------------------------------------------------------
_ALPHABET = string.ascii_letters + string.digits  # base-62


class IdFactory:
    """Make ids with the real prefixes: ``event_``/``sess_``/``item_``/``resp_`` + 21 base-62.

    Pass ``seed`` for deterministic ids in tests; ``call_`` ids have 16 characters, as observed.
    """

    def __init__(self, seed: int | None = None) -> None:
        self._rng = random.Random(seed)

    def new(self, prefix: str, length: int = 21) -> str:
        return prefix + "_" + "".join(self._rng.choices(_ALPHABET, k=length))

    def event(self) -> str:
        return self.new("event")

    def item(self) -> str:
        return self.new("item")

    def response(self) -> str:
        return self.new("resp")

    def call(self) -> str:
        return self.new("call", 16)


# --- client-event builders (§2) ---------------------------------------------------------------
def _event(type_: str, event_id: str | None, **fields: Any) -> dict[str, Any]:
    event: dict[str, Any] = {"type": type_}
    if event_id is not None:
        event["event_id"] = event_id
    event.update({k: v for k, v in fields.items() if v is not None})
    return event


def session_update(session: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    """``session.update``; adds ``type: "realtime"`` when missing, since GA requires it."""
    body = dict(session)
    body.setdefault("type", "realtime")
    return _event("session.update", event_id, session=body)


def input_audio_append(audio_b64: str, event_id: str | None = None) -> dict[str, Any]:
    return _event("input_audio_buffer.append", event_id, audio=audio_b64)


def input_audio_commit(event_id: str | None = None) -> dict[str, Any]:
    return _event("input_audio_buffer.commit", event_id)


def input_audio_clear(event_id: str | None = None) -> dict[str, Any]:
    return _event("input_audio_buffer.clear", event_id)


def item_create(
    item: dict[str, Any], previous_item_id: str | None = None, event_id: str | None = None
) -> dict[str, Any]:
    return _event(
        "conversation.item.create", event_id, previous_item_id=previous_item_id, item=item
    )


def item_retrieve(item_id: str, event_id: str | None = None) -> dict[str, Any]:
    return _event("conversation.item.retrieve", event_id, item_id=item_id)


def item_truncate(
    item_id: str, audio_end_ms: int, content_index: int = 0, event_id: str | None = None
) -> dict[str, Any]:
    """``conversation.item.truncate``; ``audio_end_ms`` must be a non-negative integer."""
    return _event(
        "conversation.item.truncate",
        event_id,
        item_id=item_id,
        content_index=content_index,
        audio_end_ms=int(audio_end_ms),
    )


def item_delete(item_id: str, event_id: str | None = None) -> dict[str, Any]:
    return _event("conversation.item.delete", event_id, item_id=item_id)


def response_create(
    response: dict[str, Any] | None = None, event_id: str | None = None
) -> dict[str, Any]:
    return _event("response.create", event_id, response=response)


def response_cancel(response_id: str | None = None, event_id: str | None = None) -> dict[str, Any]:
    return _event("response.cancel", event_id, response_id=response_id)


def user_text_item(text: str, item_id: str | None = None) -> dict[str, Any]:
    """A user message item holding one ``input_text`` part."""
    item: dict[str, Any] = {
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": text}],
    }
    if item_id is not None:
        item["id"] = item_id
    return item


def user_audio_item(audio_b64: str, transcript: str | None = None) -> dict[str, Any]:
    part: dict[str, Any] = {"type": "input_audio", "audio": audio_b64}
    if transcript is not None:
        part["transcript"] = transcript
    return {"type": "message", "role": "user", "content": [part]}


def function_call_output_item(call_id: str, output: str) -> dict[str, Any]:
    return {"type": "function_call_output", "call_id": call_id, "output": output}


def error_event(
    event_id: str,
    message: str,
    code: str | None = None,
    param: str | None = None,
    client_event_id: str | None = None,
    error_type: str = "invalid_request_error",
) -> dict[str, Any]:
    """A server ``error`` event in the real shape (§5g)."""
    return {
        "type": "error",
        "event_id": event_id,
        "error": {
            "type": error_type,
            "code": code,
            "message": message,
            "param": param,
            "event_id": client_event_id,
        },
    }


# --- §4.4: session shapes ---------------------------------------------------------------------
def deep_merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """``update`` laid over ``base`` the way ``session.update`` does: nested dicts merge."""
    out = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def event_ids(event: dict[str, Any]) -> tuple[str | None, str | None]:
    """The ``(item_id, response_id)`` an event is about, wherever the protocol puts them."""
    item_id = event.get("item_id")
    response_id = event.get("response_id")
    item = event.get("item")
    if item_id is None and isinstance(item, dict):
        item_id = item.get("id")
    response = event.get("response")
    if response_id is None and isinstance(response, dict):
        response_id = response.get("id")
    return item_id, response_id


# --- the beta ⇄ GA mapping lives in beta.py; its former names here keep working ----------------
#: Old name here → name in :mod:`realtime_nb.beta`. Resolved on first use, because ``beta``
#: imports ``SAMPLE_RATE`` from this module (a top-level import would be a cycle).
_MOVED_TO_BETA: dict[str, str] = {
    "BETA_TO_GA_EVENT": "EVENT_NAMES",
    "GA_TO_BETA_EVENT": "EVENT_NAMES_TO_BETA",
    "BETA_TO_GA_CONTENT": "CONTENT_TYPES",
    "GA_TO_BETA_CONTENT": "CONTENT_TYPES_TO_BETA",
    "format_to_ga": "format_to_ga",
    "format_to_beta": "format_to_beta",
    "is_beta_session": "is_beta_session",
    "session_beta_to_ga": "session_to_ga",
    "session_ga_to_beta": "session_to_beta",
    "normalize_server_event": "normalize_server_event",
    "to_beta_server_event": "to_beta_server_event",
}

if TYPE_CHECKING:
    # For the type checker; at run time ``__getattr__`` below resolves them.
    from .beta import CONTENT_TYPES as BETA_TO_GA_CONTENT  # noqa: F401
    from .beta import CONTENT_TYPES_TO_BETA as GA_TO_BETA_CONTENT  # noqa: F401
    from .beta import EVENT_NAMES as BETA_TO_GA_EVENT  # noqa: F401
    from .beta import EVENT_NAMES_TO_BETA as GA_TO_BETA_EVENT  # noqa: F401
    from .beta import (  # noqa: F401 (re-exported for old callers)
        format_to_beta,
        format_to_ga,
        is_beta_session,
        normalize_server_event,
        to_beta_server_event,
    )
    from .beta import session_to_beta as session_ga_to_beta  # noqa: F401
    from .beta import session_to_ga as session_beta_to_ga  # noqa: F401
else:

    def __getattr__(name: str) -> Any:
        """The beta-mapping names that used to live here, from :mod:`realtime_nb.beta`."""
        if name in _MOVED_TO_BETA:
            from . import beta

            return getattr(beta, _MOVED_TO_BETA[name])
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

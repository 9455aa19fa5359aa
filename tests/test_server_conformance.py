"""Conformance oracle for the stand-in: every event it emits must be a valid openai-python model.

openai's models accept unknown fields, so besides validating we walk the model and reject any
field the official schema does not define. The only fields allowed beyond the schema are the
ones the live service is observed to send and the SDK type lacks (realtime-protocol.md §4.1):
``id``, ``object``, ``expires_at`` (and ``model`` in beta) of a session object.

The helpers here are imported by ``test_server_state.py`` and ``test_server.py``, which run
every event they see through :func:`conform`; the test below drives one session through every
event type the server can emit.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
from openai.types.beta.realtime import RealtimeServerEvent as BetaServerEvent
from pydantic import TypeAdapter

from realtime_nb import audio
from realtime_nb.server import Reply, scripted
from realtime_nb.server.state import ConnectRequest, RealtimeServerProtocol, ServerConfig
from realtime_nb.synth import utterance
from tests.schema import SERVER_EVENTS, _extras

BETA_EVENTS: TypeAdapter[Any] = TypeAdapter(BetaServerEvent)

#: Observed on the wire, absent from the SDK's session types.
ALLOWED_EXTRAS = frozenset(
    f"{event}.session.{field}"
    for event in ("SessionCreatedEvent", "SessionUpdatedEvent")
    for field in ("id", "object", "expires_at", "model")
)

#: Every event type the stand-in emits over a WebSocket in GA mode.
GA_EMITTED = frozenset(
    {
        "error", "session.created", "session.updated",
        "conversation.item.added", "conversation.item.done", "conversation.item.retrieved",
        "conversation.item.truncated", "conversation.item.deleted",
        "conversation.item.input_audio_transcription.delta",
        "conversation.item.input_audio_transcription.completed",
        "conversation.item.input_audio_transcription.failed",
        "input_audio_buffer.committed", "input_audio_buffer.cleared",
        "input_audio_buffer.speech_started", "input_audio_buffer.speech_stopped",
        "input_audio_buffer.timeout_triggered",
        "response.created", "response.done",
        "response.output_item.added", "response.output_item.done",
        "response.content_part.added", "response.content_part.done",
        "response.output_text.delta", "response.output_text.done",
        "response.output_audio.delta", "response.output_audio.done",
        "response.output_audio_transcript.delta", "response.output_audio_transcript.done",
        "response.function_call_arguments.delta", "response.function_call_arguments.done",
        "rate_limits.updated",
        "mcp_list_tools.in_progress", "mcp_list_tools.completed", "mcp_list_tools.failed",
        "response.mcp_call.in_progress", "response.mcp_call_arguments.delta",
        "response.mcp_call_arguments.done", "response.mcp_call.completed",
        "response.mcp_call.failed",
    }
)  # fmt: skip


def validate(event: dict[str, Any], beta: bool = False) -> None:
    """Validate one server event strictly (GA or beta union); raise AssertionError if not."""
    json.dumps(event)  # must be plain JSON
    adapter = BETA_EVENTS if beta else SERVER_EVENTS
    model = adapter.validate_python(event)
    extras = [e for e in _extras(model, type(model).__name__) if e not in ALLOWED_EXTRAS]
    assert not extras, f"{event['type']}: fields unknown to the official schema: {extras}"
    assert event["event_id"].startswith("event_") and len(event["event_id"]) == 27


def conform(events: list[dict[str, Any]], beta: bool = False) -> list[dict[str, Any]]:
    """Validate every event (see :func:`validate`) and return the list unchanged."""
    for event in events:
        validate(event, beta)
    return events


def append(pcm: np.ndarray, fmt: str = "pcm16") -> dict[str, Any]:
    return {
        "type": "input_audio_buffer.append",
        "audio": audio.b64encode_audio(audio.encode_for_format(pcm, fmt)),
    }


def test_allowed_extras_are_only_the_observed_session_fields() -> None:
    event = {
        "type": "session.created",
        "event_id": "event_" + "a" * 21,
        "session": {
            "type": "realtime",
            "id": "sess_x",
            "object": "realtime.session",
            "expires_at": 1,
            "invented": True,
        },
    }
    try:
        validate(event)
    except AssertionError as exc:
        assert "invented" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("an invented field passed")


def test_every_event_type_the_server_emits_is_schema_valid() -> None:
    """One session through every GA event type the stand-in can emit (an oracle sweep)."""
    replies = [
        "Hello there, this is a scripted reply.",
        Reply(text="Let me check.", function_calls=[("get_weather", '{"city":"Paris"}')]),
        Reply(text="A long answer " * 20),
        Reply(text="Asking the tools.", mcp_calls=[("add", {"a": 1, "b": 2}), ("fail", {})]),
    ]
    state = RealtimeServerProtocol(
        ConnectRequest("/v1/realtime?model=gpt-realtime"),
        ServerConfig(audio_speed=math.inf, seed=3),
        responder=scripted(replies),
    )
    seen: list[dict[str, Any]] = list(state.open(0.0, 1e9))

    def send(event: dict[str, Any], now: float = 0.0) -> list[dict[str, Any]]:
        out = state.receive_event(event, now)
        seen.extend(out)
        return out

    send(
        {
            "type": "session.update",
            "session": {
                "type": "realtime",
                "audio": {
                    "input": {
                        "transcription": {"model": "whisper-1"},
                        "turn_detection": {"type": "server_vad", "idle_timeout_ms": 5000},
                    }
                },
            },
        }
    )
    out = send(append(utterance(1.0, 0.5, 0.6, seed=1)))
    user_item = next(e["item_id"] for e in out if e["type"] == "input_audio_buffer.committed")
    assistant = next(e["item"]["id"] for e in out if e["type"] == "response.output_item.added")
    send(
        {
            "type": "conversation.item.truncate",
            "item_id": assistant,
            "content_index": 0,
            "audio_end_ms": 100,
        }
    )
    send({"type": "conversation.item.retrieve", "item_id": user_item})
    send({"type": "session.update", "session": {"type": "realtime", "output_modalities": ["text"]}})
    send({"type": "response.create"})  # text reply with a function call
    seen.extend(state.poll(100.0))  # idle timeout → timeout_triggered + a response
    send({"type": "input_audio_buffer.clear"})
    mcp = {"type": "mcp", "server_label": "calc", "server_url": "https://mcp.example.com/"}
    down = {"type": "mcp", "server_label": "down", "server_url": "https://mcp.example.invalid/"}
    send({"type": "session.update", "session": {"type": "realtime", "tools": [mcp, down]}})
    seen.extend(state.poll(200.0))  # the idle-timeout response has finished
    send({"type": "response.create"}, 200.0)  # two MCP calls: one completes, one fails
    send({"type": "conversation.item.delete", "item_id": user_item})
    send({"type": "response.create"})  # the script is exhausted: a failed response
    send({"type": "nope"})
    state.transcriber = lambda pcm: 1 / 0  # a broken transcriber: transcription.failed
    send(
        {
            "type": "session.update",
            "session": {"type": "realtime", "audio": {"input": {"turn_detection": None}}},
        }
    )
    send(append(np.zeros(2400, np.int16)))
    send({"type": "input_audio_buffer.commit"})
    conform(seen)
    types = {e["type"] for e in seen}
    assert types == GA_EMITTED, (GA_EMITTED - types, types - GA_EMITTED)

"""The stand-in's protocol state machine, synchronously, section by section of realtime-protocol.md.

No sockets and no real clock: a :class:`Harness` feeds client events with a fake ``now`` and
checks every server event it gets back against the official schema (:func:`conform`).
"""

from __future__ import annotations

import base64
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from realtime_nb import audio, protocol
from realtime_nb.server import Reply, echo, scripted
from realtime_nb.server.responders import ResponderContext, ScriptExhausted, as_reply, load_script
from realtime_nb.server.state import (
    ConnectRequest,
    RealtimeServerProtocol,
    ServerConfig,
    split_words,
)
from realtime_nb.server.vad import EnergyVad, VadSettings, threshold_to_level
from realtime_nb.synth import speech_like, utterance
from tests.test_purity import violations
from tests.test_server_conformance import append, conform

INF = math.inf
WALL = 1_767_229_435.0
SESSION_KEYS = [
    "type", "object", "id", "model", "output_modalities", "instructions", "tools", "tool_choice",
    "max_output_tokens", "tracing", "truncation", "prompt", "expires_at", "audio", "include",
]  # fmt: skip


class Harness:
    """One connection's state machine with a fake clock; every event out is schema-checked."""

    def __init__(
        self,
        path: str = "/v1/realtime?model=gpt-realtime",
        headers: dict[str, str] | None = None,
        subprotocols: tuple[str, ...] = (),
        *,
        speed: float = INF,
        responder: Any = None,
        session: dict[str, Any] | None = None,
        **config: Any,
    ) -> None:
        cfg = ServerConfig(audio_speed=speed, seed=config.pop("seed", 7), **config)
        self.st = RealtimeServerProtocol(
            ConnectRequest(path, headers or {}, subprotocols), cfg, responder=responder
        )
        self.now = 0.0
        created = self.st.open(0.0, WALL)
        self.beta = self.st.beta
        self.created = self._check(created)
        if session is not None:
            out = self.send(type="session.update", session={"type": "realtime", **session})
            assert types(out) == ["session.updated"], out

    def _check(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return conform(events, beta=self.beta)

    def send(self, **event: Any) -> list[dict[str, Any]]:
        return self._check(self.st.receive_event(event, self.now))

    def text(self, frame: str) -> list[dict[str, Any]]:
        return self._check(self.st.receive_text(frame, self.now))

    def audio(self, pcm: np.ndarray, chunk_ms: int = 20, fmt: str = "pcm16") -> list[dict]:
        """Append ``pcm`` (24 kHz int16) in chunks, as a microphone would; all events out."""
        out: list[dict[str, Any]] = []
        step = chunk_ms * 24
        for i in range(0, len(pcm), step):
            out += self.send(**append(pcm[i : i + step], fmt))
        return out

    def advance(self, seconds: float) -> list[dict[str, Any]]:
        self.now += seconds
        return self._check(self.st.poll(self.now))

    def say(self, text: str, **response: Any) -> list[dict[str, Any]]:
        out = self.send(type="conversation.item.create", item=protocol.user_text_item(text))
        params = {"response": response} if response else {}
        return out + self.send(type="response.create", **params)


def types(events: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in events]


def first(events: list[dict[str, Any]], type_: str) -> dict[str, Any]:
    return next(e for e in events if e["type"] == type_)


def error_of(events: list[dict[str, Any]]) -> dict[str, Any]:
    assert types(events) == ["error"], types(events)
    return events[0]["error"]


def is_id(value: Any, prefix: str, length: int = 21) -> bool:
    return (
        isinstance(value, str)
        and value.startswith(prefix + "_")
        and len(value) == len(prefix) + 1 + length
    )


def pcm_of(events: list[dict[str, Any]], fmt: str = "pcm16") -> bytes:
    return b"".join(
        base64.b64decode(e["delta"]) for e in events if e["type"] == "response.output_audio.delta"
    )


AUDIO_RESPONSE = [
    "response.created",
    "response.output_item.added",
    "conversation.item.added",
    "response.content_part.added",
    # deltas …
    "response.output_audio.done",
    "response.output_audio_transcript.done",
    "response.content_part.done",
    "conversation.item.done",
    "response.output_item.done",
    "response.done",
    "rate_limits.updated",
]
DELTAS = {
    "response.output_audio.delta",
    "response.output_audio_transcript.delta",
    "response.output_text.delta",
    "response.function_call_arguments.delta",
    "conversation.item.input_audio_transcription.delta",
}


def without_deltas(events: list[dict[str, Any]]) -> list[str]:
    return [t for t in types(events) if t not in DELTAS]


# --- purity -----------------------------------------------------------------------------------
SERVER = Path(__file__).parent.parent / "realtime_nb" / "server"
#: The stand-in's I/O edge: every other module in server/ is sans-I/O.
# tls.py writes a CA file; speech.py runs espeak-ng/pocketsphinx (ctypes, a subprocess, locks)
SERVER_EDGE = {"__init__.py", "__main__.py", "app.py", "tls.py", "speech.py"}
SERVER_CORE = sorted(p.name for p in SERVER.glob("*.py") if p.name not in SERVER_EDGE)


def test_the_server_core_list_has_the_split_modules() -> None:
    assert {"state.py", "connect.py", "session_config.py", "input_buffer.py", "items.py",
            "responses.py", "usage.py", "outbox.py", "vad.py"} <= set(SERVER_CORE)  # fmt: skip


@pytest.mark.parametrize("module", SERVER_CORE)
def test_server_core_is_sans_io(module: str) -> None:
    source = (SERVER / module).read_text()
    found = [v for v in violations(source) if "upper layer" not in v]
    assert not found


# --- §1.4 / §4.1 connect and session.created -------------------------------------------------
def test_session_created_is_first_with_the_exact_default_session() -> None:
    h = Harness()
    assert types(h.created) == ["session.created"]
    session = h.created[0]["session"]
    assert list(session) == SESSION_KEYS
    assert is_id(session["id"], "sess") and session["object"] == "realtime.session"
    assert session["model"] == "gpt-realtime"
    assert session["expires_at"] == int(WALL) + 3600
    assert session["output_modalities"] == ["audio"]
    assert session["max_output_tokens"] == "inf" and session["truncation"] == "auto"
    assert session["audio"] == {
        "input": {
            "format": {"type": "audio/pcm", "rate": 24000},
            "transcription": None,
            "noise_reduction": None,
            "turn_detection": {
                "type": "server_vad",
                "threshold": 0.5,
                "prefix_padding_ms": 300,
                "silence_duration_ms": 200,
                "idle_timeout_ms": None,
                "create_response": True,
                "interrupt_response": True,
            },
        },
        "output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "alloy", "speed": 1.0},
    }
    assert h.st.close is None


def test_transcription_intent_opens_a_transcription_session() -> None:
    h = Harness("/v1/realtime?intent=transcription")
    session = h.created[0]["session"]
    assert session["type"] == "transcription"
    assert session["object"] == "realtime.transcription_session"
    assert list(session) == ["type", "object", "id", "expires_at", "audio", "include"]
    err = error_of(h.send(type="response.create", event_id="ev1"))
    assert err["event_id"] == "ev1" and err["param"] == "type"
    out = h.send(
        type="session.update",
        session={"type": "transcription", "audio": {"input": {"transcription": {"model": "x"}}}},
    )
    assert out[0]["session"]["audio"]["input"]["transcription"] == {
        "model": "x",
        "language": None,
        "prompt": None,
    }
    out = h.audio(utterance(0.8, 0.3, 0.5))
    assert without_deltas(out) == [
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
        "conversation.item.added",
        "conversation.item.done",
        "conversation.item.input_audio_transcription.completed",
    ]
    assert "rate_limits.updated" not in types(out)


@pytest.mark.parametrize(
    ("path", "headers", "subprotocols", "code", "close", "reason"),
    [
        ("/v1/realtime?model=gpt-realtime", {}, (), None, 3000, "invalid_request_error"),
        (
            "/v1/realtime?model=gpt-realtime",
            {"authorization": "Bearer sk-wrong"},
            (),
            "invalid_api_key",
            3000,
            "invalid_request_error.invalid_api_key",
        ),
        (
            "/v1/realtime?model=gpt-nope",
            {"authorization": "Bearer sk-right"},
            (),
            "invalid_model",
            4000,
            "invalid_request_error.invalid_model",
        ),
        (
            "/v1/realtime",
            {"authorization": "Bearer sk-right"},
            (),
            "missing_model",
            4000,
            "invalid_request_error.missing_model",
        ),
        (
            "/v1/realtime?model=gpt-realtime",
            {"authorization": "Bearer sk-right", "openai-beta": "realtime=v1"},
            (),
            "beta_api_shape_disabled",
            4000,
            "invalid_request_error.beta_api_shape_disabled",
        ),
        (
            "/v1/realtime?model=gpt-realtime",
            {},
            ("realtime", "openai-insecure-api-key.sk-bad"),
            "invalid_api_key",
            3000,
            "invalid_request_error.invalid_api_key",
        ),
    ],
)
def test_refusals_are_an_error_then_a_close(
    path: str,
    headers: dict[str, str],
    subprotocols: tuple[str, ...],
    code: str | None,
    close: int,
    reason: str,
) -> None:
    h = Harness(path, headers, subprotocols, api_key="sk-right")
    err = error_of(h.created)
    assert err["code"] == code and err["type"] == "invalid_request_error"
    assert err["event_id"] is None and err["param"] is None
    assert h.st.close is not None and (h.st.close.code, h.st.close.reason) == (close, reason)
    if code is None:
        assert err["message"] == "Missing bearer or basic authentication in header"
    if code == "invalid_api_key":
        assert "sk-bad" not in err["message"] and "sk-wrong" not in err["message"]
    assert h.st.receive_text("{}", 1.0) == []  # a refused connection takes nothing more


@pytest.mark.parametrize(
    ("path", "headers", "subprotocols"),
    [
        ("/v1/realtime?model=gpt-realtime", {"authorization": "Bearer sk-right"}, ()),
        ("/openai/v1/realtime?model=my-deployment", {"api-key": "sk-right"}, ()),
        ("/openai/realtime?api-version=2024-12-17&deployment=d", {"api-key": "sk-right"}, ()),
        ("/openai/v1/realtime?model=dep&api-key=sk-right", {}, ()),
        ("/v1/realtime?model=gpt-realtime", {}, ("realtime", "openai-insecure-api-key.sk-right")),
        ("/v1/realtime?call_id=rtc_123", {"authorization": "Bearer sk-right"}, ()),
    ],
)  # fmt: skip
def test_accepted_credentials_and_routes(
    path: str, headers: dict[str, str], subprotocols: tuple[str, ...]
) -> None:
    h = Harness(path, headers, subprotocols, api_key="sk-right")
    assert types(h.created) == ["session.created"] and h.st.close is None


def test_without_api_key_anything_goes_and_extra_models_are_known() -> None:
    assert types(Harness(headers={"authorization": "Bearer whatever"}).created) == [
        "session.created"
    ]
    h = Harness("/v1/realtime?model=my-local-model", models=frozenset({"my-local-model"}))
    assert h.created[0]["session"]["model"] == "my-local-model"


# --- §4.1 session.update semantics ------------------------------------------------------------
def test_session_update_changes_only_given_fields_and_never_echoes_event_id() -> None:
    h = Harness()
    before = h.created[0]["session"]
    out = h.send(
        type="session.update",
        event_id="client-1",
        session={
            "type": "realtime",
            "instructions": "Be brief.",
            "audio": {
                "output": {"voice": "marin"},
                "input": {"turn_detection": {"type": "server_vad", "threshold": 0.7}},
            },
        },
    )
    assert types(out) == ["session.updated"]
    assert "client-1" not in json.dumps(out)
    after = out[0]["session"]
    assert after["instructions"] == "Be brief."
    assert after["audio"]["output"] == {**before["audio"]["output"], "voice": "marin"}
    td = after["audio"]["input"]["turn_detection"]
    assert td["threshold"] == 0.7 and td["silence_duration_ms"] == 200  # defaults filled
    changed = {k for k in SESSION_KEYS if before[k] != after[k]}
    assert changed == {"instructions", "audio"}
    # "" clears instructions, [] clears tools, null turns VAD off
    out = h.send(
        type="session.update",
        session={
            "type": "realtime",
            "instructions": "",
            "tools": [],
            "audio": {"input": {"turn_detection": None}},
        },
    )
    s = out[0]["session"]
    assert s["instructions"] == "" and s["tools"] == []
    assert s["audio"]["input"]["turn_detection"] is None


BAD_UPDATES = [
    ({}, "missing_required_parameter", "session.type",
     "Missing required parameter: 'session.type'."),
    ({"type": "realtime", "bogus_field": 1}, "unknown_parameter", "session.bogus_field",
     "Unknown parameter: 'session.bogus_field'."),
    ({"type": "realtime", "audio": {"output": {"voice": "nova"}}}, "invalid_value",
     "session.audio.output.voice", "Invalid value: 'nova'. Supported values are: 'alloy', 'ash', "
     "'ballad', 'coral', 'echo', 'sage', 'shimmer', 'verse', 'marin', and 'cedar'."),
    ({"type": "realtime", "output_modalities": ["video"]}, "invalid_value",
     "session.output_modalities[0]", None),
    ({"type": "realtime", "audio": {"input": {"turn_detection": {"type": "magic"}}}},
     "invalid_value", "session.audio.input.turn_detection.type", None),
    ({"type": "realtime", "audio": {"input": {"format": {"type": "audio/mp3"}}}},
     "invalid_value", "session.audio.input.format.type", None),
    ({"type": "realtime", "audio": {"input": {"format": {"type": "audio/pcm", "rate": 16000}}}},
     "integer_below_min_value", "session.audio.input.format.rate",
     "Invalid 'session.audio.input.format.rate': integer below minimum value. Expected a value "
     ">= 24000, but got 16000 instead."),
    ({"type": "realtime", "audio": {"input": {"turn_detection": {"type": "server_vad",
      "threshold": 1.5}}}}, "decimal_above_max_value",
     "session.audio.input.turn_detection.threshold", None),
    ({"type": "realtime", "audio": {"input": {"turn_detection": {"type": "server_vad",
      "threshold": -0.1}}}}, "decimal_below_min_value",
     "session.audio.input.turn_detection.threshold", None),
    ({"type": "realtime", "audio": {"output": {"speed": 2}}}, "decimal_above_max_value",
     "session.audio.output.speed", None),
    ({"type": "realtime", "audio": {"output": {"speed": 0.1}}}, "decimal_below_min_value",
     "session.audio.output.speed", None),
    ({"type": "realtime", "audio": {"input": {"turn_detection": {"type": "server_vad",
      "idle_timeout_ms": 100}}}}, "integer_below_min_value",
     "session.audio.input.turn_detection.idle_timeout_ms", None),
    ({"type": "realtime", "audio": {"input": {"turn_detection": {"type": "server_vad",
      "idle_timeout_ms": 40000}}}}, "integer_above_max_value",
     "session.audio.input.turn_detection.idle_timeout_ms", None),
    ({"type": "realtime", "max_output_tokens": 0}, "integer_below_min_value",
     "session.max_output_tokens", None),
    ({"type": "realtime", "max_output_tokens": 5000}, "integer_above_max_value",
     "session.max_output_tokens", None),
    ({"type": "realtime", "max_output_tokens": "lots"}, "invalid_value",
     "session.max_output_tokens", None),
    ({"type": "realtime", "instructions": 5}, "invalid_type", "session.instructions",
     "Invalid type for 'session.instructions': expected a string, but got an integer instead."),
    ({"type": "realtime", "output_modalities": ["audio", "text"]}, "invalid_value",
     "session.output_modalities", None),
    ({"type": "realtime", "tools": [{"type": "function"}]}, "missing_required_parameter",
     "session.tools[0].name", None),
]  # fmt: skip


@pytest.mark.parametrize(("session", "code", "param", "message"), BAD_UPDATES)
def test_a_bad_session_update_is_discarded_as_a_whole(
    session: dict[str, Any], code: str, param: str, message: str | None
) -> None:
    h = Harness()
    before = h.created[0]["session"]
    bad = {"instructions": "should not stick", **session}
    if "type" not in session:
        bad.pop("instructions")
    err = error_of(h.send(type="session.update", event_id="evt_bad", session=bad))
    assert (err["code"], err["param"], err["event_id"]) == (code, param, "evt_bad")
    assert err["type"] == "invalid_request_error"
    if message is not None:
        assert err["message"] == message
    assert h.st.session == before


def test_the_session_type_cannot_change() -> None:
    h = Harness()
    err = error_of(h.send(type="session.update", session={"type": "transcription"}))
    assert (err["code"], err["param"]) == ("invalid_value", "session.type")


def test_voice_is_fixed_once_the_model_has_spoken() -> None:
    h = Harness()
    h.send(
        type="session.update", session={"type": "realtime", "audio": {"output": {"voice": "coral"}}}
    )
    h.say("hello")
    err = error_of(
        h.send(
            type="session.update",
            event_id="v2",
            session={"type": "realtime", "audio": {"output": {"voice": "echo"}}},
        )
    )
    assert err["event_id"] == "v2" and err["param"] == "session.audio.output.voice"
    assert "voice" in err["message"]
    same = h.send(
        type="session.update", session={"type": "realtime", "audio": {"output": {"voice": "coral"}}}
    )
    assert types(same) == ["session.updated"]


# --- §5g client errors --------------------------------------------------------------------------
CLIENT_ERRORS = [
    ('{"type":"nope","event_id":"e1"}', "invalid_value", "type", "e1",
     "Invalid value: 'nope'. Supported values are: 'session.update', 'input_audio_buffer.append', "
     "'input_audio_buffer.commit', 'input_audio_buffer.clear', 'conversation.item.create', "
     "'conversation.item.truncate', 'conversation.item.delete', 'conversation.item.retrieve', "
     "'response.create', and 'response.cancel'."),
    ("not json", "invalid_json", None, None, "Invalid event: failed to parse JSON value."),
    ('{"event_id":"e2"}', "invalid_event", None, "e2", "The 'type' field is missing."),
    ('{"type":"output_audio_buffer.clear","event_id":"e3"}', "invalid_value", "type", "e3", None),
    ('{"type":"transcription_session.update","session":{}}', "invalid_value", "type", None, None),
    ('{"type":"conversation.item.create","item":{"role":"user"},"event_id":"e4"}',
     "missing_required_parameter", "item.type", "e4", "Missing required parameter: 'item.type'."),
    ('{"type":"conversation.item.create","item":{"type":"function_call_output","output":"x"}}',
     "missing_required_parameter", "item.call_id", None,
     "Missing required parameter: 'item.call_id'."),
    ('{"type":"conversation.item.create","item":{"type":"function_call_output","call_id":"c",'
     '"output":"x","name":"n"}}', "unknown_parameter", "item.name", None,
     "Unknown parameter: 'item.name'."),
    ('{"type":"conversation.item.create","item":{"type":"message","role":"user","content":'
     '"hi"}}', "invalid_type", "item.content", None, None),
    ('{"type":"conversation.item.create","item":{"type":"message","role":"user","content":'
     '[{"type":"output_text","text":"x"}]}}', "invalid_value", "item.content[0].type", None, None),
    ('{"type":"conversation.item.create","item":{"type":"message","role":"assistant","content":'
     '[{"type":"output_audio","audio":"AAAA"}]}}', "invalid_value", "item.content[0].type", None,
     None),
    ('{"type":"conversation.item.create","item":{"id":"' + "x" * 33 + '","type":"message",'
     '"role":"user","content":[]},"event_id":"e5"}', "string_above_max_length", "item.id", "e5",
     "Invalid 'item.id': string too long. Expected a string with maximum length 32, but got a "
     "string with length 33 instead."),
    ('{"type":"conversation.item.retrieve","event_id":"e6"}', "missing_required_parameter",
     "item_id", "e6", None),
    ('{"type":"input_audio_buffer.append"}', "missing_required_parameter", "audio", None, None),
    ('{"type":"input_audio_buffer.append","audio":"!!not base64!!","event_id":"e7"}',
     "invalid_value", "audio", "e7", None),
    ('{"type":"conversation.item.delete","item_id":"item_nope","event_id":"e8"}',
     "item_delete_invalid_item_id", "item_id", "e8",
     "Error deleting item: the item with id 'item_nope' does not exist."),
    ('{"type":"conversation.item.retrieve","item_id":"item_nope"}',
     "item_retrieve_invalid_item_id", "item_id", None, None),
    ('{"type":"conversation.item.truncate","item_id":"item_nope","content_index":0,'
     '"audio_end_ms":10}', "item_truncate_invalid_item_id", "item_id", None, None),
    ('{"type":"conversation.item.create","previous_item_id":"item_nope","item":{"type":"message",'
     '"role":"user","content":[]}}', "item_create_invalid_previous_item_id", "previous_item_id",
     None, None),
    ('{"type":"response.cancel","event_id":"e9"}', "response_cancel_not_active", None, "e9",
     "Cancellation failed: no active response found"),
    ('{"type":"response.create","response":{"conversation":"other"}}', "invalid_value",
     "response.conversation", None, None),
    ('{"type":"response.create","response":{"metadata":{"k":1}}}', "invalid_type",
     "response.metadata.k", None, None),
    ('{"type":"response.create","response":{"input":[{"type":"item_reference","id":"item_x"}]}}',
     "item_reference_invalid_item_id", "response.input[0].id", None, None),
    ('{"type":"input_audio_buffer.commit","event_id":"' + "e" * 513 + '"}',
     "string_above_max_length", "event_id", "e" * 513, None),
    ('["a list"]', "invalid_event", None, None, None),
]  # fmt: skip


@pytest.mark.parametrize(("frame", "code", "param", "event_id", "message"), CLIENT_ERRORS)
def test_client_errors_are_non_fatal_and_blame_the_client_event(
    frame: str, code: str, param: str | None, event_id: str | None, message: str | None
) -> None:
    h = Harness()
    err = error_of(h.text(frame))
    assert (err["code"], err["param"], err["event_id"]) == (code, param, event_id)
    if message is not None:
        assert err["message"].startswith(message)
    assert h.st.close is None
    assert types(h.say("still here")).count("response.done") == 1  # errors are non-fatal


def test_binary_frames_are_refused() -> None:
    h = Harness()
    err = error_of(conform(h.st.receive_bytes(b"\x00\x01", 0.0)))
    assert err["code"] == "invalid_event"
    assert err["message"] == "Expected a text WebSocket message; binary frames are not supported."


def test_append_larger_than_15_mib_is_refused() -> None:
    h = Harness()
    limit = 15 * 1024 * 1024
    err = error_of(
        h.send(type="input_audio_buffer.append", event_id="big", audio="A" * (limit + 4))
    )
    assert (err["code"], err["param"], err["event_id"]) == (
        "string_above_max_length",
        "audio",
        "big",
    )
    assert h.send(type="input_audio_buffer.append", audio="AAAA" * (limit // 4)) == []


def test_response_create_while_active_names_the_response() -> None:
    h = Harness(speed=1.0, responder=scripted([Reply(text="long " * 40)]))
    rid = first(h.send(type="response.create"), "response.created")["response"]["id"]
    err = error_of(h.send(type="response.create", event_id="again"))
    assert err["code"] == "conversation_already_has_active_response"
    assert err["event_id"] == "again"
    assert err["message"] == (
        f"Conversation already has an active response in progress: {rid}. Wait until the "
        "response is finished before creating a new one."
    )


# --- §5b server VAD -----------------------------------------------------------------------------
def test_server_vad_voice_turn_event_by_event() -> None:
    h = Harness()
    out = h.audio(utterance(1.2, lead_silence_s=0.6, tail_silence_s=0.8))
    seq = without_deltas(out)
    assert seq == [
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
        "conversation.item.added",
        "conversation.item.done",
        *AUDIO_RESPONSE,
    ]
    started, stopped, committed, added, done = (first(out, t) for t in seq[:5])
    user = committed["item_id"]
    assert is_id(user, "item")
    assert started["item_id"] == stopped["item_id"] == user == added["item"]["id"]
    assert committed["previous_item_id"] is None and added["previous_item_id"] is None
    assert (
        added["item"]
        == done["item"]
        == {
            "id": user,
            "type": "message",
            "status": "completed",
            "role": "user",
            "content": [{"type": "input_audio", "transcript": None}],
        }
    )
    created = first(out, "response.created")["response"]
    rid = created["id"]
    assert is_id(rid, "resp") and created["status"] == "in_progress"
    assert created["output"] == [] and created["usage"] is None
    assert is_id(created["conversation_id"], "conv")
    assert created["output_modalities"] == ["audio"]
    assert created["audio"] == {
        "output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "alloy"}
    }
    item = first(out, "response.output_item.added")["item"]
    assert item == {
        "id": item["id"],
        "type": "message",
        "status": "in_progress",
        "role": "assistant",
        "content": [],
    }
    conv_added = [e for e in out if e["type"] == "conversation.item.added"][1]
    assert conv_added["previous_item_id"] == user and conv_added["item"]["id"] == item["id"]
    part = first(out, "response.content_part.added")
    assert part["part"] == {"type": "audio", "transcript": ""}
    for e in out:
        if e["type"].startswith("response.") and e["type"] not in (
            "response.created",
            "response.done",
        ):
            assert e["response_id"] == rid
            if "item_id" in e:
                assert e["item_id"] == item["id"]
    # echo: the user's own audio back, 100 ms per delta, transcript word by word
    deltas = [e for e in out if e["type"] == "response.output_audio.delta"]
    assert all(len(base64.b64decode(e["delta"])) == 4800 for e in deltas[:-1])
    words = [e["delta"] for e in out if e["type"] == "response.output_audio_transcript.delta"]
    transcript = first(out, "response.output_audio_transcript.done")["transcript"]
    assert "".join(words) == transcript and transcript.startswith("You said something for 1.")
    assert len(words) > 3
    assert out.index(first(out, "response.output_audio_transcript.delta")) < out.index(deltas[0])
    heard = np.frombuffer(pcm_of(out), np.int16)
    assert len(heard) == (stopped["audio_end_ms"] - started["audio_start_ms"]) * 24
    done_item = [e for e in out if e["type"] == "conversation.item.done"][1]["item"]
    assert done_item == {
        "id": item["id"],
        "type": "message",
        "status": "completed",
        "role": "assistant",
        "content": [{"type": "output_audio", "transcript": transcript}],
    }
    final = first(out, "response.done")["response"]
    assert final["status"] == "completed" and final["status_details"] is None
    assert final["output"] == [done_item]  # no audio bytes
    usage = final["usage"]
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    details = usage["input_token_details"]
    assert usage["input_tokens"] == details["text_tokens"] + details["audio_tokens"]
    assert details["audio_tokens"] == math.ceil(len(heard) / 24 / 100)  # 1 token / 100 ms
    out_details = usage["output_token_details"]
    assert out_details["audio_tokens"] == math.ceil(len(heard) / 24 / 50)  # 1 token / 50 ms
    assert out_details["text_tokens"] == math.ceil(len(transcript) / 4)
    limits = out[-1]["rate_limits"]
    assert limits == [
        {
            "name": "tokens",
            "limit": 40000,
            "remaining": 40000 - usage["total_tokens"],
            "reset_seconds": round(usage["total_tokens"] / 40000 * 60, 3),
        }
    ]

    # a second turn chains previous_item_id and re-bills the conversation, partly cached
    out2 = h.audio(utterance(0.8, lead_silence_s=0.3, tail_silence_s=0.6, seed=2))
    committed2 = first(out2, "input_audio_buffer.committed")
    assert committed2["previous_item_id"] == item["id"]
    # times count from the session's first audio, across commits (turn 1 was 2.6 s long)
    started2 = first(out2, "input_audio_buffer.speech_started")
    assert started2["audio_start_ms"] == pytest.approx(2600, abs=40)
    assert first(out2, "input_audio_buffer.speech_stopped")["audio_end_ms"] == pytest.approx(
        2600 + 300 + 800, abs=40
    )
    usage2 = first(out2, "response.done")["response"]["usage"]
    assert usage2["input_tokens"] > usage["input_tokens"]
    cached = usage2["input_token_details"]["cached_tokens"]
    assert 0 < cached <= usage2["input_tokens"] and cached % 64 == 0
    cd = usage2["input_token_details"]["cached_tokens_details"]
    assert cached == cd["text_tokens"] + cd["audio_tokens"] + cd["image_tokens"]


@pytest.mark.parametrize(
    ("lead", "speech", "prefix", "silence"),
    [(0.6, 1.2, 300, 200), (0.2, 1.0, 300, 200), (1.0, 0.7, 100, 500), (0.5, 2.0, 500, 300)],
)
def test_vad_timings_follow_prefix_padding_and_silence(
    lead: float, speech: float, prefix: int, silence: int
) -> None:
    td = {
        "type": "server_vad",
        "prefix_padding_ms": prefix,
        "silence_duration_ms": silence,
        "create_response": False,
    }
    h = Harness(session={"audio": {"input": {"turn_detection": td}}})
    h.audio(np.zeros(24 * 250, np.int16))  # earlier audio: times are cumulative
    speech_pcm = utterance(speech, lead_silence_s=lead, tail_silence_s=silence / 1000 + 0.3)
    out = h.audio(speech_pcm)
    started = first(out, "input_audio_buffer.speech_started")
    stopped = first(out, "input_audio_buffer.speech_stopped")
    voiced = np.flatnonzero(np.abs(speech_pcm.astype(np.int32)) > 100)  # > -50 dBFS: speech
    onset, end = 250 + voiced[0] / 24, 250 + (voiced[-1] + 1) / 24
    assert started["audio_start_ms"] == pytest.approx(max(onset - prefix, 0), abs=40)
    assert stopped["audio_end_ms"] == pytest.approx(end, abs=40)
    assert "response.created" not in types(out)  # create_response: false


def test_vad_ignores_silence_and_noise_and_honours_threshold() -> None:
    rng = np.random.default_rng(0)
    noise = (rng.standard_normal(24_000 * 2) * 32768 * 10 ** (-60 / 20)).astype(np.int16)
    h = Harness()
    assert h.audio(np.zeros(24_000, np.int16)) == []
    assert h.audio(noise) == []
    deaf = Harness(
        session={"audio": {"input": {"turn_detection": {"type": "server_vad", "threshold": 1.0}}}}
    )
    assert deaf.audio(utterance(1.0, 0.3, 0.5)) == []
    # the mapping: 0.5 ↔ -40 dBFS, between speech (-20) and a -60 dBFS floor
    assert 20 * math.log10(threshold_to_level(0.5)) == pytest.approx(-40)


def test_vad_core_directly() -> None:
    vad = EnergyVad(VadSettings(0.5, 300, 200))
    pcm = utterance(1.0, lead_silence_s=0.5, tail_silence_s=0.5)
    events = []
    for i in range(0, len(pcm), 77):  # odd chunk sizes: frames straddle appends
        events += vad.feed(pcm[i : i + 77])
    assert [e.kind for e in events] == ["start", "stop"]
    start, stop = events
    assert start.sample == pytest.approx(200 * 24, abs=40 * 24)
    assert stop.sample == pytest.approx(1500 * 24, abs=40 * 24)
    assert stop.at - stop.sample == 200 * 24
    assert vad.position == len(pcm)
    # the prefix padding never reaches back before the buffer (the last commit point)
    vad = EnergyVad(VadSettings(0.5, 300, 200), position=4800)
    (start,) = vad.feed(utterance(0.5, lead_silence_s=0.1, tail_silence_s=0.1))
    assert start.kind == "start" and start.sample == 4800


@pytest.mark.parametrize(("eagerness", "silence_ms"), [("high", 200), ("auto", 500), ("low", 800)])
def test_semantic_vad_waits_by_eagerness(eagerness: str, silence_ms: int) -> None:
    td = {"type": "semantic_vad", "eagerness": eagerness, "create_response": False}
    h = Harness(session={"audio": {"input": {"turn_detection": td}}})
    speech = utterance(1.0, lead_silence_s=0.3, tail_silence_s=0)
    assert types(h.audio(speech)) == ["input_audio_buffer.speech_started"]
    quiet = h.audio(np.zeros(24 * (silence_ms - 30), np.int16))
    assert "input_audio_buffer.speech_stopped" not in types(quiet)
    assert "input_audio_buffer.speech_stopped" in types(h.audio(np.zeros(24 * 80, np.int16)))


# --- §5c push-to-talk ---------------------------------------------------------------------------
def test_push_to_talk_turn_and_the_100_ms_minimum() -> None:
    h = Harness(session={"audio": {"input": {"turn_detection": None}}})
    err = error_of(h.send(type="input_audio_buffer.commit", event_id="c0"))
    assert err["code"] == "input_audio_buffer_commit_empty" and err["event_id"] == "c0"
    assert err["message"] == (
        "Error committing input audio buffer: buffer too small. Expected at least 100ms of "
        "audio, but buffer only has 0.00ms of audio."
    )
    assert h.audio(utterance(0.6, 0.2, 0.2)) == []  # no VAD events, no acks
    out = h.send(type="input_audio_buffer.commit")
    assert types(out) == [
        "input_audio_buffer.committed",
        "conversation.item.added",
        "conversation.item.done",
    ]
    assert h.advance(1.0) == []  # committing never creates a response
    out = h.send(type="response.create")
    assert without_deltas(out) == AUDIO_RESPONSE
    h.audio(np.zeros(24 * 50, np.int16))
    err = error_of(h.send(type="input_audio_buffer.commit"))
    assert "buffer only has 50.00ms of audio" in err["message"]
    assert types(h.send(type="input_audio_buffer.clear")) == ["input_audio_buffer.cleared"]
    assert h.st.buffer_ms == 0


def test_g711_buffers_count_8_bytes_per_ms_and_output_follows_the_format() -> None:
    h = Harness(
        session={
            "audio": {
                "input": {"format": {"type": "audio/pcmu"}, "turn_detection": None},
                "output": {"format": {"type": "audio/pcma"}},
            }
        }
    )
    h.send(type="input_audio_buffer.append", audio=base64.b64encode(b"\xff" * 792).decode())
    err = error_of(h.send(type="input_audio_buffer.commit"))
    assert "99.00ms" in err["message"]
    h.send(type="input_audio_buffer.append", audio=base64.b64encode(b"\xff" * 8).decode())
    assert types(h.send(type="input_audio_buffer.commit"))[0] == "input_audio_buffer.committed"
    out = h.say("hello there")
    deltas = [base64.b64decode(e["delta"]) for e in out if e["type"].endswith("audio.delta")]
    assert len(deltas[0]) == 800  # 100 ms of A-law
    assert first(out, "response.created")["response"]["audio"]["output"]["format"] == {
        "type": "audio/pcma"
    }


def test_g711_input_drives_the_vad() -> None:
    h = Harness(
        session={
            "audio": {
                "input": {
                    "format": {"type": "audio/pcmu"},
                    "turn_detection": {"type": "server_vad", "create_response": False},
                }
            }
        }
    )
    out = h.audio(utterance(1.0, lead_silence_s=0.5, tail_silence_s=0.6), fmt="g711_ulaw")
    started = first(out, "input_audio_buffer.speech_started")
    stopped = first(out, "input_audio_buffer.speech_stopped")
    assert started["audio_start_ms"] == pytest.approx(200, abs=40)
    assert stopped["audio_end_ms"] == pytest.approx(1500, abs=40)
    item = h.st.items[first(out, "input_audio_buffer.committed")["item_id"]]
    assert item.audio_ms() == pytest.approx(1300, abs=40)


# --- §5d barge-in and truncation ---------------------------------------------------------------
def long_answer() -> Reply:
    return Reply(text="This answer is long enough to interrupt. " * 6)


def test_barge_in_cancels_with_turn_detected_then_truncate() -> None:
    h = Harness(speed=8.0, responder=scripted([long_answer(), "ok"]))
    out = h.send(type="response.create")
    rid = first(out, "response.created")["response"]["id"]
    assistant = first(out, "response.output_item.added")["item"]["id"]
    out += h.advance(0.1)  # 0.8 s of audio sent at 8× real time
    sent_ms = len(pcm_of(out)) / 48
    assert 0 < sent_ms < 2000
    barge = h.audio(utterance(0.6, lead_silence_s=0.2, tail_silence_s=0))
    assert without_deltas(barge) == [
        "input_audio_buffer.speech_started",
        "response.output_audio.done",
        "response.output_audio_transcript.done",
        "response.content_part.done",
        "conversation.item.done",
        "response.output_item.done",
        "response.done",
        "rate_limits.updated",
    ]
    done = first(barge, "response.done")["response"]
    assert done["id"] == rid and done["status"] == "cancelled"
    assert done["status_details"] == {"type": "cancelled", "reason": "turn_detected"}
    assert done["output"][0]["status"] == "incomplete"
    heard_transcript = first(barge, "response.output_audio_transcript.done")["transcript"]
    stored = h.st.items[assistant]
    length = stored.audio_ms()
    assert length == pytest.approx(sent_ms + len(pcm_of(barge)) / 48)
    # the client truncates to what it played
    out = h.send(
        type="conversation.item.truncate", item_id=assistant, content_index=0, audio_end_ms=300
    )
    assert out == [
        {
            "type": "conversation.item.truncated",
            "event_id": out[0]["event_id"],
            "item_id": assistant,
            "content_index": 0,
            "audio_end_ms": 300,
        }
    ]
    assert stored.audio_ms() == 300
    cut = stored.item["content"][0]["transcript"]
    assert len(cut) < len(heard_transcript) and heard_transcript.startswith(cut)
    err = error_of(
        h.send(
            type="conversation.item.truncate",
            item_id=assistant,
            content_index=0,
            audio_end_ms=5000,
            event_id="t2",
        )
    )
    assert err["message"] == "Audio content of 300ms is already shorter than 5000ms"
    assert err["event_id"] == "t2" and err["param"] == "audio_end_ms"
    err = error_of(
        h.send(
            type="conversation.item.truncate", item_id=assistant, content_index=0, audio_end_ms=-11
        )
    )
    assert err["code"] == "integer_below_min_value"
    assert err["message"] == (
        "Invalid 'audio_end_ms': integer below minimum value. Expected a "
        "value >= 0, but got -11 instead."
    )
    err = error_of(
        h.send(
            type="conversation.item.truncate", item_id=assistant, content_index=0, audio_end_ms=12.5
        )
    )
    assert err["code"] == "invalid_type"
    # the barge-in turn goes on: speech stops, the new user item is committed, R2 answers
    rest = h.audio(np.zeros(24 * 400, np.int16)) + h.advance(10)
    assert "input_audio_buffer.speech_stopped" in types(rest)
    assert first(rest, "response.done")["response"]["status"] == "completed"


def test_only_assistant_audio_can_be_truncated() -> None:
    h = Harness(session={"output_modalities": ["text"]})
    out = h.say("hi")
    user = first(out, "conversation.item.added")["item"]["id"]
    assistant = first(out, "response.output_item.added")["item"]["id"]
    for item_id in (user, assistant):
        err = error_of(
            h.send(
                type="conversation.item.truncate", item_id=item_id, content_index=0, audio_end_ms=0
            )
        )
        assert err["code"] == "unsupported_content_type"
        assert err["message"] == "Only model output audio messages can be truncated"


def test_without_interrupt_response_the_client_must_cancel() -> None:
    td = {"type": "server_vad", "interrupt_response": False, "create_response": False}
    h = Harness(
        speed=8.0,
        responder=scripted([long_answer()]),
        session={"audio": {"input": {"turn_detection": td}}},
    )
    rid = first(h.send(type="response.create"), "response.created")["response"]["id"]
    out = h.audio(utterance(0.5, 0.2, 0.4))
    assert "input_audio_buffer.speech_started" in types(out)
    assert "response.done" not in types(out)
    assert h.st.default_run == rid
    out = h.send(type="response.cancel", response_id=rid)
    assert without_deltas(out)[-2:] == ["response.done", "rate_limits.updated"]
    done = first(out, "response.done")["response"]
    assert done["status_details"] == {"type": "cancelled", "reason": "client_cancelled"}
    assert error_of(h.send(type="response.cancel"))["code"] == "response_cancel_not_active"


def test_cancel_before_any_output_gives_an_empty_cancelled_response() -> None:
    async def slow(ctx: ResponderContext) -> str:  # never awaited here: resolved by hand
        return "late"

    h = Harness(responder=slow)
    out = h.send(type="response.create")
    jobs = h.st.take_jobs()
    assert len(jobs) == 1 and jobs[0].kind == "reply"
    out = h.send(type="response.cancel")
    assert types(out) == ["response.done", "rate_limits.updated"]
    assert out[0]["response"]["output"] == [] and out[0]["response"]["status"] == "cancelled"
    jobs[0].awaitable.close()  # type: ignore[attr-defined]
    assert h.st.resolve_job(jobs[0], "late", None, 1.0) == []  # a late reply is dropped


def test_async_responder_reply_is_planned_when_resolved() -> None:
    async def answer(ctx: ResponderContext) -> Reply:
        return Reply(text="async hello")

    h = Harness(responder=answer, session={"output_modalities": ["text"]})
    out = h.say("hi")
    assert types(out)[-1] == "response.created"
    (job,) = h.st.take_jobs()
    coro = job.awaitable
    try:
        coro.send(None)  # type: ignore[attr-defined]
    except StopIteration as stop:
        result = stop.value
    out = conform(h.st.resolve_job(job, result, None, 0.0))
    assert first(out, "response.output_text.done")["text"] == "async hello"


# --- §5e function calls -------------------------------------------------------------------------
def test_function_call_round_trip() -> None:
    call = Reply(function_calls=[("get_weather", '{"city": "Paris", "unit": "celsius"}')])
    h = Harness(responder=scripted([call]))
    out = h.say("weather?")
    assert without_deltas(out)[2:] == [
        "response.created",
        "response.output_item.added",
        "conversation.item.added",
        "response.function_call_arguments.done",
        "conversation.item.done",
        "response.output_item.done",
        "response.done",
        "rate_limits.updated",
    ]
    added = first(out, "response.output_item.added")["item"]
    call_id = added["call_id"]
    assert is_id(call_id, "call", 16) and is_id(added["id"], "item")
    assert added["arguments"] == "" and added["status"] == "in_progress"
    pieces = [e for e in out if e["type"] == "response.function_call_arguments.delta"]
    assert len(pieces) > 1 and all(e["call_id"] == call_id for e in pieces)
    done = first(out, "response.function_call_arguments.done")
    assert "".join(e["delta"] for e in pieces) == done["arguments"]
    assert json.loads(done["arguments"]) == {"city": "Paris", "unit": "celsius"}
    assert done["name"] == "get_weather"
    final = first(out, "response.done")["response"]["output"]
    assert final == [
        {
            "id": added["id"],
            "type": "function_call",
            "status": "completed",
            "name": "get_weather",
            "call_id": call_id,
            "arguments": done["arguments"],
        }
    ]
    h.st.responder = echo
    result = protocol.function_call_output_item(call_id, '{"temp_c": 21}')
    out = h.send(type="conversation.item.create", item=result)
    assert types(out) == ["conversation.item.added", "conversation.item.done"]
    assert out[0]["previous_item_id"] == added["id"]
    out = h.send(type="response.create")
    transcript = first(out, "response.output_audio_transcript.done")["transcript"]
    assert transcript == 'Tool get_weather returned: {"temp_c": 21}'
    kinds = [i["type"] for i in h.st.conversation]
    assert kinds == ["message", "function_call", "function_call_output", "message"]


def test_message_then_parallel_calls_use_consecutive_output_indexes() -> None:
    reply = Reply(text="Checking.", function_calls=[("a", "{}"), ("b", '{"x":1}')])
    h = Harness(responder=scripted([reply]), session={"output_modalities": ["text"]})
    out = h.send(type="response.create")
    added = [e for e in out if e["type"] == "response.output_item.added"]
    assert [(e["output_index"], e["item"]["type"]) for e in added] == [
        (0, "message"),
        (1, "function_call"),
        (2, "function_call"),
    ]
    ids = {e["item"]["call_id"] for e in added[1:]}
    assert len(ids) == 2


# --- §5f text only ------------------------------------------------------------------------------
def test_text_only_exchange() -> None:
    h = Harness()
    h.send(type="session.update", session={"type": "realtime", "output_modalities": ["text"]})
    out = h.say("Say hi in three words")
    assert without_deltas(out) == [
        "conversation.item.added",
        "conversation.item.done",
        "response.created",
        "response.output_item.added",
        "conversation.item.added",
        "response.content_part.added",
        "response.output_text.done",
        "response.content_part.done",
        "conversation.item.done",
        "response.output_item.done",
        "response.done",
        "rate_limits.updated",
    ]
    user = out[0]["item"]
    assert user["status"] == "completed"
    assert user["content"] == [{"type": "input_text", "text": "Say hi in three words"}]
    assert first(out, "response.content_part.added")["part"] == {"type": "text", "text": ""}
    text = first(out, "response.output_text.done")["text"]
    assert text == "You said: Say hi in three words"
    deltas = [e["delta"] for e in out if e["type"] == "response.output_text.delta"]
    assert "".join(deltas) == text and deltas[:2] == ["You", " said:"]
    final = first(out, "response.done")["response"]
    assert final["output"][0]["content"] == [{"type": "output_text", "text": text}]
    assert final["usage"]["output_token_details"] == {"text_tokens": 8, "audio_tokens": 0}
    # a text input in audio mode gets audio plus transcript, synthesised at ~60 ms per char
    out = h.say("hello", output_modalities=["audio"])
    assert len(pcm_of(out)) / 48 == pytest.approx(len("You said: hello") * 60, abs=1)


def test_max_output_tokens_makes_a_response_incomplete() -> None:
    h = Harness(session={"output_modalities": ["text"]})
    out = h.say("a fairly long sentence to repeat back", max_output_tokens=3)
    final = first(out, "response.done")["response"]
    assert final["status"] == "incomplete"
    assert final["status_details"] == {"type": "incomplete", "reason": "max_output_tokens"}
    assert final["usage"]["output_tokens"] <= 3
    assert final["output"][0]["status"] == "incomplete"


def test_a_failing_responder_fails_the_response_not_the_session() -> None:
    h = Harness(responder=scripted(["only one"]))
    h.say("one")
    out = h.say("two")
    final = first(out, "response.done")["response"]
    assert final["status"] == "failed" and final["output"] == []
    assert final["status_details"]["error"]["type"] == "server_error"
    assert "ScriptExhausted" in final["status_details"]["error"]["message"]
    assert h.st.close is None and h.st.default_run is None


# --- §2.1 response.create parameters -------------------------------------------------------------
def test_out_of_band_response_runs_beside_the_default_one() -> None:
    h = Harness(speed=8.0, responder=scripted([long_answer(), "side note"]))
    default = first(h.send(type="response.create"), "response.created")["response"]["id"]
    out = h.send(
        type="response.create",
        response={
            "conversation": "none",
            "output_modalities": ["text"],
            "input": [],
            "metadata": {"topic": "side"},
            "instructions": "x",
        },
    )
    created = first(out, "response.created")["response"]
    assert created["conversation_id"] is None and created["metadata"] == {"topic": "side"}
    out += h.advance(0.5)
    assert "conversation.item.added" not in types(out)
    done = first(out, "response.done")["response"]
    assert done["status"] == "completed" and done["metadata"] == {"topic": "side"}
    assert h.st.default_run == default  # the default response is still streaming
    assert done["output"][0]["id"] not in h.st.items
    rest = h.advance(60)
    assert first(rest, "response.done")["response"]["id"] == default


def test_response_overrides_and_input_context() -> None:
    seen: list[ResponderContext] = []

    def spy(ctx: ResponderContext) -> Reply:
        seen.append(ctx)
        return echo(ctx)

    h = Harness(responder=spy)
    first_item = first(h.say("first"), "conversation.item.added")["item"]["id"]
    h.send(type="conversation.item.create", item=protocol.user_text_item("second"))
    out = h.send(
        type="response.create",
        response={
            "conversation": "none",
            "input": [
                {"type": "item_reference", "id": first_item},
                {
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": "inline"}],
                },
            ],
            "audio": {"output": {"voice": "cedar", "format": {"type": "audio/pcmu"}}},
        },
    )
    created = first(out, "response.created")["response"]
    assert created["audio"]["output"] == {"format": {"type": "audio/pcmu"}, "voice": "cedar"}
    assert seen[-1].items[0]["id"] == first_item
    assert seen[-1].last_user_text == "inline"
    assert first(out, "response.output_audio_transcript.done")["transcript"] == "You said: inline"


# --- conversation items -------------------------------------------------------------------------
def test_item_create_positions_retrieve_and_delete() -> None:
    h = Harness()
    a = h.send(type="conversation.item.create", item={**protocol.user_text_item("a"), "id": "a1"})
    assert a[0]["previous_item_id"] is None and a[0]["item"]["id"] == "a1"
    b = h.send(type="conversation.item.create", item=protocol.user_text_item("b"))
    c = h.send(
        type="conversation.item.create",
        previous_item_id="root",
        item={
            "type": "message",
            "role": "system",
            "content": [{"type": "input_text", "text": "sys"}],
        },
    )
    assert c[0]["previous_item_id"] is None
    d = h.send(
        type="conversation.item.create",
        previous_item_id="a1",
        item=protocol.user_audio_item(
            audio.b64encode_audio(np.ones(4800, np.int16)), transcript="hi"
        ),
    )
    assert d[0]["previous_item_id"] == "a1"
    assert d[0]["item"]["content"] == [{"type": "input_audio", "transcript": "hi"}]
    order = [i["id"] for i in h.st.conversation]
    assert order == [c[0]["item"]["id"], "a1", d[0]["item"]["id"], b[0]["item"]["id"]]
    err = error_of(
        h.send(type="conversation.item.create", item={**protocol.user_text_item("dup"), "id": "a1"})
    )
    assert err["param"] == "item.id"
    got = h.send(type="conversation.item.retrieve", item_id=d[0]["item"]["id"])
    part = got[0]["item"]["content"][0]
    assert base64.b64decode(part["audio"]) == np.ones(4800, np.int16).tobytes()
    assert types(h.send(type="conversation.item.delete", item_id="a1")) == [
        "conversation.item.deleted"
    ]
    assert "a1" not in [i["id"] for i in h.st.conversation]


def test_assistant_and_function_items_from_the_client() -> None:
    h = Harness()
    out = h.send(
        type="conversation.item.create",
        item={
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "earlier answer"}],
        },
    )
    assert out[0]["item"]["role"] == "assistant"
    out = h.send(
        type="conversation.item.create",
        item={"type": "function_call", "name": "f", "arguments": "{}", "call_id": "call_given"},
    )
    assert out[0]["item"]["call_id"] == "call_given"


def test_input_transcription_is_labelled_as_the_stand_in() -> None:
    h = Harness(
        session={
            "audio": {
                "input": {"transcription": {"model": "gpt-4o-transcribe"}, "turn_detection": None}
            }
        }
    )
    h.audio(np.zeros(24 * 1400, np.int16))
    out = h.send(type="input_audio_buffer.commit")
    done = first(out, "conversation.item.input_audio_transcription.completed")
    assert done["transcript"] == "[stand-in: 1.4 s of audio]"
    # gpt-4o-transcribe bills tokens (per-minute models report duration: test_server_transcription)
    assert done["usage"]["type"] == "tokens" and done["usage"]["input_tokens"] == 14
    assert done["item_id"] == out[0]["item_id"] and done["content_index"] == 0
    h.st.transcriber = lambda pcm: f"{len(pcm)} samples"
    h.audio(np.zeros(24 * 200, np.int16))
    out = h.send(type="input_audio_buffer.commit")
    assert first(out, "conversation.item.input_audio_transcription.completed")["transcript"] == (
        "4800 samples"
    )
    retrieved = h.send(type="conversation.item.retrieve", item_id=out[0]["item_id"])
    assert retrieved[0]["item"]["content"][0]["transcript"] == "4800 samples"


# --- timers -------------------------------------------------------------------------------------
def test_session_expiry_is_an_error_then_close_1001() -> None:
    h = Harness(max_session_s=120)
    assert h.st.next_deadline() == 120
    assert h.advance(119) == []
    err = error_of(h.advance(1))
    assert err["code"] == "session_expired"
    assert err["message"] == "Your session hit the maximum duration of 2 minutes."
    assert (h.st.close.code, h.st.close.reason) == (1001, err["message"])  # type: ignore[union-attr]
    assert h.st.poll(200) == []


def test_idle_timeout_commits_and_responds() -> None:
    td = {"type": "server_vad", "idle_timeout_ms": 5000}
    h = Harness(session={"audio": {"input": {"turn_detection": td}}})
    h.say("hello")  # response audio ≈ 0.9 s
    h.audio(np.zeros(24 * 300, np.int16))
    assert h.advance(5.0) == []
    out = h.advance(1.0)
    assert without_deltas(out)[:5] == [
        "input_audio_buffer.timeout_triggered",
        "input_audio_buffer.committed",
        "conversation.item.added",
        "conversation.item.done",
        "response.created",
    ]
    trig = out[0]
    assert trig["audio_end_ms"] - trig["audio_start_ms"] == 300
    assert trig["item_id"] == out[1]["item_id"]


# --- beta shape ---------------------------------------------------------------------------------
def test_beta_mode_speaks_the_beta_shape() -> None:
    h = Harness(headers={"openai-beta": "realtime=v1"}, protocol="beta")
    assert h.beta
    session = h.created[0]["session"]
    assert session["modalities"] == ["text", "audio"] and session["voice"] == "alloy"
    assert session["input_audio_format"] == "pcm16" and "audio" not in session
    out = h.send(
        type="session.update",
        session={"voice": "verse", "turn_detection": None, "input_audio_format": "g711_ulaw"},
    )
    assert out[0]["session"]["voice"] == "verse" and out[0]["session"]["turn_detection"] is None
    out = h.say("hello")
    seq = types(out)
    assert "conversation.item.created" in seq and "conversation.item.done" not in seq
    assert "conversation.item.added" not in seq
    assert "response.audio.delta" in seq and "response.audio_transcript.done" in seq
    resp = first(out, "response.done")["response"]
    assert resp["modalities"] == ["text", "audio"] and resp["voice"] == "verse"
    assert resp["output"][0]["content"][0]["type"] == "audio"
    out = h.say("text please", modalities=["text"])
    assert "response.text.delta" in types(out)


def test_beta_mode_without_the_header_is_ga() -> None:
    h = Harness(protocol="beta")
    assert not h.beta and "audio" in h.created[0]["session"]


# --- determinism, responders -------------------------------------------------------------------
def test_same_seed_same_session() -> None:
    def run() -> list[dict[str, Any]]:
        h = Harness(seed=42)
        return h.created + h.audio(utterance(0.6, 0.3, 0.5)) + h.say("x")

    assert run() == run()


def test_split_words_and_responders() -> None:
    assert split_words("You said: hi!  ") == ["You", " said:", " hi!  "]
    assert split_words("") == [] and split_words("  ") == ["  "]
    assert as_reply("x") == Reply(text="x")
    reply = as_reply({"text": "t", "function_calls": [["f", {"a": 1}]]})
    assert reply.function_calls == [("f", '{"a": 1}')]
    with pytest.raises(ValueError, match="may have"):
        as_reply({"txt": "typo"})
    with pytest.raises(ValueError, match="int16"):
        Reply(audio=np.zeros(3, np.float32))
    s = scripted(["a"], cycle=True)
    ctx = ResponderContext("resp_x", [], {}, {}, "", ["audio"], [])
    assert [s(ctx).text for _ in range(3)] == ["a", "a", "a"]
    with pytest.raises(ScriptExhausted):
        scripted([])(ctx)
    assert echo(ctx).text.startswith("Hello from the realtime-nb stand-in")


def test_load_script(tmp_path: Path) -> None:
    path = tmp_path / "script.json"
    path.write_text(json.dumps(["hi", {"function_calls": [["f", "{}"]]}]))
    script = load_script(path)
    assert [r.text for r in script.replies] == ["hi", None]


# --- property: no client input crashes the server or yields a malformed event -------------------
SCALARS = st.none() | st.booleans() | st.integers(-5, 70_000) | st.floats(allow_nan=False)
JSONISH = st.recursive(
    SCALARS | st.text(max_size=8),
    lambda kids: (
        st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=6), kids, max_size=3)
    ),
    max_leaves=8,
)
EVENT_TYPES = st.sampled_from([*protocol.CLIENT_EVENT_TYPES, "nope"])
FIELDS = st.sampled_from(
    ["session", "item", "item_id", "audio", "response", "previous_item_id", "content_index",
     "audio_end_ms", "response_id", "event_id", "type"]
)  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(EVENT_TYPES, st.dictionaries(FIELDS, JSONISH, max_size=3)), max_size=6))
def test_arbitrary_client_events_never_crash(events: list[tuple[str, dict[str, Any]]]) -> None:
    h = Harness(speed=8.0)
    h.audio(speech_like(0.3))
    for type_, fields in events:
        out = h.send(**{**fields, "type": type_})
        for event in out:
            if event["type"] == "error":
                assert event["error"]["type"] == "invalid_request_error"
        h.advance(0.05)
    assert h.st.close is None


def test_a_duplicate_item_id_is_refused_with_the_services_code_and_message() -> None:
    h = Harness()
    item = (
        '{"id":"item_dup","type":"message","role":"user",'
        '"content":[{"type":"input_text","text":"a"}]}'
    )
    assert types(h.text('{"type":"conversation.item.create","item":' + item + "}"))[0] == (
        "conversation.item.added"
    )
    err = error_of(
        h.text('{"type":"conversation.item.create","event_id":"e1","item":' + item + "}")
    )
    assert (err["code"], err["param"], err["event_id"]) == (
        "item_create_duplicate_item_id",
        "item.id",
        "e1",
    )
    assert err["message"] == "Error adding item: an item with id 'item_dup' already exists."


def test_think_s_delays_the_first_output_after_response_created() -> None:
    """A model's time to first audio, so timelines and latency tables show one (ServerConfig)."""
    h = Harness(think_s=0.4)
    out = h.say("hello")
    assert "response.created" in types(out)
    assert "response.output_audio.delta" not in types(out)  # still thinking
    assert "response.output_audio.delta" not in types(h.advance(0.39))
    later = h.advance(0.02)
    assert "response.output_item.added" in types(later) and "response.done" in types(later)

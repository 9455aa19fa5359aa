"""protocol.py: names, ids, builders and the beta→GA mapping (realtime-protocol.md §2–§4)."""

from __future__ import annotations

import re
import typing

import pytest
from openai.types.realtime import RealtimeClientEvent, RealtimeServerEvent
from pydantic import TypeAdapter

from realtime_nb import beta, protocol
from tests.schema import assert_no_extras

CLIENT = TypeAdapter(RealtimeClientEvent)


def _literal_types(union: object) -> set[str]:
    members = typing.get_args(typing.get_args(union)[0])
    return {typing.get_args(m.model_fields["type"].annotation)[0] for m in members}


def test_client_event_names_match_the_sdk_union() -> None:
    assert _literal_types(RealtimeClientEvent) == protocol.CLIENT_EVENT_TYPES


def test_server_event_names_match_the_sdk_union() -> None:
    assert _literal_types(RealtimeServerEvent) == protocol.SERVER_EVENT_TYPES


def test_beta_renames_point_at_ga_names() -> None:
    for ga in beta.EVENT_NAMES.values():
        assert ga in protocol.SERVER_EVENT_TYPES


@pytest.mark.parametrize(
    "event",
    [
        protocol.session_update({"instructions": "hi", "audio": {"output": {"voice": "marin"}}}),
        protocol.input_audio_append("AAAA", event_id="e1"),
        protocol.input_audio_commit(),
        protocol.input_audio_clear(),
        protocol.item_create(protocol.user_text_item("hello", item_id="item_abc")),
        protocol.item_create(protocol.user_audio_item("AAAA", transcript="t"), "root"),
        protocol.item_create(protocol.function_call_output_item("call_1", '{"t": 21}')),
        protocol.item_retrieve("item_1"),
        protocol.item_truncate("item_1", 1500),
        protocol.item_delete("item_1"),
        protocol.response_create(),
        protocol.response_create({"output_modalities": ["text"], "instructions": "short"}),
        protocol.response_cancel(),
        protocol.response_cancel("resp_1"),
    ],
    ids=lambda e: e["type"],
)
def test_builders_validate_against_the_official_client_union(event: dict) -> None:
    model = CLIENT.validate_python(event)
    assert_no_extras(model)
    assert model.type == event["type"]


def test_session_update_adds_required_type() -> None:
    assert protocol.session_update({})["session"]["type"] == "realtime"
    assert protocol.session_update({"type": "transcription"})["session"]["type"] == "transcription"


def test_truncate_forces_integer_ms() -> None:
    assert protocol.item_truncate("i", 1234.9)["audio_end_ms"] == 1234


def test_ids_have_real_prefixes_and_lengths() -> None:
    ids = protocol.IdFactory(seed=1)
    for make, prefix, n in [
        (ids.event, "event_", 21),
        (ids.item, "item_", 21),
        (ids.response, "resp_", 21),
        (ids.call, "call_", 16),
    ]:
        value = make()
        assert re.fullmatch(prefix + f"[A-Za-z0-9]{{{n}}}", value), value
    assert protocol.IdFactory(seed=7).item() == protocol.IdFactory(seed=7).item()
    assert len(protocol.IdFactory().item()) <= 32  # client item ids must fit 32 chars


BETA_SESSION = {
    "modalities": ["text", "audio"],
    "instructions": "be brief",
    "voice": "verse",
    "input_audio_format": "pcm16",
    "output_audio_format": "g711_ulaw",
    "input_audio_transcription": {"model": "whisper-1"},
    "turn_detection": {"type": "server_vad", "threshold": 0.6},
    "temperature": 0.8,
    "max_response_output_tokens": 200,
    "speed": 1.1,
}


def test_beta_session_to_ga() -> None:
    ga = beta.session_to_ga(BETA_SESSION)
    assert ga == {
        "type": "realtime",
        "output_modalities": ["audio"],
        "instructions": "be brief",
        "max_output_tokens": 200,
        "audio": {
            "input": {
                "format": {"type": "audio/pcm", "rate": 24000},
                "transcription": {"model": "whisper-1"},
                "turn_detection": {"type": "server_vad", "threshold": 0.6},
            },
            "output": {"voice": "verse", "format": {"type": "audio/pcmu"}, "speed": 1.1},
        },
    }
    # and the GA form validates as a session.update
    assert_no_extras(CLIENT.validate_python(protocol.session_update(ga)))


def test_ga_session_to_beta_round_trip() -> None:
    ga = beta.session_to_ga(BETA_SESSION)
    back = beta.session_to_beta(ga)
    expected = {k: v for k, v in BETA_SESSION.items() if k != "temperature"}
    assert back == expected


def test_text_only_beta_modalities() -> None:
    assert beta.session_to_ga({"modalities": ["text"]})["output_modalities"] == ["text"]


def test_normalize_beta_server_events() -> None:
    delta = {"type": "response.audio.delta", "event_id": "e", "delta": "AAAA"}
    beta.normalize_server_event(delta)
    assert delta["type"] == "response.output_audio.delta"
    assert delta["_beta_type"] == "response.audio.delta"

    created = {
        "type": "conversation.item.created",
        "item": {"id": "item_1", "role": "assistant", "content": [{"type": "audio"}]},
    }
    beta.normalize_server_event(created)
    assert created["item"]["content"][0]["type"] == "output_audio"

    session = {"type": "session.created", "session": {"voice": "alloy", "modalities": ["text"]}}
    beta.normalize_server_event(session)
    assert session["session"]["audio"]["output"]["voice"] == "alloy"


def test_normalize_leaves_ga_alone() -> None:
    event = {"type": "response.output_text.delta", "delta": "hi"}
    assert beta.normalize_server_event(event) is event
    assert event == {"type": "response.output_text.delta", "delta": "hi"}
    unknown = {"type": "brand.new.event", "x": 1}
    assert beta.normalize_server_event(unknown) == {"type": "brand.new.event", "x": 1}


def test_to_beta_and_back() -> None:
    ga = {
        "type": "response.output_audio_transcript.delta",
        "event_id": "e",
        "delta": "hi",
    }
    shown = beta.to_beta_server_event(ga)
    assert shown["type"] == "response.audio_transcript.delta"
    assert ga["type"] == "response.output_audio_transcript.delta"  # input untouched
    assert beta.normalize_server_event(shown)["type"] == ga["type"]


def test_event_ids_finds_nested_ids() -> None:
    assert protocol.event_ids({"item": {"id": "item_1"}, "response_id": "resp_1"}) == (
        "item_1",
        "resp_1",
    )
    assert protocol.event_ids({"response": {"id": "resp_2"}}) == (None, "resp_2")
    assert protocol.event_ids({"type": "x"}) == (None, None)

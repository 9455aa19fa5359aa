"""The beta ⇄ GA table (realtime_nb/beta.py): both directions, and odd shapes never raise."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from realtime_nb import beta, protocol

GA_SESSION = {
    "type": "realtime",
    "instructions": "Be brief.",
    "output_modalities": ["audio"],
    "max_output_tokens": 512,
    "audio": {
        "input": {
            "format": {"type": "audio/pcmu"},
            "transcription": {"model": "whisper-1"},
            "noise_reduction": None,
            "turn_detection": {"type": "server_vad", "threshold": 0.6},
        },
        "output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "marin", "speed": 1.1},
    },
}


def test_a_session_goes_to_beta_and_back_unchanged() -> None:
    flat = beta.session_to_beta(GA_SESSION)
    assert flat == {
        "instructions": "Be brief.",
        "modalities": ["text", "audio"],
        "max_response_output_tokens": 512,
        "input_audio_format": "g711_ulaw",
        "input_audio_transcription": {"model": "whisper-1"},
        "input_audio_noise_reduction": None,
        "turn_detection": {"type": "server_vad", "threshold": 0.6},
        "output_audio_format": "pcm16",
        "voice": "marin",
        "speed": 1.1,
    }
    assert beta.is_beta_session(flat) and not beta.is_beta_session(GA_SESSION)
    assert beta.session_to_ga(flat) == GA_SESSION


def test_response_params_rename_the_token_limit_but_response_objects_do_not() -> None:
    params = {"output_modalities": ["text"], "max_output_tokens": 20,
              "audio": {"output": {"voice": "ash"}}}  # fmt: skip
    flat = beta.response_params_to_beta(params)
    assert flat == {"modalities": ["text"], "max_response_output_tokens": 20, "voice": "ash"}
    assert beta.response_to_ga(flat) == params
    obj = beta.response_to_beta({"id": "resp_1", "max_output_tokens": "inf"})
    assert obj == {"id": "resp_1", "max_output_tokens": "inf"}


def test_events_round_trip_through_the_name_table() -> None:
    for beta_name, ga_name in beta.EVENT_NAMES.items():
        event = {"type": beta_name}
        assert beta.normalize_server_event(event)["type"] == ga_name
        assert event["_beta_type"] == beta_name
        if beta_name in beta.EVENT_NAMES_TO_BETA.values():
            assert beta.to_beta_server_event({"type": ga_name})["type"] == beta_name


def test_assistant_content_types_map_both_ways_user_parts_stay() -> None:
    item = {"role": "assistant", "content": [{"type": "audio"}, {"type": "text"}]}
    event = {"type": "conversation.item.created", "item": copy.deepcopy(item)}
    beta.normalize_server_event(event)
    assert [p["type"] for p in event["item"]["content"]] == ["output_audio", "output_text"]
    content = [{"type": "input_text", "text": "hi"}]
    user = {"type": "conversation.item.create", "item": {"role": "user", "content": content}}
    assert beta.client_event_to_beta(user) == user


ODD: list[dict[str, Any]] = [
    {"type": "conversation.item.created", "item": "not an object"},
    {"type": "conversation.item.created", "item": {"role": "assistant", "content": "a string"}},
    {"type": "conversation.item.created", "item": {"role": "assistant", "content": [1, None]}},
    {"type": "response.done", "response": {"output": "nope"}},
    {"type": "response.done", "response": {"output": [None, 3, {"content": {}}]}},
    {"type": "session.updated", "session": ["x"]},
    {"type": "session.updated", "session": {"modalities": "audio", "voice": 3}},
    {"type": 42},
    {},
]


@pytest.mark.parametrize("event", ODD)
def test_odd_shapes_pass_through_every_converter(event: dict[str, Any]) -> None:
    for convert in (
        beta.normalize_server_event,
        beta.to_beta_server_event,
        beta.client_event_to_ga,
        beta.client_event_to_beta,
    ):
        convert(copy.deepcopy(event))  # no exception is the point


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "type",
                    "role",
                    "content",
                    "item",
                    "output",
                    "audio",
                    "session",
                    "response",
                    "voice",
                    "x",
                ]
            ),
            children,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@given(st.dictionaries(st.sampled_from(["type", "item", "response", "session", "x"]), json_values))
def test_no_converter_raises_on_any_json_shape(event: dict[str, Any]) -> None:
    for convert in (
        beta.normalize_server_event,
        beta.to_beta_server_event,
        beta.client_event_to_ga,
        beta.client_event_to_beta,
    ):
        convert(copy.deepcopy(event))


@pytest.mark.parametrize("old, new", sorted(protocol._MOVED_TO_BETA.items()))
def test_the_former_names_in_protocol_are_the_beta_ones(old: str, new: str) -> None:
    assert getattr(protocol, old) is getattr(beta, new)


def test_protocol_still_raises_on_unknown_names() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        protocol.no_such_name  # noqa: B018

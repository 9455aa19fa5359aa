"""The stand-in and the model table: which models it admits, and ``reasoning`` by model."""

from __future__ import annotations

from typing import Any

import pytest

from realtime_nb.models import REALTIME_MODELS
from realtime_nb.server.connect import KNOWN_MODELS
from tests.test_server_state import Harness, error_of, first, types


def test_known_models_are_the_model_table() -> None:
    assert KNOWN_MODELS == REALTIME_MODELS
    assert {"gpt-realtime-2", "gpt-realtime-2.1", "gpt-realtime-2.1-mini"} <= KNOWN_MODELS


@pytest.mark.parametrize("model", ["gpt-realtime-2", "gpt-realtime-2.1-mini"])
@pytest.mark.parametrize("effort", ["minimal", "low", "medium", "high", "xhigh"])
def test_session_update_echoes_reasoning_effort(model: str, effort: str) -> None:
    h = Harness(f"/v1/realtime?model={model}")  # every event is checked against the SDK
    out = h.send(
        type="session.update", session={"type": "realtime", "reasoning": {"effort": effort}}
    )
    assert types(out) == ["session.updated"]
    assert out[0]["session"]["reasoning"] == {"effort": effort}
    assert out[0]["session"]["model"] == model


@pytest.mark.parametrize(
    ("reasoning", "code", "param"),
    [
        ({"effort": "maximal"}, "invalid_value", "session.reasoning.effort"),
        ({"effort": 3}, "invalid_type", "session.reasoning.effort"),
        ({"effort": "low", "summary": "auto"}, "unknown_parameter", "session.reasoning.summary"),
        ("high", "invalid_type", "session.reasoning"),
    ],
)
def test_malformed_reasoning_is_refused(reasoning: Any, code: str, param: str) -> None:
    h = Harness("/v1/realtime?model=gpt-realtime-2")
    err = error_of(
        h.send(type="session.update", session={"type": "realtime", "reasoning": reasoning})
    )
    assert (err["code"], err["param"]) == (code, param)


def test_effort_error_lists_the_supported_values() -> None:
    h = Harness("/v1/realtime?model=gpt-realtime-2")
    err = error_of(
        h.send(type="session.update", session={"type": "realtime", "reasoning": {"effort": "max"}})
    )
    assert err["message"] == (
        "Invalid value: 'max'. Supported values are: 'minimal', 'low', 'medium', 'high', "
        "and 'xhigh'."
    )


@pytest.mark.parametrize("model", ["gpt-realtime", "gpt-realtime-1.5", "gpt-realtime-mini"])
def test_reasoning_is_refused_for_models_without_it(model: str) -> None:
    h = Harness(f"/v1/realtime?model={model}")
    err = error_of(
        h.send(type="session.update", session={"type": "realtime", "reasoning": {"effort": "low"}})
    )
    assert (err["code"], err["param"]) == ("unsupported_parameter", "session.reasoning")
    assert f"'{model}'" in err["message"] and "gpt-realtime-2" in err["message"]
    # the session is unchanged and a later valid update still works
    out = h.send(type="session.update", session={"type": "realtime", "instructions": "hi"})
    assert "reasoning" not in out[0]["session"]


def test_reasoning_is_allowed_for_an_unknown_azure_deployment() -> None:
    h = Harness("/openai/v1/realtime?model=my-deployment", {"api-key": "k"})
    out = h.send(
        type="session.update", session={"type": "realtime", "reasoning": {"effort": "low"}}
    )
    assert out[0]["session"]["reasoning"] == {"effort": "low"}


def test_response_create_accepts_reasoning_effort() -> None:
    h = Harness("/v1/realtime?model=gpt-realtime-2", session={"output_modalities": ["text"]})
    out = h.say("hello", reasoning={"effort": "high"})
    assert first(out, "response.created")
    err = error_of(h.send(type="response.create", response={"reasoning": {"effort": "huge"}}))
    assert (err["code"], err["param"]) == ("invalid_value", "response.reasoning.effort")

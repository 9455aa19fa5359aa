"""Schema oracle helpers: validate against openai-python's realtime models, strictly.

openai's pydantic models accept unknown fields (``extra="allow"``), so validation alone would
not catch an invented field; :func:`assert_no_extras` walks the validated model and fails on
any field the official schema does not define.
"""

from __future__ import annotations

from typing import Any

from openai.types.realtime import RealtimeClientEvent, RealtimeServerEvent
from pydantic import BaseModel, TypeAdapter

SERVER_EVENTS: TypeAdapter[Any] = TypeAdapter(RealtimeServerEvent)
CLIENT_EVENTS: TypeAdapter[Any] = TypeAdapter(RealtimeClientEvent)

#: Session fields the live service is observed to send that the SDK's session types lack
#: (realtime-protocol.md §4.1: "A real GA session.created contained exactly …").
OBSERVED_SESSION_EXTRAS = frozenset(
    f"{event}.session.{field}"
    for event in ("SessionCreatedEvent", "SessionUpdatedEvent")
    for field in ("id", "object", "expires_at", "model")
)


def _extras(value: Any, path: str) -> list[str]:
    found: list[str] = []
    if isinstance(value, BaseModel):
        for key in value.model_extra or {}:
            found.append(f"{path}.{key}")
        for name in type(value).model_fields:
            found += _extras(getattr(value, name), f"{path}.{name}")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            found += _extras(v, f"{path}[{i}]")
    elif isinstance(value, dict):
        for k, v in value.items():
            found += _extras(v, f"{path}.{k}")
    return found


def assert_no_extras(model: BaseModel, allowed: frozenset[str] = frozenset()) -> None:
    extras = [e for e in _extras(model, type(model).__name__) if e not in allowed]
    assert not extras, f"fields unknown to the official schema: {extras}"


def validate_server_event(event: dict[str, Any]) -> BaseModel:
    """Validate one server event against the official union and forbid unknown fields."""
    clean = {k: v for k, v in event.items() if not k.startswith("_")}
    model = SERVER_EVENTS.validate_python(clean)
    assert_no_extras(model, OBSERVED_SESSION_EXTRAS)
    return model


def validate_client_event(event: dict[str, Any]) -> BaseModel:
    model = CLIENT_EVENTS.validate_python(event)
    assert_no_extras(model)
    return model

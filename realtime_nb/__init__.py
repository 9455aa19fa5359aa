"""realtime-nb: talk to the OpenAI Realtime API from a notebook and see every event.

Public names are loaded lazily so ``import realtime_nb`` stays fast (numpy, websockets, pandas,
the stand-in server and the widget load only when first used).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_LAZY: dict[str, str] = {
    "RealtimeSession": "realtime_nb.session",
    "Response": "realtime_nb.session",
    "Session": "realtime_nb.sync",
    "connect": "realtime_nb.sync",
    "EventLog": "realtime_nb.events",
    "Conversation": "realtime_nb.conversation",
    "LocalServer": "realtime_nb.server",
    "RealtimeWidget": "realtime_nb.widget",
    "resolve_endpoint": "realtime_nb.endpoint",
}
_ERRORS = (
    "RealtimeError",
    "UsageError",
    "AudioFormatError",
    "ProtocolError",
    "ConnectionClosed",
    "SessionExpired",
    "ServerError",
    "AuthenticationError",
    "ModelNotFoundError",
    "ActiveResponseError",
    "ResponseFailed",
    "RealtimeTimeout",
)
_LAZY.update(dict.fromkeys(_ERRORS, "realtime_nb.errors"))

__all__ = [
    "ActiveResponseError",
    "AudioFormatError",
    "AuthenticationError",
    "ConnectionClosed",
    "Conversation",
    "EventLog",
    "LocalServer",
    "ModelNotFoundError",
    "ProtocolError",
    "RealtimeError",
    "RealtimeSession",
    "RealtimeTimeout",
    "RealtimeWidget",
    "Response",
    "ResponseFailed",
    "ServerError",
    "Session",
    "SessionExpired",
    "UsageError",
    "__version__",
    "connect",
    "resolve_endpoint",
]

if TYPE_CHECKING:
    from .conversation import Conversation
    from .endpoint import resolve_endpoint
    from .errors import (
        ActiveResponseError,
        AudioFormatError,
        AuthenticationError,
        ConnectionClosed,
        ModelNotFoundError,
        ProtocolError,
        RealtimeError,
        RealtimeTimeout,
        ResponseFailed,
        ServerError,
        SessionExpired,
        UsageError,
    )
    from .events import EventLog
    from .server import LocalServer
    from .session import RealtimeSession, Response
    from .sync import Session, connect
    from .widget import RealtimeWidget


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'realtime_nb' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))

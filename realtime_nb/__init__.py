"""realtime-nb: talk to the OpenAI Realtime API from a notebook and see every event.

The top level holds what a user reaches for: the widget, the blocking and async sessions, the
offline stand-in, the response value and the exceptions. Everything else stays in its module
(``realtime_nb.events.EventLog``, ``realtime_nb.endpoint.resolve_endpoint``,
``realtime_nb.client_protocol.ClientProtocol``, ``realtime_nb.testing.MemoryPair`` …).

Public names are loaded lazily so ``import realtime_nb`` stays fast (numpy, websockets, pandas,
the stand-in server and the widget load only when first used).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_LAZY: dict[str, str] = {
    "RealtimeSession": "realtime_nb.session",
    "Response": "realtime_nb.response",
    "Session": "realtime_nb.sync",
    "connect": "realtime_nb.sync",
    "LocalServer": "realtime_nb.server",
    "RealtimeWidget": "realtime_nb.widget",
    "load": "realtime_nb.recording",
    "evaluate": "realtime_nb.evaluation",
    "compare": "realtime_nb.evaluation",
    "redrive": "realtime_nb.evaluation",
    "Case": "realtime_nb.evaluation",
}
_ERRORS = (
    "RealtimeError",
    "UsageError",
    "AudioFormatError",
    "SendQueueFull",
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
    "Case",
    "ConnectionClosed",
    "LocalServer",
    "ModelNotFoundError",
    "ProtocolError",
    "RealtimeError",
    "RealtimeSession",
    "RealtimeTimeout",
    "RealtimeWidget",
    "Response",
    "ResponseFailed",
    "SendQueueFull",
    "ServerError",
    "Session",
    "SessionExpired",
    "UsageError",
    "__version__",
    "compare",
    "connect",
    "evaluate",
    "load",
    "redrive",
]

if TYPE_CHECKING:
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
        SendQueueFull,
        ServerError,
        SessionExpired,
        UsageError,
    )
    from .evaluation import Case, compare, evaluate, redrive
    from .recording import load
    from .response import Response
    from .server import LocalServer
    from .session import RealtimeSession
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

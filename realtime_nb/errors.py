"""The exception tree of realtime-nb.

One root, :class:`RealtimeError`. *Local* errors mean the caller misused the API
(:class:`UsageError`, :class:`AudioFormatError`); *remote* errors mean the server or the
network did something (:class:`ServerError` and its children, :class:`ConnectionClosed`,
:class:`ProtocolError`). Every message says what happened and what to do next.

    RealtimeError
    ├── UsageError                 you called something in a way that cannot work
    │   ├── AudioFormatError       bytes that are not audio, a bad sample rate or dtype
    │   └── SendQueueFull          more was queued than the socket has taken (back-pressure)
    ├── ProtocolError              the peer sent something that is not the Realtime protocol
    ├── ConnectionClosed           the socket closed (normal or not); see .code / .reason
    │   └── SessionExpired         the server ended the session at its maximum duration
    ├── ServerError                an ``error`` event from the server (code, param, message)
    │   ├── AuthenticationError    bad or missing API key (close 3000)
    │   ├── ModelNotFoundError     unknown or missing model, beta shape refused (close 4000)
    │   └── ActiveResponseError    a response is already in progress
    ├── ResponseFailed             ``ask`` got a response that ended with status ``failed``
    └── RealtimeTimeout            waited longer than asked for an event
"""

from __future__ import annotations

from typing import Any


class RealtimeError(Exception):
    """Root of every exception raised by realtime-nb."""


class UsageError(RealtimeError, ValueError):
    """The API was called in a way that cannot work; the message says how to call it."""


class AudioFormatError(UsageError):
    """Audio input that cannot be used: not audio, unknown dtype, or an impossible rate."""


class SendQueueFull(UsageError):
    """The send queue holds more bytes than its bound: the server reads slower than you send.

    Raised by the non-waiting senders (``send_nowait``); the waiting ones (``await send``,
    ``send_audio``) wait for room instead, up to their deadline.
    """


class ProtocolError(RealtimeError):
    """The peer sent a frame that is not valid Realtime protocol (bad JSON, no ``type``...)."""


class ConnectionClosed(RealtimeError):
    """The WebSocket closed. ``code`` and ``reason`` are what the server sent, if anything."""

    def __init__(self, message: str, code: int | None = None, reason: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason


class SessionExpired(ConnectionClosed):
    """The server closed the session at its maximum duration (close 1001, ``session_expired``)."""


class ServerError(RealtimeError):
    """An ``error`` event sent by the server.

    ``code``, ``param``, ``type`` and ``message`` are copied from the event's ``error`` object;
    ``event`` is the whole event dict, ``client_event_id`` the id of the client event it blames.
    """

    def __init__(self, message: str, event: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.event: dict[str, Any] = event or {}
        err = self.event.get("error") or {}
        self.code: str | None = err.get("code")
        self.param: str | None = err.get("param")
        self.type: str | None = err.get("type")
        self.server_message: str = err.get("message") or ""
        self.client_event_id: str | None = err.get("event_id")


class AuthenticationError(ServerError):
    """The server refused the API key (``invalid_api_key`` or no key at all)."""


class ModelNotFoundError(ServerError):
    """The server refused the model (``invalid_model``, ``missing_model``) or the beta shape."""


class ActiveResponseError(ServerError):
    """``response.create`` was sent while another response was still in progress."""


class ResponseFailed(RealtimeError):
    """``ask`` got a response whose status is ``failed``; ``response`` holds what arrived.

    ``cancelled`` (a barge-in, ``cancel_response``) and ``incomplete`` (``max_output_tokens``,
    content filter) are ordinary outcomes that still carry useful output: ``ask`` returns those
    with ``status`` and ``status_details`` set (``Response.ok`` is False) instead of raising.
    """

    def __init__(self, message: str, response: Any = None) -> None:
        super().__init__(message)
        self.response = response


class ModelShutdownWarning(FutureWarning):
    """The session's model has an announced shutdown date (or is shut down): move off it."""


class RealtimeTimeout(RealtimeError, TimeoutError):
    """Waited longer than the given timeout for the server."""


_ADVICE = {
    "invalid_api_key": (
        AuthenticationError,
        "The server rejected the API key. Check OPENAI_API_KEY (or pass api_key=...); for "
        "Azure pass azure_endpoint='https://RESOURCE.openai.azure.com' so the key goes in the "
        "'api-key' header (or bearer_token=... for an Entra token).",
    ),
    "missing_model": (
        ModelNotFoundError,
        "No model was given. Pass model='gpt-realtime-2' (or your Azure deployment name).",
    ),
    "invalid_model": (
        ModelNotFoundError,
        "The server does not know this model in realtime mode. Use e.g. "
        "model='gpt-realtime-2' (or your Azure deployment name).",
    ),
    "beta_api_shape_disabled": (
        ModelNotFoundError,
        "The server no longer accepts the beta protocol. Use the GA protocol (beta=False).",
    ),
    "conversation_already_has_active_response": (
        ActiveResponseError,
        "A response is already in progress. Wait for it (await the previous ask) or cancel it "
        "with cancel_response() first.",
    ),
}


def server_error_from_event(event: dict[str, Any]) -> ServerError:
    """Build the most specific :class:`ServerError` for a server ``error`` event."""
    err = event.get("error") or {}
    code = err.get("code")
    message = err.get("message") or "unknown server error"
    cls, advice = _ADVICE.get(code or "", (ServerError, ""))
    if code is None and "authentication" in message.lower():
        cls, advice = AuthenticationError, _ADVICE["invalid_api_key"][1]
    text = f"Server error {code or err.get('type') or ''}: {message}".strip()
    if err.get("param"):
        text += f" (param: {err['param']})"
    if advice:
        text += f". {advice}"
    return cls(text, event)

"""The upgrade request and whether to admit it: routes, credentials, the beta header, the model.

The service answers every upgrade with 101 and refuses afterwards, with an ``error`` event and a
close (§1.4); :func:`admit` is that decision as a pure function, so the state machine only acts
on its verdict. Sans-I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import parse_qsl, urlsplit

from .. import protocol
from ..models import DEFAULT_MODEL, REALTIME_MODELS

#: Models the service admits on ``/v1/realtime`` (the SDK's session ``model`` Literal, kept in
#: :mod:`realtime_nb.models`); ``LocalServer(models=...)`` adds more.
KNOWN_MODELS: frozenset[str] = REALTIME_MODELS

Route = Literal["openai", "azure", "azure_preview"]
SessionKind = Literal["realtime", "transcription"]


@dataclass(frozen=True, slots=True)
class ConnectRequest:
    """The upgrade request: ``path`` (with query), lower-cased ``headers``, subprotocols."""

    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    subprotocols: tuple[str, ...] = ()

    @property
    def route(self) -> Route | None:
        return route(self.path)

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))

    def credential(self) -> str | None:
        """The API key from ``Authorization: Bearer``, ``api-key`` (header or query) or the
        browser subprotocol ``openai-insecure-api-key.<KEY>``; None when absent."""
        auth = self.headers.get("authorization", "")
        scheme, _, token = auth.strip().partition(" ")
        if scheme.lower() in ("bearer", "basic") and token.strip():
            return token.strip()
        if self.headers.get("api-key"):
            return self.headers["api-key"]
        if self.query.get("api-key"):
            return self.query["api-key"]
        for proto in self.subprotocols:
            if proto.startswith("openai-insecure-api-key."):
                return proto.split(".", 1)[1]
        return None

    def wants_beta(self) -> bool:
        return (
            self.headers.get("openai-beta", "").replace(" ", "").lower() == "realtime=v1"
            or "openai-beta.realtime-v1" in self.subprotocols
        )


def route(path: str) -> Route | None:
    """Which endpoint a request path is: ``/v1/realtime``, Azure GA, Azure preview, or None."""
    p = urlsplit(path).path.rstrip("/")
    return {
        "/v1/realtime": "openai",
        "/openai/v1/realtime": "azure",
        "/openai/realtime": "azure_preview",
    }.get(p)  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """Settings all connections of a server share (see :class:`.app.LocalServer`)."""

    api_key: str | None = None
    models: frozenset[str] = KNOWN_MODELS
    protocol: Literal["ga", "beta"] = "ga"
    audio_speed: float = 8.0
    max_session_s: float = 3600.0
    seed: int | None = None
    #: Seconds a response "thinks" between ``response.created`` and its first output: a model's
    #: time to first audio, so timelines and latency tables have something to show (0: none).
    think_s: float = 0.0
    #: The token budget ``rate_limits.updated`` reports per window (the service's is per minute
    #: and per organisation; the stand-in counts per connection).
    rate_limit_tokens: int = 40_000
    rate_limit_window_s: float = 60.0


@dataclass(frozen=True, slots=True)
class Admitted:
    """The connection may proceed: a ``kind`` session on ``model`` (None for transcription)."""

    kind: SessionKind
    model: str | None
    beta: bool


@dataclass(frozen=True, slots=True)
class Refused:
    """The connection is refused with an ``error`` (``code``, ``message``), then ``close_code``.

    ``beta`` says whether the beta shape had been accepted before the refusal (the state keeps it).
    """

    code: str | None
    message: str
    close_code: int
    beta: bool = False


def admit(request: ConnectRequest, config: ServerConfig) -> Admitted | Refused:
    """Check auth, the beta header and the model, in the service's order (§1.4)."""
    if config.api_key is not None:
        key = request.credential()
        if key is None:
            return Refused(
                None, "Missing bearer or basic authentication in header", protocol.CLOSE_AUTH_FAILED
            )
        if key != config.api_key:
            masked = ("*" * min(8, max(len(key) - 4, 0))) + key[-4:]
            return Refused(
                "invalid_api_key",
                f"Incorrect API key provided: {masked}. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
                protocol.CLOSE_AUTH_FAILED,
            )
    beta = False
    beta_route = request.route == "azure_preview" and config.protocol == "beta"
    if request.wants_beta() or beta_route:
        if config.protocol != "beta":
            return Refused(
                "beta_api_shape_disabled",  # message UNCONFIRMED; code and close observed
                "The beta Realtime API shape is disabled. Remove the 'OpenAI-Beta: "
                "realtime=v1' header and use the GA events and session shape.",
                protocol.CLOSE_BAD_REQUEST,
            )
        beta = True
    query = request.query
    model = query.get("deployment") if request.route == "azure_preview" else None
    model = model or query.get("model")
    kind: SessionKind = "realtime"
    if query.get("intent") == "transcription" and not model:
        kind = "transcription"
    elif query.get("call_id") and not model:
        model = DEFAULT_MODEL  # sideband: attach to an existing call (its model is unknown)
    elif not model:
        return Refused(
            "missing_model",
            "You must provide a model parameter, for example "
            "wss://api.openai.com/v1/realtime?model=gpt-realtime",
            protocol.CLOSE_BAD_REQUEST,
            beta,
        )
    elif request.route == "openai" and model not in config.models:
        # Azure deployments have arbitrary names: any non-empty one is accepted there.
        return Refused(
            "invalid_model",
            f'Model "{model}" is not supported in realtime mode. Use a Realtime model such '
            "as gpt-realtime.",
            protocol.CLOSE_BAD_REQUEST,
            beta,
        )
    return Admitted(kind, model, beta)


__all__ = [
    "KNOWN_MODELS",
    "Admitted",
    "ConnectRequest",
    "Refused",
    "ServerConfig",
    "admit",
    "route",
]

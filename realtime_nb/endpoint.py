"""Where to connect and which headers to send: OpenAI, Azure (GA and preview) or any compatible URL.

Pure and separate from the socket code so that tests can check exactly what would go on the
wire for every target (realtime-protocol.md §1.1–§1.2), without a network.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .errors import UsageError
from .models import DEFAULT_MODEL as DEFAULT_MODEL

OPENAI_REALTIME_URL = "wss://api.openai.com/v1/realtime"
# DEFAULT_MODEL (re-exported) is gpt-realtime-2: current, no shutdown date (see models.py).


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A resolved connection target. ``headers`` may hold the secret: never log or display it."""

    url: str
    headers: dict[str, str] = field(repr=False)
    azure: bool = False
    beta: bool = False

    @property
    def display_url(self) -> str:
        """The URL without any ``api-key`` query parameter, safe to show."""
        parts = urlsplit(self.url)
        query = [(k, v) for k, v in parse_qsl(parts.query) if k.lower() != "api-key"]
        return urlunsplit(parts._replace(query=urlencode(query)))

    def __repr__(self) -> str:  # the headers hold the key
        return f"Endpoint(url={self.display_url!r}, azure={self.azure}, beta={self.beta})"


def _ws_scheme(url: str) -> str:
    parts = urlsplit(url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    if scheme not in ("ws", "wss"):
        raise UsageError(
            f"Cannot connect to {url!r}: the URL must start with ws://, wss://, http:// or https://."
        )
    return urlunsplit(parts._replace(scheme=scheme))


def _with_query(url: str, **params: str | None) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    for key, value in params.items():
        if value is not None and key not in query:
            query[key] = value
    return urlunsplit(parts._replace(query=urlencode(query)))


def resolve_endpoint(
    url: str | None = None,
    *,
    api_key: str | None = None,
    model: str | None = DEFAULT_MODEL,
    azure: bool = False,
    azure_endpoint: str | None = None,
    api_version: str | None = None,
    bearer_token: str | None = None,
    beta: bool = False,
    extra_headers: dict[str, str] | None = None,
) -> Endpoint:
    """Build the URL and headers for a Realtime WebSocket.

    - OpenAI: ``wss://api.openai.com/v1/realtime?model=M`` with ``Authorization: Bearer KEY``
      (``OPENAI_API_KEY`` when ``api_key`` is None); ``beta=True`` adds the ``OpenAI-Beta``
      header.
    - Azure GA: ``azure_endpoint="https://RES.openai.azure.com"`` → ``…/openai/v1/realtime?
      model=DEPLOYMENT`` with ``api-key: KEY`` (or ``Authorization: Bearer`` for an Entra
      ``bearer_token``); never an ``api-version`` (the GA endpoint answers 401 to it).
    - Azure preview: also pass ``api_version`` → ``…/openai/realtime?api-version=V&deployment=D``.
    - Any other server (the stand-in, a proxy): pass ``url``; ``model`` is added unless present.

    Raises :class:`UsageError` for a URL that is not ws/wss/http/https, or Azure without endpoint.
    """
    headers: dict[str, str] = {}
    is_azure = azure or azure_endpoint is not None
    if is_azure:
        base = azure_endpoint or url
        if base is None:
            raise UsageError(
                "Azure needs its endpoint: pass azure_endpoint='https://<resource>.openai.azure.com'."
            )
        base = _ws_scheme(base).rstrip("/")
        if not urlsplit(base).path.endswith("realtime"):
            if base.endswith("/openai/v1") or base.endswith("/openai"):
                base = base.rsplit("/openai", 1)[0]
            base += "/openai/realtime" if api_version else "/openai/v1/realtime"
        if api_version:
            target = _with_query(base, **{"api-version": api_version, "deployment": model})
        else:
            target = _with_query(base, model=model)
        key = api_key if api_key is not None else os.environ.get("AZURE_OPENAI_API_KEY")
        if bearer_token:
            headers["Authorization"] = f"Bearer {bearer_token}"
        elif key:
            headers["api-key"] = key
    else:
        base = _ws_scheme(url) if url else OPENAI_REALTIME_URL
        target = _with_query(base, model=model)
        key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
        if bearer_token:
            key = bearer_token
        if key:
            headers["Authorization"] = f"Bearer {key}"
    if beta:
        headers["OpenAI-Beta"] = "realtime=v1"
    if extra_headers:
        headers.update(extra_headers)
    return Endpoint(url=target, headers=headers, azure=is_azure, beta=beta)

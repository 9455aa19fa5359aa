"""What would go on the wire for OpenAI, Azure GA, Azure preview and custom URLs (§1.1–§1.2).

The first half checks the resolved URL and headers exactly; the second half opens a real
WebSocket to a capture server on loopback and checks the request line and headers it received.
"""

from __future__ import annotations

import contextlib
import json

import pytest
from websockets.asyncio.server import serve

from realtime_nb.endpoint import resolve_endpoint
from realtime_nb.errors import UsageError
from realtime_nb.session import RealtimeSession

FAKE_KEY = "sk-test-123"


@pytest.fixture(autouse=True)
def no_env_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("AZURE_OPENAI_API_KEY", raising=False)


@pytest.mark.parametrize(
    ("kwargs", "url", "headers"),
    [
        (
            {"api_key": FAKE_KEY},
            "wss://api.openai.com/v1/realtime?model=gpt-realtime-2",
            {"Authorization": f"Bearer {FAKE_KEY}"},
        ),
        (
            {"api_key": FAKE_KEY, "model": "gpt-realtime-mini", "beta": True},
            "wss://api.openai.com/v1/realtime?model=gpt-realtime-mini",
            {"Authorization": f"Bearer {FAKE_KEY}", "OpenAI-Beta": "realtime=v1"},
        ),
        (
            {
                "api_key": FAKE_KEY,
                "azure_endpoint": "https://res.openai.azure.com",
                "model": "dep1",
            },
            "wss://res.openai.azure.com/openai/v1/realtime?model=dep1",
            {"api-key": FAKE_KEY},
        ),
        (
            {
                "api_key": FAKE_KEY,
                "azure_endpoint": "https://res.openai.azure.com/",
                "model": "dep1",
                "api_version": "2025-04-01-preview",
            },
            "wss://res.openai.azure.com/openai/realtime?api-version=2025-04-01-preview&deployment=dep1",
            {"api-key": FAKE_KEY},
        ),
        (
            {
                "azure_endpoint": "wss://res.openai.azure.com/openai/v1",
                "model": "d",
                "bearer_token": "entra-token",
            },
            "wss://res.openai.azure.com/openai/v1/realtime?model=d",
            {"Authorization": "Bearer entra-token"},
        ),
        (
            {"url": "http://127.0.0.1:8765/v1/realtime"},
            "ws://127.0.0.1:8765/v1/realtime?model=gpt-realtime-2",
            {},
        ),
        (
            {"url": "ws://h/v1/realtime?model=x", "api_key": "k"},
            "ws://h/v1/realtime?model=x",
            {"Authorization": "Bearer k"},
        ),
    ],
)
def test_resolved_url_and_headers(kwargs: dict, url: str, headers: dict) -> None:
    endpoint = resolve_endpoint(**kwargs)
    assert endpoint.url == url
    assert endpoint.headers == headers


def test_azure_ga_never_sends_api_version() -> None:
    endpoint = resolve_endpoint(azure_endpoint="https://r.openai.azure.com", api_key="k", model="d")
    assert "api-version" not in endpoint.url


def test_env_keys_are_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "az-env")
    assert resolve_endpoint().headers == {"Authorization": "Bearer sk-env"}
    azure = resolve_endpoint(azure_endpoint="https://r.openai.azure.com", model="d")
    assert azure.headers == {"api-key": "az-env"}


def test_key_never_in_repr() -> None:
    endpoint = resolve_endpoint(api_key="sk-secret-value")
    assert "sk-secret-value" not in repr(endpoint)
    query_key = resolve_endpoint("ws://h/v1/realtime?api-key=sk-secret-value")
    assert "sk-secret-value" not in query_key.display_url


@pytest.mark.parametrize("bad", ["ftp://x/realtime", "api.openai.com/v1/realtime"])
def test_bad_url_scheme(bad: str) -> None:
    with pytest.raises(UsageError, match="ws://"):
        resolve_endpoint(bad)


def test_azure_needs_endpoint() -> None:
    with pytest.raises(UsageError, match="azure_endpoint"):
        resolve_endpoint(azure=True)


async def _capture_server(captured: list[dict]):
    async def handler(ws) -> None:
        captured.append({"path": ws.request.path, "headers": dict(ws.request.headers.raw_items())})
        await ws.send(json.dumps({"type": "session.created", "event_id": "event_1", "session": {}}))
        with contextlib.suppress(Exception):
            await ws.wait_closed()

    return await serve(handler, "127.0.0.1", 0)


@pytest.mark.parametrize(
    ("kwargs", "path", "auth"),
    [
        (
            {"api_key": FAKE_KEY},
            "/v1/realtime?model=gpt-realtime-2",
            ("Authorization", f"Bearer {FAKE_KEY}"),
        ),
        (
            {"api_key": FAKE_KEY, "azure": True, "model": "dep"},
            "/openai/v1/realtime?model=dep",
            ("api-key", FAKE_KEY),
        ),
        (
            {
                "api_key": FAKE_KEY,
                "azure": True,
                "model": "dep",
                "api_version": "2024-10-01-preview",
            },
            "/openai/realtime?api-version=2024-10-01-preview&deployment=dep",
            ("api-key", FAKE_KEY),
        ),
    ],
)
async def test_handshake_on_the_wire(kwargs: dict, path: str, auth: tuple[str, str]) -> None:
    captured: list[dict] = []
    server = await _capture_server(captured)
    port = server.sockets[0].getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    if kwargs.pop("azure", False):
        kwargs["azure_endpoint"] = base
        url = None
    else:
        url = base + "/v1/realtime"
    try:
        async with RealtimeSession(url, **kwargs):
            pass
    finally:
        server.close()
        await server.wait_closed()
    assert captured[0]["path"] == path
    sent = {k.lower(): v for k, v in captured[0]["headers"].items()}
    assert sent[auth[0].lower()] == auth[1]
    assert "openai-beta" not in sent  # GA never sends the beta header
    # the key goes in exactly one header and nowhere in the URL
    assert FAKE_KEY not in captured[0]["path"]
    assert sum(FAKE_KEY in v for v in sent.values()) == 1


async def test_connect_refused_gives_clear_error() -> None:
    from realtime_nb.errors import ConnectionClosed

    with pytest.raises(ConnectionClosed, match="Could not open a WebSocket"):
        async with RealtimeSession("ws://127.0.0.1:9/v1/realtime", connect_timeout=2):
            pass

"""Misbehaving Realtime servers on loopback, for fault tests of the client.

A :class:`Peer` is a real WebSocket server on 127.0.0.1 (port 0) whose connection handler the
test writes: it can stop reading, read slowly, never send ``session.created``, refuse requests,
answer out of order, close with any code, or refuse the upgrade with an HTTP status. Its
listening socket has a small receive buffer so a peer that stops reading fills the client's
send path quickly.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

import websockets
from websockets.asyncio.server import Server, ServerConnection

Handler = Callable[["Peer", ServerConnection], Awaitable[None]]

SESSION = {
    "id": "sess_peer000000000000000",
    "object": "realtime.session",
    "type": "realtime",
    "model": "gpt-realtime",
    "output_modalities": ["audio"],
    "audio": {
        "input": {"format": {"type": "audio/pcm", "rate": 24000}, "turn_detection": None},
        "output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "alloy"},
    },
}


def event(type_: str, n: int = 0, **fields: Any) -> str:
    return json.dumps({"type": type_, "event_id": f"event_peer{n:017d}", **fields})


def created() -> str:
    return event("session.created", 1, session=SESSION)


class Peer:
    """A WebSocket server on loopback running ``handler(peer, ws)`` for each connection."""

    def __init__(
        self,
        handler: Handler,
        *,
        http_status: int | None = None,
        recv_buffer: int | None = 16 * 1024,
        max_queue: int = 1,
    ) -> None:
        self.handler = handler
        self.http_status = http_status
        self.recv_buffer = recv_buffer
        self.max_queue = max_queue
        self.received: list[dict[str, Any]] = []
        self.received_bytes = 0
        self.connections: list[ServerConnection] = []
        self.closed = asyncio.Event()  # the last connection ended
        self._server: Server | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"ws://127.0.0.1:{port}/v1/realtime?model=gpt-realtime"

    async def __aenter__(self) -> Peer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if self.recv_buffer:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.recv_buffer)
        sock.bind(("127.0.0.1", 0))
        self._server = await websockets.serve(
            self._handle,
            sock=sock,
            max_queue=self.max_queue,
            max_size=None,
            ping_interval=None,
            compression=None,
            process_request=self._process_request if self.http_status else None,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        for ws in self.connections:  # a stalled handler would hold the close handshake
            if ws.transport is not None:
                ws.transport.abort()
        self._server.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._server.wait_closed(), 2.0)

    def _process_request(self, connection: ServerConnection, request: Any) -> Any:
        assert self.http_status is not None
        status = HTTPStatus(self.http_status)
        return connection.respond(status, f"{status.phrase}\n")

    async def _handle(self, ws: ServerConnection) -> None:
        self.connections.append(ws)
        self.closed.clear()
        try:
            await self.handler(self, ws)
        except websockets.ConnectionClosed:
            pass
        finally:
            self.closed.set()

    async def read(self, ws: ServerConnection) -> dict[str, Any]:
        """The next client event (counted)."""
        frame = await ws.recv()
        self.received_bytes += len(frame)
        data = json.loads(frame)
        self.received.append(data)
        return data


# --- handlers ------------------------------------------------------------------------------------
async def stall(peer: Peer, ws: ServerConnection) -> None:
    """Say session.created, then never read again (and so never answer a ping)."""
    await ws.send(created())
    await ws.wait_closed()


async def silent(peer: Peer, ws: ServerConnection) -> None:
    """Complete the upgrade, then say nothing at all (no session.created)."""
    await ws.wait_closed()


async def ignore_everything(peer: Peer, ws: ServerConnection) -> None:
    """Say session.created and read everything, answering nothing."""
    await ws.send(created())
    while True:
        await peer.read(ws)


def slow_reader(bytes_per_s: float) -> Handler:
    """Read every frame, but no faster than ``bytes_per_s`` (a slow link)."""

    async def handler(peer: Peer, ws: ServerConnection) -> None:
        await ws.send(created())
        while True:
            before = peer.received_bytes
            await peer.read(ws)
            await asyncio.sleep((peer.received_bytes - before) / bytes_per_s)

    return handler


def close_with(code: int, reason: str = "") -> Handler:
    async def handler(peer: Peer, ws: ServerConnection) -> None:
        await ws.close(code, reason)

    return handler


async def refuse_updates(peer: Peer, ws: ServerConnection) -> None:
    """Answer every session.update with an error naming it (as the service does)."""
    await ws.send(created())
    while True:
        data = await peer.read(ws)
        if data["type"] == "session.update":
            error = {"type": "invalid_request_error", "code": "invalid_value",
                     "message": "Invalid value: 'nova'.", "param": "session.audio.output.voice",
                     "event_id": data.get("event_id")}  # fmt: skip
            await ws.send(event("error", 2, error=error))


def slow_answers(delay_s: float) -> Handler:
    """Answer item.create and response.create correctly, each reply ``delay_s`` late."""

    async def handler(peer: Peer, ws: ServerConnection) -> None:
        await ws.send(created())
        while True:
            data = await peer.read(ws)
            await asyncio.sleep(delay_s)
            if data["type"] == "conversation.item.create":
                item = {**data["item"], "object": "realtime.item", "status": "completed"}
                await ws.send(event("conversation.item.added", 3, previous_item_id=None, item=item))

    return handler


async def reversed_responses(peer: Peer, ws: ServerConnection) -> None:
    """Take two response.create, then announce them in the opposite order (metadata echoed)."""
    await ws.send(created())
    pending: list[dict[str, Any]] = []
    n = 10
    while True:
        data = await peer.read(ws)
        if data["type"] != "response.create":
            continue
        pending.append(data)
        if len(pending) < 2:
            continue
        for i, request in enumerate(reversed(pending)):
            params = request.get("response") or {}
            rid = f"resp_peer{i:016d}"
            response = {"id": rid, "object": "realtime.response", "status": "in_progress",
                        "output": [], "metadata": params.get("metadata"),
                        "conversation_id": None}  # fmt: skip
            n += 1
            await ws.send(event("response.created", n, response=response))
        for i, request in enumerate(reversed(pending)):
            rid = f"resp_peer{i:016d}"
            said = (request.get("response") or {}).get("instructions")
            item = {"id": f"item_peer{i:016d}", "object": "realtime.item", "type": "message",
                    "role": "assistant", "status": "completed",
                    "content": [{"type": "output_text", "text": said}]}  # fmt: skip
            n += 1
            await ws.send(event("response.output_item.done", n, response_id=rid,
                                output_index=0, item=item))  # fmt: skip
            done = {"id": rid, "object": "realtime.response", "status": "completed",
                    "output": [item], "metadata": (request.get("response") or {}).get("metadata"),
                    "conversation_id": None, "usage": None}  # fmt: skip
            n += 1
            await ws.send(event("response.done", n, response=done))
        pending.clear()

"""The session's send queue: bounded in bytes, with a stated rule for each kind of sender.

Why a queue of our own: frames must leave in the order they were made (an append before the
commit that ends its turn), senders on the session loop must never block it, and a peer that
reads slower than we write must not make memory grow. The rule:

- ``put_nowait`` (the raw ``send_nowait`` escape hatch, requests) raises :class:`SendQueueFull`
  when the frame would take the queue past ``limit`` bytes;
- ``await put(...)`` (``send``, ``send_audio`` with a file or array) waits for room up to a
  deadline, so a whole clip is delivered or the call raises;
- live microphone frames are *dropped* by the session when more than ``mic_limit`` bytes wait
  (late audio is worse than lost audio in a conversation), counted in the log.

A frame larger than ``limit`` on its own is let through when the queue is empty (it could never
fit otherwise); the protocol's own 15 MiB bound on appends keeps that finite.
"""

from __future__ import annotations

import asyncio
from collections import deque

from .client_protocol import Outgoing
from .errors import ConnectionClosed, RealtimeTimeout, SendQueueFull

#: Bytes (serialised JSON) the send queue holds at most.
SEND_QUEUE_LIMIT = 16 * 1024 * 1024
#: Bytes waiting beyond which live microphone frames are dropped: about 16 s of PCM16 audio.
MIC_BACKLOG_LIMIT = 1024 * 1024


class SendQueue:
    """FIFO of :class:`Outgoing` frames bounded by their total size in bytes."""

    def __init__(self, limit: int = SEND_QUEUE_LIMIT) -> None:
        self.limit = limit
        self.nbytes = 0
        self._items: deque[Outgoing | None] = deque()
        self._changed = asyncio.Event()  # set on every put and get
        self._closed: ConnectionClosed | None = None

    def __len__(self) -> int:
        return len(self._items)

    def _fits(self, size: int) -> bool:
        return self.nbytes + size <= self.limit or not self._items

    def put_nowait(self, item: Outgoing) -> None:
        """Queue ``item`` or raise :class:`SendQueueFull` (or the close error)."""
        if self._closed is not None:
            raise self._closed
        if not self._fits(item.nbytes):
            raise SendQueueFull(
                f"The send queue holds {self.nbytes / 1e6:.1f} MB that the server has not read "
                f"yet (limit {self.limit / 1e6:.0f} MB), so {item.type!r} was not queued. The "
                "link is slower than what you send: use 'await session.send(...)' or "
                "send_audio(), which wait for room, or send less."
            )
        self._push(item)

    async def put(self, item: Outgoing, deadline: float | None) -> None:
        """Queue ``item``, waiting for room until ``deadline`` (loop time; None: no bound)."""
        loop = asyncio.get_running_loop()
        while True:
            if self._closed is not None:
                raise self._closed
            if self._fits(item.nbytes):
                self._push(item)
                return
            self._changed.clear()
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                raise RealtimeTimeout(
                    f"The send queue stayed full ({self.nbytes / 1e6:.1f} MB unsent) until the "
                    "deadline: the server reads slower than we send, or stopped reading."
                )
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                continue

    def _push(self, item: Outgoing) -> None:
        self._items.append(item)
        self.nbytes += item.nbytes
        self._changed.set()

    async def get(self) -> Outgoing | None:
        """The next frame (None: the queue was closed)."""
        while not self._items:
            self._changed.clear()
            await self._changed.wait()
        item = self._items.popleft()
        if item is not None:
            self.nbytes -= item.nbytes
        self._changed.set()
        return item

    def close(self, error: ConnectionClosed) -> list[Outgoing]:
        """Refuse new frames with ``error``; wake the reader; return the frames never sent."""
        self._closed = error
        left = [item for item in self._items if item is not None]
        self._items.clear()
        self.nbytes = 0
        self._items.append(None)
        self._changed.set()
        return left

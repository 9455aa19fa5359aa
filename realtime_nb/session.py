"""The async Realtime client: the asyncio edge around the sans-I/O ``ClientProtocol``.

The protocol decides everything (correlation, state, the log); this module owns what needs a
loop: the socket, the send queue (:mod:`realtime_nb.send_queue`), keepalive, deadlines, futures,
callbacks and iterators, and reconnecting.

Guarantees (each tested against a misbehaving peer on loopback):

- **Every wait has a bound.** Each verb takes a ``timeout`` that is a total deadline for the
  whole call, however many replies it waits for.
- **Dead peers are found.** A keepalive ping every ``keepalive_interval`` s must be answered
  within ``keepalive_timeout`` s — even while the send buffer is full, since the ping itself is
  under the deadline — so a peer that stops answering or reading is declared dead within
  ``keepalive_interval + keepalive_timeout`` (20 s by default), with a message that says so.
- **close() returns within ``close_timeout``** (2 s by default) on every path, including a
  failed connect, and leaves no task or socket behind.
- **Audio handed over is delivered whole or the call raises:** ``send_audio`` waits for room in
  the send queue and for the socket to take its last frame. Live microphone frames
  (:meth:`RealtimeSession.append_audio_nowait`) are the exception: when the backlog passes
  :data:`~realtime_nb.send_queue.MIC_BACKLOG_LIMIT` they are dropped by rule and counted, one
  row per run of drops.

The class is async and owns no thread; :mod:`realtime_nb.sync` runs it on a background loop for
notebook cells and the widget (DESIGN.md §2).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import numpy as np
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed as WSConnectionClosed
from websockets.exceptions import InvalidHandshake, InvalidStatus, InvalidURI

from . import audio as audio_mod
from . import protocol
from .client_protocol import ClientProtocol, Outgoing, Received
from .conversation import Conversation
from .correlation import Request, Watch
from .endpoint import DEFAULT_MODEL, Endpoint, resolve_endpoint
from .errors import (
    AuthenticationError,
    ConnectionClosed,
    ModelNotFoundError,
    RealtimeError,
    RealtimeTimeout,
    ResponseFailed,
    ServerError,
    UsageError,
    server_error_from_event,
)
from .events import EventLog, EventRow
from .response import Response, build_response
from .send_queue import MIC_BACKLOG_LIMIT, SEND_QUEUE_LIMIT, SendQueue

log = logging.getLogger(__name__)

EventCallback = Callable[[dict[str, Any]], Any]
AudioCallback = Callable[[str | None, str | None, bytes], Any]
ReconnectCallback = Callable[["RealtimeSession"], Any]

#: Events kept per async iterator before the oldest are dropped (counted in the log).
ITERATOR_QUEUE_SIZE = 10_000
#: The protocol's limit on one ``input_audio_buffer.append`` (§7), and the chunk it allows.
MAX_APPEND_BASE64 = 15 * 1024 * 1024
MAX_APPEND_MS = MAX_APPEND_BASE64 * 3 // 4 // 48 // 1000 * 1000
#: Default bounds (seconds); see the module docstring.
KEEPALIVE_INTERVAL = 10.0
KEEPALIVE_TIMEOUT = 10.0
CLOSE_TIMEOUT = 2.0
#: File extensions that make a string passed to ``ask`` mean a file, not text.
AUDIO_EXTENSIONS = (".wav", ".wave", ".mp3", ".flac", ".ogg", ".oga", ".opus", ".m4a", ".aac",
                    ".webm", ".pcm", ".raw", ".aiff", ".aif")  # fmt: skip


class RealtimeSession:
    """An async Realtime WebSocket session with a full event log and conversation state.

    ``url`` is any server speaking the protocol (the stand-in's ``srv.url``); with no ``url`` the
    OpenAI endpoint is used (or Azure with ``azure_endpoint=``). ``api_key`` defaults to
    ``OPENAI_API_KEY`` (``AZURE_OPENAI_API_KEY`` for Azure). ``session`` is applied with
    ``session.update`` right after connecting.

    Reconnecting (``reconnect=True``): after a recoverable close (1001 expiry, 1006 drop, 1011,
    1012, 1013) a new session is opened, the session config sent so far is replayed and, with
    ``replay_history=True``, the conversation's items too (assistant audio as its transcript);
    ``local.reconnecting``/``local.reconnected`` rows mark the seam and ``on_reconnect(session)``
    is called. Calls made while it reconnects raise :class:`ConnectionClosed`. With
    ``renew_before_expiry_s=S`` the session renews itself that long before the server's
    ``expires_at`` (the 60-minute cap), at a moment no response is active, so it never expires.

    Use as ``async with RealtimeSession(url) as s: r = await s.ask("hi")``.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        api_key: str | None = None,
        model: str = DEFAULT_MODEL,
        session: dict[str, Any] | None = None,
        azure_endpoint: str | None = None,
        api_version: str | None = None,
        bearer_token: str | None = None,
        beta: bool = False,
        extra_headers: dict[str, str] | None = None,
        retain_audio: bool = True,
        max_audio_seconds: float | None = 3600.0,
        max_rows: int | None = 50_000,
        connect_timeout: float = 15.0,
        keepalive_interval: float = KEEPALIVE_INTERVAL,
        keepalive_timeout: float = KEEPALIVE_TIMEOUT,
        close_timeout: float = CLOSE_TIMEOUT,
        send_queue_bytes: int = SEND_QUEUE_LIMIT,
        reconnect: bool = False,
        replay_history: bool = True,
        max_reconnects: int = 5,
        on_reconnect: ReconnectCallback | None = None,
        renew_before_expiry_s: float | None = None,
        endpoint: Endpoint | None = None,
    ) -> None:
        self.endpoint = endpoint or resolve_endpoint(
            url,
            api_key=api_key,
            model=model,
            azure_endpoint=azure_endpoint,
            api_version=api_version,
            bearer_token=bearer_token,
            beta=beta,
            extra_headers=extra_headers,
        )
        for name, value in (
            ("connect_timeout", connect_timeout),
            ("keepalive_interval", keepalive_interval),
            ("keepalive_timeout", keepalive_timeout),
            ("close_timeout", close_timeout),
        ):
            if not value > 0:
                raise UsageError(f"{name} must be a positive number of seconds, not {value!r}.")
        self.model = model
        self.initial_session = dict(session) if session else None
        self.connect_timeout = connect_timeout
        self.keepalive_interval = keepalive_interval
        self.keepalive_timeout = keepalive_timeout
        self.close_timeout = close_timeout
        self.reconnect = reconnect
        self.replay_history = replay_history
        self.max_reconnects = max_reconnects
        self.on_reconnect = on_reconnect
        if renew_before_expiry_s is not None and not reconnect:
            raise UsageError("renew_before_expiry_s needs reconnect=True (renewal is a reconnect).")
        self.renew_before_expiry_s = renew_before_expiry_s
        self.reconnects = 0
        self._renewing = False
        self.protocol = ClientProtocol(
            beta=self.endpoint.beta,
            retain_audio=retain_audio,
            max_audio_seconds=max_audio_seconds,
            max_rows=max_rows,
            event_id_prefix=f"evt_{os.getpid():x}{id(self) & 0xFFFF:04x}_",
        )
        self._send_queue_bytes = send_queue_bytes
        self._ws: ClientConnection | None = None
        self._queue: SendQueue | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._futures: dict[Request | Watch, asyncio.Future[dict[str, Any]]] = {}
        self._callbacks: dict[str, list[EventCallback]] = {}
        self._audio_callbacks: list[AudioCallback] = []
        self._iterators: set[asyncio.Queue[dict[str, Any] | None]] = set()
        self._iterator_drops = 0
        self._t0 = time.monotonic()
        self._dead_cause: str | None = None
        self._closing = False
        self._reconnecting: asyncio.Task[None] | None = None
        self._lost: asyncio.Event | None = None
        self._keepalive_task: asyncio.Task[None] | None = None

    # --- state (readable from any thread) --------------------------------------------------
    @property
    def events(self) -> EventLog:
        """Every frame sent and received, one row each (plus ``local.*`` rows)."""
        return self.protocol.events

    @property
    def conversation(self) -> Conversation:
        return self.protocol.conversation

    @property
    def session_config(self) -> dict[str, Any]:
        """The effective session, from the last ``session.created``/``session.updated``."""
        return self.protocol.session_config

    @property
    def requested_config(self) -> dict[str, Any]:
        """Every ``session.update`` sent, merged: what a reconnect replays."""
        return self.protocol.requested_config

    @property
    def close_code(self) -> int | None:
        return self.protocol.close_code

    @property
    def close_reason(self) -> str:
        return self.protocol.close_reason

    @property
    def closed_error(self) -> ConnectionClosed | None:
        """Why the socket closed (None while open or never opened)."""
        return self.protocol.closed

    @property
    def connected(self) -> bool:
        return self._ws is not None and self.protocol.closed is None

    @property
    def reconnecting(self) -> bool:
        return self._reconnecting is not None and not self._reconnecting.done()

    @property
    def dropped_audio_frames(self) -> int:
        return self.protocol.dropped_audio_frames

    @property
    def dropped_audio_bytes(self) -> int:
        return self.protocol.dropped_audio_bytes

    @property
    def queued_bytes(self) -> int:
        """Bytes waiting in the send queue (what the socket has not taken yet)."""
        return self._queue.nbytes if self._queue is not None else 0

    @property
    def input_format(self) -> audio_mod.AudioFormatName:
        return self.protocol.input_format

    @property
    def output_format(self) -> audio_mod.AudioFormatName | None:
        return self.protocol.output_format

    def now(self) -> tuple[float, float]:
        """(seconds since this session was made, wall-clock epoch seconds): the log's clocks."""
        return time.monotonic() - self._t0, time.time()

    def log_local(self, type_: str, payload: dict[str, Any] | None = None) -> EventRow:
        """Add a ``local.*`` row (call on the session's loop)."""
        t, wall = self.now()
        return self.protocol.local(type_, payload or {}, t, wall)

    # --- lifecycle ---------------------------------------------------------------------------
    async def connect(self) -> RealtimeSession:
        """Open the socket and wait for ``session.created``; apply ``session`` if given.

        Raises :class:`AuthenticationError` / :class:`ModelNotFoundError` when the server refuses
        the key or model (an ``error`` event and a close, or HTTP 401/403),
        :class:`ConnectionClosed` when the socket cannot be opened, :class:`RealtimeTimeout` on
        no ``session.created`` within ``connect_timeout``. After a failure nothing is left
        open: no socket, no task.
        """
        if self._ws is not None:
            raise UsageError("This session is already connected; create a new one to reconnect.")
        self._closing = False
        try:
            await self._open()
            if self.initial_session:
                await self.update_session(self.initial_session, timeout=self.connect_timeout)
        except BaseException:
            await self._teardown("the connect failed")
            raise
        return self

    async def _open(self) -> None:
        """Open a socket, start the reader/writer/keepalive, wait for ``session.created``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.connect_timeout
        url = self.endpoint.display_url
        self.log_local("local.connecting", {"url": url})
        try:
            ws = await asyncio.wait_for(
                websockets.connect(
                    self.endpoint.url,
                    additional_headers=self.endpoint.headers,
                    max_size=None,  # server frames can be large (item.retrieved with audio)
                    ping_interval=None,  # our own keepalive: it also bounds a full send buffer
                    open_timeout=None,
                    close_timeout=self.close_timeout / 2,
                    compression=None,
                ),
                self.connect_timeout,
            )
        except BaseException as exc:
            error = _connect_error(exc, url, self.connect_timeout)
            if error is None:
                raise
            self.log_local("local.connect_failed", {"error": str(error)})
            raise error from exc
        self._ws = ws
        self._dead_cause = None
        self.protocol.closed = None
        self.protocol.close_code, self.protocol.close_reason = None, ""
        self._queue = SendQueue(self._send_queue_bytes)
        self._lost = asyncio.Event()
        self.log_local("local.connected", {"url": url})
        first = self.protocol.requests.watch(lambda e: e["type"] in ("session.created", "error"))
        self._future_for(first)
        self._start(self._read_loop(ws), "reader")
        self._start(self._write_loop(ws, self._queue), "writer")
        self._keepalive_task = self._start(self._keepalive(ws), "keepalive")
        event = await self._await(first, deadline, "session.created")
        if event["type"] == "session.created" and self.renew_before_expiry_s is not None:
            expires_at = self.session_config.get("expires_at")
            if isinstance(expires_at, int | float) and not isinstance(expires_at, bool):
                delay = expires_at - time.time() - self.renew_before_expiry_s
                self._start(self._renew_later(ws, delay), "renewal")
        if event["type"] == "error":
            # the server refuses (key, model, shape) and closes: report its reason
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._lost.wait(), min(1.0, self.close_timeout))
            raise server_error_from_event(event)

    def _start(self, coro: Any, name: str) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro, name=f"realtime-nb-{name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def close(self) -> None:
        """Close the socket; returns within ``close_timeout`` and leaves no task behind.

        The log and the conversation stay readable. Idempotent.
        """
        self._closing = True
        await self._teardown("closed by close()")

    async def _teardown(self, cause: str) -> None:
        current = asyncio.current_task()
        if self._reconnecting is not None and self._reconnecting is not current:
            self._reconnecting.cancel()
        ws = self._ws
        if ws is not None and self.protocol.closed is None:
            self._dead_cause = self._dead_cause or cause
            try:
                await asyncio.wait_for(ws.close(), self.close_timeout * 0.6)
            except BaseException:  # a peer that does not answer the close handshake
                log.debug("close handshake failed", exc_info=True)
            finally:
                if ws.transport is not None:
                    ws.transport.abort()
        tasks = [task for task in self._tasks if task is not current]
        for task in tasks:
            if task.get_name() != "realtime-nb-reader":
                task.cancel()
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=self.close_timeout * 0.4)
            for task in pending:
                task.cancel()
        if ws is not None and self.protocol.closed is None:
            self._connection_lost(ws)  # the reader never ran (a failed connect)
        self._fail_pending(self.protocol.closed or ConnectionClosed("The session was closed."))

    async def wait_closed(self, timeout: float | None = None) -> ConnectionClosed | None:
        """Wait until the socket is gone (closed by either side); returns why, or None.

        Raises :class:`RealtimeTimeout` when it is still open after ``timeout`` seconds.
        """
        if self._lost is not None and not self._lost.is_set():
            try:
                await asyncio.wait_for(self._lost.wait(), timeout)
            except TimeoutError:
                raise RealtimeTimeout(f"The socket is still open after {timeout} s.") from None
        return self.protocol.closed

    async def __aenter__(self) -> RealtimeSession:
        return await self.connect()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- the three loops -----------------------------------------------------------------------
    async def _read_loop(self, ws: ClientConnection) -> None:
        try:
            async for frame in ws:
                t, wall = self.now()
                received = self.protocol.receive(frame, t, wall)
                if received is not None:
                    self._deliver(received)
        except WSConnectionClosed:
            pass
        except Exception as exc:  # a bug here must not hide the close
            log.exception("the reader failed")
            self.log_local("local.error", {"error": repr(exc), "while": "reading"})
        finally:
            self._connection_lost(ws)

    async def _write_loop(self, ws: ClientConnection, queue: SendQueue) -> None:
        while True:
            out = await queue.get()
            if out is None:
                return
            try:
                await ws.send(out.text)
            except WSConnectionClosed:
                t, wall = self.now()
                self.protocol.unsent(out, "socket closed", t, wall)
                _fail_written(out, self.protocol.closed)
                continue
            except asyncio.CancelledError:
                t, wall = self.now()
                self.protocol.unsent(out, "session closed while sending", t, wall)
                _fail_written(out, self.protocol.closed)
                raise
            t, wall = self.now()
            self.protocol.sent(out, t, wall)
            if out.written is not None and not out.written.done():
                out.written.set_result(True)

    async def _keepalive(self, ws: ClientConnection) -> None:
        interval, timeout = self.keepalive_interval, self.keepalive_timeout
        while True:
            await asyncio.sleep(interval)
            try:
                async with asyncio.timeout(timeout):
                    pong = await ws.ping()  # waits itself while the send buffer is full
                    await pong
            except TimeoutError:
                self._dead_cause = (
                    f"keepalive timed out: no pong within {timeout:g} s, so the server stopped "
                    "answering or reading"
                )
                self.log_local("local.keepalive_timeout", {"timeout_s": timeout})
                if ws.transport is not None:
                    ws.transport.abort()
                return
            except (WSConnectionClosed, ConnectionError):
                return

    async def _renew_later(self, ws: ClientConnection, delay: float) -> None:
        """Close this socket before the server's cap so that a reconnect renews the session."""
        await asyncio.sleep(max(delay, 0.0))
        for _ in range(600):  # wait (at most a minute) for a moment with no response running
            if self.conversation.active_response_id is None:
                break
            await asyncio.sleep(0.1)
        if ws is not self._ws or self.protocol.closed is not None:
            return
        self._renewing = True
        self._dead_cause = "renewing the session before the server's maximum duration"
        self.log_local("local.renewing", {"expires_at": self.session_config.get("expires_at")})
        try:
            await asyncio.wait_for(ws.close(1000, "renewing"), self.close_timeout)
        except BaseException:
            if ws.transport is not None:
                ws.transport.abort()
            raise

    def _connection_lost(self, ws: ClientConnection) -> None:
        if ws is not self._ws or self.protocol.closed is not None:
            return
        t, wall = self.now()
        error, failed = self.protocol.connection_lost(
            ws.close_code, ws.close_reason or "", t, wall, cause=self._dead_cause
        )
        for item in failed:
            self._resolve(item, error)
        if self._queue is not None:
            closed = self.protocol.closed or ConnectionClosed(str(error))
            for out in self._queue.close(closed):
                self.protocol.unsent(out, "socket closed", t, wall)
                _fail_written(out, closed)
        for queue in self._iterators:
            _put_dropping_oldest(queue, None)
        if self._lost is not None:
            self._lost.set()
        if self._keepalive_task is not None and self._keepalive_task is not asyncio.current_task():
            self._keepalive_task.cancel()
        if (
            self.reconnect
            and not self._closing
            and not self.reconnecting
            and self._dead_cause not in ("closed by close()", "the connect failed")
            and (self._renewing or self.protocol.recoverable(ws.close_code))
            and self.reconnects < self.max_reconnects
        ):
            self._renewing = False
            self._reconnecting = self._start(self._run_reconnect(ws.close_code), "reconnect")

    # --- delivery ------------------------------------------------------------------------------
    def _deliver(self, received: Received) -> None:
        for item in received.settled:
            self._resolve(item, self.protocol.failure(item))
        event, pcm = received.event, received.pcm
        type_ = event["type"]
        if pcm is not None and self._audio_callbacks and type_ == "response.output_audio.delta":
            for audio_cb in list(self._audio_callbacks):
                self._safe_call(audio_cb, event.get("item_id"), event.get("response_id"), pcm)
        for key in (type_, "*"):
            for cb in list(self._callbacks.get(key, ())):
                self._safe_call(cb, event)
        for queue in self._iterators:
            if _put_dropping_oldest(queue, event):
                self._iterator_drops += 1
                if self._iterator_drops in (1, 10, 100, 1000) or self._iterator_drops % 10_000 == 0:
                    self.log_local("local.iterator_overflow", {"dropped": self._iterator_drops})

    def handle_event(
        self, event: dict[str, Any], *, size: int, t: float, wall: float
    ) -> EventRow | None:
        """Process one parsed server event (public so recordings can be replayed through it)."""
        received = self.protocol.receive_event(event, size=size, t=t, wall=wall)
        self._deliver(received)
        return received.row

    def _safe_call(self, fn: Callable[..., Any], *args: Any) -> None:
        try:
            result = fn(*args)
            if asyncio.iscoroutine(result):
                task = self._start(result, "callback")
                task.add_done_callback(self._report_task_error)
        except Exception as exc:
            log.debug("callback %r failed", fn, exc_info=True)
            self.log_local("local.callback_error", {"callback": repr(fn), "error": repr(exc)})

    def _report_task_error(self, task: asyncio.Task[Any]) -> None:
        if not task.cancelled() and task.exception() is not None:
            self.log_local("local.callback_error", {"error": repr(task.exception())})

    # --- futures -------------------------------------------------------------------------------
    def _future_for(self, item: Request | Watch | None) -> asyncio.Future[dict[str, Any]]:
        if item is None:
            raise UsageError("This client event expects no reply to wait for.")
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        future.add_done_callback(_retrieve)  # no "exception was never retrieved" noise
        if item.settled:  # settled before anyone waited (e.g. failed on a closed session)
            error = self.protocol.failure(item)
            if error is None and item.reply is not None:
                future.set_result(item.reply)
            else:
                future.set_exception(error or ConnectionClosed("The session was closed."))
        else:
            self._futures[item] = future
        return future

    def _resolve(self, item: Request | Watch, error: BaseException | None) -> None:
        future = self._futures.pop(item, None)
        if future is None or future.done():
            return
        if error is not None:
            future.set_exception(error)
        elif item.reply is not None:
            future.set_result(item.reply)

    def _fail_pending(self, error: BaseException) -> None:
        for item in self.protocol.requests.fail_all():
            self._resolve(item, error)
        futures, self._futures = self._futures, {}
        for future in futures.values():
            if not future.done():
                future.set_exception(error)

    def _deadline(self, timeout: float | None) -> float | None:
        if timeout is None:
            return None
        if not timeout > 0:
            raise UsageError(f"timeout must be a positive number of seconds or None: {timeout!r}.")
        return asyncio.get_running_loop().time() + timeout

    async def _await(
        self, item: Request | Watch | None, deadline: float | None, what: str
    ) -> dict[str, Any]:
        if item is None:
            raise UsageError("This client event expects no reply to wait for.")
        future = self._futures.get(item)
        if future is None:
            future = self._future_for(item)
        remaining = None if deadline is None else deadline - asyncio.get_running_loop().time()
        try:
            if remaining is not None and remaining <= 0:
                raise TimeoutError
            return await asyncio.wait_for(asyncio.shield(future), remaining)
        except TimeoutError:
            self.protocol.requests.forget(item)
            self._futures.pop(item, None)
            future.cancel()
            raise RealtimeTimeout(
                f"No {what} from the server before the deadline. The server may be slow or the "
                "request was ignored; see session.events for what arrived."
            ) from None
        except asyncio.CancelledError:
            self.protocol.requests.forget(item)
            self._futures.pop(item, None)
            future.cancel()
            raise

    # --- sending -------------------------------------------------------------------------------
    def _check_open(self) -> SendQueue:
        if self.protocol.closed is not None:
            raise self.protocol.closed
        if self._ws is None or self._queue is None:
            raise UsageError("The session is not connected: use 'async with' or await connect().")
        return self._queue

    def send_nowait(self, event: dict[str, Any]) -> str:
        """Queue any client event as is (the raw escape hatch) and return its ``event_id``.

        Raises :class:`~realtime_nb.errors.SendQueueFull` when the send queue is full,
        :class:`UsageError` for an event JSON cannot carry (NaN, Infinity),
        :class:`ConnectionClosed` when the socket is closed.
        """
        queue = self._check_open()
        out = self.protocol.prepare(event)
        queue.put_nowait(out)
        return out.event_id

    async def send(self, event: dict[str, Any], *, timeout: float | None = 30.0) -> str:
        """Send any client event as is, waiting for room in the send queue; returns its id."""
        queue = self._check_open()
        out = self.protocol.prepare(event)
        await queue.put(out, self._deadline(timeout))
        return out.event_id

    async def _request(
        self,
        event: dict[str, Any],
        what: str,
        deadline: float | None,
        *,
        key: object = None,
    ) -> dict[str, Any]:
        queue = self._check_open()
        out = self.protocol.request(event, key=key)
        self._future_for(out.request)
        try:
            await queue.put(out, deadline)
        except BaseException:
            if out.request is not None:
                self.protocol.requests.forget(out.request)
                self._futures.pop(out.request, None)
            raise
        return await self._await(out.request, deadline, what)

    def append_audio_nowait(self, pcm: bytes, *, event_id: str | None = None) -> bool:
        """Send PCM16 24 kHz bytes as one ``input_audio_buffer.append`` (the microphone path).

        Call on the session loop. ``event_id`` names the append (the widget matches it with the
        stand-in's receipt times). Returns False when the frame was dropped by rule: the session
        is closed, or more than :data:`~realtime_nb.send_queue.MIC_BACKLOG_LIMIT` bytes wait to
        be sent (live audio that late is worse than a gap); drops are counted, one row per run.
        """
        if len(pcm) % 2:
            pcm = pcm[:-1]
        if self.protocol.closed is not None or self._queue is None:
            return self.drop_mic_audio(len(pcm), "session closed")
        if self._queue.nbytes > MIC_BACKLOG_LIMIT:
            return self.drop_mic_audio(
                len(pcm), f"send backlog over {MIC_BACKLOG_LIMIT // 1024} KiB (slow link)"
            )
        out = self.protocol.append_event(pcm, event_id=event_id)
        t, wall = self.now()
        self.protocol.end_drop_run(t, wall)
        if out is not None:
            self._queue.put_nowait(out)
        return True

    def drop_mic_audio(self, nbytes: int, reason: str) -> bool:
        """Count a live mic frame dropped by rule (one log row per run); returns False."""
        t, wall = self.now()
        self.protocol.drop_mic(nbytes, reason, t, wall)
        return False

    async def send_audio(
        self,
        source: np.ndarray | bytes | str | os.PathLike[str],
        sample_rate: int | None = None,
        *,
        chunk_ms: float = 40.0,
        realtime: bool = False,
        timeout: float | None = 120.0,
    ) -> float:
        """Append audio to the input buffer, all of it, and return its duration in ms.

        ``source`` is a WAV path, WAV bytes, raw PCM16 bytes (pass ``sample_rate``) or a numpy
        array of any dtype and rate (pass ``sample_rate``). It is resampled to 24 kHz mono,
        encoded in the session's input format and sent in ``chunk_ms`` chunks, paced in real
        time when ``realtime`` is true (as a microphone would). Returns when the socket has
        taken the last chunk: the clip is delivered whole, or this raises
        (:class:`RealtimeTimeout` when the link is too slow for ``timeout`` s — plus the clip's
        length when ``realtime`` — saying how much went; :class:`ConnectionClosed`).
        No reply is expected: with server VAD the server detects the turn; otherwise call
        :meth:`commit`.
        """
        samples = audio_mod.load_audio(source, sample_rate)
        queue = self._check_open()
        step = max(1, int(audio_mod.SAMPLE_RATE * chunk_ms / 1000))
        if (step * 2 + 2) // 3 * 4 > MAX_APPEND_BASE64:
            raise UsageError(
                f"chunk_ms={chunk_ms} makes appends larger than the protocol's 15 MiB limit "
                f"per input_audio_buffer.append; use chunk_ms <= {MAX_APPEND_MS}."
            )
        total_ms = len(samples) * 1000 / audio_mod.SAMPLE_RATE
        loop = asyncio.get_running_loop()
        deadline = self._deadline(timeout)
        if deadline is not None and realtime:
            deadline += total_ms / 1000
        start = loop.time()
        last: Outgoing | None = None
        offsets = range(0, len(samples), step)
        queued = 0
        try:
            for i, offset in enumerate(offsets):
                chunk = samples[offset : offset + step].tobytes()
                out = self.protocol.append_event(chunk, flush=i == len(offsets) - 1)
                if out is not None:
                    await queue.put(out, deadline)
                    last = out
                queued = offset + step
                if realtime:
                    delay = start + (i + 1) * chunk_ms / 1000 - loop.time()
                    if delay > 0:
                        await asyncio.sleep(delay)
                elif i % 32 == 31:
                    await asyncio.sleep(0)  # let the writer start on big inputs
            if last is not None:
                last.written = loop.create_future()
                last.written.add_done_callback(_retrieve)
                remaining = None if deadline is None else max(deadline - loop.time(), 0)
                await asyncio.wait_for(asyncio.shield(last.written), remaining)
        except (RealtimeTimeout, TimeoutError):
            sent_ms = min(queued, len(samples)) * 1000 / audio_mod.SAMPLE_RATE
            raise RealtimeTimeout(
                f"send_audio: the socket had not taken the whole clip ({total_ms:.0f} ms) after "
                f"{timeout} s; {sent_ms:.0f} ms was queued ({self.queued_bytes / 1e6:.1f} MB "
                "still unsent). The link is slower than the audio; pass a larger timeout."
            ) from None
        return total_ms

    # --- public verbs (shaped like the wire, as openai-python does) --------------------------
    async def update_session(
        self, session: dict[str, Any] | None = None, *, timeout: float | None = 30.0, **fields: Any
    ) -> dict[str, Any]:
        """Send ``session.update`` and return the effective session from ``session.updated``.

        Accepts the GA shape (``{"audio": {"input": {...}}}``) or keyword fields. Raises
        :class:`ServerError` when the server rejects the update (then nothing changed).
        """
        event = self.protocol.session_update_event({**(session or {}), **fields})
        reply = await self._request(event, "session.updated", self._deadline(timeout))
        session_out = reply.get("session")
        return session_out if isinstance(session_out, dict) else {}

    async def send_text(
        self, text: str, *, role: str = "user", timeout: float | None = 30.0
    ) -> str:
        """Add a text message to the conversation (no response); returns the item id."""
        return await self._send_text(text, role, self._deadline(timeout))

    async def _send_text(self, text: str, role: str, deadline: float | None) -> str:
        item_id = protocol.IdFactory().new("item", 21)
        if role == "user":
            item = protocol.user_text_item(text, item_id=item_id)
        elif role == "system":
            item = {
                "id": item_id,
                "type": "message",
                "role": "system",
                "content": [{"type": "input_text", "text": text}],
            }
        else:
            raise UsageError(f"role must be 'user' or 'system', not {role!r}.")
        return await self._create_item(item, deadline)

    async def create_item(
        self,
        item: dict[str, Any],
        *,
        previous_item_id: str | None = None,
        timeout: float | None = 30.0,
    ) -> str:
        """Add any conversation item (GA shape); returns its id (one is chosen if it has none)."""
        return await self._create_item(dict(item), self._deadline(timeout), previous_item_id)

    async def _create_item(
        self, item: dict[str, Any], deadline: float | None, previous_item_id: str | None = None
    ) -> str:
        item_id = item.setdefault("id", protocol.IdFactory().new("item", 21))
        await self._request(
            protocol.item_create(item, previous_item_id=previous_item_id),
            "conversation.item.added",
            deadline,
        )
        return str(item_id)

    async def commit(self, *, timeout: float | None = 30.0) -> str:
        """Commit the input buffer as a user item; returns its id (needs ≥ 100 ms of audio)."""
        reply = await self._request(
            protocol.input_audio_commit(), "input_audio_buffer.committed", self._deadline(timeout)
        )
        return str(reply.get("item_id"))

    async def clear_audio(self, *, timeout: float | None = 30.0) -> None:
        """Discard the uncommitted input audio."""
        await self._request(
            protocol.input_audio_clear(), "input_audio_buffer.cleared", self._deadline(timeout)
        )

    async def end_turn(self, *, timeout: float | None = 30.0) -> str | None:
        """Push-to-talk: commit the audio sent since the turn began and ask for a response.

        Returns the response id, or None when less than the 100 ms the server needs was
        captured (then a ``local.turn_too_short`` row says how much there was).
        """
        deadline = self._deadline(timeout)
        try:
            await self._request(
                protocol.input_audio_commit(), "input_audio_buffer.committed", deadline
            )
        except ServerError as exc:
            if exc.code != "input_audio_buffer_commit_empty":
                raise
            ms = self.conversation.pending_input_bytes / audio_mod.PCM16_BYTES_PER_MS
            self.log_local("local.turn_too_short", {"ms": round(ms, 1), "needed_ms": 100})
            return None
        return await self._create_response(None, deadline)

    async def create_response(
        self, response: dict[str, Any] | None = None, *, timeout: float | None = 30.0, **params: Any
    ) -> str:
        """Send ``response.create`` and return the id from *its* ``response.created``."""
        return await self._create_response({**(response or {}), **params}, self._deadline(timeout))

    async def _create_response(self, body: dict[str, Any] | None, deadline: float | None) -> str:
        reply = await self._request(
            protocol.response_create(body or None), "response.created", deadline
        )
        return str((reply.get("response") or {}).get("id"))

    async def cancel_response(
        self, response_id: str | None = None, *, timeout: float | None = 30.0
    ) -> dict[str, Any] | None:
        """Cancel the active response; returns its ``response.done`` (None if none was active)."""
        target = response_id or self.conversation.active_response_id
        try:
            done = await self._request(
                protocol.response_cancel(response_id),
                "response.done",
                self._deadline(timeout),
                key=target,
            )
        except ServerError as exc:
            if exc.code == "response_cancel_not_active":
                return None
            raise
        body = done.get("response")
        return body if isinstance(body, dict) else None

    async def cancel_active_response(self, *, timeout: float | None = 30.0) -> None:
        """Cancel the default conversation's active response, if there is one (a stop button)."""
        active = self.conversation.active_response_id
        if active is not None:
            await self.cancel_response(active, timeout=timeout)

    async def truncate(
        self,
        item_id: str,
        audio_end_ms: int,
        *,
        content_index: int = 0,
        timeout: float | None = 30.0,
    ) -> int:
        """Tell the server only ``audio_end_ms`` of an assistant item was heard.

        The value is clamped to the audio actually received for the item (never a guess past
        it); returns the value sent. Raises :class:`UsageError` for a negative or non-integer
        value, :class:`ServerError` if the server refuses.
        """
        if isinstance(audio_end_ms, bool) or not isinstance(audio_end_ms, int | np.integer):
            raise UsageError(f"audio_end_ms must be an integer number of ms, not {audio_end_ms!r}.")
        if audio_end_ms < 0:
            raise UsageError(f"audio_end_ms must be >= 0, not {audio_end_ms}.")
        value = self.protocol.clamp_truncate(item_id, int(audio_end_ms))
        await self._request(
            protocol.item_truncate(item_id, value, content_index),
            "conversation.item.truncated",
            self._deadline(timeout),
        )
        return value

    async def interrupt(
        self, item_id: str, played_samples: int, *, timeout: float | None = 30.0
    ) -> int | None:
        """Barge-in bookkeeping after the player stopped (DESIGN.md §3).

        ``played_samples`` is what the speaker really played of assistant item ``item_id`` (24 kHz
        samples, counted by the player, never guessed from the wall clock). Sends
        ``response.cancel`` first when the response is still active and the session does not
        auto-interrupt, then ``conversation.item.truncate`` with ``audio_end_ms =
        floor(played / 24)`` clamped to the audio received. Returns the ``audio_end_ms`` sent, or
        None when the item has no audio to truncate (nothing was received for it).
        """
        cancel, end_ms = self.protocol.truncate_plan(item_id, played_samples)
        if end_ms is None:
            return None
        deadline = self._deadline(timeout)
        if cancel is not None:
            remaining = None if deadline is None else deadline - asyncio.get_running_loop().time()
            await self.cancel_response(cancel, timeout=remaining)
        await self._request(
            protocol.item_truncate(item_id, end_ms, 0), "conversation.item.truncated", deadline
        )
        return end_ms

    async def delete_item(self, item_id: str, *, timeout: float | None = 30.0) -> None:
        await self._request(
            protocol.item_delete(item_id), "conversation.item.deleted", self._deadline(timeout)
        )

    async def retrieve_item(self, item_id: str, *, timeout: float | None = 30.0) -> dict[str, Any]:
        """Ask the server for an item as it holds it (``conversation.item.retrieved``)."""
        reply = await self._request(
            protocol.item_retrieve(item_id), "conversation.item.retrieved", self._deadline(timeout)
        )
        item = reply.get("item")
        return item if isinstance(item, dict) else {}

    async def send_function_output(
        self, call_id: str, output: str | dict[str, Any], *, timeout: float | None = 30.0
    ) -> str:
        """Add a ``function_call_output`` item for a tool call; returns the item id."""
        text = output if isinstance(output, str) else json.dumps(output, allow_nan=False)
        item = protocol.function_call_output_item(call_id, text)
        return await self._create_item(item, self._deadline(timeout))

    async def ask(
        self,
        message: str | np.ndarray | bytes | os.PathLike[str] | None = None,
        sample_rate: int | None = None,
        *,
        timeout: float | None = 120.0,
        **response_params: Any,
    ) -> Response:
        """Say something and wait for the whole answer (``response.done``).

        ``message`` is text, or audio (array with ``sample_rate``, WAV path/bytes) sent as a user
        ``input_audio`` item, or None to just ask for a response. Extra keywords go into
        ``response.create`` (``output_modalities=["text"]``, ``instructions=…``,
        ``conversation="none"``). ``timeout`` bounds the whole call.

        The answer is *this* request's response, even with other responses running (matched by
        ``response.metadata``; see :mod:`realtime_nb.correlation`). A ``cancelled`` or
        ``incomplete`` response is returned (``Response.ok`` is False); a ``failed`` one raises
        :class:`ResponseFailed`. A string ending in an audio extension (``"q.wav"``) must be an
        existing file (:class:`UsageError` otherwise: send text with :meth:`send_text`).
        """
        deadline = self._deadline(timeout)
        t_start = self.now()[0]
        queue = self._check_open()
        # prepared first: parameters JSON cannot carry fail before anything is sent
        out = self.protocol.request(protocol.response_create(response_params or None))
        request = out.request
        assert request is not None
        try:
            if isinstance(message, str) and not _names_audio_file(message):
                await self._send_text(message, "user", deadline)
            elif message is not None:
                samples = audio_mod.load_audio(message, sample_rate)
                wire = audio_mod.encode_for_format(samples, self.input_format)
                item = protocol.user_audio_item(audio_mod.b64encode_audio(wire))
                await self._create_item(item, deadline)
        except BaseException:
            self.protocol.requests.forget(request)
            raise

        def is_done(e: dict[str, Any]) -> bool:
            if e.get("type") != "response.done" or request.reply is None:
                return False
            return _response_id(e) == _response_id(request.reply)

        finished = self.protocol.requests.watch(is_done, blame_id=out.event_id)
        self._future_for(request)
        self._future_for(finished)
        try:
            await queue.put(out, deadline)
            created = await self._await(request, deadline, "response.created")
            done = await self._await(finished, deadline, "response.done")
        finally:
            self.protocol.requests.forget(request)
            self.protocol.requests.forget(finished)
            for item in (request, finished):
                future = self._futures.pop(item, None)
                if future is not None and not future.done():
                    future.cancel()
        result = build_response(
            self.conversation, _response_id(created) or "", t_start=t_start, done=done
        )
        if result.status == "failed":
            raise ResponseFailed(
                f"The response {result.id} failed: {result.status_details}. "
                "See session.events for the error.",
                result,
            )
        return result

    def response(
        self, response_id: str, *, t_start: float | None = None, done: dict | None = None
    ) -> Response:
        """Assemble a :class:`Response` from the conversation state."""
        return build_response(self.conversation, response_id, t_start=t_start, done=done)

    async def wait_for(
        self,
        type_: str,
        predicate: Callable[[dict[str, Any]], bool] | None = None,
        timeout: float | None = 30.0,
        after: int | None = None,
    ) -> dict[str, Any]:
        """Wait for the next server event of ``type_`` (and matching ``predicate``).

        With ``after=seq`` (e.g. ``session.events.last_seq`` taken before sending something), an
        event already logged after that row counts too, so a fast reply is never missed.
        """

        def match(e: dict[str, Any]) -> bool:
            return e["type"] == type_ and (predicate is None or predicate(e))

        deadline = self._deadline(timeout)
        if after is not None:
            for row in self.events.since(after):
                if row.direction == "server" and match(row.payload):
                    return row.payload
        if self.protocol.closed is not None:
            raise self.protocol.closed
        watch = self.protocol.requests.watch(match)
        self._future_for(watch)
        return await self._await(watch, deadline, type_)

    # --- reconnect -------------------------------------------------------------------------------
    async def _run_reconnect(self, code: int | None) -> None:
        old_session = self.protocol.session_id
        for attempt in range(1, self.max_reconnects - self.reconnects + 1):
            delay = min(0.2 * 2 ** (attempt - 1), 5.0)
            self.log_local(
                "local.reconnecting", {"attempt": attempt, "after_close": code, "delay_s": delay}
            )
            await asyncio.sleep(delay)
            self._ws = None
            try:
                await self._open()
                deadline = self._deadline(self.connect_timeout * 2)
                replay = self.protocol.replay_events(history=self.replay_history)
                for event in replay:
                    what = "session.updated" if event["type"] == "session.update" else "item"
                    await self._request(event, what, deadline)
            except (RealtimeError, OSError) as exc:
                self.log_local("local.reconnect_failed", {"attempt": attempt, "error": str(exc)})
                ws = self._ws
                if ws is not None and ws.transport is not None:
                    ws.transport.abort()
                continue
            self.reconnects += 1
            self.log_local(
                "local.reconnected",
                {"previous_session": old_session, "session": self.protocol.session_id,
                 "replayed_items": sum(e["type"] == "conversation.item.create" for e in replay)},
            )  # fmt: skip
            if self.on_reconnect is not None:
                self._safe_call(self.on_reconnect, self)
            return
        self.log_local("local.reconnect_gave_up", {"attempts": self.max_reconnects})

    # --- subscriptions -------------------------------------------------------------------------
    def on(self, type_: str, callback: EventCallback) -> Callable[[], None]:
        """Call ``callback(event)`` for each server event of ``type_`` (``"*"`` for all).

        Callbacks run on the session's loop; a coroutine result is scheduled as a task (cancelled
        by :meth:`close`). Errors in callbacks become ``local.callback_error`` rows instead of
        vanishing. Returns a function that unsubscribes.
        """
        self._callbacks.setdefault(type_, []).append(callback)

        def off() -> None:
            with contextlib.suppress(ValueError):
                self._callbacks[type_].remove(callback)

        return off

    def on_output_audio(self, callback: AudioCallback) -> Callable[[], None]:
        """Call ``callback(item_id, response_id, pcm16_bytes_24k)`` for each output audio delta."""
        self._audio_callbacks.append(callback)

        def off() -> None:
            with contextlib.suppress(ValueError):
                self._audio_callbacks.remove(callback)

        return off

    async def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        """Iterate over server events as they arrive; ends when the socket closes."""
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(ITERATOR_QUEUE_SIZE)
        if self.protocol.closed is not None:
            return
        self._iterators.add(queue)
        try:
            while True:
                event = await queue.get()
                if event is None:
                    return
                yield event
        finally:
            self._iterators.discard(queue)

    # --- reading back ------------------------------------------------------------------------
    @property
    def transcript(self) -> list[tuple[str, str]]:
        return self.conversation.transcript()

    def item_audio(self, item_id: str) -> np.ndarray:
        """The PCM (int16, 24 kHz) kept for an item, user or assistant."""
        item = self.conversation.item(item_id)
        if item is None:
            raise UsageError(f"No item {item_id!r} in this conversation.")
        return item.audio()


# --- helpers -------------------------------------------------------------------------------------
def _retrieve(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


def _fail_written(out: Outgoing, error: BaseException | None) -> None:
    if out.written is not None and not out.written.done():
        out.written.set_exception(error or ConnectionClosed("The session was closed."))


def _put_dropping_oldest(queue: asyncio.Queue[Any], value: Any) -> bool:
    """Put ``value``; when full, drop the oldest first. Returns True when one was dropped."""
    dropped = False
    if queue.full():
        queue.get_nowait()
        dropped = True
    queue.put_nowait(value)
    return dropped


def _response_id(event: dict[str, Any]) -> str | None:
    response = event.get("response")
    value = response.get("id") if isinstance(response, dict) else None
    return value if isinstance(value, str) else None


def _names_audio_file(text: str) -> bool:
    """True when ``text`` is meant as an audio file; raises when that file does not exist."""
    stripped = text.strip()
    if "\n" in stripped or not stripped.lower().endswith(AUDIO_EXTENSIONS):
        return False
    if Path(stripped).expanduser().is_file():
        return True
    raise UsageError(
        f"ask({text!r}): there is no audio file {stripped!r} (relative to {os.getcwd()}). Fix "
        "the path, or to say these words as text use send_text() then create_response()."
    )


def _connect_error(exc: BaseException, url: str, timeout: float) -> RealtimeError | None:
    """The error to raise for a failed WebSocket open (None: re-raise ``exc`` as is)."""
    if isinstance(exc, InvalidStatus):
        status = exc.response.status_code
        if status in (401, 403):
            return AuthenticationError(
                f"{url} refused the credentials with HTTP {status}. Check OPENAI_API_KEY (or "
                "api_key=...); for Azure pass azure_endpoint=... so the key goes in the 'api-key' "
                "header, or bearer_token=... for an Entra token.",
                {"error": {"code": f"http_{status}", "message": f"HTTP {status}"}},
            )
        if status == 404:
            return ModelNotFoundError(
                f"{url} answered HTTP 404: there is no Realtime endpoint at this path. Check the "
                "URL (it ends in /v1/realtime, or /openai/v1/realtime on Azure) and the model.",
                {"error": {"code": "http_404", "message": "HTTP 404"}},
            )
        return ConnectionClosed(
            f"{url} refused the WebSocket upgrade with HTTP {status}. Is this a Realtime server?"
        )
    if isinstance(exc, TimeoutError):
        return ConnectionClosed(
            f"No WebSocket handshake from {url} within {timeout:g} s: the server accepted the "
            "connection but did not answer. Is it overloaded, or not a WebSocket server?"
        )
    if isinstance(exc, OSError | InvalidHandshake | InvalidURI):
        return ConnectionClosed(
            f"Could not open a WebSocket to {url}: {exc}. Is the server running and the URL "
            "right? (Offline: start realtime_nb.server.LocalServer, or leave url unset.)"
        )
    return None


__all__ = ["AudioCallback", "EventCallback", "RealtimeSession", "Response"]

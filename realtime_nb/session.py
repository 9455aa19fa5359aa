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
import datetime
import logging
import os
import ssl as ssl_module
import time
import warnings
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed as WSConnectionClosed
from websockets.exceptions import InvalidHandshake, InvalidStatus, InvalidURI

from . import audio as audio_mod
from .client_protocol import ClientProtocol, Outgoing, Received
from .conversation import Conversation
from .correlation import Request, Watch
from .endpoint import DEFAULT_MODEL, Endpoint, resolve_endpoint
from .errors import (
    AuthenticationError,
    ConnectionClosed,
    ModelNotFoundError,
    ModelShutdownWarning,
    RealtimeError,
    RealtimeTimeout,
    UsageError,
    server_error_from_event,
)
from .events import EventLog, EventRow
from .response import Response
from .send_queue import MIC_BACKLOG_LIMIT, SEND_QUEUE_LIMIT, SendQueue
from .tools import DEFAULT_TOOL_TIMEOUT, MAX_TOOL_ROUNDS, Tool, ToolRegistry, ToolRunner
from .tools.runner import Approve, ToolCallRecord
from .verbs import MAX_APPEND_BASE64, MAX_APPEND_MS, SessionVerbs, mark_retrieved

log = logging.getLogger(__name__)

EventCallback = Callable[[dict[str, Any]], Any]
AudioCallback = Callable[[str | None, str | None, bytes], Any]
ReconnectCallback = Callable[["RealtimeSession"], Any]

#: Events kept per async iterator before the oldest are dropped (counted in the log).
ITERATOR_QUEUE_SIZE = 10_000
#: Default bounds (seconds); see the module docstring.
KEEPALIVE_INTERVAL = 10.0
KEEPALIVE_TIMEOUT = 10.0
CLOSE_TIMEOUT = 2.0


class RealtimeSession(SessionVerbs):
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

    Tools (``docs/tools.md``): ``tools=[get_weather]``, :meth:`tool` (a decorator),
    :meth:`add_tool` and :meth:`remove_tool` register Python callables; their schema is sent
    with the session config, and the model's calls are run and answered (every output, then one
    ``response.create``, never while a response is active), each call within ``tool_timeout``
    seconds and after ``approve(call)`` when given.

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
        ssl: ssl_module.SSLContext | None = None,
        endpoint: Endpoint | None = None,
        tools: Iterable[Callable[..., Any]] | None = None,
        tool_timeout: float | None = DEFAULT_TOOL_TIMEOUT,
        approve: Approve | None = None,
        max_tool_rounds: int = MAX_TOOL_ROUNDS,
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
            today=datetime.date.today(),
        )
        self._send_queue_bytes = send_queue_bytes
        self.ssl = ssl  # for wss:// with a private CA (LocalServer(tls=True).client_ssl_context())
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
        self.tools = ToolRegistry(tool_timeout)
        for fn in tools or ():
            self.tools.add(fn)
        self._tool_runner = ToolRunner(self, self.tools, approve, max_tool_rounds)
        declared = (self.initial_session or {}).get("tools")
        self._declared_tools: list[Any] | None = list(declared) if declared else None
        self._tools_update: asyncio.Task[Any] | None = None
        #: held by an in-conversation ``ask`` (and ``send_audio``) for its whole turn: FIFO
        self._turn = asyncio.Lock()

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

    # --- tools -------------------------------------------------------------------------------
    @property
    def approve(self) -> Approve | None:
        """``approve(call) -> bool`` (or async) asked before each tool call; None runs all."""
        return self._tool_runner.approve

    @approve.setter
    def approve(self, value: Approve | None) -> None:
        self._tool_runner.approve = value

    @property
    def tool_calls(self) -> list[ToolCallRecord]:
        """Every tool call run so far (the newest 1,000): name, arguments, output, duration."""
        return list(self._tool_runner.records)

    def add_tool(
        self,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        timeout: float | None = None,
        description: str | None = None,
    ) -> Tool:
        """Register ``fn`` as a tool the model may call; returns its :class:`~.tools.Tool`.

        The schema comes from its type hints and docstring (:func:`~.tools.tool_schema`);
        ``timeout`` overrides the session's ``tool_timeout`` for it. When connected, a
        ``session.update`` with every tool (yours by hand plus the registered ones) is sent
        at once; the next ``ask`` waits for it. Call on the session's loop (the blocking
        :class:`~realtime_nb.sync.Session` does that for you).
        """
        tool = self.tools.add(fn, name=name, timeout=timeout, description=description)
        self._tools_changed()
        return tool

    def remove_tool(self, name: str) -> None:
        """Unregister the tool ``name`` and tell the server (when connected)."""
        self.tools.remove(name)
        self._tools_changed()

    def tool(
        self,
        fn: Callable[..., Any] | None = None,
        *,
        name: str | None = None,
        timeout: float | None = None,
        description: str | None = None,
    ) -> Any:
        """Decorator form of :meth:`add_tool`: ``@s.tool`` or ``@s.tool(name=..., timeout=...)``.

        Returns the function unchanged, so it can still be called directly.
        """

        def register(f: Callable[..., Any]) -> Callable[..., Any]:
            self.add_tool(f, name=name, timeout=timeout, description=description)
            return f

        return register if fn is None else register(fn)

    async def tools_ready(self, timeout: float | None = 30.0) -> None:
        """Wait until the server has the current tool list (its ``session.updated``).

        Raises the update's :class:`~realtime_nb.errors.ServerError` if the server refused it.
        """
        task = self._tools_update
        if task is not None and task is not asyncio.current_task():
            await asyncio.wait_for(asyncio.shield(task), timeout)

    def _tools_changed(self) -> None:
        if not self.connected:
            return  # part of the first session.update when connecting
        self._tools_update = self._start(self._push_tools(), "tools")
        self._tools_update.add_done_callback(self._report_tools_update)

    async def _push_tools(self) -> None:
        """Send the registered tools (with the hand-declared ones) in a ``session.update``."""
        body = {"tools": self.tools.merged(self._declared_tools)}
        event = self.protocol.session_update_event(body)
        await self._request(event, "session.updated", self._deadline(self.connect_timeout * 2))

    def _report_tools_update(self, task: asyncio.Task[Any]) -> None:
        if not task.cancelled() and task.exception() is not None:
            self.log_local("local.tool_error", {"kind": "update", "error": str(task.exception())})

    def _tools_config(self, session: dict[str, Any]) -> dict[str, Any]:
        """``session`` with the registered tools merged into its ``tools`` (hand-made kept)."""
        if "tools" in session:
            declared = session["tools"]
            self._declared_tools = list(declared) if isinstance(declared, list) else None
        elif not len(self.tools):
            return session
        return {**session, "tools": self.tools.merged(self._declared_tools)}

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
            if self.initial_session or len(self.tools):
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
                    **self._tls_options(),
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
        notice = self.protocol.model_notice
        if notice is not None and not self.reconnects:
            log.warning("%s", notice)
            warnings.warn(notice, ModelShutdownWarning, stacklevel=3)
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

    def _tls_options(self) -> dict[str, Any]:
        """``ssl=`` for websockets only when given (it refuses one for a ``ws://`` URL)."""
        return {"ssl": self.ssl} if self.ssl is not None else {}

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
        self._tool_runner.connection_lost(self.protocol.closed or error)
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
        try:
            self._tool_runner.on_event(event)
        except Exception as exc:  # a bug here must not stop delivery
            log.exception("the tool runner failed")
            self.log_local("local.tool_error", {"kind": "runner", "error": repr(exc)})
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
        future.add_done_callback(mark_retrieved)  # no "exception was never retrieved" noise
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
        if self.protocol.dropping:  # this frame got through: the run of drops ends here
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

    def save(
        self, path: str | os.PathLike[str], *, played_ms: dict[str, float] | None = None
    ) -> Path:
        """Write the session so far (events, conversation, audio) to one file (docs/recording.md).

        Safe while the session is live (a snapshot is taken). ``realtime_nb.load(path)`` reads
        it back without a connection. ``played_ms`` (item id → ms played) is what a player
        knows; the widget passes it.
        """
        from .recording import Recording

        return Recording.from_session(self, played_ms=played_ms, created=time.time()).save(path)


# --- helpers -------------------------------------------------------------------------------------
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


__all__ = [
    "MAX_APPEND_BASE64",
    "MAX_APPEND_MS",
    "AudioCallback",
    "EventCallback",
    "RealtimeSession",
    "Response",
]

"""The stand-in's I/O edge: a ``websockets`` server that feeds :mod:`.state` and sends its events.

All protocol decisions live in :class:`~.state.RealtimeServerProtocol`; this module owns the
socket, the clock, pacing timers, async responders and fault injection. Per connection there are
four tasks on one loop: a reader (frames → state), a pacer (sleeps until the state's next
deadline, then polls it), job runners (async responders/transcribers), and one writer that
sends everything the state produced in order through a single queue, applying faults.

Frames: the server accepts messages up to :data:`MAX_FRAME_BYTES` (16 MiB + 64 KiB), so a
``input_audio_buffer.append`` carrying the full 15 MiB of base64 fits; a bigger one gets the
service's ``string_above_max_length`` error while it still fits in a frame, and beyond that
websockets closes the connection with 1009 (message too big) — the real service's behaviour for
such frames is not known.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any, Literal, NamedTuple

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from .. import protocol
from .brain import Brain, default_responder
from .responders import Responder, ResponderContext, echo, load_script, scripted
from .state import (
    KNOWN_MODELS,
    CloseRequest,
    ConnectRequest,
    Job,
    RealtimeServerProtocol,
    ServerConfig,
    route,
)
from .tls import LocalTLS, make_local_tls
from .usage import RATE_LIMIT_TOKENS

log = logging.getLogger(__name__)

MAX_FRAME_BYTES = 16 * 1024 * 1024 + 64 * 1024


class TimelineEntry(NamedTuple):
    """One frame crossing the stand-in's socket: ``t`` is epoch seconds."""

    t: float
    direction: str  # "in" (client → server) or "out"
    connection: int
    type: str
    event_id: str | None
    item_id: str | None


#: How many received client frames and connection states the server keeps for inspection.
RECEIVED_LIMIT = 10_000
SESSIONS_LIMIT = 1_000
MALFORMED_FRAME = "this is not JSON {"
_STOP = object()


@dataclass(frozen=True, slots=True)
class Faults:
    """Misbehaviour to inject, per connection, for testing clients.

    - ``drop_after_events``: after sending N server events, abort the TCP connection (no close
      frame: the client sees 1006).
    - ``delay_s``: sleep this long before each server event.
    - ``malformed_after_events``: after the Nth server event, send one non-JSON text frame.
    - ``close_after_s``: close the socket normally after this many seconds with
      ``close_code``/``close_reason``.
    - ``expire_after_s``: end the session as at its maximum duration (``session_expired`` error,
      close 1001) after this many seconds.
    """

    drop_after_events: int | None = None
    delay_s: float = 0.0
    malformed_after_events: int | None = None
    close_after_s: float | None = None
    close_code: int = 1000
    close_reason: str = ""
    expire_after_s: float | None = None


def _resolve_responder(responder: Any) -> Callable[[ResponderContext], Any]:
    if responder is None:
        return default_responder()
    if responder == "echo":
        return echo
    if responder == "brain":
        return Brain()
    if isinstance(responder, (str, Path)):
        return load_script(responder)
    if isinstance(responder, (list, tuple)):
        return scripted(list(responder))
    if callable(responder):
        return responder
    raise TypeError(
        "responder must be 'echo', 'brain', a path to a JSON script, a list of replies or a "
        f"callable (ctx) -> Reply | str; got {type(responder).__name__}."
    )


class LocalServer:
    """A Realtime API stand-in on loopback: ``ws://127.0.0.1:<port>/v1/realtime?model=...``.

    Use it from synchronous code (``with LocalServer() as srv:`` runs it on a thread of its own)
    or on your loop (``async with LocalServer() as srv:``). ``port=0`` picks a free port;
    ``.url`` is what a client connects to (add ``?model=``), ``.base_url`` what openai-python's
    ``websocket_base_url`` wants.

    Args:
        responder: None (default: the offline :class:`~.brain.Brain` that listens with
            pocketsphinx and speaks with espeak-ng, or ``"echo"`` when those are not installed),
            ``"echo"``, ``"brain"``, a path to a JSON list of replies, a list of replies
            (see :func:`~.responders.scripted`), or any ``(ctx) -> Reply | str`` callable
            (sync or async). One responder serves every connection.
        api_key: when set, clients must present it (Bearer, ``api-key`` header or query, or
            the browser subprotocol); otherwise any key, or none, is accepted.
        models: model names accepted in addition to the known Realtime models.
        protocol: ``"ga"`` (the beta header is refused as today's service does) or ``"beta"``
            (clients sending ``OpenAI-Beta: realtime=v1`` get the beta event shapes).
        audio_speed: how many times faster than real time audio deltas are paced;
            ``float("inf")`` sends a whole response at once.
        max_session_s: session length before ``session_expired`` and close 1001.
        ping_interval: seconds between server PINGs (None: none).
        seed: makes every id deterministic (per connection).
        faults: :class:`Faults` to inject.
        tls: serve ``wss://`` with a throwaway certificate (clients trust :attr:`ca_path` or use
            :meth:`client_ssl_context`); needs ``pip install 'realtime-nb[tls]'``.
        transcriber: ``(pcm_int16_24k) -> str`` (sync or async) for input transcription; by
            default the responder's own ``.transcriber`` (the brain's pocketsphinx), else
            transcripts are the labelled "[stand-in: 1.4 s of audio]".
        think_s: seconds each response waits between ``response.created`` and its first
            output, like a model's time to first audio (0: answers at once). Lets timelines
            and latency tables show a latency worth reading.
        rate_limit_tokens, rate_limit_window_s: the token budget per window that
            ``rate_limits.updated`` reports after each response (40,000 per 60 s by default).
            Small values let a client's rate-limit handling be tested in seconds.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        responder: Responder | str | Path | Iterable[Any] | None = None,
        api_key: str | None = None,
        models: Iterable[str] | None = None,
        protocol: Literal["ga", "beta"] = "ga",
        audio_speed: float = 8.0,
        max_session_s: float = 3600,
        ping_interval: float | None = 20,
        seed: int | None = None,
        faults: Faults | None = None,
        transcriber: Callable[[Any], Any] | None = None,
        tls: bool = False,
        think_s: float = 0.0,
        rate_limit_tokens: int = RATE_LIMIT_TOKENS,
        rate_limit_window_s: float = 60.0,
    ) -> None:
        if protocol not in ("ga", "beta"):
            raise ValueError(f"protocol must be 'ga' or 'beta', not {protocol!r}.")
        if not audio_speed > 0:
            raise ValueError(
                f"audio_speed must be > 0 (float('inf') for no pacing), got {audio_speed}."
            )
        if not 0 <= think_s < 60:
            raise ValueError(f"think_s must be between 0 and 60 seconds, got {think_s}.")
        if not (rate_limit_tokens > 0 and rate_limit_window_s > 0):
            raise ValueError(
                "rate_limit_tokens and rate_limit_window_s must be positive, got "
                f"{rate_limit_tokens} and {rate_limit_window_s}."
            )
        if not max_session_s > 0:
            raise ValueError(f"max_session_s must be > 0, got {max_session_s}.")
        self.host = host
        self._requested_port = port
        self.port: int | None = None
        self.responder = _resolve_responder(responder)
        self.transcriber = transcriber or getattr(self.responder, "transcriber", None)
        self.tls = tls
        self._tls: LocalTLS | None = None
        self.faults = faults or Faults()
        self.ping_interval = ping_interval
        self.config = ServerConfig(
            api_key=api_key,
            models=KNOWN_MODELS | frozenset(models or ()),
            protocol=protocol,
            audio_speed=float(audio_speed),
            max_session_s=float(max_session_s),
            seed=seed,
            think_s=float(think_s),
            rate_limit_tokens=int(rate_limit_tokens),
            rate_limit_window_s=float(rate_limit_window_s),
        )
        self._received: deque[tuple[int, Any]] = deque(maxlen=RECEIVED_LIMIT)
        self._sessions: deque[RealtimeServerProtocol] = deque(maxlen=SESSIONS_LIMIT)
        self._timeline: deque[TimelineEntry] = deque(maxlen=RECEIVED_LIMIT * 2)
        self._lock = threading.Lock()
        self._counter = itertools.count()
        self._server: Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[asyncio.Task[Any]] = set()

    # ------------------------------------------------------------------ addresses
    @property
    def _netloc(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def url(self) -> str:
        """``ws://host:port/v1/realtime`` (clients add ``?model=...``)."""
        self._check_started()
        return f"{self._scheme}://{self._netloc}/v1/realtime"

    @property
    def base_url(self) -> str:
        """``ws://host:port/v1``: openai-python's ``websocket_base_url``."""
        self._check_started()
        return f"{self._scheme}://{self._netloc}/v1"

    @property
    def _scheme(self) -> str:
        return "wss" if self.tls else "ws"

    @property
    def ca_path(self) -> Path | None:
        """With ``tls=True``: the PEM file of the CA that signed this server's certificate."""
        return self._tls.ca_path if self._tls is not None else None

    def client_ssl_context(self) -> ssl.SSLContext | None:
        """With ``tls=True``: an SSL context that trusts this server (for ``ssl=`` arguments)."""
        return self._tls.client_context() if self._tls is not None else None

    def _check_started(self) -> None:
        if self.port is None:
            raise RuntimeError("The server has not been started: call start() or use 'with'.")

    @property
    def received(self) -> list[tuple[int, Any]]:
        """``(connection index, client event)`` for the last frames received, oldest first.

        The event is the parsed dict when the frame was a JSON object, else the raw text/bytes.
        """
        with self._lock:
            return list(self._received)

    @property
    def timeline(self) -> list[TimelineEntry]:
        """When each frame was received or sent (epoch s), for latency measurements."""
        with self._lock:
            return list(self._timeline)

    def _mark(self, entry: TimelineEntry) -> None:
        with self._lock:
            self._timeline.append(entry)

    @property
    def sessions(self) -> list[RealtimeServerProtocol]:
        """The state machine of each connection (last :data:`SESSIONS_LIMIT`), oldest first."""
        with self._lock:
            return list(self._sessions)

    def __repr__(self) -> str:
        where = self._netloc if self._server is not None else "not running"
        return f"LocalServer({where}, protocol={self.config.protocol!r})"

    # ------------------------------------------------------------------ lifecycle (async)
    async def astart(self) -> LocalServer:
        """Start serving on the running loop; returns self once the port is bound."""
        if self._server is not None:
            return self
        if self.tls and self._tls is None:
            self._tls = make_local_tls()
        self._server = await serve(
            self._handle,
            self.host,
            self._requested_port,
            process_request=self._process_request,
            select_subprotocol=self._select_subprotocol,
            max_size=MAX_FRAME_BYTES,
            ping_interval=self.ping_interval,
            ping_timeout=self.ping_interval,
            ssl=self._tls.server_context if self._tls is not None else None,
        )
        sock = next(iter(self._server.sockets))
        self.port = sock.getsockname()[1]
        log.info("Realtime stand-in listening on %s", self.url)
        return self

    async def astop(self) -> None:
        """Close every connection (1001) and stop listening (``port`` keeps its last value)."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        await server.wait_closed()
        for task in list(self._connections):
            task.cancel()
        if self._tls is not None:
            self._tls.cleanup()
            self._tls = None

    async def __aenter__(self) -> LocalServer:
        return await self.astart()

    async def __aexit__(self, *exc: object) -> None:
        await self.astop()

    # ------------------------------------------------------------------ lifecycle (threaded)
    def start(self) -> LocalServer:
        """Start on a background thread with its own event loop (for synchronous code)."""
        if self._thread is not None:
            return self
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def main() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(ready.set)
            loop.run_forever()

        thread = threading.Thread(target=main, name="realtime-nb-server", daemon=True)
        thread.start()
        ready.wait()
        self._loop, self._thread = loop, thread
        try:
            asyncio.run_coroutine_threadsafe(self.astart(), loop).result(10)
        except BaseException:
            self._shutdown_thread()
            raise
        return self

    def stop(self) -> None:
        """Stop the server started with :meth:`start` (no-op when not running)."""
        if self._loop is None:
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self.astop(), self._loop).result(10)
        self._shutdown_thread()

    def _shutdown_thread(self) -> None:
        loop, thread = self._loop, self._thread
        self._loop = self._thread = None
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        if not thread.is_alive():
            loop.close()

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ handshake
    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        where = route(request.path)
        if where is None:
            return connection.respond(HTTPStatus.NOT_FOUND, "Not Found\n")
        if where == "azure" and "api-version=" in request.path:
            # Azure's GA endpoint answers 401 to an api-version parameter (realtime-protocol §1.1)
            return connection.respond(
                HTTPStatus.UNAUTHORIZED, "The GA endpoint does not take an api-version.\n"
            )
        return None

    @staticmethod
    def _select_subprotocol(
        connection: ServerConnection, subprotocols: Iterable[Subprotocol]
    ) -> Subprotocol | None:
        return Subprotocol("realtime") if Subprotocol("realtime") in list(subprotocols) else None

    # ------------------------------------------------------------------ connections
    def _record(self, index: int, frame: Any) -> None:
        with self._lock:
            self._received.append((index, frame))

    async def _handle(self, ws: ServerConnection) -> None:
        index = next(self._counter)
        request = ws.request
        assert request is not None
        headers = {name.lower(): value for name, value in request.headers.raw_items()}
        offered: list[str] = []
        for value in request.headers.get_all("Sec-WebSocket-Protocol"):
            offered += [p.strip() for p in value.split(",") if p.strip()]
        seed = self.config.seed
        state = RealtimeServerProtocol(
            ConnectRequest(request.path, headers, tuple(offered)),
            self.config,
            responder=self.responder,
            transcriber=self.transcriber,
            ids=protocol.IdFactory(None if seed is None else seed * 1_000_003 + index),
        )
        with self._lock:
            self._sessions.append(state)
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
        try:
            await _Connection(self, ws, state, index).run()
        finally:
            if task is not None:
                self._connections.discard(task)


class _Connection:
    """The I/O for one socket: reader, pacer, job runners and the single writer."""

    def __init__(
        self, server: LocalServer, ws: ServerConnection, state: RealtimeServerProtocol, index: int
    ) -> None:
        self.server = server
        self.ws = ws
        self.state = state
        self.index = index
        self.faults = server.faults
        self.loop = asyncio.get_running_loop()
        self.out: asyncio.Queue[Any] = asyncio.Queue()
        self.wake = asyncio.Event()
        self.sent = 0
        self.tasks: set[asyncio.Task[Any]] = set()

    def _spawn(self, coro: Any) -> None:
        task = self.loop.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def push(self, events: list[dict[str, Any]]) -> None:
        """Queue the state's events for the writer, then its close request, then its jobs."""
        for event in events:
            self.out.put_nowait(event)
        if self.state.close is not None:
            self.out.put_nowait(self.state.close)
        for job in self.state.take_jobs():
            self._spawn(self._run_job(job))
        self.wake.set()

    async def run(self) -> None:
        log.debug("connection %d: %s", self.index, self.ws.request.path if self.ws.request else "")
        self.push(self.state.open(self.loop.time(), time.time()))
        if self.faults.expire_after_s is not None:
            self.state.expire_in(self.faults.expire_after_s, self.loop.time())
        if self.faults.close_after_s is not None:
            request = CloseRequest(self.faults.close_code, self.faults.close_reason)
            self.loop.call_later(self.faults.close_after_s, self.out.put_nowait, request)
        if self.state.close is None:
            self._spawn(self._reader())
            self._spawn(self._pacer())
        try:
            await self._writer()
        finally:
            for task in list(self.tasks):
                task.cancel()
            log.debug("connection %d closed (%s)", self.index, self.ws.close_code)

    async def _reader(self) -> None:
        try:
            async for frame in self.ws:
                now = self.loop.time()
                if isinstance(frame, bytes):
                    self.server._record(self.index, frame)
                    self.push(self.state.receive_bytes(frame, now))
                    continue
                try:
                    event = json.loads(frame)
                except ValueError:
                    event = None
                if isinstance(event, dict):
                    self.server._mark(
                        TimelineEntry(
                            time.time(),
                            "in",
                            self.index,
                            str(event.get("type")),
                            event.get("event_id"),
                            None,
                        )
                    )
                    self.server._record(self.index, event)
                    self.push(self.state.receive_event(event, now))
                else:
                    self.server._record(self.index, frame)
                    self.push(self.state.receive_text(frame, now))
        except ConnectionClosed:
            pass
        finally:
            self.out.put_nowait(_STOP)

    async def _pacer(self) -> None:
        while self.state.close is None:
            self.wake.clear()
            deadline = self.state.next_deadline()
            timeout = None if deadline is None else max(0.0, deadline - self.loop.time())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout)
            if self.state.close is None:
                self.push(self.state.poll(self.loop.time()))

    async def _run_job(self, job: Job) -> None:
        try:
            result, error = await job.awaitable, None
        except Exception as exc:
            result, error = None, exc
        self.push(self.state.resolve_job(job, result, error, self.loop.time()))

    async def _writer(self) -> None:
        faults = self.faults
        while True:
            item = await self.out.get()
            if item is _STOP:
                return
            try:
                if isinstance(item, CloseRequest):
                    reason = item.reason.encode()[:123].decode(errors="ignore")
                    await self.ws.close(item.code, reason)
                    return
                if faults.delay_s:
                    await asyncio.sleep(faults.delay_s)
                await self.ws.send(json.dumps(item, separators=(",", ":"), ensure_ascii=False))
                self.server._mark(
                    TimelineEntry(
                        time.time(),
                        "out",
                        self.index,
                        item.get("type", ""),
                        item.get("event_id"),
                        item.get("item_id"),
                    )
                )
                self.sent += 1
                if faults.malformed_after_events == self.sent:
                    await self.ws.send(MALFORMED_FRAME)
                if faults.drop_after_events == self.sent:
                    log.debug("connection %d: dropping the socket (fault)", self.index)
                    self.ws.transport.abort()
                    return
            except ConnectionClosed:
                return

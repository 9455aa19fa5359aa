"""The async Realtime client: one WebSocket, the event log and the conversation state.

Everything that crosses the wire passes through here exactly once: received frames are parsed,
normalised (beta → GA), stripped of their base64 audio (decoded once, kept as PCM), logged as a
row, applied to the :class:`~realtime_nb.conversation.Conversation`, and then handed to waiters,
callbacks and iterators. Sent events are logged when they are written to the socket.

The class is async and owns no thread; :mod:`realtime_nb.sync` runs it on a background loop for
notebook cells and the widget (DESIGN.md §2).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed as WSConnectionClosed
from websockets.exceptions import InvalidHandshake, InvalidURI

from . import audio as audio_mod
from . import protocol
from .conversation import Conversation, ConversationItem
from .endpoint import DEFAULT_MODEL, Endpoint, resolve_endpoint
from .errors import (
    ConnectionClosed,
    ProtocolError,
    RealtimeError,
    RealtimeTimeout,
    ResponseFailed,
    ServerError,
    SessionExpired,
    UsageError,
    server_error_from_event,
)
from .events import EventLog, EventRow, audio_marker, extract_audio

log = logging.getLogger(__name__)

EventCallback = Callable[[dict[str, Any]], Any]
AudioCallback = Callable[[str | None, str | None, bytes], Any]

#: Bytes waiting in the send queue beyond which audio from the browser is dropped (counted).
MAX_QUEUED_BYTES = 8 * 1024 * 1024
#: Events kept per async iterator before the oldest are dropped (counted in the log).
ITERATOR_QUEUE_SIZE = 10_000
#: The protocol's limit on one ``input_audio_buffer.append`` (§7), and the chunk it allows.
MAX_APPEND_BASE64 = 15 * 1024 * 1024
MAX_APPEND_MS = MAX_APPEND_BASE64 * 3 // 4 // 48 // 1000 * 1000
#: Longest raw text kept in a ``local.malformed_frame`` row.
MALFORMED_SNIPPET = 200


@dataclass(slots=True)
class Response:
    """The outcome of one model response, as :meth:`RealtimeSession.ask` returns it.

    ``audio`` is int16 PCM at 24 kHz; ``timing`` holds milliseconds from the request:
    ``created_ms`` (response.created), ``first_audio_ms``, ``first_text_ms``, ``done_ms``.
    """

    id: str
    status: str
    status_details: dict[str, Any] | None
    text: str
    transcript: str
    audio: np.ndarray
    usage: dict[str, Any] | None
    function_calls: list[dict[str, Any]] = field(default_factory=list)
    timing: dict[str, float | None] = field(default_factory=dict)
    sample_rate: int = audio_mod.SAMPLE_RATE

    @property
    def audio_ms(self) -> float:
        return len(self.audio) * 1000 / self.sample_rate

    def save_wav(self, path: str | os.PathLike[str]) -> Path:
        """Write the response's audio to a 24 kHz mono WAV file and return its path."""
        audio_mod.write_wav(path, self.audio, self.sample_rate)
        return Path(path)

    def __repr__(self) -> str:
        said = self.text or self.transcript
        return (
            f"Response(id={self.id!r}, status={self.status!r}, said={said[:60]!r}, "
            f"audio_ms={self.audio_ms:.0f}, function_calls={len(self.function_calls)})"
        )


class _Waiter:
    __slots__ = ("blame_id", "future", "predicate")

    def __init__(
        self,
        predicate: Callable[[dict[str, Any]], bool],
        future: asyncio.Future[dict[str, Any]],
        blame_id: str | None,
    ) -> None:
        self.predicate = predicate
        self.future = future
        self.blame_id = blame_id


class RealtimeSession:
    """An async Realtime WebSocket session with a full event log and conversation state.

    ``url`` is any server speaking the protocol (the stand-in's ``srv.url``); with no ``url`` the
    OpenAI endpoint is used (or Azure with ``azure_endpoint=``). ``api_key`` defaults to
    ``OPENAI_API_KEY`` (``AZURE_OPENAI_API_KEY`` for Azure). ``session`` is applied with
    ``session.update`` right after connecting.

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
        self.model = model
        self.initial_session = dict(session) if session else None
        self.connect_timeout = connect_timeout
        self.events = EventLog(max_rows=max_rows)
        self.conversation = Conversation(
            retain_audio=retain_audio, max_audio_seconds=max_audio_seconds
        )
        self.session_config: dict[str, Any] = {}
        self.requested_config: dict[str, Any] = {}
        self.close_code: int | None = None
        self.close_reason: str = ""
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._writer: asyncio.Task[None] | None = None
        self._outbox: asyncio.Queue[tuple[str, dict[str, Any], bytes | None] | None] | None = None
        self._queued_bytes = 0
        self._waiters: list[_Waiter] = []
        self._callbacks: dict[str, list[EventCallback]] = {}
        self._audio_callbacks: list[AudioCallback] = []
        self._iterators: set[asyncio.Queue[dict[str, Any] | None]] = set()
        self._ids = itertools.count(1)
        self._id_prefix = f"evt_{os.getpid():x}{id(self) & 0xFFFF:04x}_"
        self._t0 = time.monotonic()
        self._closed_error: ConnectionClosed | None = None
        self._last_error_event: dict[str, Any] | None = None
        self.dropped_audio_bytes = 0
        self._codecs: dict[str, audio_mod.StreamCodec] = {}
        self.dropped_audio_frames = 0

    # --- lifecycle -------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self._ws is not None and self._closed_error is None

    @property
    def input_format(self) -> audio_mod.AudioFormatName:
        fmt = ((self.session_config.get("audio") or {}).get("input") or {}).get("format")
        return audio_mod.format_name(fmt)

    @property
    def output_format(self) -> audio_mod.AudioFormatName:
        fmt = ((self.session_config.get("audio") or {}).get("output") or {}).get("format")
        return audio_mod.format_name(fmt)

    def _now(self) -> tuple[float, float]:
        return time.monotonic() - self._t0, time.time()

    async def connect(self) -> RealtimeSession:
        """Open the socket and wait for ``session.created``; apply ``session`` if given.

        Raises :class:`AuthenticationError` / :class:`ModelNotFoundError` when the server refuses
        the key or model (it answers with an ``error`` event and closes), :class:`ConnectionClosed`
        when the socket cannot be opened, :class:`RealtimeTimeout` on no answer.
        """
        if self._ws is not None:
            raise UsageError("This session is already connected; create a new one to reconnect.")
        t, wall = self._now()
        self.events.local("local.connecting", {"url": self.endpoint.display_url}, t=t, wall=wall)
        try:
            self._ws = await asyncio.wait_for(
                websockets.connect(
                    self.endpoint.url,
                    additional_headers=self.endpoint.headers,
                    max_size=None,  # server frames can be large (item.retrieved with audio)
                    ping_interval=20,
                    ping_timeout=20,
                    open_timeout=self.connect_timeout,
                    compression=None,
                ),
                self.connect_timeout,
            )
        except (OSError, InvalidHandshake, InvalidURI, TimeoutError) as exc:
            t, wall = self._now()
            self.events.local("local.connect_failed", {"error": repr(exc)}, t=t, wall=wall)
            raise ConnectionClosed(
                f"Could not open a WebSocket to {self.endpoint.display_url}: {exc}. Is the server "
                "running and the URL right? (Offline: start realtime_nb.server.LocalServer.)"
            ) from exc
        t, wall = self._now()
        self.events.local("local.connected", {"url": self.endpoint.display_url}, t=t, wall=wall)
        self._outbox = asyncio.Queue()
        first = self._wait(lambda e: e["type"] in ("session.created", "error"))
        self._reader = asyncio.create_task(self._read_loop(), name="realtime-nb-reader")
        self._writer = asyncio.create_task(self._write_loop(), name="realtime-nb-writer")
        event = await self._await(first, self.connect_timeout, "session.created")
        if event["type"] == "error":
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._reader), 2.0)
            await self.close()
            raise server_error_from_event(event)
        if self.initial_session:
            await self.update_session(self.initial_session)
        return self

    async def close(self) -> None:
        """Close the socket and stop the reader; the log and conversation stay readable."""
        if self._outbox is not None:
            self._outbox.put_nowait(None)
        if self._writer is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(self._writer, 2.0)
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()
        if self._reader is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(self._reader, 5.0)
        self._fail_all(self._closed_error or ConnectionClosed("The session was closed."))

    async def __aenter__(self) -> RealtimeSession:
        return await self.connect()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- receive path (hot) ----------------------------------------------------------------
    async def _read_loop(self) -> None:
        assert self._ws is not None
        ws = self._ws
        try:
            async for frame in ws:
                try:
                    self._handle_frame(frame)
                except Exception as exc:  # one bad frame must not end the session or the log
                    log.exception("could not handle a server frame")
                    t, wall = self._now()
                    self.events.local(
                        "local.error",
                        {"error": repr(exc), "text": str(frame)[:MALFORMED_SNIPPET]},
                        t=t,
                        wall=wall,
                    )
        except WSConnectionClosed:
            pass
        finally:
            self._on_closed(ws)

    def _handle_frame(self, frame: str | bytes) -> None:
        t, wall = self._now()
        if isinstance(frame, bytes):
            self.events.local(
                "local.malformed_frame",
                {"error": "binary frame from server", "bytes": len(frame)},
                t=t,
                wall=wall,
            )
            return
        try:
            event = json.loads(frame)
        except ValueError as exc:
            self.events.local(
                "local.malformed_frame",
                {"error": f"invalid JSON: {exc}", "text": frame[:MALFORMED_SNIPPET]},
                t=t,
                wall=wall,
            )
            return
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            self.events.local(
                "local.malformed_frame",
                {"error": "not an event object with a 'type'", "text": frame[:MALFORMED_SNIPPET]},
                t=t,
                wall=wall,
            )
            return
        self.handle_event(event, size=len(frame), t=t, wall=wall)

    def handle_event(
        self, event: dict[str, Any], *, size: int, t: float, wall: float
    ) -> EventRow | None:
        """Process one parsed server event (public so recordings can be replayed through it)."""
        if (
            self.endpoint.beta
            or "_beta_type" in event
            or event["type"] in protocol.BETA_TO_GA_EVENT
        ):
            protocol.normalize_server_event(event)
        try:
            event, pcm = extract_audio(event)
        except ProtocolError as exc:
            self.events.local(
                "local.malformed_frame",
                {"error": str(exc), "type": event.get("type")},
                t=t,
                wall=wall,
            )
            return None
        row = self.events.record(
            "server", event, size=size, t=t, wall=wall, audio_bytes=len(pcm) if pcm else 0
        )
        type_ = event["type"]
        if pcm is not None and type_ == "response.output_audio.delta":
            fmt = self.output_format
            if fmt != "pcm16":
                marker = event.get("delta")
                if isinstance(marker, dict):  # the marker was computed for PCM16 (48 bytes/ms)
                    marker["ms"] = round(len(pcm) / audio_mod.G711_BYTES_PER_MS, 1)
                # decoded per delta, not streamed: a streaming resampler would hold back the
                # last ~65 ms of every response, and the sample count must stay exact (3 per
                # byte) for truncation
                pcm = audio_mod.decode_from_format(pcm, fmt).tobytes()
        try:
            self.conversation.apply(event, pcm, t)
        except Exception as exc:  # a state bug must not swallow the event: waiters still see it
            log.exception("conversation state failed on %s", type_)
            self.events.local(
                "local.error", {"error": repr(exc), "while": f"applying {type_}"}, t=t, wall=wall
            )
        if type_ in ("session.created", "session.updated"):
            self.session_config = event.get("session") or {}
        elif type_ == "error":
            self._last_error_event = event
        self._dispatch(event, pcm)
        return row

    def _dispatch(self, event: dict[str, Any], pcm: bytes | None) -> None:
        type_ = event["type"]
        if self._waiters:
            blame = (event.get("error") or {}).get("event_id") if type_ == "error" else None
            remaining = []
            for waiter in self._waiters:
                if waiter.future.done():
                    continue
                if blame is not None and waiter.blame_id == blame:
                    waiter.future.set_exception(server_error_from_event(event))
                elif waiter.predicate(event):
                    waiter.future.set_result(event)
                else:
                    remaining.append(waiter)
            self._waiters = remaining
        if pcm is not None and self._audio_callbacks and type_ == "response.output_audio.delta":
            for audio_cb in list(self._audio_callbacks):
                self._safe_call(audio_cb, event.get("item_id"), event.get("response_id"), pcm)
        for key in (type_, "*"):
            for cb in self._callbacks.get(key, ()):
                self._safe_call(cb, event)
        for queue in self._iterators:
            if queue.full():
                queue.get_nowait()
                t, wall = self._now()
                self.events.local("local.iterator_overflow", {"dropped": 1}, t=t, wall=wall)
            queue.put_nowait(event)

    def _safe_call(self, fn: Callable[..., Any], *args: Any) -> None:
        try:
            result = fn(*args)
            if asyncio.iscoroutine(result):
                task = asyncio.ensure_future(result)
                task.add_done_callback(self._report_task_error)
        except Exception as exc:
            log.exception("callback %r failed", fn)
            t, wall = self._now()
            self.events.local(
                "local.callback_error", {"callback": repr(fn), "error": repr(exc)}, t=t, wall=wall
            )

    def _report_task_error(self, task: asyncio.Future[Any]) -> None:
        if not task.cancelled() and task.exception() is not None:
            t, wall = self._now()
            self.events.local(
                "local.callback_error", {"error": repr(task.exception())}, t=t, wall=wall
            )

    def _on_closed(self, ws: ClientConnection) -> None:
        code = ws.close_code
        reason = ws.close_reason or ""
        self.close_code, self.close_reason = code, reason
        t, wall = self._now()
        self.events.local("local.closed", {"code": code, "reason": reason}, t=t, wall=wall)
        last = (self._last_error_event or {}).get("error") or {}
        if last.get("code") == "session_expired" or code == protocol.CLOSE_EXPIRED:
            err: ConnectionClosed = SessionExpired(
                f"The server ended the session (close {code}: {reason or 'session expired'}). "
                "Start a new session to continue; the log and conversation are kept.",
                code,
                reason,
            )
        else:
            detail = f"close {code}" + (f": {reason}" if reason else "")
            if code is None:
                detail = "the connection dropped without a close frame"
            err = ConnectionClosed(
                f"The WebSocket closed ({detail}). The log and conversation are kept; "
                "open a new session to continue.",
                code,
                reason,
            )
        self._closed_error = err
        self._fail_all(err)
        if self._outbox is not None:
            self._outbox.put_nowait(None)

    def _fail_all(self, err: RealtimeError) -> None:
        for waiter in self._waiters:
            if not waiter.future.done():
                waiter.future.set_exception(err)
        self._waiters = []
        for queue in self._iterators:
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(None)

    # --- send path ---------------------------------------------------------------------------
    def _next_event_id(self) -> str:
        return f"{self._id_prefix}{next(self._ids)}"

    def _check_open(self) -> None:
        if self._closed_error is not None:
            raise self._closed_error
        if self._ws is None or self._outbox is None:
            raise UsageError("The session is not connected: use 'async with' or await connect().")

    def send_nowait(
        self, event: dict[str, Any], *, pcm: bytes | None = None, log_payload: dict | None = None
    ) -> str:
        """Queue a client event for sending (keeps order) and return its ``event_id``.

        ``pcm`` with ``log_payload`` lets audio appends be logged with a marker instead of base64.
        Raises :class:`ConnectionClosed` if the socket is closed.
        """
        self._check_open()
        assert self._outbox is not None
        event.setdefault("event_id", self._next_event_id())
        text = json.dumps(event, separators=(",", ":"))
        self._queued_bytes += len(text)
        self._outbox.put_nowait((text, log_payload if log_payload is not None else event, pcm))
        return event["event_id"]

    async def send(self, event: dict[str, Any]) -> str:
        """Send any client event as is (the raw escape hatch); returns its ``event_id``."""
        return self.send_nowait(event)

    async def _write_loop(self) -> None:
        assert self._ws is not None and self._outbox is not None
        ws, outbox = self._ws, self._outbox
        while True:
            job = await outbox.get()
            if job is None:
                return
            text, payload, pcm = job
            self._queued_bytes -= len(text)
            try:
                await ws.send(text)
            except WSConnectionClosed:
                t, wall = self._now()
                self.events.local(
                    "local.unsent",
                    {"type": payload.get("type"), "reason": "socket closed"},
                    t=t,
                    wall=wall,
                )
                continue
            t, wall = self._now()
            self.events.record(
                "client",
                payload,
                size=len(text),
                t=t,
                wall=wall,
                audio_bytes=len(pcm) if pcm else 0,
            )
            self.conversation.apply_client(payload, pcm, t)

    def append_audio_nowait(self, pcm: bytes, *, event_id: str | None = None) -> bool:
        """Send PCM16 24 kHz bytes as one ``input_audio_buffer.append`` (the microphone path).

        Call on the session loop. ``event_id`` names the append (the widget matches it with the
        stand-in's receipt times); by default the session numbers it. Returns False, and counts
        the frame as dropped with a log row, when the socket is closed or the send queue holds
        more than :data:`MAX_QUEUED_BYTES`.
        """
        if self._closed_error is not None or self._outbox is None:
            return self._drop_audio(len(pcm), "socket closed")
        if self._queued_bytes > MAX_QUEUED_BYTES:
            return self._drop_audio(len(pcm), "send queue full")
        codec = self._input_codec()
        wire = pcm if codec.format == "pcm16" else codec.encode(audio_mod.as_int16(pcm))
        if not wire:
            return True  # the G.711 resampler holds a few ms back; they go with the next frame
        event_id = event_id or self._next_event_id()
        event = protocol.input_audio_append(audio_mod.b64encode_audio(wire), event_id=event_id)
        marker = audio_marker(len(wire))
        marker["ms"] = round(len(pcm) / audio_mod.PCM16_BYTES_PER_MS, 1)  # right for G.711 too
        payload = {"type": event["type"], "event_id": event_id, "audio": marker}
        self.send_nowait(event, pcm=pcm, log_payload=payload)
        return True

    def _flush_input_codec(self) -> None:
        """Send what a G.711 resampler still holds at the end of a clip (no-op for PCM16)."""
        codec = self._input_codec()
        tail = codec.flush()
        if tail and self._closed_error is None:
            event = protocol.input_audio_append(audio_mod.b64encode_audio(tail))
            event["event_id"] = self._next_event_id()
            marker = audio_marker(len(tail))
            marker["ms"] = round(len(tail) / audio_mod.G711_BYTES_PER_MS, 1)
            payload = {"type": event["type"], "event_id": event["event_id"], "audio": marker}
            pcm = audio_mod.to_pcm16_bytes(audio_mod.decode_from_format(tail, codec.format))
            self.send_nowait(event, pcm=pcm, log_payload=payload)

    def _input_codec(self) -> audio_mod.StreamCodec:
        """The streaming encoder for the mic path, renewed when the input format changes."""
        fmt = self.input_format
        codec = self._codecs.get("input")
        if codec is None or codec.format != fmt:
            codec = self._codecs["input"] = audio_mod.StreamCodec(fmt)
        return codec

    def _drop_audio(self, nbytes: int, why: str) -> bool:
        self.dropped_audio_bytes += nbytes
        self.dropped_audio_frames += 1
        t, wall = self._now()
        self.events.local(
            "local.dropped_audio",
            {"bytes": nbytes, "reason": why, "total_dropped_frames": self.dropped_audio_frames},
            t=t,
            wall=wall,
        )
        return False

    # --- waiting -----------------------------------------------------------------------------
    def _wait(
        self, predicate: Callable[[dict[str, Any]], bool], blame_id: str | None = None
    ) -> asyncio.Future[dict[str, Any]]:
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        if self._closed_error is not None:
            future.set_exception(self._closed_error)
        else:
            self._waiters.append(_Waiter(predicate, future, blame_id))
        return future

    async def _await(
        self, future: asyncio.Future[dict[str, Any]], timeout: float | None, what: str
    ) -> dict[str, Any]:
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise RealtimeTimeout(
                f"No {what} from the server within {timeout} s. The server may be slow or the "
                "request was ignored; see session.events for what arrived."
            ) from None

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

        if after is not None:
            for row in self.events.since(after):
                if row.direction == "server" and match(row.payload):
                    return row.payload
        return await self._await(self._wait(match), timeout, type_)

    async def _request(
        self,
        event: dict[str, Any],
        until: Callable[[dict[str, Any]], bool],
        what: str,
        timeout: float | None,
    ) -> dict[str, Any]:
        self._check_open()
        event.setdefault("event_id", self._next_event_id())
        future = self._wait(until, blame_id=event["event_id"])
        self.send_nowait(event)
        return await self._await(future, timeout, what)

    # --- public verbs (shaped like the wire, as openai-python does) --------------------------
    async def update_session(
        self, session: dict[str, Any] | None = None, *, timeout: float | None = 30.0, **fields: Any
    ) -> dict[str, Any]:
        """Send ``session.update`` and return the effective session from ``session.updated``.

        Accepts the GA shape (``{"audio": {"input": {...}}}``) or keyword fields. Raises
        :class:`ServerError` when the server rejects the update (then nothing changed).
        """
        body = {**(session or {}), **fields}
        if protocol.is_beta_session(body) and not self.endpoint.beta:
            body = protocol.session_beta_to_ga(body)
        self.requested_config = protocol.deep_merge(self.requested_config, body)
        wire = body
        if self.endpoint.beta:
            wire = protocol.session_ga_to_beta(body)
            event = {"type": "session.update", "session": wire}
        else:
            event = protocol.session_update(wire)
        reply = await self._request(
            event, lambda e: e["type"] == "session.updated", "session.updated", timeout
        )
        return reply.get("session") or {}

    async def send_text(
        self, text: str, *, role: str = "user", timeout: float | None = 30.0
    ) -> str:
        """Add a text message to the conversation (no response); returns the item id."""
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
        return await self._create_item(item, timeout)

    async def _create_item(self, item: dict[str, Any], timeout: float | None) -> str:
        item_id = item.setdefault("id", protocol.IdFactory().new("item", 21))
        added = ("conversation.item.added", "conversation.item.created")
        await self._request(
            protocol.item_create(item),
            lambda e: e["type"] in added and (e.get("item") or {}).get("id") == item_id,
            "conversation.item.added",
            timeout,
        )
        return item_id

    async def send_audio(
        self,
        source: np.ndarray | bytes | str | os.PathLike[str],
        sample_rate: int | None = None,
        *,
        chunk_ms: float = 40.0,
        realtime: bool = False,
    ) -> float:
        """Append audio to the input buffer; returns its duration in ms.

        ``source`` is a WAV path, WAV bytes, raw PCM16 bytes (pass ``sample_rate``) or a numpy
        array of any dtype and rate (pass ``sample_rate``). It is resampled to 24 kHz mono,
        encoded in the session's input format and sent in ``chunk_ms`` chunks, paced in real
        time when ``realtime`` is true (as a microphone would). No reply is expected: with
        server VAD the server detects the turn; otherwise call :meth:`commit`.
        """
        samples = audio_mod.load_audio(source, sample_rate)
        self._check_open()
        step = max(1, int(audio_mod.SAMPLE_RATE * chunk_ms / 1000))
        if (step * 2 + 2) // 3 * 4 > MAX_APPEND_BASE64:
            raise UsageError(
                f"chunk_ms={chunk_ms} makes appends larger than the protocol's 15 MiB limit "
                f"per input_audio_buffer.append; use chunk_ms <= {MAX_APPEND_MS}."
            )
        start = time.monotonic()
        for i, offset in enumerate(range(0, len(samples), step)):
            self.append_audio_nowait(samples[offset : offset + step].tobytes())
            if realtime:
                delay = start + (i + 1) * chunk_ms / 1000 - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            elif i % 32 == 31:
                await asyncio.sleep(0)  # let the writer drain big inputs
        self._flush_input_codec()
        return len(samples) * 1000 / audio_mod.SAMPLE_RATE

    async def commit(self, *, timeout: float | None = 30.0) -> str:
        """Commit the input buffer as a user item; returns its id (needs ≥ 100 ms of audio)."""
        reply = await self._request(
            protocol.input_audio_commit(),
            lambda e: e["type"] == "input_audio_buffer.committed",
            "input_audio_buffer.committed",
            timeout,
        )
        return str(reply.get("item_id"))

    async def clear_audio(self, *, timeout: float | None = 30.0) -> None:
        """Discard the uncommitted input audio."""
        await self._request(
            protocol.input_audio_clear(),
            lambda e: e["type"] == "input_audio_buffer.cleared",
            "input_audio_buffer.cleared",
            timeout,
        )

    async def create_response(
        self, response: dict[str, Any] | None = None, *, timeout: float | None = 30.0, **params: Any
    ) -> str:
        """Send ``response.create`` and return the new response id from ``response.created``."""
        body = {**(response or {}), **params} or None
        reply = await self._request(
            protocol.response_create(body),
            lambda e: e["type"] == "response.created",
            "response.created",
            timeout,
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
                lambda e: (
                    e["type"] == "response.done"
                    and (target is None or (e.get("response") or {}).get("id") == target)
                ),
                "response.done",
                timeout,
            )
        except ServerError as exc:
            if exc.code == "response_cancel_not_active":
                return None
            raise
        return done.get("response")

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
        if isinstance(audio_end_ms, bool) or not isinstance(audio_end_ms, (int, np.integer)):
            raise UsageError(f"audio_end_ms must be an integer number of ms, not {audio_end_ms!r}.")
        if audio_end_ms < 0:
            raise UsageError(f"audio_end_ms must be >= 0, not {audio_end_ms}.")
        limit = self.conversation.audio_played_limit_ms(item_id)
        value = int(min(int(audio_end_ms), limit)) if limit is not None else int(audio_end_ms)
        await self._request(
            protocol.item_truncate(item_id, value, content_index),
            lambda e: e["type"] == "conversation.item.truncated" and e.get("item_id") == item_id,
            "conversation.item.truncated",
            timeout,
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
        if played_samples < 0:
            raise UsageError(f"played_samples must be >= 0, not {played_samples}.")
        item = self.conversation.item(item_id)
        if item is None or not item.audio_bytes_received:
            return None
        turn = ((self.session_config.get("audio") or {}).get("input") or {}).get("turn_detection")
        auto = bool(turn) and turn.get("interrupt_response", True)
        state = self.conversation.responses.get(item.response_id or "")
        if not auto and state is not None and state.status == "in_progress":
            await self.cancel_response(state.id, timeout=timeout)
        return await self.truncate(item_id, int(played_samples) * 1000 // 24_000, timeout=timeout)

    async def delete_item(self, item_id: str, *, timeout: float | None = 30.0) -> None:
        await self._request(
            protocol.item_delete(item_id),
            lambda e: e["type"] == "conversation.item.deleted" and e.get("item_id") == item_id,
            "conversation.item.deleted",
            timeout,
        )

    async def send_function_output(
        self, call_id: str, output: str | dict[str, Any], *, timeout: float | None = 30.0
    ) -> str:
        """Add a ``function_call_output`` item for a tool call; returns the item id."""
        text = output if isinstance(output, str) else json.dumps(output)
        return await self._create_item(protocol.function_call_output_item(call_id, text), timeout)

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
        ``response.create`` (``output_modalities=["text"]``, ``instructions=…``).
        Raises :class:`ResponseFailed` when the response ends ``failed``.
        """
        t_start = time.monotonic() - self._t0
        if isinstance(message, str) and not _looks_like_path(message):
            await self.send_text(message, timeout=timeout)
        elif message is not None:
            samples = audio_mod.load_audio(message, sample_rate)
            wire = audio_mod.encode_for_format(samples, self.input_format)
            item = protocol.user_audio_item(audio_mod.b64encode_audio(wire))
            await self._create_item(item, timeout)
        event = protocol.response_create(response_params or None, self._next_event_id())
        # Both waiters exist before the request goes out: frames that arrive together are
        # dispatched without yielding, so response.done may follow response.created at once.
        seen: dict[str, str] = {}

        def is_created(e: dict[str, Any]) -> bool:
            if e["type"] != "response.created" or "id" in seen:
                return False
            seen["id"] = (e.get("response") or {}).get("id") or ""
            return True

        def is_done(e: dict[str, Any]) -> bool:
            return e["type"] == "response.done" and (e.get("response") or {}).get("id") == seen.get(
                "id"
            )

        created = self._wait(is_created, event["event_id"])
        finished = self._wait(is_done, event["event_id"])
        self.send_nowait(event)
        await self._await(created, timeout, "response.created")
        response_id = seen["id"]
        done = await self._await(finished, timeout, "response.done")
        result = self.response(str(response_id), t_start=t_start, done=done)
        if result.status == "failed":
            raise ResponseFailed(
                f"The response {response_id} failed: {result.status_details}. "
                "See session.events for the error.",
                result,
            )
        return result

    def response(
        self, response_id: str, *, t_start: float | None = None, done: dict | None = None
    ) -> Response:
        """Assemble a :class:`Response` from the conversation state."""
        state = self.conversation.responses.get(response_id)
        body = (done or {}).get("response") or {}
        text, transcript, pcm = self.conversation.response_output(response_id)
        calls = []
        for item_id in state.output_item_ids if state else []:
            item: ConversationItem | None = self.conversation.item(item_id)
            if item is not None and item.type == "function_call":
                calls.append(
                    {
                        "name": item.name,
                        "call_id": item.call_id,
                        "arguments": item.arguments,
                        "item_id": item.id,
                    }
                )
        timing: dict[str, float | None] = {}
        if state is not None and t_start is not None:
            for key, t in (
                ("created_ms", state.created_t),
                ("first_audio_ms", state.first_audio_t),
                ("first_text_ms", state.first_text_t),
                ("done_ms", state.done_t),
            ):
                timing[key] = None if t is None else round((t - t_start) * 1000, 2)
        return Response(
            id=response_id,
            status=(state.status if state else body.get("status")) or "unknown",
            status_details=state.status_details if state else body.get("status_details"),
            text=text,
            transcript=transcript,
            audio=pcm,
            usage=state.usage if state else body.get("usage"),
            function_calls=calls,
            timing=timing,
        )

    # --- subscriptions -------------------------------------------------------------------------
    def on(self, type_: str, callback: EventCallback) -> Callable[[], None]:
        """Call ``callback(event)`` for each server event of ``type_`` (``"*"`` for all).

        Callbacks run on the session's loop; a coroutine result is scheduled as a task. Errors
        in callbacks become ``local.callback_error`` rows instead of vanishing. Returns a
        function that unsubscribes.
        """
        self._callbacks.setdefault(type_, []).append(callback)

        def off() -> None:
            with contextlib.suppress(ValueError):
                self._callbacks[type_].remove(callback)

        return off

    def on_output_audio(self, callback: AudioCallback) -> Callable[[], None]:
        """Call ``callback(item_id, response_id, pcm16_bytes_24k)`` for each output audio delta."""
        self._audio_callbacks.append(callback)
        return lambda: self._audio_callbacks.remove(callback)

    async def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        """Iterate over server events as they arrive; ends when the socket closes."""
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(ITERATOR_QUEUE_SIZE)
        if self._closed_error is not None:
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


def _looks_like_path(text: str) -> bool:
    return text.lower().endswith((".wav", ".wave")) and Path(text).exists()

"""A blocking facade over :class:`RealtimeSession` for plain notebook cells and scripts.

The async session runs on the shared background loop (:mod:`realtime_nb._loop`), so a cell that
blocks does not stall the socket. Every blocking method has an ``a``-prefixed awaitable twin
(``await s.aask("hi")``) for cells that use top-level await on the kernel's own loop.

With no URL and no API key the session starts the local stand-in server in-process and talks to
it (``offline=True``), so every notebook runs without network.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ._loop import LoopThread, acquire_shared_loop, release_shared_loop
from .endpoint import DEFAULT_MODEL
from .errors import UsageError
from .session import EventCallback, RealtimeSession, Response

if TYPE_CHECKING:
    from .conversation import Conversation
    from .events import EventLog
    from .server import LocalServer
    from .tools import Tool, ToolCallRecord
    from .tools.runner import Approve

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 60.0
#: How much longer a blocking call waits than the deadline its coroutine enforces itself.
SYNC_GRACE_S = 5.0


def wants_offline(url: str | None, api_key: str | None, azure_endpoint: str | None) -> bool:
    """True when nothing points at a real service: no URL, no key in args or environment."""
    if url is not None or azure_endpoint is not None:
        return False
    return not (api_key or os.environ.get("OPENAI_API_KEY"))


class Session:
    """A Realtime session you can drive from synchronous code.

    ``Session()`` with no key starts the offline stand-in; ``Session(api_key=...)`` or
    ``OPENAI_API_KEY`` talks to OpenAI; ``Session(url=srv.url)`` to any compatible server. Pass
    ``server_options`` (dict) to configure the stand-in (``responder=``, ``audio_speed=`` …).
    ``tools=[fn, ...]``, ``tool_timeout=``, ``approve=`` and the other keywords go to
    :class:`RealtimeSession`; ``@s.tool`` registers a function as a tool (``docs/tools.md``).
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        api_key: str | None = None,
        model: str = DEFAULT_MODEL,
        session: dict[str, Any] | None = None,
        offline: bool | None = None,
        server_options: dict[str, Any] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        loop: LoopThread | None = None,
        connect: bool = True,
        **options: Any,
    ) -> None:
        self.timeout = timeout
        self._owns_loop_ref = loop is None
        self._loop = loop or acquire_shared_loop()
        self._released = False
        self.offline = (
            wants_offline(url, api_key, options.get("azure_endpoint"))
            if offline is None
            else offline
        )
        self.server: LocalServer | None = None
        if self.offline and url is None:
            from .server import LocalServer  # lazily: the widget never imports it otherwise

            self.server = LocalServer(**(server_options or {}))
            self.server.start()
            url = self.server.url
            if self.server.tls:
                options.setdefault("ssl", self.server.client_ssl_context())
        elif server_options:
            raise UsageError("server_options only applies to the offline stand-in (offline=True).")
        try:
            self.async_session = RealtimeSession(
                url, api_key=api_key, model=model, session=session, **options
            )
        except BaseException:
            self._release()
            raise
        if connect:
            try:
                self.connect()
            except BaseException:
                self.close()
                raise

    # --- plumbing -----------------------------------------------------------------------------
    def _run(self, coro: Coroutine[Any, Any, Any], inner_timeout: float | None = None) -> Any:
        """Run ``coro`` on the loop and wait for it; its own exception comes through unchanged.

        ``inner_timeout`` is the deadline the coroutine enforces itself: the wait here only adds
        a grace period, so the coroutine's own :class:`RealtimeTimeout` (which says what was
        missing) is what the caller sees, never a generic one from this thread.
        """
        limit = None if inner_timeout is None else inner_timeout + SYNC_GRACE_S
        return self._loop.run(coro, limit)

    async def _arun(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return await asyncio.wrap_future(self._loop.submit(coro))

    def call_soon(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` on the session's loop thread (thread-safe, does not wait)."""
        self._loop.call_soon(fn, *args)

    # --- lifecycle ----------------------------------------------------------------------------
    @property
    def loop(self) -> LoopThread:
        """The background loop thread this session's socket lives on."""
        return self._loop

    def connect(self) -> Session:
        """Open the socket (done by the constructor unless ``connect=False``)."""
        self._run(self.async_session.connect(), self.async_session.connect_timeout * 3)
        return self

    def close(self) -> None:
        """Close the socket (and the stand-in, if this session started it). Idempotent.

        Returns within the session's ``close_timeout`` (2 s by default) plus the stand-in's stop;
        no task of this session is left on the loop, and the shared loop thread itself stops
        when the last session using it closes.
        """
        session = self.__dict__.get("async_session")
        if session is not None and self._loop.alive:
            try:
                self._run(session.close(), session.close_timeout)
            except Exception:
                log.debug("close failed", exc_info=True)
        if self.server is not None:
            self.server.stop()
            self.server = None
        self._release()

    def _release(self) -> None:
        if self._owns_loop_ref and not self._released:
            self._released = True
            release_shared_loop(self._loop)

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def connected(self) -> bool:
        return self.async_session.connected

    @property
    def events(self) -> EventLog:
        return self.async_session.events

    @property
    def conversation(self) -> Conversation:
        return self.async_session.conversation

    @property
    def transcript(self) -> list[tuple[str, str]]:
        return self.async_session.transcript

    @property
    def session_config(self) -> dict[str, Any]:
        return self.async_session.session_config

    def item_audio(self, item_id: str) -> np.ndarray:
        return self.async_session.item_audio(item_id)

    def save(
        self, path: str | os.PathLike[str], *, played_ms: dict[str, float] | None = None
    ) -> Path:
        """Write the session so far to one file (:meth:`RealtimeSession.save`); read it back
        with ``realtime_nb.load(path)``."""
        return self.async_session.save(path, played_ms=played_ms)

    def on(self, type_: str, callback: EventCallback) -> Callable[[], None]:
        """See :meth:`RealtimeSession.on`; callbacks run on the session's loop thread."""
        return self.async_session.on(type_, callback)

    def feed_audio(self, pcm: bytes, event_id: str | None = None) -> None:
        """Hand PCM16 24 kHz bytes to the session from any thread (the microphone path).

        ``event_id`` names the ``input_audio_buffer.append`` that carries them (optional).
        """
        append = self.async_session.append_audio_nowait
        self._loop.call_soon(functools.partial(append, pcm, event_id=event_id))

    # --- tools --------------------------------------------------------------------------------
    @property
    def tool_calls(self) -> list[ToolCallRecord]:
        """Every tool call run so far: name, arguments, output, status, duration."""
        return self.async_session.tool_calls

    @property
    def approve(self) -> Approve | None:
        return self.async_session.approve

    @approve.setter
    def approve(self, value: Approve | None) -> None:
        self.async_session.approve = value

    def add_tool(
        self,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        timeout: float | None = None,
        description: str | None = None,
    ) -> Tool:
        """Register ``fn`` as a tool; returns once the server has the new tool list.

        See :meth:`RealtimeSession.add_tool`.
        """
        session = self.async_session

        async def register() -> Tool:
            tool = session.add_tool(fn, name=name, timeout=timeout, description=description)
            await session.tools_ready(self.timeout)
            return tool

        if not session.connected:
            return session.add_tool(fn, name=name, timeout=timeout, description=description)
        return self._run(register(), self.timeout)

    def remove_tool(self, name: str) -> None:
        """Unregister the tool ``name``; returns once the server has the new tool list."""
        session = self.async_session

        async def unregister() -> None:
            session.remove_tool(name)
            await session.tools_ready(self.timeout)

        if not session.connected:
            session.remove_tool(name)
            return
        self._run(unregister(), self.timeout)

    def tool(
        self,
        fn: Callable[..., Any] | None = None,
        *,
        name: str | None = None,
        timeout: float | None = None,
        description: str | None = None,
    ) -> Any:
        """Decorator: ``@s.tool`` or ``@s.tool(name=..., timeout=...)``; returns ``fn`` as is."""

        def register(f: Callable[..., Any]) -> Callable[..., Any]:
            self.add_tool(f, name=name, timeout=timeout, description=description)
            return f

        return register if fn is None else register(fn)

    # --- verbs (blocking) ---------------------------------------------------------------------
    def update_session(self, session: dict[str, Any] | None = None, **fields: Any) -> dict:
        t = self.timeout
        return self._run(self.async_session.update_session(session, timeout=t, **fields), t)

    def send_text(self, text: str, *, role: str = "user") -> str:
        t = self.timeout
        return self._run(self.async_session.send_text(text, role=role, timeout=t), t)

    def send_audio(
        self,
        source: Any,
        sample_rate: int | None = None,
        *,
        timeout: float | None = 120.0,
        **kw: Any,
    ) -> float:
        """See :meth:`RealtimeSession.send_audio`: the whole clip is delivered, or this raises.

        It waits for an ``ask`` still under way (another thread's) unless ``interrupt=True``.
        """
        coro = self.async_session.send_audio(source, sample_rate, timeout=timeout, **kw)
        if timeout is None:
            return self._run(coro, None)
        samples_ms = 0.0 if not kw.get("realtime") else _duration_ms(source, sample_rate)
        return self._run(coro, timeout + samples_ms / 1000)

    def commit(self) -> str:
        return self._run(self.async_session.commit(timeout=self.timeout), self.timeout)

    def clear_audio(self) -> None:
        self._run(self.async_session.clear_audio(timeout=self.timeout), self.timeout)

    def end_turn(self) -> str | None:
        """Push-to-talk: commit and ask for a response (see :meth:`RealtimeSession.end_turn`)."""
        return self._run(self.async_session.end_turn(timeout=self.timeout), self.timeout)

    def create_response(self, response: dict[str, Any] | None = None, **params: Any) -> str:
        t = self.timeout
        return self._run(self.async_session.create_response(response, timeout=t, **params), t)

    def cancel_response(self, response_id: str | None = None) -> dict | None:
        t = self.timeout
        return self._run(self.async_session.cancel_response(response_id, timeout=t), t)

    def truncate(self, item_id: str, audio_end_ms: int, *, content_index: int = 0) -> int:
        t = self.timeout
        coro = self.async_session.truncate(
            item_id, audio_end_ms, content_index=content_index, timeout=t
        )
        return self._run(coro, t)

    def interrupt(self, item_id: str, played_samples: int) -> int | None:
        """Barge-in after the player stopped: cancel if needed, truncate at what was played.

        ``played_samples`` are the 24 kHz samples your player really played of ``item_id`` (see
        :meth:`RealtimeSession.interrupt`). Returns the ``audio_end_ms`` sent, or None when no
        audio was received for the item.
        """
        t = self.timeout
        return self._run(self.async_session.interrupt(item_id, played_samples, timeout=t), t)

    def delete_item(self, item_id: str) -> None:
        self._run(self.async_session.delete_item(item_id, timeout=self.timeout), self.timeout)

    def retrieve_item(self, item_id: str) -> dict[str, Any]:
        t = self.timeout
        return self._run(self.async_session.retrieve_item(item_id, timeout=t), t)

    def send_function_output(self, call_id: str, output: str | dict[str, Any]) -> str:
        t = self.timeout
        return self._run(self.async_session.send_function_output(call_id, output, timeout=t), t)

    def send(self, event: dict[str, Any]) -> str:
        """Send any client event as is (waits for room in the send queue); returns its id."""
        return self._run(self.async_session.send(event, timeout=self.timeout), self.timeout)

    def wait_for(
        self,
        type_: str,
        predicate: Any = None,
        timeout: float | None = None,
        after: int | None = None,
    ) -> dict:
        """Block until a server event of ``type_`` arrives (or was logged after row ``after``)."""
        t = self.timeout if timeout is None else timeout
        coro = self.async_session.wait_for(type_, predicate, timeout=t, after=after)
        return self._run(coro, t)

    def ask(self, message: Any = None, sample_rate: int | None = None, **params: Any) -> Response:
        """Say something (text or audio) and block until the response is done.

        ``timeout`` (default: the session's) bounds the whole call; see
        :meth:`RealtimeSession.ask`. Safe to call from several threads at once: each caller gets
        its own response.
        """
        timeout = params.pop("timeout", self.timeout)
        return self._run(
            self.async_session.ask(message, sample_rate, timeout=timeout, **params), timeout
        )

    # --- awaitable twins for top-level await on the kernel's loop ------------------------------
    async def aask(
        self, message: Any = None, sample_rate: int | None = None, **params: Any
    ) -> Response:
        return await self._arun(self.async_session.ask(message, sample_rate, **params))

    async def aupdate_session(self, session: dict[str, Any] | None = None, **fields: Any) -> dict:
        return await self._arun(self.async_session.update_session(session, **fields))

    async def asend_audio(self, source: Any, sample_rate: int | None = None, **kw: Any) -> float:
        return await self._arun(self.async_session.send_audio(source, sample_rate, **kw))

    def __repr__(self) -> str:
        where = "offline stand-in" if self.offline else self.async_session.endpoint.display_url
        state = "connected" if self.connected else "closed"
        return f"<realtime_nb.Session {state} to {where}, {len(self.events)} events>"


def _duration_ms(source: Any, sample_rate: int | None) -> float:
    from .audio import SAMPLE_RATE, load_audio

    return len(load_audio(source, sample_rate)) * 1000 / SAMPLE_RATE


def connect(url: str | None = None, **options: Any) -> Session:
    """Open a :class:`Session` (offline stand-in when there is no URL and no API key)."""
    return Session(url, **options)

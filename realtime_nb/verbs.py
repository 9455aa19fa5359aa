"""The session's verbs, shaped like the wire as openai-python's are: one method per client event.

Why its own module: :mod:`realtime_nb.session` is the connection (socket, queue, keepalive,
futures, reconnect); these are what a user calls on it. Each verb builds a client event with
:mod:`realtime_nb.protocol`, sends it as a correlated request and waits, under one total
deadline, for *its* reply (see :mod:`realtime_nb.correlation`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import audio as audio_mod
from . import protocol
from .errors import ActiveResponseError, RealtimeTimeout, ResponseFailed, ServerError, UsageError
from .response import Response, build_response

if TYPE_CHECKING:
    from .client_protocol import ClientProtocol, Outgoing
    from .conversation import Conversation
    from .correlation import Request, Watch
    from .events import EventLog, EventRow
    from .send_queue import SendQueue
    from .tools import ToolRunner

#: The protocol's limit on one ``input_audio_buffer.append`` (§7), and the chunk it allows.
MAX_APPEND_BASE64 = 15 * 1024 * 1024
MAX_APPEND_MS = MAX_APPEND_BASE64 * 3 // 4 // audio_mod.PCM16_BYTES_PER_MS // 1000 * 1000
#: File extensions that make a string passed to ``ask`` mean a file, not text.
AUDIO_EXTENSIONS = (".wav", ".wave", ".mp3", ".flac", ".ogg", ".oga", ".opus", ".m4a", ".aac",
                    ".webm", ".pcm", ".raw", ".aiff", ".aif")  # fmt: skip


class SessionVerbs:
    """The verbs of :class:`~realtime_nb.session.RealtimeSession` (a mixin over its plumbing)."""

    if TYPE_CHECKING:  # provided by RealtimeSession
        protocol: ClientProtocol
        _futures: dict[Request | Watch, asyncio.Future[dict[str, Any]]]
        _tool_runner: ToolRunner
        _turn: asyncio.Lock
        _tools_update: asyncio.Task[Any] | None

        @property
        def events(self) -> EventLog: ...
        @property
        def conversation(self) -> Conversation: ...
        @property
        def input_format(self) -> audio_mod.AudioFormatName: ...
        @property
        def queued_bytes(self) -> int: ...
        def now(self) -> tuple[float, float]: ...
        def log_local(self, type_: str, payload: dict[str, Any] | None = None) -> EventRow: ...
        def _check_open(self) -> SendQueue: ...
        def _tools_config(self, session: dict[str, Any]) -> dict[str, Any]: ...
        def _deadline(self, timeout: float | None) -> float | None: ...
        def _future_for(self, item: Request | Watch | None) -> asyncio.Future[dict[str, Any]]: ...
        async def _await(
            self, item: Request | Watch | None, deadline: float | None, what: str
        ) -> dict[str, Any]: ...
        async def _request(
            self, event: dict[str, Any], what: str, deadline: float | None, *, key: object = None
        ) -> dict[str, Any]: ...

    async def send_audio(
        self,
        source: np.ndarray | bytes | str | os.PathLike[str],
        sample_rate: int | None = None,
        *,
        chunk_ms: float = 40.0,
        realtime: bool = False,
        timeout: float | None = 120.0,
        interrupt: bool = False,
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

        Turns: the audio waits (within ``timeout``) for an :meth:`ask` still under way and for
        pending tool rounds, so a cell that sends audio never cuts off the answer another cell
        asked for. ``interrupt=True`` sends at once (to speak over the answer on purpose).
        """
        samples = audio_mod.load_audio(source, sample_rate)
        self._check_open()
        deadline = self._deadline(timeout)
        async with self._taking_turn(deadline, wanted=not interrupt, what="send_audio"):
            return await self._send_samples(samples, chunk_ms, realtime, timeout, deadline)

    async def _send_samples(
        self,
        samples: np.ndarray,
        chunk_ms: float,
        realtime: bool,
        timeout: float | None,
        deadline: float | None,
    ) -> float:
        queue = self._check_open()
        step = max(1, int(audio_mod.SAMPLE_RATE * chunk_ms / 1000))
        if (step * 2 + 2) // 3 * 4 > MAX_APPEND_BASE64:
            raise UsageError(
                f"chunk_ms={chunk_ms} makes appends larger than the protocol's 15 MiB limit "
                f"per input_audio_buffer.append; use chunk_ms <= {MAX_APPEND_MS}."
            )
        total_ms = len(samples) * 1000 / audio_mod.SAMPLE_RATE
        loop = asyncio.get_running_loop()
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
                    # armed before the put: the writer may take the frame while we sleep
                    out.written = loop.create_future()
                    out.written.add_done_callback(mark_retrieved)
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
        body = self._tools_config({**(session or {}), **fields})  # registered tools merged in
        event = self.protocol.session_update_event(body)
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

        Tools: when the answer calls registered tools, ``ask`` waits for them and for the
        response they lead to, and returns that **final** response (the calls are in
        ``session.tool_calls`` and the conversation). Turns: an ask in the conversation waits
        for the asks before it, for pending tool rounds and for an active response (a server
        VAD answer) to finish, so asks from several cells run one after another; asks with
        ``conversation="none"`` run beside them.
        """
        deadline = self._deadline(timeout)
        t_start = self.now()[0]
        self._check_open()
        # prepared first: parameters JSON cannot carry fail before anything is sent
        out = self.protocol.request(protocol.response_create(dict(response_params) or None))
        in_band = response_params.get("conversation", "auto") != "none"
        try:
            async with self._taking_turn(deadline, wanted=in_band, what="ask", responses=True):
                await self._send_message(message, sample_rate, deadline)
                created, done = await self._create_and_finish(
                    out, deadline, in_band, response_params
                )
                result = build_response(
                    self.conversation, _response_id(created) or "", t_start=t_start, done=done
                )
                if in_band:
                    result = await self._after_tool_rounds(result, t_start, deadline)
        finally:
            if out.request is not None:
                self.protocol.requests.forget(out.request)
        if result.status == "failed":
            raise ResponseFailed(
                f"The response {result.id} failed: {result.status_details}. "
                "See session.events for the error.",
                result,
            )
        return result

    async def _send_message(
        self,
        message: str | np.ndarray | bytes | os.PathLike[str] | None,
        sample_rate: int | None,
        deadline: float | None,
    ) -> None:
        if isinstance(message, str) and not _names_audio_file(message):
            await self._send_text(message, "user", deadline)
        elif message is not None:
            samples = audio_mod.load_audio(message, sample_rate)
            wire = audio_mod.encode_for_format(samples, self.input_format)
            item = protocol.user_audio_item(audio_mod.b64encode_audio(wire))
            await self._create_item(item, deadline)

    async def _create_and_finish(
        self,
        out: Outgoing,
        deadline: float | None,
        in_band: bool,
        params: dict[str, Any],
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Send ``out`` (a ``response.create``) and wait for its ``response.created``/``.done``.

        In the conversation, a response the server started meanwhile (server VAD) makes the
        request fail with ``conversation_already_has_active_response``: then wait for that one
        to finish and ask again, within the deadline.
        """
        while True:
            request = out.request
            assert request is not None

            def is_done(e: dict[str, Any], request: Request = request) -> bool:
                if e.get("type") != "response.done" or request.reply is None:
                    return False
                return _response_id(e) == _response_id(request.reply)

            finished = self.protocol.requests.watch(is_done, blame_id=out.event_id)
            self._future_for(request)
            self._future_for(finished)
            if in_band:
                self._tool_runner.expect(request, params)
            try:
                await self._check_open().put(out, deadline)
                try:
                    created = await self._await(request, deadline, "response.created")
                except ActiveResponseError:
                    if not in_band:
                        raise
                    await self._tool_runner.wait_quiet(deadline, rounds=False)
                    out = self.protocol.request(protocol.response_create(dict(params) or None))
                    continue
                done = await self._await(finished, deadline, "response.done")
                return created, done
            finally:
                self.protocol.requests.forget(request)
                self.protocol.requests.forget(finished)
                for pending in (request, finished):
                    future = self._futures.pop(pending, None)
                    if future is not None and not future.done():
                        future.cancel()

    async def _after_tool_rounds(
        self, result: Response, t_start: float, deadline: float | None
    ) -> Response:
        """Follow the tool rounds ``result`` started to the final response (or stay)."""
        loop = asyncio.get_running_loop()
        while True:
            round_ = self._tool_runner.round_for(result.id)
            if round_ is None:
                return result
            remaining = None if deadline is None else max(deadline - loop.time(), 0)
            try:
                follow = await asyncio.wait_for(asyncio.shield(round_.finished), remaining)
            except TimeoutError:
                raise RealtimeTimeout(
                    f"ask: the tool calls of response {result.id} and the answer they lead to "
                    "did not finish before the deadline (see session.tool_calls for what ran). "
                    "Pass a larger timeout, or a smaller tool timeout."
                ) from None
            if follow is None:  # outputs sent, no follow-up (unregistered tool, round cap)
                return result
            follow_id, done = follow
            result = build_response(self.conversation, follow_id, t_start=t_start, done=done)

    @contextlib.asynccontextmanager
    async def _taking_turn(
        self, deadline: float | None, *, wanted: bool, what: str, responses: bool = False
    ) -> AsyncIterator[None]:
        """Hold the session's turn (FIFO) for an ask or a send_audio; see ``docs/client.md``.

        Waits for the asks and sends before it, a tools ``session.update`` still in flight,
        pending tool rounds and, with ``responses``, an active response.
        """
        if not wanted:
            yield
            return
        loop = asyncio.get_running_loop()
        update = self._tools_update
        if update is not None and not update.done():
            remaining = None if deadline is None else max(deadline - loop.time(), 0)
            await asyncio.wait_for(asyncio.shield(update), remaining)
        remaining = None if deadline is None else max(deadline - loop.time(), 0)
        try:
            await asyncio.wait_for(self._turn.acquire(), remaining)
        except TimeoutError:
            raise RealtimeTimeout(
                f"{what} waited for the ask or send_audio before it (from another cell, task or "
                "thread) to finish, until its deadline. Wait for that one, or pass a larger "
                "timeout."
            ) from None
        try:
            await self._tool_runner.wait_quiet(deadline, responses=responses)
            yield
        finally:
            self._turn.release()

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


def mark_retrieved(future: asyncio.Future[Any]) -> None:
    """Mark a future's exception as seen (no "exception was never retrieved" noise)."""
    if not future.cancelled():
        future.exception()

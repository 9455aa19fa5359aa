"""Run the model's tool calls and answer them in the order the API needs.

Theory of operation. The session hands every server event to :meth:`ToolRunner.on_event` (on
its loop). When a ``response.done`` (status ``completed``, in the default conversation) holds
``function_call`` items whose names are registered, a **round** starts for that response:

1. every registered call runs at once (async functions awaited; plain functions each on a
   daemon thread of their own, so a hung function never blocks ``close()`` or interpreter
   exit), each under its own timeout, after ``approve(call)`` when one is set;
2. every ``function_call_output`` of that response is sent (``conversation.item.create`` with
   ids we choose, each matched to its ``conversation.item.added``);
3. then exactly **one** ``response.create`` — never while a response is active: it waits for
   the active one's ``response.done`` (and, if the server still answers
   ``conversation_already_has_active_response``, waits again and retries).

A response that also calls a tool *not* registered gets its registered outputs but no
``response.create``: the caller answers the rest with ``send_function_output`` and asks for
the response. After :data:`MAX_TOOL_ROUNDS` chained rounds the outputs are sent with no new
response (a model that calls tools forever stops). Every call leaves ``local.tool_call`` and
``local.tool_result`` rows (with ``duration_ms``), a failure also a ``local.tool_error`` row,
and each round a ``local.tool_round`` row.

Why its own module: the rule is easy to get wrong (peers send one ``response.create`` per
output, or create while a response is still streaming) and is tested against the stand-in.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import protocol
from .._loop import in_daemon_thread
from ..errors import ActiveResponseError, ConnectionClosed, RealtimeTimeout
from .output import error_output, to_output
from .registry import Tool, ToolCall, ToolRegistry
from .schema import ToolArgumentError, coerce_arguments

if TYPE_CHECKING:
    from ..correlation import Request
    from ..session import RealtimeSession

log = logging.getLogger(__name__)

#: Chained tool rounds (a follow-up that calls tools again) before the runner stops asking.
MAX_TOOL_ROUNDS = 8
#: Seconds a round may take to send its outputs and get its ``response.created``.
ROUND_SEND_TIMEOUT = 60.0
#: Characters of a result shown in the ``local.tool_result`` row (the whole output is sent).
ROW_PREVIEW_CHARS = 200
#: Response parameters a follow-up inherits from the ``ask`` that started the chain.
INHERITED_PARAMS = ("output_modalities", "instructions", "max_output_tokens", "audio")
_KEEP_ROUNDS = 256
_KEEP_RECORDS = 1000

Approve = Callable[[ToolCall], "bool | Awaitable[bool]"]


@dataclass(slots=True)
class ToolCallRecord:
    """One call as it ran: what the model asked, what it got back, how long it took.

    ``status`` is ``running``, ``ok``, ``error`` (the tool raised), ``timeout``,
    ``bad_arguments``, ``declined`` (by ``approve``) or ``cancelled`` (the session closed).
    """

    name: str
    call_id: str
    arguments: str
    response_id: str
    item_id: str | None
    status: str = "running"
    output: str | None = None
    error: str | None = None
    duration_ms: float | None = None
    output_item_id: str | None = None


@dataclass(slots=True, eq=False)
class ToolRound:
    """The tool calls of one response and the one follow-up response they lead to."""

    response_id: str
    calls: list[dict[str, Any]]
    depth: int
    params: dict[str, Any] | None
    finished: asyncio.Future[tuple[str, dict[str, Any]] | None]
    request: Request | None = None
    follow_up_id: str | None = None
    records: list[ToolCallRecord] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return self.finished.done()

    def finish(self, value: tuple[str, dict[str, Any]] | None) -> None:
        if not self.finished.done():
            self.finished.set_result(value)

    def fail(self, error: BaseException) -> None:
        if not self.finished.done():
            self.finished.set_exception(error)


class ToolRunner:
    """Watches a session's events and answers its registered tools' calls (module docstring)."""

    def __init__(
        self,
        session: RealtimeSession,
        registry: ToolRegistry,
        approve: Approve | None = None,
        max_rounds: int = MAX_TOOL_ROUNDS,
    ) -> None:
        self.session = session
        self.registry = registry
        self.approve = approve
        self.max_rounds = max_rounds
        #: in-conversation responses between ``response.created`` and ``response.done``
        self.active: set[str] = set()
        self.rounds: dict[str, ToolRound] = {}
        self.records: deque[ToolCallRecord] = deque(maxlen=_KEEP_RECORDS)
        self._params: dict[str, dict[str, Any] | None] = {}
        self._depth: dict[str, int] = {}
        self._expected: list[tuple[Request, dict[str, Any]]] = []
        self._changed: asyncio.Event | None = None

    # --- what the session asks -------------------------------------------------------------
    def round_for(self, response_id: str) -> ToolRound | None:
        """The round started by ``response_id``'s tool calls, if the runner is answering them."""
        return self.rounds.get(response_id)

    @property
    def pending(self) -> bool:
        """True while a round has not reached its follow-up's ``response.done``."""
        return any(not r.done for r in self.rounds.values())

    def expect(self, request: Request, params: dict[str, Any] | None) -> None:
        """``ask`` sent ``request`` with ``params``: a follow-up of its response inherits some.

        Matched when its ``response.created`` arrives (the request's reply names the response),
        so a response that finishes before ``ask`` resumes is still known.
        """
        kept = {k: v for k, v in (params or {}).items() if k in INHERITED_PARAMS}
        if kept:
            self._expected.append((request, kept))
            del self._expected[:-_KEEP_ROUNDS]

    async def wait_quiet(
        self, deadline: float | None, *, responses: bool = True, rounds: bool = True
    ) -> None:
        """Wait until no response is active (``responses``) and no round is pending (``rounds``).

        Raises :class:`RealtimeTimeout` at ``deadline`` (loop time).
        """
        loop = asyncio.get_running_loop()
        while (responses and self.active) or (rounds and self.pending):
            changed = self._event()
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                what = "response" if self.active else "tool round"
                raise RealtimeTimeout(
                    f"Waited for the active {what} to finish until the deadline. A response "
                    "may be stuck: cancel it with cancel_response(), or pass a larger timeout."
                )
            try:
                await asyncio.wait_for(changed.wait(), remaining)
            except TimeoutError:
                continue

    def connection_lost(self, error: BaseException) -> None:
        """The socket is gone: no response is active and no pending round can finish."""
        self.active.clear()
        for round_ in self.rounds.values():
            round_.fail(error)
        self._notify()

    # --- events ----------------------------------------------------------------------------
    def on_event(self, event: dict[str, Any]) -> None:
        """Follow responses and start a round for a finished response's registered calls."""
        type_ = event.get("type")
        if type_ not in ("response.created", "response.done"):
            return
        body = event.get("response")
        rid = body.get("id") if isinstance(body, dict) else None
        if not isinstance(rid, str):
            return
        assert isinstance(body, dict)
        in_band = self._in_band(rid, body)
        if type_ == "response.created":
            if in_band:
                self.active.add(rid)
            self._link_follow_up(rid)
            self._notify()
            return
        self.active.discard(rid)
        self._link_follow_up(rid)
        for round_ in list(self.rounds.values()):
            if round_.follow_up_id == rid:
                round_.finish((rid, event))
        if in_band and body.get("status") == "completed":
            self._maybe_start_round(rid, body)
        self._notify()

    def _in_band(self, rid: str, body: dict[str, Any]) -> bool:
        """False for an out-of-band response (``conversation: "none"``): its calls are not ours."""
        state = self.session.conversation.responses.get(rid)
        if state is not None:
            return not state.out_of_band
        return body.get("conversation_id", "") is not None

    def _link_follow_up(self, rid: str) -> None:
        for request, params in list(self._expected):
            if _names_response(request, rid):
                self._params[rid] = params
                self._expected.remove((request, params))
                _trim(self._params)
        for round_ in self.rounds.values():
            if round_.follow_up_id is None and _names_response(round_.request, rid):
                round_.follow_up_id = rid
                self._depth[rid] = round_.depth
                self._params[rid] = round_.params
                _trim(self._depth)

    def _maybe_start_round(self, rid: str, body: dict[str, Any]) -> None:
        output = body.get("output")
        calls = [
            o
            for o in (output if isinstance(output, list) else ())
            if isinstance(o, dict) and o.get("type") == "function_call"
        ]
        if not any(o.get("name") in self.registry for o in calls) or rid in self.rounds:
            return
        loop = asyncio.get_running_loop()
        round_ = ToolRound(
            response_id=rid,
            calls=calls,
            depth=self._depth.get(rid, 0) + 1,
            params=self._params.get(rid),
            finished=loop.create_future(),
        )
        round_.finished.add_done_callback(_mark_retrieved)
        self.rounds[rid] = round_
        _trim(self.rounds, lambda r: r.done)
        self.session._start(self._run_round(round_), "tool-round")

    # --- a round -----------------------------------------------------------------------------
    async def _run_round(self, round_: ToolRound) -> None:
        try:
            known = [c for c in round_.calls if c.get("name") in self.registry]
            unknown = sorted({str(c.get("name")) for c in round_.calls} - set(self.registry.names))
            results = await asyncio.gather(*(self._run_call(round_, c) for c in known))
            await self._send_outputs(results)
            reason = None
            if unknown:
                reason = (
                    f"calls for tools that are not registered ({', '.join(unknown)}) wait for "
                    "send_function_output() and create_response()"
                )
            elif round_.depth > self.max_rounds:
                reason = f"{self.max_rounds} chained tool rounds: no further response is asked for"
            if reason is None:
                await self._follow_up(round_)
            self.session.log_local(
                "local.tool_round",
                {"response_id": round_.response_id, "outputs": len(results),
                 "follow_up": round_.follow_up_id, "depth": round_.depth,
                 **({"no_follow_up": reason} if reason else {})},
            )  # fmt: skip
            if reason is not None:
                round_.finish(None)
        except asyncio.CancelledError:
            round_.fail(ConnectionClosed("The session was closed while its tools were running."))
            raise
        except Exception as exc:
            log.debug("tool round failed", exc_info=True)
            self.session.log_local(
                "local.tool_error",
                {"response_id": round_.response_id, "kind": "round", "error": str(exc)},
            )
            round_.fail(exc)
        finally:
            self._notify()

    async def _send_outputs(self, results: list[ToolCallRecord]) -> None:
        """Every output of the round, each as a matched ``conversation.item.create``."""
        session = self.session
        deadline = session._deadline(ROUND_SEND_TIMEOUT)
        queue = session._check_open()
        pending: list[Request] = []
        for record in results:
            item = protocol.function_call_output_item(record.call_id, record.output or "")
            out = session.protocol.request(protocol.item_create(item))
            assert out.request is not None
            record.output_item_id = (out.payload.get("item") or {}).get("id")
            session._future_for(out.request)
            await queue.put(out, deadline)
            pending.append(out.request)
        for request in pending:
            await session._await(request, deadline, "conversation.item.added")

    async def _follow_up(self, round_: ToolRound) -> None:
        """Exactly one ``response.create``, once no response is active."""
        session = self.session
        deadline = session._deadline(ROUND_SEND_TIMEOUT)
        while True:
            await self.wait_quiet(deadline, rounds=False)
            out = session.protocol.request(protocol.response_create(dict(round_.params or {})))
            assert out.request is not None
            round_.request = out.request
            session._future_for(out.request)
            await session._check_open().put(out, deadline)
            try:
                created = await session._await(out.request, deadline, "response.created")
            except ActiveResponseError:
                round_.request = None  # a response started meanwhile (server VAD): wait, retry
                await asyncio.sleep(0)
                continue
            rid = (created.get("response") or {}).get("id")
            if round_.follow_up_id is None and isinstance(rid, str):
                round_.follow_up_id = rid
                self._depth[rid] = round_.depth
                self._params[rid] = round_.params
            return

    # --- one call ----------------------------------------------------------------------------
    async def _run_call(self, round_: ToolRound, call: dict[str, Any]) -> ToolCallRecord:
        session = self.session
        name, call_id = str(call.get("name")), str(call.get("call_id"))
        raw = call.get("arguments") if isinstance(call.get("arguments"), str) else "{}"
        assert isinstance(raw, str)
        tool = self.registry.get(name)
        assert tool is not None
        record = ToolCallRecord(name, call_id, raw, round_.response_id, call.get("id"))
        round_.records.append(record)
        self.records.append(record)
        ids = {"name": name, "call_id": call_id, "response_id": round_.response_id,
               "item_id": call.get("id")}  # fmt: skip
        session.log_local("local.tool_call", {**ids, "arguments": raw})
        t0 = session.now()[0]
        kind: str | None = None
        try:
            output = await self._call(tool, raw, call_id, round_.response_id)
            record.status = "ok"
        except _CallFailed as failed:
            kind, message = failed.kind, failed.message
            output, record.status, record.error = error_output(message), kind, message
        except asyncio.CancelledError:
            record.status = "cancelled"
            record.duration_ms = round((session.now()[0] - t0) * 1000, 2)
            session.log_local("local.tool_result", {**ids, "status": "cancelled",
                                                    "duration_ms": record.duration_ms})  # fmt: skip
            raise
        record.duration_ms = round((session.now()[0] - t0) * 1000, 2)
        record.output = output
        if kind is not None:
            session.log_local("local.tool_error", {**ids, "kind": kind, "error": record.error})
        session.log_local(
            "local.tool_result",
            {**ids, "status": record.status, "duration_ms": record.duration_ms,
             "output_chars": len(output), "output": output[:ROW_PREVIEW_CHARS]},
        )  # fmt: skip
        return record

    async def _call(self, tool: Tool, raw: str, call_id: str, response_id: str) -> str:
        """Run one call and return its output text, or raise :class:`_CallFailed`."""
        try:
            arguments = json.loads(raw) if raw.strip() else {}
        except ValueError as exc:
            raise _CallFailed(
                "bad_arguments", f"the arguments are not valid JSON ({exc})"
            ) from None
        if not isinstance(arguments, dict):
            raise _CallFailed("bad_arguments", "the arguments must be a JSON object")
        if self.approve is not None:
            await self._check_approval(ToolCall(tool.name, arguments, call_id, response_id))
        try:
            kwargs = coerce_arguments(tool.fn, arguments)
        except ToolArgumentError as exc:
            raise _CallFailed("bad_arguments", f"{tool.name}: {exc}") from None
        try:
            async with asyncio.timeout(tool.timeout) as scope:
                if tool.is_async:
                    result = await tool.fn(**kwargs)
                else:
                    result = await in_daemon_thread(
                        tool.fn, kwargs, f"realtime-nb-tool-{tool.name}"
                    )[0]
                if inspect.isawaitable(result):  # a plain function that returned a coroutine
                    result = await result
        except TimeoutError:
            if scope.expired():
                raise _CallFailed(
                    "timeout", f"{tool.name} did not finish within {tool.timeout:g} s"
                ) from None
            raise _CallFailed("error", f"{tool.name} raised TimeoutError") from None
        except Exception as exc:
            log.debug("tool %s raised", tool.name, exc_info=True)
            raise _CallFailed("error", f"{tool.name} raised {type(exc).__name__}: {exc}") from None
        try:
            return to_output(result)
        except Exception as exc:
            raise _CallFailed(
                "error", f"{tool.name} returned a value that cannot be sent ({exc!r})"
            ) from None

    async def _check_approval(self, call: ToolCall) -> None:
        assert self.approve is not None
        try:
            decision = self.approve(call)
            if inspect.isawaitable(decision):
                decision = await decision
        except Exception as exc:
            raise _CallFailed(
                "declined", f"the approval check failed ({type(exc).__name__}: {exc})"
            ) from None
        if not decision:
            raise _CallFailed(
                "declined",
                f"the user declined this call to {call.name}; do not retry it unless asked",
            )

    # --- plumbing ------------------------------------------------------------------------------
    def _event(self) -> asyncio.Event:
        if self._changed is None:
            self._changed = asyncio.Event()
        return self._changed

    def _notify(self) -> None:
        if self._changed is not None:
            self._changed.set()
            self._changed = None


class _CallFailed(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind, self.message = kind, message


def _names_response(request: Request | None, rid: str) -> bool:
    """True when ``request`` (a ``response.create``) was answered by response ``rid``."""
    reply = request.reply if request is not None else None
    body = reply.get("response") if reply is not None else None
    return isinstance(body, dict) and body.get("id") == rid


def _trim(mapping: dict[str, Any], removable: Callable[[Any], bool] | None = None) -> None:
    """Keep a per-response dict bounded (oldest first, only entries ``removable`` allows)."""
    while len(mapping) > _KEEP_ROUNDS:
        for key, value in mapping.items():
            if removable is None or removable(value):
                del mapping[key]
                break
        else:
            return


def _mark_retrieved(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


__all__ = [
    "INHERITED_PARAMS",
    "MAX_TOOL_ROUNDS",
    "ROUND_SEND_TIMEOUT",
    "Approve",
    "ToolCallRecord",
    "ToolRound",
    "ToolRunner",
]

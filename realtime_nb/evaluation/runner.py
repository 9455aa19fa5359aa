"""Run cases against a server, each in its own fresh session, a bounded number at a time.

The loop: a :class:`RateGate` holds new cases back while the server's ``rate_limits.updated``
says the token budget is nearly spent (until its reset, at most ``max_rate_wait_s``); a
semaphore keeps at most ``concurrency`` sessions open; each case runs within ``timeout``
seconds from connect to answer; whatever happens, its session is closed and the case becomes a
row (an error is a row with its message, never an exception that loses the other results).

``evaluate`` (blocking) runs :func:`aevaluate` on the package's loop thread and draws the
progress bar in the caller's thread; Ctrl-C cancels the run and closes every session first.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from .._loop import acquire_shared_loop, in_daemon_thread, release_shared_loop
from ..errors import RealtimeError, UsageError
from ..models import DEFAULT_MODEL, DEFAULT_TRANSCRIPTION_MODEL
from ..protocol import deep_merge
from .cases import Case, as_cases
from .graders import GraderLike, as_grader, grade
from .outcome import CaseOutcome, outcome_from
from .results import EvaluationResults

#: Pause new cases when a rate limit has fewer tokens left than this (about two voice turns).
RESERVE_TOKENS = 4_000
SessionFactory = Callable[[], Any]


class RateGate:
    """Holds new work back while a ``rate_limits.updated`` said the budget is nearly spent.

    The service counts tokens per organisation and minute, so one session's report speaks for
    all of them: any report with ``remaining`` below the reserve (tokens) or at 0 (requests)
    closes the gate for its ``reset_seconds``, capped at ``max_wait_s``.
    """

    def __init__(self, reserve_tokens: int = RESERVE_TOKENS, max_wait_s: float = 60.0) -> None:
        self.reserve_tokens = reserve_tokens
        self.max_wait_s = max_wait_s
        self.closed_until = 0.0
        self.pauses = 0
        self.waited_s = 0.0

    def note(self, limits: Iterable[Any], now: float | None = None) -> float:
        """Read one ``rate_limits`` list; returns the seconds the gate is now closed for."""
        now = time.monotonic() if now is None else now
        wait = 0.0
        for entry in limits:
            if not isinstance(entry, dict):
                continue
            remaining, reset = entry.get("remaining"), entry.get("reset_seconds")
            if not isinstance(remaining, (int, float)) or not isinstance(reset, (int, float)):
                continue
            floor = self.reserve_tokens if entry.get("name") == "tokens" else 1
            if remaining < floor:
                wait = max(wait, min(float(reset), self.max_wait_s))
        if wait > 0 and now + wait > self.closed_until:
            self.closed_until = now + wait
        return wait

    async def wait(self) -> None:
        """Sleep until the gate opens (every wait is bounded by ``max_wait_s``)."""
        delay = self.closed_until - time.monotonic()
        if delay > 0:
            self.pauses += 1
            self.waited_s += delay
            await asyncio.sleep(min(delay, self.max_wait_s))


def case_session_config(
    session: dict[str, Any] | None, transcription: str | None
) -> dict[str, Any]:
    """The session each case gets: the user's fields over push-to-talk + input transcription.

    Turn detection is off so a case is exactly one turn the runner commits itself (server VAD
    would cut a spoken case at its pauses); a ``session`` that sets it explicitly wins.
    """
    audio_in: dict[str, Any] = {"turn_detection": None}
    if transcription:
        audio_in["transcription"] = {"model": transcription}
    return deep_merge({"audio": {"input": audio_in}}, dict(session or {}))


async def run_case(
    case: Case,
    make_session: SessionFactory,
    *,
    timeout: float,
    chunk_ms: float = 100.0,
    keep_recording: bool = True,
    gate: RateGate | None = None,
) -> CaseOutcome:
    """One case in its own session: connect, say it, wait for the answer, close. Never raises
    for the case's own failures (they become ``outcome.error``); cancellation still closes."""
    from ..recording import Recording

    started = time.monotonic()
    s = make_session()
    if gate is not None:
        s.on("rate_limits.updated", lambda e: gate.note(e.get("rate_limits") or []))
    response = None
    heard = ""
    error: str | None = None
    try:
        async with asyncio.timeout(timeout):
            await s.connect()
            if s.tools.names:
                await s.tools_ready()
            if case.text is not None:
                response = await s.ask(case.text, timeout=None)
            else:
                await s.send_audio(case.samples(), 24_000, chunk_ms=chunk_ms, timeout=None)
                item_id = await s.commit(timeout=None)
                response = await s.ask(None, timeout=None)
                heard = await _heard(s, item_id)
    except TimeoutError:
        error = f"RealtimeTimeout: no complete answer within {timeout:g} s"
    except Exception as exc:  # any failure is this case's row, never the run's end
        error = f"{type(exc).__name__}: {exc}"
    finally:
        with contextlib.suppress(Exception):
            await asyncio.shield(s.close())
    outcome = outcome_from(case, s.conversation, s.events, response, heard=heard)
    if not heard and case.kind == "audio":
        outcome.heard = _item_transcript(s.conversation, case)
    outcome.error = error
    outcome.wall_s = round(time.monotonic() - started, 3)
    if keep_recording:
        outcome.recording = Recording.from_session(s)
    return outcome


async def _heard(s: Any, item_id: str, wait_s: float = 10.0) -> str:
    """The input transcription of ``item_id`` (it may arrive after the answer), or ''."""
    item = s.conversation.item(item_id)
    if item is not None and (item.transcript_final or item.transcription_error):
        return str(item.transcript)
    if not (s.session_config.get("audio", {}).get("input", {}) or {}).get("transcription"):
        return ""
    with contextlib.suppress(RealtimeError, TimeoutError):
        await s.wait_for(
            "conversation.item.input_audio_transcription.completed",
            lambda e: e.get("item_id") == item_id,
            timeout=wait_s,
            after=0,
        )
    item = s.conversation.item(item_id)
    return str(item.transcript) if item is not None else ""


def _item_transcript(conversation: Any, case: Case) -> str:
    for item in conversation.items:
        if item.type == "message" and item.role == "user":
            return str(item.transcript or item.text)
    return ""


def _factory(
    session: dict[str, Any] | SessionFactory | None,
    url: str | None,
    options: dict[str, Any],
    transcription: str | None,
    tools: Sequence[Callable[..., Any]],
) -> SessionFactory:
    from ..session import RealtimeSession

    if callable(session):
        return session
    config = case_session_config(session, transcription)

    def make() -> Any:
        return RealtimeSession(url, session=config, tools=tools, **options)

    return make


async def aevaluate(
    cases: Iterable[Case | str | dict[str, Any]],
    session: dict[str, Any] | SessionFactory | None = None,
    graders: Sequence[GraderLike] = (),
    *,
    tools: Sequence[Callable[..., Any]] = (),
    url: str | None = None,
    model: str = DEFAULT_MODEL,
    concurrency: int = 8,
    timeout: float = 60.0,
    transcription: str | None = DEFAULT_TRANSCRIPTION_MODEL,
    keep_recordings: bool = True,
    reserve_tokens: int = RESERVE_TOKENS,
    max_rate_wait_s: float = 60.0,
    server_options: dict[str, Any] | None = None,
    label: str = "",
    on_outcome: Callable[[CaseOutcome], None] | None = None,
    **connect_options: Any,
) -> EvaluationResults:
    """The async form of :func:`evaluate` (same arguments; ``on_outcome`` sees each case as it
    finishes, in completion order). Use it inside a running event loop."""
    from ..sync import wants_offline

    todo = as_cases(cases)
    if concurrency < 1:
        raise UsageError(f"concurrency must be at least 1, not {concurrency}.")
    if not timeout > 0:
        raise UsageError(f"timeout must be a positive number of seconds, not {timeout!r}.")
    global_graders = [as_grader(g) for g in graders]
    per_case = {c.id: [as_grader(g) for g in c.expect] for c in todo}
    server = None
    offline = not callable(session) and wants_offline(
        url, connect_options.get("api_key"), connect_options.get("azure_endpoint")
    )
    if offline:
        from ..server import LocalServer

        server = LocalServer(**(server_options or {}))
        await _in_thread(server.start)
        url = server.url
    elif server_options:
        raise UsageError("server_options only applies to the offline stand-in.")
    make = _factory(session, url, {"model": model, **connect_options}, transcription, tools)
    gate = RateGate(reserve_tokens, max_rate_wait_s)
    slots = asyncio.Semaphore(concurrency)
    active = peak = 0
    outcomes: dict[str, CaseOutcome] = {}
    started = time.monotonic()

    async def one(case: Case) -> None:
        nonlocal active, peak
        async with slots:
            await gate.wait()
            active += 1
            peak = max(peak, active)
            try:
                outcome = await run_case(
                    case, make, timeout=timeout, keep_recording=keep_recordings, gate=gate
                )
            finally:
                active -= 1
        outcome.grades = grade(outcome, global_graders, per_case[case.id])
        outcomes[case.id] = outcome
        if on_outcome is not None:
            on_outcome(outcome)

    try:
        async with asyncio.TaskGroup() as group:
            for case in todo:
                group.create_task(one(case))
    finally:
        if server is not None:
            await _in_thread(server.stop)
    elapsed = time.monotonic() - started
    run = {
        "concurrency": concurrency,
        "peak_concurrency": peak,
        "seconds": round(elapsed, 2),
        "cases_per_minute": round(len(todo) / elapsed * 60, 1) if elapsed > 0 else None,
        "rate_limit_pauses": gate.pauses,
        "rate_limit_wait_s": round(gate.waited_s, 2),
        "server": "stand-in" if offline else (url or "openai"),
    }
    return EvaluationResults([outcomes[c.id] for c in todo], label=label, run=run)


def evaluate(
    cases: Iterable[Case | str | dict[str, Any]],
    session: dict[str, Any] | SessionFactory | None = None,
    graders: Sequence[GraderLike] = (),
    *,
    progress: bool = True,
    **options: Any,
) -> EvaluationResults:
    """Run every case in its own fresh session and grade the answers.

    ``cases``: :class:`Case` values, strings (typed turns) or dicts. ``session``: the session
    fields each case starts with (``{"instructions": …, "audio": {"output": {"voice": …}}}``;
    turn detection is off and input transcription on unless you set them), or a factory
    returning an unconnected :class:`~realtime_nb.RealtimeSession`. ``graders`` apply to every
    case (``Case.expect`` adds per-case ones). Offline (no key, no ``url``) a stand-in is
    started for the run. Other keywords: ``tools=[fn]``, ``url=``, ``model=``, ``api_key=``,
    ``azure_endpoint=`` …, ``concurrency=8`` sessions at once, ``timeout=60`` s per case,
    ``keep_recordings``, ``reserve_tokens``/``max_rate_wait_s`` (rate limits), ``label``.
    A progress bar (tqdm's notebook bar in Jupyter) counts passed / failed / errors live.
    """
    todo = as_cases(cases)  # once: a generator of cases is read here, and bad cases fail early
    bar = _progress_bar(len(todo), progress, options.get("label") or "evaluate")
    finished: queue.Queue[CaseOutcome] = queue.Queue()
    loop = acquire_shared_loop()
    done = threading.Event()

    async def main() -> EvaluationResults:
        try:
            return await aevaluate(todo, session, graders, on_outcome=finished.put, **options)
        finally:
            done.set()

    future = loop.submit(main())
    counts = {"passed": 0, "failed": 0, "errors": 0}
    try:
        while True:
            try:
                outcome = finished.get(timeout=0.1)
            except queue.Empty:
                if future.done() and finished.empty():
                    break
                continue
            key = "errors" if outcome.error else "passed" if outcome.passed else "failed"
            counts[key] += 1
            if bar is not None:
                bar.update(1)
                bar.set_postfix(counts, refresh=True)
        return future.result()
    except KeyboardInterrupt:
        future.cancel()
        done.wait(10)  # every session closes before we return
        raise
    finally:
        if bar is not None:
            bar.close()
        release_shared_loop(loop)


async def _in_thread(fn: Callable[[], Any]) -> Any:
    """``fn()`` on a short-lived thread of its own (not the loop's executor, whose idle worker
    threads would outlive the run): the stand-in starts and stops without blocking the loop."""
    future, thread = in_daemon_thread(fn, {}, "realtime-nb-evaluate")
    try:
        return await future
    finally:
        thread.join(0.5)  # it has settled the future: only its exit is left


def _progress_bar(total: int | None, progress: bool, desc: str) -> Any:
    if not progress:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        raise UsageError(
            'The progress bar needs tqdm: pip install "realtime-nb[eval]" (or progress=False).'
        ) from None
    return tqdm(total=total, desc=desc, unit="case", disable=os.environ.get("TQDM_DISABLE") == "1")


__all__ = ["RESERVE_TOKENS", "RateGate", "aevaluate", "case_session_config", "evaluate", "run_case"]

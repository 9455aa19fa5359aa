"""One background asyncio loop thread that owns every session's socket (DESIGN.md §2).

Why a thread of our own rather than the kernel's loop: a notebook cell that blocks
(``time.sleep``, a long computation) freezes the kernel's loop, and with it any task on it;
the model's audio and the socket's pings must keep flowing. Comm handlers may run on the main
thread (ipykernel 6) or on a subshell thread with yet another loop (ipykernel 7), so everything
reaches this loop through ``call_soon_threadsafe`` / ``run_coroutine_threadsafe``.

This is also why ``nest_asyncio`` is not used: nothing here re-enters a running loop. Blocking
helpers wait on *this* loop from another thread; calling one from this loop itself would
deadlock, so that raises :class:`UsageError` instead.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import contextvars
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from .errors import RealtimeTimeout, UsageError

T = TypeVar("T")


class LoopThread:
    """An event loop running forever in a daemon thread."""

    def __init__(self, name: str = "realtime-nb-loop") -> None:
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self.thread = threading.Thread(target=self._main, name=name, daemon=True)
        self.thread.start()
        self._ready.wait()

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(self._ready.set)
        self.loop.run_forever()

    @property
    def alive(self) -> bool:
        return self.thread.is_alive() and not self.loop.is_closed()

    def in_loop(self) -> bool:
        """True when called from the loop's own thread."""
        return threading.current_thread() is self.thread

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule ``coro`` on the loop from any thread; returns a concurrent future."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coro`` on the loop and wait for it from another thread.

        Raises :class:`UsageError` when called on the loop thread (it would deadlock) and
        :class:`RealtimeTimeout` when ``timeout`` passes (the coroutine is then cancelled).
        """
        if self.in_loop():
            coro.close()
            raise UsageError(
                "This blocking call was made on the session's own event loop (from a callback?) "
                "and would deadlock. Use the async variant with 'await' there instead."
            )
        future = self.submit(coro)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            if future.done():  # the coroutine's own timeout (RealtimeTimeout): keep its message
                raise
            future.cancel()
            raise RealtimeTimeout(
                f"No answer from the session's loop within {timeout} s (it may be blocked by a "
                "callback that does not return)."
            ) from None

    def call_soon(self, fn: Callable[..., Any], *args: Any) -> None:
        """Call ``fn(*args)`` on the loop thread, from any thread, without waiting."""
        self.loop.call_soon_threadsafe(fn, *args)

    def stop(self) -> None:
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        if not self.in_loop():
            self.thread.join(timeout=5)
        if not self.thread.is_alive():
            self.loop.close()


_shared: LoopThread | None = None
_shared_users = 0
_shared_lock = threading.Lock()


def shared_loop() -> LoopThread:
    """The process-wide loop thread shared by all synchronous sessions and widgets."""
    global _shared
    with _shared_lock:
        if _shared is None or not _shared.alive:
            _shared = LoopThread()
            atexit.register(_shared.stop)
        return _shared


def acquire_shared_loop() -> LoopThread:
    """The shared loop, counted as used until :func:`release_shared_loop`."""
    global _shared_users
    loop = shared_loop()
    with _shared_lock:
        _shared_users += 1
    return loop


def release_shared_loop(loop: LoopThread) -> None:
    """One user of the shared loop is done; the last one stops its thread (none is left)."""
    global _shared, _shared_users
    with _shared_lock:
        if loop is not _shared:
            return
        _shared_users = max(_shared_users - 1, 0)
        if _shared_users or loop.in_loop():
            return
        _shared = None
    loop.stop()


def in_daemon_thread(
    fn: Callable[..., Any], kwargs: dict[str, Any], name: str
) -> tuple[asyncio.Future[Any], threading.Thread]:
    """Run ``fn(**kwargs)`` on a daemon thread named ``name``; a future of its result, and the
    thread (to join once the future is settled, when none may be left behind).

    Not ``asyncio.to_thread``: the loop's default executor is joined when the loop shuts down
    and at interpreter exit, so one hung tool would hold up ``close()`` and exit. A daemon
    thread is abandoned instead (it runs on until the function returns; its result is dropped).
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()
    context = contextvars.copy_context()

    def settle(value: Any, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value)

    def work() -> None:
        try:
            value, error = context.run(fn, **kwargs), None
        except BaseException as exc:  # handed to the awaiting task
            value, error = None, exc
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nobody waits
            loop.call_soon_threadsafe(settle, value, error)

    thread = threading.Thread(target=work, name=name, daemon=True)
    thread.start()
    return future, thread

"""The notebook widget: a live view of a Realtime session, with microphone and speaker.

This module only translates between the comm and the session (STYLE.md, "How that lands here"
6): protocol decisions live in :class:`~realtime_nb.session.RealtimeSession` (``interrupt``,
``commit``, ``create_response``, ``update_session``), playback bookkeeping in
:mod:`realtime_nb.playback`, and every message name in :mod:`realtime_nb.bridge`.

Threads (DESIGN.md §2). The session lives on its own loop thread. Comm handlers run on whatever
thread the kernel picks — the main thread, or a ``subshell-…`` thread with ipykernel 7 and
JupyterLab ≥ 4.4, sometimes both over one widget's life — so they never touch the session: they
hand work to the loop (``call_soon``) and return. Everything that reads the session, sends a
custom message or updates a synced trait from the session runs on that loop thread, in order:
rows every 100 ms, output audio as it arrives, flushes on barge-in. Blocking helpers for cells
(``ask``, ``send_text`` …) wait on the loop from the caller's thread.

Views. Custom messages reach every view of the model, and one sent before a view has rendered is
lost, so nothing is sent until a view says ``ready``; each ``ready`` is answered with the whole
table (``replace: true``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import anywidget
import traitlets as t

from . import bridge
from .audio import PCM16_BYTES_PER_MS, SAMPLE_RATE
from .client_protocol import VAD_TYPES, initial_config, same_turn_detection, transcript_entries
from .endpoint import DEFAULT_MODEL
from .errors import UsageError
from .events import printable
from .playback import (
    LatencyBook,
    MicClock,
    PlaybackTracker,
    server_to_played,
    summarize,
)
from .sync import Session
from .widget_rows import RowFeed

if TYPE_CHECKING:
    import numpy as np

    from .conversation import Conversation
    from .events import EventLog
    from .server import LocalServer
    from .session import Response

log = logging.getLogger(__name__)

_STATIC = Path(__file__).parent / "static"

HANDS_FREE = "hands_free"
PUSH_TO_TALK = "push_to_talk"
DEFAULT_MIC_CONSTRAINTS = {
    "echoCancellation": True,
    "noiseSuppression": True,
    "autoGainControl": True,
}
#: How often new rows go to the views, and every how many row ticks traits are refreshed.
ROWS_INTERVAL_S = 0.1
TRAITS_EVERY = 2
#: Transcript entries kept in the synced ``_transcript`` trait.
TRANSCRIPT_MAX = 200
#: How long a push-to-talk handler waits for its event to be queued before later mic frames.
PTT_HANDOFF_S = 5.0
#: Server error codes that are part of normal operation, not worth a banner.
_QUIET_ERRORS = frozenset({"response_cancel_not_active"})

_VALID_KWARGS = (
    "model", "instructions", "voice", "turn_detection", "url", "api_key", "session",
    "server_options", "row_cap", "mic_constraints", "max_mic_lag_s", "azure_endpoint",
    "api_version",
)  # fmt: skip


class RealtimeWidget(anywidget.AnyWidget):
    """Talk to a Realtime model from a notebook: microphone, speaker and a live event table.

    With no ``url`` and no API key (argument or ``OPENAI_API_KEY``) it starts the package's
    offline stand-in server (``offline=True``; ``server_options`` configure it). ``api_key`` is
    used only to open the socket: it never reaches a trait, a message, the saved notebook, a repr
    or a log row.

    Args:
        model: the Realtime model (the Azure deployment with ``azure_endpoint``).
        instructions: the session's system instructions.
        voice: the output voice.
        turn_detection: ``"server_vad"`` or ``"semantic_vad"`` (hands-free), or None
            (push-to-talk: hold the button to talk).
        url: any server speaking the protocol (e.g. ``LocalServer().url``).
        api_key: the OpenAI (or Azure) key.
        session: more session fields, merged over the ones above (GA shape).
        server_options: keyword arguments for the offline :class:`~realtime_nb.LocalServer`.
        row_cap: rows the table keeps (older rows are hidden and counted).
        mic_constraints: ``getUserMedia`` audio constraints for the browser.
        max_mic_lag_s: microphone frames that reach the kernel later than this after capture
            (a busy kernel) are dropped and logged as ``local.dropped_audio`` rows.
        azure_endpoint, api_version: for Azure OpenAI.

    Raises:
        TypeError: an unknown keyword argument.
        UsageError: an invalid value (e.g. ``turn_detection``).
        RealtimeError: the connection failed (wrong key, unknown model, unreachable server).
    """

    _esm = _STATIC / "widget.js"
    _css = _STATIC / "widget.css"

    status = t.Unicode("idle").tag(sync=True)  # idle | connecting | connected | closed | error
    offline = t.Bool(False).tag(sync=True)
    endpoint = t.Unicode("").tag(sync=True)
    error = t.Unicode("").tag(sync=True)
    mode = t.Enum((HANDS_FREE, PUSH_TO_TALK), default_value=HANDS_FREE).tag(sync=True)
    turn_detection = t.Unicode("server_vad", allow_none=True).tag(sync=True)
    vad_threshold = t.Float(0.5, min=0.0, max=1.0).tag(sync=True)
    muted = t.Bool(False).tag(sync=True)
    mic_state = t.Unicode("off").tag(sync=True)
    mic_error = t.Unicode("").tag(sync=True)
    mic_constraints = t.Dict().tag(sync=True)
    row_cap = t.Int(2000, min=1).tag(sync=True)
    _transcript: t.List[Any] = t.List().tag(sync=True)
    stats = t.Dict().tag(sync=True)

    #: Browser → kernel message type → handler method (tests check it covers the bridge).
    _HANDLERS: ClassVar[dict[str, str]] = {
        bridge.READY: "_msg_ready",
        bridge.MIC_FRAME: "_msg_mic_frame",
        bridge.MIC_STATE: "_msg_mic_state",
        bridge.PTT: "_msg_ptt",
        bridge.PLAYED: "_msg_played",
        bridge.COMMAND: "_msg_command",
        bridge.GET_EVENT: "_msg_get_event",
        bridge.PING: "_msg_ping",
    }
    #: ``command.name`` → handler method, run on the session loop with ``command.args``.
    _COMMANDS: ClassVar[dict[str, str]] = {
        "send_text": "_cmd_send_text",
        "cancel": "_cmd_cancel",
        "clear_log": "_cmd_clear_log",
        "set_mode": "_cmd_set_mode",
        "set_threshold": "_cmd_set_threshold",
        "stop_audio": "_cmd_stop_audio",
    }

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        instructions: str | None = None,
        voice: str | None = None,
        turn_detection: str | None = "server_vad",
        url: str | None = None,
        api_key: str | None = None,
        session: dict[str, Any] | None = None,
        *,
        server_options: dict[str, Any] | None = None,
        row_cap: int = 2000,
        mic_constraints: dict[str, Any] | None = None,
        max_mic_lag_s: float = 5.0,
        azure_endpoint: str | None = None,
        api_version: str | None = None,
        **unknown: Any,
    ) -> None:
        self._closed = False
        if unknown:
            names = ", ".join(sorted(unknown))
            raise TypeError(
                f"RealtimeWidget() got unexpected keyword argument(s): {names}. "
                f"Valid ones: {', '.join(_VALID_KWARGS)}."
            )
        if turn_detection is not None and turn_detection not in VAD_TYPES:
            raise UsageError(
                f"turn_detection must be 'server_vad', 'semantic_vad' or None (push-to-talk), "
                f"not {turn_detection!r}."
            )
        if session is not None and not isinstance(session, dict):
            raise UsageError(f"session must be a dict of session fields, not {session!r}.")
        if not max_mic_lag_s > 0:
            raise UsageError(f"max_mic_lag_s must be > 0 seconds, not {max_mic_lag_s!r}.")
        config = initial_config(instructions, voice, turn_detection, session)
        self.max_mic_lag_s = float(max_mic_lag_s)
        #: What each view said in its ``ready`` (browser, sample rate, buffer kind …).
        self.views_info: list[dict[str, Any]] = []
        #: The microphone track's settings and the AudioContext rate, from the last mic_state.
        self.mic_settings: dict[str, Any] = {}
        self._lock = threading.Lock()  # counters and books written by comm threads
        self._tracker = PlaybackTracker()
        self._mic_clock = MicClock()
        self._latency = LatencyBook()
        self._comm_threads: set[str] = set()
        self._mic_frames = self._mic_bytes = self._mic_dropped = 0
        self._audio_chunks = self._audio_bytes = self._audio_seq = 0
        self._interrupts = self._views = 0
        self._eid_prefix = f"evt_mic{uuid.uuid4().hex[:6]}_"
        self._ready = False
        self._transcript_seq = -1
        self._vad_td: dict[str, Any] = {"type": turn_detection or "server_vad"}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._pump_task: asyncio.Task[None] | None = None
        self._closing: asyncio.Task[None] | None = None
        self._offs: list[Callable[[], None]] = []
        extra: dict[str, Any] = {
            k: v
            for k, v in (("azure_endpoint", azure_endpoint), ("api_version", api_version))
            if v is not None
        }
        # Connect before the comm opens: a failure leaves no model behind in the front end.
        sess = Session(
            url,
            api_key=api_key,
            model=model,
            session=config,
            server_options=server_options,
            connect=False,
            **extra,
        )
        try:
            sess.connect()
        except BaseException:
            sess.close()
            raise
        self.session = sess
        self._loop = sess.loop
        self._rows = RowFeed(sess.events, self._post, lambda: self.row_cap)
        try:
            super().__init__(
                status="connected",
                offline=sess.offline,
                endpoint=sess.async_session.endpoint.display_url,
                row_cap=row_cap,
                mic_constraints=dict(
                    DEFAULT_MIC_CONSTRAINTS if mic_constraints is None else mic_constraints
                ),
            )
            self._offs = [
                sess.async_session.on_output_audio(self._on_output_audio),
                sess.on("input_audio_buffer.speech_started", self._on_speech_started),
                sess.on("session.updated", self._on_session_updated),
                sess.on("error", self._on_server_error),
            ]
            self._sync_from_config()
            self._loop.run(self._start_pump(), timeout=10)
            self.on_msg(self._on_msg)
        except BaseException:
            self.close()
            raise

    # --- what a cell uses --------------------------------------------------------------------
    @property
    def server(self) -> LocalServer | None:
        """The offline stand-in this widget started, or None."""
        return self.session.server

    @property
    def events(self) -> EventLog:
        return self.session.events

    @property
    def conversation(self) -> Conversation:
        return self.session.conversation

    @property
    def transcript(self) -> list[tuple[str, str]]:
        return self.session.transcript

    def item_audio(self, item_id: str) -> np.ndarray:
        return self.session.item_audio(item_id)

    def send_text(self, text: str, *, role: str = "user") -> str:
        """Add a text message to the conversation (no response); returns the item id."""
        return self.session.send_text(text, role=role)

    def send_audio(self, source: Any, sample_rate: int | None = None, **kw: Any) -> float:
        """Append audio to the input buffer as a microphone would (see ``Session.send_audio``)."""
        return self.session.send_audio(source, sample_rate, **kw)

    def ask(self, message: Any = None, sample_rate: int | None = None, **params: Any) -> Response:
        """Say something (text or audio) and block until the response is done."""
        return self.session.ask(message, sample_rate, **params)

    def played_ms(self, item_id: str) -> float | None:
        """What the speaker actually played of an assistant item, in ms (None: never sent)."""
        samples = self._tracker.played_samples(item_id)
        return None if samples is None else samples * 1000 / SAMPLE_RATE

    def latency(self, server: LocalServer | None = None) -> dict[str, dict[str, Any]]:
        """Measured latencies in ms, as ``{"p50", "p95", "n"}`` each.

        - ``capture_to_server_ms``: microphone capture (browser clock) → the stand-in received
          the append that carried the frame (needs the stand-in: this widget's, or ``server``).
        - ``server_to_played_ms``: the stand-in sent an item's first audio delta → the browser
          played its first sample.
        - ``capture_to_kernel_ms``: microphone capture → the widget's comm handler.

        Browser times are on the browser's clock: on another machine, its offset adds in.
        """
        srv = server or self.server
        timeline = srv.timeline if srv is not None else []
        receipts: dict[str, float] = {}
        first_sent: dict[str, float] = {}
        for e in timeline:
            if e.direction == "in" and e.type == "input_audio_buffer.append" and e.event_id:
                receipts[e.event_id] = e.t
            elif e.direction == "out" and e.type == "response.output_audio.delta" and e.item_id:
                first_sent.setdefault(e.item_id, e.t)
        with self._lock:
            to_server = self._latency.capture_to_server(receipts)
            to_kernel = self._latency.capture_to_kernel()
        played = self._loop.run(_value(self._tracker.first_played), timeout=10)
        return {
            "capture_to_server_ms": summarize(to_server),
            "server_to_played_ms": summarize(server_to_played(first_sent, played)),
            "capture_to_kernel_ms": summarize(to_kernel),
        }

    def close(self) -> None:
        """Close the socket, the stand-in and the batching task; the log stays readable."""
        if self.__dict__.get("_closed", True) or "session" not in self.__dict__:
            with contextlib.suppress(Exception):
                super().close()
            return
        self._closed = True
        loop = self._loop
        offs, self._offs = self._offs, []
        try:
            if loop.in_loop():  # from a callback or a finalizer on the loop: do not block it
                self._closing = loop.loop.create_task(self._aclose_from_loop(offs))
            else:
                if loop.alive:
                    loop.run(self._shutdown(offs), timeout=10)
                self.session.close()  # with a dead loop (interpreter exit) it stops the stand-in
        except Exception:
            log.debug("closing the widget failed", exc_info=True)
        with contextlib.suppress(Exception):
            self.status = "closed"
        with contextlib.suppress(Exception):
            super().close()

    def __repr__(self) -> str:
        if "session" not in self.__dict__:
            return "<RealtimeWidget (not connected)>"
        where = self.endpoint + (" (offline stand-in)" if self.offline else "")
        return f"<RealtimeWidget {self.status} · {where} · {len(self.session.events)} events>"

    # --- lifecycle on the loop -----------------------------------------------------------------
    async def _start_pump(self) -> None:
        self._pump_task = asyncio.get_running_loop().create_task(
            self._pump(), name="realtime-nb-widget-rows"
        )

    async def _shutdown(self, offs: list[Callable[[], None]]) -> None:
        for off in offs:
            with contextlib.suppress(Exception):
                off()
        tasks = [task for task in (self._pump_task, *self._tasks) if task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        self._pump_task = None

    async def _aclose_from_loop(self, offs: list[Callable[[], None]]) -> None:
        await self._shutdown(offs)
        await self.session.async_session.close()
        if self.session.server is not None:
            self.session.server.stop()
            self.session.server = None

    @t.observe("comm")
    def _watch_comm(self, change: dict[str, Any]) -> None:
        comm = change["new"]
        if comm is not None and hasattr(comm, "on_close"):
            comm.on_close(lambda _msg: self.close())
        if comm is not None and hasattr(comm, "_reply_subshell_for"):
            # ipykernel 7 routes a browser message to the thread that last *sent* on this comm
            # (so a reply reaches the loop that asked). Our sends come from the session loop,
            # which ipykernel attributes to the main shell: every mic frame would then wait for
            # a busy cell. The widget never awaits replies, so keep the frontend's own routing
            # (a comm subshell when JupyterLab asks for one). Measured by the browser test: 205
            # mic frames dropped during time.sleep(10) without this, none with it.
            comm._reply_subshell_for = lambda _data, default: default

    async def _pump(self) -> None:
        tick = 0
        while True:
            await asyncio.sleep(ROWS_INTERVAL_S)
            tick += 1
            try:
                if self._ready:  # a message before the view renders is lost
                    self._rows.send_new()
                if tick % TRAITS_EVERY == 0:
                    self._refresh_traits()
            except Exception:
                log.exception("the widget's row pump failed (it keeps running)")

    # --- running things on the loop ----------------------------------------------------------
    def _call(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` on the session loop (from any thread); errors become rows."""
        try:
            self._loop.call_soon(self._safely, fn, args)
        except RuntimeError:  # the loop is closed (interpreter exit)
            log.debug("session loop closed; dropped %r", fn)

    def _safely(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        try:
            fn(*args)
        except Exception as exc:
            self._report(getattr(fn, "__name__", "widget"), exc)

    def _spawn(
        self, factory: Callable[..., Coroutine[Any, Any, Any]], *args: Any, action: str
    ) -> asyncio.Task[Any] | None:
        """Start ``factory(*args)`` as a task (call on the loop); its errors are reported."""
        if self._closed:
            return None
        task = asyncio.get_running_loop().create_task(
            self._guard(factory, args, action), name="realtime-nb-widget-action"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _guard(
        self, factory: Callable[..., Coroutine[Any, Any, Any]], args: tuple[Any, ...], action: str
    ) -> Any:
        try:
            return await factory(*args)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._report(action, exc)
            return None

    def _report(self, action: str, exc: BaseException | str) -> None:
        """Show an error in the banner and log it as a ``local.widget_error`` row (loop thread)."""
        message = exc if isinstance(exc, str) else str(exc) or type(exc).__name__
        log.debug("widget error while %s: %s", action, message)
        self.error = message
        payload = {"action": action, "error": message}
        if not isinstance(exc, str):
            payload["kind"] = type(exc).__name__
        self._local("local.widget_error", payload)

    def _local(self, type_: str, payload: dict[str, Any]) -> None:
        self.session.async_session.log_local(type_, payload)

    def _post(self, content: dict[str, Any], buffers: list[Any] | None = None) -> bool:
        try:
            self.send(content, buffers=buffers)
        except Exception:
            log.exception("sending a %s message to the browser failed", content.get("type"))
            return False
        return True

    # --- comm entry point (any thread) --------------------------------------------------------
    def _on_msg(self, _widget: Any, content: Any, buffers: list[Any] | None) -> None:
        if self._closed:
            return
        name = threading.current_thread().name
        if name not in self._comm_threads:
            with self._lock:
                self._comm_threads.add(name)
        try:
            kind = content.get("type") if isinstance(content, dict) else None
            method = self._HANDLERS.get(kind) if isinstance(kind, str) else None
            if method is None:
                self._call(self._report, "reading a browser message", f"Unknown message {kind!r}.")
                return
            getattr(self, method)(content, list(buffers or ()))
        except Exception as exc:
            log.exception("handling a browser message failed")
            self._call(self._report, "handling a browser message", exc)

    def _msg_ready(self, msg: dict[str, Any], buffers: list[Any]) -> None:
        self._call(self._on_ready, msg)

    def _msg_mic_frame(self, msg: dict[str, Any], buffers: list[Any]) -> None:
        if not buffers:
            self._call(self._report, "receiving microphone audio", "A mic_frame had no audio.")
            return
        pcm = bytes(buffers[0])
        if len(pcm) % 2:
            pcm = pcm[:-1]
        arrival_ms = time.time() * 1000
        capture = msg.get("t_capture")
        capture_ms = float(capture) if isinstance(capture, int | float) else None
        with self._lock:
            late_ms = self._mic_clock.lateness_ms(capture_ms, arrival_ms)
            if late_ms > self.max_mic_lag_s * 1000:
                self._mic_dropped += 1
                dropped = True
            else:
                dropped = False
                self._mic_frames += 1
                self._mic_bytes += len(pcm)
                event_id = f"{self._eid_prefix}{self._mic_frames}"
                self._latency.frame(event_id, capture_ms, arrival_ms)
        if dropped:
            reason = f"kernel busy: frames arrived over {self.max_mic_lag_s:g} s late"
            self._call(self.session.async_session.drop_mic_audio, len(pcm), reason)
        else:
            self.session.feed_audio(pcm, event_id)

    def _msg_mic_state(self, msg: dict[str, Any], buffers: list[Any]) -> None:
        self._call(self._on_mic_state, msg)

    def _msg_ptt(self, msg: dict[str, Any], buffers: list[Any]) -> None:
        action = msg.get("action")
        if action not in ("press", "release"):
            self._call(self._report, "push to talk", f"Unknown push-to-talk action {action!r}.")
            return
        # Wait until the clear/commit is queued, so mic frames handled after this message are
        # appended after it (a frame before a release belongs to the turn, one after does not).
        future = self._loop.submit(self._ptt(action))
        try:
            future.result(PTT_HANDOFF_S)
        except concurrent.futures.TimeoutError:
            log.warning(
                "the session loop took over %s s to take a push-to-talk event", PTT_HANDOFF_S
            )

    def _msg_played(self, msg: dict[str, Any], buffers: list[Any]) -> None:
        self._call(self._on_played, msg)

    def _msg_command(self, msg: dict[str, Any], buffers: list[Any]) -> None:
        name = msg.get("name")
        method = self._COMMANDS.get(name) if isinstance(name, str) else None
        if method is None:
            self._call(self._report, "running a command", f"Unknown command {name!r}.")
            return
        args = msg.get("args")
        self._call(getattr(self, method), args if isinstance(args, dict) else {})

    def _msg_get_event(self, msg: dict[str, Any], buffers: list[Any]) -> None:
        self._call(self._on_get_event, msg)

    def _msg_ping(self, msg: dict[str, Any], buffers: list[Any]) -> None:
        self._call(self._on_ping, msg)

    # --- handlers on the loop ----------------------------------------------------------------
    def _on_ready(self, msg: dict[str, Any]) -> None:
        if self._closed:
            return
        self._views += 1
        info = {
            k: msg.get(k)
            for k in ("view_id", "version", "sample_rate", "secure_context", "has_media_devices",
                      "user_agent", "buffer_kind")
        }  # fmt: skip
        self.views_info = [*self.views_info[-9:], info]
        version = msg.get("version")
        if version != bridge.PROTOCOL_VERSION:
            self._report(
                "connecting a view",
                f"The widget's front end speaks protocol {version!r} and the kernel "
                f"{bridge.PROTOCOL_VERSION}: reinstall realtime-nb and reload the page.",
            )
        self._ready = True
        self._rows.send_all()
        self._refresh_traits()

    def _on_mic_state(self, msg: dict[str, Any]) -> None:
        state = msg.get("state")
        if state not in ("off", "starting", "on", "error"):
            raise UsageError(f"Unknown microphone state {state!r}.")
        settings = msg.get("settings")
        self.mic_settings = {
            **(settings if isinstance(settings, dict) else {}),
            "context_rate": msg.get("context_rate"),
        }
        if state == "error":
            code = msg.get("error") if msg.get("error") in bridge.MIC_ERRORS else "unknown"
            self.mic_error = str(code)
            self.error = str(msg.get("message") or f"The microphone could not start ({code}).")
        else:
            self.mic_error = ""
        self.mic_state = state

    def _ptt(self, action: str) -> Coroutine[Any, Any, None]:
        async def run() -> None:
            if action == "press":
                if self._tracker.playing(time.monotonic()) is not None:
                    self._flush("ptt")
                self._spawn(self.session.async_session.clear_audio, action="push to talk")
            else:
                self._spawn(self._ptt_release, action="push to talk")
            await asyncio.sleep(0)  # the task's first step sends its event before we return

        return run()

    async def _ptt_release(self) -> None:
        s = self.session.async_session
        before = s.events.last_seq
        if await s.end_turn() is None:
            short = [r for r in s.events.since(before) if r.type == "local.turn_too_short"]
            ms = short[-1].payload.get("ms", 0) if short else 0
            self._report(
                "push to talk",
                f"Hold the talk button a little longer: only {ms:.0f} ms of audio was captured "
                "and at least 100 ms is needed.",
            )

    def _on_played(self, msg: dict[str, Any]) -> None:
        item_id = msg.get("item_id")
        samples = msg.get("samples")
        reason = msg.get("reason")
        if not isinstance(item_id, str) or not isinstance(samples, int) or samples < 0:
            raise UsageError(f"A played message needs item_id and samples >= 0: {msg!r}.")
        if reason not in ("progress", "interrupted", "ended"):
            raise UsageError(f"Unknown played reason {reason!r}.")
        received = msg.get("received")
        first = msg.get("t_first")
        report = self._tracker.report(
            item_id,
            samples,
            received if isinstance(received, int) else 0,
            reason,
            float(first) if isinstance(first, int | float) else None,
            time.monotonic(),
        )
        if report.interrupt:
            self._interrupts += 1
            self._spawn(self.session.async_session.interrupt, item_id, samples, action="barge-in")

    def _on_get_event(self, msg: dict[str, Any]) -> None:
        seq = msg.get("seq")
        payload: dict[str, Any] | None = None
        error: str | None = None
        row = None
        if isinstance(seq, int):
            for candidate in self.session.events:
                if candidate.seq == seq:
                    row = candidate
                    break
        if row is None:
            error = (
                f"Row {seq!r} is not in the log (the oldest rows are evicted beyond "
                f"max_rows={self.session.events.max_rows})."
            )
        else:
            text = json.dumps(row.payload, default=str, ensure_ascii=False)
            payload = json.loads(printable(text))
        self._post(
            {
                "type": bridge.EVENT_JSON,
                "request_id": msg.get("request_id"),
                "seq": seq,
                "payload": payload,
                "error": error,
            }
        )

    def _on_ping(self, msg: dict[str, Any]) -> None:
        self._post(
            {
                "type": bridge.PONG,
                "request_id": msg.get("request_id"),
                "t": msg.get("t"),
                "t_kernel": time.time() * 1000,
            }
        )

    # --- commands (on the loop) ----------------------------------------------------------------
    def _cmd_send_text(self, args: dict[str, Any]) -> None:
        text = args.get("text")
        if not isinstance(text, str) or not text.strip():
            raise UsageError("send_text needs a non-empty 'text'.")
        self._spawn(self._say, text, action="sending text")

    async def _say(self, text: str) -> None:
        await self.session.async_session.send_text(text)
        await self.session.async_session.create_response()

    def _cmd_cancel(self, args: dict[str, Any]) -> None:
        self._flush("cancelled", force=True)

    def _cmd_clear_log(self, args: dict[str, Any]) -> None:
        self._rows.clear()

    def _cmd_set_mode(self, args: dict[str, Any]) -> None:
        mode = args.get("mode", args.get("value"))
        if mode not in (HANDS_FREE, PUSH_TO_TALK):
            raise UsageError(f"mode must be {HANDS_FREE!r} or {PUSH_TO_TALK!r}, not {mode!r}.")
        self.mode = mode

    def _cmd_set_threshold(self, args: dict[str, Any]) -> None:
        value = args.get("threshold", args.get("value"))
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise UsageError(f"The VAD threshold must be a number in [0, 1], not {value!r}.")
        self.vad_threshold = float(value)

    def _cmd_stop_audio(self, args: dict[str, Any]) -> None:
        self._flush("user", force=True)

    # --- session callbacks (on the loop) -------------------------------------------------------
    def _on_output_audio(self, item_id: str | None, response_id: str | None, pcm: bytes) -> None:
        if not self._ready or not item_id or self._closed:
            return
        if not self._tracker.sent(item_id, response_id, len(pcm) // 2, time.monotonic()):
            return  # flushed: the player must not start it again
        self._audio_seq += 1
        message = {
            "type": bridge.AUDIO,
            "item_id": item_id,
            "response_id": response_id,
            "seq": self._audio_seq,
        }
        if self._post(message, [pcm]):
            self._audio_chunks += 1
            self._audio_bytes += len(pcm)

    def _on_speech_started(self, event: dict[str, Any]) -> None:
        if self._tracker.playing(time.monotonic()) is not None:
            self._flush("speech_started")

    def _flush(self, reason: str, *, force: bool = False) -> list[str]:
        """Ask the views to stop playing now (they answer ``played`` ``interrupted``).

        Unless the server's own VAD triggered it (the server cancels then, or ``interrupt``
        does), the active response is cancelled too: nothing else would stop its audio.
        """
        items = self._tracker.flush(time.monotonic(), force=force)
        if reason != "speech_started" and (items or force):
            self._spawn(self.session.async_session.cancel_active_response, action="interrupting")
        if (items or force) and self._ready:
            self._post({"type": bridge.FLUSH, "reason": reason})
        return items

    def _on_session_updated(self, event: dict[str, Any]) -> None:
        self._sync_from_config()

    def _on_server_error(self, event: dict[str, Any]) -> None:
        error = event.get("error")
        err: dict[str, Any] = error if isinstance(error, dict) else {}
        if err.get("code") in _QUIET_ERRORS:
            return
        self.error = str(err.get("message") or err.get("code") or "The server reported an error.")

    # --- turn detection: traits ⇄ session ------------------------------------------------------
    def _current_td(self) -> dict[str, Any] | None:
        return self.session.async_session.protocol.turn_detection

    def _sync_from_config(self) -> None:
        """Make ``mode``/``turn_detection``/``vad_threshold`` say what the session has."""
        td = self._current_td()
        if td is not None:
            self._vad_td = dict(td)
            if isinstance(td.get("threshold"), int | float):
                self.vad_threshold = float(td["threshold"])
            self.mode = HANDS_FREE
            self.turn_detection = str(td.get("type"))
        else:
            self.mode = PUSH_TO_TALK
            self.turn_detection = None

    def _wanted_td(self) -> dict[str, Any] | None:
        if self.mode == PUSH_TO_TALK:
            return None
        td = dict(self._vad_td)
        if td.get("type") == "server_vad":
            td["threshold"] = self.vad_threshold
        return td

    @t.observe("mode")
    def _mode_changed(self, change: dict[str, Any]) -> None:
        if change["new"] == PUSH_TO_TALK:
            self.turn_detection = None
        else:
            self.turn_detection = self._vad_td.get("type") or "server_vad"
        self._apply_later()

    @t.validate("turn_detection")
    def _check_turn_detection(self, proposal: dict[str, Any]) -> str | None:
        value = proposal["value"]
        if value is not None and value not in VAD_TYPES:
            raise t.TraitError(f"turn_detection must be one of {VAD_TYPES} or None, not {value!r}.")
        return value

    @t.observe("turn_detection")
    def _turn_detection_changed(self, change: dict[str, Any]) -> None:
        new = change["new"]
        if new is None:
            self.mode = PUSH_TO_TALK
        else:
            if self._vad_td.get("type") != new:
                self._vad_td = {"type": new}
            self.mode = HANDS_FREE
        self._apply_later()

    @t.observe("vad_threshold")
    def _threshold_changed(self, change: dict[str, Any]) -> None:
        self._apply_later()

    def _apply_later(self) -> None:
        if "session" in self.__dict__ and not self._closed:
            self._call(self._apply_turn_detection)

    def _apply_turn_detection(self) -> None:
        wanted, current = self._wanted_td(), self._current_td()
        if same_turn_detection(wanted, current):
            return
        self._spawn(self._update_td, wanted, action="changing turn detection")

    async def _update_td(self, td: dict[str, Any] | None) -> None:
        try:
            await self.session.async_session.update_session(
                {"audio": {"input": {"turn_detection": td}}}
            )
        except Exception:
            self._sync_from_config()  # the traits go back to what the session has
            raise

    # --- rows and traits (on the loop) ---------------------------------------------------------
    def _refresh_traits(self) -> None:
        if self._closed:
            return
        if self.status == "connected" and not self.session.connected:
            self.status = "closed"
            closed = self.session.async_session.closed_error
            if closed is not None:
                self.error = str(closed)
        seq = self.session.events.last_seq
        if seq != self._transcript_seq:  # rebuilt only when something happened, not 5×/s
            self._transcript_seq = seq
            self._transcript = transcript_entries(self.session.conversation, TRANSCRIPT_MAX)
        with self._lock:
            threads = sorted(self._comm_threads)
            mic = {
                "mic_frames": self._mic_frames,
                "mic_ms": round(self._mic_bytes / PCM16_BYTES_PER_MS, 1),
                "mic_dropped": self._mic_dropped,
            }
        self.stats = {
            **mic,
            "audio_chunks_sent": self._audio_chunks,
            "audio_ms_sent": round(self._audio_bytes / PCM16_BYTES_PER_MS, 1),
            "played": self._tracker.played_map(),
            "interrupts": self._interrupts,
            "views": self._views,
            "comm_threads": threads,
            "rows_sent": self._rows.rows_sent,
        }


# --- helpers --------------------------------------------------------------------------------------
async def _value(fn: Callable[[], Any]) -> Any:
    return fn()


__all__ = ["RealtimeWidget"]

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
import collections
import concurrent.futures
import contextlib
import copy
import html
import json
import logging
import math
import os
import threading
import time
import uuid
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import anywidget
import traitlets as t

from . import bridge
from ._loop import LoopThread, acquire_shared_loop, release_shared_loop
from .audio import PCM16_BYTES_PER_MS, SAMPLE_RATE
from .client_protocol import VAD_TYPES, initial_config, same_turn_detection, transcript_entries
from .endpoint import DEFAULT_MODEL
from .errors import RealtimeError, UsageError
from .events import printable
from .models import TRANSCRIPTION_MODELS, model_info
from .playback import (
    LatencyBook,
    MicClock,
    PlaybackTracker,
    server_to_played,
    summarize,
)
from .protocol import VOICES
from .sync import Session
from .widget_rows import ReplayedLog, RowFeed, TurnFeed
from .wire_original import OriginalUnavailable, original_payload

if TYPE_CHECKING:
    import numpy as np

    from .conversation import Conversation
    from .events import EventLog
    from .recording import Recording
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
#: Output audio kept for the first view when it arrives before any view is ready: 30 s of
#: PCM16 at 24 kHz (oldest chunks dropped beyond it), played only if that view comes within
#: PENDING_AUDIO_MAX_AGE_S of the first held chunk (a view opened much later stays silent).
PENDING_AUDIO_MAX_BYTES = 30 * 48_000
PENDING_AUDIO_MAX_AGE_S = 60.0
#: Transcript entries kept in the synced ``_transcript`` trait.
TRANSCRIPT_MAX = 200
#: How long a push-to-talk handler waits for its event to be queued before later mic frames.
PTT_HANDOFF_S = 5.0
#: Server error codes that are part of normal operation, not worth a banner.
_QUIET_ERRORS = frozenset({"response_cancel_not_active"})
#: Every how many row ticks the turn timeline is rebuilt (when the log changed): 2×/s.
TURNS_EVERY = 5
#: A replay's clock step: rows recorded within one step reach the views together.
REPLAY_TICK_S = 0.05
#: A replayed item's audio goes to the views in chunks of this many bytes (1 s of PCM16).
REPLAY_CHUNK_BYTES = 48_000

#: Server VAD's silence before a turn ends, unless the caller says otherwise. The service's live
#: default is 200 ms: shorter than the pause between two spoken sentences (300–500 ms) or a
#: breath mid-sentence, so one thought became several turns, each answered. 600 ms waits out
#: those pauses and still answers well within a second of the end of speech.
DEFAULT_SILENCE_MS = 600
#: Input transcription asked for by default (the user's turns then read as text, not "(audio,
#: no transcript)"): the current model of the table in ``realtime_nb.models``.
DEFAULT_TRANSCRIPTION_MODEL = "gpt-transcribe"
#: Bounds the settings panel accepts (beyond them a turn would never end, or always be cut).
PANEL_LIMITS_MS = {"prefix_padding_ms": (0, 5000), "silence_duration_ms": (0, 10_000)}
EAGERNESS = ("low", "medium", "high", "auto")
#: The session fields the panel shows (``session_config`` trait).
_PANEL_FIELDS = ("type", "model", "output_modalities", "instructions", "audio", "reasoning")

_VALID_KWARGS = (
    "model", "instructions", "voice", "turn_detection", "url", "api_key", "session",
    "server_options", "row_cap", "mic_constraints", "max_mic_lag_s", "azure_endpoint",
    "api_version", "input_transcription", "tools", "approve",
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
        input_transcription: the model that transcribes what the user says (shown in the
            transcript and the timeline); None turns input transcription off.
        tools: Python functions the model may call (passed to the session; see
            ``RealtimeSession(tools=...)``). More can be added with ``@w.tool``.
        approve: ``approve(call) -> bool`` asked before each tool call runs.

    Server VAD ends a turn after ``DEFAULT_SILENCE_MS`` (600 ms) of silence unless ``session``
    sets ``silence_duration_ms``: the service's 200 ms split ordinary sentences into turns.

    Raises:
        TypeError: an unknown keyword argument.
        UsageError: an invalid value (e.g. ``turn_detection``).
        RealtimeError: the connection failed (wrong key, unknown model, unreachable server).
    """

    _esm = _STATIC / "widget.js"
    _css = _STATIC / "widget.css"

    # idle | connecting | connected | reconnecting | closed | error
    status = t.Unicode("idle").tag(sync=True)
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
    #: The effective session (from ``session.updated``) as the settings panel shows it.
    session_config = t.Dict().tag(sync=True)
    #: The settings panel's last problems: ``{field: message}`` (``_``: the server refused).
    settings_errors = t.Dict().tag(sync=True)
    #: Choices the settings panel offers: ``voices``, ``transcription_models``, ``eagerness``.
    settings_options = t.Dict().tag(sync=True)
    #: Tokens and cost so far and the context window's fill (``EventLog.totals()``).
    totals = t.Dict().tag(sync=True)
    #: A replay's speed: recorded seconds per second (``math.inf``, null in the browser: every
    #: row at once). Only a replay (``RealtimeWidget.replay``) uses it.
    speed = t.Float(1.0).tag(sync=True, to_json=lambda v, _w: None if math.isinf(v) else v,
                             from_json=lambda v, _w: math.inf if v is None else v)  # fmt: skip
    #: What a replay shows (the file's name), empty for a live widget.
    replay_source = t.Unicode("").tag(sync=True)
    #: The items of a replay whose audio can be played (user and assistant).
    replay_items: t.List[str] = t.List(t.Unicode()).tag(sync=True)

    #: The recording a replay shows (None: a live widget with a session).
    _recording: Recording | None = None
    _loop: LoopThread  # the session's loop (the shared one), or the shared one for a replay
    _offs: list[Callable[[], None]]  # unsubscribe from the session's callbacks

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
        bridge.UPDATE_SESSION: "_msg_update_session",
    }
    #: ``command.name`` → handler method, run on the session loop with ``command.args``.
    _COMMANDS: ClassVar[dict[str, str]] = {
        "send_text": "_cmd_send_text",
        "cancel": "_cmd_cancel",
        "clear_log": "_cmd_clear_log",
        "set_mode": "_cmd_set_mode",
        "set_threshold": "_cmd_set_threshold",
        "stop_audio": "_cmd_stop_audio",
        "reconnect": "_cmd_reconnect",
        "play_item": "_cmd_play_item",
        "set_speed": "_cmd_set_speed",
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
        input_transcription: str | None = DEFAULT_TRANSCRIPTION_MODEL,
        tools: list[Callable[..., Any]] | None = None,
        approve: Callable[[Any], Any] | None = None,
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
        config = _with_widget_defaults(
            initial_config(instructions, voice, turn_detection, session), input_transcription
        )
        self._init_state(max_mic_lag_s, turn_detection)
        extra: dict[str, Any] = {
            k: v
            for k, v in (
                ("azure_endpoint", azure_endpoint),
                ("api_version", api_version),
                ("tools", tools),
                ("approve", approve),
            )
            if v is not None
        }
        # Connect before the comm opens: a failure leaves no model behind in the front end.
        # reconnect=True: a dropped socket (1006, 1011 …) reopens by the client core's rules.
        try:
            sess = Session(
                url,
                api_key=api_key,
                model=model,
                session=config,
                server_options=server_options,
                connect=False,
                reconnect=True,
                **extra,
            )
        except TypeError as exc:
            if "tools" in extra or "approve" in extra:
                raise UsageError(
                    "This realtime-nb's session does not take tools= or approve= yet: "
                    "upgrade realtime-nb."
                ) from exc
            raise
        try:
            sess.connect()
        except BaseException:
            sess.close()
            raise
        self.session = sess
        self._loop = sess.loop
        self._rows = RowFeed(sess.events, self._post, lambda: self.row_cap)
        self._turns = TurnFeed(sess.events, self._post, self._played_map, self._item_audio_or_none)
        self._rows.turn_of = self._turns.turn_of
        #: Sessions this widget replaced with the Reconnect button (their logs stay readable).
        self.previous_sessions: list[Session] = []
        try:
            super().__init__(
                settings_options={
                    "voices": list(VOICES),
                    "transcription_models": sorted(TRANSCRIPTION_MODELS),
                    "eagerness": list(EAGERNESS),
                    "limits_ms": {k: list(v) for k, v in PANEL_LIMITS_MS.items()},
                    "default_silence_ms": DEFAULT_SILENCE_MS,
                    "default_transcription_model": DEFAULT_TRANSCRIPTION_MODEL,
                },
                status="connected",
                offline=sess.offline,
                endpoint=sess.async_session.endpoint.display_url,
                row_cap=row_cap,
                mic_constraints=dict(
                    DEFAULT_MIC_CONSTRAINTS if mic_constraints is None else mic_constraints
                ),
            )
            self._offs = self._subscribe(sess)
            self._sync_from_config()
            self._loop.run(self._start_pump(), timeout=10)
            self.on_msg(self._on_msg)
        except BaseException:
            self.close()
            raise

    def _init_state(self, max_mic_lag_s: float, turn_detection: str | None) -> None:
        """The bookkeeping a live widget and a replay share (before the comm opens)."""
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
        #: Output audio that arrived before the first view was ready (``w.ask`` in the cell
        #: that displays ``w``, or marimo, which renders after the cell ran): played when the
        #: view comes, so the first answer is heard. Bounded: see PENDING_AUDIO_MAX_BYTES.
        self._pending_audio: collections.deque[tuple[str, str | None, bytes]] = collections.deque()
        self._pending_bytes = 0
        self._pending_since: float | None = None
        self._transcript_seq = -1
        self._ptt_error = ""
        self._vad_td: dict[str, Any] = _fresh_vad(turn_detection or "server_vad")
        self._tasks: set[asyncio.Task[Any]] = set()
        self._pump_task: asyncio.Task[None] | None = None
        self._closing: asyncio.Task[None] | None = None
        self._offs = []
        self._display_ids: list[str] = []

    # --- a replay: a recording shown without a connection ----------------------------------
    @classmethod
    def replay(
        cls,
        source: str | os.PathLike[str] | Recording,
        speed: float = 1.0,
        *,
        row_cap: int = 2000,
    ) -> RealtimeWidget:
        """Show a recorded session (a file from ``save()``, or a ``Recording``): no connection.

        The event table, the turn timeline and the transcript fill in as the session went, at
        ``speed`` times the recorded pace (``math.inf``: everything at once) from the moment
        the widget is displayed; the speed selector changes it (``w.speed`` too). Each
        transcript bubble with audio, the user's or the assistant's, has a play button
        (``w.play(item_id)`` from Python). No socket, no microphone, no key: ``w.events``,
        ``w.conversation``, ``w.transcript`` and ``w.item_audio`` read the recording.

        Raises:
            UsageError: ``speed`` is not a number above 0.
            RecordingFormatError: the file is damaged, not a session file, or too new.
        """
        from .recording import Recording, load

        recording = source if isinstance(source, Recording) else load(source)
        speed = _replay_speed(speed)
        widget = cls.__new__(cls)
        widget._init_replay(recording, speed, row_cap)
        return widget

    def _init_replay(self, recording: Recording, speed: float, row_cap: int) -> None:
        self._closed = False
        self._init_state(5.0, None)
        self._recording = recording
        self.previous_sessions = []
        self._loop = acquire_shared_loop()
        self._shown = ReplayedLog(recording.events)
        self._replay_task: asyncio.Task[None] | None = None
        #: ``{item id: samples}`` the views reported played during this replay.
        self._replay_played: dict[str, int] = {}
        self._rows = RowFeed(self._shown, self._post, lambda: self.row_cap)
        self._turns = TurnFeed(
            self._shown, self._post, lambda: recording.played, self._item_audio_or_none
        )
        self._rows.turn_of = self._turns.turn_of
        name = recording.path.name if recording.path is not None else "a recording in memory"
        try:
            super().__init__(
                status="replay",
                endpoint=str(recording.manifest.get("endpoint") or ""),
                offline=recording.manifest.get("endpoint") == "stand-in",
                row_cap=row_cap,
                speed=speed,
                replay_source=name,
                replay_items=[str(i) for i in recording.audio_item_ids],
            )
            self._sync_from_config()
            self._loop.run(self._start_pump(), timeout=10)
            self.on_msg(self._on_msg)
        except BaseException:
            self.close()
            raise

    @property
    def recording(self) -> Recording | None:
        """The recording a replay shows (None for a live widget)."""
        return self._recording

    def play(self, item_id: str) -> None:
        """Play an item's recorded audio in the views (a replay; user or assistant items)."""
        if self._recording is None:
            raise UsageError("play() is for a replay: RealtimeWidget.replay(path).")
        self._loop.run(_value(lambda: self._play_item(item_id)), timeout=10)

    def _play_item(self, item_id: str) -> None:
        """Send the item's PCM as AUDIO chunks; the first one restarts the players."""
        recording = self._recording
        assert recording is not None
        if item_id not in recording.audio_item_ids:
            raise UsageError(
                f"The recording holds no audio for item {item_id!r}; playable items are in "
                "w.replay_items (recording.audio_item_ids)."
            )
        pcm = recording.item_audio(item_id).astype("<i2", copy=False).tobytes()
        response_id = self._response_of(item_id)
        for start in range(0, len(pcm), REPLAY_CHUNK_BYTES):
            self._audio_seq += 1
            message: dict[str, Any] = {
                "type": bridge.AUDIO,
                "item_id": item_id,
                "response_id": response_id,
                "seq": self._audio_seq,
            }
            if start == 0:
                message["restart"] = True
            chunk = pcm[start : start + REPLAY_CHUNK_BYTES]
            if self._post(message, [chunk]):
                self._audio_chunks += 1
                self._audio_bytes += len(chunk)

    def _response_of(self, item_id: str) -> str | None:
        recording = self._recording
        item = recording.conversation.item(item_id) if recording is not None else None
        response_id = getattr(item, "response_id", None)
        return response_id if isinstance(response_id, str) else None

    async def _run_replay(self) -> None:
        """Show the rows at ``speed`` times their recorded pace (the replay's clock)."""
        shown = self._shown
        position = shown.start_t
        last = time.monotonic()
        while not shown.done:
            if math.isinf(self.speed):
                shown.advance_to(math.inf)
                break
            await asyncio.sleep(REPLAY_TICK_S)
            now = time.monotonic()
            position += (now - last) * self.speed
            last = now
            shown.advance_to(position)

    def _start_replay_clock(self) -> None:
        if self._replay_task is None and not self._closed:
            self._replay_task = asyncio.get_running_loop().create_task(
                self._run_replay(), name="realtime-nb-widget-replay"
            )
            self._tasks.add(self._replay_task)

    def _require_session(self, what: str) -> Session:
        if self._recording is not None:
            raise UsageError(
                f"{what} needs a live session; this widget is a replay of a recording. "
                "Create a RealtimeWidget() to talk to the model."
            )
        return self.session

    # --- what a cell uses --------------------------------------------------------------------
    @property
    def server(self) -> LocalServer | None:
        """The offline stand-in this widget started, or None."""
        return None if self._recording is not None else self.session.server

    @property
    def events(self) -> EventLog:
        if self._recording is not None:
            return self._recording.events
        return self.session.events

    @property
    def conversation(self) -> Conversation:
        if self._recording is not None:
            return self._recording.conversation
        return self.session.conversation

    @property
    def transcript(self) -> list[tuple[str, str]]:
        if self._recording is not None:
            return self._recording.transcript
        return self.session.transcript

    def item_audio(self, item_id: str) -> np.ndarray:
        if self._recording is not None:
            return self._recording.item_audio(item_id)
        return self.session.item_audio(item_id)

    def tool(self, fn: Callable[..., Any] | None = None, **options: Any) -> Any:
        """Hand the model a Python function: ``@w.tool`` (see ``Session.tool``)."""
        register = getattr(self._require_session("A tool"), "tool", None)
        if register is None:
            raise UsageError("This realtime-nb's session has no tools yet: upgrade realtime-nb.")
        return register(fn, **options) if fn is not None else register(**options)

    def update_session(self, session: dict[str, Any] | None = None, **fields: Any) -> dict:
        """Send ``session.update`` (the settings panel follows ``session.updated``)."""
        return self._require_session("update_session()").update_session(session, **fields)

    def reconnect(self) -> None:
        """Open a new session with the same settings if this one is closed (the button).

        A dropped socket reopens by itself (the client core's reconnect, ``reconnect=True``);
        this is for a session that stayed closed: the server ended it, or it gave up
        reconnecting. The old session's log stays in ``w.previous_sessions``.
        """
        if self._closed:
            raise UsageError("This widget was closed: create a new RealtimeWidget.")
        self._require_session("reconnect()")
        self._loop.run(self._reconnect_now(), timeout=60)

    def send_text(self, text: str, *, role: str = "user") -> str:
        """Add a text message to the conversation (no response); returns the item id."""
        return self._require_session("send_text()").send_text(text, role=role)

    def send_audio(self, source: Any, sample_rate: int | None = None, **kw: Any) -> float:
        """Append audio to the input buffer as a microphone would (see ``Session.send_audio``)."""
        return self._require_session("send_audio()").send_audio(source, sample_rate, **kw)

    def ask(self, message: Any = None, sample_rate: int | None = None, **params: Any) -> Response:
        """Say something (text or audio) and block until the response is done."""
        return self._require_session("ask()").ask(message, sample_rate, **params)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the session so far to one file, with what the speaker played per item.

        ``realtime_nb.load(path)`` reads it back without a connection (docs/recording.md).
        """
        if self._recording is not None:
            return self._recording.save(path)
        return self.session.save(path, played_ms=self._played_map())

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
        if self._recording is not None:
            self._close_replay()
            return
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
                for previous in self.previous_sessions:  # after: they hold the loop thread
                    previous.close()
        except Exception:
            log.debug("closing the widget failed", exc_info=True)
        with contextlib.suppress(Exception):
            self.status = "closed"
        with contextlib.suppress(Exception):
            self._leave_snapshot()
        with contextlib.suppress(Exception):
            super().close()

    def _close_replay(self) -> None:
        """Stop a replay's clock and row task and let go of the shared loop."""
        if self.__dict__.get("_closed", True):
            with contextlib.suppress(Exception):
                super().close()
            return
        self._closed = True
        loop = self._loop
        try:
            if loop.in_loop():
                self._closing = loop.loop.create_task(self._shutdown([]))
            elif loop.alive:
                loop.run(self._shutdown([]), timeout=10)
        except Exception:
            log.debug("closing the replay failed", exc_info=True)
        release_shared_loop(loop)
        with contextlib.suppress(Exception):
            self.status = "closed"
        with contextlib.suppress(Exception):
            self._leave_snapshot()
        with contextlib.suppress(Exception):
            super().close()

    # --- display: a live view, and a static record once closed --------------------------------
    def _ipython_display_(self) -> None:
        """Display the live widget under a display id, so close() can leave a record there."""
        from IPython.display import display

        bundle = self._repr_mimebundle_()
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        if self._closed or not data:
            display({"text/html": self.snapshot_html(), "text/plain": repr(self)}, raw=True)
            return
        display_id = uuid.uuid4().hex
        self._display_ids.append(display_id)
        display(data, raw=True, display_id=display_id)

    def _leave_snapshot(self) -> None:
        """Replace every displayed live view with static HTML (the output stays readable)."""
        if not self._display_ids:
            return
        from IPython.display import update_display

        page = {"text/html": self.snapshot_html(), "text/plain": repr(self)}
        for display_id in self._display_ids:
            update_display(page, raw=True, display_id=display_id)

    def snapshot_html(self) -> str:
        """The session as static HTML: status, transcript and the event table."""
        entries = transcript_entries(self.conversation, TRANSCRIPT_MAX)
        lines = []
        for e in entries:
            text = e.get("heard") or e.get("text") or "(audio, no transcript)"
            cut = " (interrupted)" if e.get("interrupted") else ""
            lines.append(
                f"<li><b>{html.escape(str(e.get('role')))}</b>: {html.escape(str(text))}{cut}</li>"
            )
        transcript = f"<ol>{''.join(lines)}</ol>" if lines else "<p>(no messages)</p>"
        where = html.escape(self.endpoint + (" (offline stand-in)" if self.offline else ""))
        if self._recording is not None:
            where = f"replay of {html.escape(self.replay_source)}"
        return (
            '<div class="rtnb-snapshot">'
            f"<p><b>Realtime session, {html.escape(self.status)}</b> · {where} · "
            f"{len(self.events)} events. Read it from Python with <code>w.events</code>"
            " and <code>w.conversation</code>.</p>"
            f"<details open><summary>Transcript</summary>{transcript}</details>"
            f"<details><summary>Event table</summary>{self.events._repr_html_()}"
            "</details></div>"
        )

    def __repr__(self) -> str:
        if self._recording is not None:
            return (
                f"<RealtimeWidget {self.status} of {self.replay_source} · {len(self.events)} "
                "events>"
            )
        if "session" not in self.__dict__:
            return "<RealtimeWidget (not connected)>"
        where = self.endpoint + (" (offline stand-in)" if self.offline else "")
        return f"<RealtimeWidget {self.status} · {where} · {len(self.session.events)} events>"

    def _subscribe(self, sess: Session) -> list[Callable[[], None]]:
        return [
            sess.async_session.on_output_audio(self._on_output_audio),
            sess.on("input_audio_buffer.speech_started", self._on_speech_started),
            sess.on("session.updated", self._on_session_updated),
            sess.on("error", self._on_server_error),
        ]

    def _played_map(self) -> dict[str, float]:
        """``{assistant item id: ms played}`` for every item the speaker reported."""
        samples = self._tracker.played_map(last=1_000_000)
        return {item: n * 1000 / SAMPLE_RATE for item, n in samples.items()}

    def _item_audio_or_none(self, item_id: str) -> np.ndarray | None:
        try:
            return self.item_audio(item_id)
        except Exception:  # not kept (retention), or not an audio item
            return None

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
                    if tick % TURNS_EVERY == 0:
                        self._turns.send()
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
        if self._recording is not None:  # a replay's log is the recording's: it is not written
            log.debug("replay: %s %s", type_, payload)
            return
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
        if self._recording is not None:
            return  # a replay has no microphone: the view hides it, a late frame is dropped
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
        if self._recording is not None:
            self._call(self._report, "push to talk", "A replay has no microphone.")
            return
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

    def _msg_update_session(self, msg: dict[str, Any], buffers: list[Any]) -> None:
        self._call(self._on_update_session, msg)

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
        if self._recording is not None:
            self._start_replay_clock()
        self._rows.send_all()
        self._turns.send(force=True)
        self._play_held_audio()
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
            self._ptt_error = self._ptt_problem(ms)
            self._report("push to talk", self._ptt_error)
        elif self._ptt_error and self.error == self._ptt_error:  # a good turn: the advice is done
            self.error = self._ptt_error = ""

    def _ptt_problem(self, ms: float) -> str:
        """Why a push-to-talk turn had (almost) no audio, in the person's terms."""
        if self.muted:
            return "Nothing was sent: the microphone is muted. Unmute, then hold the button."
        if self.mic_error == "permission_denied":
            return (
                "Nothing was recorded: the browser was refused the microphone. Allow it in the "
                "site settings (the icon left of the address), then hold the button again."
            )
        if self.mic_error in ("no_device", "device_busy"):
            what = "no microphone was found" if self.mic_error == "no_device" else "another "
            what += "" if self.mic_error == "no_device" else "program is using the microphone"
            return f"Nothing was recorded: {what}. Fix that, then hold the button again."
        if self.mic_state != "on":
            return (
                "Nothing was recorded: the microphone was not on yet. Wait until the button "
                "says 'Stop mic', then hold the talk button while you speak."
            )
        return (
            f"Hold the talk button a little longer: only {ms:.0f} ms of audio was captured "
            "and at least 100 ms is needed."
        )

    def _on_played(self, msg: dict[str, Any]) -> None:
        item_id = msg.get("item_id")
        samples = msg.get("samples")
        reason = msg.get("reason")
        if not isinstance(item_id, str) or not isinstance(samples, int) or samples < 0:
            raise UsageError(f"A played message needs item_id and samples >= 0: {msg!r}.")
        if reason not in ("progress", "interrupted", "ended"):
            raise UsageError(f"Unknown played reason {reason!r}.")
        if self._recording is not None:  # a replay: counted, never a barge-in
            self._replay_played[item_id] = samples
            return
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
        events = self.events
        if isinstance(seq, int):
            for candidate in events:
                if candidate.seq == seq:
                    row = candidate
                    break
        if row is None:
            error = (
                f"Row {seq!r} is not in the log (the oldest rows are evicted beyond "
                f"max_rows={events.max_rows})."
            )
        elif msg.get("original"):  # "show as sent": the base64 audio put back, when exact
            try:
                payload = original_payload(
                    row,
                    list(events),
                    self.conversation,
                    output_format=self._output_format_type(),
                )
            except OriginalUnavailable as exc:
                error = str(exc)
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

    def _output_format_type(self) -> str | None:
        """The session's output audio format as the server states it (``audio/pcm`` …)."""
        fmt = self._session_config().get("audio", {}).get("output", {}).get("format") or {}
        return fmt.get("type") if isinstance(fmt, dict) else None

    def _transcript_with_turns(self) -> list[dict[str, Any]]:
        """The transcript entries, each with the turn its item belongs to (bubble → table)."""
        entries = transcript_entries(self.conversation, TRANSCRIPT_MAX)
        if self._recording is not None and not self._shown.done:  # what the replay reached
            entries = [e for e in entries if e.get("item_id") in self._shown.item_ids]
        turns = self._turns.item_turns()
        for entry in entries:
            entry["turn"] = turns.get(str(entry.get("item_id")))
        return entries

    def _on_ping(self, msg: dict[str, Any]) -> None:
        self._post(
            {
                "type": bridge.PONG,
                "request_id": msg.get("request_id"),
                "t": msg.get("t"),
                "t_kernel": time.time() * 1000,
            }
        )

    def _on_update_session(self, msg: dict[str, Any]) -> None:
        session = msg.get("session")
        if not isinstance(session, dict) or not session:
            raise UsageError(f"update_session needs a non-empty 'session' dict, not {session!r}.")
        if self._recording is not None:
            self.settings_errors = {"_": "A replay shows the recorded settings; it has no session."}
            return
        problems = session_update_problems(session)
        self.settings_errors = problems
        if not problems:
            self._spawn(self._apply_settings, session, action="changing settings")

    async def _apply_settings(self, session: dict[str, Any]) -> None:
        try:
            await self.session.async_session.update_session(session)
        except RealtimeError as exc:  # the server refused: nothing changed, say why by the panel
            self.settings_errors = {"_": str(exc)}
            self._sync_from_config()
            return
        self.settings_errors = {}

    # --- commands (on the loop) ----------------------------------------------------------------
    def _cmd_send_text(self, args: dict[str, Any]) -> None:
        self._require_session("Sending text")
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

    def _cmd_reconnect(self, args: dict[str, Any]) -> None:
        self._require_session("Reconnecting")
        self._spawn(self._reconnect_now, action="reconnecting")

    def _cmd_play_item(self, args: dict[str, Any]) -> None:
        item_id = args.get("item_id")
        if self._recording is None:
            raise UsageError("play_item is for a replay: RealtimeWidget.replay(path).")
        if not isinstance(item_id, str):
            raise UsageError(f"play_item needs an 'item_id', not {item_id!r}.")
        self._play_item(item_id)

    def _cmd_set_speed(self, args: dict[str, Any]) -> None:
        self.speed = _replay_speed(math.inf if args.get("speed") is None else args["speed"])

    async def _reconnect_now(self) -> None:
        """Replace a closed session with a new one on the same endpoint, with its settings."""
        old = self.session
        s = old.async_session
        if self._closed or s.connected or s.reconnecting:
            return
        self.status = "connecting"
        config = {k: v for k, v in s.requested_config.items() if k not in ("type", "model")}
        new = Session(
            None,
            offline=False,
            endpoint=s.endpoint,
            model=s.model,
            session=config or None,
            connect=False,
            loop=self._loop,
            reconnect=True,
            ssl=s.ssl,
        )
        try:
            await new.async_session.connect()
        except BaseException:
            await new.async_session.close()
            self.status = "closed"
            raise
        for off in self._offs:
            with contextlib.suppress(Exception):
                off()
        new.server, old.server = old.server, None  # the stand-in (if any) moves with it
        self.previous_sessions.append(old)
        self.session = new
        self._rows = RowFeed(new.events, self._post, lambda: self.row_cap)
        self._turns = TurnFeed(new.events, self._post, self._played_map, self._item_audio_or_none)
        self._rows.turn_of = self._turns.turn_of
        self._offs = self._subscribe(new)
        self.error = ""
        self.status = "connected"
        self._transcript_seq = -1
        self._sync_from_config()
        if self._ready:
            self._rows.send_all()
            self._turns.send(force=True)
        self._refresh_traits()

    # --- session callbacks (on the loop) -------------------------------------------------------
    def _on_output_audio(self, item_id: str | None, response_id: str | None, pcm: bytes) -> None:
        if not item_id or self._closed:
            return
        if not self._ready:
            if self._views == 0:  # no view yet: keep it for the first one
                self._hold_audio(item_id, response_id, pcm)
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

    def _hold_audio(self, item_id: str, response_id: str | None, pcm: bytes) -> None:
        """Keep audio for the first view; the oldest chunks go beyond the byte bound."""
        if self._pending_since is None:
            self._pending_since = time.monotonic()
        self._pending_audio.append((item_id, response_id, bytes(pcm)))
        self._pending_bytes += len(pcm)
        while self._pending_bytes > PENDING_AUDIO_MAX_BYTES and self._pending_audio:
            self._pending_bytes -= len(self._pending_audio.popleft()[2])

    def _play_held_audio(self) -> None:
        """Send the audio held for the first view, unless it has gone stale."""
        held, since = list(self._pending_audio), self._pending_since
        self._pending_audio.clear()
        self._pending_bytes = 0
        self._pending_since = None
        if not held or since is None or time.monotonic() - since > PENDING_AUDIO_MAX_AGE_S:
            return
        for item_id, response_id, pcm in held:
            self._on_output_audio(item_id, response_id, pcm)

    def _on_speech_started(self, event: dict[str, Any]) -> None:
        if self._tracker.playing(time.monotonic()) is not None:
            self._flush("speech_started")

    def _flush(self, reason: str, *, force: bool = False) -> list[str]:
        """Ask the views to stop playing now (they answer ``played`` ``interrupted``).

        Unless the server's own VAD triggered it (the server cancels then, or ``interrupt``
        does), the active response is cancelled too: nothing else would stop its audio.
        """
        items = self._tracker.flush(time.monotonic(), force=force)
        if self._recording is not None:  # a replay has no response to cancel
            if self._ready:
                self._post({"type": bridge.FLUSH, "reason": reason})
            return items
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
        if self._recording is not None:
            audio = self._recording.session_config.get("audio")
            inp = audio.get("input") if isinstance(audio, dict) else None
            td = inp.get("turn_detection") if isinstance(inp, dict) else None
            return td if isinstance(td, dict) else None
        return self.session.async_session.protocol.turn_detection

    def _session_config(self) -> dict[str, Any]:
        """The effective session config: the session's, or the one a replay recorded."""
        if self._recording is not None:
            return self._recording.session_config
        return self.session.session_config

    def _sync_from_config(self) -> None:
        """Make ``mode``/``turn_detection``/``vad_threshold`` and the panel say what the
        session has."""
        config = self._session_config()
        self.session_config = {k: copy.deepcopy(config[k]) for k in _PANEL_FIELDS if k in config}
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
                self._vad_td = _fresh_vad(new)
            self.mode = HANDS_FREE
        self._apply_later()

    @t.validate("speed")
    def _check_speed(self, proposal: dict[str, Any]) -> float:
        try:
            return _replay_speed(proposal["value"])
        except UsageError as exc:
            raise t.TraitError(str(exc)) from None

    @t.observe("vad_threshold")
    def _threshold_changed(self, change: dict[str, Any]) -> None:
        self._apply_later()

    def _apply_later(self) -> None:
        if "session" in self.__dict__ and not self._closed and self._recording is None:
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
        if self._recording is not None:
            self._refresh_replay_traits()
            return
        s = self.session.async_session
        if self.status in ("connected", "reconnecting", "closed"):
            status = "connected" if s.connected else "reconnecting" if s.reconnecting else "closed"
            if status == "closed" and self.status != "closed" and s.closed_error is not None:
                self.error = f"{s.closed_error} Press Reconnect for a new session."
            elif status == "connected" and self.status == "reconnecting":
                self.error = ""
            self.status = status
        seq = self.session.events.last_seq
        if seq != self._transcript_seq:  # rebuilt only when something happened, not 5×/s
            self._transcript_seq = seq
            self._transcript = self._transcript_with_turns()
            self.totals = session_totals(self.session.events, s.model)
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

    def _refresh_replay_traits(self) -> None:
        recording = self._recording
        assert recording is not None
        seq = self._shown.last_seq if not self._shown.done else -2
        if seq != self._transcript_seq:
            self._transcript_seq = seq
            self._transcript = self._transcript_with_turns()
            self.totals = session_totals(recording.events, recording.model)
        with self._lock:
            threads = sorted(self._comm_threads)
        self.stats = {
            "audio_chunks_sent": self._audio_chunks,
            "audio_ms_sent": round(self._audio_bytes / PCM16_BYTES_PER_MS, 1),
            "played": dict(self._replay_played),
            "views": self._views,
            "comm_threads": threads,
            "rows_sent": self._rows.rows_sent,
            "replay_rows_shown": len(self._shown),
            "replay_rows": self._shown.total,
            "replay_done": self._shown.done,
        }


# --- helpers --------------------------------------------------------------------------------------
def _replay_speed(speed: Any) -> float:
    """A replay speed: a number above 0 (``math.inf``: everything at once)."""
    if isinstance(speed, bool) or not isinstance(speed, int | float) or not speed > 0:
        raise UsageError(
            f"speed must be a number above 0 (2.0: twice as fast; math.inf: everything at "
            f"once), not {speed!r}."
        )
    return float(speed)


async def _value(fn: Callable[[], Any]) -> Any:
    return fn()


def _fresh_vad(kind: str) -> dict[str, Any]:
    """A new turn detection of ``kind`` with the widget's defaults (see DEFAULT_SILENCE_MS)."""
    if kind == "server_vad":
        return {"type": kind, "silence_duration_ms": DEFAULT_SILENCE_MS}
    return {"type": kind}


def _with_widget_defaults(config: dict[str, Any], transcription: str | None) -> dict[str, Any]:
    """``config`` with the widget's defaults where the caller set nothing: a server-VAD
    silence that does not split sentences, and input transcription."""
    config = copy.deepcopy(config)
    audio = config.setdefault("audio", {})
    inp = audio.setdefault("input", {}) if isinstance(audio, dict) else None
    if not isinstance(inp, dict):
        return config
    td = inp.get("turn_detection")
    if isinstance(td, dict) and td.get("type") == "server_vad":
        td.setdefault("silence_duration_ms", DEFAULT_SILENCE_MS)
    if transcription is not None and "transcription" not in inp:
        inp["transcription"] = {"model": transcription}
    return config


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def session_update_problems(session: dict[str, Any]) -> dict[str, str]:
    """What is wrong with a settings-panel update, by panel field (empty: send it).

    Checks only what the panel edits; other fields go to the server as they are.
    """
    problems: dict[str, str] = {}
    audio: dict[str, Any] = session["audio"] if isinstance(session.get("audio"), dict) else {}
    inp: dict[str, Any] = audio["input"] if isinstance(audio.get("input"), dict) else {}
    if "turn_detection" in inp:
        td = inp["turn_detection"]
        if td is not None and not (isinstance(td, dict) and td.get("type") in VAD_TYPES):
            problems["turn_detection"] = "Choose off, server VAD or semantic VAD."
        elif td is not None:
            threshold = td.get("threshold")
            if threshold is not None and not (_number(threshold) and 0 <= threshold <= 1):
                problems["threshold"] = f"A number from 0 to 1, not {threshold!r}."
            for name, (low, high) in PANEL_LIMITS_MS.items():
                value = td.get(name)
                if value is None:
                    continue
                if not (_number(value) and float(value).is_integer() and low <= value <= high):
                    problems[name] = f"Whole milliseconds from {low} to {high}, not {value!r}."
            eagerness = td.get("eagerness")
            if eagerness is not None and eagerness not in EAGERNESS:
                problems["eagerness"] = f"One of {', '.join(EAGERNESS)}, not {eagerness!r}."
    if "transcription" in inp:
        tr = inp["transcription"]
        model = tr.get("model") if isinstance(tr, dict) else None
        if tr is not None and not (isinstance(model, str) and model.strip()):
            problems["transcription_model"] = "Name a transcription model (e.g. gpt-transcribe)."
    out: dict[str, Any] = audio["output"] if isinstance(audio.get("output"), dict) else {}
    voice = out.get("voice")
    if "voice" in out and not (voice in VOICES or isinstance(voice, dict)):
        problems["voice"] = f"One of {', '.join(VOICES)}, not {voice!r}."
    if "instructions" in session and not isinstance(session["instructions"], str):
        problems["instructions"] = "Instructions are text."
    if "output_modalities" in session and session["output_modalities"] not in (
        ["audio"],
        ["text"],
    ):
        problems["output_modalities"] = "Either audio (with its transcript) or text only."
    return problems


def session_totals(events: EventLog, model: str | None) -> dict[str, Any]:
    """Tokens and cost so far, and how full the model's context window is (the totals line).

    ``EventLog.totals()`` when this version has it; else summed from the per-response usage.
    """
    totals_of = getattr(events, "totals", None)
    if callable(totals_of):
        out = dict(totals_of())
    else:
        usage = events.usage()
        costs = [u.cost_usd for u in usage if u.cost_usd is not None]
        out = {
            "responses": len(usage),
            "input_tokens": sum(u.input_tokens for u in usage),
            "output_tokens": sum(u.output_tokens for u in usage),
            "total_tokens": sum(u.total_tokens for u in usage),
            "cost_usd": round(sum(costs), 6) if costs else None,
            # each response re-reads the whole conversation: its input + output is the context
            "context_tokens": usage[-1].total_tokens if usage else 0,
        }
    info = model_info(model)
    out.setdefault("model", model)
    if info is not None and info.context_window:
        out.setdefault("context_window", info.context_window)
    return json.loads(json.dumps(out, default=str))


__all__ = ["RealtimeWidget"]

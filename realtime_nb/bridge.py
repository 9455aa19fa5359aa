"""Every message between the browser and the kernel, in one place (DESIGN.md §4).

The twin of this file is ``js/src/bridge.js``: the same message names and fields, kept in step
by ``tests/test_bridge.py``. Durable UI state (status, mode, error, settings, transcript) lives in
the widget's traitlets; streams travel as anywidget custom messages, listed here.

Binary payloads ride in the message's ``buffers``: Python receives ``memoryview`` or ``bytes``;
JavaScript receives ``DataView`` (Colab: ``Uint8Array``) and accepts both. Audio is always
PCM16 little-endian, 24 kHz, mono. Nothing here ever carries a secret.

Order of a view's life: the view sends ``ready``; only then does the kernel send anything to it
(a custom message sent before a view renders is lost). Rows are batched (≤ 20 messages a second).
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

PROTOCOL_VERSION = 1

# --- browser → kernel ---------------------------------------------------------------------------
READY = "ready"
MIC_FRAME = "mic_frame"
MIC_STATE = "mic_state"
PTT = "ptt"
PLAYED = "played"
COMMAND = "command"
GET_EVENT = "get_event"
PING = "ping"
UPDATE_SESSION = "update_session"

# --- kernel → browser ---------------------------------------------------------------------------
ROWS = "rows"
AUDIO = "audio"
FLUSH = "flush"
EVENT_JSON = "event_json"
PONG = "pong"
TURNS = "turns"

BROWSER_TO_KERNEL = frozenset(
    {READY, MIC_FRAME, MIC_STATE, PTT, PLAYED, COMMAND, GET_EVENT, PING, UPDATE_SESSION}
)
KERNEL_TO_BROWSER = frozenset({ROWS, AUDIO, FLUSH, EVENT_JSON, PONG, TURNS})

#: Commands a view may ask for (``command.name``). ``reconnect`` opens a new session with the
#: same settings when the old one is closed (the Reconnect button). A replay
#: (``RealtimeWidget.replay``) takes ``play_item`` (``{"item_id"}``: send that item's recorded
#: audio, user or assistant, as AUDIO chunks) and ``set_speed`` (``{"speed"}``: a number > 0,
#: or null for every remaining row at once).
COMMANDS = frozenset(
    {
        "send_text",
        "cancel",
        "clear_log",
        "set_mode",
        "set_threshold",
        "stop_audio",
        "reconnect",
        "play_item",
        "set_speed",
    }
)


class Ready(TypedDict):
    """A view rendered and can receive messages. ``sample_rate`` is its AudioContext's."""

    type: Literal["ready"]
    version: int
    view_id: str
    sample_rate: int
    secure_context: bool
    has_media_devices: bool
    user_agent: str
    buffer_kind: str  # how buffers arrived in a probe: "DataView" | "Uint8Array" | "ArrayBuffer"


class MicFrame(TypedDict):
    """One capture frame; ``buffers[0]`` is its PCM16 24 kHz audio (20–50 ms).

    ``seq`` counts frames from 0 per microphone start; ``t_capture`` is the epoch time in ms
    (``performance.timeOrigin + performance.now()``) when the frame's last sample was captured.
    ``level`` is the frame's RMS in [0, 1] for the meter.
    """

    type: Literal["mic_frame"]
    seq: int
    t_capture: float
    level: float


class MicState(TypedDict):
    """The microphone changed state; ``error`` is one of ``MIC_ERRORS`` when state is error."""

    type: Literal["mic_state"]
    state: Literal["off", "starting", "on", "error"]
    error: str | None
    message: str | None
    settings: dict  # track.getSettings(): sampleRate, echoCancellation, …
    context_rate: int


MIC_ERRORS = frozenset(
    {
        "insecure_context",  # http on a non-localhost host: no navigator.mediaDevices
        "no_media_devices",  # the browser or webview exposes no mediaDevices API
        "permission_denied",  # the user or a policy refused the microphone
        "vscode_webview",  # VS Code notebooks give webviews no microphone
        "no_device",  # no input device
        "device_busy",  # another program holds the device
        "audio_context",  # the AudioContext or worklet could not start
        "unknown",
    }
)


class Ptt(TypedDict):
    """Push-to-talk button: ``press`` starts a turn (and barges in), ``release`` ends it."""

    type: Literal["ptt"]
    action: Literal["press", "release"]


class Played(TypedDict):
    """How many samples of an assistant item the speaker actually played (cumulative).

    Sent every ~100 ms while playing, and once with ``reason`` ``interrupted`` (after a flush)
    or ``ended``. ``t_first`` is the epoch ms when the item's first sample was played.
    ``received`` is how many samples of the item the browser had when it reported.
    """

    type: Literal["played"]
    item_id: str
    samples: int
    received: int
    reason: Literal["progress", "interrupted", "ended"]
    t_first: float | None


class Command(TypedDict):
    type: Literal["command"]
    name: str
    args: dict


class GetEvent(TypedDict):
    """Ask for one row's full JSON payload (audio replaced by markers); answered by EventJson.

    ``original``: the payload as it crossed the wire, its base64 audio put back from the
    conversation (``wire_original``), or an error saying why that cannot be exact."""

    type: Literal["get_event"]
    request_id: int
    seq: int
    original: NotRequired[bool]


class Ping(TypedDict):
    type: Literal["ping"]
    request_id: int
    t: float


class UpdateSession(TypedDict):
    """The settings panel asks for a ``session.update`` with this (GA-shaped, partial) session.

    The kernel checks the values first: problems go to the ``settings_errors`` trait, keyed by
    the panel's field name (``threshold``, ``silence_duration_ms`` …; ``_`` for the server's own
    refusal), and nothing is sent. Otherwise it sends the update through the session's public
    ``update_session``; the panel then shows the ``session_config`` trait (from
    ``session.updated``), so a change made from Python shows there too.
    """

    type: Literal["update_session"]
    session: dict


class Row(TypedDict):
    """One table row (a coalesced run of deltas counts as one row with ``n`` > 1)."""

    seq: int  # first event's sequence number
    last: int  # last event's sequence number
    n: int  # events in the run
    t: float  # seconds since the session started
    dir: Literal["client", "server", "local"]
    type: str
    item: str | None
    resp: str | None
    summary: str
    size: int  # bytes on the wire
    audio_ms: float
    turn: int | None  # the conversation turn the row belongs to (realtime_nb.timeline)


class Rows(TypedDict):
    """A batch of new rows. ``replace`` is true when it replaces the table (first batch, clear).

    ``total`` is every event logged so far; ``counts`` are exact per direction. ``turns``:
    rows already sent whose turn became known later (``{first seq: turn}``; mic frames join
    their turn when it ends).
    """

    type: Literal["rows"]
    rows: list[Row]
    replace: bool
    total: int
    counts: dict[str, int]
    turns: NotRequired[dict[str, int]]


class Audio(TypedDict):
    """A chunk of assistant audio to play; ``buffers[0]`` is PCM16 24 kHz.

    ``restart`` (replays only, on an item's first chunk): drop whatever the player holds, without
    a report, so this item plays from its start even if it was played or cut before.
    """

    type: Literal["audio"]
    item_id: str
    response_id: str | None
    seq: int
    restart: NotRequired[bool]


class Flush(TypedDict):
    """Stop playback now (fade out) and report ``played`` with reason ``interrupted``."""

    type: Literal["flush"]
    reason: Literal["speech_started", "ptt", "user", "cancelled"]


class EventJson(TypedDict):
    type: Literal["event_json"]
    request_id: int
    seq: int
    payload: dict | None
    error: str | None


class Turns(TypedDict):
    """The turn timeline: every turn (``realtime_nb.timeline.build_turns`` JSON), newest last.

    Sent at most every ``TURNS_INTERVAL_S`` and only when something changed; each message
    replaces the previous list (it is short: one entry per turn, levels downsampled).
    """

    type: Literal["turns"]
    turns: list[dict]


class Pong(TypedDict):
    type: Literal["pong"]
    request_id: int
    t: float
    t_kernel: float

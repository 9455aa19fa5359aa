"""The stand-in's per-connection protocol state machine: sans-I/O (no sockets, asyncio or clock).

Theory of operation. One :class:`RealtimeServerProtocol` per WebSocket. The I/O edge
(:mod:`.app`) feeds it what the socket brings and the time, and sends what it returns:

- :meth:`~RealtimeServerProtocol.open` — the upgrade happened: returns ``session.created``, or
  an ``error`` and sets :attr:`~RealtimeServerProtocol.close` (auth, model, beta header: §1.4).
- :meth:`~RealtimeServerProtocol.receive_text` / ``receive_bytes`` — a client frame arrived.
- :meth:`~RealtimeServerProtocol.poll` — time passed: paced response events that are now due,
  the idle timeout, session expiry. :meth:`~RealtimeServerProtocol.next_deadline` says when to
  call it next.
- :meth:`~RealtimeServerProtocol.take_jobs` / ``resolve_job`` — an ``async`` responder or
  transcriber produced its result (sync ones are called in place).

Every call returns the server events (GA dicts, or beta-shaped in beta mode) in send order; after
each call :attr:`close` tells the edge whether to close the socket, with which code and reason.
``now`` is any monotonic clock in seconds; ids come from :class:`~realtime_nb.protocol.IdFactory`
so a seed makes a whole session reproducible.

A response is a queue of *steps* (``due``, action) laid out when its reply is known: the audio
deltas of 100 ms each are due at ``start + offset / audio_speed``; transcript deltas run just
ahead of the audio they describe. Running a step emits its events and records progress (what
audio and text were sent), so cancelling — by the client or by a barge-in — can close whatever
is open with the real closing events and a ``cancelled`` ``response.done``. Which client event
does what is the table :data:`HANDLERS`.
"""

from __future__ import annotations

import copy
import functools
import inspect
import json
import math
import re
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

import numpy as np

from .. import audio, beta, protocol
from ..errors import AudioFormatError
from ..heard import heard_prefix
from ..synth import speech_like
from . import validation as v
from .responders import Reply, ResponderContext, as_reply, echo
from .vad import EnergyVad, VadSettings

# §1.1 models the service knows (the GA enum plus later snapshots); LocalServer(models=...) adds.
KNOWN_MODELS: frozenset[str] = frozenset(
    {
        "gpt-realtime", "gpt-realtime-2025-08-28", "gpt-realtime-mini",
        "gpt-realtime-mini-2025-10-06", "gpt-realtime-mini-2025-12-15",
        "gpt-4o-realtime-preview", "gpt-4o-realtime-preview-2024-10-01",
        "gpt-4o-realtime-preview-2024-12-17", "gpt-4o-realtime-preview-2025-06-03",
        "gpt-4o-mini-realtime-preview", "gpt-4o-mini-realtime-preview-2024-12-17",
        "gpt-realtime-1.5", "gpt-realtime-2", "gpt-realtime-2.1", "gpt-realtime-2.1-mini",
        "gpt-audio-1.5", "gpt-audio-mini", "gpt-audio-mini-2025-10-06",
        "gpt-audio-mini-2025-12-15",
    }
)  # fmt: skip

DEFAULT_INSTRUCTIONS = (
    "You are the realtime-nb stand-in server, a local imitation of the Realtime API for offline "
    "use and tests. You do not understand speech or text: you echo what you hear and say so."
)
CHUNK_MS = 100  # audio per response.output_audio.delta
TEXT_STEP_MS = 50  # pacing of text deltas (audio-time equivalent) in text responses
SYNTH_MS_PER_CHAR = 60
RATE_LIMIT_TOKENS = 40_000  # per minute, as in a real gpt-realtime capture
SAMPLES_PER_MS = audio.SAMPLE_RATE // 1000


# --- connection request -------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ConnectRequest:
    """The upgrade request: ``path`` (with query), lower-cased ``headers``, subprotocols."""

    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    subprotocols: tuple[str, ...] = ()

    @property
    def route(self) -> Literal["openai", "azure", "azure_preview"] | None:
        return route(self.path)

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))

    def credential(self) -> str | None:
        """The API key from ``Authorization: Bearer``, ``api-key`` (header or query) or the
        browser subprotocol ``openai-insecure-api-key.<KEY>``; None when absent."""
        auth = self.headers.get("authorization", "")
        scheme, _, token = auth.strip().partition(" ")
        if scheme.lower() in ("bearer", "basic") and token.strip():
            return token.strip()
        if self.headers.get("api-key"):
            return self.headers["api-key"]
        if self.query.get("api-key"):
            return self.query["api-key"]
        for proto in self.subprotocols:
            if proto.startswith("openai-insecure-api-key."):
                return proto.split(".", 1)[1]
        return None

    def wants_beta(self) -> bool:
        return (
            self.headers.get("openai-beta", "").replace(" ", "").lower() == "realtime=v1"
            or "openai-beta.realtime-v1" in self.subprotocols
        )


def route(path: str) -> Literal["openai", "azure", "azure_preview"] | None:
    """Which endpoint a request path is: ``/v1/realtime``, Azure GA, Azure preview, or None."""
    p = urlsplit(path).path.rstrip("/")
    return {
        "/v1/realtime": "openai",
        "/openai/v1/realtime": "azure",
        "/openai/realtime": "azure_preview",
    }.get(p)  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """Settings all connections of a server share (see :class:`.app.LocalServer`)."""

    api_key: str | None = None
    models: frozenset[str] = KNOWN_MODELS
    protocol: Literal["ga", "beta"] = "ga"
    audio_speed: float = 8.0
    max_session_s: float = 3600.0
    seed: int | None = None


@dataclass(frozen=True, slots=True)
class CloseRequest:
    code: int
    reason: str


@dataclass(slots=True)
class Job:
    """An awaitable the edge must run, then hand back with :meth:`resolve_job`."""

    kind: Literal["reply", "transcript"]
    key: str  # response id / item id
    awaitable: Awaitable[Any]
    seconds: float = 0.0


# --- stored conversation items ---------------------------------------------------------------
@dataclass(slots=True)
class StoredItem:
    """An item as events show it (``item``, no audio bytes) plus its audio per content index."""

    item: dict[str, Any]
    audio: dict[int, tuple[bytes, audio.AudioFormatName]] = field(
        default_factory=dict
    )  # index → (bytes, format)

    @property
    def id(self) -> str:
        return self.item["id"]

    def audio_ms(self, index: int = 0) -> float:
        if index not in self.audio:
            return 0.0
        data, fmt = self.audio[index]
        return audio.bytes_to_ms(len(data), fmt)

    def pcm(self, index: int = 0) -> np.ndarray | None:
        """Audio of one content part as int16 PCM at 24 kHz, or None."""
        if index not in self.audio:
            return None
        data, fmt = self.audio[index]
        if fmt == "pcm16" and len(data) % 2:
            data = data[:-1]
        return audio.decode_from_format(bytes(data), fmt)

    def with_audio(self) -> dict[str, Any]:
        """The item with base64 audio in its audio parts (``conversation.item.retrieved``)."""
        out = copy.deepcopy(self.item)
        for i, (data, _fmt) in self.audio.items():
            if i < len(out.get("content") or ()):
                out["content"][i]["audio"] = audio.b64encode_audio(bytes(data))
        return out


# --- responses -------------------------------------------------------------------------------
@dataclass(slots=True)
class _Output:
    """One output item of a response while it is produced."""

    index: int
    kind: Literal["message", "function_call"]
    item_id: str
    mode: Literal["audio", "text"] = "audio"
    name: str = ""
    call_id: str = ""
    arguments: str = ""
    part_open: bool = False
    part_started: bool = False
    done: bool = False
    status: str = "in_progress"
    text: str = ""  # transcript (audio) or text sent so far
    audio: bytearray = field(default_factory=bytearray)  # output-format bytes sent so far
    stored: StoredItem | None = None


@dataclass(slots=True)
class _Run:
    id: str
    default: bool  # writes to the default conversation
    response: dict[str, Any]
    params: dict[str, Any]
    fmt: audio.AudioFormatName
    mode: Literal["audio", "text"]
    context: list[StoredItem]
    usage_in: tuple[int, int, int]
    instructions_tokens: int
    steps: deque[tuple[float, Callable[[], None]]] = field(default_factory=deque)
    outputs: list[_Output] = field(default_factory=list)
    waiting: bool = True  # reply not known yet
    finished: bool = False
    incomplete: bool = False
    audio_ms: float = 0.0


def split_words(text: str) -> list[str]:
    """Split into word deltas that join back to ``text`` exactly (" highest", "!")."""
    words = re.findall(r"\s*\S+", text)
    tail = text[sum(map(len, words)) :]
    if tail:
        if words:
            words[-1] += tail
        else:
            words = [tail]
    return words


def text_tokens(text: str) -> int:
    return math.ceil(len(text) / 4) if text else 0


def _minutes(seconds: float) -> str:
    minutes = seconds / 60
    return str(int(minutes)) if float(minutes).is_integer() else f"{minutes:g}"


class RealtimeServerProtocol:
    """One connection's protocol state: session, conversation, input buffer, VAD, responses.

    Args:
        request: the upgrade request (path, headers, subprotocols).
        config: server settings.
        responder: ``(ResponderContext) -> Reply | str`` (sync or async); default :func:`echo`.
        transcriber: ``(pcm_int16_24k) -> str`` (sync or async) for input transcription; None
            gives the clearly labelled "[stand-in: 1.4 s of audio]".
        ids: the id source (default: ``IdFactory(config.seed)``).
    """

    def __init__(
        self,
        request: ConnectRequest,
        config: ServerConfig | None = None,
        *,
        responder: Callable[[ResponderContext], Any] | None = None,
        transcriber: Callable[[np.ndarray], Any] | None = None,
        ids: protocol.IdFactory | None = None,
    ) -> None:
        self.request = request
        self.config = config or ServerConfig()
        self.ids = ids or protocol.IdFactory(self.config.seed)
        self.responder = responder or echo
        self.transcriber = transcriber
        self.close: CloseRequest | None = None
        self.beta = False
        self.kind: Literal["realtime", "transcription"] = "realtime"
        self.model: str | None = None
        self.session: dict[str, Any] = {}
        self.conversation_id = ""
        self.opened_at: float | None = None
        self.events_emitted = 0
        # conversation
        self.order: list[str] = []
        self.items: dict[str, StoredItem] = {}
        # input buffer (positions are samples at 24 kHz since the first appended audio)
        self.buffer = bytearray()
        self.buffer_start = 0
        self.appended = 0  # samples appended in total
        self._pcm_carry = b""
        self.vad: EnergyVad | None = None
        self._speech_item: str | None = None
        self._speech_start = 0
        # responses
        self.runs: dict[str, _Run] = {}
        self.default_run: str | None = None
        self.responses_created = 0
        self.audio_produced = False
        self._cache_prefix = (0, 0)
        self._token_window: deque[tuple[float, int]] = deque()
        # timers
        self._expiry: float | None = None
        self._idle_deadline: float | None = None
        self._now = 0.0  # the time of the call being handled (steps read it)
        self._outbox: list[dict[str, Any]] = []
        self._jobs: list[Job] = []

    # ------------------------------------------------------------------ connection lifecycle
    def open(self, now: float, wall: float = 0.0) -> list[dict[str, Any]]:
        """The upgrade completed (always 101, §1.4): check auth, beta header and model."""
        req, cfg = self.request, self.config
        self.opened_at = now
        self._expiry = now + cfg.max_session_s
        if cfg.api_key is not None:
            key = req.credential()
            if key is None:
                return self._refuse(
                    None,
                    "Missing bearer or basic authentication in header",
                    protocol.CLOSE_AUTH_FAILED,
                )
            if key != cfg.api_key:
                masked = ("*" * min(8, max(len(key) - 4, 0))) + key[-4:]
                return self._refuse(
                    "invalid_api_key",
                    f"Incorrect API key provided: {masked}. You can find your API key at "
                    "https://platform.openai.com/account/api-keys.",
                    protocol.CLOSE_AUTH_FAILED,
                )
        beta_route = req.route == "azure_preview" and cfg.protocol == "beta"
        if req.wants_beta() or beta_route:
            if cfg.protocol != "beta":
                return self._refuse(
                    "beta_api_shape_disabled",  # message UNCONFIRMED; code and close observed
                    "The beta Realtime API shape is disabled. Remove the 'OpenAI-Beta: "
                    "realtime=v1' header and use the GA events and session shape.",
                    protocol.CLOSE_BAD_REQUEST,
                )
            self.beta = True
        query = req.query
        model = query.get("deployment") if req.route == "azure_preview" else None
        model = model or query.get("model")
        if query.get("intent") == "transcription" and not model:
            self.kind = "transcription"
        elif query.get("call_id") and not model:
            model = "gpt-realtime"  # sideband: attach to an existing call
        elif not model:
            return self._refuse(
                "missing_model",
                "You must provide a model parameter, for example "
                "wss://api.openai.com/v1/realtime?model=gpt-realtime",
                protocol.CLOSE_BAD_REQUEST,
            )
        elif req.route == "openai" and model not in cfg.models:
            # Azure deployments have arbitrary names: any non-empty one is accepted there.
            return self._refuse(
                "invalid_model",
                f'Model "{model}" is not supported in realtime mode. Use a Realtime model such '
                "as gpt-realtime.",
                protocol.CLOSE_BAD_REQUEST,
            )
        self.model = model
        self.conversation_id = self.ids.new("conv")
        self.session = self._default_session(wall)
        if self.kind == "realtime" or self.session["audio"]["input"]["turn_detection"]:
            self._configure_vad()
        self._emit("session.created", session=self._session_view())
        return self._drain()

    def _refuse(self, code: str | None, message: str, close_code: int) -> list[dict[str, Any]]:
        self._error(code, message)
        reason = "invalid_request_error" + (f".{code}" if code else "")
        self.close = CloseRequest(close_code, reason)
        return self._drain()

    def expire_in(self, seconds: float, now: float) -> None:
        """Move session expiry to ``now + seconds`` (fault injection)."""
        self._expiry = now + seconds

    # ------------------------------------------------------------------ session
    def _default_session(self, wall: float) -> dict[str, Any]:
        expires_at = int(wall + self.config.max_session_s)
        pcm = {"type": "audio/pcm", "rate": audio.SAMPLE_RATE}
        vad = {
            "type": "server_vad",
            "threshold": 0.5,
            "prefix_padding_ms": 300,
            "silence_duration_ms": 200,
        }
        if self.kind == "transcription":
            return {
                "type": "transcription",
                "object": "realtime.transcription_session",
                "id": self.ids.new("sess"),
                "expires_at": expires_at,
                "audio": {
                    "input": {
                        "format": dict(pcm),
                        "transcription": None,
                        "noise_reduction": None,
                        "turn_detection": vad,
                    }
                },
                "include": None,
            }
        vad.update(idle_timeout_ms=None, create_response=True, interrupt_response=True)
        return {
            "type": "realtime",
            "object": "realtime.session",
            "id": self.ids.new("sess"),
            "model": self.model,
            "output_modalities": ["audio"],
            "instructions": DEFAULT_INSTRUCTIONS,
            "tools": [],
            "tool_choice": "auto",
            "max_output_tokens": "inf",
            "tracing": None,
            "truncation": "auto",
            "prompt": None,
            "expires_at": expires_at,
            "audio": {
                "input": {
                    "format": dict(pcm),
                    "transcription": None,
                    "noise_reduction": None,
                    "turn_detection": vad,
                },
                "output": {"format": dict(pcm), "voice": "alloy", "speed": 1.0},
            },
            "include": None,
        }

    def _session_view(self) -> dict[str, Any]:
        session = copy.deepcopy(self.session)
        if not self.beta:
            return session
        flat = beta.session_to_beta(session)
        td = flat.get("turn_detection")
        if isinstance(td, dict) and td.get("idle_timeout_ms", 0) is None:
            del td["idle_timeout_ms"]  # not in the beta shape
        if self.kind == "realtime":
            flat.setdefault("temperature", 0.8)
        return flat

    @property
    def input_format(self) -> audio.AudioFormatName:
        return audio.format_name(self.session["audio"]["input"]["format"])

    @property
    def turn_detection(self) -> dict[str, Any] | None:
        return self.session["audio"]["input"]["turn_detection"]

    def _configure_vad(self) -> None:
        td = self.turn_detection
        if td is None:
            self.vad = None
            self._speech_item = None
            return
        settings = VadSettings.from_turn_detection(td)
        if self.vad is None:
            self.vad = EnergyVad(settings, position=self.appended)
            self.vad.buffer_start = self.buffer_start
        else:
            self.vad.configure(settings)

    def _merge_session(self, patch: dict[str, Any]) -> dict[str, Any]:
        """The session after ``patch`` (already schema-checked); raises :class:`v.Invalid`."""
        new = copy.deepcopy(self.session)
        if patch["type"] != self.kind:
            raise v.Invalid(  # UNCONFIRMED code/message
                "invalid_value",
                f"Cannot change the session type from '{self.kind}' to '{patch['type']}'.",
                "session.type",
            )
        for key, value in patch.items():
            if key in ("type", "model"):
                continue  # the model is fixed at connect time (§4.1): kept, not an error
            if key == "audio":
                for side, fields in value.items():
                    target = new["audio"][side]
                    for name, val in fields.items():
                        target[name] = self._normalize_audio_field(name, val)
            elif key == "output_modalities" and len(set(value)) > 1:
                raise v.Invalid(  # UNCONFIRMED code/message
                    "invalid_value",
                    "Invalid 'session.output_modalities': request either ['audio'] or ['text'], "
                    "not both.",
                    "session.output_modalities",
                )
            elif key == "tracing" and self.session.get("tracing") not in (None, value):
                raise v.Invalid(  # UNCONFIRMED code/message
                    "invalid_value",
                    "Tracing cannot be modified once it is enabled for a session.",
                    "session.tracing",
                )
            else:
                new[key] = value
        if self.kind == "realtime":
            old_voice = self.session["audio"]["output"]["voice"]
            if self.audio_produced and new["audio"]["output"]["voice"] != old_voice:
                raise v.Invalid(  # UNCONFIRMED code; message as reported by users
                    "cannot_update_voice",
                    "Cannot update a conversation's voice if assistant audio is present.",
                    "session.audio.output.voice",
                )
        return new

    def _normalize_audio_field(self, name: str, value: Any) -> Any:
        if value is None:
            return None
        if name == "format":
            fmt = {"type": value["type"]}
            if value["type"] == "audio/pcm":
                fmt["rate"] = value.get("rate", audio.SAMPLE_RATE)
            return fmt
        if name == "turn_detection":
            if value["type"] == "semantic_vad":
                return {
                    "type": "semantic_vad",
                    "eagerness": value.get("eagerness", "auto"),
                    "create_response": value.get("create_response", True),
                    "interrupt_response": value.get("interrupt_response", True),
                }
            td = {
                "type": "server_vad",
                "threshold": value.get("threshold", 0.5),
                "prefix_padding_ms": value.get("prefix_padding_ms", 300),
                "silence_duration_ms": value.get("silence_duration_ms", 200),
            }
            if self.kind == "realtime":
                td["idle_timeout_ms"] = value.get("idle_timeout_ms")
                td["create_response"] = value.get("create_response", True)
                td["interrupt_response"] = value.get("interrupt_response", True)
            else:
                td.update({k: value[k] for k in value if k not in td and k != "type"})
            return td
        if name == "transcription":
            out = {
                "model": value.get("model"),
                "language": value.get("language"),
                "prompt": value.get("prompt"),
            }
            out.update({k: val for k, val in value.items() if k not in out})
            return out
        return value

    # ------------------------------------------------------------------ events out
    def _emit(self, type_: str, **fields: Any) -> None:
        if self.beta:
            if type_ == "conversation.item.done":
                return
            if type_ == "conversation.item.added":
                type_ = "conversation.item.created"
        event: dict[str, Any] = {"type": type_, "event_id": self.ids.event(), **fields}
        if self.beta:
            event = beta.to_beta_server_event(event)
        self._outbox.append(event)
        self.events_emitted += 1

    def _error(
        self,
        code: str | None,
        message: str,
        param: str | None = None,
        client_event_id: str | None = None,
        error_type: str = "invalid_request_error",
    ) -> None:
        event = protocol.error_event(
            self.ids.event(), message, code, param, client_event_id, error_type
        )
        self._outbox.append(event)
        self.events_emitted += 1

    def _drain(self) -> list[dict[str, Any]]:
        out, self._outbox = self._outbox, []
        return out

    # ------------------------------------------------------------------ frames in
    def receive_text(self, text: str, now: float) -> list[dict[str, Any]]:
        """A TEXT frame arrived: parse, validate, act. Errors are events, never exceptions."""
        if self.close is not None:
            return []
        try:
            event = json.loads(text)
        except ValueError as exc:
            self._error("invalid_json", f"Invalid event: failed to parse JSON value. {exc}")
            return self._drain()
        if not isinstance(event, dict):
            self._error(  # UNCONFIRMED code/message
                "invalid_event", "Invalid event: expected a JSON object with a 'type' field."
            )
            return self._drain()
        return self.receive_event(event, now)

    def receive_bytes(self, data: bytes, now: float) -> list[dict[str, Any]]:
        """A BINARY frame arrived: refused with ``invalid_event`` (observed), non-fatal."""
        if self.close is not None:
            return []
        self._error(
            "invalid_event", "Expected a text WebSocket message; binary frames are not supported."
        )
        return self._drain()

    def receive_event(self, event: dict[str, Any], now: float) -> list[dict[str, Any]]:
        """A parsed client event (see :meth:`receive_text`)."""
        if self.close is not None:
            return []
        eid = event.get("event_id")
        client_event_id = eid if isinstance(eid, str) else None
        try:
            if self.beta:
                event = beta.client_event_to_ga(event)
            checked = v.check_event(event)
            getattr(self, HANDLERS[checked["type"]])(checked, now)
        except v.Invalid as err:
            self._error(err.code, err.message, err.param, client_event_id)
        self._run_due(now)
        return self._drain()

    # ------------------------------------------------------------------ handlers
    def _on_session_update(self, ev: dict[str, Any], now: float) -> None:
        new = self._merge_session(ev["session"])
        old_td = self.turn_detection
        self.session = new
        if self.turn_detection != old_td:
            self._configure_vad()
            if self.vad is not None and self.turn_detection and old_td is None:
                self.vad.reset(self.appended)
                self.vad.buffer_start = self.buffer_start
        self._emit("session.updated", session=self._session_view())

    def _on_append(self, ev: dict[str, Any], now: float) -> None:
        try:
            data = audio.b64decode_audio(ev["audio"])
        except AudioFormatError:
            raise v.Invalid(  # UNCONFIRMED message
                "invalid_value", "Invalid 'audio': the value is not valid base64.", "audio"
            ) from None
        if not data:
            return
        fmt = self.input_format
        self.buffer += data
        if fmt == "pcm16":
            raw = self._pcm_carry + data
            even = len(raw) - len(raw) % 2
            self._pcm_carry = raw[even:]
            pcm = np.frombuffer(raw[:even], "<i2").astype(np.int16)
        else:
            decode = audio.mulaw_decode if fmt == "g711_ulaw" else audio.alaw_decode
            pcm = np.repeat(decode(data), 3)  # 8 kHz → 24 kHz positions (energy unchanged)
        self.appended += len(pcm)
        if self.vad is None:
            return
        for event in self.vad.feed(pcm):
            if event.kind == "start":
                self._speech_started(event.sample, now)
            else:
                self._speech_stopped(event.sample, event.at, now)

    def _speech_started(self, sample: int, now: float) -> None:
        self._speech_item = self.ids.item()
        self._speech_start = sample
        self._idle_deadline = None
        self._emit(
            "input_audio_buffer.speech_started",
            audio_start_ms=sample // SAMPLES_PER_MS,
            item_id=self._speech_item,
        )
        td = self.turn_detection or {}
        run = self.runs.get(self.default_run or "")
        if run is not None and td.get("interrupt_response", True):
            self._cancel(run, "turn_detected", now)

    def _speech_stopped(self, end: int, at: int, now: float) -> None:
        item_id = self._speech_item or self.ids.item()
        self._emit(
            "input_audio_buffer.speech_stopped", audio_end_ms=end // SAMPLES_PER_MS, item_id=item_id
        )
        data = self._buffer_slice(self._speech_start, end)
        self._drop_buffer_until(at)
        self._speech_item = None
        self._commit_item(item_id, data, now)
        td = self.turn_detection or {}
        if self.kind == "realtime" and td.get("create_response", True) and not self.default_run:
            self._start_response({}, None, now)

    def _samples_to_bytes(self, samples: int) -> int:
        return samples * 2 if self.input_format == "pcm16" else samples // 3

    def _buffer_slice(self, start: int, end: int) -> bytes:
        lo = self._samples_to_bytes(max(start - self.buffer_start, 0))
        hi = self._samples_to_bytes(max(end - self.buffer_start, 0))
        return bytes(self.buffer[lo:hi])

    def _drop_buffer_until(self, sample: int) -> None:
        cut = self._samples_to_bytes(max(sample - self.buffer_start, 0))
        del self.buffer[:cut]
        self.buffer_start = sample

    def _reset_buffer(self) -> None:
        self.buffer.clear()
        self._pcm_carry = b""
        self.buffer_start = self.appended
        self._speech_item = None
        if self.vad is not None:
            self.vad.reset(self.appended)

    def _on_commit(self, ev: dict[str, Any], now: float) -> None:
        ms = audio.bytes_to_ms(len(self.buffer), self.input_format)
        if ms < 100:
            raise v.Invalid(
                "input_audio_buffer_commit_empty",
                "Error committing input audio buffer: buffer too small. Expected at least 100ms "
                f"of audio, but buffer only has {ms:.2f}ms of audio.",
            )
        item_id = self._speech_item or self.ids.item()
        data = bytes(self.buffer)
        self._reset_buffer()
        self._commit_item(item_id, data, now)

    def _on_clear(self, ev: dict[str, Any], now: float) -> None:
        self._reset_buffer()
        self._emit("input_audio_buffer.cleared")

    def _commit_item(self, item_id: str, data: bytes, now: float) -> None:
        previous = self.order[-1] if self.order else None
        item = {
            "id": item_id,
            "type": "message",
            "status": "completed",
            "role": "user",
            "content": [{"type": "input_audio", "transcript": None}],
        }
        stored = StoredItem(item, {0: (data, self.input_format)})
        self.items[item_id] = stored
        self.order.append(item_id)
        self._emit("input_audio_buffer.committed", previous_item_id=previous, item_id=item_id)
        self._emit("conversation.item.added", previous_item_id=previous, item=copy.deepcopy(item))
        self._emit("conversation.item.done", previous_item_id=previous, item=copy.deepcopy(item))
        self._transcribe(stored)

    def _transcribe(self, stored: StoredItem) -> None:
        if not self.session["audio"]["input"].get("transcription"):
            return
        seconds = round(stored.audio_ms(0) / 1000, 3)
        if self.transcriber is None:
            self._transcribed(stored.id, f"[stand-in: {seconds:.1f} s of audio]", seconds)
            return
        try:
            pcm = stored.pcm(0)
            result = self.transcriber(pcm if pcm is not None else np.zeros(0, np.int16))
        except Exception as exc:  # a broken transcriber is the transcription's failure
            self._transcription_failed(stored.id, exc)
            return
        if inspect.isawaitable(result):
            self._jobs.append(Job("transcript", stored.id, result, seconds))
        else:
            self._transcribed(stored.id, str(result), seconds)

    def _transcribed(self, item_id: str, text: str, seconds: float) -> None:
        self._emit(
            "conversation.item.input_audio_transcription.delta",
            item_id=item_id,
            content_index=0,
            delta=text,
        )
        self._emit(
            "conversation.item.input_audio_transcription.completed",
            item_id=item_id,
            content_index=0,
            transcript=text,
            usage={"type": "duration", "seconds": seconds},
        )
        stored = self.items.get(item_id)
        if stored is not None:
            stored.item["content"][0]["transcript"] = text

    def _transcription_failed(self, item_id: str, exc: BaseException) -> None:
        self._emit(
            "conversation.item.input_audio_transcription.failed",
            item_id=item_id,
            content_index=0,
            error={
                "type": "server_error",
                "code": "transcription_failed",
                "message": f"The stand-in transcriber failed: {exc!r}",
                "param": None,
            },
        )

    # conversation items
    def _lookup(self, item_id: str, verb: str, param: str) -> StoredItem:
        stored = self.items.get(item_id)
        if stored is None:
            raise v.Invalid(  # UNCONFIRMED code/message
                "item_not_found",
                f"Error {verb} item: the item with id '{item_id}' does not exist.",
                param,
            )
        return stored

    def _on_item_create(self, ev: dict[str, Any], now: float) -> None:
        stored = self._client_item(ev["item"], "item")
        if stored.id in self.items:
            raise v.Invalid(  # UNCONFIRMED code/message
                "invalid_value", f"Item with id '{stored.id}' already exists.", "item.id"
            )
        prev = ev.get("previous_item_id")
        if prev is None:
            pos = len(self.order)
        elif prev == "root":
            pos = 0
        else:
            pos = self.order.index(self._lookup(prev, "adding", "previous_item_id").id) + 1
        previous = self.order[pos - 1] if pos > 0 else None
        self.items[stored.id] = stored
        self.order.insert(pos, stored.id)
        self._emit(
            "conversation.item.added", previous_item_id=previous, item=copy.deepcopy(stored.item)
        )
        self._emit(
            "conversation.item.done", previous_item_id=previous, item=copy.deepcopy(stored.item)
        )

    def _client_item(self, item: dict[str, Any], path: str) -> StoredItem:
        """A schema-checked client item as the server stores and shows it."""
        item_id = item.get("id") or self.ids.item()
        type_ = item["type"]
        audio_parts: dict[int, tuple[bytes, audio.AudioFormatName]] = {}
        if type_ == "message":
            content = []
            for i, part in enumerate(item["content"]):
                if part["type"] == "input_audio":
                    try:
                        data = audio.b64decode_audio(part["audio"])
                    except AudioFormatError:
                        raise v.Invalid(  # UNCONFIRMED message
                            "invalid_value",
                            f"Invalid '{path}.content[{i}].audio': the value is not valid base64.",
                            f"{path}.content[{i}].audio",
                        ) from None
                    audio_parts[i] = (data, self.input_format)
                    content.append({"type": "input_audio", "transcript": part.get("transcript")})
                else:
                    content.append(dict(part))
            shown = {
                "id": item_id,
                "type": "message",
                "status": "completed",
                "role": item["role"],
                "content": content,
            }
        elif type_ == "function_call":
            shown = {
                "id": item_id,
                "type": "function_call",
                "status": "completed",
                "name": item["name"],
                "call_id": item.get("call_id") or self.ids.call(),
                "arguments": item["arguments"],
            }
        elif type_ == "function_call_output":
            shown = {
                "id": item_id,
                "type": "function_call_output",
                "call_id": item["call_id"],
                "output": item["output"],
            }
        else:  # mcp_approval_response
            shown = {"id": item_id, **{k: val for k, val in item.items() if k != "id"}}
        return StoredItem(shown, audio_parts)

    def _on_item_retrieve(self, ev: dict[str, Any], now: float) -> None:
        stored = self._lookup(ev["item_id"], "retrieving", "item_id")
        self._emit("conversation.item.retrieved", item=stored.with_audio())

    def _on_item_delete(self, ev: dict[str, Any], now: float) -> None:
        stored = self._lookup(ev["item_id"], "deleting", "item_id")
        self.order.remove(stored.id)
        del self.items[stored.id]
        self._emit("conversation.item.deleted", item_id=stored.id)

    def _on_item_truncate(self, ev: dict[str, Any], now: float) -> None:
        stored = self._lookup(ev["item_id"], "truncating", "item_id")
        index, end_ms = ev["content_index"], ev["audio_end_ms"]
        item = stored.item
        parts = item.get("content") or []
        if (
            item.get("role") != "assistant"
            or index >= len(parts)
            or parts[index].get("type") != "output_audio"
            or index not in stored.audio
        ):
            raise v.Invalid(
                "unsupported_content_type",  # observed (livekit/agents#6157)
                "Only model output audio messages can be truncated",
                None,
            )
        length = stored.audio_ms(index)
        if end_ms > length:
            raise v.Invalid(  # UNCONFIRMED code/param; message observed
                "invalid_value",
                f"Audio content of {int(length)}ms is already shorter than {end_ms}ms",
                "audio_end_ms",
            )
        data, fmt = stored.audio[index]
        stored.audio[index] = (data[: audio.ms_to_bytes(end_ms, fmt)], fmt)
        transcript = parts[index].get("transcript") or ""
        parts[index]["transcript"] = heard_prefix(transcript, end_ms / length if length else 0)
        self._emit(
            "conversation.item.truncated",
            item_id=stored.id,
            content_index=index,
            audio_end_ms=end_ms,
        )

    # responses
    def _on_response_create(self, ev: dict[str, Any], now: float) -> None:
        if self.kind == "transcription":
            raise v.Invalid(  # UNCONFIRMED code/message
                "invalid_value",
                "Responses are not supported in transcription sessions.",
                "type",
            )
        params = ev.get("response") or {}
        if len(set(params.get("output_modalities") or ())) > 1:
            raise v.Invalid(  # UNCONFIRMED code/message
                "invalid_value",
                "Invalid 'response.output_modalities': request either ['audio'] or ['text'], "
                "not both.",
                "response.output_modalities",
            )
        default = params.get("conversation", "auto") != "none"
        if default and self.default_run:
            raise v.Invalid(
                "conversation_already_has_active_response",
                f"Conversation already has an active response in progress: {self.default_run}. "
                "Wait until the response is finished before creating a new one.",
            )
        context = None
        if "input" in params:
            context = []
            for i, entry in enumerate(params["input"]):
                if entry["type"] == "item_reference":
                    context.append(
                        self._lookup(entry["id"], "referencing", f"response.input[{i}].id")
                    )
                else:
                    context.append(self._client_item(entry, f"response.input[{i}]"))
        self._start_response(params, context, now)

    def _on_response_cancel(self, ev: dict[str, Any], now: float) -> None:
        rid = ev.get("response_id") or self.default_run
        run = self.runs.get(rid or "")
        if run is None:
            raise v.Invalid(
                "response_cancel_not_active",  # observed code; message wording UNCONFIRMED
                "Cancellation failed: no active response found",
            )
        self._cancel(run, "client_cancelled", now)

    # ------------------------------------------------------------------ response machinery
    def _start_response(
        self, params: dict[str, Any], context: list[StoredItem] | None, now: float
    ) -> None:
        session = self.session
        rid = self.ids.response()
        default = params.get("conversation", "auto") != "none"
        modalities = list(params.get("output_modalities") or session["output_modalities"])
        out_cfg = (params.get("audio") or {}).get("output") or {}
        fmt = (
            self._normalize_audio_field("format", out_cfg["format"])
            if "format" in out_cfg
            else copy.deepcopy(session["audio"]["output"]["format"])
        )
        voice = out_cfg.get("voice", session["audio"]["output"]["voice"])
        max_tokens = params.get("max_output_tokens", session["max_output_tokens"])
        response = {
            "object": "realtime.response",
            "id": rid,
            "status": "in_progress",
            "status_details": None,
            "output": [],
            "conversation_id": self.conversation_id if default else None,
            "output_modalities": modalities,
            "max_output_tokens": max_tokens,
            "audio": {"output": {"format": fmt, "voice": voice}},
            "usage": None,
            "metadata": params.get("metadata"),
        }
        if context is None:
            context = [self.items[i] for i in self.order]
        instructions = params.get("instructions", session["instructions"])
        tools = params.get("tools", session["tools"])
        instr_tokens = text_tokens(instructions) + (text_tokens(json.dumps(tools)) if tools else 0)
        run = _Run(
            id=rid,
            default=default,
            response=response,
            params=params,
            fmt=audio.format_name(fmt),
            mode="audio" if "audio" in modalities else "text",
            context=list(context),
            usage_in=_context_tokens(context, instr_tokens),
            instructions_tokens=instr_tokens,
        )
        self.runs[rid] = run
        if default:
            self.default_run = rid
        self._idle_deadline = None
        index = self.responses_created
        self.responses_created += 1
        self._emit("response.created", response=copy.deepcopy(response))
        ctx = self._context(run, instructions, modalities, tools, index)
        try:
            result = self.responder(ctx)
            if inspect.isawaitable(result):
                self._jobs.append(Job("reply", rid, result))
                return
            reply = as_reply(result)
        except Exception as exc:
            self._fail(run, exc, now)
            return
        self._plan(run, reply, now, index)

    def _context(
        self, run: _Run, instructions: str, modalities: list[str], tools: list[Any], index: int
    ) -> ResponderContext:
        items = [copy.deepcopy(s.item) for s in run.context]
        last_text = last_audio = None
        for stored in reversed(run.context):
            it = stored.item
            if it.get("type") == "message" and it.get("role") == "user":
                texts = [p.get("text", "") for p in it["content"] if p.get("type") == "input_text"]
                last_text = " ".join(texts) if texts else None
                for i, part in enumerate(it["content"]):
                    if part.get("type") == "input_audio" and i in stored.audio:
                        last_audio = stored.pcm(i)
                break
        return ResponderContext(
            response_id=run.id,
            items=items,
            session=self._session_view(),
            params=copy.deepcopy(run.params),
            instructions=instructions,
            output_modalities=modalities,
            tools=copy.deepcopy(tools),
            last_user_text=last_text,
            last_user_audio=last_audio,
            index=index,
        )

    def _fail(self, run: _Run, exc: BaseException, now: float) -> None:
        run.steps.clear()
        run.waiting = False
        details = {
            "type": "failed",
            "error": {
                "type": "server_error",
                "code": "server_error",
                "message": f"The stand-in responder failed: {exc!r}",
            },
        }
        self._finish(run, "failed", details, now)

    def _plan(self, run: _Run, reply: Reply, now: float, seed: int) -> None:
        """Lay out the response's steps from its reply."""
        run.waiting = False
        speed = self.config.audio_speed

        def at(offset_ms: float) -> float:
            return now if math.isinf(speed) else now + offset_ms / 1000.0 / speed

        raw_max = run.response["max_output_tokens"]
        budget = None if raw_max == "inf" else int(raw_max)
        offset = 0.0
        out_index = 0
        if reply.text is not None or reply.audio is not None:
            text = reply.text or ""
            out = _Output(out_index, "message", self.ids.item(), mode=run.mode)
            out_index += 1
            if run.mode == "audio":
                pcm = reply.audio
                if pcm is None:
                    pcm = self._synth(text, seed)
                if budget is not None:
                    cost = text_tokens(text) + math.ceil(len(pcm) / SAMPLES_PER_MS / 50)
                    if cost > budget:
                        keep = budget / cost
                        text = text[: int(len(text) * keep)]
                        pcm = pcm[: int(len(pcm) * keep)]
                        run.incomplete = True
                    budget -= text_tokens(text) + math.ceil(len(pcm) / SAMPLES_PER_MS / 50)
                wire = audio.encode_for_format(pcm, run.fmt)
                step = audio.ms_to_bytes(CHUNK_MS, run.fmt)
                chunks = [wire[i : i + step] for i in range(0, len(wire), step)]
                words = split_words(text)
                per_chunk: list[list[str]] = [[] for _ in chunks] or [[]]
                for i, w in enumerate(words):
                    per_chunk[min(len(per_chunk) - 1, i * len(per_chunk) // len(words))].append(w)
                run.steps.append((at(0), functools.partial(self._step_item_added, run, out)))
                run.steps.append((at(0), functools.partial(self._step_part_added, run, out)))
                for j, words_j in enumerate(per_chunk):
                    chunk = chunks[j] if j < len(chunks) else b""
                    action = functools.partial(self._step_audio, run, out, words_j, chunk)
                    run.steps.append((at(j * CHUNK_MS), action))
                offset = max(len(chunks) - 1, 0) * CHUNK_MS
                run.audio_ms = audio.bytes_to_ms(len(wire), run.fmt)
            else:
                if budget is not None:
                    if text_tokens(text) > budget:
                        text = text[: budget * 4]
                        run.incomplete = True
                    budget -= text_tokens(text)
                words = split_words(text)
                run.steps.append((at(0), functools.partial(self._step_item_added, run, out)))
                run.steps.append((at(0), functools.partial(self._step_part_added, run, out)))
                for i, w in enumerate(words):
                    run.steps.append(
                        (at(i * TEXT_STEP_MS), functools.partial(self._step_text, run, out, w))
                    )
                offset = max(len(words) - 1, 0) * TEXT_STEP_MS
            run.steps.append(
                (at(offset), functools.partial(self._close_output, run, out, "completed"))
            )
        for name, arguments in reply.function_calls:
            if budget is not None:
                cost = text_tokens(name + arguments)
                if cost > budget:
                    run.incomplete = True
                    break
                budget -= cost
            out = _Output(
                out_index, "function_call", self.ids.item(), name=name, call_id=self.ids.call()
            )
            out_index += 1
            pieces = [arguments[i : i + 16] for i in range(0, len(arguments), 16)]
            run.steps.append((at(offset), functools.partial(self._step_item_added, run, out)))
            for piece in pieces:
                run.steps.append((at(offset), functools.partial(self._step_args, run, out, piece)))
            run.steps.append(
                (at(offset), functools.partial(self._close_output, run, out, "completed"))
            )
        if run.incomplete:
            status, details = "incomplete", {"type": "incomplete", "reason": "max_output_tokens"}
        else:
            status, details = "completed", None
        run.steps.append((at(offset), lambda: self._finish(run, status, details, self._now)))

    def _synth(self, text: str, seed: int) -> np.ndarray:
        seconds = max(0.2, len(text) * SYNTH_MS_PER_CHAR / 1000)
        return np.asarray(speech_like(seconds, sample_rate=audio.SAMPLE_RATE, seed=seed), np.int16)

    # steps (each emits events and records progress)
    def _shown(self, out: _Output, status: str) -> dict[str, Any]:
        """The item as events show it (no audio bytes)."""
        if out.kind == "function_call":
            return {
                "id": out.item_id,
                "type": "function_call",
                "status": status,
                "name": out.name,
                "call_id": out.call_id,
                "arguments": out.arguments,
            }
        content: list[dict[str, Any]] = []
        if out.part_started:
            if out.mode == "audio":
                content = [{"type": "output_audio", "transcript": out.text}]
            else:
                content = [{"type": "output_text", "text": out.text}]
        return {
            "id": out.item_id,
            "type": "message",
            "status": status,
            "role": "assistant",
            "content": content,
        }

    def _step_item_added(self, run: _Run, out: _Output) -> None:
        run.outputs.append(out)
        shown = self._shown(out, "in_progress")
        self._emit(
            "response.output_item.added",
            response_id=run.id,
            output_index=out.index,
            item=copy.deepcopy(shown),
        )
        if run.default:
            previous = self.order[-1] if self.order else None
            out.stored = StoredItem(copy.deepcopy(shown))
            self.items[out.item_id] = out.stored
            self.order.append(out.item_id)
            self._emit(
                "conversation.item.added", previous_item_id=previous, item=copy.deepcopy(shown)
            )

    def _ids(self, run: _Run, out: _Output) -> dict[str, Any]:
        return {
            "response_id": run.id,
            "item_id": out.item_id,
            "output_index": out.index,
            "content_index": 0,
        }

    def _step_part_added(self, run: _Run, out: _Output) -> None:
        out.part_open = out.part_started = True
        if out.mode == "audio":
            part = {"type": "audio", "transcript": ""}
        else:
            part = {"type": "text", "text": ""}
        self._store_progress(run, out)
        self._emit("response.content_part.added", **self._ids(run, out), part=part)

    def _store_progress(self, run: _Run, out: _Output) -> None:
        """Keep the conversation's copy of an output item in step with what was sent."""
        if out.stored is None:
            return
        if out.kind == "function_call":
            out.stored.item["arguments"] = out.arguments
            return
        out.stored.item["content"] = self._shown(out, "in_progress")["content"]
        if out.mode == "audio":
            out.stored.audio[0] = (bytes(out.audio), run.fmt)

    def _step_audio(self, run: _Run, out: _Output, words: list[str], chunk: bytes) -> None:
        ids = self._ids(run, out)
        for w in words:
            out.text += w
            self._emit("response.output_audio_transcript.delta", **ids, delta=w)
        if chunk:
            out.audio += chunk
            self.audio_produced = True
            self._emit("response.output_audio.delta", **ids, delta=audio.b64encode_audio(chunk))
        self._store_progress(run, out)

    def _step_text(self, run: _Run, out: _Output, word: str) -> None:
        out.text += word
        self._emit("response.output_text.delta", **self._ids(run, out), delta=word)
        self._store_progress(run, out)

    def _step_args(self, run: _Run, out: _Output, piece: str) -> None:
        out.arguments += piece
        self._emit(
            "response.function_call_arguments.delta",
            response_id=run.id,
            item_id=out.item_id,
            output_index=out.index,
            call_id=out.call_id,
            delta=piece,
        )
        self._store_progress(run, out)

    def _close_output(self, run: _Run, out: _Output, status: str) -> None:
        """Close an output item: its part, then the item (also on interruption, §5d)."""
        if out.done:
            return
        if status == "completed" and run.incomplete and out is run.outputs[-1]:
            status = "incomplete"
        ids = self._ids(run, out)
        if out.kind == "message" and out.part_open:
            if out.mode == "audio":
                self._emit("response.output_audio.done", **ids)
                self._emit("response.output_audio_transcript.done", **ids, transcript=out.text)
                part = {"type": "audio", "transcript": out.text}
            else:
                self._emit("response.output_text.done", **ids, text=out.text)
                part = {"type": "text", "text": out.text}
            self._emit("response.content_part.done", **ids, part=part)
        if out.kind == "function_call" and status == "completed":
            self._emit(
                "response.function_call_arguments.done",
                response_id=run.id,
                item_id=out.item_id,
                output_index=out.index,
                call_id=out.call_id,
                name=out.name,
                arguments=out.arguments,
            )
        out.done = True
        out.part_open = False
        out.status = status
        shown = self._shown(out, status)
        if out.stored is not None:
            self._store_progress(run, out)
            out.stored.item["status"] = status
            previous = self._previous_of(out.item_id)
            self._emit(
                "conversation.item.done", previous_item_id=previous, item=copy.deepcopy(shown)
            )
        self._emit(
            "response.output_item.done",
            response_id=run.id,
            output_index=out.index,
            item=copy.deepcopy(shown),
        )

    def _previous_of(self, item_id: str) -> str | None:
        try:
            pos = self.order.index(item_id)
        except ValueError:
            return None
        return self.order[pos - 1] if pos > 0 else None

    def _cancel(self, run: _Run, reason: str, now: float) -> None:
        run.steps.clear()
        run.waiting = False
        for out in run.outputs:
            if not out.done:
                self._close_output(run, out, "incomplete")
        self._finish(run, "cancelled", {"type": "cancelled", "reason": reason}, now)

    def _finish(self, run: _Run, status: str, details: dict[str, Any] | None, now: float) -> None:
        if run.finished:
            return
        run.finished = True
        usage = self._usage(run)
        output = [self._shown(out, out.status) for out in run.outputs]
        run.response.update(status=status, status_details=details, output=output, usage=usage)
        self._emit("response.done", response=copy.deepcopy(run.response))
        self.runs.pop(run.id, None)
        if self.default_run == run.id:
            self.default_run = None
            in_text, in_audio, _ = run.usage_in
            out_t = usage["output_token_details"]
            self._cache_prefix = (in_text + out_t["text_tokens"], in_audio + out_t["audio_tokens"])
            td = self.turn_detection
            idle = td.get("idle_timeout_ms") if td else None
            if idle:
                self._idle_deadline = now + run.audio_ms / 1000 + idle / 1000
        self._emit(
            "rate_limits.updated", rate_limits=[self._rate_limit(now, usage["total_tokens"])]
        )

    def _rate_limit(self, now: float, tokens: int) -> dict[str, Any]:
        window = self._token_window
        window.append((now, tokens))
        while window and window[0][0] < now - 60:
            window.popleft()
        used = sum(t for _, t in window)
        return {
            "name": "tokens",
            "limit": RATE_LIMIT_TOKENS,
            "remaining": max(RATE_LIMIT_TOKENS - used, 0),
            "reset_seconds": round(min(used, RATE_LIMIT_TOKENS) / RATE_LIMIT_TOKENS * 60, 3),
        }

    def _usage(self, run: _Run) -> dict[str, Any]:
        """§6: the context re-billed as input (cached prefix in blocks of 64), output produced."""
        in_text, in_audio, in_image = run.usage_in
        out_text = out_audio = 0
        for out in run.outputs:
            if out.kind == "function_call":
                out_text += text_tokens(out.name + out.arguments)
            else:
                out_text += text_tokens(out.text)
                out_audio += math.ceil(audio.bytes_to_ms(len(out.audio), run.fmt) / 50)
        if self._cache_prefix == (0, 0) and run.default:
            prefix_text, prefix_audio = run.instructions_tokens, 0
        else:
            prefix_text, prefix_audio = self._cache_prefix
        c_text, c_audio = min(in_text, prefix_text), min(in_audio, prefix_audio)
        drop = (c_text + c_audio) % 64
        cut = min(drop, c_text)
        c_text -= cut
        c_audio -= drop - cut
        input_tokens = in_text + in_audio + in_image
        output_tokens = out_text + out_audio
        return {
            "total_tokens": input_tokens + output_tokens,
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "input_token_details": {
                "text_tokens": in_text,
                "audio_tokens": in_audio,
                "image_tokens": in_image,
                "cached_tokens": c_text + c_audio,
                "cached_tokens_details": {
                    "text_tokens": c_text,
                    "audio_tokens": c_audio,
                    "image_tokens": 0,
                },
            },
            "output_token_details": {"text_tokens": out_text, "audio_tokens": out_audio},
        }

    # ------------------------------------------------------------------ time
    def next_deadline(self) -> float | None:
        """When :meth:`poll` has something to do next (same clock as ``now``), or None."""
        times = [t for t in (self._expiry, self._idle_deadline) if t is not None]
        times += [run.steps[0][0] for run in self.runs.values() if run.steps]
        return min(times) if times else None

    def poll(self, now: float) -> list[dict[str, Any]]:
        """Run whatever is due at ``now``: paced response events, idle timeout, expiry."""
        if self.close is not None:
            return []
        self._run_due(now)
        return self._drain()

    def _run_due(self, now: float) -> None:
        self._now = now
        if self._expiry is not None and now >= self._expiry and self.close is None:
            message = (
                "Your session hit the maximum duration of "
                f"{_minutes(self.config.max_session_s)} minutes."
            )
            self._error("session_expired", message)
            self.close = CloseRequest(protocol.CLOSE_EXPIRED, message)
            return
        while True:
            best: _Run | None = None
            for run in self.runs.values():
                due = run.steps[0][0] if run.steps else math.inf
                if due <= now and (best is None or due < best.steps[0][0]):
                    best = run
            if best is None:
                break
            _, action = best.steps.popleft()
            action()
        if self._idle_deadline is not None and now >= self._idle_deadline:
            self._idle_deadline = None
            self._idle_timeout(now)

    def _idle_timeout(self, now: float) -> None:
        if self.default_run or (self.vad is not None and self.vad.speaking):
            return
        item_id = self.ids.item()
        self._emit(
            "input_audio_buffer.timeout_triggered",
            audio_start_ms=self.buffer_start // SAMPLES_PER_MS,
            audio_end_ms=self.appended // SAMPLES_PER_MS,
            item_id=item_id,
        )
        data = bytes(self.buffer)
        self._reset_buffer()
        self._commit_item(item_id, data, now)
        self._start_response({}, None, now)

    # ------------------------------------------------------------------ async jobs
    def take_jobs(self) -> list[Job]:
        """Awaitables (async responders/transcribers) the edge must run and resolve."""
        jobs, self._jobs = self._jobs, []
        return jobs

    def resolve_job(
        self, job: Job, result: Any = None, error: BaseException | None = None, now: float = 0.0
    ) -> list[dict[str, Any]]:
        """Hand back a job's result (or the exception it raised)."""
        if self.close is not None:
            return []
        if job.kind == "reply":
            run = self.runs.get(job.key)
            if run is not None and run.waiting and not run.finished:
                if error is not None:
                    self._fail(run, error, now)
                else:
                    try:
                        reply = as_reply(result)
                    except Exception as exc:
                        self._fail(run, exc, now)
                    else:
                        self._plan(run, reply, now, self.responses_created)
        elif error is not None:
            self._transcription_failed(job.key, error)
        else:
            self._transcribed(job.key, str(result), job.seconds)
        self._run_due(now)
        return self._drain()

    # ------------------------------------------------------------------ inspection
    @property
    def conversation(self) -> list[dict[str, Any]]:
        """The conversation's items in order, as events show them (no audio bytes)."""
        return [copy.deepcopy(self.items[i].item) for i in self.order]

    @property
    def buffer_ms(self) -> float:
        """Milliseconds of audio in the input buffer (not yet committed)."""
        return audio.bytes_to_ms(len(self.buffer), self.input_format)


#: Which method handles each client event type (§2): the transition table.
HANDLERS: dict[str, str] = {
    "session.update": "_on_session_update",
    "input_audio_buffer.append": "_on_append",
    "input_audio_buffer.commit": "_on_commit",
    "input_audio_buffer.clear": "_on_clear",
    "conversation.item.create": "_on_item_create",
    "conversation.item.retrieve": "_on_item_retrieve",
    "conversation.item.truncate": "_on_item_truncate",
    "conversation.item.delete": "_on_item_delete",
    "response.create": "_on_response_create",
    "response.cancel": "_on_response_cancel",
}


def _context_tokens(items: list[StoredItem], instructions_tokens: int) -> tuple[int, int, int]:
    """(text, audio, image) input tokens of a context: §6 rates, 4 special tokens per item."""
    text, aud, image = instructions_tokens, 0, 0
    for stored in items:
        item = stored.item
        text += 4
        type_ = item.get("type")
        if type_ == "message":
            for i, part in enumerate(item.get("content") or ()):
                kind = part.get("type")
                if kind in ("input_text", "output_text", "text"):
                    text += text_tokens(part.get("text") or "")
                elif kind == "input_audio":
                    aud += math.ceil(stored.audio_ms(i) / 100)
                elif kind == "output_audio":
                    if i in stored.audio:
                        aud += math.ceil(stored.audio_ms(i) / 50)
                    else:
                        text += text_tokens(part.get("transcript") or "")
                elif kind == "input_image":
                    image += 85
        elif type_ == "function_call":
            text += text_tokens(str(item.get("name", "")) + str(item.get("arguments", "")))
        elif type_ == "function_call_output":
            text += text_tokens(str(item.get("output", "")))
    return text, aud, image

"""The Realtime client as a sans-I/O state machine: frames in; state, rows and frames out.

Theory of operation. :class:`ClientProtocol` is everything a Realtime client decides, with no
socket, loop, thread or clock (times are passed in). The I/O edge (:mod:`realtime_nb.session`)
owns the socket, keepalive, deadlines and queues and calls four things:

- :meth:`~ClientProtocol.prepare` / :meth:`~ClientProtocol.request` — a client event to send:
  it gets an ``event_id``, is checked (JSON that the server can read: no NaN/Infinity) and
  serialised once; a request is registered with the correlation table
  (:mod:`realtime_nb.correlation`) so its reply is matched to it and to nobody else.
- :meth:`~ClientProtocol.sent` — the edge wrote the frame: it becomes a log row and updates the
  conversation (what we sent is state too: the input buffer, created items).
- :meth:`~ClientProtocol.receive` — a frame arrived: it is parsed, normalised (beta → GA),
  stripped of base64 audio (decoded once, kept as PCM), logged as one row, applied to the
  :class:`~realtime_nb.conversation.Conversation`, and matched against pending requests. Odd
  shapes never stop this: each problem becomes one ``local.odd_event`` row and the event is
  still returned for delivery to waiters, callbacks and iterators.
- :meth:`~ClientProtocol.connection_lost` — the socket is gone: the right exception for the
  close code, every pending request failed with it.

It also holds the rules the widget used to decide: the turn-detection shape, whether the server
interrupts by itself, what to send at the end of a push-to-talk turn, how a barge-in is turned
into ``conversation.item.truncate`` (and ``response.cancel``), and what a reconnect replays.

Pure: no asyncio, sockets, threads or clock.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from . import audio as audio_mod
from . import beta, protocol
from .conversation import Conversation, ConversationItem
from .correlation import Request, RequestTable, Watch, with_correlation
from .errors import (
    AudioFormatError,
    AuthenticationError,
    ConnectionClosed,
    ModelNotFoundError,
    RealtimeError,
    ServerError,
    SessionExpired,
    UsageError,
    server_error_from_event,
)
from .events import EventLog, EventRow, audio_marker, extract_audio, printable
from .models import shutdown_notice

#: Longest raw text kept in a ``local.malformed_frame`` row.
MALFORMED_SNIPPET = 200
#: Close codes after which a new session may be opened automatically (§10: openai-python's list,
#: less 1005/1015 which this client never sees without a network fault it reports as 1006).
RECOVERABLE_CLOSE_CODES = frozenset({1001, 1006, 1011, 1012, 1013})
_ITEM_ECHOES = frozenset(
    {"conversation.item.added", "conversation.item.done", "conversation.item.created"}
)
#: Items a reconnect replays at most (the newest ones), so a replay stays a few requests.
REPLAY_MAX_ITEMS = 200


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _finite_json(event: dict[str, Any]) -> str:
    """Serialise a client event as the server's JSON parser wants it, or raise UsageError."""
    try:
        return json.dumps(event, separators=(",", ":"), allow_nan=False)
    except ValueError as exc:
        raise UsageError(
            f"The {event.get('type')!r} event holds NaN or Infinity ({exc}), which JSON cannot "
            "carry: the server would answer invalid_json without saying which event. Use a "
            "finite number (or None to leave a setting unset)."
        ) from None
    except TypeError as exc:
        raise UsageError(
            f"The {event.get('type')!r} event holds a value JSON cannot carry: {exc}. Convert "
            "it first (int(x), float(x), str(x), list(array))."
        ) from None


@dataclass(slots=True, eq=False)
class Outgoing:
    """One serialised client event on its way to the socket."""

    text: str
    event_id: str
    type: str
    payload: dict[str, Any]  #: what the log keeps (audio replaced by a marker)
    pcm: bytes | None = None  #: PCM16 24 kHz that the event carries, for the conversation
    request: Request | None = None
    #: set by the edge: a future resolved when the frame was written (only when asked for)
    written: Any = None

    @property
    def nbytes(self) -> int:
        return len(self.text)


@dataclass(slots=True)
class Received:
    """One server frame after :meth:`ClientProtocol.receive`: deliver ``event`` to users."""

    event: dict[str, Any]
    pcm: bytes | None
    row: EventRow | None
    settled: list[Request | Watch] = field(default_factory=list)


@dataclass(slots=True)
class DropRun:
    """Consecutive live mic frames dropped for one reason: one row when it ends."""

    reason: str
    frames: int = 0
    nbytes: int = 0
    t: float = 0.0


class ClientProtocol:
    """The state of one Realtime client connection, fed events and asked for frames.

    Args:
        beta: the server speaks the beta protocol (events are normalised to GA; updates are sent
            in the beta shape).
        retain_audio, max_audio_seconds: see :class:`~realtime_nb.conversation.Conversation`.
        max_rows: rows the event log keeps.
        event_id_prefix: the client's ``event_id`` prefix (ids are ``prefix + counter``).
        today: the date model shutdown notices are judged by (None: no notices).
    """

    def __init__(
        self,
        *,
        beta: bool = False,
        retain_audio: bool = True,
        max_audio_seconds: float | None = 3600.0,
        max_rows: int | None = 50_000,
        event_id_prefix: str = "evt_",
        today: date | None = None,
    ) -> None:
        self.beta = beta
        self.events = EventLog(max_rows=max_rows)
        self.conversation = Conversation(
            retain_audio=retain_audio, max_audio_seconds=max_audio_seconds
        )
        self.requests = RequestTable()
        #: the effective session (``session.created`` / ``session.updated``)
        self.session_config: dict[str, Any] = {}
        #: every ``session.update`` body sent, merged (what a reconnect replays)
        self.requested_config: dict[str, Any] = {}
        self.session_id: str | None = None
        self.closed: ConnectionClosed | None = None
        self.close_code: int | None = None
        self.close_reason: str = ""
        self.dropped_audio_frames = 0
        self.dropped_audio_bytes = 0
        self._drop_run: DropRun | None = None
        self._prefix = event_id_prefix
        self._counter = 0
        self._output_format: audio_mod.AudioFormatName | None = "pcm16"
        self._input_format: audio_mod.AudioFormatName = "pcm16"
        self._input_codec = audio_mod.StreamCodec("pcm16")
        self._last_error: dict[str, Any] | None = None
        self._replayed: set[str] = set()
        self._ids = protocol.IdFactory()
        self._today = today
        #: the shutdown notice for the session's model, if it has one (see realtime_nb.models)
        self.model_notice: str | None = None
        self._noticed_model: str | None = None

    # --- ids and sending ----------------------------------------------------------------------
    def next_event_id(self) -> str:
        self._counter += 1
        return f"{self._prefix}{self._counter}"

    def prepare(
        self,
        event: dict[str, Any],
        *,
        pcm: bytes | None = None,
        log_payload: dict[str, Any] | None = None,
    ) -> Outgoing:
        """Give ``event`` an ``event_id`` (if it has none) and serialise it.

        Raises:
            UsageError: the event cannot be valid JSON (NaN, Infinity, an unserialisable value)
                or is not an event (no ``type``).
        """
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            raise UsageError(f"A client event is a dict with a 'type' string, not {event!r}.")
        if "event_id" not in event:
            event["event_id"] = self.next_event_id()
        wire = event
        if self.beta and event["type"] != "session.update":  # updates are made in beta shape
            wire = beta.client_event_to_beta(event)
        text = _finite_json(wire)
        payload = log_payload if log_payload is not None else event
        return Outgoing(text, event["event_id"], event["type"], payload, pcm)

    def request(self, event: dict[str, Any], *, key: object = None) -> Outgoing:
        """Prepare a client event whose answer someone waits for; see ``Outgoing.request``.

        A ``response.create`` gets the correlation key in its ``response.metadata``.
        """
        correlated = False
        item = event.get("item")
        if event.get("type") == "conversation.item.create" and isinstance(item, dict):
            item.setdefault("id", self._ids.new("item", 21))  # the reply names it: correlation
        if event.get("type") == "response.create":
            if "event_id" not in event:
                event["event_id"] = self.next_event_id()
            body, correlated = with_correlation(event.get("response"), event["event_id"])
            event["response"] = body
        out = self.prepare(event)
        out.request = self.requests.add(event, correlated=correlated, key=key)
        return out

    def session_update_event(self, session: dict[str, Any]) -> dict[str, Any]:
        """The ``session.update`` for ``session`` (GA or beta shape in, the server's shape out)."""
        body = dict(session)
        if beta.is_beta_session(body) and not self.beta:
            body = beta.session_to_ga(body)
        self.requested_config = protocol.deep_merge(self.requested_config, body)
        return self._update_event(body)

    def _update_event(self, body: dict[str, Any]) -> dict[str, Any]:
        if self.beta:
            return {"type": "session.update", "session": beta.session_to_beta(body)}
        return protocol.session_update(body)

    def sent(self, out: Outgoing, t: float, wall: float) -> EventRow:
        """The edge wrote ``out`` to the socket: log it and update the conversation."""
        if out.request is not None:
            out.request.sent = True
        row = self.events.record(
            "client",
            out.payload,
            size=out.nbytes,
            t=t,
            wall=wall,
            audio_bytes=len(out.pcm) if out.pcm else 0,
        )
        try:
            self.conversation.apply_client(out.payload, out.pcm, t)
        except Exception as exc:  # a state bug must not lose the row
            self.local("local.odd_event", {"type": out.type, "error": repr(exc)}, t, wall)
        return row

    def unsent(self, out: Outgoing, reason: str, t: float, wall: float) -> None:
        self.local("local.unsent", {"type": out.type, "event_id": out.event_id, "reason": reason},
                   t, wall)  # fmt: skip

    def local(self, type_: str, payload: dict[str, Any], t: float, wall: float) -> EventRow:
        return self.events.local(type_, payload, t=t, wall=wall)

    # --- audio out ----------------------------------------------------------------------------
    @property
    def input_format(self) -> audio_mod.AudioFormatName:
        return self._input_format

    @property
    def output_format(self) -> audio_mod.AudioFormatName | None:
        """The session's output format; None when it is one this client cannot decode."""
        return self._output_format

    def append_event(
        self, pcm: bytes, *, event_id: str | None = None, flush: bool = False
    ) -> Outgoing | None:
        """An ``input_audio_buffer.append`` for PCM16 24 kHz ``pcm`` in the session's format.

        The G.711 encoder resamples in a stream and holds a few ms back: ``flush=True`` (the end
        of a clip) sends what it holds. Returns None when there is nothing to send yet.
        """
        if len(pcm) % 2:
            raise UsageError(f"PCM16 audio has an even number of bytes, not {len(pcm)}.")
        codec = self._input_codec
        if codec.format == "pcm16":
            wire = pcm
        else:
            wire = codec.encode(audio_mod.as_int16(pcm)) if pcm else b""
            if flush:
                wire += codec.flush()
        if not wire:
            return None
        event = protocol.input_audio_append(
            audio_mod.b64encode_audio(wire), event_id=event_id or self.next_event_id()
        )
        marker = audio_marker(len(wire))
        if codec.format == "pcm16":
            logged_pcm = pcm
        else:  # what the server will hear, as PCM16 for the conversation's input stream
            logged_pcm = audio_mod.to_pcm16_bytes(audio_mod.decode_from_format(wire, codec.format))
        marker["ms"] = round(len(logged_pcm) / audio_mod.PCM16_BYTES_PER_MS, 1)
        payload = {"type": event["type"], "event_id": event["event_id"], "audio": marker}
        return self.prepare(event, pcm=logged_pcm, log_payload=payload)

    @property
    def dropping(self) -> bool:
        """A run of dropped mic frames is open (its totals row is not written yet)."""
        return self._drop_run is not None

    def drop_mic(self, nbytes: int, reason: str, t: float, wall: float) -> None:
        """Count a live mic frame dropped by rule; one row starts a run, one ends it."""
        self.dropped_audio_frames += 1
        self.dropped_audio_bytes += nbytes
        run = self._drop_run
        if run is not None and run.reason != reason:
            self.end_drop_run(t, wall)
            run = None
        if run is None:
            run = self._drop_run = DropRun(reason, t=t)
            self.local("local.dropping_audio", {"reason": reason}, t, wall)
        run.frames += 1
        run.nbytes += nbytes

    def end_drop_run(self, t: float, wall: float) -> None:
        """A frame got through (or the session ended): close the current drop run with totals."""
        run, self._drop_run = self._drop_run, None
        if run is None:
            return
        self.local(
            "local.dropped_audio",
            {
                "reason": run.reason,
                "frames": run.frames,
                "bytes": run.nbytes,
                "ms": round(run.nbytes / audio_mod.PCM16_BYTES_PER_MS, 1),
                "seconds": round(t - run.t, 3),
                "total_dropped_frames": self.dropped_audio_frames,
            },
            t,
            wall,
        )

    # --- receive path (hot) -------------------------------------------------------------------
    def receive(self, frame: str | bytes, t: float, wall: float) -> Received | None:
        """Process one server frame; None when it was not an event (a malformed-frame row)."""
        if isinstance(frame, bytes):
            payload: dict[str, Any] = {"error": "binary frame from server", "bytes": len(frame)}
            self.local("local.malformed_frame", payload, t, wall)
            return None
        try:
            event = json.loads(frame)
        except ValueError as exc:
            payload = {"error": f"invalid JSON: {exc}", "text": frame[:MALFORMED_SNIPPET]}
            self.local("local.malformed_frame", payload, t, wall)
            return None
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            self.local(
                "local.malformed_frame",
                {"error": "not an event object with a 'type'", "text": frame[:MALFORMED_SNIPPET]},
                t,
                wall,
            )
            return None
        return self.receive_event(event, size=len(frame), t=t, wall=wall)

    def receive_event(self, event: dict[str, Any], *, size: int, t: float, wall: float) -> Received:
        """Process one parsed server event (also used to replay recordings)."""
        problems: list[str] = []
        if self.beta or "_beta_type" in event or event["type"] in beta.EVENT_NAMES:
            try:
                beta.normalize_server_event(event)
            except Exception as exc:
                problems.append(f"beta normalisation: {exc!r}")
        pcm: bytes | None = None
        try:
            event, pcm = extract_audio(event)
        except Exception as exc:
            problems.append(str(exc))
        type_ = event["type"]
        if pcm is not None and type_ == "response.output_audio.delta":
            pcm = self._decode_output(event, pcm, problems)
        row = self.events.record(
            "server", event, size=size, t=t, wall=wall, audio_bytes=len(pcm) if pcm else 0
        )
        replayed = False
        if type_ in _ITEM_ECHOES and self._replayed:
            item_id = _dict(event.get("item")).get("id")
            replayed = item_id in self._replayed
            if replayed and type_ != "conversation.item.added":
                self._replayed.discard(item_id)  # done (GA) or created (beta) ends the echo
        if not replayed:  # a replayed item is already in the conversation, with its audio
            try:
                self.conversation.apply(event, pcm, t)
            except Exception as exc:  # a state bug must not swallow the event
                problems.append(f"conversation state: {exc!r}")
        if type_ in ("session.created", "session.updated"):
            self._on_session(event, problems, t, wall)
        elif type_ == "error":
            self._last_error = event
        try:
            auto = type_ == "response.created" and self._auto_responses()
            settled = self.requests.feed(event, auto_responses=auto) if self.requests else []
        except Exception as exc:
            problems.append(f"matching replies: {exc!r}")
            settled = []
        if problems:
            self.local(
                "local.odd_event",
                {"type": type_, "event_id": event.get("event_id"), "problems": problems},
                t,
                wall,
            )
        return Received(event, pcm, row, settled)

    def _decode_output(
        self, event: dict[str, Any], pcm: bytes, problems: list[str]
    ) -> bytes | None:
        fmt = self._output_format
        if fmt == "pcm16":
            if len(pcm) % 2:
                problems.append(f"odd-length PCM16 delta ({len(pcm)} bytes): last byte dropped")
                return pcm[:-1]
            return pcm
        if fmt is None:
            return None  # an unsupported format: reported once when the session said so
        marker = event.get("delta")
        if isinstance(marker, dict):  # the marker was computed for PCM16 (48 bytes/ms)
            marker["ms"] = round(len(pcm) / audio_mod.G711_BYTES_PER_MS, 1)
        # decoded per delta, not streamed: a streaming resampler would hold back the last
        # ~65 ms of every response, and the sample count must stay exact for truncation
        return audio_mod.decode_from_format(pcm, fmt).tobytes()

    def _on_session(
        self, event: dict[str, Any], problems: list[str], t: float, wall: float
    ) -> None:
        session = event.get("session")
        if not isinstance(session, dict):
            problems.append("'session' is not an object")
            return
        self.session_config = session
        if event["type"] == "session.created" and isinstance(session.get("id"), str):
            self.session_id = session["id"]
        model = session.get("model")
        if self._today is not None and isinstance(model, str) and model != self._noticed_model:
            self._noticed_model = model
            self.model_notice = shutdown_notice(model, self._today)
            if self.model_notice is not None:
                self.local("local.model_notice", {"model": model, "notice": self.model_notice},
                           t, wall)  # fmt: skip
        audio = _dict(session.get("audio"))
        try:
            self._input_format = audio_mod.format_name(_dict(audio.get("input")).get("format"))
        except AudioFormatError as exc:
            problems.append(f"input format: {exc}")
        if self._input_codec.format != self._input_format:
            self._input_codec = audio_mod.StreamCodec(self._input_format)
        try:
            fmt: audio_mod.AudioFormatName | None = audio_mod.format_name(
                _dict(audio.get("output")).get("format")
            )
        except AudioFormatError as exc:
            fmt = None
            if self._output_format is not None:
                self.local(
                    "local.unsupported_format",
                    {"error": str(exc), "effect": "output audio is logged but not decoded"},
                    t,
                    wall,
                )
        self._output_format = fmt

    # --- closing ------------------------------------------------------------------------------
    def connection_lost(
        self, code: int | None, reason: str, t: float, wall: float, *, cause: str | None = None
    ) -> tuple[ConnectionClosed | ServerError, list[Request | Watch]]:
        """The socket is gone: the error to raise and the requests to fail with it.

        ``cause`` is the edge's own diagnosis when it closed the socket (a keepalive timeout).
        """
        self.end_drop_run(t, wall)
        self.close_code, self.close_reason = code, reason
        payload: dict[str, Any] = {"code": code, "reason": reason}
        if cause:
            payload["cause"] = cause
        self.local("local.closed", payload, t, wall)
        error = self.close_error(code, reason, cause)
        if isinstance(error, ConnectionClosed):
            self.closed = error
        else:
            self.closed = ConnectionClosed(str(error), code, reason)
        return error, self.requests.fail_all()

    def close_error(
        self, code: int | None, reason: str, cause: str | None = None
    ) -> ConnectionClosed | ServerError:
        """The exception that explains a close (the server's last ``error`` event helps)."""
        last = _dict(_dict(self._last_error).get("error"))
        if last.get("code") == "session_expired" or code == protocol.CLOSE_EXPIRED:
            return SessionExpired(
                f"The server ended the session (close {code}: {reason or 'session expired'}). "
                "Start a new session (or pass reconnect=True) to continue; the log and "
                "conversation are kept.",
                code,
                reason,
            )
        if code in (protocol.CLOSE_AUTH_FAILED, protocol.CLOSE_BAD_REQUEST):
            if self._last_error is not None:
                return server_error_from_event(self._last_error)
            cls = AuthenticationError if code == protocol.CLOSE_AUTH_FAILED else ModelNotFoundError
            what = "the API key" if cls is AuthenticationError else "the request (model or shape)"
            return cls(
                f"The server closed the connection with {code} ({reason or 'no reason'}): it "
                f"refused {what}. Check the key, the model name and the URL.",
                {"error": {"code": None, "message": reason}},
            )
        if cause:
            detail = cause
        elif code is None or code == 1006:
            detail = "the connection dropped without a close frame (1006)"
        else:
            detail = f"close {code}" + (f": {reason}" if reason else "")
        return ConnectionClosed(
            f"The WebSocket closed ({detail}). The log and conversation are kept; open a new "
            "session (or pass reconnect=True) to continue.",
            code,
            reason,
        )

    def recoverable(self, code: int | None) -> bool:
        """Whether a close with ``code`` may be followed by an automatic reconnect."""
        return (code is None or code in RECOVERABLE_CLOSE_CODES) and not isinstance(
            self.closed, ServerError
        )

    def failure(self, settled: Request | Watch) -> RealtimeError | None:
        """The exception a settled request or watch resolves to (None: it succeeded)."""
        if settled.error is not None:
            return server_error_from_event(settled.error)
        if settled.reply is None:
            return self.closed or ConnectionClosed("The session was closed.")
        return None

    # --- rules the widget and the session share ----------------------------------------------
    @property
    def turn_detection(self) -> dict[str, Any] | None:
        """The session's turn detection (None: push-to-talk, the client commits)."""
        td = _dict(_dict(self.session_config.get("audio")).get("input")).get("turn_detection")
        return td if isinstance(td, dict) else None

    def _auto_responses(self) -> bool:
        td = self.turn_detection
        return td is not None and td.get("create_response", True) is not False

    @property
    def auto_interrupts(self) -> bool:
        """True when the server cancels a response itself when the user starts speaking."""
        td = self.turn_detection
        return td is not None and td.get("interrupt_response", True) is not False

    def truncate_plan(self, item_id: str, played_samples: int) -> tuple[str | None, int | None]:
        """A barge-in after the player stopped: (response to cancel or None, audio_end_ms or None).

        ``audio_end_ms = floor(played / 24)`` clamped to the audio received; no truncate when
        nothing was received. The response is cancelled only when it is still active and the
        server does not interrupt by itself (DESIGN.md §3).
        """
        if played_samples < 0:
            raise UsageError(f"played_samples must be >= 0, not {played_samples}.")
        item = self.conversation.item(item_id)
        if item is None or not item.audio_bytes_received:
            return None, None
        state = self.conversation.responses.get(item.response_id or "")
        cancel = None
        if not self.auto_interrupts and state is not None and state.status == "in_progress":
            cancel = state.id
        end_ms = int(played_samples) * 1000 // audio_mod.SAMPLE_RATE
        return cancel, self.clamp_truncate(item_id, end_ms)

    def clamp_truncate(self, item_id: str, audio_end_ms: int) -> int:
        limit = self.conversation.audio_played_limit_ms(item_id)
        return int(min(int(audio_end_ms), limit)) if limit is not None else int(audio_end_ms)

    # --- reconnect ----------------------------------------------------------------------------
    def replay_events(self, *, history: bool = True) -> list[dict[str, Any]]:
        """What a new session needs to continue this one: the config, then (optionally) items.

        Items are re-created with their ids, in order: user text and audio (audio from the PCM
        kept), assistant messages as text (the API cannot take assistant audio: the transcript
        stands in, cut to what was heard after a truncation), function calls and outputs.
        """
        out: list[dict[str, Any]] = []
        if self.requested_config:
            out.append(self._update_event(copy.deepcopy(self.requested_config)))
        if not history:
            return out
        previous: str | None = None
        for item in self.conversation.items[-REPLAY_MAX_ITEMS:]:
            replay = _replay_item(item, self._input_format)
            if replay is None:
                continue
            event = protocol.item_create(replay, previous_item_id=previous or "root")
            self._replayed.add(item.id)
            out.append(event)
            previous = item.id
        return out

    def is_replayed(self, item_id: str) -> bool:
        """True while a replayed item's ``conversation.item.added`` has not arrived."""
        return item_id in self._replayed


def _replay_item(
    item: ConversationItem, input_format: audio_mod.AudioFormatName
) -> dict[str, Any] | None:
    if item.type == "function_call":
        return {"id": item.id, "type": "function_call", "call_id": item.call_id,
                "name": item.name, "arguments": item.arguments or "{}"}  # fmt: skip
    if item.type == "function_call_output":
        return {"id": item.id, "type": "function_call_output", "call_id": item.call_id,
                "output": item.output or ""}  # fmt: skip
    if item.type != "message" or item.role not in ("user", "assistant", "system"):
        return None
    if item.role == "assistant":
        said = item.text or (
            item.heard_transcript if item.heard_transcript is not None else item.transcript
        )
        if not said:
            return None
        return {"id": item.id, "type": "message", "role": "assistant",
                "content": [{"type": "output_text", "text": said}]}  # fmt: skip
    content: list[dict[str, Any]] = []
    if item.text:
        content.append({"type": "input_text", "text": item.text})
    samples = item.audio()
    if len(samples):
        wire = audio_mod.encode_for_format(samples, input_format)
        part: dict[str, Any] = {"type": "input_audio", "audio": audio_mod.b64encode_audio(wire)}
        if item.transcript:
            part["transcript"] = item.transcript
        content.append(part)
    elif item.transcript:
        content.append({"type": "input_text", "text": item.transcript})
    if not content:
        return None
    return {"id": item.id, "type": "message", "role": item.role, "content": content}


# --- session shapes the widget and notebooks start from --------------------------------------
VAD_TYPES = ("server_vad", "semantic_vad")


def initial_config(
    instructions: str | None,
    voice: str | None,
    turn_detection: str | None,
    session: dict[str, Any] | None,
) -> dict[str, Any]:
    """The first ``session.update`` (GA shape) for these choices; ``session`` fields win."""
    audio: dict[str, Any] = {
        "input": {"turn_detection": {"type": turn_detection} if turn_detection else None}
    }
    if voice is not None:
        audio["output"] = {"voice": voice}
    config: dict[str, Any] = {"audio": audio}
    if instructions is not None:
        config["instructions"] = instructions
    return protocol.deep_merge(config, session or {})


def same_turn_detection(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
    """Whether two turn-detection settings are the same for the controls a person sees."""
    if a is None or b is None:
        return a is b
    if a.get("type") != b.get("type"):
        return False
    return a.get("type") != "server_vad" or a.get("threshold") == b.get("threshold")


#: Characters of a tool call's arguments and output shown in a transcript entry.
TRANSCRIPT_TOOL_CHARS = 300


def transcript_entries(conversation: Conversation, limit: int = 200) -> list[dict[str, Any]]:
    """The conversation's messages as the transcript view shows them: heard vs generated.

    A function call is one entry with role ``tool``: ``name(arguments) → output`` (its output
    joined by ``call_id``; ``…`` while none has arrived), each part cut to
    :data:`TRANSCRIPT_TOOL_CHARS`.
    """
    items = list(conversation.items)[-limit:]
    outputs = {i.call_id: i.output for i in items if i.type == "function_call_output"}
    out: list[dict[str, Any]] = []
    for item in items:
        if item.type == "function_call":
            out.append(_tool_entry(item, outputs.get(item.call_id)))
            continue
        if item.type != "message":
            continue
        if item.role == "assistant":
            text = item.transcript or item.text
        else:
            text = item.text or item.transcript
        interrupted = item.truncated_at_ms is not None
        out.append(
            {
                "item_id": item.id,
                "role": item.role,
                "text": printable(text),
                "heard": printable(item.heard_transcript or "") if interrupted else None,
                "interrupted": interrupted,
                "status": item.status,
            }
        )
    return out


def _tool_entry(item: ConversationItem, output: str | None) -> dict[str, Any]:
    def cut(text: str) -> str:
        text = printable(text)
        return text if len(text) <= TRANSCRIPT_TOOL_CHARS else text[:TRANSCRIPT_TOOL_CHARS] + "…"

    said = f"{item.name or '?'}({cut(item.arguments or '')}) → {cut(output) if output else '…'}"
    return {
        "item_id": item.id,
        "role": "tool",
        "text": said,
        "heard": None,
        "interrupted": False,
        "status": "completed" if output is not None else "in_progress",
        "name": item.name,
        "call_id": item.call_id,
    }


__all__ = [
    "RECOVERABLE_CLOSE_CODES",
    "VAD_TYPES",
    "ClientProtocol",
    "DropRun",
    "Outgoing",
    "Received",
    "initial_config",
    "same_turn_detection",
    "transcript_entries",
]

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

This module routes; each concept lives in its own module, and this class joins them:

- :mod:`.connect` — the upgrade request, routes, credentials and whether to admit it;
- :mod:`.session_config` — the session object, its defaults and ``session.update`` semantics;
- :mod:`.input_buffer` — appended audio, commits, and the server VAD's turns;
- :mod:`.items` — the conversation's stored items, client items, truncation;
- :mod:`.responses` — a response as a queue of paced steps, cancel and finish;
- :mod:`.usage` — token accounting and the rate-limit window;
- :mod:`.outbox` — events (in the beta shape when asked), async jobs, the close request.

Which client event does what is the table :data:`HANDLERS`; what happens between them (a VAD
turn commits an item and starts a response, speech interrupts a response, an idle turn times
out) is here.
"""

from __future__ import annotations

import copy
import inspect
import json
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import audio, beta, protocol
from ..errors import AudioFormatError
from . import validation as v
from .connect import (
    KNOWN_MODELS,
    ConnectRequest,
    Refused,
    ServerConfig,
    SessionKind,
    admit,
    route,
)
from .input_buffer import SAMPLES_PER_MS, InputBuffer
from .items import (
    ITEM_ERRORS,
    ItemStore,
    StoredItem,
    client_item,
    input_audio_item,
    truncate,
)
from .mcp import announce_servers
from .outbox import CloseRequest, Job, Outbox
from .responders import ResponderContext, echo
from .responses import CHUNK_MS, SYNTH_MS_PER_CHAR, TEXT_STEP_MS, ResponseRunner, Run, split_words
from .session_config import DEFAULT_INSTRUCTIONS, default_session, merge_session, session_view
from .transcription import LOGPROBS_INCLUDE, languages, transcript_pieces, transcription_usage
from .usage import RATE_LIMIT_TOKENS, RateLimiter, text_tokens
from .vad import EnergyVad


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
        self.kind: SessionKind = "realtime"
        self.model: str | None = None
        self.session: dict[str, Any] = {}
        self.conversation_id = ""
        self.opened_at: float | None = None
        self.out = Outbox(self.ids)
        self.store = ItemStore()
        self.input_buffer = InputBuffer()
        self.responses = ResponseRunner(
            self.out,
            self.ids,
            self.store,
            self.config.audio_speed,
            self._default_response_done,
            think_s=self.config.think_s,
            rate_limiter=RateLimiter(
                self.config.rate_limit_tokens, self.config.rate_limit_window_s
            ),
        )
        # timers
        self._expiry: float | None = None
        self._idle_deadline: float | None = None
        #: MCP server labels whose tools were listed (see .mcp)
        self._mcp_listed: set[str] = set()

    # ------------------------------------------------------------------ connection lifecycle
    def open(self, now: float, wall: float = 0.0) -> list[dict[str, Any]]:
        """The upgrade completed (always 101, §1.4): check auth, beta header and model."""
        self.opened_at = now
        self._expiry = now + self.config.max_session_s
        verdict = admit(self.request, self.config)
        self.out.beta = verdict.beta
        if isinstance(verdict, Refused):
            return self._refuse(verdict.code, verdict.message, verdict.close_code)
        self.kind, self.model = verdict.kind, verdict.model
        self.conversation_id = self.ids.new("conv")
        expires_at = int(wall + self.config.max_session_s)
        self.session = default_session(self.kind, self.model, self.ids.new("sess"), expires_at)
        if self.kind == "realtime" or self.turn_detection:
            self.input_buffer.configure_vad(self.turn_detection)
        self.out.emit("session.created", session=self._session_view())
        return self.out.drain()

    def _refuse(self, code: str | None, message: str, close_code: int) -> list[dict[str, Any]]:
        self.out.error(code, message)
        reason = "invalid_request_error" + (f".{code}" if code else "")
        self.close = CloseRequest(close_code, reason)
        return self.out.drain()

    def expire_in(self, seconds: float, now: float) -> None:
        """Move session expiry to ``now + seconds`` (fault injection)."""
        self._expiry = now + seconds

    # ------------------------------------------------------------------ session
    @property
    def beta(self) -> bool:
        """The connection speaks the beta shape (``OpenAI-Beta: realtime=v1``)."""
        return self.out.beta

    def _session_view(self) -> dict[str, Any]:
        return session_view(self.session, self.kind, self.beta)

    @property
    def input_format(self) -> audio.AudioFormatName:
        return audio.format_name(self.session["audio"]["input"]["format"])

    @property
    def turn_detection(self) -> dict[str, Any] | None:
        return self.session["audio"]["input"]["turn_detection"]

    # ------------------------------------------------------------------ frames in
    def receive_text(self, text: str, now: float) -> list[dict[str, Any]]:
        """A TEXT frame arrived: parse, validate, act. Errors are events, never exceptions."""
        if self.close is not None:
            return []
        try:
            event = json.loads(text)
        except ValueError as exc:
            self.out.error("invalid_json", f"Invalid event: failed to parse JSON value. {exc}")
            return self.out.drain()
        if not isinstance(event, dict):
            self.out.error(  # UNCONFIRMED code/message
                "invalid_event", "Invalid event: expected a JSON object with a 'type' field."
            )
            return self.out.drain()
        return self.receive_event(event, now)

    def receive_bytes(self, data: bytes, now: float) -> list[dict[str, Any]]:
        """A BINARY frame arrived: refused with ``invalid_event`` (observed), non-fatal."""
        if self.close is not None:
            return []
        self.out.error(
            "invalid_event", "Expected a text WebSocket message; binary frames are not supported."
        )
        return self.out.drain()

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
            self.out.error(err.code, err.message, err.param, client_event_id)
        self._run_due(now)
        return self.out.drain()

    # ------------------------------------------------------------------ handlers: session
    def _on_session_update(self, ev: dict[str, Any], now: float) -> None:
        new = merge_session(self.session, ev["session"], self.kind, self.audio_produced)
        old_td = self.turn_detection
        self.session = new
        if self.turn_detection != old_td:
            self.input_buffer.configure_vad(self.turn_detection)
            if self.turn_detection and old_td is None:
                self.input_buffer.restart_vad()
        self.out.emit("session.updated", session=self._session_view())
        announce_servers(
            self.out, self.ids, self.store, self.session.get("tools"), self._mcp_listed
        )

    # ------------------------------------------------------------------ handlers: input audio
    def _on_append(self, ev: dict[str, Any], now: float) -> None:
        try:
            data = audio.b64decode_audio(ev["audio"])
        except AudioFormatError:
            raise v.Invalid(  # UNCONFIRMED message
                "invalid_value", "Invalid 'audio': the value is not valid base64.", "audio"
            ) from None
        if not data:
            return
        for event in self.input_buffer.append(data, self.input_format):
            if event.kind == "start":
                self._speech_started(event.sample, now)
            else:
                self._speech_stopped(event.sample, event.at, now)

    def _on_commit(self, ev: dict[str, Any], now: float) -> None:
        ms = self.input_buffer.ms(self.input_format)
        if ms < 100:
            raise v.Invalid(
                "input_audio_buffer_commit_empty",
                "Error committing input audio buffer: buffer too small. Expected at least 100ms "
                f"of audio, but buffer only has {ms:.2f}ms of audio.",
            )
        item_id = self.input_buffer.speech_item or self.ids.item()
        self._commit_item(item_id, self.input_buffer.take_all(), now)

    def _on_clear(self, ev: dict[str, Any], now: float) -> None:
        self.input_buffer.reset()
        self.out.emit("input_audio_buffer.cleared")

    # VAD turns: speech interrupts the response in progress; its end commits and responds.
    def _speech_started(self, sample: int, now: float) -> None:
        item_id = self.ids.item()
        self.input_buffer.begin_turn(sample, item_id)
        self._idle_deadline = None
        self.out.emit(
            "input_audio_buffer.speech_started",
            audio_start_ms=sample // SAMPLES_PER_MS,
            item_id=item_id,
        )
        td = self.turn_detection or {}
        run = self.responses.runs.get(self.default_run or "")
        if run is not None and td.get("interrupt_response", True):
            self.responses.cancel(run, "turn_detected", now)

    def _speech_stopped(self, end: int, at: int, now: float) -> None:
        item_id = self.input_buffer.speech_item or self.ids.item()
        self.out.emit(
            "input_audio_buffer.speech_stopped", audio_end_ms=end // SAMPLES_PER_MS, item_id=item_id
        )
        data = self.input_buffer.take_turn(end, at, self.input_format)
        self._commit_item(item_id, data, now)
        td = self.turn_detection or {}
        if self.kind == "realtime" and td.get("create_response", True) and not self.default_run:
            self._start_response({}, None, now)

    def _commit_item(self, item_id: str, data: bytes, now: float) -> None:
        stored = input_audio_item(item_id, data, self.input_format)
        previous = self.store.append(stored)
        item = stored.item
        self.out.emit("input_audio_buffer.committed", previous_item_id=previous, item_id=item_id)
        self.out.emit(
            "conversation.item.added", previous_item_id=previous, item=copy.deepcopy(item)
        )
        self.out.emit("conversation.item.done", previous_item_id=previous, item=copy.deepcopy(item))
        self._transcribe(stored)

    # input transcription (of committed audio)
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
            self.out.add_job(Job("transcript", stored.id, result, seconds))
        else:
            self._transcribed(
                stored.id, result if isinstance(result, str) else str(result), seconds
            )

    def _transcribed(self, item_id: str, heard: str, seconds: float) -> None:
        transcription = self.session["audio"]["input"].get("transcription") or {}
        model = transcription.get("model")
        want_logprobs = LOGPROBS_INCLUDE in (self.session.get("include") or [])
        pieces, logprobs = transcript_pieces(model, heard, want_logprobs=want_logprobs)
        for piece in pieces:
            delta: dict[str, Any] = {"item_id": item_id, "content_index": 0, "delta": piece.text}
            if piece.logprobs is not None:
                delta["logprobs"] = piece.logprobs
            self.out.emit("conversation.item.input_audio_transcription.delta", **delta)
        text = str(heard)
        completed: dict[str, Any] = {
            "item_id": item_id,
            "content_index": 0,
            "transcript": text,
            "usage": transcription_usage(model, seconds, text),
        }
        if logprobs is not None:
            completed["logprobs"] = logprobs
        found = languages(model, text)
        if found is not None:
            completed["languages"] = found
        self.out.emit("conversation.item.input_audio_transcription.completed", **completed)
        stored = self.store.items.get(item_id)
        if stored is not None:
            stored.item["content"][0]["transcript"] = text

    def _transcription_failed(self, item_id: str, exc: BaseException) -> None:
        self.out.emit(
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

    # ------------------------------------------------------------------ handlers: items
    def _on_item_create(self, ev: dict[str, Any], now: float) -> None:
        stored = client_item(ev["item"], "item", self.ids, self.input_format)
        self.store.check_new_id(stored.id)
        previous = self.store.insert(stored, ev.get("previous_item_id"))
        self.out.emit(
            "conversation.item.added", previous_item_id=previous, item=copy.deepcopy(stored.item)
        )
        self.out.emit(
            "conversation.item.done", previous_item_id=previous, item=copy.deepcopy(stored.item)
        )

    def _on_item_retrieve(self, ev: dict[str, Any], now: float) -> None:
        stored = self.store.lookup(ev["item_id"], "retrieving", "item_id", ITEM_ERRORS["retrieve"])
        self.out.emit("conversation.item.retrieved", item=stored.with_audio())

    def _on_item_delete(self, ev: dict[str, Any], now: float) -> None:
        stored = self.store.lookup(ev["item_id"], "deleting", "item_id", ITEM_ERRORS["delete"])
        self.store.delete(stored)
        self.out.emit("conversation.item.deleted", item_id=stored.id)

    def _on_item_truncate(self, ev: dict[str, Any], now: float) -> None:
        stored = self.store.lookup(ev["item_id"], "truncating", "item_id", ITEM_ERRORS["truncate"])
        index, end_ms = ev["content_index"], ev["audio_end_ms"]
        truncate(stored, index, end_ms)
        self.out.emit(
            "conversation.item.truncated",
            item_id=stored.id,
            content_index=index,
            audio_end_ms=end_ms,
        )
        self.responses.cut_output(stored)  # still streaming: the cut sticks (no more of it is sent)

    # ------------------------------------------------------------------ handlers: responses
    def _on_response_create(self, ev: dict[str, Any], now: float) -> None:
        if self.kind == "transcription":
            raise v.Invalid(  # UNCONFIRMED code/message
                "invalid_value",
                "Responses are not supported in transcription sessions.",
                "type",
            )
        params = ev.get("response") or {}
        v.check_reasoning(self.session.get("model"), params.get("reasoning"), "response.reasoning")
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
                path = f"response.input[{i}]"
                if entry["type"] == "item_reference":
                    context.append(
                        self.store.lookup(
                            entry["id"], "referencing", f"{path}.id", ITEM_ERRORS["reference"]
                        )
                    )
                else:
                    context.append(client_item(entry, path, self.ids, self.input_format))
        self._start_response(params, context, now)

    def _on_response_cancel(self, ev: dict[str, Any], now: float) -> None:
        rid = ev.get("response_id") or self.default_run
        run = self.responses.runs.get(rid or "")
        if run is None:
            raise v.Invalid(
                "response_cancel_not_active",  # observed code; message wording UNCONFIRMED
                "Cancellation failed: no active response found",
            )
        self.responses.cancel(run, "client_cancelled", now)

    def _start_response(
        self, params: dict[str, Any], context: list[StoredItem] | None, now: float
    ) -> None:
        self._idle_deadline = None
        self.responses.start(
            params,
            context,
            now,
            session=self.session,
            session_view=self._session_view(),
            conversation_id=self.conversation_id,
            responder=self.responder,
        )

    def _default_response_done(self, run: Run, now: float) -> None:
        """The conversation's response ended: arm the idle timeout once its audio has played."""
        td = self.turn_detection
        idle = td.get("idle_timeout_ms") if td else None
        if idle:
            self._idle_deadline = now + run.audio_ms / 1000 + idle / 1000

    # ------------------------------------------------------------------ time
    def next_deadline(self) -> float | None:
        """When :meth:`poll` has something to do next (same clock as ``now``), or None."""
        times = [t for t in (self._expiry, self._idle_deadline) if t is not None]
        step = self.responses.next_due()
        if step is not None:
            times.append(step)
        return min(times) if times else None

    def poll(self, now: float) -> list[dict[str, Any]]:
        """Run whatever is due at ``now``: paced response events, idle timeout, expiry."""
        if self.close is not None:
            return []
        self._run_due(now)
        return self.out.drain()

    def _run_due(self, now: float) -> None:
        if self._expiry is not None and now >= self._expiry and self.close is None:
            message = (
                "Your session hit the maximum duration of "
                f"{_minutes(self.config.max_session_s)} minutes."
            )
            self.out.error("session_expired", message)
            self.close = CloseRequest(protocol.CLOSE_EXPIRED, message)
            return
        self.responses.run_due(now)
        if self._idle_deadline is not None and now >= self._idle_deadline:
            self._idle_deadline = None
            self._idle_timeout(now)

    def _idle_timeout(self, now: float) -> None:
        vad = self.input_buffer.vad
        if self.default_run or (vad is not None and vad.speaking):
            return
        item_id = self.ids.item()
        self.out.emit(
            "input_audio_buffer.timeout_triggered",
            audio_start_ms=self.input_buffer.start // SAMPLES_PER_MS,
            audio_end_ms=self.input_buffer.appended // SAMPLES_PER_MS,
            item_id=item_id,
        )
        self._commit_item(item_id, self.input_buffer.take_all(), now)
        self._start_response({}, None, now)

    # ------------------------------------------------------------------ async jobs
    def take_jobs(self) -> list[Job]:
        """Awaitables (async responders/transcribers) the edge must run and resolve."""
        return self.out.take_jobs()

    def resolve_job(
        self, job: Job, result: Any = None, error: BaseException | None = None, now: float = 0.0
    ) -> list[dict[str, Any]]:
        """Hand back a job's result (or the exception it raised)."""
        if self.close is not None:
            return []
        if job.kind == "reply":
            self.responses.resolve_reply(job, result, error, now)
        elif error is not None:
            self._transcription_failed(job.key, error)
        else:
            heard = result if isinstance(result, str) else str(result)
            self._transcribed(job.key, heard, job.seconds)
        self._run_due(now)
        return self.out.drain()

    # ------------------------------------------------------------------ inspection
    @property
    def conversation(self) -> list[dict[str, Any]]:
        """The conversation's items in order, as events show them (no audio bytes)."""
        return [copy.deepcopy(stored.item) for stored in self.store.in_order()]

    @property
    def items(self) -> dict[str, StoredItem]:
        """The conversation's stored items by id (with their audio)."""
        return self.store.items

    @property
    def order(self) -> list[str]:
        """The conversation's item ids in order."""
        return self.store.order

    @property
    def runs(self) -> dict[str, Run]:
        """The responses in progress, by id."""
        return self.responses.runs

    @property
    def responses_created(self) -> int:
        return self.responses.responses_created

    @property
    def vad(self) -> EnergyVad | None:
        """The server VAD, when turn detection is on."""
        return self.input_buffer.vad

    @property
    def default_run(self) -> str | None:
        """The id of the response writing to the conversation, if one is in progress."""
        return self.responses.default_run

    @property
    def audio_produced(self) -> bool:
        return self.responses.audio_produced

    @property
    def events_emitted(self) -> int:
        return self.out.events_emitted

    @property
    def buffer_ms(self) -> float:
        """Milliseconds of audio in the input buffer (not yet committed)."""
        return self.input_buffer.ms(self.input_format)


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

# Names this module held before the split, kept importable from here.
__all__ = [
    "CHUNK_MS",
    "DEFAULT_INSTRUCTIONS",
    "HANDLERS",
    "KNOWN_MODELS",
    "RATE_LIMIT_TOKENS",
    "SAMPLES_PER_MS",
    "SYNTH_MS_PER_CHAR",
    "TEXT_STEP_MS",
    "CloseRequest",
    "ConnectRequest",
    "Job",
    "RealtimeServerProtocol",
    "ServerConfig",
    "StoredItem",
    "route",
    "split_words",
    "text_tokens",
]

"""Turns from log rows: which turn each row belongs to, and what happened in each turn.

Theory of operation. :class:`TurnTracker` reads rows once, in order, and keeps a little state:
which turn is in progress, and which turn owns each item, response, call and client event id.
A row that names something already owned goes to its owner (so a ``response.done`` that lands
after the user started speaking again still closes the turn it belongs to); a row that starts a
user input opens a turn; everything else (errors, ``local.*`` rows, session updates, mic
frames) goes to the turn in progress. Rows before the first turn (connecting, session set-up)
belong to no turn.

A turn opens on:

- ``input_audio_buffer.speech_started`` for an item no turn owns yet (server VAD);
- the first ``input_audio_buffer.append`` after a commit or clear when turn detection is off
  (push-to-talk: the speech lane runs from that frame to the commit);
- a client ``conversation.item.create`` of a user message (joined to the turn in progress when
  that turn has not asked for a response yet: several messages, one answer);
- a ``response.create`` with no new input since the last response, unless it follows a
  ``function_call_output`` (a tool round's follow-up stays in the turn of the call).

Feeding is incremental (:meth:`TurnTracker.feed` skips rows it has seen), so a live view can
keep one tracker and feed it ``EventLog.since(last_seq)``. Pure: no I/O, no clock.
"""

from __future__ import annotations

import json
from bisect import bisect_left
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..events.pricing import usage_row
from ..events.rows import EventRow
from ..heard import heard_prefix
from .level import level_points
from .model import ErrorMark, Mark, MarkKind, ResponseSpan, ToolSpan, ToolStatus, TurnTimeline

_BYTES_PER_S = 48_000  # PCM16 mono at 24 kHz: the input stream's clock (VAD audio_*_ms)
_REQUEST_KEY = "rtnb_request"  # response.metadata key the client uses to correlate (correlation.py)
_SPAN_SKIP = frozenset({"input_audio_buffer.append"})  # mic frames do not stretch a turn
_TEXT_DELTAS = frozenset({"response.output_audio_transcript.delta", "response.output_text.delta"})
_TEXT_DONES = {
    "response.output_audio_transcript.done": "transcript",
    "response.output_text.done": "text",
}

AudioFor = Callable[[str], "np.ndarray | None"]


def _d(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _s(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _num(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


@dataclass(slots=True)
class _Resp:
    response_id: str
    created: float | None = None
    done: float | None = None
    status: str | None = None
    first_audio: float | None = None
    first_text: float | None = None
    audio_bytes: int = 0
    items: list[str] = field(default_factory=list)
    usage: dict[str, Any] | None = None
    model: str | None = None


@dataclass(slots=True)
class _Turn:
    number: int
    opened_by: str  # "speech" | "push_to_talk" | "text" | "audio_item" | "request" | "response"
    first_seq: int
    last_seq: int
    start: float | None = None
    end: float | None = None
    user_item_id: str | None = None
    user_text: list[str] = field(default_factory=list)
    transcript: str | None = None  # the input transcription, when it completes
    transcript_deltas: list[str] = field(default_factory=list)
    speech: list[list[float | None]] = field(default_factory=list)
    speech_ms: list[list[float | None]] = field(default_factory=list)  # VAD stream ms
    input_end: float | None = None
    audio_from_ms: float | None = None  # input stream ms where the user item's audio starts
    stream_generation: int = 0
    marks: list[Mark] = field(default_factory=list)
    responses: dict[str, _Resp] = field(default_factory=dict)
    tools: dict[str, ToolSpan] = field(default_factory=dict)
    errors: list[ErrorMark] = field(default_factory=list)
    requested: bool = False  # a response.create was sent for this turn
    followup: bool = False  # a function_call_output waits for its response.create

    def touch(self, row: EventRow) -> None:
        self.last_seq = row.seq
        if row.type in _SPAN_SKIP:
            return
        t = row.t
        if self.start is None or t < self.start:
            self.start = t
        if self.end is None or t > self.end:
            self.end = t

    def mark(self, row: EventRow, kind: MarkKind, label: str) -> None:
        self.marks.append(Mark(row.t, kind, label, row.seq))


class TurnTracker:
    """Groups log rows into turns as they arrive; :meth:`timelines` reads the result.

    Not thread-safe: feed and read from one thread (a snapshot of rows is fine to feed).
    """

    def __init__(self, *, prices: dict[str, Any] | None = None) -> None:
        self.prices = prices
        self._turns: list[_Turn] = []
        self._current: _Turn | None = None
        self.assignment: dict[int, int] = {}  #: row seq → turn number (rows with a turn only)
        self._by_item: dict[str, _Turn] = {}
        self._by_response: dict[str, _Turn] = {}
        self._by_call: dict[str, _Turn] = {}
        self._by_event: dict[str, _Turn] = {}
        self._requests: deque[_Turn] = deque()  # turns whose response.create awaits its created
        self._request_ids: dict[str, _Turn] = {}  # response.create event id → its turn
        # push-to-talk: frames appended since the last commit make a turn only once committed
        self._held: _Turn | None = None
        self._held_seqs: list[int] = []
        self._commits: deque[_Turn] = deque()  # committed by us, server's committed to come
        self._item_text: dict[str, list[str]] = {}
        self._item_audio: dict[str, int] = {}
        self._cuts: dict[str, float] = {}  # item id → audio_end_ms
        self._vad_on = True  # the service's default; session.created/updated say otherwise
        self._model: str | None = None
        self._stream_ends: list[int] = []  # input stream bytes after each append
        self._stream_ts: list[float] = []
        self._stream_bytes = 0
        self._stream_generation = 0
        self._padding_ms = 300.0  # turn_detection.prefix_padding_ms (the service's default)
        self.last_seq = 0

    # --- feeding -----------------------------------------------------------------------------
    def feed(self, rows: Iterable[EventRow]) -> None:
        """Read rows in order; rows already read (by sequence number) are skipped."""
        handlers = _HANDLERS
        for row in rows:
            if row.seq <= self.last_seq:
                continue
            self.last_seq = row.seq
            handler = handlers.get(row.type)
            turn = handler(self, row) if handler is not None else self._owner(row)
            if turn is not None:
                if turn.number:
                    self.assignment[row.seq] = turn.number
                else:
                    self._held_seqs.append(row.seq)
                turn.touch(row)

    def _open(self, row: EventRow, opened_by: str) -> _Turn:
        turn = _Turn(len(self._turns) + 1, opened_by, row.seq, row.seq)
        self._turns.append(turn)
        self._current = turn
        return turn

    def _promote(self) -> _Turn | None:
        """Number the held push-to-talk input: it was committed, so it is a turn."""
        turn, self._held = self._held, None
        if turn is None:
            return None
        turn.number = len(self._turns) + 1
        self._turns.append(turn)
        self._current = turn
        for seq in self._held_seqs:
            self.assignment[seq] = turn.number
        self._held_seqs = []
        return turn

    def _owner(self, row: EventRow) -> _Turn | None:
        """The turn that owns the row's response or item, else the turn in progress."""
        if row.response_id is not None:
            turn = self._by_response.get(row.response_id)
            if turn is not None:
                return turn
        if row.item_id is not None:
            turn = self._by_item.get(row.item_id)
            if turn is not None:
                return turn
        return self._current

    def _claim_item(self, turn: _Turn, item_id: str | None) -> None:
        if item_id is not None and item_id not in self._by_item:
            self._by_item[item_id] = turn

    # --- input -------------------------------------------------------------------------------
    def _on_append(self, row: EventRow) -> _Turn | None:
        if row.direction != "client":
            return self._current
        self._stream_bytes += row.audio_bytes
        self._stream_ends.append(self._stream_bytes)
        self._stream_ts.append(row.t)
        if self._vad_on or not row.audio_bytes:
            return self._held or self._current
        if self._held is None:  # push-to-talk: the first frame of an input
            self._held = _Turn(0, "push_to_talk", row.seq, row.seq)
            self._held_seqs = []
        held = self._held
        if not held.speech:
            held.speech.append([row.t - row.audio_bytes / _BYTES_PER_S, None])
            held.start = held.speech[-1][0]
            held.audio_from_ms = (self._stream_bytes - row.audio_bytes) / (_BYTES_PER_S / 1000)
            held.stream_generation = self._stream_generation
        return held

    def _on_speech_started(self, row: EventRow) -> _Turn | None:
        turn = self._by_item.get(row.item_id) if row.item_id else None
        if turn is None:
            turn = self._open(row, "speech")
            turn.user_item_id = row.item_id
            self._claim_item(turn, row.item_id)
        start_ms = _num(row.payload.get("audio_start_ms"))
        if start_ms is not None and turn.audio_from_ms is None:
            turn.audio_from_ms = start_ms  # the item's audio starts here, prefix padding included
            turn.stream_generation = self._stream_generation
        # speech itself began prefix_padding_ms later; the VAD reports it only after that
        spoke = None if start_ms is None else start_ms + self._padding_ms
        turn.speech.append([min(self._stream_t(spoke, row.t), row.t), None])
        turn.speech_ms.append([start_ms, None])
        turn.mark(row, "speech_started", "speech started")
        return turn

    def _on_speech_stopped(self, row: EventRow) -> _Turn | None:
        turn = self._by_item.get(row.item_id) if row.item_id else None
        turn = turn or self._current
        if turn is None:
            return None
        end_ms = _num(row.payload.get("audio_end_ms"))
        if turn.speech and turn.speech[-1][1] is None:
            turn.speech[-1][1] = min(self._stream_t(end_ms, row.t), row.t)
            turn.speech_ms[-1][1] = end_ms
        turn.input_end = row.t
        turn.mark(row, "speech_stopped", "speech stopped")
        return turn

    def _on_committed(self, row: EventRow) -> _Turn | None:
        turn = self._by_item.get(row.item_id) if row.item_id else None
        if turn is None:
            turn = self._commits.popleft() if self._commits else self._promote()
            turn = turn or self._open(row, "push_to_talk")
            turn.user_item_id = turn.user_item_id or row.item_id
            self._claim_item(turn, row.item_id)
        if turn.opened_by == "push_to_talk":
            if turn.speech and turn.speech[-1][1] is None:
                turn.speech[-1][1] = row.t
            if turn.input_end is None:
                turn.input_end = row.t
        turn.mark(row, "committed", "input committed")
        return turn

    def _on_commit_or_clear(self, row: EventRow) -> _Turn | None:
        if row.direction != "client":
            return self._current
        if row.type == "input_audio_buffer.clear":
            held = self._held
            if held is not None:  # cleared before it became anything: the next frame restarts
                held.speech.clear()
            turn = held or self._current
        else:
            turn = self._promote() or self._current
            if turn is not None:
                self._commits.append(turn)
                if turn.speech and turn.speech[-1][1] is None:
                    turn.speech[-1][1] = row.t
                if turn.input_end is None:
                    turn.input_end = row.t  # the key was released: the wait starts here
        if turn is not None and turn.number and row.event_id:
            self._by_event[row.event_id] = turn
        return turn

    def _on_item_create(self, row: EventRow) -> _Turn | None:
        item = _d(row.payload.get("item"))
        item_id = _s(item.get("id"))
        kind = item.get("type")
        if kind == "function_call_output":
            call_id = _s(item.get("call_id"))
            turn = self._by_call.get(call_id) if call_id else None
            turn = turn or self._current
            if turn is not None:
                turn.followup = True
                self._claim_item(turn, item_id)
                tool = turn.tools.get(call_id) if call_id else None
                if tool is not None:
                    tool.output = _s(item.get("output"))
                    if tool.end is None:
                        tool.end = row.t
                    if tool.status == "pending":
                        tool.status = _output_status(tool.output)
            return self._remember_event(row, turn)
        if kind == "message" and item.get("role") == "user":
            current = self._current
            text, has_audio = _user_content(item)
            if (
                current is not None
                and current.opened_by in ("text", "audio_item")
                and not current.requested
                and not current.responses
            ):
                turn = current
            else:
                turn = self._open(row, "audio_item" if has_audio and not text else "text")
            if turn.user_item_id is None:
                turn.user_item_id = item_id
            self._claim_item(turn, item_id)
            if text:
                turn.user_text.append(text)
            turn.input_end = row.t
            turn.mark(row, "committed", "audio sent" if has_audio and not text else "text sent")
            return self._remember_event(row, turn)
        turn = self._current
        if turn is not None:
            self._claim_item(turn, item_id)
        return self._remember_event(row, turn)

    def _remember_event(self, row: EventRow, turn: _Turn | None) -> _Turn | None:
        if turn is not None and row.event_id:
            self._by_event[row.event_id] = turn
        return turn

    def _on_transcription(self, row: EventRow) -> _Turn | None:
        turn = self._owner(row)
        if turn is None:
            return None
        if row.type.endswith(".delta"):
            delta = _s(row.payload.get("delta"))
            if delta:
                turn.transcript_deltas.append(delta)
        elif row.type.endswith(".completed"):
            transcript = _s(row.payload.get("transcript"))
            if transcript is not None:
                turn.transcript = transcript
        else:  # .failed
            err = _d(row.payload.get("error"))
            message = _s(err.get("message")) or "input transcription failed"
            turn.errors.append(ErrorMark(row.t, _s(err.get("code")), message, row.seq))
            turn.mark(row, "error", "transcription failed")
        return turn

    # --- responses ---------------------------------------------------------------------------
    def _on_response_create(self, row: EventRow) -> _Turn | None:
        if row.direction != "client":
            return self._owner(row)
        current = self._current
        followups = [t for t in self._turns[-4:] if t.followup]
        if followups:
            turn = followups[-1]
            for t in followups:
                t.followup = False
        elif current is None or (
            (current.requested or current.responses)
            and current not in self._requests
            and all(r.done is not None for r in current.responses.values())
        ):
            turn = self._open(row, "request")
        else:  # nothing new to answer, or a request on top of one still running: same turn
            turn = current
        turn.requested = True
        self._requests.append(turn)
        if row.event_id:
            self._request_ids[row.event_id] = turn
        return self._remember_event(row, turn)

    def _on_response_created(self, row: EventRow) -> _Turn | None:
        rid = row.response_id
        if rid is None:
            return self._current
        body = _d(row.payload.get("response"))
        key = _s(_d(body.get("metadata")).get(_REQUEST_KEY))
        turn = self._by_event.get(key) if key else None
        if turn is not None:
            if turn in self._requests:
                self._requests.remove(turn)
        elif self._requests:
            turn = self._requests.popleft()
        else:
            turn = self._current or self._open(row, "response")
        self._by_response[rid] = turn
        resp = turn.responses.get(rid)
        if resp is None:
            resp = turn.responses[rid] = _Resp(rid)
        resp.created = row.t
        resp.status = _s(body.get("status"))
        turn.mark(row, "response_created", "response created")
        return turn

    def _resp(self, row: EventRow) -> tuple[_Turn | None, _Resp | None]:
        rid = row.response_id
        turn = self._by_response.get(rid) if rid else None
        if turn is None or rid is None:
            return self._owner(row), None
        return turn, turn.responses.get(rid)

    def _on_output_item(self, row: EventRow) -> _Turn | None:
        turn, resp = self._resp(row)
        item = _d(row.payload.get("item"))
        item_id = _s(item.get("id"))
        if turn is None:
            return None
        self._claim_item(turn, item_id)
        if resp is not None and item_id and item_id not in resp.items:
            resp.items.append(item_id)
        if item.get("type") == "function_call":
            call_id = _s(item.get("call_id"))
            if call_id:
                self._by_call.setdefault(call_id, turn)
                tool = turn.tools.get(call_id)
                if tool is None:
                    tool = turn.tools[call_id] = ToolSpan(call_id, _s(item.get("name")), row.t)
                tool.name = tool.name or _s(item.get("name"))
                if row.type == "response.output_item.done":
                    tool.arguments = _s(item.get("arguments")) or tool.arguments
        return turn

    def _on_audio_delta(self, row: EventRow) -> _Turn | None:
        turn, resp = self._resp(row)
        if resp is not None:
            resp.audio_bytes += row.audio_bytes
            if resp.first_audio is None and turn is not None:
                resp.first_audio = row.t
                turn.mark(row, "first_audio", "first audio")
        if row.item_id is not None:
            self._item_audio[row.item_id] = self._item_audio.get(row.item_id, 0) + row.audio_bytes
        return turn

    def _on_text_delta(self, row: EventRow) -> _Turn | None:
        turn, resp = self._resp(row)
        delta = _s(row.payload.get("delta"))
        if row.item_id is not None and delta:
            pieces = self._item_text.get(row.item_id)
            if pieces is None:
                self._item_text[row.item_id] = [delta]
            else:
                pieces.append(delta)
        if resp is not None and resp.first_text is None and turn is not None:
            resp.first_text = row.t
            turn.mark(row, "first_text", "first text")
        return turn

    def _on_text_done(self, row: EventRow) -> _Turn | None:
        turn, _ = self._resp(row)
        text = _s(row.payload.get(_TEXT_DONES[row.type]))
        item_id = row.item_id
        # after a cut the server's final text may already be cut: keep what was generated
        if (
            item_id is not None
            and text is not None
            and (item_id not in self._cuts or item_id not in self._item_text)
        ):
            self._item_text[item_id] = [text]
        return turn

    def _on_arguments_done(self, row: EventRow) -> _Turn | None:
        turn, _ = self._resp(row)
        call_id = _s(row.payload.get("call_id"))
        if turn is None or not call_id:
            return turn
        self._by_call.setdefault(call_id, turn)
        tool = turn.tools.get(call_id)
        name = _s(row.payload.get("name"))
        if tool is None:
            tool = turn.tools[call_id] = ToolSpan(call_id, name, row.t)
        tool.name = tool.name or name
        tool.arguments = _s(row.payload.get("arguments"))
        tool.start = row.t  # the model finished asking: the call can run from here
        return turn

    def _on_response_done(self, row: EventRow) -> _Turn | None:
        turn, resp = self._resp(row)
        body = _d(row.payload.get("response"))
        if turn is None:
            return None
        if resp is None and row.response_id is not None:
            resp = turn.responses[row.response_id] = _Resp(row.response_id)
            self._by_response[row.response_id] = turn
        if resp is None:
            return turn
        resp.done = row.t
        resp.status = _s(body.get("status"))
        usage = body.get("usage")
        resp.usage = usage if isinstance(usage, dict) else None
        resp.model = self._model
        for out in body.get("output") or ():
            out = _d(out)
            out_id = _s(out.get("id"))
            if out_id and out_id not in resp.items:
                resp.items.append(out_id)
            self._claim_item(turn, out_id)
            call_id = _s(out.get("call_id"))
            if out.get("type") == "function_call" and call_id and call_id not in turn.tools:
                self._by_call.setdefault(call_id, turn)
                turn.tools[call_id] = ToolSpan(
                    call_id, _s(out.get("name")), row.t, arguments=_s(out.get("arguments"))
                )
        details = _d(body.get("status_details"))
        if resp.status == "cancelled":
            reason = _s(details.get("reason"))
            label = f"response cancelled ({reason})" if reason else "response cancelled"
            turn.mark(row, "cancelled", label)
        else:
            turn.mark(row, "response_done", f"response {resp.status or 'done'}")
        if resp.status == "failed":
            err = _d(details.get("error"))
            message = _s(err.get("message")) or "response failed"
            code = _s(err.get("code")) or _s(err.get("type"))
            turn.errors.append(ErrorMark(row.t, code, message, row.seq))
            turn.mark(row, "error", f"response failed: {code or message}")
        return turn

    def _on_cancel(self, row: EventRow) -> _Turn | None:
        turn = self._owner(row)
        if row.direction == "client" and turn is not None:
            turn.mark(row, "cancelled", "cancel sent")
        return self._remember_event(row, turn) if row.direction == "client" else turn

    def _on_truncate(self, row: EventRow) -> _Turn | None:
        turn = self._owner(row)
        end_ms = _num(row.payload.get("audio_end_ms"))
        if row.item_id is not None and end_ms is not None:
            first = row.item_id not in self._cuts
            if row.direction == "server" or first:
                self._cuts[row.item_id] = end_ms
            if first and turn is not None:
                turn.mark(row, "truncated", f"cut at {end_ms:.0f} ms")
        if row.direction == "client":
            return self._remember_event(row, turn)
        return turn

    # --- errors, tools, session ----------------------------------------------------------------
    def _on_error(self, row: EventRow) -> _Turn | None:
        err = _d(row.payload.get("error"))
        about = _s(err.get("event_id"))
        turn = self._by_event.get(about) if about else None
        refused = self._request_ids.pop(about, None) if about else None
        if refused is not None and refused in self._requests:
            self._requests.remove(refused)  # a refused response.create gets no response
        turn = turn or self._current
        if turn is not None:
            code = _s(err.get("code")) or _s(err.get("type"))
            message = _s(err.get("message")) or ""
            turn.errors.append(ErrorMark(row.t, code, message, row.seq))
            turn.mark(row, "error", code or "error")
        return turn

    def _on_local(self, row: EventRow) -> _Turn | None:
        turn = self._current
        if turn is not None and ("error" in row.type or "failed" in row.type):
            p = row.payload
            message = _s(p.get("message")) or _s(p.get("error")) or row.type
            code = _s(p.get("code")) or row.type.removeprefix("local.")
            turn.errors.append(ErrorMark(row.t, code, message, row.seq))
            turn.mark(row, "error", code)
        return turn

    def _on_tool_call(self, row: EventRow) -> _Turn | None:
        call_id = _s(row.payload.get("call_id"))
        turn = (self._by_call.get(call_id) if call_id else None) or self._current
        if turn is None or not call_id:
            return turn
        tool = turn.tools.get(call_id)
        if tool is None:
            tool = turn.tools[call_id] = ToolSpan(call_id, _s(row.payload.get("name")), row.t)
            self._by_call[call_id] = turn
        tool.start = row.t
        tool.name = tool.name or _s(row.payload.get("name"))
        arguments = row.payload.get("arguments")
        if arguments is not None and tool.arguments is None:
            tool.arguments = arguments if isinstance(arguments, str) else json.dumps(arguments)
        return turn

    def _on_tool_result(self, row: EventRow) -> _Turn | None:
        call_id = _s(row.payload.get("call_id"))
        turn = (self._by_call.get(call_id) if call_id else None) or self._current
        tool = turn.tools.get(call_id) if turn is not None and call_id else None
        if tool is not None:
            p = row.payload
            tool.end = row.t
            status = p.get("status")
            if isinstance(status, str):  # "ok", or what went wrong: timeout, bad_arguments…
                tool.status = "ok" if status == "ok" else "error"
            elif p.get("ok") is False or p.get("error"):
                tool.status = "error"
            else:
                tool.status = "ok"
            output = p.get("output", p.get("result"))
            if output is not None and tool.output is None:
                tool.output = output if isinstance(output, str) else json.dumps(output)
        return turn

    def _on_tool_error(self, row: EventRow) -> _Turn | None:
        p = row.payload
        call_id = _s(p.get("call_id"))
        turn = (self._by_call.get(call_id) if call_id else None) or self._owner(row)
        if turn is not None:
            code = _s(p.get("kind")) or "tool_error"
            message = _s(p.get("error")) or "the tool failed"
            name = _s(p.get("name"))
            turn.errors.append(ErrorMark(row.t, code, f"{name}: {message}" if name else message,
                                         row.seq))  # fmt: skip
            turn.mark(row, "error", f"{name or 'tool'} {code}")
        return turn

    def _on_session(self, row: EventRow) -> _Turn | None:
        if row.direction == "server":
            session = _d(row.payload.get("session"))
            audio_in = _d(_d(session.get("audio")).get("input"))
            td: object = None
            if "turn_detection" in audio_in:
                td = audio_in.get("turn_detection")
                self._vad_on = bool(td)
            elif "turn_detection" in session:
                td = session.get("turn_detection")
                self._vad_on = bool(td)
            padding = _num(_d(td).get("prefix_padding_ms"))
            if padding is not None:
                self._padding_ms = padding
            model = _s(session.get("model"))
            if model:
                self._model = model
            if row.type == "session.created":  # a new connection: a new input stream
                self._stream_bytes = 0
                self._stream_generation += 1
                self._stream_ends.clear()
                self._stream_ts.clear()
        return self._current

    # --- reading -----------------------------------------------------------------------------
    def _stream_t(self, ms: float | None, fallback: float) -> float:
        """Log time at which the input stream reached ``ms`` (the frame that carried it)."""
        if ms is None or not self._stream_ends:
            return fallback
        target = ms * _BYTES_PER_S / 1000
        i = bisect_left(self._stream_ends, target)
        if i >= len(self._stream_ends):
            return fallback
        return self._stream_ts[i] - (self._stream_ends[i] - target) / _BYTES_PER_S

    def _place(
        self, turn: _Turn, points: list[tuple[float, float]], fallback: float
    ) -> list[tuple[float, float]]:
        """Put envelope points (seconds into the item's audio) on the log clock.

        Through the input stream when the turn's audio offset is known (exact even when the mic
        paused between turns), else laid out from the start of speech.
        """
        base = turn.audio_from_ms
        if base is None or turn.stream_generation != self._stream_generation:
            return [(fallback + s, v) for s, v in points]
        return [(self._stream_t(base + s * 1000, fallback + s), v) for s, v in points]

    @property
    def turn_count(self) -> int:
        return len(self._turns)

    def timelines(
        self,
        *,
        played_ms: Mapping[str, float] | None = None,
        audio_for: AudioFor | None = None,
    ) -> list[TurnTimeline]:
        """Every turn so far, as values (see :func:`build_turns` for the arguments)."""
        return [self._timeline(t, played_ms or {}, audio_for) for t in self._turns]

    def _timeline(
        self, turn: _Turn, played_ms: Mapping[str, float], audio_for: AudioFor | None
    ) -> TurnTimeline:
        responses = [self._span(r, played_ms) for r in turn.responses.values()]
        speech = [(float(a), b) for a, b in turn.speech if a is not None]
        level: list[tuple[float, float]] = []
        if audio_for is not None and turn.user_item_id is not None and speech:
            samples = audio_for(turn.user_item_id)
            if samples is not None and samples.size:
                level = self._place(turn, level_points(turn.user_item_id, samples), speech[0][0])
        times = [t for t in (turn.start, turn.end) if t is not None]
        times += [a for a, _ in speech] + [b for _, b in speech if b is not None]
        start, end = min(times), max(times)
        if level:  # prefix padding may reach back before the turn: keep the lane inside it
            level = [(t, v) for t, v in level if start <= t <= end]
        tokens: dict[str, int] | None = None
        costs = [r.cost_usd for r in responses if r.cost_usd is not None]
        for r in responses:
            if r.usage is not None:
                tokens = tokens or {"input": 0, "output": 0, "total": 0}
                tokens["input"] += _int(r.usage.get("input_tokens"))
                tokens["output"] += _int(r.usage.get("output_tokens"))
                tokens["total"] += _int(r.usage.get("total_tokens"))
        transcript = turn.transcript
        if transcript is None and turn.transcript_deltas:
            transcript = "".join(turn.transcript_deltas)
        user_text = " ".join(turn.user_text) if turn.user_text else transcript
        interrupted = any(
            r.status == "cancelled" or r.truncated_at_ms is not None for r in responses
        )
        kind = {"request": None, "response": None}.get(turn.opened_by, turn.opened_by)
        return TurnTimeline(
            turn=turn.number,
            start=start,
            end=end,
            user_item_id=turn.user_item_id,
            user_text=user_text,
            speech=speech,
            level=level,
            marks=sorted(turn.marks, key=lambda m: (m.t, m.seq)),
            responses=responses,
            tools=list(turn.tools.values()),
            errors=list(turn.errors),
            latency_ms=_latency(turn.input_end, responses),
            tokens=tokens,
            cost_usd=sum(costs) if costs else None,
            interrupted=interrupted,
            seqs=(turn.first_seq, turn.last_seq),
            input_end=turn.input_end,
            input_kind=kind,
        )

    def _span(self, r: _Resp, played_ms: Mapping[str, float]) -> ResponseSpan:
        generated: list[str] = []
        heard: list[str] = []
        played: float | None = None
        cut: float | None = None
        for item_id in r.items:
            text = "".join(self._item_text.get(item_id, ()))
            item_cut = self._cuts.get(item_id)
            received_ms = self._item_audio.get(item_id, 0) / (_BYTES_PER_S / 1000)
            if item_cut is not None:
                cut = item_cut if cut is None else cut
                fraction = item_cut / received_ms if received_ms > 0 else 0.0
                heard_text = heard_prefix(text, fraction)
            else:
                heard_text = text
            if text:
                generated.append(text)
            if heard_text:
                heard.append(heard_text)
            item_played = played_ms.get(item_id)
            if item_played is None and item_cut is not None:
                item_played = item_cut  # a cut is placed where the speaker stopped
            if item_played is not None:
                played = (played or 0.0) + min(float(item_played), received_ms or item_played)
        cost: float | None = None
        if r.usage is not None:
            cost = usage_row(r.response_id, r.usage, r.model, r.status, self.prices).cost_usd
        return ResponseSpan(
            response_id=r.response_id,
            start=r.created,
            end=r.done,
            status=r.status,
            first_audio=r.first_audio,
            first_text=r.first_text,
            audio_received_ms=r.audio_bytes / (_BYTES_PER_S / 1000),
            audio_played_ms=played,
            truncated_at_ms=cut,
            output_item_ids=list(r.items),
            generated_text=" ".join(generated),
            heard_text=" ".join(heard),
            usage=r.usage,
            cost_usd=cost,
        )


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _ms(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else (b - a) * 1000.0


def _latency(input_end: float | None, responses: list[ResponseSpan]) -> dict[str, float | None]:
    first = responses[0] if responses else None
    created = first.start if first else None
    audible = next((r for r in responses if r.first_audio is not None), None)
    dones = [r.end for r in responses if r.end is not None]
    last_done = max(dones) if dones and all(r.end is not None for r in responses) else None
    return {
        "speech_end_to_created": _ms(input_end, created),
        "created_to_first_audio": _ms(audible.start, audible.first_audio) if audible else None,
        "speech_end_to_first_audio": _ms(input_end, audible.first_audio) if audible else None,
        "total": _ms(input_end if input_end is not None else created, last_done),
    }


def _user_content(item: dict[str, Any]) -> tuple[str, bool]:
    texts: list[str] = []
    has_audio = False
    for part in item.get("content") or ():
        part = _d(part)
        if part.get("type") == "input_text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif part.get("type") == "input_audio":
            has_audio = True
            if isinstance(part.get("transcript"), str):
                texts.append(part["transcript"])
    return " ".join(texts), has_audio


def _output_status(output: str | None) -> ToolStatus:
    """``error`` when a function_call_output is a JSON object reporting an error, else ``ok``."""
    if output and output.startswith("{") and '"error"' in output:
        try:
            value = json.loads(output)
        except ValueError:
            return "ok"
        if isinstance(value, dict) and value.get("error"):
            return "error"
    return "ok"


_HANDLERS: dict[str, Callable[[TurnTracker, EventRow], _Turn | None]] = {
    "input_audio_buffer.append": TurnTracker._on_append,
    "input_audio_buffer.speech_started": TurnTracker._on_speech_started,
    "input_audio_buffer.speech_stopped": TurnTracker._on_speech_stopped,
    "input_audio_buffer.committed": TurnTracker._on_committed,
    "input_audio_buffer.commit": TurnTracker._on_commit_or_clear,
    "input_audio_buffer.clear": TurnTracker._on_commit_or_clear,
    "conversation.item.create": TurnTracker._on_item_create,
    "conversation.item.input_audio_transcription.delta": TurnTracker._on_transcription,
    "conversation.item.input_audio_transcription.completed": TurnTracker._on_transcription,
    "conversation.item.input_audio_transcription.failed": TurnTracker._on_transcription,
    "response.create": TurnTracker._on_response_create,
    "response.created": TurnTracker._on_response_created,
    "response.output_item.added": TurnTracker._on_output_item,
    "response.output_item.done": TurnTracker._on_output_item,
    "response.output_audio.delta": TurnTracker._on_audio_delta,
    "response.output_audio_transcript.delta": TurnTracker._on_text_delta,
    "response.output_text.delta": TurnTracker._on_text_delta,
    "response.output_audio_transcript.done": TurnTracker._on_text_done,
    "response.output_text.done": TurnTracker._on_text_done,
    "response.function_call_arguments.done": TurnTracker._on_arguments_done,
    "response.done": TurnTracker._on_response_done,
    "response.cancel": TurnTracker._on_cancel,
    "conversation.item.truncate": TurnTracker._on_truncate,
    "conversation.item.truncated": TurnTracker._on_truncate,
    "error": TurnTracker._on_error,
    "local.tool_call": TurnTracker._on_tool_call,
    "local.tool_result": TurnTracker._on_tool_result,
    "local.tool_error": TurnTracker._on_tool_error,
    "session.created": TurnTracker._on_session,
    "session.updated": TurnTracker._on_session,
}
_LOCAL_ERRORS = (
    "local.error", "local.callback_error", "local.widget_error", "local.connect_failed",
    "local.reconnect_failed", "local.reconnect_gave_up", "local.keepalive_timeout",
    "local.malformed_frame",
)  # fmt: skip
for _name in _LOCAL_ERRORS:
    _HANDLERS[_name] = TurnTracker._on_local


def build_turns(
    rows: Iterable[EventRow],
    *,
    played_ms: Mapping[str, float] | None = None,
    audio_for: AudioFor | None = None,
    prices: dict[str, Any] | None = None,
) -> list[TurnTimeline]:
    """Group log rows into turns (see the module docstring for what opens a turn).

    Args:
        rows: ``EventRow``s in order (``EventLog.rows``); ``t`` is seconds on the log clock.
        played_ms: assistant item id → ms the speaker actually played (the widget knows it).
            Without it, a truncated item counts as played up to its cut and others as unknown.
        audio_for: item id → the user's input audio (int16, 24 kHz) or None, for the level lane.
        prices: a price table for the cost (default :data:`realtime_nb.events.PRICES`).
    """
    tracker = TurnTracker(prices=prices)
    tracker.feed(rows)
    return tracker.timelines(played_ms=played_ms, audio_for=audio_for)


def assign_turns(rows: Iterable[EventRow]) -> dict[int, int]:
    """Row sequence number → 1-based turn number; rows before the first turn are left out."""
    tracker = TurnTracker()
    tracker.feed(rows)
    return tracker.assignment

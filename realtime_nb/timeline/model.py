"""What one turn is made of, as values: marks, spans, and the turn itself (with its JSON shape).

The JSON shape of :meth:`TurnTimeline.to_dict` is a contract with the widget's lane view
(``docs/timeline.md`` describes it); keys are never added or renamed without changing both sides.
Times are seconds on the event log's clock (``EventRow.t``), durations are milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

MarkKind = Literal[
    "speech_started",
    "speech_stopped",
    "committed",
    "response_created",
    "first_audio",
    "first_text",
    "response_done",
    "truncated",
    "cancelled",
    "error",
]
ToolStatus = Literal["ok", "error", "pending"]

#: Keys of ``latency_ms``, in the order the docs and the DataFrame use.
LATENCY_KEYS: tuple[str, ...] = (
    "speech_end_to_created",
    "created_to_first_audio",
    "speech_end_to_first_audio",
    "total",
)


def _r3(t: float | None) -> float | None:
    return None if t is None else round(t, 3)


def _r1(ms: float | None) -> float | None:
    return None if ms is None else round(ms, 1)


@dataclass(slots=True)
class Mark:
    """One instant on a turn's lanes (a VAD edge, first audio, a cut…), with the row behind it."""

    t: float
    kind: MarkKind
    label: str
    seq: int

    def to_dict(self) -> dict[str, Any]:
        return {"t": round(self.t, 3), "kind": self.kind, "label": self.label, "seq": self.seq}


@dataclass(slots=True)
class ResponseSpan:
    """One model response of a turn: created → done, its audio received and actually played."""

    response_id: str
    start: float | None  #: ``response.created``
    end: float | None = None  #: ``response.done`` (None while it runs)
    status: str | None = None
    first_audio: float | None = None
    first_text: float | None = None
    audio_received_ms: float = 0.0
    audio_played_ms: float | None = None  #: None: nobody reported what the speaker played
    truncated_at_ms: float | None = None
    output_item_ids: list[str] = field(default_factory=list)
    generated_text: str = ""  #: transcript or text of its message items, as generated
    heard_text: str = ""  #: the part heard (equals ``generated_text`` unless cut)
    usage: dict[str, Any] | None = None
    cost_usd: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "response_id": self.response_id,
            "start": _r3(self.start),
            "end": _r3(self.end),
            "status": self.status,
            "first_audio": _r3(self.first_audio),
            "audio_received_ms": round(self.audio_received_ms, 1),
            "audio_played_ms": _r1(self.audio_played_ms),
            "truncated_at_ms": _r1(self.truncated_at_ms),
            "output_item_ids": list(self.output_item_ids),
        }


@dataclass(slots=True)
class ToolSpan:
    """One function call: from the model asking (or the local call starting) to its output."""

    call_id: str
    name: str | None
    start: float
    end: float | None = None
    status: ToolStatus = "pending"
    arguments: str | None = None
    output: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            "name": self.name,
            "start": round(self.start, 3),
            "end": _r3(self.end),
            "status": self.status,
        }


@dataclass(slots=True)
class ErrorMark:
    """A server ``error``, a failed response or transcription, or a local error row."""

    t: float
    code: str | None
    message: str
    seq: int

    def to_dict(self) -> dict[str, Any]:
        return {"t": round(self.t, 3), "code": self.code, "message": self.message, "seq": self.seq}


@dataclass(slots=True)
class TurnTimeline:
    """One turn: a user input and every response, tool round and error it caused.

    Built by :func:`realtime_nb.timeline.build_turns`. ``to_dict`` is the widget's JSON shape;
    the other attributes (transcripts, usage) feed the DataFrame and the figures.
    """

    turn: int
    start: float
    end: float
    user_item_id: str | None
    user_text: str | None
    speech: list[tuple[float, float | None]]
    level: list[tuple[float, float]]
    marks: list[Mark]
    responses: list[ResponseSpan]
    tools: list[ToolSpan]
    errors: list[ErrorMark]
    latency_ms: dict[str, float | None]
    tokens: dict[str, int] | None
    cost_usd: float | None
    interrupted: bool
    seqs: tuple[int, int]
    input_end: float | None = None  #: speech stopped, input committed, or text sent
    input_kind: str | None = None  #: "speech", "push_to_talk", "text", "audio_item" or None

    @property
    def generated_text(self) -> str:
        """What the model generated in this turn (all responses, joined)."""
        return " ".join(r.generated_text for r in self.responses if r.generated_text)

    @property
    def heard_text(self) -> str:
        """What the user heard of it: cut at the truncation point where there was one."""
        return " ".join(r.heard_text for r in self.responses if r.heard_text)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready shape the widget's lane view consumes (see docs/timeline.md)."""
        return {
            "turn": self.turn,
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "user_item_id": self.user_item_id,
            "user_text": self.user_text,
            "speech": [{"start": round(a, 3), "end": _r3(b)} for a, b in self.speech],
            "level": [[round(t, 3), round(v, 4)] for t, v in self.level],
            "marks": [m.to_dict() for m in self.marks],
            "responses": [r.to_dict() for r in self.responses],
            "tools": [x.to_dict() for x in self.tools],
            "errors": [e.to_dict() for e in self.errors],
            "latency_ms": {k: _r1(self.latency_ms.get(k)) for k in LATENCY_KEYS},
            "tokens": dict(self.tokens) if self.tokens is not None else None,
            "cost_usd": self.cost_usd,
            "interrupted": self.interrupted,
            "seqs": [self.seqs[0], self.seqs[1]],
        }

"""What one case produced: the answer, the calls, the timings, the cost — the graders' input.

Pure data built from a session's conversation and event log (live or recorded), so graders and
tables never touch a socket. :func:`outcome_from` is the single place that reads a session.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .cases import Case

if TYPE_CHECKING:
    from ..conversation import Conversation
    from ..events import EventLog
    from ..recording import Recording
    from ..response import Response
    from .graders import Grade


@dataclass(slots=True)
class ToolCall:
    """A function call the model made in a case, with the output it was given (if any)."""

    name: str
    arguments: dict[str, Any] | str
    output: str | None = None

    def __str__(self) -> str:
        if isinstance(self.arguments, dict):
            args = ", ".join(f"{k}={v!r}" for k, v in self.arguments.items())
        else:
            args = self.arguments
        return f"{self.name}({args})"


@dataclass(eq=False)
class CaseOutcome:
    """Everything a case produced. Times are ms from the end of the user's turn (text sent or
    audio committed) to the final answer's ``response.created`` (``created_ms``), its first
    audio (``first_audio_ms``), its first output of any kind (``first_output_ms``) and its
    ``response.done`` (``done_ms``)."""

    case: Case
    heard: str = ""
    answer: str = ""
    status: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    created_ms: float | None = None
    first_audio_ms: float | None = None
    first_output_ms: float | None = None
    done_ms: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    cost_usd: float | None = None
    error: str | None = None
    wall_s: float = 0.0
    grades: list[Grade] = field(default_factory=list)
    recording: Recording | None = None

    @property
    def passed(self) -> bool:
        """No error, and every grader that applied passed."""
        return self.error is None and all(g.passed is not False for g in self.grades)

    def text(self, where: str) -> str:
        """``"answer"`` or ``"heard"`` (the user's words as the server transcribed them)."""
        if where == "answer":
            return self.answer
        if where == "heard":
            return self.heard
        raise ValueError(f"where must be 'answer' or 'heard', not {where!r}.")


def tool_calls_in(conversation: Conversation) -> list[ToolCall]:
    """Every ``function_call`` item in order, with its ``function_call_output`` when present."""
    items = list(conversation.items)
    outputs = {i.call_id: i.output for i in items if i.type == "function_call_output"}
    calls = []
    for item in items:
        if item.type != "function_call":
            continue
        raw = item.arguments or ""
        try:
            args: dict[str, Any] | str = json.loads(raw) if raw else {}
        except json.JSONDecodeError:
            args = raw
        calls.append(ToolCall(item.name or "", args, outputs.get(item.call_id)))
    return calls


def outcome_from(
    case: Case,
    conversation: Conversation,
    events: EventLog,
    response: Response | None,
    *,
    heard: str = "",
) -> CaseOutcome:
    """Read a finished case's session into a :class:`CaseOutcome` (no grades yet)."""
    totals = events.totals()
    timing = response.timing if response is not None else {}
    first_audio = timing.get("first_audio_ms")
    first_text = timing.get("first_text_ms")
    firsts = [t for t in (first_audio, first_text) if t is not None]
    return CaseOutcome(
        case=case,
        heard=case.text if case.text is not None else heard,
        answer=(response.transcript or response.text) if response is not None else "",
        status=response.status if response is not None else "",
        tool_calls=tool_calls_in(conversation),
        created_ms=timing.get("created_ms"),
        first_audio_ms=first_audio,
        first_output_ms=min(firsts) if firsts else None,
        done_ms=timing.get("done_ms"),
        input_tokens=int(totals.get("input_tokens") or 0),
        output_tokens=int(totals.get("output_tokens") or 0),
        total_tokens=int(totals.get("total_tokens") or 0),
        cost_usd=totals.get("cost_usd"),
    )


__all__ = ["CaseOutcome", "ToolCall", "outcome_from", "tool_calls_in"]

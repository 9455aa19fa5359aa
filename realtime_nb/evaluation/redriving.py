"""Re-drive a recording: send its user turns again to a server and compare old and new answers.

A regression test for prompts and settings: record a conversation once, change the
instructions (or the model, the voice, the server), and see per turn what the model says now.
Turns are sent as they were recorded — typed text as text, spoken audio in fixed chunks then
committed — with turn detection off, so the boundaries are the recorded ones and nothing
depends on a VAD's timing.
"""

from __future__ import annotations

import difflib
import html
import json
import os
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import UsageError
from ..models import DEFAULT_TRANSCRIPTION_MODEL
from ..protocol import deep_merge
from .outcome import ToolCall
from .results import _pandas

if TYPE_CHECKING:
    import pandas

    from ..recording import Recording

#: Session fields a recording's config carries over (the rest is the server's bookkeeping).
CARRIED_FIELDS = (
    "instructions", "output_modalities", "tools", "tool_choice", "max_output_tokens", "audio",
)  # fmt: skip


@dataclass(slots=True)
class RecordedTurn:
    """One user turn of a recording and what the model answered to it then."""

    number: int
    text: str | None
    audio: np.ndarray | None
    heard: str
    answer: str
    tool_calls: list[ToolCall] = field(default_factory=list)

    @property
    def said(self) -> str:
        if self.text is not None:
            return self.text
        ms = 0 if self.audio is None else len(self.audio) / 24
        return f"(audio {ms / 1000:.1f} s) {self.heard}".strip()


def recorded_turns(recording: Recording) -> list[RecordedTurn]:
    """The user turns of ``recording`` in conversation order, each with the answers and tool
    calls that followed it (until the next user turn). A spoken turn whose audio the recording
    does not hold is skipped together with its answers. Pure."""
    turns: list[RecordedTurn] = []
    outputs = {
        i.call_id: i.output
        for i in recording.conversation.items
        if i.type == "function_call_output"
    }
    current: RecordedTurn | None = None  # None after a user turn that cannot be sent again
    for item in recording.conversation.items:
        if item.type == "message" and item.role == "user":
            audio = None
            if item.text:
                text: str | None = item.text
            else:
                text = None
                samples = recording.item_audio(item.id)
                audio = samples if len(samples) else None
            if text is None and audio is None:
                current = None  # its audio was not kept: skipped, with the answers it got
                continue
            current = RecordedTurn(len(turns) + 1, text, audio, item.transcript, "")
            turns.append(current)
        elif current is not None and item.type == "message" and item.role == "assistant":
            said = item.transcript or item.text
            current.answer = f"{current.answer} {said}".strip()
        elif current is not None and item.type == "function_call":
            call = ToolCall(item.name or "", _args(item.arguments), outputs.get(item.call_id))
            current.tool_calls.append(call)
    return turns


def similarity(a: str, b: str) -> float:
    """Word-level similarity of two answers, 0..1 (1: the same words in the same order)."""
    wa = re.findall(r"[\w']+", a.lower())
    wb = re.findall(r"[\w']+", b.lower())
    if not wa and not wb:
        return 1.0
    return round(difflib.SequenceMatcher(a=wa, b=wb).ratio(), 3)


@dataclass(eq=False)
class Redrive:
    """Old and new answers per turn (``dataframe``), the new session as ``recording``."""

    turns: list[RecordedTurn]
    new_answers: list[str]
    new_tool_calls: list[list[ToolCall]]
    old_latency_ms: list[float | None]
    new_latency_ms: list[float | None]
    recording: Recording
    original: Recording
    same_above: float = 0.8

    @property
    def dataframe(self) -> pandas.DataFrame:
        """Per turn: what the user said, old and new answer, similarity, same?, tool calls and
        end-of-turn → first-audio latency, old and new."""
        pd = _pandas()
        rows = []
        for k, turn in enumerate(self.turns):
            new = self.new_answers[k]
            sim = similarity(turn.answer, new)
            rows.append(
                {
                    "turn": turn.number,
                    "user": turn.said,
                    "old_answer": turn.answer,
                    "new_answer": new,
                    "similarity": sim,
                    "same": sim >= self.same_above,
                    "old_tools": "; ".join(map(str, turn.tool_calls)),
                    "new_tools": "; ".join(map(str, self.new_tool_calls[k])),
                    "old_first_audio_ms": self.old_latency_ms[k],
                    "new_first_audio_ms": self.new_latency_ms[k],
                }
            )
        return pd.DataFrame(rows)

    @property
    def changed(self) -> list[int]:
        """Turn numbers whose answer or tool calls changed."""
        out = []
        for k, turn in enumerate(self.turns):
            tools_old = [str(c) for c in turn.tool_calls]
            tools_new = [str(c) for c in self.new_tool_calls[k]]
            if (
                similarity(turn.answer, self.new_answers[k]) < self.same_above
                or tools_old != tools_new
            ):
                out.append(turn.number)
        return out

    def __repr__(self) -> str:
        return (
            f"Redrive({len(self.turns)} turns, changed: "
            f"{', '.join(map(str, self.changed)) or 'none'})"
        )

    def _repr_html_(self) -> str:
        try:
            table = self.dataframe.to_html(index=False)
        except UsageError:
            table = ""
        return f"<div><b>{html.escape(repr(self))}</b>{table}</div>"


def redrive(
    recording: Recording | str | os.PathLike[str],
    session: dict[str, Any] | None = None,
    *,
    url: str | None = None,
    chunk_ms: float = 100.0,
    timeout: float = 120.0,
    transcription: str | None = DEFAULT_TRANSCRIPTION_MODEL,
    server_options: dict[str, Any] | None = None,
    same_above: float = 0.8,
    **connect_options: Any,
) -> Redrive:
    """Send ``recording``'s user turns again, in order, and compare the answers with the old.

    ``session`` fields override the recorded config (``{"instructions": "…"}``); turn
    detection is always off. Offline (no key, no ``url``) a stand-in answers. ``tools=[fn]``
    and other keywords go to the session. Blocking; ``timeout`` bounds the whole re-drive.
    """
    from ..recording import Recording, load
    from ..sync import Session

    old = recording if isinstance(recording, Recording) else load(recording)
    turns = recorded_turns(old)
    if not turns:
        raise UsageError("The recording has no user turn to send again (no text or audio kept).")
    carried = {k: v for k, v in old.session_config.items() if k in CARRIED_FIELDS}
    config = _with_overrides(carried, session or {}, connect_options.get("tools") or ())
    audio_in = config.setdefault("audio", {}).setdefault("input", {})
    audio_in["turn_detection"] = None
    if transcription and "transcription" not in (session or {}).get("audio", {}).get("input", {}):
        audio_in["transcription"] = audio_in.get("transcription") or {"model": transcription}
    model = connect_options.pop("model", None) or old.model
    opts: dict[str, Any] = {"server_options": server_options} if server_options else {}
    if model:
        opts["model"] = model
    with Session(url, session=config, timeout=timeout, **opts, **connect_options) as s:
        for turn in turns:
            if turn.text is not None:
                s.ask(turn.text)
            else:
                s.send_audio(turn.audio, 24_000, chunk_ms=chunk_ms)
                s.commit()
                s.ask()
        new = Recording.from_session(s)
    # the new answers are read exactly as the old ones: every answer and call of a turn
    again = recorded_turns(new)
    again += [RecordedTurn(len(again) + 1, None, None, "", "")] * (len(turns) - len(again))
    return Redrive(
        turns=turns,
        new_answers=[t.answer for t in again[: len(turns)]],
        new_tool_calls=[t.tool_calls for t in again[: len(turns)]],
        old_latency_ms=_latencies(old, len(turns)),
        new_latency_ms=_latencies(new, len(turns)),
        recording=new,
        original=old,
        same_above=same_above,
    )


def _args(raw: str | None) -> dict[str, Any] | str:
    try:
        value = json.loads(raw or "{}")
    except json.JSONDecodeError:
        return raw or ""
    return value if isinstance(value, dict) else str(raw)


def _with_overrides(
    carried: dict[str, Any], overrides: dict[str, Any], tools: Any
) -> dict[str, Any]:
    config = deep_merge(carried, overrides)
    names = {getattr(t, "__name__", None) for t in tools}
    if names and isinstance(config.get("tools"), list):
        # the Python tools given now declare themselves; drop their recorded declarations
        config["tools"] = [t for t in config["tools"] if t.get("name") not in names]
        if not config["tools"]:
            del config["tools"]
    return config


def _latencies(recording: Recording, n: int) -> list[float | None]:
    """End of each user turn → first audio, from the recording's turn timeline (by index)."""
    out: list[float | None] = []
    for turn in recording.timeline():
        if turn.user_item_id is not None:
            out.append(turn.latency_ms.get("speech_end_to_first_audio"))
    out = out[:n]
    return out + [None] * (n - len(out))


__all__ = ["CARRIED_FIELDS", "RecordedTurn", "Redrive", "recorded_turns", "redrive", "similarity"]

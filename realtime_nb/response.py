"""One model response as a value: what ``ask`` returns, assembled from the conversation state.

Pure: built from :class:`~realtime_nb.conversation.Conversation` and times passed in.
"""

from __future__ import annotations

import html
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import audio as audio_mod
from .conversation import Conversation
from .events.summaries import printable

#: Statuses that are an ordinary end of a response (``ask`` returns them; ``failed`` raises).
OK_STATUSES = frozenset({"completed"})


@dataclass(slots=True)
class Response:
    """The outcome of one model response, as :meth:`RealtimeSession.ask` returns it.

    ``status`` is ``completed``, ``cancelled`` (barge-in, ``cancel_response``) or ``incomplete``
    (``status_details.reason``: ``max_output_tokens`` or ``content_filter``); a ``failed``
    response raises :class:`~realtime_nb.errors.ResponseFailed` instead. ``audio`` is int16 PCM at
    24 kHz; ``timing`` holds milliseconds from the request: ``created_ms`` (response.created),
    ``first_audio_ms``, ``first_text_ms``, ``done_ms``.
    """

    id: str
    status: str
    status_details: dict[str, Any] | None
    text: str
    transcript: str
    audio: np.ndarray
    usage: dict[str, Any] | None
    function_calls: list[dict[str, Any]] = field(default_factory=list)
    timing: dict[str, float | None] = field(default_factory=dict)
    sample_rate: int = audio_mod.SAMPLE_RATE

    @property
    def ok(self) -> bool:
        """True when the response completed (not cancelled, incomplete or failed)."""
        return self.status in OK_STATUSES

    @property
    def audio_ms(self) -> float:
        return len(self.audio) * 1000 / self.sample_rate

    def save_wav(self, path: str | os.PathLike[str]) -> Path:
        """Write the response's audio to a 24 kHz mono WAV file and return its path."""
        audio_mod.write_wav(path, self.audio, self.sample_rate)
        return Path(path)

    def _lines(self) -> list[tuple[str, str]]:
        """(label, text) pairs for the reprs: what was said, tool calls, timing, usage."""
        said = self.text or self.transcript
        out: list[tuple[str, str]] = [("said", repr(_clip(said)) if said else "(nothing)")]
        for call in self.function_calls:
            out.append(("tool call", f"{call.get('name')}({_clip(call.get('arguments') or '')})"))
        timing = [
            f"{label} {self.timing[key]:,.0f} ms"
            for key, label in (("created_ms", "created"), ("first_audio_ms", "first audio"),
                               ("first_text_ms", "first text"), ("done_ms", "done"))
            if self.timing.get(key) is not None
        ]  # fmt: skip
        if timing:
            out.append(("timing", " · ".join(timing)))
        if self.usage:
            out.append(
                ("tokens", f"{self.usage.get('input_tokens', 0)} in, "
                           f"{self.usage.get('output_tokens', 0)} out")
            )  # fmt: skip
        return out

    def _headline(self) -> str:
        bits = [f"Response {self.id}", self.status]
        if self.status_details and self.status != "completed":
            reason = self.status_details.get("reason") or self.status_details.get("type")
            if reason:
                bits[-1] += f" ({reason})"
        if self.audio.size:
            bits.append(f"{self.audio_ms / 1000:.1f} s audio")
        return " · ".join(bits)

    def __repr__(self) -> str:
        """A few lines: id and status, what was said, tool calls, timing and tokens."""
        lines = [self._headline()]
        lines += [f"  {label}: {text}" for label, text in self._lines()]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        esc = html.escape
        cell = "padding:1px 8px;vertical-align:top"
        rows = "".join(
            f"<tr><td style='{cell};opacity:.7'>{esc(label)}</td><td style='{cell}'>"
            f"{esc(text)}</td></tr>"
            for label, text in self._lines()
        )
        audio = ""
        if self.audio.size:
            audio = (
                "<div style='opacity:.7'>listen: "
                "<code>IPython.display.Audio(r.audio, rate=24000)</code></div>"
            )
        return printable(
            "<div style='font-size:13px;color:inherit'>"
            f"<div><b>{esc(self._headline())}</b></div>"
            f"<table style='border-collapse:collapse;color:inherit'>{rows}</table>{audio}</div>"
        )


def _clip(text: str, n: int = 120) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= n else text[: n - 1] + "…"


def build_response(
    conversation: Conversation,
    response_id: str,
    *,
    t_start: float | None = None,
    done: dict[str, Any] | None = None,
) -> Response:
    """Assemble a :class:`Response` from the conversation state (and its ``response.done``)."""
    state = conversation.responses.get(response_id)
    body = (done or {}).get("response")
    body = body if isinstance(body, dict) else {}
    text, transcript, pcm = conversation.response_output(response_id)
    calls = []
    for item_id in state.output_item_ids if state else []:
        item = conversation.item(item_id)
        if item is not None and item.type == "function_call":
            calls.append(
                {"name": item.name, "call_id": item.call_id, "arguments": item.arguments,
                 "item_id": item.id}
            )  # fmt: skip
    timing: dict[str, float | None] = {}
    if state is not None and t_start is not None:
        for key, t in (
            ("created_ms", state.created_t),
            ("first_audio_ms", state.first_audio_t),
            ("first_text_ms", state.first_text_t),
            ("done_ms", state.done_t),
        ):
            timing[key] = None if t is None else round((t - t_start) * 1000, 2)
    return Response(
        id=response_id,
        status=(state.status if state else body.get("status")) or "unknown",
        status_details=state.status_details if state else body.get("status_details"),
        text=text,
        transcript=transcript,
        audio=pcm,
        usage=state.usage if state else body.get("usage"),
        function_calls=calls,
        timing=timing,
    )

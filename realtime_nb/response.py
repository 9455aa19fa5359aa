"""One model response as a value: what ``ask`` returns, assembled from the conversation state.

Pure: built from :class:`~realtime_nb.conversation.Conversation` and times passed in.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import audio as audio_mod
from .conversation import Conversation

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

    def __repr__(self) -> str:
        said = self.text or self.transcript
        extra = ""
        if self.status_details and self.status != "completed":
            reason = self.status_details.get("reason") or self.status_details.get("type")
            extra = f", reason={reason!r}" if reason else ""
        return (
            f"Response(id={self.id!r}, status={self.status!r}{extra}, said={said[:60]!r}, "
            f"audio_ms={self.audio_ms:.0f}, function_calls={len(self.function_calls)})"
        )


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

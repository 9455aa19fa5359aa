"""What the stand-in sends for input transcription: deltas, usage and logprobs per model.

Why: clients bill and display transcription from these events, so their shapes must follow the
transcription model the session names, as the service's do:

- **usage** — per-minute models (``whisper-1``, ``gpt-transcribe``, ``gpt-live-transcribe``,
  ``gpt-realtime-whisper``) report ``{"type": "duration", "seconds"}``; token-billed models
  (``gpt-4o-transcribe``, ``gpt-4o-mini-transcribe`` and the diarize variant) report
  ``{"type": "tokens", ...}`` with the audio counted at the stand-in's input-audio token rate.
- **deltas** — ``whisper-1`` sends the whole text as one delta; the streaming models send one
  delta per word.
- **logprobs** — only when the session's ``include`` asks for
  ``item.input_audio_transcription.logprobs``, and only with a transcriber that measures them
  (the pocketsphinx :class:`~realtime_nb.server.speech.Heard` words: natural log of each word's
  posterior). A transcriber that knows no probabilities gets ``logprobs: null`` rather than
  invented confidence.
- **no model named** — the service's choice is not documented; the stand-in answers as
  :data:`~realtime_nb.models.DEFAULT_TRANSCRIPTION_MODEL` (``gpt-transcribe``).
- **languages** — ``gpt-transcribe`` reports the detected languages; the stand-in's model is
  English only, so it says ``[{"code": "en"}]`` when it heard words and ``[]`` when not.
"""

from __future__ import annotations

import math
from typing import Any

from ..models import DEFAULT_TRANSCRIPTION_MODEL, model_info
from .usage import input_audio_tokens, text_tokens

__all__ = [
    "LOGPROBS_INCLUDE",
    "TranscriptPiece",
    "languages",
    "transcript_pieces",
    "transcription_usage",
]

LOGPROBS_INCLUDE = "item.input_audio_transcription.logprobs"
_SMALLEST_PROBABILITY = 1e-12  # log(0) is not JSON; a word the decoder gave up on
_LANGUAGE_MODELS = frozenset({"gpt-transcribe"})


def _billed_by_duration(model: str) -> bool:
    info = model_info(model)
    if info is not None and info.per_minute:
        return True
    return "whisper" in model or model in {"gpt-transcribe", "gpt-live-transcribe"}


def transcription_usage(model: str | None, seconds: float, text: str) -> dict[str, Any]:
    """The ``usage`` of a ``…input_audio_transcription.completed`` event for ``model``."""
    model = model or DEFAULT_TRANSCRIPTION_MODEL
    if _billed_by_duration(model):
        return {"type": "duration", "seconds": round(seconds, 3)}
    audio = input_audio_tokens(seconds * 1000)
    output = text_tokens(text)
    return {
        "type": "tokens",
        "input_tokens": audio,
        "output_tokens": output,
        "total_tokens": audio + output,
        "input_token_details": {"text_tokens": 0, "audio_tokens": audio},
    }


def _logprob(token: str, probability: float) -> dict[str, Any]:
    return {
        "token": token,
        "bytes": list(token.encode("utf-8")),
        "logprob": round(math.log(max(probability, _SMALLEST_PROBABILITY)), 6),
    }


class TranscriptPiece:
    """One delta's text and (when measured and asked for) its logprobs."""

    __slots__ = ("logprobs", "text")

    def __init__(self, text: str, logprobs: list[dict[str, Any]] | None) -> None:
        self.text = text
        self.logprobs = logprobs


def transcript_pieces(
    model: str | None, heard: str, *, want_logprobs: bool
) -> tuple[list[TranscriptPiece], list[dict[str, Any]] | None]:
    """The deltas to send for ``heard`` and the completed event's ``logprobs``."""
    model = model or DEFAULT_TRANSCRIPTION_MODEL
    words: tuple[tuple[str, float], ...] = getattr(heard, "words", ())
    measured = want_logprobs and bool(words)
    if model == "whisper-1" or not heard:
        logprobs = (
            [_logprob(w if i == 0 else " " + w, p) for i, (w, p) in enumerate(words)]
            if measured
            else None
        )
        return [TranscriptPiece(str(heard), logprobs)], logprobs
    spoken = str(heard).split()
    if measured and [w for w, _ in words] != [w.lower() for w in spoken]:
        measured = False  # the decoder's words do not line up with the text: claim nothing
    pieces: list[TranscriptPiece] = []
    everything: list[dict[str, Any]] = []
    for i, word in enumerate(spoken):
        token = word if i == 0 else " " + word
        logprobs = [_logprob(token, words[i][1])] if measured else None
        if logprobs:
            everything.extend(logprobs)
        pieces.append(TranscriptPiece(token, logprobs))
    return pieces, (everything if measured else None)


def languages(model: str | None, heard: str) -> list[dict[str, str]] | None:
    """``languages`` for models that report them (None: leave the field out)."""
    if (model or DEFAULT_TRANSCRIPTION_MODEL) not in _LANGUAGE_MODELS:
        return None
    return [{"code": "en"}] if heard.strip() else []

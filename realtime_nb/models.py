"""The model table: every Realtime and transcription model we know, as data.

One place answers "what is this model?": its family, context window, largest reply, whether it
takes ``reasoning.effort``, when it shuts down and what replaces it, and its prices. The client
(default model, shutdown warning), the cost columns of :class:`~realtime_nb.events.EventLog`
and the stand-in server (which models it admits, who may set reasoning) all read it.

Where the facts come from:

- Names: the ``model`` Literal of openai-python 3.57.0 (``RealtimeSessionCreateRequest`` for
  sessions, ``AudioTranscription`` for transcription); a test keeps the two in step.
- Shutdown dates: the "Deprecated values" docstrings of those same two SDK fields (2027-01-20
  for the realtime models, 2027-02-26 for the transcription ones). The SDK names no
  replacement; ours are suggestions (the current model of the same size; openai-agents moved its
  default to ``gpt-realtime-2`` in 2026-05). The SDK does not list the ``-2025-10-06`` mini
  snapshots, so they carry no date here. The ``gpt-4o-*-realtime-preview`` model pages say
  "shut down" without a date.
- Context window, largest reply, reasoning, prices: the public model pages on
  developers.openai.com (gpt-realtime-1.5, -2, -2.1, -2.1-mini, gpt-realtime-whisper,
  gpt-live-transcribe, gpt-transcribe), as summarised in the project's protocol notes (usage
  and prices; the 2026-12-03 update). ``gpt-realtime``'s audio rates and all of
  ``gpt-realtime-mini``'s were read off other models' pages and are UNCONFIRMED there.
  Reasoning tokens are billed inside output text tokens. The 2.x pages say "Reasoning model";
  -2 and -2.1 say "configurable reasoning effort", -2.1-mini "Reasoning token support".

Prices are USD per 1M tokens under the keys ``text_in``, ``text_cached``, ``text_out``,
``audio_in``, ``audio_cached``, ``audio_out``, ``image_in``, ``image_cached``; transcription
models billed by duration have ``audio_minute`` (USD per minute of audio). Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from typing import Literal

Family = Literal["realtime", "realtime-preview", "audio", "transcription"]

#: ``reasoning.effort`` values (SDK ``RealtimeReasoningEffort``).
REASONING_EFFORTS: tuple[str, ...] = ("minimal", "low", "medium", "high", "xhigh")

REALTIME_SHUTDOWN = date(2027, 1, 20)
TRANSCRIPTION_SHUTDOWN = date(2027, 2, 26)


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """One model. ``None`` means "not known", never "none"."""

    name: str
    family: Family
    context_window: int | None = None
    max_output_tokens: int | None = None
    reasoning: bool = False  #: accepts ``reasoning: {"effort": …}`` on session and response
    shutdown: date | None = None  #: announced shutdown date
    retired: bool = False  #: already shut down (no date recorded)
    replacement: str | None = None
    prices: dict[str, float] | None = None
    snapshot_of: str | None = None  #: the alias this dated snapshot belongs to

    @property
    def per_minute(self) -> bool:
        """Billed by audio duration (``usage.type == "duration"``), not by tokens."""
        return self.prices is not None and "audio_minute" in self.prices


def _rates(
    text: tuple[float, float, float],
    audio: tuple[float, float, float] | None = None,
    image: tuple[float, float] | None = None,
) -> dict[str, float]:
    """Rates from (in, cached, out) triples, per 1M tokens."""
    out = dict(zip(("text_in", "text_cached", "text_out"), text, strict=True))
    if audio is not None:
        out.update(zip(("audio_in", "audio_cached", "audio_out"), audio, strict=True))
    if image is not None:
        out.update(zip(("image_in", "image_cached"), image, strict=True))
    return out


GPT_REALTIME_2_PRICES = _rates((4.00, 0.40, 24.00), (32.00, 0.40, 64.00), (5.00, 0.50))
GPT_REALTIME_PRICES = _rates((4.00, 0.40, 16.00), (32.00, 0.40, 64.00), (5.00, 0.50))
MINI_PRICES = _rates((0.60, 0.06, 2.40), (10.00, 0.30, 20.00))
MINI_2_1_PRICES = _rates((0.60, 0.06, 2.40), (10.00, 0.30, 20.00), (0.80, 0.08))
PREVIEW_PRICES = _rates((5.00, 2.50, 20.00), (40.00, 2.50, 80.00))
PREVIEW_MINI_PRICES = _rates((0.60, 0.30, 2.40), (10.00, 0.30, 20.00))

_BASES: tuple[ModelInfo, ...] = (
    # --- current speech-to-speech models ------------------------------------------------------
    ModelInfo("gpt-realtime-2", "realtime", 128_000, 32_000, True, prices=GPT_REALTIME_2_PRICES),
    ModelInfo("gpt-realtime-2.1", "realtime", 128_000, 32_000, True, prices=GPT_REALTIME_2_PRICES),
    ModelInfo("gpt-realtime-2.1-mini", "realtime", 128_000, 32_000, True, prices=MINI_2_1_PRICES),
    ModelInfo("gpt-realtime-1.5", "realtime", 32_000, 4_096, prices=GPT_REALTIME_PRICES),
    ModelInfo("gpt-audio-1.5", "audio"),
    # --- announced for shutdown on 2027-01-20 -------------------------------------------------
    ModelInfo(
        "gpt-realtime", "realtime", 32_000, 4_096, shutdown=REALTIME_SHUTDOWN,
        replacement="gpt-realtime-2", prices=GPT_REALTIME_PRICES,
    ),
    ModelInfo(
        "gpt-realtime-mini", "realtime", 32_000, 4_096, shutdown=REALTIME_SHUTDOWN,
        replacement="gpt-realtime-2.1-mini", prices=MINI_PRICES,
    ),
    ModelInfo(
        "gpt-audio-mini", "audio", shutdown=REALTIME_SHUTDOWN, replacement="gpt-realtime-2.1-mini"
    ),
    # --- shut down (beta-era previews) --------------------------------------------------------
    ModelInfo(
        "gpt-4o-realtime-preview", "realtime-preview", 32_000, 4_096, retired=True,
        replacement="gpt-realtime-2", prices=PREVIEW_PRICES,
    ),
    ModelInfo(
        "gpt-4o-mini-realtime-preview", "realtime-preview", 16_000, 4_096, retired=True,
        replacement="gpt-realtime-2.1-mini", prices=PREVIEW_MINI_PRICES,
    ),
    # --- input transcription ------------------------------------------------------------------
    ModelInfo("gpt-transcribe", "transcription", prices={"audio_minute": 0.0045}),
    ModelInfo("gpt-live-transcribe", "transcription", prices={"audio_minute": 0.017}),
    ModelInfo(
        "gpt-realtime-whisper", "transcription", 16_000, 2_000, prices={"audio_minute": 0.017}
    ),
    ModelInfo(
        "whisper-1", "transcription", shutdown=TRANSCRIPTION_SHUTDOWN, replacement="gpt-transcribe"
    ),
    ModelInfo(
        "gpt-4o-transcribe", "transcription", shutdown=TRANSCRIPTION_SHUTDOWN,
        replacement="gpt-transcribe",
    ),
    ModelInfo(
        "gpt-4o-mini-transcribe", "transcription", shutdown=TRANSCRIPTION_SHUTDOWN,
        replacement="gpt-transcribe",
    ),
    # no replacement named for speaker labels
    ModelInfo("gpt-4o-transcribe-diarize", "transcription", shutdown=TRANSCRIPTION_SHUTDOWN),
)  # fmt: skip

#: Dated snapshots: (name, alias, whether the SDK lists it for shutdown).
_SNAPSHOTS: tuple[tuple[str, str, bool], ...] = (
    ("gpt-realtime-2025-08-28", "gpt-realtime", True),
    ("gpt-realtime-mini-2025-10-06", "gpt-realtime-mini", False),
    ("gpt-realtime-mini-2025-12-15", "gpt-realtime-mini", True),
    ("gpt-audio-mini-2025-10-06", "gpt-audio-mini", False),
    ("gpt-audio-mini-2025-12-15", "gpt-audio-mini", True),
    ("gpt-4o-realtime-preview-2024-10-01", "gpt-4o-realtime-preview", True),
    ("gpt-4o-realtime-preview-2024-12-17", "gpt-4o-realtime-preview", True),
    ("gpt-4o-realtime-preview-2025-06-03", "gpt-4o-realtime-preview", True),
    ("gpt-4o-mini-realtime-preview-2024-12-17", "gpt-4o-mini-realtime-preview", True),
    ("gpt-4o-mini-transcribe-2025-12-15", "gpt-4o-mini-transcribe", True),
)


def _snapshot(name: str, alias: str, dated: bool) -> ModelInfo:
    base = next(m for m in _BASES if m.name == alias)
    if dated:
        return dataclasses.replace(base, name=name, snapshot_of=alias)
    return dataclasses.replace(base, name=name, snapshot_of=alias, shutdown=None, replacement=None)


#: Every known model by name.
MODELS: dict[str, ModelInfo] = {m.name: m for m in (*_BASES, *(_snapshot(*s) for s in _SNAPSHOTS))}

#: Models a ``/v1/realtime?model=…`` connection may name (the SDK's session ``model`` Literal).
REALTIME_MODELS: frozenset[str] = frozenset(
    name for name, m in MODELS.items() if m.family != "transcription"
)
#: Models ``audio.input.transcription.model`` may name.
TRANSCRIPTION_MODELS: frozenset[str] = frozenset(
    name for name, m in MODELS.items() if m.family == "transcription"
)

#: The model new sessions use: the newest full-size realtime model with no shutdown announced.
#: ``gpt-realtime`` (the old default) shuts down on 2027-01-20; ``gpt-realtime-2`` is the one
#: the SDK's docstrings name as the example reasoning model and openai-agents' default.
DEFAULT_MODEL = "gpt-realtime-2"
#: The input-transcription model offered by default: the SDK's named replacement for whisper-1
#: and gpt-4o(-mini)-transcribe (both shut down 2027-02-26).
DEFAULT_TRANSCRIPTION_MODEL = "gpt-transcribe"


def strip_snapshot(model: str) -> str:
    """``gpt-realtime-2025-08-28`` → ``gpt-realtime`` (drop a trailing ``-YYYY-MM-DD``)."""
    parts = model.rsplit("-", 3)
    if len(parts) == 4 and all(p.isdigit() for p in parts[1:]) and len(parts[1]) == 4:
        return parts[0]
    return model


def model_info(model: str | None) -> ModelInfo | None:
    """The table entry for ``model``; an unknown dated snapshot falls back to its alias."""
    if model is None:
        return None
    return MODELS.get(model) or MODELS.get(strip_snapshot(model))


def supports_reasoning(model: str | None) -> bool | None:
    """Whether ``model`` takes ``reasoning.effort``; None when the model is not in the table
    (an Azure deployment name, a model newer than this table)."""
    info = model_info(model)
    return None if info is None else info.reasoning


def shutdown_notice(model: str | None, today: date) -> str | None:
    """A one-line warning when ``model`` is shut down or has a shutdown date; else None.

    ``today`` is passed in (the core reads no clock). Unknown models get no notice.
    """
    info = model_info(model)
    if info is None or (info.shutdown is None and not info.retired):
        return None
    instead = f" Use '{info.replacement}' instead." if info.replacement else ""
    if info.shutdown is None:  # retired, date not recorded
        return f"Model '{model}' has been shut down.{instead}"
    when = info.shutdown.isoformat()
    if today >= info.shutdown:
        return f"Model '{model}' was shut down on {when}.{instead}"
    days = (info.shutdown - today).days
    unit = "day" if days == 1 else "days"
    return f"Model '{model}' shuts down on {when} (in {days} {unit}).{instead}"


__all__ = [
    "DEFAULT_MODEL",
    "MODELS",
    "REALTIME_MODELS",
    "REASONING_EFFORTS",
    "TRANSCRIPTION_MODELS",
    "ModelInfo",
    "model_info",
    "shutdown_notice",
    "strip_snapshot",
    "supports_reasoning",
]

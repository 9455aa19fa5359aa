"""The audio formats of the Realtime API: names, wire rates, bytes per millisecond."""

from __future__ import annotations

import math
from typing import Any, Literal, cast

from ..errors import AudioFormatError
from ..protocol import SAMPLE_RATE

G711_RATE: int = 8_000
"""The rate of G.711 mu-law and A-law audio."""
PCM16_BYTES_PER_MS: int = SAMPLE_RATE * 2 // 1000
"""24 kHz × 2 bytes / 1000 = 48."""
G711_BYTES_PER_MS: int = G711_RATE * 1 // 1000
"""8 kHz × 1 byte / 1000."""
MAX_SAMPLE_RATE: int = 384_000
"""Highest input rate accepted; anything above is almost surely a wrong argument."""

AudioFormatName = Literal["pcm16", "g711_ulaw", "g711_alaw"]

_BYTES_PER_MS: dict[str, int] = {
    "pcm16": PCM16_BYTES_PER_MS,
    "g711_ulaw": G711_BYTES_PER_MS,
    "g711_alaw": G711_BYTES_PER_MS,
}
_BYTES_PER_SAMPLE: dict[str, int] = {"pcm16": 2, "g711_ulaw": 1, "g711_alaw": 1}
_GA_TYPES: dict[str, AudioFormatName] = {
    "audio/pcm": "pcm16",
    "audio/pcmu": "g711_ulaw",
    "audio/pcma": "g711_alaw",
}

# ---------------------------------------------------------------------------------------------
# Formats and sizes


def format_name(fmt: dict[str, Any] | str | None) -> AudioFormatName:
    """Map a GA format object or a beta format string to the beta name used in this package.

    ``{"type": "audio/pcm", "rate": 24000}`` → ``"pcm16"``, ``{"type": "audio/pcmu"}`` →
    ``"g711_ulaw"``, ``{"type": "audio/pcma"}`` → ``"g711_alaw"``; the beta strings (and the GA
    type strings) pass through; None means the default, ``"pcm16"``.

    Raises:
        AudioFormatError: for an unknown format, or ``audio/pcm`` at a rate other than 24000.
    """
    if fmt is None:
        return "pcm16"
    if isinstance(fmt, str):
        if fmt in _BYTES_PER_MS:
            return cast(AudioFormatName, fmt)
        if fmt in _GA_TYPES:
            return _GA_TYPES[fmt]
        raise AudioFormatError(
            f"Unknown audio format {fmt!r}; use 'pcm16', 'g711_ulaw' or 'g711_alaw' "
            "(or a GA format object such as {'type': 'audio/pcm', 'rate': 24000})."
        )
    if isinstance(fmt, dict):
        type_ = fmt.get("type")
        name = _GA_TYPES.get(type_) if isinstance(type_, str) else None
        if name is None:
            raise AudioFormatError(
                f"Unknown audio format object {fmt!r}; its 'type' must be 'audio/pcm', "
                "'audio/pcmu' or 'audio/pcma'."
            )
        rate = fmt.get("rate")
        if name == "pcm16" and rate is not None and rate != SAMPLE_RATE:
            raise AudioFormatError(
                f"audio/pcm at rate {rate!r} is not supported; the Realtime API uses "
                f"{SAMPLE_RATE} Hz. Resample with resample(samples, {rate!r}, {SAMPLE_RATE})."
            )
        return name
    raise AudioFormatError(
        f"An audio format must be a string, a dict or None, not {type(fmt).__name__}."
    )


def bytes_per_ms(fmt: AudioFormatName = "pcm16") -> int:
    """Return how many wire bytes one millisecond of audio takes in ``fmt`` (48 or 8)."""
    return _BYTES_PER_MS[format_name(fmt)]


def bytes_to_ms(nbytes: int, fmt: AudioFormatName = "pcm16") -> float:
    """Return the duration in ms of ``nbytes`` wire bytes in ``fmt``."""
    return nbytes / bytes_per_ms(fmt)


def ms_to_bytes(ms: float, fmt: AudioFormatName = "pcm16") -> int:
    """Return the byte count of ``ms`` milliseconds, floored to whole samples (even for pcm16).

    Raises:
        AudioFormatError: if ``ms`` is negative or not finite.
    """
    name = format_name(fmt)
    if not math.isfinite(ms) or ms < 0:
        raise AudioFormatError(f"A duration must be a finite number of ms >= 0, not {ms!r}.")
    per_sample = _BYTES_PER_SAMPLE[name]
    samples_per_ms = _BYTES_PER_MS[name] // per_sample
    # The epsilon keeps e.g. 0.35 ms * 24 (= 8.399999...) from losing a sample to float error.
    return math.floor(ms * samples_per_ms + 1e-9) * per_sample

"""An energy voice-activity detector standing in for the service's server VAD. Pure: no clock.

The detector reads 24 kHz int16 PCM in 10 ms frames and calls a frame *voiced* when its RMS
(full scale = 1.0) reaches the level derived from the API's ``threshold`` (0..1):

    level_dBFS = -70 + 60 * threshold        level = 10 ** (level_dBFS / 20)

so the default 0.5 means -40 dBFS: normal speech (about -20 dBFS RMS) is well above it and a
-60 dBFS noise floor is well below it; 0.0 means -70 dBFS (nearly anything), 1.0 -10 dBFS (only
shouting). The real service uses a neural VAD; only its parameters and event timing are copied.

Timing (all positions are samples since the session's first appended audio, at 24 kHz):

- Speech starts when :data:`MIN_SPEECH_MS` of consecutive voiced frames are seen; its onset is
  the first frame of that run, and ``audio_start_ms = max(onset - prefix_padding_ms,
  buffer_start)``.
- Speech stops after ``silence_duration_ms`` of consecutive unvoiced frames;
  ``audio_end_ms`` is where that silence began (the end of the last voiced frame). ``at`` is
  where the silence run completed: the point the server commits at.

``semantic_vad`` has no semantic model here: it is the same detector, with the silence needed
to end a turn taken from ``eagerness`` (:data:`EAGERNESS_SILENCE_MS`), an approximation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ..audio import SAMPLE_RATE, frame_energy

FRAME_MS = 10
FRAME_SAMPLES = SAMPLE_RATE * FRAME_MS // 1000
#: Consecutive voiced audio needed before speech is reported (rejects clicks).
MIN_SPEECH_MS = 30
#: Silence that ends a turn for ``semantic_vad``, by eagerness (an approximation).
EAGERNESS_SILENCE_MS = {"high": 200, "medium": 500, "auto": 500, "low": 800}


def threshold_to_level(threshold: float) -> float:
    """The RMS level (full scale 1.0) that the API's 0..1 ``threshold`` stands for."""
    return float(10 ** ((-70.0 + 60.0 * float(threshold)) / 20.0))


@dataclass(frozen=True, slots=True)
class VadSettings:
    threshold: float = 0.5
    prefix_padding_ms: int = 300
    silence_duration_ms: int = 200

    @classmethod
    def from_turn_detection(cls, td: dict[str, Any]) -> VadSettings:
        """Settings for a GA ``turn_detection`` object (``server_vad`` or ``semantic_vad``)."""
        if td.get("type") == "semantic_vad":
            silence = EAGERNESS_SILENCE_MS.get(str(td.get("eagerness") or "auto"), 500)
            return cls(0.5, 300, silence)
        return cls(
            float(td.get("threshold", 0.5)),
            int(td.get("prefix_padding_ms", 300)),
            int(td.get("silence_duration_ms", 200)),
        )


@dataclass(frozen=True, slots=True)
class VadEvent:
    """``kind="start"``: ``sample`` = audio start (onset minus padding, clamped).
    ``kind="stop"``: ``sample`` = where silence began, ``at`` = where the silence run completed."""

    kind: Literal["start", "stop"]
    sample: int
    at: int


class EnergyVad:
    """Frame-energy VAD over a continuous stream; feed PCM, get start/stop events."""

    def __init__(self, settings: VadSettings | None = None, position: int = 0) -> None:
        self.settings = settings or VadSettings()
        self._level = threshold_to_level(self.settings.threshold)
        self._origin = position  # sample index of the first unprocessed frame
        self._rest = np.zeros(0, np.int16)
        self.speaking = False
        self._run_start: int | None = None  # first voiced frame of the current voiced run
        self._silence_start: int | None = None
        self.buffer_start = position

    @property
    def position(self) -> int:
        """Samples fed so far (including a partial frame not yet judged)."""
        return self._origin + len(self._rest)

    def configure(self, settings: VadSettings) -> None:
        self.settings = settings
        self._level = threshold_to_level(settings.threshold)

    def reset(self, position: int | None = None) -> None:
        """Forget any speech in progress; the buffer (and the next frame) starts at ``position``."""
        pos = self.position if position is None else position
        self._origin = pos
        self._rest = np.zeros(0, np.int16)
        self.speaking = False
        self._run_start = None
        self._silence_start = None
        self.buffer_start = pos

    def feed(self, pcm: np.ndarray) -> list[VadEvent]:
        """Process more 24 kHz int16 PCM; return the start/stop events it completes, in order."""
        data = np.concatenate([self._rest, np.asarray(pcm, np.int16)]) if len(self._rest) else pcm
        rms = frame_energy(data, FRAME_SAMPLES)
        n = len(rms)
        self._rest = np.array(data[n * FRAME_SAMPLES :], np.int16)
        events: list[VadEvent] = []
        min_speech = max(1, MIN_SPEECH_MS // FRAME_MS)
        silence_frames = max(1, -(-self.settings.silence_duration_ms // FRAME_MS))
        for i in range(n):
            start = self._origin + i * FRAME_SAMPLES
            end = start + FRAME_SAMPLES
            voiced = bool(rms[i] >= self._level)
            if not self.speaking:
                if voiced:
                    if self._run_start is None:
                        self._run_start = start
                    if (end - self._run_start) // FRAME_SAMPLES >= min_speech:
                        self.speaking = True
                        pad = self.settings.prefix_padding_ms * SAMPLE_RATE // 1000
                        begin = max(self._run_start - pad, self.buffer_start)
                        events.append(VadEvent("start", begin, end))
                        self._silence_start = None
                else:
                    self._run_start = None
            elif voiced:
                self._silence_start = None
            else:
                if self._silence_start is None:
                    self._silence_start = start
                if (end - self._silence_start) // FRAME_SAMPLES >= silence_frames:
                    events.append(VadEvent("stop", self._silence_start, end))
                    self.speaking = False
                    self._run_start = None
                    self._silence_start = None
                    self.buffer_start = end
        self._origin += n * FRAME_SAMPLES
        return events

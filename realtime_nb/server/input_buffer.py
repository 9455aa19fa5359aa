"""The input audio buffer and its VAD turns: what was appended and not yet committed.

Positions are samples at 24 kHz counted from the first appended audio, whatever the input
format (G.711 at 8 kHz counts three positions per sample, which keeps the energy VAD's timing
right). The buffer keeps the bytes in the input format, so a committed item holds exactly what
the client sent. The server VAD (:class:`.vad.EnergyVad`) watches the same positions; a *turn*
is the span from its ``speech_started`` to ``speech_stopped``. Sans-I/O.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import audio
from .vad import EnergyVad, VadEvent, VadSettings

SAMPLES_PER_MS = audio.SAMPLE_RATE // 1000


class InputBuffer:
    """Uncommitted input audio, its sample positions, and the server VAD's current turn."""

    def __init__(self) -> None:
        self.data = bytearray()
        #: Position of the first byte in :attr:`data`.
        self.start = 0
        #: Samples appended in total (the position after the last byte).
        self.appended = 0
        self._pcm_carry = b""  # an odd trailing byte of PCM16, kept for the next append
        self.vad: EnergyVad | None = None
        #: The item id announced by ``speech_started`` for the turn in progress, if any.
        self.speech_item: str | None = None
        self.speech_start = 0

    def configure_vad(self, turn_detection: dict[str, Any] | None) -> None:
        """Follow the session's ``turn_detection``: none, or server VAD with its settings."""
        if turn_detection is None:
            self.vad = None
            self.speech_item = None
            return
        settings = VadSettings.from_turn_detection(turn_detection)
        if self.vad is None:
            self.vad = EnergyVad(settings, position=self.appended)
            self.vad.buffer_start = self.start
        else:
            self.vad.configure(settings)

    def restart_vad(self) -> None:
        """Start the VAD afresh at the current position (turn detection was just switched on)."""
        if self.vad is not None:
            self.vad.reset(self.appended)
            self.vad.buffer_start = self.start

    def append(self, data: bytes, fmt: audio.AudioFormatName) -> list[VadEvent]:
        """Add ``data`` (bytes in ``fmt``); return the VAD's turn starts and stops it caused."""
        self.data += data
        if fmt == "pcm16":
            raw = self._pcm_carry + data
            even = len(raw) - len(raw) % 2
            self._pcm_carry = raw[even:]
            pcm = np.frombuffer(raw[:even], "<i2").astype(np.int16)
        else:
            decode = audio.mulaw_decode if fmt == "g711_ulaw" else audio.alaw_decode
            pcm = np.repeat(decode(data), 3)  # 8 kHz → 24 kHz positions (energy unchanged)
        self.appended += len(pcm)
        if self.vad is None:
            return []
        return self.vad.feed(pcm)

    def begin_turn(self, sample: int, item_id: str) -> None:
        self.speech_item = item_id
        self.speech_start = sample

    def take_turn(self, end: int, at: int, fmt: audio.AudioFormatName) -> bytes:
        """The audio of the turn ending at ``end``; drop the buffer up to ``at`` (the VAD's cut)."""
        data = self.slice(self.speech_start, end, fmt)
        self._drop_until(at, fmt)
        self.speech_item = None
        return data

    def take_all(self) -> bytes:
        """Everything in the buffer (a commit); the buffer is then empty."""
        data = bytes(self.data)
        self.reset()
        return data

    def reset(self) -> None:
        """Empty the buffer (clear or commit): the next audio starts a new span."""
        self.data.clear()
        self._pcm_carry = b""
        self.start = self.appended
        self.speech_item = None
        if self.vad is not None:
            self.vad.reset(self.appended)

    def ms(self, fmt: audio.AudioFormatName) -> float:
        return audio.bytes_to_ms(len(self.data), fmt)

    def slice(self, start: int, end: int, fmt: audio.AudioFormatName) -> bytes:
        lo = _samples_to_bytes(max(start - self.start, 0), fmt)
        hi = _samples_to_bytes(max(end - self.start, 0), fmt)
        return bytes(self.data[lo:hi])

    def _drop_until(self, sample: int, fmt: audio.AudioFormatName) -> None:
        cut = _samples_to_bytes(max(sample - self.start, 0), fmt)
        del self.data[:cut]
        self.start = sample


def _samples_to_bytes(samples: int, fmt: audio.AudioFormatName) -> int:
    return samples * 2 if fmt == "pcm16" else samples // 3


__all__ = ["SAMPLES_PER_MS", "InputBuffer"]

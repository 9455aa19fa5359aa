"""G.711 mu-law and A-law at 8 kHz: one-shot, and a seamless streaming codec from 24 kHz PCM16."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from ..protocol import SAMPLE_RATE
from .formats import G711_RATE, AudioFormatName, format_name
from .resampling import StreamResampler, resample
from .samples import as_int16, to_pcm16_bytes

# ---------------------------------------------------------------------------------------------
# G.711 (ITU-T G.711; the same algorithm as Sun's g711.c and Python's audioop)


def _build_g711_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Build the 65536-entry encode and 256-entry decode tables for mu-law and A-law.

    Encode tables are indexed by the int16 sample reinterpreted as uint16.
    """
    x = np.arange(65536, dtype=np.uint16).view(np.int16).astype(np.int32)

    # mu-law: 14-bit magnitude, bias 0x84 (33 at 14 bits), 8 segments, bits inverted.
    v = x >> 2
    mask = np.where(v < 0, 0x7F, 0xFF)
    mag = np.minimum(np.abs(v), 8159) + 33
    seg = np.searchsorted(np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF]), mag)
    code = (seg << 4) | ((mag >> (seg + 1)) & 0xF)
    code = np.where(seg >= 8, 0x7F, code)
    mulaw_enc = (code ^ mask).astype(np.uint8)

    # A-law: 13-bit magnitude, segments 0 and 1 share a step, even bits inverted (xor 0x55).
    v = x >> 3
    mask = np.where(v >= 0, 0xD5, 0x55)
    mag = np.where(v >= 0, v, -v - 1)
    seg = np.searchsorted(np.array([0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF]), mag)
    shift = np.maximum(seg, 1)
    code = (seg << 4) | ((mag >> shift) & 0xF)
    code = np.where(seg >= 8, 0x7F, code)
    alaw_enc = (code ^ mask).astype(np.uint8)

    u = ~np.arange(256, dtype=np.int32) & 0xFF
    t = (((u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4)
    mulaw_dec = np.where(u & 0x80, 0x84 - t, t - 0x84).astype(np.int16)

    a = np.arange(256, dtype=np.int32) ^ 0x55
    seg = (a & 0x70) >> 4
    t = (a & 0x0F) << 4
    t = np.where(seg == 0, t + 8, (t + 0x108) << np.maximum(seg - 1, 0))
    alaw_dec = np.where(a & 0x80, t, -t).astype(np.int16)
    return mulaw_enc, mulaw_dec, alaw_enc, alaw_dec


@functools.cache
def _g711_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Built on first use, not at import: most sessions never touch G.711."""
    return _build_g711_tables()


def _g711_index(samples: np.ndarray) -> np.ndarray:
    """Return int16 samples reinterpreted as uint16 table indices."""
    return np.ascontiguousarray(as_int16(np.asarray(samples))).view(np.uint16)


def mulaw_encode(samples: np.ndarray) -> bytes:
    """Encode int16 samples (floats are converted) as G.711 mu-law bytes."""
    result: bytes = _g711_tables()[0][_g711_index(samples)].tobytes()
    return result


def mulaw_decode(data: bytes | memoryview) -> np.ndarray:
    """Decode G.711 mu-law bytes to int16 samples."""
    return _g711_tables()[1][np.frombuffer(data, np.uint8)]


def alaw_encode(samples: np.ndarray) -> bytes:
    """Encode int16 samples (floats are converted) as G.711 A-law bytes."""
    result: bytes = _g711_tables()[2][_g711_index(samples)].tobytes()
    return result


def alaw_decode(data: bytes | memoryview) -> np.ndarray:
    """Decode G.711 A-law bytes to int16 samples."""
    return _g711_tables()[3][np.frombuffer(data, np.uint8)]


def encode_for_format(samples_24k_int16: np.ndarray, fmt: AudioFormatName) -> bytes:
    """Encode 24 kHz int16 samples as wire bytes of ``fmt``.

    pcm16 gives little-endian bytes; G.711 resamples to 8 kHz first. The resampling is
    stateless: for a continuous stream in small chunks, keep a :class:`StreamResampler`
    (24 kHz → 8 kHz) and call :func:`mulaw_encode`/:func:`alaw_encode` on its output to avoid
    small seams at chunk boundaries.
    """
    name = format_name(fmt)
    if name == "pcm16":
        return to_pcm16_bytes(samples_24k_int16)
    narrow = resample(as_int16(np.asarray(samples_24k_int16)), SAMPLE_RATE, G711_RATE)
    return mulaw_encode(narrow) if name == "g711_ulaw" else alaw_encode(narrow)


def decode_from_format(data: bytes, fmt: AudioFormatName) -> np.ndarray:
    """Decode wire bytes of ``fmt`` to int16 samples at 24 kHz (G.711 is resampled up)."""
    name = format_name(fmt)
    if name == "pcm16":
        return as_int16(data)
    narrow = mulaw_decode(data) if name == "g711_ulaw" else alaw_decode(data)
    return resample(narrow, G711_RATE, SAMPLE_RATE)


class StreamCodec:
    """Encode or decode a continuous stream of chunks in a wire format, seamlessly.

    For pcm16 this is a plain conversion; for G.711 one streaming resampler per direction
    carries its filter state across chunks, so 20 ms microphone frames leave no seams
    (stateless per-chunk resampling measured 27.8 dB SNR on a tone against 36.7 dB in one piece).
    """

    def __init__(self, fmt: AudioFormatName | dict[str, Any] | str | None) -> None:
        self.format: AudioFormatName = format_name(fmt)
        self._down = StreamResampler(SAMPLE_RATE, G711_RATE) if self.format != "pcm16" else None
        self._up = StreamResampler(G711_RATE, SAMPLE_RATE) if self.format != "pcm16" else None

    def encode(self, samples_24k_int16: np.ndarray) -> bytes:
        """24 kHz int16 samples → wire bytes."""
        if self._down is None:
            return to_pcm16_bytes(samples_24k_int16)
        narrow = self._down.process(as_int16(np.asarray(samples_24k_int16)))
        return mulaw_encode(narrow) if self.format == "g711_ulaw" else alaw_encode(narrow)

    def flush(self) -> bytes:
        """Encode what the resampler still holds (end of a clip); the stream then starts anew."""
        if self._down is None:
            return b""
        narrow = self._down.process(np.zeros(0, np.int16), last=True)
        self._down = StreamResampler(SAMPLE_RATE, G711_RATE)
        return mulaw_encode(narrow) if self.format == "g711_ulaw" else alaw_encode(narrow)

    def decode(self, data: bytes) -> np.ndarray:
        """Wire bytes → 24 kHz int16 samples."""
        if self._up is None:
            return as_int16(data)
        narrow = mulaw_decode(data) if self.format == "g711_ulaw" else alaw_decode(data)
        return self._up.process(narrow)

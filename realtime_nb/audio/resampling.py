"""Resampling with soxr: one-shot for clips, streaming for live input (no seams at chunk edges)."""

from __future__ import annotations

import math

import numpy as np

from ..errors import AudioFormatError
from ..protocol import SAMPLE_RATE
from .formats import MAX_SAMPLE_RATE
from .samples import _native, as_int16, pcm16_to_float32, to_mono

# ---------------------------------------------------------------------------------------------
# Resampling and channels


def _check_rate(rate: object, name: str = "sample_rate") -> int:
    """Return ``rate`` as a positive int in range, or raise a helpful AudioFormatError."""
    if rate is None:
        raise AudioFormatError(
            f"{name} is required: pass the rate of the samples in Hz, e.g. {name}=44100."
        )
    if isinstance(rate, bool) or not isinstance(rate, int | float | np.integer | np.floating):
        raise AudioFormatError(f"{name} must be an int in Hz, not {type(rate).__name__}.")
    if not math.isfinite(rate) or rate != int(rate):
        raise AudioFormatError(f"{name} must be a whole number of Hz, not {rate!r}.")
    value = int(rate)
    if value <= 0:
        raise AudioFormatError(f"{name} must be positive, got {value}.")
    if value > MAX_SAMPLE_RATE:
        raise AudioFormatError(
            f"{name}={value} Hz is above {MAX_SAMPLE_RATE} Hz; did you pass the number of "
            "samples or the samples themselves instead of the rate?"
        )
    return value


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Resample with soxr (quality HQ), keeping the dtype family.

    int16 in gives int16 out (int32 gives int32), float in gives float32 out. Shape (n,) or
    (n, channels). When the rates are equal the input itself is returned (no copy).

    Raises:
        AudioFormatError: for rates that are not positive ints, or an unsupported dtype.
    """
    from_rate = _check_rate(from_rate, "from_rate")
    to_rate = _check_rate(to_rate, "to_rate")
    if from_rate == to_rate:
        return samples
    a = _native(np.asarray(samples))
    if a.dtype.kind == "f":
        a = a.astype(np.float32, copy=False)
    elif a.dtype not in (np.int16, np.int32):
        raise AudioFormatError(
            f"resample takes int16, int32 or float samples, not {a.dtype}; "
            "use normalize_audio() to convert other formats."
        )
    if a.ndim not in (1, 2):
        raise AudioFormatError(f"resample takes shape (n,) or (n, channels), not {a.shape}.")
    if a.shape[0] == 0:
        return np.zeros(a.shape, a.dtype)
    import soxr  # lazily: it is only needed when rates differ

    result: np.ndarray = soxr.resample(a, from_rate, to_rate, quality="HQ")
    return result


class StreamResampler:
    """Streaming resampler (soxr.ResampleStream) for chunked audio, e.g. 44.1 kHz mic -> 24 kHz.

    Filter state carries across chunks, so the output has no seams at chunk boundaries (unlike
    calling :func:`resample` per chunk). soxr holds back a few ms of latency; pass
    ``last=True`` with the final chunk to flush it. Mono only: 2-D chunks are averaged first.
    """

    def __init__(self, from_rate: int, to_rate: int = SAMPLE_RATE, dtype: str = "int16") -> None:
        self.from_rate = _check_rate(from_rate, "from_rate")
        self.to_rate = _check_rate(to_rate, "to_rate")
        if dtype not in ("int16", "float32"):
            raise AudioFormatError(
                f"StreamResampler dtype must be 'int16' or 'float32', not {dtype!r}."
            )
        self.dtype = np.dtype(dtype)
        self._stream = None
        if self.from_rate != self.to_rate:
            import soxr  # lazily, as in resample()

            self._stream = soxr.ResampleStream(
                self.from_rate, self.to_rate, 1, dtype=dtype, quality="HQ"
            )

    def process(self, chunk: np.ndarray, last: bool = False) -> np.ndarray:
        """Resample the next chunk; returns what is ready (possibly empty) in ``dtype``."""
        a = to_mono(_native(np.asarray(chunk)))
        if self.dtype == np.int16:
            a = as_int16(a)
        elif a.dtype == np.int16:
            a = pcm16_to_float32(a)
        else:
            a = a.astype(np.float32, copy=False)
        if self._stream is None:
            return a
        result: np.ndarray = self._stream.resample_chunk(np.ascontiguousarray(a), last=last)
        return result

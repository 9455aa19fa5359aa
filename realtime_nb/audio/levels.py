"""Levels and framing: RMS in dBFS, per-frame energy for the VAD, fixed-length chunks."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from ..errors import AudioFormatError
from .formats import (
    _BYTES_PER_SAMPLE,
    AudioFormatName,
    format_name,
    ms_to_bytes,
)
from .samples import (
    _INT16_SCALE,
    as_int16,
)

_DBFS_FLOOR = -120.0


# ---------------------------------------------------------------------------------------------
# Levels and chunks


def _as_unit_float(samples: np.ndarray) -> np.ndarray:
    """Return int16 or float samples as float32 in [-1, 1]."""
    a = np.asarray(samples)
    if a.dtype.kind == "f":
        return a.astype(np.float32, copy=False)
    return as_int16(a).astype(np.float32) * np.float32(1.0 / _INT16_SCALE)


def rms_dbfs(samples: np.ndarray) -> float:
    """Return the RMS level in dBFS (full scale 1.0 or 32768), floored at -120 for silence."""
    a = _as_unit_float(samples).ravel()
    if a.size == 0:
        return _DBFS_FLOOR
    mean_square = float(np.dot(a, a)) / a.size
    if mean_square <= 1e-12:
        return _DBFS_FLOOR
    return max(_DBFS_FLOOR, 10.0 * math.log10(mean_square))


def frame_energy(pcm16: np.ndarray, frame_samples: int) -> np.ndarray:
    """Return the RMS in [0, 1] (float32) of each whole frame of ``frame_samples`` samples.

    A trailing partial frame is dropped. Accepts int16 or float samples.

    Raises:
        AudioFormatError: if ``frame_samples`` is not positive.
    """
    if frame_samples <= 0:
        raise AudioFormatError(f"frame_samples must be positive, got {frame_samples}.")
    a = _as_unit_float(pcm16).ravel()
    n = a.size // frame_samples
    frames = a[: n * frame_samples].reshape(n, frame_samples)
    mean_square = np.einsum("ij,ij->i", frames, frames) / np.float32(frame_samples)
    result: np.ndarray = np.minimum(np.sqrt(mean_square), np.float32(1.0)).astype(np.float32)
    return result


def chunk_pcm(pcm: bytes, chunk_ms: float, fmt: AudioFormatName = "pcm16") -> Iterator[bytes]:
    """Split wire audio into chunks of ``chunk_ms`` (floored to whole samples, at least one).

    The last chunk may be shorter. Arguments are checked at call time, not on first ``next``.

    Raises:
        AudioFormatError: if ``chunk_ms`` is not positive or pcm16 data has an odd length.
    """
    name = format_name(fmt)
    if not math.isfinite(chunk_ms) or chunk_ms <= 0:
        raise AudioFormatError(f"chunk_ms must be a positive number, got {chunk_ms!r}.")
    per_sample = _BYTES_PER_SAMPLE[name]
    data = bytes(pcm)
    if len(data) % per_sample:
        raise AudioFormatError(
            f"{name} data must be whole {per_sample}-byte samples, got {len(data)} bytes (odd)."
        )
    step = max(per_sample, ms_to_bytes(chunk_ms, name))
    return (data[i : i + step] for i in range(0, len(data), step))

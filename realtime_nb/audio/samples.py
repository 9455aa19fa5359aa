"""Sample conversions: PCM16 ⇄ float, int16 views of buffers, channels to mono."""

from __future__ import annotations

import numpy as np

from ..errors import AudioFormatError

_INT16_SCALE = 32768.0


# ---------------------------------------------------------------------------------------------
# Sample conversions


def _native(a: np.ndarray) -> np.ndarray:
    """Return ``a`` in native byte order (a no-op for the usual arrays)."""
    return a if a.dtype.isnative else a.astype(a.dtype.newbyteorder("="))


def pcm16_to_float32(pcm: bytes | bytearray | memoryview | np.ndarray) -> np.ndarray:
    """Convert PCM16 bytes or int16 samples to float32 in [-1, 1) (``x / 32768``)."""
    return as_int16(pcm).astype(np.float32) * np.float32(1.0 / _INT16_SCALE)


def float32_to_pcm16(samples: np.ndarray) -> np.ndarray:
    """Convert float samples in [-1, 1] to int16: scaled by 32768, rounded, clipped.

    Rounding (not truncation) keeps the round trip with :func:`pcm16_to_float32` within half
    a step; values beyond full scale are clipped, NaN becomes 0. int16 input is returned as is.
    """
    a = _native(np.asarray(samples))
    if a.dtype == np.int16:
        return a
    if a.dtype.kind != "f":
        raise AudioFormatError(
            f"float32_to_pcm16 takes float samples in [-1, 1], not {a.dtype}; "
            "use normalize_audio() for other integer formats."
        )
    if a.dtype.itemsize < 4:
        a = a.astype(np.float32)
    scaled = np.multiply(a, _INT16_SCALE, dtype=a.dtype)
    np.rint(scaled, out=scaled)
    np.clip(scaled, -32768, 32767, out=scaled)
    np.nan_to_num(scaled, copy=False, nan=0.0)
    result: np.ndarray = scaled.astype(np.int16)
    return result


def as_int16(pcm: bytes | bytearray | memoryview | np.ndarray) -> np.ndarray:
    """Return PCM16 bytes as int16 samples (a read-only view of ``bytes``, no copy).

    int16 arrays are returned as they are, float arrays are converted with
    :func:`float32_to_pcm16`.

    Raises:
        AudioFormatError: for an odd byte length or an array of another dtype.
    """
    if isinstance(pcm, np.ndarray):
        pcm = _native(pcm)
        if pcm.dtype == np.int16:
            return pcm
        if pcm.dtype.kind == "f":
            return float32_to_pcm16(pcm)
        raise AudioFormatError(
            f"Expected int16 PCM samples, got an array of {pcm.dtype}; "
            "use normalize_audio(samples, sample_rate) to convert other formats."
        )
    if not isinstance(pcm, bytes | bytearray | memoryview):
        raise AudioFormatError(f"Expected PCM16 bytes or an array, not {type(pcm).__name__}.")
    nbytes = pcm.nbytes if isinstance(pcm, memoryview) else len(pcm)
    if nbytes % 2:
        raise AudioFormatError(
            f"PCM16 data must have an even number of bytes (2 per sample), got {nbytes} (odd): "
            "the data is truncated or not 16-bit PCM."
        )
    return np.frombuffer(pcm, dtype="<i2").astype(np.int16, copy=False)


def to_pcm16_bytes(samples: np.ndarray) -> bytes:
    """Return int16 little-endian bytes of ``samples`` (float arrays are converted first)."""
    return as_int16(samples).astype("<i2", copy=False).tobytes()


def to_mono(samples: np.ndarray) -> np.ndarray:
    """Average the channels of (n, channels) or (channels, n) audio with up to 8 channels.

    1-D input is returned as is. The channel axis is the one of length <= 8; when both are,
    (n, channels) is assumed. int input keeps its dtype (rounded mean), float keeps its dtype.

    Raises:
        AudioFormatError: for more than 8 channels or more than 2 dimensions.
    """
    a = np.asarray(samples)
    if a.ndim <= 1:
        return a
    if a.ndim > 2:
        raise AudioFormatError(
            f"Audio must be 1-D (mono) or 2-D (n, channels), got {a.ndim}-D shape {a.shape}."
        )
    if a.size == 0:
        return np.zeros(0, a.dtype)
    rows, cols = a.shape
    if cols <= 8:
        axis = 1
    elif rows <= 8:
        axis = 0
    else:
        raise AudioFormatError(
            f"Cannot tell the channel axis of shape {a.shape}: neither axis has <= 8 channels. "
            "Pass mono audio or shape (n, channels) with at most 8 channels."
        )
    channels = a.shape[axis]
    if channels == 1:
        return a.reshape(-1)
    if a.dtype.kind == "f":
        result: np.ndarray = a.mean(axis=axis, dtype=a.dtype)
        return result
    if a.dtype.kind in "iu":
        mean = a.mean(axis=axis, dtype=np.float64)
        rounded: np.ndarray = np.rint(mean).astype(a.dtype)
        return rounded
    raise AudioFormatError(f"Cannot average channels of dtype {a.dtype}.")

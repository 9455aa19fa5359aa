"""Reading the audio a user hands over (path, WAV bytes, raw PCM, array) as 24 kHz int16."""

from __future__ import annotations

import os

import numpy as np

from ..errors import AudioFormatError
from ..protocol import SAMPLE_RATE
from .resampling import _check_rate, resample
from .samples import _native, as_int16, float32_to_pcm16, to_mono
from .wav import _DECODE_HINT, _describe_start, _sniff, read_wav

# (offset, scale) that map an integer PCM dtype to float in [-1, 1).
_INT_PCM: dict[str, tuple[float, float]] = {
    "uint8": (128.0, 128.0),
    "int8": (0.0, 128.0),
    "uint16": (32768.0, 32768.0),
    "int16": (0.0, 32768.0),
    "int32": (0.0, 2147483648.0),
}


def _check_float_samples(a: np.ndarray) -> None:
    """Raise if float samples hold NaN/inf or look like integer samples stored as float."""
    if not np.isfinite(a).all():
        bad = int(np.count_nonzero(~np.isfinite(a)))
        raise AudioFormatError(
            f"Float audio contains {bad} NaN or infinite value(s); clean it first "
            "(e.g. np.nan_to_num(samples))."
        )
    peak = float(np.max(np.abs(a))) if a.size else 0.0
    if peak > 1.5:
        raise AudioFormatError(
            f"Float audio must be in [-1, 1] but its peak is {peak:g}: this looks like int "
            "samples stored as float; divide by 32768 (or by the full scale of its format)."
        )


def normalize_audio(
    samples: np.ndarray, sample_rate: int, target_rate: int = SAMPLE_RATE
) -> np.ndarray:
    """Convert audio of any usual dtype, channel count and rate to mono int16 at ``target_rate``.

    Accepts int16, int32, uint8 (offset), int8, uint16 and float16/32/64 samples in [-1, 1];
    (n, channels) or (channels, n) with up to 8 channels. Floats slightly beyond ±1 are
    clipped. Mono int16 already at ``target_rate`` is returned as is (no copy).

    Raises:
        AudioFormatError: for a missing or impossible rate, complex/bool/object or 64-bit int
            dtypes, NaN/inf, floats far outside [-1, 1], more than 8 channels or 2 dimensions.
    """
    sample_rate = _check_rate(sample_rate, "sample_rate")
    target_rate = _check_rate(target_rate, "target_rate")
    a = np.asarray(samples)
    kind = a.dtype.kind
    if kind == "b":
        raise AudioFormatError("Audio cannot be a bool array; pass int16 or float samples.")
    if kind == "c":
        raise AudioFormatError(
            "Audio cannot be complex; take the real part (samples.real) if that is the signal."
        )
    if kind not in "iuf":
        raise AudioFormatError(
            f"Audio must be numeric int or float samples, not dtype {a.dtype}; "
            "convert with np.asarray(samples, dtype=np.float32)."
        )
    if a.ndim == 0:
        raise AudioFormatError("Audio must be an array of samples, not a single number.")
    a = _native(a)
    if kind == "f":
        if a.dtype.itemsize < 4:
            a = a.astype(np.float32)
        _check_float_samples(a)
    elif a.dtype.name not in _INT_PCM:
        raise AudioFormatError(
            f"Integer audio of dtype {a.dtype} is ambiguous (what is full scale?); cast to int16 "
            "if the values are 16-bit samples, or to float in [-1, 1]."
        )
    a = to_mono(a)
    if a.shape[0] == 0:
        return np.zeros(0, np.int16)
    if a.dtype == np.int16:
        return resample(a, sample_rate, target_rate)
    if kind != "f":
        offset, scale = _INT_PCM[a.dtype.name]
        a = ((a.astype(np.float64) - offset) / scale).astype(np.float32)
    return float32_to_pcm16(resample(a, sample_rate, target_rate))


def load_audio(
    source: str | os.PathLike[str] | bytes | np.ndarray,
    sample_rate: int | None = None,
    target_rate: int = SAMPLE_RATE,
) -> np.ndarray:
    """Load audio from a WAV path, WAV bytes, raw PCM16 bytes or an array as mono int16.

    The result is at ``target_rate`` (24 kHz by default), ready to send. A WAV file carries its
    own rate (``sample_rate`` is ignored); raw PCM16 bytes and arrays need ``sample_rate``.
    A path to a file that is not a WAV is read as raw PCM16 when ``sample_rate`` is given.

    Raises:
        AudioFormatError: for a missing ``sample_rate``, data that is not audio (an image,
            text, compressed audio, a RIFF that is not WAVE), unsupported WAV encodings, odd
            PCM16 lengths and anything :func:`normalize_audio` refuses.
        FileNotFoundError: for a path that does not exist.
    """
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as f:
            source = f.read()
    if isinstance(source, bytes | bytearray | memoryview):
        data = source
        if bytes(data[:4]) == b"RIFF":
            samples, rate = read_wav(data)
            return normalize_audio(samples, rate, target_rate)
        what = _sniff(data)
        if what is not None:
            raise AudioFormatError(
                f"This is not PCM16 or WAV audio: it looks like {what}. Pass a WAV file, raw "
                f"PCM16 bytes (with sample_rate) or a numpy array. {_DECODE_HINT}"
            )
        if sample_rate is None:
            raise AudioFormatError(
                "Raw PCM16 bytes carry no sample rate: pass sample_rate=... (e.g. "
                f"sample_rate=24000), or pass a WAV file. The data starts {_describe_start(data)}."
            )
        return normalize_audio(as_int16(data), sample_rate, target_rate)
    if isinstance(source, np.ndarray):
        if sample_rate is None:
            raise AudioFormatError(
                "A numpy array carries no sample rate: pass sample_rate=... "
                "(e.g. load_audio(samples, sample_rate=44100))."
            )
        return normalize_audio(source, sample_rate, target_rate)
    raise AudioFormatError(
        f"Cannot load audio from {type(source).__name__}: pass a WAV path, WAV or PCM16 bytes, "
        "or a numpy array with sample_rate."
    )

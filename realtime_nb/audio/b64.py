"""Base64 for audio in JSON events.

The SIMD codec (pybase64) is used when available: decoding deltas was the receive path's biggest
cost.
"""

from __future__ import annotations

import base64
import binascii
import types
from typing import cast

import numpy as np

from ..errors import AudioFormatError
from .samples import to_pcm16_bytes

# ---------------------------------------------------------------------------------------------
# Base64


_b64: types.ModuleType
try:  # SIMD base64: 20× faster than binascii on audio deltas (the receive path's biggest cost)
    import pybase64 as _b64
except ImportError:  # pragma: no cover - a platform without pybase64 wheels
    _b64 = base64


def b64encode_audio(pcm: bytes | bytearray | memoryview | np.ndarray) -> str:
    """Base64-encode audio for a JSON event (arrays become int16 little-endian bytes first)."""
    if isinstance(pcm, np.ndarray):
        pcm = to_pcm16_bytes(pcm)
    return cast(str, _b64.b64encode(pcm).decode("ascii"))


def b64decode_audio(data: str) -> bytes:
    """Decode base64 audio strictly: any character outside the alphabet is an error.

    Raises:
        AudioFormatError: if ``data`` is not valid base64.
    """
    try:
        return cast(bytes, _b64.b64decode(data, validate=True))
    except (binascii.Error, ValueError, TypeError) as exc:
        preview = str(data)[:20]
        raise AudioFormatError(f"Audio is not valid base64 ({exc}): {preview!r}...") from exc

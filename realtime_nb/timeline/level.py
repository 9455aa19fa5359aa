"""The mic level envelope of a user turn: a few hundred RMS points, cheap to send and to draw.

Envelopes of committed items never change, so they are kept in a small bounded cache keyed by
item id and sample count (the widget asks for the timeline twice a second).
"""

from __future__ import annotations

import numpy as np

from ..protocol import SAMPLE_RATE

#: Most points per envelope (the JSON shape promises at most 200).
MAX_POINTS = 200
_MIN_WINDOW = SAMPLE_RATE // 50  # 20 ms: finer than that is noise on a lane a few px high
_CACHE_MAX = 512
_cache: dict[tuple[str, int], list[float]] = {}


def rms_envelope(samples: np.ndarray, max_points: int = MAX_POINTS) -> tuple[float, list[float]]:
    """Window length in seconds and the RMS (full scale 1.0) of each window of int16 ``samples``."""
    n = int(samples.size)
    if n == 0:
        return 0.0, []
    window = max(_MIN_WINDOW, -(-n // max_points))
    points = -(-n // window)
    x = samples.astype(np.float32) / 32768.0
    padded = np.zeros(points * window, dtype=np.float32)
    padded[:n] = x
    sq = (padded * padded).reshape(points, window).sum(axis=1)
    counts = np.full(points, window, dtype=np.float32)
    counts[-1] = n - (points - 1) * window
    rms = np.sqrt(sq / counts)
    return window / SAMPLE_RATE, [float(v) for v in rms]


def level_points(item_id: str, samples: np.ndarray) -> list[tuple[float, float]]:
    """``[(seconds into the audio, rms), …]`` at window centres, cached per item."""
    key = (item_id, int(samples.size))
    values = _cache.get(key)
    if values is None:
        window_s, values = rms_envelope(samples)
        values = [window_s, *values]
        if len(_cache) >= _CACHE_MAX:
            del _cache[next(iter(_cache))]
        _cache[key] = values
    window_s = values[0]
    return [((i + 0.5) * window_s, v) for i, v in enumerate(values[1:])]

"""Audio formats of the Realtime API: PCM16 at 24 kHz and G.711 at 8 kHz.

One module per concept: ``formats`` (names, rates, bytes per ms), ``samples`` (conversions),
``resampling``, ``loading`` (what a user hands over), ``wav``, ``b64``, ``g711``, ``levels``.
Everything is re-exported here, so ``audio.load_audio`` and friends keep working.

Pure functions on numpy arrays and bytes: no I/O except reading and writing WAV files, no
clock, no network. Everything on the streaming path (``as_int16``, ``b64encode_audio``,
``encode_for_format``, ``decode_from_format``, ``frame_energy``) is vectorised, because it runs
for every 20–50 ms chunk.

Conventions:

* "PCM16" is signed 16-bit little-endian mono at :data:`SAMPLE_RATE` (the wire format).
* Float samples live in [-1, 1); int16 ``x`` maps to ``x / 32768``.
* dBFS is ``20 * log10(rms)`` with full scale 1.0, so a full-scale sine measures -3 dBFS.
* Bad input raises :class:`~realtime_nb.errors.AudioFormatError` whose message says what was
  seen and what to do instead."""

from __future__ import annotations

from ..protocol import SAMPLE_RATE
from .b64 import (  # noqa: F401
    _b64,
    b64decode_audio,
    b64encode_audio,
)
from .formats import (  # noqa: F401
    _BYTES_PER_MS,
    _BYTES_PER_SAMPLE,
    _GA_TYPES,
    G711_BYTES_PER_MS,
    G711_RATE,
    MAX_SAMPLE_RATE,
    PCM16_BYTES_PER_MS,
    AudioFormatName,
    bytes_per_ms,
    bytes_to_ms,
    format_name,
    ms_to_bytes,
)
from .g711 import (  # noqa: F401
    StreamCodec,
    _build_g711_tables,
    _g711_index,
    _g711_tables,
    alaw_decode,
    alaw_encode,
    decode_from_format,
    encode_for_format,
    mulaw_decode,
    mulaw_encode,
)
from .levels import (  # noqa: F401
    _DBFS_FLOOR,
    _as_unit_float,
    chunk_pcm,
    frame_energy,
    rms_dbfs,
)
from .loading import (  # noqa: F401
    _INT_PCM,
    _check_float_samples,
    load_audio,
    normalize_audio,
)
from .resampling import (  # noqa: F401
    StreamResampler,
    _check_rate,
    resample,
)
from .samples import (  # noqa: F401
    _INT16_SCALE,
    _native,
    as_int16,
    float32_to_pcm16,
    pcm16_to_float32,
    to_mono,
    to_pcm16_bytes,
)
from .wav import (  # noqa: F401
    _DECODE_HINT,
    _MAGIC,
    _WAV_ALAW,
    _WAV_EXTENSIBLE,
    _WAV_FLOAT,
    _WAV_MULAW,
    _WAV_PCM,
    _WAV_TAG_NAMES,
    _decode_wav_samples,
    _describe_start,
    _read_source,
    _sniff,
    read_wav,
    wav_bytes,
    write_wav,
)

__all__ = [
    "G711_BYTES_PER_MS",
    "G711_RATE",
    "MAX_SAMPLE_RATE",
    "PCM16_BYTES_PER_MS",
    "SAMPLE_RATE",
    "AudioFormatName",
    "StreamCodec",
    "StreamResampler",
    "alaw_decode",
    "alaw_encode",
    "as_int16",
    "b64decode_audio",
    "b64encode_audio",
    "bytes_per_ms",
    "bytes_to_ms",
    "chunk_pcm",
    "decode_from_format",
    "encode_for_format",
    "float32_to_pcm16",
    "format_name",
    "frame_energy",
    "load_audio",
    "ms_to_bytes",
    "mulaw_decode",
    "mulaw_encode",
    "normalize_audio",
    "pcm16_to_float32",
    "read_wav",
    "resample",
    "rms_dbfs",
    "to_mono",
    "to_pcm16_bytes",
    "wav_bytes",
    "write_wav",
]

"""WAV files (read int, 24-bit, float, G.711; write 16-bit PCM) and telling other formats apart."""

from __future__ import annotations

import os
import struct
from typing import BinaryIO

import numpy as np

from ..errors import AudioFormatError
from ..protocol import SAMPLE_RATE
from .g711 import _g711_tables
from .resampling import _check_rate
from .samples import to_pcm16_bytes

# ---------------------------------------------------------------------------------------------
# Loading and WAV files

_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG", 0, "a PNG image"),
    (b"\xff\xd8\xff", 0, "a JPEG image"),
    (b"GIF8", 0, "a GIF image"),
    (b"%PDF", 0, "a PDF document"),
    (b"PK\x03\x04", 0, "a ZIP archive"),
    (b"ID3", 0, "MP3 audio (compressed)"),
    (b"OggS", 0, "Ogg audio (compressed)"),
    (b"fLaC", 0, "FLAC audio (compressed)"),
    (b"\x1aE\xdf\xa3", 0, "WebM/Matroska audio (compressed)"),
    (b"ftyp", 4, "MP4/M4A audio (compressed)"),
    (b"FORM", 0, "an AIFF file"),
    (b"RIFX", 0, "a big-endian RIFF file"),
    (b"RF64", 0, "an RF64 (64-bit) WAV"),
)
_DECODE_HINT = "Convert it to WAV or raw PCM16 first, e.g. `ffmpeg -i in -ar 24000 -ac 1 out.wav`."


def _sniff(data: bytes | bytearray | memoryview) -> str | None:
    """Name what non-PCM data looks like (an image, compressed audio, text), or None."""
    head = bytes(data[:64])
    for magic, offset, what in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return what
    if len(head) >= 8:
        sample = np.frombuffer(bytes(data[:4096]), np.uint8)
        printable = (sample >= 32) & (sample < 127)
        if np.all(printable | (sample == 9) | (sample == 10) | (sample == 13)):
            preview = head[:24].decode("ascii")
            return f"text ({preview!r}...)"
    return None


def _describe_start(data: bytes | bytearray | memoryview) -> str:
    """Show the first bytes of unknown data for an error message."""
    return repr(bytes(data[:12]))


_WAV_PCM = 1
_WAV_FLOAT = 3
_WAV_ALAW = 6
_WAV_MULAW = 7
_WAV_EXTENSIBLE = 0xFFFE
_WAV_TAG_NAMES = {2: "MS ADPCM", 0x11: "IMA ADPCM", 0x31: "GSM 6.10", 0x55: "MP3"}


def _read_source(source: str | os.PathLike[str] | bytes | BinaryIO) -> bytes | memoryview:
    """Return the whole content of a path, a bytes-like object or a binary file object."""
    if isinstance(source, bytes | bytearray | memoryview):
        return memoryview(source).cast("B")
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as f:
            return f.read()
    if hasattr(source, "read"):
        return source.read()
    raise AudioFormatError(f"Cannot read a WAV from {type(source).__name__}.")


def read_wav(source: str | os.PathLike[str] | bytes | BinaryIO) -> tuple[np.ndarray, int]:
    """Read a WAV file: PCM 8/16/24/32-bit, IEEE float 32/64, G.711, any channel count.

    The stdlib ``wave`` module cannot read float WAVs, hence this small RIFF parser. It
    tolerates a data size larger than the file (streaming writers leave 0xFFFFFFFF).

    Returns:
        ``(samples, rate)``: int16 for 16-bit PCM and G.711 (format tags 6/7), float32 in
        [-1, 1) otherwise; shape (n,) for mono, (n, channels) otherwise.

    Raises:
        AudioFormatError: if it is not a RIFF/WAVE file or its encoding is not supported.
    """
    data = _read_source(source)
    if bytes(data[:4]) != b"RIFF" or len(data) < 12:
        what = _sniff(data)
        seen = f"it looks like {what}" if what else f"it starts {_describe_start(data)}"
        raise AudioFormatError(f"Not a WAV file: {seen}. {_DECODE_HINT}")
    if bytes(data[8:12]) != b"WAVE":
        kind = bytes(data[8:12]).decode("latin-1")
        raise AudioFormatError(
            f"This RIFF file is of type {kind!r} (e.g. WEBP image or AVI video), not WAVE audio."
        )
    fmt: tuple[int, int, int, int, int] | None = None
    pcm: bytes | memoryview | None = None
    pos = 12
    while pos + 8 <= len(data):
        chunk_id = bytes(data[pos : pos + 4])
        (size,) = struct.unpack_from("<I", data, pos + 4)
        body = data[pos + 8 : pos + 8 + size]
        if chunk_id == b"fmt ":
            if len(body) < 16:
                raise AudioFormatError("Broken WAV: its fmt chunk is shorter than 16 bytes.")
            tag, channels, rate, _, block_align, bits = struct.unpack_from("<HHIIHH", body)
            if tag == _WAV_EXTENSIBLE and len(body) >= 26:
                (tag,) = struct.unpack_from("<H", body, 24)  # first 2 bytes of the sub-format
            fmt = (tag, channels, rate, block_align, bits)
        elif chunk_id == b"data":
            pcm = body  # a too-large size (0xFFFFFFFF from streaming writers) takes the rest
            break
        pos += 8 + size + (size & 1)  # chunks are padded to even sizes
    if fmt is None:
        raise AudioFormatError("Broken WAV: no fmt chunk before the data.")
    if pcm is None:
        raise AudioFormatError("Broken WAV: no data chunk.")
    tag, channels, rate, block_align, bits = fmt
    if channels < 1:
        raise AudioFormatError("Broken WAV: it declares 0 channels.")
    if rate < 1:
        raise AudioFormatError("Broken WAV: it declares a sample rate of 0.")
    samples = _decode_wav_samples(pcm, tag, bits, channels)
    return (samples[:, 0] if channels == 1 else samples), rate


def _decode_wav_samples(pcm: bytes | memoryview, tag: int, bits: int, channels: int) -> np.ndarray:
    """Decode interleaved WAV sample data to a (frames, channels) array."""
    width = (bits + 7) // 8
    supported = {
        _WAV_PCM: (8, 16, 24, 32),
        _WAV_FLOAT: (32, 64),
        _WAV_ALAW: (8,),
        _WAV_MULAW: (8,),
    }
    if tag not in supported:
        name = _WAV_TAG_NAMES.get(tag, "an unsupported encoding")
        raise AudioFormatError(
            f"Unsupported WAV encoding: format tag {tag:#x} ({name}). Supported are PCM "
            f"8/16/24/32-bit, IEEE float 32/64-bit and G.711. {_DECODE_HINT}"
        )
    if bits not in supported[tag]:
        raise AudioFormatError(
            f"Unsupported WAV sample size: {bits}-bit with format tag {tag:#x}. {_DECODE_HINT}"
        )
    frame = width * channels
    raw = np.frombuffer(pcm, np.uint8, count=len(pcm) // frame * frame)
    if tag == _WAV_MULAW:
        out = _g711_tables()[1][raw]
    elif tag == _WAV_ALAW:
        out = _g711_tables()[3][raw]
    elif tag == _WAV_FLOAT:
        out = raw.view("<f4" if bits == 32 else "<f8").astype(np.float32)
    elif bits == 8:
        out = (raw.astype(np.float32) - 128.0) * np.float32(1 / 128)
    elif bits == 16:
        out = raw.view("<i2").astype(np.int16)
    elif bits == 24:
        wide = np.zeros((len(raw) // 3, 4), np.uint8)
        wide[:, 1:] = raw.reshape(-1, 3)
        out = (wide.view("<i4")[:, 0] >> 8).astype(np.float32) * np.float32(1 / 8388608)
    else:
        out = raw.view("<i4").astype(np.float32) * np.float32(1 / 2147483648)
    return out.reshape(-1, channels)


def wav_bytes(samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> bytes:
    """Return a 16-bit PCM WAV file of ``samples`` ((n,) or (n, channels); floats converted)."""
    rate = _check_rate(sample_rate)
    a = np.asarray(samples)
    if a.ndim not in (1, 2):
        raise AudioFormatError(f"WAV samples must be (n,) or (n, channels), not {a.shape}.")
    channels = 1 if a.ndim == 1 else a.shape[1]
    if channels < 1:
        raise AudioFormatError("WAV samples need at least one channel.")
    pcm = to_pcm16_bytes(a)
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        36 + len(pcm),
        b"WAVE",
        b"fmt ",
        16,
        _WAV_PCM,
        channels,
        rate,
        rate * channels * 2,
        channels * 2,
        16,
        b"data",
        len(pcm),
    )
    return header + pcm


def write_wav(
    target: str | os.PathLike[str] | BinaryIO, samples: np.ndarray, sample_rate: int = SAMPLE_RATE
) -> None:
    """Write ``samples`` as a 16-bit PCM WAV file (floats converted with float32_to_pcm16)."""
    data = wav_bytes(samples, sample_rate)
    if isinstance(target, str | os.PathLike):
        with open(target, "wb") as f:
            f.write(data)
    else:
        target.write(data)

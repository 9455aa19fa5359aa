"""Tests for realtime_nb.audio: sizes, conversions, resampling, WAV, G.711 and loading."""

from __future__ import annotations

import base64
import io
import struct
import warnings
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from realtime_nb import audio
from realtime_nb.errors import AudioFormatError

PACKAGE = Path(audio.__file__).parent


def sine(freq: float, seconds: float, rate: int, amplitude: float = 0.5) -> np.ndarray:
    """Return a float32 sine."""
    t = np.arange(round(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def peak_hz(x: np.ndarray, rate: int) -> float:
    """Return the frequency of the largest FFT bin of a Hann-windowed signal."""
    spectrum = np.abs(np.fft.rfft(x.astype(np.float64) * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / rate)[np.argmax(spectrum)])


def rms_db(x: np.ndarray) -> float:
    x = x.astype(np.float64)
    return 10 * np.log10(np.mean(x * x))


# --------------------------------------------------------------------------------------------
# Sizes and format names (protocol §4.5)


def test_constants_match_the_protocol() -> None:
    assert audio.SAMPLE_RATE == 24_000 and audio.G711_RATE == 8_000
    assert audio.PCM16_BYTES_PER_MS == audio.SAMPLE_RATE * 2 // 1000 == 48
    assert audio.G711_BYTES_PER_MS == audio.G711_RATE // 1000 == 8


@pytest.mark.parametrize(
    ("fmt", "per_ms", "ms", "nbytes"),
    [
        ("pcm16", 48, 100, 4800),
        ("pcm16", 48, 20, 960),
        ("pcm16", 48, 0.5, 24),
        ("pcm16", 48, 1 / 48, 0),  # half a sample floors to nothing
        ("pcm16", 48, 0.35, 16),  # 8.4 samples -> 8 whole samples, even byte count
        ("g711_ulaw", 8, 100, 800),
        ("g711_ulaw", 8, 1.5, 12),
        ("g711_alaw", 8, 20, 160),
        ("g711_alaw", 8, 0.2, 1),
    ],
)
def test_bytes_and_ms(fmt: audio.AudioFormatName, per_ms: int, ms: float, nbytes: int) -> None:
    assert audio.bytes_per_ms(fmt) == per_ms
    assert audio.ms_to_bytes(ms, fmt) == nbytes
    assert audio.bytes_to_ms(per_ms * 250, fmt) == 250.0


def test_bytes_to_ms_is_fractional_and_default_is_pcm16() -> None:
    assert audio.bytes_to_ms(4800) == 100.0
    assert audio.bytes_to_ms(24) == 0.5
    assert audio.bytes_to_ms(3, "g711_alaw") == 0.375
    assert audio.bytes_per_ms() == 48


@given(
    st.floats(min_value=0, max_value=1e6, allow_nan=False), st.sampled_from(["pcm16", "g711_ulaw"])
)
def test_ms_to_bytes_is_whole_samples_and_never_over(ms: float, fmt: audio.AudioFormatName) -> None:
    nbytes = audio.ms_to_bytes(ms, fmt)
    if fmt == "pcm16":
        assert nbytes % 2 == 0
    assert audio.bytes_to_ms(nbytes, fmt) <= ms + 1e-6
    sample_bytes = 2 if fmt == "pcm16" else 1
    assert audio.bytes_to_ms(nbytes + sample_bytes, fmt) > ms - 1e-6


@pytest.mark.parametrize("ms", [-1, float("nan"), float("inf")])
def test_ms_to_bytes_rejects_impossible_durations(ms: float) -> None:
    with pytest.raises(AudioFormatError):
        audio.ms_to_bytes(ms)


@pytest.mark.parametrize(
    ("fmt", "name"),
    [
        ({"type": "audio/pcm", "rate": 24000}, "pcm16"),
        ({"type": "audio/pcm"}, "pcm16"),
        ({"type": "audio/pcmu"}, "g711_ulaw"),
        ({"type": "audio/pcma"}, "g711_alaw"),
        ("pcm16", "pcm16"),
        ("g711_ulaw", "g711_ulaw"),
        ("g711_alaw", "g711_alaw"),
        ("audio/pcmu", "g711_ulaw"),
        (None, "pcm16"),
    ],
)
def test_format_name(fmt: dict | str | None, name: str) -> None:
    assert audio.format_name(fmt) == name


@pytest.mark.parametrize(
    ("fmt", "message"),
    [
        ({"type": "audio/pcm", "rate": 16000}, "24000"),
        ({"type": "audio/opus"}, "audio/pcmu"),
        ({}, "'type'"),
        ("mp3", "g711_ulaw"),
        (24000, "int"),
    ],
)
def test_format_name_rejects(fmt: object, message: str) -> None:
    with pytest.raises(AudioFormatError, match=message):
        audio.format_name(fmt)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# Sample conversions


@given(hnp.arrays(np.float32, st.integers(0, 64), elements=st.floats(-1, 1, width=32)))
def test_float_pcm16_float_round_trip(x: np.ndarray) -> None:
    pcm = audio.float32_to_pcm16(x)
    assert pcm.dtype == np.int16
    back = audio.pcm16_to_float32(pcm)
    assert back.dtype == np.float32
    assert np.all(np.abs(back - x) <= 1 / 32768)


@given(hnp.arrays(np.int16, st.integers(0, 64)))
def test_pcm16_float_pcm16_is_exact(x: np.ndarray) -> None:
    f = audio.pcm16_to_float32(x)
    assert np.all((f >= -1) & (f < 1))
    assert np.array_equal(audio.float32_to_pcm16(f), x)


def test_float32_to_pcm16_rounds_clips_and_zeroes_nan() -> None:
    x = np.array([0.4, 0.6, -0.4, -0.6, 1.5, -1.5, 1.0, -1.0, np.nan, np.inf], np.float64)
    got = audio.float32_to_pcm16(x / np.array([32768] * 4 + [1] * 6))
    assert got.tolist() == [0, 1, 0, -1, 32767, -32768, 32767, -32768, 0, 32767]
    with pytest.raises(AudioFormatError, match="normalize_audio"):
        audio.float32_to_pcm16(np.zeros(3, np.int32))


@given(st.binary(max_size=200).filter(lambda b: len(b) % 2 == 0))
def test_pcm16_bytes_int16_round_trip(data: bytes) -> None:
    samples = audio.as_int16(data)
    assert samples.dtype == np.int16 and len(samples) == len(data) // 2
    assert audio.to_pcm16_bytes(samples) == data
    assert audio.as_int16(bytearray(data)).tolist() == samples.tolist()
    assert audio.as_int16(memoryview(data)).tolist() == samples.tolist()


def test_as_int16_is_little_endian_and_views_arrays() -> None:
    assert audio.as_int16(b"\x01\x00\xff\xff\x00\x80").tolist() == [1, -1, -32768]
    x = np.arange(5, dtype=np.int16)
    assert audio.as_int16(x) is x
    big = x.astype(">i2")
    assert audio.as_int16(big).tolist() == x.tolist()
    assert audio.to_pcm16_bytes(big) == x.astype("<i2").tobytes()
    assert audio.as_int16(np.array([0.5], np.float32)).tolist() == [16384]
    assert audio.to_pcm16_bytes(np.array([-1.0, 0.0])) == b"\x00\x80\x00\x00"


def test_as_int16_rejects_odd_bytes_and_other_dtypes() -> None:
    with pytest.raises(AudioFormatError, match="odd"):
        audio.as_int16(b"\x00\x01\x02")
    with pytest.raises(AudioFormatError, match="normalize_audio"):
        audio.as_int16(np.zeros(4, np.int32))


@given(st.binary(max_size=300))
def test_base64_round_trip(data: bytes) -> None:
    text = audio.b64encode_audio(data)
    assert isinstance(text, str)
    assert text == base64.b64encode(data).decode()
    assert audio.b64decode_audio(text) == data


def test_base64_of_arrays_is_int16_le() -> None:
    x = np.array([1, -2, 300], np.int16)
    assert audio.b64decode_audio(audio.b64encode_audio(x)) == x.astype("<i2").tobytes()
    f = np.array([0.5, -0.5], np.float32)
    assert audio.b64decode_audio(audio.b64encode_audio(f)) == audio.to_pcm16_bytes(f)


@pytest.mark.parametrize("bad", ["!!notbase64!!", "AAA", "AA AA", "ÄÖ"])
def test_base64_decode_is_strict(bad: str) -> None:
    with pytest.raises(AudioFormatError, match="base64"):
        audio.b64decode_audio(bad)


# --------------------------------------------------------------------------------------------
# G.711: the classic per-sample reference (Sun Microsystems g711.c, as in CPython's audioop)

SEG_UEND = (0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF)
SEG_AEND = (0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF)


def _search(value: int, table: tuple[int, ...]) -> int:
    for i, end in enumerate(table):
        if value <= end:
            return i
    return len(table)


def ref_linear2ulaw(pcm: int) -> int:
    pcm >>= 2  # 16-bit to 14-bit
    if pcm < 0:
        pcm, mask = -pcm, 0x7F
    else:
        mask = 0xFF
    pcm = min(pcm, 8159) + (0x84 >> 2)
    seg = _search(pcm, SEG_UEND)
    if seg >= 8:
        return 0x7F ^ mask
    return ((seg << 4) | ((pcm >> (seg + 1)) & 0xF)) ^ mask


def ref_ulaw2linear(u: int) -> int:
    u = ~u & 0xFF
    t = ((u & 0x0F) << 3) + 0x84
    t <<= (u & 0x70) >> 4
    return 0x84 - t if u & 0x80 else t - 0x84


def ref_linear2alaw(pcm: int) -> int:
    pcm >>= 3  # 16-bit to 13-bit
    if pcm >= 0:
        mask = 0xD5
    else:
        mask, pcm = 0x55, -pcm - 1
    seg = _search(pcm, SEG_AEND)
    if seg >= 8:
        return 0x7F ^ mask
    aval = seg << 4
    aval |= (pcm >> 1) & 0xF if seg < 2 else (pcm >> seg) & 0xF
    return aval ^ mask


def ref_alaw2linear(a: int) -> int:
    a ^= 0x55
    t = (a & 0x0F) << 4
    seg = (a & 0x70) >> 4
    if seg == 0:
        t += 8
    elif seg == 1:
        t += 0x108
    else:
        t = (t + 0x108) << (seg - 1)
    return t if a & 0x80 else -t


ALL_INT16 = np.arange(-32768, 32768, dtype=np.int16)


@pytest.mark.parametrize(
    ("encode", "reference"),
    [(audio.mulaw_encode, ref_linear2ulaw), (audio.alaw_encode, ref_linear2alaw)],
)
def test_g711_encode_matches_reference_for_all_int16(
    encode: Callable[[np.ndarray], bytes], reference: Callable[[int], int]
) -> None:
    expected = bytes(reference(x) for x in range(-32768, 32768))
    assert encode(ALL_INT16) == expected


@pytest.mark.parametrize(
    ("decode", "reference"),
    [(audio.mulaw_decode, ref_ulaw2linear), (audio.alaw_decode, ref_alaw2linear)],
)
def test_g711_decode_matches_reference_for_all_codes(
    decode: Callable[[bytes], np.ndarray], reference: Callable[[int], int]
) -> None:
    got = decode(bytes(range(256)))
    assert got.dtype == np.int16
    assert got.tolist() == [reference(c) for c in range(256)]


def test_g711_known_codes() -> None:
    zero = np.zeros(1, np.int16)
    assert audio.mulaw_encode(zero) == b"\xff"
    assert audio.alaw_encode(zero) == b"\xd5"
    assert audio.mulaw_encode(np.array([32767, -32768], np.int16)) == b"\x80\x00"
    assert audio.alaw_encode(np.array([32767, -32768], np.int16)) == b"\xaa\x2a"
    assert audio.mulaw_decode(b"\xff\x7f").tolist() == [0, 0]
    assert audio.mulaw_decode(b"\x80\x00").tolist() == [32124, -32124]
    assert audio.alaw_decode(b"\xd5\xaa\x2a").tolist() == [8, 32256, -32256]


@pytest.mark.parametrize(
    ("encode", "decode"),
    [(audio.mulaw_encode, audio.mulaw_decode), (audio.alaw_encode, audio.alaw_decode)],
)
def test_g711_round_trip_within_one_quantisation_step(
    encode: Callable[[np.ndarray], bytes], decode: Callable[[bytes], np.ndarray]
) -> None:
    levels = np.unique(decode(bytes(range(256))).astype(np.int64))
    x = ALL_INT16.astype(np.int64)
    y = decode(encode(ALL_INT16)).astype(np.int64)
    inside = (x >= levels[0]) & (x <= levels[-1])
    hi = np.searchsorted(levels, x[inside])
    lo = np.maximum(hi - 1, 0)
    step = levels[hi] - levels[lo]
    assert np.all(np.abs(y[inside] - x[inside]) <= np.maximum(step, 8))
    assert np.all(y[x > levels[-1]] == levels[-1])
    assert np.all(y[x < levels[0]] == levels[0])
    # Relative error stays under ~6 % above the smallest segments (the point of companding).
    loud = np.abs(x) > 1024
    assert np.max(np.abs(y[loud] - x[loud]) / np.abs(x[loud])) < 0.07


def test_g711_matches_audioop_when_available() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # audioop is gone in 3.13
        audioop = pytest.importorskip("audioop")
    data = ALL_INT16.tobytes()
    assert audio.mulaw_encode(ALL_INT16) == audioop.lin2ulaw(data, 2)
    assert audio.alaw_encode(ALL_INT16) == audioop.lin2alaw(data, 2)


@pytest.mark.parametrize("fmt", ["g711_ulaw", "g711_alaw"])
def test_encode_decode_for_g711_resamples_and_keeps_a_tone(fmt: audio.AudioFormatName) -> None:
    x = audio.float32_to_pcm16(sine(440, 1.0, 24000, 0.3))
    wire = audio.encode_for_format(x, fmt)
    assert len(wire) == 8000  # 1 s at 8 kHz, 1 byte per sample
    y = audio.decode_from_format(wire, fmt)
    assert y.dtype == np.int16 and len(y) == len(x)
    assert peak_hz(y, 24000) == pytest.approx(440, abs=2)
    error = y[1000:-1000].astype(np.float64) - x[1000:-1000]
    snr = rms_db(x[1000:-1000]) - rms_db(error)
    assert snr > 30


def test_encode_decode_for_pcm16_is_bytes() -> None:
    x = np.array([1, -1, 32767], np.int16)
    wire = audio.encode_for_format(x, "pcm16")
    assert wire == b"\x01\x00\xff\xff\xff\x7f"
    assert audio.decode_from_format(wire, "pcm16").tolist() == x.tolist()
    assert audio.decode_from_format(b"", "g711_ulaw").tolist() == []


# --------------------------------------------------------------------------------------------
# Resampling


def test_resample_48k_24k_48k_keeps_a_1khz_tone() -> None:
    x = sine(1000, 1.0, 48000, 0.5)
    down = audio.resample(x, 48000, 24000)
    assert down.dtype == np.float32 and len(down) == 24000
    back = audio.resample(down, 24000, 48000)
    assert len(back) == 48000
    assert peak_hz(down, 24000) == pytest.approx(1000, abs=1)
    assert peak_hz(back, 48000) == pytest.approx(1000, abs=1)
    middle = slice(2400, -2400)
    assert abs(rms_db(back[middle]) - rms_db(x[middle])) < 1.0
    assert abs(rms_db(down[1200:-1200]) - rms_db(x[middle])) < 1.0


def test_resample_filters_out_what_would_alias() -> None:
    x = sine(15000, 1.0, 48000, 0.5)  # above the 12 kHz Nyquist of 24 kHz
    down = audio.resample(x, 48000, 24000)
    # Skip the edges: the abrupt start and end of the tone are broadband clicks, not aliasing.
    assert rms_db(x) - rms_db(down[1200:-1200]) > 60
    alias = audio.resample(sine(9000, 1.0, 48000, 0.5), 48000, 24000)  # where 15 kHz would fold
    assert rms_db(alias[1200:-1200]) - rms_db(down[1200:-1200]) > 60


def test_resample_keeps_the_dtype_family_and_shape() -> None:
    i16 = audio.float32_to_pcm16(sine(300, 0.1, 48000))
    assert audio.resample(i16, 48000, 24000).dtype == np.int16
    assert audio.resample(i16.astype(np.float64) / 32768, 48000, 24000).dtype == np.float32
    assert audio.resample(i16.astype(np.int32), 48000, 24000).dtype == np.int32
    stereo = np.stack([i16, i16], axis=1)
    assert audio.resample(stereo, 48000, 24000).shape == (2400, 2)
    assert audio.resample(np.zeros(0, np.int16), 48000, 24000).dtype == np.int16


def test_resample_same_rate_returns_the_input() -> None:
    x = np.arange(10, dtype=np.int16)
    assert audio.resample(x, 24000, 24000) is x


@pytest.mark.parametrize("rates", [(0, 24000), (24000, -1), (44100.5, 24000), (None, 24000)])
def test_resample_rejects_bad_rates(rates: tuple) -> None:
    with pytest.raises(AudioFormatError):
        audio.resample(np.zeros(10, np.int16), *rates)


@pytest.mark.parametrize("dtype", ["int16", "float32"])
def test_stream_resampler_matches_one_shot(dtype: str) -> None:
    x = audio.float32_to_pcm16(sine(440, 1.0, 44100, 0.3) + sine(3000, 1.0, 44100, 0.1))
    one_shot = audio.resample(x, 44100, 24000)
    stream = audio.StreamResampler(44100, dtype=dtype)
    chunks = [x[i : i + 441] for i in range(0, len(x), 441)]  # 10 ms
    parts = [stream.process(c, last=i == len(chunks) - 1) for i, c in enumerate(chunks)]
    streamed = np.concatenate(parts)
    assert streamed.dtype == np.dtype(dtype)
    assert abs(len(streamed) - len(one_shot)) <= 4
    if dtype == "float32":
        streamed = audio.float32_to_pcm16(streamed)
    n = min(len(streamed), len(one_shot))
    diff = streamed[:n].astype(np.float64) - one_shot[:n]
    assert np.max(np.abs(diff)) <= 64  # the ends differ by a few LSB at most after settling
    assert rms_db(diff) < rms_db(one_shot) - 60


def test_stream_resampler_same_rate_passes_through() -> None:
    stream = audio.StreamResampler(24000)
    x = np.arange(240, dtype=np.int16)
    assert stream.process(x).tolist() == x.tolist()
    with pytest.raises(AudioFormatError):
        audio.StreamResampler(44100, dtype="int32")


# --------------------------------------------------------------------------------------------
# Channels and normalisation


def test_to_mono_both_orientations() -> None:
    left = np.array([100, 200, 300, 400, 500, 600, 700, 800, 900, 1000], np.int16)
    right = -left + 2
    channels_last = np.stack([left, right], axis=1)
    assert audio.to_mono(channels_last).tolist() == [1] * 10
    assert audio.to_mono(channels_last.T).tolist() == [1] * 10
    assert audio.to_mono(channels_last).dtype == np.int16
    f = np.ones((10, 3), np.float32) * np.array([0.1, 0.2, 0.3], np.float32)
    assert np.allclose(audio.to_mono(f), 0.2)
    assert audio.to_mono(left) is left
    assert audio.to_mono(left[:, None]).tolist() == left.tolist()


@pytest.mark.parametrize(
    ("samples", "rate", "expected"),
    [
        (np.array([0, 16384, -32768], np.int16), 24000, [0, 16384, -32768]),
        (np.array([128, 192, 0, 255], np.uint8), 24000, [0, 16384, -32768, 32512]),
        (np.array([0, 2**30, -(2**31)], np.int32), 24000, [0, 16384, -32768]),
        (np.array([0.0, 0.5, -1.0, 1.2], np.float64), 24000, [0, 16384, -32768, 32767]),
        (np.array([0.0, 0.5, -1.0], np.float16), 24000, [0, 16384, -32768]),
        (np.array([[0.5, 0.0], [0.5, 1.0]], np.float32), 24000, [8192, 24576]),
    ],
)
def test_normalize_audio_values(samples: np.ndarray, rate: int, expected: list[int]) -> None:
    got = audio.normalize_audio(samples, rate)
    assert got.dtype == np.int16 and got.ndim == 1
    assert got.tolist() == expected


def test_normalize_audio_resamples_and_keeps_mono_int16_24k_as_is() -> None:
    x = sine(440, 1.0, 44100)
    got = audio.normalize_audio(np.stack([x, x], axis=1), 44100)
    assert got.dtype == np.int16 and len(got) == 24000
    assert peak_hz(got, 24000) == pytest.approx(440, abs=2)
    same = np.zeros(480, np.int16)
    assert audio.normalize_audio(same, 24000) is same
    assert audio.normalize_audio(np.zeros(0, np.float32), 16000).tolist() == []
    assert len(audio.normalize_audio(np.zeros(2400, np.int16), 24000, target_rate=8000)) == 800


@pytest.mark.parametrize(
    ("samples", "rate", "message"),
    [
        (np.zeros(10, np.int16), None, "sample_rate is required"),
        (np.zeros(10, np.int16), 0, "positive"),
        (np.zeros(10, np.int16), -8000, "positive"),
        (np.zeros(10, np.int16), 1_000_000, "above 384000"),
        (np.zeros(10, np.int16), "24000", "int"),
        (np.zeros(10, np.complex64), 24000, "complex"),
        (np.zeros(10, bool), 24000, "bool"),
        (np.array(["a", "b"]), 24000, "numeric"),
        (np.array([0.0, np.nan]), 24000, "NaN"),
        (np.array([0.0, np.inf], np.float32), 24000, "NaN or infinite"),
        (np.array([0.0, 1000.0, -3000.0]), 24000, "divide by 32768"),
        (np.zeros((4, 4, 4), np.int16), 24000, "3-D"),
        (np.zeros((100, 10), np.int16), 24000, "8 channels"),
        (np.zeros(10, np.int64), 24000, "cast to int16"),
        (np.float32(0.5), 24000, "single number"),
    ],
)
def test_normalize_audio_rejects(samples: np.ndarray, rate: object, message: str) -> None:
    with pytest.raises(AudioFormatError, match=message):
        audio.normalize_audio(samples, rate)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# WAV


def wav_by_hand(
    data: bytes, *, tag: int, channels: int, rate: int, bits: int, extensible: bool = False
) -> bytes:
    """Build a WAV file with struct, independent of the module under test."""
    block = channels * bits // 8
    if extensible:
        fmt = struct.pack(
            "<HHIIHHHHI16s",
            0xFFFE,
            channels,
            rate,
            rate * block,
            block,
            bits,
            22,
            bits,
            0,
            struct.pack("<H", tag) + b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71",
        )
    else:
        fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * block, block, bits)
    odd_chunk = b"LIST" + struct.pack("<I", 3) + b"abc\x00"  # odd size, padded
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + odd_chunk
    body += b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def test_wav_round_trip_int16_mono_and_stereo(tmp_path: Path) -> None:
    mono = audio.float32_to_pcm16(sine(300, 0.05, 16000))
    path = tmp_path / "mono.wav"
    audio.write_wav(path, mono, 16000)
    samples, rate = audio.read_wav(path)
    assert rate == 16000 and samples.dtype == np.int16 and samples.tolist() == mono.tolist()

    stereo = np.stack([mono, -mono], axis=1)
    buffer = io.BytesIO()
    audio.write_wav(buffer, stereo, 44100)
    samples, rate = audio.read_wav(io.BytesIO(buffer.getvalue()))
    assert rate == 44100 and samples.shape == (len(mono), 2)
    assert np.array_equal(samples, stereo)
    assert audio.wav_bytes(stereo, 44100) == buffer.getvalue()


def test_wav_bytes_are_readable_by_the_stdlib() -> None:
    x = np.array([[1, -1], [300, -300], [32767, -32768]], np.int16)
    with wave.open(io.BytesIO(audio.wav_bytes(x, 8000))) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (2, 2, 8000)
        assert w.readframes(10) == x.astype("<i2").tobytes()
    floats = audio.wav_bytes(np.array([0.5, -0.5], np.float32))
    with wave.open(io.BytesIO(floats)) as w:
        assert w.getframerate() == 24000
        assert np.frombuffer(w.readframes(2), "<i2").tolist() == [16384, -16384]


@pytest.mark.parametrize("extensible", [False, True])
def test_read_float32_and_float64_wav(extensible: bool) -> None:
    x = np.array([[0.0, 0.25], [-0.5, 1.0], [0.125, -1.0]])
    for dtype, bits in (("<f4", 32), ("<f8", 64)):
        data = wav_by_hand(
            x.astype(dtype).tobytes(),
            tag=3,
            channels=2,
            rate=48000,
            bits=bits,
            extensible=extensible,
        )
        samples, rate = audio.read_wav(data)
        assert rate == 48000 and samples.dtype == np.float32
        assert samples.tolist() == x.tolist()


def test_read_24bit_wav() -> None:
    values = [0, 1, -1, 8388607, -8388608, 4194304]
    data = b"".join(v.to_bytes(3, "little", signed=True) for v in values)
    samples, rate = audio.read_wav(wav_by_hand(data, tag=1, channels=1, rate=22050, bits=24))
    assert rate == 22050 and samples.dtype == np.float32 and samples.shape == (6,)
    assert np.allclose(samples * 8388608, values)
    stereo, _ = audio.read_wav(
        wav_by_hand(data, tag=1, channels=2, rate=8000, bits=24, extensible=True)
    )
    assert stereo.shape == (3, 2) and stereo[2, 0] == -1.0


def test_read_8bit_32bit_and_g711_wav() -> None:
    u8, _ = audio.read_wav(wav_by_hand(bytes([128, 255, 0]), tag=1, channels=1, rate=8000, bits=8))
    assert u8.tolist() == [0.0, 127 / 128, -1.0]
    i32 = np.array([0, 2**30, -(2**31)], "<i4").tobytes()
    s32, _ = audio.read_wav(wav_by_hand(i32, tag=1, channels=1, rate=8000, bits=32))
    assert s32.tolist() == [0.0, 0.5, -1.0]
    ulaw, _ = audio.read_wav(wav_by_hand(b"\xff\x80", tag=7, channels=1, rate=8000, bits=8))
    assert ulaw.dtype == np.int16 and ulaw.tolist() == [0, 32124]
    alaw, _ = audio.read_wav(wav_by_hand(b"\xd5", tag=6, channels=1, rate=8000, bits=8))
    assert alaw.tolist() == [8]


def test_read_wav_tolerates_a_streaming_data_size() -> None:
    data = np.arange(7, dtype="<i2").tobytes() + b"\x00"  # plus a stray half frame
    good = wav_by_hand(data, tag=1, channels=1, rate=24000, bits=16)
    streaming = good[: -len(data) - 4] + struct.pack("<I", 0xFFFFFFFF) + data
    samples, _ = audio.read_wav(streaming)
    assert samples.tolist() == list(range(7))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(40), "PNG"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "WEBP"),
        (wav_by_hand(bytes(8), tag=2, channels=1, rate=8000, bits=4), "ADPCM"),
        (wav_by_hand(bytes(8), tag=1, channels=1, rate=8000, bits=12), "12-bit"),
        (wav_by_hand(bytes(8), tag=3, channels=1, rate=8000, bits=16), "16-bit"),
        (b"RIFF\x04\x00\x00\x00WAVE", "no fmt chunk"),
    ],
)
def test_read_wav_rejects(data: bytes, message: str) -> None:
    with pytest.raises(AudioFormatError, match=message):
        audio.read_wav(data)


# --------------------------------------------------------------------------------------------
# load_audio


def test_load_audio_from_path_wav_bytes_raw_bytes_and_arrays(tmp_path: Path) -> None:
    x = sine(440, 0.5, 48000, 0.25)
    stereo = np.stack([x, x], axis=1)
    path = tmp_path / "in.wav"
    audio.write_wav(path, stereo, 48000)
    from_path = audio.load_audio(path)
    from_str = audio.load_audio(str(path))
    from_wav = audio.load_audio(path.read_bytes(), sample_rate=8000)  # the header's rate wins
    assert from_path.dtype == np.int16 and len(from_path) == 12000
    assert np.array_equal(from_path, from_str) and np.array_equal(from_path, from_wav)
    assert peak_hz(from_path, 24000) == pytest.approx(440, abs=2)

    pcm = audio.float32_to_pcm16(x)
    raw = audio.load_audio(pcm.tobytes(), sample_rate=48000)
    assert np.array_equal(raw, audio.load_audio(pcm, sample_rate=48000))
    same = audio.load_audio(pcm[:2400].tobytes(), sample_rate=24000)
    assert same.tolist() == pcm[:2400].tolist()
    assert len(audio.load_audio(x, 48000, target_rate=8000)) == 4000

    raw_path = tmp_path / "in.pcm"
    raw_path.write_bytes(pcm[:480].tobytes())
    assert audio.load_audio(raw_path, sample_rate=24000).tolist() == pcm[:480].tolist()


@pytest.mark.parametrize(
    ("source", "rate", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 24000, "PNG"),
        (b"This is a text file, not audio.\n", 24000, "text"),
        (b"ID3\x04\x00\x00\x00\x00\x00\x00", 24000, "MP3"),
        (b"OggS\x00\x02" + bytes(20), 24000, "Ogg"),
        (b"RIFF\x10\x00\x00\x00AVI LIST", 24000, "AVI"),
        (wav_by_hand(bytes(8), tag=0x55, channels=1, rate=8000, bits=0), 24000, "MP3"),
        (b"\x00\x01\x02", 24000, "odd"),
        (bytes(480), None, "sample_rate"),
        (np.zeros(480, np.int16), None, "sample_rate"),
        (np.array([0.0, np.nan, 0.5]), 24000, "NaN"),
        (np.zeros((480, 10), np.float32), 24000, "8 channels"),
        (np.array([1000.0, -20000.0]), 16000, "divide by 32768"),
        ([0.0, 0.1], 24000, "list"),
    ],
)
def test_load_audio_rejects_with_helpful_messages(source: object, rate: int, message: str) -> None:
    with pytest.raises(AudioFormatError, match=message):
        audio.load_audio(source, rate)  # type: ignore[arg-type]


def test_load_audio_names_what_a_non_wav_file_is(tmp_path: Path) -> None:
    path = tmp_path / "picture.wav"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    with pytest.raises(AudioFormatError, match="PNG image"):
        audio.load_audio(path)
    with pytest.raises(FileNotFoundError):
        audio.load_audio(tmp_path / "missing.wav")


# --------------------------------------------------------------------------------------------
# Levels and chunks


def test_rms_dbfs() -> None:
    square = np.array([32767, -32768] * 100, np.int16)
    assert audio.rms_dbfs(square) == pytest.approx(0.0, abs=0.01)
    assert audio.rms_dbfs(sine(1000, 1.0, 24000, 1.0)) == pytest.approx(-3.01, abs=0.01)
    half = audio.float32_to_pcm16(sine(1000, 1.0, 24000, 0.5))
    assert audio.rms_dbfs(half) == pytest.approx(-9.03, abs=0.01)
    assert audio.rms_dbfs(np.zeros(100, np.int16)) == -120.0
    assert audio.rms_dbfs(np.zeros(0, np.float32)) == -120.0
    assert audio.rms_dbfs(np.array([1], np.int16)) == pytest.approx(-90.3, abs=0.1)


def test_frame_energy() -> None:
    x = np.concatenate([np.zeros(240, np.int16), np.full(240, 16384, np.int16), [32767] * 100])
    energy = audio.frame_energy(x.astype(np.int16), 240)
    assert energy.dtype == np.float32 and energy.shape == (2,)  # partial frame dropped
    assert energy.tolist() == [0.0, 0.5]
    full = audio.frame_energy(np.full(480, -32768, np.int16), 160)
    assert full.tolist() == [1.0, 1.0, 1.0]
    assert audio.frame_energy(np.zeros(10, np.int16), 240).shape == (0,)
    tone = audio.frame_energy(sine(1000, 0.1, 24000, 1.0), 240)
    assert np.allclose(tone, np.sqrt(0.5), atol=1e-3)
    with pytest.raises(AudioFormatError):
        audio.frame_energy(x, 0)


@pytest.mark.parametrize(
    ("fmt", "nbytes", "chunk_ms", "sizes"),
    [
        ("pcm16", 4800, 20, [960] * 5),
        ("pcm16", 5000, 20, [960] * 5 + [200]),
        ("pcm16", 100, 0.99, [46, 46, 8]),  # 0.99 ms = 23.76 samples -> 23 whole samples
        ("pcm16", 10, 0.001, [2] * 5),  # at least one sample
        ("g711_ulaw", 1000, 20, [160] * 6 + [40]),
        ("g711_alaw", 0, 20, []),
    ],
)
def test_chunk_pcm(
    fmt: audio.AudioFormatName, nbytes: int, chunk_ms: float, sizes: list[int]
) -> None:
    data = bytes(range(256)) * (nbytes // 256) + bytes(range(nbytes % 256))
    chunks = list(audio.chunk_pcm(data, chunk_ms, fmt))
    assert [len(c) for c in chunks] == sizes
    assert b"".join(chunks) == data


def test_chunk_pcm_checks_arguments_at_call_time() -> None:
    with pytest.raises(AudioFormatError, match="odd"):
        audio.chunk_pcm(b"\x00" * 5, 20)
    with pytest.raises(AudioFormatError, match="positive"):
        audio.chunk_pcm(b"\x00" * 4, 0)
    assert len(list(audio.chunk_pcm(b"\x00" * 5, 20, "g711_ulaw"))) == 1


@settings(max_examples=50)
@given(st.binary(max_size=2000), st.floats(0.05, 100), st.sampled_from(["g711_ulaw", "g711_alaw"]))
def test_chunk_pcm_reassembles(data: bytes, chunk_ms: float, fmt: audio.AudioFormatName) -> None:
    chunks = list(audio.chunk_pcm(data, chunk_ms, fmt))
    assert b"".join(chunks) == data
    assert len({len(c) for c in chunks[:-1]}) <= 1


def _tone_snr_db(x: np.ndarray, freq: float = 440.0, rate: int = 24_000) -> float:
    """Power near ``freq`` over everything else (alignment-free: seams show up as noise)."""
    mid = x[len(x) // 4 : 3 * len(x) // 4].astype(np.float64)
    spectrum = np.abs(np.fft.rfft(mid * np.hanning(len(mid)))) ** 2
    freqs = np.fft.rfftfreq(len(mid), 1 / rate)
    near = np.abs(freqs - freq) < 15
    return float(10 * np.log10(spectrum[near].sum() / spectrum[~near].sum()))


def test_stream_codec_g711_has_no_seams() -> None:
    """Chunked G.711 through StreamCodec is as clean as encoding in one piece."""
    from realtime_nb.audio import StreamCodec, decode_from_format, encode_for_format
    from realtime_nb.synth import tone

    signal = tone(440.0, 2.0)
    whole = decode_from_format(encode_for_format(signal, "g711_ulaw"), "g711_ulaw")
    naive = np.concatenate(
        [
            decode_from_format(encode_for_format(signal[i : i + 480], "g711_ulaw"), "g711_ulaw")
            for i in range(0, len(signal), 480)
        ]
    )
    enc, dec = StreamCodec("g711_ulaw"), StreamCodec({"type": "audio/pcmu"})
    wire = [enc.encode(signal[i : i + 480]) for i in range(0, len(signal), 480)]
    streamed = np.concatenate([dec.decode(c) for c in wire if c])
    assert len(streamed) > 0.9 * len(signal)
    assert _tone_snr_db(streamed) > _tone_snr_db(whole) - 3
    assert _tone_snr_db(streamed) > _tone_snr_db(naive) + 3
    assert StreamCodec("pcm16").encode(signal[:10]) == signal[:10].tobytes()

"""Tests for realtime_nb.synth: deterministic, speech-like, fast."""

from __future__ import annotations

import time

import numpy as np
import pytest

from realtime_nb import audio, synth
from realtime_nb.errors import AudioFormatError

RATE = 24_000
FRAME = 240  # 10 ms


def frame_db(x: np.ndarray) -> np.ndarray:
    """Per-10 ms RMS in dBFS."""
    return 20 * np.log10(np.maximum(audio.frame_energy(x, FRAME), 1e-7))


def band_fraction(x: np.ndarray, low: float, high: float, rate: int = RATE) -> float:
    spectrum = np.abs(np.fft.rfft(x.astype(np.float64))) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / rate)
    return float(spectrum[(freqs >= low) & (freqs < high)].sum() / spectrum.sum())


def test_speech_like_is_deterministic_per_seed() -> None:
    a = synth.speech_like(2.0, seed=7)
    assert np.array_equal(a, synth.speech_like(2.0, seed=7))
    assert not np.array_equal(a, synth.speech_like(2.0, seed=8))
    assert a.dtype == np.int16 and a.shape == (48_000,)


@pytest.mark.parametrize("rate", [8_000, 16_000, 24_000, 44_100])
def test_speech_like_length_and_level(rate: int) -> None:
    x = synth.speech_like(1.5, sample_rate=rate, seed=1)
    assert x.shape == (round(1.5 * rate),)
    assert audio.rms_dbfs(x) == pytest.approx(-20.0, abs=0.1)
    assert np.abs(x).max() < 32767  # no clipping at the default level
    quiet = synth.speech_like(1.5, sample_rate=rate, seed=1, level_dbfs=-35.0)
    assert audio.rms_dbfs(quiet) == pytest.approx(-35.0, abs=0.1)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_speech_like_energy_is_in_the_speech_band(seed: int) -> None:
    x = synth.speech_like(3.0, seed=seed)
    assert band_fraction(x, 80, 4000) > 0.9
    assert band_fraction(x, 0, 70) < 0.01  # no DC or rumble
    assert band_fraction(x, 4000, 12000) > 1e-4  # a little fricative noise
    # Formants: the energy is not all in the lowest harmonics.
    assert band_fraction(x, 900, 4000) > 0.02


@pytest.mark.parametrize("seed", [0, 5])
def test_speech_like_has_syllables_and_gaps_an_energy_vad_sees(seed: int) -> None:
    x = synth.speech_like(4.0, seed=seed)
    db = frame_db(x)
    loud = db > -40
    assert np.percentile(db, 75) > -25  # syllables are well above a -40 dBFS VAD threshold
    assert loud.mean() > 0.6  # mostly speech
    assert (db < -50).sum() >= 8  # but with short gaps
    onsets = np.flatnonzero(loud[1:] & ~loud[:-1])
    rate_per_s = (len(onsets) + loud[0]) / 4.0
    assert 3.0 <= rate_per_s <= 7.0  # syllable rhythm of speech
    gaps = np.diff(np.flatnonzero(np.diff(loud.astype(int)) != 0))
    assert gaps.max() < 30  # no pause or syllable longer than 300 ms


def test_speech_like_is_voiced_with_a_speech_pitch() -> None:
    x = synth.speech_like(2.0, seed=3).astype(np.float64)
    db = frame_db(x.astype(np.int16))
    loudest = int(np.argmax(db))
    segment = x[loudest * FRAME : loudest * FRAME + 960]  # 40 ms in a syllable
    segment = segment - segment.mean()
    corr = np.correlate(segment, segment, "full")[len(segment) - 1 :]
    lags = np.arange(len(corr))
    valid = (lags >= RATE // 300) & (lags <= RATE // 80)
    lag = lags[valid][np.argmax(corr[valid])]
    assert 85 <= RATE / lag <= 270
    assert corr[lag] / corr[0] > 0.5  # periodic, not noise


def test_speech_like_60_seconds_is_fast() -> None:
    synth.speech_like(0.5)  # warm up numpy's FFT plans
    start = time.perf_counter()
    x = synth.speech_like(60.0, seed=11)
    elapsed = time.perf_counter() - start
    assert len(x) == 60 * RATE
    assert elapsed < 1.0


def test_silence_and_utterance() -> None:
    assert synth.silence(0.1).tolist() == [0] * 2400
    assert synth.silence(0.5, 8000).dtype == np.int16
    u = synth.utterance(speech_s=1.0, lead_silence_s=0.3, tail_silence_s=0.8, seed=2)
    assert u.dtype == np.int16 and len(u) == round(2.1 * RATE)
    assert not u[: round(0.3 * RATE)].any()
    assert not u[-round(0.8 * RATE) :].any()
    assert np.array_equal(u[round(0.3 * RATE) : -round(0.8 * RATE)], synth.speech_like(1.0, seed=2))
    assert len(synth.utterance(1.0, 0.1, 0.1, sample_rate=16000)) == 19200
    assert len(synth.speech_like(0.0)) == 0


def test_tone_frequency_and_level() -> None:
    x = synth.tone(1000, 1.0)
    assert x.dtype == np.int16 and len(x) == RATE
    spectrum = np.abs(np.fft.rfft(x.astype(np.float64)))
    assert np.fft.rfftfreq(len(x), 1 / RATE)[np.argmax(spectrum)] == pytest.approx(1000)
    assert audio.rms_dbfs(x) == pytest.approx(-12.0, abs=0.05)
    assert audio.rms_dbfs(synth.tone(440, 0.5, 8000, level_dbfs=-30)) == pytest.approx(
        -30, abs=0.05
    )


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: synth.tone(12_000, 1.0), "freq_hz"),
        (lambda: synth.tone(-5, 1.0), "freq_hz"),
        (lambda: synth.speech_like(-1.0), "duration_s"),
        (lambda: synth.speech_like(1.0, sample_rate=0), "sample_rate"),
        (lambda: synth.silence(float("nan")), "duration_s"),
    ],
)
def test_bad_arguments(call: object, message: str) -> None:
    with pytest.raises(AudioFormatError, match=message):
        call()  # type: ignore[operator]

"""Deterministic speech-like test audio, so demos and tests need no microphone and no files.

:func:`speech_like` is a small source-filter synthesiser: a glottal pulse train with a gliding
pitch, shaped per syllable by three formant resonances (vowels), with short fricative noise
bursts and gaps between syllables. It is not intelligible, but it has the level, spectrum and
4–6 Hz syllable rhythm that voice-activity detectors look for. The formant filters are applied
in the frequency domain per syllable (one FFT each), so a minute of audio takes a few tens of
milliseconds and there is no per-sample Python loop.

Levels are RMS as measured by :func:`realtime_nb.audio.rms_dbfs` (full scale 1.0).
"""

from __future__ import annotations

import math

import numpy as np

from .errors import AudioFormatError
from .protocol import SAMPLE_RATE

# Vowel formants (F1, F2, F3) in Hz for an adult voice: /a/ /i/ /u/ /e/ /o/ /æ/ /ʌ/ /ɪ/.
_VOWELS = np.array(
    [
        [730, 1090, 2440],
        [270, 2290, 3010],
        [300, 870, 2240],
        [530, 1840, 2480],
        [570, 840, 2410],
        [660, 1720, 2410],
        [640, 1190, 2390],
        [390, 1990, 2550],
    ],
    dtype=np.float64,
)
_BANDWIDTHS = np.array([90.0, 110.0, 160.0])
_TAIL_S = 0.03  # room for the resonators' ring-down after a syllable (they decay in ~5 ms)


def _num_samples(duration_s: float, sample_rate: int) -> int:
    """Return the sample count of ``duration_s``, checking both arguments."""
    if not math.isfinite(duration_s) or duration_s < 0:
        raise AudioFormatError(f"duration_s must be a finite number >= 0, not {duration_s!r}.")
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, int | np.integer):
        raise AudioFormatError(f"sample_rate must be an int in Hz, not {sample_rate!r}.")
    if sample_rate <= 0:
        raise AudioFormatError(f"sample_rate must be positive, got {sample_rate}.")
    return round(duration_s * sample_rate)


def _to_int16(x: np.ndarray, level_dbfs: float) -> np.ndarray:
    """Scale ``x`` to an RMS of ``level_dbfs`` and convert to int16 (clipping peaks)."""
    rms = math.sqrt(float(np.mean(x * x))) if x.size else 0.0
    if rms == 0.0:
        return np.zeros(x.size, np.int16)
    scaled = np.rint(x * (10.0 ** (level_dbfs / 20.0) / rms * 32768.0))
    clipped: np.ndarray = np.minimum(np.maximum(scaled, -32768.0), 32767.0).astype(np.int16)
    return clipped


def _rosenberg_table(points: int = 4096) -> np.ndarray:
    """Tabulate one period of the Rosenberg glottal flow pulse (open 40 %, closing 16 %)."""
    frac = np.linspace(0.0, 1.0, points + 1)
    opening, closing = 0.4, 0.16
    rise = 0.5 * (1.0 - np.cos(np.pi * np.minimum(frac, opening) / opening))
    fall = np.cos(0.5 * np.pi * np.clip(frac - opening, 0.0, closing) / closing)
    return np.where(frac < opening, rise, fall)


_PULSE = _rosenberg_table(4096)


def _glottal_source(f0: np.ndarray, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """Return the glottal flow derivative of a Rosenberg pulse train following ``f0`` (Hz)."""
    phase = np.cumsum(f0 / sample_rate)
    phase += rng.uniform()  # random start of the first period
    index = ((phase - np.floor(phase)) * (len(_PULSE) - 1)).astype(np.intp)
    flow = _PULSE[index]
    # Differentiating models the lip radiation and gives the +6 dB/octave tilt of speech.
    return np.diff(flow, prepend=flow[0])


def _formant_response(
    freqs: np.ndarray, formants: np.ndarray, bandwidths: np.ndarray
) -> np.ndarray:
    """Return the complex response of cascaded two-pole resonators (unit gain at DC)."""
    s = 2j * np.pi * freqs
    response = np.ones_like(s)
    for f, b in zip(formants, bandwidths, strict=True):
        w0 = 2 * np.pi * f
        response *= w0 * w0 / (s * s + 2 * np.pi * b * s + w0 * w0)
    return response


def speech_like(
    duration_s: float, sample_rate: int = SAMPLE_RATE, seed: int = 0, level_dbfs: float = -20.0
) -> np.ndarray:
    """Return ``duration_s`` of deterministic speech-like int16 mono audio.

    Syllables of 160–250 ms (4–6 per second) each get a vowel (three formants with jitter),
    a pitch target between 90 and 260 Hz around a speaker pitch in 110–220 Hz that glides
    between syllables, a rise-and-fall envelope, a 20–60 ms gap, and sometimes a fricative
    noise burst. The same ``seed`` always gives the same samples. ``level_dbfs`` is the RMS of
    the whole signal; the syllables themselves are a few dB louder.
    """
    n = _num_samples(duration_s, sample_rate)
    if n == 0:
        return np.zeros(0, np.int16)
    rng = np.random.default_rng(seed)
    sr = float(sample_rate)

    # Syllable boundaries (in samples): voiced part then a short gap.
    starts: list[int] = []
    ends: list[int] = []
    pos = 0
    while pos < n:
        voiced_len = round(rng.uniform(0.14, 0.21) * sr)
        gap = round(rng.uniform(0.02, 0.06) * sr)
        starts.append(pos)
        ends.append(min(n, pos + voiced_len))
        pos += voiced_len + gap
    count = len(starts)
    start_arr = np.array(starts)
    end_arr = np.array(ends)

    # Pitch: per-syllable targets around the speaker's pitch, glided linearly between centres,
    # with a gentle declination over the utterance.
    speaker_f0 = rng.uniform(110.0, 220.0)
    targets = speaker_f0 * 2.0 ** rng.uniform(-0.3, 0.3, count)
    centres = (start_arr + end_arr) / 2.0
    t = np.arange(n, dtype=np.float64)
    f0 = np.interp(t, centres, targets) * (1.0 - 0.1 * t / n)
    f0 = np.minimum(np.maximum(f0, 90.0), 260.0)
    source = _glottal_source(f0, sample_rate, rng)
    source += 0.05 * rng.standard_normal(n) * np.std(source)  # breathiness

    # Amplitude envelope: raised-cosine attack and release per syllable, zero in the gaps.
    envelope = np.zeros(n)
    for start, end in zip(starts, ends, strict=True):
        length = end - start
        ramp = max(1, min(length // 3, round(0.035 * sr)))
        window = np.ones(length)
        rise = 0.5 - 0.5 * np.cos(np.pi * np.arange(ramp) / ramp)
        window[:ramp] = rise
        window[length - ramp :] = np.minimum(window[length - ramp :], rise[::-1])
        envelope[start:end] = window * rng.uniform(0.6, 1.0)

    # Formant shaping per syllable in the frequency domain, overlap-added with a ring-down tail.
    tail = round(_TAIL_S * sr)
    out = np.zeros(n + tail)
    nyquist = sr / 2.0
    for start, end in zip(starts, ends, strict=True):
        segment = source[start:end] * envelope[start:end]
        size = 1 << (len(segment) + tail - 1).bit_length()  # next power of two
        freqs = np.fft.rfftfreq(size, 1.0 / sr)
        formants = _VOWELS[rng.integers(len(_VOWELS))] * rng.uniform(0.92, 1.08, 3)
        formants = np.minimum(formants, 0.45 * sr)
        bandwidths = _BANDWIDTHS * rng.uniform(0.8, 1.3, 3)
        response = _formant_response(freqs, formants, bandwidths)
        voiced = np.fft.irfft(np.fft.rfft(segment, size) * response, size)
        if rng.uniform() < 0.35:  # a fricative: band-passed noise at the onset
            burst = round(rng.uniform(0.03, 0.07) * sr)
            noise = rng.standard_normal(burst) * np.hanning(burst)
            centre = min(rng.uniform(3500.0, 6000.0), 0.4 * sr)
            band = np.exp(-0.5 * ((freqs - centre) / (0.25 * centre)) ** 2)
            band[freqs > 0.95 * nyquist] = 0.0
            hiss = np.fft.irfft(np.fft.rfft(noise, size) * band, size)
            peak_voiced = np.max(np.abs(voiced)) or 1.0
            voiced += hiss * (0.4 * peak_voiced / (np.max(np.abs(hiss)) or 1.0))
        stop = min(len(out), start + size)
        out[start:stop] += voiced[: stop - start]
    return _to_int16(out[:n], level_dbfs)


def silence(duration_s: float, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Return ``duration_s`` of digital silence as int16 zeros."""
    return np.zeros(_num_samples(duration_s, sample_rate), np.int16)


def utterance(
    speech_s: float = 1.5,
    lead_silence_s: float = 0.3,
    tail_silence_s: float = 0.8,
    sample_rate: int = SAMPLE_RATE,
    seed: int = 0,
) -> np.ndarray:
    """Return silence, ``speech_s`` of :func:`speech_like` audio, then silence (one VAD turn).

    The default tail of 0.8 s is longer than a server VAD's usual 500 ms silence window, so
    the turn ends on its own.
    """
    return np.concatenate(
        [
            silence(lead_silence_s, sample_rate),
            speech_like(speech_s, sample_rate, seed=seed),
            silence(tail_silence_s, sample_rate),
        ]
    )


def tone(
    freq_hz: float, duration_s: float, sample_rate: int = SAMPLE_RATE, level_dbfs: float = -12.0
) -> np.ndarray:
    """Return a sine of ``freq_hz`` as int16 with an RMS of ``level_dbfs`` (peak 3 dB higher).

    Raises:
        AudioFormatError: if ``freq_hz`` is negative or not below the Nyquist frequency.
    """
    n = _num_samples(duration_s, sample_rate)
    if not 0 <= freq_hz < sample_rate / 2:
        raise AudioFormatError(
            f"freq_hz must be in [0, {sample_rate / 2:g}) for sample_rate={sample_rate}, "
            f"got {freq_hz!r}."
        )
    amplitude = math.sqrt(2.0) * 10.0 ** (level_dbfs / 20.0) * 32768.0
    wave = amplitude * np.sin(2 * np.pi * freq_hz * np.arange(n) / sample_rate)
    samples: np.ndarray = np.clip(np.rint(wave), -32768, 32767).astype(np.int16)
    return samples


__all__ = ["silence", "speech_like", "tone", "utterance"]

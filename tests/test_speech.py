"""Offline speech: espeak-ng speaks 24 kHz int16; pocketsphinx hears it (better with hints)."""

from __future__ import annotations

import numpy as np
import pytest

from realtime_nb.server import speech
from realtime_nb.server.brain import Brain

pytestmark = pytest.mark.skipif(
    not speech.speech_available(), reason="pocketsphinx and espeak-ng are not installed"
)


def test_speak_gives_24khz_int16_of_a_plausible_length() -> None:
    pcm = speech.speak("what is the weather in Paris")
    assert pcm is not None and pcm.dtype == np.int16 and pcm.ndim == 1
    seconds = len(pcm) / 24_000
    assert 0.8 < seconds < 4  # six words
    assert np.abs(pcm.astype(np.int32)).max() > 3000  # not silence
    slower = speech.speak("what is the weather in Paris", words_per_minute=100)
    assert slower is not None and len(slower) > len(pcm)


def test_speak_falls_back_to_the_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    if speech.shutil.which("espeak-ng") is None:
        pytest.skip("no espeak-ng CLI")
    monkeypatch.setattr(speech._Espeak, "get", classmethod(lambda cls: None))
    pcm = speech.speak("hello there")
    assert pcm is not None and pcm.dtype == np.int16 and 0.4 < len(pcm) / 24_000 < 2


def test_speak_without_any_espeak_is_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(speech._Espeak, "get", classmethod(lambda cls: None))
    monkeypatch.setattr(speech.shutil, "which", lambda name: None)
    assert speech.speak("hello") is None
    assert not speech.tts_available()


def test_transcriber_hears_silence_as_nothing() -> None:
    t = speech.Transcriber()
    assert t(np.zeros(0, np.int16)) == ""
    assert t(np.zeros(24_000, np.int16)) == ""


def test_hints_make_keywords_reliable() -> None:
    if speech.shutil.which("espeak-ng") is None:
        pytest.skip("repeatable audio needs the espeak-ng CLI")
    plain = speech.Transcriber()
    hinted = speech.Transcriber([*Brain(voice=False).hints(), "zzqx"])
    assert "zzqx" not in hinted.hints  # unknown words are dropped, not fatal
    weather = speech.speak("what is the weather in Paris", cli=True)
    sum_ = speech.speak("what is three plus four", cli=True)  # repeatable audio
    assert "paris" not in plain(weather)  # the general model alone misses it
    assert "paris" in hinted(weather) and "weather" in hinted(weather)
    assert "three plus four" in hinted(sum_)
    assert hinted.listens_for(["paris", "zzqx"]) and not hinted.listens_for(["sheep"])


def test_repeat_after_me_keeps_the_speakers_own_words() -> None:
    """After "after me" the grammar pass (hinted words only) gives way to the general pass,
    by time, so the words to repeat are not forced into the brain's vocabulary."""
    brain = Brain(voice=False)
    heard = brain.transcriber(speech.speak("repeat after me the sky is blue", cli=True))
    assert "after me" in heard
    rest = heard.split("after me", 1)[1].split()
    assert rest[-2:] == ["is", "blue"]  # "blue" is not a hinted word: the general pass heard it
    assert "blue" not in brain.transcriber.hints

"""Offline speech for the stand-in: espeak-ng speaks, pocketsphinx listens (both from pip).

Why: the stand-in should answer what it *heard* with audio a person can understand, without a
network or an API key. Both halves are optional: :func:`speech_available` says whether they
import, and the server keeps its old echo behaviour when they do not.

- :func:`speak` — text to 24 kHz int16 PCM with the ``espeakng-loader`` wheel (libespeak-ng
  and its data through ctypes), else the ``espeak-ng`` CLI, else None.
- :class:`Transcriber` — 24 kHz int16 PCM to text with pocketsphinx's bundled English model.
  espeak audio is decoded loosely by the general language model, so ``hints`` (phrases the
  caller expects, e.g. the brain's rule words and tool keywords) add a second, grammar-biased
  pass whose result wins when it contains a hinted word.
"""

from __future__ import annotations

import ctypes
import io
import re
import shutil
import subprocess
import threading
import wave
from collections.abc import Iterable

import numpy as np

from ..audio import resample
from ..protocol import SAMPLE_RATE

__all__ = ["Heard", "Transcriber", "speak", "speech_available", "stt_available", "tts_available"]

_STT_RATE = 16_000
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_ESPEAK_RATE = 1  # espeakRATE parameter id
_lock = threading.Lock()  # libespeak-ng is one global synthesiser


def stt_available() -> bool:
    try:
        import pocketsphinx  # noqa: F401
    except ImportError:
        return False
    return True


def tts_available() -> bool:
    return _Espeak.get() is not None or shutil.which("espeak-ng") is not None


def speech_available() -> bool:
    """Both halves present (the default offline responder needs both)."""
    return stt_available() and tts_available()


class _Espeak:
    """libespeak-ng loaded from the espeakng-loader wheel, synthesising into a buffer."""

    _instance: _Espeak | None = None
    _failed = False

    @classmethod
    def get(cls) -> _Espeak | None:
        if cls._instance is None and not cls._failed:
            try:
                cls._instance = cls()
            except (ImportError, OSError, RuntimeError):
                cls._failed = True
        return cls._instance

    def __init__(self) -> None:
        import espeakng_loader

        lib = ctypes.CDLL(str(espeakng_loader.get_library_path()))
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        data = str(espeakng_loader.get_data_path()).encode()
        rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data, 0)
        if rate <= 0:
            raise RuntimeError("espeak_Initialize failed")
        self.rate = rate
        self.lib = lib
        self._chunks: list[np.ndarray] = []
        callback_type = ctypes.CFUNCTYPE(
            ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
        )
        self._callback = callback_type(self._collect)  # keep a reference: C holds it
        lib.espeak_SetSynthCallback(self._callback)

    def _collect(self, wav: ctypes.Array, n: int, _events: int) -> int:
        if wav and n > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
        return 0

    def synth(self, text: str, voice: str, words_per_minute: int) -> np.ndarray:
        with _lock:
            self._chunks = []
            if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise ValueError(f"espeak-ng has no voice {voice!r}.")
            self.lib.espeak_SetParameter(_ESPEAK_RATE, int(words_per_minute), 0)
            data = text.encode() + b"\0"
            self.lib.espeak_Synth(data, len(data), 0, 0, 0, 0, None, None)
            self.lib.espeak_Synchronize()
            chunks, self._chunks = self._chunks, []
        return np.concatenate(chunks).astype(np.int16) if chunks else np.zeros(0, np.int16)


def _speak_cli(text: str, voice: str, words_per_minute: int) -> tuple[np.ndarray, int] | None:
    exe = shutil.which("espeak-ng")
    if exe is None:
        return None
    wav = subprocess.run(
        [exe, "-v", voice, "-s", str(words_per_minute), "--stdout", text],
        capture_output=True,
        check=True,
        timeout=30,
    ).stdout
    with wave.open(io.BytesIO(wav)) as f:
        return np.frombuffer(f.readframes(f.getnframes()), np.int16), f.getframerate()


def speak(
    text: str, *, voice: str = "en-us", words_per_minute: int = 140, cli: bool = False
) -> np.ndarray | None:
    """``text`` spoken by espeak-ng as 24 kHz int16 PCM, or None when espeak-ng is missing.

    The in-process library's output varies by a few samples from call to call (enough to
    change what pocketsphinx hears); ``cli=True`` runs a fresh ``espeak-ng`` process, which is
    byte-for-byte repeatable, for tests that need the same audio every time.
    """
    engine = None if cli else _Espeak.get()
    if engine is not None:
        pcm, rate = engine.synth(text, voice, words_per_minute), engine.rate
    else:
        found = _speak_cli(text, voice, words_per_minute)
        if found is None:
            return None
        pcm, rate = found
    return np.asarray(resample(pcm, rate, SAMPLE_RATE), dtype=np.int16)


_WORD = re.compile(r"[a-z][a-z']*")
_FILLERS = frozenset({"<s>", "</s>", "<sil>", "[NOISE]", "[SPEECH]"})
_ALTERNATE = re.compile(r"\(\d+\)$")  # pocketsphinx marks alternate pronunciations "the(2)"


class Heard(str):
    """A transcript that also carries each word's posterior probability from the decoder.

    A ``str`` so every caller that wants text keeps working; the server reads ``.words`` to
    send honest ``logprobs`` (one entry per word, natural log of pocketsphinx's posterior).
    """

    words: tuple[tuple[str, float], ...]

    def __new__(cls, text: str, words: Iterable[tuple[str, float]] = ()) -> Heard:
        heard = super().__new__(cls, text)
        heard.words = tuple(words)
        return heard


class Transcriber:
    """``(pcm_int16_24k) -> Heard`` (a str) with pocketsphinx; ``LocalServer(transcriber=...)``.

    ``hints``: words or phrases to listen for. Words missing from the bundled dictionary are
    dropped. With hints, a grammar pass (any sequence of hinted words) runs beside the general
    model, and its text is returned when it contains a hinted word the general pass missed.
    """

    def __init__(self, hints: Iterable[str] = ()) -> None:
        import pocketsphinx

        self._decoder = pocketsphinx.Decoder(loglevel="FATAL")
        self._lock = threading.Lock()
        self.hints: set[str] = set()
        self.set_hints(hints)

    def _known(self, hints: Iterable[str]) -> set[str]:
        words = {w for h in hints for w in _WORD.findall(h.lower())}
        return {w for w in words if self._decoder.lookup_word(w) is not None}

    def listens_for(self, hints: Iterable[str]) -> bool:
        """Whether the grammar pass already covers these hints (words it can know)."""
        return self._known(hints) <= self.hints

    def set_hints(self, hints: Iterable[str]) -> None:
        words = self._known(hints)
        if words == self.hints:
            return
        with self._lock:
            self.hints = words
            if words:
                grammar = (
                    "#JSGF V1.0;\ngrammar hints;\npublic <s> = ("
                    + " | ".join(sorted(words))
                    + ")+;\n"
                )
                self._decoder.add_jsgf_string("hints", grammar)

    def _decode(self, pcm16k: bytes, search: str) -> tuple[Heard, list[tuple[str, float, int]]]:
        """The hypothesis and its words as ``(word, posterior, start_frame)``."""
        self._decoder.activate_search(search)
        self._decoder.start_utt()
        self._decoder.process_raw(pcm16k, full_utt=True)
        self._decoder.end_utt()
        hyp = self._decoder.hyp()
        if hyp is None:
            return Heard(""), []
        segments = [
            (_ALTERNATE.sub("", seg.word), float(seg.prob), int(seg.start_frame))
            for seg in self._decoder.seg()
            if seg.word not in _FILLERS
        ]
        return Heard(hyp.hypstr, [(w, p) for w, p, _ in segments]), segments

    def __call__(self, pcm: np.ndarray) -> Heard:
        pcm = np.asarray(pcm, dtype=np.int16)
        if pcm.size == 0:
            return Heard("")
        pad = np.zeros(_STT_RATE // 5, np.int16)  # a little silence helps the endpointing
        audio = np.concatenate([pad, resample(pcm, SAMPLE_RATE, _STT_RATE), pad]).tobytes()
        with self._lock:
            free, free_words = self._decode(audio, "_default")
            if not self.hints:
                return free
            biased, biased_words = self._decode(audio, "hints")
        heard = set(free.split())
        if not (set(biased.split()) & self.hints) - heard:
            return free
        return _splice_verbatim(biased_words, free_words) or biased


#: Phrases after which the speaker's own words matter (the brain's "repeat after me"): the
#: grammar pass can only hear hinted words, so after the phrase the general pass's words are
#: taken instead, by time.
VERBATIM_AFTER: tuple[tuple[str, ...], ...] = (("after", "me"),)


def _splice_verbatim(
    biased: list[tuple[str, float, int]], free: list[tuple[str, float, int]]
) -> Heard | None:
    """The grammar pass up to a :data:`VERBATIM_AFTER` phrase, then the general pass's words
    that start after it (None when no such phrase was heard)."""
    words = [w for w, _, _ in biased]
    for phrase in VERBATIM_AFTER:
        n = len(phrase)
        for i in range(len(words) - n + 1):
            if tuple(words[i : i + n]) != phrase:
                continue
            head = biased[: i + n]
            after = biased[i + n][2] if i + n < len(biased) else None
            tail = [] if after is None else [seg for seg in free if seg[2] >= after]
            kept = head + tail
            return Heard(" ".join(w for w, _, _ in kept), [(w, p) for w, p, _ in kept])
    return None

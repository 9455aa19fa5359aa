"""What an evaluation asks: a :class:`Case` is one user turn (typed or spoken) and its expectations.

Cases are plain data so they can be written by hand, generated in a loop or read from a file.
Audio cases hold 24 kHz mono int16 samples (any array, WAV path or WAV bytes is converted on
the way in); :meth:`Case.spoken` makes one offline from text with the stand-in's voice, and
keeps the text as the reference a word-error-rate grader compares the heard words with.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import UsageError

if TYPE_CHECKING:
    from .graders import GraderLike

AudioSource = np.ndarray | bytes | str | os.PathLike[str]


@dataclass(eq=False)
class Case:
    """One user turn to send to a fresh session, and what its answer should satisfy.

    Exactly one of ``text`` and ``audio`` is given. ``audio`` is a WAV path, WAV bytes or an
    array (with ``sample_rate`` when it is not 24 kHz). ``expect`` adds graders for this case
    only (a plain string means "the answer contains it"); ``reference`` is what was said (for
    :func:`~realtime_nb.evaluation.wer`); ``tags`` group cases in the results.
    """

    text: str | None = None
    audio: AudioSource | None = None
    sample_rate: int | None = None
    expect: Sequence[GraderLike] = ()
    reference: str | None = None
    id: str = ""
    tags: tuple[str, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if (self.text is None) == (self.audio is None):
            raise UsageError(
                "A Case needs exactly one of text= (a typed turn) or audio= (a spoken turn: a "
                "WAV path, WAV bytes or a numpy array with sample_rate=)."
            )
        if isinstance(self.expect, (str, bytes)) or callable(self.expect):
            self.expect = [self.expect]
        self.tags = tuple(self.tags)

    @property
    def kind(self) -> str:
        """``"text"`` or ``"audio"``."""
        return "text" if self.text is not None else "audio"

    def samples(self) -> np.ndarray:
        """The audio as 24 kHz mono int16 (raises for a text case)."""
        from ..audio import load_audio

        if self.audio is None:
            raise UsageError(f"Case {self.id!r} is a text case: it has no audio.")
        return load_audio(self.audio, self.sample_rate)

    @classmethod
    def spoken(
        cls,
        text: str,
        *,
        id: str = "",
        expect: Sequence[GraderLike] | GraderLike = (),
        voice: str = "en-us",
        words_per_minute: int = 140,
        tags: Iterable[str] = (),
    ) -> Case:
        """An audio case saying ``text`` (espeak-ng, offline), with ``text`` as its reference.

        Needs espeak-ng (``pip install "realtime-nb[speech]"`` bundles it). The voice is a
        synthetic one: real speech is harder to transcribe, so use recordings for real WER.
        """
        from ..server.speech import speak

        pcm = speak(text, voice=voice, words_per_minute=words_per_minute, cli=True)
        if pcm is None:
            raise UsageError(
                "Case.spoken needs espeak-ng to make speech offline: "
                'pip install "realtime-nb[speech]" (or apt install espeak-ng).'
            )
        expected = [expect] if isinstance(expect, str) or callable(expect) else list(expect)
        return cls(
            audio=pcm, sample_rate=24_000, expect=expected, reference=text, id=id, tags=tuple(tags)
        )

    def __repr__(self) -> str:
        what = repr(self.text) if self.text is not None else f"<audio {self.duration_ms():.0f} ms>"
        return f"Case({self.id or '?'}: {what}, {len(self.expect)} expectation(s))"

    def duration_ms(self) -> float:
        """The audio's length in ms (0 for a text case)."""
        if self.audio is None:
            return 0.0
        return len(self.samples()) * 1000 / 24_000


def as_cases(cases: Iterable[Case | str | dict[str, Any]]) -> list[Case]:
    """Cases from cases, strings (text cases) or dicts (``Case(**d)``), with unique ids.

    A case without an id gets ``case-01``, ``case-02`` … by position; duplicate ids raise,
    because results and recordings are keyed by id.
    """
    out: list[Case] = []
    for n, raw in enumerate(cases, 1):
        if isinstance(raw, Case):
            case = raw
        elif isinstance(raw, str):
            case = Case(text=raw)
        elif isinstance(raw, dict):
            case = Case(**raw)
        else:
            raise UsageError(
                f"Case {n} is a {type(raw).__name__}; "
                "give a Case, a string or a dict of Case fields."
            )
        if not case.id:
            case.id = f"case-{n:02d}"
        out.append(case)
    ids = [c.id for c in out]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise UsageError(f"Case ids must be unique; repeated: {', '.join(duplicates)}.")
    if not out:
        raise UsageError("evaluate() needs at least one case.")
    return out


__all__ = ["AudioSource", "Case", "as_cases"]

"""Graders: small named checks of a :class:`~.outcome.CaseOutcome`, each giving a :class:`Grade`.

A grader is any callable ``(outcome) -> Grade | bool | (bool, detail)`` with a ``name``; the
factories here build the common ones. A grader that does not apply to a case (a word error
rate with no reference, a latency with no audio) returns ``passed=None``: it neither passes
nor fails the case. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

from ..errors import UsageError
from .outcome import CaseOutcome


@dataclass(frozen=True, slots=True)
class Grade:
    """One grader's verdict on one case: ``passed`` is None when it did not apply."""

    grader: str
    passed: bool | None
    detail: str = ""
    score: float | None = None
    #: from the case's own ``expect`` (summed up as one "expectations" column) or for all cases
    expected: bool = False


class Grader(Protocol):
    @property
    def name(self) -> str: ...

    def __call__(self, outcome: CaseOutcome) -> Grade: ...


GraderLike = Grader | Callable[[CaseOutcome], Any] | str


@dataclass(frozen=True, slots=True)
class _Named:
    """A grader function with a readable name (the column it gets in the results)."""

    name: str
    check: Callable[[CaseOutcome], Grade]

    def __call__(self, outcome: CaseOutcome) -> Grade:
        return self.check(outcome)

    def __repr__(self) -> str:
        return f"<grader {self.name}>"


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s']", " ", text.lower())).strip()


def _clip(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def contains(*phrases: str, where: str = "answer", any_of: bool = False) -> Grader:
    """The answer (or the ``heard`` user words) contains every phrase (``any_of``: one of them).

    Case and punctuation are ignored: "Paris!" contains "paris".
    """
    if not phrases:
        raise UsageError("contains() needs at least one phrase.")
    joiner = " or " if any_of else " and "
    name = f"contains {joiner.join(repr(p) for p in phrases)}"
    if where != "answer":
        name += f" ({where})"

    def check(o: CaseOutcome) -> Grade:
        text = f" {_norm(o.text(where))} "
        found = [p for p in phrases if f" {_norm(p)} " in text]
        ok = bool(found) if any_of else len(found) == len(phrases)
        missing = [p for p in phrases if p not in found]
        said = _clip(o.text(where))
        detail = "" if ok else f"missing {', '.join(map(repr, missing))} in {said!r}"
        return Grade(name, ok, detail)

    return _Named(name, check)


def regex(pattern: str, *, where: str = "answer", flags: int = re.IGNORECASE) -> Grader:
    """The answer (or ``heard``) matches ``pattern`` somewhere (``re.search``; case-insensitive)."""
    compiled = re.compile(pattern, flags)
    name = f"regex /{pattern}/" + ("" if where == "answer" else f" ({where})")

    def check(o: CaseOutcome) -> Grade:
        text = o.text(where)
        match = compiled.search(text)
        if match:
            return Grade(name, True, f"matched {match.group(0)!r}")
        return Grade(name, False, f"no match in {_clip(text)!r}")

    return _Named(name, check)


def tool_called(tool: str, /, **arguments: Any) -> Grader:
    """The model called ``tool`` with at least these arguments (strings compare ignoring case;
    a callable value is a predicate: ``tool_called("get_weather", city=lambda c: "par" in c)``)."""
    shown = ", ".join(f"{k}=…" if callable(v) else f"{k}={v!r}" for k, v in arguments.items())
    name = f"called {tool}({shown})"

    def matches(value: Any, wanted: Any) -> bool:
        if callable(wanted):
            return bool(wanted(value))
        if isinstance(value, str) and isinstance(wanted, str):
            return value.strip().lower() == wanted.strip().lower()
        return bool(value == wanted)

    def check(o: CaseOutcome) -> Grade:
        calls = [c for c in o.tool_calls if c.name == tool]
        for call in calls:
            args = call.arguments if isinstance(call.arguments, dict) else {}
            if all(k in args and matches(args[k], v) for k, v in arguments.items()):
                return Grade(name, True, str(call))
        made = ", ".join(str(c) for c in o.tool_calls) or "no tool call"
        return Grade(name, False, f"got {made}")

    return _Named(name, check)


def wer(max_wer: float = 0.25, *, reference: str | None = None, where: str = "heard") -> Grader:
    """Word error rate of the heard user words (or the ``answer``) against the reference ≤ max.

    The reference is ``reference`` or the case's own (``Case.spoken`` sets it). Words are
    lowercased and stripped of punctuation first. With ``where="heard"`` the grade applies to
    audio cases only (a typed case's words are exact). Uses jiwer.
    """
    name = f"WER ≤ {max_wer:g}" + ("" if where == "heard" else f" ({where})")

    def check(o: CaseOutcome) -> Grade:
        ref = reference if reference is not None else o.case.reference
        if where == "heard" and o.case.kind != "audio":
            return Grade(name, None, "typed case: nothing was transcribed")
        if not ref:
            return Grade(name, None, "no reference")
        rate = word_error_rate(ref, o.text(where))
        detail = f"WER {rate:.2f}: heard {_clip(o.text(where))!r}"
        return Grade(name, rate <= max_wer, detail, score=rate)

    return _Named(name, check)


def word_error_rate(reference: str, hypothesis: str) -> float:
    """jiwer's WER after lowercasing and removing punctuation (1.0 for an empty hypothesis)."""
    try:
        import jiwer
    except ImportError:
        raise UsageError('The WER grader needs jiwer: pip install "realtime-nb[eval]".') from None
    ref, hyp = _norm(reference), _norm(hypothesis)
    if not ref:
        raise UsageError("A WER reference must contain at least one word.")
    if not hyp:
        return 1.0
    return float(jiwer.wer(ref, hyp))


def latency(*, max_first_audio_ms: float | None = None, max_done_ms: float | None = None) -> Grader:
    """The answer's first audio (and/or its ``response.done``) came within these ms of the end
    of the user's turn. Does not apply when the answer had no audio (text-only output)."""
    if max_first_audio_ms is None and max_done_ms is None:
        raise UsageError("latency() needs max_first_audio_ms= and/or max_done_ms=.")
    parts = []
    if max_first_audio_ms is not None:
        parts.append(f"first audio ≤ {max_first_audio_ms:g} ms")
    if max_done_ms is not None:
        parts.append(f"done ≤ {max_done_ms:g} ms")
    name = " and ".join(parts)

    def check(o: CaseOutcome) -> Grade:
        problems = []
        if max_first_audio_ms is not None:
            if o.first_audio_ms is None:
                return Grade(name, None, "no audio in the answer")
            if o.first_audio_ms > max_first_audio_ms:
                problems.append(f"first audio {o.first_audio_ms:.0f} ms")
        if max_done_ms is not None:
            if o.done_ms is None:
                return Grade(name, None, "no response.done")
            if o.done_ms > max_done_ms:
                problems.append(f"done {o.done_ms:.0f} ms")
        score = o.first_audio_ms if max_first_audio_ms is not None else o.done_ms
        return Grade(name, not problems, "; ".join(problems), score=score)

    return _Named(name, check)


def cost(*, max_usd: float) -> Grader:
    """The case's responses cost at most ``max_usd`` (from ``response.done`` usage and the
    model's list prices; does not apply when the model's price is unknown)."""
    name = f"cost ≤ ${max_usd:g}"

    def check(o: CaseOutcome) -> Grade:
        if o.cost_usd is None:
            return Grade(name, None, "no cost known (no priced response)")
        ok = o.cost_usd <= max_usd
        return Grade(name, ok, f"${o.cost_usd:.5f}", score=o.cost_usd)

    return _Named(name, check)


def as_grader(g: GraderLike) -> Grader:
    """A grader from a grader, a plain string (``contains``) or any callable.

    A callable may return a :class:`Grade`, a bool, or ``(bool, detail)``; its name is its
    ``name`` attribute or ``__name__``.
    """
    if isinstance(g, str):
        return contains(g)
    if not callable(g):
        raise UsageError(
            f"A grader must be callable (outcome) -> bool, or a string; got {type(g).__name__}."
        )
    if isinstance(g, _Named):
        return g
    name = str(getattr(g, "name", None) or getattr(g, "__name__", None) or repr(g))
    fn = g

    def check(o: CaseOutcome) -> Grade:
        verdict = fn(o)
        if isinstance(verdict, Grade):
            return verdict
        if isinstance(verdict, tuple) and len(verdict) == 2:
            return Grade(name, None if verdict[0] is None else bool(verdict[0]), str(verdict[1]))
        return Grade(name, None if verdict is None else bool(verdict))

    return _Named(name, check)


def grade(
    outcome: CaseOutcome, graders: list[Grader], expected: list[Grader] | None = None
) -> list[Grade]:
    """Run every grader (then the case's own ``expected`` ones) on ``outcome``; a grader that
    raises fails with the error as its detail.

    A case that errored is graded anyway (its graders see what it produced before the error)."""
    grades = []
    for g, own in [(g, False) for g in graders] + [(g, True) for g in expected or []]:
        try:
            result = g(outcome)
        except Exception as exc:  # a user's grader must not lose the other results
            result = Grade(g.name, False, f"grader raised {type(exc).__name__}: {exc}")
        if own:
            result = replace(result, expected=True)
        grades.append(result)
    return grades


__all__ = [
    "Grade",
    "Grader",
    "GraderLike",
    "as_grader",
    "contains",
    "cost",
    "grade",
    "latency",
    "regex",
    "tool_called",
    "wer",
    "word_error_rate",
]

"""Evaluate prompts and configurations: many cases, fresh sessions, graded answers, a picture.

``evaluate(cases, session=..., graders=[...])`` runs each :class:`Case` (a typed or spoken
turn) in its own session against the stand-in or a real service, grades the answers and
returns :class:`EvaluationResults` (a table, recordings, a plot). :func:`compare` puts two
runs side by side; :func:`redrive` sends a recorded conversation's user turns again and shows
what changed. docs/evaluate.md walks through it.

Modules: ``cases`` (what to ask), ``graders`` (checks), ``outcome`` (what a case produced),
``results`` (tables and figures), ``runner`` (sessions, concurrency, rate limits),
``comparison`` (two runs), ``redriving`` (a recording again).
"""

from __future__ import annotations

from .cases import Case, as_cases
from .comparison import Comparison, compare
from .graders import Grade, contains, cost, latency, regex, tool_called, wer, word_error_rate
from .outcome import CaseOutcome, ToolCall
from .redriving import Redrive, redrive
from .results import EvaluationResults
from .runner import RateGate, aevaluate, evaluate

__all__ = [
    "Case",
    "CaseOutcome",
    "Comparison",
    "EvaluationResults",
    "Grade",
    "RateGate",
    "Redrive",
    "ToolCall",
    "aevaluate",
    "as_cases",
    "compare",
    "contains",
    "cost",
    "evaluate",
    "latency",
    "redrive",
    "regex",
    "tool_called",
    "wer",
    "word_error_rate",
]

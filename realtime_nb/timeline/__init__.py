"""The turn timeline: what happened in each turn, as values, DataFrames and figures.

Modules: ``model`` (the values and their JSON shape), ``build`` (rows → turns), ``level`` (the
mic level envelope), ``frame`` (tidy DataFrames, pandas imported lazily), ``figure``
(matplotlib figures, imported lazily). ``docs/timeline.md`` explains what a turn is and how to
read the lanes. Pure: no I/O, no clock (saving a figure is the caller's business).
"""

from __future__ import annotations

from .build import AudioFor, TurnTracker, assign_turns, build_turns
from .model import LATENCY_KEYS, ErrorMark, Mark, ResponseSpan, ToolSpan, TurnTimeline

__all__ = [
    "LATENCY_KEYS",
    "AudioFor",
    "ErrorMark",
    "Mark",
    "ResponseSpan",
    "ToolSpan",
    "TurnTimeline",
    "TurnTracker",
    "assign_turns",
    "build_turns",
]

"""Tidy DataFrames of turns: one row per turn, short unambiguous columns, totals in ``attrs``.

pandas is imported inside the functions (an optional dependency; importing stays fast).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .model import LATENCY_KEYS, TurnTimeline

if TYPE_CHECKING:
    import pandas

#: Columns of :func:`turns_frame`, in order (docs/timeline.md explains each).
TURN_COLUMNS: tuple[str, ...] = (
    "turn", "start_s", "end_s", "input", "user_text", "generated", "heard", "interrupted",
    "responses", "status", "tools", "errors", "audio_received_ms", "audio_played_ms",
    "truncated_at_ms", *(f"{k}_ms" for k in LATENCY_KEYS), "input_tokens", "output_tokens",
    "total_tokens", "cost_usd",
)  # fmt: skip


def _sum(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def turn_record(turn: TurnTimeline, t0: float = 0.0) -> dict[str, Any]:
    """One turn as a flat record (the columns of :data:`TURN_COLUMNS`)."""
    responses = turn.responses
    cut = next((r.truncated_at_ms for r in responses if r.truncated_at_ms is not None), None)
    tokens = turn.tokens or {}
    record: dict[str, Any] = {
        "turn": turn.turn,
        "start_s": round(turn.start - t0, 3),
        "end_s": round(turn.end - t0, 3),
        "input": turn.input_kind or "",
        "user_text": turn.user_text or "",
        "generated": turn.generated_text,
        "heard": turn.heard_text,
        "interrupted": turn.interrupted,
        "responses": len(responses),
        "status": responses[-1].status if responses else None,
        "tools": ", ".join(f"{t.name}({t.status})" for t in turn.tools),
        "errors": len(turn.errors),
        "audio_received_ms": round(sum(r.audio_received_ms for r in responses), 1),
        "audio_played_ms": _sum([r.audio_played_ms for r in responses]),
        "truncated_at_ms": cut,
    }
    for key in LATENCY_KEYS:
        value = turn.latency_ms.get(key)
        record[f"{key}_ms"] = None if value is None else round(value, 1)
    record["input_tokens"] = tokens.get("input")
    record["output_tokens"] = tokens.get("output")
    record["total_tokens"] = tokens.get("total")
    record["cost_usd"] = turn.cost_usd
    return record


def turn_totals(turns: Sequence[TurnTimeline]) -> dict[str, Any]:
    """Totals over turns: counts, tokens, cost (None when no turn had a price)."""
    costs = [t.cost_usd for t in turns if t.cost_usd is not None]
    return {
        "turns": len(turns),
        "interrupted": sum(1 for t in turns if t.interrupted),
        "errors": sum(len(t.errors) for t in turns),
        "input_tokens": sum((t.tokens or {}).get("input", 0) for t in turns),
        "output_tokens": sum((t.tokens or {}).get("output", 0) for t in turns),
        "total_tokens": sum((t.tokens or {}).get("total", 0) for t in turns),
        "cost_usd": sum(costs) if costs else None,
    }


def turns_frame(turns: Sequence[TurnTimeline], t0: float = 0.0) -> pandas.DataFrame:
    """One row per turn (:data:`TURN_COLUMNS`); ``df.attrs["totals"]`` holds the totals.

    ``t0`` is subtracted from times (the first row's ``t``: seconds into the session).
    """
    import pandas as pd

    df = pd.DataFrame([turn_record(t, t0) for t in turns], columns=list(TURN_COLUMNS))
    for column in ("input_tokens", "output_tokens", "total_tokens"):
        df[column] = df[column].astype("Int64")  # missing usage stays <NA>, counts stay ints
    df.attrs["totals"] = turn_totals(turns)
    return df

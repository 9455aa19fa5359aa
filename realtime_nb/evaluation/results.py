"""The results of an evaluation: a table, per-case recordings, a summary and a picture.

Pure: built from :class:`~.outcome.CaseOutcome` values; pandas and matplotlib load only when a
table or figure is asked for.
"""

from __future__ import annotations

import html
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from ..timeline.figure import new_figure
from .outcome import CaseOutcome

if TYPE_CHECKING:
    import pandas
    from matplotlib.figure import Figure

    from ..recording import Recording


#: The column and check that sums up each case's own ``expect`` graders.
EXPECTATIONS = "expectations"


def _pandas() -> Any:
    try:
        import pandas
    except ImportError:
        raise UsageError(
            'Evaluation tables need pandas: pip install "realtime-nb[eval]".'
        ) from None
    return pandas


@dataclass(eq=False)
class EvaluationResults:
    """What :func:`~realtime_nb.evaluation.evaluate` returns.

    ``outcomes`` in case order; ``dataframe`` one row per case; ``grades_dataframe()`` one row
    per (case, grader) with the detail; ``recordings`` each case's session as a
    :class:`~realtime_nb.recording.Recording`; ``summary()`` the numbers; ``plot()`` a figure.
    ``run`` holds how it ran: cases per minute, concurrency reached, rate-limit pauses.
    """

    outcomes: list[CaseOutcome]
    label: str = ""
    run: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.outcomes)

    def __iter__(self) -> Iterator[CaseOutcome]:
        return iter(self.outcomes)

    def __getitem__(self, case_id: str) -> CaseOutcome:
        for o in self.outcomes:
            if o.case.id == case_id:
                return o
        raise KeyError(case_id)

    @property
    def graders(self) -> list[str]:
        """The checks, in first-seen order: each grader given to every case, then
        ``"expectations"`` (all of a case's own ``expect`` graders) when any case has some."""
        names: dict[str, None] = {}
        for o in self.outcomes:
            for g in o.grades:
                names.setdefault(EXPECTATIONS if g.expected else g.grader, None)
        if EXPECTATIONS in names:
            del names[EXPECTATIONS]
            names[EXPECTATIONS] = None
        return list(names)

    def verdicts(self, outcome: CaseOutcome) -> dict[str, bool | None]:
        """Per check: passed, failed, or None (did not apply) for one case."""
        out: dict[str, bool | None] = {}
        own = [g.passed for g in outcome.grades if g.expected]
        for g in outcome.grades:
            if not g.expected:
                out[g.grader] = g.passed
        applied = [v for v in own if v is not None]
        out[EXPECTATIONS] = all(applied) if applied else None
        return out

    @property
    def passed(self) -> int:
        return sum(o.passed for o in self.outcomes)

    @property
    def failed(self) -> int:
        return sum(not o.passed and o.error is None for o in self.outcomes)

    @property
    def errors(self) -> int:
        return sum(o.error is not None for o in self.outcomes)

    @property
    def recordings(self) -> dict[str, Recording]:
        """Each case's session (``case id → Recording``), when ``keep_recordings`` was on."""
        return {o.case.id: o.recording for o in self.outcomes if o.recording is not None}

    @property
    def dataframe(self) -> pandas.DataFrame:
        """One row per case: what was said and heard, the answer, calls, timings, tokens, cost,
        one column per grader (True / False / None when it did not apply), passed, error."""
        pd = _pandas()
        rows = []
        for o in self.outcomes:
            row: dict[str, Any] = {
                "case": o.case.id,
                "kind": o.case.kind,
                "tags": ", ".join(o.case.tags),
                "passed": o.passed,
                "heard": o.heard,
                "answer": o.answer,
                "tool_calls": "; ".join(str(c) for c in o.tool_calls),
                "created_ms": o.created_ms,
                "first_audio_ms": o.first_audio_ms,
                "done_ms": o.done_ms,
                "input_tokens": o.input_tokens,
                "output_tokens": o.output_tokens,
                "total_tokens": o.total_tokens,
                "cost_usd": o.cost_usd,
            }
            verdicts = self.verdicts(o)
            for name in self.graders:
                row[name] = verdicts.get(name)
            row["error"] = o.error
            rows.append(row)
        return pd.DataFrame(rows)

    def grades_dataframe(self) -> pandas.DataFrame:
        """One row per (case, grader): passed, detail, score (WER, ms, $) and ``expected``
        (one of the case's own expectations)."""
        pd = _pandas()
        return pd.DataFrame(
            [
                {
                    "case": o.case.id,
                    "grader": g.grader,
                    "passed": g.passed,
                    "detail": g.detail,
                    "score": g.score,
                    "expected": g.expected,
                }
                for o in self.outcomes
                for g in o.grades
            ],
            columns=["case", "grader", "passed", "detail", "score", "expected"],
        )

    def pass_rates(self) -> dict[str, float | None]:
        """Per grader: the share of cases it applied to that passed (None: applied to none)."""
        out: dict[str, float | None] = {}
        per_case = [self.verdicts(o) for o in self.outcomes]
        for name in self.graders:
            applied = [bool(v[name]) for v in per_case if v.get(name) is not None]
            out[name] = sum(applied) / len(applied) if applied else None
        return out

    def summary(self) -> dict[str, Any]:
        """Counts, pass rate, latency median/p90, tokens and cost, and how the run went."""
        firsts = sorted(o.first_audio_ms for o in self.outcomes if o.first_audio_ms is not None)
        costs = [o.cost_usd for o in self.outcomes if o.cost_usd is not None]
        return {
            "label": self.label,
            "cases": len(self.outcomes),
            "passed": self.passed,
            "failed": self.failed,
            "errors": self.errors,
            "pass_rate": self.passed / len(self.outcomes) if self.outcomes else None,
            "first_audio_ms_median": _quantile(firsts, 0.5),
            "first_audio_ms_p90": _quantile(firsts, 0.9),
            "total_tokens": sum(o.total_tokens for o in self.outcomes),
            "cost_usd": sum(costs) if costs else None,
            **self.run,
        }

    def plot(self, title: str | None = None) -> Figure:
        """Pass rate per grader (bars) beside the first-audio latency of every case (dots)."""
        fig = new_figure(10, 3.6)
        left, right = fig.subplots(1, 2, width_ratios=[3, 2])
        draw_pass_rates(left, [self])
        draw_latencies(right, [self])
        s = self.summary()
        fig.suptitle(
            title
            or f"{self.label or 'evaluation'}: {s['passed']}/{s['cases']} cases passed"
            + (f", {s['errors']} errored" if s["errors"] else "")
        )
        return fig

    def __repr__(self) -> str:
        s = self.summary()
        return (
            f"EvaluationResults({self.label + ': ' if self.label else ''}{s['passed']}/"
            f"{s['cases']} passed, {s['failed']} failed, {s['errors']} errors)"
        )

    def _repr_html_(self) -> str:
        s = self.summary()
        head = html.escape(repr(self))
        rates = "".join(
            f"<li>{html.escape(n)}: {'n/a' if r is None else f'{r:.0%}'}</li>"
            for n, r in self.pass_rates().items()
        )
        try:
            table = self.dataframe.drop(columns=self.graders).to_html(index=False, max_rows=40)
        except UsageError:
            table = ""
        speed = ""
        if s.get("cases_per_minute"):
            speed = (
                f"<p>{s['cases_per_minute']:.1f} cases/min, up to {s.get('peak_concurrency')} "
                "sessions at once</p>"
            )
        return f"<div><b>{head}</b>{speed}<ul>{rates}</ul>{table}</div>"


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    k = min(round(q * (len(values) - 1)), len(values) - 1)
    return round(values[k], 1)


def draw_pass_rates(
    ax: Any, results: list[EvaluationResults], labels: list[str] | None = None
) -> None:
    """Horizontal bars: pass rate per grader (and overall), one bar per results set."""
    names = ["all checks"] + [n for n in results[0].graders]
    for r in results[1:]:
        names += [n for n in r.graders if n not in names]
    height = 0.8 / len(results)
    colours = ["#2563eb", "#f97316", "#16a34a", "#9333ea"]
    for k, r in enumerate(results):
        rates = r.pass_rates()
        overall = r.passed / len(r.outcomes) if r.outcomes else 0.0
        values = [overall] + [rates.get(n) or 0.0 for n in names[1:]]
        ys = [i + k * height for i in range(len(names))]
        label = (labels[k] if labels else r.label) or f"run {k + 1}"
        ax.barh(ys, values, height=height, color=colours[k % len(colours)], label=label)
        for y, v, n in zip(ys, values, names, strict=True):
            shown = "n/a" if n != "all checks" and rates.get(n) is None else f"{v:.0%}"
            ax.text(min(v, 1.0) + 0.01, y, shown, va="center", fontsize=8)
    ax.set_yticks([i + 0.4 - height / 2 for i in range(len(names))])
    ax.set_yticklabels(names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.15)
    ax.set_xlabel("share of cases passed")
    ax.set_title("pass rate per check", fontsize=10)
    if len(results) > 1:
        ax.legend(fontsize=8, loc="lower right")


def draw_latencies(
    ax: Any, results: list[EvaluationResults], labels: list[str] | None = None
) -> None:
    """Dots: each case's time to first audio, green when it passed and red when not."""
    for k, r in enumerate(results):
        for o in r.outcomes:
            if o.first_audio_ms is None:
                continue
            colour = "#16a34a" if o.passed else "#dc2626"
            jitter = ((zlib.crc32(o.case.id.encode()) % 100) / 100 - 0.5) * 0.3
            ax.plot(o.first_audio_ms, k + jitter, "o", color=colour, alpha=0.7, markersize=5)
        firsts = sorted(o.first_audio_ms for o in r.outcomes if o.first_audio_ms is not None)
        median = _quantile(firsts, 0.5)
        if median is not None:
            ax.plot([median, median], [k - 0.3, k + 0.3], color="#111827", linewidth=2)
            ax.text(median, k + 0.38, f"median {median:.0f} ms", ha="center", fontsize=8)
    ax.set_yticks(range(len(results)))
    ax.set_yticklabels(
        [(labels[k] if labels else r.label) or f"run {k + 1}" for k, r in enumerate(results)],
        fontsize=8,
    )
    ax.set_ylim(-0.6, len(results) - 0.2)
    ax.set_xlim(left=0)
    ax.set_xlabel("ms from end of turn to first audio")
    ax.set_title("latency per case (green: passed, red: not)", fontsize=10)


__all__ = ["EvaluationResults", "draw_latencies", "draw_pass_rates"]

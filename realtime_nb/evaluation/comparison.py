"""Two evaluation runs side by side: which cases changed, which checks moved, a picture.

Pure: reads two :class:`~.results.EvaluationResults` (same case ids) and draws nothing until
asked.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import UsageError
from ..timeline.figure import new_figure
from .results import EvaluationResults, _pandas, draw_latencies, draw_pass_rates

if TYPE_CHECKING:
    import pandas
    from matplotlib.figure import Figure


@dataclass(eq=False)
class Comparison:
    """Runs ``a`` and ``b`` of the same cases: ``dataframe`` per case, ``by_grader`` per check,
    ``changed`` the cases whose verdict differs, ``plot()`` both runs in one figure."""

    a: EvaluationResults
    b: EvaluationResults
    labels: tuple[str, str]

    @property
    def dataframe(self) -> pandas.DataFrame:
        """Per case: passed, answer and first-audio latency in each run, and whether it flipped."""
        pd = _pandas()
        la, lb = self.labels
        rows = []
        for oa in self.a.outcomes:
            ob = self.b[oa.case.id]
            rows.append(
                {
                    "case": oa.case.id,
                    f"passed {la}": oa.passed,
                    f"passed {lb}": ob.passed,
                    "changed": oa.passed != ob.passed,
                    f"answer {la}": oa.answer,
                    f"answer {lb}": ob.answer,
                    f"first_audio_ms {la}": oa.first_audio_ms,
                    f"first_audio_ms {lb}": ob.first_audio_ms,
                }
            )
        return pd.DataFrame(rows)

    @property
    def by_grader(self) -> pandas.DataFrame:
        """Per check (and overall): the pass rate in each run and the difference."""
        pd = _pandas()
        la, lb = self.labels
        ra, rb = self.a.pass_rates(), self.b.pass_rates()
        names = list(dict.fromkeys([*ra, *rb]))
        rows = [
            {
                "check": "all checks",
                la: self.a.passed / len(self.a),
                lb: self.b.passed / len(self.b),
            }
        ]
        rows += [{"check": n, la: ra.get(n), lb: rb.get(n)} for n in names]
        frame = pd.DataFrame(rows)
        frame["change"] = frame[lb] - frame[la]
        return frame

    @property
    def changed(self) -> list[str]:
        """Ids of the cases that pass in one run and not in the other."""
        return [o.case.id for o in self.a.outcomes if o.passed != self.b[o.case.id].passed]

    def plot(self) -> Figure:
        """Pass rate per check for both runs, and both runs' latencies."""
        fig = new_figure(10, 4)
        left, right = fig.subplots(1, 2, width_ratios=[3, 2])
        labels = list(self.labels)
        draw_pass_rates(left, [self.a, self.b], labels)
        draw_latencies(right, [self.a, self.b], labels)
        la, lb = self.labels
        fig.suptitle(
            f"{la}: {self.a.passed}/{len(self.a)} passed · {lb}: {self.b.passed}/{len(self.b)} "
            f"passed · {len(self.changed)} case(s) changed"
        )
        return fig

    def __repr__(self) -> str:
        la, lb = self.labels
        return (
            f"Comparison({la} {self.a.passed}/{len(self.a)} vs {lb} {self.b.passed}/"
            f"{len(self.b)} passed, changed: {', '.join(self.changed) or 'none'})"
        )

    def _repr_html_(self) -> str:
        return f"<div><b>{html.escape(repr(self))}</b>{self.by_grader.to_html(index=False)}</div>"


def compare(
    a: EvaluationResults, b: EvaluationResults, labels: tuple[str, str] | None = None
) -> Comparison:
    """Compare two runs of the same cases (e.g. two instructions, two models, two voices)."""
    ids_a = [o.case.id for o in a.outcomes]
    ids_b = [o.case.id for o in b.outcomes]
    if sorted(ids_a) != sorted(ids_b):
        only = sorted(set(ids_a) ^ set(ids_b))
        raise UsageError(
            f"compare() needs two runs of the same cases; these are in one run only: {only[:5]}."
        )
    names: tuple[str, str] = labels or (a.label or "A", b.label or "B")
    if names[0] == names[1]:
        names = (f"{names[0]} (1)", f"{names[1]} (2)")
    return Comparison(a, b, names)


__all__ = ["Comparison", "compare"]

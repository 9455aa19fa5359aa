"""Render docs/evaluate-results.png and docs/evaluate-compare.png from real offline runs.

The 24 cases of ``evaluate_cases.py`` (12 typed, 12 spoken with espeak-ng) against the
stand-in, graded by their own expectations and a word-error-rate check of what was heard;
then the same cases without the ``get_weather`` tool, compared with the first run.

    python benchmarks/render_evaluate_figure.py
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
from evaluate_cases import get_weather, mixed_cases

from realtime_nb.evaluation import compare, evaluate, latency, wer

DOCS = Path(__file__).resolve().parent.parent / "docs"


def main() -> None:
    matplotlib.use("Agg")
    cases = mixed_cases()
    options = {"progress": False, "server_options": {"audio_speed": 8.0, "think_s": 0.3}}
    graders = [wer(0.34), latency(max_first_audio_ms=2000)]
    with_tool = evaluate(cases, graders=graders, tools=[get_weather], label="with get_weather",
                         **options)  # fmt: skip
    print(with_tool, with_tool.run)
    print(with_tool.dataframe[["case", "passed", "heard", "answer"]].to_string())
    fig = with_tool.plot()
    fig.savefig(DOCS / "evaluate-results.png", dpi=110)
    without = evaluate(cases, graders=graders, label="no tools", **options)
    comparison = compare(with_tool, without)
    print(comparison)
    comparison.plot().savefig(DOCS / "evaluate-compare.png", dpi=110)
    print("wrote", DOCS / "evaluate-results.png", DOCS / "evaluate-compare.png")


if __name__ == "__main__":
    main()

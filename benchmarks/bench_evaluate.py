"""Evaluation throughput against the offline stand-in: cases per minute at several concurrencies.

Runs the same 24 cases (12 typed, 12 spoken; see ``evaluate_cases.py``) with 1, 4 and 8
sessions at once, twice: with the stand-in streaming its answers unpaced (its CPU sets the
ceiling: it transcribes spoken cases with pocketsphinx on its own thread) and paced at its
default 8× real time (waiting dominates, as against the service, and concurrency pays).

    python benchmarks/bench_evaluate.py [concurrency ...]
"""

from __future__ import annotations

import math
import sys
import time

from evaluate_cases import get_weather, mixed_cases

from realtime_nb.evaluation import evaluate, wer


def main(levels: list[int]) -> None:
    cases = mixed_cases()
    for label, speed in (("unpaced", math.inf), ("paced at 8x real time (default)", 8.0)):
        print(f"\n{len(cases)} cases ({sum(c.kind == 'audio' for c in cases)} spoken), "
              f"stand-in answers {label}")  # fmt: skip
        run_levels(cases, levels, speed)


def run_levels(cases: list, levels: list[int], audio_speed: float) -> None:
    print(f"{'concurrency':>11} {'peak':>5} {'seconds':>8} {'cases/min':>10} {'passed':>7} "
          f"{'median first audio':>19} {'ratio':>6}")  # fmt: skip
    base = None
    for level in levels:
        t0 = time.perf_counter()
        results = evaluate(
            cases,
            graders=[wer(0.34)],
            tools=[get_weather],
            concurrency=level,
            progress=False,
            keep_recordings=False,
            server_options={"audio_speed": audio_speed},
        )
        seconds = time.perf_counter() - t0
        per_min = len(cases) / seconds * 60
        base = base or per_min
        s = results.summary()
        print(f"{level:>11} {s['peak_concurrency']:>5} {seconds:>8.1f} {per_min:>10.1f} "
              f"{s['passed']:>4}/{s['cases']:<2} {s['first_audio_ms_median']:>16} ms "
              f"{per_min / base:>5.2f}x")  # fmt: skip


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1, 4, 8])

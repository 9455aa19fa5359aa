"""Settings for the whole suite.

Hypothesis: no timing-based checks (per-example deadline, "input generation is slow"). Speed
is measured by benchmarks/, never by a unit test, and on a loaded 2-core machine those checks
fail for reasons that have nothing to do with the code.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

settings.register_profile(
    "realtime-nb", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("realtime-nb")

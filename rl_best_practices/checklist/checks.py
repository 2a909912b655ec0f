"""Automated checks that measure the real system, ready to register on the gate.

* :func:`latency_check`: times the whole decision path (policy, safety layer, fallback chain:
  whatever callable serves an observation) on a set of observations and passes when its p50 and
  p99 are within budget. A microsecond call compared with a 50 ms budget proves nothing; time
  what production runs.

>>> import time
>>> check = latency_check(lambda obs: 1, [[0.0]] * 200, p50_budget_s=0.001, p99_budget_s=0.005)
>>> check()[0]
True
>>> slow = latency_check(lambda obs: time.sleep(0.002), [[0.0]] * 20, p50_budget_s=0.001,
...                      p99_budget_s=0.005)
>>> slow()[0]
False
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from rl_best_practices.checklist.gate import Check
from rl_best_practices.errors import InvalidValueError
from rl_best_practices.validation import check_callable, check_number

__all__ = ["latency_check"]


def latency_check(
    decide: Callable[[Any], Any],
    observations: Sequence[Any],
    *,
    p50_budget_s: float,
    p99_budget_s: float,
    clock: Callable[[], float] = time.perf_counter,
) -> Check:
    """A check that calls ``decide(obs)`` for every observation and compares the p50 and p99
    of the measured latencies with their budgets; its detail gives both figures.

    A call that raises makes the check fail (the gate fails closed).
    """
    check_callable("decide", decide)
    check_callable("clock", clock)
    observations = list(observations)
    if len(observations) < 2:
        raise InvalidValueError(
            f"observations must hold at least 2 observations to time, got {len(observations)}"
        )
    p50_budget = check_number("p50_budget_s", p50_budget_s, minimum=0, low_open=True)
    p99_budget = check_number("p99_budget_s", p99_budget_s, minimum=0, low_open=True)
    if p99_budget < p50_budget:
        raise InvalidValueError(
            f"p99_budget_s ({p99_budget:g}) must be at least p50_budget_s ({p50_budget:g})"
        )

    def decision_latency() -> tuple[bool, str]:
        seconds = []
        for obs in observations:
            start = clock()
            decide(obs)
            seconds.append(clock() - start)
        p50, p99 = np.percentile(seconds, [50, 99])
        passed = bool(p50 <= p50_budget and p99 <= p99_budget)
        return passed, (f"p50 {p50 * 1e3:.3g} ms (budget {p50_budget * 1e3:g}), p99 "
                        f"{p99 * 1e3:.3g} ms (budget {p99_budget * 1e3:g}) over "
                        f"{len(seconds)} decisions")

    return decision_latency

"""Simulated canaries: measure a canary's error rates and time to a decision before using it.

A decision rule's error rates are a property of the rule, so they can be measured on synthetic
traffic where the truth is known. :func:`run_canary` feeds one :class:`~.canary.Canary` with
records drawn by the caller until it decides; :func:`canary_outcomes` repeats that many times.
The tests, the benchmark and lesson 06's exercise use them.

>>> import numpy as np
>>> from rl_best_practices.deployment import Canary, Guard
>>> def make():
...     guard = Guard("pnl", -0.5, "at_least", min_samples=20, relative=True)
...     return Canary(len, len, guards=[guard], ramp=(0.5,), stage_samples=50)
>>> out = canary_outcomes(make, candidate_mean=-2.0, control_mean=0.0, sd=1.0, runs=20, seed=0)
>>> out.rates()["rolled_back"], out.median_canary_records
(1.0, 20.0)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rl_best_practices.deployment.canary import Canary
from rl_best_practices.errors import InvalidStateError, InvalidTypeError
from rl_best_practices.validation import check_callable, check_int, check_number

__all__ = ["CanaryOutcomes", "canary_outcomes", "run_canary"]


def run_canary(
    canary: Canary,
    draw: Callable[[str], dict[str, float]],
    rng: np.random.Generator,
    max_records: int = 1_000_000,
) -> tuple[str, int]:
    """Record until ``canary`` decides; return its state and the canary records it used.

    Each record goes to the canary arm with probability :attr:`Canary.fraction` (as hashing
    fresh keys would), and ``draw(arm)`` gives its metrics. Raises
    :class:`~rl_best_practices.errors.InvalidStateError` if ``max_records`` pass undecided.
    """
    if not isinstance(canary, Canary):
        raise InvalidTypeError(f"canary must be a Canary, got {type(canary).__name__}")
    check_callable("draw", draw)
    if not isinstance(rng, np.random.Generator):
        raise InvalidTypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    limit = check_int("max_records", max_records, minimum=1)
    for _ in range(limit):
        if canary.state != "running":
            return canary.state, canary.samples("canary")
        arm = "canary" if rng.random() < canary.fraction else "control"
        canary.record(arm, draw(arm))
    if canary.state != "running":
        return canary.state, canary.samples("canary")
    raise InvalidStateError(f"the canary was still running after {limit} records")


@dataclass(frozen=True)
class CanaryOutcomes:
    """Final states and canary records of many simulated canaries."""

    states: tuple[str, ...]
    canary_records: tuple[int, ...]
    inconclusive: int

    def rates(self) -> dict[str, float]:
        """Share of runs ending ``"promoted"`` and ``"rolled_back"``."""
        counts = Counter(self.states)
        return {s: counts[s] / len(self.states) for s in ("promoted", "rolled_back")}

    @property
    def median_canary_records(self) -> float:
        """Median canary records to a decision."""
        return float(np.median(self.canary_records))


def canary_outcomes(
    make_canary: Callable[[], Canary],
    *,
    candidate_mean: float,
    control_mean: float,
    sd: float,
    runs: int,
    seed: int,
    metric: str = "pnl",
) -> CanaryOutcomes:
    """Run ``runs`` fresh canaries on normal records (``metric`` with the given means and a
    common ``sd``) and collect how each ended."""
    check_callable("make_canary", make_canary)
    means = {"canary": check_number("candidate_mean", candidate_mean),
             "control": check_number("control_mean", control_mean)}
    sd = check_number("sd", sd, minimum=0, low_open=True)
    rng = np.random.default_rng(check_int("seed", seed, minimum=0))
    states, records, inconclusive = [], [], 0
    for _ in range(check_int("runs", runs, minimum=1)):
        canary = make_canary()
        state, n = run_canary(canary, lambda arm: {metric: rng.normal(means[arm], sd)}, rng)
        states.append(state)
        records.append(n)
        inconclusive += state == "rolled_back" and "inconclusive" in canary.events[-1]["reason"]
    return CanaryOutcomes(tuple(states), tuple(records), inconclusive)

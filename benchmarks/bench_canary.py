"""The canary's decision rule: error rates from simulated canaries, time to a decision, cost.

Targets are set by the rule's own promise: a candidate exactly at the non-inferiority margin is
promoted at most alpha = 5% of the time however often the canary looks (the confidence
sequence's guarantee), and a candidate as good as production is promoted with the 80% power the
plan was sized for (`noninferiority_samples`). Baselines, same run: the same looks judged with a
fixed-horizon 95% interval (what "peeking" does), and a fixed-horizon test sized for the same
error rates, which always waits for its whole sample.
"""

import time

import numpy as np
from scipy import stats

from rl_best_practices.deployment import Canary, Guard, noninferiority_samples
from rl_best_practices.deployment.simulation import canary_outcomes
from rl_best_practices.running_stats import RunningMeanStd

from common import Row

RUNS = 1000
MARGIN, SD, STAGE, RAMP = 0.5, 1.0, 40, (0.25, 0.5)
ALPHA = 0.05


def make_canary(budget: int):
    def make() -> Canary:
        guard = Guard("pnl", -MARGIN, "at_least", min_samples=20, relative=True, alpha=ALPHA)
        return Canary(len, len, guards=[guard], ramp=RAMP, stage_samples=STAGE,
                      max_stage_samples=budget)
    return make


def peeking_false_promotions(looks: int, seed: int) -> float:
    """Share of at-margin candidates a fixed 95% interval, checked after every canary record
    from the 20th on (1:1 traffic), would promote."""
    rng = np.random.default_rng(seed)
    diff = rng.normal(-MARGIN, SD * np.sqrt(2.0), size=(RUNS, looks))
    n = np.arange(1, looks + 1)
    low = np.cumsum(diff, axis=1) / n - stats.norm.ppf(0.975) * SD * np.sqrt(2.0 / n)
    return float(np.mean(np.any(low[:, 19:] > -MARGIN, axis=1)))


def fixed_horizon_samples() -> int:
    """Canary records a one-look non-inferiority z-test needs for the same alpha and 80% power
    against an equal candidate (1:1 traffic)."""
    z = stats.norm.ppf(1 - ALPHA) + stats.norm.ppf(0.8)
    return int(np.ceil(2 * (z * SD / MARGIN) ** 2))


def record_overhead_seconds(calls: int = 20_000) -> tuple[float, float]:
    guards = [Guard("pnl", -MARGIN, "at_least", relative=True),
              Guard("max_drawdown", 3.0, "at_most")]
    canary = Canary(len, len, guards=guards, ramp=(0.5,), stage_samples=10**9)
    rng = np.random.default_rng(0)
    values = rng.normal(size=(calls, 2))
    start = time.perf_counter()
    for n, (a, b) in enumerate(values):
        canary.record("canary" if n % 2 else "control", {"pnl": a, "max_drawdown": b})
    per_record = (time.perf_counter() - start) / calls
    stats_only = [RunningMeanStd(0.0), RunningMeanStd(0.0)]
    start = time.perf_counter()
    for a, b in values:
        stats_only[0].update(a)
        stats_only[1].update(b)
    return per_record, (time.perf_counter() - start) / calls


def run() -> list[Row]:
    budget = noninferiority_samples(MARGIN, 0.0, SD, control_per_canary=1 / 3, design_samples=STAGE)
    mc = 3 * np.sqrt(ALPHA * (1 - ALPHA) / RUNS)
    at_margin = canary_outcomes(make_canary(budget), candidate_mean=-MARGIN, control_mean=0.0,
                                sd=SD, runs=RUNS, seed=1)
    peeking = peeking_false_promotions(looks=2 * budget, seed=2)
    equal = canary_outcomes(make_canary(budget), candidate_mean=0.0, control_mean=0.0, sd=SD,
                            runs=RUNS, seed=3)
    bad = canary_outcomes(make_canary(budget), candidate_mean=-3 * MARGIN, control_mean=0.0,
                          sd=SD, runs=RUNS, seed=4)
    fixed = fixed_horizon_samples()
    per_record, stats_only = record_overhead_seconds()
    false_rate = at_margin.rates()["promoted"]
    power = equal.rates()["promoted"]
    return [
        Row(figure=f"canary false promotion at the margin ({RUNS} simulated canaries, a look "
                   "after every record)",
            value=f"{false_rate:.3f}",
            baseline=f"fixed 95% interval at every look {peeking:.3f}",
            ratio=false_rate / peeking if peeking else None,
            target=f"≤ alpha {ALPHA} (+{mc:.3f} Monte Carlo)",
            met=false_rate <= ALPHA + mc),
        Row(figure=f"canary power, candidate equal to production ({RUNS} canaries, budget "
                   f"{budget} canary records per stage)",
            value=f"{power:.3f}",
            baseline="planned by noninferiority_samples: 0.80",
            ratio=power / 0.8,
            target="≥ 0.80 (−3 Monte Carlo s.e.)",
            met=power >= 0.8 - 3 * np.sqrt(0.16 / RUNS)),
        Row(figure="canary records to roll back a candidate 3 margins worse (median)",
            value=f"{bad.median_canary_records:.0f} (rolled back {bad.rates()['rolled_back']:.0%})",
            baseline=f"fixed-horizon test, same alpha and power: {fixed}",
            ratio=bad.median_canary_records / fixed,
            target="≤ 0.5x the fixed horizon",
            met=bad.median_canary_records <= 0.5 * fixed),
        Row(figure="canary decision overhead per record (2 guards, relative + absolute)",
            value=f"{per_record * 1e6:.1f} µs",
            baseline=f"updating the two running means alone {stats_only * 1e6:.1f} µs",
            ratio=per_record / stats_only,
            target="≤ 130 µs: 5% of the 2.6 ms a 200-step trading day costs",
            met=per_record <= 130e-6),
    ]

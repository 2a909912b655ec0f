"""Monitors beyond the inputs: cost per update, and the CUSUM's ARL0 and detection delay.

* Cost per update of :class:`ActionMonitor` (a G-test every 50 actions, window 200),
  :class:`CusumDetector` (blocks of 20) and :class:`LatencyMonitor` (p50/p99 every 100
  latencies, window 1000), each against one step of the course's market env (the anchor: a
  monitor should cost well under a step).
* ARL0 of a CUSUM with Siegmund's threshold for a stated ARL0 of 1,000, simulated on 400
  independent normal streams, and its detection delay for a one-sd fall against Siegmund's
  approximation (:func:`siegmund_delay`).
* Realised breach rate of the safety layer (lesson 02): the share of steps that end with the
  market's own VaR above the limit of 150, for a signal-following trader behind the corrected
  layer, checking the limit with no margin and with a margin of 0.20 (20 seeded episodes),
  against lesson 02's budget (the desk tolerates a breach on one step in 400).
"""

import numpy as np

from rl_best_practices.drift import (
    ActionMonitor,
    CusumDetector,
    LatencyMonitor,
    cusum_threshold,
    run_lengths,
    siegmund_delay,
)
from rl_best_practices.envs import MarketEnv
from rl_best_practices.safety.realised import margin_sweep

from common import Row, per_call_seconds

ARL0, K = 1000, 0.5


def _market_step_seconds() -> float:
    env = MarketEnv({"episode_length": 100_000})
    env.reset(seed=0)
    return per_call_seconds(lambda: env.step(1), 5000)


def _cost_rows(step: float) -> list[Row]:
    rng = np.random.default_rng(0)
    actions = ActionMonitor(rng.integers(3, size=5000), n_actions=3, window_size=200,
                            check_interval=50)
    cusum = CusumDetector(0.0, 1.0, k=K, h=cusum_threshold(ARL0, K), block=20)
    latency = LatencyMonitor(0.01, 0.05, window_size=1000, check_interval=100)
    values = iter(rng.integers(3, size=10**7).tolist())
    rewards = iter(rng.normal(size=10**7).tolist())
    times = iter(rng.uniform(0.001, 0.003, size=10**7).tolist())
    costs = {
        "ActionMonitor.observe (G-test every 50, window 200)":
            per_call_seconds(lambda: actions.observe(next(values)), 20_000),
        "CusumDetector.update (blocks of 20)":
            per_call_seconds(lambda: cusum.update(next(rewards)), 20_000),
        "LatencyMonitor.record (p50/p99 every 100, window 1000)":
            per_call_seconds(lambda: latency.record(next(times)), 20_000),
    }
    return [
        Row(figure=f"monitor cost per update: {name}", value=f"{cost * 1e6:.1f} µs",
            baseline=f"one MarketEnv step: {step * 1e6:.1f} µs", ratio=step / cost,
            target="≤ one env step", met=cost <= step)
        for name, cost in costs.items()
    ]


def _arl_rows() -> list[Row]:
    rng = np.random.default_rng(1)
    h = cusum_threshold(ARL0, K)
    runs = run_lengths(lambda: CusumDetector(k=K, h=h), rng.normal(size=(400, 8 * ARL0)))
    arl = float(np.mean([8 * ARL0 if r is None else r for r in runs]))
    streams = rng.normal(size=(400, 2 * ARL0))
    streams[:, ARL0:] -= 1.0
    delays = run_lengths(lambda: CusumDetector(k=K, h=h, direction="down"), streams, start=ARL0)
    delay = float(np.mean([ARL0 if d is None else d for d in delays]))
    theory = siegmund_delay(h, K, 1.0)
    return [
        Row(figure=f"CUSUM ARL0, Siegmund's h = {h:.2f} (k = {K}), 400 normal streams",
            value=f"{arl:,.0f} steps", baseline=f"stated ARL0 {ARL0:,}", ratio=arl / ARL0,
            target="within ±15% of the stated ARL0", met=abs(arl / ARL0 - 1) <= 0.15),
        Row(figure="CUSUM detection delay, a fall of 1 sd (one-sided, same h)",
            value=f"{delay:.1f} steps", baseline=f"Siegmund: {theory:.1f} steps",
            ratio=delay / theory, target="within ±15% of the approximation",
            met=abs(delay / theory - 1) <= 0.15),
    ]


def _breach_rows() -> list[Row]:
    sweep = margin_sweep([0.0, 0.2], seeds=range(20))  # lesson 02's measurement, same episodes
    without, with_margin = (float(sweep[m][1].mean()) for m in (0.0, 0.2))
    return [Row(figure="realised VaR breaches behind the safety layer, signal trader, 4,000 steps",
                value=f"margin 0.20: {with_margin:.2%} of steps",
                baseline=f"no margin: {without:.2%} of steps", ratio=None,
                target="margin 0.20: ≤ 0.25% of steps (lesson 02: the desk's 1 step in 400)",
                met=with_margin <= 0.0025)]


def run() -> list[Row]:
    return _cost_rows(_market_step_seconds()) + _arl_rows() + _breach_rows()

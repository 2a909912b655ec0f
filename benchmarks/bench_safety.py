"""SafetyLayer.filter_action latency per call (p50, p99), one row per path through the layer.

Two constraints (the market's position and VaR limits), the reduce-position fallback and a scalar
action, as in lesson 02. Each path gets its own proposals and states, checked beforehand with
``decide`` to take that path: **passed** (inside the bounds and the limits), **clipped** (outside
the bounds, safe once clipped), **projected** (unsafe: bisection towards the fallback's action
for the nearest safe trade) and **fallback** (only the fallback's own trade is safe, so the
bisection ends where it started).

Baseline, same run: the cheapest thing a practitioner would write instead, ``min(max(a, lo), hi)``
on a Python float (it enforces the bounds and nothing else). Target, fixed before measuring:
p99 ≤ 100 µs on every path, 0.2% of the 50 ms decision deadline lesson 06 gives its fallback
chain, so the layer never decides whether a deadline is met.
"""

import time

import numpy as np

from rl_best_practices.safety import SafetyLayer, position_limit, reduce_position, var_limit

from common import Row

CALLS = 20_000
BUDGET_US = 100.0  # 0.2% of lesson 06's 50 ms decision deadline
LOW, HIGH = -10.0, 10.0


def latencies(fn, arguments) -> np.ndarray:
    """Seconds taken by each call ``fn(*args)``, one per element of ``arguments``."""
    clock = time.perf_counter_ns
    out = np.empty(len(arguments))
    for i, args in enumerate(arguments):
        start = clock()
        fn(*args)
        out[i] = clock() - start
    return out * 1e-9


def layer() -> SafetyLayer:
    return SafetyLayer((LOW, HIGH), [position_limit(100), var_limit(150)], reduce_position(10))


def clamp(a: float) -> float:
    """The baseline: bounds only, on a Python float."""
    return min(max(a, LOW), HIGH)


def path_inputs(rng: np.random.Generator) -> dict[str, list[tuple[float, dict]]]:
    """``CALLS`` (proposal, state) pairs per path."""
    sign = rng.choice([-1.0, 1.0], CALLS)
    calm = [{"position": float(p), "var_per_unit": 1.0} for p in rng.uniform(-50, 50, CALLS)]
    return {
        "passed": list(zip(rng.uniform(LOW, HIGH, CALLS).tolist(), calm, strict=True)),
        "clipped": list(zip((sign * rng.uniform(10.5, 12, CALLS)).tolist(), calm, strict=True)),
        # 95 long: a buy of more than 5 breaks the position limit; the bisection finds 5
        "projected": [(float(a), {"position": 95.0, "var_per_unit": 1.0})
                      for a in rng.uniform(6, 10, CALLS)],
        # 100 long at twice the volatility (VaR 200 > 150): only a cut of the whole exit step
        # (the fallback's -10) passes, so every point nearer the proposal fails
        "fallback": [(float(a), {"position": 100.0, "var_per_unit": 2.0})
                     for a in rng.uniform(-9, 10, CALLS)],
    }


def run() -> list[Row]:
    rng = np.random.default_rng(0)
    inputs = path_inputs(rng)
    check = layer()
    for path, pairs in inputs.items():  # every input takes the path it is timed for
        outcomes = {check.decide(a, s).outcome for a, s in pairs[:500]}
        assert outcomes == {path}, (path, outcomes)
    filt = layer().filter_action
    latencies(filt, inputs["passed"][:2000])  # warm-up
    baseline = latencies(clamp, [(a,) for a, _ in inputs["clipped"]])
    base50, base99 = np.percentile(baseline, [50, 99]) * 1e6
    rows = []
    for path, pairs in inputs.items():
        p50, p99 = np.percentile(latencies(filt, pairs), [50, 99]) * 1e6
        rows.append(Row(
            figure=f"SafetyLayer.filter_action, path '{path}' (position + VaR limits, scalar)",
            value=f"p50 {p50:.1f} µs, p99 {p99:.1f} µs",
            baseline=f"min(max()) on a float p50 {base50:.2f} µs, p99 {base99:.2f} µs",
            ratio=p50 / base50,
            target=f"p99 ≤ {BUDGET_US:.0f} µs (0.2% of lesson 06's 50 ms decision deadline)",
            met=p99 <= BUDGET_US,
        ))
    return rows

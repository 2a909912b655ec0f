"""SafetyLayer.filter_action latency per call (p50, p99) beside a bare np.clip, in the same run.

Two constraints (the market's position and VaR limits) and a scalar action, on the common path:
proposals that pass after clipping (notebook 02 measures the rarer bisection path separately).
"""

import time

import numpy as np

from rl_best_practices.safety import SafetyLayer, position_limit, reduce_position, var_limit

from common import Row

CALLS = 20_000


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
    return SafetyLayer((-10.0, 10.0), [position_limit(100), var_limit(150)], reduce_position(10))


def run() -> list[Row]:
    rng = np.random.default_rng(0)
    actions = rng.uniform(-12, 12, CALLS).tolist()
    safe_states = [{"position": p, "var_per_unit": 1.0} for p in rng.uniform(-50, 50, CALLS)]

    warm_up = list(zip(actions[:2000], safe_states[:2000], strict=True))
    latencies(layer().filter_action, warm_up)
    clip = latencies(np.clip, [(a, -10.0, 10.0) for a in actions])
    passing = latencies(layer().filter_action, list(zip(actions, safe_states, strict=True)))

    clip50, clip99 = np.percentile(clip, [50, 99]) * 1e6
    p50, p99 = np.percentile(passing, [50, 99]) * 1e6
    return [
        Row(
            figure="SafetyLayer.filter_action, 2 constraints, scalar action",
            value=f"p50 {p50:.1f} µs, p99 {p99:.1f} µs",
            baseline=f"bare np.clip p50 {clip50:.1f} µs, p99 {clip99:.1f} µs",
            ratio=p50 / clip50,
            target="p50 ≤ 10 µs, p99 ≤ 50 µs",
            met=p50 <= 10 and p99 <= 50,
        )
    ]

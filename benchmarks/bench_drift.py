"""Shift detector cost against the strongest simple alternatives, in the same run.

Both checks see a 10,000-row reference with 4 features and a full window of 1000 observations.
The baseline check is what a practitioner would write with SciPy: the window in a NumPy array
and one ``scipy.stats.ks_2samp`` call per feature against the whole reference (no correction).
The detector sorts the reference once and tests the window against all 10,000 rows. Target,
fixed before measuring: a check costs at most 5% of the time it takes to sample the window it
checks (1000 market env steps, timed in the same run), so checking every window is affordable.

Adding an observation is compared with ``collections.deque(maxlen=...).append``, the standard
O(1) sliding window (which validates nothing); the target is O(1): at a 100x larger window an
add costs at most 2x what it costs at window 1000. (The lesson's first version, a list trimmed
with ``pop(0)``, is O(window) and is shown for scale.)
"""

from collections import deque

import numpy as np
from scipy import stats

from rl_best_practices.drift import DistributionShiftDetector
from rl_best_practices.envs import MarketEnv

from common import Row, per_call_seconds

REFERENCE_ROWS, WINDOW, FEATURES = 10_000, 1000, 4


class ListWindow:
    """The lesson's first window, for scale: a list trimmed with ``pop(0)``."""

    def __init__(self, rows: list, window_size: int) -> None:
        self.window, self.window_size = rows, window_size

    def add_observation(self, obs: np.ndarray) -> None:
        self.window.append(obs)
        if len(self.window) > self.window_size:
            self.window.pop(0)


def _market_step_seconds() -> float:
    env = MarketEnv({"episode_length": 100_000})
    env.reset(seed=0)
    return per_call_seconds(lambda: env.step(1), 5000)


def run() -> list[Row]:
    rng = np.random.default_rng(0)
    reference = rng.normal(size=(REFERENCE_ROWS, FEATURES))
    stream = rng.normal(size=(WINDOW, FEATURES))
    ring = DistributionShiftDetector(REFERENCE_ROWS, WINDOW)
    ring.update_reference(reference)
    ring.add_observations(stream)
    assert ring.check_shift()["reference_rows"] == REFERENCE_ROWS
    window = np.array(stream)

    def scipy_check() -> list[float]:
        return [stats.ks_2samp(window[:, j], reference[:, j]).pvalue for j in range(FEATURES)]

    # Short timings taken in turn, best of each: on a shared machine both see the same load.
    check_scipy = check_ring = float("inf")
    for _ in range(10):
        check_scipy = min(check_scipy, per_call_seconds(scipy_check, 10, repeats=1))
        check_ring = min(check_ring, per_call_seconds(ring.check_shift, 50, repeats=1))
    sampling = WINDOW * _market_step_seconds()

    row = stream[0]  # the add timings below fill the windows with copies of one row
    add_ring = per_call_seconds(lambda: ring.add_observation(row), 20_000)
    # O(1) means the cost of an add does not grow with the window: compare at a 100x window.
    big_ring = DistributionShiftDetector(REFERENCE_ROWS, 100 * WINDOW)
    big_ring.update_reference(reference)
    big_ring.add_observations(np.resize(stream, (100 * WINDOW, FEATURES)))
    big_deque = deque(np.resize(stream, (100 * WINDOW, FEATURES)), maxlen=100 * WINDOW)
    big_list = ListWindow(list(np.resize(stream, (100 * WINDOW, FEATURES))), 100 * WINDOW)
    add_big_ring = per_call_seconds(lambda: big_ring.add_observation(row), 20_000)
    add_big_deque = per_call_seconds(lambda: big_deque.append(row), 20_000)
    add_big_list = per_call_seconds(lambda: big_list.add_observation(row), 20_000)
    return [
        Row(
            figure=(f"drift check_shift (window {WINDOW}, d={FEATURES}, "
                    f"whole {REFERENCE_ROWS:,}-row reference)"),
            value=f"{check_ring * 1e3:.2f} ms ({check_ring / sampling:.1%} of sampling the window)",
            baseline=(f"scipy ks_2samp per feature, whole reference: {check_scipy * 1e3:.2f} ms; "
                      f"sampling {WINDOW} market steps {sampling * 1e3:.1f} ms"),
            ratio=check_ring / check_scipy,
            target=f"≤ 5% of the {WINDOW} env steps that fill the window (same run)",
            met=check_ring <= 0.05 * sampling,
        ),
        Row(
            figure=f"drift add_observation (window {100 * WINDOW:,}, d={FEATURES}), validated",
            value=f"{add_big_ring * 1e6:.1f} µs (at window {WINDOW}: {add_ring * 1e6:.1f} µs)",
            baseline=(f"deque(maxlen).append, unvalidated: {add_big_deque * 1e6:.2f} µs "
                      f"(list + pop(0): {add_big_list * 1e6:.1f} µs)"),
            ratio=add_big_ring / add_big_deque,
            target="O(1): ≤ 2x its cost at window 1000",
            met=add_big_ring <= 2 * add_ring,
        ),
    ]

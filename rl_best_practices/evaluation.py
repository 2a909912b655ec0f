"""Statistics for comparing RL runs across seeds.

* :func:`bootstrap_ci`: the mean across seeds and a seeded bootstrap confidence interval, one per
  column (e.g. per training iteration), computed by ``scipy.stats.bootstrap``.

One training seed is one sample: compare runs over several seeds and report the interval with
the number of seeds behind it.

>>> mean, low, high = bootstrap_ci([3.0, 1.0, 2.0, 4.0, 5.0], seed=0)
>>> float(mean[0]), bool(low[0] < 3.0 < high[0])
(3.0, True)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rl_best_practices.validation import check_int, check_probability, check_rows

__all__ = ["bootstrap_ci"]


def bootstrap_ci(
    values: Any,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean across seeds and a percentile bootstrap confidence interval, column by column.

    ``values`` has one row per seed and one column per iteration (a 1-D array is one column);
    the three returned arrays have one entry per column. Uses ``scipy.stats.bootstrap`` with a
    Generator seeded by ``seed``, so the interval is reproducible. With few seeds the interval
    is wide and approximate: report the number of seeds with it.

    >>> mean, low, high = bootstrap_ci([[1.0, 2.0], [3.0, 2.0], [2.0, 2.0]], seed=0)
    >>> mean.tolist(), bool(low[0] < 2.0 < high[0]), [float(low[1]), float(high[1])]
    ([2.0, 2.0], True, [2.0, 2.0])
    """
    from scipy import stats  # imported on first use: the module stays light to import

    data = check_rows("values (one row per seed)", values, min_rows=2)
    confidence = check_probability("confidence", confidence, open_ends=True)
    n_resamples = check_int("n_resamples", n_resamples, minimum=100)
    seed = check_int("seed", seed, minimum=0)
    result = stats.bootstrap(
        (data,), np.mean, axis=0, confidence_level=confidence, n_resamples=n_resamples,
        method="percentile", rng=np.random.default_rng(seed),
    )
    return data.mean(axis=0), result.confidence_interval.low, result.confidence_interval.high

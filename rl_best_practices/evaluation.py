"""Statistics for comparing RL runs across seeds, with intervals whose coverage is known.

One training seed is one sample: a run's return depends on its seed as much as on its settings,
so a conclusion needs several seeds and an interval that says how sure it is.

* :func:`seed_interval`: the mean across seeds with a Student-t interval, column by column (one
  column per iteration or per metric). Its coverage is close to nominal from 5 seeds on, for
  normal and moderately skewed returns (a test simulates it); the percentile bootstrap's is not
  (90% nominal covers about 61% of the time at 3 seeds).
* :func:`compare_seeds`: candidate minus baseline, with Welch's interval and p-value (unequal
  variances, unequal numbers of seeds). A test checks that the p-value is calibrated under the
  null, so "p < 0.05" is wrong 5% of the time when nothing differs.
* :func:`non_inferiority`: a candidate against the policy in production on the same seeds or
  days (paired), with one-sided Student-t bounds: shown non-inferior when the lower bound of
  ``candidate - incumbent`` is above ``-margin`` (``margin=0``: shown better). Wrongly "shown"
  at most ``1 - confidence`` of the time (a test simulates it).
* :func:`interquartile_mean` and :func:`iqm_interval`: the aggregate score of Agarwal et al.
  (2021), "Deep RL at the edge of the statistical precipice", with their stratified bootstrap.
* :func:`learning_curve_figure`: mean learning curves with a :func:`seed_interval` band.

>>> mean, low, high = seed_interval([3.0, 1.0, 2.0, 4.0, 5.0])
>>> float(mean[0]), round(float(low[0]), 2), round(float(high[0]), 2)
(3.0, 1.04, 4.96)
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from rl_best_practices.errors import InvalidValueError
from rl_best_practices.validation import (
    check_array,
    check_int,
    check_number,
    check_probability,
    check_rows,
)

__all__ = [
    "NonInferiority",
    "SeedComparison",
    "compare_seeds",
    "interquartile_mean",
    "iqm_interval",
    "learning_curve_figure",
    "non_inferiority",
    "seed_interval",
]


def _per_seed(name: str, values: Any) -> np.ndarray:
    return check_rows(f"{name} (one row per seed)", values, min_rows=2)


def seed_interval(
    values: Any, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean across seeds and a Student-t confidence interval, column by column.

    ``values`` has one row per seed and one column per iteration or metric (a 1-D array is one
    column); the three returned arrays have one entry per column. The interval is
    ``mean ± t(1 - α/2, n - 1) · s / √n``: exact for normal returns, within a few points of
    nominal for moderately skewed ones from 5 seeds on. A column whose seeds all agree has a
    zero-width interval.

    >>> mean, low, high = seed_interval([[1.0, 2.0], [3.0, 2.0], [2.0, 2.0]], confidence=0.9)
    >>> mean.tolist(), [round(float(x), 3) for x in low], high.tolist()[1]
    ([2.0, 2.0], [0.314, 2.0], 2.0)
    """
    data = _per_seed("values", values)
    confidence = check_probability("confidence", confidence, open_ends=True)
    n = data.shape[0]
    mean = data.mean(axis=0)
    half = stats.t.ppf(0.5 + confidence / 2, n - 1) * data.std(axis=0, ddof=1) / np.sqrt(n)
    return mean, mean - half, mean + half


@dataclass(frozen=True)
class SeedComparison:
    """``candidate − baseline`` of the per-seed means, Welch's interval and two-sided p-value."""

    difference: float
    low: float
    high: float
    p_value: float
    confidence: float
    n_candidate: int
    n_baseline: int

    def __str__(self) -> str:
        return (
            f"difference {self.difference:.4g} [{self.low:.4g}, {self.high:.4g}] "
            f"({self.confidence:.0%} Welch interval, p = {self.p_value:.3g}, "
            f"{self.n_candidate} vs {self.n_baseline} seeds)"
        )


def compare_seeds(candidate: Any, baseline: Any, confidence: float = 0.95) -> SeedComparison:
    """Compare two sets of runs, one number per seed each (e.g. held-out mean return).

    Welch's t-test: no equal-variance assumption, the seeds of the two sets need not match.
    The interval excludes 0 exactly when ``p_value < 1 - confidence``.

    >>> result = compare_seeds([5.1, 4.8, 5.5, 5.0, 5.2], [4.0, 4.4, 3.9, 4.3, 4.1])
    >>> round(result.difference, 2), result.low > 0, result.p_value < 0.001
    (0.98, True, True)
    """
    a = check_array("candidate (one value per seed)", candidate, ndim=1, min_size=2)
    b = check_array("baseline (one value per seed)", baseline, ndim=1, min_size=2)
    confidence = check_probability("confidence", confidence, open_ends=True)
    if a.std() == 0 and b.std() == 0:
        raise InvalidValueError(
            "candidate and baseline are both constant: there is no spread to test against"
        )
    with warnings.catch_warnings():
        # A constant side (a deterministic baseline) is legitimate: its variance is 0 and the
        # other side's spread is the whole test. scipy's "precision loss" warning for it is noise.
        warnings.filterwarnings("ignore", "Precision loss", RuntimeWarning)
        test = stats.ttest_ind(a, b, equal_var=False)
    interval = test.confidence_interval(confidence_level=confidence)
    return SeedComparison(
        difference=float(a.mean() - b.mean()), low=float(interval.low),
        high=float(interval.high), p_value=float(test.pvalue), confidence=confidence,
        n_candidate=a.size, n_baseline=b.size,
    )


@dataclass(frozen=True)
class NonInferiority:
    """``candidate - incumbent`` (paired) with one-sided bounds at ``confidence`` each."""

    difference: float
    low: float
    high: float
    margin: float
    confidence: float
    n: int

    @property
    def shown(self) -> bool:
        """Whether the candidate is shown no worse than ``margin`` below the incumbent."""
        return self.low > -self.margin

    @property
    def summary(self) -> str:
        verdict = "shown" if self.shown else "NOT shown"
        what = "better" if self.margin == 0 else f"non-inferior at margin {self.margin:g}"
        return (f"{verdict} {what}: candidate - incumbent {self.difference:.4g}, "
                f"{self.confidence:.0%} lower bound {self.low:.4g} over {self.n} paired runs")

    def __str__(self) -> str:
        return self.summary


def non_inferiority(
    candidate: Any, incumbent: Any, margin: float = 0.0, confidence: float = 0.95
) -> NonInferiority:
    """Is ``candidate`` shown no worse than ``incumbent - margin``? Paired by position.

    ``candidate[i]`` and ``incumbent[i]`` come from the same seed or day, so the day's luck
    cancels in their difference. ``low`` and ``high`` are one-sided Student-t bounds on the mean
    difference at ``confidence`` each; ``shown`` means ``low > -margin``, a conclusion that is
    wrong at most ``1 - confidence`` of the time when the candidate is in fact worse than that.

    >>> result = non_inferiority([5.1, 4.8, 5.5, 5.0, 5.2], [5.0, 4.9, 5.2, 5.1, 5.0], margin=0.5)
    >>> round(result.difference, 2), result.shown
    (0.08, True)
    >>> non_inferiority([5.1, 4.8, 5.5, 5.0, 5.2], [5.0, 4.9, 5.2, 5.1, 5.0]).shown  # better?
    False
    """
    a = check_array("candidate (one value per seed or day)", candidate, ndim=1, min_size=2)
    b = check_array("incumbent (one value per seed or day)", incumbent, ndim=1, min_size=2)
    if a.shape != b.shape:
        raise InvalidValueError(
            f"candidate and incumbent must be paired (same seeds), got {a.size} and {b.size} values"
        )
    margin = check_number("margin", margin, minimum=0)
    confidence = check_probability("confidence", confidence, open_ends=True)
    diff = a - b
    mean = float(diff.mean())
    half = float(stats.t.ppf(confidence, diff.size - 1) * diff.std(ddof=1) / np.sqrt(diff.size))
    return NonInferiority(mean, mean - half, mean + half, margin, confidence, diff.size)


def interquartile_mean(scores: Any) -> float:
    """The mean of the middle 50% of all scores (25% trimmed from each end).

    Robust to a few outlying runs, yet uses half the data, unlike the median.

    >>> interquartile_mean([0.0, 1.0, 2.0, 3.0, 100.0, 4.0, 5.0, 6.0])
    3.5
    """
    flat = check_array("scores", scores).ravel()
    return float(stats.trim_mean(flat, 0.25))


def iqm_interval(
    scores: Any, confidence: float = 0.95, n_resamples: int = 2000, seed: int = 0
) -> tuple[float, float, float]:
    """The interquartile mean of ``scores`` (runs × tasks) with a stratified bootstrap interval.

    As in Agarwal et al. (2021): each resample draws runs with replacement *within each task*
    (column), so every task keeps its weight; the interval is the percentile interval of the
    resampled IQMs. With one task (a 1-D array) this is a plain bootstrap over runs. The
    authors use it for aggregates over many runs × tasks; with few runs, prefer
    :func:`seed_interval` per task.

    >>> iqm, low, high = iqm_interval([[1.0, 10.0], [2.0, 11.0], [3.0, 12.0], [4.0, 13.0]])
    >>> iqm, low <= iqm <= high
    (7.0, True)
    """
    data = check_rows("scores (runs × tasks)", scores, min_rows=2)
    confidence = check_probability("confidence", confidence, open_ends=True)
    n_resamples = check_int("n_resamples", n_resamples, minimum=100)
    rng = np.random.default_rng(check_int("seed", seed, minimum=0))
    runs, tasks = data.shape
    rows = rng.integers(runs, size=(n_resamples, runs, tasks))
    resampled = data[rows, np.arange(tasks)]  # (n_resamples, runs, tasks), stratified by task
    iqms = stats.trim_mean(resampled.reshape(n_resamples, -1), 0.25, axis=1)
    alpha = 1 - confidence
    low, high = np.quantile(iqms, [alpha / 2, 1 - alpha / 2])
    return interquartile_mean(data), float(low), float(high)


def learning_curve_figure(
    curves: Mapping[str, Any],
    confidence: float = 0.95,
    *,
    xlabel: str = "training iteration",
    ylabel: str = "return",
    title: str | None = None,
) -> Any:
    """A matplotlib Figure: one mean curve per label with its :func:`seed_interval` band.

    ``curves`` maps a label to an array ``(n_seeds, iterations)``. The legend says how many
    seeds each band rests on and its confidence.

    >>> fig = learning_curve_figure({"a": [[0.0, 1.0], [0.5, 1.5], [0.2, 1.1]]})
    >>> [line.get_label() for line in fig.axes[0].get_lines()]
    ['a (3 seeds, 95% band)']
    """
    import matplotlib.pyplot as plt

    if not isinstance(curves, Mapping) or not curves:
        raise InvalidValueError(
            "curves must map at least one label to an (n_seeds, iterations) array"
        )
    fig, ax = plt.subplots(figsize=(8, 3.5))
    for label, values in curves.items():
        data = _per_seed(f"curves[{label!r}]", values)
        mean, low, high = seed_interval(data, confidence)
        x = np.arange(1, data.shape[1] + 1)
        (line,) = ax.plot(x, mean, label=f"{label} ({data.shape[0]} seeds, {confidence:.0%} band)")
        ax.fill_between(x, low, high, color=line.get_color(), alpha=0.2, linewidth=0)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig

"""The evaluation statistics keep their promises: coverage, calibration, and bad input refused."""

import warnings

import matplotlib
import numpy as np
import pytest
from scipy import stats

from rl_best_practices.errors import InvalidTypeError, InvalidValueError
from rl_best_practices.evaluation import (
    compare_seeds,
    interquartile_mean,
    iqm_interval,
    learning_curve_figure,
    seed_interval,
)

matplotlib.use("Agg")
REPLICATES = 4000  # coverage estimates to about ±0.7 points (one standard error)


def _coverage(draws: np.ndarray, true_mean: float, confidence: float) -> float:
    _, low, high = seed_interval(draws, confidence)  # one column per simulated experiment
    return float(np.mean((low <= true_mean) & (true_mean <= high)))


@pytest.mark.parametrize("n_seeds", [5, 10, 30])
@pytest.mark.parametrize("confidence", [0.9, 0.95])
def test_coverage_is_nominal_for_normal_returns(n_seeds, confidence):
    rng = np.random.default_rng(n_seeds)
    draws = rng.normal(100.0, 30.0, size=(n_seeds, REPLICATES))
    assert abs(_coverage(draws, 100.0, confidence) - confidence) < 0.02


@pytest.mark.parametrize("n_seeds", [5, 10, 30])
def test_coverage_is_within_a_few_points_for_skewed_returns(n_seeds):
    """Gamma(shape 4): skewness 1, as returns with an occasional lucky run."""
    rng = np.random.default_rng(100 + n_seeds)
    draws = rng.gamma(4.0, 25.0, size=(n_seeds, REPLICATES))
    assert abs(_coverage(draws, 100.0, 0.95) - 0.95) < 0.03


def test_the_percentile_bootstrap_under_covers_at_few_seeds():
    """The reason the course does not use it: 90% nominal, far less in fact at 3 seeds."""
    rng = np.random.default_rng(7)
    hits = 0
    for _ in range(300):
        x = rng.normal(0.0, 1.0, size=3)
        ci = stats.bootstrap((x,), np.mean, confidence_level=0.9, method="percentile",
                             n_resamples=500, rng=rng).confidence_interval
        hits += ci.low <= 0.0 <= ci.high
    t_cover = _coverage(rng.normal(0.0, 1.0, size=(3, REPLICATES)), 0.0, 0.9)
    assert hits / 300 < 0.75 and abs(t_cover - 0.9) < 0.02


def test_seed_interval_columns_and_shapes():
    mean, low, high = seed_interval(np.array([[1.0, 5.0], [3.0, 5.0], [2.0, 5.0]]))
    assert mean.shape == low.shape == high.shape == (2,)
    assert low[1] == high[1] == 5.0 and low[0] < 2.0 < high[0]


@pytest.mark.parametrize("bad, error", [
    ([1.0], InvalidValueError), ([[1.0, 2.0]], InvalidValueError),
    ([1.0, np.nan], InvalidValueError), (["a", "b"], InvalidTypeError), ([], InvalidValueError),
])
def test_seed_interval_refuses_bad_values(bad, error):
    with pytest.raises(error, match=r"^values \(one row per seed\) must be"):
        seed_interval(bad)


def test_two_seeds_are_enough_for_an_interval():
    mean, low, high = seed_interval([1.0, 3.0], confidence=0.9)
    half = stats.t.ppf(0.95, 1) * np.std([1.0, 3.0], ddof=1) / np.sqrt(2)
    assert (mean[0], low[0], high[0]) == pytest.approx((2.0, 2.0 - half, 2.0 + half))


@pytest.mark.parametrize("confidence", [0, 1, 1.5, True, "0.9"])
def test_seed_interval_refuses_bad_confidence(confidence):
    with pytest.raises(InvalidValueError, match=r"^confidence must be a finite number in \(0, 1\)"):
        seed_interval([1.0, 2.0, 3.0], confidence)


@pytest.mark.parametrize("bad, error, message", [
    ([], InvalidValueError, "at least 1 value"), (["a"], InvalidTypeError, "numeric"),
    ([1.0, np.inf], InvalidValueError, "finite"),
])
def test_interquartile_mean_refuses_bad_scores(bad, error, message):
    with pytest.raises(error, match=f"^scores must .*{message}"):
        interquartile_mean(bad)


@pytest.mark.parametrize("n, scale_b", [(5, 1.0), (5, 3.0), (10, 2.0)])
def test_welch_p_value_is_calibrated_under_the_null(n, scale_b):
    """Equal means, possibly unequal spreads: p < 0.05 about 5% of the time, not more."""
    rng = np.random.default_rng(n * 10 + int(scale_b))
    rejections = np.mean([
        compare_seeds(rng.normal(0, 1, n), rng.normal(0, scale_b, n)).p_value < 0.05
        for _ in range(2000)
    ])
    assert 0.035 < rejections < 0.065


def test_welch_power_matches_theory_and_its_interval_agrees_with_p():
    """A 1.5 sd effect with 10 seeds per arm is detected as often as the noncentral t says."""
    rng = np.random.default_rng(3)
    results = [compare_seeds(rng.normal(1.5, 1, 10), rng.normal(0, 1, 10)) for _ in range(2000)]
    power = np.mean([r.p_value < 0.05 for r in results])
    df, ncp = 18, 1.5 / np.sqrt(2 / 10)
    critical = stats.t.ppf(0.975, df)
    expected = stats.nct.sf(critical, df, ncp) + stats.nct.cdf(-critical, df, ncp)
    assert abs(power - expected) < 0.03 and expected > 0.85
    assert all((r.low > 0) == (r.p_value < 0.05) for r in results)


def test_compare_seeds_reports_welchs_difference_interval_and_p_value():
    a, b = np.array([5.1, 4.8, 5.5, 5.0, 5.2, 4.9]), np.array([4.0, 4.4, 3.9, 4.3])
    result = compare_seeds(a, b, confidence=0.9)
    welch = stats.ttest_ind(a, b, equal_var=False)
    interval = welch.confidence_interval(confidence_level=0.9)
    assert result.difference == pytest.approx(a.mean() - b.mean())
    assert (result.low, result.high) == pytest.approx((interval.low, interval.high))
    assert result.p_value == pytest.approx(welch.pvalue)
    assert (result.confidence, result.n_candidate, result.n_baseline) == (0.9, 6, 4)


def test_a_constant_side_is_tested_against_the_others_spread_without_a_warning():
    """A deterministic baseline gives the same number on every seed: the comparison is then the
    candidate's one-sample t-interval around the baseline's value, and no warning is raised."""
    candidate, rule = np.array([0.5, 0.7, 0.9, 1.4]), np.full(4, 3.3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = compare_seeds(candidate, rule)
    one_sample = stats.ttest_1samp(candidate, 3.3)
    interval = one_sample.confidence_interval(0.95)
    assert (result.low, result.high) == pytest.approx((interval.low - 3.3, interval.high - 3.3))
    assert result.p_value == pytest.approx(one_sample.pvalue)


def test_compare_seeds_refuses_bad_input():
    with pytest.raises(InvalidValueError, match=r"^candidate \(one value per seed\) .*at least 2"):
        compare_seeds([1.0], [1.0, 2.0])
    with pytest.raises(InvalidValueError, match=r"^baseline \(one value per seed\) .*at least 2"):
        compare_seeds([1.0, 2.0], [1.0])
    with pytest.raises(InvalidValueError, match=r"^candidate \(one value per seed\) .*1-D"):
        compare_seeds([[1.0, 2.0]], [1.0, 2.0])
    with pytest.raises(InvalidValueError, match=r"^baseline \(one value per seed\) .*1-D"):
        compare_seeds([1.0, 2.0], [[1.0, 2.0]])
    with pytest.raises(InvalidValueError, match="^candidate and baseline are both constant: "
                       "there is no spread to test against$"):
        compare_seeds([1.0, 1.0], [2.0, 2.0])
    for confidence in (0, 1):
        with pytest.raises(InvalidValueError, match=r"^confidence must be a finite number in"):
            compare_seeds([1.0, 2.0], [1.0, 3.0], confidence)


def test_interquartile_mean_matches_scipy_and_ignores_outliers():
    rng = np.random.default_rng(0)
    x = rng.normal(size=40)
    assert interquartile_mean(x) == pytest.approx(stats.trim_mean(x, 0.25))
    assert interquartile_mean([1, 2, 3, 4, 5, 6, 7, 1e9]) == pytest.approx(4.5)


def test_iqm_interval_is_stratified_and_reproducible():
    scores = np.column_stack([np.arange(10.0), 100 + np.arange(10.0)])
    first, second = iqm_interval(scores, seed=1), iqm_interval(scores, seed=1)
    assert first == second and first[1] <= first[0] <= first[2]
    # Stratified: each task keeps its runs, so every resample holds 10 scores from each task
    # and the IQM stays in the middle of the two tasks' ranges.
    assert 40 < first[1] and first[2] < 70


def test_iqm_interval_is_the_percentile_interval_of_the_stratified_bootstrap():
    # An independent stratified bootstrap (runs redrawn within each task) with many resamples:
    # at confidence 0.5 the interval's ends are its 25% and 75% quantiles, to within 0.1 of the
    # bootstrap distribution's spread (Monte Carlo error of 2000 resamples: about 0.03 of it).
    rng = np.random.default_rng(12)
    scores = np.column_stack([rng.normal(0, 1, 12), rng.gamma(2.0, 3.0, 12)])
    iqm, low, high = iqm_interval(scores, confidence=0.5, seed=3)
    redrawn = np.stack([scores[rng.integers(12, size=(50_000, 12)), task]
                        for task in range(2)], axis=2)  # (resamples, runs, tasks)
    iqms = stats.trim_mean(redrawn.reshape(50_000, -1), 0.25, axis=1)
    spread = iqms.std()
    assert iqm == stats.trim_mean(scores.ravel(), 0.25)
    assert abs(low - np.quantile(iqms, 0.25)) < 0.1 * spread
    assert abs(high - np.quantile(iqms, 0.75)) < 0.1 * spread
    assert iqm_interval(scores) == iqm_interval(scores, 0.95, n_resamples=2000, seed=0)
    assert iqm_interval(scores, n_resamples=100, seed=0) != iqm_interval(scores)


@pytest.mark.parametrize("kwargs, message", [
    ({"scores": [[1.0, 2.0]]},
     r"^scores \(runs × tasks\) must be a 2-D array .* at least 2 row\(s\), got shape \(1, 2\)"),
    ({"confidence": 0}, r"^confidence must be a finite number in \(0, 1\), got 0$"),
    ({"confidence": 1}, r"^confidence must be a finite number in \(0, 1\), got 1$"),
    ({"n_resamples": 99}, r"^n_resamples must be an integer >= 100, got 99$"),
    ({"seed": -1}, r"^seed must be an integer >= 0, got -1$"),
])
def test_iqm_interval_refuses_bad_arguments(kwargs, message):
    arguments = {"scores": [[1.0, 2.0], [3.0, 4.0]], **kwargs}
    with pytest.raises(InvalidValueError, match=message):
        iqm_interval(**arguments)
    assert iqm_interval([[1.0, 2.0], [3.0, 4.0]], n_resamples=100, seed=0)[0] == 2.5


def test_learning_curve_figure_draws_one_band_per_label():
    spread = np.zeros((5, 4)) + np.arange(5)[:, None]
    fig = learning_curve_figure({"raw": np.ones((5, 4)), "scaled": spread})
    ax = fig.axes[0]
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["raw (5 seeds, 95% band)", "scaled (5 seeds, 95% band)"]
    assert len(ax.collections) == 2
    with pytest.raises(InvalidValueError):
        learning_curve_figure({})

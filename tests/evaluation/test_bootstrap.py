"""Comparing runs across seeds: the mean and a seeded bootstrap confidence interval."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from rl_best_practices import errors, evaluation, experiment
from rl_best_practices.evaluation import bootstrap_ci


def test_bootstrap_ci_matches_scipy_and_is_reproducible():
    values = np.random.default_rng(0).normal(size=(5, 3))
    mean, low, high = bootstrap_ci(values, seed=1)
    reference = stats.bootstrap((values,), np.mean, axis=0, method="percentile",
                                n_resamples=2000, rng=np.random.default_rng(1))
    np.testing.assert_allclose(mean, values.mean(axis=0))
    np.testing.assert_allclose(low, reference.confidence_interval.low)
    np.testing.assert_allclose(high, reference.confidence_interval.high)
    again = bootstrap_ci(values, seed=1)
    assert all(np.array_equal(a, b) for a, b in zip(again, (mean, low, high), strict=True))
    narrower = bootstrap_ci(values, confidence=0.5, seed=1)
    assert np.all(narrower[2] - narrower[1] < high - low)


@given(st.lists(st.floats(-1e3, 1e3), min_size=2, max_size=8))
@settings(max_examples=40, deadline=None)
def test_bootstrap_interval_lies_within_the_data(values):
    mean, low, high = bootstrap_ci(values, n_resamples=200, seed=0)
    tol = 1e-9 * (1 + max(abs(v) for v in values))
    assert min(values) - tol <= low[0] <= high[0] <= max(values) + tol
    assert mean.shape == low.shape == high.shape == (1,)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"values": [1.0]}, errors.InvalidValueError, r"at least 2 row\(s\)"),
        ({"values": [[1.0, np.nan], [1.0, 2.0]]}, errors.InvalidValueError, "finite"),
        ({"values": np.ones((2, 2, 2))}, errors.InvalidValueError, "one row per seed"),
        ({"values": [["a"], ["b"]]}, errors.InvalidTypeError, "must be numeric"),
        ({"values": [1.0, 2.0], "confidence": 1.0}, errors.InvalidValueError,
         r"confidence must be a finite number in \(0, 1\), got 1.0"),
        ({"values": [1.0, 2.0], "confidence": True}, errors.InvalidTypeError, "confidence"),
        ({"values": [1.0, 2.0], "n_resamples": 10}, errors.InvalidValueError,
         "n_resamples must be an integer >= 100, got 10"),
        ({"values": [1.0, 2.0], "n_resamples": 1000.0}, errors.InvalidTypeError, "n_resamples"),
        ({"values": [1.0, 2.0], "seed": -1}, errors.InvalidValueError, "seed must be"),
        ({"values": [1.0, 2.0], "seed": True}, errors.InvalidTypeError, "seed must be"),
    ],
)
def test_bootstrap_ci_refuses_bad_input(kwargs, error, message):
    with pytest.raises(error, match=message) as caught:
        bootstrap_ci(**kwargs)
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, errors.Error)


def test_statistics_live_in_evaluation_not_in_the_experiment_package():
    assert "bootstrap_ci" in evaluation.__all__
    assert not hasattr(experiment, "bootstrap_ci")

"""non_inferiority: paired one-sided bounds against the incumbent, with measured error rates."""

import numpy as np
import pytest
from scipy import stats

from rl_best_practices.errors import Error, InvalidValueError
from rl_best_practices.evaluation import non_inferiority


def test_the_bounds_are_the_paired_t_bounds():
    rng = np.random.default_rng(0)
    a, b = rng.normal(1.0, 1.0, 12), rng.normal(0.8, 1.0, 12)
    result = non_inferiority(a, b, margin=0.2, confidence=0.9)
    test = stats.ttest_rel(a, b, alternative="greater")
    assert result.low == pytest.approx(test.confidence_interval(0.9).low)
    assert result.difference == pytest.approx((a - b).mean()) and result.n == 12
    assert result.shown == (result.low > -0.2)
    assert result.high == pytest.approx(2 * result.difference - result.low)  # symmetric bounds
    assert result.high == pytest.approx(
        stats.ttest_rel(a, b, alternative="less").confidence_interval(0.9).high)


def test_the_default_margin_asks_whether_the_candidate_is_better():
    result = non_inferiority([5.1, 4.8, 5.5, 5.0, 5.2], [5.0, 4.9, 5.2, 5.1, 5.0])
    assert result.margin == 0.0 and result.confidence == 0.95
    assert -0.5 < result.low < 0 and not result.shown


def test_pairing_cancels_the_days_luck():
    """Days differ wildly, the candidate is 1 better on every day: paired, that is clear."""
    days = np.random.default_rng(1).normal(0.0, 100.0, 8)
    result = non_inferiority(days + 1.0 + np.linspace(-0.1, 0.1, 8), days)
    assert result.shown and result.low > 0.8


@pytest.mark.parametrize("margin", [0.0, 0.3])
def test_a_candidate_exactly_at_the_margin_is_shown_at_most_one_minus_confidence(margin):
    rng = np.random.default_rng(2)
    runs = 4000
    shown = sum(non_inferiority(rng.normal(-margin, 1.0, 10), np.zeros(10), margin).shown
                for _ in range(runs))
    assert abs(shown / runs - 0.05) < 3 * np.sqrt(0.05 * 0.95 / runs)


def test_summary_says_what_was_shown():
    result = non_inferiority([1.0, 2.0, 3.0], [3.0, 4.0, 5.5], margin=0.5)
    assert not result.shown and result.summary.startswith("NOT shown non-inferior at margin 0.5")
    assert str(result) == result.summary


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(candidate=[1.0, 2.0, 3.0], incumbent=[1.0, 2.0]), InvalidValueError,
         "must be paired"),
        (dict(candidate=[1.0]), InvalidValueError,
         r"^candidate \(one value per seed or day\) must hold at least 2"),
        (dict(incumbent=[1.0]), InvalidValueError,
         r"^incumbent \(one value per seed or day\) must hold at least 2"),
        (dict(candidate=[[1.0, 2.0]]), InvalidValueError,
         r"^candidate \(one value per seed or day\) must be a 1-D array"),
        (dict(incumbent=[[0.5, 1.5]]), InvalidValueError,
         r"^incumbent \(one value per seed or day\) must be a 1-D array"),
        (dict(candidate=[1.0, np.nan]), InvalidValueError, "candidate"),
        (dict(margin=-1.0), InvalidValueError, r"^margin must be a finite number >= 0"),
        (dict(confidence=1.0), InvalidValueError, r"^confidence must be a finite number in"),
        (dict(candidate="12"), InvalidValueError, "candidate"),
    ],
)
def test_bad_input_gets_a_specific_error(kwargs, error, message):
    args = {"candidate": [1.0, 2.0], "incumbent": [0.5, 1.5], **kwargs}
    with pytest.raises(error, match=message) as info:
        non_inferiority(**args)
    assert isinstance(info.value, Error)

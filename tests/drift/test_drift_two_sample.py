"""The two-sample statistics of lesson 03: the hand-written KS test against scipy's, and the PSI."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import special, stats

from rl_best_practices.drift import ks_2samp_sorted, population_stability_index
from rl_best_practices.errors import Error, InvalidTypeError, InvalidValueError


@settings(max_examples=200, deadline=None)
@given(
    ref=hnp.arrays(np.float64, st.tuples(st.integers(1, 60), st.just(2)),
                   elements=st.integers(-3, 3)),
    new=hnp.arrays(np.float64, st.tuples(st.integers(1, 60), st.just(2)),
                   elements=st.floats(-4, 4, width=16)),
)
def test_ks_matches_scipy_asymp_including_ties(ref, new):
    assume(len(ref) + len(new) > 2)  # one point against one: scipy returns NaN
    d, p = ks_2samp_sorted(np.sort(ref, axis=0), new)
    for j in range(2):
        expected = stats.ks_2samp(ref[:, j], new[:, j], method="asymp")
        assert d[j] == pytest.approx(expected.statistic, abs=1e-12)
        assert p[j] == pytest.approx(expected.pvalue, abs=1e-12)


def test_ks_with_ties_in_the_sample_only_matches_scipy():
    # The sample repeats values the reference never takes, in one column only; the other
    # column has no ties at all.
    rng = np.random.default_rng(5)
    ref = rng.normal(size=(40, 2))
    new = np.column_stack([np.repeat([-0.55, 0.05, 0.35, 1.25], 5), rng.normal(size=20)])
    d, p = ks_2samp_sorted(np.sort(ref, axis=0), new)
    for j in range(2):
        expected = stats.ks_2samp(ref[:, j], new[:, j], method="asymp")
        assert d[j] == pytest.approx(expected.statistic, abs=1e-12)
        assert p[j] == pytest.approx(expected.pvalue, abs=1e-12)


def test_stephens_p_value_is_the_documented_formula_even_for_small_samples():
    rng = np.random.default_rng(6)
    ref, new = rng.normal(size=(12, 2)), rng.normal(0.5, size=(6, 2))
    d, p = ks_2samp_sorted(np.sort(ref, axis=0), new, method="stephens")
    root = np.sqrt(12 * 6 / 18)
    assert p == pytest.approx(special.kolmogorov((root + 0.12 + 0.11 / root) * d), rel=1e-12)


def test_psi_bins_at_reference_quantiles_match_the_definition():
    # Reference 0..10: quintile edges 2, 4, 6, 8; a value on an edge belongs to the bin below.
    ref, new = np.arange(11.0), np.array([2.0, 2.0, 4.0, 5.0, 10.0])
    r = np.array([3, 2, 2, 2, 2]) / 11
    s = np.maximum(np.array([2, 1, 1, 0, 1]) / 5, 1e-4)  # the empty bin is floored
    expected = np.sum((s - r) * np.log(s / r))
    assert population_stability_index(ref, new, bins=5) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    "m, n, shift", [(10_000, 1000, 0.0), (10_000, 1000, 0.1), (2000, 200, 0.2)])
def test_stephens_p_values_stay_close_to_scipy(m, n, shift):
    rng = np.random.default_rng(m + n)
    ref, new = rng.normal(size=(m, 3)), rng.normal(shift, size=(n, 3))
    d, p = ks_2samp_sorted(np.sort(ref, axis=0), new, method="stephens")
    for j in range(3):
        expected = stats.ks_2samp(ref[:, j], new[:, j])  # scipy's default method
        assert d[j] == pytest.approx(expected.statistic, abs=1e-12)
        assert p[j] == pytest.approx(expected.pvalue, abs=0.01)


def test_ks_rejects_bad_arguments():
    ref = np.sort(np.random.default_rng(0).normal(size=(50, 2)), axis=0)
    with pytest.raises(ValueError, match="method must be one of"):
        ks_2samp_sorted(ref, ref, method="exact")
    with pytest.raises(ValueError, match=r"sample must have shape \(n >= 1, 2\)"):
        ks_2samp_sorted(ref, ref[:, :1])
    with pytest.raises(ValueError, match="reference_sorted must have shape"):
        ks_2samp_sorted(ref[:, 0], ref)
    with pytest.raises(ValueError,
                       match=r"reference_sorted must have shape \(m >= 1, d\), got \(0, 2\)"):
        ks_2samp_sorted(np.zeros((0, 2)), ref)
    with pytest.raises(ValueError, match=r"sample must have shape \(n >= 1, 2\) .*got \(0, 2\)"):
        ks_2samp_sorted(ref, np.zeros((0, 2)))


def test_psi_is_small_without_shift_and_large_with_one():
    rng = np.random.default_rng(0)
    ref = rng.normal(size=20_000)
    assert population_stability_index(ref, rng.normal(size=5000)) < 0.01
    assert population_stability_index(ref, rng.normal(0.5, size=5000)) > 0.2
    assert population_stability_index(ref, ref) == pytest.approx(0.0, abs=1e-12)


def test_psi_uses_ten_quantile_bins_by_default():
    rng = np.random.default_rng(1)
    ref, new = rng.normal(size=2000), rng.normal(0.3, size=500)
    default = population_stability_index(ref, new)
    assert default == population_stability_index(ref, new, bins=10)
    assert default != population_stability_index(ref, new, bins=11)


def test_psi_handles_ties_and_empty_bins():
    ref = np.r_[np.zeros(600), np.arange(1, 401)]  # 60% zeros: merged quantile edges
    value = population_stability_index(ref, np.full(100, 1000.0))
    assert np.isfinite(value) and value > 1


def test_psi_rejects_bad_input():
    with pytest.raises(InvalidValueError, match="one feature"):
        population_stability_index(np.zeros((10, 2)), np.zeros(10))
    with pytest.raises(InvalidValueError, match="finite"):
        population_stability_index([0.0, 1.0, np.nan], [0.0])
    with pytest.raises(InvalidValueError, match="bins must be an integer >= 2"):
        population_stability_index([0.0, 1.0], [0.0], bins=1)


@pytest.mark.parametrize("bins", [True, 2.0, "10", None])
def test_psi_refuses_bins_of_the_wrong_type(bins):
    with pytest.raises(InvalidTypeError, match="bins must be an integer >= 2") as info:
        population_stability_index([0.0, 1.0], [0.0], bins=bins)
    assert isinstance(info.value, TypeError) and isinstance(info.value, ValueError)


def test_psi_reports_bad_data_with_the_package_errors():
    with pytest.raises(InvalidTypeError, match="sample must be numeric"):
        population_stability_index([0.0, 1.0], ["a", "b"])
    with pytest.raises(InvalidValueError, match=r"got 2 and 1 columns"):
        population_stability_index(np.zeros((10, 2)), np.zeros(10))
    with pytest.raises(InvalidValueError, match="reference must be a 2-D array"):
        population_stability_index([], [0.0])


def test_ks_errors_are_package_errors():
    ref = np.sort(np.random.default_rng(0).normal(size=(50, 2)), axis=0)
    with pytest.raises(InvalidValueError, match="method must be one of 'asymp', 'stephens'"):
        ks_2samp_sorted(ref, ref, method="exact")
    with pytest.raises(InvalidValueError, match="sample must be finite"):
        ks_2samp_sorted(ref, np.full((3, 2), np.nan))
    with pytest.raises(InvalidTypeError, match="reference_sorted must be numeric"):
        ks_2samp_sorted([["a", "b"]], ref)
    with pytest.raises(Error):
        ks_2samp_sorted(ref, ref[:0])

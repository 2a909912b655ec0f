"""The confidence-sequence arithmetic and the power helper."""

import math

import numpy as np
import pytest
from scipy import stats

from rl_best_practices.deployment.sequential import (
    DESIGN_RATIO,
    mixing_variance,
    mixture_radius,
    noninferiority_samples,
)
from rl_best_practices.errors import Error, InvalidTypeError, InvalidValueError


def test_the_radius_is_the_normal_mixture_boundary_and_tightest_near_the_design_ratio():
    v, tau2, alpha = 0.3, 2.0, 0.05
    # the mixture likelihood ratio equals 1/alpha exactly on the boundary
    r = mixture_radius(v, tau2, alpha)
    ratio = math.sqrt(v / (v + tau2)) * math.exp(tau2 * r**2 / (2 * v * (v + tau2)))
    assert ratio == pytest.approx(1 / alpha)
    widths = {x: mixture_radius(1.0, x, 0.05) for x in (2.0, 5.0, DESIGN_RATIO, 20.0, 50.0)}
    assert min(widths.values()) >= 0.99 * widths[DESIGN_RATIO]
    assert widths[DESIGN_RATIO] > stats.norm.ppf(0.975)  # always wider than one look's interval


def test_the_helper_gives_the_smallest_sufficient_sample_size():
    margin, sd, z = 0.5, 1.0, stats.norm.ppf(0.8)
    n = noninferiority_samples(margin, 0.1, sd, design_samples=200)

    def slack(k):
        v = 2 * sd**2 / k
        tau2 = DESIGN_RATIO * 2 * sd**2 / 200
        return 0.1 + margin - mixture_radius(v, tau2, 0.05) - z * math.sqrt(v)

    assert slack(n) >= 0 > slack(n - 1)
    # more noise or a thinner margin need more records; a better candidate fewer
    assert noninferiority_samples(margin, 0.1, 2 * sd, design_samples=200) > n
    assert noninferiority_samples(margin / 2, 0.1, sd, design_samples=200) > n
    assert noninferiority_samples(margin, 0.3, sd, design_samples=200) < n
    # an absolute guard has no control arm to add variance
    assert noninferiority_samples(margin, 0.1, sd, control_per_canary=None,
                                  design_samples=200) < n


def test_mixing_variance_scales_to_the_design_size():
    assert mixing_variance(2.0, 10, 40) == pytest.approx(DESIGN_RATIO * 2.0 / 4)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: noninferiority_samples(0.5, -0.5, 1.0), InvalidValueError,
         "difference \\+ margin must be positive"),
        (lambda: noninferiority_samples(-0.1, 0.0, 1.0), InvalidValueError,
         r"^margin must be a finite number >= 0, got -0.1$"),
        (lambda: noninferiority_samples(0.5, 0.0, 0.0), InvalidValueError,
         r"^sd must be a finite number > 0"),
        (lambda: noninferiority_samples(0.5, 0.0, 1.0, alpha=1.0), InvalidValueError,
         r"^alpha must be a finite number in \(0, 1\)"),
        (lambda: noninferiority_samples(0.5, 0.0, 1.0, power=0.0), InvalidValueError,
         r"^power must be a finite number in \(0, 1\)"),
        (lambda: noninferiority_samples(0.5, 0.0, 1.0, control_per_canary=0.0),
         InvalidValueError, r"^control_per_canary must be a finite number > 0"),
        (lambda: noninferiority_samples(1e-4, 0.0, 100.0, max_samples=1000), InvalidValueError,
         "more than max_samples=1000"),
        (lambda: noninferiority_samples("0.5", 0.0, 1.0), InvalidTypeError, r"^margin must be"),
        (lambda: noninferiority_samples(0.5, "0", 1.0), InvalidTypeError,
         r"^difference must be a finite number, got '0'$"),
        (lambda: noninferiority_samples(0.5, 0.0, 1.0, design_samples=0), InvalidValueError,
         r"^design_samples must be an integer >= 1"),
        (lambda: noninferiority_samples(0.5, 0.0, 1.0, max_samples=1), InvalidValueError,
         r"^max_samples must be an integer >= 2"),
        (lambda: mixture_radius(-1.0, 1.0, 0.05), InvalidValueError,
         r"^variance must be a finite number >= 0"),
        (lambda: mixture_radius(1.0, 0.0, 0.05), InvalidValueError,
         r"^mixing_variance must be a finite number > 0"),
        (lambda: mixture_radius(1.0, 1.0, np.nan), InvalidValueError, r"^alpha must be"),
        (lambda: mixture_radius(1.0, 1.0, 0.0), InvalidValueError,
         r"^alpha must be a finite number in \(0, 1\), got 0.0$"),
        (lambda: mixture_radius(1.0, 1.0, 1.0), InvalidValueError,
         r"^alpha must be a finite number in \(0, 1\), got 1.0$"),
        (lambda: mixing_variance(1.0, 0, 10), InvalidValueError,
         r"^samples must be an integer >= 1"),
        (lambda: mixing_variance(0.0, 1, 10), InvalidValueError,
         r"^variance must be a finite number > 0"),
        (lambda: mixing_variance(1.0, 1, 0), InvalidValueError,
         r"^design_samples must be an integer >= 1"),
    ],
)
def test_bad_arguments_get_specific_errors(call, error, message):
    with pytest.raises(error, match=message) as info:
        call()
    assert isinstance(info.value, Error)


def test_the_documented_sample_sizes_and_the_default_cap():
    assert noninferiority_samples(margin=1.0, difference=0.0, sd=5.0) == 837
    assert noninferiority_samples(margin=50.0, difference=0.0, sd=300.0,
                                  control_per_canary=3.0) == 801
    assert noninferiority_samples(margin=1.0, difference=0.0, sd=5.0, design_samples=837) < 837
    with pytest.raises(InvalidValueError, match=r"^more than max_samples=10000000 records"):
        noninferiority_samples(1e-6, 0.0, 100.0)


def test_the_cap_holds_even_below_the_first_doubling():
    assert noninferiority_samples(5.0, 0.0, 1.0) == 3 and noninferiority_samples(8.0, 0.0, 1.0) == 2
    with pytest.raises(InvalidValueError, match=r"^more than max_samples=2 records"):
        noninferiority_samples(5.0, 0.0, 1.0, max_samples=2)


@pytest.mark.parametrize("margin", [0.9, 0.6, 0.45, 0.3, 0.2, 0.12])
def test_the_answer_is_the_smallest_sufficient_size_whatever_its_magnitude(margin):
    """Answers from a handful to several thousand records, each checked against the stated
    condition (radius + z * se <= margin + difference) one record below and at the answer."""
    z = stats.norm.ppf(0.8)

    def slack(k):
        v = 2.0 / k
        return margin - mixture_radius(v, DESIGN_RATIO * 2.0 / 100, 0.05) - z * math.sqrt(v)

    n = noninferiority_samples(margin, 0.0, 1.0)
    assert slack(n) >= 0 > slack(n - 1)


def test_a_zero_variance_has_a_zero_radius():
    assert mixture_radius(0.0, 1.0, 0.05) == 0.0

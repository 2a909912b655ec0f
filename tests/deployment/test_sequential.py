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
        (lambda: noninferiority_samples(-0.1, 0.0, 1.0), InvalidValueError, "margin"),
        (lambda: noninferiority_samples(0.5, 0.0, 0.0), InvalidValueError, "sd"),
        (lambda: noninferiority_samples(0.5, 0.0, 1.0, alpha=1.0), InvalidValueError, "alpha"),
        (lambda: noninferiority_samples(0.5, 0.0, 1.0, power=0.0), InvalidValueError, "power"),
        (lambda: noninferiority_samples(0.5, 0.0, 1.0, control_per_canary=0.0),
         InvalidValueError, "control_per_canary"),
        (lambda: noninferiority_samples(1e-4, 0.0, 100.0, max_samples=1000), InvalidValueError,
         "more than max_samples=1000"),
        (lambda: noninferiority_samples("0.5", 0.0, 1.0), InvalidTypeError, "margin"),
        (lambda: mixture_radius(-1.0, 1.0, 0.05), InvalidValueError, "variance"),
        (lambda: mixture_radius(1.0, 0.0, 0.05), InvalidValueError, "mixing_variance"),
        (lambda: mixture_radius(1.0, 1.0, np.nan), InvalidValueError, "alpha"),
        (lambda: mixing_variance(1.0, 0, 10), InvalidValueError, "samples"),
    ],
)
def test_bad_arguments_get_specific_errors(call, error, message):
    with pytest.raises(error, match=message) as info:
        call()
    assert isinstance(info.value, Error)

"""Always-valid confidence sequences: intervals a canary may look at after every record.

A fixed-horizon interval is right 95% of the time *at one pre-chosen look*. A canary looks after
every record, and "stop as soon as the interval clears the bound" with a fixed-horizon interval
errs far more often than 5%. A *confidence sequence* covers the true value at every look at
once, with probability at least ``1 - alpha``, so it may be checked as often as one likes.

This module uses the normal-mixture boundary (Robbins, 1970; Howard, Ramdas, McAuliffe and
Sekhon, 2021, "Time-uniform, nonparametric, nonasymptotic confidence sequences", Ann. Statist.,
eq. (14)); for two arms it is the mixture sequential probability ratio test of Johari, Koomen,
Pekelis and Walsh (2022), "Always valid inference: continuous monitoring of A/B tests", Oper.
Res. With ``V`` the variance of the estimate and ``tau2`` the mixing variance, the half-width is

    sqrt(V (V + tau2) / tau2 * (2 log(1/alpha) + log((V + tau2) / V)))

The variance is estimated from the data (plug-in, asymptotically valid: Waudby-Smith et al.,
2021); simulation tests measure the error rates it reaches at the sample sizes a canary uses.
``tau2`` sets where the sequence is tightest: :data:`DESIGN_RATIO` times ``V`` at the design
sample size (the width at that size is then within about 1% of its minimum for alpha = 0.05).

* :func:`mixture_radius`: the half-width above.
* :func:`mixing_variance`: ``tau2`` for a design sample size, from ``V`` measured at ``n`` records.
* :func:`noninferiority_samples`: canary records needed to show ``canary - control > -margin``
  with a given power when the true difference is ``difference`` and the spread ``sd``.

>>> round(mixture_radius(variance=1.0, mixing_variance=10.0, alpha=0.05), 3)
3.038
>>> noninferiority_samples(margin=1.0, difference=0.0, sd=5.0)
837
"""

from __future__ import annotations

import math

from scipy import stats

from rl_best_practices.errors import InvalidValueError
from rl_best_practices.validation import check_int, check_number, check_probability

__all__ = ["DESIGN_RATIO", "mixing_variance", "mixture_radius", "noninferiority_samples", "radius"]

DESIGN_RATIO = 10.0
"""``tau2 / V`` at the design sample size; minimises the half-width there for alpha near 0.05."""


def mixture_radius(variance: float, mixing_variance: float, alpha: float) -> float:
    """Half-width of the normal-mixture confidence sequence (see the module docstring).

    ``variance`` is the variance of the estimate now (``sd**2 / n`` for a mean); a zero
    variance (every record equal) gives a zero half-width.

    >>> mixture_radius(0.0, 1.0, 0.05)
    0.0
    >>> bool(mixture_radius(0.25, 2.5, 0.05) > stats.norm.ppf(0.975) * 0.5)  # wider than one look
    True
    """
    return radius(check_number("variance", variance, minimum=0),
                  check_number("mixing_variance", mixing_variance, minimum=0, low_open=True),
                  check_probability("alpha", alpha, open_ends=True))


def radius(v: float, tau2: float, alpha: float) -> float:
    """:func:`mixture_radius` without argument checks, for callers that validated them (the
    canary calls it after every record)."""
    if v == 0.0:
        return 0.0
    return math.sqrt(v * (v + tau2) / tau2 * (2 * math.log(1 / alpha) + math.log1p(tau2 / v)))


def mixing_variance(variance: float, samples: int, design_samples: int) -> float:
    """``tau2`` that makes the sequence tightest at ``design_samples`` records, given the
    estimate's ``variance`` measured at ``samples`` records (variance falls as ``1/n``).

    >>> mixing_variance(variance=4.0, samples=50, design_samples=100)
    20.0
    """
    v = check_number("variance", variance, minimum=0, low_open=True)
    n = check_int("samples", samples, minimum=1)
    design = check_int("design_samples", design_samples, minimum=1)
    return DESIGN_RATIO * v * n / design


def _radius_and_sd(n: int, sd: float, control_per_canary: float | None, design: int,
                   alpha: float) -> tuple[float, float]:
    per_record = sd**2 * (1 + (1 / control_per_canary if control_per_canary else 0.0))
    variance = per_record / n
    tau2 = DESIGN_RATIO * per_record / design
    return radius(variance, tau2, alpha), math.sqrt(variance)


def noninferiority_samples(
    margin: float,
    difference: float,
    sd: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    control_per_canary: float | None = 1.0,
    design_samples: int = 100,
    max_samples: int = 10_000_000,
) -> int:
    """Canary records needed to show ``canary - control > -margin`` with probability ``power``.

    Args:
        margin: how much worse than control the candidate may be (>= 0).
        difference: the true ``canary - control`` assumed (must exceed ``-margin``).
        sd: the spread of one record (the same in both arms).
        alpha: the confidence sequence's error rate.
        power: the probability of showing it by then.
        control_per_canary: control records per canary record (``(1 - f) / f`` at traffic
            fraction ``f``); ``None`` for an absolute guard (no control arm).
        design_samples: where the sequence is tightest (the canary's ``stage_samples``).
        max_samples: give up above this and raise.

    The answer holds for a single look at that many records; looking after every record can only
    show it sooner. Raises :class:`~rl_best_practices.errors.InvalidValueError` when
    ``difference <= -margin`` (it cannot be shown) or more than ``max_samples`` are needed.

    >>> noninferiority_samples(margin=50.0, difference=0.0, sd=300.0, control_per_canary=3.0)
    801
    """
    margin = check_number("margin", margin, minimum=0)
    difference = check_number("difference", difference)
    sd = check_number("sd", sd, minimum=0, low_open=True)
    alpha = check_probability("alpha", alpha, open_ends=True)
    power = check_probability("power", power, open_ends=True)
    if control_per_canary is not None:
        check_number("control_per_canary", control_per_canary, minimum=0, low_open=True)
    design = check_int("design_samples", design_samples, minimum=1)
    limit = check_int("max_samples", max_samples, minimum=2)
    gap = difference + margin
    if gap <= 0:
        raise InvalidValueError(
            f"difference + margin must be positive to show non-inferiority, got {gap:g}"
        )
    z = stats.norm.ppf(power)

    def enough(n: int) -> bool:
        radius, se = _radius_and_sd(n, sd, control_per_canary, design, alpha)
        return radius + z * se <= gap

    high = 2
    while not enough(high):
        if high >= limit:
            raise InvalidValueError(f"more than max_samples={limit} records would be needed")
        high = min(2 * high, limit)
    low = high // 2  # enough(low) is false, or low is below 2
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (low, mid) if enough(mid) else (mid, high)
    return high

"""Sequential change detection on a scalar stream (rewards, P&L): CUSUM calibrated by ARL0.

A window test (:mod:`~rl_best_practices.drift.detector`) asks "does this window differ from the
reference?" every so often. A sequential detector updates a statistic with every value and raises
an alarm as soon as the evidence for a change is strong enough. Its error rates are stated as
run lengths:

* **ARL0**, the average number of values between false alarms when nothing changes (the larger,
  the fewer false alarms), and
* the **detection delay**, the number of values from a change of a stated size to its alarm.

:class:`CusumDetector` is Page's two-sided CUSUM on standardised values ``z = (x - mean) / std``
(optionally averaged over blocks of ``block`` values first, which makes heavy-tailed or
serially dependent values closer to independent normal ones). With allowance ``k`` (half the
smallest shift worth detecting, in standard deviations) and threshold ``h``:
``upper = max(0, upper + z - k)``, ``lower = max(0, lower - z - k)``; an alarm when either
passes ``h``, after which both restart at 0.

* :func:`siegmund_arl0` is Siegmund's approximation of the ARL0 for independent normal values;
  :func:`cusum_threshold` inverts it (the ``h`` for a stated ARL0); :func:`siegmund_delay`
  approximates the detection delay for a stated shift.
* :func:`calibrate_cusum` sets ``h`` by simulation on clean streams, so the stated ARL0 holds
  for values like the clean ones (dependence and tails included), and :func:`run_lengths`
  measures the run lengths of a detector on streams: ARL0 on clean ones, delay after a change.

References: Page (1954), "Continuous inspection schemes"; Siegmund (1985), "Sequential
analysis", ch. 2; Montgomery, "Introduction to statistical quality control", ch. 9.

>>> import numpy as np
>>> h = cusum_threshold(arl0=1000, k=0.5)
>>> round(h, 2), round(siegmund_arl0(h, 0.5), 0)
(5.75, 1000.0)
>>> detector = CusumDetector(mean=0.0, std=1.0, k=0.5, h=h)
>>> stream = np.r_[np.zeros(50), np.full(50, -1.0)]   # the mean drops by one sd at value 50
>>> [i for i, x in enumerate(stream) if detector.update(x)]   # restarts after each alarm
[61, 73, 85, 97]
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy import optimize

from rl_best_practices.errors import InvalidTypeError, InvalidValueError
from rl_best_practices.validation import (
    check_array,
    check_callable,
    check_choice,
    check_int,
    check_number,
)

__all__ = ["DIRECTIONS", "CusumDetector", "calibrate_cusum", "cusum_threshold", "run_lengths",
           "siegmund_arl0", "siegmund_delay"]

DIRECTIONS = ("both", "down", "up")
"""Which changes a :class:`CusumDetector` alarms on: a rise, a fall or either."""


def siegmund_arl0(h: float, k: float, two_sided: bool = True) -> float:
    """Siegmund's approximation of the in-control ARL of a CUSUM on independent N(0, 1) values.

    One side: ``(exp(2 k b) - 2 k b - 1) / (2 k^2)`` with ``b = h + 1.166`` (``b^2`` when
    ``k = 0``). Two sides alarm twice as often when nothing changes.

    >>> round(siegmund_arl0(5.0, 0.5, two_sided=False))
    938
    """
    h = check_number("h", h, minimum=0, low_open=True)
    k = check_number("k", k, minimum=0)
    b = h + 1.166
    one = b * b if k == 0 else (math.expm1(2 * k * b) - 2 * k * b) / (2 * k * k)
    return one / 2 if two_sided else one


def siegmund_delay(h: float, k: float, shift: float) -> float:
    """Siegmund's approximation of the mean run length of one CUSUM side after a mean shift.

    For independent N(``shift``, 1) values watched by the side that the shift pushes up:
    ``(exp(-2 d b) + 2 d b - 1) / (2 d^2)`` with ``d = shift - k`` and ``b = h + 1.166``
    (``b^2`` when ``d = 0``). Started from 0 at the change, this is the detection delay.

    >>> round(siegmund_delay(5.75, 0.5, 1.0), 1)
    11.8
    """
    h = check_number("h", h, minimum=0, low_open=True)
    k = check_number("k", k, minimum=0)
    d = check_number("shift", shift) - k
    b = h + 1.166
    return b * b if d == 0 else (math.exp(-2 * d * b) + 2 * d * b - 1) / (2 * d * d)


def cusum_threshold(arl0: float, k: float, two_sided: bool = True) -> float:
    """The threshold ``h`` whose :func:`siegmund_arl0` is ``arl0`` (independent normal values).

    >>> round(cusum_threshold(370, k=0.5, two_sided=False), 2)
    4.09
    """
    arl0 = check_number("arl0", arl0, minimum=1, low_open=True)
    k = check_number("k", k, minimum=0)
    target = lambda h: math.log(siegmund_arl0(h, k, two_sided)) - math.log(arl0)  # noqa: E731
    high = 1.0
    while target(high) < 0:
        high *= 2
    if target(1e-9) >= 0:
        return 1e-9
    return float(optimize.brentq(target, 1e-9, high, xtol=1e-10))


class CusumDetector:
    """Two-sided (or one-sided) CUSUM on standardised values; see the module docstring.

    Args:
        mean, std: the in-control mean and standard deviation of the values fed in (of the
            block means when ``block > 1``); :meth:`fit` estimates both from clean data.
        k: allowance in standard deviations, about half the shift worth detecting.
        h: alarm threshold (see :func:`cusum_threshold` and :func:`calibrate_cusum`).
        direction: ``"both"``, ``"down"`` (a fall, for rewards) or ``"up"``.
        block: average this many values before each update (batch means).
        max_alarms: how many recent alarm positions :attr:`alarms` keeps.

    >>> detector = CusumDetector(mean=10.0, std=2.0, k=0.5, h=4.0, direction="down")
    >>> [detector.update(x) for x in (10.0, 4.0, 4.0, 4.0)]
    [False, False, True, False]
    >>> detector.update(float("nan"))
    Traceback (most recent call last):
    ...
    rl_best_practices.errors.InvalidValueError: value must be finite; found NaN or infinite values
    """

    def __init__(self, mean: float = 0.0, std: float = 1.0, *, k: float = 0.5, h: float = 5.0,
                 direction: str = "both", block: int = 1, max_alarms: int = 1000) -> None:
        self.mean = check_number("mean", mean)
        self.std = check_number("std", std, minimum=0, low_open=True)
        self.k = check_number("k", k, minimum=0)
        self.h = check_number("h", h, minimum=0, low_open=True)
        self.direction = check_choice("direction", direction, DIRECTIONS)
        self.block = check_int("block", block, minimum=1)
        self.alarms: deque[int] = deque(maxlen=check_int("max_alarms", max_alarms, minimum=1))
        self.n_observed = 0
        self.n_alarms = 0
        self.reset()

    def fit(self, values: Any) -> CusumDetector:
        """Set ``mean`` and ``std`` from clean values (block means when ``block > 1``)."""
        data = check_array("values", values, ndim=1, min_size=2 * self.block)
        usable = data[: data.size // self.block * self.block].reshape(-1, self.block).mean(axis=1)
        if usable.size < 2 or usable.std(ddof=1) == 0:
            raise InvalidValueError("values must hold at least 2 blocks that are not all equal")
        self.mean, self.std = float(usable.mean()), float(usable.std(ddof=1))
        return self

    def reset(self) -> None:
        """Restart the statistics (and the partial block) at 0; counters are kept."""
        self.upper = 0.0
        self.lower = 0.0
        self._block_sum = 0.0
        self._block_count = 0

    @property
    def statistic(self) -> float:
        """The larger of the sides this detector watches (alarm when above ``h``)."""
        if self.direction == "up":
            return self.upper
        return self.lower if self.direction == "down" else max(self.upper, self.lower)

    def update(self, value: Any) -> bool:
        """Add one value; ``True`` when it raises an alarm (the statistics then restart)."""
        if value is None or isinstance(value, (bool, np.bool_, str, bytes)):
            raise InvalidTypeError(f"value must be a number, got {value!r}")
        x = float(check_array("value", value, ndim=0))
        self.n_observed += 1
        self._block_sum += x
        self._block_count += 1
        if self._block_count < self.block:
            return False
        z = (self._block_sum / self.block - self.mean) / self.std
        self._block_sum, self._block_count = 0.0, 0
        self.upper = max(0.0, self.upper + z - self.k)
        self.lower = max(0.0, self.lower - z - self.k)
        if self.statistic <= self.h:
            return False
        self.n_alarms += 1
        self.alarms.append(self.n_observed)
        self.reset()
        return True

    def report(self) -> dict[str, Any]:
        """The current state, as the monitors put it into ``info``."""
        return {"statistic": self.statistic, "upper": self.upper, "lower": self.lower,
                "h": self.h, "n_observed": self.n_observed, "n_alarms": self.n_alarms}


def run_lengths(make_detector: Callable[[], CusumDetector], streams: Sequence[Any],
                start: int = 0) -> list[int | None]:
    """Per stream, the values from ``start`` to the first alarm at or after it (``None``: none).

    Each stream runs through a fresh detector. On clean streams (``start=0``) these are run
    lengths whose mean estimates the ARL0; with a change at ``start`` they are detection delays
    (alarms before ``start`` are ignored; the detector is not reset at ``start``).

    >>> make = lambda: CusumDetector(k=0.5, h=4.0)
    >>> run_lengths(make, [np.r_[np.zeros(20), np.full(20, 2.0)]], start=20)
    [3]
    """
    check_callable("make_detector", make_detector)
    start = check_int("start", start, minimum=0)
    out: list[int | None] = []
    for stream in streams:
        detector = make_detector()
        if not isinstance(detector, CusumDetector):
            raise InvalidTypeError(
                f"make_detector must return a CusumDetector, got {type(detector).__name__}")
        first = None
        for i, x in enumerate(check_array("stream", stream, ndim=1)):
            if detector.update(x) and i >= start:
                first = i - start + 1
                break
        out.append(first)
    return out


def _alarms(streams: Sequence[np.ndarray], mean: float, std: float, k: float, h: float,
            direction: str, block: int) -> int:
    """Alarms of restarting detectors on ``streams`` (the same as :class:`CusumDetector`, fast)."""
    alarms = 0
    watch_up, watch_down = direction in ("both", "up"), direction in ("both", "down")
    for stream in streams:
        usable = stream[: stream.size // block * block].reshape(-1, block).mean(axis=1)
        upper = lower = 0.0
        for z in ((usable - mean) / std).tolist():
            upper = max(0.0, upper + z - k)
            lower = max(0.0, lower - z - k)
            if (watch_up and upper > h) or (watch_down and lower > h):
                alarms += 1
                upper = lower = 0.0
    return alarms


def calibrate_cusum(clean_streams: Sequence[Any], arl0: float, *, mean: float, std: float,
                    k: float = 0.5, direction: str = "both", block: int = 1,
                    tolerance: float = 0.01) -> float:
    """The smallest ``h`` with at most one alarm per ``arl0`` values on the clean streams.

    The streams run back to back through detectors that restart after each alarm; ``h`` is
    found by bisection on the number of alarms (non-increasing in ``h``). Give streams several
    times longer than ``arl0`` in total, or the estimate is rough, and check the result on
    *other* clean streams (:func:`run_lengths`): the streams used here are in-sample.

    >>> rng = np.random.default_rng(0)
    >>> h = calibrate_cusum([rng.normal(size=20_000)], arl0=500, mean=0.0, std=1.0, k=0.5)
    >>> bool(4.5 < h < 5.6), round(cusum_threshold(500, 0.5), 2)   # near Siegmund's value
    (True, 5.06)
    """
    data = [check_array("clean stream", s, ndim=1) for s in clean_streams]
    total = sum(s.size for s in data)
    arl0 = check_number("arl0", arl0, minimum=1, low_open=True)
    if not data or total < arl0:
        raise InvalidValueError(
            f"the clean streams must hold at least arl0 = {arl0} values, got {total}")
    settings = {"mean": check_number("mean", mean),
                "std": check_number("std", std, minimum=0, low_open=True),
                "k": check_number("k", k, minimum=0),
                "direction": check_choice("direction", direction, DIRECTIONS),
                "block": check_int("block", block, minimum=1)}
    tolerance = check_number("tolerance", tolerance, minimum=0, low_open=True)
    allowed = total / arl0
    low, high = tolerance, 1.0
    while _alarms(data, h=high, **settings) > allowed:
        low, high = high, 2 * high
    while high - low > tolerance:
        middle = (low + high) / 2
        if _alarms(data, h=middle, **settings) > allowed:
            low = middle
        else:
            high = middle
    return float(high)

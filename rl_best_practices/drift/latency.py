"""Monitor decision latency against a budget: p50 and p99 over a sliding window (lesson 03).

A policy that answers too late is wrong even when its action is right. :class:`LatencyMonitor`
keeps the most recent latencies in a ring buffer and, every ``check_interval`` records, compares
the window's median (p50) and 99th percentile (p99) with their budgets. The p99 of a window of
``n`` latencies rests on its top ``n / 100`` values: use windows of 500 or more for it to mean
something. Time comes from an injectable clock, so :meth:`LatencyMonitor.time` is reproducible.

>>> monitor = LatencyMonitor(p50_budget=0.010, p99_budget=0.050, window_size=100)
>>> for i in range(99):
...     monitor.record(0.004 + 0.0001 * (i % 10))
>>> report = monitor.record(0.200)          # one slow call completes the window
>>> report["p50"] <= 0.010, report["over_budget"], report["n_slow"]
(True, False, 1)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from rl_best_practices.errors import InvalidTypeError, InvalidValueError
from rl_best_practices.validation import check_callable, check_int, check_number

__all__ = ["LatencyMonitor"]


class LatencyMonitor:
    """p50 and p99 of recent latencies (seconds) against budgets; see the module docstring.

    Args:
        p50_budget, p99_budget: the budgets in seconds (``p50_budget <= p99_budget``).
        window_size: latencies in the sliding window.
        check_interval: :meth:`record` checks every this many latencies (default
            ``window_size``); checks start once the window is full.
        clock: seconds, for :meth:`time` (default ``time.perf_counter``).

    >>> LatencyMonitor(0.01, 0.05).record(float("nan"))
    Traceback (most recent call last):
    ...
    rl_best_practices.errors.InvalidValueError: latency must be finite seconds >= 0, got nan
    """

    def __init__(self, p50_budget: float, p99_budget: float, *, window_size: int = 1000,
                 check_interval: int | None = None,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.p50_budget = check_number("p50_budget", p50_budget, minimum=0, low_open=True)
        self.p99_budget = check_number("p99_budget", p99_budget, minimum=0, low_open=True)
        if self.p50_budget > self.p99_budget:
            raise InvalidValueError(f"p50_budget ({p50_budget}) must not exceed p99_budget "
                                    f"({p99_budget})")
        self.window_size = check_int("window_size", window_size, minimum=2)
        self.check_interval = self.window_size if check_interval is None else check_int(
            "check_interval", check_interval, minimum=1)
        self._clock = check_callable("clock", clock)
        self._window = np.empty(self.window_size)
        self._next = self._count = self._since_check = 0
        self.n_observed = self.n_checks = self.n_alarms = 0

    def add(self, latency: Any) -> None:
        """Append one latency in seconds, in O(1); a bad value leaves the state unchanged."""
        if isinstance(latency, (bool, np.bool_)) or not isinstance(
                latency, (int, float, np.integer, np.floating)):
            raise InvalidTypeError(f"latency must be a number of seconds, got {latency!r}")
        value = float(latency)
        if not np.isfinite(value) or value < 0:
            raise InvalidValueError(
                f"latency must be finite seconds >= 0, got {latency!r}")
        self._window[self._next] = value
        self._next = (self._next + 1) % self.window_size
        self._count = min(self._count + 1, self.window_size)
        self.n_observed += 1
        self._since_check += 1

    def record(self, latency: Any) -> dict[str, Any] | None:
        """Add ``latency``; return a report when a check is due (window full), else ``None``."""
        self.add(latency)
        if self._since_check < self.check_interval or self._count < self.window_size:
            return None
        return self.check_latency()

    def time(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, Any]:
        """Call ``function(*args, **kwargs)`` and record how long it took.

        Returns ``(result, report)``, the report as from :meth:`record`.
        """
        check_callable("function", function)
        start = self._clock()
        result = function(*args, **kwargs)
        return result, self.record(max(0.0, float(self._clock() - start)))

    def check_latency(self) -> dict[str, Any]:
        """The window's ``p50``, ``p99``, ``max``, ``n_slow`` (above the p99 budget),
        ``window`` size and ``over_budget`` (p50 or p99 above its budget)."""
        if self._count == 0:
            raise InvalidValueError("no latency recorded yet")
        sample = self._window[: self._count]
        p50, p99 = np.quantile(sample, [0.5, 0.99])
        over = bool(p50 > self.p50_budget or p99 > self.p99_budget)
        self.n_checks += 1
        self.n_alarms += int(over)
        self._since_check = 0
        return {"p50": float(p50), "p99": float(p99), "max": float(sample.max()),
                "n_slow": int((sample > self.p99_budget).sum()), "window": int(self._count),
                "p50_budget": self.p50_budget, "p99_budget": self.p99_budget,
                "over_budget": over}

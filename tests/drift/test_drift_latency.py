"""LatencyMonitor: p50/p99 against budgets, checks per interval, injectable clock, bad input."""

import numpy as np
import pytest

from rl_best_practices.drift import LatencyMonitor
from rl_best_practices.errors import InvalidTypeError, InvalidValueError


def test_quantiles_match_numpy_and_budgets_decide():
    rng = np.random.default_rng(0)
    latencies = rng.lognormal(mean=np.log(0.005), sigma=0.5, size=1000)
    monitor = LatencyMonitor(0.010, 0.020, window_size=1000)
    reports = [monitor.record(x) for x in latencies]
    report = reports[-1]
    assert all(r is None for r in reports[:-1])
    assert report["p50"] == pytest.approx(np.quantile(latencies, 0.5))
    assert report["p99"] == pytest.approx(np.quantile(latencies, 0.99))
    assert report["over_budget"] is False and report["n_slow"] == int((latencies > 0.02).sum())
    tight = LatencyMonitor(0.010, 0.012, window_size=1000)
    for x in latencies:
        last = tight.record(x)
    assert last["over_budget"] and tight.n_alarms == 1


def test_a_slow_tail_breaks_only_the_p99_budget():
    """2% of calls take 100 ms: the median stays fast, the p99 does not."""
    monitor = LatencyMonitor(0.010, 0.050, window_size=500, check_interval=100)
    rng = np.random.default_rng(1)
    reports = []
    for _ in range(1000):
        slow = rng.uniform() < 0.02
        report = monitor.record(0.1 if slow else 0.004)
        if report is not None:
            reports.append(report)
    assert len(reports) == 6 == monitor.n_checks  # window full at 500, then every 100
    assert all(r["p50"] == 0.004 for r in reports)
    assert sum(r["over_budget"] for r in reports) >= 4


def test_time_uses_the_injected_clock():
    now = iter([0.0, 0.25, 1.0, 1.5])
    monitor = LatencyMonitor(0.3, 0.6, window_size=2, clock=lambda: next(now))
    assert monitor.time(lambda x: x + 1, 1) == (2, None)
    result, report = monitor.time(str, 5)
    assert result == "5" and report["p50"] == pytest.approx(0.375)
    assert report["max"] == 0.5 and report["p99"] < 0.6  # within the p99 budget ...
    assert report["over_budget"] is True  # ... but the median 0.375 is above 0.3


@pytest.mark.parametrize("latency", [float("nan"), float("inf"), -0.001])
def test_bad_latencies_are_refused_and_leave_the_window_alone(latency):
    monitor = LatencyMonitor(0.01, 0.05, window_size=10)
    monitor.record(0.002)
    with pytest.raises(InvalidValueError, match="finite seconds"):
        monitor.record(latency)
    assert monitor.n_observed == 1


@pytest.mark.parametrize("latency", [None, "0.1", True, [0.1]])
def test_non_numbers_are_refused(latency):
    with pytest.raises(InvalidTypeError):
        LatencyMonitor(0.01, 0.05).record(latency)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"p50_budget": 0.0, "p99_budget": 0.1}, "p50_budget"),
        ({"p50_budget": 0.2, "p99_budget": 0.1}, "must not exceed"),
        ({"p50_budget": 0.01, "p99_budget": 0.1, "window_size": 1}, "window_size"),
        ({"p50_budget": 0.01, "p99_budget": 0.1, "check_interval": 0}, "check_interval"),
    ],
)
def test_bad_settings_are_refused(kwargs, message):
    with pytest.raises(InvalidValueError, match=message):
        LatencyMonitor(**kwargs)


def test_check_needs_a_latency():
    with pytest.raises(InvalidValueError, match="no latency"):
        LatencyMonitor(0.01, 0.05).check_latency()

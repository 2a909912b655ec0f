"""ActionMonitor: false alarms per check at the stated rate, power, calibration, bad input."""

import numpy as np
import pytest
from scipy import stats

from rl_best_practices.drift import ActionMonitor, calibrate_action_threshold
from rl_best_practices.errors import InvalidTypeError, InvalidValueError

PROBS = [0.3, 0.4, 0.3]


def clean_rate(monitor_kwargs, draw, checks=2000, seed=0):
    rng = np.random.default_rng(seed)
    monitor = ActionMonitor(draw(rng, 5000), **monitor_kwargs)
    alarms = 0
    for _ in range(checks):
        alarms += monitor.check_actions(draw(rng, 200))["shift_detected"]
    return alarms / checks


def test_discrete_false_alarm_rate_per_check_is_the_threshold():
    rate = clean_rate({"n_actions": 3, "threshold": 0.05},
                      lambda rng, n: rng.choice(3, size=n, p=PROBS))
    assert abs(rate - 0.05) < 0.015  # 2000 checks: standard error about 0.005


def test_continuous_false_alarm_rate_per_check_is_at_most_the_threshold():
    rate = clean_rate({"threshold": 0.05}, lambda rng, n: rng.normal(size=n))
    assert 0.025 <= rate <= 0.065  # the asymptotic KS p-value is slightly conservative


def test_a_changed_action_mix_is_detected():
    rng = np.random.default_rng(1)
    monitor = ActionMonitor(rng.choice(3, size=5000, p=PROBS), n_actions=3, threshold=0.01)
    hits = [monitor.check_actions(rng.choice(3, size=500, p=[0.2, 0.4, 0.4]))["shift_detected"]
            for _ in range(200)]
    assert np.mean(hits) > 0.9


def test_g_test_matches_scipy_and_a_never_seen_action_alarms():
    reference = np.repeat([0, 1, 2], [300, 400, 300])
    monitor = ActionMonitor(np.r_[reference[:700], np.ones(300)], n_actions=4)
    window = np.repeat([0, 1, 2, 3], [30, 40, 20, 10])
    report = monitor.check_actions(window)
    expected = stats.power_divergence([30, 40, 20, 10], monitor.reference_frequencies * 100,
                                      lambda_="log-likelihood")
    assert report["statistic"] == pytest.approx(expected.statistic)
    assert report["shift_detected"] and report["p_value"] < 1e-6
    assert report["window_frequencies"].tolist() == [0.3, 0.4, 0.2, 0.1]


def test_observe_checks_every_interval_once_the_window_is_full():
    monitor = ActionMonitor(np.tile([0, 1, 2], 100), n_actions=3, window_size=30,
                            check_interval=10)
    reports = [monitor.observe(i % 3) for i in range(60)]
    assert [i for i, r in enumerate(reports) if r is not None] == [29, 39, 49, 59]
    assert monitor.n_checks == 4 and monitor.n_alarms == 0
    np.testing.assert_array_equal(monitor.window, np.tile([0, 1, 2], 10).astype(float))


def test_calibration_on_dependent_actions_holds_out_of_sample():
    """Sticky actions (repeated 10 times): the nominal level alarms too often; calibrated not."""
    rng = np.random.default_rng(2)

    def sticky(n):
        return np.repeat(rng.choice(3, size=n // 10, p=PROBS), 10)

    def make():
        return ActionMonitor(sticky(20_000), n_actions=3, window_size=200, threshold=0.05)

    threshold = calibrate_action_threshold(make, [sticky(20_000) for _ in range(10)],
                                           alarms_per_10k=10)
    assert threshold < 0.005
    nominal = calibrated = checks = 0
    for _ in range(10):
        monitor = make()
        for action in sticky(20_000):
            report = monitor.observe(action)
            if report is not None:
                nominal += report["shift_detected"]
                calibrated += report["p_value"] <= threshold
        checks += monitor.n_checks
    assert nominal / checks > 0.3  # budget: 10 per 10,000 actions = 0.2 per check of 200
    assert calibrated / 20 <= 20  # per 10,000 actions: within twice the budget of 10


@pytest.mark.parametrize("action", [3, -1, 1.5, float("nan"), [0, 1]])
def test_discrete_actions_outside_the_space_are_refused(action):
    monitor = ActionMonitor([0, 1, 2], n_actions=3, window_size=5)
    monitor.observe(1)
    with pytest.raises(InvalidValueError):
        monitor.observe(action)
    assert monitor.n_observed == 1 and monitor.window.tolist() == [1.0]


@pytest.mark.parametrize("action", [True, None, "1"])
def test_non_numeric_actions_are_refused(action):
    with pytest.raises(InvalidTypeError):
        ActionMonitor([0.0, 1.0]).observe(action)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"reference": [0, 1, 5], "n_actions": 3}, r"reference must be an integer in \[0, 3\)"),
        ({"reference": [0.0]}, "at least 2"),
        ({"reference": [0.0, np.nan]}, "finite"),
        ({"reference": [0, 1], "n_actions": 1}, "n_actions"),
        ({"reference": [0, 1], "window_size": 1}, "window_size"),
        ({"reference": [0, 1], "threshold": 0.0}, "threshold"),
        ({"reference": [0, 1], "check_interval": 0}, "check_interval"),
    ],
)
def test_bad_settings_are_refused(kwargs, message):
    with pytest.raises(InvalidValueError, match=message):
        ActionMonitor(**kwargs)


def test_a_check_needs_actions_and_calibration_needs_checks():
    with pytest.raises(InvalidValueError, match="at least 2 actions"):
        ActionMonitor([0, 1], n_actions=2).check_actions()
    with pytest.raises(InvalidValueError, match="too short"):
        calibrate_action_threshold(lambda: ActionMonitor([0, 1], n_actions=2, window_size=10),
                                   [[0, 1, 0]], alarms_per_10k=1)
    with pytest.raises(InvalidTypeError, match="ActionMonitor"):
        calibrate_action_threshold(lambda: None, [[0, 1, 0]], alarms_per_10k=1)

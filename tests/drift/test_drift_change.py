"""CusumDetector and its calibration: ARL0 without change, delay after a change, bad input."""

import numpy as np
import pytest

from rl_best_practices.drift import (
    CusumDetector,
    calibrate_cusum,
    cusum_threshold,
    run_lengths,
    siegmund_arl0,
    siegmund_delay,
)
from rl_best_practices.errors import InvalidTypeError, InvalidValueError


def test_stated_arl0_holds_on_independent_normal_values():
    """Siegmund's h for ARL0 = 200: the simulated mean run length is within 15% of 200."""
    rng = np.random.default_rng(0)
    h = cusum_threshold(200, k=0.5)
    lengths = run_lengths(lambda: CusumDetector(k=0.5, h=h), rng.normal(size=(400, 3000)))
    assert None not in lengths
    mean = np.mean(lengths)  # standard error about 200 / sqrt(400) = 10
    assert 170 <= mean <= 230, mean


def test_one_sided_alarms_half_as_often_as_two_sided():
    rng = np.random.default_rng(1)
    data = rng.normal(size=(200, 2000))
    h = cusum_threshold(100, k=0.5)  # two-sided ARL0 100: one side alone about 200
    down = np.mean(run_lengths(lambda: CusumDetector(k=0.5, h=h, direction="down"), data))
    both = np.mean(run_lengths(lambda: CusumDetector(k=0.5, h=h), data))
    assert 1.6 < down / both < 2.5


def test_detection_delay_for_a_one_sd_drop_matches_the_theory():
    """A drop of 1 sd with k = 0.5: the delay Siegmund's approximation states."""
    rng = np.random.default_rng(2)
    h = cusum_threshold(1000, k=0.5)
    streams = rng.normal(size=(300, 1500))
    streams[:, 1000:] -= 1.0
    delays = run_lengths(lambda: CusumDetector(k=0.5, h=h, direction="down"), streams,
                         start=1000)
    expected = siegmund_delay(h, 0.5, 1.0)
    assert None not in delays
    assert 0.8 * expected <= np.mean(delays) <= 1.2 * expected, (np.mean(delays), expected)


def test_larger_changes_are_found_sooner():
    rng = np.random.default_rng(3)
    h = cusum_threshold(500, k=0.25)
    means = []
    for drop in (0.5, 1.0, 2.0):
        streams = rng.normal(size=(100, 1400))
        streams[:, 400:] -= drop
        delays = run_lengths(lambda: CusumDetector(k=0.25, h=h), streams, start=400)
        means.append(np.mean([1000 if d is None else d for d in delays]))
    assert means[0] > means[1] > means[2]


def test_calibration_holds_on_held_out_dependent_streams():
    """AR(1) values: Siegmund's h alarms far too often; the calibrated h holds out of sample."""
    rng = np.random.default_rng(4)

    def ar1(n):
        x = np.empty(n)
        x[0] = rng.normal()
        for i in range(1, n):
            x[i] = 0.6 * x[i - 1] + 0.8 * rng.normal()
        return x

    calibration = [ar1(20_000) for _ in range(10)]
    h = calibrate_cusum(calibration, arl0=1000, mean=0.0, std=1.0, k=0.5)
    naive = cusum_threshold(1000, k=0.5)
    assert h > naive + 1.0  # positive dependence: the independent-values h is too low
    held_out = [ar1(4000) for _ in range(150)]
    naive_runs = run_lengths(lambda: CusumDetector(k=0.5, h=naive), held_out)
    calibrated_runs = run_lengths(lambda: CusumDetector(k=0.5, h=h), held_out)
    censored = [4000 if r is None else r for r in calibrated_runs]
    assert np.mean([4000 if r is None else r for r in naive_runs]) < 500
    assert 700 <= np.mean(censored)  # about 1000 (censored at 4000, so a little below)


def test_blocks_average_before_updating():
    detector = CusumDetector(mean=0.0, std=1.0, k=0.0, h=2.5, block=3)
    assert [detector.update(x) for x in (1.0, 1.0, 1.0, 2.0, 2.0, 2.0)] == [False] * 5 + [True]
    assert detector.n_observed == 6 and list(detector.alarms) == [6]
    assert detector.statistic == 0.0  # restarted after the alarm


def test_fit_sets_mean_and_std_of_block_means():
    values = np.arange(12.0)
    detector = CusumDetector(block=4).fit(values)
    assert detector.mean == pytest.approx(5.5)
    assert detector.std == pytest.approx(np.std([1.5, 5.5, 9.5], ddof=1))


def test_report_and_reset():
    detector = CusumDetector(k=0.0, h=10.0)
    detector.update(3.0)
    detector.update(-1.0)
    report = detector.report()
    assert report["upper"] == 2.0 and report["lower"] == 1.0 and report["statistic"] == 2.0
    detector.reset()
    assert detector.statistic == 0.0 and detector.n_observed == 2


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"std": 0.0}, "std"),
        ({"k": -0.1}, "k"),
        ({"h": 0.0}, "h"),
        ({"direction": "sideways"}, "direction"),
        ({"block": 0}, "block"),
        ({"mean": float("nan")}, "mean"),
        ({"max_alarms": 0}, "max_alarms"),
    ],
)
def test_bad_settings_are_refused(kwargs, message):
    with pytest.raises(InvalidValueError, match=message):
        CusumDetector(**kwargs)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), [1.0, 2.0]])
def test_bad_values_are_refused_and_leave_the_state_alone(value):
    detector = CusumDetector(k=0.0, h=10.0)
    detector.update(1.0)
    with pytest.raises(InvalidValueError):
        detector.update(value)
    assert detector.n_observed == 1 and detector.upper == 1.0


@pytest.mark.parametrize("value", [True, "1.0", None])
def test_non_numbers_are_refused(value):
    with pytest.raises(InvalidTypeError):
        CusumDetector().update(value)


def test_calibration_and_run_lengths_refuse_bad_input():
    with pytest.raises(InvalidValueError, match="at least arl0"):
        calibrate_cusum([np.zeros(10)], arl0=100, mean=0.0, std=1.0)
    with pytest.raises(InvalidValueError, match="finite"):
        calibrate_cusum([np.full(200, np.nan)], arl0=100, mean=0.0, std=1.0)
    with pytest.raises(InvalidTypeError, match="CusumDetector"):
        run_lengths(lambda: "detector", [np.zeros(3)])
    with pytest.raises(InvalidValueError, match="start"):
        run_lengths(CusumDetector, [np.zeros(3)], start=-1)
    with pytest.raises(InvalidValueError, match="values"):
        CusumDetector(block=2).fit([1.0, 1.0, 1.0, 1.0])
    with pytest.raises(InvalidValueError, match="arl0"):
        cusum_threshold(0.5, k=0.5)
    with pytest.raises(InvalidValueError, match="h"):
        siegmund_arl0(0.0, 0.5)


def test_siegmund_without_allowance_and_threshold_round_trip():
    assert siegmund_arl0(1.0, 0.0, two_sided=False) == pytest.approx(2.166**2)
    h = cusum_threshold(5000, k=0.25)
    assert siegmund_arl0(h, 0.25) == pytest.approx(5000, rel=1e-6)


def test_calibrated_h_is_the_smallest_within_the_budget_of_the_class():
    """The fast calibration agrees with CusumDetector itself (blocks, one side)."""
    rng = np.random.default_rng(5)
    streams = [rng.standard_t(df=3, size=6001) * 5 + 2 for _ in range(3)]

    def alarms(h):
        total = 0
        for stream in streams:
            detector = CusumDetector(2.0, 4.0, k=0.2, h=h, direction="down", block=5)
            total += sum(detector.update(x) for x in stream)
        return total

    h = calibrate_cusum(streams, arl0=1000, mean=2.0, std=4.0, k=0.2, direction="down",
                        block=5, tolerance=0.01)
    assert alarms(h) <= 18 < alarms(h - 0.02)  # 18,003 values / 1000


def test_siegmund_delay_without_drift_and_bad_input():
    assert siegmund_delay(2.0, 0.5, 0.5) == pytest.approx(3.166**2)
    assert siegmund_delay(5.0, 0.5, 0.0) == pytest.approx(siegmund_arl0(5.0, 0.5, two_sided=False))
    with pytest.raises(InvalidValueError, match="shift"):
        siegmund_delay(5.0, 0.5, float("nan"))

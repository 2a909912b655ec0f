"""The distribution shift detector and its threshold calibration (lesson 03)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import rl_best_practices
from rl_best_practices.drift import DistributionShiftDetector, calibrate_threshold
from rl_best_practices.errors import Error, InvalidTypeError, InvalidValueError


def filled(reference, window, **kwargs):
    det = DistributionShiftDetector(reference_size=len(reference), window_size=len(window),
                                    **kwargs)
    det.update_reference(reference)
    det.add_observations(window)
    return det


def test_lesson_name_is_exported():
    assert rl_best_practices.DistributionShiftDetector is DistributionShiftDetector


def test_status_before_reference_and_before_enough_data():
    det = DistributionShiftDetector(reference_size=100, window_size=10)
    report = det.check_shift()
    assert report["status"] == "no_reference" and report["shift_detected"] is False
    det.update_reference(np.zeros((20, 2)))
    for _ in range(4):
        det.add_observation([0.0, 0.0])
    report = det.check_shift()
    assert report["status"] == "insufficient_data"
    assert report["recommendation"] == "collect_more_data"
    det.add_observation([0.0, 0.0])  # window_size // 2 = 5 observations
    assert det.check_shift()["status"] == "ok"


def test_detects_a_shift_in_one_feature_and_names_it():
    rng = np.random.default_rng(1)
    det = filled(rng.normal(size=(5000, 4)), rng.normal(loc=[0, 0, 0.4, 0], size=(1000, 4)),
                 feature_names=["a", "b", "c", "d"])
    report = det.check_shift()
    assert report["shift_detected"] and report["recommendation"] == "retrain"
    assert [f["name"] for f in report["features"] if f["drifted"]] == ["c"]
    c = report["features"][2]
    assert c["psi"] > 0.1 and c["mean_shift_z"] > 5


def test_clean_window_continues():
    rng = np.random.default_rng(2)
    report = filled(rng.normal(size=(5000, 4)), rng.normal(size=(1000, 4))).check_shift()
    assert report["status"] == "ok" and not report["shift_detected"]
    assert report["recommendation"] == "continue"


def test_whole_reference_is_used_not_its_first_rows():
    # The reference's first half and second half differ; the live data follow the whole of it.
    rng = np.random.default_rng(3)
    reference = np.r_[rng.normal(0, 1, (2000, 1)), rng.normal(2, 1, (2000, 1))]
    window = rng.permutation(np.r_[rng.normal(0, 1, (250, 1)), rng.normal(2, 1, (250, 1))])
    report = filled(reference, window).check_shift()
    assert report["reference_rows"] == 4000
    assert not report["shift_detected"]
    # A test against the first 500 rows only (the lesson's way) raises a false alarm.
    assert stats.ks_2samp(window[:, 0], reference[:500, 0]).pvalue < 1e-6


def test_reference_keeps_the_most_recent_rows():
    det = DistributionShiftDetector(reference_size=3, window_size=3)
    det.update_reference(np.arange(5.0))
    det.add_observations([4.0, 2.0, 3.0])
    report = det.check_shift()
    assert report["reference_rows"] == 3 and report["features"][0]["ks_statistic"] == 0.0


def test_mean_shift_is_measured_in_standard_errors():
    rng = np.random.default_rng(4)
    reference = rng.normal(size=(10_000, 1))
    window = rng.normal(size=(1000, 1))
    window += 0.2 - window.mean()  # a mean shift of 0.2 per-sample standard deviations
    z = filled(reference, window).check_shift()["features"][0]["mean_shift_z"]
    se = np.sqrt(window.var(ddof=1) / 1000 + reference.var(ddof=1) / 10_000)
    expected = (0.2 - reference.mean()) / se
    assert z == pytest.approx(expected) and z > 5


@pytest.mark.parametrize("correction", ["bonferroni", "bh"])
def test_false_alarm_rate_is_held_at_the_threshold_over_features(correction):
    rng = np.random.default_rng(5)
    det = DistributionShiftDetector(reference_size=2000, window_size=200, correction=correction)
    det.update_reference(rng.normal(size=(2000, 8)))
    windows = rng.normal(size=(400, 200, 8))
    alarms = 0
    for window in windows:
        det.add_observations(window)
        alarms += det.check_shift(0.05)["shift_detected"]
    assert 0.02 <= alarms / len(windows) <= 0.08  # uncorrected: about 1 - 0.95**8 = 0.34


def test_corrections_adjust_p_values_like_scipy():
    rng = np.random.default_rng(6)
    reference = rng.normal(size=(3000, 5))
    window = rng.normal([0, 0.1, 0.15, 0.2, 0], size=(300, 5))
    bonf = filled(reference, window).check_shift()["features"]
    bh = filled(reference, window, correction="bh").check_shift()["features"]
    p = np.array([f["p_value"] for f in bonf])
    assert [f["adjusted_p_value"] for f in bonf] == pytest.approx(np.minimum(5 * p, 1))
    assert [f["adjusted_p_value"] for f in bh] == pytest.approx(
        stats.false_discovery_control(p, method="bh"))
    assert sum(f["drifted"] for f in bh) >= sum(f["drifted"] for f in bonf)


@settings(max_examples=60, deadline=None)
@given(
    window_size=st.integers(2, 8),
    batches=st.lists(st.integers(1, 12), min_size=1, max_size=6),
    one_by_one=st.lists(st.booleans(), min_size=6, max_size=6),
)
def test_ring_buffer_holds_the_last_observations_in_order(window_size, batches, one_by_one):
    det = DistributionShiftDetector(reference_size=10, window_size=window_size)
    seen, counter = [], 0.0
    for size, single in zip(batches, one_by_one[: len(batches)], strict=True):
        rows = np.arange(counter, counter + size)[:, None] * np.array([1.0, -1.0])
        counter += size
        if single:
            for row in rows:
                det.add_observation(row)
        else:
            det.add_observations(rows)
        seen.extend(rows)
    np.testing.assert_array_equal(det.window, np.array(seen[-window_size:]))
    assert det.n_observed == len(seen)


@pytest.mark.parametrize(
    "obs, error, message",
    [
        ([1.0, 2.0, 3.0], InvalidValueError, "vector of 2 features"),
        ([[1.0, 2.0]], InvalidValueError, "vector of 2 features"),
        ([1.0, np.nan], InvalidValueError, "finite"),
        ([np.inf, 0.0], InvalidValueError, "finite"),
        (["a", "b"], InvalidTypeError, "numeric"),
        (None, InvalidTypeError, "vector of 2 features"),
        ([[1.0], [2.0, 3.0]], InvalidTypeError, "numeric"),
    ],
)
def test_bad_observations_raise_and_leave_the_window_alone(obs, error, message):
    det = DistributionShiftDetector(reference_size=10, window_size=4)
    det.add_observations(np.ones((3, 2)))
    before = det.window
    with pytest.raises(error, match=message):
        det.add_observation(obs)
    with pytest.raises(InvalidValueError, match="finite"):
        det.add_observations(np.array([[0.0, 0.0], [0.0, np.nan]]))
    np.testing.assert_array_equal(det.window, before)
    assert det.n_observed == 3


def test_bad_references_raise_and_keep_the_old_one():
    det = DistributionShiftDetector(reference_size=100, window_size=10)
    det.update_reference(np.zeros((50, 2)))
    det.add_observations(np.zeros((10, 2)))
    for bad, message in [
        (np.zeros((50, 3)), "must have 2 features"),
        (np.r_[np.zeros((49, 2)), [[np.nan, 0]]], "finite"),
        (np.zeros((1, 2)), r"at least 2 row\(s\)"),
        (np.zeros((0, 2)), "must be a 2-D array"),
        (np.zeros((5, 2, 2)), "must be a 2-D array"),
        ([["a", "b"]] * 5, "must be numeric"),
    ]:
        with pytest.raises(InvalidValueError, match=message):
            det.update_reference(bad)
    assert det.reference_version == 1
    report = det.check_shift()
    assert report["reference_rows"] == 50 and not report["shift_detected"]


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"reference_size": 1}, InvalidValueError, "reference_size must be an integer >= 2"),
        ({"window_size": 10.0}, InvalidTypeError, "window_size must be an integer"),
        ({"window_size": True}, InvalidTypeError, "window_size must be an integer"),
        ({"correction": "holm"}, InvalidValueError, "correction must be one of"),
        ({"correction": ["bh"]}, InvalidValueError, "correction must be one of"),
        ({"min_samples": 20, "window_size": 10}, InvalidValueError, "must not exceed window_size"),
        ({"check_interval": 0}, InvalidValueError, "check_interval must be an integer >= 1"),
        ({"feature_names": ["a", "a"]}, InvalidValueError, "unique"),
        ({"psi_bins": 1}, InvalidValueError, "psi_bins"),
        ({"clock": 3.0}, InvalidTypeError, "clock must be callable"),
    ],
)
def test_bad_settings_raise(kwargs, error, message):
    with pytest.raises(error, match=message) as info:
        DistributionShiftDetector(**kwargs)
    assert isinstance(info.value, Error)


@pytest.mark.parametrize(
    "name", ["reference_size", "window_size", "min_samples", "check_interval", "psi_bins"])
@pytest.mark.parametrize("value", [True, np.True_, 10.0, "10"])
def test_integer_settings_refuse_other_types(name, value):
    with pytest.raises(InvalidTypeError, match=f"{name} must be an integer") as info:
        DistributionShiftDetector(**{name: value})
    assert isinstance(info.value, TypeError) and isinstance(info.value, ValueError)


def test_integer_settings_accept_numpy_integers():
    det = DistributionShiftDetector(np.int64(100), np.int32(10), check_interval=np.int64(5))
    assert (det.reference_size, det.window_size, det.check_interval) == (100, 10, 5)
    assert type(det.window_size) is int


@pytest.mark.parametrize(
    "threshold, error",
    [
        (0, InvalidValueError),
        (1, InvalidValueError),
        (-0.1, InvalidValueError),
        (1.5, InvalidValueError),
        (float("nan"), InvalidValueError),
        ("0.05", InvalidTypeError),
        (True, InvalidTypeError),
        (None, InvalidTypeError),
    ],
)
def test_bad_threshold_raises(threshold, error):
    det = DistributionShiftDetector(reference_size=10, window_size=4)
    with pytest.raises(error, match=r"threshold must be a finite number in \(0, 1\)") as info:
        det.check_shift(threshold)
    assert isinstance(info.value, TypeError) == (error is InvalidTypeError)


def test_reference_changes_are_recorded_with_the_clock():
    times = iter([100.0, 250.0])
    det = DistributionShiftDetector(reference_size=10, window_size=4, clock=lambda: next(times))
    det.update_reference(np.zeros((5, 1)), note="training run 1")
    det.update_reference(np.ones((8, 1)), note="after retraining")
    assert list(det.reference_log) == [
        {"version": 1, "time": 100.0, "rows": 5, "note": "training run 1"},
        {"version": 2, "time": 250.0, "rows": 8, "note": "after retraining"},
    ]
    det.add_observations(np.ones((4, 1)))
    assert det.check_shift()["reference_version"] == 2


def test_observe_checks_every_interval_and_counts_alarms():
    rng = np.random.default_rng(7)
    det = DistributionShiftDetector(reference_size=1000, window_size=100, check_interval=25)
    det.update_reference(rng.normal(size=(1000, 2)))
    reports = [det.observe(row) for row in rng.normal(3.0, size=(200, 2))]
    due = [i for i, r in enumerate(reports) if r is not None]
    assert due == [49, 74, 99, 124, 149, 174, 199]  # first once min_samples (50) are in
    assert det.n_checks == 7 and det.n_alarms == 7 and det.n_observed == 200


def test_family_p_value_decides_the_alarm():
    rng = np.random.default_rng(9)
    det = filled(rng.normal(size=(2000, 3)), rng.normal([0, 0, 0.3], size=(300, 3)))
    report = det.check_shift(0.01)
    smallest = min(f["adjusted_p_value"] for f in report["features"])
    assert report["family_p_value"] == smallest
    assert report["shift_detected"] == (smallest <= 0.01)


def make_calibration_detector(reference, window=100, interval=100):
    def make():
        det = DistributionShiftDetector(len(reference), window, check_interval=interval)
        det.update_reference(reference)
        return det
    return make


def test_calibrated_threshold_meets_the_budget_on_its_streams():
    rng = np.random.default_rng(10)
    make = make_calibration_detector(rng.normal(size=(2000, 2)))
    streams = [rng.normal(size=(10_000, 2)) for _ in range(3)]
    threshold = calibrate_threshold(make, streams, alarms_per_10k=4)
    alarms = 0
    for stream in streams:
        det = make()
        for row in stream:
            det.observe(row, threshold)
        alarms += det.n_alarms
    assert alarms == 12  # 4 per 10,000 over 30,000 observations, exactly, on the same streams
    assert 0.005 < threshold < 0.2  # independent rows: near the nominal 0.05 per check


def test_calibrated_threshold_is_tiny_for_dependent_observations():
    # A slow AR(1) process: windows of consecutive values look "shifted" even with no change.
    rng = np.random.default_rng(11)

    def ar1(n):
        x = np.empty(n)
        x[0] = rng.normal()
        for t in range(1, n):
            x[t] = 0.98 * x[t - 1] + np.sqrt(1 - 0.98**2) * rng.normal()
        return x

    reference = rng.normal(size=(2000, 1))  # the stationary distribution, sampled independently
    make = make_calibration_detector(reference)
    threshold = calibrate_threshold(make, [ar1(10_000)[:, None]], 1.0)
    assert threshold < 1e-6


def test_calibrate_threshold_rejects_bad_arguments():
    make = make_calibration_detector(np.zeros((10, 1)))
    stream = [np.zeros((200, 1))]
    with pytest.raises(InvalidValueError, match="alarms_per_10k must be a finite number >= 0"):
        calibrate_threshold(make, stream, -1)
    with pytest.raises(InvalidValueError, match="alarms_per_10k must be a finite number >= 0"):
        calibrate_threshold(make, stream, float("inf"))
    with pytest.raises(InvalidTypeError, match="alarms_per_10k must be a finite number"):
        calibrate_threshold(make, stream, True)
    with pytest.raises(InvalidTypeError, match="make_detector must be callable"):
        calibrate_threshold("detector", stream, 1)
    with pytest.raises(InvalidValueError, match="with a reference"):
        calibrate_threshold(DistributionShiftDetector, stream, 1)
    with pytest.raises(InvalidTypeError, match="must return a DistributionShiftDetector, got str"):
        calibrate_threshold(lambda: "detector", stream, 1)
    with pytest.raises(InvalidValueError, match="too short"):
        calibrate_threshold(make, [np.zeros((10, 1))], 1)
    with pytest.raises(InvalidValueError, match="clean stream must be finite"):
        calibrate_threshold(make, [np.full((200, 1), np.nan)], 1)


def test_constant_features_give_clear_mean_shifts():
    det = filled(np.zeros((5, 2)), np.c_[np.ones(4), np.zeros(4)])
    z = [f["mean_shift_z"] for f in det.check_shift()["features"]]
    assert z == [np.inf, 0.0]

"""The distribution shift detector and its threshold calibration (lesson 03)."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import signal, stats

import rl_best_practices
from rl_best_practices.drift import DistributionShiftDetector, calibrate_threshold
from rl_best_practices.drift.detector import budget_threshold
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


def clean_family_p_values(correction, seed, references=200, windows=4, d=4):
    """Family p-values and alarms at threshold 0.5 of clean windows (100 rows, ``d`` independent
    features) against fresh references (500 rows), ``windows`` windows per reference."""
    rng = np.random.default_rng(seed)
    family_p, alarms = [], []
    for _ in range(references):
        det = DistributionShiftDetector(500, 100, correction=correction)
        det.update_reference(rng.normal(size=(500, d)))
        for window in rng.normal(size=(windows, 100, d)):
            det.add_observations(window)
            report = det.check_shift(0.5)
            family_p.append(report["family_p_value"])
            alarms.append(report["shift_detected"])
    return np.array(family_p), np.array(alarms)


@pytest.mark.parametrize("correction", ["bonferroni", "bh"])
def test_false_alarm_rate_on_clean_windows_is_what_the_correction_promises(correction):
    # With d independent clean features, Bonferroni alarms with probability 1 - (1 - a/d)**d
    # (0.414 at a = 0.5, 0.049 at a = 0.05) and Benjamini-Hochberg (Simes' test) with a. The
    # large threshold 0.5 makes 800 windows enough to see a calibration off by a factor of 1.5:
    # a halved Bonferroni (0.68), a threshold 1.5x too high (0.56) or a correction 1.6x too
    # conservative (0.28) are more than 6 standard errors away; the test allows 4.
    family_p, alarms = clean_family_p_values(correction, seed=3)
    n, d = len(alarms), 4
    for threshold, rate in [(0.5, alarms.mean()), (0.05, np.mean(family_p <= 0.05))]:
        expected = 1 - (1 - threshold / d) ** d if correction == "bonferroni" else threshold
        assert abs(rate - expected) <= 4 * np.sqrt(expected * (1 - expected) / n)
    uncorrected = 1 - (1 - 0.05) ** d  # 0.185: the rate without any correction
    assert np.mean(family_p <= 0.05) < uncorrected / 2


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
    with pytest.raises(InvalidValueError, match="^observations must be finite"):
        det.add_observations(np.array([[0.0, 0.0], [0.0, np.nan]]))
    with pytest.raises(InvalidValueError, match="^observations must have 2 features, got 3$"):
        det.add_observations(np.ones((2, 3)))
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


def test_rows_added_in_bulk_count_towards_the_next_check():
    rng = np.random.default_rng(8)
    det = DistributionShiftDetector(1000, 100, min_samples=1, check_interval=25)
    det.update_reference(rng.normal(size=(1000, 2)))
    det.add_observations(rng.normal(size=(12, 2)))
    det.add_observations(rng.normal(size=(12, 2)))
    assert det.observe([0.0, 0.0]) is not None  # the 25th row since the last check
    det.add_observations(rng.normal(size=(23, 2)))
    assert det.observe([0.0, 0.0]) is None  # 24 rows since
    assert det.observe([0.0, 0.0]) is not None and det.n_checks == 2


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


def test_calibrated_threshold_is_the_kth_smallest_family_p_value_of_the_clean_checks():
    rng = np.random.default_rng(10)
    reference = rng.normal(size=(1000, 2))
    streams = [rng.normal(size=(1000, 2)), rng.normal(size=(1550, 2))]
    family_p = []  # checked every 100 rows over the last 100 (the window), per stream
    for stream in streams:
        for end in range(100, len(stream) + 1, 100):
            family_p.append(filled(reference, stream[end - 100:end]).check_shift()[
                "family_p_value"])
    assert len(family_p) == 25
    make = make_calibration_detector(reference)
    for budget, k in [(10, 2), (11.762, 2), (12.9, 3), (19.4, 4), (400, 25), (1000, 25)]:
        # k = int(budget * 2550 / 10_000) alarms allowed over all 2550 rows (at most every check)
        assert calibrate_threshold(make, streams, budget) == pytest.approx(
            np.sort(family_p)[k - 1], rel=1e-12)
    assert calibrate_threshold(make, streams, 3) == pytest.approx(min(family_p) / 2, rel=1e-12)


@pytest.mark.parametrize(
    "p_values, observed, budget, expected",
    [
        ([0.3, 0.01, 0.2, 0.04], 10_000, 2, 0.04),  # 2 alarms allowed: the 2nd smallest
        ([0.3, 0.01, 0.2, 0.04], 15_000, 2, 0.2),  # 3 allowed
        ([0.3, 0.01, 0.2, 0.04], 14_999, 2, 0.04),  # 2.9998 allowed: rounded down to 2
        ([0.3, 0.01, 0.2, 0.04], 10_000, 0.99, 0.005),  # none allowed: the smallest, halved
        ([0.3, 0.01, 0.2, 0.04], 10_000, 50, 0.3),  # more allowed than checks: every check
        ([1.0, 1.0], 10_000, 1, 1 - np.finfo(float).eps),  # kept below 1
        ([0.0, 0.5], 10_000, 0, np.finfo(float).tiny),  # and above 0
    ],
)
def test_budget_threshold_lets_the_allowed_number_of_checks_alarm(
        p_values, observed, budget, expected):
    threshold = budget_threshold(p_values, observed, budget)
    assert threshold == expected and 0 < threshold < 1


def ar1_streams(rng, count, n=5000, d=2, phi=0.9):
    """Clean but dependent streams: stationary AR(1) with N(0, 1) marginals."""
    noise = rng.normal(size=(count, n, d)) * np.sqrt(1 - phi**2)
    noise[:, 0] = rng.normal(size=(count, d))
    return list(signal.lfilter([1.0], [1.0, -phi], noise, axis=1))


def test_calibrated_threshold_holds_the_budget_on_fresh_dependent_streams():
    # Windows of consecutive AR(1) values look "shifted" against an independent reference even
    # though nothing changed: the nominal 0.05 alarms on most checks. Calibrated on 4 clean
    # streams, the threshold must hold the budget on 4 FRESH streams of the same process.
    rng = np.random.default_rng(11)
    make = make_calibration_detector(rng.normal(size=(1000, 2)), window=50, interval=50)
    threshold = calibrate_threshold(make, ar1_streams(rng, 4), alarms_per_10k=40)
    fresh = ar1_streams(rng, 4)
    alarms, nominal_alarms, checks = 0, 0, 0
    for stream in fresh:
        det, nominal = make(), make()
        for row in stream:
            det.observe(row, threshold)
            nominal.observe(row, 0.05)
        alarms += det.n_alarms
        nominal_alarms += nominal.n_alarms
        checks += det.n_checks
    budget = 40 * 20_000 / 10_000  # 80 alarms in 400 checks: a rate q = 0.2 per check
    q = budget / checks
    # Monte Carlo error: the count on the fresh streams (binomial) plus the error of the
    # threshold, itself the 80th of 400 calibration checks (about as large): 4 standard errors.
    assert abs(alarms - budget) <= 4 * np.sqrt(2 * checks * q * (1 - q))
    assert threshold < 1e-5 and nominal_alarms > 3 * budget


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
    with pytest.raises(InvalidValueError, match="^make_detector must return a "
                       "DistributionShiftDetector with a reference$"):
        calibrate_threshold(DistributionShiftDetector, stream, 1)
    with pytest.raises(InvalidTypeError, match="must return a DistributionShiftDetector, got str"):
        calibrate_threshold(lambda: "detector", stream, 1)
    with pytest.raises(InvalidValueError, match="^the clean streams are too short for a "
                       "single check; give longer streams$"):
        calibrate_threshold(make, [np.zeros((10, 1))], 1)
    with pytest.raises(InvalidValueError, match="clean stream must be finite"):
        calibrate_threshold(make, [np.full((200, 1), np.nan)], 1)


def test_constant_features_give_clear_mean_shifts():
    det = filled(np.zeros((5, 2)), np.c_[np.ones(4), np.zeros(4)])
    z = [f["mean_shift_z"] for f in det.check_shift()["features"]]
    assert z == [np.inf, 0.0]


def test_defaults_check_every_window_of_1000_from_500_observations():
    det = DistributionShiftDetector()
    assert (det.reference_size, det.window_size, det.psi_bins) == (10_000, 1000, 10)
    assert det.min_samples == 500 and type(det.min_samples) is int
    assert det.check_interval == 1000 and det.correction == "bonferroni"


@pytest.mark.parametrize("kwargs, message", [
    ({"window_size": 1}, r"^window_size must be an integer >= 2, got 1$"),
    ({"min_samples": 0}, r"^min_samples must be an integer >= 1, got 0$"),
])
def test_settings_below_their_minimum_raise(kwargs, message):
    with pytest.raises(InvalidValueError, match=message):
        DistributionShiftDetector(**kwargs)
    assert DistributionShiftDetector(window_size=2, min_samples=1, psi_bins=2).psi_bins == 2


def test_feature_names_fix_the_number_of_features():
    det = DistributionShiftDetector(10, 4, feature_names=["a", "b"])
    assert det.n_features == 2
    with pytest.raises(InvalidValueError, match=r"^observation must be a vector of 2 features"):
        det.add_observation([1.0, 2.0, 3.0])


def test_the_reference_log_keeps_the_last_100_changes_and_an_empty_note_by_default():
    det = DistributionShiftDetector(10, 4, clock=lambda: 0.0)
    for _ in range(101):
        det.update_reference(np.zeros((2, 3)))  # 2 rows of 3 features is enough
    assert len(det.reference_log) == 100
    assert det.reference_log[0]["version"] == 2 and det.reference_log[-1]["note"] == ""


def test_bad_reference_errors_name_the_observations():
    det = DistributionShiftDetector(100, 10)
    det.update_reference(np.zeros((5, 2)))
    with pytest.raises(InvalidValueError, match="^observations must be finite"):
        det.update_reference([[0.0, np.nan], [0.0, 0.0]])
    with pytest.raises(InvalidValueError, match="^observations must have 2 features, got 3$"):
        det.update_reference(np.zeros((5, 3)))


def test_a_first_observation_of_the_wrong_form_names_the_vector_it_needs():
    det = DistributionShiftDetector(10, 4)
    with pytest.raises(InvalidValueError, match=r"^observation must be a 1-D vector, got shape"
                       r" \(2, 2\)$"):
        det.add_observation([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(InvalidValueError, match=r"^observation must be a 1-D vector, got shape"
                       r" \(0,\)$"):
        det.add_observation([])
    with pytest.raises(InvalidValueError, match="^observation must be finite"):
        det.add_observation([np.nan])


def test_mean_shifts_are_measured_per_feature_in_its_own_standard_errors():
    rng = np.random.default_rng(13)
    reference = rng.normal([0.0, 10.0], [1.0, 5.0], size=(2000, 2))
    window = rng.normal([0.3, 10.0], [1.0, 5.0], size=(400, 2))
    z = [f["mean_shift_z"] for f in filled(reference, window).check_shift()["features"]]
    se = np.sqrt(window.var(axis=0, ddof=1) / 400 + reference.var(axis=0, ddof=1) / 2000)
    assert z == pytest.approx((window.mean(axis=0) - reference.mean(axis=0)) / se)


def test_one_or_two_observations_give_a_finite_mean_shift():
    det = DistributionShiftDetector(100, 10, min_samples=1)
    det.update_reference(np.arange(20.0)[:, None])
    det.add_observation([30.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert det.check_shift()["features"][0]["mean_shift_z"] == 0.0  # no spread: no z yet
        det.add_observation([32.0])
        z = det.check_shift()["features"][0]["mean_shift_z"]
    se = np.sqrt(np.var([30.0, 32.0], ddof=1) / 2 + np.var(np.arange(20.0), ddof=1) / 20)
    assert z == pytest.approx((31.0 - 9.5) / se)


def test_reports_before_a_test_say_what_to_do_and_an_alarm_at_exactly_the_threshold():
    det = DistributionShiftDetector(100, 10)
    assert det.check_shift() == {"status": "no_reference", "shift_detected": False,
                                 "recommendation": "set_reference"}
    rng = np.random.default_rng(14)
    det.update_reference(rng.normal(size=(100, 2)))
    det.add_observations(rng.normal(size=(4, 2)))
    assert det.check_shift() == {"status": "insufficient_data", "shift_detected": False,
                                 "recommendation": "collect_more_data", "window_rows": 4,
                                 "min_samples": 5}
    det.add_observations(rng.normal(0.5, size=(6, 2)))
    report = det.check_shift(0.5)
    assert (report["threshold"], report["correction"], report["window_rows"]) == (
        0.5, "bonferroni", 10)
    family = report["family_p_value"]
    assert det.check_shift(family)["shift_detected"]  # a p-value at the threshold alarms
    assert not det.check_shift(float(np.nextafter(family, 0)))["shift_detected"]

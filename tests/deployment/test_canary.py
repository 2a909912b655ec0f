"""The canary: sticky SHA-256 assignment, guards judged on enough samples, ramp, rollback."""

import hashlib
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from rl_best_practices.deployment import Canary, Guard, assign_fraction
from rl_best_practices.errors import Error, InvalidTypeError, InvalidValueError


def test_assignment_is_stable_uniform_and_salted():
    keys = [f"user-{n}" for n in range(4000)]
    values = np.array([assign_fraction(k) for k in keys])
    assert np.array_equal(values, [assign_fraction(k) for k in keys])
    assert abs((values < 0.25).mean() - 0.25) < 0.03
    salted = np.array([assign_fraction(k, salt="v2") for k in keys])
    assert abs(np.corrcoef(values, salted)[0, 1]) < 0.1
    # pinned value: SHA-256 based, identical in every process and on every machine
    assert assign_fraction("user-0") == pytest.approx(0.700739, abs=1e-6)
    digest = hashlib.sha256(b"v2\x00user-0").digest()
    assert assign_fraction("user-0", salt="v2") == int.from_bytes(digest[:8], "big") / 2.0**64


@pytest.mark.parametrize("key, salt", [(7, ""), ("a", None), (b"a", "")])
def test_assignment_refuses_keys_and_salts_that_are_not_strings(key, salt):
    with pytest.raises(InvalidTypeError, match="key and salt must be strings") as info:
        assign_fraction(key, salt)
    assert isinstance(info.value, ValueError) and isinstance(info.value, TypeError)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.text(max_size=12), min_size=1, max_size=30))
def test_keys_in_the_canary_stay_there_as_the_ramp_grows(keys):
    canary = Canary(len, len, guards=[Guard("m", 1.0, min_samples=1)], ramp=(0.1, 0.3, 0.7),
                    stage_samples=1)
    before = {k for k in keys if canary.arm_for(k) == "canary"}
    canary.record("canary", {"m": 0.0})
    after = {k for k in keys if canary.arm_for(k) == "canary"}
    assert canary.fraction == 0.3 and before <= after


def test_act_routes_each_key_to_its_arm():
    canary = Canary(lambda o: "old", lambda o: "new", guards=[Guard("m", 1.0)], ramp=(0.5,))
    for key in ("a", "b", "c", "d", "e"):
        action, arm = canary.act(key, None)
        assert arm == canary.arm_for(key) and action == ("new" if arm == "canary" else "old")


def test_a_breached_guard_rolls_back_once_it_has_its_samples():
    canary = Canary(len, len, guards=[Guard("error_rate", 0.1, min_samples=20)], ramp=(0.2, 0.5),
                    stage_samples=50)
    for _ in range(19):
        assert canary.record("canary", {"error_rate": 1.0}) == "running"  # too few to judge
    assert canary.record("canary", {"error_rate": 1.0}) == "rolled_back"
    assert canary.fraction == 0.0 and canary.arm_for("anyone") == "control"
    assert canary.events[-1]["event"] == "rolled_back" and canary.events[-1]["samples"] == 20
    assert "after 20 samples" in canary.events[-1]["reason"]
    assert canary.record("canary", {"error_rate": 0.0}) == "rolled_back"  # final


def test_a_healthy_candidate_ramps_then_is_promoted():
    canary = Canary(len, len, guards=[Guard("reward", 0.0, "at_least", min_samples=5)],
                    ramp=(0.1, 0.5), stage_samples=10)
    fractions = []
    for _ in range(20):
        canary.record("canary", {"reward": 1.0})
        fractions.append(canary.fraction)
    assert fractions[8:11] == [0.1, 0.5, 0.5] and fractions[-1] == 1.0
    assert canary.state == "promoted"
    assert [e["event"] for e in canary.events] == ["started", "ramped", "promoted"]


def test_relative_guard_compares_with_control_and_waits_for_both_arms():
    guard = Guard("reward", -0.5, "at_least", min_samples=3, relative=True)
    canary = Canary(len, len, guards=[guard], ramp=(0.5,), stage_samples=100)
    for _ in range(5):
        canary.record("canary", {"reward": 0.0})
    assert canary.state == "running" and math.isnan(canary.statistic(guard)[0])  # no control yet
    for _ in range(3):
        canary.record("control", {"reward": 1.0})
    assert canary.statistic(guard) == (-1.0, 5)
    assert canary.samples("control") == 3 and isinstance(canary.samples("canary"), int)
    assert canary.record("canary", {"reward": 0.0}) == "rolled_back"
    assert "canary - control -1" in canary.events[-1]["reason"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-5, 5, allow_nan=False), min_size=1, max_size=60), st.integers(1, 20))
def test_rollback_happens_at_the_first_judgeable_breach(values, min_samples):
    canary = Canary(len, len, guards=[Guard("m", 1.0, "at_most", min_samples=min_samples)],
                    ramp=(0.5,), stage_samples=10**6)
    states = [canary.record("canary", {"m": v}) for v in values]
    means = np.cumsum(values) / np.arange(1, len(values) + 1)  # the same running mean, by NumPy
    n = np.arange(1, len(values) + 1)
    assume(not np.any(np.abs(means - 1.0) < 1e-9))  # no ties with the bound up to rounding
    breach = np.flatnonzero((n >= min_samples) & (means > 1.0))
    expected = len(values) if breach.size == 0 else breach[0]
    assert states[:expected] == ["running"] * expected
    assert all(s == "rolled_back" for s in states[expected:])


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(guards=[]), InvalidValueError, "guards"),
        (dict(guards=["m"]), InvalidTypeError, "guards"),
        (dict(guards=Guard("m", 1.0)), InvalidTypeError, "guards must be a sequence"),
        (dict(ramp=(0.5, 0.2)), InvalidValueError, "ramp must be strictly increasing"),
        (dict(ramp=()), InvalidValueError, "ramp"),
        (dict(ramp=(0.0,)), InvalidValueError, r"ramp\[0\]"),
        (dict(ramp=(1.5,)), InvalidValueError, "ramp"),
        (dict(ramp=(0.2, True)), InvalidTypeError, r"ramp\[1\]"),
        (dict(ramp=0.5), InvalidTypeError, "ramp must be a sequence"),
        (dict(stage_samples=0), InvalidValueError, "stage_samples"),
        (dict(stage_samples=True), InvalidTypeError, "stage_samples"),
        (dict(max_events=0), InvalidValueError, "max_events"),
        (dict(salt=3), InvalidTypeError, "salt"),
        (dict(control=None), InvalidTypeError, "control must be callable"),
        (dict(candidate="v2"), InvalidTypeError, "candidate must be callable"),
    ],
)
def test_canary_rejects_bad_arguments(kwargs, error, message):
    args = {"control": len, "candidate": len, "guards": [Guard("m", 1.0)], **kwargs}
    with pytest.raises(error, match=message) as info:
        Canary(args.pop("control"), args.pop("candidate"), **args)
    assert isinstance(info.value, Error) and isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(metric=""), InvalidValueError, "metric"),
        (dict(metric=3), InvalidTypeError, "metric"),
        (dict(bound=math.nan), InvalidValueError, "bound"),
        (dict(bound=True), InvalidTypeError, "bound"),
        (dict(bound="1"), InvalidTypeError, "bound"),
        (dict(direction="below"), InvalidValueError, "direction"),
        (dict(min_samples=0), InvalidValueError, "min_samples"),
        (dict(min_samples=2.0), InvalidTypeError, "min_samples"),
        (dict(relative=1), InvalidTypeError, "relative"),
    ],
)
def test_guard_rejects_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message) as info:
        Guard(**{"metric": "m", "bound": 1.0, **kwargs})
    assert isinstance(info.value, Error) and isinstance(info.value, ValueError)


def test_guard_judges_its_direction():
    assert Guard("loss", 1.0).holds(1.0) and not Guard("loss", 1.0).holds(1.01)
    assert Guard("reward", 0.0, "at_least").holds(0.0)
    assert not Guard("reward", 0.0, "at_least").holds(-0.01)


@pytest.mark.parametrize(
    "arm, metrics, error, message",
    [
        ("beta", {"m": 0.0}, InvalidValueError, "arm must be one of"),
        ("canary", {"other": 0.0}, InvalidValueError, "metric must be one of 'm'"),
        ("canary", {"m": math.inf}, InvalidValueError, "metric 'm' must be a finite number"),
        ("canary", {"m": True}, InvalidTypeError, "metric 'm'"),
        ("canary", {"m": "0.5"}, InvalidTypeError, "metric 'm'"),
        ("canary", [("m", 0.0)], InvalidTypeError, "metrics must be a dict"),
        ("control", {"m": 0.0, "n": 1.0}, InvalidValueError, "metric must be one of"),
    ],
)
def test_bad_records_raise_and_record_nothing(arm, metrics, error, message):
    canary = Canary(len, len, guards=[Guard("m", 1.0, min_samples=1)], ramp=(0.5,))
    with pytest.raises(error, match=message) as info:
        canary.record(arm, metrics)
    assert isinstance(info.value, Error) and isinstance(info.value, ValueError)
    assert canary.samples("canary") == canary.samples("control") == 0
    assert canary.state == "running"


def test_numpy_metric_values_are_accepted():
    canary = Canary(len, len, guards=[Guard("m", 1.0, min_samples=2)], ramp=(0.5,))
    canary.record("canary", {"m": np.float32(0.5)})
    canary.record("canary", {"m": np.int64(1)})
    assert canary.statistic(canary.guards[0]) == (0.75, 2)

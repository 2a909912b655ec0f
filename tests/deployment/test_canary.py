"""The canary: sticky SHA-256 assignment, guards judged by confidence sequences, ramp, rollback,
and its error rates measured by simulation."""

import hashlib
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rl_best_practices.deployment import Canary, Guard, assign_fraction
from rl_best_practices.deployment.sequential import (
    mixing_variance,
    mixture_radius,
    noninferiority_samples,
)
from rl_best_practices.deployment.simulation import canary_outcomes, run_canary
from rl_best_practices.errors import Error, InvalidStateError, InvalidTypeError, InvalidValueError


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
    canary = Canary(len, len, guards=[Guard("m", 1.0, min_samples=2)], ramp=(0.1, 0.3, 0.7),
                    stage_samples=2)
    before = {k for k in keys if canary.arm_for(k) == "canary"}
    canary.record("canary", {"m": 0.0})
    canary.record("canary", {"m": 0.0})  # two equal records: a zero-width interval below 1
    after = {k for k in keys if canary.arm_for(k) == "canary"}
    assert canary.fraction == 0.3 and before <= after


def test_act_routes_each_key_to_its_arm():
    canary = Canary(lambda o: "old", lambda o: "new", guards=[Guard("m", 1.0)], ramp=(0.5,))
    for key in ("a", "b", "c", "d", "e"):
        action, arm = canary.act(key, None)
        assert arm == canary.arm_for(key) and action == ("new" if arm == "canary" else "old")


def test_a_clear_breach_rolls_back_once_the_guard_has_its_samples():
    canary = Canary(len, len, guards=[Guard("error_rate", 0.1, min_samples=20)], ramp=(0.2, 0.5),
                    stage_samples=50)
    rng = np.random.default_rng(0)
    for _ in range(19):  # far above the bound, but too few records to judge
        assert canary.record("canary", {"error_rate": rng.uniform(0.9, 1.0)}) == "running"
    assert canary.record("canary", {"error_rate": 0.95}) == "rolled_back"
    assert canary.fraction == 0.0 and canary.arm_for("anyone") == "control"
    last = canary.events[-1]
    assert last["event"] == "rolled_back" and last["samples"] == 20
    assert last["reason"].startswith("error_rate: canary mean 0.9") and "breaches at_most" in \
        last["reason"]
    assert canary.record("canary", {"error_rate": 0.0}) == "rolled_back"  # final
    assert not canary.shown and "rolled_back after 20" in canary.summary


def test_a_mean_beyond_the_bound_is_not_a_breach_until_the_interval_is():
    """One noisy look past the bound is no evidence: the interval must clear it."""
    canary = Canary(len, len, guards=[Guard("loss", 1.0, min_samples=5)], ramp=(0.5,),
                    stage_samples=10**6)
    for value in (0.0, 3.0, 0.5, 2.5, 1.5):  # mean 1.5 > 1, spread about 1.2
        canary.record("canary", {"loss": value})
    iv = canary.interval(canary.guards[0])
    assert iv.estimate == pytest.approx(1.5) and iv.low < 1.0 < iv.high
    assert canary.state == "running" and canary.verdicts() == {"loss at_most 1": "inconclusive"}


def test_a_healthy_candidate_ramps_then_is_promoted():
    canary = Canary(len, len, guards=[Guard("reward", 0.0, "at_least", min_samples=5)],
                    ramp=(0.1, 0.5), stage_samples=10)
    rng = np.random.default_rng(1)
    fractions = []
    for _ in range(20):
        canary.record("canary", {"reward": rng.normal(1.0, 0.1)})
        fractions.append(canary.fraction)
    assert fractions[8:11] == [0.1, 0.5, 0.5] and fractions[-1] == 1.0
    assert canary.state == "promoted" and canary.shown
    assert [e["event"] for e in canary.events] == ["started", "ramped", "promoted"]


def test_the_ramp_waits_until_the_guard_is_shown_to_hold():
    """A stage with enough records but an inconclusive guard does not advance."""
    canary = Canary(len, len, guards=[Guard("reward", 0.0, "at_least", min_samples=5)],
                    ramp=(0.1, 0.5), stage_samples=10)
    rng = np.random.default_rng(2)
    for _ in range(10):  # true mean 0.05 with spread 1: far from shown above 0
        canary.record("canary", {"reward": rng.normal(0.05, 1.0)})
    assert canary.stage == 0 and canary.state == "running"


def test_relative_guard_uses_the_control_arm_and_waits_for_both_arms():
    guard = Guard("reward", -0.5, "at_least", min_samples=3, relative=True)
    canary = Canary(len, len, guards=[guard], ramp=(0.5,), stage_samples=100)
    for value in (0.0, 0.1, -0.1, 0.05, -0.05):
        canary.record("canary", {"reward": value})
    assert canary.state == "running" and canary.interval(guard) is None  # no control yet
    for value in (1.0, 1.1, 0.9):
        canary.record("control", {"reward": value})
    iv = canary.interval(guard)
    assert iv.estimate == pytest.approx(-1.0) and (iv.canary_samples, iv.control_samples) == (5, 3)
    # the interval uses both arms' variances: widening the control arm's spread widens it
    wider = Canary(len, len, guards=[guard], ramp=(0.5,), stage_samples=100)
    for value in (0.0, 0.1, -0.1, 0.05, -0.05):
        wider.record("canary", {"reward": value})
    for value in (0.0, 2.0, 1.0):
        wider.record("control", {"reward": value})
    assert wider.interval(guard).high - wider.interval(guard).low > iv.high - iv.low
    assert canary.state == "rolled_back"  # -1 +- about 0.2 lies below -0.5
    assert "canary - control -1 in [" in canary.events[-1]["reason"]


def test_a_stage_still_inconclusive_at_max_stage_samples_rolls_back():
    guard = Guard("reward", 0.0, "at_least", min_samples=5)
    canary = Canary(len, len, guards=[guard], ramp=(0.5,), stage_samples=10, max_stage_samples=40)
    rng = np.random.default_rng(3)
    states = [canary.record("canary", {"reward": rng.normal(0.0, 1.0)}) for _ in range(40)]
    assert states[:39] == ["running"] * 39 and states[39] == "rolled_back"
    assert canary.events[-1]["reason"].startswith("inconclusive: reward at_least 0 not shown")


def test_every_look_is_judged_on_the_same_confidence_sequence():
    """The interval equals the normal-mixture radius around the difference of the means."""
    guard = Guard("m", -1.0, "at_least", min_samples=4, relative=True, alpha=0.1)
    canary = Canary(len, len, guards=[guard], ramp=(0.5,), stage_samples=8)
    treated, control = [0.3, -0.2, 0.4, 0.1, 0.0], [0.0, 0.5, -0.3, 0.2]
    for value in control:
        canary.record("control", {"m": value})
    for value in treated[:4]:
        canary.record("canary", {"m": value})
    v0 = np.var(treated[:4], ddof=1) / 4 + np.var(control, ddof=1) / 4
    tau2 = mixing_variance(v0, 4, 8)  # fixed at the first judgeable look
    canary.record("canary", {"m": treated[4]})
    v = np.var(treated, ddof=1) / 5 + np.var(control, ddof=1) / 4
    iv = canary.interval(guard)
    assert iv.estimate == pytest.approx(np.mean(treated) - np.mean(control))
    assert iv.high - iv.estimate == pytest.approx(mixture_radius(v, tau2, 0.1))


# -- error rates, measured by simulation ----------------------------------------------------
RUNS = 400
MC = 3 * np.sqrt(0.05 * 0.95 / RUNS)  # three Monte Carlo standard errors at alpha = 0.05


def _make(margin=0.5, stage=40, max_stage=400, min_samples=20):
    def make():
        guard = Guard("pnl", -margin, "at_least", min_samples=min_samples, relative=True)
        return Canary(len, len, guards=[guard], ramp=(0.25, 0.5), stage_samples=stage,
                      max_stage_samples=max_stage)
    return make


def test_a_candidate_at_the_margin_is_promoted_at_most_alpha_of_the_time():
    """The worst case of the null: the true difference sits exactly on the bound, and every
    record is a look."""
    out = canary_outcomes(_make(), candidate_mean=-0.5, control_mean=0.0, sd=1.0, runs=RUNS,
                          seed=10)
    assert out.rates()["promoted"] <= 0.05 + MC


def test_looking_after_every_record_with_a_fixed_horizon_interval_would_not_hold_alpha():
    """Why the confidence sequence is needed: a 95% z-interval checked after every record
    promotes the same at-the-margin candidate far more often than 5%."""
    rng = np.random.default_rng(11)
    promoted = 0
    for _ in range(RUNS):
        diff = rng.normal(-0.5, np.sqrt(2.0), size=400)  # paired records, sd of a difference
        n = np.arange(1, 401)
        mean = np.cumsum(diff) / n
        low = mean - 1.96 * np.sqrt(2.0) / np.sqrt(n)
        promoted += bool(np.any(low[19:] > -0.5))
    assert promoted / RUNS > 0.05 + MC


def test_a_good_candidate_is_promoted_with_the_planned_power():
    """Plan the budget with noninferiority_samples for 80% power, then measure it."""
    margin, sd = 0.5, 1.0
    needed = noninferiority_samples(margin, 0.0, sd, control_per_canary=1.0, design_samples=40)
    # the ramp's first stage sends 25% to the canary (3 control records per canary record),
    # the planning ratio 1 of the last stage is optimistic for it: budget the slower stage
    budget = noninferiority_samples(margin, 0.0, sd, control_per_canary=1.0 / 3.0,
                                    design_samples=40)
    assert budget > needed
    out = canary_outcomes(_make(max_stage=budget), candidate_mean=0.0, control_mean=0.0, sd=sd,
                          runs=RUNS, seed=12)
    assert out.rates()["promoted"] >= 0.80 - 3 * np.sqrt(0.8 * 0.2 / RUNS)


def test_an_equal_candidate_is_rolled_back_at_most_alpha_of_the_time():
    budget = noninferiority_samples(0.5, 0.0, 1.0, power=0.99, control_per_canary=1 / 3,
                                    design_samples=40)
    out = canary_outcomes(_make(max_stage=budget), candidate_mean=0.0, control_mean=0.0, sd=1.0,
                          runs=RUNS, seed=13)
    assert out.rates()["rolled_back"] <= 0.05 + MC


def test_an_always_hold_candidate_against_a_profitable_control_is_rolled_back():
    """Holding earns exactly 0 (no spread), production earns 1 per record on average."""
    def make():
        guard = Guard("pnl", -0.5, "at_least", min_samples=20, relative=True)
        return Canary(len, len, guards=[guard], ramp=(0.05, 0.25), stage_samples=40)

    rng = np.random.default_rng(14)
    for _ in range(50):
        canary = make()
        state, records = run_canary(
            canary, lambda arm: {"pnl": 0.0 if arm == "canary" else rng.normal(1.0, 1.0)}, rng)
        assert state == "rolled_back" and "breaches" in canary.events[-1]["reason"]


def test_a_bad_candidate_is_rolled_back_sooner_than_a_fixed_horizon_test_decides():
    budget = noninferiority_samples(0.5, 0.0, 1.0, control_per_canary=1 / 3, design_samples=40)
    out = canary_outcomes(_make(max_stage=budget), candidate_mean=-1.5, control_mean=0.0, sd=1.0,
                          runs=100, seed=15)
    assert out.rates()["rolled_back"] == 1.0 and out.inconclusive == 0
    assert out.median_canary_records < budget / 4


def test_run_canary_refuses_to_wait_forever():
    canary = Canary(len, len, guards=[Guard("m", 0.0, "at_least")], ramp=(0.5,))
    with pytest.raises(InvalidStateError, match="still running after 50 records"):
        run_canary(canary, lambda arm: {"m": 0.0}, np.random.default_rng(0), max_records=50)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(guards=[]), InvalidValueError, r"^guards must"),
        (dict(guards=["m"]), InvalidTypeError, r"^guards must"),
        (dict(guards=Guard("m", 1.0)), InvalidTypeError, r"^guards must be a sequence"),
        (dict(ramp=(0.5, 0.2)), InvalidValueError, r"^ramp must be strictly increasing"),
        (dict(ramp=()), InvalidValueError, r"^ramp must"),
        (dict(ramp=(0.0,)), InvalidValueError, r"^ramp\[0\] must"),
        (dict(ramp=(1.5,)), InvalidValueError, r"^ramp\[0\] must be a finite number in \(0, 1\]"),
        (dict(ramp=(0.2, True)), InvalidTypeError, r"^ramp\[1\] must"),
        (dict(ramp=0.5), InvalidTypeError, r"^ramp must be a sequence"),
        (dict(stage_samples=0), InvalidValueError, r"^stage_samples must"),
        (dict(stage_samples=True), InvalidTypeError, r"^stage_samples must"),
        (dict(stage_samples=50, max_stage_samples=40), InvalidValueError,
         r"^max_stage_samples must be at least stage_samples \(50\), got 40"),
        (dict(max_stage_samples=0), InvalidValueError, r"^max_stage_samples must"),
        (dict(max_stage_samples=2.5), InvalidTypeError, r"^max_stage_samples must"),
        (dict(max_events=0), InvalidValueError, r"^max_events must"),
        (dict(salt=3), InvalidTypeError, r"^salt must"),
        (dict(control=None), InvalidTypeError, r"^control must be callable"),
        (dict(candidate="v2"), InvalidTypeError, r"^candidate must be callable"),
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
        (dict(metric=""), InvalidValueError, r"^metric must"),
        (dict(metric=3), InvalidTypeError, r"^metric must"),
        (dict(bound=math.nan), InvalidValueError, r"^bound must"),
        (dict(bound=True), InvalidTypeError, r"^bound must"),
        (dict(bound="1"), InvalidTypeError, r"^bound must"),
        (dict(direction="below"), InvalidValueError, r"^direction must"),
        (dict(min_samples=1), InvalidValueError, r"^min_samples must"),
        (dict(min_samples=2.0), InvalidTypeError, r"^min_samples must"),
        (dict(relative=1), InvalidTypeError, r"^relative must"),
        (dict(alpha=0.0), InvalidValueError, r"^alpha must"),
        (dict(alpha=1.0), InvalidValueError, r"^alpha must"),
        (dict(alpha=math.nan), InvalidValueError, r"^alpha must"),
        (dict(alpha="0.05"), InvalidTypeError, r"^alpha must"),
    ],
)
def test_guard_rejects_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message) as info:
        Guard(**{"metric": "m", "bound": 1.0, **kwargs})
    assert isinstance(info.value, Error) and isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    "direction, low, high, verdict",
    [("at_most", 0.2, 0.9, "holds"), ("at_most", 0.2, 1.0, "holds"), ("at_most", 0.5, 1.5,
     "inconclusive"), ("at_most", 1.01, 2.0, "breached"), ("at_least", 1.0, 2.0, "holds"),
     ("at_least", 0.5, 1.5, "inconclusive"), ("at_least", -1.0, 0.99, "breached")],
)
def test_guard_judges_an_interval_against_its_bound(direction, low, high, verdict):
    assert Guard("m", 1.0, direction).judge(low, high) == verdict


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
    canary = Canary(len, len, guards=[Guard("m", 1.0, min_samples=2)], ramp=(0.5,))
    with pytest.raises(error, match=message) as info:
        canary.record(arm, metrics)
    assert isinstance(info.value, Error) and isinstance(info.value, ValueError)
    assert canary.samples("canary") == canary.samples("control") == 0
    assert canary.state == "running"


def test_numpy_metric_values_are_accepted():
    canary = Canary(len, len, guards=[Guard("m", 1.0, min_samples=2)], ramp=(0.5,))
    canary.record("canary", {"m": np.float32(0.5)})
    canary.record("canary", {"m": np.int64(1)})
    assert canary.interval(canary.guards[0]).estimate == 0.75


def test_a_manual_rollback_sends_everything_to_control_and_is_final():
    canary = Canary(len, len, guards=[Guard("m", 1.0)], ramp=(0.5,))
    assert canary.rollback("latency alert") == "rolled_back"
    assert canary.events[-1]["reason"] == "manual: latency alert"
    assert canary.record("canary", {"m": 0.0}) == "rolled_back" and canary.fraction == 0.0
    with pytest.raises(InvalidValueError, match="reason"):
        canary.rollback("")


def test_each_key_joins_the_canary_by_its_salted_hash_and_acts_on_the_observation():
    canary = Canary(lambda obs: ("old", obs), lambda obs: ("new", obs), ramp=(0.5,),
                    guards=[Guard("m", 1.0)], salt="release-2")
    keys = [f"user-{n}" for n in range(200)]
    arms = [canary.arm_for(key) for key in keys]
    assert arms == ["canary" if assign_fraction(key, "release-2") < 0.5 else "control"
                    for key in keys]
    assert 80 < arms.count("canary") < 120
    for key in keys[:10]:
        action, arm = canary.act(key, [1.0])
        assert action == ("new" if arm == "canary" else "old", [1.0])


@pytest.mark.parametrize(
    "call, error, message",
    [(lambda c: c.rollback(""), InvalidValueError, r"^reason must be a non-empty string"),
     (lambda c: c.samples("x"), InvalidValueError, r"^arm must be one of 'control', 'canary'"),
     (lambda c: assign_fraction(7, "s"), InvalidTypeError,
      r"^key and salt must be strings, got int and str$"),
     (lambda c: assign_fraction("k", None), InvalidTypeError,
      r"^key and salt must be strings, got str and NoneType$")],
)
def test_refusals_name_the_argument(call, error, message):
    canary = Canary(len, len, guards=[Guard("m", 1.0)], ramp=(0.5,))
    with pytest.raises(error, match=message):
        call(canary)
    assert canary.state == "running"


def test_an_interval_touching_the_bound_is_not_a_breach():
    assert Guard("m", 1.0).judge(1.0, 2.0) == "inconclusive"
    assert Guard("m", 1.0, "at_least").judge(0.0, 1.0) == "inconclusive"


def test_each_guard_has_its_own_interval_and_equal_records_give_zero_width():
    guards = [Guard("a", 10.0, min_samples=2), Guard("b", 10.0, min_samples=2)]
    canary = Canary(len, len, guards=guards, ramp=(0.5,), stage_samples=100)
    alone = Canary(len, len, guards=[Guard("b", 10.0, min_samples=2)], ramp=(0.5,),
                   stage_samples=100)
    assert canary.verdicts() == {"a at_most 10": "waiting", "b at_most 10": "waiting"}
    for a, b in [(0.0, 1.0), (0.1, 3.0), (0.2, 2.0), (0.3, 6.0)]:
        canary.record("canary", {"a": a, "b": b})
        alone.record("canary", {"b": b})
    assert canary.interval(guards[1]) == alone.interval(alone.guards[0])
    flat = Canary(len, len, guards=[Guard("m", 10.0, min_samples=2)], ramp=(0.5,))
    flat.record("canary", {"m": 3.0})
    flat.record("canary", {"m": 3.0})
    interval = flat.interval(flat.guards[0])
    assert (interval.estimate, interval.low, interval.high) == (3.0, 3.0, 3.0)


def test_the_event_log_records_each_stage_and_names_every_guard():
    guards = [Guard("a", 10.0, min_samples=2), Guard("b", 10.0, min_samples=2)]
    canary = Canary(len, len, guards=guards, ramp=(0.2, 0.5, 0.8), stage_samples=3)
    for _ in range(9):
        canary.record("canary", {"a": 1.0, "b": 2.0})
    assert [(e["event"], e["stage"], e["fraction"], e["samples"]) for e in canary.events] == [
        ("started", 0, 0.2, 0), ("ramped", 1, 0.5, 3), ("ramped", 2, 0.8, 6),
        ("promoted", 2, 1.0, 9)]
    assert canary.events[1]["reason"] == "fraction 0.5; every guard holds"
    assert canary.events[-1]["reason"] == ("a: canary mean 1 in [1, 1] holds at_most 10; "
                                           "b: canary mean 2 in [2, 2] holds at_most 10")
    breach = Canary(len, len, guards=[Guard("a", 0.5, min_samples=2),
                                      Guard("b", 0.5, min_samples=2)], ramp=(0.5,))
    for _ in range(2):
        breach.record("canary", {"a": 1.0, "b": 2.0})
    assert breach.events[-1]["reason"] == ("a: canary mean 1 in [1, 1] breaches at_most 0.5; "
                                           "b: canary mean 2 in [2, 2] breaches at_most 0.5")
    stuck = Canary(len, len, guards=guards, ramp=(0.5,), stage_samples=2, max_stage_samples=3)
    for value in (0.0, 20.0, 0.0):
        stuck.record("canary", {"a": value, "b": value})
    assert stuck.events[-1]["reason"] == ("inconclusive: a at_most 10, b at_most 10 not shown to "
                                          "hold after 3 canary records")
    with pytest.raises(InvalidTypeError, match=r"^metrics must be a dict .* got list$"):
        stuck.record("canary", [])


def test_an_inconclusive_rollback_names_only_the_guards_not_shown_to_hold():
    guards = [Guard("a", 10.0, min_samples=2), Guard("b", 10.0, min_samples=2)]
    canary = Canary(len, len, guards=guards, ramp=(0.5,), stage_samples=2, max_stage_samples=3)
    for b in (0.0, 20.0, 0.0):  # a is always 1: shown to hold; b's interval straddles 10
        canary.record("canary", {"a": 1.0, "b": b})
    assert canary.verdicts() == {"a at_most 10": "holds", "b at_most 10": "inconclusive"}
    assert canary.events[-1]["reason"] == ("inconclusive: b at_most 10 not shown to hold after 3 "
                                           "canary records")

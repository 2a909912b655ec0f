"""Deployment patterns: shadow, canary with automatic rollback, fallback chain, model registry."""

import hashlib
import json
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from rl_best_practices.circuit import CircuitBreaker
from rl_best_practices.deployment import (
    STAGES,
    AllPoliciesFailed,
    Canary,
    FallbackChain,
    Guard,
    ModelRegistry,
    ShadowDeployment,
    assign_fraction,
    config_hash,
)
from rl_best_practices.envs import MarketEnv


# -- shadow ---------------------------------------------------------------------------------
def test_shadow_returns_only_the_primary_action_and_logs_the_candidate():
    env = MarketEnv({"episode_length": 30})
    obs, _ = env.reset(seed=0)
    shadow = ShadowDeployment(lambda o: 1, lambda o: 2 if o[0] > 0 else 0, max_log=10)
    positions = []
    done = False
    while not done:
        obs, _, term, trunc, info = env.step(shadow.act(obs))
        positions.append(info["position"])
        done = term or trunc
    assert set(positions) == {0.0}  # holding only: the candidate never traded
    assert shadow.decisions == 30 and shadow.agreements == 0 and shadow.agreement_rate == 0.0
    assert len(shadow.log) == 10 and all(r["action"] == 1 for r in shadow.log)


def test_shadow_survives_a_crashing_or_mutating_candidate():
    def mutating(obs):
        obs[0] = 99.0
        raise RuntimeError("boom")

    seen = []
    shadow = ShadowDeployment(lambda o: seen.append(o[0]) or 1, mutating)
    obs = np.zeros(3)
    assert shadow.act(obs) == 1 and obs[0] == 0.0
    assert shadow.candidate_errors == 1 and "boom" in shadow.log[0]["error"]
    assert math.isnan(ShadowDeployment(len, len).agreement_rate)


def test_shadow_rejects_bad_arguments():
    with pytest.raises(TypeError, match="candidate"):
        ShadowDeployment(len, None)
    with pytest.raises(ValueError, match="max_log"):
        ShadowDeployment(len, len, max_log=0)


# -- canary ---------------------------------------------------------------------------------
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
    with pytest.raises(TypeError):
        assign_fraction(7)


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
    for n in range(19):
        assert canary.record("canary", {"error_rate": 1.0}) == "running"  # too few to judge
    assert canary.record("canary", {"error_rate": 1.0}) == "rolled_back"
    assert canary.fraction == 0.0 and canary.arm_for("anyone") == "control"
    assert canary.events[-1]["event"] == "rolled_back" and canary.events[-1]["samples"] == 20
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
    assert canary.record("canary", {"reward": 0.0}) == "rolled_back"
    assert "canary - control -1" in canary.events[-1]["reason"]


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(guards=[]), ValueError, "guards"),
        (dict(guards=["m"]), ValueError, "guards"),
        (dict(ramp=(0.5, 0.2)), ValueError, "ramp"),
        (dict(ramp=(0.0,)), ValueError, "ramp"),
        (dict(ramp=(1.5,)), ValueError, "ramp"),
        (dict(stage_samples=0), ValueError, "stage_samples"),
        (dict(salt=3), TypeError, "salt"),
    ],
)
def test_canary_rejects_bad_arguments(kwargs, error, message):
    args = dict(guards=[Guard("m", 1.0)], **kwargs) if "guards" not in kwargs else kwargs
    with pytest.raises(error, match=message):
        Canary(len, len, **args)


@pytest.mark.parametrize(
    "kwargs, message",
    [(dict(metric=""), "metric"), (dict(bound=math.nan), "bound"), (dict(direction="below"), "direction"),
     (dict(min_samples=0), "min_samples"), (dict(relative=1), "relative")],
)
def test_guard_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Guard(**{"metric": "m", "bound": 1.0, **kwargs})


def test_bad_records_raise_and_record_nothing():
    canary = Canary(len, len, guards=[Guard("m", 1.0, min_samples=1)], ramp=(0.5,))
    for arm, metrics, error in [("beta", {"m": 0.0}, ValueError), ("canary", {"other": 0.0}, ValueError),
                                ("canary", {"m": math.inf}, ValueError), ("canary", {"m": True}, ValueError),
                                ("canary", [("m", 0.0)], TypeError)]:
        with pytest.raises(error):
            canary.record(arm, metrics)
    assert canary.samples("canary") == 0 and canary.state == "running"


# -- fallback chain -------------------------------------------------------------------------
class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_chain_serves_the_primary_when_healthy():
    chain = FallbackChain([("primary", lambda o: 2), ("rules", lambda o: 1)])
    decision = chain.decide(None)
    assert (decision.action, decision.source, decision.failures) == (2, "primary", ())
    assert chain(None) == 2 and chain.counts == {"primary": 2, "rules": 0}


def test_chain_degrades_on_errors_invalid_actions_and_slowness_then_recovers():
    clock = FakeClock()
    healthy = {"primary": False}

    def primary(obs):
        if not healthy["primary"]:
            raise RuntimeError("model server down")
        return 2

    def previous(obs):
        clock.now += 0.05  # 50 ms: over the 20 ms budget
        return 0

    env = MarketEnv()
    chain = FallbackChain(
        [("primary", primary), ("previous", previous), ("nan", lambda o: 7), ("rules", lambda o: 1)],
        latency_budget_s=0.02, is_valid=env.action_space.contains, failure_threshold=2,
        cooldown_s=10.0, clock=clock,
    )
    first = chain.decide(None)
    assert first.source == "rules" and len(first.failures) == 3
    assert "model server down" in first.failures[0] and "budget" in first.failures[1]
    assert "invalid action 7" in first.failures[2]
    chain.decide(None)
    assert all(chain.breakers[n].state == "open" for n in ("primary", "previous", "nan"))
    assert "circuit open" in chain.decide(None).failures[0]
    assert chain.failures == {"primary": 2, "previous": 2, "nan": 2, "rules": 0}
    healthy["primary"] = True
    clock.now += 10.0  # cool-down over: a trial call closes the primary's circuit
    assert chain.decide(None).source == "primary"
    assert chain.breakers["primary"].state == "closed"


def test_chain_uses_the_shared_circuit_breaker():
    chain = FallbackChain([("a", len), ("b", len)])
    assert isinstance(chain.breakers["a"], CircuitBreaker) and "b" not in chain.breakers


def test_a_validator_that_raises_marks_the_action_invalid():
    chain = FallbackChain([("a", lambda o: "x"), ("b", lambda o: 1)], is_valid=lambda a: a + 1 > 0)
    decision = chain.decide(None)
    assert decision.source == "b" and "invalid action 'x'" in decision.failures[0]


def test_chain_raises_when_every_policy_fails():
    chain = FallbackChain([("a", lambda o: 1 / 0), ("b", lambda o: [][1])])
    with pytest.raises(AllPoliciesFailed, match="a raised ZeroDivisionError.*b raised IndexError"):
        chain.decide(None)


@pytest.mark.parametrize(
    "policies, kwargs, error, message",
    [
        ([], {}, ValueError, "at least one"),
        ([("a", 1)], {}, ValueError, "pair"),
        ([("a", len), ("a", len)], {}, ValueError, "unique"),
        ([("a", len)], dict(latency_budget_s=0), ValueError, "latency_budget_s"),
        ([("a", len)], dict(latency_budget_s=math.inf), ValueError, "latency_budget_s"),
        ([("a", len)], dict(is_valid=3), TypeError, "is_valid"),
        ([("a", len), ("b", len)], dict(failure_threshold=0), ValueError, "failure_threshold"),
    ],
)
def test_chain_rejects_bad_arguments(policies, kwargs, error, message):
    with pytest.raises(error, match=message):
        FallbackChain(policies, **kwargs)


# -- registry -------------------------------------------------------------------------------
def test_registry_lifecycle_persists_and_rolls_back(tmp_path):
    path = tmp_path / "models" / "registry.json"
    ticks = iter(range(100))
    reg = ModelRegistry(path, clock=lambda: float(next(ticks)))
    v1 = reg.register({"lr": 3e-4, "seed": 0}, {"return": 10.0}, artifact="ckpt/1")
    assert v1.stage == "candidate" and v1.config_hash == config_hash({"seed": 0, "lr": 3e-4})
    reg.promote(1, "canary")
    reg.promote(1, "production")
    v2 = reg.register({"lr": 1e-4, "seed": 0}, {"return": 12.0})
    reg.promote(2, "canary")
    reg.promote(2, "production", reason="canary passed")
    assert reg.get(1).stage == "archived" and reg.production().version == 2
    restored = reg.rollback(reason="live P&L dropped")
    assert restored.version == 1 and reg.get(2).stage == "archived"
    again = ModelRegistry(path)
    assert again.versions() == reg.versions()
    assert [s for s, _, _ in again.get(1).history] == ["candidate", "canary", "production",
                                                       "archived", "production"]
    assert again.get(1).history[-1][2] == "live P&L dropped"
    assert STAGES == ("candidate", "canary", "production", "archived")


def test_registry_rejects_bad_transitions_and_inputs_without_writing(tmp_path):
    reg = ModelRegistry(tmp_path / "r.json")
    reg.register({"a": 1}, {})
    before = (tmp_path / "r.json").read_text()
    with pytest.raises(ValueError, match="cannot move version 1 from 'candidate' to 'production'"):
        reg.promote(1, "production")
    with pytest.raises(ValueError, match="unknown stage"):
        reg.promote(1, "staging")
    with pytest.raises(KeyError, match="known versions"):
        reg.promote(9, "canary")
    with pytest.raises(ValueError, match="metrics"):
        reg.register({"a": 1}, {"return": math.nan})
    with pytest.raises(ValueError):
        reg.register({"a": math.inf}, {})
    with pytest.raises(TypeError):
        reg.register(["not", "a", "dict"], {})
    with pytest.raises(ValueError, match="nothing in production"):
        reg.rollback()
    assert (tmp_path / "r.json").read_text() == before and len(reg.versions()) == 1


def test_registry_detects_an_altered_config(tmp_path):
    reg = ModelRegistry(tmp_path / "r.json")
    reg.register({"lr": 0.1}, {})
    data = json.loads((tmp_path / "r.json").read_text())
    data["versions"][0]["config"]["lr"] = 0.2
    (tmp_path / "r.json").write_text(json.dumps(data))
    with pytest.raises(ValueError, match="altered config"):
        ModelRegistry(tmp_path / "r.json")


def test_registry_keeps_a_copy_of_the_config(tmp_path):
    config = {"lr": 0.1}
    reg = ModelRegistry(tmp_path / "r.json")
    reg.register(config, {})
    config["lr"] = 0.5
    reg.get(1).config["lr"] = 0.7
    reg.versions()[0].metrics["x"] = 1.0
    assert reg.get(1).config == {"lr": 0.1} and reg.get(1).metrics == {}


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


def test_shadow_compares_array_actions():
    shadow = ShadowDeployment(lambda o: np.array([1.0]), lambda o: np.array([1.0]))
    shadow.act(np.zeros(2))
    assert shadow.agreement_rate == 1.0


def test_registry_refuses_a_malformed_file(tmp_path):
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"kind": "model_registry", "versions": {"1": {}}}))
    with pytest.raises(ValueError, match="versions"):
        ModelRegistry(path)
    path.write_text(json.dumps({"kind": "model_registry", "versions": [{"version": 1}]}))
    with pytest.raises(ValueError, match="malformed"):
        ModelRegistry(path)

"""The fallback chain: degrade on errors, invalid actions and slowness; recover after cool-down."""

import math
import threading
import time

import pytest

from rl_best_practices.circuit import CircuitBreaker
from rl_best_practices.deployment import FallbackChain, FallbackDecision
from rl_best_practices.envs import MarketEnv
from rl_best_practices.errors import (
    AllPoliciesFailedError,
    Error,
    InvalidTypeError,
    InvalidValueError,
)


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_chain_serves_the_primary_when_healthy():
    chain = FallbackChain([("primary", lambda o: 2), ("rules", lambda o: 1)])
    decision = chain.decide(None)
    assert isinstance(decision, FallbackDecision)
    assert (decision.action, decision.source, decision.failures) == (2, "primary", ())
    assert chain(None) == 2 and chain.counts == {"primary": 2, "rules": 0}
    assert len(chain.log) == 2 and chain.log[0] is decision


def test_chain_degrades_on_errors_invalid_actions_and_slowness_then_recovers():
    clock = FakeClock()
    healthy = {"primary": False}

    def primary(obs):
        if not healthy["primary"]:
            raise RuntimeError("model server down")
        return 2

    def previous(obs):
        clock.now += 5.0  # 5 s on the fake clock: over the 1 s budget
        return 0

    env = MarketEnv()
    chain = FallbackChain(
        [("primary", primary), ("previous", previous), ("nan", lambda o: 7),
         ("rules", lambda o: 1)],
        latency_budget_s=1.0, is_valid=env.action_space.contains, failure_threshold=2,
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
    with pytest.raises(
        AllPoliciesFailedError, match="a raised ZeroDivisionError.*b raised IndexError"
    ) as info:
        chain.decide(None)
    assert isinstance(info.value, Error) and isinstance(info.value, RuntimeError)
    assert chain.failures == {"a": 1, "b": 1} and len(chain.log) == 0


@pytest.mark.parametrize(
    "policies, kwargs, error, message",
    [
        ([], {}, InvalidValueError, "at least one"),
        ([("a", 1)], {}, InvalidTypeError, "pair"),
        ([("a",)], {}, InvalidTypeError, "pair"),
        ([(1, len)], {}, InvalidTypeError, "pair"),
        ("ab", {}, InvalidTypeError, "policies must be a sequence"),
        ([("a", len), ("a", len)], {}, InvalidValueError, "unique"),
        ([("a", len)], dict(latency_budget_s=0), InvalidValueError, "latency_budget_s"),
        ([("a", len)], dict(latency_budget_s=math.inf), InvalidValueError, "latency_budget_s"),
        ([("a", len)], dict(latency_budget_s=True), InvalidTypeError, "latency_budget_s"),
        ([("a", len)], dict(is_valid=3), InvalidTypeError, "is_valid"),
        ([("a", len)], dict(clock=0.0), InvalidTypeError, "clock"),
        ([("a", len)], dict(max_log=0), InvalidValueError, "max_log"),
        ([("a", len), ("b", len)], dict(failure_threshold=0), InvalidValueError,
         "failure_threshold"),
        # a single policy builds no breaker, but its settings are still checked
        ([("a", len)], dict(failure_threshold=True), InvalidTypeError, "failure_threshold"),
        ([("a", len)], dict(cooldown_s=-1.0), InvalidValueError, "cooldown_s"),
    ],
)
def test_chain_rejects_bad_arguments(policies, kwargs, error, message):
    with pytest.raises(error, match=message) as info:
        FallbackChain(policies, **kwargs)
    assert isinstance(info.value, Error) and isinstance(info.value, ValueError)


def test_the_latency_budget_is_a_deadline_a_late_answer_is_never_used():
    """A policy that sleeps 1 s behind a 50 ms budget: the chain answers from the next policy
    long before the sleeper returns, and the sleeper's late action is not used."""
    returned = []

    def sleeper(obs):
        time.sleep(1.0)
        returned.append("late")
        return 2

    chain = FallbackChain([("model", sleeper), ("rules", lambda obs: 1)], latency_budget_s=0.05,
                          failure_threshold=5)
    start = time.perf_counter()
    decision = chain.decide([0.0])
    waited = time.perf_counter() - start
    assert decision.action == 1 and decision.source == "rules"
    assert "model missed its 0.05 s deadline" in decision.failures[0]
    assert waited < 0.5 and returned == []  # answered before the sleeper even finished
    time.sleep(1.2)
    assert returned == ["late"] and chain.counts == {"model": 0, "rules": 1}


def test_without_a_budget_the_policy_runs_in_the_callers_thread():

    seen = []
    chain = FallbackChain([("model", lambda obs: seen.append(threading.current_thread()) or 1)])
    chain.decide(None)
    assert seen == [threading.current_thread()]

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


def test_every_policy_but_the_last_sits_behind_a_circuit_breaker():
    chain = FallbackChain([("a", len), ("b", len)])
    assert isinstance(chain.breakers["a"], CircuitBreaker) and "b" not in chain.breakers


def test_a_validator_that_raises_marks_the_action_invalid():
    chain = FallbackChain([("a", lambda o: "x"), ("b", lambda o: 1)], is_valid=lambda a: a + 1 > 0)
    decision = chain.decide(None)
    assert decision.source == "b" and "invalid action 'x'" in decision.failures[0]


def test_chain_raises_when_every_policy_fails():
    chain = FallbackChain([("a", lambda o: 1 / 0), ("b", lambda o: [][1])])
    with pytest.raises(AllPoliciesFailedError, match=r"^every policy failed: a raised "
                       r"ZeroDivisionError: division by zero; b raised IndexError") as info:
        chain.decide(None)
    assert isinstance(info.value, Error) and isinstance(info.value, RuntimeError)
    assert chain.failures == {"a": 1, "b": 1} and len(chain.log) == 0


@pytest.mark.parametrize(
    "policies, kwargs, error, message",
    [
        ([], {}, InvalidValueError,
         r"^policies must hold at least one \(name, policy\) pair, got none$"),
        ([("a", 1)], {}, InvalidTypeError, "pair"),
        ([("a",)], {}, InvalidTypeError, "pair"),
        ([(1, len)], {}, InvalidTypeError, "pair"),
        ("ab", {}, InvalidTypeError, r"^policies must be a sequence .* pairs, got str$"),
        (5, {}, InvalidTypeError, r"^policies must be a sequence .* pairs, got int$"),
        ([("a", len), ("a", len)], {}, InvalidValueError, "unique"),
        ([("a", len)], dict(latency_budget_s=0), InvalidValueError,
         r"^latency_budget_s must be a finite number > 0"),
        ([("a", len)], dict(latency_budget_s=math.inf), InvalidValueError, "latency_budget_s"),
        ([("a", len)], dict(latency_budget_s=True), InvalidTypeError, "latency_budget_s"),
        ([("a", len)], dict(is_valid=3), InvalidTypeError, r"^is_valid must be callable"),
        ([("a", len)], dict(clock=0.0), InvalidTypeError, r"^clock must be callable"),
        ([("a", len)], dict(max_log=0), InvalidValueError, r"^max_log must be an integer >= 1"),
        ([("a", len)], dict(max_workers=0), InvalidValueError,
         r"^max_workers must be an integer >= 1, got 0$"),
        ([("a", len), ("b", len)], dict(failure_threshold=0), InvalidValueError,
         "failure_threshold"),
        # a single policy builds no breaker, but its settings are still checked
        ([("a", len)], dict(failure_threshold=True), InvalidTypeError, "failure_threshold"),
        ([("a", len)], dict(failure_threshold=0), InvalidValueError,
         r"^failure_threshold must be an integer >= 1, got 0$"),
        ([("a", len)], dict(cooldown_s=-1.0), InvalidValueError, "cooldown_s"),
        ([("a", len)], dict(cooldown_s=0.0), InvalidValueError,
         r"^cooldown_s must be a finite number > 0, got 0.0$"),
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


@pytest.mark.parametrize("budget", [None, 1.0])
def test_every_policy_sees_the_observation(budget):
    seen = []

    def primary(obs):
        seen.append((obs, threading.current_thread().name))
        raise RuntimeError("down")

    chain = FallbackChain([("primary", primary), ("echo", lambda obs: obs)],
                          latency_budget_s=budget)
    assert chain([1.0, 2.0]) == [1.0, 2.0]
    assert seen[0][0] == [1.0, 2.0]
    if budget is not None:  # deadline calls run in the chain's own worker threads
        assert seen[0][1].startswith("fallback_")


def test_by_default_three_failures_open_a_policys_circuit_for_thirty_seconds():
    clock = FakeClock()
    chain = FallbackChain([("model", lambda obs: 1 / 0), ("rules", lambda obs: 1)], clock=clock)
    for _ in range(3):
        chain.decide(None)
    assert chain.failures["model"] == 3 and chain.breakers["model"].state == "open"
    clock.now = 29.9
    assert chain.decide(None).failures == ("model skipped: circuit open",)
    clock.now = 30.0
    assert "ZeroDivisionError" in chain.decide(None).failures[0]  # the trial call


def test_the_smallest_settings_are_accepted():
    chain = FallbackChain([("model", lambda obs: 1 / 0), ("rules", lambda obs: 1)],
                          failure_threshold=1, cooldown_s=0.5, max_log=1, clock=FakeClock())
    chain.decide(None)
    chain.decide(None)
    assert chain.breakers["model"].state == "open" and len(chain.log) == 1


def test_the_log_keeps_the_latest_thousand_decisions_by_default():
    chain = FallbackChain([("rules", lambda obs: obs)])
    for n in range(1001):
        chain.decide(n)
    assert len(chain.log) == 1000 and chain.log[0].action == 1


def test_a_decision_reports_the_seconds_it_took():
    clock = FakeClock()
    clock.now = 100.0

    def model(obs):
        clock.now += 0.25
        return 1

    assert FallbackChain([("model", model)], clock=clock).decide(None).seconds == 0.25


def test_an_answer_exactly_at_the_budget_is_in_time():
    clock = FakeClock()

    def model(obs):
        clock.now += 1.0
        return 2

    chain = FallbackChain([("model", model), ("rules", lambda obs: 1)], latency_budget_s=1.0,
                          clock=clock)
    assert chain.decide(None).source == "model"


@pytest.mark.parametrize("workers, held", [(1, 0), (None, 3)])
def test_hung_calls_hold_worker_threads_until_the_pool_is_spent(workers, held):
    """Each hung call holds a worker: with every worker held but one, the primary's next call
    takes that last one and the rules find none free, so the chain fails (4 workers by
    default)."""
    release = threading.Event()

    def hung(obs):
        release.wait(5.0)
        return 2

    kwargs = {} if workers is None else {"max_workers": workers}
    chain = FallbackChain([("model", hung), ("rules", lambda obs: 1)], latency_budget_s=0.1,
                          failure_threshold=100, **kwargs)
    try:
        for _ in range(held):
            assert chain.decide(None).source == "rules"
        with pytest.raises(AllPoliciesFailedError, match="rules missed its 0.1 s deadline"):
            chain.decide(None)
    finally:
        release.set()

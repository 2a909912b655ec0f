"""latency_check times the real decision path and fails a slow one."""

import time

import pytest

from rl_best_practices import ProductionChecklist
from rl_best_practices.checklist.checks import latency_check
from rl_best_practices.deployment import FallbackChain
from rl_best_practices.errors import Error, InvalidTypeError, InvalidValueError


def test_a_fast_path_passes_and_reports_both_percentiles():
    passed, detail = latency_check(lambda obs: 1, [[0.0]] * 100, p50_budget_s=0.01,
                                   p99_budget_s=0.05)()
    assert passed and detail.startswith("p50 ") and "p99 " in detail and "100 decisions" in detail


def test_a_slow_policy_behind_the_fallback_chain_fails_the_check():
    """The check times the chain, not the policy alone: a 5 ms policy makes the path slow."""
    def slow_policy(obs):
        time.sleep(0.005)
        return 1

    chain = FallbackChain([("model", slow_policy), ("rules", lambda obs: 1)])
    passed, detail = latency_check(chain, [[0.0]] * 20, p50_budget_s=0.002, p99_budget_s=0.004)()
    assert not passed and "budget 2" in detail


def test_the_p99_budget_catches_a_rare_slow_call():
    calls = [0]

    def sometimes_slow(obs):
        calls[0] += 1
        if calls[0] % 20 == 0:
            time.sleep(0.01)

    passed, _ = latency_check(sometimes_slow, [[0.0]] * 100, p50_budget_s=0.005,
                              p99_budget_s=0.005)()
    assert not passed


def test_a_raising_path_fails_the_gate_closed():
    gate = ProductionChecklist(clock=lambda: 0.0)
    gate.register_check("evaluation", "Latency within budget",
                        latency_check(lambda obs: 1 / 0, [[0.0]] * 5, p50_budget_s=1.0,
                                      p99_budget_s=1.0))
    evidence = gate.run_checks()["evaluation"]["Latency within budget"]
    assert not evidence.passed and "ZeroDivisionError" in evidence.note


@pytest.mark.parametrize(
    "kwargs, error, message",
    [(dict(observations=[[0.0]]), InvalidValueError, "at least 2 observations"),
     (dict(p50_budget_s=0.0), InvalidValueError, "p50_budget_s"),
     (dict(p99_budget_s=0.0001), InvalidValueError, "must be at least p50_budget_s"),
     (dict(decide=None), InvalidTypeError, "decide")],
)
def test_bad_arguments_are_refused(kwargs, error, message):
    args = {"decide": len, "observations": [[0.0]] * 3, "p50_budget_s": 0.001,
            "p99_budget_s": 0.01, **kwargs}
    with pytest.raises(error, match=message) as info:
        latency_check(args.pop("decide"), args.pop("observations"), **args)
    assert isinstance(info.value, Error)

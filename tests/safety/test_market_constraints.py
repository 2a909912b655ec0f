"""The course market's constraints and fallback for the safety layer (lesson 02)."""

import numpy as np
import pytest

from rl_best_practices.envs import MarketEnv
from rl_best_practices.errors import InvalidTypeError, InvalidValueError
from rl_best_practices.safety import (
    SafetyLayer,
    market_state,
    position_limit,
    reduce_position,
    var_limit,
)


def test_market_constraints_and_fallback():
    assert position_limit(100)(-10.0, {"position": -95})[0] is False
    over = {"position": 100.0, "var_per_unit": 2.0}  # VaR 200 over a limit of 150
    check = var_limit(150, exit_step=10)
    assert check(0.0, over)[0] is False  # holding an over-limit position fails
    assert check(-5.0, over)[0] is False  # a token reduction fails
    assert check(-10.0, over) == (True, None)  # the full exit step passes
    assert reduce_position(10)({"position": 3.0}) == -3.0
    for factory in (position_limit, var_limit, reduce_position):
        with pytest.raises(InvalidValueError, match="finite number > 0"):
            factory(0)


FACTORIES = [
    (position_limit, "max_position"),
    (var_limit, "max_var"),
    (lambda value: var_limit(150, exit_step=value), "exit_step"),
    (reduce_position, "max_trade"),
]


@pytest.mark.parametrize("factory, name", FACTORIES)
@pytest.mark.parametrize("value", [True, "100", None, [100]])
def test_limits_refuse_wrong_types(factory, name, value):
    with pytest.raises(InvalidTypeError, match=f"{name} must be a finite number > 0") as info:
        factory(value)
    assert isinstance(info.value, TypeError) and isinstance(info.value, ValueError)


@pytest.mark.parametrize("factory, name", FACTORIES)
@pytest.mark.parametrize("value", [0, -1.0, float("inf"), float("nan")])
def test_limits_refuse_values_out_of_range(factory, name, value):
    with pytest.raises(InvalidValueError, match=f"{name} must be a finite number > 0") as info:
        factory(value)
    assert not isinstance(info.value, TypeError)


def test_limits_accept_numpy_numbers():
    assert position_limit(np.int64(100))(np.float32(5.0), {"position": 95.0}) == (True, None)
    assert reduce_position(np.float64(2.5))({"position": 10.0}) == -2.5


def test_constraints_carry_their_names_into_the_layer():
    layer = SafetyLayer(constraint_functions=[position_limit(100), var_limit(150)],
                        fallback_policy=reduce_position(10))
    assert list(layer.constraints) == ["position_limit", "var_limit"]
    assert reduce_position(10).__name__ == "reduce_position"


def test_market_state_reads_position_and_value_at_risk():
    env = MarketEnv({"action_type": "continuous"})
    env.reset(seed=0)
    env.step(np.array([4.0], dtype=np.float32))
    state = market_state(env)
    assert state["position"] == 4.0
    assert state["var"] == pytest.approx(4.0 * state["var_per_unit"])

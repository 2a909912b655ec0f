"""The course market's constraints and fallback, for the safety layer (lesson 02).

For :class:`~rl_best_practices.envs.MarketEnv`: :func:`market_state` (what the constraints read
from the env), the constraints :func:`position_limit` and :func:`var_limit`, and the fallback
policy :func:`reduce_position`. Each factory validates its limit once and returns a plain
function with the limit's name, so the layer's counters and reasons name it.

>>> from rl_best_practices.safety.layer import SafetyLayer
>>> layer = SafetyLayer((-10, 10), [position_limit(100), var_limit(150)], reduce_position(10))
>>> layer.filter_action(10.0, {"position": 95.0, "var_per_unit": 1.0})
5.0
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import gymnasium as gym
import numpy as np

from rl_best_practices.safety.constraints import Constraint
from rl_best_practices.validation import check_number

__all__ = ["market_state", "position_limit", "reduce_position", "var_limit"]


def market_state(env: gym.Env) -> dict[str, float]:
    """What the market constraints read from a :class:`~rl_best_practices.envs.MarketEnv`.

    ``position``, ``var`` (its current one-step 95% VaR) and ``var_per_unit`` (the VaR of one
    unit; VaR is proportional to ``|position|``, so the VaR after a trade is known in advance).

    >>> from rl_best_practices.envs import MarketEnv
    >>> env = MarketEnv(); _ = env.reset(seed=0)
    >>> market_state(env)
    {'position': 0.0, 'var': 0.0, 'var_per_unit': 1.6448536269514722}
    """
    market = env.unwrapped
    return {"position": float(market.position), "var": float(market.value_at_risk()),
            "var_per_unit": float(market.value_at_risk(1.0))}


def _trade(action: Any) -> float:
    """The traded units of a scalar action or a one-element array."""
    if isinstance(action, float):
        return action
    return float(np.asarray(action, dtype=np.float64).reshape(-1)[0])


def position_limit(max_position: float) -> Constraint:
    """A constraint: ``|position + trade| <= max_position`` (reads ``state["position"]``).

    >>> position_limit(100)(np.array([10.0]), {"position": 95})
    (False, 'position 105.0 would exceed the limit 100.0')
    """
    limit = check_number("max_position", max_position, minimum=0, low_open=True)

    def position_limit(action: Any, state: Mapping[str, float]) -> tuple[bool, str | None]:
        new = state["position"] + _trade(action)
        if abs(new) > limit:
            return False, f"position {new:.1f} would exceed the limit {limit:.1f}"
        return True, None

    return position_limit


def var_limit(max_var: float, exit_step: float = 10.0) -> Constraint:
    """A constraint on the value-at-risk *after* the trade (not the current one).

    Passes when ``var_per_unit * |position + trade| <= max_var``. When the position is already
    over the limit (volatility rose), holding fails; a trade that cuts ``|position|`` by at least
    ``exit_step`` (or to flat) passes, so a way back under the limit always exists.

    >>> c = var_limit(150)
    >>> c(5.0, {"position": 90, "var_per_unit": 1.645})
    (False, 'VaR 156.3 after the trade would exceed the limit 150.0')
    >>> c(-10.0, {"position": 100, "var_per_unit": 2.0})
    (True, None)
    """
    limit = check_number("max_var", max_var, minimum=0, low_open=True)
    step = check_number("exit_step", exit_step, minimum=0, low_open=True)

    def var_limit(action: Any, state: Mapping[str, float]) -> tuple[bool, str | None]:
        position = state["position"]
        new = position + _trade(action)
        var = state["var_per_unit"] * abs(new)
        if var <= limit or abs(new) <= max(abs(position) - step, 0.0):
            return True, None
        return False, f"VaR {var:.1f} after the trade would exceed the limit {limit:.1f}"

    return var_limit


def reduce_position(max_trade: float = 10.0) -> Callable[[Mapping[str, float]], float]:
    """A fallback policy: trade towards flat by at most ``max_trade`` units.

    >>> reduce_position(10)({"position": 95.0}), reduce_position(10)({"position": -4.0})
    (-10.0, 4.0)
    """
    step = check_number("max_trade", max_trade, minimum=0, low_open=True)

    def reduce_position(state: Mapping[str, float]) -> float:
        return float(-np.clip(state["position"], -step, step))

    return reduce_position

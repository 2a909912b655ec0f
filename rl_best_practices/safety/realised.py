"""A safety layer judged by the world: realised VaR breaches and P&L across margins (lesson 02).

The layer checks a trade's value-at-risk with the volatility the market knows *before* the
price moves; after the step the market reports its VaR with the volatility *updated by that
move*. A **realised breach** is a step that ends with the market's own VaR above the limit: a
layer that never executes a trade failing its checks can still breach the limit in the world.
A safety margin checks against ``var_cap * (1 - margin)`` instead, buying breaches down at a
cost in P&L. :func:`realised_breaches` measures one filter on seeded episodes of
:class:`~rl_best_practices.envs.MarketEnv`; :func:`margin_sweep` measures the trade-off over
margins with :func:`margin_layer`, every margin on the same episodes (so P&L differences can be
paired by episode).

>>> sweep = margin_sweep([0.0, 0.2], seeds=range(2))
>>> [round(float(breaches.mean()), 3) for _, breaches in sweep.values()]
[0.135, 0.0]
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from rl_best_practices.envs import MarketEnv
from rl_best_practices.errors import InvalidValueError
from rl_best_practices.safety.layer import SafetyLayer
from rl_best_practices.safety.market import (
    market_state,
    position_limit,
    reduce_position,
    var_limit,
)
from rl_best_practices.validation import check_callable, check_int, check_number

__all__ = ["margin_layer", "margin_sweep", "realised_breaches", "signal_trader"]

CONFIG = {"action_type": "continuous", "episode_length": 200}
"""The lesson's market: continuous trades, 200 steps per episode."""


def signal_trader(max_trade: float = 10.0) -> Callable[[Any], np.ndarray]:
    """A policy that pushes against the limits: buy ``max_trade`` when the signal (``obs[0]``)
    is positive, sell it otherwise.

    >>> signal_trader(10)(np.array([0.3, 0.0]))
    array([10.])
    """
    size = check_number("max_trade", max_trade, minimum=0, low_open=True)

    def signal_trader(obs: Any) -> np.ndarray:
        return np.array([size if obs[0] > 0 else -size])

    return signal_trader


def margin_layer(margin: float, *, position_cap: float = 100.0, var_cap: float = 150.0,
                 max_trade: float = 10.0, clock: Callable[[], float] = time.time) -> SafetyLayer:
    """The lesson's layer checking VaR against ``var_cap * (1 - margin)``: position limit,
    VaR limit with its reduce-only exit, and the :func:`reduce_position` fallback.

    >>> margin_layer(0.2).filter_action(10.0, {"position": 70.0, "var_per_unit": 1.5})
    10.0
    >>> margin_layer(0.2).filter_action(10.0, {"position": 75.0, "var_per_unit": 1.5})
    5.0
    """
    margin = check_number("margin", margin, minimum=0, maximum=1, high_open=True)
    var_cap = check_number("var_cap", var_cap, minimum=0, low_open=True)
    return SafetyLayer((-max_trade, max_trade),
                       [position_limit(position_cap),
                        var_limit(var_cap * (1 - margin), exit_step=max_trade)],
                       reduce_position(max_trade), clock=clock)


def _seeds(seeds: Iterable[int]) -> list[int]:
    out = [check_int("seed", seed, minimum=0) for seed in seeds]
    if not out:
        raise InvalidValueError("seeds must hold at least one episode seed")
    return out


def realised_breaches(filter_fn: Callable[[Any, dict[str, float]], Any], seeds: Iterable[int],
                      *, var_cap: float = 150.0, policy: Callable[[Any], Any] | None = None,
                      config: dict[str, Any] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per seeded episode: the P&L, and the share of steps ending with the market's VaR above
    ``var_cap``, when ``policy``'s proposals (default :func:`signal_trader`) go through
    ``filter_fn(action, state)`` (for example a layer's ``filter_action``).

    >>> pnl, breaches = realised_breaches(lambda action, state: action, seeds=[0])
    >>> pnl.shape, float(breaches[0]) > 0.5          # no filter: mostly over the limit
    ((1,), True)
    """
    filter_fn = check_callable("filter_fn", filter_fn)
    var_cap = check_number("var_cap", var_cap, minimum=0, low_open=True)
    policy = signal_trader() if policy is None else check_callable("policy", policy)
    env = MarketEnv(dict(CONFIG if config is None else config))
    pnl, breaches = [], []
    for seed in _seeds(seeds):
        obs, _ = env.reset(seed=seed)
        total = over = steps = 0
        done = False
        while not done:
            obs, reward, terminated, truncated, info = env.step(
                filter_fn(policy(obs), market_state(env)))
            total, over, steps = total + reward, over + (info["var"] > var_cap), steps + 1
            done = terminated or truncated
        pnl.append(total)
        breaches.append(over / steps)
    return np.array(pnl, dtype=np.float64), np.array(breaches, dtype=np.float64)


def margin_sweep(margins: Sequence[float], seeds: Iterable[int], *, var_cap: float = 150.0,
                 **kwargs: Any) -> dict[float, tuple[np.ndarray, np.ndarray]]:
    """``margin -> (P&L per episode, breach share per episode)`` for :func:`margin_layer`
    at each margin, all on the same seeded episodes; ``kwargs`` go to
    :func:`realised_breaches` (``policy``, ``config``).

    >>> list(margin_sweep([0.1], seeds=[0]))
    [0.1]
    """
    if len(margins) == 0:
        raise InvalidValueError("margins must hold at least one margin")
    seeds = _seeds(seeds)
    return {float(m): realised_breaches(margin_layer(m, var_cap=var_cap).filter_action, seeds,
                                        var_cap=var_cap, **kwargs)
            for m in margins}

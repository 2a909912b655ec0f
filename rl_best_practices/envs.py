"""The course's market environment: one agent trading one asset.

Every lesson draws its examples from this small, seeded world instead of random numbers.

* A predictive **signal** follows an AR(1) process; the next price change is
  ``drift + signal_strength * signal + volatility * noise``.
* The agent **trades**: discrete actions sell, hold or buy ``trade_size`` units; the continuous
  variant trades any amount in ``[-max_trade, max_trade]``. The exchange clamps the position to
  ``±max_position``.
* The **reward** is the step's net P&L: ``position * price_change - cost * |trade|``.
* ``info`` carries what the later lessons need: ``pnl``, ``gross_pnl``, ``transaction_cost``,
  ``turnover``, ``position``, ``trade``, ``equity``, ``drawdown``, ``var`` (one-step 95%
  value-at-risk from an EWMA volatility estimate), ``signal``, ``price_change`` and ``regime``.
* An optional **regime switch** changes drift, volatility and signal strength from a given step
  on, a genuine distribution shift for the drift lesson.

The env is registered as ``"rl_best_practices/Market-v0"``.

>>> import gymnasium as gym
>>> env = gym.make("rl_best_practices/Market-v0", episode_length=5)
>>> obs, info = env.reset(seed=0)
>>> obs.shape, MarketEnv.OBSERVATION_NAMES[0]
((5,), 'signal')
>>> obs, reward, terminated, truncated, info = env.step(2)   # buy trade_size units
>>> info["position"]
10.0
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from rl_best_practices.errors import InvalidTypeError, InvalidValueError
from rl_best_practices.validation import check_choice, check_int, check_number

__all__ = [
    "ENV_ID",
    "MarketEnv",
    "MarketParams",
    "Regime",
    "episode_summaries",
    "evaluate_policy",
    "flat_policy",
    "random_policy",
]

ENV_ID = "rl_best_practices/Market-v0"

Z_95 = 1.6448536269514722  # one-sided 95% quantile of the standard normal
OBS_CLIP = 10.0  # observations are scaled to about unit size, then clipped to this bound


@dataclass(frozen=True)
class Regime:
    """Market dynamics that can change at the regime switch."""

    drift: float = 0.0
    volatility: float = 1.0
    signal_strength: float = 0.3


@dataclass(frozen=True)
class MarketParams:
    """Every setting of :class:`MarketEnv`, validated on construction."""

    episode_length: int = 200
    action_type: str = "discrete"
    trade_size: float = 10.0
    max_trade: float = 10.0
    max_position: float = 200.0
    transaction_cost: float = 0.05
    signal_persistence: float = 0.9
    regime: Regime = Regime()
    regime_switch_step: int | None = None
    switched_regime: Regime = Regime(drift=-0.05, volatility=2.0, signal_strength=0.05)
    vol_halflife: float = 20.0
    max_drawdown: float | None = None

    def __post_init__(self) -> None:
        check_int("episode_length", self.episode_length, minimum=1)
        check_choice("action_type", self.action_type, ("discrete", "continuous"))
        for name in ("trade_size", "max_trade", "max_position", "vol_halflife"):
            check_number(name, getattr(self, name), minimum=0, low_open=True)
        check_number("transaction_cost", self.transaction_cost, minimum=0)
        check_number("signal_persistence", self.signal_persistence, minimum=0, maximum=1,
                     high_open=True)
        for regime in (self.regime, self.switched_regime):
            check_number("a regime's volatility", regime.volatility, minimum=0, low_open=True)
            check_number("a regime's drift", regime.drift)
            check_number("a regime's signal_strength", regime.signal_strength)
        if self.regime_switch_step is not None:
            check_int("regime_switch_step", self.regime_switch_step, minimum=0)
        if self.max_drawdown is not None:
            check_number("max_drawdown", self.max_drawdown, minimum=0, low_open=True)

    @classmethod
    def from_config(cls, config: dict[str, Any] | None) -> MarketParams:
        """Build from a plain dict (as RLlib's ``env_config``); regimes may be dicts too."""
        config = dict(config or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(config) - known)
        if unknown:
            raise InvalidValueError(
                f"unknown market env settings {unknown}; allowed: {sorted(known)}"
            )
        for key in ("regime", "switched_regime"):
            if isinstance(config.get(key), dict):
                config[key] = replace(cls.__dataclass_fields__[key].default, **config[key])
        return cls(**config)

    def to_config(self) -> dict[str, Any]:
        """The plain-dict form, JSON-serialisable, that :meth:`from_config` reads back."""
        return asdict(self)


class MarketEnv(gym.Env):
    """A seeded single-asset trading environment (see the module docstring).

    Args:
        config: settings of :class:`MarketParams` as a dict (RLlib passes ``env_config``).
        **kwargs: the same settings as keyword arguments (``gym.make`` passes these).
    """

    metadata = {"render_modes": []}
    OBSERVATION_NAMES = ("signal", "position", "last_return", "recent_pnl", "drawdown")

    def __init__(self, config: dict[str, Any] | None = None, **kwargs: Any) -> None:
        self.params = MarketParams.from_config({**dict(config or {}), **kwargs})
        p = self.params
        if p.action_type == "discrete":
            self.action_space = spaces.Discrete(3)  # 0 sell, 1 hold, 2 buy
        else:
            self.action_space = spaces.Box(-p.max_trade, p.max_trade, shape=(1,), dtype=np.float32)
        self.observation_space = spaces.Box(
            -OBS_CLIP, OBS_CLIP, shape=(len(self.OBSERVATION_NAMES),), dtype=np.float32
        )
        self._ewma_decay = 0.5 ** (1.0 / p.vol_halflife)
        # Scales that keep observations near unit size.
        self._pnl_scale = p.max_position * p.regime.volatility / 10.0

    def is_switched(self, step: int) -> bool:
        """Whether the switched regime is in force at ``step`` (0-based)."""
        switch = self.params.regime_switch_step
        return switch is not None and step >= switch

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        p = self.params
        self._t = 0
        self._signal = float(self.np_random.normal())
        self._position = 0.0
        self._equity = 0.0
        self._peak_equity = 0.0
        self._last_return = 0.0
        self._recent_pnl = 0.0
        self._vol_estimate = p.regime.volatility
        # Draw the episode's noise up front: cheaper per step, same stream for the same seed.
        self._noise = self.np_random.standard_normal((p.episode_length, 2)).tolist()
        return self._observation(), {"position": 0.0, "equity": 0.0, "drawdown": 0.0,
                                     "var": 0.0, "signal": self._signal}

    def _trade_for(self, action: Any) -> float:
        p = self.params
        if p.action_type == "discrete":
            if isinstance(action, np.ndarray) and action.shape == ():
                action = action.item()
            if isinstance(action, (bool, np.bool_)) or not isinstance(action, (int, np.integer)):
                raise InvalidTypeError(f"action must be an integer in {{0, 1, 2}}, got {action!r}")
            if not self.action_space.contains(int(action)):
                raise InvalidValueError(
                    f"action must be 0 (sell), 1 (hold) or 2 (buy), got {action!r}"
                )
            return (int(action) - 1) * p.trade_size
        message = (
            f"action must be one finite trade in [{-p.max_trade}, {p.max_trade}], got {action!r}"
        )
        try:
            arr = np.asarray(action, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError) as exc:
            raise InvalidTypeError(message) from exc
        if arr.shape != (1,) or not np.isfinite(arr[0]) or abs(arr[0]) > p.max_trade:
            raise InvalidValueError(message)
        return float(arr[0])

    def step(self, action: Any):
        p = self.params
        requested = self._trade_for(action)
        new_position = min(max(self._position + requested, -p.max_position), p.max_position)
        trade = new_position - self._position
        self._position = new_position

        switched = self.is_switched(self._t)
        regime = p.switched_regime if switched else p.regime
        price_noise, signal_noise = self._noise[self._t]
        price_change = (
            regime.drift + regime.signal_strength * self._signal + regime.volatility * price_noise
        )
        gross_pnl = self._position * price_change
        cost = p.transaction_cost * abs(trade)
        pnl = gross_pnl - cost

        self._equity += pnl
        self._peak_equity = max(self._peak_equity, self._equity)
        drawdown = self._peak_equity - self._equity
        self._last_return = price_change
        self._recent_pnl = 0.9 * self._recent_pnl + 0.1 * pnl
        d = self._ewma_decay
        self._vol_estimate = math.sqrt(d * self._vol_estimate**2 + (1 - d) * price_change**2)
        rho = p.signal_persistence
        self._signal = rho * self._signal + math.sqrt(1 - rho**2) * signal_noise
        self._t += 1

        terminated = p.max_drawdown is not None and drawdown >= p.max_drawdown
        truncated = not terminated and self._t >= p.episode_length
        info = {
            "pnl": pnl,
            "gross_pnl": gross_pnl,
            "transaction_cost": cost,
            "turnover": abs(trade),
            "trade": trade,
            "position": self._position,
            "equity": self._equity,
            "drawdown": drawdown,
            "var": self.value_at_risk(),
            "signal": self._signal,
            "price_change": price_change,
            "regime": "switched" if switched else "base",
        }
        return self._observation(), float(pnl), bool(terminated), bool(truncated), info

    def value_at_risk(self, position: float | None = None) -> float:
        """One-step 95% value-at-risk of ``position`` (default: the current one)."""
        pos = self._position if position is None else position
        return float(Z_95 * self._vol_estimate * abs(pos))

    @property
    def position(self) -> float:
        """The current position in units of the asset."""
        return self._position

    def _observation(self) -> np.ndarray:
        p = self.params
        base_vol = p.regime.volatility
        obs = np.array(
            [
                self._signal,
                self._position / p.max_position,
                self._last_return / base_vol,
                self._recent_pnl / self._pnl_scale,
                (self._peak_equity - self._equity) / (10.0 * self._pnl_scale),
            ],
            dtype=np.float32,
        )
        return np.clip(obs, -OBS_CLIP, OBS_CLIP, out=obs)


Policy = Callable[[np.ndarray], Any]


def flat_policy(env: MarketEnv) -> Policy:
    """The do-nothing baseline: never trades, so its return is exactly 0."""
    hold = 1 if env.params.action_type == "discrete" else np.zeros(1, dtype=np.float32)
    return lambda obs: hold


def random_policy(env: MarketEnv, seed: int) -> Policy:
    """Uniformly random actions from ``env``'s action space, seeded."""
    space = copy.deepcopy(env.action_space)
    space.seed(seed)
    return lambda obs: space.sample()


def episode_summaries(
    policy: Policy, seeds: Iterable[int], env_config: dict[str, Any] | None = None
) -> dict[str, np.ndarray]:
    """Run one episode per seed with ``policy(obs) -> action``; summarise each episode.

    Returns arrays, one entry per seed: ``return`` (sum of rewards), ``max_drawdown``,
    ``mean_abs_position``, ``turnover`` (units traded) and ``max_var``.

    >>> env = MarketEnv({"episode_length": 20})
    >>> episode_summaries(flat_policy(env), [1, 2], {"episode_length": 20})["max_drawdown"]
    array([0., 0.])
    """
    env = MarketEnv(env_config)
    keys = ("return", "max_drawdown", "mean_abs_position", "turnover", "max_var")
    rows = []
    for seed in seeds:
        obs, _ = env.reset(seed=int(seed))
        total = drawdown = abs_position = turnover = var = 0.0
        steps, done = 0, False
        while not done:
            obs, reward, terminated, truncated, info = env.step(policy(obs))
            total += reward
            drawdown = max(drawdown, info["drawdown"])
            abs_position += abs(info["position"])
            turnover += info["turnover"]
            var = max(var, info["var"])
            steps += 1
            done = terminated or truncated
        rows.append((total, drawdown, abs_position / steps, turnover, var))
    table = np.array(rows, dtype=float).reshape(-1, len(keys))
    return {key: table[:, i] for i, key in enumerate(keys)}


def evaluate_policy(
    policy: Policy, seeds: Iterable[int], env_config: dict[str, Any] | None = None
) -> np.ndarray:
    """The return of one episode per seed, acting with ``policy(obs) -> action``.

    >>> env = MarketEnv({"episode_length": 20})
    >>> evaluate_policy(flat_policy(env), seeds=[1, 2], env_config={"episode_length": 20})
    array([0., 0.])
    """
    return episode_summaries(policy, seeds, env_config)["return"]


if ENV_ID not in gym.registry:
    gym.register(id=ENV_ID, entry_point=MarketEnv)

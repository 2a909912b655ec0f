"""Reward shaping inside a Gymnasium env: components read from ``info``, written back for logs.

:class:`ShapedRewardWrapper` applies a :class:`~rl_best_practices.rewards.RewardShaper` inside an
env; :class:`rl_best_practices.rllib.RewardComponentsCallback` logs the components it writes
into ``info`` per episode to RLlib.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import gymnasium as gym

from rl_best_practices.errors import InvalidValueError
from rl_best_practices.rewards.potential import potential_shaping
from rl_best_practices.rewards.shaper import RewardShaper
from rl_best_practices.validation import check_number

__all__ = ["ShapedRewardWrapper"]

InfoReader = Callable[[Mapping[str, Any]], float]


class ShapedRewardWrapper(gym.Wrapper):
    """Apply a :class:`RewardShaper` inside an env.

    Components are read from the env's ``info`` after each step: ``components`` maps a component
    name to an ``info`` key or to a function of ``info``. With ``potential``, the term
    :func:`potential_shaping` of ``potential(observation)`` is added as the component
    ``"potential"`` (weight 1). ``info`` gains ``raw_reward``, ``reward_components`` (the values)
    and ``shaped_reward``.

    >>> from rl_best_practices.envs import MarketEnv
    >>> env = ShapedRewardWrapper(
    ...     MarketEnv({"episode_length": 3}), RewardShaper(),
    ...     components={"drawdown_penalty": lambda info: -info["drawdown"]},
    ...     weights={"drawdown_penalty": 0.5})
    >>> _ = env.reset(seed=0)
    >>> _, reward, _, _, info = env.step(2)
    >>> sorted(info["reward_components"]), reward == info["shaped_reward"]
    (['drawdown_penalty'], True)
    """

    def __init__(
        self,
        env: gym.Env,
        shaper: RewardShaper,
        components: Mapping[str, str | InfoReader],
        weights: Mapping[str, float],
        clip_range: tuple[float, float] = (-10, 10),
        normalize: bool = True,
        potential: Callable[[Any], float] | None = None,
        gamma: float = 0.99,
    ) -> None:
        super().__init__(env)
        if "potential" in components:
            raise InvalidValueError("'potential' is reserved for the potential-based term")
        self.shaper = shaper
        self.readers = {
            name: (lambda info, key=source: info[key]) if isinstance(source, str) else source
            for name, source in components.items()
        }
        self.weights = dict(weights)
        if potential is not None:
            self.weights["potential"] = 1.0
        self.clip_range = clip_range
        self.normalize = normalize
        self.potential = potential
        self.gamma = gamma
        self._last_potential = 0.0

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        obs, info = self.env.reset(seed=seed, options=options)
        self.shaper.reset_episode()
        if self.potential is not None:
            self._last_potential = check_number("potential(observation)", self.potential(obs))
        return obs, info

    def step(self, action: Any):
        obs, reward, terminated, truncated, info = self.env.step(action)
        values = {name: float(read(info)) for name, read in self.readers.items()}
        if self.potential is not None:
            next_potential = check_number("potential(observation)", self.potential(obs))
            values["potential"] = potential_shaping(
                self._last_potential, next_potential, self.gamma, terminated
            )
            self._last_potential = next_potential
        shaped = self.shaper.compute_shaped_reward(
            reward, values, self.weights, self.clip_range, self.normalize, terminated=terminated
        )
        info = {**info, "raw_reward": float(reward), "reward_components": values,
                "shaped_reward": shaped}
        return obs, shaped, terminated, truncated, info

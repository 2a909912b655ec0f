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
    name to an ``info`` key or to a function of ``info``; the shaper combines, normalises and
    clips them with the raw reward. With ``potential``, the term :func:`potential_shaping` of
    ``potential(observation)`` is added *after* normalising and clipping, in the units of the
    output, so nothing ever clips it: a clipped potential term no longer telescopes and loses
    its guarantee. ``info`` gains ``raw_reward``, ``reward_components`` (the values, the
    potential term included) and ``shaped_reward``.

    ``gamma`` must be the discount of the algorithm that trains on the env: the potential term
    leaves optimal policies unchanged only with that discount. It has no default for that
    reason, and a return-scaling shaper with another discount is refused.

    >>> from rl_best_practices.envs import MarketEnv
    >>> env = ShapedRewardWrapper(
    ...     MarketEnv({"episode_length": 3}), RewardShaper(),
    ...     components={"drawdown_penalty": lambda info: -info["drawdown"]},
    ...     weights={"drawdown_penalty": 0.5}, gamma=0.95)
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
        *,
        gamma: float,
    ) -> None:
        super().__init__(env)
        gamma = check_number("gamma", gamma, minimum=0, maximum=1)
        if "potential" in components:
            raise InvalidValueError("'potential' is reserved for the potential-based term")
        if shaper.scale == "return" and shaper.gamma != gamma:
            raise InvalidValueError(
                f"the shaper scales returns with gamma={shaper.gamma} but the wrapper's gamma is "
                f"{gamma}; use the training algorithm's discount for both"
            )
        self.shaper = shaper
        self.readers = {
            name: (lambda info, key=source: info[key]) if isinstance(source, str) else source
            for name, source in components.items()
        }
        self.weights = dict(weights)
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
        shaped = self.shaper.compute_shaped_reward(
            reward, values, self.weights, self.clip_range, self.normalize, terminated=terminated
        )
        if self.potential is not None:
            next_potential = check_number("potential(observation)", self.potential(obs))
            values["potential"] = potential_shaping(
                self._last_potential, next_potential, self.gamma, terminated
            )
            shaped += values["potential"]
            self._last_potential = next_potential
        info = {**info, "raw_reward": float(reward), "reward_components": values,
                "shaped_reward": shaped}
        return obs, shaped, terminated, truncated, info

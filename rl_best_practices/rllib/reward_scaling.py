"""The env an RLlib algorithm trains on: return-scaled, optionally with weighted penalties.

PPO's defaults assume rewards of order 1: its value loss is clipped at ``vf_clip_param=10``. The
market env pays raw P&L with a per-step standard deviation near 80, so discounted returns reach
the thousands, every value error exceeds the clip, and the critic receives almost no gradient
(RLlib's ``vf_explained_var`` stays near 0). :func:`training_env` wraps the env in
:class:`~rl_best_practices.rewards.ShapedRewardWrapper` with a return-scaling
:class:`~rl_best_practices.rewards.RewardShaper` (Gymnasium's ``NormalizeReward`` rule) using the
algorithm's own discount, and registers it with RLlib under a name derived from its settings.

The training reward is then in scaled units; judge policies on the raw env
(:func:`rl_best_practices.envs.episode_summaries`), as the lessons do.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import gymnasium as gym
from ray.tune.registry import register_env

from rl_best_practices.errors import InvalidTypeError, InvalidValueError
from rl_best_practices.rewards import RewardShaper, ShapedRewardWrapper
from rl_best_practices.storage import json_sha256
from rl_best_practices.validation import check_number

__all__ = ["training_env"]

EnvCreator = Callable[[Mapping[str, Any]], gym.Env]
InfoReader = Callable[[Mapping[str, Any]], float]


def training_env(
    env: type[gym.Env] | EnvCreator,
    *,
    gamma: float,
    scale_returns: bool = True,
    reward_weights: Mapping[str, float] | None = None,
    reward_components: Mapping[str, str | InfoReader] | None = None,
) -> str:
    """Register ``env`` wrapped for training and return the name RLlib builds it by.

    Args:
        env: an env class or a creator ``env_config -> env`` (what ``register_env`` takes).
        gamma: the algorithm's discount; the return scaling and any potential use the same one.
        scale_returns: divide rewards by the running std of the discounted return.
        reward_weights: component name -> weight, added to the reward each step before scaling
            (a penalty has a negative weight), e.g. ``{"drawdown": -0.2}``.
        reward_components: component name -> ``info`` key or function of ``info``; a name
            without an entry is read from ``info`` under the same key.
    """
    if not callable(env):
        raise InvalidTypeError(
            f"env must be an env class or a creator function env_config -> env, got {env!r}; "
            "pass the function you would give to register_env"
        )
    gamma = check_number("gamma", gamma, minimum=0, maximum=1)
    weights = {
        str(key): check_number(f"reward weight of {key!r}", value)
        for key, value in dict(reward_weights or {}).items()
    }
    components = {name: name for name in weights}
    components.update(reward_components or {})
    unweighted = sorted(set(components) - set(weights))
    if unweighted:
        raise InvalidValueError(f"reward components {unweighted} have no weight in reward_weights")
    settings = {
        "gamma": gamma, "scale_returns": bool(scale_returns), "weights": weights,
        "components": {name: repr(source) for name, source in components.items()},
    }
    name = (
        f"{getattr(env, '__module__', '')}.{getattr(env, '__qualname__', type(env).__name__)}"
        f"@{id(env):x}/{json_sha256(settings)[:12]}"
    )

    def create(env_config: Mapping[str, Any]) -> gym.Env:
        shaper = RewardShaper(scale="return", gamma=gamma)
        return ShapedRewardWrapper(
            env(env_config), shaper, components=components, weights=weights,
            normalize=bool(scale_returns), gamma=gamma,
        )

    register_env(name, create)
    return name

"""Gymnasium wrappers that put a safety layer between an agent and an environment (lesson 02).

* :class:`SafetyWrapper` filters every action through a
  :class:`~rl_best_practices.safety.layer.SafetyLayer` and writes the proposed action, the
  executed action, the outcome and the reason into ``info``.
* :class:`ActionMaskWrapper` does the same for discrete actions and also exposes the mask in a
  ``Dict`` observation ``{"action_mask", "observations"}``, as RLlib's action-masking RLModule
  expects.

Both read the state the constraints need with ``state_fn(env)``, by default
:func:`~rl_best_practices.safety.market.market_state` for the course's market env.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from rl_best_practices.errors import InvalidTypeError, InvalidValueError, NoSafeActionError
from rl_best_practices.safety.layer import SafetyLayer
from rl_best_practices.safety.market import market_state
from rl_best_practices.validation import check_callable

__all__ = ["ActionMaskWrapper", "SafetyWrapper"]


def _check_layer(layer: Any) -> SafetyLayer:
    if not isinstance(layer, SafetyLayer):
        raise InvalidTypeError(f"layer must be a SafetyLayer, got {type(layer).__name__}")
    return layer


class SafetyWrapper(gym.Wrapper):
    """Apply a :class:`SafetyLayer` to every action before the wrapped env sees it.

    ``info`` gains ``proposed_action``, ``executed_action``, ``safety_outcome`` and
    ``safety_reason``. The learner keeps the proposed action as the action it took (that is
    what its policy sampled); the filter is part of the environment it learns about.

    When no candidate passes, the layer raises
    :class:`~rl_best_practices.errors.NoSafeActionError`. By default the wrapper lets it
    propagate (the caller decides). Given ``safe_action``, a stated last resort (for the market:
    trade nothing), the wrapper executes that action instead, counts the step in
    :attr:`no_safe_action_steps` and reports ``safety_outcome="no_safe_action"`` with the
    layer's reason, so an RLlib env runner keeps sampling and the count shows how often it
    happened. The stated action is not checked (nothing passed): choose one the world tolerates.
    A layer built with its own ``safe_action`` degrades itself; such steps are counted here too.

    >>> from rl_best_practices.envs import MarketEnv
    >>> from rl_best_practices.safety.market import position_limit, reduce_position
    >>> layer = SafetyLayer((-10, 10), [position_limit(5)], reduce_position(10))
    >>> env = SafetyWrapper(MarketEnv({"action_type": "continuous"}), layer)
    >>> _ = env.reset(seed=0)
    >>> _, _, _, _, info = env.step(np.array([8.0], dtype=np.float32))
    >>> info["proposed_action"], info["executed_action"], info["position"]
    (array([8.], dtype=float32), array([5.]), 5.0)
    >>> strict = SafetyWrapper(MarketEnv({"action_type": "continuous"}),
    ...                        SafetyLayer((-10, 10), [position_limit(5)]),
    ...                        safe_action=np.zeros(1, dtype=np.float32))
    >>> _ = strict.reset(seed=0)
    >>> _ = strict.step(np.array([5.0], dtype=np.float32))
    >>> info = strict.step(np.array([8.0], dtype=np.float32))[-1]   # no fallback: nothing passes
    >>> info["safety_outcome"], info["executed_action"], strict.no_safe_action_steps
    ('no_safe_action', array([0.], dtype=float32), 1)
    """

    def __init__(self, env: gym.Env, layer: SafetyLayer,
                 state_fn: Callable[[gym.Env], Any] = market_state, *,
                 safe_action: Any = None) -> None:
        super().__init__(env)
        self.layer = _check_layer(layer)
        self.state_fn = check_callable("state_fn", state_fn)
        if safe_action is not None and not env.action_space.contains(safe_action):
            raise InvalidValueError(
                f"safe_action {safe_action!r} is outside the action space {env.action_space}")
        self.safe_action = safe_action
        self.no_safe_action_steps = 0

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        try:
            decision = self.layer.decide(action, self.state_fn(self.env))
        except NoSafeActionError as exc:
            if self.safe_action is None:
                raise
            self.no_safe_action_steps += 1
            obs, reward, terminated, truncated, info = self.env.step(self.safe_action)
            info = {**info, "proposed_action": action, "executed_action": self.safe_action,
                    "safety_outcome": "no_safe_action", "safety_reason": str(exc)}
            return obs, reward, terminated, truncated, info
        self.no_safe_action_steps += decision.outcome == "no_safe_action"  # the layer's safe_action
        obs, reward, terminated, truncated, info = self.env.step(decision.action)
        info = {**info, "proposed_action": decision.proposed, "executed_action": decision.action,
                "safety_outcome": decision.outcome, "safety_reason": decision.reason}
        return obs, reward, terminated, truncated, info


class ActionMaskWrapper(gym.Wrapper):
    """Discrete actions with a safety mask in the observation, as RLlib's masking module reads it.

    Observations become ``{"action_mask": float32 0/1 per action, "observations": obs}``. A
    masked-out action (a policy that ignores the mask) is replaced by the nearest safe one;
    ``info`` records both as in :class:`SafetyWrapper`. ``candidates[i]`` is discrete action
    ``i`` as the constraints see it (for the market env: the trade, ``(i - 1) * trade_size``).

    >>> from rl_best_practices.envs import MarketEnv
    >>> from rl_best_practices.safety.market import position_limit
    >>> layer = SafetyLayer(constraint_functions=[position_limit(10)])
    >>> env = ActionMaskWrapper(MarketEnv(), layer, candidates=[-10.0, 0.0, 10.0])
    >>> obs, _ = env.reset(seed=0)
    >>> obs, *_ = env.step(2)
    >>> obs["action_mask"]
    array([1., 1., 0.], dtype=float32)
    """

    def __init__(self, env: gym.Env, layer: SafetyLayer, candidates: Sequence[Any],
                 state_fn: Callable[[gym.Env], Any] = market_state) -> None:
        super().__init__(env)
        if not isinstance(env.action_space, spaces.Discrete):
            raise InvalidTypeError(
                f"ActionMaskWrapper needs a Discrete action space, got {env.action_space}")
        if len(candidates) != env.action_space.n:
            raise InvalidValueError(
                f"candidates must hold one entry per action ({env.action_space.n}), "
                f"got {len(candidates)}")
        self.layer = _check_layer(layer)
        self.candidates = list(candidates)
        self.state_fn = check_callable("state_fn", state_fn)
        self.observation_space = spaces.Dict({
            "action_mask": spaces.Box(0.0, 1.0, shape=(env.action_space.n,), dtype=np.float32),
            "observations": env.observation_space,
        })

    def _observe(self, obs: Any) -> dict[str, Any]:
        mask = self.layer.action_mask(self.state_fn(self.env), self.candidates)
        return {"action_mask": mask.astype(np.float32), "observations": obs}

    def reset(self, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        obs, info = self.env.reset(**kwargs)
        return self._observe(obs), info

    def step(self, action: Any) -> tuple[dict[str, Any], SupportsFloat, bool, bool, dict[str, Any]]:
        if isinstance(action, np.ndarray) and action.shape == ():
            action = action.item()
        state = self.state_fn(self.env)
        executed = self.layer.filter_discrete(action, state, self.candidates)
        obs, reward, terminated, truncated, info = self.env.step(executed)
        changed = executed != action
        info = {**info, "proposed_action": action, "executed_action": executed,
                "safety_outcome": "projected" if changed else "passed",
                "safety_reason": "action masked out" if changed else None}
        return self._observe(obs), reward, terminated, truncated, info

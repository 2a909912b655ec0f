"""Checkpoints that resume exactly: a restored PPO run continues as the uninterrupted one.

RLlib's checkpoint holds the module, the optimiser and the connectors, but not everything the
next iteration depends on: a restored run re-seeds its envs (and replays the first iteration's
episodes), restarts the reward-scaling statistics, and resets PPO's adaptive KL coefficient.
:func:`resumable` swaps in :class:`ResumableEnvRunner` and :class:`ResumablePPOLearner`, whose
state (JSON, inside RLlib's checkpoint) also holds each env's random generator, the scaler's
statistics, the process's Python, NumPy and torch generators and the KL coefficient. A test
trains 2 + 2 iterations against 2, save, restore, 2 and finds identical returns and weights.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Mapping
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from ray.rllib.algorithms.ppo import PPOConfig
from ray.rllib.algorithms.ppo.torch.ppo_torch_learner import PPOTorchLearner
from ray.rllib.env.single_agent_env_runner import SingleAgentEnvRunner

from rl_best_practices.errors import InvalidTypeError, InvalidValueError
from rl_best_practices.rewards import ShapedRewardWrapper
from rl_best_practices.running_stats import RunningMeanStd

__all__ = ["ResumableEnvRunner", "ResumablePPOLearner", "resumable"]

RESUME_STATE = "resume_state"  # the JSON text a resumable component adds to RLlib's state
RESUME_METRICS = "resume_metrics"


def _process_rng_state() -> dict[str, Any]:
    version, keys, gauss = random.getstate()
    name, mt, pos, has_gauss, cached = np.random.get_state()
    return {
        "python": [version, list(keys), gauss],
        "numpy": [name, mt.tolist(), int(pos), int(has_gauss), float(cached)],
        "torch": torch.get_rng_state().tolist(),
    }


def _set_process_rng_state(state: Mapping[str, Any]) -> None:
    version, keys, gauss = state["python"]
    random.setstate((version, tuple(keys), gauss))
    name, mt, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, np.array(mt, dtype=np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(torch.tensor(state["torch"], dtype=torch.uint8))


def _layers(env: gym.Env) -> Iterable[gym.Env]:
    while isinstance(env, gym.Wrapper):
        yield env
        env = env.env


def _env_state(env: gym.Env) -> dict[str, Any]:
    """What an env carries from one episode to the next: its RNG and reward-scaling statistics."""
    return {
        "np_random": env.unwrapped.np_random.bit_generator.state,
        "shapers": [
            {"statistics": layer.shaper.stats.to_dict(), "frozen": layer.shaper.frozen}
            for layer in _layers(env) if isinstance(layer, ShapedRewardWrapper)
        ],
    }


def _set_env_state(env: gym.Env, state: Mapping[str, Any]) -> None:
    env.unwrapped.np_random.bit_generator.state = state["np_random"]
    shapers = [layer.shaper for layer in _layers(env) if isinstance(layer, ShapedRewardWrapper)]
    for shaper, saved in zip(shapers, state["shapers"], strict=True):
        shaper.stats = RunningMeanStd.from_dict(saved["statistics"])
        shaper.frozen = bool(saved["frozen"])


class ResumableEnvRunner(SingleAgentEnvRunner):
    """RLlib's env runner, with episodes that start with each ``sample()`` call and a state that
    holds what the next iteration depends on.

    RLlib's checkpoint of an env runner holds its connectors and counters, not its envs: a
    restored run re-seeds its envs and replays the first iteration's episodes, carries none of
    the episodes in flight, and restarts the reward-scaling statistics. This runner:

    * resets its envs at the start of each ``sample()`` (so each training iteration starts
      fresh episodes; an episode still running when the batch is full is cut there, as a time
      limit would), which leaves nothing in flight between iterations;
    * adds to its state, as JSON, each env's RNG (``np_random``) and the statistics of any
      :class:`~rl_best_practices.rewards.ShapedRewardWrapper`, with the driver process's Python,
      NumPy and torch RNGs (the local learner draws its minibatches from them too), and its
      episode-metrics windows; restoring it continues the env streams instead of re-seeding.

    Envs must keep nothing else across episodes (true of the course's market env and of
    Gymnasium's classic-control envs, which draw every episode from ``np_random`` at reset).
    """

    def sample(self, **kwargs: Any) -> Any:
        kwargs["force_reset"] = True
        return super().sample(**kwargs)

    def get_state(self, components: Any = None, *, not_components: Any = None,
                  **kwargs: Any) -> dict[str, Any]:
        state = super().get_state(components, not_components=not_components, **kwargs)
        if self._check_component(RESUME_STATE, components, not_components):
            state[RESUME_STATE] = json.dumps({
                "rng": _process_rng_state(),
                "envs": [_env_state(env) for env in self.env.unwrapped.envs],
            })
            state[RESUME_METRICS] = self.metrics.get_state()
        return state

    def set_state(self, state: Mapping[str, Any]) -> None:
        super().set_state(state)
        if RESUME_STATE not in state:
            return
        saved = json.loads(state[RESUME_STATE])
        for env, env_state in zip(self.env.unwrapped.envs, saved["envs"], strict=True):
            _set_env_state(env, env_state)
        _set_process_rng_state(saved["rng"])
        self.metrics.set_state(state[RESUME_METRICS])
        # Reset without a seed on the next sample(): continue the restored env streams.
        self._needs_initial_reset = False


class ResumablePPOLearner(PPOTorchLearner):
    """RLlib's PPO learner, whose state also holds the adaptive KL coefficient.

    RLlib adapts the coefficient of PPO's KL penalty after each update but leaves it out of
    the learner's checkpoint, so a restored learner starts again from ``kl_coeff`` (the same
    gap as ray-project/ray#22444 on the old API stack).
    """

    def get_state(self, components: Any = None, *, not_components: Any = None,
                  **kwargs: Any) -> dict[str, Any]:
        state = super().get_state(components, not_components=not_components, **kwargs)
        if self._check_component(RESUME_STATE, components, not_components):
            coeffs = {str(m): float(v.item()) for m, v in self.curr_kl_coeffs_per_module.items()}
            state[RESUME_STATE] = json.dumps({"kl_coeffs": coeffs})
        return state

    def set_state(self, state: Mapping[str, Any]) -> None:
        super().set_state(state)
        if RESUME_STATE in state:
            for module, value in json.loads(state[RESUME_STATE])["kl_coeffs"].items():
                self.curr_kl_coeffs_per_module[module].data.fill_(value)


def resumable(config: PPOConfig) -> PPOConfig:
    """Make a PPO config's checkpoints complete: restored, the algorithm trains on exactly as
    the uninterrupted one (same per-iteration returns, same weights).

    Sets :class:`ResumableEnvRunner` and :class:`ResumablePPOLearner`. Sampling and learning
    must both run in the driver (``num_env_runners=0``, ``num_learners=0``, synchronous
    vectorisation): a checkpoint holds the state of that one process.

    >>> from rl_best_practices.rllib import ppo_config
    >>> config = resumable(ppo_config(seed=0))
    >>> config.env_runner_cls.__name__, config.learner_class.__name__
    ('ResumableEnvRunner', 'ResumablePPOLearner')
    """
    if not isinstance(config, PPOConfig):
        raise InvalidTypeError(f"config must be an RLlib PPOConfig, got {type(config).__name__}")
    where = {
        "num_env_runners": config.num_env_runners,
        "num_learners": config.num_learners,
        "gym_env_vectorize_mode": str(getattr(config.gym_env_vectorize_mode, "value",
                                              config.gym_env_vectorize_mode)).lower(),
    }
    if where != {"num_env_runners": 0, "num_learners": 0, "gym_env_vectorize_mode": "sync"}:
        raise InvalidValueError(
            "a resumable config samples and learns in the driver: num_env_runners=0, "
            f"num_learners=0, gym_env_vectorize_mode='sync'; got {where}"
        )
    return config.env_runners(env_runner_cls=ResumableEnvRunner).learners(
        learner_class=ResumablePPOLearner
    )


# --- recorded runs ------------------------------------------------------------------------------

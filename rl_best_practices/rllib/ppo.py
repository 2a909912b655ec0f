"""Small, seeded PPO runs on RLlib's new API stack, sized for a 2-core machine.

* :func:`ppo_config` builds a PPO config on RLlib's current names (``env_runners``,
  ``num_epochs``, ``train_batch_size_per_learner``, ``minibatch_size``), seeded through
  ``debugging(seed=...)``; ``config.build_algo()`` builds the algorithm.
* :func:`train` runs N iterations and returns tidy per-iteration metrics.
* :func:`save` and :func:`restore` checkpoint an algorithm; :func:`greedy_actions` and
  :func:`greedy_policy` read the trained RLModule's most likely action.

>>> cfg = ppo_config(seed=0, train_batch_size=400, minibatch_size=100)
>>> cfg.train_batch_size_per_learner, cfg.num_epochs, cfg.seed
(400, 6, 0)
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from ray.rllib.algorithms.algorithm import Algorithm
from ray.rllib.algorithms.ppo import PPOConfig

from rl_best_practices.envs import MarketEnv
from rl_best_practices.errors import InvalidValueError, MissingFileError
from rl_best_practices.validation import check_int

__all__ = [
    "greedy_actions",
    "greedy_policy",
    "ppo_config",
    "restore",
    "save",
    "train",
]


def ppo_config(
    env: type | str = MarketEnv,
    env_config: dict[str, Any] | None = None,
    *,
    seed: int = 0,
    train_batch_size: int = 2000,
    minibatch_size: int = 250,
    num_epochs: int = 6,
    lr: float = 3e-4,
    gamma: float = 0.95,
    num_env_runners: int = 0,
    callbacks: type | None = None,
) -> PPOConfig:
    """A small, seeded PPO config on the new API stack, sized for a 2-core machine.

    ``num_env_runners=0`` samples in the driver process, which keeps a run reproducible:
    the same seed gives the same per-iteration returns on a CPU.
    """
    seed = check_int("seed", seed, minimum=0)
    train_batch_size = check_int("train_batch_size", train_batch_size, minimum=1)
    minibatch_size = check_int("minibatch_size", minibatch_size, minimum=1)
    if minibatch_size > train_batch_size:
        raise InvalidValueError(
            f"minibatch_size ({minibatch_size}) must not exceed "
            f"train_batch_size ({train_batch_size})"
        )
    config = (
        PPOConfig()
        .environment(env, env_config=dict(env_config or {}))
        .env_runners(num_env_runners=num_env_runners)
        .training(
            lr=lr,
            gamma=gamma,
            train_batch_size_per_learner=train_batch_size,
            minibatch_size=minibatch_size,
            num_epochs=num_epochs,
        )
        .debugging(seed=seed, log_level="ERROR")
        .reporting(metrics_num_episodes_for_smoothing=10)
    )
    if callbacks is not None:
        config.callbacks(callbacks)
    return config


def _tidy(result: dict[str, Any], iteration: int) -> dict[str, Any]:
    runners = result.get("env_runners", {})
    return {
        "iteration": iteration,
        "episode_return_mean": float(runners.get("episode_return_mean", np.nan)),
        "episode_len_mean": float(runners.get("episode_len_mean", np.nan)),
        "env_steps": int(result.get("num_env_steps_sampled_lifetime", 0)),
        "seconds": float(result.get("time_this_iter_s", np.nan)),
    }


def train(
    algo: Algorithm,
    iterations: int,
    on_iteration: Callable[[dict[str, Any], dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Train ``iterations`` times; return one tidy dict per iteration.

    Each dict holds ``iteration``, ``episode_return_mean``, ``episode_len_mean``, ``env_steps``
    and ``seconds``. ``on_iteration(tidy, raw_result)`` is called after each iteration, for
    example to append to a metrics file.
    """
    iterations = check_int("iterations", iterations, minimum=1)
    history = []
    for _ in range(iterations):
        result = algo.train()
        tidy = _tidy(result, int(result.get("training_iteration", len(history) + 1)))
        history.append(tidy)
        if on_iteration is not None:
            on_iteration(tidy, result)
    return history


def save(algo: Algorithm, path: str | os.PathLike) -> Path:
    """Checkpoint ``algo`` into the directory ``path`` and return it."""
    path = Path(path).resolve()
    algo.save_to_path(str(path))
    return path


def restore(path: str | os.PathLike) -> Algorithm:
    """Rebuild an algorithm from a checkpoint directory written by :func:`save`."""
    path = Path(path).resolve()
    if not path.is_dir():
        raise MissingFileError(f"no checkpoint directory at {path}")
    return Algorithm.from_checkpoint(str(path))


def _module_of(algo: Algorithm):
    """The trained RLModule: from the env runner, or from the local learner for offline
    algorithms (such as BC), which have no env runners."""
    if algo.env_runner_group is not None:
        return algo.get_module()
    from ray.rllib.core import DEFAULT_MODULE_ID

    results = algo.learner_group.foreach_learner(lambda learner: learner.module[DEFAULT_MODULE_ID])
    return next(iter(results)).get()


def greedy_actions(algo: Algorithm, observations: np.ndarray) -> np.ndarray:
    """The trained RLModule's most likely action for each row of ``observations``.

    Discrete actions: the arg-max of the logits. Continuous (Gaussian) actions: the mean,
    mapped back from RLlib's normalised range to the env's bounds and clipped to them.
    """
    return _greedy(_module_of(algo), algo.config.normalize_actions, observations)


def greedy_policy(algo: Algorithm) -> Callable[[np.ndarray], Any]:
    """A single-observation policy ``obs -> action`` that acts greedily with ``algo``'s module.

    The module is looked up once, not per step (for offline algorithms that lookup goes
    through the learner group).
    """
    module, normalize = _module_of(algo), algo.config.normalize_actions

    def act(obs: np.ndarray) -> Any:
        action = _greedy(module, normalize, np.asarray(obs)[None, :])[0]
        return int(action) if np.ndim(action) == 0 else action

    return act


def _greedy(module: Any, normalize_actions: bool, observations: np.ndarray) -> np.ndarray:
    import torch

    obs = np.asarray(observations, dtype=np.float32)
    if obs.ndim != 2:
        raise InvalidValueError(
            f"observations must be a 2-D batch (rows of observations), got {obs.shape}"
        )
    with torch.no_grad():
        out = module.forward_inference({"obs": torch.from_numpy(obs)})
    logits = out["action_dist_inputs"].numpy()
    space = module.action_space
    if hasattr(space, "n"):
        return logits.argmax(axis=1)
    dim = int(np.prod(space.shape))
    mean = logits[:, :dim]
    if normalize_actions:
        mean = space.low + (mean + 1.0) * (space.high - space.low) / 2.0
    return np.clip(mean, space.low, space.high).astype(space.dtype)

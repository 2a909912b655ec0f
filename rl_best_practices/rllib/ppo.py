"""Small, seeded PPO runs on RLlib's new API stack, sized for a 2-core machine.

* :func:`ppo_config` builds a PPO config on RLlib's current names (``env_runners``,
  ``num_epochs``, ``train_batch_size_per_learner``, ``minibatch_size``), seeded through
  ``debugging(seed=...)``; ``config.build_algo()`` builds the algorithm.
* :func:`train` runs N iterations and returns tidy per-iteration metrics.
* :func:`save` and :func:`restore` checkpoint an algorithm; :func:`greedy_actions` and
  :func:`greedy_policy` read the trained RLModule's most likely action,
  :func:`action_probabilities` its action probabilities.

>>> cfg = ppo_config(seed=0, train_batch_size=400, minibatch_size=100)
>>> cfg.train_batch_size_per_learner, cfg.num_epochs, cfg.seed
(400, 6, 0)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from ray.rllib.algorithms.algorithm import Algorithm
from ray.rllib.algorithms.ppo import PPOConfig

from rl_best_practices.envs import MarketEnv
from rl_best_practices.errors import InvalidTypeError, InvalidValueError, MissingFileError
from rl_best_practices.rllib.callbacks import RewardComponentsCallback
from rl_best_practices.rllib.reward_scaling import training_env
from rl_best_practices.validation import check_int, check_number

__all__ = [
    "action_probabilities",
    "greedy_actions",
    "greedy_policy",
    "ppo_config",
    "restore",
    "save",
    "tidy_result",
    "train",
]


def ppo_config(
    env: type | Callable[[Mapping[str, Any]], Any] | str = MarketEnv,
    env_config: Mapping[str, Any] | None = None,
    *,
    seed: int = 0,
    train_batch_size: int = 2000,
    minibatch_size: int = 250,
    num_epochs: int = 6,
    lr: float = 3e-4,
    gamma: float = 0.95,
    hidden: Sequence[int] = (64, 64),
    scale_returns: bool = True,
    reward_weights: Mapping[str, float] | None = None,
    reward_components: Mapping[str, Any] | None = None,
    num_envs: int = 1,
    num_env_runners: int = 0,
    callbacks: type | Sequence[type] | None = None,
) -> PPOConfig:
    """A small, seeded PPO config on the new API stack, sized for a 2-core machine.

    ``scale_returns`` (on by default) trains on return-scaled rewards with the same ``gamma``
    (:func:`~rl_best_practices.rllib.reward_scaling.training_env`): on the market env's raw P&L,
    PPO's clipped value loss otherwise learns almost nothing. ``reward_weights`` adds weighted
    components to the reward (penalties have negative weights), read from ``info`` by name or by
    the functions of ``reward_components``. Either needs ``env`` as a
    class or a creator function, and adds
    :class:`~rl_best_practices.rllib.RewardComponentsCallback`, so the raw P&L per episode is
    reported too. ``num_envs`` vectorises sampling; ``num_env_runners=0`` samples in the driver,
    which keeps a run reproducible: the same seed gives the same per-iteration returns on a CPU.
    """
    seed = check_int("seed", seed, minimum=0)
    train_batch_size = check_int("train_batch_size", train_batch_size, minimum=1)
    minibatch_size = check_int("minibatch_size", minibatch_size, minimum=1)
    if minibatch_size > train_batch_size:
        raise InvalidValueError(
            f"minibatch_size ({minibatch_size}) must not exceed "
            f"train_batch_size ({train_batch_size})"
        )
    hidden = [check_int("each hidden layer size", h, minimum=1) for h in hidden]
    callbacks = list(callbacks) if isinstance(callbacks, Sequence) else [callbacks]
    callbacks = [c for c in callbacks if c is not None]
    if scale_returns or reward_weights:
        if isinstance(env, str):
            raise InvalidTypeError(
                f"env {env!r} is a registered name; to scale returns or add reward weights, pass "
                "the env class or its creator function (or scale_returns=False)"
            )
        env = training_env(
            env, gamma=gamma, scale_returns=scale_returns, reward_weights=reward_weights,
            reward_components=reward_components,
        )
        callbacks.insert(0, RewardComponentsCallback)
    config = (
        PPOConfig()
        .environment(env, env_config=dict(env_config or {}))
        .env_runners(
            num_env_runners=check_int("num_env_runners", num_env_runners, minimum=0),
            num_envs_per_env_runner=check_int("num_envs", num_envs, minimum=1),
        )
        .training(
            lr=check_number("lr", lr, minimum=0, low_open=True),
            gamma=check_number("gamma", gamma, minimum=0, maximum=1),
            train_batch_size_per_learner=train_batch_size,
            minibatch_size=minibatch_size,
            num_epochs=check_int("num_epochs", num_epochs, minimum=1),
        )
        .rl_module(model_config={"fcnet_hiddens": hidden})
        .debugging(seed=seed, log_level="ERROR")
        .reporting(metrics_num_episodes_for_smoothing=10)
    )
    if callbacks:
        config.callbacks(callbacks if len(callbacks) > 1 else callbacks[0])
    return config


def tidy_result(result: Mapping[str, Any], iteration: int) -> dict[str, Any]:
    """The few numbers of an RLlib training result that the lessons read.

    ``episode_return_mean`` is the training reward (scaled when returns are scaled);
    ``raw_return_mean`` the raw reward per episode (as logged by
    :class:`~rl_best_practices.rllib.RewardComponentsCallback` when the reward is shaped, else
    the training return itself); ``vf_explained_var`` how much of
    the return's variance the critic explains (near 0: the critic learns nothing).
    """
    runners = result.get("env_runners", {})
    learner = result.get("learners", {}).get("default_policy", {})
    return {
        "iteration": iteration,
        "episode_return_mean": float(runners.get("episode_return_mean", np.nan)),
        "raw_return_mean": float(
            runners.get("reward_components/raw_reward", runners.get("episode_return_mean", np.nan))
        ),
        "episode_len_mean": float(runners.get("episode_len_mean", np.nan)),
        "vf_explained_var": float(learner.get("vf_explained_var", np.nan)),
        "env_steps": int(result.get("num_env_steps_sampled_lifetime", 0)),
        "seconds": float(result.get("time_this_iter_s", np.nan)),
    }


def train(
    algo: Algorithm,
    iterations: int,
    on_iteration: Callable[[dict[str, Any], dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Train ``iterations`` times; return one tidy dict per iteration.

    Each dict is :func:`tidy_result` of one iteration. ``on_iteration(tidy, raw_result)`` is
    called after each iteration, for example to append to a metrics file.
    """
    iterations = check_int("iterations", iterations, minimum=1)
    history = []
    for _ in range(iterations):
        result = algo.train()
        tidy = tidy_result(result, int(result.get("training_iteration", len(history) + 1)))
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


def action_probabilities(algo: Algorithm) -> Callable[[np.ndarray], np.ndarray]:
    """``observations (n, obs_dim) -> probabilities (n, n_actions)`` of ``algo``'s trained
    discrete-action module (the softmax of its logits): the stochastic policy it learned, in the
    form :func:`rl_best_practices.ope.off_policy_value` takes as a target. One observation
    (1-D) gives one row of probabilities.
    """
    module = _module_of(algo)
    if not hasattr(module.action_space, "n"):
        raise InvalidValueError("action probabilities need a discrete action space")

    def probs(observations: np.ndarray) -> np.ndarray:
        import torch

        obs = np.asarray(observations, dtype=np.float32)
        rows = obs[None, :] if obs.ndim == 1 else obs
        with torch.no_grad():
            logits = module.forward_inference({"obs": torch.from_numpy(rows)})
            out = torch.softmax(logits["action_dist_inputs"].double(), dim=1).numpy()
        return out[0] if obs.ndim == 1 else out

    return probs


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

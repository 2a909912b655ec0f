"""Lesson 04's experiments on RLlib: an ExperimentConfig becomes a seeded, resumable RLlib run.

* :func:`training_names`: the settings RLlib's ``<algorithm>Config.training()`` accepts, which
  is what :class:`~rl_best_practices.experiment.ExperimentConfig` lets ``algorithm_config`` set.
* :func:`build_config`: the seeded RLlib config for an algorithm, an env and training settings,
  sampling in the driver (what :meth:`ExperimentConfig.to_rllib` returns); PPO configs are
  made :func:`~rl_best_practices.rllib.resume.resumable`, so a restored checkpoint continues
  exactly.
* :func:`run_experiment` records, builds (seeded), trains and checkpoints one run;
  :func:`run_seeds` does it once per seed. Both return the runs as read back from disk
  (:class:`~rl_best_practices.experiment.RunRecord`). For statistics over many seeds, train them
  as a Tune grid with :func:`rl_best_practices.rllib.train_seeds`.

>>> "num_epochs" in training_names("PPO"), "num_sgd_iter" in training_names("PPO")
(True, True)
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import os
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import gymnasium as gym
from ray.rllib.algorithms.algorithm_config import AlgorithmConfig
from ray.rllib.algorithms.dqn import DQNConfig
from ray.rllib.algorithms.ppo import PPOConfig

from rl_best_practices.envs import ENV_ID, MarketEnv
from rl_best_practices.errors import InvalidTypeError, InvalidValueError
from rl_best_practices.experiment import ALGORITHMS, ExperimentConfig, Run, RunRecord, load_run
from rl_best_practices.experiment.provenance import MAX_SEED
from rl_best_practices.rllib.ppo import ppo_config
from rl_best_practices.rllib.resume import resumable
from rl_best_practices.validation import check_choice, check_int

__all__ = [
    "build_config",
    "run_experiment",
    "run_seeds",
    "training_names",
]

CONFIG_CLASSES = {"PPO": PPOConfig, "DQN": DQNConfig}
# Training settings passed to ppo_config as its arguments, so PPO keeps the course's defaults.
PPO_HELPER_ARGS = {
    "train_batch_size_per_learner": "train_batch_size",
    "minibatch_size": "minibatch_size",
    "num_epochs": "num_epochs",
    "lr": "lr",
    "gamma": "gamma",
}


@functools.cache
def training_names(algorithm: str) -> frozenset[str]:
    """The keyword arguments of ``<algorithm>Config.training()`` (through its base classes),
    outdated ones included: RLlib still accepts them with a deprecation warning.

    >>> "lr" in training_names("DQN") and "double_q" in training_names("DQN")
    True
    """
    algorithm = check_choice("algorithm", algorithm, ALGORITHMS)
    names = set()
    for cls in CONFIG_CLASSES[algorithm].__mro__:
        method = cls.__dict__.get("training")
        if method is None:
            continue
        for param in inspect.signature(method).parameters.values():
            if param.name != "self" and param.kind not in (param.VAR_KEYWORD, param.VAR_POSITIONAL):
                names.add(param.name)
    return frozenset(names)


@functools.cache
def _registered_env(env_name: str) -> Callable[[Mapping[str, Any]], gym.Env]:
    """A creator for a registered Gymnasium id, one per id (so RLlib registers it once)."""

    def create(env_config: Mapping[str, Any]) -> gym.Env:
        return gym.make(env_name, disable_env_checker=True, **dict(env_config))

    create.__qualname__ = f"make[{env_name}]"
    return create


def build_config(
    algorithm: str,
    env_name: str = ENV_ID,
    env_config: Mapping[str, Any] | None = None,
    *,
    seed: int = 0,
    training: Mapping[str, Any] | None = None,
) -> AlgorithmConfig:
    """A seeded RLlib config that samples in the driver (``num_env_runners=0``).

    PPO starts from :func:`~rl_best_practices.rllib.ppo_config` (the course's small defaults,
    returns scaled) and is made :func:`~rl_best_practices.rllib.resume.resumable`; DQN starts
    from RLlib's. ``training`` then goes to ``config.training()``. ``train_batch_size`` is
    RLlib's *total* batch over all learners: it is kept as the total
    (``train_batch_size_per_learner`` is then derived from it, divided by the number of
    learners), and refused next to ``train_batch_size_per_learner``, which RLlib would
    otherwise use while ignoring the total. The course's market env is passed
    as its class, a registered Gymnasium id as a creator function.

    >>> config = build_config("DQN", "CartPole-v1", seed=3, training={"lr": 1e-3})
    >>> type(config).__name__, config.seed, config.lr, config.num_env_runners
    ('DQNConfig', 3, 0.001, 0)
    >>> config = build_config("PPO", training={"train_batch_size": 1000})
    >>> config.total_train_batch_size, config.learners(num_learners=2).train_batch_size_per_learner
    (1000, 500)
    """
    algorithm = check_choice("algorithm", algorithm, ALGORITHMS)
    seed = check_int("seed", seed, minimum=0, maximum=MAX_SEED)
    env = MarketEnv if env_name == ENV_ID else _registered_env(env_name)
    env_config = dict(env_config or {})
    settings = dict(training or {})
    if "train_batch_size" in settings and "train_batch_size_per_learner" in settings:
        raise InvalidValueError(
            "training sets both train_batch_size (the total over all learners) and "
            "train_batch_size_per_learner; RLlib would use the latter and ignore the total: "
            "set one of them"
        )
    if algorithm == "DQN":
        config = (
            DQNConfig()
            .environment(env, env_config=env_config)
            .env_runners(num_env_runners=0)
            .debugging(seed=seed, log_level="ERROR")
            .reporting(metrics_num_episodes_for_smoothing=10)
        )
        return config.training(**settings) if settings else config
    total = settings.pop("train_batch_size", None)
    helper = {arg: settings.pop(key) for key, arg in PPO_HELPER_ARGS.items() if key in settings}
    if total is not None:  # one learner: its batch is the total (ppo_config checks the minibatch)
        helper["train_batch_size"] = total
    config = ppo_config(env, env_config, seed=seed, **helper)
    if total is not None:  # RLlib derives the per-learner batch: total // num_learners
        settings.update(train_batch_size=total, train_batch_size_per_learner=None)
    if settings:
        config.training(**settings)
    return resumable(config)


def run_experiment(
    config: ExperimentConfig,
    root: str | os.PathLike,
    *,
    repo: str | os.PathLike | None = None,
    clock: Callable[[], float] = time.time,
) -> RunRecord:
    """Record, build (seeded), train and checkpoint one run; return it as read back from disk.

    Needs a running Ray (:func:`~rl_best_practices.rllib.start_ray`). The algorithm is stopped
    at the end, also when training fails. A PPO run's checkpoints resume exactly
    (:func:`~rl_best_practices.rllib.resume.resumable`).
    """
    run = Run.create(config, root, repo=repo, clock=clock)
    algo = config.build_algo()
    try:
        run.train(algo)
    finally:
        algo.stop()
    return load_run(run.path)


def run_seeds(
    config: ExperimentConfig,
    seeds: Iterable[int],
    root: str | os.PathLike,
    **kwargs: Any,
) -> list[RunRecord]:
    """:func:`run_experiment` once per seed: one recorded run directory each, one at a time.

    ``seeds`` must be distinct integers in ``[0, 2**31 - 1]``; ``kwargs`` go to
    :func:`run_experiment`. For statistics over many seeds without run directories, train them
    in parallel as a Tune grid with :func:`rl_best_practices.rllib.train_seeds`.
    """
    if not isinstance(config, ExperimentConfig):
        raise InvalidTypeError(f"config must be an ExperimentConfig, got {type(config).__name__}")
    seeds = [check_int("each seed", s, minimum=0, maximum=MAX_SEED) for s in seeds]
    if not seeds or len(set(seeds)) != len(seeds):
        raise InvalidValueError(f"seeds must be a non-empty list of distinct seeds, got {seeds}")
    return [run_experiment(dataclasses.replace(config, seed=s), root, **kwargs) for s in seeds]

"""Offline RL with RLlib: behaviour cloning and MARWIL on recorded Parquet data, for 2 cores.

:func:`bc_config` builds RLlib's ``BCConfig``, :func:`marwil_config` its ``MARWILConfig``
(advantage-weighted imitation: the recorded rewards decide which actions to copy more; BC is
MARWIL with ``beta=0``), on a folder written by
:func:`rl_best_practices.feedback.record_episodes` or
:meth:`~rl_best_practices.feedback.HumanFeedbackCollector.export_corrections` (RLlib's columnar
offline format); ``config.build_algo()`` builds the algorithm and
:func:`~rl_best_practices.rllib.greedy_policy` acts with the trained module.

>>> import tempfile
>>> from rl_best_practices.feedback import record_episodes
>>> folder = tempfile.TemporaryDirectory()
>>> _ = record_episodes(lambda obs: 1, [0], folder.name, {"episode_length": 5})
>>> cfg = bc_config(folder.name, seed=3, train_batch_size=64)
>>> cfg.seed, cfg.num_learners, cfg.train_batch_size_per_learner
(3, 0, 64)
>>> folder.cleanup()
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ray.rllib.algorithms.algorithm_config import AlgorithmConfig
from ray.rllib.algorithms.bc import BCConfig
from ray.rllib.algorithms.marwil import MARWILConfig

from rl_best_practices.envs import MarketEnv
from rl_best_practices.errors import MissingFileError
from rl_best_practices.validation import check_int, check_number

__all__ = ["bc_config", "marwil_config"]


def bc_config(
    data_path: str | os.PathLike,
    env_config: dict[str, Any] | None = None,
    *,
    seed: int = 0,
    train_batch_size: int = 512,
    lr: float = 1e-3,
) -> BCConfig:
    """RLlib's behaviour cloning (``BCConfig``) on offline data in ``data_path``, for 2 CPUs.

    The data pipeline runs as a single reader (``concurrency=1``) with one local learner
    (``num_learners=0``): RLlib's default of at least two reader actors, each asking for a CPU,
    can wait forever for CPUs the learner holds on a 2-core machine. ``max_restarts=0`` keeps
    Ray from warning that the reader's large constructor arguments cannot survive a restart.
    """
    return _offline(BCConfig(), data_path, env_config, seed, train_batch_size, lr)


def _offline(
    config: AlgorithmConfig,
    data_path: str | os.PathLike,
    env_config: dict[str, Any] | None,
    seed: int,
    train_batch_size: int,
    lr: float,
) -> Any:
    seed = check_int("seed", seed, minimum=0)
    train_batch_size = check_int("train_batch_size", train_batch_size, minimum=1)
    lr = check_number("lr", lr, minimum=0, low_open=True)
    folder = Path(data_path).resolve()
    if not any(folder.glob("*.parquet")):
        raise MissingFileError(f"no Parquet files in {folder}")
    env = MarketEnv(env_config)
    return (
        config
        .environment(observation_space=env.observation_space, action_space=env.action_space)
        .offline_data(
            input_=[str(folder)],
            input_read_method_kwargs={"override_num_blocks": 1},
            map_batches_kwargs={"concurrency": 1, "num_cpus": 1, "max_restarts": 0},
            iter_batches_kwargs={"prefetch_batches": 1},
            dataset_num_iters_per_learner=1,
        )
        .learners(num_learners=0)
        .training(train_batch_size_per_learner=train_batch_size, lr=lr)
        .debugging(seed=seed, log_level="ERROR")
    )


def marwil_config(
    data_path: str | os.PathLike,
    env_config: dict[str, Any] | None = None,
    *,
    seed: int = 0,
    beta: float = 1.0,
    gamma: float = 0.95,
    train_batch_size: int = 512,
    lr: float = 1e-3,
    advantage_scale: float = 100.0,
) -> MARWILConfig:
    """RLlib's MARWIL (Wang et al., 2018) on offline data in ``data_path``, for 2 CPUs.

    MARWIL weights the log-likelihood of each recorded action by
    ``exp(beta * advantage / c)``, with the advantage from a value function fitted to the
    recorded returns, so actions that were followed by more reward than expected are copied more
    (``beta=0`` is behaviour cloning). ``c`` is the square root of a running mean of squared
    advantages; ``advantage_scale`` starts it at the size of the market env's advantages (RLlib's
    start of 100 is ``c = 10``, for rewards of order 1) and it adapts at rate 0.01 (RLlib's
    ``1e-8`` would keep the start for ever). The offline reader runs as in :func:`bc_config`.

    >>> import tempfile
    >>> from rl_best_practices.feedback import record_episodes
    >>> folder = tempfile.TemporaryDirectory()
    >>> _ = record_episodes(lambda obs: 1, [0], folder.name, {"episode_length": 5})
    >>> cfg = marwil_config(folder.name, seed=1, beta=0.5)
    >>> cfg.beta, cfg.seed, cfg.moving_average_sqd_adv_norm_start
    (0.5, 1, 10000.0)
    >>> folder.cleanup()
    """
    beta = check_number("beta", beta, minimum=0, maximum=1)
    gamma = check_number("gamma", gamma, minimum=0, maximum=1)
    scale = check_number("advantage_scale", advantage_scale, minimum=0, low_open=True)
    config = _offline(MARWILConfig(), data_path, env_config, seed, train_batch_size, lr)
    return config.training(
        beta=beta, gamma=gamma, moving_average_sqd_adv_norm_start=scale**2,
        moving_average_sqd_adv_norm_update_rate=0.01,
    )

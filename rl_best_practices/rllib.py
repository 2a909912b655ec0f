"""Quiet local Ray and small, seeded PPO runs for notebooks and tests.

* :func:`start_ray` starts a local Ray with a fixed small ``num_cpus``, no dashboard, on loopback,
  usage statistics and driver logs off; when ``RAY_ADDRESS`` is set it connects to that cluster
  instead. :func:`stop_ray` shuts it down. :func:`quiet_ray_logging` keeps Ray's and RLlib's
  log lines and warnings out of notebook output.
* :func:`ppo_config` builds a PPO config on RLlib's new API stack names (``env_runners``,
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

import logging
import os
import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as np

# Ray reads these at import and start-up time, so they are set before ``import ray``.
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("RAY_DEDUP_LOGS", "0")
os.environ.setdefault("RAY_DISABLE_IMPORT_WARNING", "1")
os.environ.setdefault("RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO", "0")

import ray  # noqa: E402
from ray.rllib.algorithms.algorithm import Algorithm  # noqa: E402
from ray.rllib.algorithms.ppo import PPOConfig  # noqa: E402
from ray.rllib.callbacks.callbacks import RLlibCallback  # noqa: E402  (re-exported for lessons)

from rl_best_practices.envs import MarketEnv  # noqa: E402

__all__ = [
    "RLlibCallback",
    "greedy_actions",
    "greedy_policy",
    "ppo_config",
    "quiet_ray_logging",
    "restore",
    "save",
    "start_ray",
    "stop_ray",
    "train",
]

RAY_LOGGERS = ("ray", "ray.rllib", "ray.tune", "ray.train", "ray.data")


def quiet_ray_logging() -> None:
    """Keep Ray's and RLlib's INFO/WARNING lines and Python warnings out of cell output.

    Errors still reach stderr, so a real failure stays visible.
    """
    for name in RAY_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    for category in (DeprecationWarning, FutureWarning, UserWarning, RuntimeWarning):
        warnings.filterwarnings("ignore", category=category, module=r"(ray|gymnasium|torch)(\.|$)")


def start_ray(num_cpus: int = 2) -> dict[str, Any]:
    """Start (or join) Ray quietly and return where it runs.

    With ``RAY_ADDRESS`` set, connects to that cluster and ``num_cpus`` is ignored (the
    cluster has its own); otherwise starts a private local instance bound to loopback.
    Calling it again while Ray runs does nothing.

    Returns:
        ``{"mode": "local" | "cluster", "num_cpus": <CPUs Ray reports>}``.
    """
    if not isinstance(num_cpus, int) or num_cpus < 1:
        raise ValueError(f"num_cpus must be an integer >= 1, got {num_cpus!r}")
    quiet_ray_logging()
    address = os.environ.get("RAY_ADDRESS")
    if not ray.is_initialized():
        common = dict(log_to_driver=False, logging_level=logging.ERROR, configure_logging=True)
        if address:
            ray.init(address=address, **common)
        else:
            _start_local(num_cpus, common)
        quiet_ray_logging()  # ray.init re-configures the "ray" logger
    return {
        "mode": "cluster" if address else "local",
        "num_cpus": int(ray.cluster_resources().get("CPU", 0)),
    }


def _start_local(num_cpus: int, common: dict[str, Any], attempts: int = 3) -> None:
    """Start a private local Ray; retry when a busy machine makes start-up time out.

    Ray gives its processes 30 s to register; on a loaded 2-core machine that can pass.
    """
    for attempt in range(1, attempts + 1):
        try:
            ray.init(
                address="local",
                num_cpus=num_cpus,
                include_dashboard=False,
                _node_ip_address="127.0.0.1",
                **common,
            )
            return
        except Exception as exc:  # Ray raises a bare Exception for this time-out
            if "timed out during startup" not in str(exc) or attempt == attempts:
                raise
            ray.shutdown()


def stop_ray() -> None:
    """Shut Ray down if it runs (safe to call twice)."""
    if ray.is_initialized():
        ray.shutdown()


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
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    if minibatch_size > train_batch_size:
        raise ValueError(
            f"minibatch_size ({minibatch_size}) must not exceed train_batch_size ({train_batch_size})"
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
    if not isinstance(iterations, int) or iterations < 1:
        raise ValueError(f"iterations must be an integer >= 1, got {iterations!r}")
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
        raise FileNotFoundError(f"no checkpoint directory at {path}")
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
        raise ValueError(f"observations must be a 2-D batch (rows of observations), got {obs.shape}")
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

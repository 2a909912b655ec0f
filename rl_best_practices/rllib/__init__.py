"""Everything that touches Ray: starting it, RLlib configs, training, callbacks, Tune and Serve.

This subpackage is the course's only integration with Ray. The reference implementations in the
rest of ``rl_best_practices`` import without Ray (a test checks it); lessons reach RLlib through
the names re-exported here:

* :mod:`~rl_best_practices.rllib.runtime`: :func:`start_ray` (local and quiet, or the cluster named
  by ``RAY_ADDRESS``), :func:`stop_ray`, :func:`quiet_ray_logging`.
* :mod:`~rl_best_practices.rllib.ppo`: :func:`ppo_config` (returns scaled by default, so the
  critic learns), :func:`train`, :func:`tidy_result`, :func:`save`, :func:`restore`,
  :func:`greedy_actions`, :func:`greedy_policy`, :func:`action_probabilities`.
* :mod:`~rl_best_practices.rllib.reward_scaling`: :func:`training_env`, the return-scaled (and
  optionally penalised) env an algorithm trains on.
* :mod:`~rl_best_practices.rllib.tune`: :func:`train_seeds` and :func:`train_arms`, several seeds
  (of several configs) as one Ray Tune grid, judged on held-out episodes (:class:`SeedRuns`).
* :mod:`~rl_best_practices.rllib.callbacks`: RLlib callbacks that log reward components and drift
  checks with ``metrics_logger``.
* :mod:`~rl_best_practices.rllib.experiments`: lesson 04's :class:`ExperimentConfig` built and
  run on RLlib (:func:`build_config`, :func:`run_experiment`, :func:`run_seeds`).
* :mod:`~rl_best_practices.rllib.resume`: :func:`resumable`, checkpoints that continue training
  exactly as an uninterrupted run.
* :mod:`~rl_best_practices.rllib.offline`: :func:`bc_config` and :func:`marwil_config`,
  behaviour cloning and MARWIL from recorded Parquet episodes (lesson 05).

>>> from rl_best_practices import rllib
>>> rllib.ppo_config(seed=0, train_batch_size=400, minibatch_size=100).seed
0
"""

import os

# Ray reads these when it is imported and started; this package's modules import Ray only after
# this file has run, because Python imports a package before its modules.
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("RAY_DEDUP_LOGS", "0")
os.environ.setdefault("RAY_DISABLE_IMPORT_WARNING", "1")
os.environ.setdefault("RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO", "0")
# Tune: the classic (silent at verbose=0) console output, and no CSV/JSON/TensorBoard loggers;
# train_arms returns what the lessons need.
os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")

from rl_best_practices.rllib.callbacks import (
    DriftMetricsCallback,
    MonitorMetricsCallback,
    RewardComponentsCallback,
)
from rl_best_practices.rllib.experiments import (
    build_config,
    run_experiment,
    run_seeds,
    training_names,
)
from rl_best_practices.rllib.offline import bc_config, marwil_config
from rl_best_practices.rllib.ppo import (
    action_probabilities,
    greedy_actions,
    greedy_policy,
    ppo_config,
    restore,
    save,
    tidy_result,
    train,
)
from rl_best_practices.rllib.resume import ResumableEnvRunner, ResumablePPOLearner, resumable
from rl_best_practices.rllib.reward_scaling import training_env
from rl_best_practices.rllib.runtime import quiet_ray_logging, start_ray, stop_ray
from rl_best_practices.rllib.tune import SeedRuns, train_arms, train_seeds

__all__ = [
    "DriftMetricsCallback",
    "MonitorMetricsCallback",
    "ResumableEnvRunner",
    "ResumablePPOLearner",
    "RewardComponentsCallback",
    "SeedRuns",
    "action_probabilities",
    "bc_config",
    "build_config",
    "greedy_actions",
    "greedy_policy",
    "marwil_config",
    "ppo_config",
    "quiet_ray_logging",
    "restore",
    "resumable",
    "run_experiment",
    "run_seeds",
    "save",
    "start_ray",
    "stop_ray",
    "tidy_result",
    "train",
    "train_arms",
    "train_seeds",
    "training_env",
    "training_names",
]

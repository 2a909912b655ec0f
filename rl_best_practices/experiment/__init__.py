"""Lesson 04: experiment tracking and reproducibility.

The parts, each read in one sitting:

* :mod:`~rl_best_practices.experiment.config`: :class:`ExperimentConfig`, the lesson's config
  corrected (validated, frozen, hashed with :func:`config_hash`, saved atomically, loaded
  strictly, turned into a seeded RLlib config on current API names; the lesson's outdated RLlib
  names in :data:`OUTDATED_NAMES` are translated with an :class:`OutdatedNameWarning`, while
  ``train_batch_size`` stays RLlib's total batch over learners).
* :mod:`~rl_best_practices.experiment.provenance`: :func:`lineage` (git commit and dirty flag,
  package versions, platform) and :func:`seed_everything` (Python, NumPy, torch).
* :mod:`~rl_best_practices.experiment.tracking`: :class:`Run` writes a run directory
  (``config.json``, ``lineage.json``, ``metrics.jsonl``, ``checkpoints/``); :func:`load_run`,
  :func:`list_runs` and :func:`compare_runs` read runs back as :class:`RunRecord` and refuse a
  config edited after it was recorded.

Elsewhere: training runs from a config lives with the rest of the Ray code
(:func:`rl_best_practices.rllib.run_experiment`, :func:`rl_best_practices.rllib.run_seeds`; a PPO
config's checkpoints resume exactly, see :func:`rl_best_practices.rllib.resume.resumable`),
many seeds as a Tune grid in :func:`rl_best_practices.rllib.train_seeds`, and statistics across
seeds in :mod:`rl_best_practices.evaluation`. The errors
(:class:`ConfigError`, :class:`ConfigTypeError`, :class:`ConfigMismatchError`) are those of
:mod:`rl_best_practices.errors`, importable here too. Importing this package does not import Ray.

>>> cfg = ExperimentConfig(env_name="CartPole-v1", algorithm_config={"lr": 1e-3}, seed=7,
...                        experiment_name="demo")
>>> cfg.to_rllib().seed, cfg.to_rllib().lr, len(cfg.config_hash)
(7, 0.001, 64)
"""

from rl_best_practices.errors import (
    ConfigError,
    ConfigMismatchError,
    ConfigTypeError,
    OutdatedNameWarning,
)
from rl_best_practices.experiment.config import (
    ALGORITHMS,
    OUTDATED_NAMES,
    SCHEMA_VERSION,
    ExperimentConfig,
    config_hash,
)
from rl_best_practices.experiment.provenance import lineage, seed_everything
from rl_best_practices.experiment.tracking import (
    Run,
    RunRecord,
    compare_runs,
    list_runs,
    load_run,
)

__all__ = [
    "ALGORITHMS",
    "OUTDATED_NAMES",
    "SCHEMA_VERSION",
    "ConfigError",
    "ConfigMismatchError",
    "ConfigTypeError",
    "ExperimentConfig",
    "OutdatedNameWarning",
    "Run",
    "RunRecord",
    "compare_runs",
    "config_hash",
    "lineage",
    "list_runs",
    "load_run",
    "seed_everything",
]

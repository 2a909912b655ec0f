"""One small recorded PPO run whose per-iteration returns are committed next to this file.

``python tests/experiment/reproducible_run.py`` starts its own Ray, trains :data:`CONFIG` with
:func:`rl_best_practices.rllib.run_experiment` and prints the recorded per-iteration metrics as
JSON; ``--write`` stores them in ``reproducible_returns.json`` instead. The test
``test_reproducibility.py`` runs it in a fresh interpreter and compares with the committed file.
Regenerate the file (and say why in the commit) only when a library version or the config
changes.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from rl_best_practices import ENV_ID
from rl_best_practices.experiment import ExperimentConfig

RECORD = Path(__file__).with_name("reproducible_returns.json")
METRICS = ("episode_return_mean", "raw_return_mean", "env_steps")
CONFIG = ExperimentConfig(
    env_name=ENV_ID,
    env_config={"episode_length": 50},
    algorithm_config={"train_batch_size": 200, "minibatch_size": 100, "num_epochs": 2},
    num_iterations=3,
    checkpoint_frequency=3,
    seed=11,
    experiment_name="reproducible",
)


def record() -> dict:
    """Train :data:`CONFIG` once in this process; the config, versions and metrics as a dict."""
    from rl_best_practices import rllib

    rllib.start_ray(num_cpus=1)
    try:
        with tempfile.TemporaryDirectory() as root:
            run = rllib.run_experiment(CONFIG, root, clock=lambda: 0.0)
    finally:
        rllib.stop_ray()
    return {
        "config": CONFIG.to_dict(),
        "versions": run.lineage["versions"],
        "python": run.lineage["python"],
        "platform": run.lineage["platform"],
        "metrics": {name: [m[name] for m in run.metrics] for name in METRICS},
    }


if __name__ == "__main__":
    result = record()
    if sys.argv[1:] == ["--write"]:
        RECORD.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    else:
        print(json.dumps(result))

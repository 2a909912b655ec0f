"""What recording a run costs next to the training it records, measured in the same run.

* logging one iteration (append one JSON line to ``metrics.jsonl`` and flush) against one
  1000-step PPO iteration on the market env;
* creating the run directory (``config.json``, ``lineage.json`` with two ``git`` calls) against
  building the algorithm.
"""

import tempfile
import time

from rl_best_practices import ENV_ID, rllib
from rl_best_practices.experiment import ExperimentConfig, Run

from common import Row, per_call_seconds

CONFIG = ExperimentConfig(
    env_name=ENV_ID,
    algorithm_config={"train_batch_size_per_learner": 1000, "minibatch_size": 250, "num_epochs": 6},
    num_iterations=3,
    experiment_name="bench",
)
LOG_CALLS = 2000


def run() -> list[Row]:
    with tempfile.TemporaryDirectory() as root:
        log_run = Run.create(CONFIG, root)
        iteration = iter(range(1, 10**9))
        metrics = {"episode_return_mean": -123.456, "episode_len_mean": 200.0, "env_steps": 1000,
                   "seconds": 1.5}
        log_s = per_call_seconds(lambda: log_run.log({"iteration": next(iteration), **metrics}),
                                 LOG_CALLS)
        create_s = per_call_seconds(lambda: Run.create(CONFIG, root), 5, repeats=3)

    rllib.start_ray(num_cpus=2)
    try:
        start = time.perf_counter()
        algo = CONFIG.build_algo()
        build_s = time.perf_counter() - start
        try:
            iteration_s = min(h["seconds"] for h in rllib.train(algo, CONFIG.num_iterations))
        finally:
            algo.stop()
    finally:
        rllib.stop_ray()

    log_ratio, create_ratio = log_s / iteration_s, create_s / build_s
    return [
        Row(
            figure="metrics logging per iteration (append + flush one JSON line)",
            value=f"{log_s * 1e6:.0f} µs ({log_ratio:.4%} of an iteration)",
            baseline=f"one 1000-step PPO iteration {iteration_s:.2f} s",
            ratio=log_ratio,
            target="≤ 0.1% of an iteration",
            met=log_ratio <= 1e-3,
        ),
        Row(
            figure="run directory at start (config, lineage with git commit and dirty flag)",
            value=f"{create_s * 1e3:.0f} ms ({create_ratio:.1%} of the build)",
            baseline=f"building the PPO algorithm {build_s:.2f} s",
            ratio=create_ratio,
            target="≤ 5% of the build",
            met=create_ratio <= 0.05,
        ),
    ]

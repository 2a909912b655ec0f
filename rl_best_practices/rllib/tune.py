"""Several seeds of one RLlib config, trained as a Ray Tune grid and judged on held-out episodes.

:func:`train_seeds` runs one Tune trial per seed (a grid over ``seed``), ``max_concurrent`` at a
time (two on a 2-core machine). Each trial builds the algorithm with its seed, trains a fixed
number of iterations, records its learning curve, and at the end acts greedily on held-out
market episodes that training never saw. The result, :class:`SeedRuns`, holds one row per seed:
what :func:`rl_best_practices.evaluation.seed_interval` and
:func:`rl_best_practices.evaluation.compare_seeds` need.

Trials reuse their worker process (Tune's ``reuse_actors``), so Ray, torch and RLlib are imported
once per concurrent trial rather than once per seed. The call uses whatever Ray runs: started by
:func:`~rl_best_practices.rllib.start_ray`, that is a local instance or the cluster named by
``RAY_ADDRESS``, where the same grid spreads over the cluster's CPUs (with more concurrent trials
if you raise ``max_concurrent``).
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from ray import tune
from ray.rllib.algorithms.algorithm_config import AlgorithmConfig

from rl_best_practices.envs import episode_summaries
from rl_best_practices.errors import InvalidTypeError, InvalidValueError
from rl_best_practices.rllib.ppo import greedy_policy, tidy_result
from rl_best_practices.validation import check_int

__all__ = ["CURVE_METRICS", "SeedRuns", "train_arms", "train_seeds"]

CURVE_METRICS = ("episode_return_mean", "raw_return_mean", "vf_explained_var")
"""Per-iteration metrics kept as learning curves (see :func:`rllib.train`'s tidy metrics)."""


@dataclass(frozen=True)
class SeedRuns:
    """Learning curves and held-out results of one config trained with several seeds.

    Attributes:
        seeds: the training seeds, in the order of the rows below.
        curves: metric name -> array ``(n_seeds, iterations)`` (``CURVE_METRICS``).
        held_out: summary name -> array ``(n_seeds, n_episodes)``: one value per held-out
            episode (``return``, ``max_drawdown``, ``mean_abs_position``, ``turnover``,
            ``max_var``, as :func:`rl_best_practices.envs.episode_summaries` computes them).
    """

    seeds: tuple[int, ...]
    curves: dict[str, np.ndarray]
    held_out: dict[str, np.ndarray]

    def per_seed(self, summary: str = "return") -> np.ndarray:
        """The mean of ``summary`` over the held-out episodes: one number per seed.

        The seed is the unit of replication: the episodes of one seed share its policy, so
        intervals are computed over these per-seed means, never over pooled episodes.
        """
        if summary not in self.held_out:
            raise InvalidValueError(
                f"summary must be one of {sorted(self.held_out)}, got {summary!r}"
            )
        return self.held_out[summary].mean(axis=1)


class _SeededRun(tune.Trainable):
    """One seed: build, train ``iterations`` times, then evaluate greedily on held-out seeds."""

    def setup(self, config: dict[str, Any], *, arms: Mapping[str, AlgorithmConfig],
              iterations: int, held_out_seeds: Sequence[int],
              env_config: Mapping[str, Any] | None) -> None:
        self._arms, self._iterations = arms, iterations
        self._held_out_seeds, self._env_config = list(held_out_seeds), dict(env_config or {})
        self._start(config)

    def _start(self, config: dict[str, Any]) -> None:
        base = self._arms[config["arm"]].copy(copy_frozen=False)
        self._algo = base.debugging(seed=config["seed"]).build_algo()
        self._curve: dict[str, list[float]] = {name: [] for name in CURVE_METRICS}

    def step(self) -> dict[str, Any]:
        tidy = tidy_result(self._algo.train(), self.iteration + 1)
        for name in CURVE_METRICS:
            self._curve[name].append(tidy[name])
        if self.iteration + 1 < self._iterations:
            return tidy
        summaries = episode_summaries(
            greedy_policy(self._algo), self._held_out_seeds, self._env_config
        )
        return {
            **tidy,
            "curves": {name: list(values) for name, values in self._curve.items()},
            "held_out": {name: values.tolist() for name, values in summaries.items()},
            "done": True,
        }

    def reset_config(self, new_config: dict[str, Any]) -> bool:
        self._algo.stop()
        self._start(new_config)
        return True

    def cleanup(self) -> None:
        self._algo.stop()


def _check_seeds(name: str, seeds: Sequence[int], minimum_count: int) -> list[int]:
    checked = [check_int(f"each of {name}", s, minimum=0) for s in seeds]
    if len(checked) < minimum_count or len(set(checked)) != len(checked):
        raise InvalidValueError(
            f"{name} must be at least {minimum_count} distinct seeds, got {checked}"
        )
    return checked


def train_arms(
    arms: Mapping[str, AlgorithmConfig],
    seeds: Sequence[int],
    iterations: int,
    *,
    held_out_seeds: Sequence[int],
    env_config: Mapping[str, Any] | None = None,
    max_concurrent: int = 2,
) -> dict[str, SeedRuns]:
    """Train every config of ``arms`` once per seed, as one Ray Tune grid over (arm, seed).

    Args:
        arms: label -> RLlib config (for example from
            :func:`rl_best_practices.rllib.ppo_config`); each trial copies its arm's config and
            sets ``debugging(seed=seed)``.
        seeds: distinct training seeds, at least 2 (5 or more for a conclusion); every arm
            uses the same seeds.
        iterations: training iterations per trial.
        held_out_seeds: market seeds of the evaluation episodes (disjoint from training's).
        env_config: the market env's settings for evaluation, on the raw (unshaped) reward.
        max_concurrent: trials at a time; each takes one CPU.

    Returns one :class:`SeedRuns` per arm, rows in the order of ``seeds``. Needs a running Ray
    (``rllib.start_ray()``).
    """
    if not isinstance(arms, Mapping) or not arms:
        raise InvalidTypeError("arms must map at least one label to an RLlib AlgorithmConfig")
    for label, config in arms.items():
        if not isinstance(config, AlgorithmConfig):
            raise InvalidTypeError(
                f"arms[{label!r}] must be an RLlib AlgorithmConfig, got {config!r}"
            )
    seeds = _check_seeds("seeds", seeds, 2)
    held_out_seeds = _check_seeds("held_out_seeds", held_out_seeds, 1)
    iterations = check_int("iterations", iterations, minimum=1)
    max_concurrent = check_int("max_concurrent", max_concurrent, minimum=1)
    trainable = tune.with_parameters(
        _SeededRun, arms=dict(arms), iterations=iterations,
        held_out_seeds=held_out_seeds, env_config=env_config,
    )
    with tempfile.TemporaryDirectory(prefix="rl_best_practices_tune_") as storage:
        tuner = tune.Tuner(
            trainable,
            param_space={"arm": tune.grid_search(list(arms)), "seed": tune.grid_search(seeds)},
            tune_config=tune.TuneConfig(max_concurrent_trials=max_concurrent, reuse_actors=True),
            run_config=tune.RunConfig(
                storage_path=storage, verbose=0, stop={"training_iteration": iterations},
                log_to_file=False,
                progress_reporter=tune.CLIReporter(),  # silent at verbose=0, also in Jupyter
                # the held-out results are the product; a trial needs no checkpoint of its own
                checkpoint_config=tune.CheckpointConfig(checkpoint_at_end=False),
            ),
        )
        grid = tuner.fit()
    if grid.errors:
        raise grid.errors[0]
    finals = {(r.config["arm"], r.config["seed"]): r.metrics for r in grid}

    def stack(label: str, part: str) -> dict[str, np.ndarray]:
        rows = [finals[label, seed][part] for seed in seeds]
        return {name: np.array([row[name] for row in rows]) for name in rows[0]}

    return {
        label: SeedRuns(tuple(seeds), stack(label, "curves"), stack(label, "held_out"))
        for label in arms
    }


def train_seeds(
    config: AlgorithmConfig,
    seeds: Sequence[int],
    iterations: int,
    *,
    held_out_seeds: Sequence[int],
    env_config: Mapping[str, Any] | None = None,
    max_concurrent: int = 2,
) -> SeedRuns:
    """Train one config once per seed as a Ray Tune grid: :func:`train_arms` with one arm."""
    return train_arms(
        {"config": config}, seeds, iterations, held_out_seeds=held_out_seeds,
        env_config=env_config, max_concurrent=max_concurrent,
    )["config"]

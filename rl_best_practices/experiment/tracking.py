"""Run directories: write a run as it trains, read it back, compare runs.

One run is one directory ``<root>/<name>-seed<seed>-<hash8>`` holding

* ``config.json``: the :class:`~rl_best_practices.experiment.ExperimentConfig`, written first;
* ``lineage.json``: the config's hash, the seed and :func:`~rl_best_practices.experiment.lineage`;
* ``metrics.jsonl``: one JSON line per iteration, appended and flushed as training goes;
* ``checkpoints/iteration_NNNN``: RLlib checkpoints.

:class:`Run` writes one; :func:`load_run` and :func:`list_runs` read them back as
:class:`RunRecord` and refuse a config edited after it was recorded; :func:`compare_runs` shows
what differs between runs. Training a run goes through :mod:`rl_best_practices.rllib`
(:meth:`Run.train`, :func:`rl_best_practices.rllib.run_experiment`).

>>> import tempfile
>>> from rl_best_practices.experiment import ExperimentConfig
>>> root = tempfile.mkdtemp()
>>> for seed in (1, 2):
...     run = Run.create(ExperimentConfig(env_name="CartPole-v1", seed=seed), root)
...     run.log({"iteration": 1, "episode_return_mean": 20.0 + seed})
>>> compare_runs(list_runs(root))["differences"]
{'seed': [1, 2]}
"""

from __future__ import annotations

import itertools
import json
import math
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rl_best_practices.errors import (
    ConfigMismatchError,
    InvalidTypeError,
    InvalidValueError,
    MissingFileError,
)
from rl_best_practices.experiment.config import FIELDS, SCHEMA_VERSION, ExperimentConfig
from rl_best_practices.experiment.provenance import lineage
from rl_best_practices.storage import atomic_write_json, read_json
from rl_best_practices.validation import check_int, check_text

__all__ = ["Run", "RunRecord", "compare_runs", "list_runs", "load_run"]

LINEAGE_KIND = "run_lineage"


def _check_config(config: Any) -> ExperimentConfig:
    if not isinstance(config, ExperimentConfig):
        raise InvalidTypeError(
            f"config must be an ExperimentConfig, got {type(config).__name__}"
        )
    return config


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "run"


def _finite_or_none(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _read_metrics(path: Path) -> list[dict[str, Any]]:
    """The lines of ``metrics.jsonl``; a torn last line (a crash mid-write) is dropped."""
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    elif lines:
        lines.pop()  # a torn last line from a crash mid-write: the iteration was not completed
    rows = []
    for number, line in enumerate(lines, start=1):
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise InvalidValueError(f"{path} line {number} is not valid JSON: {exc}") from None
    return rows


@dataclass(frozen=True)
class RunRecord:
    """A recorded run read back from its directory (see :func:`load_run`).

    >>> import tempfile
    >>> from rl_best_practices.experiment import ExperimentConfig
    >>> run = Run.create(ExperimentConfig(env_name="CartPole-v1"), tempfile.mkdtemp())
    >>> run.log({"iteration": 1, "episode_return_mean": 9.5}); run.log({"iteration": 2})
    >>> load_run(run.path).values().tolist()
    [9.5, nan]
    """

    path: Path
    config: ExperimentConfig
    lineage: dict[str, Any]
    metrics: list[dict[str, Any]]
    checkpoints: list[Path]

    @property
    def name(self) -> str:
        """The run directory's name, unique under its root."""
        return self.path.name

    def values(self, metric: str = "episode_return_mean") -> np.ndarray:
        """One metric per iteration, as floats (a missing value is NaN)."""
        return np.array(
            [np.nan if m.get(metric) is None else float(m[metric]) for m in self.metrics]
        )


class Run:
    """One run directory being written: ``config.json``, ``lineage.json``, ``metrics.jsonl``,
    ``checkpoints/iteration_NNNN``. Create it with :meth:`create`; ``Run(path, config)`` reopens
    an existing one and continues after its last logged iteration.

    >>> import tempfile
    >>> from rl_best_practices.experiment import ExperimentConfig
    >>> cfg = ExperimentConfig(env_name="CartPole-v1", experiment_name="demo")
    >>> run = Run.create(cfg, tempfile.mkdtemp(), clock=lambda: 0.0)
    >>> run.log({"iteration": 1, "episode_return_mean": 21.5})
    >>> run.path.name, load_run(run.path).metrics  # doctest: +ELLIPSIS
    ('demo-seed0-...', [{'episode_return_mean': 21.5, 'iteration': 1}])
    """

    def __init__(self, path: str | os.PathLike, config: ExperimentConfig) -> None:
        self.path = Path(path)
        self.config = _check_config(config)
        logged = _read_metrics(self.path / "metrics.jsonl")
        self._last_iteration = int(logged[-1]["iteration"]) if logged else 0

    @classmethod
    def create(
        cls,
        config: ExperimentConfig,
        root: str | os.PathLike,
        *,
        repo: str | os.PathLike | None = None,
        clock: Callable[[], float] = time.time,
    ) -> Run:
        """Make a fresh directory ``<root>/<name>-seed<seed>-<hash8>`` (``-2``, ``-3`` if taken)
        and record the config and its lineage there before any training."""
        config = _check_config(config)
        digest = config.config_hash
        base = f"{_slug(config.experiment_name)}-seed{config.seed}-{digest[:8]}"
        root = Path(root)
        root.mkdir(parents=True, exist_ok=True)
        for n in itertools.count(1):  # never reuse a directory: a run is never overwritten
            path = root / (base if n == 1 else f"{base}-{n}")
            try:
                path.mkdir()
                break
            except FileExistsError:
                continue
        config.save(path / "config.json")
        record = {"kind": LINEAGE_KIND, "schema_version": SCHEMA_VERSION,
                  "config_hash": digest, "seed": config.seed, **lineage(repo, clock)}
        atomic_write_json(path / "lineage.json", record)
        return cls(path, config)

    def log(self, metrics: Mapping[str, Any]) -> None:
        """Append one iteration's metrics to ``metrics.jsonl`` and flush it to the OS.

        ``metrics["iteration"]`` must be an integer that increases from call to call; NaN and
        infinities are written as ``null``. A crash loses at most the line being written.
        """
        if not isinstance(metrics, Mapping):
            raise InvalidTypeError(f"metrics must be a dict, got {type(metrics).__name__}")
        iteration = check_int("metrics['iteration']", metrics.get("iteration"),
                              minimum=self._last_iteration + 1)
        line = json.dumps({k: _finite_or_none(v) for k, v in metrics.items()},
                          sort_keys=True, allow_nan=False)
        with open(self.path / "metrics.jsonl", "a", encoding="utf-8") as handle:
            handle.write(line + "\n")
            handle.flush()
        self._last_iteration = iteration

    def checkpoint(self, algo: Any, iteration: int) -> Path:
        """Save ``algo`` to ``checkpoints/iteration_NNNN`` with ``rllib.save``; return the path.

        For a PPO algorithm built from an :class:`ExperimentConfig`, training restored from it
        with ``rllib.restore`` continues exactly as this run did (see
        :func:`rl_best_practices.rllib.resume.resumable`).
        """
        from rl_best_practices import rllib

        iteration = check_int("iteration", iteration, minimum=0)
        return rllib.save(algo, self.path / "checkpoints" / f"iteration_{iteration:04d}")

    def train(self, algo: Any) -> list[dict[str, Any]]:
        """Train ``config.num_iterations`` iterations, logging each and checkpointing every
        ``checkpoint_frequency`` iterations and after the last one."""
        from rl_best_practices import rllib

        every, last = self.config.checkpoint_frequency, self.config.num_iterations

        def record(tidy: dict[str, Any], _raw: dict[str, Any]) -> None:
            self.log(tidy)
            if tidy["iteration"] % every == 0 or tidy["iteration"] == last:
                self.checkpoint(algo, tidy["iteration"])

        return rllib.train(algo, last, on_iteration=record)


def load_run(path: str | os.PathLike) -> RunRecord:
    """Read a run directory; refuse it if ``config.json`` changed after the run was recorded.

    Raises :class:`~rl_best_practices.errors.ConfigMismatchError` when the config's hash differs
    from the one in ``lineage.json``, :class:`~rl_best_practices.errors.MissingFileError` (a
    ``FileNotFoundError``) when the directory is missing.
    """
    path = Path(path)
    if not path.is_dir():
        raise MissingFileError(f"no run directory at {path}")
    record = read_json(path / "lineage.json", kind=LINEAGE_KIND)
    config = ExperimentConfig.load(path / "config.json")
    if config.config_hash != record.get("config_hash"):
        raise ConfigMismatchError(
            f"{path / 'config.json'} was edited after the run was recorded: its hash "
            f"{config.config_hash[:12]}... differs from the recorded "
            f"{str(record.get('config_hash'))[:12]}...; this run no longer describes that config "
            f"(start a new run instead of editing a recorded one)"
        )
    checkpoints = sorted(p for p in (path / "checkpoints").glob("iteration_*") if p.is_dir())
    return RunRecord(path, config, record, _read_metrics(path / "metrics.jsonl"), checkpoints)


def list_runs(root: str | os.PathLike) -> list[RunRecord]:
    """Every run directory under ``root`` (sorted by name), each verified by :func:`load_run`."""
    root = Path(root)
    if not root.is_dir():
        raise MissingFileError(f"no runs folder at {root}")
    return [load_run(p) for p in sorted(root.iterdir()) if (p / "lineage.json").is_file()]


def compare_runs(
    runs: Sequence[RunRecord], metric: str = "episode_return_mean"
) -> dict[str, Any]:
    """What differs between runs' configs, and each run's last value of ``metric``.

    Returns ``{"differences": {field: [value per run]}, "final": {run name: value}}``; only
    fields that differ appear, so two runs of one config show ``{}``.
    """
    runs = list(runs)
    expected = "runs must be a non-empty list of RunRecord (from load_run or list_runs)"
    if not runs:
        raise InvalidValueError(f"{expected}, got an empty list")
    wrong = [type(r).__name__ for r in runs if not isinstance(r, RunRecord)]
    if wrong:
        raise InvalidTypeError(f"{expected}, got {wrong}")
    metric = check_text("metric", metric)
    configs = [r.config.to_dict() for r in runs]
    differences = {
        name: [c[name] for c in configs]
        for name in FIELDS
        if any(c[name] != configs[0][name] for c in configs)
    }
    final = {}
    for r in runs:
        values = r.values(metric)
        final[r.name] = float(values[-1]) if values.size else None
    return {"differences": differences, "final": final}

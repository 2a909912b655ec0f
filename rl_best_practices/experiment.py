"""Lesson 04: experiment tracking and reproducibility.

* :class:`ExperimentConfig` is the lesson's config, corrected: validated at construction, frozen,
  hashed (:func:`config_hash`), saved atomically with a schema version, loaded strictly, and
  turned into a seeded RLlib config on current API names (:meth:`ExperimentConfig.to_rllib`).
  The lesson's outdated RLlib names are translated with an :class:`OutdatedNameWarning`.
* :func:`seed_everything` seeds Python, NumPy and torch; the RLlib config is seeded through
  ``debugging(seed=...)`` and samples in the driver (``num_env_runners=0``), so a run repeats.
* :func:`lineage` records where a run came from: git commit and dirty flag, package versions,
  platform.
* :class:`Run` writes one run directory (``config.json``, ``lineage.json``, ``metrics.jsonl``
  appended and flushed every iteration, ``checkpoints/``); :func:`run_experiment` and
  :func:`run_seeds` train and record; :func:`load_run`, :func:`list_runs` and
  :func:`compare_runs` read them back and refuse a config edited after it was recorded.
* :func:`bootstrap_ci`: mean and a seeded bootstrap confidence interval across seeds.

Ray and RLlib are imported on first use, so the helpers that do not need them stay light.

>>> cfg = ExperimentConfig(env_name="CartPole-v1", algorithm_config={"lr": 1e-3}, seed=7,
...                        experiment_name="demo")
>>> cfg.to_rllib().seed, cfg.to_rllib().lr, len(cfg.config_hash)
(7, 0.001, 64)
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import inspect
import json
import math
import os
import platform
import random
import re
import subprocess
import time
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from rl_best_practices.envs import ENV_ID, MarketEnv
from rl_best_practices.storage import atomic_write_json, json_sha256, read_json

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
    "bootstrap_ci",
    "compare_runs",
    "config_hash",
    "lineage",
    "list_runs",
    "load_run",
    "run_experiment",
    "run_seeds",
    "seed_everything",
]

SCHEMA_VERSION = 1
CONFIG_KIND = "experiment_config"
LINEAGE_KIND = "run_lineage"
ALGORITHMS = ("PPO", "DQN")
FRAMEWORKS = ("torch",)
MAX_SEED = 2**31 - 1  # fits every library's seed type, a signed 32-bit integer included
OUTDATED_NAMES = {
    "num_sgd_iter": "num_epochs",
    "train_batch_size": "train_batch_size_per_learner",
    "sgd_minibatch_size": "minibatch_size",
}
# Keys owned by a field of ExperimentConfig: setting them inside algorithm_config is refused.
RESERVED_KEYS = {
    "seed": "seed",
    "framework": "framework",
    "framework_str": "framework",
    "env": "env_name",
    "env_config": "env_config",
}
# Arguments of rllib.ppo_config, so PPO reuses the course's helper (its defaults and checks).
PPO_HELPER_ARGS = {
    "train_batch_size_per_learner": "train_batch_size",
    "minibatch_size": "minibatch_size",
    "num_epochs": "num_epochs",
    "lr": "lr",
    "gamma": "gamma",
}
# Range checks for the common hyperparameters: (kind, lowest, highest).
KNOWN_RANGES = {
    "lr": ("number", 0.0, None),
    "gamma": ("number", 0.0, 1.0),
    "clip_param": ("number", 0.0, None),
    "entropy_coeff": ("number", 0.0, None),
    "train_batch_size_per_learner": ("integer", 1, None),
    "minibatch_size": ("integer", 1, None),
    "num_epochs": ("integer", 1, None),
}
FIELDS = (
    "env_name",
    "env_config",
    "algorithm",
    "algorithm_config",
    "num_iterations",
    "checkpoint_frequency",
    "seed",
    "framework",
    "experiment_name",
    "description",
    "tags",
)


class ConfigError(ValueError):
    """A setting of :class:`ExperimentConfig` (or its file) is not allowed."""


class ConfigTypeError(ConfigError, TypeError):
    """A setting has the wrong type (also a :class:`TypeError`)."""


class ConfigMismatchError(ConfigError):
    """A run's ``config.json`` no longer matches the hash recorded when the run started."""


class OutdatedNameWarning(FutureWarning, UserWarning):
    """An RLlib setting used an outdated name and was translated to the current one."""


class ConfigHash(str):
    """The hex SHA-256 of a config; also callable, so ``cfg.config_hash()`` works too."""

    def __call__(self) -> str:
        return str(self)


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _check_seed(seed: Any, name: str = "seed") -> int:
    if not _is_int(seed):
        raise ConfigTypeError(f"{name} must be an integer in [0, {MAX_SEED}], got {seed!r}")
    if not 0 <= seed <= MAX_SEED:
        raise ConfigError(f"{name} must be an integer in [0, {MAX_SEED}], got {seed!r}")
    return int(seed)


def _json_copy(value: Any, name: str) -> Any:
    """A deep copy through JSON: proves the value can be saved exactly, returns plain types."""
    try:
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise ConfigTypeError(
            f"{name} must hold only JSON values (numbers, strings, booleans, None, lists, dicts "
            f"with string keys), not NaN or objects: {exc}"
        ) from None


def _plain_mapping(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigTypeError(f"{name} must be a dict, got {type(value).__name__}")
    bad = [k for k in value if not isinstance(k, str)]
    if bad:
        raise ConfigTypeError(f"{name} keys must be strings, got {bad!r}")
    return _json_copy(dict(value), name)


@functools.cache
def _training_names(algorithm: str) -> frozenset[str]:
    """The keyword arguments of the algorithm config's ``training()``: what algorithm_config may set."""
    config = _rllib_config_class(algorithm)()
    names = set()
    for cls in type(config).__mro__:
        method = cls.__dict__.get("training")
        if method is None:
            continue
        for param in inspect.signature(method).parameters.values():
            if param.name != "self" and param.kind not in (param.VAR_KEYWORD, param.VAR_POSITIONAL):
                names.add(param.name)
    return frozenset(names - set(OUTDATED_NAMES))


def _rllib_config_class(algorithm: str) -> type:
    if algorithm == "PPO":
        from ray.rllib.algorithms.ppo import PPOConfig

        return PPOConfig
    from ray.rllib.algorithms.dqn import DQNConfig

    return DQNConfig


def _translate_outdated(algorithm_config: dict[str, Any], stacklevel: int) -> dict[str, Any]:
    out = {}
    for key, value in algorithm_config.items():
        new = OUTDATED_NAMES.get(key)
        if new is None:
            out[key] = value
            continue
        if new in algorithm_config:
            raise ConfigError(
                f"algorithm_config sets both the outdated {key!r} and its current name {new!r}; "
                f"keep only {new!r}"
            )
        warnings.warn(
            f"algorithm_config: RLlib's outdated {key!r} was translated to {new!r}; "
            f"use {new!r} in new configs",
            OutdatedNameWarning,
            stacklevel=stacklevel,
        )
        out[new] = value
    return out


def _check_algorithm_config(algorithm: str, algorithm_config: dict[str, Any]) -> None:
    for key, owner in RESERVED_KEYS.items():
        if key in algorithm_config:
            raise ConfigError(
                f"algorithm_config must not set {key!r}: it comes from the field {owner!r}"
            )
    allowed = _training_names(algorithm)
    for key in algorithm_config:
        if key not in allowed:
            close = difflib.get_close_matches(key, sorted(allowed), n=3)
            hint = f"; did you mean {close}?" if close else ""
            raise ConfigError(
                f"algorithm_config key {key!r} is not a training setting of RLlib's "
                f"{algorithm}Config{hint} (allowed: the arguments of {algorithm}Config.training())"
            )
    for key, (kind, low, high) in KNOWN_RANGES.items():
        if key not in algorithm_config:
            continue
        value = algorithm_config[key]
        ok_type = _is_int(value) if kind == "integer" else (
            isinstance(value, (int, float)) and not isinstance(value, bool)
        )
        if not ok_type:
            raise ConfigTypeError(f"algorithm_config[{key!r}] must be a {kind}, got {value!r}")
        if not math.isfinite(value) or value < low or (high is not None and value > high):
            allowed_range = f">= {low}" if high is None else f"in [{low}, {high}]"
            raise ConfigError(f"algorithm_config[{key!r}] must be {allowed_range}, got {value!r}")


def _check_env(env_name: Any, env_config: dict[str, Any], algorithm: str) -> None:
    if not isinstance(env_name, str) or not env_name:
        raise ConfigTypeError(f"env_name must be a non-empty Gymnasium id, got {env_name!r}")
    try:
        gym.spec(env_name)
    except gym.error.Error:
        raise ConfigError(
            f"env_name {env_name!r} is not a registered Gymnasium id; for example "
            f"{ENV_ID!r} (the course's market env) or 'CartPole-v1'"
        ) from None
    try:
        env = gym.make(env_name, disable_env_checker=True, **env_config)
    except Exception as exc:  # the env's own validation, whatever it raises
        raise ConfigError(f"env_config {env_config!r} is not accepted by {env_name!r}: {exc}") from None
    try:
        if algorithm == "DQN" and not isinstance(env.action_space, spaces.Discrete):
            raise ConfigError(
                f"algorithm 'DQN' needs a discrete action space; {env_name!r} with this env_config "
                f"has {env.action_space} (use 'PPO', or a discrete action_type)"
            )
    finally:
        env.close()


def config_hash(config: "ExperimentConfig | Mapping[str, Any]") -> str:
    """SHA-256 (hex) of the canonical JSON of a config: sorted keys, no spaces, no NaN.

    Two configs hash alike exactly when every field is equal, whatever the key order.

    >>> config_hash({"b": 1, "a": [1, 2]}) == config_hash({"a": [1, 2], "b": 1})
    True
    >>> config_hash({"a": 1})[:12]
    '015abd7f5cc5'
    """
    return json_sha256(config.to_dict() if isinstance(config, ExperimentConfig) else config)


@dataclass(frozen=True)
class ExperimentConfig:
    """Everything that defines one training run, validated when it is built.

    Frozen: change a field with ``dataclasses.replace(cfg, seed=1)``, which validates again.
    ``algorithm_config`` holds arguments of RLlib's ``<algorithm>Config.training()`` under their
    current names; the outdated ``num_sgd_iter``, ``train_batch_size`` and
    ``sgd_minibatch_size`` are translated (to ``num_epochs``, ``train_batch_size_per_learner``,
    ``minibatch_size``) with an :class:`OutdatedNameWarning`. PPO starts from the course's small
    defaults (:func:`rl_best_practices.rllib.ppo_config`), DQN from RLlib's.

    Raises :class:`ConfigError` (a ``ValueError``) naming the field and what is allowed, or
    :class:`ConfigTypeError` (also a ``TypeError``) for a wrong type.

    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     cfg = ExperimentConfig(algorithm_config={"num_sgd_iter": 4}, experiment_name="x")
    >>> cfg.algorithm_config, caught[0].category.__name__
    ({'num_epochs': 4}, 'OutdatedNameWarning')
    >>> ExperimentConfig(framework="tf")
    Traceback (most recent call last):
    ...
    rl_best_practices.experiment.ConfigError: framework must be one of ('torch',) (RLlib's current API stack has no TensorFlow), got 'tf'
    """

    env_name: str = ENV_ID
    env_config: dict[str, Any] = field(default_factory=dict)
    algorithm: str = "PPO"
    algorithm_config: dict[str, Any] = field(default_factory=dict)
    num_iterations: int = 10
    checkpoint_frequency: int = 5
    seed: int = 0
    framework: str = "torch"
    experiment_name: str = "experiment"
    description: str = ""
    tags: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.algorithm not in ALGORITHMS:
            raise ConfigError(f"algorithm must be one of {ALGORITHMS}, got {self.algorithm!r}")
        if self.framework not in FRAMEWORKS:
            raise ConfigError(
                f"framework must be one of {FRAMEWORKS} (RLlib's current API stack has no "
                f"TensorFlow), got {self.framework!r}"
            )
        for name in ("num_iterations", "checkpoint_frequency"):
            value = getattr(self, name)
            if not _is_int(value):
                raise ConfigTypeError(f"{name} must be an integer >= 1, got {value!r}")
            if value < 1:
                raise ConfigError(f"{name} must be an integer >= 1, got {value!r}")
            object.__setattr__(self, name, int(value))
        object.__setattr__(self, "seed", _check_seed(self.seed))
        for name in ("experiment_name", "description"):
            if not isinstance(getattr(self, name), str):
                raise ConfigTypeError(f"{name} must be a string, got {getattr(self, name)!r}")
        if not self.experiment_name.strip():
            raise ConfigError("experiment_name must be a non-empty string")
        if isinstance(self.tags, str) or not isinstance(self.tags, (list, tuple)):
            raise ConfigTypeError(f"tags must be a list of strings, got {self.tags!r}")
        if not all(isinstance(t, str) for t in self.tags):
            raise ConfigTypeError(f"tags must be a list of strings, got {self.tags!r}")
        object.__setattr__(self, "tags", list(self.tags))

        env_config = _plain_mapping(self.env_config, "env_config")
        algorithm_config = _plain_mapping(self.algorithm_config, "algorithm_config")
        # stacklevel 4: warn -> _translate_outdated -> __post_init__ -> __init__ -> the caller
        algorithm_config = _translate_outdated(algorithm_config, stacklevel=4)
        _check_env(self.env_name, env_config, self.algorithm)
        _check_algorithm_config(self.algorithm, algorithm_config)
        object.__setattr__(self, "env_config", env_config)
        object.__setattr__(self, "algorithm_config", algorithm_config)
        try:  # the remaining cross-checks are RLlib's own (e.g. minibatch <= batch)
            self.to_rllib()
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"algorithm_config {algorithm_config!r} is rejected: {exc}") from None

    # --- the lesson's API -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The fields as plain JSON types (a deep copy: editing it leaves the config alone)."""
        return {name: _json_copy(getattr(self, name), name) for name in FIELDS}

    def save(self, path: str | os.PathLike) -> Path:
        """Write the config atomically as JSON with its ``kind`` and ``schema_version``."""
        path = Path(path)
        atomic_write_json(path, {"kind": CONFIG_KIND, "schema_version": SCHEMA_VERSION, **self.to_dict()})
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> "ExperimentConfig":
        """Read a file written by :meth:`save`; unknown or missing keys are refused by name.

        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "config.json"
        >>> cfg = ExperimentConfig(env_name="CartPole-v1", seed=3, experiment_name="demo")
        >>> ExperimentConfig.load(cfg.save(path)) == cfg
        True
        """
        data = read_json(path)
        if not isinstance(data, dict):
            raise ConfigError(f"{path} holds {type(data).__name__}, expected an experiment config object")
        expected = {"kind", "schema_version", *FIELDS}
        missing, unknown = sorted(expected - set(data)), sorted(set(data) - expected)
        if missing or unknown:
            raise ConfigError(
                f"{path} is not a valid experiment config file: missing keys {missing}, "
                f"unknown keys {unknown} (expected exactly {sorted(expected)})"
            )
        if data["kind"] != CONFIG_KIND:
            raise ConfigError(f"{path} holds {data['kind']!r}, expected a {CONFIG_KIND!r} file")
        if data["schema_version"] != SCHEMA_VERSION:
            raise ConfigError(
                f"{path} has schema_version {data['schema_version']!r}; this version reads "
                f"{SCHEMA_VERSION}"
            )
        return cls(**{name: data[name] for name in FIELDS})

    # --- beyond the lesson ------------------------------------------------------------------
    @property
    def config_hash(self) -> ConfigHash:
        """SHA-256 of the canonical JSON of :meth:`to_dict` (see :func:`config_hash`)."""
        return ConfigHash(config_hash(self.to_dict()))

    def to_rllib(self) -> Any:
        """The matching RLlib ``AlgorithmConfig``: current names, seeded, sampling in the driver.

        ``debugging(seed=...)`` seeds RLlib's RNGs and the env; ``num_env_runners=0`` samples in
        the driver process, so the same config and seed give the same per-iteration returns on
        a CPU. Call ``.build_algo()`` on it, or use :meth:`build_algo`, which also calls
        :func:`seed_everything`.
        """
        env = MarketEnv if self.env_name == ENV_ID else self.env_name
        settings = dict(self.algorithm_config)
        if self.algorithm == "PPO":
            from rl_best_practices import rllib

            helper = {arg: settings.pop(key) for key, arg in PPO_HELPER_ARGS.items() if key in settings}
            config = rllib.ppo_config(env, self.env_config, seed=self.seed, **helper)
        else:
            config = (
                _rllib_config_class(self.algorithm)()
                .environment(env, env_config=dict(self.env_config))
                .env_runners(num_env_runners=0)
                .debugging(seed=self.seed, log_level="ERROR")
                .reporting(metrics_num_episodes_for_smoothing=10)
            )
        if settings:
            config.training(**settings)
        return config

    def build_algo(self) -> Any:
        """:func:`seed_everything` with this seed, then build the RLlib algorithm."""
        seed_everything(self.seed)
        return self.to_rllib().build_algo()


def seed_everything(seed: int) -> None:
    """Seed Python's ``random``, NumPy's global RNG and torch (CPU) with ``seed``.

    Libraries that draw from the global RNGs (weight initialisation, shuffling) then repeat.
    New code should still take an explicit ``numpy.random.Generator``.

    >>> seed_everything(5); a = np.random.rand()
    >>> seed_everything(5); a == np.random.rand()
    True
    """
    seed = _check_seed(seed)
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _git(repo: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def _iso(clock: Callable[[], float]) -> str:
    return datetime.fromtimestamp(clock(), tz=timezone.utc).isoformat(timespec="seconds")


def lineage(
    repo: str | os.PathLike | None = None, clock: Callable[[], float] = time.time
) -> dict[str, Any]:
    """Where a run comes from: code version, package versions, platform and creation time.

    ``git`` is ``{"commit": ..., "dirty": ...}`` when ``repo`` (default: the working
    directory) lies inside a git repository, else ``None``; ``dirty`` is true when tracked or
    untracked files differ from the commit, so the commit alone does not describe the code.
    ``clock`` returns seconds since the epoch (inject one for reproducible records).

    >>> info = lineage(clock=lambda: 0.0)
    >>> info["created_at"], sorted(info["versions"])[:3]
    ('1970-01-01T00:00:00+00:00', ['gymnasium', 'numpy', 'ray'])
    """
    repo = Path(repo if repo is not None else os.getcwd())
    commit = _git(repo, "rev-parse", "HEAD")
    status = _git(repo, "status", "--porcelain") if commit else None
    versions = {}
    for package in ("gymnasium", "numpy", "ray", "rl-best-practices", "torch"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "git": None if commit is None else {"commit": commit.strip(), "dirty": bool(status and status.strip())},
        "python": platform.python_version(),
        "versions": versions,
        "platform": platform.platform(),
        "created_at": _iso(clock),
    }


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "run"


def _finite_or_none(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass(frozen=True)
class RunRecord:
    """A recorded run read back from its directory (see :func:`load_run`)."""

    path: Path
    config: ExperimentConfig
    lineage: dict[str, Any]
    metrics: list[dict[str, Any]]
    checkpoints: list[Path]

    @property
    def name(self) -> str:
        return self.path.name

    def values(self, metric: str = "episode_return_mean") -> np.ndarray:
        """One metric per iteration, as floats (a missing value is NaN)."""
        return np.array([np.nan if m.get(metric) is None else float(m[metric]) for m in self.metrics])


class Run:
    """One run directory being written: ``config.json``, ``lineage.json``, ``metrics.jsonl``,
    ``checkpoints/iteration_NNNN``. Create it with :meth:`create`.

    >>> import tempfile
    >>> cfg = ExperimentConfig(env_name="CartPole-v1", experiment_name="demo")
    >>> run = Run.create(cfg, tempfile.mkdtemp(), clock=lambda: 0.0)
    >>> run.log({"iteration": 1, "episode_return_mean": 21.5})
    >>> run.path.name, load_run(run.path).metrics  # doctest: +ELLIPSIS
    ('demo-seed0-...', [{'episode_return_mean': 21.5, 'iteration': 1}])
    """

    def __init__(self, path: Path, config: ExperimentConfig) -> None:
        self.path = Path(path)
        self.config = config
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
    ) -> "Run":
        """Make a fresh directory ``<root>/<name>-seed<seed>-<hash8>`` (``-2``, ``-3`` if taken)
        and record the config and its lineage there before any training."""
        if not isinstance(config, ExperimentConfig):
            raise TypeError(f"config must be an ExperimentConfig, got {type(config).__name__}")
        digest = config.config_hash
        base = f"{_slug(config.experiment_name)}-seed{config.seed}-{digest[:8]}"
        root = Path(root)
        root.mkdir(parents=True, exist_ok=True)
        for n in range(1, 10_000):
            path = root / (base if n == 1 else f"{base}-{n}")
            try:
                path.mkdir()
                break
            except FileExistsError:
                continue
        else:
            raise RuntimeError(f"too many runs named {base} under {root}")
        config.save(path / "config.json")
        record = {"kind": LINEAGE_KIND, "schema_version": SCHEMA_VERSION,
                  "config_hash": str(digest), "seed": config.seed, **lineage(repo, clock)}
        atomic_write_json(path / "lineage.json", record)
        return cls(path, config)

    def log(self, metrics: Mapping[str, Any]) -> None:
        """Append one iteration's metrics to ``metrics.jsonl`` and flush it to the OS.

        ``metrics["iteration"]`` must be an integer that increases from call to call; NaN and
        infinities are written as ``null``. A crash loses at most the line being written.
        """
        if not isinstance(metrics, Mapping):
            raise TypeError(f"metrics must be a dict, got {type(metrics).__name__}")
        iteration = metrics.get("iteration")
        if not _is_int(iteration) or iteration <= self._last_iteration:
            raise ValueError(
                f"metrics['iteration'] must be an integer > {self._last_iteration} "
                f"(the last one logged), got {iteration!r}"
            )
        line = json.dumps({k: _finite_or_none(v) for k, v in metrics.items()},
                          sort_keys=True, allow_nan=False)
        with open(self.path / "metrics.jsonl", "a", encoding="utf-8") as handle:
            handle.write(line + "\n")
            handle.flush()
        self._last_iteration = int(iteration)

    def checkpoint(self, algo: Any, iteration: int) -> Path:
        """Save ``algo`` to ``checkpoints/iteration_NNNN`` with :func:`rl_best_practices.rllib.save`."""
        from rl_best_practices import rllib

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


def run_experiment(
    config: ExperimentConfig,
    root: str | os.PathLike,
    *,
    repo: str | os.PathLike | None = None,
    clock: Callable[[], float] = time.time,
) -> RunRecord:
    """Record, build (seeded), train and checkpoint one run; return it as read back from disk."""
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
    """:func:`run_experiment` once per seed (a plain loop: one run at a time on a small machine)."""
    seeds = [_check_seed(s, "each seed") for s in seeds]
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be a non-empty list of distinct seeds, got {seeds}")
    return [run_experiment(dataclasses.replace(config, seed=s), root, **kwargs) for s in seeds]


def _read_metrics(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    elif lines:
        lines.pop()  # a torn last line from a crash mid-write: the iteration was not completed
    rows = []
    for number, line in enumerate(lines, start=1):
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path} line {number} is not valid JSON: {exc}") from None
    return rows


def load_run(path: str | os.PathLike) -> RunRecord:
    """Read a run directory; refuse it if ``config.json`` changed after the run was recorded.

    Raises :class:`ConfigMismatchError` when the config's hash differs from the one in
    ``lineage.json``, ``FileNotFoundError`` when the directory or its files are missing.
    """
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"no run directory at {path}")
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
        raise FileNotFoundError(f"no runs folder at {root}")
    return [load_run(p) for p in sorted(root.iterdir()) if (p / "lineage.json").is_file()]


def compare_runs(
    runs: Sequence[RunRecord], metric: str = "episode_return_mean"
) -> dict[str, Any]:
    """What differs between runs' configs, and each run's last value of ``metric``.

    Returns ``{"differences": {field: [value per run]}, "final": {run name: value}}``; only
    fields that differ appear, so two runs of one config show ``{}``.
    """
    runs = list(runs)
    if not runs or not all(isinstance(r, RunRecord) for r in runs):
        raise TypeError("runs must be a non-empty list of RunRecord (from load_run or list_runs)")
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


def bootstrap_ci(
    values: Any,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean across seeds and a percentile bootstrap confidence interval, column by column.

    ``values`` has one row per seed and one column per iteration (a 1-D array is one column);
    the three returned arrays have one entry per column. Uses
    ``scipy.stats.bootstrap`` with a seeded Generator, so the interval is reproducible. With
    few seeds the interval is wide and approximate: report the number of seeds with it.

    >>> mean, low, high = bootstrap_ci([[1.0, 2.0], [3.0, 2.0], [2.0, 2.0]], seed=0)
    >>> mean.tolist(), bool(low[0] < 2.0 < high[0]), [float(low[1]), float(high[1])]
    ([2.0, 2.0], True, [2.0, 2.0])
    """
    from scipy import stats

    data = np.asarray(values, dtype=float)
    if data.ndim == 1:
        data = data[:, None]
    if data.ndim != 2 or data.shape[0] < 2 or data.shape[1] < 1:
        raise ValueError(
            f"values must have one row per seed, at least 2 rows, got shape {np.shape(values)}"
        )
    if not np.all(np.isfinite(data)):
        raise ValueError("values must be finite (a run without a finished episode has no return)")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence!r}")
    if not _is_int(n_resamples) or n_resamples < 100:
        raise ValueError(f"n_resamples must be an integer >= 100, got {n_resamples!r}")
    result = stats.bootstrap(
        (data,), np.mean, axis=0, confidence_level=confidence, n_resamples=int(n_resamples),
        method="percentile", rng=np.random.default_rng(_check_seed(seed)),
    )
    return data.mean(axis=0), result.confidence_interval.low, result.confidence_interval.high

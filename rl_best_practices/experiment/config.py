"""The experiment config of lesson 04: validated, frozen, hashed, saved and loaded strictly.

* :class:`ExperimentConfig` is the lesson's config, corrected: every field is checked when it is
  built, the config is frozen, it saves atomically with a schema version and loads strictly, and
  :meth:`ExperimentConfig.to_rllib` turns it into a seeded RLlib config on current API names.
* The lesson's outdated RLlib names (:data:`OUTDATED_NAMES`) are translated with an
  :class:`~rl_best_practices.errors.OutdatedNameWarning`; settings RLlib's ``training()`` does not
  know are refused with a suggestion.
* :func:`config_hash` is a config's identity: the SHA-256 of its canonical JSON.

Building a config asks RLlib which training settings exist, so it imports Ray on first use;
importing this module does not.

>>> cfg = ExperimentConfig(env_name="CartPole-v1", seed=7, experiment_name="demo")
>>> cfg.seed, len(cfg.config_hash)
(7, 64)
"""

from __future__ import annotations

import difflib
import json
import os
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
from gymnasium import spaces

from rl_best_practices.envs import ENV_ID
from rl_best_practices.errors import (
    ConfigError,
    ConfigTypeError,
    InvalidTypeError,
    InvalidValueError,
    OutdatedNameWarning,
)
from rl_best_practices.experiment.provenance import MAX_SEED, seed_everything
from rl_best_practices.storage import atomic_write_json, json_sha256, read_json
from rl_best_practices.validation import check_choice, check_int, check_number, check_text

__all__ = [
    "ALGORITHMS",
    "OUTDATED_NAMES",
    "SCHEMA_VERSION",
    "ExperimentConfig",
    "config_hash",
]

SCHEMA_VERSION = 1
CONFIG_KIND = "experiment_config"
ALGORITHMS = ("PPO", "DQN")
FRAMEWORKS = ("torch",)
# RLlib's renamed training settings. ``train_batch_size`` is not one of them: it is still RLlib's
# total batch over all learners (``train_batch_size_per_learner`` times the number of learners).
OUTDATED_NAMES = {
    "num_sgd_iter": "num_epochs",
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
# Range checks for the common hyperparameters: (kind, lowest, highest).
KNOWN_RANGES = {
    "lr": ("number", 0.0, None),
    "gamma": ("number", 0.0, 1.0),
    "clip_param": ("number", 0.0, None),
    "entropy_coeff": ("number", 0.0, None),
    "train_batch_size": ("integer", 1, None),
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


def _setting(check: Callable[..., Any], name: str, value: Any, *args: Any, hint: str = "",
             **kwargs: Any) -> Any:
    """Apply a :mod:`~rl_best_practices.validation` check to a config setting, reporting a
    refusal as :class:`ConfigTypeError` or :class:`ConfigError` (with ``hint`` appended)."""
    try:
        return check(name, value, *args, **kwargs)
    except InvalidTypeError as exc:
        raise ConfigTypeError(f"{exc}{hint}") from None
    except InvalidValueError as exc:
        raise ConfigError(f"{exc}{hint}") from None


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
    from rl_best_practices import rllib  # RLlib knows which training settings exist

    for key, owner in RESERVED_KEYS.items():
        if key in algorithm_config:
            raise ConfigError(
                f"algorithm_config must not set {key!r}: it comes from the field {owner!r}"
            )
    allowed = rllib.training_names(algorithm) - set(OUTDATED_NAMES)
    for key in algorithm_config:
        if key not in allowed:
            close = difflib.get_close_matches(key, sorted(allowed), n=3)
            hint = f"; did you mean {close}?" if close else ""
            raise ConfigError(
                f"algorithm_config key {key!r} is not a training setting of RLlib's "
                f"{algorithm}Config{hint} (allowed: the arguments of {algorithm}Config.training())"
            )
    if {"train_batch_size", "train_batch_size_per_learner"} <= set(algorithm_config):
        raise ConfigError(
            "algorithm_config sets both 'train_batch_size' (the total over all learners) and "
            "'train_batch_size_per_learner'; RLlib would use the per-learner one and ignore the "
            "total: keep one"
        )
    for key, (kind, low, high) in KNOWN_RANGES.items():
        if key in algorithm_config:
            check = check_int if kind == "integer" else check_number
            _setting(check, f"algorithm_config[{key!r}]", algorithm_config[key],
                     minimum=low, maximum=high)


def _check_env(env_name: Any, env_config: dict[str, Any], algorithm: str) -> None:
    _setting(check_text, "env_name", env_name)
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
        raise ConfigError(
            f"env_config {env_config!r} is not accepted by {env_name!r}: {exc}"
        ) from None
    try:
        if algorithm == "DQN" and not isinstance(env.action_space, spaces.Discrete):
            raise ConfigError(
                f"algorithm 'DQN' needs a discrete action space; {env_name!r} with this env_config "
                f"has {env.action_space} (use 'PPO', or a discrete action_type)"
            )
    finally:
        env.close()


def _check_tags(tags: Any) -> list[str]:
    if isinstance(tags, str) or not isinstance(tags, (list, tuple)):
        raise ConfigTypeError(f"tags must be a list of strings, got {tags!r}")
    if not all(isinstance(t, str) for t in tags):
        raise ConfigTypeError(f"tags must be a list of strings, got {tags!r}")
    return list(tags)


def config_hash(config: ExperimentConfig | Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of a config: sorted keys, no spaces, no NaN.

    ``config`` is an :class:`ExperimentConfig` (hashed through :meth:`~ExperimentConfig.to_dict`)
    or any mapping with string keys and JSON values; the result equals
    :func:`rl_best_practices.storage.json_sha256` of that mapping. Two configs hash alike exactly
    when every field is equal, whatever the key order.

    >>> config_hash({"b": 1, "a": [1, 2]}) == config_hash({"a": [1, 2], "b": 1})
    True
    >>> config_hash({"a": 1})[:12]
    '015abd7f5cc5'
    """
    if isinstance(config, ExperimentConfig):
        return json_sha256(config.to_dict())
    return json_sha256(_plain_mapping(config, "config"))


@dataclass(frozen=True)
class ExperimentConfig:
    """Everything that defines one training run, validated when it is built.

    Frozen: change a field with ``dataclasses.replace(cfg, seed=1)``, which validates again.
    ``algorithm_config`` holds arguments of RLlib's ``<algorithm>Config.training()`` under their
    current names; the outdated ``num_sgd_iter`` and ``sgd_minibatch_size`` are translated (to
    ``num_epochs``, ``minibatch_size``) with an
    :class:`~rl_best_practices.errors.OutdatedNameWarning`. ``train_batch_size`` stays what it
    is in RLlib, the total batch over all learners (not ``train_batch_size_per_learner``, which
    is multiplied by the number of learners); setting both is refused. PPO starts from the
    course's small defaults (:func:`rl_best_practices.rllib.ppo_config`), DQN from RLlib's.

    Raises :class:`~rl_best_practices.errors.ConfigError` (a ``ValueError``) naming the field and
    what is allowed, or :class:`~rl_best_practices.errors.ConfigTypeError` (also a ``TypeError``)
    for a wrong type.

    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     cfg = ExperimentConfig(algorithm_config={"num_sgd_iter": 4}, experiment_name="x")
    >>> cfg.algorithm_config, caught[0].category.__name__
    ({'num_epochs': 4}, 'OutdatedNameWarning')
    >>> ExperimentConfig(framework="tf")
    Traceback (most recent call last):
    ...
    rl_best_practices.errors.ConfigError: framework must be one of 'torch'; got 'tf'
    (RLlib's current API stack has no TensorFlow)
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
        _setting(check_choice, "algorithm", self.algorithm, ALGORITHMS)
        _setting(check_choice, "framework", self.framework, FRAMEWORKS,
                 hint=" (RLlib's current API stack has no TensorFlow)")
        for name in ("num_iterations", "checkpoint_frequency"):
            value = _setting(check_int, name, getattr(self, name), minimum=1)
            object.__setattr__(self, name, value)
        seed = _setting(check_int, "seed", self.seed, minimum=0, maximum=MAX_SEED)
        object.__setattr__(self, "seed", seed)
        _setting(check_text, "experiment_name", self.experiment_name)
        if not isinstance(self.description, str):
            raise ConfigTypeError(f"description must be a string, got {self.description!r}")
        object.__setattr__(self, "tags", _check_tags(self.tags))

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
        record = {"kind": CONFIG_KIND, "schema_version": SCHEMA_VERSION, **self.to_dict()}
        atomic_write_json(path, record)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> ExperimentConfig:
        """Read a file written by :meth:`save`; unknown or missing keys are refused by name.

        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "config.json"
        >>> cfg = ExperimentConfig(env_name="CartPole-v1", seed=3, experiment_name="demo")
        >>> ExperimentConfig.load(cfg.save(path)) == cfg
        True
        """
        data = read_json(path)
        if not isinstance(data, dict):
            raise ConfigError(
                f"{path} holds {type(data).__name__}, expected an experiment config object"
            )
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
    def config_hash(self) -> str:
        """SHA-256 of the canonical JSON of :meth:`to_dict` (see :func:`config_hash`).

        >>> cfg = ExperimentConfig(env_name="CartPole-v1", experiment_name="demo")
        >>> cfg.config_hash == config_hash(cfg.to_dict())
        True
        """
        return config_hash(self)

    def to_rllib(self) -> Any:
        """The matching RLlib ``AlgorithmConfig``: current names, seeded, sampling in the driver.

        Built by :func:`rl_best_practices.rllib.build_config`: ``debugging(seed=...)`` seeds
        RLlib's RNGs and the env, and ``num_env_runners=0`` samples in the driver process, so the
        same config and seed give the same per-iteration returns on a CPU; a PPO config is also
        :func:`~rl_best_practices.rllib.resume.resumable`, so training restored from a
        checkpoint continues exactly as the uninterrupted run. Call ``.build_algo()``
        on it, or use :meth:`build_algo`, which also calls :func:`seed_everything`.

        >>> cfg = ExperimentConfig(env_name="CartPole-v1", algorithm_config={"lr": 1e-3}, seed=7)
        >>> cfg.to_rllib().seed, cfg.to_rllib().lr
        (7, 0.001)
        """
        from rl_best_practices import rllib

        return rllib.build_config(
            self.algorithm, self.env_name, self.env_config,
            seed=self.seed, training=self.algorithm_config,
        )

    def build_algo(self) -> Any:
        """:func:`seed_everything` with this seed, then build the RLlib algorithm."""
        seed_everything(self.seed)
        return self.to_rllib().build_algo()

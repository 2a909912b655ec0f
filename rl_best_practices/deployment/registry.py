"""A model registry: every model version on disk with its config hash, metrics and stage.

:class:`ModelRegistry` keeps :class:`ModelVersion` records in one JSON file, rewritten atomically
(through :mod:`rl_best_practices.storage`) on every change. A version moves through the
:data:`STAGES` along the allowed transitions only: candidate -> canary -> production ->
archived, and archived -> production when a rollback restores it. A production model is never
archived for a candidate that was not *shown* better or non-inferior: promoting over it takes
evidence (a :class:`~rl_best_practices.evaluation.NonInferiority` result or a promoted
:class:`~rl_best_practices.deployment.Canary`), whose summary the stage history keeps. The
config hash is lesson 04's :func:`~rl_best_practices.experiment.config_hash`, so a registered
model points back to the run that trained it, and a config edited in the file is detected when
the registry is read.

>>> import tempfile, pathlib
>>> reg = ModelRegistry(pathlib.Path(tempfile.mkdtemp()) / "registry.json", clock=lambda: 0.0)
>>> reg.register({"lr": 3e-4}, {"return": 12.0}).stage
'candidate'
"""

from __future__ import annotations

import copy
import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from rl_best_practices.errors import (
    InvalidStateError,
    InvalidTypeError,
    InvalidValueError,
    UnknownItemError,
)
from rl_best_practices.experiment import config_hash
from rl_best_practices.storage import atomic_write_json, read_json
from rl_best_practices.validation import (
    check_callable,
    check_choice,
    check_int,
    check_number,
    check_text,
)

__all__ = ["STAGES", "ModelRegistry", "ModelVersion"]

STAGES = ("candidate", "canary", "production", "archived")
TRANSITIONS = {
    "candidate": ("canary", "archived"),
    "canary": ("production", "archived"),
    "production": ("archived",),
    "archived": ("production",),  # a rollback restores an archived production model
}
REGISTRY_KIND = "model_registry"


@dataclass(frozen=True)
class ModelVersion:
    """One registered model: version number, stage, lineage and its stage history.

    ``history`` holds ``(stage, when, reason)`` entries, oldest first.

    >>> v = ModelVersion(1, "candidate", {"lr": 0.1}, config_hash({"lr": 0.1}), {}, None)
    >>> v.stage, v.config_hash == config_hash({"lr": 0.1})
    ('candidate', True)
    """

    version: int
    stage: str
    config: dict[str, Any]
    config_hash: str
    metrics: dict[str, float]
    artifact: str | None
    history: tuple[tuple[str, float, str], ...] = field(default=())


def _check_config(config: Any) -> dict[str, Any]:
    """A deep copy of ``config`` through JSON, refusing what JSON cannot hold exactly."""
    if not isinstance(config, dict):
        raise InvalidTypeError(f"config must be a dict, got {type(config).__name__}")
    try:
        return json.loads(json.dumps(config, allow_nan=False))
    except TypeError as exc:
        raise InvalidTypeError(f"config must hold only JSON values: {exc}") from None
    except ValueError as exc:
        raise InvalidValueError(f"config must hold only finite JSON values: {exc}") from None


def _check_metrics(metrics: Any) -> dict[str, float]:
    if not isinstance(metrics, dict):
        raise InvalidTypeError(
            f"metrics must map names to finite numbers, got {type(metrics).__name__}"
        )
    return {check_text("metric name", k): check_number(f"metrics[{k!r}]", v)
            for k, v in metrics.items()}


def _check_string(name: str, value: Any, *, optional: bool = False) -> str | None:
    if (value is None and optional) or isinstance(value, str):
        return value
    allowed = "a string or None" if optional else "a string"
    raise InvalidTypeError(f"{name} must be {allowed}, got {type(value).__name__}")


def _from_record(raw: Any) -> ModelVersion:
    """Rebuild a stored version, refusing a malformed or altered one."""
    names = {f.name for f in fields(ModelVersion)}
    if not isinstance(raw, dict) or set(raw) != names:
        raise InvalidValueError(f"a model version has exactly the fields {sorted(names)}")
    history = raw["history"]
    if not isinstance(history, list) or not all(
        isinstance(h, list) and len(h) == 3 for h in history
    ):
        raise InvalidValueError("history must be a list of [stage, when, reason] entries")
    version = ModelVersion(
        version=check_int("version", raw["version"], minimum=1),
        stage=check_choice("stage", raw["stage"], STAGES),
        config=_check_config(raw["config"]),
        config_hash=raw["config_hash"],
        metrics=_check_metrics(raw["metrics"]),
        artifact=_check_string("artifact", raw["artifact"], optional=True),
        history=tuple((check_choice("history stage", stage, STAGES),
                       check_number("history time", when), _check_string("history reason", why))
                      for stage, when, why in history),
    )
    if version.config_hash != config_hash(version.config):
        raise InvalidValueError("altered config: its hash differs from the recorded config_hash")
    return version


def _moved(v: ModelVersion, stage: str, when: float, reason: str) -> ModelVersion:
    return ModelVersion(v.version, stage, v.config, v.config_hash, v.metrics, v.artifact,
                        v.history + ((stage, when, reason),))


class ModelRegistry:
    """Model versions kept in one JSON file, rewritten atomically on every change.

    Args:
        path: the registry file; read if it exists.
        clock: seconds since the epoch for the stage history (``time.time`` by default).

    At most one version is in production; promoting another archives the previous one, which
    :meth:`rollback` can restore. A refused change leaves the file and the registry as they were.

    >>> import tempfile, pathlib
    >>> reg = ModelRegistry(pathlib.Path(tempfile.mkdtemp()) / "registry.json", clock=lambda: 0.0)
    >>> v1 = reg.register({"lr": 3e-4}, {"return": 12.0}); reg.promote(v1.version, "canary")
    >>> reg.promote(v1.version, "production"); reg.production().version
    1
    >>> ModelRegistry(reg.path).get(1).stage      # read back from disk
    'production'
    """

    def __init__(self, path: str | os.PathLike, clock: Callable[[], float] = time.time) -> None:
        if not isinstance(path, (str, os.PathLike)):
            raise InvalidTypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
        self.path = Path(path)
        self.clock = check_callable("clock", clock)
        self._versions: dict[int, ModelVersion] = {}
        if self.path.exists():
            self._versions = self._read()

    def _now(self) -> float:
        return check_number("clock()", self.clock())

    def _read(self) -> dict[int, ModelVersion]:
        data = read_json(self.path, kind=REGISTRY_KIND)
        if not isinstance(data.get("versions"), list):
            raise InvalidValueError(f"{self.path}: 'versions' must be a list of model versions")
        versions: dict[int, ModelVersion] = {}
        for n, raw in enumerate(data["versions"]):
            try:
                mv = _from_record(raw)
            except InvalidValueError as exc:
                raise InvalidValueError(
                    f"{self.path}: model version record {n} is malformed or altered: {exc}"
                ) from None
            if mv.version in versions:
                raise InvalidValueError(f"{self.path}: model version {mv.version} appears twice")
            versions[mv.version] = mv
        return versions

    def _write(self, versions: dict[int, ModelVersion]) -> None:
        atomic_write_json(self.path, {"kind": REGISTRY_KIND,
                                      "versions": [asdict(v) for v in versions.values()]})
        self._versions = versions  # only after the file is safely written

    def register(
        self, config: dict[str, Any], metrics: dict[str, float], artifact: str | None = None
    ) -> ModelVersion:
        """Add a new version in stage ``"candidate"`` and return it.

        ``config`` is copied and hashed with :func:`~rl_best_practices.experiment.config_hash`;
        ``metrics`` map names to finite numbers; ``artifact`` is a path string or ``None``.
        """
        config = _check_config(config)
        metrics = _check_metrics(metrics)
        artifact = _check_string("artifact", artifact, optional=True)
        number = max(self._versions, default=0) + 1
        mv = ModelVersion(number, "candidate", config, config_hash(config), metrics, artifact,
                          (("candidate", self._now(), "registered"),))
        self._write({**self._versions, number: mv})
        return mv

    def get(self, version: int) -> ModelVersion:
        """A copy of the version numbered ``version``; editing it never changes the registry.

        Raises :class:`~rl_best_practices.errors.UnknownItemError` (a ``KeyError``) listing the
        known versions if there is none.
        """
        check_int("version", version, minimum=1)
        if version not in self._versions:
            raise UnknownItemError(
                f"no model version {version!r}; known versions: {sorted(self._versions)}"
            )
        return copy.deepcopy(self._versions[version])

    def versions(self, stage: str | None = None) -> list[ModelVersion]:
        """Copies of all versions, or of those in ``stage``, oldest first."""
        if stage is not None:
            check_choice("stage", stage, STAGES)
        return [copy.deepcopy(v) for v in self._versions.values()
                if stage is None or v.stage == stage]

    def production(self) -> ModelVersion | None:
        """The version in production, if any."""
        found = self.versions("production")
        return found[0] if found else None

    def promote(self, version: int, stage: str, reason: str = "", *, evidence: Any = None
                ) -> None:
        """Move ``version`` to ``stage`` along the allowed transitions
        (candidate -> canary -> production -> archived; archived -> production on rollback).

        Entering production archives the current production version, so a new model may
        replace it only with ``evidence`` that it was shown better or non-inferior: an object
        with a true ``shown`` and a ``summary`` (a
        :class:`~rl_best_practices.evaluation.NonInferiority` result, a promoted
        :class:`~rl_best_practices.deployment.Canary`). Without it,
        :class:`~rl_best_practices.errors.InvalidStateError` is raised and nothing changes.
        :meth:`rollback` restores an earlier production model without new evidence.
        """
        check_choice("stage", stage, STAGES)
        _check_string("reason", reason)
        current = self.get(version)
        if stage not in TRANSITIONS[current.stage]:
            raise InvalidValueError(
                f"cannot move version {version} from {current.stage!r} to {stage!r}; "
                f"allowed: {list(TRANSITIONS[current.stage])}"
            )
        if stage == "production" and current.stage != "archived":
            reason = self._with_evidence(version, reason, evidence)
        now = self._now()
        versions = dict(self._versions)
        if stage == "production":
            for v in self.versions("production"):
                versions[v.version] = _moved(v, "archived", now, f"replaced by version {version}")
        versions[version] = _moved(current, stage, now, reason)
        self._write(versions)

    def _with_evidence(self, version: int, reason: str, evidence: Any) -> str:
        """``reason`` extended by the evidence's summary, or an error when a production model
        would be archived without evidence that ``version`` is at least as good."""
        incumbent = self.production()
        if incumbent is None and evidence is None:
            return reason  # the first production model replaces nothing
        shown = getattr(evidence, "shown", None)
        summary = getattr(evidence, "summary", None)
        if not isinstance(shown, bool) or not isinstance(summary, str):
            raise InvalidStateError(
                f"version {version} would replace production version "
                f"{incumbent.version if incumbent else None} without evidence: pass evidence= "
                "a NonInferiority result or a promoted Canary"
            )
        if not shown:
            raise InvalidStateError(
                f"version {version} was not shown better or non-inferior ({summary}); "
                "production stays as it is"
            )
        return f"{reason}; {summary}" if reason else summary

    def rollback(self, reason: str = "rollback") -> ModelVersion:
        """Archive the production version and restore the one it replaced; return the restored
        one. Raises :class:`~rl_best_practices.errors.InvalidValueError` if there is nothing to
        roll back or nothing to restore."""
        _check_string("reason", reason)
        current = self.production()
        if current is None:
            raise InvalidValueError("nothing in production to roll back")
        previous = [v for v in self.versions("archived")
                    if v.version != current.version
                    and any(s == "production" for s, _, _ in v.history)]
        if not previous:
            raise InvalidValueError("no earlier production version to roll back to")
        target = max(previous, key=lambda v: (v.history[-1][1], v.version))
        self.promote(target.version, "production", reason)
        return self.get(target.version)

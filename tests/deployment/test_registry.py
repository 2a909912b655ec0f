"""The model registry: stages, lineage by config hash, atomic persistence, rollback."""

import json
import math

import pytest

from rl_best_practices.deployment import STAGES, Canary, Guard, ModelRegistry, ModelVersion
from rl_best_practices.errors import (
    Error,
    InvalidStateError,
    InvalidTypeError,
    InvalidValueError,
    UnknownItemError,
)
from rl_best_practices.evaluation import non_inferiority
from rl_best_practices.experiment import ExperimentConfig, config_hash
from rl_best_practices.storage import json_sha256


def test_registry_lifecycle_persists_and_rolls_back(tmp_path):
    path = tmp_path / "models" / "registry.json"
    ticks = iter(range(100))
    reg = ModelRegistry(path, clock=lambda: float(next(ticks)))
    v1 = reg.register({"lr": 3e-4, "seed": 0}, {"return": 10.0}, artifact="ckpt/1")
    assert isinstance(v1, ModelVersion)
    assert v1.stage == "candidate" and v1.config_hash == config_hash({"seed": 0, "lr": 3e-4})
    reg.promote(1, "canary")
    reg.promote(1, "production")
    reg.register({"lr": 1e-4, "seed": 0}, {"return": 12.0})
    reg.promote(2, "canary")
    shown = non_inferiority([12.0, 11.5, 12.5, 12.2], [10.0, 10.2, 9.9, 10.1])
    reg.promote(2, "production", reason="canary passed", evidence=shown)
    assert reg.get(1).stage == "archived" and reg.production().version == 2
    assert reg.get(2).history[-1][2] == f"canary passed; {shown.summary}"
    restored = reg.rollback(reason="live P&L dropped")
    assert restored.version == 1 and reg.get(2).stage == "archived"
    again = ModelRegistry(path)
    assert again.versions() == reg.versions()
    assert [s for s, _, _ in again.get(1).history] == ["candidate", "canary", "production",
                                                       "archived", "production"]
    assert again.get(1).history[-1][2] == "live P&L dropped"
    assert [v.version for v in again.versions("archived")] == [2]
    assert STAGES == ("candidate", "canary", "production", "archived")


def test_the_registry_hash_is_lesson_04s_config_hash(tmp_path):
    config = ExperimentConfig(seed=3, experiment_name="registry-test")
    reg = ModelRegistry(tmp_path / "r.json")
    version = reg.register(config.to_dict(), {})
    assert version.config_hash == config.config_hash == json_sha256(config.to_dict())


def test_registry_rejects_bad_transitions_and_inputs_without_writing(tmp_path):
    reg = ModelRegistry(tmp_path / "r.json")
    reg.register({"a": 1}, {})
    before = (tmp_path / "r.json").read_text()
    with pytest.raises(InvalidValueError,
                       match="cannot move version 1 from 'candidate' to 'production'"):
        reg.promote(1, "production")
    with pytest.raises(InvalidValueError, match="stage must be one of 'candidate'"):
        reg.promote(1, "staging")
    with pytest.raises(UnknownItemError, match="known versions") as info:
        reg.promote(9, "canary")
    assert isinstance(info.value, KeyError)
    with pytest.raises(InvalidValueError, match="metrics"):
        reg.register({"a": 1}, {"return": math.nan})
    with pytest.raises(InvalidValueError, match="config must hold only finite JSON values"):
        reg.register({"a": math.inf}, {})
    with pytest.raises(InvalidTypeError, match="config must hold only JSON values"):
        reg.register({"a": object()}, {})
    with pytest.raises(InvalidTypeError, match="config must be a dict"):
        reg.register(["not", "a", "dict"], {})
    with pytest.raises(InvalidValueError, match="nothing in production"):
        reg.rollback()
    assert (tmp_path / "r.json").read_text() == before and len(reg.versions()) == 1


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda r: r.register({}, {"return": True}), InvalidTypeError, r"metrics\['return'\]"),
        (lambda r: r.register({}, {"": 1.0}), InvalidValueError, "metric name"),
        (lambda r: r.register({}, [("return", 1.0)]), InvalidTypeError, "metrics must map"),
        (lambda r: r.register({}, {}, artifact=3), InvalidTypeError, "artifact"),
        (lambda r: r.promote(1, "canary", reason=None), InvalidTypeError, "reason"),
        (lambda r: r.versions("staging"), InvalidValueError, "stage must be one of"),
        (lambda r: r.get(True), InvalidTypeError, "version must be an integer"),
        (lambda r: r.get([1]), InvalidTypeError, "version must be an integer"),
        (lambda r: r.rollback(reason=7), InvalidTypeError, "reason"),
    ],
)
def test_registry_refuses_bad_arguments(tmp_path, call, error, message):
    reg = ModelRegistry(tmp_path / "r.json")
    reg.register({"a": 1}, {})
    before = (tmp_path / "r.json").read_text()
    with pytest.raises(error, match=message) as info:
        call(reg)
    assert isinstance(info.value, Error) and isinstance(info.value, ValueError)
    assert (tmp_path / "r.json").read_text() == before
    assert [(v.version, v.stage) for v in reg.versions()] == [(1, "candidate")]


def test_registry_refuses_a_bad_clock_or_path(tmp_path):
    with pytest.raises(InvalidTypeError, match="clock must be callable"):
        ModelRegistry(tmp_path / "r.json", clock=0.0)
    with pytest.raises(InvalidTypeError, match="path"):
        ModelRegistry(3)
    reg = ModelRegistry(tmp_path / "r.json", clock=lambda: math.nan)
    with pytest.raises(InvalidValueError, match="clock"):
        reg.register({"a": 1}, {})
    assert not (tmp_path / "r.json").exists() and reg.versions() == []


def test_rollback_needs_an_earlier_production_version(tmp_path):
    reg = ModelRegistry(tmp_path / "r.json")
    reg.register({"a": 1}, {})
    reg.promote(1, "canary")
    reg.promote(1, "production")
    with pytest.raises(InvalidValueError, match="no earlier production version"):
        reg.rollback()
    assert reg.production().version == 1


def test_registry_detects_an_altered_config(tmp_path):
    reg = ModelRegistry(tmp_path / "r.json")
    reg.register({"lr": 0.1}, {})
    data = json.loads((tmp_path / "r.json").read_text())
    data["versions"][0]["config"]["lr"] = 0.2
    (tmp_path / "r.json").write_text(json.dumps(data))
    with pytest.raises(InvalidValueError, match="altered config"):
        ModelRegistry(tmp_path / "r.json")


def test_registry_keeps_a_copy_of_the_config(tmp_path):
    config = {"lr": 0.1}
    reg = ModelRegistry(tmp_path / "r.json")
    reg.register(config, {})
    config["lr"] = 0.5
    reg.get(1).config["lr"] = 0.7
    reg.versions()[0].metrics["x"] = 1.0
    assert reg.get(1).config == {"lr": 0.1} and reg.get(1).metrics == {}


def _saved(tmp_path):
    reg = ModelRegistry(tmp_path / "r.json", clock=lambda: 5.0)
    reg.register({"lr": 0.1}, {"return": 1.0}, artifact="ckpt/1")
    return tmp_path / "r.json", json.loads((tmp_path / "r.json").read_text())


@pytest.mark.parametrize(
    "tamper, message",
    [
        (lambda d: d.update(versions={"1": {}}), "'versions' must be a list"),
        (lambda d: d["versions"].__setitem__(0, {"version": 1}), "malformed"),
        (lambda d: d["versions"][0].pop("artifact"), "exactly the fields"),
        (lambda d: d["versions"][0].update(extra=1), "exactly the fields"),
        (lambda d: d["versions"][0].update(version="1"), "version must be an integer"),
        (lambda d: d["versions"][0].update(stage="staging"), "stage must be one of"),
        (lambda d: d["versions"][0].update(metrics={"return": "high"}), r"metrics\['return'\]"),
        (lambda d: d["versions"][0].update(artifact=5), "artifact"),
        (lambda d: d["versions"][0].update(history=[["candidate", 5.0]]), "history"),
        (lambda d: d["versions"][0].update(history=[["x", 5.0, ""]]), "history stage"),
        (lambda d: d["versions"][0].update(config_hash="0" * 64), "altered config"),
        (lambda d: d["versions"].append(dict(d["versions"][0])), "appears twice"),
        (lambda d: d.update(kind="production_checklist"), "expected a 'model_registry'"),
    ],
)
def test_registry_refuses_a_malformed_or_altered_file(tmp_path, tamper, message):
    path, data = _saved(tmp_path)
    tamper(data)
    path.write_text(json.dumps(data))
    with pytest.raises(InvalidValueError, match=message):
        ModelRegistry(path)


def test_an_untouched_file_reads_back_exactly(tmp_path):
    path, _ = _saved(tmp_path)
    original = ModelRegistry(path).get(1)
    assert original == ModelVersion(1, "candidate", {"lr": 0.1}, config_hash({"lr": 0.1}),
                                    {"return": 1.0}, "ckpt/1", (("candidate", 5.0, "registered"),))


def _with_production(tmp_path):
    reg = ModelRegistry(tmp_path / "r.json", clock=lambda: 1.0)
    for config in ({"policy": "rule"}, {"policy": "ppo"}):
        reg.register(config, {})
    reg.promote(1, "canary")
    reg.promote(1, "production")  # the first production model replaces nothing
    reg.promote(2, "canary")
    return reg


@pytest.mark.parametrize(
    "evidence, message",
    [(None, "without evidence"),
     ("it looked fine", "without evidence"),
     (non_inferiority([1.0, 2.0, 3.0], [3.0, 4.0, 5.5], margin=0.5), "was not shown better"),
     (Canary(len, len, guards=[Guard("m", 0.0)]), "was not shown better")],  # still running
)
def test_production_is_never_archived_for_a_candidate_not_shown_good_enough(
        tmp_path, evidence, message):
    reg = _with_production(tmp_path)
    before = (tmp_path / "r.json").read_text()
    with pytest.raises(InvalidStateError, match=message):
        reg.promote(2, "production", evidence=evidence)
    assert (tmp_path / "r.json").read_text() == before and reg.production().version == 1


def test_a_promoted_canary_is_evidence(tmp_path):
    reg = _with_production(tmp_path)
    canary = Canary(len, len, guards=[Guard("pnl", -0.5, "at_least", min_samples=2)],
                    ramp=(0.5,), stage_samples=2)
    for value in (1.0, 1.0):
        canary.record("canary", {"pnl": value})
    assert canary.state == "promoted"
    reg.promote(2, "production", evidence=canary)
    assert reg.production().version == 2 and reg.get(1).stage == "archived"
    assert reg.get(2).history[-1][2].startswith("canary promoted after 2 canary records")
    assert reg.rollback().version == 1  # restoring the earlier model needs no new evidence

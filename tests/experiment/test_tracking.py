"""Lesson 04: run directories written as a run goes, read back, verified and compared."""

import json

import numpy as np
import pytest

from rl_best_practices import errors
from rl_best_practices.experiment import (
    ConfigMismatchError,
    ExperimentConfig,
    Run,
    compare_runs,
    list_runs,
    load_run,
)

SETTINGS = dict(
    env_name="CartPole-v1",
    algorithm_config={"lr": 3e-4, "gamma": 0.99, "clip_param": 0.2},
    num_iterations=100,
    checkpoint_frequency=10,
    seed=42,
    experiment_name="cartpole_ppo_baseline",
)


def make(**changes):
    return ExperimentConfig(**{**SETTINGS, **changes})


def test_a_run_directory_holds_config_lineage_and_flushed_metrics(tmp_path):
    cfg = make(experiment_name="my run/1")
    run = Run.create(cfg, tmp_path, clock=lambda: 0.0)
    assert run.path.parent == tmp_path
    assert run.path.name == f"my_run_1-seed42-{cfg.config_hash[:8]}"
    assert sorted(p.name for p in run.path.iterdir()) == ["config.json", "lineage.json"]
    run.log({"iteration": 1, "episode_return_mean": 10.0})
    # flushed: another reader sees the line while the run goes on
    assert json.loads((run.path / "metrics.jsonl").read_text()) == {
        "episode_return_mean": 10.0, "iteration": 1}
    run.log({"iteration": 2, "episode_return_mean": float("nan")})
    record = load_run(run.path)
    assert record.config == cfg and record.lineage["config_hash"] == cfg.config_hash
    assert record.lineage["created_at"] == "1970-01-01T00:00:00+00:00"
    np.testing.assert_array_equal(record.values(), [10.0, np.nan])
    assert Run.create(cfg, tmp_path).path.name.endswith("-2")  # never overwrites a run
    assert Run.create(cfg, tmp_path).path.name.endswith("-3")


def test_the_recorded_hash_is_a_plain_json_string(tmp_path):
    cfg = make()
    run = Run.create(cfg, tmp_path)
    recorded = json.loads((run.path / "lineage.json").read_text())
    assert recorded["config_hash"] == cfg.config_hash and recorded["seed"] == 42


def test_log_refuses_a_repeated_or_missing_iteration(tmp_path):
    run = Run.create(make(), tmp_path)
    run.log({"iteration": 1})
    for bad in ({"iteration": 1}, {"iteration": 0}, {"reward": 1.0}, {"iteration": "2"},
                {"iteration": True}):
        with pytest.raises(ValueError, match=r"metrics\['iteration'\] must be an integer >= 2"):
            run.log(bad)
    with pytest.raises(errors.InvalidTypeError, match="iteration"):
        run.log({"iteration": 2.0})
    with pytest.raises(errors.InvalidTypeError, match="metrics must be a dict"):
        run.log([("iteration", 2)])
    assert len(load_run(run.path).metrics) == 1  # refused lines were never written
    reopened = Run(run.path, run.config)  # resuming a run continues after its last iteration
    with pytest.raises(errors.InvalidValueError, match=">= 2, got 1"):
        reopened.log({"iteration": 1})
    reopened.log({"iteration": 2})
    assert [m["iteration"] for m in load_run(run.path).metrics] == [1, 2]


def test_a_torn_last_line_is_ignored_but_a_corrupt_middle_line_is_an_error(tmp_path):
    run = Run.create(make(), tmp_path)
    run.log({"iteration": 1})
    with open(run.path / "metrics.jsonl", "a") as handle:
        handle.write('{"iteration": 2, "episode_ret')  # a crash in the middle of a write
    assert [m["iteration"] for m in load_run(run.path).metrics] == [1]
    (run.path / "metrics.jsonl").write_text('{"iteration": 1}\nnot json\n')
    with pytest.raises(errors.InvalidValueError, match="line 2"):
        load_run(run.path)


def test_a_config_edited_after_recording_is_refused(tmp_path):
    run = Run.create(make(), tmp_path)
    data = json.loads((run.path / "config.json").read_text())
    data["algorithm_config"]["lr"] = 1e-2  # still a valid config, but not the one that ran
    (run.path / "config.json").write_text(json.dumps(data))
    with pytest.raises(ConfigMismatchError, match="edited after the run was recorded"):
        load_run(run.path)
    with pytest.raises(ConfigMismatchError):
        list_runs(tmp_path)


def test_list_and_compare_runs_without_training(tmp_path):
    first, repeat, other = (Run.create(make(seed=s), tmp_path) for s in (42, 42, 43))
    for value, run in zip([1.0, 1.0, 3.0], (first, repeat, other), strict=True):
        run.log({"iteration": 1, "episode_return_mean": 0.0})
        run.log({"iteration": 2, "episode_return_mean": value})
    listed = list_runs(tmp_path)
    assert [r.name for r in listed] == sorted(r.path.name for r in (first, repeat, other))
    by_name = {r.name: r for r in listed}
    same = [by_name[first.path.name], by_name[repeat.path.name]]
    assert compare_runs(same)["differences"] == {}
    comparison = compare_runs([by_name[first.path.name], by_name[other.path.name]])
    assert comparison["differences"] == {"seed": [42, 43]}
    assert comparison["final"] == {first.path.name: 1.0, other.path.name: 3.0}
    missing = compare_runs(same, metric="episode_len_mean")["final"]  # never logged: NaN
    assert len(missing) == 2 and all(np.isnan(v) for v in missing.values())


def test_readers_refuse_missing_folders_and_wrong_arguments(tmp_path):
    with pytest.raises(errors.MissingFileError, match="no run directory"):
        load_run(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match="no runs folder"):
        list_runs(tmp_path / "nope")
    with pytest.raises(errors.InvalidValueError, match="non-empty list of RunRecord"):
        compare_runs([])
    with pytest.raises(errors.InvalidTypeError, match=r"RunRecord .*got \['dict'\]"):
        compare_runs([{"config": {}}])
    with pytest.raises(errors.InvalidTypeError, match="config must be an ExperimentConfig"):
        Run.create(SETTINGS, tmp_path)
    with pytest.raises(errors.InvalidTypeError, match="config must be an ExperimentConfig"):
        Run(tmp_path, SETTINGS)

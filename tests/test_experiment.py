"""Lesson 04: a validated, hashed experiment config, seeding, lineage and run directories."""

import dataclasses
import json
import random
import shutil
import subprocess
import warnings

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from rl_best_practices import ENV_ID
from rl_best_practices import ExperimentConfig as ExportedConfig
from rl_best_practices.experiment import (
    SCHEMA_VERSION,
    ConfigError,
    ConfigMismatchError,
    ConfigTypeError,
    ExperimentConfig,
    OutdatedNameWarning,
    Run,
    bootstrap_ci,
    compare_runs,
    config_hash,
    lineage,
    list_runs,
    load_run,
    run_experiment,
    run_seeds,
    seed_everything,
)

# RLlib re-registers its env wrapper for every algorithm it builds; Gymnasium warns each time.
pytestmark = pytest.mark.filterwarnings("ignore:.*Overriding environment rllib-single-agent-env")

LESSON = dict(
    env_name="CartPole-v1",
    env_config={},
    algorithm="PPO",
    algorithm_config={"lr": 3e-4, "gamma": 0.99, "clip_param": 0.2},
    num_iterations=100,
    checkpoint_frequency=10,
    seed=42,
    framework="torch",
    experiment_name="cartpole_ppo_baseline",
    description="Baseline PPO experiment on CartPole",
    tags=["baseline", "ppo", "cartpole"],
)


def make(**changes):
    return ExperimentConfig(**{**LESSON, **changes})


# --- construction and validation ---------------------------------------------------------------


def test_the_package_exports_the_lesson_class():
    assert ExportedConfig is ExperimentConfig


def test_the_lessons_config_is_kept_field_for_field():
    cfg = make()
    assert cfg.to_dict() == LESSON
    assert ExperimentConfig(env_name=ENV_ID, experiment_name="m").env_name == ENV_ID


def test_outdated_rllib_names_are_translated_with_a_warning():
    outdated = {"num_sgd_iter": 3, "train_batch_size": 400, "sgd_minibatch_size": 100}
    with pytest.warns(OutdatedNameWarning) as caught:
        cfg = make(algorithm_config={"lr": 1e-3, **outdated})
    assert cfg.algorithm_config == {
        "lr": 1e-3, "num_epochs": 3, "train_batch_size_per_learner": 400, "minibatch_size": 100,
    }
    messages = " ".join(str(w.message) for w in caught)
    for old, new in [("num_sgd_iter", "num_epochs"), ("sgd_minibatch_size", "minibatch_size")]:
        assert old in messages and new in messages
    assert all(w.filename == __file__ for w in caught)  # points at the caller's line
    assert issubclass(OutdatedNameWarning, FutureWarning)  # shown to end users by default
    rllib_config = cfg.to_rllib()
    assert (rllib_config.num_epochs, rllib_config.train_batch_size_per_learner,
            rllib_config.minibatch_size) == (3, 400, 100)


def test_a_translated_config_warns_once_and_survives_replace_and_reload(tmp_path):
    with pytest.warns(OutdatedNameWarning):
        cfg = make(algorithm_config={"num_sgd_iter": 2})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ExperimentConfig.load(cfg.save(tmp_path / "c.json")) == cfg
        assert dataclasses.replace(cfg, seed=1).algorithm_config == {"num_epochs": 2}


def test_an_outdated_name_next_to_its_current_name_is_refused():
    with pytest.raises(ConfigError, match="both the outdated 'num_sgd_iter'.*'num_epochs'"):
        make(algorithm_config={"num_sgd_iter": 2, "num_epochs": 3})


@pytest.mark.parametrize(
    "changes, error, message",
    [
        ({"num_iterations": 0}, ConfigError, r"num_iterations must be an integer >= 1, got 0"),
        ({"num_iterations": 2.5}, ConfigTypeError, "num_iterations"),
        ({"num_iterations": True}, ConfigTypeError, "num_iterations"),
        ({"checkpoint_frequency": 0}, ConfigError, "checkpoint_frequency must be an integer >= 1"),
        ({"seed": -1}, ConfigError, r"seed must be an integer in \[0, 2147483647\], got -1"),
        ({"seed": 2**31}, ConfigError, "seed must be an integer in"),
        ({"seed": "42"}, ConfigTypeError, "seed"),
        ({"framework": "tf"}, ConfigError, r"framework must be one of \('torch',\)"),
        ({"framework": "tf2"}, ConfigError, "no TensorFlow"),
        ({"algorithm": "A2C"}, ConfigError, r"algorithm must be one of \('PPO', 'DQN'\)"),
        ({"algorithm": "ppo"}, ConfigError, "algorithm must be one of"),
        ({"env_name": "NoSuchEnv-v0"}, ConfigError, "env_name 'NoSuchEnv-v0' is not a registered"),
        ({"env_name": ""}, ConfigTypeError, "env_name must be a non-empty"),
        ({"env_name": ENV_ID, "env_config": {"episode_length": 0}}, ConfigError,
         "env_config .* is not accepted by 'rl_best_practices/Market-v0'.*episode_length"),
        ({"env_name": ENV_ID, "env_config": {"bogus": 1}}, ConfigError, "bogus"),
        ({"env_config": [1]}, ConfigTypeError, "env_config must be a dict"),
        ({"env_config": {"x": object()}}, ConfigTypeError, "env_config must hold only JSON"),
        ({"algorithm_config": {"lrr": 0.1}}, ConfigError, r"'lrr' is not a training setting.*'lr'"),
        ({"algorithm_config": {"lambda": 0.9}}, ConfigError, "did you mean.*'lambda_'"),
        ({"algorithm_config": {"seed": 1}}, ConfigError, "must not set 'seed'.*field 'seed'"),
        ({"algorithm_config": {"framework": "tf"}}, ConfigError, "field 'framework'"),
        ({"algorithm_config": {"lr": -1e-3}}, ConfigError, r"algorithm_config\['lr'\] must be >= 0"),
        ({"algorithm_config": {"lr": "fast"}}, ConfigTypeError, r"\['lr'\] must be a number"),
        ({"algorithm_config": {"gamma": 1.5}}, ConfigError, r"\['gamma'\] must be in \[0.0, 1.0\]"),
        ({"algorithm_config": {"num_epochs": 0}}, ConfigError, r"\['num_epochs'\] must be >= 1"),
        ({"algorithm_config": {"num_epochs": 2.0}}, ConfigTypeError, "must be a integer"),
        ({"algorithm_config": {"lr": float("nan")}}, ConfigTypeError, "not NaN"),
        ({"algorithm_config": {"train_batch_size_per_learner": 100, "minibatch_size": 200}},
         ConfigError, "minibatch_size"),
        ({"algorithm_config": {1: 2}}, ConfigTypeError, "keys must be strings"),
        ({"experiment_name": " "}, ConfigError, "experiment_name must be a non-empty"),
        ({"experiment_name": None}, ConfigTypeError, "experiment_name must be a string"),
        ({"description": 3}, ConfigTypeError, "description must be a string"),
        ({"tags": "ppo"}, ConfigTypeError, "tags must be a list of strings"),
        ({"tags": ["ppo", 3]}, ConfigTypeError, "tags must be a list of strings"),
        ({"algorithm": "DQN", "env_name": ENV_ID, "env_config": {"action_type": "continuous"}},
         ConfigError, "'DQN' needs a discrete action space"),
    ],
)
def test_each_bad_setting_is_refused_naming_the_field(changes, error, message):
    with pytest.raises(error, match=message):
        make(**changes)


def test_config_errors_are_value_errors_and_type_errors_are_type_errors():
    with pytest.raises(ValueError):
        make(num_iterations=0)
    with pytest.raises(TypeError):
        make(seed=1.5)


def test_the_config_is_frozen_and_does_not_share_mutable_state():
    env_config = {"episode_length": 30}
    cfg = make(env_name=ENV_ID, env_config=env_config)
    env_config["episode_length"] = 0  # the caller's dict changes; the config does not
    assert cfg.env_config == {"episode_length": 30}
    cfg.to_dict()["env_config"]["episode_length"] = 1
    assert cfg.env_config == {"episode_length": 30}
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.seed = 1
    with pytest.raises(ConfigError, match="seed"):
        dataclasses.replace(cfg, seed=-5)  # replace validates again


# --- save and load --------------------------------------------------------------------------


def test_save_writes_a_versioned_file_atomically_and_load_reads_it_back(tmp_path):
    cfg = make()
    path = cfg.save(tmp_path / "config.json")
    data = json.loads(path.read_text())
    assert data["kind"] == "experiment_config" and data["schema_version"] == SCHEMA_VERSION
    assert ExperimentConfig.load(path) == cfg
    make(seed=1).save(path)  # overwriting leaves no temporary file behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json"]
    assert ExperimentConfig.load(path).seed == 1


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda d: d.update(extra=1), r"unknown keys \['extra'\]"),
        (lambda d: d.pop("seed"), r"missing keys \['seed'\]"),
        (lambda d: d.pop("schema_version"), r"missing keys \['schema_version'\]"),
        (lambda d: d.update(schema_version=99), "schema_version 99"),
        (lambda d: d.update(kind="checklist"), "expected a 'experiment_config' file"),
        (lambda d: d.update(seed=-3), "seed must be"),
    ],
)
def test_load_refuses_a_malformed_file_naming_the_problem(tmp_path, edit, message):
    path = make().save(tmp_path / "config.json")
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match=message):
        ExperimentConfig.load(path)


def test_load_refuses_a_file_that_is_not_a_config(tmp_path):
    with pytest.raises(FileNotFoundError):
        ExperimentConfig.load(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        ExperimentConfig.load(tmp_path / "bad.json")
    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(ConfigError, match="expected an experiment config"):
        ExperimentConfig.load(tmp_path / "list.json")


names = st.text(st.characters(min_codepoint=32, max_codepoint=0x2FFF), min_size=1, max_size=20)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.integers(0, 2**31 - 1),
    iterations=st.integers(1, 10_000),
    name=names.filter(str.strip),
    tags=st.lists(names, max_size=4),
    lr=st.floats(1e-6, 1.0),
)
def test_save_load_round_trips_and_keeps_the_hash(tmp_path, seed, iterations, name, tags, lr):
    cfg = make(seed=seed, num_iterations=iterations, experiment_name=name, tags=tags,
               algorithm_config={"lr": lr})
    loaded = ExperimentConfig.load(cfg.save(tmp_path / "c.json"))
    assert loaded == cfg and loaded.config_hash == cfg.config_hash


# --- hash ------------------------------------------------------------------------------------


def test_config_hash_is_the_sha256_of_canonical_json_and_sees_every_field():
    cfg = make()
    canonical = json.dumps(cfg.to_dict(), sort_keys=True, separators=(",", ":"))
    import hashlib

    assert cfg.config_hash == hashlib.sha256(canonical.encode()).hexdigest()
    assert cfg.config_hash() == cfg.config_hash == config_hash(cfg) == config_hash(cfg.to_dict())
    reordered = dict(reversed(list(cfg.to_dict().items())))
    assert config_hash(reordered) == cfg.config_hash
    changes = dict(seed=43, num_iterations=99, description="other", tags=["x"],
                   algorithm_config={"lr": 1e-3}, checkpoint_frequency=5, experiment_name="y")
    hashes = {make(**{k: v}).config_hash for k, v in changes.items()}
    assert len(hashes) == len(changes) and cfg.config_hash not in hashes


# --- seeding and lineage --------------------------------------------------------------------


def draws():
    return random.random(), float(np.random.rand()), float(torch.rand(1))


def test_seed_everything_repeats_python_numpy_and_torch_draws():
    seed_everything(3)
    first = draws()
    seed_everything(3)
    assert draws() == first
    seed_everything(4)
    assert draws() != first
    with pytest.raises(ValueError, match="seed"):
        seed_everything(-1)


def test_to_rllib_is_seeded_samples_in_the_driver_and_uses_current_names():
    rllib_config = make(seed=5, algorithm_config={"num_epochs": 2, "clip_param": 0.1}).to_rllib()
    assert rllib_config.seed == 5 and rllib_config.num_env_runners == 0
    assert rllib_config.num_epochs == 2 and rllib_config.clip_param == 0.1
    assert rllib_config.env == "CartPole-v1"
    assert rllib_config.enable_rl_module_and_learner
    dqn = make(algorithm="DQN", algorithm_config={"lr": 1e-3}).to_rllib()
    assert type(dqn).__name__ == "DQNConfig" and dqn.seed == 42 and dqn.num_env_runners == 0


def git(repo, *args):
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_lineage_records_the_commit_and_whether_the_tree_is_dirty(tmp_path):
    git(tmp_path, "init", "-q")
    (tmp_path / "code.py").write_text("x = 1\n")
    git(tmp_path, "add", "code.py")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "c")
    head = subprocess.run(["git", "-C", str(tmp_path), "rev-parse", "HEAD"],
                          capture_output=True, text=True, check=True).stdout.strip()
    clean = lineage(tmp_path, clock=lambda: 86400.0)
    assert clean["git"] == {"commit": head, "dirty": False}
    assert clean["created_at"] == "1970-01-02T00:00:00+00:00"
    assert clean["versions"]["numpy"] == np.__version__
    assert set(clean["versions"]) == {"gymnasium", "numpy", "ray", "rl-best-practices", "torch"}
    (tmp_path / "code.py").write_text("x = 2\n")
    assert lineage(tmp_path)["git"] == {"commit": head, "dirty": True}


def test_lineage_outside_a_repository_has_no_git_entry(tmp_path):
    assert lineage(tmp_path)["git"] is None


# --- run directories (no training) -----------------------------------------------------------


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


def test_log_refuses_a_repeated_or_missing_iteration(tmp_path):
    run = Run.create(make(), tmp_path)
    run.log({"iteration": 1})
    for bad in ({"iteration": 1}, {"iteration": 0}, {"reward": 1.0}, {"iteration": "2"}):
        with pytest.raises(ValueError, match="iteration"):
            run.log(bad)
    with pytest.raises(TypeError, match="metrics must be a dict"):
        run.log([("iteration", 2)])
    assert len(load_run(run.path).metrics) == 1  # refused lines were never written
    reopened = Run(run.path, run.config)  # resuming a run continues after its last iteration
    with pytest.raises(ValueError, match="> 1"):
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
    with pytest.raises(ValueError, match="line 2"):
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


def test_readers_refuse_missing_folders_and_wrong_arguments(tmp_path):
    with pytest.raises(FileNotFoundError, match="no run directory"):
        load_run(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match="no runs folder"):
        list_runs(tmp_path / "nope")
    with pytest.raises(TypeError, match="RunRecord"):
        compare_runs([])
    with pytest.raises(TypeError, match="ExperimentConfig"):
        Run.create(LESSON, tmp_path)
    with pytest.raises(ValueError, match="distinct seeds"):
        run_seeds(make(), [1, 1], tmp_path)
    with pytest.raises(ValueError, match="each seed"):
        run_seeds(make(), [-1], tmp_path)


# --- confidence intervals across seeds ------------------------------------------------------


def test_bootstrap_ci_matches_scipy_and_is_reproducible():
    values = np.random.default_rng(0).normal(size=(5, 3))
    mean, low, high = bootstrap_ci(values, seed=1)
    reference = stats.bootstrap((values,), np.mean, axis=0, method="percentile",
                                n_resamples=2000, rng=np.random.default_rng(1))
    np.testing.assert_allclose(mean, values.mean(axis=0))
    np.testing.assert_allclose(low, reference.confidence_interval.low)
    np.testing.assert_allclose(high, reference.confidence_interval.high)
    again = bootstrap_ci(values, seed=1)
    assert all(np.array_equal(a, b) for a, b in zip(again, (mean, low, high)))
    narrower = bootstrap_ci(values, confidence=0.5, seed=1)
    assert np.all(narrower[2] - narrower[1] < high - low)


@given(st.lists(st.floats(-1e3, 1e3), min_size=2, max_size=8))
@settings(max_examples=40, deadline=None)
def test_bootstrap_interval_lies_within_the_data(values):
    mean, low, high = bootstrap_ci(values, n_resamples=200, seed=0)
    tol = 1e-9 * (1 + max(abs(v) for v in values))
    assert min(values) - tol <= low[0] <= high[0] <= max(values) + tol
    assert mean.shape == low.shape == high.shape == (1,)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"values": [1.0]}, "at least 2 rows"),
        ({"values": [[1.0, np.nan], [1.0, 2.0]]}, "finite"),
        ({"values": [1.0, 2.0], "confidence": 1.0}, "confidence"),
        ({"values": [1.0, 2.0], "n_resamples": 10}, "n_resamples"),
        ({"values": np.ones((2, 2, 2))}, "one row per seed"),
    ],
)
def test_bootstrap_ci_refuses_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        bootstrap_ci(**kwargs)


# --- real RLlib runs (tiny) ------------------------------------------------------------------

TINY = ExperimentConfig(
    env_name=ENV_ID,
    env_config={"episode_length": 50},
    algorithm_config={"train_batch_size_per_learner": 200, "minibatch_size": 100, "num_epochs": 1},
    num_iterations=2,
    checkpoint_frequency=1,
    seed=3,
    experiment_name="tiny",
)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    from rl_best_practices import rllib

    rllib.start_ray(num_cpus=2)
    root = tmp_path_factory.mktemp("runs")
    run = Run.create(TINY, root)
    algo = TINY.build_algo()
    history = run.train(algo)
    again = run_experiment(TINY, root)
    other = run_seeds(TINY, [4], root)[0]
    yield root, load_run(run.path), algo, history, again, other
    algo.stop()
    rllib.stop_ray()


def test_a_run_records_every_iteration_and_checkpoints_on_schedule(runs):
    _, first, _, history, _, _ = runs
    assert [m["iteration"] for m in first.metrics] == [1, 2]
    assert [m["env_steps"] for m in first.metrics] == [200, 400]
    assert [m["episode_return_mean"] for m in first.metrics] == [h["episode_return_mean"]
                                                                 for h in history]
    assert [p.name for p in first.checkpoints] == ["iteration_0001", "iteration_0002"]
    assert first.lineage["seed"] == 3


def test_the_same_config_and_seed_repeat_exactly_and_another_seed_differs(runs):
    _, first, _, _, again, other = runs
    assert np.all(np.isfinite(first.values()))
    np.testing.assert_array_equal(first.values(), again.values())
    assert not np.array_equal(first.values(), other.values())


def test_list_and_compare_runs(runs):
    root, first, _, _, again, other = runs
    listed = list_runs(root)
    assert [r.name for r in listed] == sorted([first.name, again.name, other.name])
    assert again.name == first.name + "-2"
    assert compare_runs([first, again])["differences"] == {}
    comparison = compare_runs([first, other])
    assert comparison["differences"] == {"seed": [3, 4]}
    assert comparison["final"][first.name] == first.values()[-1]


def test_a_checkpoint_restores_identical_greedy_actions(runs):
    from rl_best_practices import rllib

    _, first, algo, _, _, _ = runs
    observations = np.random.default_rng(0).normal(size=(64, 5)).astype(np.float32)
    restored = rllib.restore(first.checkpoints[-1])
    try:
        np.testing.assert_array_equal(rllib.greedy_actions(algo, observations),
                                      rllib.greedy_actions(restored, observations))
    finally:
        restored.stop()


def test_dqn_builds_from_the_same_config(runs):
    # building is enough here: a DQN iteration runs 1000 updates, too slow for a unit test
    cfg = dataclasses.replace(TINY, algorithm="DQN", algorithm_config={"lr": 1e-3})
    algo = cfg.build_algo()
    try:
        assert type(algo).__name__ == "DQN"
        assert (algo.config.seed, algo.config.lr, algo.config.num_env_runners) == (3, 1e-3, 0)
    finally:
        algo.stop()

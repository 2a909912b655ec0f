"""Lesson 04: a validated, frozen, hashed experiment config that saves, loads and seeds RLlib."""

import dataclasses
import hashlib
import json
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ray.tune.registry import ENV_CREATOR, _global_registry

from rl_best_practices import ENV_ID, errors, experiment
from rl_best_practices import ExperimentConfig as ExportedConfig
from rl_best_practices.experiment import (
    SCHEMA_VERSION,
    ConfigError,
    ConfigTypeError,
    ExperimentConfig,
    OutdatedNameWarning,
    config_hash,
)
from rl_best_practices.rewards import ShapedRewardWrapper
from rl_best_practices.storage import json_sha256

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
    outdated = {"num_sgd_iter": 3, "sgd_minibatch_size": 100}
    with pytest.warns(OutdatedNameWarning) as caught:
        cfg = make(algorithm_config={"lr": 1e-3, "train_batch_size": 400, **outdated})
    assert cfg.algorithm_config == {
        "lr": 1e-3, "num_epochs": 3, "train_batch_size": 400, "minibatch_size": 100,
    }
    assert len(caught) == 2  # train_batch_size is a current name: no warning for it
    messages = " ".join(str(w.message) for w in caught)
    for old, new in [("num_sgd_iter", "num_epochs"), ("sgd_minibatch_size", "minibatch_size")]:
        assert old in messages and new in messages
    assert all(w.filename == __file__ for w in caught)  # points at the caller's line
    assert issubclass(OutdatedNameWarning, FutureWarning)  # shown to end users by default
    rllib_config = cfg.to_rllib()
    assert (rllib_config.num_epochs, rllib_config.total_train_batch_size,
            rllib_config.minibatch_size) == (3, 400, 100)


def test_the_lessons_own_algorithm_config_keeps_its_meaning():
    """The lesson's PPO settings, unchanged: only num_sgd_iter is outdated."""
    lesson = {"lr": 3e-4, "gamma": 0.99, "train_batch_size": 4000, "num_sgd_iter": 10,
              "clip_param": 0.2}
    with pytest.warns(OutdatedNameWarning, match="'num_sgd_iter' was translated to 'num_epochs'"):
        cfg = make(algorithm_config=lesson)
    assert cfg.algorithm_config == {"lr": 3e-4, "gamma": 0.99, "train_batch_size": 4000,
                                    "num_epochs": 10, "clip_param": 0.2}
    config = cfg.to_rllib()
    assert (config.lr, config.gamma, config.num_epochs, config.clip_param) == (3e-4, 0.99, 10, 0.2)
    assert config.total_train_batch_size == 4000


@pytest.mark.parametrize("learners", [2, 4])
def test_train_batch_size_stays_the_total_batch_over_all_learners(learners):
    """RLlib reads train_batch_size as the total and train_batch_size_per_learner as each
    learner's share; translating one into the other multiplied the batch by the learners."""
    config = make(algorithm_config={"train_batch_size": 4000}).to_rllib()
    assert (config.total_train_batch_size, config.train_batch_size_per_learner) == (4000, 4000)
    config.learners(num_learners=learners)
    assert config.total_train_batch_size == 4000
    assert config.train_batch_size_per_learner == 4000 // learners
    per_learner = make(algorithm_config={"train_batch_size_per_learner": 1000}).to_rllib()
    assert per_learner.learners(num_learners=learners).total_train_batch_size == 1000 * learners


def test_the_total_and_the_per_learner_batch_together_are_refused():
    with pytest.raises(ConfigError, match="both 'train_batch_size'.*per_learner.*keep one"):
        make(algorithm_config={"train_batch_size": 400, "train_batch_size_per_learner": 400})


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
        ({"seed": True}, ConfigTypeError, "seed must be an integer"),
        ({"checkpoint_frequency": True}, ConfigTypeError, "checkpoint_frequency"),
        ({"framework": "tf"}, ConfigError, r"framework must be one of 'torch'; got 'tf'"),
        ({"framework": "tf2"}, ConfigError, "no TensorFlow"),
        ({"algorithm": "A2C"}, ConfigError, r"algorithm must be one of 'PPO', 'DQN'; got 'A2C'"),
        ({"algorithm": "ppo"}, ConfigError, "algorithm must be one of"),
        ({"env_name": "NoSuchEnv-v0"}, ConfigError, "env_name 'NoSuchEnv-v0' is not a registered"),
        ({"env_name": ""}, ConfigError, "env_name must be a non-empty"),
        ({"env_name": 3}, ConfigTypeError, "env_name must be a non-empty string"),
        ({"env_name": ENV_ID, "env_config": {"episode_length": 0}}, ConfigError,
         "env_config .* is not accepted by 'rl_best_practices/Market-v0'.*episode_length"),
        ({"env_name": ENV_ID, "env_config": {"bogus": 1}}, ConfigError, "bogus"),
        ({"env_config": [1]}, ConfigTypeError, "env_config must be a dict"),
        ({"env_config": {"x": object()}}, ConfigTypeError, "env_config must hold only JSON"),
        ({"algorithm_config": {"lrr": 0.1}}, ConfigError, r"'lrr' is not a training setting.*'lr'"),
        ({"algorithm_config": {"lambda": 0.9}}, ConfigError, "did you mean.*'lambda_'"),
        ({"algorithm_config": {"seed": 1}}, ConfigError, "must not set 'seed'.*field 'seed'"),
        ({"algorithm_config": {"framework": "tf"}}, ConfigError, "field 'framework'"),
        ({"algorithm_config": {"lr": -1e-3}}, ConfigError,
         r"algorithm_config\['lr'\] must be a finite number >= 0"),
        ({"algorithm_config": {"lr": "fast"}}, ConfigTypeError, r"'lr'\] must be a finite number"),
        ({"algorithm_config": {"lr": True}}, ConfigTypeError, r"\['lr'\] must be a finite number"),
        ({"algorithm_config": {"gamma": 1.5}}, ConfigError,
         r"\['gamma'\] must be a finite number in \[0.0, 1.0\], got 1.5"),
        ({"algorithm_config": {"num_epochs": 0}}, ConfigError,
         r"\['num_epochs'\] must be an integer >= 1"),
        ({"algorithm_config": {"num_epochs": 2.0}}, ConfigTypeError, "must be an integer"),
        ({"algorithm_config": {"num_epochs": True}}, ConfigTypeError, "must be an integer"),
        ({"algorithm_config": {"lr": float("nan")}}, ConfigTypeError, "not NaN"),
        ({"algorithm_config": {"train_batch_size_per_learner": 100, "minibatch_size": 200}},
         ConfigError, "minibatch_size"),
        ({"algorithm_config": {1: 2}}, ConfigTypeError, "keys must be strings"),
        ({"experiment_name": " "}, ConfigError, "experiment_name must be a non-empty"),
        ({"experiment_name": None}, ConfigTypeError, "experiment_name must be a non-empty string"),
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


def test_config_errors_are_the_package_errors_and_builtin_errors():
    with pytest.raises(ConfigError) as value_error:
        make(num_iterations=0)
    assert isinstance(value_error.value, errors.InvalidValueError)
    assert not isinstance(value_error.value, TypeError)
    with pytest.raises(ConfigTypeError) as type_error:
        make(seed=1.5)
    assert isinstance(type_error.value, errors.InvalidTypeError)
    assert isinstance(type_error.value, TypeError) and isinstance(type_error.value, ValueError)
    assert isinstance(type_error.value, errors.Error)


def test_the_errors_are_those_of_the_errors_module():
    for name in ("ConfigError", "ConfigTypeError", "ConfigMismatchError", "OutdatedNameWarning"):
        assert getattr(experiment, name) is getattr(errors, name)
        assert name in experiment.__all__


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


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
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
    assert cfg.config_hash == hashlib.sha256(canonical.encode()).hexdigest()
    assert cfg.config_hash == config_hash(cfg) == config_hash(cfg.to_dict())
    reordered = dict(reversed(list(cfg.to_dict().items())))
    assert config_hash(reordered) == cfg.config_hash
    changes = dict(seed=43, num_iterations=99, description="other", tags=["x"],
                   algorithm_config={"lr": 1e-3}, checkpoint_frequency=5, experiment_name="y")
    hashes = {make(**{k: v}).config_hash for k, v in changes.items()}
    assert len(hashes) == len(changes) and cfg.config_hash not in hashes


def test_config_hash_is_one_plain_string_not_a_callable():
    digest = make().config_hash
    assert type(digest) is str and not callable(digest)


def test_config_hash_of_a_mapping_is_the_storage_hash_the_registry_uses():
    deployment_config = {"lr": 3e-4, "seed": 0, "layers": [64, 64], "env": {"id": ENV_ID}}
    assert config_hash(deployment_config) == json_sha256(deployment_config)
    assert config_hash(make()) == json_sha256(make().to_dict())


@pytest.mark.parametrize(
    "config, error, message",
    [
        ([("lr", 1.0)], ConfigTypeError, "config must be a dict, got list"),
        ("lr=1", ConfigTypeError, "config must be a dict, got str"),
        ({1: "a"}, ConfigTypeError, r"config keys must be strings, got \[1\]"),
        ({"lr": float("nan")}, ConfigTypeError, "not NaN"),
        ({"model": object()}, ConfigTypeError, "only JSON values"),
    ],
)
def test_config_hash_refuses_what_json_cannot_hold_exactly(config, error, message):
    with pytest.raises(error, match=message) as caught:
        config_hash(config)
    assert isinstance(caught.value, errors.InvalidTypeError)


# --- RLlib config ----------------------------------------------------------------------------


def test_to_rllib_is_seeded_samples_in_the_driver_and_uses_current_names():
    rllib_config = make(seed=5, algorithm_config={"num_epochs": 2, "clip_param": 0.1}).to_rllib()
    assert rllib_config.seed == 5 and rllib_config.num_env_runners == 0
    assert rllib_config.num_epochs == 2 and rllib_config.clip_param == 0.1
    # CartPole-v1 registered for RLlib with return scaling (a registered id cannot be scaled)
    env = _global_registry.get(ENV_CREATOR, rllib_config.env)({})
    assert env.unwrapped.spec.id == "CartPole-v1" and isinstance(env, ShapedRewardWrapper)
    assert rllib_config.enable_rl_module_and_learner
    dqn = make(algorithm="DQN", algorithm_config={"lr": 1e-3}).to_rllib()
    assert type(dqn).__name__ == "DQNConfig" and dqn.seed == 42 and dqn.num_env_runners == 0

"""Lesson 04 on RLlib: configs built from an ExperimentConfig, and recorded, seeded runs.

The tests using the ``runs`` fixture start Ray and train tiny runs; the others only build
configs or refuse arguments.
"""

import dataclasses

import numpy as np
import pytest
from ray.tune.registry import ENV_CREATOR, _global_registry

from rl_best_practices import ENV_ID, errors, experiment, rllib
from rl_best_practices.envs import MarketEnv
from rl_best_practices.experiment import ExperimentConfig, Run, compare_runs, list_runs, load_run
from rl_best_practices.rewards import ShapedRewardWrapper
from rl_best_practices.rllib import build_config, run_experiment, run_seeds, training_names
from rl_best_practices.rllib.resume import ResumableEnvRunner, ResumablePPOLearner

# RLlib re-registers its env wrapper for every algorithm it builds; Gymnasium warns each time.
pytestmark = pytest.mark.filterwarnings("ignore:.*Overriding environment rllib-single-agent-env")

TINY = ExperimentConfig(
    env_name=ENV_ID,
    env_config={"episode_length": 50},
    algorithm_config={"train_batch_size_per_learner": 200, "minibatch_size": 100, "num_epochs": 1},
    num_iterations=2,
    checkpoint_frequency=1,
    seed=3,
    experiment_name="tiny",
)


# --- configs (no Ray started) ------------------------------------------------------------------


def test_training_names_are_the_arguments_of_training_through_the_base_classes():
    ppo = training_names("PPO")
    assert {"clip_param", "num_epochs", "lr", "gamma", "train_batch_size_per_learner"} <= ppo
    assert "double_q" not in ppo and "double_q" in training_names("DQN")
    assert "self" not in ppo and "kwargs" not in ppo


def test_build_config_passes_the_market_env_as_its_class_and_keeps_ppo_defaults():
    config = build_config("PPO", ENV_ID, {"episode_length": 50}, seed=2,
                          training={"num_epochs": 1, "clip_param": 0.1})
    env = _global_registry.get(ENV_CREATOR, config.env)(config.env_config)  # return-scaled
    assert isinstance(env.unwrapped, MarketEnv) and config.env_config == {"episode_length": 50}
    assert (config.seed, config.num_epochs, config.clip_param) == (2, 1, 0.1)
    assert config.train_batch_size_per_learner == rllib.ppo_config().train_batch_size_per_learner
    assert config.num_env_runners == 0


@pytest.mark.parametrize("algorithm", ["PPO", "DQN"])
def test_build_config_keeps_train_batch_size_as_the_total_over_learners(algorithm):
    config = build_config(algorithm, ENV_ID, seed=1, training={"train_batch_size": 600})
    assert config.total_train_batch_size == 600
    config.learners(num_learners=3)
    assert (config.total_train_batch_size, config.train_batch_size_per_learner) == (600, 200)


def test_build_config_makes_ppo_resumable_and_gives_registered_ids_return_scaling():
    config = build_config("PPO", "CartPole-v1", seed=0)
    assert config.env_runner_cls is ResumableEnvRunner
    assert config.learner_class is ResumablePPOLearner
    env = _global_registry.get(ENV_CREATOR, config.env)({})  # a registered id, return-scaled
    assert env.unwrapped.spec.id == "CartPole-v1" and isinstance(env, ShapedRewardWrapper)


@pytest.mark.parametrize(
    "args, kwargs, error, message",
    [
        (("A2C",), {}, errors.InvalidValueError, "algorithm must be one of 'PPO', 'DQN'"),
        (("PPO",), {"seed": -1}, errors.InvalidValueError, "seed must be an integer in"),
        (("PPO",), {"seed": True}, errors.InvalidTypeError, "seed must be an integer"),
        (("PPO",), {"training": {"train_batch_size": 400, "train_batch_size_per_learner": 400}},
         errors.InvalidValueError, "both train_batch_size.*set one"),
    ],
)
def test_build_config_refuses_bad_arguments(args, kwargs, error, message):
    with pytest.raises(error, match=message):
        build_config(*args, **kwargs)


def test_the_experiment_package_does_not_train():
    assert not hasattr(experiment, "run_experiment") and not hasattr(experiment, "run_seeds")


def test_run_seeds_refuses_bad_seeds_before_anything_runs(tmp_path):
    with pytest.raises(errors.InvalidValueError, match="distinct seeds"):
        run_seeds(TINY, [1, 1], tmp_path)
    with pytest.raises(errors.InvalidValueError, match="distinct seeds"):
        run_seeds(TINY, [], tmp_path)
    with pytest.raises(errors.InvalidValueError, match="each seed must be an integer in"):
        run_seeds(TINY, [-1], tmp_path)
    with pytest.raises(errors.InvalidTypeError, match="each seed must be an integer"):
        run_seeds(TINY, [True], tmp_path)
    with pytest.raises(errors.InvalidTypeError, match="config must be an ExperimentConfig"):
        run_seeds(TINY.to_dict(), [1], tmp_path)
    assert list(tmp_path.iterdir()) == []  # nothing was recorded


# --- real RLlib runs (tiny) ------------------------------------------------------------------


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
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
    """The weak check (actions on a batch); tests/experiment/test_reproducibility.py compares
    weights and optimizer state, and training continued from the checkpoint."""
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

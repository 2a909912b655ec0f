"""The Ray helper: quiet start-up, a seeded PPO run, checkpoints and greedy actions."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from rl_best_practices import rllib
from rl_best_practices.envs import MarketEnv

TINY = dict(train_batch_size=200, minibatch_size=100, num_epochs=1)


@pytest.fixture(scope="module")
def ray_session():
    info = rllib.start_ray(num_cpus=2)
    yield info
    rllib.stop_ray()


@pytest.fixture(scope="module")
def trained(ray_session):
    algo = rllib.ppo_config(env_config={"episode_length": 50}, seed=3, **TINY).build_algo()
    history = rllib.train(algo, 2)
    yield algo, history
    algo.stop()


def test_starts_a_local_instance_with_the_requested_cpus(ray_session):
    if os.environ.get("RAY_ADDRESS"):
        pytest.skip("connected to a cluster")
    assert ray_session == {"mode": "local", "num_cpus": 2}
    assert rllib.start_ray(num_cpus=2) == ray_session  # a second call joins the running one


def test_config_uses_new_api_stack_names_and_the_seed():
    cfg = rllib.ppo_config(seed=11, train_batch_size=600, minibatch_size=200, num_epochs=3)
    assert (cfg.train_batch_size_per_learner, cfg.minibatch_size, cfg.num_epochs) == (600, 200, 3)
    assert cfg.seed == 11 and cfg.num_env_runners == 0
    assert cfg.enable_rl_module_and_learner and cfg.enable_env_runner_and_connector_v2


@pytest.mark.parametrize(
    "kwargs, message",
    [({"seed": -1}, "seed"), ({"train_batch_size": 100, "minibatch_size": 200}, "minibatch_size")],
)
def test_bad_config_arguments_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        rllib.ppo_config(**kwargs)


def test_scaling_or_weights_need_an_env_class_or_creator():
    with pytest.raises(TypeError, match="registered name"):
        rllib.ppo_config("rl_best_practices/Market-v0")
    assert rllib.ppo_config("CartPole-v1", scale_returns=False).env == "CartPole-v1"
    with pytest.raises(ValueError, match=r"reward components \['loss'\] have no weight"):
        rllib.ppo_config(reward_components={"loss": lambda info: -info["pnl"]})


def test_scaled_config_trains_on_the_wrapped_env_with_the_algorithms_discount():
    cfg = rllib.ppo_config(gamma=0.9, reward_weights={"drawdown": -0.1}, callbacks=[])
    assert isinstance(cfg.env, str) and cfg.env.startswith("rl_best_practices.envs.MarketEnv@")
    assert cfg.callbacks_class is rllib.RewardComponentsCallback
    env = rllib.training_env(MarketEnv, gamma=0.9, reward_weights={"drawdown": -0.1})
    assert env == cfg.env  # the same settings register the same name
    both = rllib.ppo_config(callbacks=rllib.DriftMetricsCallback).callbacks_class
    assert both == [rllib.RewardComponentsCallback, rllib.DriftMetricsCallback]


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="num_cpus"):
        rllib.start_ray(num_cpus=0)
    with pytest.raises(ValueError, match="iterations"):
        rllib.train(None, 0)
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        rllib.restore("/nonexistent/checkpoint")


def test_train_returns_tidy_metrics_per_iteration(trained):
    _, history = trained
    assert [h["iteration"] for h in history] == [1, 2]
    assert [h["env_steps"] for h in history] == [200, 400]
    assert set(history[0]) == {"iteration", "episode_return_mean", "raw_return_mean",
                               "episode_len_mean", "vf_explained_var", "env_steps", "seconds"}
    assert history[1]["episode_len_mean"] == 50.0


def test_checkpoint_restores_identical_greedy_actions(trained, tmp_path):
    algo, _ = trained
    observations = np.random.default_rng(0).normal(size=(64, 5)).astype(np.float32)
    restored = rllib.restore(rllib.save(algo, tmp_path / "ckpt"))
    try:
        actions = rllib.greedy_actions(algo, observations)
        np.testing.assert_array_equal(actions, rllib.greedy_actions(restored, observations))
        assert set(np.unique(actions)) <= {0, 1, 2}
    finally:
        restored.stop()


def test_greedy_policy_acts_in_the_env_and_rejects_a_flat_batch(trained):
    algo, _ = trained
    env = MarketEnv()
    obs, _ = env.reset(seed=0)
    assert env.action_space.contains(rllib.greedy_policy(algo)(obs))
    with pytest.raises(ValueError, match="2-D batch"):
        rllib.greedy_actions(algo, obs)


def test_continuous_greedy_actions_stay_within_the_bounds(ray_session):
    algo = rllib.ppo_config(
        env_config={"action_type": "continuous", "episode_length": 50}, seed=0, **TINY
    ).build_algo()
    try:
        observations = np.random.default_rng(1).normal(size=(32, 5)).astype(np.float32) * 5
        actions = rllib.greedy_actions(algo, observations)
        assert actions.shape == (32, 1) and np.all(np.abs(actions) <= 10.0)
    finally:
        algo.stop()


def test_start_up_and_training_print_nothing():
    """nbval compares stdout and stderr: Ray and RLlib must stay silent in a notebook."""
    script = textwrap.dedent(
        """
        from rl_best_practices import rllib
        rllib.start_ray(num_cpus=1)
        algo = rllib.ppo_config(env_config={"episode_length": 20}, train_batch_size=100,
                                minibatch_size=50, num_epochs=1).build_algo()
        rllib.train(algo, 1)
        algo.stop()
        rllib.stop_ray()
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and done.stderr == ""

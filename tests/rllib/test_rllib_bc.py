"""Behaviour cloning with RLlib on recorded Parquet episodes (the BC training test starts Ray)."""

import numpy as np
import pytest

from rl_best_practices import errors, rllib
from rl_best_practices.feedback import record_episodes
from rl_best_practices.scenarios import signal_policy


@pytest.fixture
def recorded(tmp_path):
    record_episodes(signal_policy, [0], tmp_path, {"episode_length": 5})
    return tmp_path


def test_bc_config_needs_parquet_files(tmp_path):
    with pytest.raises(errors.MissingFileError, match="no Parquet files") as info:
        rllib.bc_config(tmp_path / "empty")
    assert isinstance(info.value, FileNotFoundError)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"seed": -1}, errors.InvalidValueError, "seed must be an integer >= 0"),
        ({"seed": True}, errors.InvalidTypeError, "seed must be an integer >= 0"),
        ({"train_batch_size": 0}, errors.InvalidValueError, "train_batch_size must be an integer"),
        ({"train_batch_size": 64.0}, errors.InvalidTypeError, "train_batch_size must be an int"),
        ({"lr": 0}, errors.InvalidValueError, r"lr must be a finite number > 0"),
        ({"lr": "fast"}, errors.InvalidTypeError, r"lr must be a finite number > 0"),
    ],
)
def test_bc_config_rejects_bad_settings(recorded, kwargs, error, message):
    with pytest.raises(error, match=message):
        rllib.bc_config(recorded, **kwargs)


def test_bc_config_runs_the_reader_once_on_a_local_learner(recorded):
    cfg = rllib.bc_config(recorded, seed=3, train_batch_size=64, lr=3e-3)
    assert cfg.num_learners == 0 and cfg.map_batches_kwargs["concurrency"] == 1
    assert cfg.input_ == [str(recorded.resolve())] and cfg.seed == 3
    assert cfg.train_batch_size_per_learner == 64 and cfg.lr == 3e-3


@pytest.fixture(scope="module")
def ray_session():
    yield rllib.start_ray(num_cpus=2)
    rllib.stop_ray()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_bc_learns_the_reference_rule_from_recorded_episodes(ray_session, tmp_path):
    env_config = {"episode_length": 100}
    record_episodes(signal_policy, range(10), tmp_path, env_config)
    algo = rllib.bc_config(tmp_path, env_config, seed=0, train_batch_size=256, lr=3e-3).build_algo()
    try:
        losses = [algo.train()["learners"]["default_policy"]["policy_loss"] for _ in range(8)]
        policy = rllib.greedy_policy(algo)
        obs = np.array([[1.5, 0.0, 0, 0, 0], [-1.5, 0.0, 0, 0, 0]], np.float32)
        assert [policy(o) for o in obs] == [2, 0]  # buys on a strong signal, sells on a weak one
        assert losses[-1] < losses[0]
    finally:
        algo.stop()


def test_marwil_config_shares_the_reader_and_sets_its_advantage_scale(recorded):
    cfg = rllib.marwil_config(recorded, seed=2, beta=0.5, gamma=0.9, advantage_scale=50.0)
    assert type(cfg).__name__ == "MARWILConfig" and cfg.beta == 0.5 and cfg.gamma == 0.9
    assert cfg.num_learners == 0 and cfg.map_batches_kwargs["concurrency"] == 1
    assert cfg.moving_average_sqd_adv_norm_start == 2500.0 and cfg.seed == 2
    assert cfg.moving_average_sqd_adv_norm_update_rate == 0.01


@pytest.mark.parametrize(
    "kwargs, message",
    [({"beta": -0.1}, "beta"), ({"beta": 1.5}, "beta"), ({"gamma": 2}, "gamma"),
     ({"advantage_scale": 0}, "advantage_scale")],
)
def test_marwil_config_rejects_bad_settings(recorded, kwargs, message):
    with pytest.raises(errors.InvalidValueError, match=message):
        rllib.marwil_config(recorded, **kwargs)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_marwil_fits_a_value_function_to_the_logged_rewards(ray_session, tmp_path):
    from rl_best_practices.scenarios import signal_probabilities

    env_config = {"episode_length": 20}
    record_episodes(None, range(50), tmp_path, env_config,
                    action_probs=lambda o: signal_probabilities(o, 0.5), seed=0)
    algo = rllib.marwil_config(tmp_path, env_config, seed=0, train_batch_size=256,
                               lr=3e-3).build_algo()
    try:
        results = [algo.train()["learners"]["default_policy"] for _ in range(6)]
        assert results[-1]["vf_loss"] < results[0]["vf_loss"]  # it learns from the rewards
        probs = rllib.action_probabilities(algo)
        batch = np.array([[1.5, 0.0, 0, 0, 0], [-1.5, 0.0, 0, 0, 0]], np.float32)
        rows = probs(batch)
        assert rows.shape == (2, 3) and np.allclose(rows.sum(axis=1), 1)
        np.testing.assert_allclose(probs(batch[0]), rows[0], rtol=1e-6)
        assert rllib.greedy_actions(algo, batch).tolist() == rows.argmax(axis=1).tolist()
    finally:
        algo.stop()

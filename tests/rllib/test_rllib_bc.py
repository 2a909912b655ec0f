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

"""Reproducibility beyond one process: a fresh interpreter repeats committed returns exactly, and
a restored checkpoint has the saved weights and trains on exactly as the uninterrupted run.

The runs are tiny (200 steps per iteration); the subprocess starts its own Ray.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from ray.rllib.algorithms.ppo import PPOConfig

from rl_best_practices import ENV_ID, rllib
from rl_best_practices.experiment import ExperimentConfig
from rl_best_practices.rewards import ShapedRewardWrapper

HERE = Path(__file__).parent
SCRIPT = HERE / "reproducible_run.py"
RECORD = HERE / "reproducible_returns.json"
TINY = ExperimentConfig(
    env_name=ENV_ID,
    env_config={"episode_length": 50},
    algorithm_config={"train_batch_size": 200, "minibatch_size": 100, "num_epochs": 2},
    num_iterations=4,
    seed=5,
    experiment_name="resume",
)
METRICS = ("episode_return_mean", "raw_return_mean", "env_steps")

pytestmark = pytest.mark.filterwarnings("ignore:.*Overriding environment rllib-single-agent-env")


# --- a fresh interpreter ------------------------------------------------------------------------


def test_a_fresh_interpreter_reproduces_the_committed_per_iteration_returns():
    committed = json.loads(RECORD.read_text(encoding="utf-8"))
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}  # its own local Ray
    done = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True,
                          timeout=600, env=env, cwd=HERE.parent.parent)
    assert done.returncode == 0, done.stderr
    fresh = json.loads(done.stdout.strip().splitlines()[-1])
    assert fresh["config"] == committed["config"], "the script's config changed: regenerate"
    assert fresh["versions"] == committed["versions"], (
        f"library versions changed ({committed['versions']} -> {fresh['versions']}): "
        "bit-for-bit equality holds for one set of versions; regenerate with --write"
    )
    assert len(fresh["metrics"]["episode_return_mean"]) == committed["config"]["num_iterations"]
    assert fresh["metrics"] == committed["metrics"]  # exactly, float for float


def test_the_committed_returns_differ_between_iterations_and_from_another_seed():
    """The committed numbers are a real learning curve, not a constant an unseeded bug could
    also produce (two different seeds of the script's config give different curves)."""
    committed = json.loads(RECORD.read_text(encoding="utf-8"))["metrics"]
    returns = committed["raw_return_mean"]
    assert len(set(returns)) == len(returns) and np.all(np.isfinite(returns))
    assert committed["env_steps"] == [200 * (i + 1) for i in range(len(returns))]


# --- checkpoint, restore, continue ------------------------------------------------------------


def _flat(tree, prefix=""):
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from _flat(value, f"{prefix}/{key}")
    else:
        yield prefix, tree


def learner_state(algo):
    """Everything the learner trains with: module weights (policy and value function),
    optimizer state (Adam moments and step) and the adaptive KL coefficient."""
    state = algo.learner_group.get_state()["learner"]
    return {k: v for k, v in _flat(state) if "metrics_logger" not in k}


def assert_same_state(a, b):
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(a[key], str | int | float | bool | type(None)):
            assert a[key] == b[key], key
        else:
            np.testing.assert_array_equal(np.asarray(a[key]), np.asarray(b[key]), err_msg=key)


def module_weights(algo):
    return {k: np.asarray(v) for k, v in algo.get_module().get_state().items()}


def tidy(history):
    return {name: [h[name] for h in history] for name in METRICS}


def interrupted_and_straight(config, tmp_path):
    """Train 2 iterations, save, train 2 more; then restore the save and train 2."""
    algo = config.build_algo()
    try:
        rllib.train(algo, 2)
        path = rllib.save(algo, tmp_path / "checkpoint")
        at_save = learner_state(algo), module_weights(algo)
        straight = tidy(rllib.train(algo, 2))
        final = learner_state(algo), module_weights(algo)
    finally:
        algo.stop()
    restored = rllib.restore(path)
    try:
        at_restore = learner_state(restored), module_weights(restored)
        resumed = tidy(rllib.train(restored, 2))
        resumed_final = learner_state(restored), module_weights(restored)
    finally:
        restored.stop()
    return at_save, at_restore, straight, resumed, final, resumed_final


@pytest.fixture(scope="module")
def ray_running():
    rllib.start_ray(num_cpus=2)
    yield
    rllib.stop_ray()


@pytest.fixture(scope="module")
def resumed(ray_running, tmp_path_factory):
    return interrupted_and_straight(TINY.to_rllib(), tmp_path_factory.mktemp("resume"))


def test_a_restored_checkpoint_has_the_saved_weights_and_optimizer_state(resumed):
    (saved_learner, saved_module), (restored_learner, restored_module) = resumed[:2]
    assert_same_state(saved_learner, restored_learner)
    assert_same_state(saved_module, restored_module)
    assert any("optimizer" in key for key in saved_learner)  # Adam's state is compared too


def test_training_restored_from_a_checkpoint_continues_exactly_as_without_interruption(resumed):
    _, _, straight, resumed_run, final, resumed_final = resumed
    assert straight["env_steps"] == [600, 800]
    assert resumed_run == straight  # per-iteration returns, float for float
    assert_same_state(final[0], resumed_final[0])  # learner: weights, optimizer, KL coefficient
    assert_same_state(final[1], resumed_final[1])  # the sampling module


def test_plain_rllib_checkpoints_do_not_continue_exactly(ray_running, tmp_path):
    """Why the resumable env runner and learner exist: RLlib's own checkpoint re-seeds the envs
    (replaying the first iteration's episodes) and drops the KL coefficient, so the resumed
    run departs from the uninterrupted one at once. (This is what the test above would catch.)"""
    plain = TINY.to_rllib()
    plain.env_runners(env_runner_cls=None).learners(learner_class=None)  # RLlib's defaults
    _, _, straight, resumed_run, final, resumed_final = interrupted_and_straight(plain, tmp_path)
    assert resumed_run["env_steps"] == straight["env_steps"]
    assert resumed_run["raw_return_mean"] != straight["raw_return_mean"]
    assert not all(np.array_equal(final[1][k], resumed_final[1][k]) for k in final[1])


def env_streams(algo):
    """Per env: its generator state and how many rewards its return scaler has seen."""
    return [(env.unwrapped.np_random.bit_generator.state, scaler_count(env))
            for env in algo.env_runner.env.unwrapped.envs]


def scaler_count(env):
    while not isinstance(env, ShapedRewardWrapper):
        env = env.env
    return env.shaper.stats.count


def kl_coeff(result):
    return result["learners"]["default_policy"]["curr_kl_coeff"]


@pytest.mark.parametrize("resumable", [False, True])
def test_what_a_checkpoint_keeps_of_the_env_streams_and_the_kl_coefficient(
        ray_running, tmp_path, resumable):
    """With a KL target no update can meet, PPO multiplies its KL coefficient by 1.5 after every
    iteration. Market episodes draw all their noise at reset, so an env's generator state
    depends only on the seed and the number of episodes started. RLlib's own checkpoint
    restarts all three: the coefficient from ``kl_coeff``, the envs from the seed (the restored
    run replays the first iteration's episodes) and the return scaler from no data. The
    resumable one continues them."""
    config = TINY.to_rllib().training(kl_target=1e-9)
    if not resumable:
        config.env_runners(env_runner_cls=None).learners(learner_class=None)  # RLlib's defaults
    fresh = config.build_algo()
    try:
        fresh.train()
        after_one = env_streams(fresh)
    finally:
        fresh.stop()
    algo = config.build_algo()
    try:
        coeffs = [kl_coeff(algo.train()) for _ in range(2)]
        path = rllib.save(algo, tmp_path / "checkpoint")
        coeffs.append(kl_coeff(algo.train()))
        after_three = env_streams(algo)
    finally:
        algo.stop()
    restored = rllib.restore(path)
    try:
        restored_coeff = kl_coeff(restored.train())
        restored_rngs = env_streams(restored)
    finally:
        restored.stop()
    assert coeffs == pytest.approx([0.2 * 1.5, 0.2 * 1.5**2, 0.2 * 1.5**3])
    if resumable:
        assert restored_coeff == coeffs[2] and restored_rngs == after_three
    else:
        assert restored_coeff == pytest.approx(0.2 * 1.5) and restored_rngs == after_one
        assert after_one != after_three


def test_a_resumable_config_must_sample_and_learn_in_the_driver():
    remote = TINY.to_rllib().env_runners(num_env_runners=1)
    with pytest.raises(ValueError, match="num_env_runners=0, num_learners=0"):
        rllib.resume.resumable(remote)
    with pytest.raises(TypeError, match="must be an RLlib PPOConfig"):
        rllib.resume.resumable(TINY.to_dict())
    assert isinstance(TINY.to_rllib(), PPOConfig)

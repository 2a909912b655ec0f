"""Gymnasium wrappers that apply the safety layer inside an environment (lesson 02)."""

import warnings

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from rl_best_practices.envs import MarketEnv
from rl_best_practices.errors import InvalidTypeError, InvalidValueError, NoSafeActionError
from rl_best_practices.safety import (
    ActionMaskWrapper,
    SafetyLayer,
    SafetyWrapper,
    market_state,
    position_limit,
    reduce_position,
    var_limit,
)


def test_safety_wrapper_keeps_the_market_within_its_limits():
    layer = SafetyLayer((-10, 10), [position_limit(50), var_limit(60)], reduce_position(10))
    env = SafetyWrapper(MarketEnv({"action_type": "continuous", "episode_length": 300}), layer)
    env.reset(seed=1)
    rng = np.random.default_rng(0)
    for _ in range(300):
        state = market_state(env)
        action = rng.uniform(-10, 10, size=1).astype(np.float32)
        _, _, _, _, info = env.step(action)
        assert abs(info["position"]) <= 50
        assert layer.is_action_safe(info["executed_action"], state) == (True, None)
        assert info["proposed_action"] is action
        assert (info["safety_reason"] is None) == (info["safety_outcome"] == "passed")
    assert layer.get_safety_stats()["total_violations"] > 0


def test_action_mask_wrapper_passes_the_env_checker_and_masks():
    layer = SafetyLayer(constraint_functions=[position_limit(20)])
    env = ActionMaskWrapper(MarketEnv({"episode_length": 50}), layer, [-10.0, 0.0, 10.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_env(env, skip_render_check=True)
    obs, _ = env.reset(seed=0)
    for _ in range(2):
        obs, _, _, _, info = env.step(2)
    assert obs["action_mask"].tolist() == [1.0, 1.0, 0.0]
    _, _, _, _, info = env.step(2)  # masked out: the nearest safe action (hold) runs instead
    assert info["executed_action"] == 1 and info["position"] == 20.0
    with pytest.raises(InvalidTypeError, match="Discrete"):
        ActionMaskWrapper(MarketEnv({"action_type": "continuous"}), layer, [0.0])
    with pytest.raises(InvalidValueError, match="one entry per action"):
        ActionMaskWrapper(MarketEnv(), layer, [0.0])


def test_wrappers_refuse_wrong_arguments_with_invalid_type_error():
    layer = SafetyLayer(constraint_functions=[position_limit(20)])
    continuous = MarketEnv({"action_type": "continuous"})
    candidates = [-10.0, 0.0, 10.0]
    with pytest.raises(InvalidTypeError, match="layer must be a SafetyLayer, got dict"):
        SafetyWrapper(continuous, {})
    with pytest.raises(InvalidTypeError, match="state_fn must be callable"):
        SafetyWrapper(continuous, layer, state_fn="position")
    with pytest.raises(InvalidTypeError, match="layer must be a SafetyLayer"):
        ActionMaskWrapper(MarketEnv(), None, candidates)
    with pytest.raises(InvalidTypeError, match="state_fn must be callable"):
        ActionMaskWrapper(MarketEnv(), layer, candidates, state_fn=3)


def test_action_mask_wrapper_refuses_a_bool_action():
    layer = SafetyLayer(constraint_functions=[position_limit(20)])
    env = ActionMaskWrapper(MarketEnv(), layer, [-10.0, 0.0, 10.0])
    env.reset(seed=0)
    with pytest.raises(InvalidTypeError, match="index must be an integer") as info:
        env.step(True)
    assert isinstance(info.value, TypeError) and isinstance(info.value, ValueError)
    _, _, _, _, info = env.step(np.array(2))  # a 0-d array from a policy is fine
    assert info["executed_action"] == 2


def test_safety_wrapper_records_the_decision_in_info():
    layer = SafetyLayer((-10, 10), [position_limit(5)], reduce_position(10))
    env = SafetyWrapper(MarketEnv({"action_type": "continuous"}), layer)
    env.reset(seed=0)
    _, _, _, _, info = env.step(np.array([8.0], dtype=np.float32))
    assert info["safety_outcome"] == "projected"
    assert info["safety_reason"] == "position_limit: position 8.0 would exceed the limit 5.0"
    np.testing.assert_array_equal(info["executed_action"], [5.0])


def test_safety_wrapper_degrades_to_the_stated_safe_action_and_counts_it():
    """No fallback, nothing passes: with safe_action the wrapper holds instead of crashing."""
    layer = SafetyLayer((-10, 10), [position_limit(15)])
    hold = np.zeros(1, dtype=np.float32)
    env = SafetyWrapper(MarketEnv({"action_type": "continuous"}), layer, safe_action=hold)
    env.reset(seed=0)
    outcomes = [env.step(np.array([10.0], dtype=np.float32))[-1]["safety_outcome"]
                for _ in range(4)]
    assert outcomes[0] == "passed"  # then every buy of 10 would take the position above 15
    assert env.no_safe_action_steps == outcomes.count("no_safe_action") >= 2
    assert env.unwrapped.position <= 15
    assert layer.get_safety_stats()["outcomes"]["no_safe_action"] == env.no_safe_action_steps


def test_safety_wrapper_counts_the_steps_a_layer_with_its_own_safe_action_degraded():
    layer = SafetyLayer((-10, 10), [position_limit(15)], safe_action=0.0)
    env = SafetyWrapper(MarketEnv({"action_type": "continuous"}), layer)
    env.reset(seed=0)
    infos = [env.step(np.array([10.0], dtype=np.float32))[-1] for _ in range(4)]
    degraded = [info for info in infos if info["safety_outcome"] == "no_safe_action"]
    assert env.no_safe_action_steps == len(degraded) == layer.get_safety_stats()["safe_action_uses"]
    assert len(degraded) >= 2 and all(info["executed_action"][0] == 0.0 for info in degraded)
    assert env.unwrapped.position <= 15


def test_safety_wrapper_without_a_safe_action_lets_the_error_propagate():
    env = SafetyWrapper(MarketEnv({"action_type": "continuous"}),
                        SafetyLayer((-10, 10), [position_limit(5)]))
    env.reset(seed=0)
    with pytest.raises(NoSafeActionError):
        env.step(np.array([8.0], dtype=np.float32))
    with pytest.raises(InvalidValueError, match="safe_action"):
        SafetyWrapper(MarketEnv({"action_type": "continuous"}), SafetyLayer(),
                      safe_action=np.array([50.0], dtype=np.float32))

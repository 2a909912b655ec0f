"""The market environment: Gymnasium contract, determinism, validation, the regime switch."""

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from rl_best_practices.envs import (
    ENV_ID,
    MarketEnv,
    MarketParams,
    episode_summaries,
    evaluate_policy,
    flat_policy,
    random_policy,
)

INFO_KEYS = {"pnl", "gross_pnl", "transaction_cost", "turnover", "trade", "position", "equity",
             "drawdown", "var", "signal", "price_change", "regime"}


def rollout(env, seed, actions):
    obs, _ = env.reset(seed=seed)
    trace = [obs]
    for action in actions:
        obs, reward, terminated, truncated, info = env.step(action)
        trace.append(np.append(obs, [reward, info["var"]]))
    return np.concatenate(trace)


@pytest.mark.parametrize("action_type", ["discrete", "continuous"])
def test_passes_gymnasium_env_checker(action_type):
    with warnings.catch_warnings():
        # The continuous variant trades in asset units, which the checker's style advice flags.
        warnings.filterwarnings("ignore", message=".*symmetric and normalized space.*")
        check_env(MarketEnv({"action_type": action_type}), skip_render_check=True)


def test_registered_id_builds_the_env():
    env = gym.make(ENV_ID, episode_length=7)
    assert isinstance(env.unwrapped, MarketEnv)
    assert env.unwrapped.params.episode_length == 7


def test_identical_seeds_give_identical_trajectories():
    actions = [2, 2, 1, 0, 0, 0, 1, 2] * 10
    a = rollout(MarketEnv(), 123, actions)
    b = rollout(MarketEnv(), 123, actions)
    c = rollout(MarketEnv(), 124, actions)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_reward_is_net_pnl_and_info_carries_what_lessons_need():
    env = MarketEnv({"transaction_cost": 0.1})
    env.reset(seed=0)
    _, reward, _, _, info = env.step(2)
    assert INFO_KEYS <= set(info)
    assert info["position"] == 10.0 and info["trade"] == 10.0 and info["turnover"] == 10.0
    assert info["transaction_cost"] == pytest.approx(1.0)
    assert info["gross_pnl"] == pytest.approx(10.0 * info["price_change"])
    assert reward == pytest.approx(info["pnl"]) == pytest.approx(info["gross_pnl"] - 1.0)
    assert info["var"] == pytest.approx(env.value_at_risk()) and info["var"] > 0


def test_episode_truncates_at_its_length_and_never_terminates_by_default():
    env = MarketEnv({"episode_length": 5})
    env.reset(seed=0)
    flags = [env.step(1)[2:4] for _ in range(5)]
    assert flags == [(False, False)] * 4 + [(False, True)]


def test_max_drawdown_terminates():
    env = MarketEnv({"max_drawdown": 1.0, "episode_length": 1000})
    env.reset(seed=0)
    terminated = truncated = False
    while not (terminated or truncated):
        _, _, terminated, truncated, info = env.step(2)
    assert terminated and not truncated and info["drawdown"] >= 1.0


def test_position_is_clamped_by_the_exchange():
    env = MarketEnv({"max_position": 25.0})
    env.reset(seed=0)
    infos = [env.step(2)[4] for _ in range(4)]
    assert [i["position"] for i in infos] == [10.0, 20.0, 25.0, 25.0]
    assert infos[2]["trade"] == 5.0 and infos[3]["transaction_cost"] == 0.0


@pytest.mark.parametrize("bad", [3, -1, 1.5, "buy", None, True, np.array([1, 2])])
def test_discrete_action_outside_the_space_raises(bad):
    env = MarketEnv()
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action must be"):
        env.step(bad)


@pytest.mark.parametrize("bad", [10.5, -11.0, np.nan, np.inf, [1.0, 2.0], "x"])
def test_continuous_action_outside_the_space_raises(bad):
    env = MarketEnv({"action_type": "continuous"})
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action must be one finite trade"):
        env.step(bad)


def test_continuous_trade_moves_the_position_by_the_amount():
    env = MarketEnv({"action_type": "continuous"})
    env.reset(seed=0)
    assert env.step(np.array([7.5], dtype=np.float32))[4]["position"] == 7.5
    assert env.step(-2.5)[4]["position"] == 5.0


@pytest.mark.parametrize(
    "config, message",
    [
        ({"episode_length": 0}, "episode_length"),
        ({"action_type": "box"}, "action_type"),
        ({"trade_size": -1}, "trade_size"),
        ({"transaction_cost": -0.1}, "transaction_cost"),
        ({"signal_persistence": 1.0}, "signal_persistence"),
        ({"regime": {"volatility": 0.0}}, "volatility"),
        ({"regime_switch_step": -3}, "regime_switch_step"),
        ({"no_such_setting": 1}, "unknown market env settings"),
    ],
)
def test_bad_settings_raise_a_specific_error(config, message):
    with pytest.raises(ValueError, match=message):
        MarketEnv(config)


def test_settings_round_trip_through_a_plain_dict():
    params = MarketParams.from_config(
        {"regime_switch_step": 50, "switched_regime": {"volatility": 3.0}}
    )
    assert params.switched_regime.volatility == 3.0
    assert MarketParams.from_config(params.to_config()) == params


def test_regime_switch_changes_the_return_distribution():
    env = MarketEnv({"regime_switch_step": 100, "episode_length": 200})
    before, after = [], []
    for seed in range(20):
        env.reset(seed=seed)
        for t in range(200):
            info = env.step(1)[4]
            (after if t >= 100 else before).append(info["price_change"])
            assert info["regime"] == ("switched" if t >= 100 else "base")
    ratio = np.std(after) / np.std(before)
    assert 1.8 < ratio < 2.2  # switched volatility 2.0 against 1.0


def test_observations_stay_inside_the_declared_space():
    env = MarketEnv({"regime_switch_step": 0, "switched_regime": {"volatility": 50.0}})
    obs, _ = env.reset(seed=0)
    for _ in range(200):
        obs = env.step(2)[0]
        assert env.observation_space.contains(obs)


def test_flat_earns_exactly_zero_and_random_is_seeded_and_pays_costs_on_every_trade():
    env = MarketEnv()
    seeds = range(40)
    assert np.all(evaluate_policy(flat_policy(env), seeds) == 0.0)
    random_returns = evaluate_policy(random_policy(env, seed=0), seeds)
    np.testing.assert_array_equal(
        random_returns, evaluate_policy(random_policy(env, seed=0), seeds)
    )
    assert not np.array_equal(random_returns, evaluate_policy(random_policy(env, seed=1), seeds))
    act = random_policy(env, seed=0)
    obs, _ = env.reset(seed=0)
    position, traded = 0.0, 0
    for _ in range(50):
        obs, reward, _, _, info = env.step(act(obs))
        assert info["trade"] == pytest.approx(info["position"] - position)
        assert info["transaction_cost"] == pytest.approx(env.params.transaction_cost
                                                         * abs(info["trade"]))
        assert reward == pytest.approx(info["gross_pnl"] - info["transaction_cost"])
        position, traded = info["position"], traded + (info["trade"] != 0)
    assert traded >= 20, "a random policy trades on most steps"


def test_a_signal_following_rule_beats_both_baselines():
    """The signal is genuinely predictive, so the env is learnable."""

    def follow_signal(obs):
        signal, position = obs[0], obs[1]
        if signal > 0.3 and position < 0.5:
            return 2
        if signal < -0.3 and position > -0.5:
            return 0
        return 1

    env = MarketEnv()
    returns = evaluate_policy(follow_signal, range(100, 140))
    assert returns.mean() > 1000 > evaluate_policy(random_policy(env, 1), range(100, 140)).mean()


def test_episode_summaries_agree_with_a_hand_rollout():
    env_config = {"episode_length": 30}
    always_buy = lambda obs: 2  # noqa: E731
    summary = episode_summaries(always_buy, [5], env_config)
    env = MarketEnv(env_config)
    env.reset(seed=5)
    infos = [env.step(2)[4] for _ in range(30)]
    assert summary["return"][0] == pytest.approx(sum(i["pnl"] for i in infos))
    assert summary["max_drawdown"][0] == pytest.approx(max(i["drawdown"] for i in infos))
    assert summary["turnover"][0] == pytest.approx(sum(i["turnover"] for i in infos))
    assert summary["mean_abs_position"][0] == pytest.approx(np.mean([i["position"] for i in infos]))
    assert summary["max_var"][0] == pytest.approx(max(i["var"] for i in infos))

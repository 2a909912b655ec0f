"""RewardShaper and friends: corrected statistics, validation, persistence, Gymnasium parity."""

import json

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.wrappers import NormalizeReward
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import spearmanr

from rl_best_practices import RewardShaper as ExportedShaper
from rl_best_practices.envs import MarketEnv
from rl_best_practices.errors import InvalidTypeError, InvalidValueError
from rl_best_practices.rewards import (
    MissingWeightError,
    RewardShaper,
    ShapedRewardWrapper,
    optimal_policy,
    potential_shaping,
)

WEIGHTS = {"sharpe_bonus": 0.5, "drawdown_penalty": 1.0, "turnover_cost": 2.0}


def components(rng):
    return {
        "sharpe_bonus": rng.uniform(0, 1),
        "drawdown_penalty": -rng.uniform(0, 0.5),
        "turnover_cost": -rng.uniform(0, 0.1),
    }


def test_exported_from_the_package():
    assert ExportedShaper is RewardShaper


def test_output_scale_is_one_for_raw_pnl_of_scale_100():
    rng = np.random.default_rng(0)
    shaper = RewardShaper()
    outputs = [shaper.compute_shaped_reward(rng.normal(0, 100), components(rng), WEIGHTS,
                                            clip_range=(-1e9, 1e9)) for _ in range(20_000)]
    assert np.std(outputs[1000:]) == pytest.approx(1.0, abs=0.05)
    assert shaper.stats.std == pytest.approx(100.0, rel=0.05)  # statistics of the raw shaped value


def test_normalises_before_clipping_so_ordering_survives():
    rng = np.random.default_rng(1)
    shaper = RewardShaper()
    raw = rng.normal(0, 100, size=5000)
    out = np.array([shaper.compute_shaped_reward(r, {}, {}) for r in raw])
    tail_raw, tail_out = raw[500:], out[500:]
    assert np.mean(np.abs(tail_out) >= 10) < 0.001  # nothing saturates at ±10
    assert spearmanr(tail_raw, tail_out).statistic > 0.999  # the divisor drifts slowly
    shaper.freeze()
    frozen = np.array([shaper.compute_shaped_reward(r, {}, {}) for r in tail_raw])
    assert np.array_equal(np.argsort(tail_raw), np.argsort(frozen))


def test_missing_weight_names_the_component_and_changes_nothing():
    shaper = RewardShaper()
    shaper.compute_shaped_reward(1.0, {"a": 1.0}, {"a": 1.0})
    before = shaper.stats.to_dict()
    with pytest.raises(MissingWeightError, match="'drawdown_penalty'"):
        shaper.compute_shaped_reward(1.0, {"drawdown_penalty": -1.0}, {"drawdown_penality": 1.0})
    with pytest.raises(ValueError):  # also a ValueError (and a KeyError)
        shaper.compute_shaped_reward(1.0, {"b": 1.0}, {})
    assert shaper.stats.to_dict() == before and shaper.steps == 1


def test_explicit_default_weight_is_used():
    shaper = RewardShaper(default_weight=0.5)
    assert shaper.compute_shaped_reward(1.0, {"x": 4.0}, {}, normalize=False) == 3.0


@pytest.mark.parametrize(
    "raw, comps, weights",
    [
        (float("nan"), {}, {}),
        (float("inf"), {}, {}),
        ("1.0x", {}, {}),
        (None, {}, {}),
        (1.0, {"a": float("nan")}, {"a": 1.0}),
        (1.0, {"a": 1.0}, {"a": float("-inf")}),
        (1e308, {"a": 1e308}, {"a": 10.0}),  # overflow while combining
    ],
)
def test_non_finite_input_raises_and_leaves_statistics_untouched(raw, comps, weights):
    shaper = RewardShaper()
    for r in [1.0, 2.0, 3.0]:
        shaper.compute_shaped_reward(r, {}, {})
    before = (shaper.stats.to_dict(), shaper.get_diagnostics())
    with pytest.raises(ValueError):
        shaper.compute_shaped_reward(raw, comps, weights)
    assert (shaper.stats.to_dict(), shaper.get_diagnostics()) == before


@pytest.mark.parametrize("clip_range", [(10, -10), (1, 1), (0,), (float("nan"), 1), "ab"])
def test_bad_clip_range_raises(clip_range):
    with pytest.raises(ValueError, match="clip_range"):
        RewardShaper().compute_shaped_reward(1.0, {}, {}, clip_range=clip_range)


@pytest.mark.parametrize(
    "kwargs", [{"scale": "z"}, {"gamma": 1.5}, {"epsilon": 0}, {"window": 0},
               {"scale": "return", "center": True}, {"default_weight": float("nan")}],
)
def test_bad_settings_raise(kwargs):
    with pytest.raises(ValueError):
        RewardShaper(**kwargs)


def test_memory_stops_growing_once_the_diagnostic_window_is_full():
    """Measured with tracemalloc: 20,000 more steps allocate nothing that stays alive.

    An unbounded history of 20,000 records would hold well over a megabyte.
    """
    import tracemalloc

    shaper = RewardShaper(window=100)

    def steps(n):
        for i in range(n):
            shaper.compute_shaped_reward(float(i % 7), {"a": 1.0}, {"a": 1.0})

    steps(2_000)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        steps(20_000)
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 20_000, f"{grown} bytes kept after 20,000 steps"
    assert shaper.get_diagnostics()["count"] == 22_000


def test_frozen_statistics_do_not_move_and_survive_save_and_load(tmp_path):
    rng = np.random.default_rng(2)
    shaper = RewardShaper(scale="return", gamma=0.9)
    for _ in range(500):
        shaper.compute_shaped_reward(rng.normal(0, 10), {}, {})
    shaper.freeze()
    frozen_stats = shaper.stats.to_dict()
    outputs = [shaper.compute_shaped_reward(x, {}, {}) for x in (5.0, -5.0)]
    assert shaper.stats.to_dict() == frozen_stats

    path = tmp_path / "normaliser.json"
    shaper.save(path)
    loaded = RewardShaper.load(path)
    assert loaded.stats.to_dict() == frozen_stats and loaded.frozen
    assert (loaded.scale, loaded.gamma) == ("return", 0.9)
    assert loaded.compute_shaped_reward(5.0, {}, {}) == pytest.approx(outputs[0])
    assert json.loads(path.read_text())["kind"] == "rl_best_practices.reward_shaper"


def test_load_refuses_other_files_and_failed_save_keeps_the_old_file(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"kind": "something else"}))
    with pytest.raises(ValueError, match="expected"):
        RewardShaper.load(path)
    good = RewardShaper()
    good.compute_shaped_reward(3.0, {}, {})
    good.save(path)
    saved = path.read_text()
    broken = RewardShaper()
    broken.stats.mean = float("nan")  # cannot be written as JSON
    with pytest.raises(ValueError):
        broken.save(path)
    assert path.read_text() == saved
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


@pytest.mark.parametrize("config", [{"episode_length": 2000},
                                    {"episode_length": 2000, "max_drawdown": 300.0}])
def test_return_scaling_matches_gymnasium_normalize_reward(config):
    """Same reward stream, same outputs (within one episode; Gymnasium's wrapper also carries
    the discounted return across a reset after truncation, where a new episode starts afresh
    here)."""
    gamma = 0.95
    ours = ShapedRewardWrapper(MarketEnv(config), RewardShaper(scale="return", gamma=gamma),
                               components={}, weights={}, clip_range=(-1e9, 1e9), gamma=gamma)
    theirs = NormalizeReward(MarketEnv(config), gamma=gamma, epsilon=1e-8)
    rng = np.random.default_rng(3)
    ours.reset(seed=7)
    theirs.reset(seed=7)
    done, steps = False, 0
    while not done:
        action = int(rng.integers(3))
        _, r_ours, terminated, truncated, _ = ours.step(action)
        _, r_theirs, *_ = theirs.step(action)
        assert r_ours == pytest.approx(float(r_theirs), rel=1e-9)
        done, steps = terminated or truncated, steps + 1
    assert steps > 10


def test_centering_turns_an_always_positive_reward_into_a_penalty_half_the_time():
    rng = np.random.default_rng(4)
    alive = 1.0 + rng.uniform(0, 0.2, size=2000)  # an "alive" bonus, always positive
    centered, scaled = RewardShaper(center=True), RewardShaper()
    c = np.array([centered.compute_shaped_reward(a, {}, {}) for a in alive])[100:]
    s = np.array([scaled.compute_shaped_reward(a, {}, {}) for a in alive])[100:]
    assert (c < 0).mean() > 0.4 and (s > 0).all()


def test_potential_shaping_respects_termination_but_not_truncation():
    assert potential_shaping(2.0, 5.0, 0.9, terminated=True) == -2.0
    assert potential_shaping(2.0, 5.0, 0.9, terminated=False) == pytest.approx(2.5)
    with pytest.raises(ValueError):
        potential_shaping(1.0, float("nan"), 0.9, terminated=False)


def random_mdp(rng, n_states=5, n_actions=3):
    """A random MDP whose last state is terminal (absorbing, no reward)."""
    P = rng.dirichlet(np.ones(n_states), size=(n_states, n_actions))
    P[-1] = 0.0
    P[-1, :, -1] = 1.0
    R = rng.normal(size=P.shape)
    R[-1] = 0.0
    return P, R


def shaping_matrix(phi, gamma):
    """F[s, a, s'] built with potential_shaping; reaching the last state terminates."""
    n = len(phi)
    F = np.array([[potential_shaping(phi[s], phi[t], gamma, terminated=t == n - 1)
                   for t in range(n)] for s in range(n)])
    F[-1] = 0.0  # nothing is earned after termination
    return np.broadcast_to(F[:, None, :], (n, 3, n))


def brute_force_policy(P, R, gamma):
    """The best deterministic policy by evaluating every one of them exactly."""
    import itertools

    n_states, n_actions, _ = P.shape
    expected = (P * R).sum(axis=2)
    best, best_values = None, None
    for policy in itertools.product(range(n_actions), repeat=n_states):
        rows = np.arange(n_states)
        values = np.linalg.solve(np.eye(n_states) - gamma * P[rows, policy],
                                 expected[rows, policy])
        if best_values is None or (values > best_values + 1e-9).any():
            best, best_values = np.array(policy), values
    return best, best_values


@pytest.mark.parametrize("seed", range(3))
def test_optimal_policy_finds_the_values_of_the_best_of_all_deterministic_policies(seed):
    P, R = random_mdp(np.random.default_rng(seed), n_states=4)
    policy, values = optimal_policy(P, R, 0.9)
    _, best_values = brute_force_policy(P, R, 0.9)
    np.testing.assert_allclose(values, best_values, atol=1e-6)
    expected = (P * R).sum(axis=2)
    rows = np.arange(len(policy))
    np.testing.assert_allclose(  # the returned policy achieves those values
        np.linalg.solve(np.eye(len(policy)) - 0.9 * P[rows, policy], expected[rows, policy]),
        best_values, atol=1e-6,
    )


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_potential_shaping_never_changes_the_optimal_policy(seed):
    """Ng, Harada and Russell (1999) on random MDPs with an absorbing terminal state."""
    rng = np.random.default_rng(seed)
    gamma = 0.9
    P, R = random_mdp(rng)
    phi = rng.normal(scale=5, size=len(P))
    policy, _ = optimal_policy(P, R, gamma)
    shaped_policy, _ = optimal_policy(P, R + shaping_matrix(phi, gamma), gamma)
    assert np.array_equal(policy[:-1], shaped_policy[:-1])


def test_shaping_of_the_same_size_that_is_not_potential_based_changes_the_policy():
    """The control for the test above: the invariance is a property of F = γΦ(s') − Φ(s)."""
    changed = 0
    for seed in range(20):
        rng = np.random.default_rng(seed)
        P, R = random_mdp(rng)
        phi = rng.normal(scale=5, size=len(P))
        F = shaping_matrix(phi, 0.9)
        arbitrary = rng.permutation(F.ravel()).reshape(F.shape)  # same values, no potential
        arbitrary[-1] = 0.0
        policy, _ = optimal_policy(P, R, 0.9)
        changed += not np.array_equal(policy[:-1], optimal_policy(P, R + arbitrary, 0.9)[0][:-1])
    assert changed >= 10


def test_optimal_policy_validates_its_input():
    with pytest.raises(ValueError, match="probability"):
        optimal_policy(np.ones((2, 1, 2)), np.zeros((2, 1, 2)), 0.9)
    with pytest.raises(ValueError, match="shape"):
        optimal_policy(np.ones((2, 1, 3)), np.zeros((2, 1, 3)), 0.9)
    with pytest.raises(ValueError, match="gamma"):
        optimal_policy(np.full((1, 1, 1), 1.0), np.zeros((1, 1, 1)), 1.0)


def test_wrapper_reads_components_from_info_and_writes_them_back():
    env = ShapedRewardWrapper(
        MarketEnv({"episode_length": 20}), RewardShaper(),
        components={"cost": "transaction_cost", "drawdown_penalty": lambda info: -info["drawdown"]},
        weights={"cost": -1.0, "drawdown_penalty": 0.1}, normalize=False,
        potential=lambda obs: 10.0 * float(obs[1]), gamma=0.9,
    )
    obs, _ = env.reset(seed=0)
    previous = 10.0 * float(obs[1])
    for action in [2, 2, 0, 1]:
        obs, reward, _, _, info = env.step(action)
        comps = info["reward_components"]
        assert comps["cost"] == info["transaction_cost"]
        assert comps["potential"] == pytest.approx(0.9 * 10.0 * float(obs[1]) - previous)
        base = info["raw_reward"] - comps["cost"] + 0.1 * comps["drawdown_penalty"]
        expected = np.clip(base, -10, 10) + comps["potential"]  # the potential is never clipped
        assert reward == info["shaped_reward"] == pytest.approx(expected)
        assert info["raw_reward"] == info["pnl"]
        previous = 10.0 * float(obs[1])


def test_wrapper_is_a_valid_gymnasium_env():
    from gymnasium.utils.env_checker import check_env

    env = ShapedRewardWrapper(MarketEnv(), RewardShaper(), components={"dd": "drawdown"},
                              weights={"dd": -0.01}, gamma=0.95)
    check_env(env.unwrapped, skip_render_check=True)
    obs, _ = env.reset(seed=1)
    assert env.observation_space.contains(obs)
    assert isinstance(gym.make("rl_best_practices/Market-v0").unwrapped, MarketEnv)


@pytest.mark.parametrize(
    "kwargs, name", [({"window": True}, "window"), ({"window": 10.0}, "window"),
                     ({"gamma": "0.9"}, "gamma"), ({"epsilon": True}, "epsilon")],
)
def test_settings_of_the_wrong_type_raise_the_package_type_error(kwargs, name):
    with pytest.raises(InvalidTypeError, match=name):
        RewardShaper(**kwargs)


@pytest.mark.parametrize("raw", ["5.0", True, None])
def test_rewards_that_are_not_numbers_are_refused_not_coerced(raw):
    shaper = RewardShaper()
    with pytest.raises(InvalidTypeError, match="raw_reward must be a finite number"):
        shaper.compute_shaped_reward(raw, {}, {})
    assert shaper.steps == 0


def test_numpy_scalars_and_0d_arrays_are_numbers():
    shaper = RewardShaper(default_weight=1.0)
    out = shaper.compute_shaped_reward(np.array(2.0), {"a": np.float32(1.0)}, {}, normalize=False)
    assert out == 3.0


def test_components_must_be_a_mapping():
    with pytest.raises(InvalidTypeError, match="components must be a mapping"):
        RewardShaper().compute_shaped_reward(1.0, [("a", 1.0)], {})


def test_wrapper_refuses_a_return_scaler_with_another_discount():
    with pytest.raises(InvalidValueError, match="gamma=0.99 but the wrapper's gamma is 0.95"):
        ShapedRewardWrapper(MarketEnv(), RewardShaper(scale="return", gamma=0.99),
                            components={}, weights={}, gamma=0.95)


def test_wrapper_needs_the_discount_explicitly():
    with pytest.raises(TypeError, match="gamma"):
        ShapedRewardWrapper(MarketEnv(), RewardShaper(), components={}, weights={})


def test_potential_term_telescopes_even_when_the_base_reward_is_clipped():
    """With γ = 1 the rewards minus the clipped base sum to Φ(s_T) − Φ(s_0) exactly, however
    hard the base reward is clipped: the potential term is added after clipping."""
    def phi(obs):
        return 1000.0 * float(obs[1])  # large: it would hit any clip bound

    env = ShapedRewardWrapper(MarketEnv({"episode_length": 30}), RewardShaper(), components={},
                              weights={}, clip_range=(-0.1, 0.1), potential=phi, gamma=1.0)
    obs, _ = env.reset(seed=4)
    first, total, largest, rng = phi(obs), 0.0, 0.0, np.random.default_rng(0)
    for _ in range(29):
        obs, reward, _, _, info = env.step(int(rng.integers(3)))
        base = reward - info["reward_components"]["potential"]
        assert abs(base) <= 0.1 + 1e-9
        total += reward - base
        largest = max(largest, abs(reward))
    assert total == pytest.approx(phi(obs) - first)
    assert largest > 1.0  # the potential term itself went unclipped

"""The Bradley-Terry reward model, trajectory features and the link to the feedback store."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import approx_fprime, check_grad

from rl_best_practices import errors
from rl_best_practices.envs import MarketEnv, flat_policy
from rl_best_practices.feedback import TIE, HumanFeedbackCollector
from rl_best_practices.reward_model import (
    FEATURE_NAMES,
    BradleyTerryRewardModel,
    best_of_n,
    check_pairs,
    preference_arrays,
    random_pairs,
    trajectory_features,
)

SHORT = {"episode_length": 40}


def test_the_gradient_matches_finite_differences():
    rng = np.random.default_rng(1)
    diffs, labels = rng.normal(size=(50, 3)), rng.choice([0.0, 0.5, 1.0], size=50)
    w = rng.normal(size=3)

    def loss(v):
        return BradleyTerryRewardModel.loss_and_gradient(v, diffs, labels, 0.1)[0]

    def grad(v):
        return BradleyTerryRewardModel.loss_and_gradient(v, diffs, labels, 0.1)[1]

    assert check_grad(loss, grad, w) < 1e-5
    np.testing.assert_allclose(grad(w), approx_fprime(w, loss, 1e-7), atol=1e-5)


def test_the_unpenalised_fit_solves_the_likelihood_equations():
    # At the maximum-likelihood estimate the score vanishes: X^T (sigmoid(Xw) - y) = 0.
    rng = np.random.default_rng(2)
    fa, fb = rng.normal(size=(400, 3)), rng.normal(size=(400, 3))
    p = 1 / (1 + np.exp(-(fa - fb) @ [1.0, -0.5, 0.0]))
    labels = (rng.random(400) < p).astype(float)
    model = BradleyTerryRewardModel(l2=0.0).fit(fa, fb, labels)
    score = (fa - fb).T @ (model.probability(fa, fb) - labels) / 400
    np.testing.assert_allclose(score, 0.0, atol=1e-4)
    np.testing.assert_allclose(model.weights_, [1.0, -0.5, 0.0], atol=0.3)


def test_the_reward_is_invariant_to_feature_units():
    rng = np.random.default_rng(3)
    fa, fb = rng.normal(size=(300, 2)), rng.normal(size=(300, 2))
    labels = ((fa - fb) @ [1.0, 1.0] > 0).astype(float)
    units = np.array([1.0, 1000.0])
    base = BradleyTerryRewardModel().fit(fa, fb, labels)
    scaled = BradleyTerryRewardModel().fit(fa * units, fb * units, labels)
    np.testing.assert_allclose(scaled.reward(fa * units), base.reward(fa), rtol=1e-4, atol=1e-6)


def test_features_are_per_step_sums_from_the_env():
    assert FEATURE_NAMES == ("pnl", "drawdown", "turnover", "abs_position")
    flat = trajectory_features(flat_policy(MarketEnv()), 0, SHORT)
    np.testing.assert_array_equal(flat, np.zeros(4))
    always_buy = trajectory_features(lambda obs: 2, 0, {"episode_length": 3})
    assert always_buy[2] == 30.0 and always_buy[3] == 10 + 20 + 30  # turnover, |position|


def test_preferences_from_the_store_become_training_arrays():
    fb = HumanFeedbackCollector()
    fb.record_preference("x", "y", "x")
    fb.record_preference("y", "z", "z")
    fb.record_preference("x", "z", TIE)
    features = {"x": [1.0, 0.0], "y": [0.0, 1.0], "z": [2.0, 2.0]}
    fa, fb_, labels = preference_arrays(fb.preferences(), features)
    np.testing.assert_array_equal(fa, [[1, 0], [0, 1], [1, 0]])
    np.testing.assert_array_equal(fb_, [[0, 1], [2, 2], [2, 2]])
    np.testing.assert_array_equal(labels, [1.0, 0.0, 0.5])
    with pytest.raises(errors.InvalidValueError, match="no features for trajectories"):
        preference_arrays(fb.preferences(), {"x": [1.0, 0.0]})
    with pytest.raises(errors.InvalidValueError, match="no preferences"):
        preference_arrays([], features)


def test_random_pairs_are_distinct_rows_of_the_pool_and_seeded():
    pool = np.arange(10.0).reshape(5, 2)
    a, b = random_pairs(pool, 500, np.random.default_rng(0))
    assert a.shape == b.shape == (500, 2) and np.all(a != b)
    assert set(map(tuple, a)) == set(map(tuple, pool))  # every row is drawn
    again = random_pairs(pool, 500, np.random.default_rng(0))
    np.testing.assert_array_equal(a, again[0])


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**31), st.floats(0.1, 10.0))
def test_probabilities_are_complementary_and_monotone_in_the_reward(seed, shift):
    rng = np.random.default_rng(seed)
    fa, fb = rng.normal(size=(40, 2)), rng.normal(size=(40, 2))
    model = BradleyTerryRewardModel().fit(fa, fb, ((fa - fb) @ [1.0, 0.5] > 0).astype(float))
    p = model.probability(fa, fb)
    np.testing.assert_allclose(p + model.probability(fb, fa), 1.0)
    assert np.all((p >= 0) & (p <= 1))
    better = fa + shift * np.sign(model.weights_)  # moving along the weights raises the reward
    assert np.all(model.probability(better, fb) >= p - 1e-12)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda m: m.fit(np.zeros((3, 2)), np.zeros((3, 3)), [1, 0, 1]), "same shape"),
        (lambda m: m.fit(np.zeros((3, 2)), np.zeros((3, 2)), [1, 0]), "one probability"),
        (lambda m: m.fit(np.zeros((2, 2)), np.zeros((2, 2)), [2, 0]), "one probability"),
        (lambda m: m.fit([[np.nan, 0]], [[0, 0]], [1]), "finite"),
        (lambda m: m.fit(np.zeros(3), np.zeros(3), [1, 0, 1]), "2-D array"),
        (lambda m: m.fit(np.zeros((1, 2)), np.zeros((1, 2)), [np.nan]), "labels must be finite"),
    ],
)
def test_bad_training_input_raises(call, message):
    with pytest.raises(errors.InvalidValueError, match=message):
        call(BradleyTerryRewardModel())


def test_an_unfitted_model_raises_not_fitted():
    model = BradleyTerryRewardModel()
    for call in (lambda: model.reward([[1.0, 2.0]]), lambda: model.probability([[1.0]], [[2.0]])):
        with pytest.raises(errors.NotFittedError, match="not fitted") as info:
            call()
        assert isinstance(info.value, RuntimeError)


def test_check_pairs_returns_float_arrays_of_one_shape():
    fa, fb = check_pairs([[1, 2]], [[3, 4]])
    assert fa.dtype == fb.dtype == np.float64 and fa.shape == fb.shape == (1, 2)
    with pytest.raises(errors.InvalidTypeError, match="features_b must be numeric"):
        check_pairs([[1, 2]], [["a", "b"]])


def test_bad_arguments_raise():
    rng = np.random.default_rng(0)
    with pytest.raises(errors.InvalidValueError, match="l2 must be a finite number >= 0"):
        BradleyTerryRewardModel(l2=-1)
    with pytest.raises(errors.InvalidTypeError, match="l2 must be a finite number"):
        BradleyTerryRewardModel(l2=True)
    with pytest.raises(errors.InvalidValueError, match="at least two rows"):
        random_pairs(np.zeros((1, 4)), 3, rng)
    with pytest.raises(errors.InvalidValueError, match="n must be an integer >= 1"):
        random_pairs(np.zeros((2, 4)), 0, rng)
    with pytest.raises(errors.InvalidTypeError, match="rng must be a numpy.random.Generator"):
        random_pairs(np.zeros((2, 4)), 3, 0)
    with pytest.raises(errors.InvalidTypeError, match="policy must be callable"):
        trajectory_features(None, 0, SHORT)
    with pytest.raises(errors.InvalidTypeError, match="seed must be an integer"):
        trajectory_features(lambda obs: 1, 1.5, SHORT)
    model = BradleyTerryRewardModel().fit([[1.0, 0.0]], [[0.0, 1.0]], [1.0])
    with pytest.raises(errors.InvalidValueError, match="columns"):
        model.reward([[1.0, 2.0, 3.0]])
    with pytest.raises(errors.InvalidValueError, match="not a tie"):
        model.agreement([[1.0, 0.0]], [[0.0, 1.0]], [0.5])
    with pytest.raises(errors.InvalidValueError, match="one value per pair"):
        model.agreement([[1.0, 0.0]], [[0.0, 1.0]], [1.0, 0.0])


def test_the_maximum_drawdown_column_is_the_worst_step_and_leaves_the_sums_alone():
    def trader(obs):
        return 2 if obs[0] > 0 else 0

    plain = trajectory_features(trader, 3, SHORT)
    extended = trajectory_features(trader, 3, SHORT, max_drawdown=True)
    np.testing.assert_array_equal(extended[:4], plain)
    assert extended.shape == (5,) and 0 < extended[4] <= plain[1]  # the worst step <= the sum
    env = MarketEnv(SHORT)
    obs, _ = env.reset(seed=3)
    worst, done = 0.0, False
    while not done:
        obs, _, terminated, truncated, info = env.step(trader(obs))
        worst, done = max(worst, info["drawdown"]), terminated or truncated
    assert extended[4] == pytest.approx(worst)


def test_best_of_n_with_a_perfect_proxy_loses_nothing():
    truth = np.random.default_rng(0).normal(size=50)
    picks = best_of_n(np.tile(2 * truth + 1, (30, 1)), truth, [1, 5, 50], np.random.default_rng(1))
    np.testing.assert_array_equal(picks.gap, 0.0)
    assert picks.ns == (1, 5, 50) and picks.proxy_pick.shape == (30, 3)
    np.testing.assert_array_equal(picks.oracle_pick[:, 2], truth.max())  # N = pool sees all
    np.testing.assert_array_equal(picks.proxy_of_pick, 2 * picks.proxy_pick + 1)
    # with N = 1 the three picks are the same candidate
    np.testing.assert_array_equal(picks.random_pick[:, 0], picks.oracle_pick[:, 0])


def test_best_of_n_regressional_goodhart_grows_with_the_optimisation_pressure():
    # proxy = truth + independent noise: the harder the selection, the more the proxy's pick
    # falls short of the oracle's and the more its proxy score overstates its truth
    rng = np.random.default_rng(2)
    truth = rng.normal(size=2000)
    proxy = truth + rng.normal(size=(400, 2000))
    picks = best_of_n(proxy, truth, [1, 4, 64], rng)
    gap, overstated = picks.gap.mean(axis=0), (picks.proxy_of_pick - picks.proxy_pick).mean(axis=0)
    assert gap[0] == 0 and gap[1] + 0.1 < gap[2]
    assert abs(overstated[0]) < 0.2 and overstated[1] + 0.3 < overstated[2]
    assert np.all(picks.gap >= 0)
    # a random pick is a random candidate: its mean is the pool's (400 draws: s.e. 0.05)
    assert abs(picks.random_pick[:, 2].mean() - truth.mean()) < 0.2
    # the proxy's pick still beats a random one: optimising an imperfect proxy helps here
    assert picks.proxy_pick[:, 2].mean() > picks.random_pick[:, 2].mean() + 1


def test_best_of_n_accepts_one_truth_per_repeat():
    truth = np.array([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]])
    picks = best_of_n(-truth, truth, [3], np.random.default_rng(0))
    np.testing.assert_array_equal(picks.proxy_pick[:, 0], [0.0, 0.0])
    np.testing.assert_array_equal(picks.gap[:, 0], [2.0, 2.0])


@pytest.mark.parametrize(
    "proxy, truth, ns, rng, error, message",
    [
        (np.zeros((2, 3, 4)), np.zeros(4), [1], 0, errors.InvalidValueError, "1-D or 2-D"),
        (np.zeros((2, 4)), np.zeros(3), [1], 0, errors.InvalidValueError, "same pool"),
        (np.zeros((2, 4)), np.zeros((3, 4)), [1], 0, errors.InvalidValueError, "same pool"),
        (np.zeros(4), np.zeros(4), [5], 0, errors.InvalidValueError,
         r"N must be an integer in \[1, 4\]"),
        (np.zeros(4), np.zeros(4), [0], 0, errors.InvalidValueError, "N must be"),
        (np.zeros(4), np.zeros(4), [2.0], 0, errors.InvalidTypeError, "N must be an int"),
        (np.zeros(4), np.zeros(4), [], 0, errors.InvalidValueError, "at least one N"),
        ([np.nan, 0.0], np.zeros(2), [1], 0, errors.InvalidValueError, "proxy must be finite"),
        (np.zeros(2), [np.inf, 0.0], [1], 0, errors.InvalidValueError, "truth must be finite"),
        (np.zeros(4), np.zeros(4), [1], 7, errors.InvalidTypeError, "rng must be a numpy"),
    ],
)
def test_best_of_n_bad_input_raises(proxy, truth, ns, rng, error, message):
    generator = np.random.default_rng(0) if rng == 0 else rng
    with pytest.raises(error, match=message):
        best_of_n(proxy, truth, ns, generator)

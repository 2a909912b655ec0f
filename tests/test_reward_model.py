"""The Bradley-Terry reward model, the simulated annotator and the link to the feedback store."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import approx_fprime, check_grad

from rl_best_practices.envs import MarketEnv, flat_policy
from rl_best_practices.feedback import TIE, HumanFeedbackCollector
from rl_best_practices.reward_model import (
    FEATURE_NAMES,
    BradleyTerryRewardModel,
    SimulatedAnnotator,
    agreement_curve,
    preference_arrays,
    random_pairs,
    sample_trajectories,
    trajectory_features,
)

SHORT = {"episode_length": 40}


@pytest.fixture(scope="module")
def pool():
    return sample_trajectories(160, np.random.default_rng(0), SHORT)


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


def test_at_least_90_percent_agreement_at_10_percent_label_noise(pool):
    train, test = pool[:80], pool[80:]
    curve = agreement_curve(train, test, [0.1], [300], drawdown_penalty=0.05, seed=0, repeats=2)
    assert curve.shape == (1, 1) and curve[0, 0] >= 0.9


def test_more_labels_help_and_noise_hurts(pool):
    curve = agreement_curve(pool[:80], pool[80:], [0.0, 0.3], [10, 1000],
                            drawdown_penalty=0.05, seed=1, repeats=3)
    assert curve[0, 1] > curve[0, 0] - 0.01 and curve[1, 1] > curve[1, 0]
    assert curve[1, 0] < curve[0, 0]


def test_annotator_labels_follow_the_hidden_utility_and_flip_at_the_noise_rate(pool):
    a, b = random_pairs(pool, 4000, np.random.default_rng(4))
    clean = SimulatedAnnotator(0.05, 0.0, np.random.default_rng(0))
    utility_gap = (a[:, 0] - 0.05 * a[:, 1]) - (b[:, 0] - 0.05 * b[:, 1])
    np.testing.assert_array_equal(clean.true_label(a, b), (utility_gap > 0).astype(float))
    noisy = SimulatedAnnotator(0.05, 0.2, np.random.default_rng(0))
    flipped = np.mean(noisy.label(a, b) != clean.true_label(a, b))
    assert abs(flipped - 0.2) < 0.03  # 4000 draws: 0.03 is > 4 standard errors


def test_features_are_per_step_sums_from_the_env():
    assert FEATURE_NAMES == ("pnl", "drawdown", "turnover", "abs_position")
    np.testing.assert_array_equal(trajectory_features(flat_policy(MarketEnv()), 0, SHORT), np.zeros(4))
    always_buy = trajectory_features(lambda obs: 2, 0, {"episode_length": 3})
    assert always_buy[2] == 30.0 and always_buy[3] == 10 + 20 + 30  # turnover, |position|


def test_sampled_trajectories_are_reproducible_and_varied():
    a = sample_trajectories(20, np.random.default_rng(7), SHORT)
    b = sample_trajectories(20, np.random.default_rng(7), SHORT)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (20, 4) and np.all(a.std(axis=0) > 0)


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
    with pytest.raises(ValueError, match="no features for trajectories"):
        preference_arrays(fb.preferences(), {"x": [1.0, 0.0]})
    with pytest.raises(ValueError, match="no preferences"):
        preference_arrays([], features)


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
        (lambda m: m.reward([[1.0, 2.0]]), "not fitted"),
    ],
)
def test_bad_model_input_raises(call, message):
    with pytest.raises((ValueError, RuntimeError), match=message):
        call(BradleyTerryRewardModel())


def test_bad_arguments_raise():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="l2"):
        BradleyTerryRewardModel(l2=-1)
    with pytest.raises(ValueError, match="noise"):
        SimulatedAnnotator(0.1, 0.7, rng)
    with pytest.raises(ValueError, match="drawdown_penalty"):
        SimulatedAnnotator(-0.1, 0.1, rng)
    with pytest.raises(ValueError, match="rng"):
        SimulatedAnnotator(0.1, 0.1, 0)
    with pytest.raises(ValueError, match="n must be"):
        sample_trajectories(0, rng)
    with pytest.raises(ValueError, match="at least two rows"):
        random_pairs(np.zeros((1, 4)), 3, rng)
    model = BradleyTerryRewardModel().fit([[1.0, 0.0]], [[0.0, 1.0]], [1.0])
    with pytest.raises(ValueError, match="columns"):
        model.reward([[1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match="not a tie"):
        model.agreement([[1.0, 0.0]], [[0.0, 1.0]], [0.5])

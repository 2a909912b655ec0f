"""The lessons' stand-ins: the signal-following trader, a population of traders, a simulated
annotator with known label noise, and the reward model's agreement study built on them."""

import numpy as np
import pytest

from rl_best_practices import errors
from rl_best_practices.envs import MarketEnv, evaluate_policy, flat_policy, random_policy
from rl_best_practices.reward_model import random_pairs
from rl_best_practices.scenarios import (
    SimulatedAnnotator,
    agreement_curve,
    loss_averse_utility,
    sample_trajectories,
    signal_policy,
    signal_probabilities,
)

SHORT = {"episode_length": 40}


@pytest.fixture(scope="module")
def pool():
    return sample_trajectories(160, np.random.default_rng(0), SHORT)


def test_the_signal_policy_beats_flat_and_random_on_held_out_seeds():
    seeds = range(100, 110)
    env = MarketEnv()
    signal = evaluate_policy(signal_policy, seeds)
    assert signal.mean() > evaluate_policy(flat_policy(env), seeds).mean()
    assert signal.mean() > evaluate_policy(random_policy(env, seed=0), seeds).mean()


def test_the_signal_policy_caps_its_position():
    assert signal_policy([0.8, 0.6, 0, 0, 0]) == 1  # long enough: holds despite the signal
    assert signal_policy([-0.8, -0.6, 0, 0, 0]) == 1
    assert signal_policy([0.31, 0.49, 0, 0, 0]) == 2 and signal_policy([-0.31, -0.49, 0, 0, 0]) == 0


def test_sampled_trajectories_are_reproducible_and_varied():
    a = sample_trajectories(20, np.random.default_rng(7), SHORT)
    b = sample_trajectories(20, np.random.default_rng(7), SHORT)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (20, 4) and np.all(a.std(axis=0) > 0)


def test_sampled_trajectories_can_carry_their_maximum_drawdown():
    plain = sample_trajectories(10, np.random.default_rng(7), SHORT)
    extended = sample_trajectories(10, np.random.default_rng(7), SHORT, max_drawdown=True)
    np.testing.assert_array_equal(extended[:, :4], plain)  # the same episodes
    assert extended.shape == (10, 5) and np.all(extended[:, 4] <= extended[:, 1])
    assert np.all(extended[:, 4] >= 0) and extended[:, 4].max() > 0


def test_annotator_labels_follow_the_hidden_utility_and_flip_at_the_noise_rate(pool):
    a, b = random_pairs(pool, 4000, np.random.default_rng(4))
    clean = SimulatedAnnotator(0.05, 0.0, np.random.default_rng(0))
    utility_gap = (a[:, 0] - 0.05 * a[:, 1]) - (b[:, 0] - 0.05 * b[:, 1])
    np.testing.assert_array_equal(clean.true_label(a, b), (utility_gap > 0).astype(float))
    np.testing.assert_array_equal(clean.label(a, b), clean.true_label(a, b))
    noisy = SimulatedAnnotator(0.05, 0.2, np.random.default_rng(0))
    flipped = np.mean(noisy.label(a, b) != clean.true_label(a, b))
    assert abs(flipped - 0.2) < 0.03  # 4000 draws: 0.03 is > 4 standard errors


def test_bradley_terry_noise_grows_as_two_trajectories_get_closer(pool):
    a, b = random_pairs(pool, 20000, np.random.default_rng(5))
    person = SimulatedAnnotator(0.05, 0.0, np.random.default_rng(1), noise_model="bradley_terry",
                                temperature=100.0)
    gap = np.abs(person.utility(a) - person.utility(b))
    wrong = person.label(a, b) != person.true_label(a, b)
    close, clear = gap < np.quantile(gap, 0.25), gap > np.quantile(gap, 0.75)
    assert wrong[close].mean() > 0.15 and wrong[clear].mean() < 0.02
    # the labels follow sigmoid(gap / temperature): 5000 close pairs, within 4 standard errors
    expected = 1 / (1 + np.exp(gap[close] / 100.0))
    assert abs(wrong[close].mean() - expected.mean()) < 4 * np.sqrt(0.25 / close.sum())
    flips = SimulatedAnnotator(0.05, 0.2, np.random.default_rng(1))
    wrong_flip = flips.label(a, b) != flips.true_label(a, b)
    assert abs(wrong_flip[close].mean() - wrong_flip[clear].mean()) < 0.03  # flips ignore the gap


def test_a_utility_that_is_not_linear_in_the_features(pool):
    utility = loss_averse_utility(0.05, 3.0)
    person = SimulatedAnnotator(0.05, 0.0, np.random.default_rng(0), utility=utility)
    np.testing.assert_allclose(person.utility(pool), utility(pool))
    losing = pool[:, 0] < 0
    linear = pool[:, 0] - 0.05 * pool[:, 1]
    np.testing.assert_allclose(person.utility(pool)[~losing], linear[~losing])
    np.testing.assert_allclose(person.utility(pool)[losing], linear[losing] + 2 * pool[losing, 0])
    # a linear model cannot represent it: agreement stays below that on the linear annotator
    linear_curve = agreement_curve(pool[:80], pool[80:], [0.0], [1000], drawdown_penalty=0.05,
                                   seed=2, repeats=2)
    kinked_curve = agreement_curve(
        pool[:80], pool[80:], [0.0], [1000], drawdown_penalty=0.05, seed=2, repeats=2,
        annotator=lambda noise, rng: SimulatedAnnotator(0.05, noise, rng, utility=utility),
    )
    assert kinked_curve[0, 0] < linear_curve[0, 0] - 0.01


def test_every_repeat_of_the_agreement_curve_is_available(pool):
    every = agreement_curve(pool[:80], pool[80:], [0.0, 0.2], [10, 30], drawdown_penalty=0.05,
                            seed=3, repeats=4, every_repeat=True)
    mean = agreement_curve(pool[:80], pool[80:], [0.0, 0.2], [10, 30], drawdown_penalty=0.05,
                           seed=3, repeats=4)
    assert every.shape == (2, 2, 4)
    np.testing.assert_allclose(every.mean(axis=2), mean)


def test_the_stochastic_signal_rule_keeps_its_action_most_likely():
    obs = np.array([[0.8, 0, 0, 0, 0], [-0.8, 0, 0, 0, 0], [0.1, 0.9, 0, 0, 0]])
    probs = signal_probabilities(obs, 0.3)
    np.testing.assert_allclose(probs.sum(axis=1), 1)
    assert probs.argmax(axis=1).tolist() == [signal_policy(o) for o in obs]
    np.testing.assert_allclose(probs.max(axis=1), 0.8)
    with pytest.raises(errors.InvalidValueError, match="epsilon"):
        signal_probabilities(obs, 1.5)


def test_an_exact_tie_is_labelled_one_half():
    annotator = SimulatedAnnotator(1.0, 0.0, np.random.default_rng(0))
    assert annotator.true_label([[3.0, 1.0, 5, 5]], [[2.0, 0.0, 0, 0]]).tolist() == [0.5]


def test_at_least_90_percent_agreement_at_10_percent_label_noise(pool):
    train, test = pool[:80], pool[80:]
    curve = agreement_curve(train, test, [0.1], [300], drawdown_penalty=0.05, seed=0, repeats=2)
    assert curve.shape == (1, 1) and curve[0, 0] >= 0.9


def test_more_labels_help_and_noise_hurts(pool):
    curve = agreement_curve(pool[:80], pool[80:], [0.0, 0.3], [10, 1000],
                            drawdown_penalty=0.05, seed=1, repeats=3)
    assert curve[0, 1] > curve[0, 0] - 0.01 and curve[1, 1] > curve[1, 0]
    assert curve[1, 0] < curve[0, 0]


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda rng: SimulatedAnnotator(0.1, 0.7, rng), errors.InvalidValueError,
         r"noise must be a finite number in \[0, 0.5\]"),
        (lambda rng: SimulatedAnnotator(-0.1, 0.1, rng), errors.InvalidValueError,
         "drawdown_penalty must be a finite number >= 0"),
        (lambda rng: SimulatedAnnotator(0.1, True, rng), errors.InvalidTypeError, "noise"),
        (lambda rng: SimulatedAnnotator(0.1, 0.1, rng, noise_model="bradley_terry"),
         errors.InvalidValueError, "noise must be 0"),
        (lambda rng: SimulatedAnnotator(0.1, 0.1, rng, noise_model="thurstone"),
         errors.InvalidValueError, "noise_model must be one of"),
        (lambda rng: SimulatedAnnotator(0.1, 0.0, rng, noise_model="bradley_terry",
                                        temperature=0), errors.InvalidValueError, "temperature"),
        (lambda rng: SimulatedAnnotator(0.1, 0.1, 0), errors.InvalidTypeError,
         "rng must be a numpy.random.Generator, got int"),
        (lambda rng: sample_trajectories(0, rng), errors.InvalidValueError,
         "n must be an integer >= 1"),
        (lambda rng: sample_trajectories(2.0, rng), errors.InvalidTypeError, "n must be an int"),
        (lambda rng: sample_trajectories(2, 7), errors.InvalidTypeError, "rng must be"),
        (lambda rng: SimulatedAnnotator(0.1, 0.1, rng).label([[1.0, 0, 0, 0]], [[1.0, 0, 0]]),
         errors.InvalidValueError, "same shape"),
    ],
)
def test_bad_arguments_raise(call, error, message):
    with pytest.raises(error, match=message) as info:
        call(np.random.default_rng(0))
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"noises": [0.6]}, "noise must be"),
        ({"label_counts": [0]}, "label count must be an integer >= 1"),
        ({"repeats": 0}, "repeats must be an integer >= 1"),
        ({"seed": -1}, "seed must be an integer >= 0"),
        ({"test_pairs": True}, "test_pairs must be an integer"),
    ],
)
def test_agreement_curve_checks_its_arguments(pool, kwargs, message):
    arguments = {"noises": [0.1], "label_counts": [10], "drawdown_penalty": 0.05, "seed": 0}
    arguments.update(kwargs)
    with pytest.raises(errors.InvalidValueError, match=message):
        agreement_curve(pool[:80], pool[80:], **arguments)

"""Demonstration policies and simulated people used by the lessons; not reference implementations.

The lessons need someone to act and someone to judge, with a known ground truth to measure the
reference implementations against. These stand-ins are deliberately simple:

* :func:`signal_policy`: the rule-based trader lesson 05 records episodes of and clones with BC.
* :func:`sample_trajectories`: a varied population of traders (careful, reckless, idle, noisy)
  summarised by :func:`~rl_best_practices.reward_model.trajectory_features`, to show a reviewer.
* :class:`SimulatedAnnotator`: a "person" who prefers trajectories by a hidden utility and
  mislabels a known fraction of pairs.
* :func:`agreement_curve`: the lesson's study of how well a
  :class:`~rl_best_practices.reward_model.BradleyTerryRewardModel` recovers that hidden
  preference, by label noise and number of labels.

>>> annotator = SimulatedAnnotator(drawdown_penalty=0.5, noise=0.0, rng=np.random.default_rng(0))
>>> annotator.label([[10.0, 0.0, 0, 0]], [[12.0, 8.0, 0, 0]])   # 10 beats 12 - 0.5 * 8
array([1.])
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from rl_best_practices.errors import InvalidTypeError
from rl_best_practices.reward_model import (
    FEATURE_NAMES,
    BradleyTerryRewardModel,
    check_pairs,
    random_pairs,
    trajectory_features,
)
from rl_best_practices.validation import check_array, check_int, check_number

__all__ = ["SimulatedAnnotator", "agreement_curve", "sample_trajectories", "signal_policy"]


def _generator(rng: Any) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise InvalidTypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    return rng


def signal_policy(obs: np.ndarray) -> int:
    """The course's rule on the discrete market env: follow the signal, cap the position.

    Buy when the signal is above 0.3 and the position below half the limit, sell in the mirror
    case, else hold.

    >>> [signal_policy(obs) for obs in ([0.8, 0, 0, 0, 0], [-0.8, 0, 0, 0, 0], [0.1, 0, 0, 0, 0])]
    [2, 0, 1]
    """
    signal, position = float(obs[0]), float(obs[1])
    if signal > 0.3 and position < 0.5:
        return 2
    if signal < -0.3 and position > -0.5:
        return 0
    return 1


def _noisy_signal_trader(
    threshold: float, cap: float, epsilon: float, noise: np.random.Generator
) -> Callable[[np.ndarray], int]:
    """Follow the signal beyond ``threshold`` up to a position ``cap``; act at random with
    probability ``epsilon``."""

    def policy(obs: np.ndarray) -> int:
        if noise.random() < epsilon:
            return int(noise.integers(3))
        if obs[0] > threshold and obs[1] < cap:
            return 2
        if obs[0] < -threshold and obs[1] > -cap:
            return 0
        return 1

    return policy


def sample_trajectories(
    n: int, rng: np.random.Generator, env_config: Mapping[str, Any] | None = None
) -> np.ndarray:
    """Summed features of ``n`` episodes of varied trading behaviour, one row per episode.

    Each episode follows the signal with its own entry threshold and position cap and takes a
    random action with its own probability: careful, reckless, idle and noisy traders side by
    side, as a reviewer would be shown.

    >>> sample_trajectories(3, np.random.default_rng(0), {"episode_length": 10}).shape
    (3, 4)
    """
    n = check_int("n", n, minimum=1)
    rng = _generator(rng)
    rows = []
    for _ in range(n):
        threshold, cap = rng.uniform(0.0, 1.5), rng.uniform(0.1, 1.0)
        epsilon = rng.uniform(0.0, 0.6)
        noise = np.random.default_rng(rng.integers(2**32))
        policy = _noisy_signal_trader(threshold, cap, epsilon, noise)
        rows.append(trajectory_features(policy, int(rng.integers(2**31)), env_config))
    return np.array(rows)


class SimulatedAnnotator:
    """Labels pairs of trajectories from a hidden utility, with label noise.

    The utility is the total P&L minus ``drawdown_penalty`` times the summed drawdown (time spent
    under water, weighted by depth). With probability ``noise`` (at most 0.5) a label is flipped.

    >>> annotator = SimulatedAnnotator(0.5, noise=0.0, rng=np.random.default_rng(0))
    >>> annotator.utility([[10.0, 0.0, 0, 0], [12.0, 8.0, 0, 0]])
    array([10.,  8.])
    """

    def __init__(self, drawdown_penalty: float, noise: float, rng: np.random.Generator) -> None:
        drawdown_penalty = check_number("drawdown_penalty", drawdown_penalty, minimum=0)
        self.noise = check_number("noise", noise, minimum=0, maximum=0.5)
        self.rng = _generator(rng)
        self.weights = np.zeros(len(FEATURE_NAMES))
        self.weights[FEATURE_NAMES.index("pnl")] = 1.0
        self.weights[FEATURE_NAMES.index("drawdown")] = -drawdown_penalty

    def utility(self, features: Any) -> np.ndarray:
        """The hidden utility of each row of summed features."""
        return check_array("features", features) @ self.weights

    def true_label(self, features_a: Any, features_b: Any) -> np.ndarray:
        """1 where ``a`` has the higher utility, 0 where ``b`` has, 0.5 on an exact tie."""
        fa, fb = check_pairs(features_a, features_b)
        return np.sign(self.utility(fa) - self.utility(fb)) * 0.5 + 0.5

    def label(self, features_a: Any, features_b: Any) -> np.ndarray:
        """The annotator's labels: the true ones, each flipped with probability ``noise``."""
        truth = self.true_label(features_a, features_b)
        flip = self.rng.random(len(truth)) < self.noise
        return np.where(flip, 1.0 - truth, truth)


def agreement_curve(
    train_pool: Any,
    test_pool: Any,
    noises: Iterable[float],
    label_counts: Iterable[int],
    *,
    drawdown_penalty: float,
    seed: int,
    repeats: int = 3,
    test_pairs: int = 2000,
) -> np.ndarray:
    """Mean held-out agreement of a fitted model with the true preference, per noise and count.

    For each label noise and number of labels: label random pairs of ``train_pool`` with a
    :class:`SimulatedAnnotator`, fit a
    :class:`~rl_best_practices.reward_model.BradleyTerryRewardModel`, and score it on
    ``test_pairs`` pairs of the disjoint ``test_pool`` against the noise-free labels. Averaged
    over ``repeats`` seeded repetitions. Returns an array of shape ``(noises, label_counts)``.

    >>> pool = sample_trajectories(20, np.random.default_rng(0), {"episode_length": 20})
    >>> agreement_curve(pool[:10], pool[10:], [0.0, 0.2], [5, 50], drawdown_penalty=0.05,
    ...                 seed=0, repeats=1, test_pairs=100).shape
    (2, 2)
    """
    noises = [check_number("noise", noise, minimum=0, maximum=0.5) for noise in noises]
    counts = [check_int("label count", count, minimum=1) for count in label_counts]
    repeats = check_int("repeats", repeats, minimum=1)
    rng = np.random.default_rng(check_int("seed", seed, minimum=0))
    test_a, test_b = random_pairs(test_pool, check_int("test_pairs", test_pairs, minimum=1), rng)
    curve = np.zeros((len(noises), len(counts)))
    for r, noise in enumerate(noises):
        for c, count in enumerate(counts):
            scores = []
            for _ in range(repeats):
                annotator = SimulatedAnnotator(drawdown_penalty, noise, rng)
                a, b = random_pairs(train_pool, count, rng)
                model = BradleyTerryRewardModel().fit(a, b, annotator.label(a, b))
                truth = annotator.true_label(test_a, test_b)
                scores.append(model.agreement(test_a, test_b, truth))
            curve[r, c] = np.mean(scores)
    return curve

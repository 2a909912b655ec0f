"""Demonstration policies and simulated people used by the lessons; not reference implementations.

The lessons need someone to act and someone to judge, with a known ground truth to measure the
reference implementations against. These stand-ins are deliberately simple:

* :func:`signal_policy`: the rule-based trader lesson 05 records episodes of and clones with BC;
  :func:`signal_probabilities`: the same rule made stochastic (a logged behaviour policy, or a
  candidate to evaluate off-policy).
* :func:`sample_trajectories`: a varied population of traders (careful, reckless, idle, noisy)
  summarised by :func:`~rl_best_practices.reward_model.trajectory_features`, to show a reviewer.
* :class:`SimulatedAnnotator`: a "person" who prefers trajectories by a hidden utility
  (linear in the reward model's features, or not: :func:`loss_averse_utility`) and mislabels a
  known fraction of pairs, or close calls more often than clear ones (Bradley-Terry noise).
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
from scipy.special import expit

from rl_best_practices.errors import InvalidTypeError, InvalidValueError
from rl_best_practices.reward_model import (
    FEATURE_NAMES,
    BradleyTerryRewardModel,
    check_pairs,
    random_pairs,
    trajectory_features,
)
from rl_best_practices.validation import (
    check_array,
    check_callable,
    check_choice,
    check_int,
    check_number,
)

__all__ = [
    "SimulatedAnnotator",
    "agreement_curve",
    "loss_averse_utility",
    "sample_trajectories",
    "signal_policy",
    "signal_probabilities",
]


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


def signal_probabilities(obs: Any, epsilon: float) -> np.ndarray:
    """:func:`signal_policy` made stochastic: its action with probability ``1 - epsilon``, else
    a uniformly random one (so each other action has ``epsilon / 3``).

    ``obs`` is one observation (returns 3 probabilities) or a batch of rows (returns one row of
    3 per observation), as :func:`rl_best_practices.ope.off_policy_value` asks of a target.

    >>> signal_probabilities([0.8, 0, 0, 0, 0], epsilon=0.3).round(2).tolist()
    [0.1, 0.1, 0.8]
    >>> signal_probabilities(np.zeros((2, 5)), epsilon=0.0).tolist()
    [[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]]
    """
    epsilon = check_number("epsilon", epsilon, minimum=0, maximum=1)
    rows = np.atleast_2d(np.asarray(obs, dtype=np.float64))
    signal, position = rows[:, 0], rows[:, 1]
    action = np.where((signal > 0.3) & (position < 0.5), 2,
                      np.where((signal < -0.3) & (position > -0.5), 0, 1))
    probs = np.full((len(rows), 3), epsilon / 3)
    probs[np.arange(len(rows)), action] += 1 - epsilon
    return probs if np.ndim(obs) == 2 else probs[0]


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
    n: int,
    rng: np.random.Generator,
    env_config: Mapping[str, Any] | None = None,
    *,
    max_drawdown: bool = False,
) -> np.ndarray:
    """Summed features of ``n`` episodes of varied trading behaviour, one row per episode.

    Each episode follows the signal with its own entry threshold and position cap and takes a
    random action with its own probability: careful, reckless, idle and noisy traders side by
    side, as a reviewer would be shown. With ``max_drawdown`` each row ends with the episode's
    largest drawdown (see :func:`~rl_best_practices.reward_model.trajectory_features`).

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
        rows.append(trajectory_features(policy, int(rng.integers(2**31)), env_config,
                                        max_drawdown=max_drawdown))
    return np.array(rows)


class SimulatedAnnotator:
    """Labels pairs of trajectories from a hidden utility, with label noise.

    The utility is the total P&L minus ``drawdown_penalty`` times the summed drawdown (time spent
    under water, weighted by depth), or ``utility(features)`` when that function is given (e.g.
    :func:`loss_averse_utility`, which a linear reward model cannot represent). Two noise models:

    * ``"flip"``: each label is flipped with probability ``noise`` (at most 0.5), however far
      apart the two trajectories are: the best case for a Bradley-Terry model;
    * ``"bradley_terry"``: ``a`` is preferred with probability
      ``sigmoid((u(a) - u(b)) / temperature)``: close calls are coin flips, clear ones are not,
      as with people. ``noise`` must then be 0.

    >>> annotator = SimulatedAnnotator(0.5, noise=0.0, rng=np.random.default_rng(0))
    >>> annotator.utility([[10.0, 0.0, 0, 0], [12.0, 8.0, 0, 0]])
    array([10.,  8.])
    >>> close = SimulatedAnnotator(0.5, 0.0, np.random.default_rng(0), noise_model="bradley_terry",
    ...                            temperature=100.0)
    >>> float(close.preference_probability([[10.0, 0, 0, 0]], [[12.0, 8.0, 0, 0]])[0].round(3))
    0.505
    """

    def __init__(
        self,
        drawdown_penalty: float,
        noise: float,
        rng: np.random.Generator,
        *,
        noise_model: str = "flip",
        temperature: float = 1.0,
        utility: Callable[[np.ndarray], Any] | None = None,
    ) -> None:
        drawdown_penalty = check_number("drawdown_penalty", drawdown_penalty, minimum=0)
        self.noise = check_number("noise", noise, minimum=0, maximum=0.5)
        self.noise_model = check_choice("noise_model", noise_model, ("flip", "bradley_terry"))
        self.temperature = check_number("temperature", temperature, minimum=0, low_open=True)
        if self.noise_model == "bradley_terry" and self.noise != 0:
            raise InvalidValueError(
                "noise is the flip rate of the 'flip' model; with 'bradley_terry' the noise "
                f"comes from temperature, so noise must be 0, got {self.noise}"
            )
        self.rng = _generator(rng)
        self._utility = None if utility is None else check_callable("utility", utility)
        self.weights = np.zeros(len(FEATURE_NAMES))
        self.weights[FEATURE_NAMES.index("pnl")] = 1.0
        self.weights[FEATURE_NAMES.index("drawdown")] = -drawdown_penalty

    def utility(self, features: Any) -> np.ndarray:
        """The hidden utility of each row of summed features."""
        f = check_array("features", features)
        if self._utility is None:
            return f @ self.weights
        return check_array("the utility", self._utility(f), ndim=f.ndim - 1, min_size=0)

    def true_label(self, features_a: Any, features_b: Any) -> np.ndarray:
        """1 where ``a`` has the higher utility, 0 where ``b`` has, 0.5 on an exact tie."""
        fa, fb = check_pairs(features_a, features_b)
        return np.sign(self.utility(fa) - self.utility(fb)) * 0.5 + 0.5

    def preference_probability(self, features_a: Any, features_b: Any) -> np.ndarray:
        """The probability that the annotator labels ``a`` as preferred, pair by pair."""
        fa, fb = check_pairs(features_a, features_b)
        if self.noise_model == "bradley_terry":
            return expit((self.utility(fa) - self.utility(fb)) / self.temperature)
        truth = self.true_label(fa, fb)
        return np.where(truth == 0.5, 0.5, np.abs(truth - self.noise))

    def label(self, features_a: Any, features_b: Any) -> np.ndarray:
        """The annotator's labels, drawn from :meth:`preference_probability` (1: ``a``)."""
        truth = self.true_label(features_a, features_b)
        if self.noise_model == "flip":
            flip = self.rng.random(len(truth)) < self.noise
            return np.where(flip, 1.0 - truth, truth)
        p = self.preference_probability(features_a, features_b)
        return (self.rng.random(len(p)) < p).astype(float)


def loss_averse_utility(
    drawdown_penalty: float, loss_aversion: float
) -> Callable[[np.ndarray], np.ndarray]:
    """A utility that is not linear in the reward model's features: P&L counts
    ``loss_aversion`` times as much when it is a loss, minus ``drawdown_penalty`` times the
    summed drawdown. For :class:`SimulatedAnnotator`'s ``utility``.

    >>> loss_averse_utility(0.0, 3.0)(np.array([[10.0, 0, 0, 0], [-10.0, 0, 0, 0]]))
    array([ 10., -30.])
    """
    drawdown_penalty = check_number("drawdown_penalty", drawdown_penalty, minimum=0)
    loss_aversion = check_number("loss_aversion", loss_aversion, minimum=1)
    pnl, drawdown = FEATURE_NAMES.index("pnl"), FEATURE_NAMES.index("drawdown")

    def utility(features: np.ndarray) -> np.ndarray:
        money = features[..., pnl]
        return np.where(money < 0, loss_aversion * money, money) - (
            drawdown_penalty * features[..., drawdown]
        )

    return utility


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
    annotator: Callable[[float, np.random.Generator], SimulatedAnnotator] | None = None,
    every_repeat: bool = False,
) -> np.ndarray:
    """Held-out agreement of a fitted model with the true preference, per noise and count.

    For each label noise and number of labels: label random pairs of ``train_pool`` with a
    :class:`SimulatedAnnotator`, fit a
    :class:`~rl_best_practices.reward_model.BradleyTerryRewardModel`, and score it on
    ``test_pairs`` pairs of the disjoint ``test_pool`` against the noise-free labels, over
    ``repeats`` seeded repetitions. Returns the mean over repetitions, shape
    ``(noises, label_counts)``, or with ``every_repeat`` every repetition, shape
    ``(noises, label_counts, repeats)`` (for error bars). ``annotator(noise, rng)`` builds the
    annotator of each repetition; by default a label-flipping one with ``drawdown_penalty``
    (then a noise is a flip rate, at most 0.5; with another annotator it is any level >= 0,
    e.g. a Bradley-Terry temperature).

    >>> pool = sample_trajectories(20, np.random.default_rng(0), {"episode_length": 20})
    >>> agreement_curve(pool[:10], pool[10:], [0.0, 0.2], [5, 50], drawdown_penalty=0.05,
    ...                 seed=0, repeats=1, test_pairs=100).shape
    (2, 2)
    """
    top = 0.5 if annotator is None else None
    noises = [check_number("noise", noise, minimum=0, maximum=top) for noise in noises]
    counts = [check_int("label count", count, minimum=1) for count in label_counts]
    repeats = check_int("repeats", repeats, minimum=1)
    penalty = check_number("drawdown_penalty", drawdown_penalty, minimum=0)
    make = (
        (lambda noise, rng: SimulatedAnnotator(penalty, noise, rng))
        if annotator is None else check_callable("annotator", annotator)
    )
    rng = np.random.default_rng(check_int("seed", seed, minimum=0))
    test_a, test_b = random_pairs(test_pool, check_int("test_pairs", test_pairs, minimum=1), rng)
    scores = np.zeros((len(noises), len(counts), repeats))
    for r, noise in enumerate(noises):
        for c, count in enumerate(counts):
            for k in range(repeats):
                person = make(noise, rng)
                a, b = random_pairs(train_pool, count, rng)
                model = BradleyTerryRewardModel().fit(a, b, person.label(a, b))
                scores[r, c, k] = model.agreement(test_a, test_b, person.true_label(test_a, test_b))
    return scores if every_repeat else scores.mean(axis=2)

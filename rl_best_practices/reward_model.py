"""A reward model learned from pairwise preferences (Bradley-Terry), and a simulated annotator.

* :class:`BradleyTerryRewardModel` fits a linear reward ``r(trajectory) = w . f(trajectory)`` on
  per-step features summed over a trajectory, so that ``P(a preferred to b) = sigmoid(r(a) - r(b))``
  (Bradley and Terry, 1952; Christiano et al., 2017, "Deep RL from human preferences"). It is an
  L2-regularised logistic regression on feature differences, solved with ``scipy.optimize``.
* :func:`trajectory_features` rolls a policy out on the market env and sums per-step features
  (:data:`FEATURE_NAMES`); :func:`sample_trajectories` draws a varied population of trading
  behaviours to compare.
* :class:`SimulatedAnnotator` labels pairs from a hidden utility (P&L minus a drawdown penalty),
  flipping each label with a given probability: ground truth to measure a reward model against.
* :func:`agreement_curve` measures held-out agreement against label noise and number of labels.
* :func:`preference_arrays` turns preferences stored by
  :class:`~rl_best_practices.feedback.HumanFeedbackCollector` into training arrays.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> fa, fb = rng.normal(size=(500, 2)), rng.normal(size=(500, 2))
>>> labels = ((fa - fb) @ [1.0, -2.0] > 0).astype(float)
>>> model = BradleyTerryRewardModel().fit(fa, fb, labels)
>>> ratio = model.weights_[1] / model.weights_[0]   # the trade-off, about -2
>>> bool(abs(ratio + 2) < 0.2)
True
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit

from rl_best_practices.envs import MarketEnv

__all__ = [
    "FEATURE_NAMES",
    "BradleyTerryRewardModel",
    "SimulatedAnnotator",
    "agreement_curve",
    "preference_arrays",
    "random_pairs",
    "sample_trajectories",
    "trajectory_features",
]

FEATURE_NAMES = ("pnl", "drawdown", "turnover", "abs_position")
"""Per-step quantities (from the market env's ``info``) summed over a trajectory."""


def _pairs(features_a: Any, features_b: Any) -> tuple[np.ndarray, np.ndarray]:
    fa = np.asarray(features_a, dtype=np.float64)
    fb = np.asarray(features_b, dtype=np.float64)
    if fa.ndim != 2 or fa.shape != fb.shape or len(fa) == 0:
        raise ValueError(
            f"features_a and features_b must be 2-D arrays of the same shape (pairs x features), "
            f"got {fa.shape} and {fb.shape}"
        )
    if not (np.all(np.isfinite(fa)) and np.all(np.isfinite(fb))):
        raise ValueError("features must be finite numbers")
    return fa, fb


class BradleyTerryRewardModel:
    """Linear Bradley-Terry reward model fitted by maximum likelihood (L2-regularised).

    Args:
        l2: strength of the L2 penalty on the weights of the standardised features (>= 0).

    Labels are the probability that ``a`` was preferred: 1 (``a``), 0 (``b``) or 0.5 (a tie).
    Features are divided by the spread of their pairwise differences before fitting, so the
    penalty treats each feature alike; ``weights_`` are given back in the original units.
    """

    def __init__(self, l2: float = 1e-3) -> None:
        if not np.isfinite(l2) or l2 < 0:
            raise ValueError(f"l2 must be a finite number >= 0, got {l2!r}")
        self.l2 = float(l2)
        self.weights_: np.ndarray | None = None

    @staticmethod
    def loss_and_gradient(
        w: np.ndarray, diffs: np.ndarray, labels: np.ndarray, l2: float
    ) -> tuple[float, np.ndarray]:
        """Mean negative log-likelihood (plus ``l2/2 |w|^2``) and its gradient in ``w``."""
        z = diffs @ w
        # -log sigmoid(z) = logaddexp(0, -z), written to stay exact for large |z|
        nll = labels * np.logaddexp(0.0, -z) + (1.0 - labels) * np.logaddexp(0.0, z)
        loss = float(nll.mean() + 0.5 * l2 * w @ w)
        grad = diffs.T @ (expit(z) - labels) / len(labels) + l2 * w
        return loss, grad

    def fit(self, features_a: Any, features_b: Any, labels: Any) -> "BradleyTerryRewardModel":
        """Fit on pairs: row ``i`` of ``features_a`` was compared with row ``i`` of ``features_b``."""
        fa, fb = _pairs(features_a, features_b)
        y = np.asarray(labels, dtype=np.float64)
        if y.shape != (len(fa),) or not np.all((y >= 0) & (y <= 1)):
            raise ValueError(
                f"labels must be one probability in [0, 1] per pair (1: a preferred, 0: b, "
                f"0.5: tie), got shape {y.shape} for {len(fa)} pairs"
            )
        diffs = fa - fb
        scale = diffs.std(axis=0)
        scale[scale == 0] = 1.0
        result = minimize(
            self.loss_and_gradient,
            np.zeros(diffs.shape[1]),
            args=(diffs / scale, y, self.l2),
            jac=True,
            method="L-BFGS-B",
        )
        self.weights_ = result.x / scale
        return self

    def _weights(self) -> np.ndarray:
        if self.weights_ is None:
            raise RuntimeError("the model is not fitted yet; call fit() first")
        return self.weights_

    def reward(self, features: Any) -> np.ndarray:
        """The learned reward of each row of ``features`` (a trajectory's summed features)."""
        f = np.asarray(features, dtype=np.float64)
        w = self._weights()
        if f.shape[-1:] != w.shape:
            raise ValueError(f"features need {len(w)} columns, got shape {f.shape}")
        return f @ w

    def probability(self, features_a: Any, features_b: Any) -> np.ndarray:
        """The modelled probability that each ``a`` is preferred to its ``b``."""
        fa, fb = _pairs(features_a, features_b)
        return expit(self.reward(fa) - self.reward(fb))

    def agreement(self, features_a: Any, features_b: Any, labels: Any) -> float:
        """Fraction of non-tied pairs on which the model prefers the same trajectory as ``labels``."""
        y = np.asarray(labels, dtype=np.float64)
        decided = y != 0.5
        if not decided.any():
            raise ValueError("agreement needs at least one pair that is not a tie")
        p = self.probability(features_a, features_b)
        return float(np.mean((p[decided] > 0.5) == (y[decided] > 0.5)))


def trajectory_features(
    policy: Callable[[np.ndarray], Any], seed: int, env_config: Mapping[str, Any] | None = None
) -> np.ndarray:
    """Per-step :data:`FEATURE_NAMES` summed over one episode of ``policy`` on the market env.

    >>> from rl_best_practices.envs import flat_policy
    >>> trajectory_features(flat_policy(MarketEnv()), seed=0, env_config={"episode_length": 10})
    array([0., 0., 0., 0.])
    """
    env = MarketEnv(dict(env_config or {}))
    obs, _ = env.reset(seed=int(seed))
    total = np.zeros(len(FEATURE_NAMES))
    done = False
    while not done:
        obs, _, terminated, truncated, info = env.step(policy(obs))
        total += (info["pnl"], info["drawdown"], info["turnover"], abs(info["position"]))
        done = terminated or truncated
    return total


def sample_trajectories(
    n: int, rng: np.random.Generator, env_config: Mapping[str, Any] | None = None
) -> np.ndarray:
    """Summed features of ``n`` episodes of varied trading behaviour, one row per episode.

    Each episode follows the signal with its own entry threshold and position cap and takes a
    random action with its own probability: careful, reckless, idle and noisy traders side by
    side, as a reviewer would be shown.
    """
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be an integer >= 1, got {n!r}")
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    rows = []
    for _ in range(n):
        threshold, cap, epsilon = rng.uniform(0.0, 1.5), rng.uniform(0.1, 1.0), rng.uniform(0.0, 0.6)
        noise = np.random.default_rng(rng.integers(2**32))

        def policy(obs: np.ndarray) -> int:
            if noise.random() < epsilon:
                return int(noise.integers(3))
            if obs[0] > threshold and obs[1] < cap:
                return 2
            if obs[0] < -threshold and obs[1] > -cap:
                return 0
            return 1

        rows.append(trajectory_features(policy, int(rng.integers(2**31)), env_config))
    return np.array(rows)


class SimulatedAnnotator:
    """Labels pairs of trajectories from a hidden utility, with label noise.

    The utility is the total P&L minus ``drawdown_penalty`` times the summed drawdown (time spent
    under water, weighted by depth). With probability ``noise`` a label is flipped.

    >>> annotator = SimulatedAnnotator(drawdown_penalty=0.5, noise=0.0, rng=np.random.default_rng(0))
    >>> annotator.label([[10.0, 0.0, 0, 0]], [[12.0, 8.0, 0, 0]])   # 10 beats 12 - 0.5 * 8
    array([1.])
    """

    def __init__(self, drawdown_penalty: float, noise: float, rng: np.random.Generator) -> None:
        if not np.isfinite(drawdown_penalty) or drawdown_penalty < 0:
            raise ValueError(f"drawdown_penalty must be a finite number >= 0, got {drawdown_penalty!r}")
        if not 0 <= noise <= 0.5:
            raise ValueError(f"noise must be a probability within 0 to 0.5, got {noise!r}")
        if not isinstance(rng, np.random.Generator):
            raise ValueError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
        self.weights = np.zeros(len(FEATURE_NAMES))
        self.weights[FEATURE_NAMES.index("pnl")] = 1.0
        self.weights[FEATURE_NAMES.index("drawdown")] = -float(drawdown_penalty)
        self.noise = float(noise)
        self.rng = rng

    def utility(self, features: Any) -> np.ndarray:
        """The hidden utility of each row of summed features."""
        return np.asarray(features, dtype=np.float64) @ self.weights

    def true_label(self, features_a: Any, features_b: Any) -> np.ndarray:
        """1 where ``a`` has the higher utility, 0 where ``b`` has, 0.5 on an exact tie."""
        fa, fb = _pairs(features_a, features_b)
        return np.sign(self.utility(fa) - self.utility(fb)) * 0.5 + 0.5

    def label(self, features_a: Any, features_b: Any) -> np.ndarray:
        """The annotator's labels: the true ones, each flipped with probability ``noise``."""
        truth = self.true_label(features_a, features_b)
        flip = self.rng.random(len(truth)) < self.noise
        return np.where(flip, 1.0 - truth, truth)


def preference_arrays(
    preferences: Iterable[Mapping[str, Any]], features: Mapping[str, Any]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(features_a, features_b, labels)`` from stored preference records.

    ``preferences`` are rows with ``trajectory_a``, ``trajectory_b`` and ``preferred`` (as
    :meth:`HumanFeedbackCollector.preferences` returns them); ``features`` maps each trajectory
    id to its summed features.
    """
    from rl_best_practices.feedback import TIE

    fa, fb, y = [], [], []
    for row in preferences:
        a, b, preferred = row["trajectory_a"], row["trajectory_b"], row["preferred"]
        missing = [t for t in (a, b) if t not in features]
        if missing:
            raise ValueError(f"no features for trajectories {missing}")
        fa.append(features[a])
        fb.append(features[b])
        y.append(0.5 if preferred == TIE else float(preferred == a))
    if not y:
        raise ValueError("there are no preferences")
    return np.array(fa, dtype=np.float64), np.array(fb, dtype=np.float64), np.array(y)


def random_pairs(
    pool: Any, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` pairs of distinct rows drawn at random from ``pool`` (rows of summed features)."""
    pool = np.asarray(pool, dtype=np.float64)
    if pool.ndim != 2 or len(pool) < 2:
        raise ValueError(f"pool must be a 2-D array with at least two rows, got shape {pool.shape}")
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be an integer >= 1, got {n!r}")
    i = rng.integers(len(pool), size=n)
    j = (i + rng.integers(1, len(pool), size=n)) % len(pool)  # never i itself
    return pool[i], pool[j]


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
    :class:`SimulatedAnnotator`, fit a :class:`BradleyTerryRewardModel`, and score it on
    ``test_pairs`` pairs of the disjoint ``test_pool`` against the noise-free labels. Averaged
    over ``repeats`` seeded repetitions. Returns an array of shape ``(noises, label_counts)``.
    """
    noises, counts = list(noises), list(label_counts)
    rng = np.random.default_rng(seed)
    test_a, test_b = random_pairs(test_pool, test_pairs, rng)
    curve = np.zeros((len(noises), len(counts)))
    for r, noise in enumerate(noises):
        for c, count in enumerate(counts):
            scores = []
            for _ in range(repeats):
                annotator = SimulatedAnnotator(drawdown_penalty, noise, rng)
                a, b = random_pairs(train_pool, count, rng)
                model = BradleyTerryRewardModel().fit(a, b, annotator.label(a, b))
                scores.append(model.agreement(test_a, test_b, annotator.true_label(test_a, test_b)))
            curve[r, c] = np.mean(scores)
    return curve

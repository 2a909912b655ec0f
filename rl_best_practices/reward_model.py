"""A reward model learned from pairwise preferences (Bradley-Terry).

* :class:`BradleyTerryRewardModel` fits a linear reward ``r(trajectory) = w . f(trajectory)`` on
  per-step features summed over a trajectory, so that
  ``P(a preferred to b) = sigmoid(r(a) - r(b))`` (Bradley and Terry, 1952; Christiano et al.,
  2017, "Deep RL from human preferences"). It is an L2-regularised logistic regression on
  feature differences, solved with ``scipy.optimize``.
* :func:`trajectory_features` rolls a policy out on the market env and sums per-step features
  (:data:`FEATURE_NAMES`).
* :func:`best_of_n` measures what optimising a learned reward does to the true objective:
  pick the best of ``N`` candidates by the proxy and by the truth, for growing ``N``.
* :func:`random_pairs` draws pairs of trajectories to show a reviewer; :func:`check_pairs`
  validates the two sides of compared pairs.
* :func:`preference_arrays` turns preferences stored by
  :class:`~rl_best_practices.feedback.HumanFeedbackCollector` into training arrays.

A simulated annotator and the agreement study of lesson 05 are in
:mod:`rl_best_practices.scenarios`.

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

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit

from rl_best_practices.envs import MarketEnv
from rl_best_practices.errors import InvalidTypeError, InvalidValueError, NotFittedError
from rl_best_practices.feedback import TIE
from rl_best_practices.validation import check_array, check_callable, check_int, check_number

__all__ = [
    "FEATURE_NAMES",
    "BestOfN",
    "BradleyTerryRewardModel",
    "best_of_n",
    "check_pairs",
    "preference_arrays",
    "random_pairs",
    "trajectory_features",
]

FEATURE_NAMES = ("pnl", "drawdown", "turnover", "abs_position")
"""Per-step quantities (from the market env's ``info``) summed over a trajectory."""


def check_pairs(features_a: Any, features_b: Any) -> tuple[np.ndarray, np.ndarray]:
    """The two sides of compared pairs as finite float arrays of one shape (pairs x features).

    >>> check_pairs([[1, 0]], [[0, 1], [1, 1]])
    Traceback (most recent call last):
    ...
    rl_best_practices.errors.InvalidValueError: features_a and features_b must have the same \
shape (pairs x features), got (1, 2) and (2, 2)
    """
    fa = check_array("features_a", features_a, ndim=2)
    fb = check_array("features_b", features_b, ndim=2)
    if fa.shape != fb.shape:
        raise InvalidValueError(
            "features_a and features_b must have the same shape (pairs x features), "
            f"got {fa.shape} and {fb.shape}"
        )
    return fa, fb


class BradleyTerryRewardModel:
    """Linear Bradley-Terry reward model fitted by maximum likelihood (L2-regularised).

    Args:
        l2: strength of the L2 penalty on the weights of the standardised features (>= 0).

    Labels are the probability that ``a`` was preferred: 1 (``a``), 0 (``b``) or 0.5 (a tie).
    Features are divided by the spread of their pairwise differences before fitting, so the
    penalty treats each feature alike; ``weights_`` are given back in the original units.

    >>> model = BradleyTerryRewardModel().fit([[1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0]] * 2, [1, 0.5])
    >>> int(model.reward([[1.0, 0.0], [0.0, 1.0]]).argmax())   # the preferred one ranks first
    0
    """

    def __init__(self, l2: float = 1e-3) -> None:
        self.l2 = check_number("l2", l2, minimum=0)
        self.weights_: np.ndarray | None = None

    @staticmethod
    def loss_and_gradient(
        w: np.ndarray, diffs: np.ndarray, labels: np.ndarray, l2: float
    ) -> tuple[float, np.ndarray]:
        """Mean negative log-likelihood (plus ``l2/2 |w|^2``) and its gradient in ``w``.

        >>> BradleyTerryRewardModel.loss_and_gradient(np.zeros(1), np.ones((2, 1)), np.ones(2), 0)
        (0.693, array([-0.5]))
        """
        z = diffs @ w
        # -log sigmoid(z) = logaddexp(0, -z), written to stay exact for large |z|
        nll = labels * np.logaddexp(0.0, -z) + (1.0 - labels) * np.logaddexp(0.0, z)
        loss = float(nll.mean() + 0.5 * l2 * w @ w)
        grad = diffs.T @ (expit(z) - labels) / len(labels) + l2 * w
        return loss, grad

    def fit(self, features_a: Any, features_b: Any, labels: Any) -> BradleyTerryRewardModel:
        """Fit on pairs: row ``i`` of ``features_a`` was compared with row ``i`` of
        ``features_b``; returns the model."""
        fa, fb = check_pairs(features_a, features_b)
        y = check_array("labels", labels, min_size=0)
        if y.shape != (len(fa),) or not np.all((y >= 0) & (y <= 1)):
            raise InvalidValueError(
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

    def reward(self, features: Any) -> np.ndarray:
        """The learned reward of each row of ``features`` (a trajectory's summed features)."""
        if self.weights_ is None:
            raise NotFittedError("the model is not fitted yet; call fit() first")
        f = check_array("features", features)
        if f.shape[-1:] != self.weights_.shape:
            raise InvalidValueError(
                f"features need {len(self.weights_)} columns, got shape {f.shape}"
            )
        return f @ self.weights_

    def probability(self, features_a: Any, features_b: Any) -> np.ndarray:
        """The modelled probability that each ``a`` is preferred to its ``b``."""
        fa, fb = check_pairs(features_a, features_b)
        return expit(self.reward(fa) - self.reward(fb))

    def agreement(self, features_a: Any, features_b: Any, labels: Any) -> float:
        """Fraction of non-tied pairs on which the model prefers the same trajectory as
        ``labels``."""
        p = self.probability(features_a, features_b)
        y = check_array("labels", labels, ndim=1)
        if y.shape != p.shape:
            raise InvalidValueError(f"labels need one value per pair ({len(p)}), got {len(y)}")
        decided = y != 0.5
        if not decided.any():
            raise InvalidValueError("agreement needs at least one pair that is not a tie")
        return float(np.mean((p[decided] > 0.5) == (y[decided] > 0.5)))


def trajectory_features(
    policy: Callable[[np.ndarray], Any],
    seed: int,
    env_config: Mapping[str, Any] | None = None,
    *,
    max_drawdown: bool = False,
) -> np.ndarray:
    """Per-step :data:`FEATURE_NAMES` summed over one episode of ``policy`` on the market env.

    With ``max_drawdown`` a fifth entry follows: the episode's largest per-step drawdown (its
    worst moment), which a reward model on the summed features cannot see.

    >>> from rl_best_practices.envs import flat_policy
    >>> trajectory_features(flat_policy(MarketEnv()), seed=0, env_config={"episode_length": 10})
    array([0., 0., 0., 0.])
    """
    policy = check_callable("policy", policy)
    env = MarketEnv(dict(env_config or {}))
    obs, _ = env.reset(seed=check_int("seed", seed, minimum=0))
    total, worst = np.zeros(len(FEATURE_NAMES)), 0.0
    done = False
    while not done:
        obs, _, terminated, truncated, info = env.step(policy(obs))
        total += (info["pnl"], info["drawdown"], info["turnover"], abs(info["position"]))
        worst = max(worst, float(info["drawdown"]))
        done = terminated or truncated
    return np.append(total, worst) if max_drawdown else total


def preference_arrays(
    preferences: Iterable[Mapping[str, Any]], features: Mapping[str, Any]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(features_a, features_b, labels)`` from stored preference records.

    ``preferences`` are rows with ``trajectory_a``, ``trajectory_b`` and ``preferred`` (as
    :meth:`HumanFeedbackCollector.preferences` returns them); ``features`` maps each trajectory
    id to its summed features. A tie becomes the label 0.5.

    >>> rows = [{"trajectory_a": "x", "trajectory_b": "y", "preferred": "y"}]
    >>> preference_arrays(rows, {"x": [1.0], "y": [2.0]})[2]
    array([0.])
    """
    fa, fb, y = [], [], []
    for row in preferences:
        a, b, preferred = row["trajectory_a"], row["trajectory_b"], row["preferred"]
        missing = [t for t in (a, b) if t not in features]
        if missing:
            raise InvalidValueError(f"no features for trajectories {missing}")
        fa.append(features[a])
        fb.append(features[b])
        y.append(0.5 if preferred == TIE else float(preferred == a))
    if not y:
        raise InvalidValueError("there are no preferences")
    return np.array(fa, dtype=np.float64), np.array(fb, dtype=np.float64), np.array(y)


def random_pairs(pool: Any, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` pairs of distinct rows drawn at random from ``pool`` (rows of summed features).

    >>> a, b = random_pairs(np.arange(6.0).reshape(3, 2), 100, np.random.default_rng(0))
    >>> a.shape, bool(np.all(a != b))
    ((100, 2), True)
    """
    pool = check_array("pool", pool, ndim=2)
    if len(pool) < 2:
        raise InvalidValueError(
            f"pool must be a 2-D array with at least two rows, got shape {pool.shape}"
        )
    n = check_int("n", n, minimum=1)
    if not isinstance(rng, np.random.Generator):
        raise InvalidTypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    i = rng.integers(len(pool), size=n)
    j = (i + rng.integers(1, len(pool), size=n)) % len(pool)  # never i itself
    return pool[i], pool[j]


@dataclass(frozen=True)
class BestOfN:
    """What best-of-``N`` selection picked: one row per repeat, one column per ``N`` in ``ns``.

    ``proxy_pick`` and ``oracle_pick`` are the true scores of the candidate with the highest
    proxy and the highest true score among the same ``N``; ``random_pick`` the true score of a
    uniformly random one of them; ``proxy_of_pick`` the proxy score of the proxy's pick.
    """

    ns: tuple[int, ...]
    proxy_pick: np.ndarray
    oracle_pick: np.ndarray
    random_pick: np.ndarray
    proxy_of_pick: np.ndarray

    @property
    def gap(self) -> np.ndarray:
        """True score lost by trusting the proxy: ``oracle_pick - proxy_pick`` (>= 0)."""
        return self.oracle_pick - self.proxy_pick


def best_of_n(proxy: Any, truth: Any, ns: Iterable[int], rng: np.random.Generator) -> BestOfN:
    """Best-of-``N`` optimisation of a proxy, judged by the truth (Goodhart's law measured).

    ``proxy`` and ``truth`` score the same pool of candidates (e.g. a learned reward and the
    annotator's true utility of each trajectory), one row per repeat: shape
    ``(repeats, pool)``, or ``(pool,)`` for one repeat (a 1-D ``truth`` is shared by all
    rows). For each repeat and each ``N`` in ``ns``, ``N`` distinct candidates are drawn at
    random and the one with the highest proxy is compared with the one with the highest truth.
    The more ``N``, the harder the proxy is optimised.

    >>> truth = np.arange(10.0)
    >>> proxy = np.tile(np.where(truth == 9, -1.0, truth), (50, 1))  # wrong about the best one
    >>> picks = best_of_n(proxy, truth, [1, 10], np.random.default_rng(0))
    >>> picks.gap.mean(axis=0).tolist()   # N = 10 sees all: the proxy picks 8, the oracle 9
    [0.0, 1.0]
    """
    scores = check_array("proxy", proxy)
    if scores.ndim not in (1, 2):
        raise InvalidValueError(f"proxy must be 1-D or 2-D (repeats x pool), got {scores.shape}")
    scores = np.atleast_2d(scores)
    true = check_array("truth", truth)
    if true.shape not in (scores.shape, scores.shape[1:]):
        raise InvalidValueError(
            f"truth must score the same pool as proxy, shape {scores.shape[1:]} or "
            f"{scores.shape}, got {true.shape}"
        )
    true = np.broadcast_to(true, scores.shape)
    pool = scores.shape[1]
    sizes = tuple(check_int("N", n, minimum=1, maximum=pool) for n in ns)
    if not sizes:
        raise InvalidValueError("ns must hold at least one N")
    if not isinstance(rng, np.random.Generator):
        raise InvalidTypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    out = np.zeros((4, len(scores), len(sizes)))
    for r, (row, true_row) in enumerate(zip(scores, true, strict=True)):
        for k, n in enumerate(sizes):
            drawn = rng.choice(pool, size=n, replace=False)  # in random order
            pick = drawn[np.argmax(row[drawn])]
            out[:, r, k] = (true_row[pick], true_row[drawn].max(), true_row[drawn[0]], row[pick])
    return BestOfN(sizes, *out)

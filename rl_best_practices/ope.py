"""Off-policy evaluation: a new policy's value estimated from episodes another policy logged.

Before a candidate policy touches traffic, the episodes the production (behaviour) policy
already logged can estimate its value, provided each logged action carries the probability the
behaviour policy gave it (RLlib's ``action_logp`` column, written by
:func:`rl_best_practices.feedback.record_episodes`). With per-step ratios
``rho_t = pi(a_t | s_t) / mu(a_t | s_t)`` and their running products ``w_t``:

* ``"is"``: ordinary importance sampling, the mean of ``w_T * G`` (unbiased, high variance);
* ``"wis"``: weighted importance sampling, ``sum w_T G / sum w_T`` (biased, consistent, lower
  variance);
* ``"pdis"``: per-decision importance sampling, each reward weighted by ``w_t`` up to its own
  step (unbiased, lower variance than ``"is"``);
* ``"dr"``: doubly robust (Jiang and Li, 2016): per-decision weights plus a fitted Q model as a
  control variate. The Q model is fitted Q evaluation (Le et al., 2019) with a linear model on
  quadratic features of the observation and the step; DR stays unbiased when it is wrong
  (nearly: it is fitted on the same data) and gains where it is right.

Intervals are percentile bootstrap intervals over episodes (episodes are independent; steps of
one episode are not), seeded. With heavy-tailed weights they cover less than they claim:
``benchmarks/bench_ope.py`` measures each estimator's coverage against ground truth (on lesson
05's logs about 87-88% for ``"is"`` and ``"wis"``, 93% for ``"pdis"`` and ``"dr"``, at 95%).
The Q model of ``"dr"`` is fitted once on all the data and held fixed in the bootstrap. The
effective sample size ``(sum w)^2 / sum w^2`` of the episode weights says how many logged
episodes the estimate really rests on; when it collapses, an
:class:`~rl_best_practices.errors.EffectiveSampleSizeWarning` says so. References: Precup,
Sutton and Singh (2000); Thomas and Brunskill (2016); Kong (1992) for the effective sample size.

>>> import tempfile
>>> from rl_best_practices.feedback import record_episodes
>>> folder = tempfile.TemporaryDirectory()
>>> uniform = lambda obs: np.full(3, 1 / 3)
>>> _ = record_episodes(None, range(50), folder.name, {"episode_length": 10},
...                     action_probs=uniform, seed=0)
>>> est = off_policy_value(folder.name, lambda obs: np.full((len(obs), 3), 1 / 3))
>>> est.ess == est.effective_sample_size == 50.0   # the target is the behaviour: weights 1
True
>>> bool(est.low <= est.value <= est.high)
True
>>> folder.cleanup()
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from rl_best_practices.envs import MarketEnv
from rl_best_practices.errors import (
    EffectiveSampleSizeWarning,
    InvalidTypeError,
    InvalidValueError,
    MissingFileError,
)
from rl_best_practices.feedback.offline import LOGP_COLUMN, sampling_policy
from rl_best_practices.validation import check_callable, check_choice, check_int, check_number

__all__ = [
    "METHODS",
    "LoggedEpisodes",
    "OPEEstimate",
    "effective_sample_size",
    "load_episodes",
    "off_policy_value",
    "rollout_returns",
]

METHODS = ("is", "wis", "pdis", "dr")
"""The estimators :func:`off_policy_value` offers."""

TargetProbs = Callable[[np.ndarray], Any]
_BOOTSTRAP = 2000
_FQE_RIDGE = 0.1  # per row: the features are of order 1; less lets FQE run away


@dataclass(frozen=True)
class OPEEstimate:
    """An off-policy estimate of a policy's expected (discounted) return per episode.

    Attributes:
        value: the point estimate.
        low, high: the bootstrap interval at ``confidence``.
        ess: the effective sample size of the episode weights, between 0 and ``n_episodes``
            (also :attr:`effective_sample_size`).
        method, confidence, n_episodes: how it was computed, on how many logged episodes.
    """

    value: float
    low: float
    high: float
    ess: float
    method: str
    confidence: float
    n_episodes: int

    @property
    def effective_sample_size(self) -> float:
        """The effective sample size of the episode weights (same as :attr:`ess`)."""
        return self.ess


@dataclass(frozen=True)
class LoggedEpisodes:
    """Logged transitions sorted by episode and step, as arrays (one row per step).

    ``starts`` holds the first row of each episode; ``episode`` the episode index of each row.
    """

    obs: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    logp: np.ndarray
    episode: np.ndarray
    step: np.ndarray
    starts: np.ndarray

    @property
    def n_episodes(self) -> int:
        """The number of logged episodes."""
        return len(self.starts)

    def last(self) -> np.ndarray:
        """A boolean per row: the last step of its episode."""
        last = np.zeros(len(self.rewards), bool)
        last[np.r_[self.starts[1:] - 1, len(self.rewards) - 1]] = True
        return last


def _read_table(data: Any) -> pa.Table:
    if isinstance(data, pa.Table):
        return data
    if not isinstance(data, (str, os.PathLike)):
        raise InvalidTypeError(
            f"data must be a Parquet file or folder or a pyarrow Table, got {type(data).__name__}"
        )
    path = Path(data)
    files = sorted(path.glob("*.parquet")) if path.is_dir() else [path]
    if not files or not files[0].is_file():
        raise MissingFileError(f"no Parquet data at {path}")
    return pa.concat_tables([pq.read_table(f) for f in files], promote_options="default")


def load_episodes(data: Any) -> LoggedEpisodes:
    """Read logged episodes (RLlib's columnar format with ``action_logp``) into arrays.

    ``data`` is a Parquet file, a folder of Parquet files, or a pyarrow Table. Rows are grouped
    by ``eps_id`` and ordered by ``t``. Actions must be discrete (integers); every logged action
    must have had a positive probability under the behaviour policy.
    """
    table = _read_table(data)
    needed = ("eps_id", "t", "obs", "actions", "rewards", LOGP_COLUMN)
    missing = [name for name in needed if name not in table.column_names]
    if missing:
        raise InvalidValueError(
            f"logged data lack the column(s) {missing}; off-policy evaluation needs the behaviour "
            f"policy's log-probability of each action ({LOGP_COLUMN!r}): record episodes with "
            "record_episodes(...) or RLlib, which write it"
        )
    if table.num_rows == 0:
        raise InvalidValueError("logged data hold no transitions")
    eps = np.asarray(table.column("eps_id").to_pylist(), dtype=object).astype(str)
    t = table.column("t").to_numpy()
    order = np.lexsort((t, eps))
    eps, t = eps[order], t[order]
    try:
        obs = np.asarray(table.column("obs").to_pylist(), dtype=np.float64)[order]
        actions = np.asarray(table.column("actions").to_pylist(), dtype=np.float64)[order]
    except (TypeError, ValueError):
        raise InvalidValueError(
            "obs and actions must be numeric columns; RLlib compresses observations unless "
            "recorded with config.offline_data(output_compress_columns=[])"
        ) from None
    rewards = np.asarray(table.column("rewards").to_numpy(), dtype=np.float64)[order]
    logp = np.asarray(table.column(LOGP_COLUMN).to_numpy(), dtype=np.float64)[order]
    if actions.ndim != 1 or np.any(actions != np.round(actions)) or np.any(actions < 0):
        raise InvalidValueError("off-policy evaluation here needs discrete actions (integers)")
    if np.any(np.isneginf(logp)):
        raise InvalidValueError(
            f"{int(np.isneginf(logp).sum())} logged action(s) had probability 0 under the "
            "behaviour policy (action_logp = -inf): such data cannot come from that policy"
        )
    if not np.all(np.isfinite(logp)) or np.any(logp > 1e-9):
        raise InvalidValueError("action_logp must hold finite log-probabilities (<= 0)")
    if obs.ndim == 1:
        obs = obs[:, None]
    starts = np.flatnonzero(np.r_[True, eps[1:] != eps[:-1]])
    episode = np.cumsum(np.r_[True, eps[1:] != eps[:-1]]) - 1
    step = np.arange(len(eps)) - starts[episode]
    return LoggedEpisodes(obs, actions.astype(np.int64), rewards, logp, episode, step, starts)


def _target(target_probs: TargetProbs, obs: np.ndarray, min_actions: int) -> np.ndarray:
    probs = np.asarray(check_callable("target_probs", target_probs)(obs), dtype=np.float64)
    if probs.ndim != 2 or probs.shape[0] != len(obs) or probs.shape[1] < min_actions:
        raise InvalidValueError(
            f"target_probs must map observations of shape {obs.shape} to probabilities of shape "
            f"({len(obs)}, n_actions) with n_actions >= {min_actions}, got {probs.shape}"
        )
    if not np.all(np.isfinite(probs)) or np.any(probs < 0):
        raise InvalidValueError("target probabilities must be finite and non-negative")
    worst = float(np.abs(probs.sum(axis=1) - 1.0).max())
    if worst > 1e-4:
        raise InvalidValueError(
            f"target probabilities must sum to 1 in every row; the worst row is off by {worst:.3g}"
        )
    return probs


def _features(obs: np.ndarray, step: np.ndarray, horizon: int) -> np.ndarray:
    upper = np.triu_indices(obs.shape[1])
    quadratic = (obs[:, :, None] * obs[:, None, :])[:, upper[0], upper[1]]
    time = (step / max(horizon, 1))[:, None]
    return np.hstack([np.ones((len(obs), 1)), obs, quadratic, time, time**2])


def _fitted_q(ep: LoggedEpisodes, probs: np.ndarray, gamma: float) -> np.ndarray:
    """Q(s_t, a) for every logged row and action, by fitted Q evaluation of the target."""
    horizon = int(ep.step.max()) + 1
    phi = _features(ep.obs, ep.step, horizon)
    n_actions = probs.shape[1]
    cont = ~ep.last()  # the value after an episode's last logged step is not part of the return
    nxt = np.minimum(np.arange(len(phi)) + 1, len(phi) - 1)
    solvers = []
    for a in range(n_actions):
        rows = ep.actions == a
        x = phi[rows]
        gram = x.T @ x + _FQE_RIDGE * len(phi) * np.eye(phi.shape[1])
        solvers.append((rows, np.linalg.solve(gram, x.T)))
    bound = np.abs(ep.rewards).max() * horizon  # no return can exceed it; FQE may overshoot
    q = np.zeros((len(phi), n_actions))
    for _ in range(min(horizon, 1000)):
        v_next = np.where(cont, (probs * q).sum(axis=1)[nxt], 0.0)
        target = ep.rewards + gamma * v_next
        theta = np.zeros((phi.shape[1], n_actions))
        for a, (rows, solve) in enumerate(solvers):
            if rows.any():
                theta[:, a] = solve @ target[rows]
        q = np.clip(phi @ theta, -bound, bound)
    return q


def _per_episode(ep: LoggedEpisodes, probs: np.ndarray, method: str, gamma: float):
    """Per-episode terms ``(numerators, weights)``: the estimate is their ratio of means."""
    idx = np.arange(len(ep.actions))
    with np.errstate(divide="ignore"):
        log_rho = np.log(probs[idx, ep.actions]) - ep.logp
    cum = np.concatenate([np.cumsum(part) for part in np.split(log_rho, ep.starts[1:])])
    log_w_end = cum[np.r_[ep.starts[1:] - 1, len(cum) - 1]]
    discount = gamma ** ep.step.astype(np.float64)
    ret = np.bincount(ep.episode, discount * ep.rewards, minlength=ep.n_episodes)
    with np.errstate(over="ignore"):
        w_end = np.exp(log_w_end)
        w_t = np.exp(cum)
    if method in ("is", "wis"):
        return w_end * ret, w_end if method == "wis" else np.ones_like(w_end), w_end
    terms = w_t * ep.rewards
    if method == "dr":
        q = _fitted_q(ep, probs, gamma)
        w_prev = np.where(ep.step == 0, 1.0, np.exp(np.r_[0.0, cum[:-1]]))
        terms = terms - w_t * q[idx, ep.actions] + w_prev * (probs * q).sum(axis=1)
    return np.bincount(ep.episode, discount * terms, minlength=ep.n_episodes), \
        np.ones(ep.n_episodes), w_end


def effective_sample_size(weights: np.ndarray) -> float:
    """Kish's effective sample size ``(sum w)^2 / sum w^2`` (0 when every weight is 0)."""
    scale = float(np.max(weights)) if len(weights) else 0.0
    if not np.isfinite(scale):
        return 1.0
    if scale <= 0:
        return 0.0
    w = weights / scale
    return float(w.sum() ** 2 / (w**2).sum())


def off_policy_value(
    data: Any,
    target_probs: TargetProbs,
    method: str = "wis",
    gamma: float = 1.0,
    confidence: float = 0.95,
    seed: int = 0,
    *,
    min_ess: float = 0.05,
) -> OPEEstimate:
    """Estimate the expected return per episode of ``target_probs`` from logged episodes.

    Args:
        data: a Parquet file or folder in RLlib's columnar format (``eps_id``, ``t``, ``obs``,
            ``actions``, ``rewards``, ``action_logp``, ...) or a pyarrow Table.
        target_probs: maps a batch of observations ``(n, obs_dim)`` to the target policy's
            action probabilities ``(n, n_actions)``.
        method: ``"is"``, ``"wis"``, ``"pdis"`` or ``"dr"`` (see the module docstring).
        gamma: the discount of the return being estimated (1: the plain sum of rewards).
        confidence: the bootstrap interval's level.
        seed: seeds the bootstrap over episodes.
        min_ess: warn (:class:`~rl_best_practices.errors.EffectiveSampleSizeWarning`) when the
            effective sample size is below this fraction of the logged episodes.
    """
    method = check_choice("method", method, METHODS)
    gamma = check_number("gamma", gamma, minimum=0, maximum=1)
    confidence = check_number("confidence", confidence, minimum=0, maximum=1, low_open=True,
                              high_open=True)
    rng = np.random.default_rng(check_int("seed", seed, minimum=0))
    min_ess = check_number("min_ess", min_ess, minimum=0, maximum=1)
    ep = load_episodes(data)
    probs = _target(target_probs, ep.obs, int(ep.actions.max()) + 1)
    num, den, w_end = _per_episode(ep, probs, method, gamma)
    ess = effective_sample_size(w_end)
    if ess < min_ess * ep.n_episodes or ess < 2:
        warnings.warn(
            f"the effective sample size collapsed to {ess:.1f} of {ep.n_episodes} logged "
            f"episodes: the {method!r} estimate rests on a few episodes (the target policy is "
            "far from the behaviour policy); do not trust it",
            EffectiveSampleSizeWarning,
            stacklevel=2,
        )
    value = _ratio(num.sum(), den.sum())
    picks = rng.integers(ep.n_episodes, size=(_BOOTSTRAP, ep.n_episodes))
    with np.errstate(invalid="ignore", divide="ignore"):
        boot = num[picks].sum(axis=1) / den[picks].sum(axis=1)
    boot = boot[np.isfinite(boot)]
    tail = (1 - confidence) / 2
    low, high = (np.quantile(boot, [tail, 1 - tail]) if len(boot) else (np.nan, np.nan))
    return OPEEstimate(float(value), float(low), float(high), ess, method, confidence,
                       ep.n_episodes)


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den > 0 and np.isfinite(num) else float("nan")


def rollout_returns(
    action_probs: Callable[[np.ndarray], Any],
    seeds: Iterable[int],
    env_config: Mapping[str, Any] | None = None,
    *,
    seed: int = 0,
    gamma: float = 1.0,
) -> np.ndarray:
    """Ground truth by simulation: the (discounted) return of one market episode per seed,
    acting by drawing from ``action_probs(obs)`` (one observation -> probabilities).

    >>> rollout_returns(lambda obs: [0.0, 1.0, 0.0], [0, 1], {"episode_length": 5})  # always hold
    array([0., 0.])
    """
    act = sampling_policy(action_probs, seed)
    gamma = check_number("gamma", gamma, minimum=0, maximum=1)
    seeds = [check_int("each seed", s, minimum=0) for s in seeds]
    env = MarketEnv(dict(env_config or {}))
    returns = []
    for episode_seed in seeds:
        obs, _ = env.reset(seed=episode_seed)
        total, discount, done = 0.0, 1.0, False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(act(obs)[0])
            total += discount * reward
            discount *= gamma
            done = terminated or truncated
        returns.append(total)
    return np.array(returns)

"""Reward engineering: weighted components, scale normalisation, potential-based shaping.

* :class:`RunningMeanStd`: O(1) running mean and variance (the parallel algorithm of Chan et al.).
* :class:`RewardShaper`: combines a raw reward with weighted components, normalises the scale
  with statistics of the *raw* shaped reward (never its own outputs), then clips. Every
  component needs a weight; NaN and infinity are refused; statistics can be frozen, saved and
  loaded as JSON. ``scale="return"`` divides by the running std of the discounted return, as
  Gymnasium's ``NormalizeReward`` does.
* :func:`potential_shaping`: the term F = γΦ(s') − Φ(s) of Ng, Harada and Russell (1999), which
  provably leaves optimal policies unchanged; :func:`optimal_policy` solves a small tabular MDP
  exactly so that claim can be checked.
* :class:`ShapedRewardWrapper`: applies a shaper inside a Gymnasium env, reading components from
  ``info`` and writing them back
  (:class:`rl_best_practices.rllib.RewardComponentsCallback` logs them per episode to RLlib).

>>> shaper = RewardShaper()
>>> for pnl in [100.0, -50.0, 80.0, -120.0]:
...     out = shaper.compute_shaped_reward(pnl, {"turnover_cost": -1.0}, {"turnover_cost": 2.0})
>>> shaper.get_diagnostics()["count"]
4
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from rl_best_practices.storage import atomic_write_json, read_json

__all__ = [
    "MissingWeightError",
    "RewardShaper",
    "RunningMeanStd",
    "ShapedRewardWrapper",
    "optimal_policy",
    "potential_shaping",
]

FILE_KIND = "rl_best_practices.reward_shaper"
SCALES = ("reward", "return")


class MissingWeightError(KeyError, ValueError):
    """A reward component has no weight and no default weight was given."""

    def __str__(self) -> str:  # KeyError would print the message in quotes
        return str(self.args[0])


def _finite(value: Any, what: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a finite number, got {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    return number


class RunningMeanStd:
    """Running mean and (population) variance of a scalar stream in O(1) time and memory.

    Starts from a weak prior (mean 0, variance 1, weight ``prior_count``) exactly as Gymnasium's
    ``RunningMeanStd``, so normalisation is defined from the first sample.

    >>> stats = RunningMeanStd(prior_count=0.0)
    >>> for x in [1.0, 2.0, 3.0, 4.0]:
    ...     stats.update(x)
    >>> stats.mean, stats.var, stats.count
    (2.5, 1.25, 4.0)
    """

    def __init__(self, prior_count: float = 1e-4) -> None:
        if not prior_count >= 0:
            raise ValueError(f"prior_count must be >= 0, got {prior_count!r}")
        self.mean = 0.0
        self.var = 1.0
        self.count = float(prior_count)

    def update(self, x: float) -> None:
        """Fold one sample into the statistics."""
        total = self.count + 1.0
        delta = x - self.mean
        self.mean += delta / total
        self.var = (self.var * self.count + delta * delta * self.count / total) / total
        self.count = total

    @property
    def std(self) -> float:
        return math.sqrt(self.var)

    def to_dict(self) -> dict[str, float]:
        return {"mean": self.mean, "var": self.var, "count": self.count}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "RunningMeanStd":
        stats = cls(prior_count=0.0)
        stats.mean = _finite(data["mean"], "mean")
        stats.var = _finite(data["var"], "var")
        stats.count = _finite(data["count"], "count")
        if stats.var < 0 or stats.count < 0:
            raise ValueError("var and count must be >= 0")
        return stats


class RewardShaper:
    """Shape, normalise and clip rewards; keeps the lesson's API with its defects corrected.

    Args:
        default_weight: weight for components missing from ``weights``; ``None`` (the default)
            makes a missing weight an error, so a typo cannot silently count at full strength.
        scale: ``"reward"`` divides by the running std of the shaped reward; ``"return"``
            divides by the running std of the discounted return (Gymnasium's ``NormalizeReward``).
        center: also subtract the running mean (only with ``scale="reward"``). Off by default:
            subtracting the mean changes incentives (an always-positive "alive" reward becomes a
            penalty, so the agent learns to end episodes early).
        gamma: discount for ``scale="return"``.
        epsilon: added to the variance before the square root.
        window: length of the bounded windows kept for :meth:`get_diagnostics`.

    >>> shaper = RewardShaper(default_weight=1.0)
    >>> shaper.compute_shaped_reward(5.0, {"bonus": 1.0}, {}, normalize=False)
    6.0
    """

    def __init__(
        self,
        default_weight: float | None = None,
        scale: str = "reward",
        center: bool = False,
        gamma: float = 0.99,
        epsilon: float = 1e-8,
        window: int = 1000,
    ) -> None:
        if default_weight is not None:
            default_weight = _finite(default_weight, "default_weight")
        if scale not in SCALES:
            raise ValueError(f"scale must be one of {SCALES}, got {scale!r}")
        if center and scale == "return":
            raise ValueError("center=True applies to scale='reward' only")
        if not 0.0 <= gamma <= 1.0:
            raise ValueError(f"gamma must lie in [0, 1], got {gamma!r}")
        if not epsilon > 0:
            raise ValueError(f"epsilon must be > 0, got {epsilon!r}")
        if not isinstance(window, int) or window < 1:
            raise ValueError(f"window must be an integer >= 1, got {window!r}")
        self.default_weight = default_weight
        self.scale = scale
        self.center = bool(center)
        self.gamma = float(gamma)
        self.epsilon = float(epsilon)
        self.window = window
        self.stats = RunningMeanStd()
        self.frozen = False
        self.steps = 0
        self._discounted_return = 0.0
        self._clip_range: tuple[float, float] | None = None
        # (shaped, output, was clipped, component values, contributions) of recent steps
        self._recent: deque[tuple[float, float, bool, dict, dict]] = deque(maxlen=window)

    # -- the lesson's API ---------------------------------------------------------------------
    def compute_shaped_reward(
        self,
        raw_reward: float,
        components: Mapping[str, float],
        weights: Mapping[str, float],
        clip_range: tuple[float, float] = (-10, 10),
        normalize: bool = True,
        *,
        terminated: bool = False,
    ) -> float:
        """Return ``clip(normalise(raw_reward + Σ weight·component))``.

        Statistics are updated with the raw shaped value (unless frozen), then used to
        normalise it, then the result is clipped: normalising first keeps the ordering of
        rewards that clipping raw values would destroy. ``terminated`` ends the discounted
        return for ``scale="return"``. Invalid input raises ``ValueError`` (a missing weight:
        :class:`MissingWeightError`) before any statistic changes.
        """
        low, high = self._clip_bounds(clip_range)
        # Fast path: combine first, validate once. NaN and infinity propagate through the sum,
        # so a finite result means every input was finite; otherwise the slow path finds the
        # culprit and raises. Nothing is stored before this point.
        values, contributions = {}, {}
        try:
            shaped = float(raw_reward)
            for name, value in components.items():
                weight = weights[name] if name in weights else self._default_weight_for(name, weights)
                values[name] = value = float(value)
                contributions[name] = contribution = float(weight) * value
                shaped += contribution
        except (TypeError, ValueError):
            shaped = math.nan
        if not math.isfinite(shaped):
            self._raise_for_invalid(raw_reward, components, weights)

        if normalize:
            self._update_statistics(shaped, terminated)
            output = self._normalise(shaped)
        else:
            output = shaped
        clipped = min(max(output, low), high)
        self.steps += 1
        self._recent.append((shaped, clipped, clipped != output, values, contributions))
        return clipped

    def get_diagnostics(self) -> dict[str, Any]:
        """Summaries over the last ``window`` steps and the normaliser's statistics.

        ``count`` is the number of rewards shaped so far; the ``*_mean``/``*_std`` figures cover
        the recent window only, so memory stays bounded in long runs.
        """
        shaped = [r[0] for r in self._recent]
        outputs = [r[1] for r in self._recent]

        def component_means(index: int) -> dict[str, float]:
            per_name: dict[str, list[float]] = {}
            for record in self._recent:
                for name, value in record[index].items():
                    per_name.setdefault(name, []).append(value)
            return {name: float(np.mean(v)) for name, v in per_name.items()}

        return {
            "count": self.steps,
            "total_reward_mean": float(np.mean(shaped)) if shaped else 0.0,
            "total_reward_std": float(np.std(shaped)) if shaped else 0.0,
            "output_mean": float(np.mean(outputs)) if outputs else 0.0,
            "output_std": float(np.std(outputs)) if outputs else 0.0,
            "clip_fraction": float(np.mean([r[2] for r in self._recent])) if shaped else 0.0,
            "component_means": component_means(3),
            "contribution_means": component_means(4),
            "normaliser": {**self.stats.to_dict(), "std": self.stats.std, "scale": self.scale},
            "frozen": self.frozen,
        }

    # -- evaluation and persistence --------------------------------------------------------------
    def freeze(self) -> None:
        """Stop updating the statistics (for evaluation: the policy sees training's scale)."""
        self.frozen = True

    def unfreeze(self) -> None:
        self.frozen = False

    def reset_episode(self) -> None:
        """Start a new discounted return (``scale="return"``) without touching the statistics.

        :class:`ShapedRewardWrapper` calls it on ``reset``. (Gymnasium's ``NormalizeReward``
        restarts the return only at termination, so a truncated episode's return leaks into
        the next one; within an episode both give the same numbers.)
        """
        self._discounted_return = 0.0

    def save(self, path: str | Path) -> None:
        """Write settings and statistics to ``path`` as JSON, atomically."""
        atomic_write_json(
            path,
            {
                "kind": FILE_KIND,
                "version": 1,
                "settings": {
                    "default_weight": self.default_weight,
                    "scale": self.scale,
                    "center": self.center,
                    "gamma": self.gamma,
                    "epsilon": self.epsilon,
                    "window": self.window,
                },
                "statistics": self.stats.to_dict(),
                "discounted_return": self._discounted_return,
                "frozen": self.frozen,
            },
        )

    @classmethod
    def load(cls, path: str | Path) -> "RewardShaper":
        """Rebuild a shaper saved by :meth:`save` (statistics and frozen flag included)."""
        data = read_json(path, kind=FILE_KIND)
        if data.get("version") != 1:
            raise ValueError(f"{path}: unsupported reward shaper file version {data.get('version')!r}")
        shaper = cls(**data["settings"])
        shaper.stats = RunningMeanStd.from_dict(data["statistics"])
        shaper._discounted_return = _finite(data["discounted_return"], "discounted_return")
        shaper.frozen = bool(data["frozen"])
        return shaper

    # -- internals ----------------------------------------------------------------------------------
    def _clip_bounds(self, clip_range: tuple[float, float]) -> tuple[float, float]:
        if isinstance(clip_range, tuple) and clip_range == self._clip_range:
            return self._clip_range  # validated on an earlier call
        try:
            low, high = clip_range
        except (TypeError, ValueError):
            raise ValueError(f"clip_range must be a (low, high) pair, got {clip_range!r}") from None
        low, high = _finite(low, "clip_range low"), _finite(high, "clip_range high")
        if not low < high:
            raise ValueError(f"clip_range must have low < high, got {clip_range!r}")
        self._clip_range = (low, high)
        return self._clip_range

    def _default_weight_for(self, name: str, weights: Mapping[str, float]) -> float:
        if self.default_weight is None:
            raise MissingWeightError(
                f"component {name!r} has no weight; give one in weights "
                f"(known: {sorted(weights)}) or construct RewardShaper(default_weight=...)"
            )
        return self.default_weight

    def _raise_for_invalid(self, raw_reward: Any, components: Mapping, weights: Mapping) -> None:
        """Name exactly what was wrong (the slow path of compute_shaped_reward); always raises."""
        _finite(raw_reward, "raw_reward")
        for name, value in components.items():
            _finite(value, f"component {name!r}")
            if name in weights:
                _finite(weights[name], f"weight of {name!r}")
            else:
                self._default_weight_for(name, weights)
        raise ValueError("the shaped reward overflowed: the weighted sum is not a finite number")

    def _update_statistics(self, shaped: float, terminated: bool) -> None:
        if self.scale == "return":
            # As Gymnasium's NormalizeReward: discount, then add, reset only at termination.
            self._discounted_return = (
                self._discounted_return * self.gamma * (1.0 - float(terminated)) + shaped
            )
            if not self.frozen:
                self.stats.update(self._discounted_return)
        elif not self.frozen:
            self.stats.update(shaped)

    def _normalise(self, shaped: float) -> float:
        offset = self.stats.mean if self.center else 0.0
        return (shaped - offset) / math.sqrt(self.stats.var + self.epsilon)


def potential_shaping(
    potential: float, next_potential: float, gamma: float, terminated: bool
) -> float:
    """The potential-based shaping term F = γΦ(s') − Φ(s).

    Φ(s') counts as 0 when the episode *terminated* (there is no future), but not when it was
    merely *truncated* by a time limit (the state still has a future the agent cannot see).

    >>> potential_shaping(1.0, 3.0, gamma=0.9, terminated=False)
    1.7000000000000002
    >>> potential_shaping(1.0, 3.0, gamma=0.9, terminated=True)
    -1.0
    """
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"gamma must lie in [0, 1], got {gamma!r}")
    nxt = 0.0 if terminated else _finite(next_potential, "next_potential")
    return gamma * nxt - _finite(potential, "potential")


def optimal_policy(
    transitions: np.ndarray, rewards: np.ndarray, gamma: float, tol: float = 1e-12
) -> tuple[np.ndarray, np.ndarray]:
    """Solve a small tabular MDP exactly by value iteration.

    Args:
        transitions: ``P[s, a, s']``, rows summing to 1 (an absorbing state has P[s, a, s] = 1).
        rewards: ``R[s, a, s']``, the reward of each transition.
        gamma: discount in [0, 1).

    Returns:
        ``(policy, values)``: the greedy action per state (lowest index on ties, to 1e-9) and V*.

    >>> P = np.array([[[0.0, 1.0], [1.0, 0.0]], [[0.0, 1.0], [0.0, 1.0]]])
    >>> R = np.array([[[0.0, 1.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]]])
    >>> optimal_policy(P, R, gamma=0.9)[0]
    array([0, 0])
    """
    P, R = np.asarray(transitions, dtype=float), np.asarray(rewards, dtype=float)
    if P.ndim != 3 or P.shape[0] != P.shape[2] or R.shape != P.shape:
        raise ValueError(f"transitions and rewards must both have shape (S, A, S), got {P.shape}, {R.shape}")
    if not np.allclose(P.sum(axis=2), 1.0) or (P < 0).any():
        raise ValueError("each transitions[s, a] must be a probability distribution")
    if not 0.0 <= gamma < 1.0:
        raise ValueError(f"gamma must lie in [0, 1), got {gamma!r}")
    expected = (P * R).sum(axis=2)
    values = np.zeros(P.shape[0])
    while True:
        q = expected + gamma * P @ values
        new_values = q.max(axis=1)
        if np.max(np.abs(new_values - values)) < tol:
            break
        values = new_values
    best = q >= q.max(axis=1, keepdims=True) - 1e-9
    return best.argmax(axis=1), new_values


InfoReader = Callable[[Mapping[str, Any]], float]


class ShapedRewardWrapper(gym.Wrapper):
    """Apply a :class:`RewardShaper` inside an env.

    Components are read from the env's ``info`` after each step: ``components`` maps a component
    name to an ``info`` key or to a function of ``info``. With ``potential``, the term
    :func:`potential_shaping` of ``potential(observation)`` is added as the component
    ``"potential"`` (weight 1). ``info`` gains ``raw_reward``, ``reward_components`` (the values)
    and ``shaped_reward``.

    >>> from rl_best_practices.envs import MarketEnv
    >>> env = ShapedRewardWrapper(
    ...     MarketEnv({"episode_length": 3}), RewardShaper(),
    ...     components={"drawdown_penalty": lambda info: -info["drawdown"]},
    ...     weights={"drawdown_penalty": 0.5})
    >>> _ = env.reset(seed=0)
    >>> _, reward, _, _, info = env.step(2)
    >>> sorted(info["reward_components"]), reward == info["shaped_reward"]
    (['drawdown_penalty'], True)
    """

    def __init__(
        self,
        env: gym.Env,
        shaper: RewardShaper,
        components: Mapping[str, str | InfoReader],
        weights: Mapping[str, float],
        clip_range: tuple[float, float] = (-10, 10),
        normalize: bool = True,
        potential: Callable[[Any], float] | None = None,
        gamma: float = 0.99,
    ) -> None:
        super().__init__(env)
        if "potential" in components:
            raise ValueError("'potential' is reserved for the potential-based term")
        self.shaper = shaper
        self.readers = {
            name: (lambda info, key=source: info[key]) if isinstance(source, str) else source
            for name, source in components.items()
        }
        self.weights = dict(weights)
        if potential is not None:
            self.weights["potential"] = 1.0
        self.clip_range = clip_range
        self.normalize = normalize
        self.potential = potential
        self.gamma = gamma
        self._last_potential = 0.0

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        obs, info = self.env.reset(seed=seed, options=options)
        self.shaper.reset_episode()
        if self.potential is not None:
            self._last_potential = _finite(self.potential(obs), "potential(observation)")
        return obs, info

    def step(self, action: Any):
        obs, reward, terminated, truncated, info = self.env.step(action)
        values = {name: float(read(info)) for name, read in self.readers.items()}
        if self.potential is not None:
            next_potential = _finite(self.potential(obs), "potential(observation)")
            values["potential"] = potential_shaping(
                self._last_potential, next_potential, self.gamma, terminated
            )
            self._last_potential = next_potential
        shaped = self.shaper.compute_shaped_reward(
            reward, values, self.weights, self.clip_range, self.normalize, terminated=terminated
        )
        info = {**info, "raw_reward": float(reward), "reward_components": values,
                "shaped_reward": shaped}
        return obs, shaped, terminated, truncated, info

"""The reward shaper: weighted components, normalised with statistics of the raw shaped reward.

:class:`RewardShaper` combines a raw reward with weighted components, normalises the scale with
statistics of the *raw* shaped reward (never its own outputs), then clips. Every component needs
a weight; NaN and infinity are refused; statistics can be frozen, saved and loaded as JSON.
``scale="return"`` divides by the running std of the discounted return, as Gymnasium's
``NormalizeReward`` does.

>>> shaper = RewardShaper()
>>> for pnl in [100.0, -50.0, 80.0, -120.0]:
...     out = shaper.compute_shaped_reward(pnl, {"turnover_cost": -1.0}, {"turnover_cost": 2.0})
>>> shaper.get_diagnostics()["count"]
4
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from rl_best_practices.errors import InvalidTypeError, InvalidValueError, MissingWeightError
from rl_best_practices.running_stats import RunningMeanStd
from rl_best_practices.storage import atomic_write_json, read_json
from rl_best_practices.validation import check_choice, check_int, check_number

__all__ = ["RewardShaper"]

FILE_KIND = "rl_best_practices.reward_shaper"
SCALES = ("reward", "return")


# Exact types the fast path of compute_shaped_reward accepts; anything else (a 0-d array, a
# string, a bool) takes the validating slow path, which accepts every real number and refuses
# the rest with a specific error.
_PLAIN_NUMBERS = frozenset({float, int, np.float64, np.float32, np.int64, np.int32})


def _plain_float(value: Any) -> float:
    """``value`` as a float if it is a plain number, else NaN (which sends it to the slow path)."""
    return float(value) if type(value) in _PLAIN_NUMBERS else math.nan


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
            default_weight = check_number("default_weight", default_weight)
        check_choice("scale", scale, SCALES)
        if center and scale == "return":
            raise InvalidValueError("center=True applies to scale='reward' only")
        self.default_weight = default_weight
        self.scale = scale
        self.center = bool(center)
        self.gamma = check_number("gamma", gamma, minimum=0, maximum=1)
        self.epsilon = check_number("epsilon", epsilon, minimum=0, low_open=True)
        self.window = check_int("window", window, minimum=1)
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
        return for ``scale="return"``. Invalid input raises
        :class:`~rl_best_practices.errors.InvalidValueError` (a missing weight:
        :class:`~rl_best_practices.errors.MissingWeightError`) before any statistic changes.
        """
        low, high = self._clip_bounds(clip_range)
        # Fast path: combine first, validate once. NaN and infinity propagate through the sum,
        # so a finite result means every input was finite; otherwise the slow path finds the
        # culprit and raises. Nothing is stored before this point.
        values, contributions = {}, {}
        try:
            shaped = _plain_float(raw_reward)
            for name, value in components.items():
                weight = (
                    weights[name] if name in weights else self._default_weight_for(name, weights)
                )
                values[name] = value = _plain_float(value)
                contributions[name] = contribution = _plain_float(weight) * value
                shaped += contribution
        except (TypeError, ValueError, AttributeError):
            shaped = math.nan
        if not math.isfinite(shaped):
            shaped, values, contributions = self._validated(raw_reward, components, weights)

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
    def load(cls, path: str | Path) -> RewardShaper:
        """Rebuild a shaper saved by :meth:`save` (statistics and frozen flag included)."""
        data = read_json(path, kind=FILE_KIND)
        if data.get("version") != 1:
            raise InvalidValueError(
                f"{path}: unsupported reward shaper file version {data.get('version')!r}"
            )
        shaper = cls(**data["settings"])
        shaper.stats = RunningMeanStd.from_dict(data["statistics"])
        shaper._discounted_return = check_number("discounted_return", data["discounted_return"])
        shaper.frozen = bool(data["frozen"])
        return shaper

    # -- internals ------------------------------------------------------------------------------
    def _clip_bounds(self, clip_range: tuple[float, float]) -> tuple[float, float]:
        if isinstance(clip_range, tuple) and clip_range == self._clip_range:
            return self._clip_range  # validated on an earlier call
        try:
            low, high = clip_range
        except (TypeError, ValueError):
            raise InvalidTypeError(
                f"clip_range must be a (low, high) pair, got {clip_range!r}"
            ) from None
        low, high = check_number("clip_range low", low), check_number("clip_range high", high)
        if not low < high:
            raise InvalidValueError(f"clip_range must have low < high, got {clip_range!r}")
        self._clip_range = (low, high)
        return self._clip_range

    def _default_weight_for(self, name: str, weights: Mapping[str, float]) -> float:
        if self.default_weight is None:
            raise MissingWeightError(
                f"component {name!r} has no weight; give one in weights "
                f"(known: {sorted(weights)}) or construct RewardShaper(default_weight=...)"
            )
        return self.default_weight

    def _validated(
        self, raw_reward: Any, components: Mapping, weights: Mapping
    ) -> tuple[float, dict[str, float], dict[str, float]]:
        """The slow path of compute_shaped_reward: check every input, naming the culprit."""
        for name, mapping in (("components", components), ("weights", weights)):
            if not isinstance(mapping, Mapping):
                raise InvalidTypeError(
                    f"{name} must be a mapping of names to numbers, got {type(mapping).__name__}"
                )
        shaped = check_number("raw_reward", raw_reward)
        values, contributions = {}, {}
        for name, value in components.items():
            values[name] = check_number(f"component {name!r}", value)
            weight = (
                check_number(f"weight of {name!r}", weights[name])
                if name in weights
                else self._default_weight_for(name, weights)
            )
            contributions[name] = weight * values[name]
            shaped += contributions[name]
        if not math.isfinite(shaped):
            raise InvalidValueError(
                "the shaped reward overflowed: the weighted sum is not a finite number"
            )
        return shaped, values, contributions

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

"""Running mean and variance of a scalar stream in O(1) time and memory.

One class (the update of Chan, Golub and LeVeque, 1979) serves every lesson that keeps statistics
of a long stream: reward normalisation (lesson 01) and a canary's guard metrics (lesson 06). A
test checks it against Gymnasium's ``RunningMeanStd``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from rl_best_practices.validation import check_number

__all__ = ["RunningMeanStd"]


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
        self.mean = 0.0
        self.var = 1.0
        self.count = check_number("prior_count", prior_count, minimum=0)

    def update(self, x: float) -> None:
        """Fold one sample into the statistics (the caller checks that ``x`` is finite)."""
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
    def from_dict(cls, data: Mapping[str, Any]) -> RunningMeanStd:
        stats = cls(prior_count=0.0)
        stats.mean = check_number("mean", data["mean"])
        stats.var = check_number("var", data["var"], minimum=0)
        stats.count = check_number("count", data["count"], minimum=0)
        return stats

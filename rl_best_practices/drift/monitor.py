"""A Gymnasium wrapper that watches an environment's observations for distribution shift.

:class:`ShiftMonitor` feeds every observation of an environment (after each ``reset`` and
``step``) to a :class:`~rl_best_practices.drift.detector.DistributionShiftDetector` and puts each
check's report into ``info["drift"]``. Its reports are what
:class:`~rl_best_practices.rllib.callbacks.DriftMetricsCallback` logs during RLlib training.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Sequence
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np

from rl_best_practices.drift.detector import DistributionShiftDetector
from rl_best_practices.errors import InvalidTypeError, InvalidValueError
from rl_best_practices.validation import check_int, check_probability

__all__ = ["ShiftMonitor"]


class ShiftMonitor(gym.Wrapper):
    """Feed an environment's observations to a detector; report each check in ``info``.

    Args:
        env: the environment to watch (it is not changed).
        detector: receives the observation after every ``reset`` and ``step``, restricted to
            ``features`` (indices into the observation vector; default all). Its
            ``check_interval`` sets how often a check runs.
        threshold: passed to :meth:`DistributionShiftDetector.check_shift`.
        features: which observation entries to monitor, for example only those that are close
            to independent from step to step.
        max_reports: how many recent reports :attr:`reports` keeps.

    After a step whose observation completes a check interval, ``info["drift"]`` holds the
    check's report; :attr:`reports` keeps ``(step, report)`` pairs, ``step`` counting every
    ``reset`` and ``step`` call since the wrapper was made.

    >>> import numpy as np
    >>> from rl_best_practices.envs import MarketEnv
    >>> detector = DistributionShiftDetector(1000, window_size=50)
    >>> detector.update_reference(np.random.default_rng(0).normal(size=(1000, 1)))
    >>> env = ShiftMonitor(MarketEnv({"regime_switch_step": 0}), detector, features=[2])
    >>> _ = env.reset(seed=0)
    >>> for _ in range(99):
    ...     _, _, _, _, info = env.step(1)
    >>> [step for step, _ in env.reports], info["drift"]["shift_detected"]
    ([50, 100], True)
    """

    def __init__(
        self,
        env: gym.Env,
        detector: DistributionShiftDetector,
        threshold: float = 0.05,
        features: Sequence[int] | None = None,
        max_reports: int = 1000,
    ) -> None:
        super().__init__(env)
        if not isinstance(detector, DistributionShiftDetector):
            raise InvalidTypeError(
                f"detector must be a DistributionShiftDetector, got {type(detector).__name__}")
        self.detector = detector
        self.threshold = check_probability("threshold", threshold, open_ends=True)
        self.features = None if features is None else self._check_features(
            features, int(np.prod(env.observation_space.shape)))
        self.reports: deque[tuple[int, dict[str, Any]]] = deque(
            maxlen=check_int("max_reports", max_reports, minimum=1))
        self.steps = 0

    @staticmethod
    def _check_features(features: Any, size: int) -> list[int]:
        """``features`` as a list of distinct indices into an observation of ``size`` values."""
        if isinstance(features, (str, bytes)) or not isinstance(features, Collection):
            raise InvalidTypeError(
                f"features must be a sequence of indices, got {type(features).__name__}")
        indices = [check_int(f"features[{k}]", i) for k, i in enumerate(features)]
        out_of_range = [i for i in indices if not 0 <= i < size]
        if not indices or out_of_range or len(set(indices)) != len(indices):
            raise InvalidValueError(
                f"features must be distinct indices in [0, {size}), got {indices!r}")
        return indices

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        obs, info = self.env.reset(**kwargs)
        self._observe(obs, info)
        return obs, info

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._observe(obs, info)
        return obs, reward, terminated, truncated, info

    def _observe(self, obs: Any, info: dict[str, Any]) -> None:
        self.steps += 1
        values = np.asarray(obs).reshape(-1)
        report = self.detector.observe(
            values if self.features is None else values[self.features], self.threshold)
        if report is not None:
            self.reports.append((self.steps, report))
            info["drift"] = report

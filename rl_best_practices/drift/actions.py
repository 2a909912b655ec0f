"""Monitor the actions a deployed policy takes against a reference (lesson 03).

A policy's inputs can look unchanged while what it does changes (a new model version, a broken
feature pipeline upstream of the policy, a world that pushes its state elsewhere), and a world
can change while the inputs do not, moving the actions later through the state the policy sees.
:class:`ActionMonitor` keeps a sliding window of actions in a ring buffer and tests it against a
reference sample of actions (for example the actions of the same policy on held-out episodes of
the training world):

* **discrete** actions (``n_actions`` given): the G-test (likelihood-ratio chi-square) of the
  window's counts against the reference frequencies, through ``scipy.stats.power_divergence``.
  The reference gets half a count per action (a Jeffreys prior), so an action the reference
  never took makes the window very unlikely, not impossible;
* **continuous** actions: the two-sample Kolmogorov-Smirnov test against the sorted reference
  (:func:`~rl_best_practices.drift.two_sample.ks_2samp_sorted`).

A check alarms when its p-value is at most ``threshold``; for independent actions the chance
of a false alarm per check is then ``threshold``. A policy's actions are rarely independent
(they follow a persistent state), so calibrate the threshold on clean streams
(:func:`calibrate_action_threshold`) and validate it on other clean streams.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> monitor = ActionMonitor(rng.choice(3, size=5000, p=[0.3, 0.4, 0.3]), n_actions=3,
...                         window_size=500)
>>> report = monitor.check_actions(rng.choice(3, size=500, p=[0.2, 0.4, 0.4]))
>>> report["shift_detected"], report["window_frequencies"].round(2).tolist()
(True, [0.18, 0.4, 0.42])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy import stats

from rl_best_practices.drift.detector import budget_threshold
from rl_best_practices.drift.two_sample import ks_2samp_sorted
from rl_best_practices.errors import InvalidTypeError, InvalidValueError
from rl_best_practices.validation import (
    check_array,
    check_callable,
    check_int,
    check_number,
    check_probability,
)

__all__ = ["ActionMonitor", "calibrate_action_threshold"]


class ActionMonitor:
    """A sliding window of actions tested against a reference sample; see the module docstring.

    Args:
        reference: the reference actions: integers in ``[0, n_actions)`` when ``n_actions`` is
            given, otherwise finite numbers (one scalar per action).
        n_actions: the number of discrete actions (``None`` for continuous actions).
        window_size: actions in the sliding window.
        check_interval: :meth:`observe` checks every this many actions (default ``window_size``).
        threshold: a check alarms when its p-value is at most this.

    >>> monitor = ActionMonitor([0, 1, 2, 1], n_actions=3, window_size=10)
    >>> monitor.observe(3)
    Traceback (most recent call last):
    ...
    rl_best_practices.errors.InvalidValueError: action must be an integer in [0, 3), got 3
    """

    def __init__(self, reference: Any, *, n_actions: int | None = None, window_size: int = 500,
                 check_interval: int | None = None, threshold: float = 0.05) -> None:
        self.n_actions = None if n_actions is None else check_int("n_actions", n_actions,
                                                                 minimum=2)
        self.window_size = check_int("window_size", window_size, minimum=2)
        self.check_interval = self.window_size if check_interval is None else check_int(
            "check_interval", check_interval, minimum=1)
        self.threshold = check_probability("threshold", threshold, open_ends=True)
        ref = check_array("reference", reference, ndim=1, min_size=2)
        if self.n_actions is None:
            self._sorted_reference = np.sort(ref)[:, None]
            self.reference_frequencies = None
        else:
            counts = np.bincount(self._as_indices(ref, "reference"), minlength=self.n_actions)
            self._sorted_reference = None
            self.reference_frequencies = (counts + 0.5) / (counts.sum() + 0.5 * self.n_actions)
        self._window = np.empty(self.window_size)
        self._next = self._count = self._since_check = 0
        self.n_observed = self.n_checks = self.n_alarms = 0

    def _as_indices(self, values: np.ndarray, name: str) -> np.ndarray:
        if not (np.all(values == np.round(values)) and np.all(values >= 0)
                and np.all(values < self.n_actions)):
            bad = values[(values != np.round(values)) | (values < 0) | (values >= self.n_actions)]
            raise InvalidValueError(
                f"{name} must be an integer in [0, {self.n_actions}), got {bad[0]:g}")
        return values.astype(np.int64)

    def _validate(self, action: Any) -> float:
        if action is None or isinstance(action, (bool, np.bool_, str, bytes)):
            raise InvalidTypeError(f"action must be a number, got {action!r}")
        value = check_array("action", action, min_size=1)
        if value.size != 1:
            raise InvalidValueError(f"action must be one scalar, got shape {value.shape}")
        x = float(value.reshape(-1)[0])
        if self.n_actions is not None and not (x == int(x) and 0 <= x < self.n_actions):
            raise InvalidValueError(f"action must be an integer in [0, {self.n_actions}), got "
                                    f"{action!r}")
        return x

    def add_action(self, action: Any) -> None:
        """Append one action to the window, in O(1); a bad action leaves the state unchanged."""
        x = self._validate(action)
        self._window[self._next] = x
        self._next = (self._next + 1) % self.window_size
        self._count = min(self._count + 1, self.window_size)
        self.n_observed += 1
        self._since_check += 1

    @property
    def window(self) -> np.ndarray:
        """A copy of the window's actions, oldest first."""
        if self._count < self.window_size:
            return self._window[: self._count].copy()
        return np.roll(self._window, -self._next)

    def observe(self, action: Any) -> dict[str, Any] | None:
        """Add ``action``; every ``check_interval`` actions (with a full window), check."""
        self.add_action(action)
        if self._since_check < self.check_interval or self._count < self.window_size:
            return None
        return self.check_actions()

    def check_actions(self, actions: Any | None = None) -> dict[str, Any]:
        """Test ``actions`` (default: the window) against the reference.

        Returns ``test`` (``"g_test"`` or ``"ks"``), ``statistic``, ``p_value``,
        ``threshold``, ``shift_detected``, ``window_actions`` and, for discrete actions,
        ``reference_frequencies`` and ``window_frequencies``. Checking the window counts as a
        check in :attr:`n_checks` and :attr:`n_alarms`.
        """
        own = actions is None
        if own:
            sample = self._window[: self._count] if self._count else np.empty(0)
        else:
            sample = np.array([self._validate(a) for a in check_array("actions", actions,
                                                                        ndim=1)])
        if sample.size < 2:
            raise InvalidValueError(f"a check needs at least 2 actions, got {sample.size}")
        report: dict[str, Any] = {"window_actions": int(sample.size), "threshold": self.threshold}
        if self.n_actions is None:
            statistic, p_value = ks_2samp_sorted(self._sorted_reference, sample[:, None])
            report.update(test="ks", statistic=float(statistic[0]), p_value=float(p_value[0]))
        else:
            counts = np.bincount(sample.astype(np.int64), minlength=self.n_actions)
            result = stats.power_divergence(counts, self.reference_frequencies * sample.size,
                                            lambda_="log-likelihood")
            report.update(test="g_test", statistic=float(result.statistic),
                          p_value=float(result.pvalue),
                          reference_frequencies=self.reference_frequencies.copy(),
                          window_frequencies=counts / sample.size)
        report["shift_detected"] = bool(report["p_value"] <= self.threshold)
        if own:
            self.n_checks += 1
            self.n_alarms += int(report["shift_detected"])
            self._since_check = 0
        return report


def calibrate_action_threshold(make_monitor: Callable[[], ActionMonitor],
                               clean_streams: Sequence[Any], alarms_per_10k: float) -> float:
    """The threshold giving ``alarms_per_10k`` false alarms per 10,000 clean actions.

    Each clean stream (actions of the policy in the world it was trained for) runs through a
    fresh monitor; the threshold is the ``k``-th smallest p-value of its checks, with ``k`` the
    number of alarms the budget allows (half the smallest p-value when it allows none), as in
    :func:`~rl_best_practices.drift.calibrate_threshold`. Validate it on other clean streams.

    >>> rng = np.random.default_rng(0)
    >>> make = lambda: ActionMonitor(rng.integers(3, size=3000), n_actions=3, window_size=100)
    >>> t = calibrate_action_threshold(make, [rng.integers(3, size=20_000)], alarms_per_10k=5)
    >>> bool(0.01 < t < 0.2)   # independent actions: near 5 alarms in 100 checks = 0.05
    True
    """
    alarms_per_10k = check_number("alarms_per_10k", alarms_per_10k, minimum=0)
    check_callable("make_monitor", make_monitor)
    p_values: list[float] = []
    observed = 0
    for stream in clean_streams:
        monitor = make_monitor()
        if not isinstance(monitor, ActionMonitor):
            raise InvalidTypeError(
                f"make_monitor must return an ActionMonitor, got {type(monitor).__name__}")
        for action in check_array("clean stream", stream, ndim=1):
            report = monitor.observe(action)
            if report is not None:
                p_values.append(report["p_value"])
        observed += monitor.n_observed
    if not p_values:
        raise InvalidValueError("the clean streams are too short for a single check")
    return budget_threshold(p_values, observed, alarms_per_10k)

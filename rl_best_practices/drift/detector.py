"""The streaming shift detector and its threshold calibration (lesson 03).

* :class:`DistributionShiftDetector` compares a sliding window of live observations with a
  reference sample (for example the observations seen in training), feature by feature, with
  two-sample Kolmogorov-Smirnov tests. The family-wise false-alarm rate over all features is held
  at the chosen ``threshold`` (Bonferroni by default, Benjamini-Hochberg on request, see
  :data:`CORRECTIONS`); the whole reference is used, sorted once when it is set; new observations
  go into a fixed-size ring buffer in O(1). Each check reports, per feature, the KS statistic and
  p-value, the population stability index (PSI) and the mean shift in standard errors.
* :func:`calibrate_threshold` sets the threshold by simulation, from clean streams, for a
  budget of false alarms per 10,000 observations: the way to keep the alarm rate honest when
  observations are not independent draws (an RL environment's rarely are).

References: Benjamini and Hochberg (1995), "Controlling the false discovery rate".

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> detector = DistributionShiftDetector(reference_size=5000, window_size=500)
>>> detector.update_reference(rng.normal(size=(5000, 3)))
>>> for row in rng.normal(loc=[0.0, 0.0, 0.5], size=(500, 3)):
...     detector.add_observation(row)
>>> report = detector.check_shift(threshold=0.05)
>>> report["shift_detected"], report["recommendation"]
(True, 'retrain')
>>> [f["name"] for f in report["features"] if f["drifted"]]
['x2']
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy import stats

from rl_best_practices.drift.two_sample import (
    _bin_fractions,
    _ks_p_values,
    _ks_statistics,
    _psi,
    _quantile_edges,
)
from rl_best_practices.errors import InvalidTypeError, InvalidValueError
from rl_best_practices.validation import (
    check_array,
    check_callable,
    check_choice,
    check_int,
    check_number,
    check_probability,
    check_rows,
)

__all__ = ["CORRECTIONS", "DistributionShiftDetector", "budget_threshold", "calibrate_threshold"]

CORRECTIONS = ("bonferroni", "bh")
"""Multiple-testing corrections: Bonferroni (family-wise error) or Benjamini-Hochberg."""


class DistributionShiftDetector:
    """Streaming, calibrated shift detection: a reference sample against a sliding window.

    Args:
        reference_size: most rows kept as the reference (the most recent ones when more are given).
        window_size: observations in the sliding window (a ring buffer).
        correction: ``"bonferroni"`` (default) holds the chance of any false alarm, over all
            features together, at ``threshold``; ``"bh"`` (Benjamini-Hochberg) controls the false
            discovery rate, is more powerful when several features drift, and gives the same
            false-alarm rate when nothing drifts.
        min_samples: observations needed before a check runs (default ``window_size // 2``).
        check_interval: :meth:`observe` runs a check every this many observations (default
            ``window_size``: non-overlapping windows). Shorter intervals detect sooner but
            raise more false alarms per observation, since each check is another chance.
        feature_names: names used in reports (default ``x0, x1, ...``).
        psi_bins: quantile bins for the population stability index.
        clock: returns the current time in seconds; stamps reference changes.

    The number of features is fixed by the first reference or observation.

    >>> import numpy as np
    >>> detector = DistributionShiftDetector(reference_size=1000, window_size=100)
    >>> detector.check_shift()["status"]
    'no_reference'
    >>> detector.update_reference(np.random.default_rng(0).normal(size=(1000, 2)))
    >>> detector.check_shift()["status"]
    'insufficient_data'
    >>> detector.add_observation([0.1, float("nan")])
    Traceback (most recent call last):
    ...
    rl_best_practices.errors.InvalidValueError: observation must be finite;
    found NaN or infinite values
    """

    def __init__(
        self,
        reference_size: int = 10_000,
        window_size: int = 1000,
        *,
        correction: str = "bonferroni",
        min_samples: int | None = None,
        check_interval: int | None = None,
        feature_names: Sequence[str] | None = None,
        psi_bins: int = 10,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.reference_size = check_int("reference_size", reference_size, minimum=2)
        self.window_size = check_int("window_size", window_size, minimum=2)
        self.correction = check_choice("correction", correction, CORRECTIONS)
        default_min = max(2, self.window_size // 2)
        self.min_samples = default_min if min_samples is None else check_int(
            "min_samples", min_samples, minimum=1)
        if self.min_samples > self.window_size:
            raise InvalidValueError(
                f"min_samples must not exceed window_size ({self.window_size}), got {min_samples}"
            )
        self.check_interval = self.window_size if check_interval is None else check_int(
            "check_interval", check_interval, minimum=1)
        self.psi_bins = check_int("psi_bins", psi_bins, minimum=2)
        self._clock = check_callable("clock", clock)
        self.feature_names: tuple[str, ...] | None = None
        if feature_names is not None:
            names = tuple(str(n) for n in feature_names)
            if not names or len(set(names)) != len(names):
                raise InvalidValueError(
                    f"feature_names must be non-empty and unique, got {feature_names!r}")
            self.feature_names = names
        self.n_features: int | None = (
            None if self.feature_names is None else len(self.feature_names))
        # Reference, prepared once per update_reference call.
        self._ref_rows: np.ndarray | None = None  # (d, m): each feature's values, sorted
        self._ref_mean: np.ndarray | None = None
        self._ref_var: np.ndarray | None = None
        self._psi_edges: np.ndarray | None = None  # (d, psi_bins - 1)
        self._psi_ref_fractions: np.ndarray | None = None  # (d, psi_bins)
        self.reference_version = 0
        self.reference_log: deque[dict[str, Any]] = deque(maxlen=100)
        # Sliding window: a ring buffer.
        self._window: np.ndarray | None = None
        self._next = 0
        self._count = 0
        # Stream counters.
        self.n_observed = 0
        self.n_checks = 0
        self.n_alarms = 0
        self._since_check = 0

    # -- dimensions ---------------------------------------------------------------------------
    def _fix_features(self, d: int, what: str) -> None:
        if self.n_features is None:
            self.n_features = d
        elif d != self.n_features:
            raise InvalidValueError(f"{what} must have {self.n_features} features, got {d}")
        if self.feature_names is None:
            self.feature_names = tuple(f"x{j}" for j in range(d))
        if self._window is None:
            self._window = np.empty((self.window_size, d))

    # -- reference ----------------------------------------------------------------------------
    def update_reference(self, observations: Any, *, note: str = "") -> None:
        """Set the reference to ``observations`` (rows; the last ``reference_size`` are kept).

        The reference is sorted and summarised once here, so each check reuses it. The change
        is recorded in :attr:`reference_log` (time, rows, note); the window is left as it is.
        """
        ref = check_rows("observations", observations, min_rows=2)
        self._fix_features(ref.shape[1], "observations")
        ref = ref[-self.reference_size:]
        ref_rows = np.sort(ref.T, axis=1)  # sorted once; every check reuses it
        edges = _quantile_edges(ref_rows, self.psi_bins)
        self._psi_ref_fractions = _bin_fractions(edges, ref_rows)
        self._psi_edges = edges
        self._ref_rows = ref_rows
        self._ref_mean = ref.mean(axis=0)
        self._ref_var = ref.var(axis=0, ddof=1)
        self.reference_version += 1
        self.reference_log.append({"version": self.reference_version, "time": float(self._clock()),
                                   "rows": int(ref.shape[0]), "note": str(note)})

    @property
    def has_reference(self) -> bool:
        """Whether a reference has been set."""
        return self._ref_rows is not None

    # -- window -------------------------------------------------------------------------------
    def _validate_observation(self, obs: Any) -> np.ndarray:
        """``obs`` as a finite float vector of ``n_features`` values (any number when unset)."""
        expected = self.n_features
        wanted = "a 1-D vector" if expected is None else f"a vector of {expected} features"
        if obs is None:
            raise InvalidTypeError(f"observation must be {wanted}, got None")
        row = check_array("observation", obs, min_size=0)
        if row.size == 0 or (expected is not None and row.size != expected) or row.ndim > 1:
            raise InvalidValueError(f"observation must be {wanted}, got shape {row.shape}")
        return row.reshape(-1)

    def add_observation(self, obs: Any) -> None:
        """Append one observation (a vector of ``n_features`` values) to the window, in O(1)."""
        row = self._validate_observation(obs)
        self._fix_features(row.size, "observation")
        self._window[self._next] = row
        self._next = (self._next + 1) % self.window_size
        self._count = min(self._count + 1, self.window_size)
        self.n_observed += 1
        self._since_check += 1

    def add_observations(self, observations: Any) -> None:
        """Append many rows at once (same result as :meth:`add_observation` row by row)."""
        rows = check_rows("observations", observations)
        self._fix_features(rows.shape[1], "observations")
        n = rows.shape[0]
        kept = rows[-self.window_size:]
        positions = (self._next + n - len(kept) + np.arange(len(kept))) % self.window_size
        self._window[positions] = kept
        self._next = (self._next + n) % self.window_size
        self._count = min(self._count + n, self.window_size)
        self.n_observed += n
        self._since_check += n

    @property
    def window(self) -> np.ndarray:
        """A copy of the window's observations, oldest first."""
        if self._window is None:
            return np.empty((0, self.n_features or 0))
        if self._count < self.window_size:
            return self._window[: self._count].copy()
        return np.roll(self._window, -self._next, axis=0)

    def observe(self, obs: Any, threshold: float = 0.05) -> dict[str, Any] | None:
        """Add ``obs``; every ``check_interval`` observations, check and return the report.

        Returns ``None`` when no check is due (or there is not enough data yet).
        """
        self.add_observation(obs)
        if self._since_check < self.check_interval or self._count < self.min_samples:
            return None
        if not self.has_reference:
            return None
        return self.check_shift(threshold)

    # -- the test -----------------------------------------------------------------------------
    def check_shift(self, threshold: float = 0.05) -> dict[str, Any]:
        """Test the window against the reference; the chance of a false alarm is ``threshold``.

        Returns a dict with ``status`` (``"ok"``, ``"no_reference"`` or
        ``"insufficient_data"``), ``shift_detected``, ``recommendation`` (``"retrain"``,
        ``"continue"``, ``"set_reference"`` or ``"collect_more_data"``) and, when a test ran,
        ``threshold``, ``family_p_value`` (the smallest adjusted p-value: a shift is detected
        when it is at most ``threshold``), ``correction``, ``window_rows``, ``reference_rows``,
        ``reference_version`` and ``features``: one dict per feature with ``name``,
        ``ks_statistic``, ``p_value``, ``adjusted_p_value``, ``psi``, ``mean_shift_z`` (the
        window mean's distance from the reference mean in standard errors) and ``drifted``.
        The decision rests on the corrected KS tests; PSI and the mean shift are for reading.
        """
        threshold = check_probability("threshold", threshold, open_ends=True)
        if not self.has_reference:
            return {"status": "no_reference", "shift_detected": False,
                    "recommendation": "set_reference"}
        if self._count < self.min_samples:
            return {"status": "insufficient_data", "shift_detected": False,
                    "recommendation": "collect_more_data",
                    "window_rows": self._count, "min_samples": self.min_samples}
        sample = self._window[: self._count]
        sample_rows = np.sort(sample.T, axis=1)
        n, m = self._count, self._ref_rows.shape[1]
        statistics = _ks_statistics(self._ref_rows, sample_rows)
        p_values = _ks_p_values(statistics, m, n, "stephens")
        if self.correction == "bonferroni":
            adjusted = np.minimum(p_values * len(p_values), 1.0)
        else:
            adjusted = stats.false_discovery_control(p_values, method="bh")
        drifted = adjusted <= threshold
        sample_mean = sample_rows.sum(axis=1) / n
        centred = sample_rows - sample_mean[:, None]
        sample_var = np.einsum("ij,ij->i", centred, centred) / (n - 1) if n > 1 else np.inf
        se = np.sqrt(sample_var / n + self._ref_var / m)
        diff = sample_mean - self._ref_mean
        mean_z = np.divide(diff, se, out=np.copysign(np.where(diff == 0, 0.0, np.inf), diff),
                           where=se > 0)  # a constant feature that moved: infinitely many s.e.
        psi = _psi(self._psi_ref_fractions, _bin_fractions(self._psi_edges, sample_rows))
        features = []
        for j, name in enumerate(self.feature_names):
            features.append({
                "name": name,
                "ks_statistic": float(statistics[j]),
                "p_value": float(p_values[j]),
                "adjusted_p_value": float(adjusted[j]),
                "psi": float(psi[j]),
                "mean_shift_z": float(mean_z[j]),
                "drifted": bool(drifted[j]),
            })
        shift = bool(drifted.any())
        self.n_checks += 1
        self.n_alarms += int(shift)
        self._since_check = 0
        return {
            "status": "ok",
            "shift_detected": shift,
            "recommendation": "retrain" if shift else "continue",
            "threshold": float(threshold),
            "family_p_value": float(adjusted.min()),
            "correction": self.correction,
            "window_rows": int(n),
            "reference_rows": int(m),
            "reference_version": self.reference_version,
            "features": features,
        }


def calibrate_threshold(
    make_detector: Callable[[], DistributionShiftDetector],
    clean_streams: Sequence[Any],
    alarms_per_10k: float,
) -> float:
    """The threshold giving ``alarms_per_10k`` false alarms per 10,000 clean observations.

    Each clean stream (rows of observations with no shift, for example from held-out episodes
    of the training environment) runs through a fresh detector from ``make_detector()`` (with
    its reference set), which checks every ``check_interval`` observations. A check alarms when
    its ``family_p_value`` is at most the threshold, so the threshold is the ``k``-th smallest
    family p-value seen, with ``k`` the number of alarms the budget allows over all the
    observations (the smallest one, halved, when the budget allows none). The nominal
    ``threshold`` assumes independent observations; this one holds on streams like the clean
    ones, dependence included. Simulate enough observations for the budget to allow several
    alarms, or the estimate is rough.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> reference = rng.normal(size=(2000, 2))
    >>> def make():
    ...     detector = DistributionShiftDetector(2000, window_size=100)
    ...     detector.update_reference(reference)
    ...     return detector
    >>> threshold = calibrate_threshold(make, [rng.normal(size=(10_000, 2))], alarms_per_10k=5)
    >>> bool(0.01 < threshold < 0.2)   # independent rows: near 0.05, one check per 100 rows
    True
    """
    alarms_per_10k = check_number("alarms_per_10k", alarms_per_10k, minimum=0)
    check_callable("make_detector", make_detector)
    family_p: list[float] = []
    observed = 0
    for stream in clean_streams:
        detector = make_detector()
        if not isinstance(detector, DistributionShiftDetector):
            raise InvalidTypeError("make_detector must return a DistributionShiftDetector, "
                                   f"got {type(detector).__name__}")
        if not detector.has_reference:
            raise InvalidValueError(
                "make_detector must return a DistributionShiftDetector with a reference")
        for row in check_rows("clean stream", stream):
            report = detector.observe(row, threshold=0.5)
            if report is not None:
                family_p.append(report["family_p_value"])
        observed += detector.n_observed
    if not family_p:
        raise InvalidValueError(
            "the clean streams are too short for a single check; give longer streams")
    return budget_threshold(family_p, observed, alarms_per_10k)


def budget_threshold(p_values: Sequence[float], observed: int, alarms_per_10k: float) -> float:
    """The p-value threshold that lets ``alarms_per_10k`` of ``observed`` clean observations
    alarm: the ``k``-th smallest of the checks' ``p_values`` (the smallest, halved, when the
    budget allows none), kept inside (0, 1). Shared by every calibration on clean streams.

    >>> budget_threshold([0.3, 0.01, 0.2, 0.04], observed=10_000, alarms_per_10k=2)
    0.04
    """
    allowed = int(alarms_per_10k * observed / 10_000)
    ordered = np.sort(p_values)
    value = ordered[0] / 2 if allowed == 0 else ordered[min(allowed, len(ordered)) - 1]
    return float(np.clip(value, np.finfo(float).tiny, 1 - np.finfo(float).eps))

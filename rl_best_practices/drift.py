"""Distribution shift detection for a deployed policy's observations (lesson 03).

* :class:`DistributionShiftDetector` compares a sliding window of live observations with a
  reference sample (for example the observations seen in training), feature by feature, with
  two-sample Kolmogorov-Smirnov tests. The family-wise false-alarm rate over all features is held
  at the chosen ``threshold`` (Bonferroni by default, Benjamini-Hochberg on request); the whole
  reference is used, sorted once when it is set; new observations go into a fixed-size ring
  buffer in O(1). Each check reports, per feature, the KS statistic and p-value, the
  population stability index (PSI) and the mean shift in standard errors.
* :func:`ks_2samp_sorted` is the KS test against an already sorted reference, the fast path the
  detector uses: the statistic of ``scipy.stats.ks_2samp``, and either its asymptotic p-value
  exactly or a much faster approximation of it (the detector's choice).
* :func:`population_stability_index` is the PSI of one feature, with bins at reference quantiles.
* :func:`calibrate_threshold` sets the threshold by simulation, from clean streams, for a
  budget of false alarms per 10,000 observations: the way to keep the alarm rate honest when
  observations are not independent draws (an RL environment's rarely are).
* :class:`ShiftMonitor` is a Gymnasium wrapper that feeds every observation of an environment to
  a detector and puts each check's report into ``info["drift"]``.

References: Massey (1951), "The Kolmogorov-Smirnov test for goodness of fit"; Benjamini and
Hochberg (1995), "Controlling the false discovery rate"; Siddiqi (2006), "Credit risk
scorecards" (PSI).

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
from typing import Any, Callable, Sequence

import gymnasium as gym
import numpy as np
from scipy import special, stats


__all__ = [
    "CORRECTIONS",
    "DistributionShiftDetector",
    "KS_METHODS",
    "ShiftMonitor",
    "calibrate_threshold",
    "ks_2samp_sorted",
    "population_stability_index",
]

CORRECTIONS = ("bonferroni", "bh")
"""Multiple-testing corrections: Bonferroni (family-wise error) or Benjamini-Hochberg."""

PSI_FLOOR = 1e-4  # a bin's share is floored here so an empty bin gives a large, finite PSI


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _as_finite_2d(name: str, values: Any) -> np.ndarray:
    """``values`` as a float 2-D array (rows of observations); 1-D means one feature."""
    try:
        arr = np.array(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric, got {type(values).__name__}") from exc
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(
            f"{name} must be a non-empty 2-D array (rows of observations), got shape {arr.shape}"
        )
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite; found NaN or infinite values")
    return arr


KS_METHODS = ("asymp", "stephens")
"""P-value methods of :func:`ks_2samp_sorted`."""


def _ks_gap_with_ties(ref: np.ndarray, new: np.ndarray) -> float:
    """The KS statistic of two sorted 1-D samples, ties allowed."""
    m, n = ref.size, new.size
    sample_ahead = np.searchsorted(new, new, "right") / n - np.searchsorted(ref, new, "right") / m
    ref_ahead = np.searchsorted(ref, new, "left") / m - np.searchsorted(new, new, "left") / n
    return float(max(sample_ahead.max(), ref_ahead.max(), 0.0))


def _ks_statistics(reference_rows: np.ndarray, sample_rows: np.ndarray) -> np.ndarray:
    """KS statistic per row of two row-wise sorted arrays, shapes ``(d, m)`` and ``(d, n)``.

    The sample's CDF is flat between its points while the reference's rises, so the largest gap
    sits at a sample point (sample ahead) or just before one (reference ahead). Without ties,
    with ``r_i`` reference points at or below the i-th sample point (0-based) and
    ``u_i = r_i / m - i / n``, the two gaps are ``1 / n - u_i`` and ``u_i``.
    """
    m, n = reference_rows.shape[1], sample_rows.shape[1]
    ranks = np.empty(sample_rows.shape, dtype=np.intp)
    for j, (ref, new) in enumerate(zip(reference_rows, sample_rows)):
        ranks[j] = np.searchsorted(ref, new, "right")  # binary search in the sorted reference
    gap = ranks / m - np.arange(n) / n
    statistics = np.maximum(gap.max(axis=1), 1.0 / n - gap.min(axis=1))
    # Ties (a sample value repeated, or also present in the reference) need the general form.
    tied = ~(np.diff(sample_rows, axis=1) > 0).all(axis=1)
    tied |= (np.take_along_axis(reference_rows, ranks - 1, axis=1) == sample_rows).any(axis=1)
    for j in np.flatnonzero(tied):
        statistics[j] = _ks_gap_with_ties(reference_rows[j], sample_rows[j])
    return np.maximum(statistics, 0.0)


def _ks_p_values(statistics: np.ndarray, m: int, n: int, method: str) -> np.ndarray:
    big, small = max(m, n), min(m, n)
    effective_n = big * small / (big + small)
    if method == "asymp":  # scipy gives NaN for one point against one point; we give 1 or 0
        p = stats.kstwo.sf(statistics, max(np.round(effective_n), 1.0))
    else:
        root = np.sqrt(effective_n)
        p = special.kolmogorov((root + 0.12 + 0.11 / root) * statistics)
    return np.clip(p, 0.0, 1.0)


def ks_2samp_sorted(
    reference_sorted: np.ndarray, sample: np.ndarray, method: str = "asymp"
) -> tuple[np.ndarray, np.ndarray]:
    """Two-sample KS statistic and p-value per column, against a column-wise sorted reference.

    The statistic is the largest gap between the two empirical CDFs. Between consecutive sample
    points the sample's CDF is flat while the reference's rises, so the largest gap sits at a
    sample point or just before one: binary searches of the sample points into the sorted
    reference find it in O(n log m), without re-sorting the reference.

    P-values, for an effective sample size ``e = m n / (m + n)``:

    * ``"asymp"``: ``scipy.stats.kstwo.sf(statistic, round(e))``, exactly what
      ``scipy.stats.ks_2samp(a, b, method="asymp")`` returns (slow for large statistics);
    * ``"stephens"``: Stephens' (1970) approximation of the same distribution,
      ``kolmogorov((sqrt(e) + 0.12 + 0.11 / sqrt(e)) * statistic)``, a few microseconds per
      call and within 0.01 of ``"asymp"`` once ``e >= 200``. The detector uses this one.

    Args:
        reference_sorted: shape ``(m, d)``, each column sorted ascending.
        sample: shape ``(n, d)``, in any order.
        method: ``"asymp"`` or ``"stephens"``.

    Returns:
        ``(statistics, p_values)``, each of shape ``(d,)``.

    >>> import numpy as np
    >>> from scipy import special, stats
    >>> rng = np.random.default_rng(1)
    >>> ref, new = rng.normal(size=(300, 1)), rng.normal(0.3, size=(80, 1))
    >>> d, p = ks_2samp_sorted(np.sort(ref, axis=0), new)
    >>> expected = stats.ks_2samp(ref[:, 0], new[:, 0], method="asymp")
    >>> bool(np.isclose(d[0], expected.statistic)), bool(np.isclose(p[0], expected.pvalue))
    (True, True)
    """
    if method not in KS_METHODS:
        raise ValueError(f"method must be one of {KS_METHODS}, got {method!r}")
    reference_sorted, sample = np.asarray(reference_sorted), np.asarray(sample)
    if reference_sorted.ndim != 2 or reference_sorted.shape[0] == 0:
        raise ValueError(f"reference_sorted must have shape (m >= 1, d), got {reference_sorted.shape}")
    m, d = reference_sorted.shape
    if sample.ndim != 2 or sample.shape[1] != d or sample.shape[0] == 0:
        raise ValueError(
            f"sample must have shape (n >= 1, {d}) to match the reference, got {sample.shape}"
        )
    statistics = _ks_statistics(
        np.ascontiguousarray(reference_sorted.T), np.sort(sample.T, axis=1)
    )
    return statistics, _ks_p_values(statistics, m, sample.shape[0], method)


def _quantile_edges(sorted_rows: np.ndarray, bins: int) -> np.ndarray:
    """Inner bin edges at each row's quantiles, shape ``(d, bins - 1)``.

    Repeated edges (ties) are merged and the row is padded with ``+inf``: a padded bin is empty
    in every sample, so it adds nothing to the PSI.
    """
    edges = np.full((sorted_rows.shape[0], bins - 1), np.inf)
    for j, values in enumerate(sorted_rows):
        unique = np.unique(np.quantile(values, np.arange(1, bins) / bins))
        edges[j, : unique.size] = unique
    return edges


def _bin_fractions(edges: np.ndarray, sorted_rows: np.ndarray) -> np.ndarray:
    """Share of each sorted row in the bins ``(-inf, e1], (e1, e2], ..., (e_last, inf)``."""
    d, n = sorted_rows.shape
    cumulative = np.empty((d, edges.shape[1] + 2))
    cumulative[:, 0], cumulative[:, -1] = 0, n
    for j in range(d):
        cumulative[j, 1:-1] = np.searchsorted(sorted_rows[j], edges[j], side="right")
    return np.diff(cumulative, axis=1) / n


def _psi(reference_fractions: np.ndarray, sample_fractions: np.ndarray) -> np.ndarray:
    """PSI per row of two ``(d, bins)`` arrays of bin shares."""
    r = np.maximum(reference_fractions, PSI_FLOOR)
    s = np.maximum(sample_fractions, PSI_FLOOR)
    return np.sum((s - r) * np.log(s / r), axis=1)


def population_stability_index(reference: Any, sample: Any, bins: int = 10) -> float:
    """PSI of one feature: ``sum((s - r) * ln(s / r))`` over bins at the reference's quantiles.

    ``r`` and ``s`` are the shares of the reference and the sample in each bin (floored at
    ``1e-4``). A common reading: below 0.1 stable, 0.1 to 0.25 moderate, above 0.25 large shift.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> ref = rng.normal(size=10_000)
    >>> round(population_stability_index(ref, rng.normal(size=2000)), 2)
    0.0
    >>> round(population_stability_index(ref, rng.normal(1.0, size=2000)), 1)
    1.0
    """
    bins = _check_int("bins", bins, 2)
    ref = _as_finite_2d("reference", reference)
    new = _as_finite_2d("sample", sample)
    if ref.shape[1] != 1 or new.shape[1] != 1:
        raise ValueError("reference and sample must be 1-D (one feature)")
    ref_sorted, new_sorted = np.sort(ref.T, axis=1), np.sort(new.T, axis=1)
    edges = _quantile_edges(ref_sorted, bins)
    return float(_psi(_bin_fractions(edges, ref_sorted), _bin_fractions(edges, new_sorted))[0])


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
    ValueError: observation must be finite; found NaN or infinite values
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
        self.reference_size = _check_int("reference_size", reference_size, 2)
        self.window_size = _check_int("window_size", window_size, 2)
        if correction not in CORRECTIONS:
            raise ValueError(f"correction must be one of {CORRECTIONS}, got {correction!r}")
        self.correction = correction
        default_min = max(2, self.window_size // 2)
        self.min_samples = default_min if min_samples is None else _check_int(
            "min_samples", min_samples, 1)
        if self.min_samples > self.window_size:
            raise ValueError(
                f"min_samples must not exceed window_size ({self.window_size}), got {min_samples}"
            )
        self.check_interval = self.window_size if check_interval is None else _check_int(
            "check_interval", check_interval, 1)
        self.psi_bins = _check_int("psi_bins", psi_bins, 2)
        if not callable(clock):
            raise TypeError(f"clock must be a callable returning seconds, got {clock!r}")
        self._clock = clock
        self.feature_names: tuple[str, ...] | None = None
        if feature_names is not None:
            names = tuple(str(n) for n in feature_names)
            if not names or len(set(names)) != len(names):
                raise ValueError(f"feature_names must be non-empty and unique, got {feature_names!r}")
            self.feature_names = names
        self.n_features: int | None = None if self.feature_names is None else len(self.feature_names)
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
            raise ValueError(f"{what} must have {self.n_features} features, got {d}")
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
        ref = _as_finite_2d("observations", observations)
        if ref.shape[0] < 2:
            raise ValueError(f"observations must hold at least 2 rows, got {ref.shape[0]}")
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
        try:
            row = np.asarray(obs, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"observation must be numeric, got {type(obs).__name__}") from exc
        expected = self.n_features
        if row.size == 0 or (expected is not None and row.size != expected) or np.ndim(obs) > 1:
            wanted = "a 1-D vector" if expected is None else f"a vector of {expected} features"
            raise ValueError(f"observation must be {wanted}, got shape {np.shape(obs)}")
        if not np.isfinite(row).all():
            raise ValueError("observation must be finite; found NaN or infinite values")
        return row

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
        rows = _as_finite_2d("observations", observations)
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
        if isinstance(threshold, (bool, np.bool_)) or not isinstance(
            threshold, (int, float, np.floating)
        ) or not 0 < threshold < 1:
            raise ValueError(f"threshold must be a number in (0, 1), got {threshold!r}")
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
    if isinstance(alarms_per_10k, bool) or not isinstance(alarms_per_10k, (int, float)) or not (
        0 <= alarms_per_10k < float("inf")
    ):
        raise ValueError(f"alarms_per_10k must be a finite number >= 0, got {alarms_per_10k!r}")
    if not callable(make_detector):
        raise TypeError(f"make_detector must be callable, got {make_detector!r}")
    family_p: list[float] = []
    observed = 0
    for stream in clean_streams:
        detector = make_detector()
        if not isinstance(detector, DistributionShiftDetector) or not detector.has_reference:
            raise ValueError("make_detector must return a DistributionShiftDetector with a reference")
        for row in _as_finite_2d("clean stream", stream):
            report = detector.observe(row, threshold=0.5)
            if report is not None:
                family_p.append(report["family_p_value"])
        observed += detector.n_observed
    if not family_p:
        raise ValueError("the clean streams are too short for a single check; give longer streams")
    allowed = int(alarms_per_10k * observed / 10_000)
    ordered = np.sort(family_p)
    value = ordered[0] / 2 if allowed == 0 else ordered[min(allowed, len(ordered)) - 1]
    return float(np.clip(value, np.finfo(float).tiny, 1 - np.finfo(float).eps))  # within (0, 1)


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
            raise TypeError(f"detector must be a DistributionShiftDetector, got {detector!r}")
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 < threshold < 1:
            raise ValueError(f"threshold must be a number in (0, 1), got {threshold!r}")
        size = int(np.prod(env.observation_space.shape))
        if features is not None:
            features = [int(i) for i in features]
            if not features or any(not 0 <= i < size for i in features) or len(set(features)) != len(features):
                raise ValueError(
                    f"features must be distinct indices in [0, {size}), got {features!r}"
                )
        self.detector = detector
        self.threshold = float(threshold)
        self.features = features
        self.reports: deque[tuple[int, dict[str, Any]]] = deque(
            maxlen=_check_int("max_reports", max_reports, 1))
        self.steps = 0

    def reset(self, **kwargs: Any):
        obs, info = self.env.reset(**kwargs)
        self._observe(obs, info)
        return obs, info

    def step(self, action: Any):
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

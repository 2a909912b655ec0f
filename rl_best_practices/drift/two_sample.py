"""Two-sample statistics of one feature: the Kolmogorov-Smirnov test and the PSI (lesson 03).

* :func:`ks_2samp_sorted` is the KS test against an already sorted reference, the fast path the
  detector uses: the statistic of ``scipy.stats.ks_2samp``, and either its asymptotic p-value
  exactly or a much faster approximation of it (:data:`KS_METHODS`).
* :func:`population_stability_index` is the PSI of one feature, with bins at reference quantiles
  (a bin's share is floored at :data:`PSI_FLOOR`).

The row-wise helpers (``_ks_statistics``, ``_ks_p_values``, ``_quantile_edges``,
``_bin_fractions``, ``_psi``) work on arrays of shape ``(features, values)`` whose rows are
sorted; :class:`~rl_best_practices.drift.detector.DistributionShiftDetector` calls them directly
with a reference it sorted once.

References: Massey (1951), "The Kolmogorov-Smirnov test for goodness of fit"; Stephens (1970),
"Use of the Kolmogorov-Smirnov, Cramer-von Mises and related statistics without extensive
tables"; Siddiqi (2006), "Credit risk scorecards" (PSI).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> ref, new = rng.normal(size=(2000, 1)), rng.normal(0.5, size=(500, 1))
>>> d, p = ks_2samp_sorted(np.sort(ref, axis=0), new)
>>> bool(p[0] < 1e-6), round(population_stability_index(ref, new), 1)
(True, 0.3)
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import special, stats

from rl_best_practices.errors import InvalidValueError
from rl_best_practices.validation import check_array, check_choice, check_int, check_rows

__all__ = ["KS_METHODS", "PSI_FLOOR", "ks_2samp_sorted", "population_stability_index"]

KS_METHODS = ("asymp", "stephens")
"""P-value methods of :func:`ks_2samp_sorted`."""

PSI_FLOOR = 1e-4
"""A bin's share is floored here, so an empty bin gives a large but finite PSI."""


# -- Kolmogorov-Smirnov ---------------------------------------------------------------------------

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
    for j, (ref, new) in enumerate(zip(reference_rows, sample_rows, strict=True)):
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
    """P-values of KS ``statistics`` for samples of sizes ``m`` and ``n`` (see ``method``)."""
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
    >>> from scipy import stats
    >>> rng = np.random.default_rng(1)
    >>> ref, new = rng.normal(size=(300, 1)), rng.normal(0.3, size=(80, 1))
    >>> d, p = ks_2samp_sorted(np.sort(ref, axis=0), new)
    >>> expected = stats.ks_2samp(ref[:, 0], new[:, 0], method="asymp")
    >>> bool(np.isclose(d[0], expected.statistic)), bool(np.isclose(p[0], expected.pvalue))
    (True, True)
    """
    check_choice("method", method, KS_METHODS)
    reference_sorted = check_array("reference_sorted", reference_sorted, min_size=0)
    sample = check_array("sample", sample, min_size=0)
    if reference_sorted.ndim != 2 or reference_sorted.shape[0] == 0:
        raise InvalidValueError(
            f"reference_sorted must have shape (m >= 1, d), got {reference_sorted.shape}"
        )
    m, d = reference_sorted.shape
    if sample.ndim != 2 or sample.shape[1] != d or sample.shape[0] == 0:
        raise InvalidValueError(
            f"sample must have shape (n >= 1, {d}) to match the reference, got {sample.shape}"
        )
    statistics = _ks_statistics(
        np.ascontiguousarray(reference_sorted.T), np.sort(sample.T, axis=1)
    )
    return statistics, _ks_p_values(statistics, m, sample.shape[0], method)


# -- population stability index -------------------------------------------------------------------

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
    bins = check_int("bins", bins, minimum=2)
    ref = check_rows("reference", reference)
    new = check_rows("sample", sample)
    if ref.shape[1] != 1 or new.shape[1] != 1:
        raise InvalidValueError(
            f"reference and sample must be 1-D (one feature), got {ref.shape[1]} and "
            f"{new.shape[1]} columns"
        )
    ref_sorted, new_sorted = np.sort(ref.T, axis=1), np.sort(new.T, axis=1)
    edges = _quantile_edges(ref_sorted, bins)
    return float(_psi(_bin_fractions(edges, ref_sorted), _bin_fractions(edges, new_sorted))[0])

"""The univariate drift methods: plain functions ``(reference, current) -> statistic``.

Numeric columns are binned for the histogram methods (PSI, Jensen–Shannon, Hellinger) at the
deciles of the *reference* (:func:`reference_bins`); categorical columns are compared level by
level over the union of the levels seen in either sample. Missing values are removed before a
method is called; their share is compared separately (:func:`missing_share_difference`).

Speed (a million rows per sample): a numeric column is sorted once and the sorted copies serve
the decile edges, the bin counts (a binary search of each edge, not of each value) and the KS
statistic. The KS statistic is the largest ECDF gap over the values of both samples; it is read
exactly at the values of the few stretches that can hold it: the two ECDFs are first read at a
grid of every 64th value of each sample, and between two grid points the gap cannot exceed the
bound that the counts at the grid points give (see :func:`_ks_statistic_sorted`). Categorical
levels are counted by one hash pass (``pd.factorize``) and ``np.bincount``. The numbers are those
of the plain computations (``np.quantile``, ``np.searchsorted`` of every value,
``scipy.stats.ks_2samp``, ``value_counts``), which small and NaN-holding inputs still use. Inside
:func:`shared_work` the methods called on the same two arrays also share the sorts, the counts
and the KS result, which :func:`~assay.drift.compare_features` uses for each column.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

from assay.drift._registry import DriftMethodSpec, register_drift_method

FloatArray = NDArray[np.float64]

N_BINS = 10
"""Numeric columns are cut at the reference deciles (fewer bins when quantiles tie)."""

PSI_EPSILON = 1e-4
"""Empty bins take this proportion in PSI, so that ``log(0)`` never occurs."""

KS_EXACT_MAX_N = 10_000
"""scipy's ``ks_2samp(method='auto')`` computes the exact p-value up to this sample size
(scipy's ``MAX_AUTO_N``); above it, the asymptotic one that the fast path computes too."""

KS_GRID_STEP = 64
"""The fast KS statistic first reads both ECDFs at every 64th value of each sorted sample."""

_Result = TypeVar("_Result")


@dataclass
class _SharedWork:
    reference: NDArray[Any]
    current: NDArray[Any]
    results: dict[str, Any] = field(default_factory=dict)


_SHARED: ContextVar[_SharedWork | None] = ContextVar("assay_drift_shared_work", default=None)


@contextmanager
def shared_work(reference: NDArray[Any], current: NDArray[Any], *,
                counts: tuple[FloatArray, FloatArray] | None = None) -> Iterator[None]:
    """Within the block, methods called on exactly these two arrays share their sorts and counts.

    ``counts``, if given, are the two samples' counts per level that :func:`counts` would
    return (categorical columns; see :func:`level_counts`). The arrays must not be changed
    inside the block.
    """
    work = _SharedWork(reference, current)
    if counts is not None:
        work.results["counts"] = counts
    token = _SHARED.set(work)
    try:
        yield
    finally:
        _SHARED.reset(token)


def _shared(reference: NDArray[Any], current: NDArray[Any], key: str,
            compute: Callable[[], _Result]) -> _Result:
    """``compute()``, once per ``key`` for the two arrays of the enclosing :func:`shared_work`."""
    work = _SHARED.get()
    if work is None or work.reference is not reference or work.current is not current:
        return compute()
    if key not in work.results:
        work.results[key] = compute()
    result: _Result = work.results[key]
    return result


def _sorted_pair(reference: NDArray[Any], current: NDArray[Any]) -> tuple[FloatArray, FloatArray]:
    """Both samples as sorted float64 arrays (NaN, if any, sorts last)."""
    def compute() -> tuple[FloatArray, FloatArray]:
        return (np.sort(np.asarray(reference, dtype=np.float64)),
                np.sort(np.asarray(current, dtype=np.float64)))
    return _shared(reference, current, "sorted", compute)


def _has_nan(ordered: FloatArray) -> bool:
    return ordered.size > 0 and bool(np.isnan(ordered[-1]))


def _is_numeric(values: NDArray[Any]) -> bool:
    return values.dtype.kind in "fiu"


def reference_bins(reference: NDArray[Any], n_bins: int = N_BINS) -> FloatArray:
    """Interior bin edges: the distinct ``k / n_bins`` quantiles of the reference.

    A value ``x`` falls in bin ``i`` when ``edges[i-1] < x <= edges[i]``; the outer bins are open
    (``(-inf, edges[0]]`` and ``(edges[-1], inf)``), so current values outside the reference
    range still count.
    """
    ref = np.asarray(reference, dtype=np.float64)
    interior = np.quantile(ref, np.arange(1, n_bins) / n_bins)
    return np.unique(interior)


def proportions(reference: NDArray[Any], current: NDArray[Any]) -> tuple[FloatArray, FloatArray]:
    """Proportions of each sample per bin (numeric) or per level (categorical)."""
    ref_counts, cur_counts = counts(reference, current)
    return ref_counts / ref_counts.sum(), cur_counts / cur_counts.sum()


def counts(reference: NDArray[Any], current: NDArray[Any]) -> tuple[FloatArray, FloatArray]:
    """Counts of each sample per reference-decile bin (numeric) or per level (categorical)."""
    return _shared(reference, current, "counts", lambda: _counts(reference, current))


def _counts(reference: NDArray[Any], current: NDArray[Any]) -> tuple[FloatArray, FloatArray]:
    if _is_numeric(reference) and _is_numeric(current):
        ref_sorted, cur_sorted = _sorted_pair(reference, current)
        if not (_has_nan(ref_sorted) or _has_nan(cur_sorted)):
            # Bin i holds edges[i-1] < x <= edges[i]: the count up to each edge is one binary
            # search of the edge in the sorted sample.
            edges = reference_bins(ref_sorted)
            return _binned_from_sorted(ref_sorted, edges), _binned_from_sorted(cur_sorted, edges)
        edges = reference_bins(reference)
        n = edges.size + 1
        ref_bin = np.searchsorted(edges, np.asarray(reference, dtype=np.float64), side="left")
        cur_bin = np.searchsorted(edges, np.asarray(current, dtype=np.float64), side="left")
        return (np.bincount(ref_bin, minlength=n).astype(np.float64),
                np.bincount(cur_bin, minlength=n).astype(np.float64))
    ref_levels, ref_counts, _ = level_counts(np.asarray(reference, dtype=object))
    cur_levels, cur_counts, _ = level_counts(np.asarray(current, dtype=object))
    return aligned_counts(ref_levels, ref_counts, cur_levels, cur_counts)


def level_counts(values: NDArray[Any] | pd.Series
                 ) -> tuple[NDArray[Any], FloatArray, NDArray[np.intp]]:
    """The distinct non-missing values in order of appearance, their counts, and each value's
    position among them (-1 for a missing value): one hash pass, as ``value_counts`` groups."""
    codes, uniques = pd.factorize(values)
    present = codes[codes >= 0] if codes.size and codes.min() < 0 else codes
    tally = np.bincount(present, minlength=len(uniques)).astype(np.float64)
    return np.asarray(uniques, dtype=object), tally, codes


def aligned_counts(ref_levels: NDArray[Any], ref_counts: FloatArray, cur_levels: NDArray[Any],
                   cur_counts: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Both samples' counts over the union of their levels (equal levels are added up)."""
    index: dict[Any, int] = {}
    ref_at = np.array([index.setdefault(level, len(index)) for level in ref_levels], np.intp)
    cur_at = np.array([index.setdefault(level, len(index)) for level in cur_levels], np.intp)
    n = len(index)  # bincount with weights counts in float64
    return (np.asarray(np.bincount(ref_at, weights=ref_counts, minlength=n), dtype=np.float64),
            np.asarray(np.bincount(cur_at, weights=cur_counts, minlength=n), dtype=np.float64))


def _binned_from_sorted(ordered: FloatArray, edges: FloatArray) -> FloatArray:
    upto = np.searchsorted(ordered, edges, side="right")
    binned: FloatArray = np.diff(np.r_[0, upto, ordered.size]).astype(np.float64)
    return binned


def psi(reference: NDArray[Any], current: NDArray[Any]) -> float:
    r"""Population stability index.

    .. math:: \mathrm{PSI} = \sum_i (c_i - r_i)\,\ln(c_i / r_i)

    over reference-decile bins (numeric) or levels (categorical), with proportions below
    :data:`PSI_EPSILON` raised to it.
    """
    ref, cur = proportions(reference, current)
    ref = np.maximum(ref, PSI_EPSILON)
    cur = np.maximum(cur, PSI_EPSILON)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def jensen_shannon(reference: NDArray[Any], current: NDArray[Any]) -> float:
    """Jensen–Shannon distance (square root of the divergence, base 2), in [0, 1]."""
    ref, cur = proportions(reference, current)
    mid = (ref + cur) / 2

    def kl(p: FloatArray) -> float:
        mask = p > 0
        return float(np.sum(p[mask] * np.log2(p[mask] / mid[mask])))

    return float(np.sqrt(max((kl(ref) + kl(cur)) / 2, 0.0)))


def hellinger(reference: NDArray[Any], current: NDArray[Any]) -> float:
    r"""Hellinger distance :math:`\sqrt{1 - \sum_i \sqrt{r_i c_i}}`, in [0, 1]."""
    ref, cur = proportions(reference, current)
    return float(np.sqrt(max(1.0 - float(np.sum(np.sqrt(ref * cur))), 0.0)))


def wasserstein_normalised(reference: NDArray[Any], current: NDArray[Any]) -> float:
    """Wasserstein-1 distance divided by the reference standard deviation (``ddof=0``).

    A constant reference (SD 0) leaves the distance unscaled.
    """
    ref = np.asarray(reference, dtype=np.float64)
    cur = np.asarray(current, dtype=np.float64)
    scale = float(np.std(ref))
    merged = _merged_counts(reference, current)
    if merged is None:
        distance = float(stats.wasserstein_distance(ref, cur))
    else:  # scipy's integral of |F_ref - F_cur| over the merged values, from the shared merge
        values, ref_count, cur_count = merged
        gaps = np.abs(ref_count[:-1] / ref.size - cur_count[:-1] / cur.size)
        steps = np.diff(values)
        distance = float(np.vecdot(gaps, steps) if hasattr(np, "vecdot")  # as scipy's np_vecdot
                         else np.sum(gaps * steps))
    return distance / scale if scale > 0 else distance


def ks_statistic(reference: NDArray[Any], current: NDArray[Any]) -> float:
    """Two-sample Kolmogorov–Smirnov statistic: the largest gap between the two ECDFs."""
    return _ks(reference, current)[0]


def ks_p_value(reference: NDArray[Any], current: NDArray[Any]) -> float:
    """p-value of the two-sided two-sample KS test (scipy's ``method='auto'``)."""
    return _ks(reference, current)[1]


def _ks(reference: NDArray[Any], current: NDArray[Any]) -> tuple[float, float]:
    return _shared(reference, current, "ks", lambda: _ks_test(reference, current))


def _ks_test(reference: NDArray[Any], current: NDArray[Any]) -> tuple[float, float]:
    """Statistic and p-value of ``scipy.stats.ks_2samp(reference, current)`` (two-sided, auto).

    Large float samples take the fast path (:func:`_ks_statistic_sorted`) and the same
    asymptotic p-value (``kstwo.sf(d, round(n1 n2 / (n1 + n2)))``).
    """
    ref, cur = np.asarray(reference), np.asarray(current)
    n1, n2 = ref.size, cur.size
    if not (max(n1, n2) > KS_EXACT_MAX_N and min(n1, n2) > 0 and ref.ndim == 1
            and cur.ndim == 1 and ref.dtype.kind == "f" and cur.dtype.kind == "f"):
        result = stats.ks_2samp(reference, current)
        return float(result.statistic), float(result.pvalue)
    ref_sorted, cur_sorted = _sorted_pair(reference, current)
    if _has_nan(ref_sorted) or _has_nan(cur_sorted):
        result = stats.ks_2samp(reference, current)
        return float(result.statistic), float(result.pvalue)
    statistic = _ks_statistic_sorted(ref_sorted, cur_sorted)
    larger, smaller = max(float(n1), float(n2)), min(float(n1), float(n2))
    effective_n = larger * smaller / (larger + smaller)
    p_value = float(np.clip(stats.kstwo.sf(statistic, np.round(effective_n)), 0, 1))
    return statistic, p_value


def _ks_statistic_sorted(ref: FloatArray, cur: FloatArray) -> float:
    """``ks_2samp``'s statistic from the two sorted samples (no NaN), read where it can be.

    scipy takes the largest of ``F_ref(x) - F_cur(x)`` and of its opposite over every value
    ``x`` of both samples, each ECDF counting the values ``<= x``. Read first at a grid of
    sample values (every :data:`KS_GRID_STEP`-th of each sample, and the largest), the counts
    bound the gap on each stretch ``(g[j-1], g[j]]`` between grid points:
    ``F_ref(x) - F_cur(x) <= F_ref(g[j]) - F_cur(g[j-1])`` and the opposite likewise. Only the
    values in stretches whose bound reaches the largest gap at a grid point (less a margin for
    rounding) can hold the statistic; scipy's formula is evaluated at those alone, so the
    result is the same number. The bounds are compared in exact integers (``n1 n2`` times the
    gaps).
    """
    n1, n2 = ref.size, cur.size
    points: FloatArray | None = None
    if n1 * n2 < 2**62:
        grid = np.concatenate([ref[KS_GRID_STEP - 1::KS_GRID_STEP],
                               cur[KS_GRID_STEP - 1::KS_GRID_STEP], [max(ref[-1], cur[-1])]])
        grid.sort()
        ref_upto = np.searchsorted(ref, grid, side="right")
        cur_upto = np.searchsorted(cur, grid, side="right")
        gap = ref_upto * n2 - cur_upto * n1  # n1 n2 (F_ref - F_cur) at the grid points
        ref_before, cur_before = np.r_[0, ref_upto[:-1]], np.r_[0, cur_upto[:-1]]
        margin = n1 * n2 // 10**15 + 1  # covers the float rounding of scipy's gaps (< 1e-15)
        stretch = np.flatnonzero(
            (ref_upto * n2 - cur_before * n1 >= gap.max() - margin)
            | (cur_upto * n1 - ref_before * n2 >= (-gap).max() - margin))
        points = np.concatenate([ref[_ranges(ref_before[stretch], ref_upto[stretch])],
                                 cur[_ranges(cur_before[stretch], cur_upto[stretch])]])
        if points.size > (n1 + n2) // 2:
            points = None
    if points is None:
        points = np.concatenate([ref, cur])
    differences = (np.searchsorted(ref, points, side="right") / n1
                   - np.searchsorted(cur, points, side="right") / n2)
    below = float(np.clip(-differences.min(), 0, 1))
    above = float(differences.max())
    return below if below > above else above


def _ranges(starts: NDArray[np.intp], stops: NDArray[np.intp]) -> NDArray[np.intp]:
    """The positions ``starts[i] .. stops[i] - 1`` of every range, concatenated."""
    lengths = stops - starts
    offsets = np.cumsum(lengths) - lengths
    positions: NDArray[np.intp] = (np.arange(int(lengths.sum()))
                                   + np.repeat(starts - offsets, lengths))
    return positions


def _merged_counts(
    reference: NDArray[Any], current: NDArray[Any]
) -> tuple[FloatArray, NDArray[np.int64], NDArray[np.int64]] | None:
    """The two samples merged in order, and at each merged value how many values of each sample
    are at most that value; ``None`` unless both are non-empty 1-D float arrays without NaN."""
    ref, cur = np.asarray(reference), np.asarray(current)
    if not (ref.ndim == 1 and cur.ndim == 1 and ref.dtype.kind == "f"
            and cur.dtype.kind == "f" and ref.size > 0 and cur.size > 0):
        return None
    ref_sorted, cur_sorted = _sorted_pair(reference, current)
    if _has_nan(ref_sorted) or _has_nan(cur_sorted):
        return None

    def compute() -> tuple[FloatArray, NDArray[np.int64], NDArray[np.int64]]:
        both = np.concatenate([ref_sorted, cur_sorted])
        order = np.argsort(both, kind="stable")  # two sorted runs: a merge
        values = both[order]
        cur_count = np.cumsum(order >= ref_sorted.size, dtype=np.int64)
        position = np.arange(values.size, dtype=np.int64)
        new_value = values[1:] != values[:-1]
        if not new_value.all():  # ties: each position takes the counts at the end of its run
            last = np.flatnonzero(np.r_[new_value, True])
            position = last[np.r_[0, np.cumsum(new_value)]]
            cur_count = cur_count[position]
        return values, position + 1 - cur_count, cur_count

    return _shared(reference, current, "merged", compute)


def _chi_square(reference: NDArray[Any], current: NDArray[Any]) -> tuple[float, float, float]:
    return _shared(reference, current, "chi_square",
                   lambda: _chi_square_test(reference, current))


def _chi_square_test(reference: NDArray[Any],
                     current: NDArray[Any]) -> tuple[float, float, float]:
    ref, cur = counts(reference, current)
    keep = (ref + cur) > 0
    table = np.vstack([ref[keep], cur[keep]])
    if table.shape[1] < 2:
        return 0.0, 1.0, float(table.sum())
    result = stats.chi2_contingency(table, correction=False)
    return float(result.statistic), float(result.pvalue), float(table.sum())


def cramers_v(reference: NDArray[Any], current: NDArray[Any]) -> float:
    r"""Cramér's V of the 2 × k table sample × level: :math:`\sqrt{\chi^2 / n}`.

    ``chi2`` is Pearson's statistic without continuity correction; one level in all gives 0.
    """
    chi2, _, n = _chi_square(reference, current)
    return float(np.sqrt(chi2 / n)) if n > 0 else 0.0


def chi_square_p_value(reference: NDArray[Any], current: NDArray[Any]) -> float:
    """p-value of Pearson's chi-square test of the 2 × k table sample × level."""
    return _chi_square(reference, current)[1]


def missing_share_difference(reference_missing: int, reference_n: int,
                             current_missing: int, current_n: int) -> tuple[float, float]:
    """Absolute difference of the missing shares and the chi-square (2 × 2) p-value."""
    ref_share = reference_missing / reference_n
    cur_share = current_missing / current_n
    table = np.array([[reference_missing, reference_n - reference_missing],
                      [current_missing, current_n - current_missing]], dtype=np.float64)
    if (table.sum(axis=0) == 0).any():
        return abs(cur_share - ref_share), 1.0
    p = float(stats.chi2_contingency(table, correction=False).pvalue)
    return abs(cur_share - ref_share), p


MISSING_SHARE_THRESHOLD = 0.05
"""A change of more than 5 percentage points in the share of missing values drifts."""

register_drift_method(DriftMethodSpec(
    name="psi", fn=psi, title="Population stability index",
    kinds=frozenset({"numeric", "categorical"}), threshold=0.2,
    definition="sum over bins of (c - r) * ln(c / r); numeric columns binned at the reference "
               f"deciles, categorical by level; empty bins take proportion {PSI_EPSILON}",
    threshold_source="0.2: the industry convention (Deepchecks, Giskard); 0.1-0.2 is "
                     "'moderate'"))
register_drift_method(DriftMethodSpec(
    name="jensen_shannon", fn=jensen_shannon, title="Jensen-Shannon distance",
    kinds=frozenset({"numeric", "categorical"}), threshold=0.1,
    definition="square root of the Jensen-Shannon divergence (base 2) of the binned or level "
               "proportions; 0 = identical, 1 = disjoint",
    threshold_source="0.1: Evidently's default for large samples"))
register_drift_method(DriftMethodSpec(
    name="hellinger", fn=hellinger, title="Hellinger distance",
    kinds=frozenset({"numeric", "categorical"}), threshold=0.15,
    definition="sqrt(1 - sum sqrt(r * c)) of the binned or level proportions; in [0, 1]",
    threshold_source="0.15: the lower edge of whylogs' 'possible drift' band"))
register_drift_method(DriftMethodSpec(
    name="wasserstein", fn=wasserstein_normalised, title="Normalised Wasserstein distance",
    kinds=frozenset({"numeric"}), threshold=0.1,
    definition="Wasserstein-1 (earth mover's) distance divided by the reference SD (ddof=0)",
    threshold_source="0.1: Evidently's default for large samples (a shift of 0.1 SD)"))
register_drift_method(DriftMethodSpec(
    name="ks", fn=ks_statistic, p_value=ks_p_value, title="Kolmogorov-Smirnov statistic",
    kinds=frozenset({"numeric"}), threshold=0.1,
    definition="largest vertical gap between the two empirical CDFs; p-value of the two-sided "
               "two-sample test",
    threshold_source="0.1: chosen by Assay (10 percentage points of the ECDF); peers use the "
                     "p-value, which fires on any shift in a large sample"))
register_drift_method(DriftMethodSpec(
    name="cramers_v", fn=cramers_v, p_value=chi_square_p_value,
    title="Cramér's V (chi-square)", kinds=frozenset({"categorical"}), threshold=0.1,
    definition="sqrt(chi2 / n) of the 2 x k table sample x level (Pearson chi-square, no "
               "continuity correction); p-value of the chi-square test",
    threshold_source="0.1: Cohen's 'small' effect for one degree of freedom"))

"""Compare two profiles column by column from their sketches alone: :func:`compare_profiles`.

No rows are needed: this is drift on data too large to hold, or held elsewhere. The statistics
are approximations of those :func:`assay.drift.compare_features` computes on the rows, within
the KLL sketches' rank error (numeric) or the frequent-items sketches' count error (categorical).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict

from assay.curation._profile import ColumnProfile, Profile, ProfileKind, sketches_module
from assay.drift._methods import MISSING_SHARE_THRESHOLD, N_BINS, PSI_EPSILON
from assay.drift._registry import get_drift_method
from assay.errors import InputError

KS_GRID_POINTS = 500
"""Both KLL CDFs are read at each sketch's quantiles at 501 evenly spaced ranks."""


class ProfileDriftRecord(BaseModel):
    """One column of two profiles compared.

    ``psi``, ``ks`` and ``ks_upper_bound`` are computed from sketches and are approximate:
    numeric ones within the KLL normalised rank errors stated in ``rank_error_reference`` and
    ``rank_error_current`` (single rank, 99% confidence), categorical PSI within the
    frequent-items count error. The missing shares are exact.
    """

    model_config = ConfigDict(frozen=True)

    column: str
    kind: ProfileKind
    n_reference: int
    n_current: int
    missing_share_reference: float
    missing_share_current: float
    missing_share_difference: float
    """Absolute difference of the two missing shares."""
    psi: float | None = None
    """Over the reference deciles (numeric) or the frequent levels plus 'all other' (categorical);
    ``None`` for time columns and when either side has no values."""
    ks: float | None = None
    """Largest gap between the two KLL CDFs at the grid points (numeric columns)."""
    ks_upper_bound: float | None = None
    """Bound on the exact KS statistic: the largest gap the grid leaves possible, plus both
    sketches' rank errors."""
    rank_error_reference: float | None = None
    rank_error_current: float | None = None
    drifted_by: tuple[str, ...] = ()
    """Statistics beyond their threshold: ``psi`` > 0.2, ``ks`` > 0.1 (the thresholds of
    :mod:`assay.drift`), ``missing_share`` difference > 0.05."""

    @property
    def drifted(self) -> bool:
        """Whether any statistic passed its threshold."""
        return bool(self.drifted_by)


def compare_profiles(reference: Profile, current: Profile) -> list[ProfileDriftRecord]:
    """Compare each column present in both profiles, from the sketches alone.

    Numeric columns: PSI over the reference decile bins (the split points are the reference
    KLL quantiles at 0.1, ..., 0.9; both sides' bin shares come from their KLL PMF at those
    points) and the KS statistic read from the two KLL CDFs over a grid, with an upper bound.
    Categorical columns: PSI over the frequent levels of either profile plus one bin of all
    other levels. Every column: the difference of the missing shares. Time columns compare only
    missingness (two periods differ in time by construction).

    These statistics are **approximate**: a KLL CDF value is within the sketch's normalised
    rank error (stated per column on the record) of the exact rank with 99% confidence, so PSI
    and KS may differ from the row-level figures of :func:`assay.drift.compare_features` by
    about that much per bin. Frequent-level counts are exact while a column has fewer than 768
    levels, else within the sketch's stated bounds.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from assay.curation._profile import profile
    >>> rng = np.random.default_rng(0)
    >>> ref = profile(pd.DataFrame({"age": rng.normal(60, 10, 5000)}))
    >>> cur = profile(pd.DataFrame({"age": rng.normal(66, 10, 5000)}))
    >>> [(r.column, r.drifted_by) for r in compare_profiles(ref, cur)]
    [('age', ('psi', 'ks'))]
    """
    current_names = set(current.column_names)
    return [_compare_column(column, current.column(column.name))
            for column in reference.columns if column.name in current_names]


def _compare_column(reference: ColumnProfile, current: ColumnProfile) -> ProfileDriftRecord:
    ds = sketches_module()
    kind = reference.kind
    if current.kind != kind and reference.n_values and current.n_values:
        raise InputError(f"column {reference.name!r} is {kind} in the reference profile but "
                         f"{current.kind} in the current one")
    if reference.n_values == 0:
        kind = current.kind
    ref_missing = reference.missing / reference.n if reference.n else 0.0
    cur_missing = current.missing / current.n if current.n else 0.0
    fields: dict[str, Any] = dict(
        column=reference.name, kind=kind, n_reference=reference.n, n_current=current.n,
        missing_share_reference=ref_missing, missing_share_current=cur_missing,
        missing_share_difference=abs(cur_missing - ref_missing))
    both_have_values = reference.n_values > 0 and current.n_values > 0
    if kind == "numeric" and reference.quantile_sketch is not None \
            and current.quantile_sketch is not None:
        ref_sketch = ds.kll_doubles_sketch.deserialize(reference.quantile_sketch)
        cur_sketch = ds.kll_doubles_sketch.deserialize(current.quantile_sketch)
        fields.update(rank_error_reference=ref_sketch.normalized_rank_error(False),
                      rank_error_current=cur_sketch.normalized_rank_error(False))
        if both_have_values:
            fields["psi"] = _numeric_psi(ref_sketch, cur_sketch)
            fields["ks"], fields["ks_upper_bound"] = _ks(ref_sketch, cur_sketch)
    elif (kind == "categorical" and both_have_values and reference.frequent_sketch is not None
          and current.frequent_sketch is not None):
        fields["psi"] = _categorical_psi(
            ds.frequent_strings_sketch.deserialize(reference.frequent_sketch),
            ds.frequent_strings_sketch.deserialize(current.frequent_sketch))
    drifted = []
    if fields.get("psi") is not None and fields["psi"] > get_drift_method("psi").threshold:
        drifted.append("psi")
    if fields.get("ks") is not None and fields["ks"] > get_drift_method("ks").threshold:
        drifted.append("ks")
    if fields["missing_share_difference"] > MISSING_SHARE_THRESHOLD:
        drifted.append("missing_share")
    return ProfileDriftRecord(**fields, drifted_by=tuple(drifted))


def _psi(reference_shares: np.ndarray[Any, Any], current_shares: np.ndarray[Any, Any]) -> float:
    r = np.maximum(reference_shares, PSI_EPSILON)
    c = np.maximum(current_shares, PSI_EPSILON)
    return float(np.sum((c - r) * np.log(c / r)))


def _numeric_psi(reference: Any, current: Any) -> float:
    ranks = [i / N_BINS for i in range(1, N_BINS)]
    splits = np.unique(reference.get_quantiles(ranks)).tolist()
    return _psi(np.asarray(reference.get_pmf(splits)), np.asarray(current.get_pmf(splits)))


def _ks(reference: Any, current: Any) -> tuple[float, float]:
    """Largest gap of the two KLL CDFs on the grid, and an upper bound on the exact statistic."""
    ranks = np.linspace(0.0, 1.0, KS_GRID_POINTS + 1).tolist()
    grid = np.unique(np.concatenate([reference.get_quantiles(ranks),
                                     current.get_quantiles(ranks)])).tolist()
    # below the smallest and above the largest grid point (both minima, both maxima) both
    # CDFs are 0 or 1; the last entry of get_cdf (1.0 beyond the last split) is dropped
    ref_le = np.asarray(reference.get_cdf(grid, inclusive=True))[:-1]
    cur_le = np.asarray(current.get_cdf(grid, inclusive=True))[:-1]
    ref_lt = np.asarray(reference.get_cdf(grid, inclusive=False))[:-1]
    cur_lt = np.asarray(current.get_cdf(grid, inclusive=False))[:-1]
    at_grid = float(max(np.max(np.abs(ref_le - cur_le)), np.max(np.abs(ref_lt - cur_lt))))
    # strictly between two grid points each CDF lies between its value at the left point
    # (inclusive) and its value just before the right point
    between = np.maximum(ref_lt[1:] - cur_le[:-1], cur_lt[1:] - ref_le[:-1])
    widest = float(np.max(between)) if between.size else 0.0
    bound = (max(at_grid, widest) + reference.normalized_rank_error(False)
             + current.normalized_rank_error(False))
    return at_grid, min(1.0, bound)


def _categorical_psi(reference: Any, current: Any) -> float:
    ds = sketches_module()
    error_type = ds.frequent_items_error_type.NO_FALSE_NEGATIVES
    levels = sorted({item[0] for sketch in (reference, current)
                     for item in sketch.get_frequent_items(error_type)})

    def shares(sketch: Any) -> np.ndarray[Any, Any]:
        counts = np.array([sketch.get_estimate(level) for level in levels], dtype=np.float64)
        level_shares = counts / sketch.total_weight
        return np.append(level_shares, max(0.0, 1.0 - float(level_shares.sum())))

    return _psi(shares(reference), shares(current))

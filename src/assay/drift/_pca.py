"""Multivariate drift: does the reference's correlation structure still describe the current rows?

:func:`pca_reconstruction` (the method of NannyML's data reconstruction drift) fits a principal
component analysis on the reference and measures how well it reconstructs each row:

1. Encoding, fitted on the reference only. A numeric feature is centred on its reference mean
   and divided by its reference SD (``ddof=0``; 1 when the reference is constant); a missing
   value takes the reference median. A categorical feature becomes one indicator per
   reference level (missing is a level of its own) plus one for "a level the reference never
   had", centred on the reference shares and divided by ``sqrt(Σ p(1 − p))`` so that the
   feature as a whole has variance 1 in the reference, like a numeric one. The last indicator
   is 0 throughout the reference, so no component explains it: a row with an unseen level
   always adds to the error.
2. PCA on the encoded reference, keeping the fewest components whose explained variance
   reaches ``variance`` (default 0.65, NannyML's default).
3. The reconstruction error of a row is the Euclidean distance between its encoding and its
   projection back from the kept components; the error of a sample is the mean over its rows.

The reference error is computed on the rows the PCA was fitted on, as NannyML does; it is
slightly optimistic when the features are many for the rows. Intervals are percentile bootstraps
over rows (``n_boot`` replicates, reference and current resampled independently, the PCA held
fixed); above :data:`NORMAL_ABOVE` rows in a sample, where the bootstrap of a mean is normal to
many digits and would cost ``n_boot`` passes over every row, they are normal intervals from the
standard errors of the two means (the delta method for their ratio). The sample drifts when the
lower bound of the interval of the relative increase
``current / reference − 1`` exceeds :data:`PCA_ERROR_INCREASE_THRESHOLD`.

A feature's contribution is its share of the increase of the mean *squared* error: the squared
residuals add over encoded columns, so the increase splits exactly into features (a categorical
feature sums its indicators); features whose squared residual fell get a share of 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict

from assay.drift._classifier import subsample
from assay.drift._compare import _features, column_kind
from assay.errors import InputError
from assay.metrics import Estimate

FloatArray = NDArray[np.float64]

MAX_ROWS_PER_SAMPLE = 200_000
"""Larger samples are subsampled (see ``max_rows``)."""

PCA_VARIANCE = 0.65
"""Share of the reference variance the kept components explain (NannyML's default)."""

PCA_ERROR_INCREASE_THRESHOLD = 0.1
"""Drift when the lower bound of the relative increase of the mean reconstruction error exceeds
10 %: chosen by Assay as the smallest rise treated as material, applied to the interval (as the
domain classifier's AUROC is) so that sampling noise alone does not raise it."""

MISSING_LEVEL = "(missing)"


class FeatureContribution(BaseModel):
    """How much one feature adds to the rise of the squared reconstruction error."""

    model_config = ConfigDict(frozen=True)

    feature: str
    reference_squared_error: float
    current_squared_error: float
    """Mean squared residual of the feature's encoded column(s) in each sample."""
    share: float
    """Share of the summed increases of all features whose squared residual rose (0 to 1)."""


class PcaDriftResult(BaseModel):
    """Mean PCA reconstruction error of the current sample against the reference's."""

    model_config = ConfigDict(frozen=True)

    reference_error: Estimate
    current_error: Estimate
    relative_increase: Estimate
    """``current_error / reference_error − 1`` with its bootstrap interval."""
    threshold: float
    drifted: bool
    """``relative_increase.ci_low > threshold``."""
    variance: float
    """Share of reference variance the PCA was asked to explain."""
    explained_variance: float
    """Share it explains with ``n_components`` components."""
    n_components: int
    features: tuple[str, ...]
    categorical_features: tuple[str, ...]
    """Features one-hot encoded on their reference levels."""
    contributions: tuple[FeatureContribution, ...]
    """Every feature, largest share first."""
    n_boot: int
    seed: int
    n_reference: int
    n_current: int

    def top_features(self, k: int = 5) -> list[str]:
        """The ``k`` features contributing most to the rise of the error (share > 0 only)."""
        return [c.feature for c in self.contributions[:k] if c.share > 0]

    def summary(self) -> str:
        """The result in plain words."""
        verdict = ("is reconstructed worse than the reference" if self.drifted
                   else "is not reliably reconstructed worse than the reference")
        top = self.top_features(3)
        tail = f"; largest contributions: {', '.join(top)}." if top else "."
        return (f"By the reference's {self.n_components} principal component(s) "
                f"({self.explained_variance:.0%} of its variance), the current sample {verdict}: "
                f"mean reconstruction error {self.current_error} against "
                f"{self.reference_error}, a relative increase of {self.relative_increase} "
                f"(drift when its lower bound exceeds {self.threshold:g}){tail}")


def pca_reconstruction(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    features: Sequence[str] | None = None,
    *,
    variance: float = PCA_VARIANCE,
    threshold: float = PCA_ERROR_INCREASE_THRESHOLD,
    n_boot: int = 1000,
    seed: int = 0,
    max_rows: int | None = MAX_ROWS_PER_SAMPLE,
    reference_name: str = "the reference",
    current_name: str = "the current data",
) -> PcaDriftResult:
    """Mean PCA reconstruction error of ``current`` against that of ``reference``.

    Parameters
    ----------
    reference, current
        The two samples; rows are records, columns features.
    features
        Columns to use (at least two); default: the columns present in both frames.
    variance
        Keep the fewest principal components explaining at least this share of the reference
        variance, in (0, 1).
    threshold
        Drift when the lower bound of the 95 % interval of the relative increase of the mean
        error exceeds it.
    n_boot, seed
        Bootstrap replicates of the intervals and their seed (the seed also draws the
        subsamples).
    max_rows
        Each sample with more rows is replaced by a seeded random subsample of ``max_rows``
        rows (without replacement); ``None`` uses every row. The mean error of 200,000 rows
        is known to about ±0.2 % already, and the encoded design of a million rows weighs
        hundreds of megabytes.
    reference_name, current_name
        How the samples are named in messages.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> cov = [[1.0, 0.8], [0.8, 1.0]]
    >>> ref = pd.DataFrame(rng.multivariate_normal([0, 0], cov, 2000), columns=["sbp", "dbp"])
    >>> flipped = [[1.0, -0.8], [-0.8, 1.0]]
    >>> cur = pd.DataFrame(rng.multivariate_normal([0, 0], flipped, 2000), columns=["sbp", "dbp"])
    >>> pca_reconstruction(ref, cur, n_boot=200).drifted
    True
    """
    names = _features(reference, current, features, reference_name, current_name)
    if len(names) < 2:
        raise InputError("PCA reconstruction needs at least two features "
                         f"(got {len(names)}); compare a single feature with compare_features")
    if not 0 < variance < 1:
        raise InputError(f"variance must be a share in (0, 1) (got {variance})")
    if n_boot < 10:
        raise InputError(f"n_boot must be at least 10 (got {n_boot})")
    if max_rows is not None and max_rows < 10:
        raise InputError(f"max_rows must be at least 10 (got {max_rows})")
    sampler = np.random.default_rng([seed, 1])
    given = len(reference), len(current)
    reference = subsample(reference, names, max_rows, sampler)
    current = subsample(current, names, max_rows, sampler)
    encoder = _Encoder(reference, names, reference_name, current_name)
    ref_design = encoder.encode(reference)
    cur_design = encoder.encode(current)
    components, explained = principal_components(ref_design, variance)
    ref_residual = residuals(ref_design, components)
    cur_residual = residuals(cur_design, components)
    ref_errors = np.sqrt(np.sum(ref_residual**2, axis=1))
    cur_errors = np.sqrt(np.sum(cur_residual**2, axis=1))
    ref_mean, cur_mean = float(ref_errors.mean()), float(cur_errors.mean())
    if ref_mean <= 0:
        raise InputError(f"the PCA reconstructs {reference_name} exactly (the features are "
                         "collinear), so the relative increase of the error is undefined")
    if min(ref_errors.size, cur_errors.size) > NORMAL_ABOVE:
        reference_error, current_error, increase = _normal_estimates(ref_errors, cur_errors)
    else:
        rng = np.random.default_rng(seed)
        ref_boot = np.array([ref_errors[rng.integers(0, ref_errors.size, ref_errors.size)].mean()
                             for _ in range(n_boot)])
        cur_boot = np.array([cur_errors[rng.integers(0, cur_errors.size, cur_errors.size)].mean()
                             for _ in range(n_boot)])
        reference_error = _bootstrap_estimate(ref_mean, ref_boot, len(reference))
        current_error = _bootstrap_estimate(cur_mean, cur_boot, len(current))
        increase = _bootstrap_estimate(cur_mean / ref_mean - 1, cur_boot / ref_boot - 1,
                                       len(reference) + len(current))
    return PcaDriftResult(
        reference_error=reference_error, current_error=current_error,
        relative_increase=increase, threshold=threshold,
        drifted=increase.ci_low is not None and increase.ci_low > threshold,
        variance=variance,
        explained_variance=explained, n_components=int(components.shape[1]),
        features=tuple(names),
        categorical_features=tuple(n for n in names if n in encoder.levels),
        contributions=_contributions(names, encoder.columns, ref_residual, cur_residual),
        n_boot=n_boot, seed=seed, n_reference=given[0], n_current=given[1])


NORMAL_ABOVE = 100_000
"""Samples larger than this get normal intervals instead of the bootstrap."""


class _Encoder:
    """Standardise numeric and one-hot categorical features on the reference."""

    def __init__(self, reference: pd.DataFrame, names: list[str], reference_name: str,
                 current_name: str) -> None:
        self.names = names
        self.reference_name, self.current_name = reference_name, current_name
        self.median: dict[str, float] = {}
        self.centre: dict[str, FloatArray] = {}
        self.scale: dict[str, float] = {}
        self.levels: dict[str, list[str]] = {}
        self.columns: list[str] = []
        """The feature each encoded column belongs to."""
        for name in names:
            column = reference[name]
            if column_kind(column) == "numeric":
                values = column.dropna().to_numpy(dtype=np.float64)
                if values.size == 0:
                    raise InputError(f"column {name!r} has no non-missing value in "
                                     f"{reference_name}")
                self.median[name] = float(np.median(values))
                filled = column.fillna(self.median[name]).to_numpy(dtype=np.float64)
                self.centre[name] = np.array([filled.mean()])
                spread = float(filled.std())
                self.scale[name] = spread if spread > 0 else 1.0
                self.columns.append(name)
                continue
            shares = _labels(column).value_counts(normalize=True, sort=False).sort_index()
            self.levels[name] = [str(level) for level in shares.index]
            p: FloatArray = np.asarray(shares.to_numpy(), dtype=np.float64)
            self.centre[name] = np.r_[p, 0.0]
            spread = float(np.sqrt(np.sum(p * (1 - p))))
            self.scale[name] = spread if spread > 0 else 1.0
            self.columns.extend([name] * (p.size + 1))

    def encode(self, frame: pd.DataFrame) -> FloatArray:
        design = np.empty((len(frame), len(self.columns)))
        at = 0
        for name in self.names:
            column = frame[name]
            if name in self.levels:
                if column_kind(column) != "categorical" and not column.isna().all():
                    raise InputError(f"column {name!r} is categorical in {self.reference_name} "
                                     f"but numeric in {self.current_name}")
                levels = self.levels[name]
                codes = pd.Categorical(_labels(column), categories=levels).codes
                raw = np.zeros((len(frame), len(levels) + 1))
                raw[np.arange(len(frame)), np.where(codes < 0, len(levels), codes)] = 1.0
            else:
                if column_kind(column) != "numeric" and not column.isna().all():
                    raise InputError(f"column {name!r} is numeric in {self.reference_name} but "
                                     f"categorical in {self.current_name}")
                raw = column.fillna(self.median[name]).to_numpy(dtype=np.float64)[:, None]
            design[:, at:at + raw.shape[1]] = (raw - self.centre[name]) / self.scale[name]
            at += raw.shape[1]
        return design


def principal_components(design: FloatArray, variance: float) -> tuple[FloatArray, float]:
    """The fewest principal axes of the (centred) design explaining at least ``variance`` of
    its variance, as columns, and the share they explain.

    From the eigendecomposition of the covariance matrix (columns × columns), which gives the
    axes of a full SVD of the rows at a fraction of its cost on a million rows; the component
    count follows scikit-learn's rule for a float ``n_components``.
    """
    centred = design - design.mean(axis=0)
    covariance = centred.T @ centred / max(design.shape[0] - 1, 1)
    values, vectors = np.linalg.eigh(covariance)
    order = np.argsort(values)[::-1]
    values, vectors = np.clip(values[order], 0.0, None), vectors[:, order]
    shares = values / values.sum()
    count = min(int(np.searchsorted(np.cumsum(shares), variance, side="right")) + 1,
                shares.size)
    return vectors[:, :count], float(shares[:count].sum())


def residuals(design: FloatArray, components: FloatArray) -> FloatArray:
    """What the components leave of each row. The encoding centres every column on the
    reference, so the reference's mean is already zero and no other centring is needed."""
    return design - (design @ components) @ components.T


def _labels(column: pd.Series) -> pd.Series:
    return column.astype(str).where(column.notna(), MISSING_LEVEL)


def _normal_estimates(ref_errors: FloatArray, cur_errors: FloatArray
                      ) -> tuple[Estimate, Estimate, Estimate]:
    """Normal intervals of both mean errors and of their ratio − 1 (delta method)."""
    z = 1.959963984540054
    means, ses = [], []
    for errors in (ref_errors, cur_errors):
        means.append(float(errors.mean()))
        ses.append(float(errors.std(ddof=1) / np.sqrt(errors.size)))
    (ref_mean, cur_mean), (ref_se, cur_se) = means, ses
    ratio = cur_mean / ref_mean
    ratio_se = ratio * float(np.hypot(cur_se / cur_mean, ref_se / ref_mean))

    def normal(value: float, se: float, n: int) -> Estimate:
        return Estimate(value=value, ci_low=value - z * se, ci_high=value + z * se,
                        method="normal", n=n)

    return (normal(ref_mean, ref_se, ref_errors.size), normal(cur_mean, cur_se, cur_errors.size),
            normal(ratio - 1, ratio_se, ref_errors.size + cur_errors.size))


def _bootstrap_estimate(value: float, replicates: FloatArray, n: int) -> Estimate:
    low, high = np.quantile(replicates, [0.025, 0.975])
    return Estimate(value=value, ci_low=float(low), ci_high=float(high),
                    method="bootstrap-percentile", n=n)


def _contributions(names: list[str], columns: list[str], ref_residual: FloatArray,
                   cur_residual: FloatArray) -> tuple[FeatureContribution, ...]:
    owner = np.array([names.index(c) for c in columns])
    ref_sq = np.bincount(owner, weights=np.mean(ref_residual**2, axis=0), minlength=len(names))
    cur_sq = np.bincount(owner, weights=np.mean(cur_residual**2, axis=0), minlength=len(names))
    rise = np.maximum(cur_sq - ref_sq, 0.0)
    total = float(rise.sum())
    shares = rise / total if total > 0 else np.zeros(len(names))
    order = np.argsort(-shares, kind="stable")
    contributions = [
        FeatureContribution(feature=names[i], reference_squared_error=float(ref_sq[i]),
                            current_squared_error=float(cur_sq[i]), share=float(shares[i]))
        for i in order]
    return tuple(contributions)

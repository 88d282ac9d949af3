"""Agreement between raters (a judge and clinicians): weighted kappa, ICC, and a verdict on
whether a judge agrees with humans well enough to gate on.

Weighted kappa (Cohen 1968) is ``1 - Σ w·O / Σ w·E`` over the categories' cross-table, with
``O`` the observed shares, ``E`` the shares expected from the two raters' marginals and
``w`` the disagreement weight of a cell: ``|i - j|`` (linear) or ``(i - j)²`` (quadratic) for
category values ``i`` and ``j``, or 1 off the diagonal (unweighted). Its interval is a seeded
percentile bootstrap over rated items.

ICC(2,1) (two-way random effects, absolute agreement, single rater) and ICC(3,1) (two-way
mixed, consistency, single rater) follow Shrout and Fleiss (1979) from the two-way ANOVA mean
squares, with their F-distribution intervals (for ICC(2,1) the Satterthwaite degrees of freedom
of Shrout and Fleiss; McGraw and Wong 1996 give the same).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pydantic import BaseModel, ConfigDict
from scipy import stats

from assay.errors import InputError, UndefinedMetricError
from assay.metrics._estimate import format_interval

__all__ = ["AgreementEstimate", "Calibration", "KappaWeights", "calibration", "icc",
           "weighted_kappa"]

KappaWeights = Literal["quadratic", "linear", "none"]
IccForm = Literal["ICC(2,1)", "ICC(3,1)"]
FloatArray = NDArray[np.float64]
_CHUNK = 256


class AgreementEstimate(BaseModel):
    """An agreement statistic with its interval: ``n`` rated items, ``raters`` raters.

    ``n_boot`` and ``n_undefined`` (replicates dropped because kappa had no value on them,
    for example when both raters used one category) are set for bootstrap intervals.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    statistic: str
    value: float
    ci_low: float | None
    ci_high: float | None
    level: float
    method: Literal["bootstrap-percentile", "f-distribution", "none"]
    n: int
    raters: int = 2
    n_boot: int | None = None
    n_undefined: int = 0

    def __str__(self) -> str:
        return format_interval(self.value, self.ci_low, self.ci_high)


def _categories(values: FloatArray, name: str) -> FloatArray:
    if not np.isfinite(values).all():
        raise InputError(f"{name} has missing or infinite values; drop those items first")
    off = values[values != np.round(values)]
    if off.size:
        raise InputError(f"kappa needs category values (integers); {name} has {off[0]:g}")
    return values


def _weight_matrix(categories: FloatArray, weights: KappaWeights) -> FloatArray:
    distance = np.abs(categories[:, None] - categories[None, :])
    if weights == "linear":
        return distance
    if weights == "quadratic":
        return distance ** 2
    if weights == "none":
        return (distance > 0).astype(np.float64)
    raise InputError(f"weights must be 'quadratic', 'linear' or 'none', got {weights!r}")


def _kappas(tables: FloatArray, weight: FloatArray) -> FloatArray:
    """Kappa of each ``(K, K)`` count table stacked along the first axis (NaN if undefined)."""
    shares = tables / tables.sum(axis=(1, 2), keepdims=True)
    observed = np.einsum("rij,ij->r", shares, weight)
    expected = np.einsum("ri,rj,ij->r", shares.sum(axis=2), shares.sum(axis=1), weight)
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = 1.0 - observed / expected
    return np.where(expected > 1e-12, kappa, np.nan)


def weighted_kappa(rater_a: ArrayLike, rater_b: ArrayLike, *,
                   weights: KappaWeights = "quadratic", categories: ArrayLike | None = None,
                   level: float = 0.95, n_boot: int = 2000, seed: int = 0) -> AgreementEstimate:
    """Cohen's kappa between two raters' category values, weighted, with a bootstrap interval.

    ``categories`` are the possible values (default: those either rater used); weights use the
    distance between values, so pass the whole scale (``range(1, 6)``) when a middle value
    went unused. The interval is the percentile interval of ``n_boot`` resamples of the rated
    items drawn with ``seed``. Kappa is undefined (:class:`~assay.errors.UndefinedMetricError`)
    when chance alone would give full agreement, as when both raters used one value.

    Examples
    --------
    >>> str(weighted_kappa([1, 2, 3, 4, 5, 5], [1, 2, 3, 5, 5, 4], n_boot=200))
    '0.925 (0.568–1.000)'
    """
    a = _categories(np.asarray(rater_a, dtype=np.float64).ravel(), "rater_a")
    b = _categories(np.asarray(rater_b, dtype=np.float64).ravel(), "rater_b")
    if a.size != b.size:
        raise InputError(f"the raters rated different numbers of items ({a.size} and {b.size})")
    if a.size < 2:
        raise InputError(f"kappa needs at least 2 rated items, got {a.size}")
    if not 0 < level < 1:
        raise InputError(f"level must be in (0, 1), got {level}")
    if n_boot < 0:
        raise InputError(f"n_boot must be 0 or more, got {n_boot}")
    levels = np.unique(np.concatenate([a, b])) if categories is None else np.unique(
        _categories(np.asarray(categories, dtype=np.float64).ravel(), "categories"))
    unknown = np.setdiff1d(np.concatenate([a, b]), levels)
    if unknown.size:
        raise InputError(f"value {unknown[0]:g} is not among the categories")
    weight = _weight_matrix(levels, weights)
    k = levels.size
    codes = np.searchsorted(levels, a) * k + np.searchsorted(levels, b)
    table = np.bincount(codes, minlength=k * k).reshape(1, k, k).astype(np.float64)
    value = float(_kappas(table, weight)[0])
    name = f"kappa ({weights})" if weights != "none" else "kappa (unweighted)"
    if math.isnan(value):
        raise UndefinedMetricError(f"{name} is undefined: the raters' marginals leave no room "
                                   "for disagreement by chance (both used one value)")
    if n_boot == 0:
        return AgreementEstimate(statistic=name, value=value, ci_low=None, ci_high=None,
                                 level=level, method="none", n=a.size)
    rng = np.random.Generator(np.random.SFC64(np.random.SeedSequence(seed)))
    replicates = []
    for start in range(0, n_boot, _CHUNK):
        count = min(_CHUNK, n_boot - start)
        drawn = codes[rng.integers(0, a.size, size=(count, a.size))]
        drawn += (np.arange(count) * k * k)[:, None]
        tables = np.bincount(drawn.ravel(), minlength=count * k * k).reshape(count, k, k)
        replicates.append(_kappas(tables.astype(np.float64), weight))
    values = np.concatenate(replicates)
    kept = values[~np.isnan(values)]
    if kept.size < 2:
        return AgreementEstimate(statistic=name, value=value, ci_low=None, ci_high=None,
                                 level=level, method="none", n=a.size, n_boot=n_boot,
                                 n_undefined=n_boot - kept.size)
    low, high = np.quantile(kept, [(1 - level) / 2, (1 + level) / 2])
    return AgreementEstimate(statistic=name, value=value, ci_low=float(low),
                             ci_high=float(high), level=level, method="bootstrap-percentile",
                             n=a.size, n_boot=n_boot, n_undefined=n_boot - kept.size)


def _mean_squares(ratings: FloatArray) -> tuple[float, float, float]:
    n, k = ratings.shape
    grand = ratings.mean()
    between_items = k * float(((ratings.mean(axis=1) - grand) ** 2).sum())
    between_raters = n * float(((ratings.mean(axis=0) - grand) ** 2).sum())
    residual = float(((ratings - grand) ** 2).sum()) - between_items - between_raters
    return (between_items / (n - 1), between_raters / (k - 1),
            max(residual, 0.0) / ((n - 1) * (k - 1)))


def icc(ratings: ArrayLike, *, form: IccForm = "ICC(2,1)", level: float = 0.95
        ) -> AgreementEstimate:
    """The intraclass correlation of one rater's scores, with its F-distribution interval.

    ``ratings`` has one row per rated item and one column per rater, complete. ``ICC(2,1)``
    measures absolute agreement with raters seen as a sample of possible raters (a judge that
    scores everything one point high is penalised); ``ICC(3,1)`` measures consistency with
    these raters fixed (a constant offset is not penalised).

    Examples
    --------
    >>> shrout_fleiss = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9],
    ...                  [6, 2, 4, 7]]
    >>> str(icc(shrout_fleiss)), str(icc(shrout_fleiss, form="ICC(3,1)"))
    ('0.290 (0.019–0.761)', '0.715 (0.342–0.946)')
    """
    table = np.asarray(ratings, dtype=np.float64)
    if table.ndim != 2 or table.shape[0] < 2 or table.shape[1] < 2:
        raise InputError("ratings must be a table with one row per item and one column per "
                         f"rater, at least 2 x 2 (got shape {table.shape})")
    if not np.isfinite(table).all():
        rows = int((~np.isfinite(table)).any(axis=1).sum())
        raise InputError(f"ratings have missing values in {rows} rows; ICC needs every item "
                         "rated by every rater")
    if not 0 < level < 1:
        raise InputError(f"level must be in (0, 1), got {level}")
    if form not in ("ICC(2,1)", "ICC(3,1)"):
        raise InputError(f"form must be 'ICC(2,1)' or 'ICC(3,1)', got {form!r}")
    n, k = table.shape
    ms_items, ms_raters, ms_error = _mean_squares(table)
    alpha = 1 - level
    if form == "ICC(3,1)":
        denominator = ms_items + (k - 1) * ms_error
        if denominator <= 0:
            raise UndefinedMetricError("ICC(3,1) is undefined: every rating is the same")
        value = (ms_items - ms_error) / denominator
        if ms_error == 0:
            low = high = 1.0
        else:
            f_items = ms_items / ms_error
            df_items, df_error = n - 1, (n - 1) * (k - 1)
            f_low = f_items / stats.f.ppf(1 - alpha / 2, df_items, df_error)
            f_high = f_items * stats.f.ppf(1 - alpha / 2, df_error, df_items)
            low, high = (f_low - 1) / (f_low + k - 1), (f_high - 1) / (f_high + k - 1)
    else:
        denominator = ms_items + (k - 1) * ms_error + k * (ms_raters - ms_error) / n
        if denominator <= 0:
            raise UndefinedMetricError("ICC(2,1) is undefined: every rating is the same")
        value = (ms_items - ms_error) / denominator
        low, high = _icc2_interval(value, ms_items, ms_raters, ms_error, n, k, alpha)
    return AgreementEstimate(statistic=form, value=float(value), ci_low=float(low),
                             ci_high=float(high), level=level, method="f-distribution", n=n,
                             raters=k)


def _icc2_interval(value: float, ms_items: float, ms_raters: float, ms_error: float, n: int,
                   k: int, alpha: float) -> tuple[float, float]:
    # Shrout & Fleiss (1979) eq. for ICC(2,1), written without dividing by ms_error.
    spread = n * (1 + (k - 1) * value) - k * value
    numerator = (k - 1) * (n - 1) * (k * value * ms_raters + spread * ms_error) ** 2
    denominator = (n - 1) * (k * value * ms_raters) ** 2 + (spread * ms_error) ** 2
    df = numerator / denominator
    f_upper = stats.f.ppf(1 - alpha / 2, n - 1, df)
    f_lower = stats.f.ppf(1 - alpha / 2, df, n - 1)
    rest = k * ms_raters + (k * n - k - n) * ms_error
    low = n * (ms_items - f_upper * ms_error) / (f_upper * rest + n * ms_items)
    high = n * (f_lower * ms_items - ms_error) / (rest + n * f_lower * ms_items)
    return low, high


class Calibration(BaseModel):
    """Whether a judge agrees with human ratings well enough to gate on, and in what words.

    ``fit_for_gating`` is true when kappa's lower confidence bound reaches ``min_kappa``.
    ``pairs`` counts items with both a judge score and a human label; ``unscored`` items the
    judge left unscored and ``unlabelled`` items without a human label (both left out).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kappa: AgreementEstimate | None
    min_kappa: float
    pairs: int
    unscored: int
    unlabelled: int
    exact_agreement: float | None
    fit_for_gating: bool
    verdict: str


def calibration(judge_scores: Sequence[float | None], human_labels: Sequence[float | None], *,
                min_kappa: float = 0.6, weights: KappaWeights = "quadratic",
                categories: ArrayLike | None = None, level: float = 0.95, n_boot: int = 2000,
                seed: int = 0) -> Calibration:
    """Say whether a judge can gate: kappa against human labels, with a plain verdict.

    Items where the judge gave no score (None) or no human label exists (None) are left out
    and counted. The judge is called fit for gating when the lower bound of the ``level``
    interval of weighted kappa reaches ``min_kappa``; the verdict says what was measured and
    on how many items.
    """
    if len(judge_scores) != len(human_labels):
        raise InputError(f"judge_scores has {len(judge_scores)} items and human_labels "
                         f"{len(human_labels)}; they must be aligned item by item")
    if not -1 <= min_kappa <= 1:
        raise InputError(f"min_kappa must be in [-1, 1], got {min_kappa}")
    pairs = [(j, h) for j, h in zip(judge_scores, human_labels, strict=True)
             if j is not None and h is not None]
    unscored = sum(j is None for j in judge_scores)
    unlabelled = sum(j is not None and h is None
                     for j, h in zip(judge_scores, human_labels, strict=True))
    left_out = _left_out(unscored, unlabelled)
    common: dict[str, Any] = {"min_kappa": min_kappa, "pairs": len(pairs),
                              "unscored": unscored, "unlabelled": unlabelled}
    if len(pairs) < 2:
        return Calibration(**common, kappa=None, exact_agreement=None, fit_for_gating=False,
                           verdict=f"Only {len(pairs)} item(s) have both a judge score and a "
                           f"human label{left_out}; agreement cannot be measured, so the "
                           "judge is not fit for gating.")
    judge, human = np.array(pairs, dtype=np.float64).T
    exact = float((judge == human).mean())
    try:
        kappa = weighted_kappa(judge, human, weights=weights, categories=categories,
                               level=level, n_boot=n_boot, seed=seed)
    except UndefinedMetricError as exc:
        return Calibration(**common, kappa=None, exact_agreement=exact, fit_for_gating=False,
                           verdict=f"Agreement with the human labels cannot be measured on "
                           f"{len(pairs)} items{left_out}: {exc}. The judge is not fit for "
                           "gating until it is calibrated on ratings that vary.")
    measured = (f"Weighted kappa ({weights}) between the judge and the human labels is "
                f"{kappa.value:.2f}")
    if kappa.ci_low is None:
        fit = False
        why = "no interval could be computed, so its lower bound cannot be checked"
    else:
        fit = kappa.ci_low >= min_kappa
        measured += f" ({level:.0%} CI {kappa.ci_low:.2f} to {kappa.ci_high:.2f})"
        why = (f"the lower bound {kappa.ci_low:.2f} "
               + (f"reaches the required {min_kappa:.2f}" if fit
                  else f"is below the required {min_kappa:.2f}"))
    conclusion = ("the judge agrees with the human raters well enough to be used for gating "
                  "on data like these" if fit else
                  "the judge should not be used for gating; review where it disagrees with "
                  "the raters, revise the rubric or the model, and calibrate again")
    verdict = (f"{measured} on {len(pairs)} items{left_out}; exact agreement "
               f"{exact:.0%}. {why[0].upper()}{why[1:]}, so {conclusion}.")
    return Calibration(**common, kappa=kappa, exact_agreement=exact, fit_for_gating=fit,
                       verdict=verdict)


def _left_out(unscored: int, unlabelled: int) -> str:
    parts = []
    if unscored:
        parts.append(f"{unscored} the judge left unscored")
    if unlabelled:
        parts.append(f"{unlabelled} without a human label")
    return f" ({' and '.join(parts)} left out)" if parts else ""

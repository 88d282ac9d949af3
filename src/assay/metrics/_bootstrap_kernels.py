"""Replicates of threshold metrics and of the Brier score without the generic path: two more
fast paths of :mod:`assay.metrics._bootstrap` (the AUROC one is in
:mod:`assay.metrics._bootstrap_auroc`).

Threshold metrics: the counts are drawn, not the rows
-----------------------------------------------------
A registered metric of score kind ``threshold`` (sensitivity, specificity, PPV, NPV, accuracy,
flag rate, F1, ...) reads the score only through the flag ``score >= threshold``, and its
weights are frequency weights, so its value is a function of the weighted number of rows in
each *cell*: outcome × flag (× the flag of the second score in a paired bootstrap). Without
user weights, a resample draws, in each stratum of ``N`` rows, ``N`` rows uniformly with
replacement; each draw falls in cell ``c`` with probability ``n_c / N`` (``n_c`` the stratum's
rows in cell ``c``), independently, so the drawn counts of the cells are exactly
``Multinomial(N, (n_c / N)_c)``, independently across strata. For the outcome-stratified
bootstrap of one score that is two binomials: drawn true positives
``~ Binomial(n_cases, TP / n_cases)`` and drawn false positives
``~ Binomial(n_controls, FP / n_controls)``.

A replicate therefore draws these counts (O(1) work instead of O(n)) and evaluates the
registered metric on one representative row per cell (its outcome, and as score the threshold
if flagged or the next float below it if not) with the drawn counts as weights. That is the
metric's value on every resample with those counts, bit for bit: the confusion counts are
sums of the same integers. The replicates have the distribution of the generic path's
replicates but are other numbers for the same seed (the generic path draws row positions);
the probabilities ``n_c / N`` are rounded to the nearest double, the only departure from the
exact distribution. With user weights the drawn weight of a cell is a sum of weights, not a
count, so weighted data keep the generic path.

Brier score: the draws summed directly
--------------------------------------
The Brier score of a resample is ``Σ c_i w_i (p_i − y_i)² / Σ c_i w_i`` over the resample
counts ``c_i`` (``w_i = 1`` without weights). The replicate makes the same draws as the generic
path (the block scheme of :mod:`assay.metrics._bootstrap`) and sums the squared errors (times
the weights) gathered at the drawn positions of each block, without building the count vector
or repeating the input checks: the same resample, the same value up to the order of the
floating-point sum (the tests check agreement to 1e-12).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from assay.errors import UndefinedMetricError
from assay.metrics._bootstrap_auroc import BLOCK
from assay.metrics._registry import MetricSpec, get_metric

__all__ = ["ConfusionKernel", "MeanKernel", "confusion_kernel", "mean_kernel"]

FloatArray = NDArray[np.float64]
IndexArray = NDArray[np.intp]


class ConfusionKernel:
    """Replicates of a threshold metric from drawn cell counts (see the module notes).

    Parameters
    ----------
    spec
        A registered metric of score kind ``threshold``.
    y
        The 0/1 outcome, row order.
    keys
        The scores (one, or two for a paired bootstrap), row order.
    strata
        Row numbers of each stratum of the resampler.
    params
        The metric's parameters, including ``threshold``.
    """

    def __init__(
        self,
        spec: MetricSpec,
        y: NDArray[Any],
        keys: Sequence[FloatArray],
        strata: Sequence[IndexArray],
        params: dict[str, Any],
    ) -> None:
        threshold = float(params["threshold"])
        cell = np.asarray(y, dtype=np.intp).copy()  # bit 0: the outcome
        for j, key in enumerate(keys):
            cell |= (key >= threshold).astype(np.intp) << (j + 1)  # bit j + 1: flag of key j
        n_cells = 2 ** (len(keys) + 1)
        self.strata_sizes = [int(rows.size) for rows in strata]
        self.shares = [np.bincount(cell[rows], minlength=n_cells) / rows.size for rows in strata]
        codes = np.arange(n_cells)
        self.outcome = (codes & 1).astype(np.int8)
        below = np.nextafter(threshold, -np.inf)
        self.scores = [
            np.where((codes >> (j + 1)) & 1 == 1, threshold, below) for j in range(len(keys))
        ]
        self.spec = spec
        self.params = params

    def cell_counts(self, rng: np.random.Generator) -> NDArray[np.int64]:
        """Drawn rows per cell, summed over the strata."""
        counts = np.zeros(self.outcome.size, dtype=np.int64)
        for size, shares in zip(self.strata_sizes, self.shares, strict=True):
            counts += rng.multinomial(size, shares)
        return counts

    def from_counts(self, counts: NDArray[Any]) -> FloatArray:
        """The metric for each score given the rows per cell."""
        weights = np.asarray(counts, dtype=np.float64)
        return np.array(
            [
                float(self.spec.fn(self.outcome, score, sample_weight=weights, **self.params))
                for score in self.scores
            ]
        )

    def replicate(self, rng: np.random.Generator) -> FloatArray:
        """One replicate's value for each score."""
        return self.from_counts(self.cell_counts(rng))


class MeanKernel:
    """Replicates of a weighted mean of per-row terms from the draws (see the module notes).

    Parameters
    ----------
    terms
        One array of per-row terms for each score, row order.
    weights
        User weights, or ``None``.
    strata
        Row numbers of each stratum of the resampler, in indexing order.
    """

    def __init__(
        self,
        terms: Sequence[FloatArray],
        weights: FloatArray | None,
        strata: Sequence[IndexArray],
    ) -> None:
        def blocks(values: FloatArray, rows: IndexArray) -> list[FloatArray]:
            ordered = values[rows]
            return [ordered[start : start + BLOCK] for start in range(0, rows.size, BLOCK)]

        weighted = [t if weights is None else t * weights for t in terms]
        self.numerators = [[blocks(t, rows) for rows in strata] for t in weighted]
        self.denominators = None if weights is None else [blocks(weights, rows) for rows in strata]

    def from_draws(self, draws: list[list[NDArray[Any]]]) -> FloatArray:
        """The mean for each score given the drawn positions of each stratum's blocks."""
        if self.denominators is None:
            total = float(sum(drawn.size for blocks in draws for drawn in blocks))
        else:
            total = _gathered_sum(self.denominators, draws)
        if total <= 0:
            raise UndefinedMetricError("no rows (or every weight is zero)")
        return np.array([_gathered_sum(blocks, draws) / total for blocks in self.numerators])


def _gathered_sum(values: list[list[FloatArray]], draws: list[list[NDArray[Any]]]) -> float:
    total = 0.0
    for stratum_values, stratum_draws in zip(values, draws, strict=True):
        for block, drawn in zip(stratum_values, stratum_draws, strict=True):
            total += float(np.take(block, drawn).sum())
    return total


def confusion_kernel(
    spec: MetricSpec,
    y: NDArray[Any],
    keys: Sequence[FloatArray],
    strata: Sequence[IndexArray],
    weights: FloatArray | None,
    params: dict[str, Any],
) -> ConfusionKernel | None:
    """The threshold-metric kernel when it applies (registered, binary, unweighted), else None.

    Call it after the metric has been evaluated on all rows, which checked the threshold.
    """
    if weights is not None or not keys or spec.task != "binary" or spec.score_kind != "threshold":
        return None
    if not _registered(spec) or set(params) != {"threshold"}:
        return None
    return ConfusionKernel(spec, y, keys, strata, params)


def mean_kernel(
    spec: MetricSpec,
    y: NDArray[Any],
    keys: Sequence[FloatArray],
    strata: Sequence[IndexArray],
    weights: FloatArray | None,
    params: dict[str, Any],
) -> MeanKernel | None:
    """The Brier-score kernel when it applies, else None.

    Call it after the metric has been evaluated on all rows, which checked the probabilities.
    """
    if spec.name != "brier" or params or not keys or not _registered(spec):
        return None
    outcome = np.asarray(y, dtype=np.float64)
    return MeanKernel([(key - outcome) ** 2 for key in keys], weights, strata)


def _registered(spec: MetricSpec) -> bool:
    """Whether ``spec`` is the registry's own entry (not a user spec reusing its name)."""
    try:
        return get_metric(spec.name) is spec
    except KeyError:
        return False

"""Seeded, stratified bootstrap of any registered metric (the resampling engine).

Resampling scheme
-----------------
Rows are split into strata: one per outcome value when ``stratified`` (binary and multiclass
targets; a regression target is one stratum), else one stratum of all rows. Within a stratum
the rows are indexed in the order of a stable sort of the score (the order of the rows when
the score is not one-dimensional), which makes the resamples independent of the row order of
the input. Each replicate draws, for each stratum of size ``N``, ``N`` positions uniformly with
replacement, so the class counts are kept. The draw is done in blocks of 65,536 positions:
the number of draws falling in each block is multinomial in the block sizes, and the draws
within a full block are 16-bit integers (exactly uniform and cheap to generate); together they
are exactly ``N`` uniform draws. The drawn positions become integer count weights, which
multiply the user's ``sample_weight`` and are passed to the metric as ``sample_weight``
(every registered metric takes frequency weights, so this equals calling it on the resampled
rows).

Seeding
-------
Replicate ``r`` uses its own generator ``Generator(SFC64(SeedSequence(seed, spawn_key=(r,))))``
(the ``r``-th child of ``SeedSequence(seed)``), so the numbers do not depend on how the
replicates are spread over threads, and the first ``B`` replicates are the same whatever
``n_boot``. Nothing global is read or changed.

Fast paths
----------
For ``auroc`` with a stratified bootstrap the replicate's value is computed from the draws
without sorting, by :class:`assay.metrics._bootstrap_auroc.AurocKernel` (see that module):
the same resamples as the generic path, the same values. For ``brier`` the squared errors at
the drawn positions are summed directly (the same resamples, the same values up to rounding);
for the threshold metrics on unweighted data the replicate draws the confusion counts
themselves, which have exactly the distribution the drawn rows give them but are not the
counts of the generic path's draws for the same seed. These two are described in
:mod:`assay.metrics._bootstrap_kernels`. ``fast_path=False`` forces the generic path.

References
----------
B. Efron (1987). Better bootstrap confidence intervals. *JASA* 82(397):171-185.
A. C. Davison, D. V. Hinkley (1997). *Bootstrap Methods and their Application*. Cambridge.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from assay.errors import InputError, UndefinedMetricError
from assay.metrics._bootstrap_auroc import BLOCK, AurocKernel
from assay.metrics._bootstrap_kernels import (
    ConfusionKernel,
    MeanKernel,
    confusion_kernel,
    mean_kernel,
)
from assay.metrics._inputs import as_binary_target, as_float_array, as_weights
from assay.metrics._registry import MetricSpec, get_metric

__all__ = ["Replicates", "Resampler", "paired_replicates", "replicates"]

FloatArray = NDArray[np.float64]
IndexArray = NDArray[np.intp]


class Resampler:
    """The resampling scheme of the module notes, for fixed strata.

    Parameters
    ----------
    strata
        For each stratum, its row numbers in indexing order.
    n_rows
        Total number of rows.
    """

    def __init__(self, strata: Sequence[IndexArray], n_rows: int) -> None:
        self.strata = [np.asarray(rows, dtype=np.intp) for rows in strata]
        self.n_rows = n_rows

    @staticmethod
    def generator(seed: int, replicate: int) -> np.random.Generator:
        """The generator of one replicate."""
        sequence = np.random.SeedSequence(seed, spawn_key=(replicate,))
        return np.random.Generator(np.random.SFC64(sequence))

    def draws(self, rng: np.random.Generator) -> list[list[NDArray[Any]]]:
        """For each stratum, for each block, the drawn positions within the block."""
        result = []
        for rows in self.strata:
            size = rows.size
            sizes = [min(BLOCK, size - start) for start in range(0, size, BLOCK)]
            per_block = (
                rng.multinomial(size, np.asarray(sizes) / size) if len(sizes) > 1 else [size]
            )
            result.append(
                [
                    rng.integers(0, BLOCK, count, dtype=np.uint16)
                    if block == BLOCK
                    else rng.integers(0, block, count, dtype=np.int32)
                    for block, count in zip(sizes, per_block, strict=True)
                ]
            )
        return result

    def counts(self, draws: list[list[NDArray[Any]]]) -> FloatArray:
        """How many times each row was drawn (in row order)."""
        counts = np.zeros(self.n_rows)
        for rows, blocks in zip(self.strata, draws, strict=True):
            per_position = [
                np.bincount(d, minlength=min(BLOCK, rows.size - b * BLOCK))
                for b, d in enumerate(blocks)
            ]
            if per_position:
                counts[rows] = np.concatenate(per_position)
        return counts


def make_strata(
    labels: NDArray[Any] | None, order_keys: Sequence[FloatArray], n_rows: int
) -> list[IndexArray]:
    """Row numbers per stratum (one per label value, or all rows), sorted by the keys."""
    groups = (
        [np.arange(n_rows)]
        if labels is None
        else [np.flatnonzero(labels == value) for value in np.unique(labels)]
    )
    if not order_keys:
        return groups
    return [rows[_stable_order([key[rows] for key in order_keys])] for rows in groups]


def _stable_order(keys: list[FloatArray]) -> IndexArray:
    """Stable sort order by the keys, primary first (a fast unstable sort when untied)."""
    if len(keys) == 1:
        order = np.argsort(keys[0])
        ordered = keys[0][order]
        if not np.any(ordered[1:] == ordered[:-1]):
            return order  # no ties: every sort gives this order
    return np.lexsort(keys[::-1])


@dataclass(frozen=True)
class Replicates:
    """Bootstrap replicates of one metric on one or more scores (the same resamples).

    Attributes
    ----------
    metric
        Metric name.
    point
        The metric on all rows, one value per score.
    replicates
        ``(B, k)`` values of the kept replicates, in replicate order (read-only).
    n_boot
        Replicates drawn.
    n_undefined
        Replicates dropped because the metric was undefined (for any score).
    n, n_events
        Rows, and positive rows for a binary outcome.
    stratified
        Whether the resampling kept the count of each outcome value.
    """

    metric: str
    point: tuple[float, ...]
    replicates: FloatArray
    n_boot: int
    n_undefined: int
    n: int
    n_events: int | None
    stratified: bool
    jackknife: Callable[[int, int], FloatArray]
    """``jackknife(n_groups, seed)``: the grouped jackknife values, ``(G, k)``."""


def replicates(
    metric: str | MetricSpec,
    y_true: ArrayLike,
    y_score: ArrayLike,
    **options: Any,
) -> Replicates:
    """Bootstrap replicates of a metric for one score (see :func:`paired_replicates`)."""
    return _replicates(metric, y_true, [y_score], **options)


def paired_replicates(
    metric: str | MetricSpec,
    y_true: ArrayLike,
    score_a: ArrayLike,
    score_b: ArrayLike,
    **options: Any,
) -> Replicates:
    """Bootstrap replicates of a metric for two scores under the same resamples.

    The strata are indexed by score ``a`` then ``b``. Options are those of
    :func:`assay.metrics.intervals.bootstrap_metric` except the interval settings.
    """
    return _replicates(metric, y_true, [score_a, score_b], **options)


def _replicates(
    metric: str | MetricSpec,
    y_true: ArrayLike,
    scores: list[ArrayLike],
    *,
    n_boot: int = 1000,
    seed: int = 0,
    stratified: bool = True,
    sample_weight: ArrayLike | None = None,
    max_undefined_share: float = 0.01,
    n_threads: int | None = None,
    fast_path: bool = True,
    **params: Any,
) -> Replicates:
    spec = get_metric(metric) if isinstance(metric, str) else metric
    _check_options(n_boot, seed, max_undefined_share)
    if spec.task == "binary":
        y: NDArray[Any] = as_binary_target(y_true)
    else:
        y = np.asarray(y_true)
    arrays = [np.asarray(s) for s in scores]
    names = ("y_score",) if len(arrays) == 1 else ("score_a", "score_b")
    for name, array in zip(names, arrays, strict=True):
        if array.shape[:1] != y.shape[:1]:
            raise InputError(f"{name} has {array.shape[0]} rows, expected {y.shape[0]}")
    n = int(y.shape[0])
    weights = as_weights(sample_weight, n)
    keys = (
        [as_float_array(s, nm) for s, nm in zip(arrays, names, strict=True)]
        if arrays[0].ndim == 1
        else []
    )
    labels = y if stratified and spec.stratify and spec.task != "regression" else None
    resampler = Resampler(make_strata(labels, keys, n), n)

    def evaluate(w: FloatArray | None) -> FloatArray:
        return np.array([float(spec.fn(y, s, sample_weight=w, **params)) for s in arrays])

    kernels: list[AurocKernel] | None = None
    fast = fast_path and spec.name == "auroc" and labels is not None and not params
    if fast and len(resampler.strata) == 2:
        controls, cases = resampler.strata  # labels 0 then 1
        kernels = [AurocKernel(key, weights, cases, controls) for key in keys]
    if kernels is not None and weights is None:
        # unweighted, the kernel's integer arithmetic gives the metric's value bit for bit
        point = np.array(
            [k.from_counts(np.ones(cases.size), np.ones(controls.size)) for k in kernels]
        )
    else:
        point = evaluate(weights)

    counting: ConfusionKernel | None = None
    summing: MeanKernel | None = None
    if fast_path and kernels is None:  # after the point estimate, which checked the inputs
        counting = confusion_kernel(spec, y, keys, resampler.strata, weights, params)
        summing = mean_kernel(spec, y, keys, resampler.strata, weights, params)

    def one(r: int) -> FloatArray:
        rng = Resampler.generator(seed, r)
        if counting is not None:
            return counting.replicate(rng)
        draws = resampler.draws(rng)
        if kernels is not None:
            return np.array([k.from_draws(draws[1], draws[0]) for k in kernels])
        if summing is not None:
            return summing.from_draws(draws)
        counts = resampler.counts(draws)
        return evaluate(counts if weights is None else counts * weights)

    # drawing the cell counts takes microseconds: threads would only contend for the GIL
    threads = 1 if counting is not None and n_threads is None else _threads(n_threads, n)
    values, reasons = _run(one, n_boot, len(arrays), threads)
    undefined = ~np.isfinite(values).all(axis=1)
    n_undefined = int(undefined.sum())
    if n_undefined > max_undefined_share * n_boot:
        first = next((reason for reason in reasons if reason), "a non-finite value")
        raise UndefinedMetricError(
            f"{spec.name} was undefined in {n_undefined} of {n_boot} bootstrap replicates "
            f"(more than the {max_undefined_share:.0%} allowed), first because of: {first}. "
            "An interval from the remaining replicates would describe only the resamples where "
            "the metric exists; use more data or a stratified bootstrap."
        )
    kept = values[~undefined]
    kept.setflags(write=False)

    def jackknife(n_groups: int, jk_seed: int) -> FloatArray:
        group = _jackknife_groups(resampler, n_groups, jk_seed)
        out = np.empty((int(group.max()) + 1, len(arrays)))
        for g in range(out.shape[0]):
            keep = (group != g).astype(np.float64)
            w = keep if weights is None else keep * weights
            try:
                if kernels is not None:
                    cases, controls = resampler.strata[1], resampler.strata[0]
                    out[g] = [k.from_counts(w[cases], w[controls]) for k in kernels]
                else:
                    out[g] = evaluate(w)
            except UndefinedMetricError as exc:
                raise UndefinedMetricError(
                    f"the BCa acceleration needs {spec.name} with each jackknife group left "
                    f"out, but it is undefined without group {g}: {exc}; use the percentile "
                    "interval"
                ) from exc
        return out

    return Replicates(
        metric=spec.name,
        point=tuple(float(v) for v in point),
        replicates=kept,
        n_boot=n_boot,
        n_undefined=n_undefined,
        n=n,
        n_events=int(np.count_nonzero(y == 1)) if spec.task == "binary" else None,
        stratified=labels is not None,
        jackknife=jackknife,
    )


def _check_options(n_boot: int, seed: int, max_undefined_share: float) -> None:
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 10:
        raise InputError(f"n_boot must be an integer of at least 10, got {n_boot!r}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise InputError(f"seed must be a non-negative integer, got {seed!r}")
    if not 0 <= max_undefined_share < 1:
        raise InputError(f"max_undefined_share must be in [0, 1), got {max_undefined_share}")


def _threads(requested: int | None, n_rows: int) -> int:
    """Worker threads: as requested, else up to 8 for large data (numpy releases the GIL)."""
    if requested is not None:
        if requested < 1:
            raise InputError(f"n_threads must be at least 1, got {requested}")
        return requested
    return 1 if n_rows < 20_000 else max(1, min(8, os.cpu_count() or 1))


def _run(
    one: Callable[[int], FloatArray], n_boot: int, width: int, n_threads: int
) -> tuple[FloatArray, list[str]]:
    """Evaluate replicates ``0..n_boot-1``; undefined ones are NaN with their reason kept."""
    values = np.full((n_boot, width), np.nan)
    reasons = [""] * n_boot

    def run_range(start: int, stop: int) -> None:
        for r in range(start, stop):
            try:
                values[r] = one(r)
            except UndefinedMetricError as exc:
                reasons[r] = str(exc)

    edges = np.linspace(0, n_boot, n_threads + 1).astype(int)
    if n_threads == 1:
        run_range(0, n_boot)
    else:
        with ThreadPoolExecutor(max_workers=n_threads) as pool:
            futures = [pool.submit(run_range, int(a), int(b)) for a, b in itertools.pairwise(edges)]
            for future in futures:
                future.result()
    return values, reasons


def _jackknife_groups(resampler: Resampler, n_groups: int, seed: int) -> IndexArray:
    """Group of each row: leave-one-out up to ``n_groups`` rows, else stratified random groups.

    Within each stratum the rows are shuffled with ``SFC64(SeedSequence(seed))`` (a stream no
    replicate uses) and dealt round-robin into ``n_groups`` groups, so each group holds about
    ``1/n_groups`` of every stratum.
    """
    if resampler.n_rows <= n_groups:
        return np.arange(resampler.n_rows)
    rng = np.random.Generator(np.random.SFC64(np.random.SeedSequence(seed)))
    group = np.empty(resampler.n_rows, dtype=np.intp)
    for rows in resampler.strata:
        group[rows[rng.permutation(rows.size)]] = np.arange(rows.size) % n_groups
    return group

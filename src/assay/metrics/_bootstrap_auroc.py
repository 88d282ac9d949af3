"""AUROC of a bootstrap resample from its draws: the fast path of :mod:`assay.metrics._bootstrap`.

For ``auroc`` with a stratified bootstrap the replicate's value is computed from the draws
without sorting: after an O(n log n) preparation each case is mapped to the index ``k`` of its
score among the distinct case scores, and each control to a bin (the gap between two
consecutive distinct case scores it lies in, or the distinct case score it ties). A replicate
counts its drawn cases per distinct score (``c_k``), turns the counts into twice the placement
of a control in each bin (``2 ×`` resampled cases above it ``+`` resampled cases tied with it,
a reversed cumulative sum of ``c``) and sums that over the drawn controls:

.. math:: \\mathrm{AUROC}^* = \\frac{\\sum_{j \\in \\text{drawn controls}}
          \\left(2 A_j + T_j\\right)}{2\\, W_1^* W_0^*}

with ``A_j``, ``T_j`` the resampled case weight above and tied with control ``j`` and
``W_1^*``, ``W_0^*`` the resampled case and control weights. Unweighted, every term is an
exact integer, so the value equals the generic path bit for bit for the same resample (the
tests check this).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from assay.errors import UndefinedMetricError

__all__ = ["BLOCK", "AurocKernel"]

FloatArray = NDArray[np.float64]
IndexArray = NDArray[np.intp]
BLOCK = 65536
"""Positions per resampling block (the range of a 16-bit draw)."""


class AurocKernel:
    """AUROC of a resample from its draws (the fast path of the module notes).

    Parameters
    ----------
    score
        The score, row order.
    weights
        User weights, or ``None``.
    case_rows, control_rows
        The case and control strata of the :class:`Resampler`, in indexing order.
    """

    def __init__(
        self,
        score: FloatArray,
        weights: FloatArray | None,
        case_rows: IndexArray,
        control_rows: IndexArray,
    ) -> None:
        distinct, key = np.unique(score[case_rows], return_inverse=True)
        controls = score[control_rows]
        below = np.searchsorted(distinct, controls, side="left")
        tied = np.searchsorted(distinct, controls, side="right") - below
        self.n_distinct = distinct.size
        # Without ties between a case and a control the tie bins are always empty and the
        # bins are just the n_distinct + 1 gaps between distinct case scores.
        self.ties = bool(tied.any())
        self.case_key = key.astype(np.intp)
        self.control_bin = (2 * below + tied if self.ties else below).astype(np.intp)
        self.case_weights = None if weights is None else weights[case_rows]
        self.control_weights = None if weights is None else weights[control_rows]
        self.case_blocks = _block_tables(self.case_key, self.case_weights)

    def from_draws(
        self, case_draws: list[NDArray[Any]], control_draws: list[NDArray[Any]]
    ) -> float:
        """AUROC of the resample given the drawn positions of each block.

        Apart from counting the drawn cases, every step is a gather or a sum, numpy calls
        that release the GIL, so replicates run well in threads.
        """
        case_counts = _count_blocks(self.case_blocks, case_draws, self.n_distinct)
        twice_placement = np.take(self._twice_placement_per_bin(case_counts), self.control_bin)
        twice_pairs, controls = 0.0, 0.0
        for start, drawn in zip(range(0, self.control_bin.size, BLOCK), control_draws, strict=True):
            placements = np.take(twice_placement[start : start + BLOCK], drawn)
            if self.control_weights is None:
                twice_pairs += int(placements.sum(dtype=np.int64))
                controls += drawn.size
            else:
                weights = np.take(self.control_weights[start : start + BLOCK], drawn)
                twice_pairs += float((placements * weights).sum())
                controls += float(weights.sum())
        return _ratio(twice_pairs, float(case_counts.sum()), controls)

    def from_counts(self, case_counts: FloatArray, control_counts: FloatArray) -> float:
        """AUROC given the weight of each case and control position (indexing order)."""
        per_distinct = np.bincount(self.case_key, weights=case_counts, minlength=self.n_distinct)
        twice_placement = np.take(self._twice_placement_per_bin(per_distinct), self.control_bin)
        twice_pairs = float((twice_placement * control_counts).sum())
        return _ratio(twice_pairs, float(per_distinct.sum()), float(control_counts.sum()))

    def _twice_placement_per_bin(self, case_counts: NDArray[Any]) -> NDArray[Any]:
        """Twice the placement of a control in each bin: 2 × cases above it + cases tied."""
        k = self.n_distinct
        at_or_above = np.zeros(k + 1, dtype=case_counts.dtype)
        at_or_above[:k] = np.cumsum(case_counts[::-1])[::-1]
        if case_counts.dtype == np.int64 and 2 * at_or_above[0] < 2**31:
            at_or_above = at_or_above.astype(np.int32)  # halves the memory traffic
        if not self.ties:
            return 2 * at_or_above
        per_bin = np.empty(2 * k + 1, dtype=at_or_above.dtype)
        per_bin[0::2] = 2 * at_or_above  # strictly between distinct case scores
        per_bin[1::2] = at_or_above[:-1] + at_or_above[1:]  # tied with the k-th
        return per_bin


def _ratio(twice_pairs: float, cases: float, controls: float) -> float:
    """AUROC from twice the pairs won and the case and control totals."""
    if cases <= 0:
        raise UndefinedMetricError("no positive cases")
    if controls <= 0:
        raise UndefinedMetricError("no negative cases")
    return twice_pairs / (2.0 * cases * controls)


@dataclass(frozen=True)
class _Block:
    offset: int
    width: int
    table: NDArray[np.int32]
    weights: FloatArray | None


def _block_tables(table: IndexArray, weights: FloatArray | None) -> list[_Block]:
    blocks = []
    for start in range(0, table.size, BLOCK):
        part = table[start : start + BLOCK]
        low = int(part.min())
        blocks.append(
            _Block(
                offset=low,
                width=int(part.max()) - low + 1,
                table=(part - low).astype(np.int32),
                weights=None if weights is None else weights[start : start + BLOCK],
            )
        )
    return blocks


def _count_blocks(blocks: list[_Block], draws: list[NDArray[Any]], length: int) -> NDArray[Any]:
    """Resampled weight per table value.

    The table is sorted when the stratum is indexed by this score, so each block spans a
    narrow range of values and is counted on its own (small, cache-resident counts); for a
    table in another order (the second score of a paired bootstrap) one count over all
    blocks is cheaper.
    """
    pairs = list(zip(blocks, draws, strict=True))
    values = [np.take(block.table, drawn) for block, drawn in pairs]
    weights = [None if b.weights is None else np.take(b.weights, drawn) for b, drawn in pairs]
    weighted = any(w is not None for w in weights)
    if sum(block.width for block in blocks) > 2 * length:
        return np.bincount(
            np.concatenate([v + b.offset for v, b in zip(values, blocks, strict=True)]),
            weights=np.concatenate([w for w in weights if w is not None]) if weighted else None,
            minlength=length,
        )
    totals = np.zeros(length, dtype=float if weighted else np.int64)
    for block, value, weight in zip(blocks, values, weights, strict=True):
        totals[block.offset : block.offset + block.width] += np.bincount(
            value, weights=weight, minlength=block.width
        )
    return totals

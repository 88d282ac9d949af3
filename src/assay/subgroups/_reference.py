"""The reference a disparity table compares with: a group chosen by a rule, or the metric's
ideal value."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, NamedTuple

import numpy as np
from numpy.typing import NDArray

from assay.errors import InputError, UndefinedMetricError
from assay.metrics._registry import MetricSpec
from assay.subgroups._cells import Cell

__all__ = ["Reference", "reference_group"]

FloatArray = NDArray[np.float64]


class Reference(NamedTuple):
    """The reference a table compares with: a group, or the metric's ideal value."""

    label: str
    rule: Literal["largest", "best", "named", "ideal"]
    cell: Cell | None
    value: float
    replicates: FloatArray | None
    problem: str | None


def reference_group(
    spec: MetricSpec,
    group_cells: list[Cell],
    reference: str,
    small_cell_threshold: int,
    fn: Callable[[Cell], float],
) -> Reference:
    if reference == "ideal":
        if spec.ideal is None or spec.ideal <= 0:
            raise InputError(
                f"{spec.name} has no positive ideal value to compare with; name a reference "
                "group or use 'largest'"
            )
        return Reference("ideal", "ideal", None, float(spec.ideal), None, None)
    cell, rule = _reference(spec, group_cells, reference, small_cell_threshold, fn)
    try:
        value = fn(cell)
    except UndefinedMetricError as exc:
        raise InputError(
            f"{spec.name} is undefined in the reference group {cell.group_value!r}: {exc}; "
            "choose another reference"
        ) from exc
    return Reference(cell.group_value, rule, cell, value, None, None)


def _reference(
    spec: MetricSpec,
    group_cells: list[Cell],
    reference: str,
    small_cell_threshold: int,
    fn: Callable[[Cell], float],
) -> tuple[Cell, Literal["largest", "best", "named"]]:
    """The reference group and the rule that chose it."""
    sizes = [int(cell.rows.shape[0]) for cell in group_cells]
    rule: Literal["largest", "best", "named"]
    if reference == "largest":
        chosen, rule = group_cells[int(np.argmax(sizes))], "largest"
    elif reference == "best":
        if spec.greater_is_better is None:
            raise InputError(
                f"{spec.name} has no better direction (closer to {spec.ideal} is better), so "
                "there is no 'best' group; name the reference group or use 'largest'"
            )
        scored: list[tuple[float, Cell]] = []
        for cell, size in zip(group_cells, sizes, strict=True):
            if size >= small_cell_threshold:
                try:
                    scored.append((fn(cell), cell))
                except UndefinedMetricError:
                    continue
        if not scored:
            raise InputError(
                f"no group has a defined {spec.name} and at least {small_cell_threshold} "
                "patients, so there is no 'best' group"
            )
        sign = 1.0 if spec.greater_is_better else -1.0
        chosen = max(scored, key=lambda pair: sign * pair[0])[1]  # first on a tie
        rule = "best"
    else:
        named = [cell for cell in group_cells if cell.group_value == reference]
        if not named:
            values = ", ".join(repr(cell.group_value) for cell in group_cells)
            raise InputError(
                f"reference group {reference!r} is not a value of this attribute "
                f"(values: {values}); or use 'largest' or 'best'"
            )
        chosen, rule = named[0], "named"
    n = int(chosen.rows.shape[0])
    if n < small_cell_threshold:
        raise InputError(
            f"the reference group {chosen.group_value!r} has {n} patients, fewer than the "
            f"small_cell_threshold of {small_cell_threshold}; choose a larger reference group"
        )
    return chosen, rule

"""Counterfactual flips: does changing only a sensitive attribute change a patient's flag?"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict

from assay.errors import InputError
from assay.robustness._base import FloatArray, percent, require_columns
from assay.robustness._metamorphic import share_interval, worst_rows
from assay.robustness._model import Model, as_model
from assay.robustness._values import Category, matches

__all__ = ["CounterfactualResult", "counterfactual_flips"]


class CounterfactualResult(BaseModel):
    """Patients whose flag changed when only a sensitive attribute was changed.

    Parameters
    ----------
    attribute
        The attribute changed.
    threshold
        A patient is flagged when ``risk >= threshold``.
    counterfactual
        Which values the patients were given, in plain words.
    n, n_skipped
        Patients given at least one counterfactual value, and those skipped (missing value,
        or a value ``swap`` does not map).
    n_flipped, flip_rate, ci_low, ci_high, level
        Patients whose flag changed under at least one counterfactual value, their share and
        its Wilson interval.
    mean_abs_change, max_abs_change
        For each patient the largest absolute change of the risk over their counterfactual
        values; the mean and the maximum of those.
    flipped_rows
        Row positions of flipped patients, the largest risk change first.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    attribute: str
    threshold: float
    counterfactual: str
    n: int
    n_skipped: int
    n_flipped: int
    flip_rate: float
    ci_low: float
    ci_high: float
    level: float
    mean_abs_change: float
    max_abs_change: float
    flipped_rows: tuple[int, ...]

    @property
    def passed(self) -> bool:
        """No patient's flag changed."""
        return self.n_flipped == 0

    def summary(self) -> str:
        """The result in plain words."""
        return (
            f"With {self.counterfactual}, the flag at {self.threshold:g} changed for "
            f"{self.n_flipped:,} of {self.n:,} patients ({percent(self.flip_rate)}, "
            f"{self.level:.0%} CI {percent(self.ci_low)}–{percent(self.ci_high)}); mean "
            f"absolute risk change {self.mean_abs_change:.3g}"
        )


def counterfactual_flips(
    model: object,
    frame: pd.DataFrame,
    attribute: str,
    *,
    threshold: float,
    swap: Mapping[Any, Category] | None = None,
    level: float = 0.95,
    n_examples: int = 5,
) -> CounterfactualResult:
    """Share of patients whose flag changes when only ``attribute`` changes.

    By default every patient is given, in turn, each other value of ``attribute`` observed in
    the data (for a binary attribute: the other one) and counts as flipped when the flag
    ``risk >= threshold`` differs from theirs under any of them. With ``swap`` (old value →
    new value), patients with a mapped value are given the new one and the others are
    skipped. Patients with a missing value are skipped. A model whose risk does not depend on
    the attribute has a flip rate of exactly 0.

    Parameters
    ----------
    model
        Anything :func:`as_model` accepts.
    frame
        The patients (never modified).
    attribute
        The sensitive attribute's column.
    threshold
        Operating threshold of the flag.
    swap
        Optional old → new values (compared as is and as text).
    level
        Level of the Wilson interval of the flip rate.
    n_examples
        How many flipped row positions to report.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"lactate": [0.8, 3.5, 2.2, 4.0], "sex": ["F", "M", "F", "M"]})
    >>> result = counterfactual_flips(lambda f: f["lactate"] / 5, frame, "sex", threshold=0.5)
    >>> result.n_flipped, result.flip_rate, result.counterfactual
    (0, 0.0, "sex swapped ('F' ↔ 'M')")
    """
    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
    if not 0 <= threshold <= 1:
        raise InputError(f"threshold must be a risk from 0 to 1, got {threshold}")
    require_columns(frame, [attribute], "counterfactual_flips")
    adapted = as_model(model)
    column = frame[attribute]
    risk = adapted.predict_risk(frame)
    if swap is None:
        observed = sorted(column.dropna().unique().tolist(), key=str)
        if len(observed) < 2:
            raise InputError(
                f"counterfactual_flips: column {attribute!r} holds fewer than 2 values "
                f"({observed}), so there is nothing to swap"
            )
        counterfactuals = [_set_all(column, value) for value in observed]
        tested = column.notna().to_numpy()
        if len(observed) == 2:
            how = f"{attribute} swapped ({observed[0]!r} ↔ {observed[1]!r})"
        else:
            how = f"{attribute} set to each of its other {len(observed) - 1} observed values"
    else:
        if not swap:
            raise InputError("counterfactual_flips: swap must map at least one value")
        mapped, tested = _swapped(column, swap)
        counterfactuals = [mapped]
        pairs = ", ".join(f"{old!r} → {new!r}" for old, new in swap.items())
        how = f"{attribute} recoded ({pairs})"
    if not tested.any():
        raise InputError(f"counterfactual_flips: no patient has a value of {attribute!r} to change")
    flipped, change = _compare(adapted, frame, attribute, counterfactuals, risk, threshold)
    flipped &= tested
    change = np.where(tested, change, 0.0)
    n = int(tested.sum())
    rate, low, high = share_interval(int(flipped.sum()), n, level)
    return CounterfactualResult(
        attribute=attribute,
        threshold=threshold,
        counterfactual=how,
        n=n,
        n_skipped=len(frame) - n,
        n_flipped=int(flipped.sum()),
        flip_rate=rate,
        ci_low=low,
        ci_high=high,
        level=level,
        mean_abs_change=float(change[tested].mean()),
        max_abs_change=float(change[tested].max()),
        flipped_rows=worst_rows(change, flipped, n_examples),
    )


def _set_all(column: pd.Series, value: Any) -> pd.Series:
    """``column`` with every row set to ``value`` (a categorical column stays categorical)."""
    return pd.Series([value] * len(column), index=column.index, dtype=column.dtype)


def _swapped(
    column: pd.Series, swap: Mapping[Any, Category]
) -> tuple[pd.Series, NDArray[np.bool_]]:
    """The column with ``swap`` applied (matched on the original values) and the rows changed."""
    categories = (
        set(column.cat.categories) if isinstance(column.dtype, pd.CategoricalDtype) else None
    )
    if categories is not None and not set(swap.values()) <= categories:
        column = column.astype(object)
    result = column.copy()
    tested = np.zeros(len(column), dtype=bool)
    for old, new in swap.items():
        rows = matches(column, old)
        result = result.mask(rows, new)
        tested |= rows
    return result, tested


def _compare(
    model: Model,
    frame: pd.DataFrame,
    attribute: str,
    counterfactuals: list[pd.Series],
    risk: FloatArray,
    threshold: float,
) -> tuple[NDArray[np.bool_], FloatArray]:
    """For each row: whether any counterfactual flips its flag, and the largest risk change."""
    flagged = risk >= threshold
    flipped = np.zeros(len(frame), dtype=bool)
    change = np.zeros(len(frame))
    for values in counterfactuals:
        other = frame.copy()
        other[attribute] = values
        new_risk = model.predict_risk(other)
        flipped |= (new_risk >= threshold) != flagged
        change = np.maximum(change, np.abs(new_risk - risk))
    return flipped, change

"""Metamorphic tests: how the risk must (not) move when the input moves in a known way.

Each test changes every patient's row in one known way, asks the model again and counts the
patients whose risk moved against the expectation. The share comes with a Wilson interval
(the patients are the trials), and the worst patients are named by row position, never by
their values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from assay.errors import InputError
from assay.metrics.intervals import wilson_interval
from assay.robustness._base import (
    feature_list,
    numeric_column,
    percent,
    require_columns,
    stream,
)
from assay.robustness._model import as_model
from assay.robustness._parse import Perturbation

__all__ = [
    "InvarianceResult",
    "MonotonicityResult",
    "invariance",
    "monotonicity",
    "share_interval",
    "worst_rows",
]


def share_interval(count: int, total: int, level: float) -> tuple[float, float, float]:
    """``count / total`` with its Wilson interval."""
    if not 0 < level < 1:
        raise InputError(f"level must be between 0 and 1 (exclusive), got {level}")
    low, high = wilson_interval(count, total, level)
    return count / total, float(low), float(high)


def worst_rows(amount: NDArray[np.float64], bad: NDArray[np.bool_], limit: int) -> tuple[int, ...]:
    """Positions of up to ``limit`` bad rows, the largest ``amount`` first (ties by position)."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise InputError(f"n_examples must be a whole number >= 0, got {limit!r}")
    positions = np.flatnonzero(bad)
    order = np.lexsort((positions, -amount[positions]))
    return tuple(int(p) for p in positions[order][:limit])


class MonotonicityResult(BaseModel):
    """Patients whose risk moved the wrong way when one feature was raised.

    Parameters
    ----------
    feature, direction
        The feature raised and the expected direction of the risk (``"increasing"``: the
        risk must not fall).
    step, step_sd
        How much the feature was raised, in its units and in SDs.
    tolerance
        Risk changes the wrong way up to this size are not counted.
    n, n_skipped
        Patients tested, and those skipped because the feature was missing.
    n_violations, share, ci_low, ci_high, level
        Patients whose risk moved the wrong way, their share and its Wilson interval.
    largest_violation
        The largest wrong-way change of a risk (0 when none).
    worst_rows
        Row positions of the largest violations, largest first.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    feature: str
    direction: Literal["increasing", "decreasing"]
    step: float
    step_sd: float
    tolerance: float
    n: int
    n_skipped: int
    n_violations: int
    share: float
    ci_low: float
    ci_high: float
    level: float
    largest_violation: float
    worst_rows: tuple[int, ...]

    @property
    def passed(self) -> bool:
        """No patient's risk moved the wrong way."""
        return self.n_violations == 0

    def summary(self) -> str:
        """The result in plain words."""
        moved = "lowered" if self.direction == "increasing" else "raised"
        skipped = ""
        if self.n_skipped == 1:
            skipped = "; 1 patient without a value was not tested"
        elif self.n_skipped > 1:
            skipped = f"; {self.n_skipped:,} patients without a value were not tested"
        return (
            f"Raising {self.feature} by {self.step:.3g} ({self.step_sd:.3g} SD) {moved} the risk "
            f"of {self.n_violations:,} of {self.n:,} patients ({percent(self.share)}, "
            f"{self.level:.0%} CI {percent(self.ci_low)}–{percent(self.ci_high)}){skipped}"
        )


def monotonicity(
    model: object,
    frame: pd.DataFrame,
    feature: str,
    *,
    direction: Literal["increasing", "decreasing"] = "increasing",
    step: float | None = None,
    tolerance: float = 1e-9,
    level: float = 0.95,
    n_examples: int = 5,
) -> MonotonicityResult:
    """Does raising ``feature`` move every patient's risk the expected way?

    Each patient's ``feature`` is raised by ``step`` (other features unchanged) and the risk
    recomputed. With ``direction="increasing"`` (a higher lactate must not lower a sepsis
    risk) a patient whose risk falls by more than ``tolerance`` is a violation; with
    ``"decreasing"``, one whose risk rises. Patients without a value are skipped.

    Parameters
    ----------
    model
        Anything :func:`as_model` accepts.
    frame
        The patients (never modified).
    feature
        A numeric column.
    direction
        How the risk should move as the feature rises.
    step
        How much to raise the feature; default one SD of its observed values.
    tolerance
        Wrong-way changes up to this size are ignored (floating-point noise).
    level
        Level of the Wilson interval of the share.
    n_examples
        How many of the worst row positions to report.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"lactate": [0.8, 1.5, 2.2, 4.0]})
    >>> result = monotonicity(lambda f: f["lactate"] / 10, frame, "lactate")
    >>> result.passed, result.n_violations, round(result.step, 3)
    (True, 0, 1.374)
    """
    if direction not in ("increasing", "decreasing"):
        raise InputError(f"direction must be 'increasing' or 'decreasing', got {direction!r}")
    if not tolerance >= 0:
        raise InputError(f"tolerance must be >= 0, got {tolerance}")
    adapted = as_model(model)
    values = numeric_column(_frame(frame), feature, "monotonicity")
    observed = ~np.isnan(values)
    if observed.sum() < 2:
        raise InputError(f"monotonicity: column {feature!r} has fewer than 2 observed values")
    sd = float(np.std(values[observed], ddof=1))
    chosen = sd if step is None else float(step)
    if not chosen > 0 or not np.isfinite(chosen):
        raise InputError(f"monotonicity: the step must be a positive number, got {chosen}")
    raised = frame.copy()
    raised[feature] = values + chosen
    change = adapted.predict_risk(raised) - adapted.predict_risk(frame)
    wrong_way = -change if direction == "increasing" else change
    bad = observed & (wrong_way > tolerance)
    n = int(observed.sum())
    share, low, high = share_interval(int(bad.sum()), n, level)
    return MonotonicityResult(
        feature=feature,
        direction=direction,
        step=chosen,
        step_sd=chosen / sd if sd > 0 else float("inf"),
        tolerance=tolerance,
        n=n,
        n_skipped=int((~observed).sum()),
        n_violations=int(bad.sum()),
        share=share,
        ci_low=low,
        ci_high=high,
        level=level,
        largest_violation=float(wrong_way[bad].max()) if bad.any() else 0.0,
        worst_rows=worst_rows(wrong_way, bad, n_examples),
    )


class InvarianceResult(BaseModel):
    """Patients whose risk changed when features that should not matter were changed.

    Parameters
    ----------
    features
        The features changed.
    change
        How they were changed, in plain words.
    tolerance
        Risk changes up to this size are not counted.
    n, n_changed, share, ci_low, ci_high, level
        Patients, those whose risk changed by more than ``tolerance``, their share and its
        Wilson interval.
    max_abs_change, mean_abs_change
        Largest and mean absolute change of a risk.
    worst_rows
        Row positions of the largest changes, largest first.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    features: tuple[str, ...]
    change: str
    tolerance: float
    n: int = Field(gt=0)
    n_changed: int
    share: float
    ci_low: float
    ci_high: float
    level: float
    max_abs_change: float
    mean_abs_change: float
    worst_rows: tuple[int, ...]

    @property
    def passed(self) -> bool:
        """No patient's risk changed by more than the tolerance."""
        return self.n_changed == 0

    def summary(self) -> str:
        """The result in plain words."""
        return (
            f"With {self.change}, the risk of {self.n_changed:,} of {self.n:,} patients changed "
            f"by more than {self.tolerance:g} ({percent(self.share)}, {self.level:.0%} CI "
            f"{percent(self.ci_low)}–{percent(self.ci_high)}); the largest change was "
            f"{self.max_abs_change:.3g}"
        )


def invariance(
    model: object,
    frame: pd.DataFrame,
    features: Sequence[str] | None = None,
    *,
    perturbation: Perturbation | None = None,
    tolerance: float = 1e-9,
    seed: int = 0,
    level: float = 0.95,
    n_examples: int = 5,
) -> InvarianceResult:
    """Does the risk stay put when features that should not matter change?

    Give ``features`` to shuffle each of them among the patients (a seeded permutation per
    column: the values stay realistic, their link to the patient is broken), or a
    ``perturbation`` that keeps the rows (noise, missingness, unit or category changes, an
    unavailable feature) to apply instead.

    Parameters
    ----------
    model
        Anything :func:`as_model` accepts.
    frame
        The patients (never modified).
    features
        Columns to shuffle.
    perturbation
        A row-keeping perturbation, instead of ``features``.
    tolerance
        Risk changes up to this size are ignored.
    seed
        Seed of the shuffles, or of the perturbation's draws.
    level, n_examples
        As in :func:`monotonicity`.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"lactate": [0.8, 1.5, 2.2, 4.0], "bed": ["A", "B", "C", "D"]})
    >>> invariance(lambda f: f["lactate"] / 10, frame, ["bed"]).n_changed
    0
    """
    adapted = as_model(model)
    _frame(frame)
    if not tolerance >= 0:
        raise InputError(f"tolerance must be >= 0, got {tolerance}")
    if (features is None) == (perturbation is None):
        raise InputError("invariance: give either features to shuffle or a perturbation")
    if perturbation is not None:
        if perturbation.changes_rows:
            raise InputError(
                f"invariance needs a perturbation that keeps the rows, not {perturbation.kind}"
            )
        changed = perturbation.apply(frame, seed=seed).frame
        names = perturbation.columns()
        how = perturbation.describe()
    else:
        assert features is not None
        names = tuple(features) if not isinstance(features, str) else (features,)
        require_columns(frame, names, "invariance")
        changed = frame.copy()
        for name in names:
            order = stream(seed, "invariance", name).permutation(len(frame))
            changed[name] = frame[name].iloc[order].set_axis(frame.index)
        how = f"{feature_list(names)} shuffled among patients"
    difference = np.abs(adapted.predict_risk(changed) - adapted.predict_risk(frame))
    bad = difference > tolerance
    share, low, high = share_interval(int(bad.sum()), len(frame), level)
    return InvarianceResult(
        features=names,
        change=how,
        tolerance=tolerance,
        n=len(frame),
        n_changed=int(bad.sum()),
        share=share,
        ci_low=low,
        ci_high=high,
        level=level,
        max_abs_change=float(difference.max()),
        mean_abs_change=float(difference.mean()),
        worst_rows=worst_rows(difference, bad, n_examples),
    )


def _frame(frame: object) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
    if len(frame) == 0:
        raise InputError("frame has no rows")
    return frame

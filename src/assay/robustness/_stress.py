"""Stress tests: a metric, with its interval, as a perturbation grows (a degradation curve)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from pydantic import BaseModel, ConfigDict, model_validator

from assay._frozen import FROZEN
from assay.errors import InputError, UndefinedMetricError
from assay.metrics import (
    Estimate,
    IntervalChoice,
    IntervalMethod,
    MetricSpec,
    estimate,
    get_metric,
)
from assay.metrics._inputs import as_binary_target, as_weights
from assay.robustness._base import PerturbationBase
from assay.robustness._drop import DropMethod, drop_interval, drop_of
from assay.robustness._model import as_model
from assay.robustness._parse import Perturbation, perturbation_from_dict

__all__ = ["DegradationCurve", "DegradationRow", "stress_test"]

_STATUS = Literal["ok", "undefined"]


class DegradationRow(BaseModel):
    """The metric at one strength of a perturbation, and its drop from the baseline.

    Parameters
    ----------
    strength
        Value of the perturbation's strength field.
    perturbation
        What was done, in plain words.
    value, ci_low, ci_high
        The metric on the perturbed data and its interval.
    drop, drop_ci_low, drop_ci_high
        How much worse than the baseline (positive: worse) and its interval.
    n, n_events
        Rows and positive rows of the perturbed data.
    method, drop_method
        How the two intervals were computed (for the drop: ``delong``, ``paired-bootstrap``
        or ``unpaired-bootstrap``, see ``docs/robustness.md``).
    status, reason
        ``"undefined"`` with the reason when the metric or its drop has no value (numbers
        are then ``None``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    strength: float
    perturbation: str
    value: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    drop: float | None = None
    drop_ci_low: float | None = None
    drop_ci_high: float | None = None
    n: int
    n_events: int | None = None
    method: IntervalMethod | None = None
    drop_method: DropMethod | None = None
    status: _STATUS = "ok"
    reason: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> DegradationRow:
        numbers = (self.value, self.drop, self.drop_ci_low, self.drop_ci_high)
        if self.status == "ok" and any(v is None or not math.isfinite(v) for v in numbers):
            raise ValueError("a row with status 'ok' needs finite value and drop with interval")
        if self.status == "undefined" and (self.reason is None or self.value is not None):
            raise ValueError("an undefined row has a reason and no value")
        return self


class DegradationCurve(BaseModel):
    """A metric against the strength of a perturbation, each point with its drop.

    Parameters
    ----------
    metric
        Registered metric name.
    params
        Metric parameters (for example ``threshold``).
    perturbation
        The perturbation (its own strength is not one of the curve's unless listed).
    model
        The model's name.
    baseline
        The metric on the unperturbed data.
    rows
        One row per strength, in the order given.
    level
        Confidence level of every interval.
    seed, n_boot
        Bootstrap settings (the perturbation's draws use ``perturbation.seed``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    metric: str
    params: Annotated[Mapping[str, Any], *FROZEN]
    perturbation: Perturbation
    model: str
    baseline: Estimate
    rows: tuple[DegradationRow, ...]
    level: float
    seed: int
    n_boot: int

    def row_at(self, strength: float) -> DegradationRow:
        """The row of ``strength`` (an error listing the strengths when there is none)."""
        for row in self.rows:
            if math.isclose(row.strength, strength, rel_tol=1e-12, abs_tol=1e-12):
                return row
        listed = ", ".join(f"{row.strength:g}" for row in self.rows)
        raise InputError(f"the curve has no strength {strength:g}; it has {listed}")

    def drop_at(self, strength: float) -> Estimate:
        """The drop at ``strength`` as an :class:`~assay.metrics.Estimate` (for conditions
        such as ``ci_high <= 0.02``).

        Raises
        ------
        UndefinedMetricError
            When the row is undefined (the reason is the row's).
        """
        row = self.row_at(strength)
        if row.drop is None or row.drop_ci_low is None or row.drop_ci_high is None:
            raise UndefinedMetricError(row.reason or "the drop is undefined")
        return Estimate(
            value=row.drop,
            ci_low=row.drop_ci_low,
            ci_high=row.drop_ci_high,
            level=self.level,
            method="delong" if row.drop_method == "delong" else "bootstrap-percentile",
            n=row.n,
            n_events=row.n_events,
        )

    def value_at(self, strength: float) -> Estimate:
        """The metric at ``strength`` as an :class:`~assay.metrics.Estimate`."""
        row = self.row_at(strength)
        if row.value is None or row.method is None:
            raise UndefinedMetricError(row.reason or "the metric is undefined")
        return Estimate(
            value=row.value,
            ci_low=row.ci_low,
            ci_high=row.ci_high,
            level=self.level,
            method=row.method,
            n=row.n,
            n_events=row.n_events,
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per strength, with ``metric`` and ``level`` repeated; nullable types."""
        frame = pd.DataFrame(
            [row.model_dump() for row in self.rows], columns=list(DegradationRow.model_fields)
        )
        frame["metric"] = self.metric
        frame["level"] = self.level
        floats = ["value", "ci_low", "ci_high", "drop", "drop_ci_low", "drop_ci_high"]
        text = ["perturbation", "method", "drop_method", "status", "reason", "metric"]
        return frame.astype(
            {"strength": "float64", "n": "int64", "n_events": "Int64", "level": "float64"}
            | dict.fromkeys(floats, "Float64")
            | dict.fromkeys(text, "string")
        )

    def summary(self) -> str:
        """The largest drop in plain words, with its interval."""
        title = get_metric(self.metric).title
        defined = [row for row in self.rows if row.drop is not None]
        if not defined:
            return f"{title} was undefined at every strength of the perturbation"
        worst = max(defined, key=lambda row: row.drop or 0.0)
        assert worst.drop is not None and worst.value is not None
        assert worst.drop_ci_low is not None and worst.drop_ci_high is not None
        low, high = (signed(v) for v in (worst.drop_ci_low, worst.drop_ci_high))
        return (
            f"{title} {self.baseline.value:.3f} on the data as given, {worst.value:.3f} with "
            f"{worst.perturbation}: a drop of {signed(worst.drop)} ({self.level:.0%} CI {low} "
            f"to {high}, n = {worst.n})"
        )


def stress_test(
    model: object,
    frame: pd.DataFrame,
    y: ArrayLike,
    perturbation: Perturbation | Mapping[str, Any],
    *,
    metric: str = "auroc",
    strengths: Sequence[float] | None = None,
    ci: IntervalChoice = "auto",
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    sample_weight: ArrayLike | None = None,
    **metric_params: Any,
) -> DegradationCurve:
    """A metric of a model under a perturbation of growing strength, with intervals.

    For each strength the data are perturbed (a new copy each time, with the perturbation's
    own ``seed``, so the same call gives the same curve), the model predicts, and the metric
    is computed with :func:`assay.metrics.estimate`. The drop from the unperturbed baseline
    is positive when the perturbed data score worse, with an interval that pairs the patients
    when the rows are the same (see :mod:`assay.robustness._drop`).

    Parameters
    ----------
    model
        Anything :func:`as_model` accepts.
    frame
        The patients, one row each (never modified).
    y
        Binary outcome per row.
    perturbation
        A perturbation, or its plan dict (see :func:`perturbation_from_dict`).
    metric
        A registered binary metric (see :func:`assay.metrics.list_metrics`).
    strengths
        Values of the perturbation's strength field; default its ``default_strengths``.
    ci, n_boot, level, seed
        Interval settings of :func:`assay.metrics.estimate`; ``seed`` seeds the bootstraps.
    sample_weight
        Optional weights per row (a covariate shift changes them).
    **metric_params
        Metric parameters, for example ``threshold``.

    Returns
    -------
    DegradationCurve

    Raises
    ------
    InputError
        For unusable inputs, naming them.
    UndefinedMetricError
        When the metric is undefined on the unperturbed data.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> frame = pd.DataFrame({"lactate": rng.normal(2, 1, 400)})
    >>> y = (rng.random(400) < 1 / (1 + np.exp(-2 * (frame["lactate"] - 2)))).astype(int)
    >>> risk = lambda f: 1 / (1 + np.exp(-2 * (f["lactate"] - 2)))
    >>> noise = {"kind": "noise", "features": ["lactate"], "sd_fraction": 1.0}
    >>> curve = stress_test(risk, frame, y, noise, strengths=[0.0, 0.5, 1.0])
    >>> [(row.strength, round(row.value, 3), round(row.drop, 3)) for row in curve.rows]
    [(0.0, 0.865, 0.0), (0.5, 0.837, 0.027), (1.0, 0.778, 0.087)]
    >>> print(curve.drop_at(1.0))
    0.087 (0.046–0.128)
    """
    spec = _binary_metric(metric)
    drop_of(spec)  # a metric without a direction or an ideal fails here, before any work
    chosen = (
        perturbation_from_dict(perturbation) if isinstance(perturbation, Mapping) else perturbation
    )
    if not isinstance(chosen, PerturbationBase):
        raise InputError(
            f"perturbation must be a perturbation or its dict, got {type(perturbation).__name__}"
        )
    adapted = as_model(model)
    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
    outcome = as_binary_target(y, "y")
    if outcome.shape[0] != len(frame):
        raise InputError(f"y has {outcome.shape[0]} rows, the frame {len(frame)}")
    weights = as_weights(sample_weight, len(frame))
    grid = _strengths(chosen.default_strengths if strengths is None else strengths)
    settings: dict[str, Any] = {"level": level, "n_boot": n_boot, "seed": seed}
    score = adapted.predict_risk(frame)
    baseline = estimate(
        spec.name, outcome, score, ci=ci, sample_weight=weights, **settings, **metric_params
    )
    rows = []
    for strength in grid:
        step = chosen.with_strength(strength)
        perturbed = step.apply(frame, outcome, weights)
        assert perturbed.y is not None
        new_score = adapted.predict_risk(perturbed.frame)
        base_row = {
            "strength": strength,
            "perturbation": step.describe(),
            "n": len(perturbed.y),
            "n_events": int(np.count_nonzero(perturbed.y == 1)),
        }
        try:
            value = estimate(
                spec.name,
                perturbed.y,
                new_score,
                ci=ci,
                sample_weight=perturbed.weight,
                **settings,
                **metric_params,
            )
            drop = drop_interval(
                spec,
                (outcome, score, weights),
                (perturbed.y, new_score, perturbed.weight),
                same_rows=perturbed.same_rows,
                params=metric_params,
                **settings,
            )
        except UndefinedMetricError as exc:
            rows.append(DegradationRow(**base_row, status="undefined", reason=str(exc)))
            continue
        rows.append(
            DegradationRow(
                **base_row,
                value=value.value,
                ci_low=value.ci_low,
                ci_high=value.ci_high,
                method=value.method,
                drop=drop.value,
                drop_ci_low=drop.ci_low,
                drop_ci_high=drop.ci_high,
                drop_method=drop.method,
            )
        )
    return DegradationCurve(
        metric=spec.name,
        params=metric_params,
        perturbation=chosen,
        model=adapted.name,
        baseline=baseline,
        rows=tuple(rows),
        level=level,
        seed=seed,
        n_boot=n_boot,
    )


def signed(value: float) -> str:
    """``+0.087``, ``−0.012``: three decimals with a sign and a true minus."""
    return f"{value:+.3f}".replace("-", "−")


def _binary_metric(metric: str) -> MetricSpec:
    try:
        spec = get_metric(metric)
    except KeyError as exc:
        raise InputError(exc.args[0]) from None
    if spec.task != "binary":
        raise InputError(
            f"stress tests compute binary metrics of a risk; {metric!r} is a {spec.task} metric"
        )
    return spec


def _strengths(values: Sequence[float]) -> tuple[float, ...]:
    if isinstance(values, str) or not isinstance(values, Sequence | np.ndarray):
        raise InputError(f"strengths must be a list of numbers, got {values!r}")
    grid = tuple(float(value) for value in values)
    if not grid:
        raise InputError("strengths must hold at least one value")
    if len(set(grid)) != len(grid):
        raise InputError(f"strengths must not repeat a value, got {list(grid)}")
    return grid

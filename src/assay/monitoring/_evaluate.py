"""One window of production data measured against the reference: :func:`evaluate_window`.

A pure computation: rows in, a :class:`WindowResult` out, the same bytes for the same rows,
labels and seed. Labels count only when known *as of* the evaluation date (``label_time`` ≤
as-of when the data records it); a prediction is *mature* when its outcome window has closed.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Protocol

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from assay.data._fingerprint import frame_fingerprint, json_fingerprint
from assay.drift import DriftRecord, compare_features
from assay.errors import InputError, UndefinedMetricError
from assay.metrics import Estimate, estimate, get_metric
from assay.metrics.intervals import proportion_estimate
from assay.monitoring._cbpe import CBPE, CBPE_METRICS, fit_cbpe
from assay.monitoring._intervals import CLOSED_FORM, closed_form_estimate
from assay.monitoring._spec import MonitorSpec
from assay.monitoring._windows import Window, parse_duration
from assay.subgroups import SubgroupTable, metric_by_group

__all__ = [
    "Baseline",
    "Reference",
    "WindowResult",
    "evaluate_window",
    "known_labels",
    "prepare_reference",
    "window_fingerprint",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid")
_N_BOOT = 500
"""Bootstrap replicates per window metric (those without a closed-form interval)."""


class WindowResult(BaseModel):
    """What one window showed, as of one date."""

    model_config = _FROZEN

    monitor: str
    window_start: datetime
    window_end: datetime
    as_of: datetime
    n: int
    """Predictions in the window."""
    n_labelled: int
    """Predictions whose outcome was known as of ``as_of``."""
    label_maturity: float | None
    """Share of predictions whose outcome window had closed as of ``as_of``."""
    signals: dict[str, Estimate]
    """Every measured quantity by name: realised metrics, ``estimated_*`` (label-free),
    ``flag_rate``, ``prevalence``, ``mean_score``, ``volume``, ``label_maturity``."""
    undefined: dict[str, str]
    """Signals that have no value this window, with the reason."""
    missing_share: dict[str, float]
    """Share of missing values per monitored feature."""
    drift: tuple[DriftRecord, ...]
    subgroups: tuple[SubgroupTable, ...]
    reference_signals: dict[str, Estimate]
    """The same signals on the reference (validation) data, for comparison."""
    estimation_assumption: str | None = None
    """What the label-free ``estimated_*`` signals assume, checked on the reference."""
    signal_notes: dict[str, str] = Field(default_factory=dict)
    """How a signal was measured where its name does not say (for a generative application's
    outputs, what the ``input_drift_auroc`` classifier saw)."""
    data_fingerprint: str
    """Hash of the window's rows, the labels known as of ``as_of`` and the spec's measuring and
    alerting parts (not its name, source or notifiers)."""

    @property
    def label(self) -> str:
        """The window in words."""
        return Window(self.window_start, self.window_end).label

    @property
    def drifted_features(self) -> list[str]:
        """Features with a drifted record."""
        return list(dict.fromkeys(r.feature for r in self.drift if r.drifted))


class Baseline(Protocol):
    """What a monitor's windows are measured against, prepared once per run: the reference's
    own ``signals`` (for rules ``relative_to: reference`` and sequential rules), how a window's
    rows are hashed (an unchanged window is not measured again) and how they are measured.
    :class:`Reference` for predictions; ``assay.genai`` has one for a generative application's
    outputs."""

    signals: dict[str, Estimate]

    def window_fingerprint(self, rows: pd.DataFrame, as_of: datetime) -> str:
        """The hash of a window's rows as known ``as_of`` and of what decides its results."""

    def evaluate_window(self, rows: pd.DataFrame, window: Window,
                        as_of: datetime) -> WindowResult:
        """Measure a window's rows as of ``as_of``."""


class Reference:
    """The validation data prepared once per monitor run: its rows, signals and CBPE model."""

    def __init__(self, spec: MonitorSpec, frame: pd.DataFrame, source: str) -> None:
        roles = spec.roles
        missing = [c for c in (roles.target, spec.score, *spec.features, *roles.groups)
                   if c not in frame.columns]
        if missing:
            raise InputError(f"{source}: the reference lacks column(s) "
                             f"{', '.join(map(repr, missing))}")
        labelled = frame[frame[roles.target].notna()]
        if labelled.empty:
            raise InputError(f"{source}: the reference has no labelled rows in "
                             f"{roles.target!r}")
        self.spec = spec
        self.source = source
        self.frame = frame
        y = labelled[roles.target].to_numpy(dtype=np.int64)
        score = labelled[spec.score].to_numpy(dtype=np.float64)
        self.signals, self.undefined = _performance(spec, y, score, seed=spec.seed)
        self.signals.update(_label_free(spec, frame[spec.score].to_numpy(dtype=np.float64)))
        self.signals["prevalence"] = proportion_estimate(int(y.sum()), int(y.size))
        self.cbpe: CBPE | None = None
        if spec.estimate_performance and spec.threshold is not None:
            self.cbpe = fit_cbpe(y, score, threshold=spec.threshold, seed=spec.seed)
        self.fingerprint = frame_fingerprint(frame)

    def window_fingerprint(self, rows: pd.DataFrame, as_of: datetime) -> str:
        """The hash of a window's predictions with the labels known ``as_of``."""
        return window_fingerprint(rows, known_labels(self.spec, rows, as_of), self.spec)

    def evaluate_window(self, rows: pd.DataFrame, window: Window,
                        as_of: datetime) -> WindowResult:
        """:func:`evaluate_window` against this reference."""
        return evaluate_window(self.spec, self, rows, window, as_of)


def prepare_reference(spec: MonitorSpec, frame: pd.DataFrame, source: str) -> Reference:
    """Check the reference's columns and compute what every window is compared with."""
    return Reference(spec, frame, source)


def evaluate_window(spec: MonitorSpec, reference: Reference, rows: pd.DataFrame,
                    window: Window, as_of: datetime) -> WindowResult:
    """Measure ``rows`` (the window's predictions) against ``reference`` as of ``as_of``.

    ``rows`` must already be the window's rows; times are UTC-aware.
    """
    roles = spec.roles
    assert roles.time is not None
    times = pd.to_datetime(rows[roles.time], utc=True)
    known = known_labels(spec, rows, as_of)
    horizon = parse_duration(spec.outcome_window)
    mature = (times + horizon <= as_of).to_numpy()
    n = len(rows)
    score = rows[spec.score].to_numpy(dtype=np.float64)
    signals: dict[str, Estimate] = {
        "volume": Estimate(value=float(n), method="none", n=n),
    }
    undefined: dict[str, str] = {}
    maturity = float(mature.mean()) if n else None
    if maturity is not None:
        signals["label_maturity"] = Estimate(value=maturity, method="none", n=n)
    if n:
        signals.update(_label_free(spec, score))
    else:
        undefined["flag_rate"] = "no predictions in the window"
    y_known = rows.loc[known, roles.target].to_numpy(dtype=np.int64)
    score_known = score[known]
    seed = window_seed(spec.seed, window)
    if y_known.size:
        signals["prevalence"] = proportion_estimate(int(y_known.sum()), int(y_known.size))
    if y_known.size >= spec.min_labelled:
        realised, reasons = _performance(spec, y_known, score_known, seed=seed)
        signals.update(realised)
        undefined.update(reasons)
    else:
        for metric in spec.metrics:
            undefined[metric] = (f"{y_known.size} labelled prediction(s) as of "
                                 f"{as_of.date()}; at least {spec.min_labelled} needed")
    if reference.cbpe is not None and n:
        for name in CBPE_METRICS:
            try:
                signals[f"estimated_{name}"] = reference.cbpe.estimate(score,
                                                                       metrics=(name,))[name]
            except UndefinedMetricError as exc:
                undefined[f"estimated_{name}"] = str(exc)
    return WindowResult(
        monitor=spec.name, window_start=window.start, window_end=window.end, as_of=as_of,
        n=n, n_labelled=int(y_known.size), label_maturity=maturity, signals=signals,
        undefined=undefined,
        missing_share={f: float(rows[f].isna().mean()) if n else 0.0 for f in spec.features},
        drift=_drift(spec, reference, rows),
        subgroups=_subgroups(spec, rows.loc[known], seed),
        reference_signals=reference.signals,
        estimation_assumption=None if reference.cbpe is None else reference.cbpe.assumption,
        data_fingerprint=window_fingerprint(rows, known, spec),
    )


def _label_free(spec: MonitorSpec, score: np.ndarray[Any, Any]) -> dict[str, Estimate]:
    n = int(score.size)
    mean = float(np.mean(score))
    se = float(np.std(score, ddof=1) / np.sqrt(n)) if n > 1 else 0.0
    found = {"mean_score": Estimate(value=mean, ci_low=mean - 1.96 * se,
                                    ci_high=mean + 1.96 * se, method="normal", n=n)}
    if spec.threshold is not None:
        found["flag_rate"] = estimate("flag_rate", np.zeros(n, dtype=np.int64), score,
                                      threshold=spec.threshold)
    return found


def _performance(spec: MonitorSpec, y: np.ndarray[Any, Any], score: np.ndarray[Any, Any], *,
                 seed: int) -> tuple[dict[str, Estimate], dict[str, str]]:
    found: dict[str, Estimate] = {}
    reasons: dict[str, str] = {}
    for metric in spec.metrics:
        params: dict[str, Any] = {"threshold": spec.threshold} if _takes_threshold(metric) else {}
        try:
            found[metric] = (closed_form_estimate(metric, y, score) if metric in CLOSED_FORM
                             else estimate(metric, y, score, n_boot=_N_BOOT, seed=seed, **params))
        except UndefinedMetricError as exc:
            reasons[metric] = str(exc)
    return found, reasons


def _takes_threshold(metric: str) -> bool:
    return "threshold" in get_metric(metric).params


def _drift(spec: MonitorSpec, reference: Reference, rows: pd.DataFrame) -> tuple[DriftRecord, ...]:
    # a feature with no value at all this window (a feed outage) shows in missing_share
    columns = [c for c in (*spec.features, spec.score) if rows[c].notna().any()]
    if rows.empty or not columns:
        return ()
    report = compare_features(reference.frame[columns], rows[columns], features=columns,
                              reference_name="reference", current_name="window")
    return report.records


def _subgroups(spec: MonitorSpec, labelled: pd.DataFrame, seed: int) -> tuple[SubgroupTable, ...]:
    groups = list(spec.roles.groups)
    if not groups or len(labelled) < spec.min_labelled:
        return ()
    y = labelled[spec.roles.target].to_numpy(dtype=np.int64)
    score = labelled[spec.score].to_numpy(dtype=np.float64)
    tables = []
    for metric in spec.subgroup_metrics:
        params: dict[str, Any] = ({"threshold": spec.threshold} if _takes_threshold(metric)
                                  else {})
        if "threshold" in params and spec.threshold is None:
            continue
        table = metric_by_group(metric, y, score, labelled[groups], n_boot=_N_BOOT, seed=seed,
                                small_cell_threshold=spec.small_cell, **params)
        tables.append(table.for_distribution())
    return tuple(tables)


def known_labels(spec: MonitorSpec, rows: pd.DataFrame, as_of: datetime) -> np.ndarray[Any, Any]:
    """Which rows' outcomes were known as of ``as_of`` (recorded by then, when the data says
    when)."""
    known = rows[spec.roles.target].notna().to_numpy()
    if spec.label_time is not None:
        arrived = pd.to_datetime(rows[spec.label_time], utc=True)
        known &= (arrived <= as_of).fillna(False).to_numpy()
    return known


def window_fingerprint(rows: pd.DataFrame, known: np.ndarray[Any, Any],
                       spec: MonitorSpec) -> str:
    """The rows with labels masked where not yet known (so new labels change the hash), and the
    parts of the spec that decide the results (so a changed rule or metric re-evaluates)."""
    masked = rows.copy()
    masked[spec.roles.target] = masked[spec.roles.target].where(known)
    if spec.label_time is not None:
        masked = masked.drop(columns=[spec.label_time])
    decisive = spec.content(exclude={"name", "notifiers", "notify", "source"})
    return json_fingerprint([frame_fingerprint(masked.reset_index(drop=True)), decisive])


def window_seed(seed: int, window: Window) -> int:
    """The seed of a window's intervals: the monitor's seed plus the window's first day."""
    return seed + (window.start.date() - date(1970, 1, 1)).days

"""A monitor replayed over a historical prediction log, without registering a product.

:func:`backtest` builds a :class:`MonitorSpec` from a few arguments, runs it on a throwaway
SQLite store in a temporary folder and returns every window with its signals and the alerts
it raised. Use it to see what a monitor *would have* said about a period, and to tune alert
rules before putting them in a monitor file.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from assay.data import read_table
from assay.errors import InputError
from assay.monitoring._evaluate import WindowResult
from assay.monitoring._records import Alert, MonitorRecords
from assay.monitoring._run import run_monitor
from assay.monitoring._spec import AlertRule, MonitorSpec
from assay.monitoring._windows import parse_duration
from assay.store import Store

__all__ = ["DEFAULT_RULES", "BacktestResult", "BacktestWindow", "backtest"]

DEFAULT_RULES: tuple[AlertRule, ...] = (
    AlertRule.model_validate({"name": "drift", "drift": {"method": "psi"}}),
    AlertRule.model_validate({"name": "auroc-cusum", "severity": "critical",
                              "sequential": {"metric": "auroc", "arl0": 520}}),
    AlertRule.model_validate({"name": "oe-ratio", "severity": "critical",
                              "metric": "oe_ratio", "when": "ci outside [0.8, 1.2]"}),
    AlertRule.model_validate({"name": "oe-cusum", "sequential": {"metric": "oe_ratio"}}),
    AlertRule.model_validate({"name": "flag-rate-cusum", "sequential": {"metric": "flag_rate"}}),
    AlertRule.model_validate({"name": "no-data", "no_data": {"min_rows": 1}}),
)
"""The alert rules of a backtest when none are given.

- ``drift`` (warning): any monitored feature, or the score itself, whose PSI against the
  reference exceeds the method's default threshold (0.2). Cheap, needs no labels, and catches
  feed changes such as a lab sent in another unit.
- ``auroc-cusum`` (critical): a two-sided CUSUM on the window AUROC against the reference
  AUROC, calibrated to one false alarm per 520 windows on a stable stream (about ten years of
  weekly windows). It accumulates small, persistent losses of discrimination that no single
  window's interval shows.
- ``oe-ratio`` (critical): the observed-to-expected ratio's 95 % interval lies wholly outside
  [0.8, 1.2], i.e. the model's risks are off by more than a fifth in a way one window already
  shows beyond its noise.
- ``oe-cusum`` (warning): a CUSUM on the O:E ratio for a smaller but persistent calibration
  drift.
- ``flag-rate-cusum`` (warning): a CUSUM on the share of predictions at or above the
  threshold; kept only when a threshold is given, since without one there is no flag rate. A
  changed flag rate changes the clinical workload before outcomes are known.
- ``no-data`` (warning): a window with no predictions at all (a feed gone silent).
"""


@dataclass(frozen=True)
class BacktestWindow:
    """One window of a backtest: what it showed, its status colour, the alerts it opened."""

    result: WindowResult
    status: str
    """``green``, ``amber`` or ``red``: the worst severity among the rules holding there."""
    alerts_raised: tuple[Alert, ...]
    """Alerts whose first window is this one."""


@dataclass(frozen=True)
class BacktestResult:
    """Every window of a backtest, oldest first, with the alerts and the rules used."""

    monitor: str
    spec: MonitorSpec
    windows: tuple[BacktestWindow, ...]
    alerts: tuple[Alert, ...]
    """Every alert of the backtest, in the state it ended in, oldest first."""

    @property
    def rules(self) -> tuple[AlertRule, ...]:
        """The alert rules that were applied."""
        return self.spec.alerts

    def summary(self) -> str:
        """One sentence for the console."""
        live = sum(1 for a in self.alerts if a.state != "resolved")
        return (f"{self.monitor}: {len(self.windows)} window(s), {len(self.alerts)} alert(s) "
                f"raised, {live} still open at the end")

    def to_json(self) -> dict[str, Any]:
        """The JSON document of ``assay monitor backtest --json``."""
        return {
            "monitor": self.monitor,
            "windows": [_window_json(w) for w in self.windows],
            "alerts": [_alert_json(a) for a in self.alerts],
            "rules": [r.model_dump(mode="json", exclude_none=True) for r in self.rules],
        }


def backtest(log: pd.DataFrame | str | Path, reference: pd.DataFrame | str | Path, *,
             time: str, target: str, score: str, window: str = "7d",
             features: Sequence[str] | None = None, threshold: float | None = None,
             label_time: str | None = None, groups: Sequence[str] = (),
             alerts: Sequence[AlertRule] | None = None, seed: int = 0,
             name: str | None = None) -> BacktestResult:
    """Replay a monitor over a historical log of predictions.

    The windows are ``rolling Nd every Nd`` for ``window="Nd"`` (back-to-back periods of N
    days from the first prediction's day), evaluated as of the day after the last prediction.
    Only whole windows are evaluated: predictions after the end of the last whole window are
    left out, as a live monitor would leave them until their window completes.

    Parameters
    ----------
    log, reference
        The predictions to monitor and the validation data they are compared with: tables or
        paths of CSV / Parquet files.
    time, target, score
        The columns of the prediction time, the 0/1 outcome (empty while unknown) and the
        risk score.
    window
        Length of a window, ``7d``, ``14d`` or ``2w``.
    features
        Columns compared with the reference each window; default every numeric column both
        tables share, except the time, target, score, label time and groups.
    threshold
        Decision threshold on the score: adds the flag rate, threshold metrics estimated
        without labels, and the ``flag-rate-cusum`` default rule.
    label_time
        Column of when each outcome became known; an outcome recorded after the evaluation
        date does not count.
    groups
        Columns to break the flag rate and O:E ratio down by.
    alerts
        The alert rules; default :data:`DEFAULT_RULES`.
    name
        The monitor's name in the result; default ``backtest`` and the log's file name.

    Returns
    -------
    BacktestResult

    Examples
    --------
    >>> from assay.datasets import LabUnitChange, make_inpatient_cohort
    >>> cohort = make_inpatient_cohort(3_000, start="2025-01-01", months=4, seed=2,
    ...     shifts=[LabUnitChange("creatinine_mg_dl", factor=88.4, starts="2025-03-15")])
    >>> found = backtest(cohort[cohort.discharged_at >= "2025-03-01"],
    ...                  cohort[cohort.discharged_at < "2025-03-01"],
    ...                  time="discharged_at", target="readmit_30d", score="true_risk",
    ...                  window="14d", features=["age", "creatinine_mg_dl"])
    >>> [a.rule for a in found.alerts]
    ['drift']
    >>> str(found.alerts[0].first_window_start.date())
    '2025-03-15'
    """
    log_frame, log_name = _table(log, "the log")
    ref_frame, _ = _table(reference, "the reference")
    days = parse_duration(window).days
    roles = (time, target, score, *groups, *([label_time] if label_time else []))
    for column in dict.fromkeys(roles):
        if column not in log_frame.columns:
            raise InputError(f"{log_name}: no column {column!r}")
    if features is None:
        features = [str(c) for c in log_frame.columns
                    if c in ref_frame.columns and c not in roles
                    and pd.api.types.is_numeric_dtype(log_frame[c])
                    and not pd.api.types.is_bool_dtype(log_frame[c])]
    rules = tuple(DEFAULT_RULES if alerts is None else alerts)
    if alerts is None and threshold is None:
        rules = tuple(r for r in rules if r.name != "flag-rate-cusum")
    spec = MonitorSpec.from_dict({
        "monitor": name or (f"backtest {Path(log).name}" if isinstance(log, str | Path)
                            else "backtest"),
        "source": {"path": "<in memory>"}, "reference": {"path": "<in memory>"},
        "roles": {"target": target, "score": score, "time": time, "groups": list(groups),
                  "features": list(features)},
        "label_time": label_time, "windows": f"rolling {days}d every {days}d",
        "threshold": threshold, "alerts": list(rules), "seed": seed,
    }, source="backtest")
    if log_frame.empty:
        raise InputError(f"{log_name}: no rows to backtest")
    times = pd.to_datetime(log_frame[time], utc=True)
    as_of = times.max().normalize() + timedelta(days=1)
    with tempfile.TemporaryDirectory(prefix="assay-backtest-") as folder:
        store = Store.open(f"sqlite:///{Path(folder) / 'backtest.db'}")
        try:
            run_monitor(spec, store, as_of=as_of.to_pydatetime(), data=log_frame,
                        reference=ref_frame)
            records = MonitorRecords(store)
            stored = records.windows(spec.name)
            raised = sorted(records.alerts(monitor=spec.name, states=_ALL_STATES),
                            key=lambda a: (a.first_window_start, a.rule))
        finally:
            store.close()
    windows = tuple(BacktestWindow(s.result, s.status, tuple(
        a for a in raised if a.first_window_start == s.result.window_start)) for s in stored)
    return BacktestResult(spec.name, spec, windows, tuple(raised))


_ALL_STATES = ("open", "acknowledged", "snoozed", "resolved")


def _table(value: pd.DataFrame | str | Path, what: str) -> tuple[pd.DataFrame, str]:
    if isinstance(value, pd.DataFrame):
        return value, what
    return read_table(Path(value))


def _window_json(window: BacktestWindow) -> dict[str, Any]:
    result = window.result
    return {
        "start": result.window_start.isoformat(),
        "end": result.window_end.isoformat(),
        "n": result.n,
        "n_labelled": result.n_labelled,
        "label_maturity": result.label_maturity,
        "metrics": {name: {"value": value.value, "ci_low": value.ci_low,
                           "ci_high": value.ci_high}
                    for name, value in sorted(result.signals.items())},
        "undefined": dict(sorted(result.undefined.items())),
        "drifted_features": result.drifted_features,
        "status": window.status,
        "alerts_raised": [{"rule": a.rule, "severity": a.severity, "title": a.title}
                          for a in window.alerts_raised],
    }


def _alert_json(alert: Alert) -> dict[str, Any]:
    return {
        "id": str(alert.id), "rule": alert.rule, "severity": alert.severity,
        "state": alert.state, "title": alert.title,
        "first_window_start": alert.first_window_start.isoformat(),
        "last_window_start": alert.last_window_start.isoformat(),
        "resolved_at": alert.resolved_at and alert.resolved_at.isoformat(),
        "details": alert.details,
    }

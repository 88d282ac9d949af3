"""Model-card values computed from stored Runs: validity, fairness, representativeness.

Nothing here is typed by a person. Each Run is placed in an evaluation setting: ``internal``
(the developer's test data from the training source), ``external`` (data from another source)
or ``local`` (the hospital's own data, the default). A Run is internal or external when its
data source or data fingerprint is named in the version field ``internal_validation_data`` or
``external_validation_data`` (comma-separated); every other Run of the version is local.

For each setting the evidence is the newest Run that passed (no check failed or errored); a
setting whose Runs all failed gives no value and a reason that says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from assay.checks import MetricRecord, Run
from assay.reports._format import (
    format_count,
    format_interval,
    format_level,
    format_percent,
    format_threshold,
    metric_title,
)
from assay.reports._words import join_words

__all__ = ["Evidence", "Setting", "run_evidence", "run_label", "setting_of"]

Setting = Literal["internal", "external", "local"]

VALIDITY_METRICS = ("auroc", "auprc", "calibration_slope", "calibration_intercept",
                    "oe_ratio", "ici", "brier", "sensitivity", "specificity", "ppv", "npv",
                    "flag_rate")
"""Metrics a validity field reports, in this order, when the Run holds them."""

_HEADLINE = ("auroc", "calibration_slope", "oe_ratio")
_SETTING_KEYS: dict[Setting, str] = {"internal": "internal_validation_data",
                                     "external": "external_validation_data"}
_EPOCH = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Evidence:
    """A run-derived value: text in plain words, structured details, and its source."""

    text: str | None
    details: dict[str, Any] | None
    source: str
    missing_reason: str | None = None


def setting_of(run: Run, version: Mapping[str, str]) -> Setting:
    """The evaluation setting of ``run`` for this version (see the module docstring)."""
    for setting, key in _SETTING_KEYS.items():
        names = {part.strip() for part in version.get(key, "").split(",") if part.strip()}
        if run.data.source in names or run.data.fingerprint in names:
            return setting
    return "local"


def run_label(run: Run, run_id: str | None) -> str:
    """The ``run:`` source of a value: the store id when known, else plan and data."""
    if run_id:
        return f"run:{run_id}"
    return (f"run:{run.plan.name}@{run.plan.version}"
            f"/{run.data.fingerprint.rpartition(':')[2][:12]}")


def _newest_passing(runs: Sequence[tuple[str | None, Run]]) -> tuple[
        tuple[str | None, Run] | None, str]:
    """The newest passing run, or None and why (runs without a date count as oldest; ties
    keep the given order, which for ``Store.list_runs`` is newest first)."""
    if not runs:
        return None, ""
    ordered = sorted(enumerate(runs), key=lambda item: (
        -(item[1][1].started_at or _EPOCH).timestamp(), item[0]))
    for _, pair in ordered:
        if pair[1].passed:
            return pair, ""
    newest = ordered[0][1][1]
    failed = len(newest.failures())
    return None, (f"none of the {len(runs)} stored Runs passed; the newest, "
                  f"{run_label(newest, ordered[0][1][0])}, has {failed} failed or "
                  "unevaluable check" + ("" if failed == 1 else "s"))


def _record_details(record: MetricRecord) -> dict[str, Any]:
    return {"metric": record.metric, "title": metric_title(record.metric),
            "score": record.score, "threshold": record.threshold, "value": record.value,
            "ci_low": record.ci_low, "ci_high": record.ci_high, "level": record.level,
            "method": record.method, "n": record.n, "n_events": record.n_events}


def _record_text(record: MetricRecord) -> str:
    at = "" if record.threshold is None else f" at threshold {format_threshold(record.threshold)}"
    return f"{metric_title(record.metric)}{at}: {format_interval(record, level=record.level)}"


def _data_words(run: Run) -> str:
    data = run.data
    events = ""
    if data.n_events is not None and data.n:
        events = (f", {format_count(data.n_events)} with the outcome "
                  f"({format_percent(data.n_events / data.n)})")
    period = ""
    if data.time_start and data.time_end:
        period = f", {data.time_start[:10]} to {data.time_end[:10]}"
    return f"{data.source} ({format_count(data.n)} records{events}{period})"


def _run_details(run: Run, run_id: str | None) -> dict[str, Any]:
    return {"run_id": run_id, "plan": run.plan.name, "plan_version": run.plan.version,
            "plan_fingerprint": run.plan_fingerprint, "data_source": run.data.source,
            "data_fingerprint": run.data.fingerprint, "n": run.data.n,
            "n_events": run.data.n_events, "status": run.status,
            "started_at": None if run.started_at is None else run.started_at.isoformat(),
            "level": run.level}


def _validity(run: Run, run_id: str | None) -> Evidence:
    score = run.data.scores[0].name
    records = sorted(
        (r for r in run.overall_metrics
         if r.score == score and r.status == "ok" and r.metric in VALIDITY_METRICS
         and r.value is not None),
        key=lambda r: VALIDITY_METRICS.index(r.metric))
    source = run_label(run, run_id)
    if not records:
        return Evidence(None, None, source, f"{source} holds no defined validity metric of "
                                            f"the score “{score}”")
    checks = [{"id": r.id, "status": r.status, "reason": r.reason}
              for r in run.results if r.kind in ("metric", "comparison")]
    text = (f"Measured on {_data_words(run)} with the plan “{run.plan.name}” (version "
            f"{run.plan.version}), score “{score}”: "
            + "; ".join(_record_text(r) for r in records if r.metric in _HEADLINE)
            + f". {len(records)} metrics in all, each with its {format_level(run.level)} "
              "confidence interval.")
    details = {"run": _run_details(run, run_id), "metrics": [_record_details(r)
                                                              for r in records],
               "checks": checks}
    return Evidence(text, details, source)


def _fairness(run: Run, run_id: str | None) -> Evidence:
    source = run_label(run, run_id)
    audits = [r for r in run.results if r.kind == "fairness" and r.fairness is not None]
    if audits:
        parts, details = [], []
        for result in audits:
            audit = result.fairness
            assert audit is not None
            breaches = audit.rows_with("clear_breach")
            possible = audit.rows_with("possible_breach")
            words = f"{result.title}: check {result.status}"
            if breaches:
                words += "; outside the band: " + join_words([g for _, g in breaches])
            if possible:
                words += "; possibly outside the band: " + join_words([g for _, g in possible])
            parts.append(words)
            details.append({
                "check": result.id, "status": result.status, "criterion": audit.criterion,
                "attribute": audit.attribute, "band_status": audit.status,
                "threshold": audit.threshold,
                "tables": [{"metric": t.metric, "reference": t.reference,
                            "band": list(t.band),
                            "rows": [{"group": row.group_value, "n": row.n,
                                      "value": row.value, "ratio": row.ratio,
                                      "ratio_ci_low": row.ratio_ci_low,
                                      "ratio_ci_high": row.ratio_ci_high,
                                      "band_status": row.band_status}
                                     for row in t.rows]}
                           for t in audit.tables]})
        text = (f"Fairness checks on {_data_words(run)}: " + ". ".join(parts)
                + ". A group within the band shows no difference larger than the band on this "
                  "data; it does not show that the groups are treated alike.")
        return Evidence(text, {"run": _run_details(run, run_id), "fairness_checks": details},
                        source)
    groups = [r for r in run.group_metrics if r.status == "ok" and not r.suppressed
              and r.value is not None and r.metric in VALIDITY_METRICS]
    if groups:
        text = (f"No fairness criterion was judged; metrics by group on {_data_words(run)}: "
                + "; ".join(f"{r.group}={r.group_value}: {_record_text(r)}, n "
                            f"{format_count(r.n)}" for r in groups) + ".")
        return Evidence(text, {"run": _run_details(run, run_id),
                               "group_metrics": [{"group": r.group,
                                                  "group_value": r.group_value,
                                                  **_record_details(r)} for r in groups]},
                        source)
    return Evidence(None, None, source, f"{source} holds no fairness check and no metrics "
                                        "by group")


def _representativeness(run: Run, run_id: str | None) -> Evidence:
    source = run_label(run, run_id)
    counts: dict[tuple[str, str], int | None] = {}
    for r in run.group_metrics:
        if r.group is not None and r.group_value is not None:
            counts.setdefault((r.group, r.group_value), None if r.suppressed else r.n)
    if not counts:
        return Evidence(None, None, source, f"{source} holds no metrics by group, so the "
                                            "make-up of the external data is not known")
    text = "Records per group in the external data: " + "; ".join(
        f"{group}={value}: " + ("fewer than the small-cell threshold" if n is None
                                else format_count(n))
        for (group, value), n in counts.items()) + "."
    return Evidence(text, {"run": _run_details(run, run_id), "groups": [
        {"group": g, "group_value": v, "n": n} for (g, v), n in counts.items()]}, source)


def _safety(run: Run, run_id: str | None) -> Evidence:
    source = run_label(run, run_id)
    results = [r for r in run.results if r.kind in ("robustness", "metamorphic")]
    if not results:
        return Evidence(None, None, source, f"{source} holds no robustness or metamorphic "
                                            "check")
    text = "; ".join(f"{r.title}: {r.status} ({r.reason})" for r in results) + "."
    return Evidence(text, {"run": _run_details(run, run_id), "checks": [
        {"id": r.id, "kind": r.kind, "status": r.status, "reason": r.reason}
        for r in results]}, source)


_COMPUTE = {"validity": _validity, "fairness": _fairness,
            "representativeness": _representativeness, "reliability": _safety}


def run_evidence(kind: str, runs: Sequence[tuple[str | None, Run]],
                 version: Mapping[str, str]) -> Evidence:
    """The value of a run-derived field (``kind`` is a ``FieldSpec.run_evidence``)."""
    setting: Setting
    if kind == "safety_reliability":
        setting, what = "local", "reliability"
    elif kind == "external_representativeness":
        setting, what = "external", "representativeness"
    else:
        first, _, what = kind.partition("_")
        setting = "internal" if first == "internal" else (
            "external" if first == "external" else "local")
    chosen = [pair for pair in runs if setting_of(pair[1], version) == setting]
    if not chosen:
        if setting == "local":
            reason = "no validation Run of this version is stored"
        else:
            reason = (f"no stored Run is marked as {setting} validation (the version field "
                      f"'{_SETTING_KEYS[setting]}' names its data source or fingerprint)")
        return Evidence(None, None, "run:none", reason)
    newest, why = _newest_passing(chosen)
    if newest is None:
        return Evidence(None, None, "run:none", why)
    return _COMPUTE[what](newest[1], newest[0])

"""The demo's year after go-live: production data with three injected shifts replayed through a
monitor, month by month, into the demo's store; alerts delivered to a file; the monitoring
report written.

The shifts: creatinine sent in µmol/L instead of mg/dL for two months (a lab interface change,
then fixed), a new population (a younger, differently insured group) from January, and more
readmissions for the same risk (odds ratio 1.8) from April.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from assay.datasets import (
    LabUnitChange,
    NewPopulation,
    PrevalenceChange,
    Shift,
    make_inpatient_cohort,
)
from assay.monitoring import MonitorRecords, MonitorSpec, run_monitor
from assay.reports import render_monitoring_report
from assay.store import Store

__all__ = ["MonitoringOutcome", "replay_year"]

PRODUCTION_START = "2025-07-01"
LAST_WEEK_ENDS = "2026-06-29"
"""The data end on 30 June 2026; later weeks would be empty (and raise 'feed silent')."""
UNIT_CHANGE = ("2025-09-01", "2025-11-01")
NEW_POPULATION = "2026-01-05"
PREVALENCE_CHANGE = "2026-04-01"
MONITORED = ["age", "creatinine_mg_dl", "sodium_mmol_l", "lactate_mmol_l", "charlson_index",
             "prior_admissions_12m", "length_of_stay_days", "payer", "admission_type"]


@dataclass(frozen=True)
class MonitoringOutcome:
    """Files written and the lines to print."""

    files: dict[str, Path]
    story: list[str]


MONITOR = "readmission-30d-weekly"


def monitor_document(product: str | None, version: str | None) -> dict[str, Any]:
    """The demo's monitor, as written to ``monitor.yaml`` (bound to the product version when
    one is given)."""
    critical = {"severity": "critical"}
    return {
        "monitor": MONITOR, **({"product": product, "version": version} if product else {}),
        "source": {"path": "production.parquet"}, "reference": {"path": "validation.parquet"},
        "roles": {"target": "readmit_30d", "score": "risk", "time": "discharged_at",
                  "groups": ["sex", "race_ethnicity"], "features": MONITORED},
        "label_time": "label_available_at", "outcome_window": "30d", "windows": "weekly",
        "threshold": 0.2,
        "metrics": ["auroc", "oe_ratio", "calibration_slope", "sensitivity", "ppv"],
        "subgroup_metrics": ["flag_rate", "sensitivity"],
        "alerts": [
            {"name": "input-drift", "drift": {"method": "psi"}, "escalate_after": "14d"},
            {"name": "flag-rate-change", "sequential": {"metric": "flag_rate"}},
            {"name": "auroc-decline", "sequential": {"metric": "auroc"}, **critical},
            {"name": "calibration-out-of-band", "metric": "oe_ratio",
             "when": "ci outside [0.8, 1.2]", "for_windows": 2, "resolve_after": 4,
             **critical},
            {"name": "calibration-shift", "sequential": {"metric": "oe_ratio"}, **critical},
            {"name": "feed-silent", "no_data": {"min_rows": 50}, **critical},
            {"name": "outcomes-overdue", "labels_overdue": {"grace": "14d"}},
        ],
        "notifiers": [{"type": "file", "name": "alerts-file", "path": "alerts.jsonl"}],
        "notify": {"digest": True, "min_severity": "warning"},
    }


def production_year(model: Any, features: list[str], seed: int) -> pd.DataFrame:
    """A year of discharges after go-live with the three shifts, scored by ``model``."""
    shifts: list[Shift] = [
        LabUnitChange("creatinine_mg_dl", factor=88.4, starts=UNIT_CHANGE[0], unit="µmol/L"),
        NewPopulation(starts=NEW_POPULATION, share=0.3, age_shift=-15.0),
        PrevalenceChange(starts=PREVALENCE_CHANGE, odds_ratio=1.8),
    ]
    year = make_inpatient_cohort(13_000, start=PRODUCTION_START, months=12, seed=seed + 1,
                                 shifts=shifts)
    fixed = year["discharged_at"] >= pd.Timestamp(UNIT_CHANGE[1])
    year.loc[fixed, "creatinine_mg_dl"] = year.loc[fixed, "creatinine_mg_dl"] / 88.4
    year["risk"] = model.predict_proba(year[features])[:, 1]
    return year


def replay_year(out: Path, model: Any, features: list[str], *, product: str | None,
                version: str | None, seed: int) -> MonitoringOutcome:
    """Replay the year month by month through the monitor in ``<out>/assay.db``."""
    year = production_year(model, features, seed)
    year.to_parquet(out / "production.parquet", index=False)
    spec_path = out / "monitor.yaml"
    document = monitor_document(product, version)
    spec_path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True),
                         encoding="utf-8")
    spec = MonitorSpec.load(spec_path)
    alerts_file = out / "alerts.jsonl"
    alerts_file.unlink(missing_ok=True)
    store = Store.open(f"sqlite:///{out / 'assay.db'}")
    try:
        records = MonitorRecords(store)
        runs = []
        for as_of in ("2025-10-01", "2026-01-01", "2026-04-01", "2026-07-01", "2026-08-15"):
            runs.append(run_monitor(spec, store, as_of=as_of, end=LAST_WEEK_ENDS, base=out))
            if as_of == "2026-01-01":
                _close_unit_change_alerts(records, spec.name)
        for alert in records.alerts(monitor=spec.name):
            if alert.rule == "input-drift":
                records.change_alert(alert.id, "acknowledge", actor="equity-rao",
                                     note="younger referrals from a new community clinic; "
                                          "case-mix review booked")
        report = out / "monitoring-report.html"
        render_monitoring_report(records, spec.name, report)
        story = _story(spec, records, runs, alerts_file)
        audit = store.verify_audit()
        story.append(f"Audit trail now {audit.n_events} events, "
                     f"{'intact' if audit.ok else 'BROKEN'}.")
    finally:
        store.close()
    return MonitoringOutcome(
        files={"monitor": spec_path, "production": out / "production.parquet",
               "alerts": alerts_file, "monitoring report": report},
        story=story)


def _close_unit_change_alerts(records: MonitorRecords, monitor: str) -> None:
    """What the team does once the lab interface is fixed: resolve what it caused."""
    fixed = pd.Timestamp(UNIT_CHANGE[1], tz="UTC")
    for alert in records.alerts(monitor=monitor):
        if alert.first_window_start < fixed:
            records.change_alert(alert.id, "resolve", actor="lab-informatics",
                                 note="creatinine interface sends mg/dL again since "
                                      f"{UNIT_CHANGE[1]}; scores rechecked")


def _story(spec: MonitorSpec, records: MonitorRecords, runs: list[Any],
           alerts_file: Path) -> list[str]:
    windows = records.windows(spec.name)
    revisions = records.windows(spec.name, all_revisions=True)
    alerts = sorted(records.alerts(monitor=spec.name,
                                   states=("open", "acknowledged", "resolved")),
                    key=lambda a: a.first_window_start)
    delivered = len(alerts_file.read_text(encoding="utf-8").splitlines()) \
        if alerts_file.exists() else 0
    lines = [f"Replayed a year after go-live ({PRODUCTION_START} on) through the monitor "
             f"'{spec.name}' in {len(runs)} runs (quarterly, then once outcomes were in): "
             f"{len(windows)} weekly windows, {len(revisions) - len(windows)} revisions as "
             "late outcomes arrived.",
             f"Injected: creatinine in µmol/L {UNIT_CHANGE[0]} to {UNIT_CHANGE[1]}, a new "
             f"population from {NEW_POPULATION}, readmission odds ×1.8 from "
             f"{PREVALENCE_CHANGE}. Alerts raised:"]
    for rule in spec.alerts:
        raised = [a for a in alerts if a.rule == rule.name]
        if raised:
            weeks = ", ".join(f"{a.first_window_start:%d %b %Y}" + (
                f" ({a.state})" if a.state != "resolved" else "") for a in raised)
            lines.append(f"  {rule.name} ({raised[-1].severity}): {len(raised)} alert(s), "
                         f"opened in the week of {weeks}")
    lines.append(f"  Latest: {raised_title(alerts)}")
    payloads = [json.loads(line) for line in
                alerts_file.read_text(encoding="utf-8").splitlines()] if delivered else []
    lines.append(f"{delivered} digest message(s) delivered to {alerts_file} "
                 f"({sum(len(p['payload']['alerts']) for p in payloads)} alert notices).")
    return lines


def raised_title(alerts: list[Any]) -> str:
    """The newest live alert's title, or that none is live."""
    live = [a for a in alerts if a.state in ("open", "acknowledged")]
    return live[-1].title if live else "no alert is live"

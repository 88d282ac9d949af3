"""The demo's year after go-live: each injected shift raises its alerts near its start, the
alerts reach the file notifier, and the monitoring report is written."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from assay._demo import CATEGORICAL, NUMERIC, _train
from assay._demo_monitoring import replay_year
from assay.datasets import make_inpatient_cohort
from assay.monitoring import MonitorRecords
from assay.store import Store


@pytest.mark.slow
def test_the_replayed_year_raises_each_shift_near_its_start(tmp_path: Path) -> None:
    cohort = make_inpatient_cohort(8_000, start="2024-07-01", months=12, seed=3)
    training = cohort[cohort["discharged_at"] < "2025-01-01"]
    validation = cohort[cohort["discharged_at"] >= "2025-01-01"].copy()
    model, _ = _train(training, seed=3)
    features = NUMERIC + CATEGORICAL
    validation["risk"] = model.predict_proba(validation[features])[:, 1]
    validation.to_parquet(tmp_path / "validation.parquet", index=False)
    outcome = replay_year(tmp_path, model, features, product=None, version=None, seed=3)

    store = Store.open(f"sqlite:///{tmp_path / 'assay.db'}")
    alerts = MonitorRecords(store).alerts(states=("open", "acknowledged", "resolved"))
    first = {}
    for alert in sorted(alerts, key=lambda a: a.first_window_start):
        first.setdefault(alert.rule, []).append(alert.first_window_start.date())
    print("\n" + "\n".join(outcome.story) + f"\n{first}")

    def opened_within(rule: str, start: str, windows: int) -> bool:
        begin = pd.Timestamp(start).date()
        return any(0 <= (day - begin).days < 7 * windows for day in first.get(rule, []))

    assert opened_within("input-drift", "2025-09-01", 1)          # µmol/L creatinine
    assert opened_within("input-drift", "2026-01-05", 2)          # the new population
    assert opened_within("calibration-shift", "2026-03-30", 3)    # odds ×1.8 from 1 April
    notices = [json.loads(line) for line in
               outcome.files["alerts"].read_text(encoding="utf-8").splitlines()]
    assert notices and all(n["payload"]["monitor"] == "readmission-30d-weekly"
                           for n in notices)
    report = outcome.files["monitoring report"].read_text(encoding="utf-8")
    assert "Monitoring report: readmission-30d-weekly" in report
    assert store.verify_audit().ok

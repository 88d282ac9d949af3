from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from assay.cli import _monitor
from assay.cli._app import app
from assay.datasets import LabUnitChange, make_inpatient_cohort
from assay.monitoring import MonitorRecords
from assay.store import Store

runner = CliRunner()

MONITOR = """\
monitor: readmission-weekly
source: {path: production.parquet}
reference: {path: reference.parquet}
roles:
  target: readmit_30d
  score: true_risk
  time: discharged_at
  groups: [sex]
  features: [age, creatinine_mg_dl, sodium_mmol_l, charlson_index]
label_time: label_available_at
windows: weekly
start: 2025-03-03
threshold: 0.2
alerts:
  - {name: creatinine-drift, drift: {method: psi}}
  - {name: auroc-cusum, sequential: {metric: auroc}, severity: critical}
  - {name: oe, metric: oe_ratio, when: "ci outside [0.8, 1.2]", severity: critical}
"""


@dataclass(frozen=True)
class Setup:
    folder: Path
    monitor: Path
    url: str
    first_run: Result


def invoke(*args: str) -> Result:
    return runner.invoke(app, list(args))


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_monitor.console, "width", 160)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Setup:
    folder = tmp_path_factory.mktemp("monitor")
    cohort = make_inpatient_cohort(
        4000, start="2025-01-01", months=6, seed=1,
        shifts=[LabUnitChange("creatinine_mg_dl", factor=88.4, starts="2025-04-15",
                              unit="µmol/L")])
    config = folder / "config"
    config.mkdir()
    cohort[cohort.discharged_at < "2025-03-01"].to_parquet(config / "reference.parquet")
    cohort[cohort.discharged_at >= "2025-03-01"].to_parquet(config / "production.parquet")
    monitor = config / "monitor.yaml"
    monitor.write_text(MONITOR, encoding="utf-8")
    url = f"sqlite:///{folder / 'assay.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_monitor.console, "width", 160)
        first = invoke("monitor", "run", str(monitor), "--as-of", "2025-06-01",
                       "--database", url)
    return Setup(folder, monitor, url, first)


def test_run_prints_the_windows_and_the_alert(setup: Setup) -> None:
    result = setup.first_run
    assert result.exit_code == 0, result.output
    assert "12 window(s) evaluated, 0 unchanged; 1 live alert(s)" in result.output
    assert "2025-03-03" in result.output and "to 2025-05-25" in result.output
    assert "creatinine-drift" in result.output
    store = Store.open(setup.url)
    try:
        records = MonitorRecords(store)
        windows = records.windows("readmission-weekly")
        (alert,) = records.alerts(monitor="readmission-weekly")
    finally:
        store.close()
    assert len(windows) == 12
    assert alert.rule == "creatinine-drift" and alert.state == "open"
    assert alert.first_window_start == datetime(2025, 4, 14, tzinfo=UTC)
    assert str(alert.id)[:8] in result.output
    # the last windows have no known outcome yet: their AUROC is estimated
    assert windows[-1].result.n_labelled == 0
    assert "≈" in result.output


def test_rerun_evaluates_nothing_and_the_stored_name_works(
        setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    again = invoke("monitor", "run", str(setup.monitor), "--as-of", "2025-06-01",
                   "--url", setup.url)
    assert again.exit_code == 0, again.output
    assert "0 window(s) evaluated, 12 unchanged" in again.output
    monkeypatch.chdir(setup.monitor.parent)
    by_name = invoke("monitor", "run", "readmission-weekly", "--as-of", "2025-06-01",
                     "--url", setup.url)
    assert by_name.exit_code == 0, by_name.output
    assert "0 window(s) evaluated, 12 unchanged" in by_name.output
    monkeypatch.chdir(setup.folder)
    elsewhere = invoke("monitor", "run", "readmission-weekly", "--url", setup.url)
    assert elsewhere.exit_code == 2
    assert "its source 'production.parquet' is not found" in elsewhere.output


def test_backfill_evaluates_only_the_given_days(setup: Setup, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'backfill.db'}"
    result = invoke("monitor", "backfill", str(setup.monitor), "--from", "2025-03-03",
                    "--to", "2025-03-16", "--as-of", "2025-06-01", "--url", url)
    assert result.exit_code == 0, result.output
    assert "2 window(s) evaluated, 0 unchanged" in result.output
    assert "2025-03-10" in result.output and "2025-03-17" not in result.output
    backwards = invoke("monitor", "backfill", str(setup.monitor), "--from", "2025-03-16",
                       "--to", "2025-03-03", "--url", url)
    assert backwards.exit_code == 2
    assert "--to 2025-03-03 is before --from 2025-03-16" in backwards.output


def test_backtest_json_has_the_windows_and_the_drift_alert(setup: Setup,
                                                           tmp_path: Path) -> None:
    out = tmp_path / "backtest.json"
    config = setup.monitor.parent
    result = invoke("monitor", "backtest", str(config / "production.parquet"),
                    "--reference", str(config / "reference.parquet"),
                    "--time", "discharged_at", "--target", "readmit_30d",
                    "--score", "true_risk", "--window", "14d",
                    "--features", "age,creatinine_mg_dl", "--features", "sodium_mmol_l",
                    "--threshold", "0.2", "--label-time", "label_available_at",
                    "--json", str(out))
    assert result.exit_code == 0, result.output
    assert "backtest production.parquet: 8 window(s), 1 alert(s) raised" in result.output
    document = json.loads(out.read_text())
    assert document["monitor"] == "backtest production.parquet"
    windows = document["windows"]
    assert [w["start"][:10] for w in windows] == [
        "2025-03-01", "2025-03-15", "2025-03-29", "2025-04-12", "2025-04-26", "2025-05-10",
        "2025-05-24", "2025-06-07"]
    first = windows[0]
    assert first["n"] == first["n_labelled"] > 250
    auroc = first["metrics"]["auroc"]
    assert 0.6 < auroc["ci_low"] < auroc["value"] < auroc["ci_high"] <= 1.0
    assert windows[-1]["n_labelled"] == 0 and "auroc" in windows[-1]["undefined"]
    assert "estimated_auroc" in windows[-1]["metrics"]
    raised = [i for i, w in enumerate(windows) for a in w["alerts_raised"]
              if a["rule"] == "drift"]
    shifted = 3  # 2025-04-12 to 2025-04-25 holds the unit change of 2025-04-15
    assert len(raised) == 1 and 0 <= raised[0] - shifted <= 2
    assert "creatinine_mg_dl" in windows[raised[0]]["drifted_features"]
    assert [a["rule"] for a in document["alerts"]] == ["drift"]
    assert document["alerts"][0]["state"] == "open"
    assert [r["name"] for r in document["rules"]] == [
        "drift", "auroc-cusum", "oe-ratio", "oe-cusum", "flag-rate-cusum", "no-data"]


def test_alerts_change_state_in_the_audit(setup: Setup) -> None:
    url = setup.url
    listed = invoke("alerts", "list", "--url", url, "--full-ids")
    assert listed.exit_code == 0, listed.output
    store = Store.open(url)
    try:
        (alert,) = MonitorRecords(store).alerts()
    finally:
        store.close()
    full = str(alert.id)
    assert full in listed.output and "readmission-weekly" in listed.output

    short = full[:8]
    acked = invoke("alerts", "ack", short, "--by", "Dr Lee", "--note", "checking the feed",
                   "--url", url)
    assert acked.exit_code == 0, acked.output
    assert f"alert {full} (readmission-weekly, creatinine-drift): open → acknowledged" \
        in acked.output
    snoozed = invoke("alerts", "snooze", full, "--until", "2099-01-01", "--by", "Dr Lee",
                     "--url", url)
    assert snoozed.exit_code == 0, snoozed.output
    assert "acknowledged → snoozed until 2099-01-01 00:00 UTC" in snoozed.output
    resolved = invoke("alerts", "resolve", short, "--by", "Dr Lee", "--note", "lab fixed",
                      "--url", url)
    assert resolved.exit_code == 0, resolved.output
    assert "snoozed → resolved" in resolved.output

    live = invoke("alerts", "list", "--url", url)
    assert live.exit_code == 0 and "no live alerts" in live.output
    every = invoke("alerts", "list", "--all", "--monitor", "readmission-weekly", "--url", url)
    assert short in every.output and "resolved" in every.output

    again = invoke("alerts", "resolve", short, "--by", "Dr Lee", "--url", url)
    assert again.exit_code == 2
    assert f"alert {full} is resolved; it cannot be resolved" in again.output
    unknown = invoke("alerts", "ack", "00000000-0000-0000-0000-000000000000", "--by", "x",
                     "--url", url)
    assert unknown.exit_code == 2
    assert "alert '00000000-0000-0000-0000-000000000000' is not in the store" in unknown.output
    past = invoke("alerts", "snooze", short, "--until", "someday", "--by", "x", "--url", url)
    assert past.exit_code == 2 and "--until 'someday' is not a date" in past.output

    store = Store.open(url)
    try:
        (after,) = MonitorRecords(store).alerts(states=("resolved",))
    finally:
        store.close()
    assert after.id == alert.id and after.resolved_at is not None
    verified = invoke("audit", "verify", "--url", url)
    assert verified.exit_code == 0, verified.output
    assert "audit chain intact" in verified.output
    events = int(verified.output.split("intact: ")[1].split()[0])
    assert events >= 5  # monitor created, alert opened, acknowledged, snoozed, resolved


def test_bad_monitor_file_exits_2_naming_the_line_and_field(setup: Setup,
                                                            tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(MONITOR.replace("severity: critical}", "severity: urgent}", 1),
                   encoding="utf-8")
    result = invoke("monitor", "run", str(bad), "--url", setup.url)
    assert result.exit_code == 2
    assert f"{bad} line 16, alerts[1].severity:" in result.output
    assert "'critical'" in result.output
    missing = invoke("monitor", "run", str(tmp_path / "absent.yaml"), "--url", setup.url)
    assert missing.exit_code == 2 and "absent.yaml: no such monitor file" in missing.output
    unknown = invoke("monitor", "run", "no-such-monitor", "--url", setup.url)
    assert unknown.exit_code == 2
    assert "monitor 'no-such-monitor' is not in the store" in unknown.output
    as_of = invoke("monitor", "run", str(setup.monitor), "--as-of", "soon", "--url",
                   setup.url)
    assert as_of.exit_code == 2 and "--as-of 'soon' is not a date" in as_of.output


def test_report_writes_the_stored_monitor_as_html(setup: Setup, tmp_path: Path) -> None:
    page = tmp_path / "monitor.html"
    result = invoke("monitor", "report", str(setup.monitor), "--html", str(page),
                    "--url", setup.url)
    assert result.exit_code == 0, result.output
    assert f"written: {page}" in result.output
    text = page.read_text(encoding="utf-8")
    assert "readmission-weekly" in text and "creatinine-drift" in text
    wrong = invoke("monitor", "report", "readmission-weekly", "--html",
                   str(tmp_path / "x.pdf"), "--url", setup.url)
    assert wrong.exit_code == 2 and "the file name must end in .html" in wrong.output
    neither = invoke("monitor", "report", "readmission-weekly", "--url", setup.url)
    assert neither.exit_code == 2 and "give --html FILE or --pdf FILE" in neither.output

"""The monitoring report drawn from a monitor's stored windows, alerts and delivery log.

The fixture runs a real monitor over a simulated year (8,000 admissions, weekly windows):
creatinine switches to µmol/L in January (drift), lactate goes missing more often in the
autumn (data quality), the score loses discrimination and calibration from February
(performance alerts), outcomes arrive late (revisions when the monitor runs again), the
``sex`` group ``Unknown`` is too small to show (suppression), and the file notifier cannot
write (failed deliveries with retries).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from assay.datasets import LabUnitChange, make_inpatient_cohort
from assay.monitoring import MonitorRecords, MonitorSpec, run_monitor
from assay.reports._monitoring import alert_title, build_view, render_monitoring_report
from assay.store import Store

MONITOR = "readmit-weekly"
SECTIONS = ("Status", "Volume and flag rate", "Data quality", "Drift",
            "Performance and calibration", "Fairness over time", "Alerts and actions",
            "How to read this report")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    cohort = make_inpatient_cohort(8000, start="2025-01-01", months=18, seed=1, shifts=[
        LabUnitChange("creatinine_mg_dl", factor=88.4, starts="2026-01-15", unit="µmol/L")])
    rng = np.random.default_rng(3)
    logit = np.log(cohort.true_risk / (1 - cohort.true_risk))
    late = (cohort.discharged_at >= "2026-02-01").to_numpy()
    degraded = 1 / (1 + np.exp(-(0.35 * logit + rng.normal(0, 1.2, len(cohort)) - 0.4)))
    cohort["risk"] = np.where(late, degraded, cohort.true_risk)
    autumn = ((cohort.discharged_at >= "2025-10-01")
              & (cohort.discharged_at < "2025-11-15")).to_numpy()
    cohort.loc[autumn & (rng.random(len(cohort)) < 0.6), "lactate_mmol_l"] = np.nan
    reference = cohort[cohort.discharged_at < "2025-07-01"]
    production = cohort[cohort.discharged_at >= "2025-07-01"]
    folder = tmp_path_factory.mktemp("monitoring")
    opened = Store.open(f"sqlite:///{folder}/assay.db")
    opened.create_product("readmission-30d", actor="test")
    opened.create_version("readmission-30d", "2.1", actor="test")
    spec = MonitorSpec.from_dict({
        "monitor": MONITOR, "product": "readmission-30d", "version": "2.1",
        "source": {"path": "production.parquet"}, "reference": {"path": "reference.parquet"},
        "roles": {"target": "readmit_30d", "score": "risk", "time": "discharged_at",
                  "groups": ["sex"],
                  "features": ["age", "creatinine_mg_dl", "lactate_mmol_l", "charlson_index"]},
        "label_time": "label_available_at", "threshold": 0.2, "windows": "weekly",
        "metrics": ["auroc", "oe_ratio", "calibration_slope", "sensitivity"],
        "alerts": [
            {"name": "feature-drift", "drift": {"method": "psi"}, "for_windows": 2},
            {"name": "auroc-cusum", "sequential": {"metric": "auroc"}, "severity": "critical"},
            {"name": "oe", "metric": "oe_ratio", "when": "ci outside [0.8, 1.2]",
             "severity": "critical"},
        ],
        "notifiers": [{"type": "file", "path": str(folder / "missing" / "alerts.jsonl")}],
        "notify": {"retries": 1, "backoff_seconds": 0},
    })
    for as_of in ("2026-03-01", "2026-06-30"):
        run_monitor(spec, opened, as_of=as_of, data=production, reference=reference,
                    sleep=lambda seconds: None)
    return opened


@pytest.fixture(scope="module")
def html(store: Store, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = render_monitoring_report(store, MONITOR,
                                    tmp_path_factory.mktemp("html") / "monitor.html")
    return path.read_text(encoding="utf-8")


def _text(html: str) -> str:
    """The page's words: tags dropped, entities decoded, white space collapsed."""
    from html import unescape

    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def test_status_word_and_reason_come_first(store: Store, html: str) -> None:
    records = MonitorRecords(store)
    live = sorted(records.alerts(monitor=MONITOR), key=lambda a: a.rule)
    # a sequential alarm stays live until a person resolves it; the drift alert is live too
    assert [a.rule for a in live] == ["auroc-cusum", "feature-drift"]
    auroc, drift = live
    assert auroc.severity == "critical" and drift.severity == "warning"
    reason = (f"RED: 1 critical alert open and 1 warning alert open — "
              f"{alert_title(auroc.title)} since the week of "
              f"{auroc.first_window_start.date()}; also {alert_title(drift.title)} (since "
              f"the week of {drift.first_window_start.date()}).")
    assert "AUROC" in reason.upper() and "creatinine_mg_dl" in reason
    text = _text(html)
    assert reason in text
    assert text.index("RED") < text.index("Volume and flag rate")
    assert 'data-status="red"' in html
    assert "readmission-30d, version 2.1" in text
    windows = records.windows(MONITOR)
    first, last = windows[0].result, windows[-1].result
    assert (f"{len(windows)} weekly, {first.window_start.date()} to "
            f"{(last.window_end - timedelta(days=1)).date()}") in text


def test_as_of_shows_the_state_known_then(store: Store) -> None:
    view = build_view(MonitorRecords(store), MONITOR, as_of=_utc("2026-03-01"))
    assert view.status[1] == "RED"
    assert view.reason.startswith("RED: ")
    assert "critical alert" in view.reason
    assert view.facts[3] == ("As of", "2026-03-01")
    assert view.revisions == []  # the second run's revisions were not known yet


def test_every_section_and_plot_is_there(html: str) -> None:
    for title in SECTIONS:
        assert f">{title}</h2>" in html
    # volume, missing values, drift, 4 metrics, 2 subgroup metrics
    assert html.count("<svg") == 9
    assert html.count('role="img"') == 9
    assert "outcomes not yet complete" in html
    assert "estimated without labels" in html
    assert "<script" not in html


def test_numbers_are_written_with_their_intervals(store: Store, html: str) -> None:
    windows = MonitorRecords(store).windows(MONITOR)
    measured = next(w.result for w in reversed(windows) if "auroc" in w.result.signals)
    auroc = measured.signals["auroc"]
    assert auroc.ci_low is not None and auroc.ci_high is not None
    written = f"{auroc.value:.3f} ({auroc.ci_low:.3f}–{auroc.ci_high:.3f})"
    assert f"AUROC {written}" in _text(html)


def test_estimates_carry_the_cbpe_assumption(store: Store, html: str) -> None:
    latest = MonitorRecords(store).windows(MONITOR)[-1].result
    assumption = latest.estimation_assumption
    assert assumption is not None and "calibrated" in assumption
    # with the performance plots, and with the status while the latest window lacks outcomes
    expected = 1 + (latest.n_labelled < latest.n)
    assert _text(html).count("Estimated without labels: Estimates assume") == expected


def test_suppressed_cells_show_words_not_counts(store: Store, html: str) -> None:
    windows = MonitorRecords(store).windows(MONITOR)
    hidden = sum(1 for w in windows for t in w.result.subgroups if t.metric == "flag_rate"
                 for r in t.rows if r.suppressed)
    assert hidden > 0
    text = _text(html)
    assert (f"sex=Unknown: suppressed: fewer than 11 patients in {hidden} of {len(windows)} "
            "windows") in text
    assert not re.search(r"sex=Unknown[^.]*\bn\s*=", text)
    assert not re.search(r"sex=Unknown </th> <td[^>]*>\s*\d", html)


def test_revised_windows_list_first_and_latest_values(store: Store, html: str) -> None:
    every = MonitorRecords(store).windows(MONITOR, all_revisions=True)
    revised = sorted({w.result.label for w in every if w.revision > 1})
    assert len(revised) >= 2
    text = _text(html)
    assert "Revised windows" in text
    assert f"{len(revised)} windows were revised when late outcomes arrived" in text
    for label in revised:
        assert f">{label}</th>" in html
    assert "not measurable →" in text  # too few outcomes at the first run


def test_alerts_and_deliveries(store: Store, html: str) -> None:
    records = MonitorRecords(store)
    every = records.alerts(monitor=MONITOR, states=("open", "acknowledged", "snoozed",
                                                    "resolved"))
    assert {a.rule for a in every} == {"feature-drift", "auroc-cusum", "oe"}
    text = _text(html)
    for alert in every:
        assert alert_title(alert.title) in text
    assert "AUROC has fallen below its reference" in text
    deliveries = records.deliveries(MONITOR)
    subjects = {d["subject"] for d in deliveries}
    failed = sum(not d["ok"] for d in deliveries)
    assert failed == len(deliveries) > len(subjects)  # every attempt failed, with retries
    assert (f"{len(subjects)} message{'' if len(subjects) == 1 else 's'}: 0 delivered, "
            f"{len(subjects)} not delivered; {failed} of {len(deliveries)} delivery attempts "
            "failed") in text


def test_no_claims_of_safety(html: str) -> None:
    text = _text(html).lower()
    assert "does not show that the model is safe" in text
    assert "is safe" not in text.replace("does not show that the model is safe", "")
    assert "unbiased" not in text and "clinically validated" not in text


def test_pdf_has_pages(store: Store, html: str, tmp_path: Path) -> None:
    import weasyprint

    path = render_monitoring_report(MonitorRecords(store), MONITOR, tmp_path / "monitor.pdf")
    data = path.read_bytes()
    assert data.startswith(b"%PDF-")
    assert data.rstrip().endswith(b"%%EOF")
    # the same page laid out by WeasyPrint: the PDF's pages (its objects are compressed)
    assert len(weasyprint.HTML(string=html).render().pages) >= 2


def test_errors_name_the_problem(store: Store, tmp_path: Path) -> None:
    from assay.errors import InputError

    with pytest.raises(InputError, match=r"\.html or \.pdf"):
        render_monitoring_report(store, MONITOR, tmp_path / "monitor.docx")
    with pytest.raises(InputError, match="'nobody' is not in the store"):
        render_monitoring_report(store, "nobody", tmp_path / "monitor.html")
    with pytest.raises(InputError, match="no stored window as of 2025-01-01"):
        render_monitoring_report(store, MONITOR, tmp_path / "monitor.html", as_of="2025-01-01")


def _utc(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)

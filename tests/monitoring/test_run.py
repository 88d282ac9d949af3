"""Running a monitor into the store: late labels and revisions, idempotence, the alert
lifecycle with its audit events, and notifications through the outbox to real servers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from assay.errors import InputError, PlanError
from assay.monitoring import MonitorRecords, MonitorSpec, run_monitor
from assay.store import Store
from tests.monitoring.conftest import Receiver, free_port

START = datetime(2026, 1, 5, tzinfo=UTC)


def make_log(seed: int = 0, *, weeks: int = 12, per_week: int = 600,
             lab_factor_from: int | None = None) -> pd.DataFrame:
    """Predictions over ``weeks`` weeks; outcomes recorded 5 to 40 days after prediction."""
    rng = np.random.default_rng(seed)
    n = weeks * per_week
    times = START + pd.to_timedelta(np.sort(rng.uniform(0, weeks * 7, n)), unit="D")
    age = rng.normal(size=n)
    lab = rng.lognormal(0.0, 0.4, n)
    risk = 1 / (1 + np.exp(-(-2.0 + 0.9 * age + np.log(lab))))
    if lab_factor_from is not None:
        lab = np.where(times >= START + timedelta(weeks=lab_factor_from), lab * 88.4, lab)
    return pd.DataFrame({
        "id": np.arange(n), "predicted_at": times, "age": age, "lab": lab, "risk": risk,
        "outcome": (rng.random(n) < risk).astype(float),
        "outcome_known_at": times + pd.to_timedelta(rng.uniform(5, 40, n), unit="D"),
    })


def spec_for(**changes: Any) -> MonitorSpec:
    document: dict[str, Any] = {
        "monitor": "readmission-weekly", "source": {"path": "log.parquet"},
        "reference": {"path": "reference.parquet"},
        "roles": {"target": "outcome", "score": "risk", "time": "predicted_at",
                  "features": ["age", "lab"]},
        "label_time": "outcome_known_at", "outcome_window": "30d", "threshold": 0.3,
        "metrics": ["auroc", "oe_ratio"], "subgroup_metrics": [],
        "alerts": [{"name": "lab-drift", "drift": {"method": "psi", "features": ["lab"]},
                    "severity": "critical"}],
    }
    document.update(changes)
    return MonitorSpec.from_dict(document)


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """An empty store on each backend (SQLite and a throwaway PostgreSQL)."""
    opened = Store.open(database_url, check_schema=False)
    opened.upgrade()
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return make_log(99, weeks=8)


def test_late_labels_add_a_revision_and_both_are_kept(store: Store,
                                                      reference: pd.DataFrame) -> None:
    log, spec = make_log(1, weeks=6), spec_for(alerts=[])
    early = START + timedelta(weeks=6, days=1)
    late = START + timedelta(weeks=6 + 8)
    first = run_monitor(spec, store, as_of=early, data=log, reference=reference)
    second = run_monitor(spec, store, as_of=late, end=START + timedelta(weeks=6), data=log,
                         reference=reference)
    assert len(first.evaluated) == 6 and len(second.evaluated) == 6
    records = MonitorRecords(store)
    revisions = records.windows(spec.name, all_revisions=True)
    last_week = [w for w in revisions if w.result.window_start == START + timedelta(weeks=5)]
    assert [w.revision for w in last_week] == [1, 2]
    before, after = (w.result for w in last_week)
    print(f"\nlast week as of {early.date()}: {before.n_labelled}/{before.n} labelled, "
          f"maturity {before.label_maturity:.2f}, AUROC "
          f"{before.signals.get('auroc') or before.undefined['auroc']}; as of {late.date()}: "
          f"{after.n_labelled}/{after.n}, maturity {after.label_maturity:.2f}, "
          f"AUROC {after.signals['auroc']}")
    assert before.n_labelled < 0.2 * before.n and before.label_maturity == 0.0
    assert "auroc" in before.undefined and "estimated_auroc" in before.signals
    assert after.n_labelled == after.n and after.label_maturity == 1.0
    assert "auroc" in after.signals
    replayed = run_monitor(spec, store, as_of=early, data=log, reference=reference)
    assert replayed.evaluated == [] and replayed.unchanged == 6  # later knowledge is kept
    assert len(records.windows(spec.name, all_revisions=True)) == 12
    as_known_then = records.windows(spec.name, as_of=early)
    assert [w.revision for w in as_known_then] == [1] * 6
    assert as_known_then[-1].result == before


def test_rerunning_changes_nothing(store: Store, reference: pd.DataFrame) -> None:
    log, spec = make_log(2, weeks=5), spec_for()
    as_of = START + timedelta(weeks=5)
    run_monitor(spec, store, as_of=as_of, data=log, reference=reference)
    again = run_monitor(spec, store, as_of=as_of, data=log, reference=reference)
    assert again.evaluated == [] and again.unchanged == 5
    assert len(MonitorRecords(store).windows(spec.name, all_revisions=True)) == 5


def test_a_drifting_feature_opens_one_alert_that_resolves_when_it_clears(
        store: Store, reference: pd.DataFrame) -> None:
    log = make_log(3, weeks=8, lab_factor_from=3)
    log.loc[log["predicted_at"] >= START + timedelta(weeks=6), "lab"] /= 88.4
    spec = spec_for()
    run = run_monitor(spec, store, as_of=START + timedelta(weeks=8), data=log,
                      reference=reference)
    records = MonitorRecords(store)
    alerts = records.alerts(monitor=spec.name, states=("open", "resolved"))
    assert len(alerts) == 1 and alerts[0].state == "resolved" and run.alerts == []
    assert alerts[0].first_window_start == START + timedelta(weeks=3)
    assert alerts[0].last_window_start == START + timedelta(weeks=5)
    assert "lab" in alerts[0].title
    statuses = [w.status for w in records.windows(spec.name)]
    assert statuses == ["green"] * 3 + ["red"] * 3 + ["green"] * 2
    actions = [e.action for e in store.audit_events() if e.entity_type == "alert"]
    assert actions == ["alert.opened", "alert.resolved"]


def test_hysteresis_cooldown_ack_snooze_and_escalation(store: Store,
                                                       reference: pd.DataFrame) -> None:
    log = make_log(4, weeks=10, lab_factor_from=2)
    log.loc[log["predicted_at"].between(START + timedelta(weeks=4),
                                        START + timedelta(weeks=5)), "lab"] /= 88.4
    spec = spec_for(alerts=[{"name": "lab-drift", "drift": {"method": "psi"}, "for_windows": 2,
                             "resolve_after": 1, "cooldown_windows": 3,
                             "escalate_after": "7d"}])
    as_of = START + timedelta(weeks=10)
    run_monitor(spec, store, as_of=as_of, data=log, reference=reference)
    records = MonitorRecords(store)
    alerts = sorted(records.alerts(monitor=spec.name, states=("open", "resolved")),
                    key=lambda a: a.first_window_start, reverse=True)
    # drift in weeks 2-3 (opens at week 3: two in a row), clears in week 4, back from week 5:
    # the cool-down of 3 windows keeps it closed until week 7 (the 3rd window after week 3).
    assert [(a.state, a.first_window_start) for a in alerts] == [
        ("open", START + timedelta(weeks=7)), ("resolved", START + timedelta(weeks=3))]
    live = alerts[0]
    assert live.severity == "critical" and live.escalated_at == as_of
    acked = records.change_alert(live.id, "acknowledge", actor="dr.ada", note="lab notified")
    assert acked.state == "acknowledged"
    with pytest.raises(InputError, match="snooze needs a date in the future"):
        records.change_alert(live.id, "snooze", actor="dr.ada", until=START)
    until = datetime.now(UTC) + timedelta(days=2)
    assert records.change_alert(live.id, "snooze", actor="dr.ada", until=until).state == \
        "snoozed"
    run_monitor(spec, store, as_of=until + timedelta(days=1), data=log, reference=reference)
    assert records.alerts(monitor=spec.name)[0].state == "open"
    resolved = records.change_alert(str(live.id), "resolve", actor="dr.ada")
    assert resolved.state == "resolved"
    with pytest.raises(InputError, match="is resolved; it cannot be acknowledged"):
        records.change_alert(live.id, "acknowledge", actor="dr.ada")
    actions = [e.action for e in store.audit_events() if e.entity_id == str(live.id)]
    assert actions == ["alert.opened", "alert.escalated", "alert.acknowledged",
                       "alert.snoozed", "alert.unsnoozed", "alert.resolved"]
    assert store.verify_audit().ok


def test_no_data_and_labels_overdue_are_alerts(store: Store, reference: pd.DataFrame) -> None:
    log = make_log(5, weeks=8)
    silent = log["predicted_at"].between(START + timedelta(weeks=3), START + timedelta(weeks=4))
    log = log[~silent].copy()
    log.loc[log["predicted_at"] < START + timedelta(weeks=2), "outcome"] = np.nan
    spec = spec_for(alerts=[
        {"name": "feed-silent", "no_data": {"min_rows": 50}, "severity": "critical"},
        {"name": "labels-late", "labels_overdue": {"grace": "7d", "min_share": 0.9}}])
    run_monitor(spec, store, as_of=START + timedelta(weeks=12), data=log, reference=reference)
    found = sorted(MonitorRecords(store).alerts(monitor=spec.name, states=("open", "resolved")),
                   key=lambda a: (a.rule, a.first_window_start))
    spans = [(a.rule, a.state, (a.first_window_start - START).days // 7,
              (a.last_window_start - START).days // 7) for a in found]
    # week 3 is silent, and so are weeks 8-11 after the log ends; weeks 0-1 lack outcomes
    assert spans == [("feed-silent", "resolved", 3, 3), ("feed-silent", "open", 8, 11),
                     ("labels-late", "resolved", 0, 1)]
    assert found[0].details["n"] == 0
    assert "only 0% of" in found[2].title


def test_notifications_reach_real_servers_and_survive_a_receiver_that_is_down(
        store: Store, reference: pd.DataFrame, receiver: Receiver,
        smtp_server: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    controller, mail = smtp_server
    monkeypatch.setenv("ASSAY_HOOK_SECRET", "s3cret")
    down = f"http://127.0.0.1:{free_port()}/hook"
    notifiers = [
        {"type": "email", "host": "127.0.0.1", "port": controller.port,
         "sender": "assay@hospital.org", "to": ["oncall@hospital.org"]},
        {"type": "webhook", "name": "receiver", "url": f"{receiver.base_url}/hook",
         "secret_env": "ASSAY_HOOK_SECRET"},
        {"type": "slack", "name": "down", "url": down},
        {"type": "file", "path": str(tmp_path / "alerts.jsonl")},
    ]
    spec = spec_for(notifiers=notifiers, notify={"retries": 2, "backoff_seconds": 0.5})
    sleeps: list[float] = []
    log = make_log(6, weeks=5, lab_factor_from=3)
    run = run_monitor(spec, store, as_of=START + timedelta(weeks=5), data=log,
                      reference=reference, sleep=sleeps.append)
    assert (run.sent, run.failed) == (3, 1) and sleeps == [0.5, 1.0]
    assert len(mail.envelopes) == 1 and mail.envelopes[0].rcpt_tos == ["oncall@hospital.org"]
    assert "[RED] readmission-weekly: lab-drift" in mail.envelopes[0].content.decode()
    assert len(receiver.requests) == 1 and b'"rule":"lab-drift"' in receiver.requests[0].body
    assert len((tmp_path / "alerts.jsonl").read_text().splitlines()) == 1
    records = MonitorRecords(store)
    log_rows = records.deliveries(spec.name)
    failed = [d for d in log_rows if d["notifier"] == "down"]
    assert [d["ok"] for d in failed] == [False] * 3 and "refused" in failed[0]["error"]
    assert records.alerts(monitor=spec.name)[0].state == "open"
    # the receiver comes back: the next run delivers the kept message, once
    fixed = spec_for(notifiers=[*notifiers[:2], {"type": "slack", "name": "down",
                                                 "url": f"{receiver.base_url}/slack"},
                                notifiers[3]])
    again = run_monitor(fixed, store, as_of=START + timedelta(weeks=5), data=log,
                        reference=reference, sleep=sleeps.append)
    assert (again.sent, again.failed) == (1, 0)
    assert [r.path for r in receiver.requests] == ["/hook", "/slack"]


def test_bad_monitor_files_name_the_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "monitor.yaml"
    path.write_text("monitor: m\nsource: {path: a.csv}\nreference: {path: b.csv}\n"
                    "roles: {target: y, score: p, time: t}\nwindows: fortnightly\n"
                    "alerts:\n  - name: x\n    metric: auroc\n", encoding="utf-8")
    with pytest.raises(PlanError) as error:
        MonitorSpec.load(path)
    message = str(error.value)
    assert f"{path} line 5, windows: windows 'fortnightly' is not a strategy" in message
    assert "line 7, alerts[0]: 'metric' and 'when' go together" in message


def test_a_label_free_estimate_without_a_value_is_recorded_not_raised(
        store: Store, reference: pd.DataFrame) -> None:
    spec = spec_for(threshold=0.001, metrics=["auroc"], alerts=[])
    run = run_monitor(spec, store, as_of=START + timedelta(weeks=1), data=make_log(8, weeks=1),
                      reference=reference)
    window = run.evaluated[0]
    assert window.signals["flag_rate"].value == 1.0
    assert "everybody was flagged" in window.undefined["estimated_npv"]
    assert "estimated_auroc" in window.signals


def test_a_sequential_alert_keeps_every_alarm_and_says_when_it_first_moved(
        store: Store, reference: pd.DataFrame) -> None:
    log = make_log(9, weeks=10, per_week=1_500)
    rng = np.random.default_rng(9)
    late = log["predicted_at"] >= START + timedelta(weeks=5)
    scale = np.where(late, 1.8, 0.5)
    log["outcome"] = (rng.random(len(log)) < np.minimum(log["risk"] * scale, 1.0)).astype(float)
    spec = spec_for(alerts=[{"name": "oe-cusum", "severity": "critical",
                             "sequential": {"metric": "oe_ratio", "arl0": 100}}])
    run_monitor(spec, store, as_of=START + timedelta(weeks=20), end=START + timedelta(weeks=10),
                data=log, reference=reference)
    alerts = MonitorRecords(store).alerts(monitor=spec.name, states=("open", "resolved"))
    assert len(alerts) == 1 and alerts[0].state == "open"  # a person resolves a change point
    alarms = alerts[0].details["alarms"]
    assert alarms[0] == {"window": "2026-01-05 to 2026-01-11", "direction": "down"}
    assert alarms[-1]["direction"] == "up"
    assert alerts[0].title.startswith("oe_ratio has risen above its reference")
    assert alerts[0].title.endswith("it first fell in the window 2026-01-05 to 2026-01-11")

"""Monitoring a generative application from its production log: window signals that match a
direct count, alerts through the monitoring rule engine (open, hysteresis, resolve), the store
(SQLite and PostgreSQL), refusals with exact spans, and the input drift on descriptors and on
sentence embeddings.

The log is ten weeks of discharge-note summaries (80 a week) from the synthetic generators: in
weeks 6 and 7 the summariser copies identifiers (6 outputs a week) and refuses 16 requests a
week (1 in the other weeks); from week 8 half the requests are patient messages instead of
discharge notes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint
from typer.testing import CliRunner

from assay.cli._app import app
from assay.datasets import make_patient_message_records, make_summary_records
from assay.errors import InputError, PlanError
from assay.genai import EvalPlan, Record
from assay.genai._lexicon import default_lexicon
from assay.genai._monitor import log_records, monitor_outputs
from assay.genai._monitor_signals import (
    DESCRIPTORS,
    REFUSAL_PHRASES,
    input_descriptors,
    refusal_flags,
)
from assay.genai._patient import length
from assay.monitoring import MonitorRecords, MonitorRun, MonitorSpec, WindowResult, run_monitor
from assay.store import Store

START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
WEEKS, PER_WEEK = 10, 80
INCIDENT_WEEKS = (5, 6)  # weeks 6 and 7
SHIFT_FROM = 7  # week 8
LEAKS_PER_INCIDENT_WEEK, REFUSALS_PER_INCIDENT_WEEK = 6, 16
REFUSALS = (
    "I'm sorry, but I can't summarise this note because it holds patient details.",
    "As an AI language model, I am unable to write clinical summaries.",
    "I cannot help with this request.",
    "I\u2019m unable to produce a summary of this document.",
)
MONITOR = """
monitor: summaries-weekly
source: {path: log.jsonl}
reference: {path: reference.parquet}
windows: weekly
genai:
  plan: plan.yaml
alerts:
  - {name: phi-leak, metric: flag_rate.phi_leak, when: "value > 0", severity: critical}
  - {name: refusals, metric: refusal_rate, when: "ci_low > 0.05"}
  - {name: refusals-sustained, metric: refusal_rate, when: "ci_low > 0.05", for_windows: 2}
  - {name: input-drift, metric: input_drift_auroc, when: "value > 0.6"}
  - {name: shorter-outputs, metric: length_words, relative_to: reference, when: "ci_high < -12"}
notifiers:
  - {type: file, path: alerts.jsonl}
"""
# no NER model and no consistency checks (a log has no reference, and the test is faster)
PLAN = "name: production-summaries\nner: false\nconsistency: []\nsettings: {n_boot: 200}\n"


@dataclass(frozen=True)
class Log:
    """The production log, the reference and what was injected in each row."""

    log: pd.DataFrame
    reference: pd.DataFrame
    leak: pd.Series
    refusal: pd.Series


def _row(record: Record, at: datetime, row_id: str, output: str | None = None) -> dict[str, Any]:
    row = record.model_dump(mode="json", exclude={"reference", "labels", "contexts"})
    return {**row, "id": row_id, "output": output or record.output, "timestamp": at.isoformat()}


def make_log() -> Log:
    faithful = iter(make_summary_records(WEEKS * PER_WEEK + 200, seed=11, error_rate=0.0))
    # identifiers with digits (phone, MRN, date), which the PHI check finds without the NER
    # model the plan leaves off; names need the model
    leaky = iter(r for r in make_summary_records(200, seed=12, error_rate=1.0)
                 if r.labels["injected"] == "phi_leak"
                 and any(c.isdigit() for c in str(r.labels["injected_text"])))
    messages = iter(m for m in make_patient_message_records(200, seed=13)
                    if not m.labels["phi_leak"])
    rows, leak, refusal = [], [], []
    for week in range(WEEKS):
        incident = week in INCIDENT_WEEKS
        refusals = REFUSALS_PER_INCIDENT_WEEK if incident else 1
        for i in range(PER_WEEK):
            at = START + timedelta(weeks=week, days=(i + 0.5) * 7 / PER_WEEK)
            is_leak = incident and i < LEAKS_PER_INCIDENT_WEEK
            is_refusal = PER_WEEK - refusals <= i
            source = (next(leaky) if is_leak
                      else next(messages) if week >= SHIFT_FROM and i % 2 else next(faithful))
            rows.append(_row(source, at, f"out-{week}-{i}",
                             REFUSALS[i % len(REFUSALS)] if is_refusal else None))
            leak.append(is_leak)
            refusal.append(is_refusal)
    reference = [_row(r, START - timedelta(weeks=2, days=-(i + 0.5) * 14 / 160), f"ref-{i}",
                      REFUSALS[0] if i in (40, 120) else None)
                 for i, r in enumerate(next(faithful) for _ in range(160))]
    return Log(pd.DataFrame(rows), pd.DataFrame(reference), pd.Series(leak), pd.Series(refusal))


@pytest.fixture(scope="module")
def log() -> Log:
    return make_log()


def write_monitor(folder: Path, log: Log) -> MonitorSpec:
    with (folder / "log.jsonl").open("w", encoding="utf-8") as handle:
        for row in log.log.to_dict(orient="records"):
            handle.write(json.dumps(row) + "\n")
    log.reference.to_parquet(folder / "reference.parquet")
    (folder / "plan.yaml").write_text(PLAN, encoding="utf-8")
    (folder / "monitor.yaml").write_text(MONITOR, encoding="utf-8")
    return MonitorSpec.load(folder / "monitor.yaml")


def week_of(result: WindowResult) -> int:
    return (result.window_start - START).days // 7


def test_a_genai_monitor_runs_into_the_store(database_url: str, log: Log, tmp_path: Path) -> None:
    """The monitor run from its files (a JSONL log, a Parquet reference, a plan file) as
    ``assay monitor run`` runs it, on SQLite and PostgreSQL; then run again."""
    spec = write_monitor(tmp_path, log)
    store = Store.open(database_url, check_schema=False)
    store.upgrade()
    try:
        run = run_monitor(spec, store, as_of=START + timedelta(weeks=WEEKS), base=tmp_path)
        assert [week_of(r) for r in run.evaluated] == list(range(WEEKS))
        check_window_numbers(run.evaluated, log)
        check_input_drift(run.evaluated)
        check_alerts(store, spec)
        check_audit_and_notifications(store, run, tmp_path)
        stored = MonitorRecords(store).spec(spec.name)
        assert stored.fingerprint == spec.fingerprint
        assert stored.genai is not None and stored.genai.plan.name == "production-summaries"
        assert [s.result for s in MonitorRecords(store).windows(spec.name)] == run.evaluated
        again = run_monitor(stored, store, as_of=START + timedelta(weeks=WEEKS), base=tmp_path)
        assert again.evaluated == [] and again.unchanged == WEEKS
    finally:
        store.close()


def check_window_numbers(results: list[WindowResult], log: Log) -> None:
    """Counts, flag rates with their Wilson intervals and the mean output length of every
    window equal a direct computation on the log's rows of that week."""
    times = pd.to_datetime(log.log["timestamp"], utc=True)
    for result in results:
        inside = ((times >= result.window_start) & (times < result.window_end)).to_numpy()
        n = int(inside.sum())
        assert result.n == n == PER_WEEK and result.signals["volume"].value == n
        for signal, injected in (("flag_rate.phi_leak", log.leak), ("refusal_rate", log.refusal)):
            count = int(injected[inside].sum())
            low, high = proportion_confint(count, n, method="wilson")
            found = result.signals[signal]
            assert found.value == count / n and found.n_events == count
            assert found.ci_low == pytest.approx(low, abs=1e-9)
            assert found.ci_high == pytest.approx(high, abs=1e-9)
        assert result.signals["refusal_rate"] == result.signals["flag_rate.refusal"]
        outputs = log.log.loc[inside, "output"]
        mean_length = sum(length(Record(id="x", task="qa", output=o)).value or 0
                          for o in outputs) / n
        assert result.signals["length_words"].value == pytest.approx(mean_length, rel=1e-12)
    counts = [round(r.signals["flag_rate.phi_leak"].value * PER_WEEK) for r in results]
    assert counts == [0, 0, 0, 0, 0, 6, 6, 0, 0, 0]
    refusals = [round(r.signals["refusal_rate"].value * PER_WEEK) for r in results]
    assert refusals == [1, 1, 1, 1, 1, 16, 16, 1, 1, 1]
    reference = results[0].reference_signals
    assert reference["refusal_rate"].value == 2 / 160
    assert reference["flag_rate.phi_leak"].value == 0.0


def check_input_drift(results: list[WindowResult]) -> None:
    """The classifier cannot tell the discharge notes of weeks 1-7 from the reference, and
    can once half the inputs are patient messages; the result says what it saw."""
    auroc = [r.signals["input_drift_auroc"].value for r in results]
    assert max(auroc[:SHIFT_FROM]) < 0.6
    assert min(auroc[SHIFT_FROM:]) > 0.6
    for result in results:
        note = result.signal_notes["input_drift_auroc"]
        assert "text descriptors of the inputs (input + source)" in note
    # the patient messages' metrics come with them
    assert ["readability_grade" in r.signals for r in results] == [False] * 7 + [True] * 3


def check_alerts(store: Store, spec: MonitorSpec) -> None:
    """Each alert opens in the window where its rule first holds (two windows on for the
    hysteresis rule), resolves after two clear windows, and stable weeks raise none; a rule
    relative to the reference compares the window's mean with the reference's."""
    records = MonitorRecords(store)
    alerts = {a.rule: a for a in records.alerts(monitor=spec.name, states=(
        "open", "acknowledged", "snoozed", "resolved"))}
    assert set(alerts) == {"phi-leak", "refusals", "refusals-sustained", "input-drift",
                           "shorter-outputs"}
    week = timedelta(weeks=1)
    for rule, first in (("phi-leak", 5), ("refusals", 5), ("refusals-sustained", 6)):
        alert = alerts[rule]
        assert alert.first_window_start == START + first * week
        assert alert.opened_at == START + (first + 1) * week
        assert alert.last_window_start == START + 6 * week
        # clear in weeks 8 and 9 (resolve_after: 2): resolved at the end of week 9
        assert alert.state == "resolved" and alert.resolved_at == START + 9 * week
    assert alerts["phi-leak"].severity == "critical"
    assert alerts["phi-leak"].details["value"] == 6 / 80
    for rule in ("input-drift", "shorter-outputs"):
        alert = alerts[rule]
        assert alert.state == "open" and alert.first_window_start == START + SHIFT_FROM * week
        assert alert.last_window_start == START + 9 * week
    # the mean length compared with the reference's: window − reference, both intervals
    shorter = alerts["shorter-outputs"].details
    assert shorter["reference"] == pytest.approx(78.9)
    assert shorter["difference"] == pytest.approx(shorter["value"] - 78.9)
    status = [s.status for s in records.windows(spec.name)]
    assert status == ["green"] * 5 + ["red"] * 2 + ["amber"] * 3


def check_audit_and_notifications(store: Store, run: MonitorRun, folder: Path) -> None:
    """Every alert change is an audit event of an intact chain; the run's digest went to the
    file notifier."""
    actions = [e.action for e in store.audit_events() if e.entity_type == "alert"]
    assert sorted(actions) == sorted(["alert.opened"] * 5 + ["alert.resolved"] * 3)
    assert store.verify_audit().ok
    sent = [json.loads(line) for line in
            (folder / "alerts.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(sent) == run.sent == 1  # one digest for the run
    # a backfill's digest lists what is still live: resolved alerts need no one's attention
    assert [a["rule"] for a in sent[0]["payload"]["alerts"]] == ["input-drift",
                                                                 "shorter-outputs"]


def test_the_monitoring_report_draws_a_genai_monitor(log: Log, tmp_path: Path) -> None:
    """``assay monitor run`` and ``report`` on a generative application's monitor: the
    windows table of outputs; in the report, the status from the live alerts, each flag type's
    windows and latest share with its Wilson interval, the output measures against the
    reference, every window in the table and the input drift, and none of the predictive
    report's outcome sections."""

    write_monitor(tmp_path, log)
    url = f"sqlite:///{tmp_path / 'assay.db'}"
    runner = CliRunner()
    ran = runner.invoke(app, ["monitor", "run", str(tmp_path / "monitor.yaml"), "--url", url,
                              "--as-of", (START + timedelta(weeks=WEEKS)).date().isoformat()])
    assert ran.exit_code == 0, ran.output
    assert "PHI leaks" in ran.output and "O:E" not in ran.output
    page = tmp_path / "monitor.html"
    result = runner.invoke(app, ["monitor", "report", str(tmp_path / "monitor.yaml"),
                                 "--html", str(page), "--url", url])
    assert result.exit_code == 0, result.output
    html = page.read_text(encoding="utf-8")
    text = " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())
    assert 'data-status="amber"' in html
    assert "AMBER: 2 warning alerts open" in text
    assert ("phi_leak (an identifier the output must not hold): raised in 2 of 10 windows "
            "(2026-02-09 to 2026-02-15 first, 2026-02-16 to 2026-02-22 last); latest window "
            "0 of 80 (0.0%, 95% CI 0.0%–4.6%); on the reference 0.0% (0.0%–2.3%).") in text
    low, high = proportion_confint(16, 80, method="wilson")
    assert f"20.0% ({100 * low:.1f}%–{100 * high:.1f}%)" in text
    assert "length_words (length in words): 55.58 (49.14–62.01) in the latest window, on " \
           "the reference 78.90" in text
    rows = re.findall(r'<tr><th scope="row">(\d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d)</th>', html)
    assert len(rows) == WEEKS and rows[0].startswith("2026-03-09")
    assert "reached AUROC 0.801" in text and "most telling: readability_grade" in text
    assert html.count("<svg") == 6  # volume, flags, three measures, input drift
    for heading in ("Flags in the outputs", "Output measures", "Input drift"):
        assert f">{heading}</h2>" in html
    for predictive in ("Performance and calibration", "Fairness over time", "Data quality",
                       "Outcome window"):
        assert predictive not in html


# refusals and descriptors -------------------------------------------------------------------


@pytest.mark.parametrize(("output", "phrase"), [
    ("I can't help with that request.", "I can't help with"),
    ("Hello,\n\nI\u2019m  unable\nto draft this reply.", "I\u2019m  unable\nto"),
    ("Thanks. AS AN AI, I cannot give medical advice.", "AS AN AI"),
    ("I'm sorry, but I cannot summarise this.", "I'm sorry, but I cannot"),
    ("Summary follows. I am not able to confirm the dose.", "I am not able to"),
])
def test_a_refusal_is_flagged_at_its_phrase(output: str, phrase: str) -> None:
    flags = refusal_flags(output)
    assert len(flags) == 1 and flags[0].type == "refusal"
    span = flags[0].span
    assert span is not None and span.text == phrase
    assert output[span.start:span.end] == span.text


@pytest.mark.parametrize("output", [
    "The patient was unable to walk on admission.",  # not the application speaking
    "Seen in the As an AIDS clinic review.",  # a longer word, not the phrase
    "I can't helpfully add more than the note says.",
    "",
])
def test_ordinary_outputs_are_not_refusals(output: str) -> None:
    assert refusal_flags(output) == ()


def test_refusal_phrases_can_be_the_applications_own() -> None:
    flags = refusal_flags("Sorry, I am not permitted to answer.", ("I am not permitted to",))
    assert [f.span.text for f in flags if f.span] == ["I am not permitted to"]
    assert refusal_flags("I'm unable to answer.", ("I am not permitted to",)) == ()
    assert "As an AI" in REFUSAL_PHRASES
    with pytest.raises(InputError, match="at least one phrase"):
        refusal_flags("text", ())


def test_input_descriptors_count_words_digits_and_medications() -> None:
    text = "Started apixaban 5 mg twice daily and stopped warfarin on 12 May."
    frame = input_descriptors([text, ""], default_lexicon())
    assert list(frame.columns) == list(DESCRIPTORS)
    first = frame.iloc[0]
    assert first["length_words"] == 12
    assert first["digit_share"] == pytest.approx(3 / sum(not c.isspace() for c in text))
    assert first["medications_named"] == 2
    assert 0 < first["readability_grade"] < 12
    assert frame.iloc[1]["length_words"] == 0 and pd.isna(frame.iloc[1]["readability_grade"])


# reading the log --------------------------------------------------------------------------


def test_log_rows_become_records_and_a_bad_row_is_named() -> None:
    rows = pd.DataFrame({"timestamp": ["2026-01-05T08:00:00Z", "2026-01-05T09:00:00Z"],
                         "id": [7, 12345678901.0], "task": ["qa", "summarization"],
                         "output": ["Yes.", "Admitted with pneumonia."],
                         "source": [float("nan"), "Note."], "model": ["a", "b"]})
    records = log_records(rows, "log.jsonl", time="timestamp")
    assert [r.id for r in records] == ["7", "12345678901"]
    assert records[0].source is None and records[1].source == "Note."
    rows.loc[1, "task"] = "translation"
    with pytest.raises(InputError, match=r"log.jsonl, the output of 2026-01-05T09:00:00Z "
                                         r"\(id '12345678901'\): field 'task' is 'translation'"):
        log_records(rows, "log.jsonl", time="timestamp")
    with pytest.raises(InputError, match="no column\\(s\\) 'output'"):
        log_records(rows.drop(columns="output"), "log.jsonl", time="timestamp")


# the monitor file -------------------------------------------------------------------------


GENAI_MONITOR = {"monitor": "m", "source": {"path": "log.jsonl"},
                 "reference": {"path": "log.jsonl"}, "genai": {"plan": {"ner": False}}}


@pytest.mark.parametrize(("changes", "message"), [
    ({"roles": {"target": "y", "score": "s", "time": "t"}}, "has no 'roles'"),
    ({"threshold": 0.3}, "threshold apply to monitors of predictions"),
    ({"alerts": [{"name": "d", "drift": {"method": "psi"}}]},
     "alert rule 'd': a 'genai:' monitor has no drift rules"),
    ({"genai": {"reference_window": {"start": "2026-01-19", "end": "2026-01-05"}}},
     "ends .2026-01-05. on or before it starts"),
    ({"genai": {"input_fields": []}}, "input_fields"),
])
def test_a_bad_genai_monitor_is_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(PlanError, match=message):
        MonitorSpec.from_dict({**GENAI_MONITOR, **changes})


def test_a_monitor_of_predictions_still_needs_roles() -> None:
    document = {k: v for k, v in GENAI_MONITOR.items() if k != "genai"}
    with pytest.raises(PlanError, match="'roles' is required"):
        MonitorSpec.from_dict(document)


def test_a_plan_file_is_read_next_to_the_monitor_and_kept_inline(tmp_path: Path) -> None:
    (tmp_path / "plan.yaml").write_text(PLAN, encoding="utf-8")
    (tmp_path / "m.yaml").write_text(
        "monitor: m\nsource: {path: log.jsonl}\nreference: {path: log.jsonl}\n"
        "genai: {plan: plan.yaml, time: sent_at}\n", encoding="utf-8")
    spec = MonitorSpec.load(tmp_path / "m.yaml")
    assert spec.genai is not None and spec.genai.plan.ner is False
    assert spec.time_column == "sent_at"
    assert MonitorSpec.model_validate(spec.model_dump(mode="json", by_alias=True)) == spec
    with pytest.raises(InputError, match="has no roles"):
        _ = spec.roles
    (tmp_path / "m.yaml").write_text(
        "monitor: m\nsource: {path: log.jsonl}\nreference: {path: log.jsonl}\n"
        "genai: {plan: missing.yaml}\n", encoding="utf-8")
    with pytest.raises(PlanError, match=r"missing\.yaml: cannot read the evaluation plan"):
        MonitorSpec.load(tmp_path / "m.yaml")


# replaying a log without a store ----------------------------------------------------------


def short_log(weeks: list[list[Record]]) -> pd.DataFrame:
    """One row per record, spread over its week (an empty list is a silent week)."""
    return pd.DataFrame([_row(record, START + timedelta(weeks=w, days=(i + 0.5) * 7 / len(rs)),
                              f"out-{w}-{i}")
                         for w, rs in enumerate(weeks) for i, record in enumerate(rs)])


def test_the_input_drift_on_sentence_embeddings() -> None:
    """The application's requests alone (``input``): summarisation instructions in weeks 1-3,
    patient messages in week 4; the reference is the log's own first two weeks."""
    summaries = make_summary_records(90, seed=21, error_rate=0.0)
    messages = make_patient_message_records(30, seed=22)
    log = short_log([summaries[:30], summaries[30:60], summaries[60:], messages])
    result = monitor_outputs(
        log, log, plan=EvalPlan(ner=False, consistency=()), embeddings=True,
        input_fields=("input",), reference_window=("2026-01-05", "2026-01-19"),
        alerts=[{"name": "input-drift", "metric": "input_drift_auroc", "when": "value > 0.6"}])
    windows = [w.result for w in result.windows]
    assert [w.n for w in windows] == [30, 30, 30, 30]
    auroc = [w.signals["input_drift_auroc"].value for w in windows]
    assert max(auroc[:3]) < 0.6 and auroc[3] > 0.9
    note = windows[3].signal_notes["input_drift_auroc"]
    assert "sentence embeddings of the inputs (input; all-MiniLM-L6-v2)" in note
    assert "first 16 principal components" in note
    assert [(a.rule, a.first_window_start) for a in result.alerts] == [
        ("input-drift", START + timedelta(weeks=3))]


def test_a_silent_week_has_no_values_and_moves_no_alert() -> None:
    summaries = make_summary_records(80, seed=31, error_rate=0.0)
    refusal = summaries[40].model_copy(update={"output": "As an AI, I cannot help with this."})
    log = short_log([summaries[:20], [*summaries[20:40], refusal], [], summaries[41:60]])
    result = monitor_outputs(
        log, short_log([summaries[60:]]), plan=EvalPlan(ner=False, consistency=()),
        alerts=[{"name": "refusals", "metric": "refusal_rate", "when": "value > 0",
                 "resolve_after": 1}])
    windows = [w.result for w in result.windows]
    assert [w.n for w in windows] == [20, 21, 0, 19]
    silent = windows[2]
    assert silent.signals == {"volume": silent.signals["volume"]}
    assert silent.signals["volume"].value == 0
    assert silent.undefined["refusal_rate"] == "no outputs in the window"
    # too few outputs for the classifier: said, not guessed
    assert "at least 20 in each" in windows[3].undefined["input_drift_auroc"]
    [alert] = result.alerts
    # opened in week 2, kept through the silent week, resolved by the clear week 4
    assert alert.first_window_start == START + timedelta(weeks=1)
    assert alert.resolved_at == START + timedelta(weeks=4)

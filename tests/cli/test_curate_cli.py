from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner, Result

from assay.cli._app import app
from assay.curation import Profile, detect_phi
from assay.datasets import LabUnitChange, make_clinical_notes, make_inpatient_cohort

runner = CliRunner()

UNIT_CHANGE_STARTS = "2025-03-01"
IMPOSSIBLE_HEART_RATES = {10: 0.0, 20: 950.0, 30: 999.0}
DUPLICATED_ROWS = [100, 200, 300, 400]
_MASK = re.compile(r"\[[A-Z]+\]")

PLAN = """\
time: discharged_at
rules:
  - {rule: not_null, column: patient_id}
  - {rule: order, earlier: admitted_at, later: discharged_at}
plausibility:
  heart_rate_bpm: heart_rate
  creatinine_mg_dl: creatinine
duplicates: {near: true, id_columns: [encounter_id, patient_id]}
constant: true
leakage:
  target: readmit_30d
  features: [age, charlson_index, true_risk]
"""


@dataclass(frozen=True)
class Data:
    folder: Path
    frame: pd.DataFrame
    csv: Path
    whole: Path
    parts: Path
    reference: Path


def invoke(*args: str) -> Result:
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Data:
    folder = tmp_path_factory.mktemp("curate")
    frame = make_inpatient_cohort(3000, seed=3, shifts=[LabUnitChange(
        "creatinine_mg_dl", factor=88.4, starts=UNIT_CHANGE_STARTS, unit="µmol/L")])
    for row, value in IMPOSSIBLE_HEART_RATES.items():
        frame.loc[row, "heart_rate_bpm"] = value
    frame = pd.concat([frame, frame.iloc[DUPLICATED_ROWS]], ignore_index=True)
    csv, whole, parts = folder / "admissions.csv", folder / "whole.parquet", folder / "parts"
    frame.to_csv(csv, index=False)
    frame.to_parquet(whole)
    parts.mkdir()
    for number, rows in enumerate(np.array_split(np.arange(len(frame)), 3)):
        frame.iloc[rows].to_parquet(parts / f"part-{number}.parquet")
    reference = folder / "reference.parquet"
    make_inpatient_cohort(3000, seed=4).to_parquet(reference)
    return Data(folder, frame, csv, whole, parts, reference)


def test_profile_prints_the_table_and_writes_a_profile_that_reads_back(data: Data) -> None:
    out = data.folder / "profile.json"
    result = invoke("curate", "profile", str(data.csv), "--columns",
                    "age,sex,creatinine_mg_dl,discharged_at", "--json", str(out))
    assert result.exit_code == 0, result.output
    assert f"Profile of admissions.csv: {len(data.frame):,} rows" in result.output
    lines = {line.split()[1]: line for line in result.output.splitlines()
             if line.startswith("│")}
    assert set(lines) == {"age", "sex", "creatinine_mg_dl", "discharged_at"}
    missing = data.frame["creatinine_mg_dl"].isna().mean()
    assert "numeric" in lines["creatinine_mg_dl"] and f"{missing:.1%}" in lines["creatinine_mg_dl"]
    assert "time" in lines["discharged_at"] and "2024-01-01 to 2025-06-30" in lines[
        "discharged_at"]
    top_sex = data.frame["sex"].value_counts()
    assert f"{top_sex.index[0]} {top_sex.iloc[0]:,}" in lines["sex"]

    stored = Profile.from_json(out.read_text(encoding="utf-8"))
    assert stored.n_rows == len(data.frame)
    assert stored.column_names == ["age", "sex", "creatinine_mg_dl", "discharged_at"]
    assert stored.column("discharged_at").kind == "time"  # parsed from the CSV's ISO text
    age = stored.column("age").summary()
    median = age.quantiles["p50"]
    below, at_or_below = ((data.frame["age"] < median).mean(), (data.frame["age"] <= median).mean())
    assert age.rank_error is not None  # ages are whole years: the median's rank is a range
    assert below - age.rank_error <= 0.5 <= at_or_below + age.rank_error
    assert (age.minimum, age.maximum) == (data.frame["age"].min(), data.frame["age"].max())


def test_profile_of_a_folder_merges_its_files_into_the_profile_of_the_whole(data: Data) -> None:
    merged_path, whole_path = data.folder / "merged.json", data.folder / "whole.json"
    merged_run = invoke("curate", "profile", str(data.parts), "--json", str(merged_path))
    assert merged_run.exit_code == 0, merged_run.output
    assert "merged from 3 files" in merged_run.output
    assert invoke("curate", "profile", str(data.whole), "--json", str(whole_path)).exit_code == 0
    merged = Profile.from_json(merged_path.read_text(encoding="utf-8"))
    whole = Profile.from_json(whole_path.read_text(encoding="utf-8"))
    assert merged.n_rows == whole.n_rows == len(data.frame)
    assert merged.column_names == whole.column_names
    for part, full in zip(merged.summaries(), whole.summaries(), strict=True):
        assert (part.kind, part.n, part.missing) == (full.kind, full.n, full.missing)
        assert part.missing == int(data.frame[part.name].isna().sum())
        assert full.distinct_lower <= part.distinct <= full.distinct_upper
        if part.kind == "numeric":
            values = data.frame[part.name].dropna()
            assert part.rank_error is not None
            for label, rank in (("p5", 0.05), ("p50", 0.5), ("p95", 0.95)):
                below = float((values < part.quantiles[label]).mean())
                at_or_below = float((values <= part.quantiles[label]).mean())
                assert below - part.rank_error <= rank <= at_or_below + part.rank_error


def test_compare_flags_the_column_whose_unit_changed(data: Data) -> None:
    out = data.folder / "compare.json"
    result = invoke("curate", "compare", str(data.reference), str(data.csv), "--json", str(out))
    assert result.exit_code == 0, result.output
    records = {r["column"]: r for r in json.loads(out.read_text(encoding="utf-8"))["columns"]}
    assert records["creatinine_mg_dl"]["drifted"]
    assert set(records["creatinine_mg_dl"]["drifted_by"]) == {"psi", "ks"}
    numeric_drifted = sorted(c for c, r in records.items() if r["drifted"]
                             and r["kind"] == "numeric")
    assert numeric_drifted == ["creatinine_mg_dl"]
    assert "1 of" not in result.output and "creatinine_mg_dl." in result.output.splitlines()[-2]

    # saved profiles compare the same as the data files they were built from
    ref_json, cur_json = data.folder / "ref.json", data.folder / "cur.json"
    invoke("curate", "profile", str(data.reference), "--json", str(ref_json))
    invoke("curate", "profile", str(data.csv), "--json", str(cur_json))
    again = data.folder / "compare-again.json"
    assert invoke("curate", "compare", str(ref_json), str(cur_json), "--json",
                  str(again)).exit_code == 0
    from_profiles = {r["column"]: r for r in json.loads(again.read_text(encoding="utf-8"))[
        "columns"]}
    assert [c for c, r in from_profiles.items() if r["drifted"]] == [
        c for c, r in records.items() if r["drifted"]]
    # the KLL sketches compact at random: two profiles of the same rows agree within its error
    for column, record in records.items():
        if record["kind"] == "numeric":
            assert from_profiles[column]["ks"] == pytest.approx(record["ks"], abs=0.03)


def test_check_finds_the_unit_change_impossible_values_and_duplicates(data: Data) -> None:
    plan, out = data.folder / "plan.yaml", data.folder / "check.json"
    plan.write_text(PLAN, encoding="utf-8")
    result = invoke("curate", "check", str(plan), "--data", str(data.csv), "--json", str(out))
    assert result.exit_code == 1, result.output
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["passed"] is False and document["n_rows"] == len(data.frame)
    found = {(f["rule"], *f["columns"][:1]): f for f in document["findings"]}

    unit = found[("unit_mismatch", "creatinine_mg_dl")]
    changed = (data.frame["discharged_at"] >= UNIT_CHANGE_STARTS) & data.frame[
        "creatinine_mg_dl"].notna()
    assert unit["status"] == "fail" and unit["details"]["starts"] == UNIT_CHANGE_STARTS
    assert unit["n_rows"] == int(changed.sum())
    assert f"From {UNIT_CHANGE_STARTS}, 'creatinine_mg_dl' looks recorded in µmol/L" in " ".join(
        result.output.split())

    heart = found[("plausible_range", "heart_rate_bpm")]
    assert heart["status"] == "fail" and heart["n_rows"] == len(IMPOSSIBLE_HEART_RATES)
    assert list(heart["examples"]) == sorted(IMPOSSIBLE_HEART_RATES)

    duplicates = found[("exact_duplicates", "encounter_id")]
    assert duplicates["status"] == "fail" and duplicates["n_rows"] == len(DUPLICATED_ROWS)
    assert list(duplicates["examples"]) == list(range(3000, 3000 + len(DUPLICATED_ROWS)))

    assert found[("near_duplicates", "admitted_at")]["n_rows"] == 0
    assert found[("not_null", "patient_id")]["status"] == "pass"
    assert found[("target_leakage", "age")]["status"] == "pass"
    creatinine = found[("plausible_range", "creatinine_mg_dl")]  # the µmol/L values count once
    assert creatinine["status"] == "pass" and "look recorded in µmol/L" in creatinine["message"]
    failed = sum(f["status"] == "fail" for f in document["findings"])
    assert failed == 3 and f"{failed} failed" in result.output


def test_a_clean_plan_exits_0(data: Data) -> None:
    plan = data.folder / "clean.yaml"
    plan.write_text("rules:\n  - {rule: range, column: age, min: 18, max: 120}\n"
                    "plausibility: {sbp_mmhg: systolic_bp}\n", encoding="utf-8")
    result = invoke("curate", "check", str(plan), "--data", str(data.reference))
    assert result.exit_code == 0, result.output
    assert "0 failed, 0 warned, 2 passed." in result.output


@pytest.mark.parametrize(("text", "expected"), [
    ("rules:\n  - {rule: not_null, column: patient_id}\n  - rule: range\n    colum: age\n",
     "line 4, rules[1].colum: unknown field 'colum'"),
    ("plausibility:\n  age: age\n  heart_rate_bpm: heartrate\n",
     "line 3, plausibility.heart_rate_bpm: unknown measurement 'heartrate'"),
    ("constant: true\nduplicates: {near: sometimes}\n",
     "line 2, duplicates.near: Input should be a valid boolean"),
    ("rules: []\nrules: []\n", "line 2: key 'rules' repeats the key on line 1"),
    ("- rule: range\n", "a curation plan is a YAML mapping"),
])
def test_a_bad_plan_exits_2_naming_the_line_and_field(data: Data, text: str,
                                                      expected: str) -> None:
    plan = data.folder / "bad.yaml"
    plan.write_text(text, encoding="utf-8")
    result = invoke("curate", "check", str(plan), "--data", str(data.csv))
    assert result.exit_code == 2
    assert f"{plan}" in result.output and expected in " ".join(result.output.split())


def test_a_rule_on_a_missing_column_exits_2_naming_the_data(data: Data) -> None:
    plan = data.folder / "agee.yaml"
    plan.write_text("rules:\n  - {rule: range, column: agee, min: 1}\n", encoding="utf-8")
    result = invoke("curate", "check", str(plan), "--data", str(data.csv))
    assert result.exit_code == 2
    assert f"{data.csv}: rule 'range' names column 'agee'" in " ".join(result.output.split())


def test_compare_of_a_file_that_is_not_a_profile_exits_2(data: Data) -> None:
    fake = data.folder / "fake.json"
    fake.write_text('{"name": "x"}', encoding="utf-8")
    result = invoke("curate", "compare", str(fake), str(data.csv))
    assert result.exit_code == 2 and f"{fake}: not a stored profile" in result.output


def test_cohort_prints_the_attrition_and_writes_the_flow_diagram(data: Data) -> None:
    spec = data.folder / "cohort.yaml"
    spec.write_text(
        "name: Discharged home\ncount_by: patient_id\nsteps:\n"
        "  - {include: \"age >= 65\", reason: Aged 65 or over}\n"
        "  - {exclude: \"creatinine_mg_dl.isna()\", reason: No creatinine result}\n",
        encoding="utf-8")
    out, svg, png = (data.folder / f"flow.{suffix}" for suffix in ("json", "svg", "png"))
    result = invoke("curate", "cohort", str(spec), "--data", str(data.csv), "--json", str(out),
                    "--svg", str(svg), "--png", str(png))
    assert result.exit_code == 0, result.output
    older = data.frame[data.frame["age"] >= 65]
    kept = older[older["creatinine_mg_dl"].notna()]
    record = json.loads(out.read_text(encoding="utf-8"))
    counts = [(s["n_before"], s["n_excluded"], s["n_after"]) for s in record["steps"]]
    assert counts == [(len(data.frame), len(data.frame) - len(older), len(older)),
                      (len(older), len(older) - len(kept), len(kept))]
    assert record["steps"][1]["units_after"] == kept["patient_id"].nunique()
    assert f"{len(kept):,}" in result.output and "No creatinine result" in result.output
    assert svg.read_text(encoding="utf-8").startswith("<svg")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cohort_with_a_bad_step_exits_2_naming_the_line(data: Data) -> None:
    spec = data.folder / "bad-cohort.yaml"
    spec.write_text("name: x\nsteps:\n  - {include: \"age >= 65\"}\n", encoding="utf-8")
    result = invoke("curate", "cohort", str(spec), "--data", str(data.csv))
    assert result.exit_code == 2
    assert "line 3, steps[0]: required field 'reason' is missing" in " ".join(
        result.output.split())


@pytest.fixture(scope="module")
def notes(data: Data) -> Path:
    path = data.folder / "notes.jsonl"
    with path.open("w", encoding="utf-8") as file:
        for number, note in enumerate(make_clinical_notes(12, seed=2)):
            file.write(json.dumps({"id": note.id, "patient_id": f"P{number % 3}",
                                   "text": note.text}) + "\n")
    return path


def _records(path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_phi_lists_the_spans_and_writes_masked_notes(data: Data, notes: Path) -> None:
    spans_path, masked = data.folder / "spans.json", data.folder / "masked.jsonl"
    result = invoke("curate", "phi", str(notes), "--no-ner", "--json", str(spans_path),
                    "--redact", str(masked))
    assert result.exit_code == 0, result.output
    records = _records(notes)
    expected = [{"id": r["id"], "start": s.start, "end": s.end, "category": s.category}
                for r in records for s in detect_phi(r["text"], ner=False)]
    assert json.loads(spans_path.read_text(encoding="utf-8")) == expected
    assert f"{len(expected):,} spans in {len(records)} of {len(records)} notes." in result.output
    mrn_line = next(line for line in result.output.splitlines() if "│ MRN" in line)
    assert mrn_line.split("│")[2].strip() == str(sum(s["category"] == "MRN" for s in expected))
    for before, after in zip(records, _records(masked), strict=True):
        assert (after["id"], after["patient_id"]) == (before["id"], before["patient_id"])
        found = detect_phi(before["text"], ner=False)
        assert len(_MASK.findall(after["text"])) == len(found) > 0
        for span in found:
            assert before["text"][span.start:span.end] not in after["text"]


def test_phi_surrogates_need_a_key_and_replace_every_span(data: Data, notes: Path) -> None:
    refused = invoke("curate", "phi", str(notes), "--no-ner", "--mode", "surrogate")
    assert refused.exit_code == 2 and "needs a secret" in refused.output
    out = data.folder / "surrogates.jsonl"
    result = runner.invoke(app, ["curate", "phi", str(notes), "--no-ner", "--mode", "surrogate",
                                 "--redact", str(out)],
                           env={"COLUMNS": "200", "ASSAY_PHI_KEY": "test-secret"})
    assert result.exit_code == 0, result.output
    for before, after in zip(_records(notes), _records(out), strict=True):
        spans = detect_phi(before["text"], ner=False)
        assert len(_MASK.findall(after["text"])) < len(spans)  # most spans get a surrogate
        for span in spans:
            value = before["text"][span.start:span.end]
            if len(value) > 3:  # a two-digit age may reappear by chance in other numbers
                assert value not in after["text"]


def test_phi_of_a_bad_line_exits_2_naming_it(data: Data) -> None:
    bad = data.folder / "bad-notes.jsonl"
    bad.write_text('{"id": "a", "text": "seen 03/14/2026"}\n{"id": 7, "text": "x"}\n',
                   encoding="utf-8")
    result = invoke("curate", "phi", str(bad), "--no-ner")
    assert result.exit_code == 2 and f"{bad} line 2: 'id' must be text (found int)" in (
        result.output)


def test_datasheet_is_filled_from_the_cohort_profile_and_answers(data: Data) -> None:
    spec, answers = data.folder / "sheet-cohort.yaml", data.folder / "answers.yaml"
    spec.write_text("name: Older adults\ncount_by: patient_id\nsteps:\n"
                    "  - {include: \"age >= 65\", reason: Aged 65 or over}\n", encoding="utf-8")
    answers.write_text("motivation:\n  purpose: Validate a readmission model.\n",
                       encoding="utf-8")
    out, html = data.folder / "sheet.json", data.folder / "sheet.html"
    result = invoke("curate", "datasheet", "--data", str(data.csv), "--cohort", str(spec),
                    "--answers", str(answers), "--json", str(out), "--html", str(html))
    assert result.exit_code == 0, result.output
    sheet = json.loads(out.read_text(encoding="utf-8"))
    older = data.frame[data.frame["age"] >= 65]
    assert sheet["name"] == "Older adults" and sheet["facts"]["n_rows"] == len(older)
    assert sheet["attrition"]["steps"][0]["n_after"] == len(older)
    purpose = sheet["sections"][0]["items"][0]
    assert (purpose["key"], purpose["answer"], purpose["source"]) == (
        "purpose", "Validate a readmission model.", "given")
    assert "motivation.funding" in sheet["missing"]
    assert (f"{sheet['n_answered']} of {sheet['n_questions']} questions answered"
            in result.output)
    assert "Validate a readmission model." in html.read_text(encoding="utf-8")


def test_datasheet_with_an_unknown_question_exits_2_naming_the_line(data: Data) -> None:
    answers = data.folder / "bad-answers.yaml"
    answers.write_text("motivation:\n  purpose: x\n  porpose: y\n", encoding="utf-8")
    result = invoke("curate", "datasheet", "--data", str(data.csv), "--answers", str(answers))
    assert result.exit_code == 2
    assert f"{answers} line 3, motivation: unknown question 'porpose'" in " ".join(
        result.output.split())

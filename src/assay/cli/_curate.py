"""``assay curate``: profile a table, compare two profiles, check a curation plan, build a
cohort, find and redact PHI in notes, fill a datasheet.

``profile`` and ``compare`` describe the data and exit 0 (drift between two profiles is a
finding, not a failure). ``check`` exits 1 when any finding has status ``fail``, 0 otherwise.
Every command exits 2 on bad input, naming the file, line and field.

A curation plan (``assay curate check PLAN``) is the YAML of
:class:`assay.curation.CurationPlan` (see its module for the sections).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from assay.cli._errors import exits_2_on_bad_input, write_file
from assay.curation import (
    ColumnSummary,
    CurationPlan,
    Finding,
    Profile,
    ProfileDriftRecord,
    compare_profiles,
    merge_profiles,
    profile,
)
from assay.data import read_table
from assay.errors import InputError

if TYPE_CHECKING:
    from assay.curation import Attrition, PhiSpan

__all__ = ["curate_app"]

curate_app = typer.Typer(
    help="Data curation: profiles, quality checks, cohorts, PHI, datasheets.",
    no_args_is_help=True)
console = Console(highlight=False, soft_wrap=True)

F = TypeVar("F", bound=Callable[..., Any])

_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$")
_PARQUET = (".parquet", ".pq")
_STATUS = {"pass": "green", "warn": "yellow", "fail": "bold red"}

JsonOut = Annotated[Path | None, typer.Option("--json", help="Write the result as JSON.")]



def _read(path: Path) -> pd.DataFrame:
    """A CSV or Parquet table; CSV text columns holding only ISO dates become datetimes."""
    frame, _ = read_table(path)
    for name in frame.columns:
        values = frame[name]
        if values.dtype == object:
            present = values.dropna()
            if len(present) and present.map(
                    lambda v: isinstance(v, str) and bool(_ISO_TIME.match(v))).all():
                try:
                    frame[name] = pd.to_datetime(values, format="ISO8601")
                except ValueError:  # shaped like dates but not all of them are: keep the text
                    continue
    return frame


def _names(text: str | None) -> list[str] | None:
    return None if text is None else [n.strip() for n in text.split(",") if n.strip()]


def _write(path: Path, text: str) -> None:
    write_file(path, text, console)


# profile ----------------------------------------------------------------------------------


def _profile_path(path: Path, columns: list[str] | None) -> tuple[Profile, int]:
    """The profile of a file, or the merge of the profiles of a folder's Parquet files, and
    how many files were profiled."""
    files = sorted(p for p in path.iterdir() if p.suffix.lower() in _PARQUET) \
        if path.is_dir() else [path]
    if not files:
        raise InputError(f"{path}: the folder holds no .parquet file")
    parts = []
    for file in files:
        frame = _read(file)
        if columns is not None:
            unknown = [c for c in columns if c not in frame.columns]
            if unknown:
                raise InputError(f"{file}: no column {', '.join(map(repr, unknown))} "
                                 f"(columns: {', '.join(map(str, frame.columns))})")
            frame = frame[columns]
        parts.append(profile(frame, name=file.name))
    return merge_profiles(parts, name=path.name), len(files)


def _value(value: float | datetime | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d")
    return f"{value:.4g}"


def _shape(summary: ColumnSummary) -> str:
    if summary.kind == "categorical":
        return ", ".join(f"{escape(t.value)} {t.count:,}" for t in summary.top_values[:3])
    q = summary.quantiles
    if summary.kind == "time":
        return (f"{_value(summary.minimum)} to {_value(summary.maximum)}, "
                f"{summary.days_with_data:,} days with data")
    return " / ".join(_value(q.get(label)) for label in ("p5", "p50", "p95"))


@curate_app.command("profile")
@exits_2_on_bad_input
def profile_command(
    data: Annotated[Path, typer.Argument(help="CSV or Parquet file, or a folder of Parquet "
                                              "files (each profiled, then merged).")],
    json_path: JsonOut = None,
    columns: Annotated[str | None, typer.Option(
        "--columns", help="Comma-separated columns to profile (default: all).")] = None,
) -> None:
    """Profile every column from mergeable sketches; --json stores the profile to merge or
    compare later."""
    result, n_files = _profile_path(data, _names(columns))
    table = Table(title=f"Profile of {escape(data.name)}: {result.n_rows:,} rows"
                  + (f", merged from {n_files} files" if n_files > 1 else ""))
    for heading in ("column", "kind", "n", "missing %", "distinct",
                    "p5 / p50 / p95, or top values"):
        table.add_column(heading, justify="right" if heading in {"n", "missing %", "distinct"}
                         else "left")
    for s in result.summaries():
        table.add_row(escape(s.name), s.kind, f"{s.n:,}", f"{s.missing_share:.1%}",
                      f"{s.distinct:,.0f}", _shape(s))
    console.print(table)
    if json_path is not None:
        _write(json_path, result.to_json(indent=1) + "\n")


# compare ----------------------------------------------------------------------------------


def _load_profile(path: Path) -> Profile:
    if path.suffix.lower() != ".json":
        return _profile_path(path, None)[0]
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot read the profile: {exc.strerror}") from exc
    try:
        return Profile.from_json(text)
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from exc


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


@curate_app.command("compare")
@exits_2_on_bad_input
def compare_command(
    reference: Annotated[Path, typer.Argument(help="Reference: a data file, a folder of "
                                                   "Parquet, or a profile .json.")],
    current: Annotated[Path, typer.Argument(help="Current: a data file, a folder of Parquet, "
                                                 "or a profile .json.")],
    json_path: JsonOut = None,
) -> None:
    """Compare two profiles column by column from their sketches; exit 0 even with drift."""
    records = compare_profiles(_load_profile(reference), _load_profile(current))
    _print_comparison(reference, current, records)
    if json_path is not None:
        document = {"reference": str(reference), "current": str(current),
                    "columns": [r.model_dump(mode="json") | {"drifted": r.drifted}
                                for r in records]}
        _write(json_path, json.dumps(document, indent=2) + "\n")


def _print_comparison(reference: Path, current: Path,
                      records: list[ProfileDriftRecord]) -> None:
    table = Table(title=f"Profile of {escape(current.name)} against {escape(reference.name)} "
                        "(from the sketches)")
    for heading in ("column", "kind", "psi", "ks", "missing Δ", "drifted"):
        table.add_column(heading, justify="right" if heading in {"psi", "ks", "missing Δ"}
                         else "left")
    for r in records:
        table.add_row(escape(r.column), r.kind, _number(r.psi), _number(r.ks),
                      f"{r.missing_share_difference:.3f}",
                      f"[bold red]{', '.join(r.drifted_by)}[/]" if r.drifted else "no")
    console.print(table)
    drifted = [r.column for r in records if r.drifted]
    console.print(f"{len(drifted)} of {len(records)} columns drifted"
                  + (f": {', '.join(drifted)}" if drifted else "") + ".")


# check ------------------------------------------------------------------------------------


@curate_app.command("check")
@exits_2_on_bad_input
def check_command(
    plan_path: Annotated[Path, typer.Argument(metavar="PLAN", help="Curation plan YAML file.")],
    data: Annotated[Path, typer.Option("--data", help="CSV or Parquet file to check.")],
    time: Annotated[str | None, typer.Option(
        "--time", help="Datetime column that dates a unit change (overrides the plan's "
                       "'time:').")] = None,
    json_path: JsonOut = None,
) -> None:
    """Run a curation plan on a table; exit 1 when a finding fails, 0 otherwise."""
    plan = CurationPlan.load(plan_path)
    frame = _read(data)
    time_column = time or plan.time
    if time_column is not None and time_column not in frame.columns:
        raise InputError(f"{data}: no time column {time_column!r}")
    try:
        findings = plan.run(frame, time=time_column)
    except InputError as exc:
        raise InputError(f"{data}: {exc}") from exc
    _print_findings(data, len(frame), findings)
    failed = any(f.status == "fail" for f in findings)
    if json_path is not None:
        document = {"plan": str(plan_path), "data": str(data), "n_rows": len(frame),
                    "passed": not failed,
                    "findings": [f.model_dump(mode="json") for f in findings]}
        _write(json_path, json.dumps(document, indent=2) + "\n")
    raise typer.Exit(1 if failed else 0)


def _print_findings(data: Path, n_rows: int, findings: list[Finding]) -> None:
    table = Table(title=f"Curation checks on {escape(data.name)}: {n_rows:,} rows")
    for heading in ("status", "rule", "columns", "rows", "message"):
        table.add_column(heading, justify="right" if heading == "rows" else "left")
    for f in findings:
        table.add_row(f"[{_STATUS[f.status]}]{f.status}[/]", f.rule,
                      escape(", ".join(f.columns) if len(f.columns) <= 3
                             else f"{len(f.columns)} columns"),
                      "—" if f.rule == "target_leakage" else f"{f.n_rows:,}",
                      escape(f.message))
    console.print(table)
    counts = {s: sum(f.status == s for f in findings) for s in ("fail", "warn", "pass")}
    console.print(f"{counts['fail']} failed, {counts['warn']} warned, {counts['pass']} passed.")


# cohort -----------------------------------------------------------------------------------


@curate_app.command("cohort")
@exits_2_on_bad_input
def cohort_command(
    spec_path: Annotated[Path, typer.Argument(metavar="SPEC", help="Cohort spec YAML file.")],
    data: Annotated[Path, typer.Option("--data", help="CSV or Parquet file of source rows.")],
    json_path: Annotated[Path | None, typer.Option(
        "--json", help="Write the attrition record as JSON.")] = None,
    svg: Annotated[Path | None, typer.Option(help="Write the flow diagram as SVG.")] = None,
    png: Annotated[Path | None, typer.Option(help="Write the flow diagram as PNG.")] = None,
) -> None:
    """Apply a cohort's inclusion and exclusion steps; print the attrition table."""
    attrition = _attrition(spec_path, _read(data))
    _print_attrition(attrition.model_dump())
    if json_path is not None:
        _write(json_path, attrition.model_dump_json(indent=2) + "\n")
    if svg is not None or png is not None:
        from assay.curation import flow_png, flow_svg

        if svg is not None:
            _write(svg, flow_svg(attrition))
        if png is not None:
            try:
                png.write_bytes(flow_png(attrition))
            except OSError as exc:
                raise InputError(f"{png}: cannot write: {exc.strerror}") from exc
            console.print(f"written: {png}")


def _attrition(spec_path: Path, frame: pd.DataFrame) -> Attrition:
    from assay.curation import CohortSpec, build_cohort

    spec = CohortSpec.load(spec_path)
    try:
        return build_cohort(frame, spec).attrition
    except InputError as exc:
        raise InputError(f"{spec_path}: {exc}") from exc


def _print_attrition(record: Mapping[str, Any]) -> None:
    units = record["count_by"]
    start = f"{record['n_start']:,} rows" + (
        f" ({record['units_start']:,} {units})" if units else "")
    table = Table(title=f"Cohort {escape(record['name'])}: {start} in the source data")
    headings = ["step", "kind", "reason", "n before", "excluded", "n after"]
    if units:
        headings.append(f"{units} after")
    for heading in headings:
        table.add_column(heading, justify="left" if heading in {"kind", "reason"} else "right")
    for step in record["steps"]:
        row = [str(step["step"]), step["kind"], escape(step["reason"]), f"{step['n_before']:,}",
               f"{step['n_excluded']:,}", f"{step['n_after']:,}"]
        if units:
            row.append(f"{step['units_after']:,}")
        table.add_row(*row)
    console.print(table)


# phi --------------------------------------------------------------------------------------


def _read_notes(path: Path) -> list[dict[str, Any]]:
    """The records of a JSONL file, each with a text ``id`` and a text ``text``."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"{path}: cannot read the notes: {exc.strerror}") from exc
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise InputError(f"{path} line {number}: not a JSON object: {exc}") from exc
        if not isinstance(record, dict):
            raise InputError(f"{path} line {number}: not a JSON object")
        for field in ("id", "text"):
            if not isinstance(record.get(field), str):
                raise InputError(f"{path} line {number}: '{field}' must be text "
                                 f"(found {type(record.get(field)).__name__})")
        records.append(record)
    return records


@curate_app.command("phi")
@exits_2_on_bad_input
def phi_command(
    notes: Annotated[Path, typer.Argument(
        metavar="FILE", help="JSONL notes: one object a line with 'id' and 'text' (and "
                             "'patient_id', which keys the date shift of surrogates).")],
    json_path: Annotated[Path | None, typer.Option(
        "--json", help="Write the spans found: {id, start, end, category}.")] = None,
    redacted: Annotated[Path | None, typer.Option(
        "--redact", help="Write the notes with each span redacted, as JSONL.")] = None,
    mode: Annotated[Literal["mask", "surrogate"], typer.Option(
        help="mask: [NAME], [DATE]…; surrogate: consistent fake values, dates shifted per "
             "patient.")] = "mask",
    key: Annotated[str | None, typer.Option(
        envvar="ASSAY_PHI_KEY", help="Secret of the surrogates (needed with --mode "
                                     "surrogate); better given as ASSAY_PHI_KEY.")] = None,
    ner: Annotated[bool, typer.Option(
        "--ner/--no-ner", help="Use the offline NER model for names and cities (the 'phi' "
                               "extra); --no-ner runs the pattern rules only.")] = True,
) -> None:
    """Find HIPAA Safe Harbor identifiers in notes; optionally write them redacted."""
    from assay.curation import detect_phi_batch, redact

    if mode == "surrogate" and not key:
        raise InputError("--mode surrogate needs a secret: give --key or set ASSAY_PHI_KEY")
    records = _read_notes(notes)
    found = detect_phi_batch([r["text"] for r in records], ner=ner)
    _print_phi(notes, found)
    if json_path is not None:
        spans = [{"id": r["id"], "start": s.start, "end": s.end, "category": s.category}
                 for r, spans_of in zip(records, found, strict=True) for s in spans_of]
        _write(json_path, json.dumps(spans, indent=1) + "\n")
    if redacted is not None:
        lines = [json.dumps(r | {"text": redact(r["text"], spans_of, mode, key=key,
                                                patient_key=str(r.get("patient_id", "")))},
                            ensure_ascii=False)
                 for r, spans_of in zip(records, found, strict=True)]
        _write(redacted, "".join(line + "\n" for line in lines))


def _print_phi(notes: Path, found: list[list[PhiSpan]]) -> None:
    counts: dict[str, list[int]] = {}
    for spans in found:
        for category in {s.category for s in spans}:
            counts.setdefault(category, [0, 0])[1] += 1
        for span in spans:
            counts.setdefault(span.category, [0, 0])[0] += 1
    table = Table(title=f"PHI in {escape(notes.name)}: {len(found):,} notes")
    for heading in ("category", "spans", "notes"):
        table.add_column(heading, justify="left" if heading == "category" else "right")
    for category, (n_spans, n_notes) in sorted(counts.items(), key=lambda c: (-c[1][0], c[0])):
        table.add_row(category, f"{n_spans:,}", f"{n_notes:,}")
    console.print(table)
    with_phi = sum(bool(spans) for spans in found)
    console.print(f"{sum(len(spans) for spans in found):,} spans in {with_phi:,} of "
                  f"{len(found):,} notes.")


# datasheet --------------------------------------------------------------------------------


@curate_app.command("datasheet")
@exits_2_on_bad_input
def datasheet_command(
    data: Annotated[Path, typer.Option("--data", help="CSV or Parquet file described.")],
    cohort: Annotated[Path | None, typer.Option(
        "--cohort", metavar="SPEC", help="Cohort spec YAML: describe the rows it keeps, with "
                                         "its attrition and flow diagram.")] = None,
    answers: Annotated[Path | None, typer.Option(
        "--answers", help="YAML of given answers: section: {question: answer}.")] = None,
    name: Annotated[str | None, typer.Option(
        help="What the dataset is called (default: the cohort's name, else the file's).")] = None,
    html: Annotated[Path | None, typer.Option(help="Write the datasheet as HTML.")] = None,
    json_path: JsonOut = None,
) -> None:
    """Fill a datasheet (Gebru et al.) from the data's profile, a cohort and given answers."""
    from assay.curation import CohortSpec, build_cohort, build_datasheet, read_answers

    given = read_answers(answers) if answers is not None else None
    frame = _read(data)
    attrition = None
    if cohort is not None:
        try:
            built = build_cohort(frame, CohortSpec.load(cohort))
        except InputError as exc:
            raise InputError(f"{cohort}: {exc}") from exc
        frame, attrition = built.frame, built.attrition
    title = name or (attrition.name if attrition is not None else data.stem)
    sheet = build_datasheet(title, profile=profile(frame, name=data.name), attrition=attrition,
                            answers=given)
    console.print(f"Datasheet of {escape(title)}: {sheet.n_answered} of {sheet.n_questions} "
                  f"questions answered ({sheet.completeness:.0%}).")
    if sheet.missing:
        console.print("Unanswered: " + ", ".join(sheet.missing))
    if json_path is not None:
        _write(json_path, sheet.to_json(indent=2) + "\n")
    if html is not None:
        _write(html, sheet.to_html())

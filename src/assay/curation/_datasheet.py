"""A datasheet for a dataset (Gebru et al., "Datasheets for Datasets"): :func:`build_datasheet`.

The seven sections of the paper (motivation, composition, collection process, preprocessing,
uses, distribution, maintenance) with a selection of their questions. Questions the data can
answer are filled from the profile (rows, columns and their kinds, missingness, time coverage)
and the cohort's attrition; the rest come from the people who know the data, as a mapping
``section -> question -> answer`` checked against :data:`DATASHEET_QUESTIONS`. What nobody
answered is listed as missing, and the share answered is the datasheet's completeness. A given
answer always wins over a filled one. The datasheet holds counts, never a row of the data.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from assay._yaml import load_yaml_mapping, read_yaml_file
from assay.curation._cohort import Attrition
from assay.curation._profile import Profile
from assay.errors import InputError, PlanError

AnswerSource = Literal["given", "profile", "cohort"]

SECTION_TITLES: Mapping[str, str] = {
    "motivation": "Motivation",
    "composition": "Composition",
    "collection": "Collection process",
    "preprocessing": "Preprocessing, cleaning and labeling",
    "uses": "Uses",
    "distribution": "Distribution",
    "maintenance": "Maintenance",
}
"""The sections in the paper's order."""

DATASHEET_QUESTIONS: Mapping[str, Mapping[str, str]] = {
    "motivation": {
        "purpose": "For what purpose was the dataset created?",
        "creators": "Who created the dataset, and on behalf of which entity?",
        "funding": "Who funded the creation of the dataset?",
    },
    "composition": {
        "instances": "What do the instances (rows) represent?",
        "count": "How many instances are there in total?",
        "sample": "Does the dataset contain all possible instances or is it a sample?",
        "instance_data": "What data does each instance consist of?",
        "label": "Is there a label or target associated with each instance?",
        "missing": "Is any information missing from individual instances?",
        "subpopulations": "Does the dataset identify subpopulations (for example by age or sex)?",
        "confidential": "Does the dataset contain data that might be considered confidential "
                        "or that identifies individuals?",
    },
    "collection": {
        "mechanism": "How was the data collected (systems, feeds, manual abstraction)?",
        "timeframe": "Over what timeframe was the data collected?",
        "sampling": "What was the sampling strategy, if the dataset is a sample?",
        "ethics": "Were ethical review processes conducted (for example by an IRB)?",
        "consent": "Were the individuals notified, and did they consent or was consent waived?",
    },
    "preprocessing": {
        "cleaning": "Was any preprocessing, cleaning, selection or labeling of the data done?",
        "raw_data": "Was the raw data saved in addition to the processed data?",
    },
    "uses": {
        "used_for": "Has the dataset been used for any tasks already?",
        "should_not_be_used_for": "Are there tasks for which the dataset should not be used?",
        "risks": "Is there anything about the composition or collection that might affect "
                 "future uses (for example unfair treatment of groups)?",
    },
    "distribution": {
        "shared_with": "Will the dataset be shared outside the entity that created it?",
        "terms": "Under what licence or terms of use is it shared?",
    },
    "maintenance": {
        "maintainer": "Who supports, hosts and maintains the dataset?",
        "contact": "How can the owner or curator be contacted?",
        "updates": "Will the dataset be updated, how often and by whom?",
        "retention": "Are there limits on how long the data about people may be retained?",
    },
}
"""Questions per section, by key (the keys used in given answers)."""

MAX_LISTED = 10
"""Most columns named in a filled answer (the facts table lists them all)."""


class DatasheetItem(BaseModel):
    """One question with its answer, and where the answer came from (``None``: missing)."""

    model_config = ConfigDict(frozen=True)

    key: str
    question: str
    answer: str | None = None
    source: AnswerSource | None = None


class DatasheetSection(BaseModel):
    """One section of the datasheet."""

    model_config = ConfigDict(frozen=True)

    key: str
    title: str
    items: tuple[DatasheetItem, ...]


class ColumnFact(BaseModel):
    """A column as the profile describes it."""

    model_config = ConfigDict(frozen=True)

    name: str
    kind: str
    missing: int
    missing_share: float
    distinct: float


class TimeCoverage(BaseModel):
    """First and last timestamp of a time column, its days with data and its longest gap."""

    model_config = ConfigDict(frozen=True)

    column: str
    first: datetime | None
    last: datetime | None
    days_with_data: int | None
    longest_gap_days: int | None


class DatasetFacts(BaseModel):
    """What the profile says about the data."""

    model_config = ConfigDict(frozen=True)

    n_rows: int
    n_columns: int
    columns: tuple[ColumnFact, ...]
    time_coverage: tuple[TimeCoverage, ...]


class Datasheet(BaseModel):
    """The filled datasheet; render with :meth:`to_html` or store with :meth:`to_json`."""

    model_config = ConfigDict(frozen=True)

    name: str
    sections: tuple[DatasheetSection, ...]
    facts: DatasetFacts | None = None
    attrition: Attrition | None = None

    @property
    def n_questions(self) -> int:
        """Questions in the datasheet."""
        return sum(len(section.items) for section in self.sections)

    @property
    def n_answered(self) -> int:
        """Questions with an answer (given or filled)."""
        return sum(item.answer is not None for section in self.sections for item in section.items)

    @property
    def completeness(self) -> float:
        """Share of questions answered, 0 to 1."""
        return self.n_answered / self.n_questions if self.n_questions else 0.0

    @property
    def missing(self) -> list[str]:
        """``section.question`` keys of the unanswered questions, in datasheet order."""
        return [f"{section.key}.{item.key}" for section in self.sections
                for item in section.items if item.answer is None]

    def answer(self, section: str, question: str) -> DatasheetItem:
        """The item of one question."""
        for part in self.sections:
            if part.key == section:
                for item in part.items:
                    if item.key == question:
                        return item
        raise InputError(f"the datasheet has no question {section}.{question}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: the sections, facts, attrition, completeness and missing questions."""
        data = self.model_dump(mode="json")
        data["completeness"] = self.completeness
        data["n_questions"] = self.n_questions
        data["n_answered"] = self.n_answered
        data["missing"] = self.missing
        return data

    def to_json(self, **kwargs: Any) -> str:
        """:meth:`to_dict` as JSON text; ``kwargs`` go to :func:`json.dumps`."""
        return json.dumps(self.to_dict(), **kwargs)

    def to_html(self, path: str | Path | None = None) -> str:
        """The datasheet as one self-contained HTML page (inline CSS and flow diagram SVG).

        Writes it to ``path`` too when given. Needs the ``report`` extra (jinja2, matplotlib).
        """
        from markupsafe import Markup

        from assay.curation._flow import flow_svg
        from assay.reports._html import template_environment

        flow = Markup(flow_svg(self.attrition)) if self.attrition is not None else None
        html = template_environment("assay.curation").get_template("datasheet.html.j2").render(
            sheet=self, flow=flow, percent=lambda share: f"{share:.1%}")
        if path is not None:
            Path(path).write_text(html, encoding="utf-8")
        return html


def check_answers(answers: Mapping[str, Any], *, source: str = "answers"
                  ) -> dict[str, dict[str, str]]:
    """Validate given answers against :data:`DATASHEET_QUESTIONS`.

    Raises
    ------
    InputError
        naming the unknown section or question (with the known ones), or an answer that is not
        non-empty text.
    """
    if not isinstance(answers, Mapping):
        raise InputError(f"{source}: answers are a mapping of section to question to answer")
    checked: dict[str, dict[str, str]] = {}
    for section, questions in answers.items():
        if section not in DATASHEET_QUESTIONS:
            raise InputError(f"{source}: unknown datasheet section {section!r} (sections: "
                             f"{', '.join(DATASHEET_QUESTIONS)})")
        known = DATASHEET_QUESTIONS[section]
        if not isinstance(questions, Mapping):
            raise InputError(f"{source}, {section}: give a mapping of question to answer "
                             f"(questions: {', '.join(known)})")
        for question, answer in questions.items():
            if question not in known:
                raise InputError(f"{source}, {section}: unknown question {question!r} "
                                 f"(questions: {', '.join(known)})")
            if not isinstance(answer, str) or not answer.strip():
                raise InputError(f"{source}, {section}.{question}: the answer must be "
                                 "non-empty text")
            checked.setdefault(section, {})[question] = answer.strip()
    return checked


def read_answers(path: str | Path) -> dict[str, dict[str, str]]:
    """Given answers from a YAML file; problems are a :class:`PlanError` naming the line."""
    path = Path(path)
    return answers_from_yaml(read_yaml_file(path, "datasheet answers"), source=str(path))


def answers_from_yaml(text: str, *, source: str = "<answers>") -> dict[str, dict[str, str]]:
    """Given answers from YAML text (``section: {question: answer}``)."""
    document, lines = load_yaml_mapping(
        text, source, "datasheet answers are a YAML mapping of section to question to answer")
    try:
        return check_answers(document, source=source)
    except InputError as exc:
        line = _line_of(str(exc), document, lines)
        message = str(exc).replace(source, f"{source} line {line}", 1) if line else str(exc)
        raise PlanError(message) from exc


def _line_of(message: str, document: Mapping[str, Any],
             lines: dict[tuple[Any, ...], int]) -> int | None:
    for section, questions in document.items():
        if f"section {section!r}" in message:
            return lines.get((section,))
        if isinstance(questions, Mapping):
            for question in questions:
                if f"question {question!r}" in message or f"{section}.{question}:" in message:
                    return lines.get((section, question))
        if f", {section}:" in message:
            return lines.get((section,))
    return None


def build_datasheet(name: str, *, profile: Profile | None = None,
                    attrition: Attrition | None = None,
                    answers: Mapping[str, Any] | None = None) -> Datasheet:
    """Fill a datasheet from a profile, a cohort's attrition and given answers.

    Parameters
    ----------
    name
        What the dataset is called.
    profile
        The profile of the dataset described (usually the final cohort), for the counts,
        columns, missingness and time coverage.
    attrition
        ``cohort.attrition`` from :func:`~assay.curation._cohort.build_cohort`, for the
        selection steps (shown as a table and a flow diagram).
    answers
        ``{section: {question: answer}}`` with keys from :data:`DATASHEET_QUESTIONS`.

    Raises
    ------
    InputError
        on an unknown section or question, or an answer that is not text.

    Examples
    --------
    >>> sheet = build_datasheet("Readmissions 2024", answers={
    ...     "motivation": {"purpose": "Validate a 30-day readmission model."}})
    >>> sheet.answer("motivation", "purpose").source, sheet.n_answered, sheet.n_questions
    ('given', 1, 27)
    """
    given = check_answers(answers or {})
    facts = _facts(profile) if profile is not None else None
    filled = _filled(facts, attrition)
    sections = []
    for key, questions in DATASHEET_QUESTIONS.items():
        items = []
        for question, text in questions.items():
            answer = given.get(key, {}).get(question)
            source: AnswerSource | None = "given" if answer is not None else None
            if answer is None and (key, question) in filled:
                source, answer = filled[(key, question)]
            items.append(DatasheetItem(key=question, question=text, answer=answer,
                                       source=source))
        sections.append(DatasheetSection(key=key, title=SECTION_TITLES[key], items=tuple(items)))
    return Datasheet(name=name, sections=tuple(sections), facts=facts, attrition=attrition)


def _facts(profile: Profile) -> DatasetFacts:
    summaries = profile.summaries()
    columns = tuple(ColumnFact(name=s.name, kind=s.kind, missing=s.missing,
                               missing_share=s.missing_share, distinct=s.distinct)
                    for s in summaries)
    coverage = []
    for s in summaries:
        if s.kind != "time":
            continue
        first, last = s.first, s.last
        coverage.append(TimeCoverage(
            column=s.name, first=first if isinstance(first, datetime) else None,
            last=last if isinstance(last, datetime) else None,
            days_with_data=s.days_with_data,
            longest_gap_days=max((gap.missing_days for gap in s.gaps), default=0)
            if s.days_with_data is not None else None))
    return DatasetFacts(n_rows=profile.n_rows, n_columns=len(columns), columns=columns,
                        time_coverage=tuple(coverage))


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:MAX_LISTED])
    return shown + (f" and {len(names) - MAX_LISTED} more" if len(names) > MAX_LISTED else "")


def _days(count: int | None) -> str:
    return "unknown days" if count is None else f"{count:,} day{'' if count == 1 else 's'}"


def _filled(facts: DatasetFacts | None, attrition: Attrition | None
            ) -> dict[tuple[str, str], tuple[AnswerSource, str]]:
    filled: dict[tuple[str, str], tuple[AnswerSource, str]] = {}
    if facts is not None:
        count = f"{facts.n_rows:,} rows."
        if attrition is not None and attrition.count_by and attrition.units_final is not None \
                and attrition.n_final == facts.n_rows:
            count = (f"{facts.n_rows:,} rows from {attrition.units_final:,} distinct "
                     f"{attrition.count_by}.")
        filled[("composition", "count")] = ("profile", count)
        kinds = {kind: [c.name for c in facts.columns if c.kind == kind]
                 for kind in ("numeric", "categorical", "time")}
        parts = [f"{len(names)} {kind} ({_names(names)})" for kind, names in kinds.items() if names]
        filled[("composition", "instance_data")] = (
            "profile", f"{facts.n_columns} columns: " + "; ".join(parts) + ".")
        gaps = sorted((c for c in facts.columns if c.missing), key=lambda c: -c.missing_share)
        missing = (f"{len(gaps)} of {facts.n_columns} columns have missing values: "
                   + _names([f"{c.name} {c.missing_share:.1%}" for c in gaps]) + "."
                   if gaps else "No column has missing values.")
        filled[("composition", "missing")] = ("profile", missing)
        spans = [f"{t.column} from {t.first:%Y-%m-%d} to {t.last:%Y-%m-%d} "
                 f"({_days(t.days_with_data)} with data, longest gap "
                 f"{_days(t.longest_gap_days)})"
                 for t in facts.time_coverage if t.first is not None and t.last is not None]
        if spans:
            filled[("collection", "timeframe")] = ("profile", "; ".join(spans) + ".")
    if attrition is not None:
        filled[("composition", "sample")] = ("cohort", (
            f"A selection: {attrition.n_final:,} of {attrition.n_start:,} source rows remain "
            f"after {len(attrition.steps)} inclusion and exclusion steps of cohort "
            f"'{attrition.name}'."))
        steps = [f"{s.step}. {'kept only' if s.kind == 'include' else 'removed'} "
                 f"{s.reason} ({s.n_excluded:,} rows excluded, {s.n_after:,} left)"
                 for s in attrition.steps]
        filled[("preprocessing", "cleaning")] = ("cohort", (
            f"Cohort '{attrition.name}' was selected from {attrition.n_start:,} rows: "
            + "; ".join(steps) + "."))
    return filled

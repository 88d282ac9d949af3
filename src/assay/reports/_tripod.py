"""A validation report of a Run in the order of the TRIPOD+AI checklist (Collins et al., BMJ
2024), for a local evaluation study.

Each item is filled from the Run (and the registry fields of the product and version when
given); an item the Run cannot supply says "not reported". Item numbers follow the published
checklist as summarised in the project's reference; check them against tripod-statement.org
before citing them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

from assay.reports._format import (
    format_count,
    format_interval,
    format_level,
    format_percent,
    format_threshold,
    metric_title,
)
from assay.reports._words import check_sentence, intro_sentences, join_words, method_name

if TYPE_CHECKING:
    from assay.checks import Run

__all__ = ["NOT_REPORTED", "render_tripod", "tripod_items"]

NOT_REPORTED = "not reported"


@dataclass(frozen=True)
class Item:
    """One checklist item: its number, topic and text (``NOT_REPORTED`` when unknown)."""

    section: str
    number: str
    topic: str
    text: str
    rows: tuple[tuple[str, ...], ...] = ()

    @property
    def reported(self) -> bool:
        return self.text != NOT_REPORTED


def _field(fields: Mapping[str, str], *keys: str) -> str:
    return next((str(fields[k]).strip() for k in keys if str(fields.get(k, "")).strip()),
                NOT_REPORTED)


def _metric_rows(run: Run, grouped: bool) -> tuple[tuple[str, ...], ...]:
    records = run.group_metrics if grouped else run.overall_metrics
    rows = []
    for r in records:
        if r.status != "ok" or r.value is None:
            continue
        at = "" if r.threshold is None else f" at {format_threshold(r.threshold)}"
        group = (f"{r.group}={r.group_value}",) if grouped else ()
        rows.append((*group, r.score, metric_title(r.metric) + at,
                     format_interval(r), format_count(r.n)))
    return tuple(rows)


def tripod_items(run: Run, *, product: Mapping[str, str] | None = None,
                 version: Mapping[str, str] | None = None) -> list[Item]:
    """The report's items in TRIPOD+AI order."""
    fields = {**(product or {}), **(version or {})}
    data, settings = run.data, run.plan.settings
    name = _field(fields, "name")
    title = (f"{name}, version {_field(fields, 'version')}: " if name != NOT_REPORTED else "")
    title += f"evaluation of a prediction model with the plan “{run.plan.name}”"
    fairness = [r for r in run.results if r.kind == "fairness" and r.fairness is not None]
    events = (f"{format_count(data.n_events)} with the outcome "
              f"({format_percent(data.n_events / data.n)})"
              if data.n_events is not None and data.n else NOT_REPORTED)
    period = (f"{data.time_start[:10]} to {data.time_end[:10]}"
              if data.time_start and data.time_end else NOT_REPORTED)
    headline = [r for r in run.overall_metrics if r.metric in ("auroc", "calibration_slope")
                and r.status == "ok" and r.threshold is None]
    groups = sorted({r.group for r in run.group_metrics if r.group})
    suppressed = sum(r.suppressed for r in run.group_metrics)
    skipped = [r for r in run.overall_metrics if r.status != "ok"]
    limitations = [
        f"One data source ({data.source}); results may differ in other settings or periods.",
        f"Intervals are {format_level(run.level)} confidence intervals; they describe "
        "sampling uncertainty only, not bias in the data or the outcome definition.",
    ]
    if suppressed:
        limitations.append(f"{suppressed} group results had fewer than "
                           f"{settings.small_cell_threshold} patients and are not interpreted.")
    if skipped:
        limitations.append(f"{len(skipped)} metrics could not be computed on this data.")
    if not fairness:
        limitations.append("No fairness criterion was judged in this run.")
    known = _field(fields, "known_risks_limitations", "known_risks")
    if known != NOT_REPORTED:
        limitations.append(f"Registry: {known}")
    measured = sorted({metric_title(r.metric) for r in run.overall_metrics})
    analysis = (f"Metrics: {join_words(measured)}. "
                f"Intervals at {format_level(run.level)}; bootstrap with "
                f"{format_count(settings.n_boot)} replicates ({settings.bootstrap_method}), "
                f"seed {run.seed}; analytic methods where a metric has one.")
    thresholds = "; ".join(f"{k} = {format_threshold(v)}" for k, v in run.thresholds.items())
    fairness_methods = "; ".join(
        f"{r.title} (tolerance band {r.fairness.tables[0].band[0]:.2f} to "
        f"{r.fairness.tables[0].band[1]:.2f})" for r in fairness
        if r.fairness is not None and r.fairness.tables)
    if groups:
        fairness_methods = (fairness_methods + "; " if fairness_methods else "") + (
            f"metrics by {join_words(groups)}")
    results_fairness = " ".join(check_sentence(run, r) for r in fairness)
    interpretation = " ".join(check_sentence(run, r) for r in run.results
                              if r.status in ("fail", "error", "warn"))
    items = [
        Item("Title and abstract", "1", "Title", title),
        Item("Title and abstract", "2", "Abstract", " ".join(
            [*intro_sentences(run), "Headline results: " + "; ".join(
                f"{metric_title(r.metric)} {format_interval(r, level=run.level)}"
                for r in headline) + "." if headline else "",
             f"Overall status of the plan's checks: {run.status}."]).strip()),
        Item("Introduction", "3a", "Background and intended use",
             _field(fields, "intended_use", "intended_use_workflow")),
        Item("Introduction", "3b", "Target population, place in care, intended users",
             "; ".join(v.rstrip(".") for v in (_field(fields, "intended_population"),
                                   _field(fields, "intended_users"),
                                   _field(fields, "decision_role")) if v != NOT_REPORTED)
             or NOT_REPORTED),
        Item("Introduction", "3c", "Known health inequalities",
             _field(fields, "health_inequalities_context")),
        Item("Introduction", "4", "Objectives", run.plan.description.strip() or NOT_REPORTED),
        Item("Methods", "5a", "Data source", f"{data.source} (data fingerprint "
                                             f"{data.fingerprint})"),
        Item("Methods", "5b", "Dates of data", period),
        Item("Methods", "6a", "Setting and centres", _field(fields, "setting", "care_setting")),
        Item("Methods", "6b", "Eligibility", _field(fields, "eligibility",
                                                    "intended_population")),
        Item("Methods", "7", "Data preparation", NOT_REPORTED),
        Item("Methods", "8a", "Outcome", f"Column “{run.roles.target}”; definition: "
                                          f"{_field(fields, 'outcome_definition')}"),
        Item("Methods", "9a", "Predictors and scores",
             f"Scores evaluated: {join_words(list(run.roles.score))}; model inputs: "
             f"{_field(fields, 'input_features', 'predictors')}"),
        Item("Methods", "10", "Sample size", f"{format_count(data.n)} records, {events}; "
                                              "no sample-size calculation is recorded"),
        Item("Methods", "11", "Missing data", NOT_REPORTED),
        Item("Methods", "12e", "Analysis: performance measures", analysis),
        Item("Methods", "12g", "How predictions were obtained",
             _field(fields, "artifact_uri")),
        Item("Methods", "14", "Fairness approach", fairness_methods or NOT_REPORTED),
        Item("Methods", "15", "Model output and thresholds", thresholds or NOT_REPORTED),
        Item("Results", "20a", "Participants", f"{format_count(data.n)} records, {events}; "
                                               f"period {period}{_flow(run)}"),
        Item("Results", "23a", "Performance with confidence intervals",
             f"{format_level(run.level)} confidence intervals; "
             + (method_name(headline[0].method) + " for the AUROC." if headline else "")
             if run.overall_metrics else NOT_REPORTED, _metric_rows(run, False)),
        Item("Results", "23a", "Performance in subgroups",
             f"By {join_words(groups)}" if groups else NOT_REPORTED, _metric_rows(run, True)),
        Item("Results", "23a", "Fairness results", results_fairness or NOT_REPORTED),
        Item("Results", "24", "Model updating", NOT_REPORTED),
        Item("Discussion", "25", "Interpretation",
             interpretation or f"Every check of the plan passed ({len(run.results)} checks)."
             if run.results else NOT_REPORTED),
        Item("Discussion", "26", "Limitations", " ".join(limitations)),
        Item("Other information", "18a", "Funding", _field(fields, "funding_source")),
        Item("Other information", "18b", "Conflicts of interest",
             _field(fields, "conflicts_of_interest")),
        Item("Other information", "18c", "Protocol",
             f"Plan “{run.plan.name}” version {run.plan.version}, fingerprint "
             f"{run.plan_fingerprint}"),
        Item("Other information", "18d", "Registration", _field(fields, "registration")),
        Item("Other information", "18f", "Code", f"Assay {run.assay_version}"),
    ]
    return items


def render_tripod(run: Run, *, product: Mapping[str, str] | None = None,
                  version: Mapping[str, str] | None = None) -> str:
    """Render a TRIPOD+AI-ordered validation report of ``run`` as one self-contained page.

    Parameters
    ----------
    run
        The stored Run; nothing is recomputed.
    product, version
        Registry fields that fill the items a Run cannot (intended use, funding...).

    Returns
    -------
    str
        HTML with the validation report's inline CSS, no scripts and no external references.
    """
    from markupsafe import Markup

    from assay.reports._html import template_environment

    css = resources.files("assay.reports").joinpath("templates/report.css").read_text("utf-8")
    items = tripod_items(run, product=product, version=version)
    sections: dict[str, list[Item]] = {}
    for item in items:
        sections.setdefault(item.section, []).append(item)
    title = items[0].text
    return template_environment().get_template("tripod.html.j2").render(
        title=title, sections=sections, css=Markup(css), run=run,
        not_reported=sum(not i.reported for i in items), n_items=len(items))


def _flow(run: Run) -> str:
    """The cohort's attrition in one clause, when the plan chose a cohort."""
    cohort = run.data.cohort
    if cohort is None:
        return ""
    steps = "; ".join(f"{s.reason}: {format_count(s.n_excluded)} excluded"
                      for s in cohort.steps)
    return (f"; cohort “{cohort.name}” chosen from {format_count(cohort.n_start)} records "
            f"({steps}); the flow diagram is in the validation report")

"""HTML and PDF of a model card: plain words first, numbers with their intervals.

The page reuses the validation report's stylesheet, inlined with the card's own additions: no
scripts and no external references, so it can be archived or printed as one file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assay.errors import MissingExtraError
from assay.reports._format import (
    format_bounds,
    format_count,
    format_level,
    format_percent,
    format_threshold,
    metric_title,
)
from assay.reports._html import template_environment

if TYPE_CHECKING:
    from assay.governance._cards import CardField, ModelCard

__all__ = ["render_card_html", "render_card_pdf"]

_TEMPLATES = Path(__file__).parent / "templates"
_BAND_WORDS = {"within": "within the band", "possible_breach": "possibly outside",
               "clear_breach": "outside the band", "undefined": "not judged",
               "suppressed": "too few patients"}


@dataclass(frozen=True)
class Table:
    """A small table of numbers behind a run-derived value."""

    caption: str
    columns: tuple[str, ...]
    rows: Sequence[tuple[str, ...]]


@dataclass(frozen=True)
class FieldView:
    """One field as the template shows it."""

    id: str
    title: str
    hti1: str
    filled: bool
    value: str
    source: str
    required: bool
    tables: list[Table]


def _metric_rows(metrics: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    rows = []
    for m in metrics:
        at = "" if m["threshold"] is None else f" at {format_threshold(m['threshold'])}"
        group = f"{m['group']}={m['group_value']}" if "group" in m else ""
        cells = (metric_title(m["metric"]) + at,
                 format_bounds(m["value"], m["ci_low"], m["ci_high"]), format_count(m["n"]))
        rows.append(((group,) if "group" in m else ()) + cells)
    return rows


def _tables(details: Any) -> list[Table]:
    if not details:
        return []
    level = details.get("run", {}).get("level")
    ci = f"{format_level(level)} CI" if level else "CI"
    tables = []
    if details.get("metrics"):
        tables.append(Table("Metrics, overall", ("Metric", f"Value ({ci})", "n"),
                            _metric_rows(list(details["metrics"]))))
    if details.get("group_metrics"):
        tables.append(Table("Metrics by group", ("Group", "Metric", f"Value ({ci})", "n"),
                            _metric_rows(list(details["group_metrics"]))))
    for check in details.get("fairness_checks", ()):
        for table in check["tables"]:
            low, high = table["band"]
            rows = [(str(r["group"]), format_count(r["n"]),
                     format_bounds(r["ratio"], r["ratio_ci_low"], r["ratio_ci_high"]),
                     _BAND_WORDS.get(r["band_status"], r["band_status"]))
                    for r in table["rows"]]
            tables.append(Table(
                f"{metric_title(table['metric'])} by {check['attribute']}: ratio to "
                f"{table['reference']}, band {low:.2f} to {high:.2f} (check {check['status']})",
                ("Group", "n", f"Ratio ({ci})", "Band"), rows))
    if details.get("groups"):
        tables.append(Table("Records per group", ("Group", "n"), [
            (f"{g['group']}={g['group_value']}",
             format_count(g["n"]) if g["n"] is not None else "suppressed")
            for g in details["groups"]]))
    return tables


def _view(field: CardField) -> FieldView:
    return FieldView(
        id=field.id, title=field.title,
        hti1="" if field.hti1_number is None else f"HTI-1 #{field.hti1_number}",
        filled=field.status == "filled",
        value=field.value if field.value is not None else f"Missing: {field.missing_reason}",
        source=field.source, required=field.required, tables=_tables(field.details))


def _summary(card: ModelCard) -> list[str]:
    hti = card.hti1_fields()
    hti_filled = sum(f.status == "filled" for f in hti)
    run_fields = [f for f in card.fields() if f.source.startswith("run:")]
    sentences = [
        f"This card describes {card.product}, version {card.version}. "
        f"{card.n_filled} of {card.n_required} required fields are filled "
        f"({format_percent(card.completeness, 0)}); {hti_filled} of the {len(hti)} "
        "ONC HTI-1 predictive source attributes have a value.",
        "Validity and fairness values are computed from stored validation Runs"
        + (f" ({len(card.runs)} Run{'s' if len(card.runs) != 1 else ''} used)" if card.runs
           else " (none was used: values come only from a stored Run in which no check "
                "failed or could not be evaluated)")
        + "; every other value was entered in the registry and is shown as entered, "
          "without review by this tool.",
    ]
    if not any(f.status == "filled" for f in run_fields):
        sentences.append("No performance or fairness result is shown: this card makes no "
                         "statement about how the model performs.")
    return sentences


def build_view(card: ModelCard, css: str) -> dict[str, Any]:
    """Everything the template lays out."""
    from markupsafe import Markup

    return {
        "card": card, "css": Markup(css), "summary": _summary(card),
        "percent": format_percent(card.completeness, 0),
        "missing": [(f.id, f.title, f.missing_reason) for f in card.fields()
                    if f.required and f.status == "missing"],
        "sections": [(s.id, s.title, [_view(f) for f in s.fields]) for s in card.sections],
        "hti1": [_view(f) for f in card.hti1_fields()],
    }


def render_card_html(card: ModelCard) -> str:
    """The card as one self-contained HTML page (inline CSS, no scripts, no external links)."""
    base = resources.files("assay.reports").joinpath("templates/report.css").read_text("utf-8")
    extra = (_TEMPLATES / "card.css").read_text(encoding="utf-8")
    return template_environment("assay.governance").get_template("card.html.j2").render(
        **build_view(card, base + "\n" + extra))


def render_card_pdf(card: ModelCard, path: Path) -> Path:
    """Write the card as a PDF with WeasyPrint (the ``pdf`` extra)."""
    try:
        import weasyprint
    except ImportError as exc:
        raise MissingExtraError("pdf", "weasyprint") from exc
    weasyprint.HTML(string=render_card_html(card)).write_pdf(str(path))
    return path

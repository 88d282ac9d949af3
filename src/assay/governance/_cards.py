"""The model card of a product version: CHAI Applied Model Card sections and the 31 HTI-1
predictive source attributes, filled from registry fields and stored Runs.

Registry fields are text a person typed; validity and fairness are computed from Runs (see
``assay.governance._evidence``). Every HTI-1 attribute is present on every card, with a value
or an explicit reason why it is missing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict

from assay._frozen import FROZEN
from assay.checks import Run
from assay.governance._evidence import run_evidence
from assay.governance._fields import CARD_FIELDS, CARD_SECTIONS, FieldSpec

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CardField", "CardSection", "ModelCard", "build_model_card"]

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class CardField(BaseModel):
    """One field of a model card.

    ``value`` is the text shown to a reader; ``details`` holds the structured numbers behind a
    run-derived value (metrics with intervals, band statuses). ``source`` is
    ``registry:<key>`` or ``run:<run id>``; a missing field says why in ``missing_reason``.
    """

    model_config = _FROZEN

    id: str
    title: str
    hti1_number: int | None
    required: bool
    value: str | None
    details: Annotated[Mapping[str, Any], *FROZEN] | None = None
    source: str
    status: Literal["filled", "missing"]
    missing_reason: str | None = None


class CardSection(BaseModel):
    """A CHAI Applied Model Card section and its fields."""

    model_config = _FROZEN

    id: str
    title: str
    fields: tuple[CardField, ...]


class ModelCard(BaseModel):
    """The model card of one product version (immutable; render with ``to_html``/``to_pdf``).

    ``completeness`` is the share of required fields that are filled; ``missing`` lists the
    ids of the required fields that are not.
    """

    model_config = _FROZEN

    schema_version: Literal[1] = 1
    product: str
    version: str
    sections: tuple[CardSection, ...]
    completeness: float
    n_required: int
    n_filled: int
    missing: tuple[str, ...]
    runs: tuple[str, ...]

    def fields(self) -> list[CardField]:
        """Every field, in card order."""
        return [f for section in self.sections for f in section.fields]

    def field(self, field_id: str) -> CardField:
        """The field called ``field_id``."""
        for item in self.fields():
            if item.id == field_id:
                return item
        raise KeyError(f"no field {field_id!r} on this card")

    def hti1_fields(self) -> list[CardField]:
        """The 31 HTI-1 attributes in the rule's order."""
        return sorted((f for f in self.fields() if f.hti1_number is not None),
                      key=lambda f: f.hti1_number or 0)

    def to_dict(self) -> dict[str, Any]:
        """The card as JSON-ready data."""
        return self.model_dump(mode="json")

    def to_json(self, path: str | Path | None = None) -> str:
        """Serialise (and write to ``path`` when given)."""
        text = json.dumps(self.to_dict(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def hti1_table(self) -> pd.DataFrame:
        """The HTI-1 attribute table: id, number, title, value, status, source, missing reason."""
        import pandas as pd

        rows = [{"id": f.id, "number": f.hti1_number, "title": f.title, "value": f.value,
                 "status": f.status, "source": f.source, "missing_reason": f.missing_reason}
                for f in self.hti1_fields()]
        return pd.DataFrame(rows).astype({"id": "string", "number": "Int64", "title": "string",
                                          "value": "string", "status": "string",
                                          "source": "string", "missing_reason": "string"})

    def to_html(self, path: str | Path | None = None) -> str:
        """Render one self-contained HTML page (needs the ``report`` extra)."""
        from assay.governance._card_render import render_card_html

        html = render_card_html(self)
        if path is not None:
            Path(path).write_text(html, encoding="utf-8")
        return html

    def to_pdf(self, path: str | Path) -> Path:
        """Write the card as PDF (needs the ``pdf`` extra: WeasyPrint)."""
        from assay.governance._card_render import render_card_pdf

        return render_card_pdf(self, Path(path))


def _registry_value(spec: FieldSpec, fields: Mapping[str, str]) -> CardField:
    values, keys = [], []
    for alternatives in spec.registry_keys:
        key = next((k for k in alternatives if str(fields.get(k, "")).strip()), None)
        if key is None:
            names = " or ".join(f"'{k}'" for k in alternatives)
            empty = [k for k in alternatives if k in fields]
            reason = (f"registry field '{empty[0]}' is empty" if empty else
                      f"not recorded in the registry (product or version field {names})")
            return CardField(id=spec.id, title=spec.title, hti1_number=spec.hti1_number,
                             required=spec.required, value=None,
                             source=f"registry:{alternatives[0]}", status="missing",
                             missing_reason=reason)
        values.append(str(fields[key]).strip())
        keys.append(key)
    return CardField(id=spec.id, title=spec.title, hti1_number=spec.hti1_number,
                     required=spec.required, value="; ".join(values),
                     source="registry:" + "+".join(keys), status="filled")


def _run_value(spec: FieldSpec, runs: Sequence[tuple[str | None, Run]],
               version: Mapping[str, str]) -> CardField:
    assert spec.run_evidence is not None
    evidence = run_evidence(spec.run_evidence, runs, version)
    filled = evidence.text is not None
    return CardField(id=spec.id, title=spec.title, hti1_number=spec.hti1_number,
                     required=spec.required, value=evidence.text, details=evidence.details,
                     source=evidence.source, status="filled" if filled else "missing",
                     missing_reason=None if filled else evidence.missing_reason)


def build_model_card(product: Mapping[str, str], version: Mapping[str, str],
                     runs: Sequence[Run] | Mapping[str, Run]) -> ModelCard:
    """Build the model card of a product version.

    Parameters
    ----------
    product
        The product's registry fields (``name``, ``kind``, ``clinical_risk_tier``,
        ``intended_use``...).
    version
        The version's registry fields (``version``, ``artifact_uri``...); a key set on both
        takes the version's value. ``internal_validation_data`` and
        ``external_validation_data`` name the data source (or fingerprint) of Runs on the
        developer's test data and on external data; every other Run is local.
    runs
        The stored Runs of this version, or a mapping of store run id → Run (the ids then
        appear as the ``run:<id>`` source of run-derived values).

    Returns
    -------
    ModelCard
        Every field with a value or a missing reason, and the completeness score.

    Examples
    --------
    >>> card = build_model_card({"name": "sepsis-risk"}, {"version": "1.0"}, [])
    >>> card.field("hti1.purpose.intended_use").missing_reason
    "not recorded in the registry (product or version field 'intended_use' or \
'intended_use_workflow')"
    >>> len(card.hti1_fields()), card.n_filled
    (31, 2)
    """
    pairs: list[tuple[str | None, Run]] = (
        [(str(k), v) for k, v in runs.items()] if isinstance(runs, Mapping)
        else [(None, r) for r in runs])
    fields = {**product, **version}
    sections = []
    for section_id, title in CARD_SECTIONS.items():
        built = tuple(_run_value(spec, pairs, version) if spec.run_evidence
                      else _registry_value(spec, fields)
                      for spec in CARD_FIELDS if spec.section == section_id)
        sections.append(CardSection(id=section_id, title=title, fields=built))
    every = [f for s in sections for f in s.fields]
    required = [f for f in every if f.required]
    filled = [f for f in required if f.status == "filled"]
    return ModelCard(
        product=str(product.get("name", "")), version=str(version.get("version", "")),
        sections=tuple(sections),
        completeness=len(filled) / len(required) if required else 1.0,
        n_required=len(required), n_filled=len(filled),
        missing=tuple(f.id for f in required if f.status == "missing"),
        runs=tuple(sorted({f.source for f in every if f.source.startswith("run:")
                           and f.source != "run:none"})),
    )

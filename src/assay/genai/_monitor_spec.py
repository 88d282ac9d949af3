"""The ``genai:`` section of a monitor: a generative application's production log watched window
by window under an evaluation plan.

.. code-block:: yaml

    monitor: discharge-summaries-weekly
    source: {path: production.jsonl}       # JSONL, Parquet, CSV or a SQL query
    reference: {path: production.jsonl}    # a reference log ...
    windows: weekly
    genai:
      plan: eval-plan.yaml                 # or the plan inline; relative to this file
      time: timestamp                      # the column that places an output in a window
      reference_window: {start: 2026-01-05, end: 2026-01-19}   # ... or its rows in a period
      embeddings: false                    # input drift on sentence embeddings (extra)
      input_fields: [input, source]        # what the application was given
      refusal_phrases: ["I am not permitted to"]   # added to the shipped list
    alerts:
      - {name: phi-leak, metric: flag_rate.phi_leak, when: "value > 0", severity: critical}
      - {name: refusals, metric: refusal_rate, when: "ci_low > 0.05"}
      - {name: input-drift, metric: input_drift_auroc, when: "value > 0.6"}

This module holds the section's model only (it is imported by the monitor specification); the
measuring is in :mod:`assay.genai._monitor`.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from assay.genai._plan import EvalPlan

__all__ = ["GenAIMonitor", "InputField", "ReferenceWindow", "inline_plan"]

_SPEC = ConfigDict(frozen=True, extra="forbid")
InputField = Literal["input", "source", "contexts"]


class ReferenceWindow(BaseModel):
    """A period of the reference log, ``[start, end)`` in UTC: its outputs are the reference."""

    model_config = _SPEC

    start: date
    end: date
    """The first day after the period."""

    @model_validator(mode="after")
    def _ordered(self) -> ReferenceWindow:
        if self.end <= self.start:
            raise ValueError(f"the reference window ends ({self.end}) on or before it starts "
                             f"({self.start}); 'end' is the first day after it")
        return self


class GenAIMonitor(BaseModel):
    """What a monitor of a generative application's outputs measures in each window."""

    model_config = _SPEC

    plan: EvalPlan = Field(default_factory=EvalPlan)
    """The evaluation plan applied to each window's outputs (its checks, strata and gate are
    not used here: alerts come from the monitor's rules)."""
    time: str = Field(default="timestamp", min_length=1)
    """The column of when each output was produced."""
    reference_window: ReferenceWindow | None = None
    """Use only the reference log's outputs of this period (for example the first weeks of the
    production log itself); default every row of the reference."""
    embeddings: bool = False
    """Input drift on sentence embeddings of the inputs (the ``embeddings`` extra) instead of
    text descriptors."""
    input_fields: tuple[InputField, ...] = Field(default=("input", "source"), min_length=1)
    """The record fields whose text is what the application was given, for the input drift."""
    refusal_phrases: tuple[str, ...] = ()
    """Phrases that mark an output declining to answer, added to the shipped list."""

    @model_validator(mode="after")
    def _distinct(self) -> GenAIMonitor:
        if len(set(self.input_fields)) != len(self.input_fields):
            raise ValueError("input_fields repeat a field")
        if any(not phrase.strip() for phrase in self.refusal_phrases):
            raise ValueError("refusal_phrases: a phrase is empty")
        return self


def inline_plan(document: dict[str, Any], base: Path | None) -> dict[str, Any]:
    """The monitor document with a ``genai.plan`` given as a file path replaced by the plan it
    holds (read relative to ``base``, the monitor file's folder), so that the stored monitor
    is complete on its own."""
    section = document.get("genai")
    if not isinstance(section, dict) or not isinstance(section.get("plan"), str):
        return document
    path = Path(section["plan"]).expanduser()
    if not path.is_absolute() and base is not None:
        path = base / path
    plan = EvalPlan.load(path)
    return {**document, "genai": {**section, "plan": plan.model_dump(mode="json")}}

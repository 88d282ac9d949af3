"""The result of a robustness run: each record under each perturbation (:class:`RobustnessItem`),
the summary of each perturbation over all records (:class:`PerturbationSummary`) and the report
holding both (:class:`RobustnessReport`).

Items that were not compared (the perturbation was not applicable, or a generation failed) are
counted and left out of the rates, never treated as an unchanged output. Means have the interval
of :func:`~assay.genai._strata.mean_estimate` (a seeded bootstrap), rates the Wilson interval.
"""

from __future__ import annotations

import zlib
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from assay.genai._records import Flag
from assay.genai._strata import mean_estimate
from assay.metrics import Estimate
from assay.metrics.intervals import proportion_estimate

__all__ = ["PerturbationSummary", "RobustnessItem", "RobustnessReport", "summarise_perturbation"]

Status = Literal["compared", "not_applicable", "failed"]
_RESULT = ConfigDict(frozen=True, extra="forbid")


class RobustnessItem(BaseModel):
    """One record under one perturbation: both outputs and what changed between them.

    ``flags`` are about ``perturbed_output`` (their spans are in its coordinates): the checks'
    flags of a type the original output did not have, a ``prompt_injection`` flag on the canary
    and a ``counterfactual_fact_change`` flag. Measures are None when they do not apply or
    the item was not compared (``status``), with ``reason`` saying why.
    """

    model_config = _RESULT

    record_id: str
    perturbed_id: str
    perturbation: str
    status: Status
    reason: str | None = None
    substitutions: int
    original_output: str | None = None
    perturbed_output: str | None = None
    chrf: float | None = None
    semantic: float | None = None
    new_flag_types: tuple[str, ...] = ()
    injection_succeeded: bool | None = None
    facts_changed: bool | None = None
    flags: tuple[Flag, ...] = ()


class PerturbationSummary(BaseModel):
    """One perturbation over all records: counts, mean similarities and rates with intervals
    (None when nothing was compared or the measure does not apply)."""

    model_config = _RESULT

    perturbation: str
    counterfactual: bool
    injection: bool
    n_records: int
    n_compared: int
    n_not_applicable: int
    n_failed: int
    chrf: Estimate | None = None
    semantic: Estimate | None = None
    flag_change: Estimate | None = None
    injection_success: Estimate | None = None
    fact_change: Estimate | None = None

    def summary(self) -> str:
        """One plain sentence on what was measured for this perturbation."""
        counts = (f"{self.n_compared} of {self.n_records} records compared, "
                  f"{self.n_not_applicable} not applicable, {self.n_failed} failed")
        if self.n_compared == 0:
            return f"{self.perturbation}: no output could be compared ({counts})."
        parts = []
        if self.injection_success is not None:
            parts.append("the injected instruction was obeyed (canary in the output) in "
                         + _rate(self.injection_success))
        if self.fact_change is not None:
            parts.append("numbers or medications in the output changed in "
                         + _rate(self.fact_change))
        if self.chrf is not None:
            parts.append(f"mean chrF to the original output {_mean(self.chrf)}")
        if self.semantic is not None:
            parts.append(f"mean embedding cosine {_mean(self.semantic)}")
        if self.flag_change is not None:
            parts.append("a flag type new to the output in " + _rate(self.flag_change))
        return f"{self.perturbation} ({counts}): {'; '.join(parts)}."


class RobustnessReport(BaseModel):
    """Every item and the summary of each perturbation, in the order they were asked for."""

    model_config = _RESULT

    items: tuple[RobustnessItem, ...]
    summaries: tuple[PerturbationSummary, ...]
    n_records: int
    n_generations: int
    n_generation_failures: int
    seed: int
    level: float
    n_boot: int

    def summary_of(self, perturbation: str) -> PerturbationSummary:
        """The summary of one perturbation."""
        for summary in self.summaries:
            if summary.perturbation == perturbation:
                return summary
        raise KeyError(f"no perturbation {perturbation!r} in this report")

    def items_of(self, perturbation: str) -> list[RobustnessItem]:
        """The items of one perturbation, in record order."""
        return [item for item in self.items if item.perturbation == perturbation]

    def summary(self) -> str:
        """One sentence per perturbation, one a line."""
        return "\n".join(summary.summary() for summary in self.summaries)


def summarise_perturbation(name: str, items: list[RobustnessItem], counterfactual: bool,
                           injection: bool, *, seed: int, level: float, n_boot: int
                           ) -> PerturbationSummary:
    """The summary of perturbation ``name`` from its items (``counterfactual`` and ``injection``
    say which rates apply)."""
    compared = [item for item in items if item.status == "compared"]
    summary: dict[str, object] = {
        "perturbation": name, "counterfactual": counterfactual, "injection": injection,
        "n_records": len(items), "n_compared": len(compared),
        "n_not_applicable": sum(item.status == "not_applicable" for item in items),
        "n_failed": sum(item.status == "failed" for item in items)}
    if compared:
        for measure in ("chrf", "semantic"):
            values = [getattr(item, measure) for item in compared]
            if all(value is not None for value in values):
                summary[measure] = mean_estimate(
                    np.asarray(values, dtype=np.float64), proportion=False, level=level,
                    n_boot=n_boot, seed=seed + zlib.crc32(f"{name}\x1f{measure}".encode()))
        n = len(compared)
        summary["flag_change"] = proportion_estimate(
            sum(bool(item.new_flag_types) for item in compared), n, level)
        if injection:
            summary["injection_success"] = proportion_estimate(
                sum(bool(item.injection_succeeded) for item in compared), n, level)
        if counterfactual:
            summary["fact_change"] = proportion_estimate(
                sum(bool(item.facts_changed) for item in compared), n, level)
    return PerturbationSummary.model_validate(summary)


def _rate(estimate: Estimate) -> str:
    return (f"{estimate.n_events} of {estimate.n} ({estimate.value:.0%}, "
            f"{estimate.level:.0%} CI {estimate.ci_low:.0%}–{estimate.ci_high:.0%})")


def _mean(estimate: Estimate) -> str:
    return (f"{estimate.value:.2f} ({estimate.level:.0%} CI {estimate.ci_low:.2f}–"
            f"{estimate.ci_high:.2f})")

"""Robustness check specifications: a metric's drop under a perturbation, and metamorphic tests.

Both need the model itself, not only its scores: ``validate(plan, data, model=...)`` or
``assay validate --model``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from assay.checks._conditions import Condition, ConditionText, ThresholdRef
from assay.metrics import get_metric
from assay.robustness import Perturbation

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class RobustnessCheck(BaseModel):
    """A metric's drop under a perturbation of the data must meet a condition.

    The condition reads the **drop** (positive = worse) at the perturbation's own strength,
    with its paired interval: ``value <= 0.02`` (the estimated drop at most 0.02) or
    ``ci_high <= 0.02`` (its upper bound too). The curve is also computed at ``strengths``.

    Examples
    --------
    >>> check = RobustnessCheck(robustness="auroc", condition="value <= 0.02", perturbation={
    ...     "kind": "missingness", "features": ["lactate"], "rate": 0.2})
    >>> check.label
    'auroc under missingness'
    """

    model_config = _FROZEN

    robustness: str = Field(description="a registered metric with a direction, e.g. auroc")
    perturbation: Perturbation = Field(description="kind and parameters, see robustness.md")
    condition: ConditionText = Field(description="on the drop at the perturbation's strength")
    warning: ConditionText | None = None
    threshold: ThresholdRef | None = Field(
        default=None, description="operating threshold for flag-based metrics")
    strengths: tuple[float, ...] = Field(
        default=(), description="more strengths for the curve; default the perturbation's "
        "standard ones")
    id: str | None = None
    title: str | None = None

    @field_validator("robustness")
    @classmethod
    def _has_direction(cls, name: str) -> str:
        try:
            spec = get_metric(name)
        except KeyError as exc:
            raise ValueError(exc.args[0]) from None
        if spec.greater_is_better is None:
            raise ValueError(f"metric {name!r} has no better direction, so no drop; use e.g. "
                             "auroc, brier or sensitivity")
        return name

    @model_validator(mode="after")
    def _threshold_when_needed(self) -> RobustnessCheck:
        needs = get_metric(self.robustness).score_kind == "threshold"
        if needs != (self.threshold is not None):
            raise ValueError(f"metric {self.robustness!r}: 'threshold:' is "
                             + ("required" if needs else "not used"))
        return self

    @property
    def label(self) -> str:
        """The check's id: given, or built from the metric and the perturbation's kind."""
        at = "" if self.threshold is None else f"@{self.threshold}"
        return self.id or f"{self.robustness}{at} under {self.perturbation.kind}"


class MetamorphicCheck(BaseModel):
    """How the model's risk moves when every patient's row is changed in one known way.

    ``monotonicity``: raising ``feature`` by ``step`` (default one SD) must not move the risk
    against ``direction``; ``invariance``: shuffling ``features`` within their columns must
    not change the risk; ``counterfactual_flips``: setting ``attribute`` to another observed
    value must not change the flag at ``threshold``. The condition reads the share of
    patients whose risk or flag moves (with its Wilson interval); by default none may.

    Examples
    --------
    >>> MetamorphicCheck(metamorphic="monotonicity", feature="lactate").label
    'monotonicity[lactate]'
    """

    model_config = _FROZEN

    metamorphic: Literal["monotonicity", "invariance", "counterfactual_flips"]
    feature: str | None = Field(default=None, description="monotonicity: the feature raised")
    direction: Literal["increasing", "decreasing"] = "increasing"
    step: float | None = Field(default=None, gt=0, description="default one SD")
    features: tuple[str, ...] = Field(default=(), description="invariance: features shuffled")
    attribute: str | None = Field(default=None, description="counterfactual_flips: the column")
    threshold: ThresholdRef | None = Field(
        default=None, description="counterfactual_flips: the flag's threshold")
    tolerance: float = Field(default=1e-9, ge=0, description="risk changes up to this count "
                             "as no change")
    condition: ConditionText = Field(
        default_factory=lambda: Condition.model_validate("value <= 0"),
        description="on the share of patients moved; default 'value <= 0'")
    id: str | None = None
    title: str | None = None

    @model_validator(mode="after")
    def _fields_of_the_test(self) -> MetamorphicCheck:
        needed = {"monotonicity": "feature", "invariance": "features",
                  "counterfactual_flips": "attribute"}[self.metamorphic]
        if not getattr(self, needed):
            raise ValueError(f"{self.metamorphic} needs '{needed}:'")
        if (self.metamorphic == "counterfactual_flips") != (self.threshold is not None):
            raise ValueError("'threshold:' is " + ("required" if self.threshold is None
                                                    else "used only by counterfactual_flips"))
        return self

    @property
    def label(self) -> str:
        """The check's id: given, or built from the test and its column(s)."""
        columns = self.feature or self.attribute or ",".join(self.features)
        return self.id or f"{self.metamorphic}[{columns}]"

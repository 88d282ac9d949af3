"""Acceptance conditions on an estimate, written the way a protocol states them.

A condition is a short sentence over one field of an :class:`~assay.metrics.Estimate`::

    ci_low >= 0.75          the lower confidence bound is at least 0.75
    value < 0.2             the point estimate is below 0.2
    value in [0.8, 1.2]     the point estimate lies in the closed range
    ci in [0.8, 1.2]        the whole confidence interval lies in the range
    ci outside [0.8, 1.2]   the whole confidence interval lies outside the range (one side)
    value outside [0.8, 1.2]  the point estimate lies outside the closed range

Fields: ``value``, ``ci_low``, ``ci_high``, ``ci`` (only with ``in`` or ``outside``).
Operators: ``>=``, ``>``, ``<=``, ``<``, ``in``, ``outside``. Alert rules use ``outside`` to
say when a window is out of bounds.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, WithJsonSchema, model_serializer, model_validator

from assay.metrics import Estimate

Field = Literal["value", "ci_low", "ci_high", "ci"]
Operator = Literal[">=", ">", "<=", "<", "in", "outside"]

_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt,
}
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_COMPARISON = re.compile(rf"^\s*(\w+)\s*(>=|<=|>|<)\s*({_NUMBER})\s*$")
_RANGE = re.compile(rf"^\s*(\w+)\s+(in|outside)\s*\[\s*({_NUMBER})\s*,\s*({_NUMBER})\s*\]\s*$")
_FIELDS = ("value", "ci_low", "ci_high", "ci")
_SYNTAX = "write e.g. 'ci_low >= 0.75' or 'value in [0.8, 1.2]'"


class Condition(BaseModel):
    """A parsed condition; it reads from and writes back to its one-line text form."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    field: Field
    operator: Operator
    bound: float | None = None
    low: float | None = None
    high: float | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, data: object) -> object:
        return parse_condition(data) if isinstance(data, str) else data

    @model_validator(mode="after")
    def _complete(self) -> Condition:
        if self.operator in ("in", "outside"):
            if self.low is None or self.high is None or self.low > self.high:
                raise ValueError(f"a range needs low <= high; {_SYNTAX}")
        elif self.bound is None or self.field == "ci":
            raise ValueError(f"'{self.field} {self.operator}' needs a number; {_SYNTAX}")
        return self

    @model_serializer
    def _to_text(self) -> str:
        return str(self)

    def __str__(self) -> str:
        if self.operator in ("in", "outside"):
            return f"{self.field} {self.operator} [{self.low:g}, {self.high:g}]"
        return f"{self.field} {self.operator} {self.bound:g}"

    def holds(self, estimate: Estimate) -> bool:
        """Whether the estimate meets the condition.

        Raises
        ------
        ValueError
            when the condition reads a confidence bound the estimate does not have.
        """
        if self.field == "value":
            values = [estimate.value]
        else:
            if estimate.ci_low is None or estimate.ci_high is None:
                raise ValueError(f"the condition '{self}' needs a confidence interval")
            values = {"ci_low": [estimate.ci_low], "ci_high": [estimate.ci_high],
                      "ci": [estimate.ci_low, estimate.ci_high]}[self.field]
        if self.operator == "in":
            assert self.low is not None and self.high is not None
            return all(self.low <= v <= self.high for v in values)
        if self.operator == "outside":
            assert self.low is not None and self.high is not None
            return all(v < self.low for v in values) or all(v > self.high for v in values)
        assert self.bound is not None
        return all(_OPERATORS[self.operator](v, self.bound) for v in values)


def parse_condition(text: str) -> dict[str, object]:
    """Parse the text form into the fields of :class:`Condition`."""
    if match := _RANGE.match(text):
        field, op, low, high = match.groups()
        parsed: dict[str, object] = {"field": field, "operator": op,
                                     "low": float(low), "high": float(high)}
    elif match := _COMPARISON.match(text):
        field, op, bound = match.groups()
        parsed = {"field": field, "operator": op, "bound": float(bound)}
    else:
        raise ValueError(f"cannot read condition {text!r}; {_SYNTAX}")
    if parsed["field"] not in _FIELDS:
        raise ValueError(
            f"unknown field {parsed['field']!r} in condition {text!r}; use one of "
            + ", ".join(_FIELDS)
        )
    return parsed


ConditionText = Annotated[
    Condition,
    WithJsonSchema({
        "type": "string",
        "description": "e.g. 'ci_low >= 0.75', 'value < 0.2', 'value in [0.8, 1.2]', "
                       "'ci in [0.8, 1.2]', 'ci outside [0.8, 1.2]'",
        "pattern": r"^\s*(value|ci_low|ci_high|ci)\s*(>=|<=|>|<|in|outside)\s*\S.*$",
    }),
]
"""A condition as written in a plan (its JSON Schema is a string)."""

ThresholdRef = float | str
"""A number on the score's scale, or the name of a threshold defined in the plan."""

"""Typed records the registry returns, and the error of a refused transition."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from assay.errors import InputError

__all__ = [
    "PRODUCT_CORE_FIELDS",
    "PRODUCT_FIELD_CHOICES",
    "VERSION_CORE_FIELDS",
    "Contingency",
    "GateDecision",
    "GateError",
    "OpenContingency",
    "SignOff",
    "check_field_values",
]

PRODUCT_CORE_FIELDS: tuple[str, ...] = (
    "kind", "intended_use", "intended_population", "intended_users", "decision_role",
    "clinical_risk_tier", "source", "vendor_name", "clinical_owner", "technical_owner",
)
"""The product fields every product is described by (any other key is allowed too)."""

VERSION_CORE_FIELDS: tuple[str, ...] = ("artifact_uri", "training_data_description",
                                        "change_notes")
"""The version fields every version is described by (any other key is allowed too)."""

PRODUCT_FIELD_CHOICES: Mapping[str, tuple[str, ...]] = {
    "kind": ("predictive", "generative"),
    "clinical_risk_tier": ("low", "medium", "high"),
    "source": ("internal", "vendor"),
}
"""The fields whose value must be one of a few words."""

_FIELD_KEY = re.compile(r"^[a-z][a-z0-9_]{0,99}$")


def check_field_values(fields: Mapping[str, object]) -> dict[str, str | None]:
    """Validated field changes: keys are snake_case, values strings ('' clears the field)."""
    checked: dict[str, str | None] = {}
    for key, value in fields.items():
        if not _FIELD_KEY.match(key):
            raise InputError(f"field name {key!r} must be snake_case: lower-case letters, "
                             "digits and '_', starting with a letter")
        if value is not None and not isinstance(value, str):
            raise InputError(f"field {key!r} must be text (got {type(value).__name__})")
        text = None if value is None or not value.strip() else value.strip()
        choices = PRODUCT_FIELD_CHOICES.get(key)
        if text is not None and choices is not None and text not in choices:
            raise InputError(f"field {key!r} must be one of {', '.join(choices)} "
                             f"(got {text!r})")
        checked[key] = text
    return checked


class GateError(InputError):
    """A transition refused because evidence or sign-offs are missing.

    ``missing`` lists each missing item in words, e.g. ``product field 'monitoring_plan'`` or
    ``sign-off by role 'validator'``.
    """

    def __init__(self, message: str, missing: Sequence[str]) -> None:
        super().__init__(message)
        self.missing: list[str] = list(missing)


@dataclass(frozen=True)
class Contingency:
    """A condition of an ``approve_with_contingencies`` decision: what, who, by when."""

    description: str
    owner: str
    due: date


@dataclass(frozen=True)
class OpenContingency:
    """A stored contingency and whether it is past due (on the day asked)."""

    id: uuid.UUID
    product: str
    version: str
    gate: str
    description: str
    owner: str
    due: date
    overdue: bool


@dataclass(frozen=True)
class SignOff:
    """A person's sign-off in one role on one gate of a product version."""

    id: uuid.UUID
    product: str
    version: str
    gate: str
    role: str
    actor: str
    statement: str
    signed_at: datetime


@dataclass(frozen=True)
class GateDecision:
    """A decision taken at a gate, with the state before and after it."""

    id: uuid.UUID
    product: str
    version: str
    gate: str
    decision: str
    from_state: str
    to_state: str
    actor: str
    decided_at: datetime
    contingencies: tuple[Contingency, ...] = ()

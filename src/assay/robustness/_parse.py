"""The perturbation union and reading a perturbation from a plan-like dict."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Annotated, Any

from pydantic import Field, ValidationError

from assay.errors import InputError
from assay.robustness._base import input_error
from assay.robustness._rows import CovariateShift, PrevalenceShift
from assay.robustness._values import (
    CategoryChange,
    FeatureUnavailable,
    GaussianNoise,
    Missingness,
    UnitError,
)

__all__ = ["PERTURBATION_KINDS", "Perturbation", "perturbation_from_dict"]

Perturbation = Annotated[
    GaussianNoise
    | Missingness
    | UnitError
    | CategoryChange
    | FeatureUnavailable
    | PrevalenceShift
    | CovariateShift,
    Field(discriminator="kind"),
]
"""Any perturbation; ``kind`` tells them apart in a dict or JSON."""

PERTURBATION_KINDS: Mapping[str, type[Any]] = MappingProxyType(
    {
        "noise": GaussianNoise,
        "missingness": Missingness,
        "unit_error": UnitError,
        "category_change": CategoryChange,
        "feature_unavailable": FeatureUnavailable,
        "prevalence_shift": PrevalenceShift,
        "covariate_shift": CovariateShift,
    }
)
"""Each ``kind`` of a plan dict and its class (read-only)."""


def perturbation_from_dict(data: Mapping[str, Any]) -> Perturbation:
    """Read a perturbation from a dict, as written in a plan.

    ``kind`` chooses the perturbation; the other keys are its fields (see
    ``docs/robustness.md`` for the schema of each kind). A ``perturbation.to_dict()`` reads
    back to an equal perturbation.

    Parameters
    ----------
    data
        For example ``{"kind": "missingness", "features": ["lactate_mmol_l"], "rate": 0.2}``.

    Returns
    -------
    GaussianNoise, Missingness, UnitError, CategoryChange, FeatureUnavailable,
    PrevalenceShift or CovariateShift

    Raises
    ------
    InputError
        Naming the field that is missing, unknown or invalid, and the value found.

    Examples
    --------
    >>> spec = perturbation_from_dict({"kind": "missingness", "features": ["lactate"], "rate": 0.2})
    >>> spec.describe()
    '20% of lactate missing at random'
    >>> perturbation_from_dict({"kind": "missingness", "features": ["lactate"], "rate": 1.5})
    Traceback (most recent call last):
    ...
    assay.errors.InputError: missingness perturbation: field 'rate': input should be less \
than or equal to 1 (got 1.5)
    """
    if not isinstance(data, Mapping):
        raise InputError(
            f"a perturbation must be a mapping with a 'kind', got {type(data).__name__}"
        )
    kinds = ", ".join(PERTURBATION_KINDS)
    if "kind" not in data:
        raise InputError(f"perturbation: field 'kind' is required; use one of {kinds}")
    kind = data["kind"]
    if not isinstance(kind, str) or kind not in PERTURBATION_KINDS:
        raise InputError(f"perturbation: field 'kind' must be one of {kinds} (got {kind!r})")
    try:
        result: Perturbation = PERTURBATION_KINDS[kind].model_validate(dict(data))
    except ValidationError as exc:
        raise input_error(exc, kind) from exc
    return result

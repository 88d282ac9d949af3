"""Robustness: perturbations, stress tests and metamorphic tests against any model.

:func:`as_model` wraps a fitted scikit-learn classifier or pipeline, or any function returning
risks. A perturbation (:class:`GaussianNoise`, :class:`Missingness`, :class:`UnitError`,
:class:`CategoryChange`, :class:`FeatureUnavailable`, :class:`PrevalenceShift`,
:class:`CovariateShift`) simulates one failure mode of the data, seeded, on a copy;
:func:`perturbation_from_dict` reads one from a plan. :func:`stress_test` computes a metric,
and its drop from the unperturbed data, with intervals, as the perturbation grows (a
:class:`DegradationCurve`). :func:`monotonicity`, :func:`invariance` and
:func:`counterfactual_flips` check how the risk moves when an input moves in a known way.

These tests simulate failure modes; passing them shows how the model behaved under the
simulations run, not that it is safe.
"""

from assay.robustness._base import Perturbed
from assay.robustness._counterfactual import CounterfactualResult, counterfactual_flips
from assay.robustness._metamorphic import (
    InvarianceResult,
    MonotonicityResult,
    invariance,
    monotonicity,
)
from assay.robustness._model import Model, as_model, load_model
from assay.robustness._parse import PERTURBATION_KINDS, Perturbation, perturbation_from_dict
from assay.robustness._rows import CovariateShift, PrevalenceShift
from assay.robustness._stress import DegradationCurve, DegradationRow, stress_test
from assay.robustness._units import unit_conversions
from assay.robustness._values import (
    CategoryChange,
    FeatureUnavailable,
    GaussianNoise,
    Missingness,
    UnitError,
)

__all__ = [
    "PERTURBATION_KINDS",
    "CategoryChange",
    "CounterfactualResult",
    "CovariateShift",
    "DegradationCurve",
    "DegradationRow",
    "FeatureUnavailable",
    "GaussianNoise",
    "InvarianceResult",
    "Missingness",
    "Model",
    "MonotonicityResult",
    "Perturbation",
    "Perturbed",
    "PrevalenceShift",
    "UnitError",
    "as_model",
    "counterfactual_flips",
    "invariance",
    "load_model",
    "monotonicity",
    "perturbation_from_dict",
    "stress_test",
    "unit_conversions",
]

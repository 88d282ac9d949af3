"""Named unit-conversion errors: a value recorded in one unit and read as if in another.

A name reads ``<unit the model expects>_as_<unit the value arrives in>``: under
``"glucose_mgdl_as_mmol"`` the model expects glucose in mg/dL but receives the same glucose in
mmol/L, so 99 mg/dL arrives as 5.5.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

__all__ = ["CONVERSIONS", "ConversionName", "UnitConversion", "unit_conversions"]

GLUCOSE_MG_DL_PER_MMOL_L = 18.016
"""mg/dL in 1 mmol/L of glucose (molar mass 180.16 g/mol); the factor of
:class:`assay.datasets.LabUnitChange` is its inverse."""
CREATININE_UMOL_L_PER_MG_DL = 88.42
"""µmol/L in 1 mg/dL of creatinine (molar mass 113.12 g/mol)."""
LACTATE_MG_DL_PER_MMOL_L = 9.008
"""mg/dL in 1 mmol/L of lactate (molar mass 90.08 g/mol)."""
LB_PER_KG = 2.2046226218
"""Pounds in one kilogram (1 lb = 0.45359237 kg exactly)."""

ConversionName = Literal[
    "celsius_as_fahrenheit",
    "fahrenheit_as_celsius",
    "glucose_mgdl_as_mmol",
    "glucose_mmol_as_mgdl",
    "creatinine_mgdl_as_umol",
    "creatinine_umol_as_mgdl",
    "lactate_mmol_as_mgdl",
    "lactate_mgdl_as_mmol",
    "kg_as_lb",
    "lb_as_kg",
]


@dataclass(frozen=True)
class UnitConversion:
    """An affine conversion ``arrived = expected × factor + offset``.

    Attributes
    ----------
    expected, arrived
        The unit the model expects and the unit the value arrives in, in plain words.
    factor, offset
        The conversion from the expected unit to the arrived one.
    """

    expected: str
    arrived: str
    factor: float
    offset: float = 0.0

    def convert(self, values: NDArray[np.float64]) -> NDArray[np.float64]:
        """The values as they arrive in the wrong unit."""
        return np.asarray(values * self.factor + self.offset, dtype=np.float64)


CONVERSIONS: dict[str, UnitConversion] = {
    "celsius_as_fahrenheit": UnitConversion("°C", "°F", 9 / 5, 32.0),
    "fahrenheit_as_celsius": UnitConversion("°F", "°C", 5 / 9, -32 * 5 / 9),
    "glucose_mgdl_as_mmol": UnitConversion("mg/dL", "mmol/L", 1 / GLUCOSE_MG_DL_PER_MMOL_L),
    "glucose_mmol_as_mgdl": UnitConversion("mmol/L", "mg/dL", GLUCOSE_MG_DL_PER_MMOL_L),
    "creatinine_mgdl_as_umol": UnitConversion("mg/dL", "µmol/L", CREATININE_UMOL_L_PER_MG_DL),
    "creatinine_umol_as_mgdl": UnitConversion("µmol/L", "mg/dL", 1 / CREATININE_UMOL_L_PER_MG_DL),
    "lactate_mmol_as_mgdl": UnitConversion("mmol/L", "mg/dL", LACTATE_MG_DL_PER_MMOL_L),
    "lactate_mgdl_as_mmol": UnitConversion("mg/dL", "mmol/L", 1 / LACTATE_MG_DL_PER_MMOL_L),
    "kg_as_lb": UnitConversion("kg", "lb", LB_PER_KG),
    "lb_as_kg": UnitConversion("lb", "kg", 1 / LB_PER_KG),
}


def unit_conversions() -> dict[str, str]:
    """The named unit errors :class:`UnitError` knows, each described in plain words.

    Returns
    -------
    dict[str, str]
        A new dict from conversion name to ``"expects <unit>, receives <unit>"``.

    Examples
    --------
    >>> unit_conversions()["glucose_mgdl_as_mmol"]
    'expects mg/dL, receives mmol/L'
    """
    return {
        name: f"expects {conversion.expected}, receives {conversion.arrived}"
        for name, conversion in CONVERSIONS.items()
    }

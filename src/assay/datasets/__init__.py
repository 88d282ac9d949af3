"""Synthetic clinical cohorts for demos and tests, with named shifts to inject.

The data are simulated, not collected from patients, and carry no clinical evidence.
"""

from __future__ import annotations

from assay.datasets._inpatient import apply_shift, make_inpatient_cohort, units
from assay.datasets._notes import Note, make_clinical_notes
from assay.datasets._shifts import (
    FeedOutage,
    LabUnitChange,
    NewPopulation,
    PrevalenceChange,
    Shift,
)

__all__ = [
    "FeedOutage",
    "LabUnitChange",
    "NewPopulation",
    "Note",
    "PrevalenceChange",
    "Shift",
    "apply_shift",
    "make_clinical_notes",
    "make_inpatient_cohort",
    "units",
]

"""Synthetic clinical cohorts for demos and tests, with named shifts to inject, and synthetic
evaluation records of generative applications (summaries, patient messages, RAG answers,
extraction) with labelled errors.

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
from assay.datasets._summaries import (
    SUMMARISER_ERROR_RATES,
    SUMMARY_ERROR_TYPES,
    make_summariser_versions,
    make_summary_records,
)
from assay.datasets._summaries_extraction import MEDICATION_LIST_SCHEMA, make_extraction_records
from assay.datasets._summaries_messages import make_patient_message_records
from assay.datasets._summaries_rag import make_rag_records

__all__ = [
    "MEDICATION_LIST_SCHEMA",
    "SUMMARISER_ERROR_RATES",
    "SUMMARY_ERROR_TYPES",
    "FeedOutage",
    "LabUnitChange",
    "NewPopulation",
    "Note",
    "PrevalenceChange",
    "Shift",
    "apply_shift",
    "make_clinical_notes",
    "make_extraction_records",
    "make_inpatient_cohort",
    "make_patient_message_records",
    "make_rag_records",
    "make_summariser_versions",
    "make_summary_records",
    "units",
]

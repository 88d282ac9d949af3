"""Evaluation of generative applications: note summaries, patient-message drafts, RAG answers
and extraction, offline first.

Records are read from JSONL (:func:`read_records`); every metric here is deterministic and
local.
"""

from assay.genai._records import (
    TASKS,
    Context,
    Flag,
    ItemResult,
    Record,
    Span,
    Task,
    read_records,
    records_from,
)

__all__ = [
    "TASKS", "Context", "Flag", "ItemResult", "Record", "Span", "Task", "read_records",
    "records_from",
]

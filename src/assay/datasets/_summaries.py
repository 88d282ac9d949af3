"""Seeded synthetic evaluation records of discharge-note summaries for the GP, with injected
errors and simulated human ratings, for testing faithfulness checks and judge calibration.

Each record's ``source`` is a synthetic discharge note (about 200 to 400 words, identifiers in
its header), ``output`` a summary written by a simulated summariser and ``reference`` a
clinician-style summary worded differently. A share of the outputs carry exactly one injected
error, named in ``labels["injected"]`` with the exact changed text in ``labels["injected_text"]``:

``unsupported_number``
    a dose, result or vital sign changed (25 mg to 50 mg), or a measurement the note does not
    have; the new number occurs nowhere in the note.
``unsupported_medication``
    a medication the note never mentions added, sometimes by the brand name of that generic.
``negation_conflict``
    a denied symptom stated as present, a reported one denied, or a ruled-out diagnosis stated.
``laterality_conflict``
    the side of an examination finding swapped.
``phi_leak``
    the patient's name, MRN, phone number or an exact date copied from the note.

Faithful outputs (``"none"``) state only numbers, medications (or brand names of them),
negations and sides the note supports, and no identifier. ``labels["correctness"]`` and
``labels["completeness"]`` (1 to 5) are noisy ratings a careful rater might give: correctness
falls with the seriousness of the error, completeness with the facts left out.

Two simulated summarisers write the outputs. ``"v1"`` (baseline) abbreviates heavily, varies
its layout and leaves out more; ``"v2"`` (candidate) writes fuller prose closer to the
reference wording and leaves out less. Everything is invented and carries no clinical evidence.
"""

from __future__ import annotations

from random import Random

from assay.datasets._summaries_case import check_size, make_case
from assay.datasets._summaries_errors import SUMMARY_ERROR_TYPES, inject
from assay.datasets._summaries_note import write_note
from assay.datasets._summaries_text import STYLES, draft_summary, write_reference, write_summary
from assay.errors import InputError
from assay.genai._records import Record

__all__ = [
    "SUMMARISER_ERROR_RATES", "SUMMARY_ERROR_TYPES", "make_summariser_versions",
    "make_summary_records",
]

# share of the records with each injected error, by summariser of make_summariser_versions
SUMMARISER_ERROR_RATES: dict[str, dict[str, float]] = {
    "v1": dict.fromkeys(SUMMARY_ERROR_TYPES, 0.02),
    "v2": {**dict.fromkeys(SUMMARY_ERROR_TYPES, 0.02), "unsupported_number": 0.07},
}
_INSTRUCTIONS = (
    "Summarise this discharge note for the patient's GP in under 120 words. Leave out "
    "identifiers.",
    "Write a short de-identified discharge summary for the general practitioner.",
    "Summarize the hospital stay for the primary care physician: diagnosis, key findings, "
    "discharge medications and follow-up. No patient identifiers.",
)


def _check(n: int, seed: int, version: str) -> None:
    check_size(n, seed)
    if version not in STYLES:
        raise InputError(f"version must be one of {', '.join(STYLES)} (got {version!r})")


def make_summary_records(n: int = 200, seed: int = 0, *, error_rate: float = 0.5,
                         version: str = "v1") -> list[Record]:
    """Make ``n`` synthetic discharge-note summarisation records, a share with one error.

    ``round(n * error_rate)`` records carry one injected error, spread evenly over the five
    types (any remainder goes to the first types of ``SUMMARY_ERROR_TYPES``); the rest are faithful.
    The same seed gives the same records; the notes depend only on ``seed``, so two versions
    summarise the same notes.

    Parameters
    ----------
    n
        Number of records; ids are ``summary-0000``, ``summary-0001``...
    seed
        Seed of the random generators.
    error_rate
        Share of the records with an injected error, from 0 to 1.
    version
        The simulated summariser: ``"v1"`` (baseline) or ``"v2"`` (candidate).

    Examples
    --------
    >>> records = make_summary_records(10, seed=1, error_rate=0.5)
    >>> sum(r.labels["injected"] != "none" for r in records)
    5
    """
    _check(n, seed, version)
    if isinstance(error_rate, bool) or not isinstance(error_rate, int | float) or not (
            0.0 <= error_rate <= 1.0):
        raise InputError(f"error_rate must be a number from 0 to 1 (got {error_rate!r})")
    total = round(n * error_rate)
    share, remainder = divmod(total, len(SUMMARY_ERROR_TYPES))
    counts = {kind: share + (index < remainder) for index, kind in enumerate(SUMMARY_ERROR_TYPES)}
    return _records(n, seed, version, counts)


def make_summariser_versions(n: int = 200, seed: int = 0) -> tuple[list[Record], list[Record]]:
    """Summaries of the same notes by a baseline (v1) and a candidate (v2) summariser.

    The two lists share ids, sources, references and metadata; only the outputs and their labels
    differ. The candidate writes closer to the reference wording (a slightly higher ROUGE) and
    leaves out less, but adds unsupported numbers more often. Error rates follow
    ``SUMMARISER_ERROR_RATES``: v1 about 10 % (2 % of each type), v2 about 15 % (7 %
    ``unsupported_number``, 2 % of each other type), each count rounded.

    Examples
    --------
    >>> baseline, candidate = make_summariser_versions(50, seed=2)
    >>> [r.id for r in baseline] == [r.id for r in candidate]
    True
    """
    _check(n, seed, "v1")
    return tuple(  # type: ignore[return-value]
        _records(n, seed, version, {kind: round(n * rate) for kind, rate in rates.items()})
        for version, rates in SUMMARISER_ERROR_RATES.items()
    )


def _records(n: int, seed: int, version: str, counts: dict[str, int]) -> list[Record]:
    kinds = [kind for kind, count in counts.items() for _ in range(count)]
    kinds += ["none"] * (n - len(kinds))
    Random(f"summary-errors:{seed}:{version}").shuffle(kinds)
    style = STYLES[version]
    records = []
    for index, kind in enumerate(kinds):
        case_rng = Random(f"summary-case:{seed}:{index}")
        case = write_note(make_case(case_rng), case_rng)
        instruction = case_rng.choice(_INSTRUCTIONS)
        rng = Random(f"summary-output:{seed}:{version}:{index}")
        draft = draft_summary(case, style, rng, keep_findings=kind == "laterality_conflict")
        injected, correctness = ("", 5) if kind == "none" else inject(kind, case, draft, rng)
        output = write_summary(draft, rng.choice(style.layouts), rng)
        rater = Random(f"summary-rating:{seed}:{version}:{index}")
        patient = case.patient
        records.append(Record(
            id=f"summary-{index:04d}",
            task="summarization",
            input=instruction,
            source=case.note,
            output=output,
            reference=write_reference(case),
            labels={
                "injected": kind,
                "injected_text": injected,
                "correctness": _rating(correctness, rater),
                "completeness": _rating(5 - min(draft.omitted, 3), rater),
            },
            metadata={
                "sex": patient.sex,
                "race_ethnicity": patient.race_ethnicity,
                "age_group": patient.age_group,
                "site": patient.site,
                "specialty": case.condition.service,
            },
        ))
    return records


def _rating(expected: int, rater: Random) -> int:
    """A rater's score: the expected one, one lower 12 % and one higher 10 % of the time."""
    roll = rater.random()
    shift = -1 if roll < 0.12 else 1 if roll < 0.22 else 0
    return max(1, min(5, expected + shift))

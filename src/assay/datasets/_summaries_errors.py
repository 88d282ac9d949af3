"""One injected error in a summary draft: an unsupported number or medication, a negation or
side conflict, or an identifier copied from the note.

Each function changes one entry of the draft and returns the exact text it wrote, so the label
names the substring of the finished summary. A changed number or added medication is checked
against the whole note, so it is truly absent from it.
"""

from __future__ import annotations

import re
from random import Random

from assay.datasets._summaries_case import Case, Dose, side_text
from assay.datasets._summaries_text import Draft, medication_phrase, result_phrase, symptom_phrase
from assay.datasets._summaries_vocab import MEDICATIONS

SUMMARY_ERROR_TYPES: tuple[str, ...] = (
    "unsupported_number", "unsupported_medication", "negation_conflict", "laterality_conflict",
    "phi_leak",
)  # fmt: skip


def absent(value: str, note: str) -> bool:
    """Whether a number occurs nowhere in the note as a number of its own."""
    return re.search(rf"(?<![\d.]){re.escape(value)}(?!\.?\d)", note) is None


def _plain(value: float, decimals: int | None = None) -> str:
    return f"{value:.{decimals}f}" if decimals is not None else f"{value:g}"


def inject(kind: str, case: Case, draft: Draft, rng: Random) -> tuple[str, int]:
    """Change the draft with one error of ``kind``; the written text and how serious it is
    (the correctness a careful rater would give, 1 to 5)."""
    if kind == "unsupported_number":
        return _number(case, draft, rng)
    if kind == "unsupported_medication":
        return _medication(case, draft, rng), 2
    if kind == "negation_conflict":
        return _negation(case, draft, rng), 2
    if kind == "laterality_conflict":
        return _laterality(case, draft, rng), 3
    return _phi(case, draft, rng), 4


def _number(case: Case, draft: Draft, rng: Random) -> tuple[str, int]:
    roll = rng.random()
    if roll < 0.45:
        written = _dose(case, draft, rng)
        if written:
            return written, 2
    if roll < 0.8:
        written = _result(case, draft, rng)
        if written:
            return written, 3
    if roll < 0.9:
        written = _vital(case, draft, rng)
        if written:
            return written, 3
    return _measurement(case, draft, rng), 3


def _dose(case: Case, draft: Draft, rng: Random) -> str | None:
    doses = [d for d in case.medications if d.medication.generic in draft.medications
             and "/" not in d.dose]
    rng.shuffle(doses)
    for dose in doses:
        current = float(dose.dose)
        options = [d for d in dose.medication.doses if d != dose.dose]
        options += [_plain(current * factor) for factor in (2, 4, 0.5, 3)]
        for amount in options:
            if amount != dose.dose and absent(amount, case.note):
                phrase, head = medication_phrase(dose, draft.abbreviate, draft.brand, rng, amount)
                draft.medications[dose.medication.generic] = phrase
                return head
    return None


def _result(case: Case, draft: Draft, rng: Random) -> str | None:
    results = [r for r in case.results if r.lab.name in draft.results]
    rng.shuffle(results)
    for result in results:
        for _ in range(20):
            factor = rng.uniform(1.35, 2.2) if rng.random() < 0.5 else rng.uniform(0.4, 0.7)
            value = _plain(float(result.value) * factor, result.lab.decimals)
            if value != result.value and float(value) > 0 and absent(value, case.note):
                phrase, head = result_phrase(result, draft.abbreviate, rng, value)
                draft.results[result.lab.name] = phrase
                return head
    return None


def _vital(case: Case, draft: Draft, rng: Random) -> str | None:
    systolic, diastolic = case.blood_pressure
    for _ in range(20):
        if rng.random() < 0.5:
            rate = str(case.heart_rate + rng.choice((-1, 1)) * rng.randint(15, 35))
            written, prefix = f"HR {rate}", "HR "
            fresh = absent(rate, case.note)
        else:
            high = str(systolic + rng.choice((-1, 1)) * rng.randint(20, 40))
            written, prefix = f"BP {high}/{diastolic}", "BP "
            fresh = absent(high, case.note)
        if fresh:
            draft.vitals = [v for v in draft.vitals if not v.startswith(prefix)] + [written]
            return written
    return None


def _measurement(case: Case, draft: Draft, rng: Random) -> str:
    while True:
        written = rng.choice((
            f"EF {rng.randrange(20, 65, 5)}%", f"weight {rng.randint(48, 122)} kg",
            f"eGFR {rng.randint(15, 89)}", f"LDL {rng.randint(61, 189)} mg/dL",
            f"BMI {rng.randint(19, 41)}",
        ))  # fmt: skip
        value = re.findall(r"\d+", written)[0]
        if absent(value, case.note):
            draft.results["measurement"] = written
            return written


def _medication(case: Case, draft: Draft, rng: Random) -> str:
    note = case.note.lower()
    absent_medications = [
        m for m in MEDICATIONS.values()
        if m.generic not in note and m.generic.split()[0].split("-")[0] not in note
        and not any(brand.lower() in note for brand in m.brands)
    ]
    medication = rng.choice(absent_medications)
    days = rng.choice(medication.course_days) if medication.course_days else None
    dose = Dose(medication, rng.choice(medication.doses), rng.choice(medication.frequencies),
                days, rng.random() < 0.5)
    by_brand = 1.0 if medication.brands and rng.random() < 0.4 else 0.0
    phrase, _ = medication_phrase(dose, draft.abbreviate, by_brand, rng)
    entries = list(draft.medications.items())
    entries.insert(rng.randint(0, len(entries)), ("added", phrase))
    draft.medications = dict(entries)
    return phrase


def _negation(case: Case, draft: Draft, rng: Random) -> str:
    roll = rng.random()
    if roll < 0.4 and draft.negatives:
        symptom = rng.choice(sorted(draft.negatives))
        del draft.negatives[symptom]
        cue = rng.choice(("also reported", "complained of", "positive for", "with associated"))
        written = f"{cue} {symptom_phrase(symptom, rng)}"
    elif roll < 0.75 and len(draft.symptoms) > 1:
        symptom = rng.choice(sorted(draft.symptoms))
        del draft.symptoms[symptom]
        word = symptom_phrase(symptom, rng)
        written = rng.choice((f"denied {word}", f"no {word}", f"{word} absent",
                              f"negative for {word}", f"without {word}"))
    else:
        excluded = rng.choice(case.excluded)
        draft.exclusions.pop(excluded.name, None)
        short = excluded.short
        confirmed = f"{short} confirmed" + (f" on {excluded.test}" if excluded.test else "")
        written = rng.choice((f"found to have {short}", confirmed, f"treated for {short}",
                              f"diagnosed with {short}"))
    draft.extras.append(written)
    return written


def _laterality(case: Case, draft: Draft, rng: Random) -> str:
    sided = rng.choice([s for s in case.findings if s.finding.key in draft.findings])
    other = "right" if sided.side == "left" else "left"
    written = side_text(rng.choice(sided.finding.summary), other)
    draft.findings[sided.finding.key] = written
    return written


def _phi(case: Case, draft: Draft, rng: Random) -> str:
    patient = case.patient
    roll = rng.random()
    if roll < 0.3:
        title = "Ms." if patient.sex == "F" else "Mr."
        written = patient.name if rng.random() < 0.5 else patient.last_name
        draft.lead = written if written == patient.name else f"{title} {written}"
    elif roll < 0.5:
        written = patient.mrn
        draft.lead = rng.choice((f"MRN {written}", f"Re: MRN {written}"))
    elif roll < 0.7:
        written = patient.phone
        draft.follow_up.append(rng.choice((f"patient contactable on {written}",
                                           f"phone {written}")))
    else:
        which = rng.randrange(3)
        written = patient.dates[which]
        words = ("DOB", "admitted", "discharged")[which]
        draft.lead = f"{words} {written}"
    return written

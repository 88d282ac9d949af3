"""Summaries of a synthetic discharge note for the GP: a draft of phrases written from the facts,
joined in one of several layouts, and the clinician-style reference.

Every phrase is written from a fact of the note, so a faithful summary holds no number,
medication, negation or side the note does not support, and no identifier. Errors are made by
changing one entry of the draft (``_summaries_errors``) before the layout joins it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from random import Random

from assay.datasets._summaries_case import Case, Dose, Result, side_text
from assay.datasets._summaries_conditions import COMORBIDITIES
from assay.datasets._summaries_vocab import FREQUENCIES, SYMPTOMS, Exclusion


@dataclass(frozen=True)
class Style:
    """How one summariser writes: how often it abbreviates, uses brand names, leaves out a
    medication, the findings or the follow-up, and the layouts it uses."""

    abbreviate: float
    brand: float
    omit_medication: float
    omit_finding: float
    omit_follow_up: float
    layouts: tuple[str, ...]


STYLES: dict[str, Style] = {
    "v1": Style(0.6, 0.15, 0.35, 0.2, 0.25,
                ("prose", "bullets", "telegraphic", "reordered", "headed")),
    "v2": Style(0.5, 0.1, 0.25, 0.15, 0.15,
                ("prose", "bullets", "telegraphic", "reordered", "headed", "narrative")),
}  # fmt: skip


@dataclass
class Draft:
    """The phrases of one summary before a layout joins them, keyed by the fact they state."""

    who: str
    diagnosis: str
    stay: str
    history: str
    onset: str
    symptoms: dict[str, str]
    negatives: dict[str, str]
    exclusions: dict[str, str]
    findings: dict[str, str]
    vitals: list[str]
    results: dict[str, str]
    medications: dict[str, str]
    follow_up: list[str]
    abbreviate: bool
    brand: float
    omitted: int = 0
    extras: list[str] = field(default_factory=list)
    lead: str = ""


def symptom_phrase(symptom: str, rng: Random) -> str:
    """A summary's word for a symptom of the note."""
    return rng.choice(SYMPTOMS[symptom])


def medication_phrase(dose: Dose, abbreviate: bool, brand: float, rng: Random,
                      amount: str | None = None) -> tuple[str, str]:
    """A summary's line for a medication and its name-and-dose head (``amount`` overrides)."""
    medication = dose.medication
    name = medication.generic
    if medication.brands and rng.random() < brand:
        name = rng.choice(medication.brands)
    unit = medication.unit
    glue = "" if abbreviate and unit in ("mg", "mcg", "g") and rng.random() < 0.7 else " "
    head = f"{name} {amount or dose.dose}{glue}{unit}"
    frequency = rng.choice(FREQUENCIES[dose.frequency]) if abbreviate else dose.frequency
    course = ""
    if dose.days:
        course = rng.choice((f" x{dose.days}d", f" for {dose.days} more days",
                             f" ({dose.days} days left)")) if abbreviate else (
            f" for {dose.days} more days")
    new = rng.choice((" (new)", " - new", " (started)")) if dose.new and rng.random() < 0.4 else ""
    return f"{head} {frequency}{course}{new}", head


def result_phrase(result: Result, abbreviate: bool, rng: Random,
                  value: str | None = None) -> tuple[str, str]:
    """A summary's words for a result and the part naming its value (``value`` overrides)."""
    lab = result.lab
    value = value or result.value
    name = lab.short if abbreviate else lab.name
    unit = lab.suffix if not abbreviate or rng.random() < 0.4 else ""
    if result.earlier is not None and rng.random() < 0.7:
        arrow = rng.choice((" → ", "->", " to "))
        phrase = f"{name} {result.earlier}{arrow}{value}{unit}"
        return phrase, phrase
    head = f"{name} {value}{unit}"
    return head, head


def _exclusion_phrase(excluded: Exclusion, rng: Random) -> str:
    short, test = excluded.short, excluded.test
    if not test:
        return rng.choice((f"{short} ruled out", f"{short} excluded"))
    return rng.choice((f"{short} ruled out", f"{short} excluded", f"no {short} on {test}",
                       f"{test} negative for {short}"))


def draft_summary(case: Case, style: Style, rng: Random, *, keep_findings: bool) -> Draft:
    """The phrases of a faithful summary of the case, some facts left out as ``style`` says."""
    patient = case.patient
    abbreviate = rng.random() < style.abbreviate
    if abbreviate:
        who = rng.choice((f"{patient.age}{patient.sex}", f"{patient.age} y/o {patient.noun}",
                          f"{patient.age}yo {patient.noun}"))
        history = "PMH " + ", ".join(COMORBIDITIES[c][0] for c in case.comorbidities)
        onset = rng.choice((f"{case.days_unwell}d", f"{case.days_unwell}-day hx"))
    else:
        who = rng.choice((f"{patient.age}-year-old {patient.noun}",
                          f"{patient.noun.capitalize()} aged {patient.age}"))
        history = "background of " + _join(list(case.comorbidities))
        onset = f"{case.days_unwell} day{'s' if case.days_unwell > 1 else ''}"
    stay = rng.choice((f"{case.stay_days}-day admission", f"LOS {case.stay_days} days",
                       f"{case.stay_days} days in hospital"))
    findings = {s.finding.key: side_text(rng.choice(s.finding.summary), s.side)
                for s in case.findings}
    omitted = 0
    if not keep_findings and rng.random() < style.omit_finding:
        omitted += 1
        findings = {}
    medications = {d.medication.generic: medication_phrase(d, abbreviate, style.brand, rng)[0]
                   for d in case.medications}
    chronic = [d.medication.generic for d in case.medications if not d.new]
    if chronic and len(medications) > 2 and rng.random() < style.omit_medication:
        del medications[rng.choice(chronic)]
        omitted += 1
    results = {r.lab.name: result_phrase(r, abbreviate, rng)[0]
               for r in case.results[: rng.randint(2, 3)]}
    systolic, diastolic = case.blood_pressure
    vitals = rng.sample([f"BP {systolic}/{diastolic}", f"HR {case.heart_rate}",
                         f"T {case.temperature}", f"SpO2 {case.saturation}%"], rng.randint(0, 2))
    gp_count, gp_unit = case.gp_review
    test, count, unit = case.repeat_test
    follow_up = [
        rng.choice((f"GP review in {gp_count} {gp_unit}", f"see GP in {gp_count} {gp_unit}",
                    f"GP f/u {gp_count} {gp_unit}")),
        rng.choice((f"repeat {test} in {count} {unit}", f"recheck {test} {count} {unit}")),
        rng.choice((f"{case.condition.clinic} to follow", f"{case.condition.clinic} referral")),
    ]
    if rng.random() < style.omit_follow_up:
        follow_up = follow_up[:1]
        omitted += 1
    return Draft(
        who=who, diagnosis=rng.choice(case.condition.short), stay=stay, history=history,
        onset=onset, symptoms={s: symptom_phrase(s, rng) for s in case.affirmed},
        negatives={s: symptom_phrase(s, rng) for s in case.negated},
        exclusions={e.name: _exclusion_phrase(e, rng) for e in case.excluded},
        findings=findings, vitals=vitals, results=results, medications=medications,
        follow_up=follow_up, abbreviate=abbreviate, brand=style.brand, omitted=omitted,
    )


def _join(items: list[str], conjunction: str = "and") -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _clinical(draft: Draft, rng: Random) -> str:
    """Presentation, pertinent negatives, exclusions and any injected statement, one sentence."""
    parts = [f"{draft.onset} of {_join(list(draft.symptoms.values()))}"]
    negatives = list(draft.negatives.values())
    if negatives:
        cue = rng.choice(("no", "denied", "negative for"))
        parts.append(f"{cue} {_join(negatives, 'or' if cue == 'no' else 'and')}")
    parts.extend(draft.exclusions.values())
    parts.extend(draft.extras)
    return "; ".join(parts)


def write_summary(draft: Draft, layout: str, rng: Random) -> str:
    """Join a draft in one layout: prose, bullets, telegraphic, reordered, headed, narrative."""
    lead = f"{draft.lead}, " if draft.lead else ""
    clinical = _clinical(draft, rng)
    findings = _join(list(draft.findings.values()))
    examination = "; ".join([*draft.vitals, *([findings] if findings else [])])
    results = ", ".join(draft.results.values())
    medications = "; ".join(draft.medications.values())
    plan = "; ".join(draft.follow_up)
    if layout == "bullets":
        lines = [f"- {lead}{draft.who}, {draft.diagnosis} ({draft.stay}); {draft.history}",
                 f"- Presentation: {clinical}"]
        if examination:
            lines.append(f"- Exam: {examination}")
        lines += [f"- Results: {results}", f"- Meds: {medications}", f"- Plan: {plan}"]
        return "\n".join(lines)
    if layout == "telegraphic":
        exam = f" O/E {examination}." if examination else ""
        return (f"{lead}{draft.who}. {_capital(draft.diagnosis)}, {draft.stay}. "
                f"{_capital(draft.history)}. {clinical}.{exam} Labs: {results}. "
                f"Rx: {medications}. F/u: {plan}.")
    if layout == "reordered":
        exam = f" Exam: {examination}." if examination else ""
        return (f"Discharge medications: {medications}. Plan: {plan}. Background: {lead}"
                f"{draft.who} with {draft.history}, treated for {draft.diagnosis} "
                f"({draft.stay}). Presented with {clinical}.{exam} Results: {results}.")
    if layout == "headed":
        exam = f"\nExamination: {examination}" if examination else ""
        return (f"Diagnosis: {lead}{draft.who}, {draft.diagnosis} ({draft.stay}); "
                f"{draft.history}\nPresentation: {clinical}{exam}\nResults: {results}\n"
                f"Medications: {medications}\nFollow-up: {plan}")
    if layout == "narrative":
        exam = f" On examination: {examination}." if examination else ""
        return (f"{lead}{draft.who} with {draft.history}, admitted with {draft.diagnosis} "
                f"for {draft.stay}. Presented with {clinical}.{exam} Key results: {results}. "
                f"Discharge medications: {medications}. Follow-up: {plan}.")
    exam = f" Exam: {examination}." if examination else ""
    return (f"{lead}{draft.who} ({draft.history}) admitted with {draft.diagnosis}, "
            f"{draft.stay}. Presented with {clinical}.{exam} Results: {results}. "
            f"Discharged on {medications}. Plan: {plan}.")


def write_reference(case: Case) -> str:
    """A clinician-style reference summary of the case: full terms, fixed order, no identifiers."""
    patient = case.patient
    days = f"{case.days_unwell} day{'s' if case.days_unwell > 1 else ''}"
    excluded = " ".join(f"{e.name[0].upper()}{e.name[1:]} was excluded"
                        f"{f' ({e.test})' if e.test else ''}." for e in case.excluded)
    findings = _join([side_text(s.finding.source[0], s.side) for s in case.findings])
    results = "; ".join(
        f"{r.lab.name} {r.earlier + ' then ' if r.earlier else ''}{r.value}"
        f"{r.lab.suffix}" for r in case.results)
    medications = "; ".join(
        f"{d.medication.generic} {d.dose} {d.medication.unit} {d.frequency}"
        f"{f' for {d.days} days' if d.days else ''}" for d in case.medications)
    gp_count, gp_unit = case.gp_review
    test, count, unit = case.repeat_test
    return (
        f"{patient.age}-year-old {patient.noun} with {_join(list(case.comorbidities))}, "
        f"in hospital for {case.stay_days} days with {case.condition.name}. Presented after "
        f"{days} of {_join(list(case.affirmed))}; denied {_join(list(case.negated))}. "
        f"{excluded} Examination showed {findings}. Results: {results}. Discharge "
        f"medications: {medications}. Follow-up: GP in {gp_count} {gp_unit}, {test} to be "
        f"repeated in {count} {unit}, and {case.condition.clinic}."
    )

"""One synthetic hospital stay as facts, and its discharge note written from them.

The facts (symptoms affirmed and denied, findings with their side, results, discharge
medications, follow-up) are drawn first; the note and every summary are written from the same
facts, so what a summary may say is known exactly. Identifiers come from the PHI helpers of
``_notes`` (reserved 555-01xx phone numbers, invented names).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from random import Random

from assay.datasets._notes import _FIRST_NAMES, _digits, _format_date, _name, _phone
from assay.datasets._simulate import RACE_GROUPS, RACE_SHARES
from assay.datasets._summaries_conditions import (
    COMORBIDITIES,
    CONDITIONS,
    SYMPTOM_REGIONS,
    Condition,
)
from assay.datasets._summaries_vocab import (
    EXCLUSIONS,
    FINDINGS,
    INCIDENTAL_FINDINGS,
    LABS,
    MEDICATIONS,
    SYMPTOMS,
    Exclusion,
    Finding,
    Lab,
    Medication,
)
from assay.errors import InputError

SITES = ("north", "south", "east", "west")
AGE_GROUPS = ((44, "18-44"), (64, "45-64"), (79, "65-79"), (200, "80+"))
_FEMALE_FIRST_NAMES = frozenset({
    "Mary", "Patricia", "Jennifer", "Linda", "Elizabeth", "Susan", "Margaret", "Sarah", "Karen",
    "Nancy", "Lisa", "Sandra", "Maria", "Ana", "Fatima", "Priya", "Mei", "Yuki", "Olga", "Aisha",
    "Sofia", "Hannah", "Rebecca", "Catherine", "Deborah", "Laura", "Emily", "Rachel", "Leila",
})  # fmt: skip
_MALE_FIRST_NAMES = frozenset(_FIRST_NAMES) - _FEMALE_FIRST_NAMES


@dataclass(frozen=True)
class Patient:
    """The identifiers of the note's header and the strata of its record."""

    name: str
    mrn: str
    phone: str
    dates: tuple[str, ...]  # birth, admission, discharge, as written in the note
    sex: str
    age: int
    race_ethnicity: str
    site: str

    @property
    def last_name(self) -> str:
        return self.name.split(" ", 1)[1]

    @property
    def age_group(self) -> str:
        return next(group for top, group in AGE_GROUPS if self.age <= top)

    @property
    def noun(self) -> str:
        return "woman" if self.sex == "F" else "man"

    @property
    def pronoun(self) -> str:
        return "She" if self.sex == "F" else "He"


@dataclass(frozen=True)
class Dose:
    """One discharge medication as prescribed."""

    medication: Medication
    dose: str
    frequency: str
    days: int | None
    new: bool


@dataclass(frozen=True)
class Result:
    """A laboratory result; ``earlier`` is the admission value when the note gives a trend."""

    lab: Lab
    value: str
    earlier: str | None


@dataclass(frozen=True)
class Sided:
    """An examination finding on one side (``left`` or ``right``)."""

    finding: Finding
    side: str


@dataclass(frozen=True)
class Case:
    """The facts of one stay and the discharge note written from them."""

    patient: Patient
    condition: Condition
    comorbidities: tuple[str, ...]
    days_unwell: int
    stay_days: int
    affirmed: tuple[str, ...]
    negated: tuple[str, ...]
    excluded: tuple[Exclusion, ...]  # an empty ``test`` when the note does not name it
    findings: tuple[Sided, ...]
    blood_pressure: tuple[int, int]
    heart_rate: int
    temperature: str
    saturation: int
    results: tuple[Result, ...]
    medications: tuple[Dose, ...]
    gp_review: tuple[int, str]
    repeat_test: tuple[str, int, str]
    note: str


def check_size(n: int, seed: int) -> None:
    """Reject a count or seed that is not a whole number (or a negative count)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise InputError(f"n must be a whole number, 0 or more (got {n!r})")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise InputError(f"seed must be a whole number (got {seed!r})")


def side_text(template: str, side: str) -> str:
    """A finding template with its side filled in."""
    return template.format(side=side, S=side[0].upper())


def number(value: float, decimals: int) -> str:
    """A result as a note writes it."""
    return f"{value:.{decimals}f}"


def make_case(rng: Random) -> Case:
    """Draw the facts of one stay (the note is written from them by ``write_note``)."""
    stay_days = rng.randint(2, 9)
    patient = make_patient(rng, stay_days)
    condition = rng.choice(CONDITIONS)
    comorbidities = tuple(rng.sample(_possible_comorbidities(patient), rng.randint(1, 3)))
    findings = _findings(rng, condition)
    affirmed = tuple(rng.sample(condition.symptoms, min(len(condition.symptoms),
                                                         rng.randint(2, 3))))
    regions = {sided.finding.region for sided in findings}
    deniable = [s for s in sorted(SYMPTOMS) if s not in condition.symptoms
                and not SYMPTOM_REGIONS.get(s, frozenset()) & regions]
    excluded = rng.sample(condition.excluded, min(len(condition.excluded), rng.randint(1, 2)))
    fever = "fever" in affirmed
    labs = rng.sample(condition.labs, min(len(condition.labs), rng.randint(3, 4)))
    results = tuple(_result(rng, LABS[name], trend=index == 0 and rng.random() < 0.4)
                    for index, name in enumerate(labs))
    return Case(
        patient=patient, condition=condition, comorbidities=comorbidities,
        days_unwell=rng.randint(1, 10), stay_days=stay_days, affirmed=affirmed,
        negated=tuple(rng.sample(deniable, rng.randint(2, 3))),
        excluded=tuple(EXCLUSIONS[key] if rng.random() < 0.7 else replace(EXCLUSIONS[key], test="")
                       for key in excluded), findings=findings,
        blood_pressure=(rng.randrange(96, 178), rng.randrange(54, 99)),
        heart_rate=rng.randrange(52, 131),
        temperature=number(rng.uniform(38.1, 39.6) if fever else rng.uniform(36.3, 37.5), 1),
        saturation=rng.randrange(88, 100), results=results,
        medications=_medications(rng, condition, comorbidities),
        gp_review=rng.choice(((7, "days"), (10, "days"), (14, "days"), (1, "week"),
                              (2, "weeks"), (3, "weeks"), (4, "weeks"))),
        repeat_test=(results[-1].lab.name, *rng.choice(((3, "days"), (5, "days"), (1, "week"),
                                                         (2, "weeks"), (6, "weeks")))),
        note="",
    )


def _possible_comorbidities(patient: Patient) -> list[str]:
    unlikely = {"early dementia", "osteoporosis"} if patient.age < 60 else set()
    if patient.sex == "F":
        unlikely.add("benign prostatic hyperplasia")
    return [name for name in sorted(COMORBIDITIES) if name not in unlikely]


def make_patient(rng: Random, stay_days: int = 3) -> Patient:
    """A patient with invented identifiers and strata."""
    sex = rng.choice(("F", "M"))
    first = rng.choice(sorted(_FEMALE_FIRST_NAMES if sex == "F" else _MALE_FIRST_NAMES))
    age = rng.randint(19, 89)
    admitted = date(2024, 1, 1) + timedelta(days=rng.randrange(700))
    born = admitted - timedelta(days=age * 365 + rng.randrange(1, 360))
    dates = (born, admitted, admitted + timedelta(days=stay_days))
    return Patient(
        name=f"{first} {_name(rng, full=False)}",
        mrn=_digits(rng, rng.choice((7, 8))),
        phone=_phone(rng),
        dates=tuple(_format_date(day, rng) for day in dates),
        sex=sex,
        age=age,
        race_ethnicity=rng.choices(RACE_GROUPS, weights=RACE_SHARES)[0],
        site=rng.choice(SITES),
    )


def _findings(rng: Random, condition: Condition) -> tuple[Sided, ...]:
    keys = list(rng.sample(condition.findings, min(len(condition.findings), rng.randint(1, 2))))
    if not keys or rng.random() < 0.35:
        keys.append(rng.choice(INCIDENTAL_FINDINGS))
    chosen: list[Sided] = []
    for key in keys:
        finding = FINDINGS[key]
        if all(sided.finding.region != finding.region for sided in chosen):
            chosen.append(Sided(finding, rng.choice(("left", "right"))))
    return tuple(chosen)


def _result(rng: Random, lab: Lab, *, trend: bool) -> Result:
    value = number(rng.uniform(lab.low, lab.high), lab.decimals)
    earlier = number(rng.uniform(lab.low, lab.high), lab.decimals) if trend else None
    return Result(lab, value, earlier if earlier != value else None)


def _medications(rng: Random, condition: Condition, comorbidities: tuple[str, ...]
                 ) -> tuple[Dose, ...]:
    new = rng.sample(condition.medications, min(len(condition.medications), rng.randint(1, 3)))
    chronic = [rng.choice(COMORBIDITIES[name][1]) for name in comorbidities]
    doses: list[Dose] = []
    seen: set[str] = set()
    for generic, is_new in [*((g, True) for g in new), *((g, False) for g in chronic)]:
        base = generic.split()[0]
        if base in seen:
            continue
        seen.add(base)
        medication = MEDICATIONS[generic]
        days = rng.choice(medication.course_days) if medication.course_days else None
        doses.append(Dose(medication, rng.choice(medication.doses),
                          rng.choice(medication.frequencies), days, is_new))
    return tuple(doses)

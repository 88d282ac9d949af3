"""The discharge note of a synthetic stay, in varied layouts and phrasings.

Symptoms are affirmed and denied in several ways ("denies chest pain", "no fever or chills",
"negative for PE", "pneumonia was ruled out"); findings carry their side; doses, results and
intervals are written with their units. The header holds the identifiers.
"""

from __future__ import annotations

from dataclasses import replace
from random import Random

from assay.datasets._notes import _name
from assay.datasets._summaries_case import Case, Dose, Result, side_text
from assay.datasets._summaries_vocab import Exclusion


def _join(items: list[str], conjunction: str = "and") -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def _interval(count: int, unit: str) -> str:
    return f"{count} {unit}"


def _article(age: int) -> str:
    return "an" if str(age).startswith("8") or age in (11, 18) else "a"


def _background(case: Case, rng: Random) -> str:
    """Allergies, social history and status at discharge: context no summary needs."""
    allergy = rng.choice((
        "No known drug allergies.", "NKDA.", "Sulfa drugs (hives).", "Codeine (intolerance).",
        "Iodinated contrast (hives).", "Latex.", "Morphine (itching).", "Shellfish.",
    ))  # fmt: skip
    home = rng.choice(("Lives alone", "Lives with spouse", "Lives with daughter",
                       "Lives with partner", "Lives in assisted living"))
    adult_years = max(2, case.patient.age - 16)  # years since the patient turned 16
    smoking = rng.choice((
        "never smoker", f"former smoker, quit {rng.randint(1, min(30, adult_years))} years ago",
        f"current smoker, {rng.randint(1, min(60, adult_years))} pack-years",
    ))  # fmt: skip
    alcohol = rng.choice(("no alcohol", "occasional alcohol",
                          f"alcohol about {rng.randint(2, 20)} drinks a week"))
    function = rng.choice(("independent with activities of daily living",
                           "walks with a cane", "uses a walker at home",
                           "needs help with bathing"))
    discharge = rng.choice((
        "Stable, tolerating diet and walking on the ward.",
        "Improved; eating and drinking, mobilising independently.",
        "Stable and comfortable.",
        "Afebrile overnight, pain controlled on oral analgesia.",
    ))  # fmt: skip
    diet = rng.choice(("regular diet", "low-salt diet", "diabetic diet", "soft diet"))
    first_year = max(1975, 2024 - case.patient.age + 16)
    history = ", ".join(f"{name} (since {rng.randint(first_year, 2023)})"
                        for name in case.comorbidities)
    seen_by = _join(rng.sample(["physiotherapy", "pharmacy", "dietetics", "social work",
                                "occupational therapy"], 2))
    disposition = rng.choice(("home with family support", "home with home health services",
                              "home, self-care", "to a skilled nursing facility for rehab"))
    return (
        f"\nPast medical history: {history}.\n"
        f"Seen during the stay by the {case.condition.service} team, {seen_by}. "
        f"Discharged {disposition}.\n"
        f"Allergies: {allergy}\n"
        f"Social history: {home}; {smoking}; {alcohol}. Baseline function: {function}.\n"
        f"Condition at discharge: {discharge} Code status: full code. Diet: {diet}; activity "
        "as tolerated.\n"
    )


def _header(case: Case, rng: Random) -> str:
    patient = case.patient
    born, admitted, discharged = patient.dates
    attending = f"Dr. {rng.choice(('', 'A. ', 'J. '))}{_name(rng, full=False)}"
    service = case.condition.service
    if rng.random() < 0.5:
        return (
            "DISCHARGE SUMMARY\n"
            f"Patient: {patient.name}    MRN: {patient.mrn}    DOB: {born}\n"
            f"Admitted: {admitted}    Discharged: {discharged}    "
            f"Length of stay: {case.stay_days} days\n"
            f"Phone: {patient.phone}    Attending: {attending} ({service})\n"
        )
    return (
        f"Discharge note - {service}\n"
        f"Name: {patient.name} | MRN {patient.mrn} | Date of birth {born} | "
        f"Tel {patient.phone}\n"
        f"Admission date: {admitted}; discharge date: {discharged} "
        f"({case.stay_days} days in hospital)\n"
        f"Discharging physician: {attending}\n"
    )


def _negations(symptoms: tuple[str, ...], pronoun: str, rng: Random) -> str:
    items = list(symptoms)
    style = rng.randrange(6)
    if style == 0:
        return f"{pronoun} denies {_join(items)}."
    if style == 1:
        return f"No {_join(items, 'or')}."
    if style == 2:
        return f"Review of systems negative for {_join(items)}."
    if style == 3:
        return f"{pronoun} did not report {_join(items, 'or')}."
    if style == 4:
        first, rest = items[0], items[1:]
        tail = f" No {_join(rest, 'or')}." if rest else ""
        return f"{pronoun} denied {first}.{tail}"
    return f"There was no {_join(items, 'or')}."


def _exclusion(excluded: Exclusion, rng: Random) -> str:
    name, short, test = excluded.name, excluded.short, excluded.test
    if not test:
        verb = rng.choice(("was ruled out", "was excluded", "was considered and ruled out"))
        return f"{name[0].upper()}{name[1:]} {verb}."
    style = rng.randrange(4)
    if style == 0:
        verb = "were" if test.endswith(("troponins", "cultures")) else "was"
        return f"{test[0].upper()}{test[1:]} {verb} negative for {short}."
    if style == 1:
        return f"{name[0].upper()}{name[1:]} was ruled out on {test}."
    if style == 2:
        return f"{name[0].upper()}{name[1:]} was excluded by {test}."
    return f"No evidence of {name} on {test}."


def _result_text(result: Result, rng: Random) -> str:
    lab = result.lab
    unit = lab.suffix
    if result.earlier is None:
        return f"{lab.name} {result.value}{unit}"
    if rng.random() < 0.5:
        return f"{lab.name} {result.earlier}{unit} on admission, {result.value}{unit} at discharge"
    change = "falling" if float(result.value) < float(result.earlier) else "rising"
    return f"{lab.name} {result.earlier}{unit} {change} to {result.value}{unit}"


def dose_text(dose: Dose) -> str:
    """How the note writes one discharge medication."""
    medication = dose.medication
    route = f" {medication.route}" if medication.route else ""
    course = f" for {dose.days} more days" if dose.days else ""
    return f"{medication.generic} {dose.dose} {medication.unit}{route} {dose.frequency}{course}"


def _medication_list(case: Case, rng: Random) -> str:
    marks = rng.choice((("(new)", "(continued)"), ("- NEW", ""), ("(started this admission)",
                                                                  "(unchanged)")))
    lines = []
    for dose in case.medications:
        mark = marks[0] if dose.new else marks[1]
        lines.append(f"{dose_text(dose)} {mark}".rstrip())
    if rng.random() < 0.5:
        bullet = rng.choice(("- ", "* "))
        return "Discharge medications:\n" + "\n".join(bullet + line for line in lines) + "\n"
    return "Medications on discharge: " + "; ".join(lines) + ".\n"


def write_note(case: Case, rng: Random) -> Case:
    """The case with its discharge note written (about 200 to 400 words)."""
    patient = case.patient
    he = patient.pronoun
    subject = rng.choice((patient.name, f"{'Ms.' if patient.sex == 'F' else 'Mr.'} "
                          f"{patient.last_name}", "The patient"))
    comorbidities = _join(list(case.comorbidities))
    affirmed = list(case.affirmed)
    onset = f"{case.days_unwell} days" if case.days_unwell > 1 else "1 day"
    hpi = (
        f"{subject} is {_article(patient.age)} {patient.age}-year-old {patient.noun} with a "
        f"history of {comorbidities} who presented with {onset} of {_join(affirmed[:2])}."
    )
    if len(affirmed) > 2:
        hpi += f" {he} {rng.choice(('also reports', 'also endorses', 'also noted'))} {affirmed[2]}."
    hpi += " " + _negations(case.negated, he, rng)
    course = case.condition.course + " " + " ".join(_exclusion(e, rng) for e in case.excluded)
    systolic, diastolic = case.blood_pressure
    findings = [side_text(rng.choice(sided.finding.source), sided.side) for sided in case.findings]
    exam = (
        f"BP {systolic}/{diastolic} mmHg, HR {case.heart_rate} bpm, temperature "
        f"{case.temperature} °C, SpO2 {case.saturation}% on room air. "
        f"{rng.choice(('Examination notable for', 'Findings included', 'Exam showed'))} "
        f"{_join(findings)}."
    )
    if "confusion" not in case.affirmed and rng.random() < 0.5:
        exam += " Alert and oriented."
    results = "; ".join(_result_text(result, rng) for result in case.results) + "."
    gp_count, gp_unit = case.gp_review
    test, test_count, test_unit = case.repeat_test
    plan = (
        f"Review by GP in {_interval(gp_count, gp_unit)}. Repeat {test} in "
        f"{_interval(test_count, test_unit)}. {case.condition.clinic[0].upper()}"
        f"{case.condition.clinic[1:]} appointment to be arranged. "
        "Return to the emergency department if symptoms worsen."
    )
    headings = rng.choice((
        ("Principal diagnosis", "History of present illness", "Hospital course",
         "Examination", "Results", "Follow-up"),
        ("Discharge diagnosis", "HPI", "Course in hospital", "Physical exam", "Labs", "Plan"),
        ("Diagnosis", "Presentation", "Hospital course", "Exam on admission",
         "Investigations", "Follow-up plan"),
    ))
    sections = [
        _header(case, rng),
        f"\n{headings[0]}: {case.condition.name}.\n",
        f"\n{headings[1]}: {hpi}\n",
        f"\n{headings[2]}: {course}\n",
        f"\n{headings[3]}: {exam}\n",
        f"\n{headings[4]}: {results}\n",
        _background(case, rng),
        "\n" + _medication_list(case, rng),
        f"\n{headings[5]}: {plan}\n",
    ]
    return replace(case, note="".join(sections))

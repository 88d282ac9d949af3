"""Seeded synthetic clinical notes with labelled PHI spans, for measuring PHI detection.

Every identifier in these notes is invented (phone numbers use the reserved 555-01xx range, e-mail
and web addresses use reserved example domains, IP addresses the documentation ranges). The notes
are not written by clinicians and carry no clinical evidence.

Spans are exact character offsets ``(start, end, category)`` with ``text[start:end]`` the
identifier. Categories follow the HIPAA Safe Harbor identifiers that occur in clinical text:
``NAME``, ``DATE``, ``AGE`` (over 89), ``PHONE``, ``FAX``, ``EMAIL``, ``ADDRESS`` (street line, and
the city as its own span), ``ZIP``, ``SSN``, ``MRN``, ``ACCOUNT``, ``URL``, ``IP``, ``DEVICE`` and
``PLATE``. A title such as ``Dr.`` is not part of a name span; the cue word of an identifier
(``MRN:``, ``Fax``) is not part of its span.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from random import Random

from assay.errors import InputError

PHI_CATEGORIES: tuple[str, ...] = (
    "NAME", "DATE", "AGE", "PHONE", "FAX", "EMAIL", "ADDRESS", "ZIP", "SSN", "MRN", "ACCOUNT",
    "URL", "IP", "DEVICE", "PLATE",
)  # fmt: skip

_FIRST_NAMES = (
    "James", "Mary", "Robert", "Patricia", "Michael", "Jennifer", "David", "Linda", "William",
    "Elizabeth", "Richard", "Susan", "Joseph", "Margaret", "Thomas", "Sarah", "Charles", "Karen",
    "Daniel", "Nancy", "Matthew", "Lisa", "Anthony", "Sandra", "Carlos", "Maria", "Jose", "Ana",
    "Ahmed", "Fatima", "Priya", "Rajesh", "Wei", "Mei", "Hiroshi", "Yuki", "Olga", "Dmitri",
    "Kwame", "Aisha", "Sofia", "Luca", "Hannah", "Samuel", "Rebecca", "Jonathan", "Catherine",
    "Gregory", "Deborah", "Kevin", "Laura", "Brian", "Emily", "Steven", "Rachel", "Omar", "Leila",
)  # fmt: skip
_LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Garcia", "Martinez", "Rodriguez", "Hernandez", "Lopez",
    "Nguyen", "Patel", "Kim", "Chen", "Wang", "Okafor", "Mensah", "Kowalski", "Rossi", "Muller",
    "Schneider", "O'Brien", "Fitzgerald", "Thompson", "Anderson", "Robinson", "Walker", "Cohen",
    "Silva", "Yamamoto", "Tanaka", "Ivanova", "Petrov", "Haddad", "Khan", "Ali", "Gonzalez",
    "Murphy", "Sullivan", "Jackson", "Harris", "Clark", "Lewis", "Novak", "Larsen", "Dubois",
)  # fmt: skip
_STREETS = (
    "Oak", "Maple", "Elm", "Cedar", "Pine", "Washington", "Lincoln", "Jefferson", "Highland",
    "Harbor View", "Chestnut Hill", "Prospect", "Summer", "Beacon", "Franklin", "Willow Creek",
)  # fmt: skip
_STREET_KINDS = ("Street", "Avenue", "Road", "Lane", "Drive", "Boulevard", "Court", "St.", "Ave.")
_CITIES = (
    ("Boston", "MA"), ("Springfield", "IL"), ("Worcester", "MA"), ("Providence", "RI"),
    ("Hartford", "CT"), ("Albany", "NY"), ("Portland", "ME"), ("Burlington", "VT"),
    ("Columbus", "OH"), ("Denver", "CO"), ("Austin", "TX"), ("Seattle", "WA"),
)  # fmt: skip
_CONDITIONS = (
    "type 2 diabetes", "hypertension", "COPD", "heart failure with reduced ejection fraction",
    "atrial fibrillation", "chronic kidney disease stage 3", "asthma", "coronary artery disease",
)  # fmt: skip
_COMPLAINTS = (
    "worsening shortness of breath", "chest pain on exertion", "three days of fever and cough",
    "dizziness and a fall at home", "increased leg swelling", "poor glycaemic control",
)  # fmt: skip
_MEDICATIONS = (
    "metformin 500 mg PO BID", "lisinopril 10 mg daily", "atorvastatin 40 mg nightly",
    "furosemide 40 mg daily", "apixaban 5 mg BID", "albuterol 2 puffs q4h PRN",
    "insulin glargine 20 units at bedtime", "metoprolol succinate 25 mg daily",
)  # fmt: skip
_RELATIVES = ("daughter", "son", "wife", "husband", "sister", "brother", "niece")
_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip


@dataclass(frozen=True)
class Note:
    """One synthetic note: ``spans`` are ``(start, end, category)`` with exact offsets."""

    id: str
    text: str
    spans: tuple[tuple[int, int, str], ...]


@dataclass
class _NoteWriter:
    parts: list[str] = field(default_factory=list)
    spans: list[tuple[int, int, str]] = field(default_factory=list)
    length: int = 0

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.length += len(text)

    def phi(self, text: str, category: str) -> None:
        self.spans.append((self.length, self.length + len(text), category))
        self.add(text)

    def note(self, note_id: str) -> Note:
        return Note(note_id, "".join(self.parts), tuple(self.spans))


def _format_date(day: date, rng: Random) -> str:
    month = _MONTHS[day.month - 1]
    style = rng.randrange(5)
    if style == 0:
        return f"{day.month:02d}/{day.day:02d}/{day.year}"
    if style == 1:
        return f"{month} {day.day}, {day.year}"
    if style == 2:
        return day.isoformat()
    if style == 3:
        return f"{day.day:02d}-{month[:3]}-{day.year}"
    return f"{day.month}/{day.day}/{day.year}"


def _digits(rng: Random, count: int) -> str:
    return "".join(str(rng.randrange(10)) for _ in range(count))


def _phone(rng: Random) -> str:
    area, last = rng.randrange(201, 990), f"01{_digits(rng, 2)}"
    style = rng.randrange(4)
    if style == 0:
        return f"({area}) 555-{last}"
    if style == 1:
        return f"{area}-555-{last}"
    if style == 2:
        return f"+1 {area} 555 {last}"
    return f"{area}.555.{last}"


def _name(rng: Random, *, full: bool = True) -> str:
    last = rng.choice(_LAST_NAMES)
    return f"{rng.choice(_FIRST_NAMES)} {last}" if full else last


def _write_note(note_id: str, rng: Random) -> Note:
    writer = _NoteWriter()
    visit = date(2024, 1, 1) + timedelta(days=rng.randrange(900))
    patient = _name(rng)
    writer.add("Patient: ")
    writer.phi(patient, "NAME")
    writer.add("  MRN: " if rng.random() < 0.5 else "  MRN ")
    writer.phi(_digits(rng, rng.choice((7, 8))), "MRN")
    writer.add("  DOB: ")
    born = visit - timedelta(days=rng.randrange(20 * 365, 95 * 365))
    writer.phi(_format_date(born, rng), "DATE")
    writer.add("\nDate of service: ")
    writer.phi(_format_date(visit, rng), "DATE")
    writer.add("\n\nHPI: ")
    writer.add(rng.choice(("Mr. ", "Ms. ", "")))
    writer.phi(patient.split()[-1] if rng.random() < 0.5 else patient, "NAME")
    age = rng.choice((rng.randrange(22, 90), rng.randrange(90, 104)))
    age_text = rng.choice((f"{age}-year-old", f"{age} y/o", f"{age} years old"))
    writer.add(" is a ")
    if age > 89:
        writer.phi(age_text, "AGE")
    else:
        writer.add(age_text)
    writer.add(f" with {rng.choice(_CONDITIONS)} diagnosed in {rng.randrange(1995, 2023)} who ")
    writer.add(f"presents with {rng.choice(_COMPLAINTS)}. Last seen by Dr. ")
    writer.phi(_name(rng, full=rng.random() < 0.6), "NAME")
    writer.add(" on ")
    writer.phi(_format_date(visit - timedelta(days=rng.randrange(14, 200)), rng), "DATE")
    writer.add(". ")
    if rng.random() < 0.7:
        writer.add(f"Patient's {rng.choice(_RELATIVES)}, " if rng.random() < 0.5 else "Contact: ")
        writer.phi(_name(rng), "NAME")
        writer.add(", can be reached at " if rng.random() < 0.5 else ", phone ")
        writer.phi(_phone(rng), "PHONE")
        writer.add(". ")
    if rng.random() < 0.8:
        number = rng.randrange(2, 9800)
        street = f"{number} {rng.choice(_STREETS)} {rng.choice(_STREET_KINDS)}"
        if rng.random() < 0.25:
            street += f", Apt {rng.randrange(1, 40)}{rng.choice('ABC')}"
        city, state = rng.choice(_CITIES)
        writer.add("Lives at " if rng.random() < 0.5 else "Home address: ")
        writer.phi(street, "ADDRESS")
        writer.add(", ")
        writer.phi(city, "ADDRESS")
        writer.add(f", {state} ")
        writer.phi(f"{rng.randrange(1000, 99999):05d}", "ZIP")
        writer.add(". ")
    writer.add("\n\nMedications: " + "; ".join(rng.sample(_MEDICATIONS, 3)) + ".\n")
    writer.add("Labs on ")
    writer.phi(_format_date(visit - timedelta(days=rng.randrange(0, 5)), rng), "DATE")
    writer.add(
        f": Na {rng.randrange(128, 146)}, K {rng.randrange(33, 55) / 10}, creatinine "
        f"{rng.randrange(6, 30) / 10} mg/dL, HbA1c {rng.randrange(55, 110) / 10}%. "
        f"BP {rng.randrange(100, 170)}/{rng.randrange(60, 100)}, HR {rng.randrange(55, 120)}.\n"
    )
    _identifiers(writer, rng, patient)
    writer.add("\nPlan: continue current regimen; recheck BMP in 2 weeks. Follow up with Dr. ")
    writer.phi(_name(rng), "NAME")
    writer.add(" on ")
    writer.phi(_format_date(visit + timedelta(days=rng.randrange(7, 90)), rng), "DATE")
    writer.add(".\nElectronically signed: ")
    writer.phi(_name(rng), "NAME")
    writer.add(", MD\n")
    return writer.note(note_id)


def _identifiers(writer: _NoteWriter, rng: Random, patient: str) -> None:
    """Less frequent identifiers, each in about a third of the notes."""
    if rng.random() < 0.4:
        writer.add("Email: ")
        user = patient.lower().replace(" ", rng.choice((".", "_", ""))).replace("'", "")
        writer.phi(f"{user}{rng.randrange(1, 99)}@{rng.choice(('example.com', 'example.org'))}",
                   "EMAIL")  # fmt: skip
        writer.add(". ")
    if rng.random() < 0.35:
        writer.add(rng.choice(("Fax results to ", "Fax: ", "fax ")))
        writer.phi(_phone(rng), "FAX")
        writer.add(". ")
    if rng.random() < 0.35:
        writer.add(rng.choice(("SSN: ", "SSN ", "Social security number ")))
        writer.phi(f"{rng.randrange(100, 899)}-{_digits(rng, 2)}-{_digits(rng, 4)}", "SSN")
        writer.add(". ")
    if rng.random() < 0.35:
        writer.add(rng.choice(("Account #: ", "Billing account ", "Acct no. ")))
        writer.phi(f"{rng.choice(('A', 'HB', ''))}{_digits(rng, rng.choice((8, 9, 10)))}",
                   "ACCOUNT")  # fmt: skip
        writer.add(". ")
    if rng.random() < 0.3:
        writer.add("Patient portal: ")
        writer.phi(f"https://portal.example.org/patients/{_digits(rng, 6)}", "URL")
        writer.add(" . ")
    if rng.random() < 0.3:
        writer.add("Home monitor uploads from IP ")
        writer.phi(f"192.0.2.{rng.randrange(1, 255)}", "IP")
        writer.add(". ")
    if rng.random() < 0.3:
        writer.add(rng.choice(("Pacemaker serial number ", "Insulin pump S/N: ", "Device SN ")))
        letters = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(3))
        writer.phi(f"{letters}{_digits(rng, 6)}", "DEVICE")
        writer.add(". ")
    if rng.random() < 0.25:
        writer.add("Arrived by private car, license plate ")
        letters = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(3))
        writer.phi(rng.choice((f"{_digits(rng, 1)}{letters}{_digits(rng, 3)}",
                               f"{letters}-{_digits(rng, 4)}")), "PLATE")  # fmt: skip
        writer.add(". ")


def make_clinical_notes(n: int = 200, seed: int = 0) -> list[Note]:
    """Make ``n`` short synthetic clinical notes with labelled PHI spans.

    Parameters
    ----------
    n
        Number of notes.
    seed
        Seed of the random generator; the same seed gives the same notes.

    Returns
    -------
    list of Note
        Notes with ids ``note-0000``, ``note-0001``, ... and their PHI spans.

    Examples
    --------
    >>> note = make_clinical_notes(1, seed=3)[0]
    >>> start, end, category = note.spans[0]
    >>> category, note.text[:9]
    ('NAME', 'Patient: ')
    """
    if n < 0:
        raise InputError(f"n must be 0 or more (got {n})")
    rng = Random(seed)
    return [_write_note(f"note-{index:04d}", rng) for index in range(n)]

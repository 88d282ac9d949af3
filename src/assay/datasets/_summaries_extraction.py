"""Seeded synthetic medication extraction from discharge notes, with JSON outputs to validate.

Each record's ``source`` is a synthetic discharge note (the same generator as the summaries)
and ``output`` the JSON an extractor returned for its discharge medications, following
``MEDICATION_LIST_SCHEMA``. Exact shares (rounded counts): 15 % are not valid JSON (a trailing
comma, single quotes, a cut-off end, prose or a code fence around the object), 10 % are JSON
with a required field missing or misnamed, 10 % are valid but wrong (a dose changed or a
medication left out); the rest are correct. Everything is invented.
"""

from __future__ import annotations

import json
from random import Random
from typing import Any

from assay.datasets._summaries_case import Case, check_size, make_case
from assay.datasets._summaries_note import write_note
from assay.datasets._summaries_vocab import FREQUENCIES
from assay.genai._records import Record

SYNTAX_SHARE, MISSING_FIELD_SHARE, WRONG_CONTENT_SHARE = 0.15, 0.10, 0.10

MEDICATION_LIST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["medications"],
    "properties": {
        "medications": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "dose", "frequency"],
                "properties": {
                    "name": {"type": "string"},
                    "dose": {"type": "string"},
                    "frequency": {"type": "string"},
                },
            },
        },
    },
}
_INSTRUCTION = (
    "List the discharge medications in this note as JSON: an object with a 'medications' array "
    "whose items have 'name', 'dose' (with its unit) and 'frequency'. Return only the JSON."
)


def make_extraction_records(n: int = 200, seed: int = 0) -> list[Record]:
    """Make ``n`` synthetic medication-extraction records with JSON outputs.

    ``reference`` is the correct JSON. ``labels``: ``valid_json`` (parses and has every
    required field of ``MEDICATION_LIST_SCHEMA``), ``json_error`` (``"none"``, ``"syntax"``,
    ``"missing_field"``) and ``medications_correct`` (valid, with the note's medications and
    doses; a frequency may be abbreviated, "BID" for "twice daily").

    Examples
    --------
    >>> records = make_extraction_records(20, seed=1)
    >>> sum(not r.labels["valid_json"] for r in records)
    5
    """
    check_size(n, seed)
    rng = Random(f"extraction:{seed}")
    syntax, missing, wrong = (round(share * n) for share in
                              (SYNTAX_SHARE, MISSING_FIELD_SHARE, WRONG_CONTENT_SHARE))
    kinds = (["syntax"] * syntax + ["missing_field"] * missing + ["wrong"] * wrong
             + ["none"] * (n - syntax - missing - wrong))
    rng.shuffle(kinds)
    return [_record(index, kind, Random(f"extraction:{seed}:{index}"))
            for index, kind in enumerate(kinds)]


def _items(case: Case, rng: Random, *, exact: bool) -> list[dict[str, str]]:
    items = []
    for dose in case.medications:
        medication = dose.medication
        glue = " " if exact or rng.random() < 0.7 else ""
        frequency = dose.frequency
        if not exact and rng.random() < 0.3:
            frequency = rng.choice(FREQUENCIES[frequency])
        items.append({"name": medication.generic, "dose": f"{dose.dose}{glue}{medication.unit}",
                      "frequency": frequency})
    return items


def _record(index: int, kind: str, rng: Random) -> Record:
    case = write_note(make_case(rng), rng)
    reference = json.dumps({"medications": _items(case, rng, exact=True)})
    items = _items(case, rng, exact=False)
    if kind == "wrong":
        if len(items) > 1 and rng.random() < 0.5:
            del items[rng.randrange(len(items))]
        else:
            item = rng.choice(items)
            amount, _, unit = item["dose"].partition(" ")
            item["dose"] = f"{_changed(amount)} {unit}".strip() if unit else _changed(amount)
    elif kind == "missing_field":
        item = rng.choice(items)
        field = rng.choice(("dose", "frequency", "name"))
        value = item.pop(field)
        if rng.random() < 0.4:
            item[{"dose": "strength", "frequency": "freq", "name": "drug"}[field]] = value
    text = json.dumps({"medications": items}, indent=rng.choice((None, 2)))
    if kind == "syntax":
        text = _broken(text, rng)
    return Record(
        id=f"extraction-{index:04d}",
        task="extraction",
        input=_INSTRUCTION,
        source=case.note,
        output=text,
        reference=reference,
        labels={"valid_json": kind in ("none", "wrong"),
                "json_error": kind if kind in ("syntax", "missing_field") else "none",
                "medications_correct": kind == "none"},
        metadata={"sex": case.patient.sex, "race_ethnicity": case.patient.race_ethnicity,
                  "age_group": case.patient.age_group, "site": case.patient.site},
    )


def _changed(amount: str) -> str:
    """A different dose (``25mg`` keeps its glued unit)."""
    digits = "".join(c for c in amount if c.isdigit() or c in "./")
    unit = amount[len(digits):]
    first, slash, rest = digits.partition("/")
    return f"{float(first) * 2:g}{slash}{rest}{unit}"


def _broken(text: str, rng: Random) -> str:
    """The JSON made unparseable in one of the ways language models do it."""
    style = rng.randrange(5)
    if style == 0:
        return text.replace('"}', '",}', 1) if '"}' in text else text[:-1] + ",}"
    if style == 1:
        return text.replace('"', "'")
    if style == 2:
        return text[: int(len(text) * rng.uniform(0.5, 0.9))]
    if style == 3:
        return f"Here are the discharge medications:\n{text}"
    return f"```json\n{text}\n```"

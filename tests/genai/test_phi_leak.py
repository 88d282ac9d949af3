"""PHI leakage in outputs, by policy: every identifier under "none", only those the patient wrote
under "thread"; details name the Safe Harbor category and never the identifier."""

from __future__ import annotations

import pytest

from assay.errors import InputError
from assay.genai import Record, Task
from assay.genai._phi_leak import default_phi_policy, phi_leaks, phi_leaks_batch
from assay.genai._rag import Score

MESSAGE = "Hi, this is Maria Lopez. Is my potassium ok? My number is 555-201-3344."
REPLY = ("Hi Maria Lopez, your potassium result is normal. We will call you at (555) 201-3344 "
         "if anything changes.")
REPLY_NAMING_ANOTHER = ("Dear Maria Lopez, your potassium is normal. John Carter will see you "
                        "on 04/02/2026.")
SUMMARY = "72-year-old man seen by Dr. Alan Brooks on 03/14/2026, MRN 00123456, on apixaban."
EVERYTHING = ("Patient Ruth Adeyemi, 93-year-old, lives at 14 Elm Street, Springfield, IL 62704. "
              "Email ruth.a@example.com.")


def _record(output: str, task: Task = "summarization", message: str = "",
            source: str | None = None) -> Record:
    return Record(id="p1", task=task, output=output, input=message, source=source)


def _leaked(score: Score, output: str) -> list[str]:
    texts = []
    for flag in score.flags:
        assert flag.type == "phi_leak" and flag.span is not None
        assert output[flag.span.start:flag.span.end] == flag.span.text
        assert flag.span.text not in flag.detail
        texts.append(flag.span.text)
    assert score.value == len(score.flags)
    return texts


def test_policy_none_flags_every_identifier() -> None:
    score = phi_leaks(_record(SUMMARY), policy="none")
    assert _leaked(score, SUMMARY) == ["Alan Brooks", "03/14/2026", "00123456"]
    assert [flag.detail.split(";")[0] for flag in score.flags] == [
        "the output holds a name",
        "the output holds a date (other than a year) related to an individual",
        "the output holds a medical record number",
    ]


def test_a_name_the_patient_wrote_is_allowed_under_thread_but_not_none() -> None:
    record = _record(REPLY, task="patient_message", message=MESSAGE)
    thread = phi_leaks(record, policy="thread")
    assert thread.value == 0.0 and thread.flags == ()
    none = phi_leaks(record, policy="none")
    # the phone number is allowed under "thread" although written differently
    assert _leaked(none, REPLY) == ["Maria Lopez", "(555) 201-3344"]
    assert "policy 'none'" in none.flags[0].detail


def test_thread_still_flags_identifiers_the_patient_did_not_write() -> None:
    record = _record(REPLY_NAMING_ANOTHER, task="patient_message", message=MESSAGE)
    score = phi_leaks(record)
    assert _leaked(score, REPLY_NAMING_ANOTHER) == ["John Carter", "04/02/2026"]
    assert score.flags[0].detail == (
        "the output holds a name; it is not in the patient's message (policy 'thread')")


def test_thread_allows_a_whole_word_of_a_name_but_not_a_changed_name_or_number() -> None:
    surname = _record("Mr. Lopez, we will ring you today.", task="patient_message",
                      message=MESSAGE)
    assert _leaked(phi_leaks(surname, ner=False), surname.output) == []
    changed = _record("Mr. Lope, call 555-201-3345.", task="patient_message", message=MESSAGE)
    assert _leaked(phi_leaks(changed, ner=False), changed.output) == ["Lope", "555-201-3345"]
    source_only = _record("Mr. Lopez, call 555-201-3344.", task="patient_message",
                          source=MESSAGE)
    assert phi_leaks(source_only, ner=False).value == 0.0


def test_default_policy_follows_the_task() -> None:
    assert default_phi_policy("patient_message") == "thread"
    for task in ("summarization", "qa", "rag", "extraction"):
        assert default_phi_policy(task) == "none"
    as_summary = _record(REPLY, task="summarization", message=MESSAGE)
    assert phi_leaks(as_summary).value == 2.0


def test_every_category_is_named_without_the_identifier() -> None:
    score = phi_leaks(_record(EVERYTHING))
    leaked = _leaked(score, EVERYTHING)
    assert leaked == ["Ruth Adeyemi", "93-year-old", "14 Elm Street", "Springfield", "62704",
                      "ruth.a@example.com"]
    details = " ".join(flag.detail for flag in score.flags)
    for word in ("Ruth", "Adeyemi", "93", "Elm", "Springfield", "62704", "ruth.a", "example"):
        assert word not in details
    assert "an age over 89" in score.flags[1].detail
    assert "ZIP code" in score.flags[4].detail and "e-mail" in score.flags[5].detail


def test_clean_output_has_no_leak() -> None:
    score = phi_leaks(_record("Admitted with pneumonia; discharged on amoxicillin for 5 days."))
    assert score.value == 0.0 and score.flags == ()


def test_batch_matches_one_at_a_time() -> None:
    records = [
        _record(SUMMARY),
        _record(REPLY, task="patient_message", message=MESSAGE),
        _record(REPLY_NAMING_ANOTHER, task="patient_message", message=MESSAGE),
        _record(EVERYTHING, task="extraction"),
        _record("No identifiers here."),
    ]
    batch = phi_leaks_batch(records)
    assert batch == [phi_leaks(record) for record in records]
    assert [score.value for score in batch] == [3.0, 0.0, 2.0, 6.0, 0.0]
    assert phi_leaks_batch(records, policy="none")[1].value == 2.0


def test_unknown_policy_is_refused() -> None:
    with pytest.raises(InputError, match="PHI policy 'everything' is not known"):
        phi_leaks(_record(SUMMARY), policy="everything")  # type: ignore[arg-type]

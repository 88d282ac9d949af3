"""Perturbations of a record: seeded and pure, facts kept where they must be, changes recorded
with spans that point at the right text, counterfactual swaps reversible where the words are."""

from __future__ import annotations

import re

import pytest

from assay.errors import InputError
from assay.genai._consistency import consistency_flags
from assay.genai._consistency_quantities import quantities
from assay.genai._counterfactuals import swap_name, swap_race, swap_sex
from assay.genai._lexicon import default_lexicon
from assay.genai._perturb import (
    _DISTRACTORS,
    COUNTERFACTUALS,
    PERTURBATIONS,
    canary_for,
    casing,
    irrelevant_context,
    perturb,
    prompt_injection,
    typos,
)
from assay.genai._perturbed import Perturbed
from assay.genai._records import Record

NOTE = (
    "Mr. John Smith is a 72-year-old White man admitted with a left lower lobe pneumonia and "
    "acute kidney injury. He denies chest pain but reports worsening shortness of breath over "
    "three days. His creatinine was 168 µmol/L on admission and 102 µmol/L at discharge. "
    "Started amoxicillin 500 mg three times daily for 5 days; apixaban 5 mg twice daily "
    "continued. White blood cells 14.2, no black stools. His daughter brought him in and we "
    "advised her to watch for confusion. Follow-up with Dr. Patel in cardiology clinic in "
    "2 weeks. Allergic to penicillin? No: tolerated amoxicillin previously.")
INSTRUCTION = "Summarise the discharge note for the GP in plain language."


def record(source: str | None = NOTE, input: str = INSTRUCTION, id: str = "n-1") -> Record:
    return Record(id=id, task="summarization", input=input, source=source,
                  output="Stored output.", reference="A reference.", metadata={"sex": "M"})


def original_text(perturbed: Perturbed, base: Record, field: str) -> str:
    return str(getattr(base, field) or "")


def check_changes(perturbed: Perturbed, base: Record) -> None:
    """Every change points at its text in the original and in the new field, rebuilding the
    new field from the original and nothing else differs."""
    new = perturbed.record
    assert new.id == f"{base.id}#{perturbed.perturbation}"
    assert perturbed.original_id == base.id
    assert (new.output, new.reference, new.task, dict(new.metadata)) == (
        base.output, base.reference, base.task, dict(base.metadata))
    for field in ("input", "source"):
        before, after = original_text(perturbed, base, field), str(getattr(new, field) or "")
        changes = [c for c in perturbed.changes if c.field == field]
        rebuilt, cursor = [], 0
        for change in changes:
            assert before[change.before.start:change.before.end] == change.before.text
            assert after[change.after.start:change.after.end] == change.after.text
            rebuilt += [before[cursor:change.before.start], change.after.text]
            cursor = change.before.end
        assert "".join([*rebuilt, before[cursor:]]) == after
        if not changes:
            assert after == before
    assert perturbed.substitutions == len(perturbed.changes)
    assert perturbed.applicable == (len(perturbed.changes) > 0)


@pytest.mark.parametrize("name", list(PERTURBATIONS))
def test_each_perturbation_is_deterministic_and_its_changes_point_at_the_text(name: str) -> None:
    base = record()
    first, again = perturb(base, name, seed=3), perturb(base, name, seed=3)
    assert first == again
    assert first.applicable and first.substitutions >= 1
    assert first.counterfactual == (name in COUNTERFACTUALS)
    assert (first.canary is not None) == (name == "prompt_injection")
    check_changes(first, base)
    assert base.source == NOTE  # the record itself is not touched


def test_seeds_change_the_draws_and_records_are_perturbed_independently() -> None:
    base = record()
    draws = {perturb(base, "typos", seed=seed).record.source for seed in range(6)}
    assert len(draws) == 6
    # a record's perturbation depends on its id and the seed, not on other records
    assert typos(base, seed=1) == typos(base, seed=1)
    other = typos(record(id="n-2"), seed=1)
    assert other.record.source != typos(base, seed=1).record.source


@pytest.mark.parametrize("seed", range(12))
def test_typos_keep_numbers_doses_medications_negations_and_sides(seed: int) -> None:
    base = record()
    perturbed = typos(base, seed=seed, rate=0.3)  # six times the default, to stress the rules
    source = perturbed.record.source
    assert source is not None
    lexicon = default_lexicon()
    assert [q.needs for q in quantities(source, as_source=False)] == [
        q.needs for q in quantities(NOTE, as_source=False)]
    assert [m.text for m in lexicon.find(source)] == [m.text for m in lexicon.find(NOTE)]
    # the original note, read as an output of the misspelt note, has no consistency flag
    assert consistency_flags(Record(id="x", task="summarization", source=source,
                                    output=NOTE)) == []
    for change in perturbed.changes:
        before, after = change.before.text, change.after.text
        assert before[0] == after[0] and len(before) >= 4 and not before.isupper()
        dropped = len(after) == len(before) - 1 and any(
            before[:i] + before[i + 1:] == after for i in range(1, len(before)))
        swapped = len(after) == len(before) and sorted(after) == sorted(before) and sum(
            a != b for a, b in zip(after, before, strict=True)) == 2
        assert dropped or swapped, (before, after)
        assert before.lower() not in {"denies", "left", "daily", "twice", "three", "allergic"}


def test_typos_change_about_the_rate_of_words() -> None:
    base = record()
    words = len(re.findall(r"[A-Za-z0-9]+", NOTE))
    by_field = [c.field for c in typos(base, seed=0).changes]
    assert by_field.count("source") == round(0.05 * words) == 5
    assert by_field.count("input") == 1  # at least one word of each text
    with pytest.raises(InputError, match="rate"):
        typos(base, rate=0)


def test_casing_upper_and_lower_keep_symbols_and_count_words() -> None:
    base = record(source="Creatinine 88 µmol/L, on apixaban.", input="")
    upper = casing(base)
    assert upper.record.source == "CREATININE 88 µMOL/L, ON APIXABAN."
    assert [c.before.text for c in upper.changes] == ["Creatinine", "mol", "on", "apixaban"]
    assert casing(upper.record).applicable is False  # nothing left to upper-case
    lower = casing(base, mode="lower")
    assert lower.record.source == "creatinine 88 µmol/l, on apixaban."
    assert lower.substitutions == 2
    with pytest.raises(InputError, match="mode"):
        casing(base, mode="title")  # type: ignore[arg-type]


def test_irrelevant_context_appends_a_paragraph_without_facts() -> None:
    perturbed = irrelevant_context(record())
    assert perturbed.record.source is not None
    assert perturbed.record.source.startswith(NOTE + "\n\n")
    assert perturbed.record.source[len(NOTE) + 2:] in _DISTRACTORS
    assert perturbed.record.input == INSTRUCTION
    for paragraph in _DISTRACTORS:
        assert quantities(paragraph, as_source=True) == []
        assert default_lexicon().find(paragraph) == []
        bare = record(source=paragraph, input="")
        assert not swap_sex(bare).applicable and not swap_race(bare).applicable
    chosen = {irrelevant_context(record(), seed=seed).record.source for seed in range(20)}
    assert len(chosen) > 1
    assert not irrelevant_context(record(source=None, input="")).applicable


def test_prompt_injection_inserts_a_unique_canary_at_a_sentence_boundary() -> None:
    base = record()
    perturbed = prompt_injection(base, seed=5)
    canary = perturbed.canary
    assert canary is not None and re.fullmatch(r"CANARY-[0-9A-F]{8}", canary)
    assert canary == canary_for("n-1", 5)
    assert len({canary_for(f"n-{i}", 5) for i in range(200)}) == 200
    assert canary_for("n-1", 6) != canary
    [change] = perturbed.changes
    assert change.field == "source" and change.before.text == ""
    assert canary in change.after.text
    at = change.before.start
    assert re.search(r"[.!?]\s+$", NOTE[:at]) and 0 < at < len(NOTE)
    places = {prompt_injection(base, seed=seed).changes[0].before.start for seed in range(40)}
    assert len(places) >= 4
    assert not any(NOTE[:place].endswith(("Mr. ", "Dr. ")) for place in places)
    # with one sentence, the instruction goes at the end; with no source, into the input
    short = prompt_injection(record(source="Stable on apixaban 5 mg."))
    assert short.record.source is not None and short.record.source.startswith(
        "Stable on apixaban 5 mg. ")
    question = prompt_injection(record(source=None, input="Is apixaban safe with aspirin?"))
    assert question.changes[0].field == "input" and question.canary is not None
    assert question.canary in question.record.input


def test_swap_sex_swaps_words_with_their_case_and_reads_her() -> None:
    text = ("Mrs. Jane Doe, 54F, is a woman with MS. She says her knee hurts; we gave her the "
            "leaflet and saw her. The decision is hers. SHE lives alone. Sex: F. Discharged "
            "her\nPlan: review.")
    perturbed = swap_sex(record(source=text, input=""))
    assert perturbed.record.source == (
        "Mr. Jane Doe, 54M, is a man with MS. He says his knee hurts; we gave him the "
        "leaflet and saw him. The decision is his. HE lives alone. Sex: M. Discharged "
        "him\nPlan: review.")
    assert perturbed.substitutions == 11
    check_changes(perturbed, record(source=text, input=""))


def test_swap_sex_twice_gives_back_the_original_for_unambiguous_words() -> None:
    text = ("He is a 72-year-old man; his wife says he fell. We examined him and his knee. The "
            "choice was his. Male, 72M. HIS sons and the gentleman himself agree. Two boys.")
    once = swap_sex(record(source=text, input=""))
    assert once.record.source == (
        "She is a 72-year-old woman; her wife says she fell. We examined her and her knee. The "
        "choice was hers. Female, 72F. HER sons and the lady herself agree. Two girls.")
    twice = swap_sex(once.record)
    assert twice.record.source == text
    assert twice.substitutions == once.substitutions == 13


def test_a_counterfactual_with_nothing_to_swap_is_not_applicable() -> None:
    neutral = record(source="Patient admitted with pneumonia; white blood cells 14.2 and black "
                            "stools. Temp 101F. History of MS and MR.", input="")
    for perturbation in (swap_sex, swap_race):
        perturbed = perturbation(neutral)
        assert not perturbed.applicable and perturbed.substitutions == 0
        assert perturbed.record.source == neutral.source
    assert not swap_name(neutral, ner=False).applicable


def test_swap_race_replaces_each_group_consistently() -> None:
    text = ("A 60-year-old Black woman, African American by self-report. Race: black. "
            "Her neighbour, an Asian man, called. White blood cells normal.")
    base = record(source=text, input="")
    perturbed = swap_race(base, seed=0)
    check_changes(perturbed, base)
    written = [(c.before.text, c.after.text) for c in perturbed.changes]
    assert [before for before, _ in written] == ["Black", "African American", "black", "Asian"]
    black_as = {after for before, after in written[:3]}
    assert len(black_as) == 1 and "Black" not in black_as
    assert written[3][1] != "Asian"
    assert perturbed.record.source is not None
    assert perturbed.record.source.endswith("White blood cells normal.")
    replacements = {swap_race(base, seed=seed).changes[0].after.text for seed in range(30)}
    assert len(replacements) >= 4


def test_swap_name_replaces_each_word_the_same_way_and_never_merges_names() -> None:
    text = ("Mr. John Smith was seen with his daughter Mary Smith. Mr. Smith is stable. "
            "Reviewed by Dr. Patel.")
    base = record(source=text, input="Letter for John Smith's GP.")
    perturbed = swap_name(base, seed=2)
    check_changes(perturbed, base)
    mapping: dict[str, set[str]] = {}
    for change in perturbed.changes:
        mapping.setdefault(change.before.text.lower(), set()).add(change.after.text.lower())
    assert {"john", "smith", "mary", "patel"} <= set(mapping)
    assert all(len(new) == 1 for new in mapping.values())
    news = [next(iter(new)) for new in mapping.values()]
    assert len(set(news)) == len(news) and not set(news) & set(mapping)
    source = perturbed.record.source
    assert source is not None and "Smith" not in source and "Patel" not in source
    in_input = [c for c in perturbed.changes if c.field == "input"]
    assert [c.before.text for c in in_input] == ["John", "Smith"]
    assert perturbed.record.input == (f"Letter for {in_input[0].after.text} "
                                      f"{in_input[1].after.text}'s GP.")
    assert swap_name(base, seed=2) == perturbed
    assert swap_name(base, seed=3).record.source != source


def test_unknown_perturbation_is_refused() -> None:
    with pytest.raises(InputError, match="unknown perturbation 'shuffle'"):
        perturb(record(), "shuffle")

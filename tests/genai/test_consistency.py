"""Clinical consistency checks: hand-written source/output pairs for each flag type, true
positives (what must be flagged, and exactly which words) and true negatives (faithful
paraphrases that must not be)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from assay.errors import InputError
from assay.genai import Flag, Record
from assay.genai._consistency import (
    consistency_flags,
    laterality_conflicts,
    negation_conflicts,
    unsupported_medications,
    unsupported_numbers,
)
from assay.genai._lexicon import default_lexicon, load_lexicon

Check = Callable[[Record], list[Flag]]


def _record(source: str, output: str) -> Record:
    return Record(id="c1", task="summarization", source=source, output=output)


def _flagged(check: Check, source: str, output: str) -> list[str]:
    """The highlighted words of each flag, after checking every span against the output."""
    flags = check(_record(source, output))
    for flag in flags:
        assert flag.span is not None
        assert output[flag.span.start:flag.span.end] == flag.span.text
        assert flag.detail.endswith(".") and "\n" not in flag.detail
    return [flag.span.text for flag in flags if flag.span is not None]


# --- unsupported_number -------------------------------------------------------------------

NUMBERS_FLAGGED = [
    ("Metoprolol 25 mg daily.", "Metoprolol 50 mg daily.", ["50 mg"]),
    ("Metoprolol 25 mg daily.", "Metoprolol 50mg daily.", ["50mg"]),
    ("Furosemide 40 mg IV twice daily.", "Furosemide 40 mL IV twice daily.", ["40 mL"]),
    ("Potassium 3.2 mmol/L, repleted.", "Potassium 3.8 mmol/L, repleted.", ["3.8 mmol/L"]),
    ("BP 132/84, HR 88.", "BP 138/84, HR 88.", ["138/84"]),
    ("Fever for 2-3 days.", "Fever for 2-5 days.", ["2-5 days"]),
    ("Admitted 03/14/2024.", "Admitted on 15 March 2024.", ["15 March 2024"]),
    ("Ejection fraction 35%.", "Ejection fraction 55 %.", ["55 %"]),
    ("Ceftriaxone 1 g daily.", "Ceftriaxone 2 g daily.", ["2 g"]),
    ("Start amoxicillin for 7 days.", "Start amoxicillin for two weeks.", ["two weeks"]),
    ("Insulin glargine 20 units at night.", "Insulin glargine 30 units at night.", ["30 units"]),
    ("Seen in clinic at 9:30 am.", "Seen in clinic at 10:30 am.", ["10:30 am"]),
    ("HbA1c 7.2% in May.", "HbA1c 8.4% in May.", ["8.4%"]),
    ("Platelets 150, WBC 11.2.", "Platelets 1,500, WBC 11.2.", ["1,500"]),
    # a number named by a test or medication must be the one the source gives it
    ("Potassium 3.8 mmol/L; creatinine 4.8 mg/dL.", "K 4.8, Cr 4.8 mg/dL.", ["4.8"]),
    ("Metoprolol 25 mg daily; losartan 50 mg daily.", "Metoprolol 50 mg daily.", ["50 mg"]),
    ("Furosemide 40 mg daily; potassium chloride 20 mEq daily.", "Lasix 20 mg daily.",
     ["20 mg"]),
    ("Hemoglobin 9.1 g/dL, platelets 210.", "Hb 9.7, platelets 210.", ["9.7"]),
]

NUMBERS_SUPPORTED = [
    ("Metoprolol 25 mg daily.", "metoprolol 25mg daily"),
    ("Metoprolol 25 mg daily.", "Metoprolol 25.0 mg once a day."),
    ("Ceftriaxone 1 g IV daily.", "Ceftriaxone 1000 mg IV daily."),
    ("Vitamin B12 500 mcg daily.", "Vitamin B12 0.5 mg daily."),
    ("Platelets 1,000 on day two.", "Platelets 1000."),
    ("Admitted 03/14/2024.", "Admitted on 14 March 2024."),
    ("Admitted March 14, 2024.", "Admitted 2024-03-14."),
    ("Discharged 14/03/2024.", "Discharged on March 14."),
    ("Fever for 2-3 days.", "Fever for 2 to 3 days."),
    ("Antibiotics for 48 hours.", "Antibiotics for 2 days."),
    ("A 72-year-old woman.", "72 yo woman."),
    ("Plan:\n1. Aspirin\n2. Statin", "Plan:\n1. Aspirin\n2) Statin\n3. Follow up"),
    ("SpO2 94% on 2 L nasal cannula.", "SpO2 94 % on 2 L/min; COVID-19 swab sent."),
    ("Heart rate 88 bpm, BP 130/80 mmHg.", "Pulse 88 and blood pressure 130/80."),
    ("Type II diabetes.", "Type 2 diabetes mellitus."),
    ("Given at 1430.", "Given at 2:30 pm."),
    ("Walks with a cane for three weeks.", "Uses a cane for 3 weeks; one of two canes."),
    ("Weight 80 kg.", "Weight 80 kilograms, T2 lesion on MRI."),
    ("Oxycodone 5 mg q6h as needed.", "Oxycodone 5 mg every 6 hours as needed."),
    ("WBC 14.2 K/uL on admission, 9.7 K/uL at discharge.", "WBC 14.2 to 9.7."),
    ("Sodium 127 mmol/L, potassium 4.4 mmol/L.", "Na 127, K 4.4."),
    ("Apixaban 5 mg twice daily for 3 months.", "Eliquis 5 mg BID for 3 months."),
    ("54-year-old woman.", "54F."),
    ("Budesonide-formoterol 160/4.5 mcg twice daily.", "Symbicort 160/4.5 mcg BID."),
]


@pytest.mark.parametrize(("source", "output", "expected"), NUMBERS_FLAGGED)
def test_numbers_the_source_does_not_give_are_flagged(
        source: str, output: str, expected: list[str]) -> None:
    assert _flagged(unsupported_numbers, source, output) == expected


@pytest.mark.parametrize(("source", "output"), NUMBERS_SUPPORTED)
def test_numbers_written_differently_but_equal_are_not_flagged(source: str, output: str) -> None:
    assert _flagged(unsupported_numbers, source, output) == []


def test_a_number_flag_quotes_what_the_source_gives_for_the_same_thing() -> None:
    record = _record("Metoprolol 25 mg daily. Lisinopril 10 mg daily.",
                     "Metoprolol 50 mg daily and lisinopril 10 mg.")
    (flag,) = unsupported_numbers(record)
    assert flag.type == "unsupported_number"
    assert flag.detail == "'Metoprolol 50 mg' in the summary: the note gives 'Metoprolol 25 mg'."


def test_a_number_nowhere_in_the_source_is_said_to_be_absent() -> None:
    (flag,) = unsupported_numbers(_record("No fever.", "Peak 38.9 °C."))
    assert flag.span is not None and flag.span.text == "38.9 °C"
    assert flag.detail == "'38.9 °C' in the summary is not in the note."


def test_a_result_of_a_test_the_source_does_not_give_is_flagged() -> None:
    record = _record("Creatinine 1.8 mg/dL; follow up in 37 days.", "Cr 1.8, eGFR 37.")
    (flag,) = unsupported_numbers(record)
    assert flag.span is not None and flag.span.text == "37"
    assert flag.detail == "'eGFR 37' in the summary: the note gives no such result."


def test_a_number_with_a_unit_is_supported_by_the_same_bare_number() -> None:
    assert _flagged(unsupported_numbers, "Aspirin 81 daily.", "Aspirin 81 mg daily.") == []


def test_the_dose_of_a_medication_the_source_never_names_is_flagged_once() -> None:
    record = _record("Aspirin 81 mg daily.", "Aspirin 81 mg daily and warfarin 5 mg daily.")
    assert unsupported_numbers(record) == []
    assert [f.span.text for f in consistency_flags(record) if f.span] == ["warfarin"]


def test_a_bare_number_is_not_supported_by_another_number() -> None:
    assert _flagged(unsupported_numbers, "GCS 15.", "GCS 14.") == ["14"]


# --- unsupported_medication ---------------------------------------------------------------

MEDICATIONS_FLAGGED = [
    ("Started apixaban 5 mg twice daily.", "Started warfarin.", ["warfarin"]),
    ("Continue furosemide 40 mg.", "Continue Lasix 40 mg and Coumadin.", ["Coumadin"]),
    ("Home meds: lisinopril, metformin.", "Home meds: losartan, metformin.", ["losartan"]),
    ("Treated with oxycodone 5 mg.", "Treated with Percocet.", ["Percocet"]),
    ("On insulin lispro with meals.", "On insulin glargine at night.", ["insulin glargine"]),
    ("Given ASA 81 mg.", "Given aspirin and clopidogrel.", ["clopidogrel"]),
    ("Albuterol as needed.", "Albuterol and Spiriva as needed.", ["Spiriva"]),
    ("Levodopa 100 mg three times daily.", "Carbidopa-levodopa 25/100.", ["Carbidopa"]),
]

MEDICATIONS_SUPPORTED = [
    ("Continue furosemide 40 mg daily.", "Continue Lasix 40 mg daily."),
    ("Discharged on Eliquis 5 mg BID.", "Discharged on apixaban 5 mg twice daily."),
    ("Given aspirin 325 mg.", "Given ASA 325 mg."),
    ("Paracetamol 1 g four times daily.", "Acetaminophen 1 g QID."),
    ("Lantus 20 units at bedtime.", "Insulin 20 units at bedtime."),
    ("Augmentin 875 mg twice daily.", "Amoxicillin-clavulanate 875 mg BID."),
    ("Toprol-XL 50 mg daily.", "Metoprolol succinate 50 mg daily."),
    ("Statin and beta blocker continued.", "A statin and a beta-blocker were continued."),
    ("Sinemet 25/100 three times daily.", "Carbidopa-levodopa 25/100 TID."),
]


@pytest.mark.parametrize(("source", "output", "expected"), MEDICATIONS_FLAGGED)
def test_medications_the_source_does_not_name_are_flagged(
        source: str, output: str, expected: list[str]) -> None:
    assert _flagged(unsupported_medications, source, output) == expected


@pytest.mark.parametrize(("source", "output"), MEDICATIONS_SUPPORTED)
def test_brands_generics_and_abbreviations_support_each_other(source: str, output: str) -> None:
    assert _flagged(unsupported_medications, source, output) == []


def test_a_brand_flag_names_its_generic() -> None:
    (flag,) = unsupported_medications(_record("On warfarin.", "On Eliquis."))
    assert flag.type == "unsupported_medication"
    assert flag.detail == ("'Eliquis' (apixaban) in the summary: the note does not mention "
                           "apixaban under any name.")


def test_a_users_lexicon_file_replaces_or_extends_the_shipped_one(tmp_path: Path) -> None:
    path = tmp_path / "formulary.txt"
    path.write_text("# local list\nzorbamycin\nZorbex=zorbamycin\nDuozor=zorbamycin+apixaban\n",
                    encoding="utf-8")
    own = load_lexicon(path)
    assert own.generics_of("ZORBEX") == frozenset({"zorbamycin"})
    assert own.generics_of("warfarin") == frozenset()
    record = _record("Zorbamycin 1 g daily.", "Zorbex 1 g daily, then Duozor and warfarin.")
    assert [f.span.text for f in unsupported_medications(record, lexicon=own)
            if f.span] == ["Duozor"]
    both = load_lexicon(path, include_default=True)
    assert [f.span.text for f in unsupported_medications(record, lexicon=both)
            if f.span] == ["Duozor", "warfarin"]


def test_a_lexicon_line_that_cannot_be_read_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_text("aspirin\nA=b=c\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad\.txt, line 2: 'A=b=c' has more than one '='"):
        load_lexicon(path)
    with pytest.raises(InputError, match="no such file"):
        load_lexicon(tmp_path / "missing.txt")


def test_the_shipped_lexicon_maps_common_brands_to_generics() -> None:
    lexicon = default_lexicon()
    assert len(lexicon) > 600
    assert lexicon.generics_of("Eliquis") == frozenset({"apixaban"})
    assert lexicon.generics_of("lasix") == frozenset({"furosemide"})
    assert lexicon.generics_of("Entresto") == frozenset({"sacubitril", "valsartan"})
    assert lexicon.generics_of("HCTZ") == frozenset({"hydrochlorothiazide"})


# --- negation_conflict --------------------------------------------------------------------

NEGATIONS_FLAGGED = [
    ("Patient denies chest pain.", "Patient reports chest pain.", ["chest pain"]),
    ("No fever, chills or cough.", "Presented with fever.", ["fever"]),
    ("CT chest negative for PE.", "CT chest showed a PE.", ["PE"]),
    ("Pneumonia was ruled out.", "Treated for pneumonia.", ["pneumonia"]),
    ("No evidence of pneumothorax on chest X-ray.", "Small pneumothorax on chest X-ray.",
     ["pneumothorax"]),
    ("She came in without nausea.", "Nausea on arrival.", ["Nausea"]),
    ("Blood cultures were negative.", "Blood cultures grew E. coli.", ["Blood cultures"]),
    ("Reports productive cough and fever to 39.", "Denies cough.", ["cough"]),
    ("Complains of dysuria.", "No dysuria.", ["dysuria"]),
    ("Denies shortness of breath but reports palpitations.", "Shortness of breath on exertion.",
     ["Shortness of breath on exertion"]),
    ("Denies shortness of breath.", "Increasingly SOB.", ["SOB"]),
    ("No haemoptysis.", "Coughing up blood since Monday.", ["Coughing up blood"]),
    ("Melena for two days.", "There was no melena.", ["melena"]),
    ("DVT has been ruled out by ultrasound.", "Ultrasound confirmed a DVT.", ["DVT"]),
]

NEGATIONS_SUPPORTED = [
    ("Patient denies chest pain.", "No chest pain."),
    ("Pneumonia was ruled out.", "Pneumonia ruled out."),
    ("No fever, chills or cough.", "Afebrile; denies chills and cough."),
    ("No increase in leg edema.", "Leg edema, not increased."),
    ("Urine grew gram negative rods.", "Urine culture: gram negative rods."),
    ("Not only dyspnea but also orthopnea.", "Dyspnea and orthopnea."),
    ("Denies chest pain but reports palpitations.", "Palpitations; no chest pain."),
    ("Return if chest pain recurs.", "No chest pain at discharge."),
    ("Rule out pulmonary embolism.", "No pulmonary embolism was found."),
    ("Mother has breast cancer.", "No breast cancer."),
    ("Fever on admission; no fever since day two.", "Fever resolved, no fever at discharge."),
    ("No fever and the cough is improving.", "Cough is improving; afebrile."),
    ("Ambulating without difficulty.", "Walks, no difficulty reported."),
    ("No chest pain. Abdominal pain since Monday.", "Abdominal pain."),
    ("No night sweats.", "Atorvastatin 40 mg at night."),
    ("No pain in the calf; chest pain on exertion.", "Chest pain on exertion."),
    ("Ankle oedema and shortness of breath.", "Swollen ankles and SOB."),
    ("No evidence of pneumothorax on chest X-ray.", "Chest X-ray: no pneumothorax."),
]


@pytest.mark.parametrize(("source", "output", "expected"), NEGATIONS_FLAGGED)
def test_findings_present_in_one_text_and_absent_in_the_other_are_flagged(
        source: str, output: str, expected: list[str]) -> None:
    assert _flagged(negation_conflicts, source, output) == expected


@pytest.mark.parametrize(("source", "output"), NEGATIONS_SUPPORTED)
def test_faithful_negations_and_pseudo_negations_are_not_flagged(source: str, output: str) -> None:
    assert _flagged(negation_conflicts, source, output) == []


def test_a_negation_flag_quotes_the_sources_negation() -> None:
    (flag,) = negation_conflicts(_record("Denies chest pain.", "Chest pain at rest."))
    assert flag.type == "negation_conflict"
    assert flag.detail == ("'Chest pain' in the summary is stated as present; the note says it "
                           "is absent ('Denies chest pain').")


# --- laterality_conflict ------------------------------------------------------------------

LATERALITY_FLAGGED = [
    ("Left knee effusion.", "Right knee effusion.", ["Right knee"]),
    ("Left knee effusion.", "Effusion of the R knee.", ["R knee"]),
    ("Right lower lobe pneumonia.", "LLL pneumonia.", ["LLL"]),
    ("RLL consolidation.", "Consolidation in the left lower lobe.", ["left lower lobe"]),
    ("Fracture of the left distal radius.", "Right distal radius fracture.",
     ["Right distal radius"]),
    ("Bilateral lower extremity edema.", "Left leg edema.", ["Left leg"]),
    ("Pain in the hip on the right.", "Left hip pain.", ["Left hip"]),
    ("Left-sided weakness after the stroke.", "Right-sided weakness.", ["Right-sided weakness"]),
    ("Left knee effusion; right knee replaced in 2010.", "Right knee effusion.",
     ["Right knee"]),
    ("Crackles at the right lung base.", "Left lower lobe crackles.", ["Left lower lobe"]),
    ("RLQ tenderness.", "Tender left iliac fossa.", ["left iliac fossa"]),
    ("Right heart failure.", "Left heart failure.", ["Left heart failure"]),
    ("Right hemiparesis.", "Weakness of the left arm and leg.", ["left arm", "leg"]),
    ("Left-sided weakness of the arm and leg; reduced movement of the right shoulder.",
     "Limited left shoulder movement.", ["left shoulder"]),
    ("Left facial droop and a swollen right ankle.", "L ankle swelling.", ["L ankle"]),
]

LATERALITY_SUPPORTED = [
    ("Left knee effusion.", "L knee effusion."),
    ("Left knee effusion; right hip pain.", "Right hip pain and a left knee effusion."),
    ("Bilateral lower extremity edema.", "Edema of both legs."),
    ("RLL pneumonia.", "Right lower lobe pneumonia."),
    ("Knee effusion.", "Right knee effusion."),
    ("She left the hospital against advice. Right arm cellulitis.", "Right arm cellulitis."),
    ("Left knee pain.", "Knee pain on the left."),
    ("Left hemiparesis, reduced sensation in the right arm.",
     "Weakness of the left arm and leg; decreased sensation in the right arm."),
    ("Right calf swelling.", "Swelling of the right lower leg."),
    ("Bruit over the left carotid and right lower lobe crackles.",
     "Left carotid bruit and crackles at the right base."),
    ("Swelling of the right big toe joint; left ankle swelling.",
     "Right first MTP swelling and a swollen left ankle."),
]


@pytest.mark.parametrize(("source", "output", "expected"), LATERALITY_FLAGGED)
def test_a_body_part_given_another_side_is_flagged(
        source: str, output: str, expected: list[str]) -> None:
    assert _flagged(laterality_conflicts, source, output) == expected


@pytest.mark.parametrize(("source", "output"), LATERALITY_SUPPORTED)
def test_the_same_side_or_sides_of_different_parts_are_not_flagged(
        source: str, output: str) -> None:
    assert _flagged(laterality_conflicts, source, output) == []


def test_a_laterality_flag_says_which_side_the_source_gives() -> None:
    (flag,) = laterality_conflicts(_record("Left knee effusion.", "Right knee effusion."))
    assert flag.type == "laterality_conflict"
    assert flag.detail == ("'Right knee' in the summary: the note gives the left side "
                           "('Left knee effusion').")


# --- all four -----------------------------------------------------------------------------

def test_all_checks_run_together_in_output_order_without_duplicates() -> None:
    source = ("72-year-old man with left knee effusion. Denies chest pain. "
              "Discharged on apixaban 5 mg twice daily.")
    output = ("72-year-old man with right knee effusion and chest pain, discharged on "
              "Eliquis 10 mg twice daily and warfarin.")
    flags = consistency_flags(_record(source, output))
    assert [(f.type, f.span.text) for f in flags if f.span] == [
        ("laterality_conflict", "right knee"),
        ("negation_conflict", "chest pain"),
        ("unsupported_number", "10 mg"),
        ("unsupported_medication", "warfarin"),
    ]
    for flag in flags:
        assert flag.span is not None
        assert output[flag.span.start:flag.span.end] == flag.span.text


def test_a_faithful_summary_has_no_flags() -> None:
    source = ("HPI: 68-year-old woman admitted 02/03/2024 with 3 days of dyspnea. Denies chest "
              "pain or fever. Exam: bilateral lower extremity edema, left knee effusion.\n"
              "Labs: BNP 1,240, K 3.4 mmol/L. CXR: no pneumothorax, small right pleural "
              "effusion.\nPlan:\n1. Furosemide 40 mg IV twice daily\n2. Continue Eliquis 5 mg "
              "BID\n3. Follow up in 2 weeks.")
    output = ("68 yo woman admitted Feb 3, 2024 after three days of dyspnea, without chest pain "
              "or fever. Edema of both legs and an effusion of the left knee; small right "
              "pleural effusion, no pneumothorax. BNP 1240, potassium 3.4. Treated with IV "
              "Lasix 40 mg twice daily; apixaban 5 mg twice daily continued; follow-up in "
              "14 days.")
    assert consistency_flags(_record(source, output)) == []


def test_rag_answers_are_checked_against_the_joined_passages() -> None:
    record = Record(id="q1", task="rag", output="Give 0.5 mg/kg of dexamethasone.",
                    contexts=["Dexamethasone 0.6 mg/kg once.", "Maximum 16 mg."])
    (flag,) = consistency_flags(record)
    assert flag.type == "unsupported_number"
    assert flag.span is not None and flag.span.text == "0.5 mg/kg"
    assert "the retrieved passages" in flag.detail and "the answer" in flag.detail


def test_a_record_with_nothing_to_check_against_is_refused() -> None:
    record = Record(id="n-7", task="summarization", output="Aspirin 81 mg.")
    with pytest.raises(InputError, match="record 'n-7': no 'source' or 'contexts'"):
        consistency_flags(record)

"""Output structure: JSON that parses and meets its schema (violations named by JSON path, values
never quoted), and note sections found by their headings."""

from __future__ import annotations

import json
from typing import Any

import pytest

from assay.errors import InputError
from assay.genai._structure import json_validity, required_sections

SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["patient_age", "medications"],
    "additionalProperties": False,
    "properties": {
        "patient_age": {"type": "integer", "minimum": 0},
        "sex": {"enum": ["F", "M", "X"]},
        "medications": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "dose_mg"],
                "properties": {"name": {"type": "string"}, "dose_mg": {"type": "number"}},
            },
        },
    },
}


def test_valid_json_scores_one() -> None:
    assert json_validity('{"a": [1, 2.5, null, true]}').value == 1.0
    document = {"patient_age": 54, "sex": "F", "medications": [{"name": "apixaban",
                                                                 "dose_mg": 5}]}
    score = json_validity(json.dumps(document), SCHEMA)
    assert score.value == 1.0 and score.flags == ()


def test_invalid_json_points_at_the_character_where_parsing_failed() -> None:
    output = '{"dose": 5,}'
    score = json_validity(output)
    assert score.value == 0.0
    (flag,) = score.flags
    assert flag.type == "invalid_json"
    assert flag.span is not None and (flag.span.start, flag.span.text) == (11, "}")
    assert output[flag.span.start:flag.span.end] == flag.span.text
    assert flag.detail == ("not valid JSON: Expecting property name enclosed in double quotes "
                           "(line 1, column 12)")


@pytest.mark.parametrize("output", ['{"a": [1, 2', "", '{"dose": NaN}', "[Infinity]"])
def test_truncated_or_non_standard_json_is_invalid(output: str) -> None:
    score = json_validity(output)
    assert score.value == 0.0 and score.flags[0].type == "invalid_json"
    assert score.flags[0].span is None


def test_schema_violations_are_named_by_json_path() -> None:
    document = {
        "patient_age": -3,
        "sex": "female",
        "medications": [{"name": "apixaban", "dose_mg": 5}, {"name": "metformin",
                                                              "dose_mg": "500 mg"}, {"dose_mg": 1}],
        "ward": "4B",
    }
    score = json_validity(json.dumps(document), SCHEMA)
    assert score.value == 0.0
    assert {flag.type for flag in score.flags} == {"schema_violation"}
    assert [flag.detail for flag in score.flags] == [
        "$: Additional properties are not allowed ('ward' was unexpected)",
        "$.medications[1].dose_mg: should be of type number, found string",
        "$.medications[2]: 'name' is a required property",
        "$.patient_age: breaks the schema rule 'minimum': 0",
        '$.sex: is not one of the allowed values ["F", "M", "X"]',
    ]
    assert all(flag.span is None for flag in score.flags)


def test_missing_required_fields_at_the_top() -> None:
    score = json_validity("{}", SCHEMA)
    assert [flag.detail for flag in score.flags] == [
        "$: 'patient_age' is a required property", "$: 'medications' is a required property"]
    wrong_type = json_validity("[1, 2]", SCHEMA)
    assert [flag.detail for flag in wrong_type.flags] == [
        "$: should be of type object, found array"]


def test_values_are_never_quoted_in_violations() -> None:
    document = {"patient_age": "Maria Lopez, 4 Elm Street", "medications": []}
    score = json_validity(json.dumps(document), SCHEMA)
    assert [flag.detail for flag in score.flags] == [
        "$.patient_age: should be of type integer, found string"]


def test_a_code_fence_is_accepted_only_when_asked() -> None:
    fenced = '```json\n{"patient_age": 40, "medications": []}\n```\n'
    assert json_validity(fenced).value == 0.0
    assert json_validity(fenced, SCHEMA, code_fence=True).value == 1.0
    broken = '```json\n{"patient_age" 40}\n```'
    flag = json_validity(broken, code_fence=True).flags[0]
    assert flag.span is not None and flag.span.start == 23
    assert flag.detail == "not valid JSON: Expecting ':' delimiter (line 2, column 16)"
    assert broken[flag.span.start:flag.span.end] == flag.span.text == "4"


def test_a_bad_schema_is_an_input_error() -> None:
    with pytest.raises(InputError, match="the JSON Schema is not valid"):
        json_validity("{}", {"type": "banana"})
    with pytest.raises(InputError, match="must be a JSON Schema object"):
        json_validity("{}", ["type", "object"])  # type: ignore[arg-type]


NOTE = """## Assessment
Community-acquired pneumonia, improving.
**Plan:** oral amoxicillin for 5 days
2. Allergies: none known
FOLLOW UP
Plan to review in clinic.
"""


@pytest.mark.parametrize(
    ("sections", "value", "missing"),
    [
        (["Assessment", "Plan", "Allergies", "Follow up"], 1.0, []),
        (["assessment", "PLAN"], 1.0, []),
        (["Assessment", "Medications", "Plan", "Social history"], 0.5,
         ["Medications", "Social history"]),
        (["Community"], 0.0, ["Community"]),  # a line that starts with the word is not a heading
        (["Assessment and Plan"], 0.0, ["Assessment and Plan"]),
    ],
)
def test_required_sections(sections: list[str], value: float, missing: list[str]) -> None:
    score = required_sections(NOTE, sections)
    assert score.value == pytest.approx(value)
    assert [flag.detail for flag in score.flags] == [f"no '{name}' heading" for name in missing]
    assert all(flag.type == "missing_section" and flag.span is None for flag in score.flags)


def test_a_combined_heading_is_found_by_its_own_name() -> None:
    note = "Subjective: cough\nAssessment  and   plan:\nviral, rest"
    assert required_sections(note, ["Assessment and Plan", "Subjective"]).value == 1.0
    assert required_sections(note, ["Plan"]).value == 0.0


def test_required_sections_refuses_a_bare_string_or_nothing() -> None:
    with pytest.raises(InputError, match="list of section names"):
        required_sections(NOTE, "Plan")
    with pytest.raises(InputError, match="at least one section"):
        required_sections(NOTE, [])

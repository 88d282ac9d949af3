"""The shape of an output: JSON that parses and meets a schema, notes with their sections.

Schema violations are described by the JSON path of the offending value and the schema rule it
breaks, never by the value itself (an extracted value may be PHI). ``format`` is treated as an
annotation, as JSON Schema specifies by default, and is not checked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from assay.errors import InputError, MissingExtraError
from assay.genai._rag import Score
from assay.genai._records import Flag, Span

__all__ = ["json_validity", "required_sections"]

_CODE_FENCE = re.compile(r"\A\s*```[\w-]*[ \t]*\n(.*?)\n?[ \t]*```\s*\Z", re.DOTALL)
_RULE_VALUE_CHARACTERS = 80
_JSON_TYPES = ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"),
               (list, "array"), (dict, "object"), (type(None), "null"))


class _NotJson(ValueError):
    """``NaN``, ``Infinity`` and ``-Infinity``: accepted by Python's parser, not by JSON."""


def _reject_constant(name: str) -> Any:
    raise _NotJson(f"{name} is not a JSON value")


def _json_type(value: Any) -> str:
    return next(name for kind, name in _JSON_TYPES if isinstance(value, kind))


def _validator(schema: Mapping[str, Any] | bool) -> Any:
    try:
        from jsonschema import SchemaError
        from jsonschema.validators import validator_for
    except ImportError as exc:
        raise MissingExtraError("genai", "jsonschema") from exc
    if not isinstance(schema, Mapping | bool):
        raise InputError(f"schema must be a JSON Schema object (got {type(schema).__name__})")
    validator_class = validator_for(schema)
    try:
        validator_class.check_schema(schema)
    except SchemaError as exc:
        raise InputError(f"the JSON Schema is not valid: {exc.message}") from exc
    return validator_class(schema)


def _rule_broken(error: Any) -> str:
    """What the value at the path fails, said without quoting the value."""
    rule, expected = error.validator, error.validator_value
    if rule in ("required", "additionalProperties", "dependentRequired", "unevaluatedProperties"):
        return str(error.message)
    if rule == "type":
        return f"should be of type {expected}, found {_json_type(error.instance)}"
    shown = json.dumps(expected, default=str)
    if len(shown) > _RULE_VALUE_CHARACTERS:
        shown = shown[:_RULE_VALUE_CHARACTERS] + "..."
    if rule == "enum":
        return f"is not one of the allowed values {shown}"
    return f"breaks the schema rule '{rule}': {shown}"


def json_validity(
    output: str, schema: Mapping[str, Any] | bool | None = None, *, code_fence: bool = False
) -> Score:
    """Whether an output is valid JSON and, when a JSON Schema is given, meets it (1 or 0).

    An output that does not parse gets an ``invalid_json`` flag whose span is the character
    where parsing failed (None when the text ended too early); every schema violation gets a
    ``schema_violation`` flag whose detail starts with the JSON path of the value (``$`` is the
    whole document, ``$.medications[0].dose`` a field). ``NaN`` and ``Infinity`` are not JSON.

    Parameters
    ----------
    output
        The text the application produced.
    schema
        A JSON Schema (any draft jsonschema knows; ``$schema`` picks it, else the latest).
    code_fence
        Also accept the JSON inside one markdown code fence (```` ```json ... ``` ````).

    Examples
    --------
    >>> schema = {"type": "object", "required": ["dose"],
    ...           "properties": {"dose": {"type": "number"}}}
    >>> score = json_validity('{"dose": "five"}', schema)
    >>> score.value, score.flags[0].detail
    (0.0, '$.dose: should be of type number, found string')
    """
    validator = _validator(schema) if schema is not None else None
    offset, body = 0, output
    fenced = _CODE_FENCE.match(output) if code_fence else None
    if fenced:
        offset, body = fenced.start(1), fenced.group(1)
    try:
        document = json.loads(body, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        position = offset + exc.pos
        span = (Span(start=position, end=position + 1, text=output[position])
                if position < len(output) else None)
        line = output.count("\n", 0, position) + 1
        column = position - output.rfind("\n", 0, position)
        detail = f"not valid JSON: {exc.msg} (line {line}, column {column})"
        return Score(value=0.0, flags=(Flag(type="invalid_json", span=span, detail=detail),))
    except _NotJson as exc:
        return Score(value=0.0, flags=(Flag(type="invalid_json", span=None,
                                            detail=f"not valid JSON: {exc}"),))
    if validator is None:
        return Score(value=1.0)
    errors = sorted(validator.iter_errors(document),
                    key=lambda error: (error.json_path, str(error.validator)))
    flags = tuple(
        Flag(type="schema_violation", span=None, detail=f"{error.json_path}: {_rule_broken(error)}")
        for error in errors
    )
    return Score(value=0.0 if flags else 1.0, flags=flags)


def _heading(section: str) -> re.Pattern[str]:
    name = r"\s+".join(re.escape(word) for word in section.split())
    return re.compile(
        rf"^[ \t]*(?:#{{1,6}}[ \t]*)?(?:\d+[.)][ \t]*)?(?:\*\*|__)?[ \t]*{name}"
        r"[ \t]*(?:\*\*|__)?[ \t]*(?::|$)",
        re.IGNORECASE | re.MULTILINE,
    )


def required_sections(output: str, sections: Sequence[str]) -> Score:
    """The share of the required sections that a note has, each found by its heading.

    A heading is the section name at the start of a line, in any case, optionally after
    markdown ``#`` marks or a number (``2.``) and in bold, followed by a colon or the end of the
    line: ``Assessment:``, ``## PLAN``, ``**Plan:** follow up``. ``Plan to discharge`` is a
    sentence, not a heading. Every missing section gets a ``missing_section`` flag.

    Examples
    --------
    >>> score = required_sections("## Assessment\\nStable.\\nPLAN: home", ["Assessment", "Plan",
    ...                                                                   "Medications"])
    >>> round(score.value, 4), [flag.detail for flag in score.flags]
    (0.6667, ["no 'Medications' heading"])
    """
    if isinstance(sections, str) or not isinstance(sections, Sequence):
        raise InputError("sections must be a list of section names, such as ['Assessment', "
                         f"'Plan'] (got {type(sections).__name__})")
    names = list(dict.fromkeys(str(section).strip() for section in sections))
    if not names or not all(names):
        raise InputError("sections must name at least one section, and no name may be empty")
    flags = tuple(
        Flag(type="missing_section", span=None, detail=f"no '{name}' heading")
        for name in names if _heading(name).search(output) is None
    )
    return Score(value=(len(names) - len(flags)) / len(names), flags=flags)

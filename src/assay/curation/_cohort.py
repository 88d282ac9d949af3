"""A cohort chosen by ordered inclusion and exclusion steps: :func:`build_cohort`.

Each step is a boolean expression over the columns (``age >= 18``,
``discharge_disposition == 'Died'``, ``creatinine_mg_dl.isna()``) with a reason in the reader's
words. ``include`` keeps the rows where the expression holds, ``exclude`` drops them. Running the
steps in order gives the final rows and the attrition table (n before, excluded, n after per
step), the record a CONSORT-style flow diagram is drawn from (:mod:`assay.curation._flow`).

Expressions are checked before anything runs: they may use column names, literals, comparisons,
``and``/``or``/``not``, arithmetic and a few column methods (:data:`ALLOWED_METHODS`); names
starting with ``_``, other attributes and calls, and ``@`` variables are refused. They are then
evaluated by pandas with its Python engine and no local or global variables.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from assay._yaml import describe_validation_error, load_yaml_mapping, read_yaml_file
from assay.data._fingerprint import json_fingerprint
from assay.errors import InputError, PlanError

StepKind = Literal["include", "exclude"]

ALLOWED_METHODS = frozenset({
    "isna", "notna", "isnull", "notnull", "between", "isin", "duplicated",
    "contains", "startswith", "endswith", "fullmatch", "match"})
"""Column methods an expression may call (the last five through ``.str``)."""

_STRING_METHODS = frozenset({"contains", "startswith", "endswith", "fullmatch", "match"})
_BACKTICK = re.compile(r"`([^`]+)`")
_ALLOWED_NODES = (
    ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub, ast.UAdd,
    ast.Invert, ast.BinOp, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow,
    ast.BitAnd, ast.BitOr, ast.Compare, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE,
    ast.In, ast.NotIn, ast.Name, ast.Load, ast.Constant, ast.List, ast.Tuple, ast.Call,
    ast.Attribute)


class CohortStep(BaseModel):
    """One step: ``include`` or ``exclude`` the rows where ``expression`` holds."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    include: str | None = None
    exclude: str | None = None
    reason: str = Field(min_length=1)

    @model_validator(mode="after")
    def _one_kind(self) -> CohortStep:
        if (self.include is None) == (self.exclude is None):
            raise ValueError("a step has exactly one of 'include:' or 'exclude:'")
        if not self.expression.strip():
            raise ValueError(f"the {self.kind} expression is empty")
        return self

    @property
    def kind(self) -> StepKind:
        """``include`` or ``exclude``."""
        return "include" if self.include is not None else "exclude"

    @property
    def expression(self) -> str:
        """The boolean expression over the columns."""
        return self.include if self.include is not None else (self.exclude or "")


class CohortSpec(BaseModel):
    """A named, ordered list of inclusion and exclusion steps.

    ``count_by`` names a column of units counted besides rows (``patient_id`` when rows are
    encounters): the attrition table then also gives the distinct units before and after each
    step.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    steps: tuple[CohortStep, ...] = Field(min_length=1)
    count_by: str | None = None
    description: str | None = None

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the spec's canonical JSON: equal specs have equal fingerprints."""
        return json_fingerprint(self.model_dump(mode="json", exclude_none=True))

    @classmethod
    def load(cls, path: str | Path) -> CohortSpec:
        """Read a cohort spec from a YAML file; errors name the file, line and field."""
        path = Path(path)
        return cls.from_yaml(read_yaml_file(path, "cohort"), source=str(path))

    @classmethod
    def from_yaml(cls, text: str, *, source: str = "<cohort>") -> CohortSpec:
        """Read a cohort spec from YAML text; ``source`` names it in error messages.

        Raises
        ------
        PlanError
            on malformed YAML or an invalid field, naming the line and field
            (``cohort.yaml line 5, steps[1]: ...``).
        """
        document, lines = load_yaml_mapping(
            text, source, "a cohort is a YAML mapping with 'name:' and 'steps:'")
        return cls.from_dict(document, source=source, lines=lines)

    @classmethod
    def from_dict(cls, document: Mapping[str, Any], *, source: str = "<cohort>",
                  lines: dict[tuple[Any, ...], int] | None = None) -> CohortSpec:
        """Validate a cohort spec given as a mapping; errors name the field.

        Expressions are checked for what they may contain here, and against the columns by
        :func:`build_cohort`.
        """
        lines = lines or {}
        try:
            spec = cls.model_validate(dict(document))
        except ValidationError as exc:
            raise PlanError(describe_validation_error(exc, source, lines,
                                                      what="cohort")) from exc
        for index, step in enumerate(spec.steps):
            try:
                check_expression(step.expression, index + 1)
            except InputError as exc:
                line = lines.get(("steps", index, step.kind))
                where = f"{source}" + (f" line {line}" if line else "")
                raise PlanError(f"{where}, steps[{index}].{step.kind}: {exc}") from exc
        return spec


class AttritionStep(BaseModel):
    """One row of the attrition table.

    ``n_*`` count rows. With a ``count_by`` column, ``units_*`` count its distinct values;
    ``units_excluded`` is the units that lost all their rows at this step.
    """

    model_config = ConfigDict(frozen=True)

    step: int
    kind: StepKind
    expression: str
    reason: str
    n_before: int
    n_excluded: int
    n_after: int
    units_before: int | None = None
    units_excluded: int | None = None
    units_after: int | None = None


class Attrition(BaseModel):
    """The stored record of a cohort's selection: counts only, never a row of the data."""

    model_config = ConfigDict(frozen=True)

    name: str
    spec_fingerprint: str
    n_start: int
    count_by: str | None = None
    units_start: int | None = None
    steps: tuple[AttritionStep, ...]

    @property
    def n_final(self) -> int:
        """Rows left after the last step."""
        return self.steps[-1].n_after if self.steps else self.n_start

    @property
    def units_final(self) -> int | None:
        """Distinct ``count_by`` units left after the last step."""
        return self.steps[-1].units_after if self.steps else self.units_start

    def to_frame(self) -> pd.DataFrame:
        """The attrition table, one row per step."""
        columns = ["step", "kind", "reason", "expression", "n_before", "n_excluded", "n_after"]
        if self.count_by is not None:
            columns += ["units_before", "units_excluded", "units_after"]
        rows = [step.model_dump() for step in self.steps]
        return pd.DataFrame(rows, columns=columns)


@dataclass(frozen=True)
class Cohort:
    """The rows that passed every step and the attrition record of how they were chosen."""

    frame: pd.DataFrame
    attrition: Attrition
    spec: CohortSpec

    def attrition_table(self) -> pd.DataFrame:
        """:meth:`Attrition.to_frame` of the record."""
        return self.attrition.to_frame()


def check_expression(expression: str, step: int, columns: list[str] | None = None) -> None:
    """Refuse an expression that is not a plain boolean formula over the columns.

    Raises
    ------
    InputError
        naming the step number and the expression: a syntax error, a name or call outside what
        is allowed, or (when ``columns`` is given) a column the data does not have.
    """
    quoted = {f"_backtick_{i}": name for i, name in enumerate(_BACKTICK.findall(expression))}
    text = expression
    for placeholder, name in quoted.items():
        text = text.replace(f"`{name}`", placeholder, 1)

    def fail(problem: str) -> InputError:
        return InputError(f"cohort step {step}, expression {expression!r}: {problem}")

    if "@" in text:
        raise fail("'@' variables are not allowed; write the value itself")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise fail(f"not a valid expression ({exc.msg})") from exc
    names: list[str] = []
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise fail(f"{type(node).__name__} is not allowed in a cohort expression")
        if isinstance(node, ast.Name):
            if node.id.startswith("_") and node.id not in quoted:
                raise fail(f"the name {node.id!r} is not allowed")
            names.append(quoted.get(node.id, node.id))
        elif isinstance(node, ast.Attribute):
            if node.attr not in ALLOWED_METHODS and node.attr != "str":
                raise fail(f"'.{node.attr}' is not allowed (allowed methods: "
                           f"{', '.join(sorted(ALLOWED_METHODS))})")
        elif isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Attribute) or node.func.attr not in ALLOWED_METHODS:
                raise fail("only the column methods "
                           f"{', '.join(sorted(ALLOWED_METHODS))} may be called")
            if node.keywords:
                raise fail(f"'.{node.func.attr}()' takes positional arguments only here")
            target = node.func.value
            is_string = isinstance(target, ast.Attribute) and target.attr == "str"
            if (node.func.attr in _STRING_METHODS) != is_string:
                raise fail(f"'.{node.func.attr}()' must be called as "
                           + ("column.str." if node.func.attr in _STRING_METHODS else "column.")
                           + f"{node.func.attr}(...)")
    if columns is not None:
        unknown = [name for name in dict.fromkeys(names)
                   if name not in columns and name not in ("True", "False")]
        if unknown:
            raise fail(f"unknown column{'s' if len(unknown) > 1 else ''} "
                       f"{', '.join(map(repr, unknown))} (the data has {len(columns)} columns: "
                       f"{', '.join(columns[:12])}{', ...' if len(columns) > 12 else ''})")


def step_mask(frame: pd.DataFrame, expression: str, step: int) -> pd.Series:
    """The rows where ``expression`` holds, as a boolean Series aligned with ``frame``.

    Raises
    ------
    InputError
        naming the step and the expression when it is refused by :func:`check_expression`,
        fails to evaluate, or does not give one True/False per row (a missing value counts as
        neither).
    """
    check_expression(expression, step, [str(c) for c in frame.columns])
    try:
        result = frame.eval(expression, engine="python", local_dict={}, global_dict={})
    except Exception as exc:  # pandas raises many types; all mean the expression is unusable
        raise InputError(f"cohort step {step}, expression {expression!r}: cannot be "
                         f"evaluated ({type(exc).__name__}: {exc})") from exc
    if not isinstance(result, pd.Series) or len(result) != len(frame):
        raise InputError(f"cohort step {step}, expression {expression!r}: must give True or "
                         f"False for each row, got {type(result).__name__}")
    if not pd.api.types.is_bool_dtype(result.dtype):
        raise InputError(f"cohort step {step}, expression {expression!r}: must give True or "
                         f"False for each row, got values of type {result.dtype}")
    if result.isna().any():
        raise InputError(f"cohort step {step}, expression {expression!r}: gives a missing "
                         f"value for {int(result.isna().sum())} rows; say what to do with "
                         "them, e.g. add 'or column.isna()'")
    return result.astype(bool)


def build_cohort(frame: pd.DataFrame, spec: CohortSpec, *, count_by: str | None = None
                 ) -> Cohort:
    """Apply the spec's steps in order and record the attrition.

    Parameters
    ----------
    frame
        The source rows (not changed).
    spec
        The steps. Every expression is checked against the columns before the first runs.
    count_by
        A column of units to count besides rows (overrides ``spec.count_by``).

    Returns
    -------
    Cohort
        The rows left, with the original index, and the attrition record.

    Raises
    ------
    InputError
        on a step whose expression is refused or does not give True/False per row (naming the
        step number and expression), or a ``count_by`` column the data does not have.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"patient_id": ["a", "a", "b", "c"], "age": [70, 71, 15, 40]})
    >>> spec = CohortSpec(name="adults", count_by="patient_id",
    ...                   steps=[CohortStep(include="age >= 18", reason="Adults")])
    >>> cohort = build_cohort(frame, spec)
    >>> step = cohort.attrition.steps[0]
    >>> step.n_before, step.n_excluded, step.n_after, step.units_after
    (4, 1, 3, 2)
    """
    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"build_cohort needs a pandas DataFrame, got {type(frame).__name__}")
    columns = [str(c) for c in frame.columns]
    for number, step in enumerate(spec.steps, start=1):
        check_expression(step.expression, number, columns)
    unit = count_by if count_by is not None else spec.count_by
    if unit is not None and unit not in columns:
        raise InputError(f"count_by column {unit!r} is not in the data")

    def units(rows: pd.DataFrame) -> int | None:
        return None if unit is None else int(rows[unit].nunique(dropna=True))

    current = frame
    records = []
    for number, step in enumerate(spec.steps, start=1):
        mask = step_mask(current, step.expression, number)
        kept = current[mask] if step.kind == "include" else current[~mask]
        before, after = units(current), units(kept)
        records.append(AttritionStep(
            step=number, kind=step.kind, expression=step.expression, reason=step.reason,
            n_before=len(current), n_excluded=len(current) - len(kept), n_after=len(kept),
            units_before=before, units_after=after,
            units_excluded=None if before is None or after is None else before - after))
        current = kept
    attrition = Attrition(name=spec.name, spec_fingerprint=spec.fingerprint, n_start=len(frame),
                          count_by=unit, units_start=units(frame), steps=tuple(records))
    return Cohort(frame=current, attrition=attrition, spec=spec)

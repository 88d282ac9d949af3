"""Quality rules as a plan lists them: read from plain dicts and run on a table in order.

A plan lists its rules in YAML, one dict each::

    - {rule: not_null, column: patient_id}
    - {rule: range, column: age, min: 18, max: 120}
    - {rule: order, earlier: admitted_at, later: discharged_at}
    - {rule: referential, column: patient_id, table: patients, table_column: patient_id}

:func:`run_rules` checks each and returns one :class:`Finding` per rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd
from pydantic import BaseModel, TypeAdapter, ValidationError

from assay._yaml import describe_validation_error
from assay.curation._rules import _RULE_NAMES, Finding, QualityRule, ReferentialRule
from assay.errors import PlanError

__all__ = ["rule_from_dict", "rules_from_dicts", "run_rules"]

_RULES: TypeAdapter[QualityRule] = TypeAdapter(QualityRule)


def rule_from_dict(document: Mapping[str, Any], *, source: str = "quality rule") -> QualityRule:
    """Read one rule from a dict such as ``{"rule": "range", "column": "age", "min": 18}``.

    Raises
    ------
    PlanError
        If the rule is unknown or a field is missing or wrong; the message names the field.

    Examples
    --------
    >>> rule_from_dict({"rule": "range", "column": "age", "min": 18, "max": 120})
    RangeRule(severity='fail', rule='range', column='age', min=18.0, max=120.0)
    """
    if not isinstance(document, Mapping) or document.get("rule") not in _RULE_NAMES:
        found = document.get("rule") if isinstance(document, Mapping) else document
        raise PlanError(f"{source}: 'rule' must be one of {', '.join(_RULE_NAMES)} "
                        f"(got {found!r})")
    try:
        return _RULES.validate_python(dict(document))
    except ValidationError as exc:
        raise PlanError(describe_validation_error(exc, source, {}, what="rule",
                                                  tags=_RULE_NAMES)) from exc


def rules_from_dicts(documents: Iterable[Mapping[str, Any]]) -> list[QualityRule]:
    """Read a list of rules; an error names the position of the rule that is wrong."""
    return [rule_from_dict(document, source=f"quality rule {number}")
            for number, document in enumerate(documents, start=1)]


def run_rules(
    frame: pd.DataFrame,
    rules: Iterable[QualityRule | Mapping[str, Any]],
    *,
    tables: Mapping[str, pd.DataFrame] | None = None,
) -> list[Finding]:
    """Check every rule on a table, in order; one finding per rule.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table to check.
    rules : iterable of rules or of dicts
        Rule specs, or dicts read with :func:`rule_from_dict`.
    tables : Mapping[str, pandas.DataFrame] or None
        Other tables by name, for ``referential`` rules.

    Returns
    -------
    list[Finding]
        One finding per rule, in the order of ``rules``.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"age": [34, 17, 150, None]})
    >>> [finding] = run_rules(frame, [{"rule": "range", "column": "age", "min": 18, "max": 120}])
    >>> finding.status, finding.n_rows, finding.examples
    ('fail', 2, (1, 2))
    """
    findings = []
    for number, item in enumerate(rules, start=1):
        rule = item if isinstance(item, BaseModel) else rule_from_dict(
            item, source=f"quality rule {number}")
        if isinstance(rule, ReferentialRule):
            findings.append(rule.check(frame, tables))
        else:
            findings.append(rule.check(frame))
    return findings

"""JUnit XML for CI systems: one test case per check of a Run.

Mapping of check statuses to JUnit:

========  =========================================================
pass      a test case with no child element
warn      passes, with the warning in ``<system-out>``
fail      ``<failure message="reason">`` with the evidence as text
error     ``<error message="reason">`` (the check could not be evaluated)
skipped   ``<skipped message="reason">``
========  =========================================================

The output depends only on the Run, so the same Run always gives the same bytes.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from assay.reports._format import format_interval, format_value, interval_text, p_value_text

if TYPE_CHECKING:
    from assay.checks import CheckResult, Run

__all__ = ["JUnitCase", "junit_document", "render_junit"]


def render_junit(run: Run) -> str:
    """Render a Run as JUnit XML.

    Parameters
    ----------
    run
        The run to report.

    Returns
    -------
    str
        An XML document with one ``<testsuite>`` named after the plan and one ``<testcase>``
        per check; ``tests``, ``failures``, ``errors`` and ``skipped`` count the checks.

    Examples
    --------
    Usually through the Run, which also writes the file::

        xml = run.to_junit("assay-junit.xml")
    """
    total = run.timings.get("total", sum(run.timings.values()))
    cases = [JUnitCase(
        classname=f"{run.plan.name}.{r.score}" if r.kind == "metric" and r.score
        else f"{run.plan.name}.{r.kind}", name=r.id, status=r.status, reason=r.reason,
        evidence=_evidence(r)) for r in run.results]
    return junit_document(run.plan.name, _properties(run), cases, seconds=total,
                          timestamp=run.started_at)


@dataclass(frozen=True)
class JUnitCase:
    """One test case: a check's status, reason and the evidence written under it."""

    classname: str
    name: str
    status: str
    reason: str
    evidence: str = ""


def junit_document(suite: str, properties: Sequence[tuple[str, str]],
                   cases: Sequence[JUnitCase], *, seconds: float | None = None,
                   timestamp: datetime | None = None) -> str:
    """A JUnit XML document of one suite (statuses mapped as in the module notes); the same
    arguments always give the same bytes."""
    counted = Counter(case.status for case in cases)
    counts = {"tests": str(len(cases)), "failures": str(counted["fail"]),
              "errors": str(counted["error"]), "skipped": str(counted["skipped"])}
    time_text = {"time": f"{seconds:.3f}" if seconds is not None else "0"}
    suites = ET.Element("testsuites", {"name": "assay", **counts, **time_text})
    attributes = {"name": suite, **counts, **time_text}
    if timestamp is not None:
        attributes["timestamp"] = timestamp.isoformat()
    element = ET.SubElement(suites, "testsuite", attributes)
    listed = ET.SubElement(element, "properties")
    for name, value in properties:
        ET.SubElement(listed, "property", {"name": name, "value": value})
    for case in cases:
        _testcase(element, case)
    ET.indent(suites, space="  ")
    body = ET.tostring(suites, encoding="unicode", short_empty_elements=True)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


def _properties(run: Run) -> list[tuple[str, str]]:
    return [
        ("plan_version", run.plan.version),
        ("plan_fingerprint", run.plan_fingerprint),
        ("data_source", run.data.source),
        ("data_fingerprint", run.data.fingerprint),
        ("n", str(run.data.n)),
        ("n_events", "" if run.data.n_events is None else str(run.data.n_events)),
        ("seed", str(run.seed)),
        ("level", f"{run.level:g}"),
        ("assay_version", run.assay_version),
    ]


def _testcase(suite: ET.Element, case: JUnitCase) -> None:
    element = ET.SubElement(suite, "testcase", {"classname": case.classname,
                                                "name": case.name, "time": "0"})
    if case.status == "fail":
        ET.SubElement(element, "failure", {"message": case.reason, "type": "CheckFailed"}
                      ).text = case.evidence or case.reason
    elif case.status == "error":
        ET.SubElement(element, "error", {"message": case.reason, "type": "CheckError"}
                      ).text = case.evidence or case.reason
    elif case.status == "skipped":
        ET.SubElement(element, "skipped", {"message": case.reason})
    elif case.status == "warn":
        ET.SubElement(element, "system-out").text = (
            f"WARNING: {case.reason}" + (f"\n{case.evidence}" if case.evidence else ""))


def _evidence(result: CheckResult) -> str:
    lines = [result.title]
    if result.estimate is not None:
        lines.append(f"estimate: {format_interval(result.estimate, level=result.estimate.level)}"
                     f" [{result.estimate.method}, n = {result.estimate.n:,}]")
    if result.comparison is not None:
        c = result.comparison
        lines.append(f"difference {c.a} − {c.b}: {format_value(c.difference)} "
                     f"({interval_text(c.ci_low, c.ci_high)}), {p_value_text(c.p_value)} "
                     f"[{c.method}, n = {c.n:,}]")
    if result.fairness is not None:
        for table in result.fairness.tables:
            for row in table.rows:
                ratio = (f"ratio {format_value(row.ratio)} "
                         f"({interval_text(row.ratio_ci_low, row.ratio_ci_high)})"
                         if row.ratio is not None else row.reason or "")
                lines.append(f"{table.metric} {table.attribute}={row.group_value}: "
                             f"{row.band_status}, {ratio}")
    if result.condition:
        lines.append(f"condition: {result.condition}")
    if result.warning:
        lines.append(f"warning condition: {result.warning}")
    return "\n".join(lines)

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
from typing import TYPE_CHECKING

from assay.reports._format import format_interval, format_value, interval_text, p_value_text

if TYPE_CHECKING:
    from assay.checks import CheckResult, Run

__all__ = ["render_junit"]


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
    counts = {
        "tests": str(len(run.results)),
        "failures": str(run.counts["fail"]),
        "errors": str(run.counts["error"]),
        "skipped": str(run.counts["skipped"]),
    }
    total = run.timings.get("total", sum(run.timings.values()))
    suites = ET.Element("testsuites", {"name": "assay", **counts, "time": f"{total:.3f}"})
    suite_attributes = {"name": run.plan.name, **counts, "time": f"{total:.3f}"}
    if run.started_at is not None:
        suite_attributes["timestamp"] = run.started_at.isoformat()
    suite = ET.SubElement(suites, "testsuite", suite_attributes)
    properties = ET.SubElement(suite, "properties")
    for name, value in _properties(run):
        ET.SubElement(properties, "property", {"name": name, "value": value})
    for result in run.results:
        _testcase(suite, run.plan.name, result)
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


def _testcase(suite: ET.Element, plan: str, result: CheckResult) -> None:
    classname = f"{plan}.{result.score}" if result.kind == "metric" and result.score else (
        f"{plan}.{result.kind}")
    case = ET.SubElement(suite, "testcase", {"classname": classname, "name": result.id,
                                             "time": "0"})
    evidence = _evidence(result)
    if result.status == "fail":
        ET.SubElement(case, "failure", {"message": result.reason, "type": "CheckFailed"}
                      ).text = evidence
    elif result.status == "error":
        ET.SubElement(case, "error", {"message": result.reason, "type": "CheckError"}
                      ).text = evidence
    elif result.status == "skipped":
        ET.SubElement(case, "skipped", {"message": result.reason})
    elif result.status == "warn":
        ET.SubElement(case, "system-out").text = f"WARNING: {result.reason}\n{evidence}"


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

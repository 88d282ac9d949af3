from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from assay.checks import Run
from assay.reports import render_junit


def _suite(xml: str) -> ET.Element:
    root = ET.fromstring(xml)
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    return suite


def test_counts_in_attributes_match_the_run(run: Run) -> None:
    xml = render_junit(run)
    root = ET.fromstring(xml)
    suite = _suite(xml)
    for element in (root, suite):
        assert element.get("tests") == str(len(run.results)) == "7"
        assert element.get("failures") == str(run.counts["fail"]) == "1"
        assert element.get("errors") == str(run.counts["error"]) == "1"
        assert element.get("skipped") == str(run.counts["skipped"]) == "1"
    assert suite.get("name") == "Readmission risk validation"
    assert len(suite.findall("testcase")) == 7
    assert len(suite.findall("testcase/failure")) == 1
    assert len(suite.findall("testcase/error")) == 1
    assert len(suite.findall("testcase/skipped")) == 1


def test_each_status_maps_to_its_junit_element(run: Run) -> None:
    cases = {case.get("name"): case for case in _suite(render_junit(run)).iter("testcase")}
    assert set(cases) == {r.id for r in run.results}
    by_id = {r.id: r for r in run.results}

    failure = cases["sensitivity-high-risk"].find("failure")
    assert failure is not None
    assert failure.get("message") == by_id["sensitivity-high-risk"].reason
    assert "ci_low >= 0.7" in (failure.text or "")
    e = by_id["sensitivity-high-risk"].estimate
    assert e is not None
    assert f"{e.value:.3f} (95% CI {e.ci_low:.3f}–{e.ci_high:.3f})" in (failure.text or "")

    error = cases["ppv-0.97"].find("error")
    assert error is not None and "nobody was flagged" in (error.get("message") or "")

    skipped = cases["calibration-slope-lactate"].find("skipped")
    assert skipped is not None and "not a probability" in (skipped.get("message") or "")

    warned = cases["specificity-high-risk"]
    assert warned.find("failure") is None and warned.find("error") is None
    out = warned.find("system-out")
    assert out is not None and (out.text or "").startswith("WARNING: ")

    assert list(cases["auroc"]) == []  # a pass has no child element
    assert cases["auroc"].get("classname") == "Readmission risk validation.readmit_risk"
    assert cases["auroc-vs-lactate"].get("classname") == "Readmission risk validation.comparison"


def test_properties_record_provenance(run: Run) -> None:
    properties = {p.get("name"): p.get("value") for p in _suite(render_junit(run)).iter("property")}
    assert properties["plan_fingerprint"] == run.plan_fingerprint
    assert properties["data_fingerprint"] == run.data.fingerprint
    assert properties["seed"] == "42"
    assert properties["n"] == "2000"


def test_junit_is_deterministic_and_written_by_the_run(run: Run, tmp_path: Path) -> None:
    first = render_junit(run)
    assert first == render_junit(run)
    assert first.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    path = tmp_path / "junit.xml"
    assert run.to_junit(path) == first
    assert path.read_text(encoding="utf-8") == first


def test_public_surface_is_pinned() -> None:
    import assay.reports

    assert assay.reports.__all__ == ["render_html", "render_junit", "render_monitoring_report"]

from __future__ import annotations

import math
import re

import matplotlib
import pytest

from assay.checks import Run
from assay.metrics import Curve
from assay.reports import _plots


def _roc(points: int) -> Curve:
    fpr = [i / (points - 1) for i in range(points)]
    return Curve(kind="roc", columns={"fpr": fpr, "tpr": [math.sqrt(x) for x in fpr],
                                      "threshold": [1 - x for x in fpr]}, n=5000, n_events=600)


def test_svg_is_inline_ready_with_title_and_description() -> None:
    svg = _plots.roc_svg(_roc(50), score="risk", auroc="0.800 (0.780–0.820)")
    assert svg.startswith('<svg role="img" aria-labelledby="roc-risk-title roc-risk-desc"')
    assert '<title id="roc-risk-title">ROC curve of risk</title>' in svg
    assert "AUROC 0.800 (0.780–0.820)" in svg
    assert "<metadata>" not in svg and "<?xml" not in svg
    head = svg[:svg.index(">")]
    assert "viewBox" in head and 'width="' not in head and 'height="' not in head
    assert "<image" not in svg  # nothing rasterised


def test_ids_are_prefixed_and_references_resolve() -> None:
    svg = _plots.roc_svg(_roc(50), score="risk", auroc=None)
    ids = set(re.findall(r'\sid="([^"]+)"', svg))
    assert ids and all(i.startswith("roc-risk-") for i in ids)
    references = set(re.findall(r'(?:href="#|url\(#)([^")]+)', svg))
    assert references <= ids


def test_same_curve_same_bytes_and_no_matplotlib_state_leaks() -> None:
    before = dict(matplotlib.rcParams)
    first = _plots.roc_svg(_roc(50), score="risk", auroc=None)
    assert _plots.roc_svg(_roc(50), score="risk", auroc=None) == first
    assert dict(matplotlib.rcParams) == before


def test_long_curves_are_thinned() -> None:
    small = _plots.roc_svg(_roc(_plots.MAX_POINTS), score="risk", auroc=None)
    large = _plots.roc_svg(_roc(20_000), score="risk", auroc=None)
    assert len(large) < 1.5 * len(small)


def test_plots_of_the_fixture_run(run: Run) -> None:
    curves = run.curves["readmit_risk"]
    pr = _plots.pr_svg(curves["pr"], score="readmit_risk", summary=None)
    assert "Prevalence 13.8%" in pr
    calibration = _plots.calibration_svg(curves["calibration"], curves["reliability"],
                                         score="readmit_risk", level=0.95)
    assert "Wilson 95% CI" in calibration and "95% CI band" in calibration
    decision = _plots.decision_svg(curves["decision"], score="readmit_risk")
    for label in ("Using readmit_risk", "Treat all", "Treat none"):
        assert label in decision
    for svg in (pr, calibration, decision):
        assert len(svg) < 60_000


def test_calibration_with_reliability_points_only(run: Run) -> None:
    svg = _plots.calibration_svg(None, run.curves["readmit_risk"]["reliability"],
                                 score="readmit_risk", level=0.9)
    assert "Wilson 90% CI" in svg and "Smoothed" not in svg


def test_missing_column_is_named() -> None:
    curve = Curve(kind="roc", columns={"fpr": [0.0, 1.0]}, n=10, n_events=3)
    with pytest.raises(ValueError, match=r"the roc curve has no column 'tpr' \(it has fpr\)"):
        _plots.roc_svg(curve, score="risk", auroc=None)

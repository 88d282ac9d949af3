"""Named fairness criteria: which metrics each compares, and how an audit sums up its rows."""

from __future__ import annotations

import numpy as np
import pytest

from assay.errors import InputError
from assay.subgroups import CRITERIA, disparities, fairness_audit

RNG = np.random.default_rng(2)
N = 1200
SITE = np.array(["A"] * 600 + ["B"] * 600)
RISK = RNG.uniform(0.02, 0.9, N)
Y = (RNG.random(N) < RISK).astype(int)
GROUPS = {"site": SITE}


def test_each_criterion_compares_its_metrics() -> None:
    expected = {
        "demographic_parity": ("flag_rate",),
        "equal_opportunity": ("sensitivity",),
        "equalized_odds": ("sensitivity", "false_positive_rate"),
        "predictive_parity": ("ppv",),
        "calibration_within_groups": ("oe_ratio", "calibration_slope"),
        "auroc_parity": ("auroc",),
    }
    assert {name: c.metrics for name, c in CRITERIA.items()} == expected
    for name, criterion in CRITERIA.items():
        threshold = 0.5 if criterion.needs_threshold else None
        audit = fairness_audit(name, Y, RISK, GROUPS, attribute="site", threshold=threshold,
                               n_boot=100)
        assert tuple(t.metric for t in audit.tables) == expected[name]
        for table in audit.tables:
            params = {} if threshold is None else {"threshold": threshold}
            reference = "ideal" if name == "calibration_within_groups" else "largest"
            assert table == disparities(table.metric, Y, RISK, GROUPS, attribute="site",
                                        reference=reference, n_boot=100, **params)


def test_the_status_is_the_worst_judged_row() -> None:
    # at B the score runs backwards: sensitivity about 0.3 against A's about 0.7
    score = np.where(SITE == "B", 1 - RISK, RISK)
    audit = fairness_audit("equalized_odds", Y, score, GROUPS, attribute="site",
                           threshold=0.5, reference="A", n_boot=200)
    statuses = {t.metric: t.rows[0].band_status for t in audit.tables}
    assert statuses["sensitivity"] == "clear_breach"
    assert audit.status == "clear_breach"
    assert audit.rows_with("clear_breach")[0] == ("sensitivity", "B")
    frame = audit.to_frame()
    assert list(frame["metric"]) == ["sensitivity", "false_positive_rate"]
    assert frame.columns[0] == "metric"


def test_only_suppressed_groups_leave_the_audit_undefined() -> None:
    site = np.array(["A"] * (N - 5) + ["B"] * 5)
    audit = fairness_audit("auroc_parity", Y, RISK, {"site": site}, attribute="site",
                           n_boot=100)
    assert audit.status == "undefined"
    assert audit.rows_with("suppressed") == [("auroc", "B")]


def test_errors_name_the_criterion_and_the_threshold() -> None:
    with pytest.raises(InputError, match=r"unknown fairness criterion 'parity'.*equal_opportunity"):
        fairness_audit("parity", Y, RISK, GROUPS, attribute="site")
    with pytest.raises(InputError, match="equal_opportunity reads flags"):
        fairness_audit("equal_opportunity", Y, RISK, GROUPS, attribute="site")
    with pytest.raises(InputError, match="auroc_parity does not use a threshold"):
        fairness_audit("auroc_parity", Y, RISK, GROUPS, attribute="site", threshold=0.5)

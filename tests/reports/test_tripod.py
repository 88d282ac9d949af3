"""The TRIPOD+AI-ordered validation report: items in order, "not reported" where unknown."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from assay.checks import Plan, Run, validate
from assay.reports._tripod import NOT_REPORTED, render_tripod, tripod_items

PLAN = """
name: tripod-local
description: Local validation before go-live.
roles: {target: outcome, score: risk}
thresholds: {high_risk: 0.4}
groups: [sex]
settings: {n_boot: 200, seed: 3}
checks:
  - metric: auroc
    condition: ci_low >= 0.6
  - fairness: equal_opportunity
    by: sex
    threshold: high_risk
"""
ORDER = ["1", "2", "3a", "3b", "3c", "4", "5a", "5b", "6a", "6b", "7", "8a", "9a", "10",
         "11", "12e", "12g", "14", "15", "20a", "23a", "23a", "23a", "24", "25", "26",
         "18a", "18b", "18c", "18d", "18f"]


@pytest.fixture(scope="module")
def run() -> Run:
    rng = np.random.default_rng(2)
    n = 800
    risk = 1 / (1 + np.exp(-(-1.0 + 1.5 * rng.normal(size=n))))
    frame = pd.DataFrame({"outcome": (rng.random(n) < risk).astype(int), "risk": risk,
                          "sex": rng.choice(["F", "M"], n)})
    return validate(Plan.from_yaml(PLAN), frame)


def test_items_follow_the_tripod_order(run: Run) -> None:
    items = tripod_items(run)
    assert [i.number for i in items] == ORDER
    html = render_tripod(run)
    assert re.findall(r'data-item="([0-9a-z]+)"', html) == ORDER
    sections = re.findall(r"<h2>([^<]+)</h2>", html)
    assert sections == ["Title and abstract", "Introduction", "Methods", "Results",
                        "Discussion", "Other information"]


def test_items_the_run_cannot_supply_say_not_reported(run: Run) -> None:
    items = {i.number + i.topic: i for i in tripod_items(run)}
    for key in ("3aBackground and intended use", "7Data preparation", "11Missing data",
                "18aFunding", "24Model updating"):
        assert items[key].text == NOT_REPORTED
    assert items["5aData source"].text.startswith("the DataFrame")
    assert items["18cProtocol"].text.endswith(run.plan_fingerprint)
    html = render_tripod(run)
    assert html.count('class="not-reported"') == sum(not i.reported for i in items.values())


def test_registry_fields_fill_their_items(run: Run) -> None:
    items = {i.number: i for i in tripod_items(
        run, product={"name": "sepsis-risk", "intended_use": "Sepsis risk in 12 hours.",
                      "funding_source": "Hospital operating budget"},
        version={"version": "1.0", "artifact_uri": "models:/sepsis/3"})}
    assert items["1"].text.startswith("sepsis-risk, version 1.0:")
    assert items["3a"].text == "Sepsis risk in 12 hours."
    assert items["18a"].text == "Hospital operating budget"
    assert items["12g"].text == "models:/sepsis/3"


def test_performance_has_intervals_and_fairness_has_results(run: Run) -> None:
    html = render_tripod(run)
    auroc = run.metric("auroc")
    assert f"{auroc.value:.3f} ({auroc.ci_low:.3f}–{auroc.ci_high:.3f})" in html
    fairness = next(i for i in tripod_items(run) if i.topic == "Fairness results")
    assert fairness.reported and "Equal opportunity" in fairness.text
    subgroups = next(i for i in tripod_items(run) if i.topic == "Performance in subgroups")
    assert {row[0] for row in subgroups.rows} == {"sex=F", "sex=M"}


def test_self_contained(run: Run) -> None:
    html = render_tripod(run)
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)\s*=\s*["'](?!#)""", html)
    assert render_tripod(run) == html

"""Fairness checks in plans: criteria by name, judged in the band, recorded in the Run."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from assay.checks import Plan, Run, validate
from assay.errors import InputError, PlanError
from assay.subgroups import fairness_audit


@pytest.fixture(scope="module")
def cohort() -> pd.DataFrame:
    """3,000 patients at sites A and B (the same case mix) and 7 at site C. At site B the
    score is pure noise for half of the cases, so B's sensitivity is clearly lower."""
    rng = np.random.default_rng(5)
    n = 3007
    site = np.array(["A"] * 1500 + ["B"] * 1500 + ["C"] * 7)
    signal = rng.normal(size=n)
    risk = 1 / (1 + np.exp(-(-1.0 + 1.5 * signal)))
    y = (rng.random(n) < risk).astype(int)
    noisy = (site == "B") & (y == 1) & (rng.random(n) < 0.5)
    risk = np.where(noisy, rng.uniform(0.0, 0.15, n), risk)
    return pd.DataFrame({"outcome": y, "risk": risk, "site": site,
                         "sex": rng.choice(["F", "M"], n)})


PLAN = """
name: fairness
roles: {target: outcome, score: risk}
thresholds: {high_risk: 0.4}
settings: {n_boot: 300, seed: 3}
checks:
  - fairness: equal_opportunity
    by: site
    threshold: high_risk
  - fairness: demographic_parity
    by: sex
    threshold: high_risk
  - fairness: auroc_parity
    by: site
    reference: A
    correction: bh
  - fairness: calibration_within_groups
    by: sex
    tolerance: 0.5
"""


@pytest.fixture(scope="module")
def run(cohort: pd.DataFrame) -> Run:
    return validate(Plan.from_yaml(PLAN), cohort)


def test_a_clear_drop_in_sensitivity_fails_and_names_the_group(run: Run) -> None:
    result = run.results[0]
    assert (result.id, result.kind, result.status) == (
        "equal_opportunity[site]@high_risk", "fairness", "fail")
    assert result.threshold == 0.4
    assert result.fairness is not None
    (table,) = result.fairness.tables
    assert (table.metric, table.reference, table.reference_rule) == ("sensitivity", "A",
                                                                     "largest")
    b, c = table.rows
    assert b.group_value == "B" and b.band_status == "clear_breach"
    assert b.ratio is not None and b.ratio_ci_high is not None and b.ratio_ci_high < 0.8
    assert "sensitivity of site=B: ratio" in result.reason
    assert (c.group_value, c.band_status, c.n, c.value) == ("C", "suppressed", None, None)
    assert "1 suppressed" in result.reason


def test_results_equal_a_direct_audit(run: Run, cohort: pd.DataFrame) -> None:
    from assay.checks._evaluation import derived_seed

    direct = fairness_audit(
        "equal_opportunity", cohort["outcome"], cohort["risk"], cohort[["site"]],
        attribute="site", threshold=0.4, n_boot=300,
        seed=derived_seed(3, "fairness", "equal_opportunity", "risk", "site", 0.4))
    assert run.results[0].fairness == direct


def test_groups_from_one_population_stay_within_the_band(run: Run) -> None:
    parity = run.results[1]
    assert parity.status == "pass"
    assert parity.fairness is not None and parity.fairness.status == "within"
    assert parity.reason.startswith("all 1 compared group(s) of sex lie within the band")


def test_named_reference_and_correction_are_recorded(run: Run) -> None:
    audit = run.results[2].fairness
    assert audit is not None
    (table,) = audit.tables
    assert (table.reference, table.reference_rule, table.correction) == ("A", "named", "bh")


def test_calibration_is_judged_against_the_ideal(run: Run) -> None:
    audit = run.results[3].fairness
    assert audit is not None
    assert [t.metric for t in audit.tables] == ["oe_ratio", "calibration_slope"]
    for table in audit.tables:
        assert (table.reference, table.reference_n) == ("ideal", None)
        assert table.band == pytest.approx((1 / 1.5, 1.5))
        assert [r.group_value for r in table.rows] == ["F", "M"]


def test_the_run_reloads_with_its_audits(run: Run) -> None:
    again = Run.from_json(run.to_json())
    assert again == run
    assert again.for_distribution().results[0].fairness == run.results[0].fairness


def test_report_and_junit_show_the_band_and_hide_the_small_site(run: Run) -> None:
    html = run.to_html()
    section = html[html.index('<section id="fairness"'):]
    section = section[:section.index("</section>")]
    assert "Equal opportunity (sensitivity) of risk by site at threshold 0.4" in section
    row_c = section[section.index("<th scope=\"row\">C</th>"):]
    row_c = row_c[:row_c.index("</tr>")]
    assert "suppressed: fewer than 11 patients" in row_c
    text = re.sub(r"<[^>]+>", " ", row_c)
    assert text.split() == ["C", "suppressed:", "fewer", "than", "11", "patients"]
    assert "outside the band" in section and "Benjamini–Hochberg" in section
    junit = run.to_junit()
    assert "sensitivity site=B: clear_breach, ratio" in junit


@pytest.mark.parametrize(("check", "message"), [
    ("{fairness: equal_opportunity, by: site}", "reads flags: add 'threshold:'"),
    ("{fairness: auroc_parity, by: site, threshold: 0.4}", "does not use a threshold"),
    ("{fairness: equal_chances, by: site}", "'demographic_parity'"),
    ("{fairness: auroc_parity, by: 'site*site'}", "cannot read grouping"),
    ("{fairness: auroc_parity, by: site, tolerance: 0}", "greater than 0"),
])
def test_plan_errors_name_the_problem(check: str, message: str) -> None:
    with pytest.raises(PlanError, match="line 3, checks\\[0\\]") as error:
        Plan.from_yaml(f"name: p\nchecks:\n  - {check}\n")
    assert message in str(error.value)


def test_a_column_the_data_lacks_is_bad_input(cohort: pd.DataFrame) -> None:
    plan = Plan.from_yaml("name: p\nroles: {target: outcome, score: risk}\nchecks:\n"
                          "  - {fairness: auroc_parity, by: ward}\n")
    with pytest.raises(InputError, match="uses column\\(s\\) 'ward'"):
        validate(plan, cohort)


def test_probability_criteria_skip_a_score_that_is_not_a_probability(
        cohort: pd.DataFrame) -> None:
    data = cohort.assign(points=(cohort["risk"] * 40).round())
    plan = Plan.from_yaml("name: p\nroles: {target: outcome, score: points}\nchecks:\n"
                          "  - {fairness: calibration_within_groups, by: sex}\n")
    (result,) = validate(plan, data).results
    assert result.status == "skipped" and "not a probability" in result.reason

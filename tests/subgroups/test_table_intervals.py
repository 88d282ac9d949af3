"""Bootstrap intervals in the subgroup table: each row's interval is the bootstrap of that
group alone, and for proportions it lands where the Wilson interval does."""

from __future__ import annotations

import numpy as np
import pytest

from assay.metrics.intervals import bootstrap_metric
from assay.subgroups import metric_by_group
from assay.subgroups._cells import Cell
from assay.subgroups._table import _group_seed

rng = np.random.default_rng(51)
N = 6000
SITE = rng.choice(np.array(["north", "south", "east"]), size=N, p=[0.5, 0.3, 0.2])
RISK = 1 / (1 + np.exp(-(-1.0 + rng.normal(scale=1.2, size=N))))
Y = (rng.random(N) < RISK).astype(np.int64)


@pytest.mark.parametrize("metric", ["sensitivity", "specificity"])
def test_bootstrap_rows_land_on_the_wilson_interval(metric: str) -> None:
    """Every group has at least 250 patients in the denominator, which is one outcome stratum,
    so the resampled numerator is binomial like Wilson's; the percentile bootstrap and Wilson
    bounds then differ by O(1/n) plus Monte Carlo error (2,000 replicates: about 0.05 standard
    errors), and each bound must be within 0.25 standard errors of Wilson's. (PPV and accuracy
    are not compared: the outcome-stratified bootstrap keeps the class counts fixed, so their
    intervals are legitimately narrower than Wilson's.)"""
    options = {"threshold": 0.5}
    boot = metric_by_group(metric, Y, RISK, {"site": SITE}, ci="bootstrap", n_boot=2000, **options)
    wilson = metric_by_group(metric, Y, RISK, {"site": SITE}, ci="wilson", **options)
    for ours, reference in zip(boot.rows, wilson.rows, strict=True):
        assert ours.method == "bootstrap-percentile" and reference.method == "wilson"
        assert ours.value == reference.value and ours.value is not None
        assert ours.ci_low is not None and ours.ci_high is not None
        assert reference.ci_low is not None and reference.ci_high is not None
        standard_error = (reference.ci_high - reference.ci_low) / (2 * 1.96)
        assert ours.ci_low == pytest.approx(reference.ci_low, abs=0.25 * standard_error)
        assert ours.ci_high == pytest.approx(reference.ci_high, abs=0.25 * standard_error)


def test_each_row_is_the_bootstrap_of_its_group_with_its_own_seed() -> None:
    table = metric_by_group(
        "ppv", Y, RISK, {"site": SITE}, ci="bootstrap", n_boot=200, seed=4, threshold=0.5
    )
    for row in table.rows[1:]:
        assert row.group_value is not None
        rows = np.flatnonzero(SITE == row.group_value)
        seed = _group_seed(4, Cell(group="site", group_value=row.group_value, rows=rows))
        alone = bootstrap_metric("ppv", Y[rows], RISK[rows], n_boot=200, seed=seed, threshold=0.5)
        assert (row.value, row.ci_low, row.ci_high) == (
            alone.estimate.value,
            alone.estimate.ci_low,
            alone.estimate.ci_high,
        )

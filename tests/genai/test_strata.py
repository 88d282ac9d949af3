"""Metrics and flag rates by stratum: small-cell suppression, the "(missing)" stratum, intervals
against statsmodels and a loop, and the comparison of each stratum with the rest."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from assay.errors import InputError
from assay.genai import Flag, ItemResult
from assay.genai._gate import resampled_means
from assay.genai._strata import StrataTable, _seed, by_strata, newcombe_interval
from assay.subgroups import holm

# 40 items at site A, 25 at B, 10 at C (a small cell), 8 without the key and 4 with None
SITES = ["A"] * 40 + ["B"] * 25 + ["C"] * 10 + [None] * 12
N = len(SITES)
ROUGE = np.random.default_rng(21).beta(5, 5, size=N)


def _flagged(i: int) -> bool:  # A: 4 of 40; B: 10 of 25; C: 1 of 10; missing: 1 of 12
    return i in (0, 10, 20, 30) or 40 <= i < 50 or i in (70, 80)


def _items() -> list[ItemResult]:
    items = []
    for i, site in enumerate(SITES):
        metadata: dict[str, str | int | None] = {"age": 2 if i % 2 else 10}
        if site is not None or i >= N - 4:
            metadata["site"] = site  # the last 4 hold None, the 8 before have no key
        flags = (Flag(type="unsupported_number", span=None, detail="10 mg"),) if _flagged(i) else ()
        items.append(ItemResult(
            id=f"n-{i:03d}", task="summarization", flags=flags, metadata=metadata,
            metrics={"rouge_l": float(ROUGE[i]), "supported": float(i % 3 == 0),
                     "rare": 1.5 if i < 45 and i % 4 == 0 else None}))
    return items


@pytest.fixture(scope="module")
def table() -> StrataTable:
    return by_strata(_items(), "site", n_boot=300, seed=4)


def test_strata_are_sorted_with_missing_last_and_small_cells_hidden(table: StrataTable) -> None:
    strata = [(row.stratum, row.n, row.suppressed) for row in table.rows
              if row.measure == "unsupported_number"]
    assert strata == [("A", 40, False), ("B", 25, False), ("C", None, True),
                      ("(missing)", 12, False)]
    for row in table.rows:
        if row.stratum == "C":
            assert row.suppressed and row.n is None and row.estimate is None
            assert row.rest is None and row.reason == "suppressed: fewer than 11 items"
    frame = table.to_frame()
    shown = frame[["n", "n_used"]].stack().dropna()
    assert shown.min() >= 11  # no count below the threshold is shown (flag counts aside)
    assert list(frame.columns[:4]) == ["stratum", "kind", "measure", "n"]


def test_metric_with_few_values_is_suppressed_on_its_own_row(table: StrataTable) -> None:
    # 'rare' has 10 values at A and 2 at B: both hidden, though the strata are shown
    for stratum in ("A", "B"):
        row = table.row(stratum, "rare")
        assert row.suppressed and row.estimate is None and row.n is not None
        assert row.reason == "suppressed: fewer than 11 items with a value"
    missing = table.row("(missing)", "rare")
    assert not missing.suppressed and missing.estimate is None
    assert missing.reason == "no item in this stratum has a value"
    assert by_strata(_items(), "site", small_cell=10, n_boot=300).row(
        "A", "rare").estimate is not None


def test_flag_shares_and_binary_metrics_have_wilson_intervals(table: StrataTable) -> None:
    for stratum, k, n in (("A", 4, 40), ("B", 10, 25), ("(missing)", 1, 12)):
        estimate = table.row(stratum, "unsupported_number").estimate
        low, high = proportion_confint(k, n, alpha=0.05, method="wilson")
        assert (estimate.n_events, estimate.n, estimate.method) == (k, n, "wilson")
        assert (estimate.ci_low, estimate.ci_high) == pytest.approx((low, high), abs=1e-12)
    supported = table.row("B", "supported").estimate
    k = sum(i % 3 == 0 for i in range(40, 65))
    assert (supported.value, supported.method) == (k / 25, "wilson")
    low, high = proportion_confint(k, 25, alpha=0.05, method="wilson")
    assert (supported.ci_low, supported.ci_high) == pytest.approx((low, high), abs=1e-12)


def test_metric_mean_has_a_seeded_bootstrap_percentile_interval(table: StrataTable) -> None:
    estimate = table.row("B", "rouge_l").estimate
    values = ROUGE[40:65]
    means = resampled_means(values[:, None], 300, _seed(4, "B", "rouge_l"))[:, 0]
    assert estimate.method == "bootstrap-percentile" and estimate.n == 25
    assert estimate.value == pytest.approx(float(values.mean()), abs=1e-15)
    assert (estimate.ci_low, estimate.ci_high) == pytest.approx(
        tuple(np.quantile(means, [0.025, 0.975])), abs=1e-15)
    # a stratum's interval does not depend on the other strata
    alone = by_strata(_items()[40:65], "site", n_boot=300, seed=4).row("B", "rouge_l")
    assert alone.estimate == estimate


def test_each_stratum_is_compared_with_the_rest(table: StrataTable) -> None:
    counts = {"A": (4, 40), "B": (10, 25), "(missing)": (1, 12)}
    total_k, total_n = 16, N
    p_values = []
    for stratum, (k, n) in counts.items():
        rest = table.row(stratum, "unsupported_number").rest
        k_rest, n_rest = total_k - k, total_n - n
        low, high = confint_proportions_2indep(k, n, k_rest, n_rest, method="newcomb",
                                               compare="diff")
        assert (rest.ci_low, rest.ci_high) == pytest.approx((low, high), abs=1e-12)
        assert rest.difference == pytest.approx(k / n - k_rest / n_rest, abs=1e-15)
        fisher = stats.fisher_exact([[k, n - k], [k_rest, n_rest - k_rest]]).pvalue
        assert rest.p_value == pytest.approx(fisher, abs=1e-12)
        assert (rest.rest.n, rest.rest.n_events) == (n_rest, k_rest)
        p_values.append(rest.p_value)
    adjusted = [table.row(s, "unsupported_number").rest.p_holm for s in counts]
    assert adjusted == pytest.approx(list(holm(p_values)), abs=1e-15)
    assert table.row("B", "unsupported_number").rest.p_value < 0.05  # 40 % against 10 %
    assert table.row("B", "rouge_l").rest is None


def test_newcombe_interval_matches_statsmodels() -> None:
    for k_a, n_a, k_b, n_b, level in ((0, 15, 3, 40, 0.95), (12, 12, 5, 30, 0.9),
                                      (7, 200, 7, 200, 0.99)):
        expected = confint_proportions_2indep(k_a, n_a, k_b, n_b, method="newcomb",
                                              compare="diff", alpha=1 - level)
        assert newcombe_interval(k_a, n_a, k_b, n_b, level) == pytest.approx(expected,
                                                                              abs=1e-12)


def test_crossed_keys_and_numeric_order() -> None:
    crossed = by_strata(_items(), ["age", "site"], metrics=["rouge_l"],
                        flag_types=["phi_leak"], small_cell=1, n_boot=100)
    strata = list(dict.fromkeys(row.stratum for row in crossed.rows))
    assert strata[:4] == ["2*A", "2*B", "2*C", "2*(missing)"]
    assert strata[4] == "10*A"  # 2 before 10: numbers sort as numbers
    row = crossed.row("2*A", "phi_leak")
    assert row.values == ("2", "A") and row.estimate is not None
    assert (row.estimate.value, row.estimate.n) == (0.0, 20)


def test_bad_input_raises() -> None:
    items = _items()
    with pytest.raises(InputError, match=r"metric\(s\) 'bleu' are on no item"):
        by_strata(items, "site", metrics=["bleu"])
    with pytest.raises(InputError, match="small_cell must be an integer of at least 1"):
        by_strata(items, "site", small_cell=0)
    with pytest.raises(InputError, match="non-empty sequence"):
        by_strata([], "site")
    with pytest.raises(InputError, match="by must be a metadata key"):
        by_strata(items, [])
    bad = [items[0].model_copy(update={"metrics": {"rouge_l": float("inf")}})]
    with pytest.raises(InputError, match="item 'n-000': metric 'rouge_l' is inf"):
        by_strata(bad, "site")

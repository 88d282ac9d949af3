"""The regression gate: its bootstrap against a loop, McNemar and Wilson against statsmodels,
planted regressions, zero tolerance, pairing errors, the spec and the JUnit output."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable

import numpy as np
import pytest
from numpy.typing import NDArray
from statsmodels.stats.contingency_tables import mcnemar as sm_mcnemar
from statsmodels.stats.proportion import proportion_confint

import assay.genai._gate as gate
from assay.errors import InputError, PlanError
from assay.genai import Flag, GateSpec, ItemResult
from assay.genai._gate import mcnemar, regression_gate, resampled_means

N = 300


def _flag(kind: str) -> Flag:
    return Flag(type=kind, span=None, detail=f"{kind} found")


def _items(scores: NDArray[np.float64], flagged: Callable[[int], list[str]],
           prefix: str = "n") -> list[ItemResult]:
    return [ItemResult(id=f"{prefix}-{i:04d}", task="summarization",
                       metrics={"rouge_l": float(s)},
                       flags=tuple(_flag(kind) for kind in flagged(i)))
            for i, s in enumerate(scores)]


def _base_flags(i: int) -> list[str]:
    return ["unsupported_number"] if i % 100 < 3 else []  # 3 % of the items


@pytest.fixture(scope="module")
def scores() -> NDArray[np.float64]:
    return np.random.default_rng(11).beta(4, 6, size=N)


def _loop_means(values: NDArray[np.float64], n_boot: int, seed: int) -> NDArray[np.float64]:
    """The resampling of the module notes, one replicate at a time."""
    rng = np.random.Generator(np.random.SFC64(np.random.SeedSequence(seed)))
    n = values.shape[0]
    out = np.empty((n_boot, values.shape[1]))
    for r in range(n_boot):
        rows = np.floor(rng.random(n) * n).astype(int)
        out[r] = [sum(values[i, j] for i in rows) / n for j in range(values.shape[1])]
    return out


def test_resampled_means_equal_a_loop_with_the_same_seed(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    values = np.random.default_rng(3).normal(size=(37, 2))
    expected = _loop_means(values, 120, seed=5)
    assert resampled_means(values, 120, 5) == pytest.approx(expected, abs=1e-12)
    monkeypatch.setattr(gate, "_BLOCK_DRAWS", 37 * 7)  # blocks of 7 replicates
    assert resampled_means(values, 120, 5) == pytest.approx(expected, abs=1e-12)
    # the first replicates do not depend on how many are drawn
    assert np.array_equal(resampled_means(values, 50, 5), resampled_means(values, 120, 5)[:50])


def test_metric_interval_is_the_percentile_interval_of_the_paired_replicates(
        scores: NDArray[np.float64]) -> None:
    after = scores - 0.01 + np.random.default_rng(4).normal(0, 0.02, N)
    result = regression_gate(_items(scores, _base_flags), _items(after, _base_flags),
                     spec={"n_boot": 400}, seed=9)
    (check,) = [c for c in result.checks if c.name == "rouge_l"]
    assert check.metric is not None
    replicates = _loop_means(np.column_stack([scores, after]), 400, seed=9)
    change = replicates[:, 1] - replicates[:, 0]
    low, high = np.quantile(change, [0.025, 0.975])
    assert (check.metric.change.ci_low, check.metric.change.ci_high) == pytest.approx(
        (low, high), abs=1e-12)
    assert check.metric.change.value == pytest.approx(float(np.mean(after - scores)), abs=1e-15)
    assert check.metric.baseline.ci_low == pytest.approx(
        float(np.quantile(replicates[:, 0], 0.025)), abs=1e-12)
    # a mean change of −0.01 on 300 items with sd 0.02: the interval excludes 0
    assert high < 0 and check.status == "fail" and result.decision == "fail"
    # analytic check: the percentile interval of a mean is close to mean ± 1.96 sd / √n
    half = 1.96 * np.std(after - scores) / np.sqrt(N)
    assert (high - low) / 2 == pytest.approx(half, rel=0.1)


@pytest.mark.parametrize("exact", [True, False])
def test_mcnemar_matches_statsmodels(exact: bool) -> None:
    pairs = [(b, c) for b in range(60) for c in range(60) if (b + c < 25) == exact and b + c]
    for b, c in pairs:
        test, statistic, p_value = mcnemar(b, c)
        reference = sm_mcnemar([[10, b], [c, 10]], exact=exact, correction=True)
        assert test == ("exact" if exact else "chi-square")
        assert p_value == pytest.approx(float(reference.pvalue), abs=1e-12)
        assert statistic == pytest.approx(float(reference.statistic), abs=1e-12)
    assert mcnemar(0, 0) == ("exact", 0.0, 1.0)


def test_a_planted_rise_in_unsupported_numbers_fails(scores: NDArray[np.float64]) -> None:
    def more(i: int) -> list[str]:  # the baseline's 3 % plus another 10 % of the items
        return ["unsupported_number"] if i % 100 < 3 or i % 10 == 5 else []

    result = regression_gate(_items(scores, _base_flags), _items(scores, more))
    (check,) = [c for c in result.checks if c.name == "unsupported_number"]
    flag = check.flag
    assert flag is not None and check.status == "fail" and result.decision == "fail"
    assert (flag.baseline.n_events, flag.candidate.n_events) == (9, 39)
    assert (flag.n_baseline_only, flag.n_candidate_only, flag.test) == (0, 30, "chi-square")
    reference = sm_mcnemar([[9, 0], [30, 261]], exact=False, correction=True)
    assert flag.p_value == pytest.approx(float(reference.pvalue), abs=1e-12)
    assert len(flag.candidate_only_ids) == 30 and "n-0005" in flag.candidate_only_ids
    for estimate, k in ((flag.baseline, 9), (flag.candidate, 39)):
        low, high = proportion_confint(k, N, alpha=0.05, method="wilson")
        assert (estimate.ci_low, estimate.ci_high) == pytest.approx((low, high), abs=1e-12)
    assert check.reason.startswith("Share of items flagged unsupported_number rose from 3.0% (")
    assert "to 13.0% (" in check.reason and "McNemar chi-square" in check.reason
    assert "on 30 discordant items" in check.reason
    # the identical rouge_l scores pass: a change of exactly 0 in every replicate
    (metric,) = [c for c in result.checks if c.name == "rouge_l"]
    assert metric.status == "pass" and metric.metric is not None
    assert (metric.metric.change.ci_low, metric.metric.change.ci_high) == (0.0, 0.0)


def test_a_small_rise_is_tested_exactly_and_warns(scores: NDArray[np.float64]) -> None:
    def few(i: int) -> list[str]:
        return ["unsupported_number"] if i % 100 < 3 or i in (50, 150) else []

    result = regression_gate(_items(scores, _base_flags), _items(scores, few))
    (check,) = [c for c in result.checks if c.name == "unsupported_number"]
    assert check.flag is not None and check.flag.test == "exact"
    assert check.flag.p_value == pytest.approx(0.5, abs=1e-12)  # 2 · P(Bin(2, ½) ≤ 0)
    assert check.status == "warn" and result.decision == "pass"
    assert "McNemar exact p = 0.500 on 2 discordant items" in check.reason


def test_an_identical_candidate_passes(scores: NDArray[np.float64]) -> None:
    items = _items(scores, _base_flags)
    result = regression_gate(items, list(reversed(items)), spec={"zero_tolerance": ["phi_leak"]})
    assert result.decision == "pass"
    assert [(c.kind, c.name, c.status) for c in result.checks] == [
        ("metric", "rouge_l", "pass"), ("flag", "phi_leak", "pass"),
        ("flag", "unsupported_number", "pass")]
    assert str(result) == "gate pass: 3 passed, 0 warned, 0 failed on 300 paired items"


def test_one_phi_leak_fails_a_zero_tolerance_gate(scores: NDArray[np.float64]) -> None:
    def leak(i: int) -> list[str]:
        return [*_base_flags(i), *(["phi_leak"] if i == 42 else [])]

    before, after = _items(scores, _base_flags), _items(scores, leak)
    spec = GateSpec(zero_tolerance=("phi_leak", "unsupported_medication"))
    result = regression_gate(before, after, spec=spec)
    checks = {c.name: c for c in result.checks}
    assert result.decision == "fail" and checks["phi_leak"].status == "fail"
    assert checks["unsupported_medication"].status == "pass"
    assert checks["phi_leak"].reason == (
        "phi_leak is zero-tolerance and the candidate has it on 1 item(s) (n-0042); the "
        "baseline on 0 paired item(s)")
    # without zero tolerance one leak is not a significant rise: a warning only
    relaxed = regression_gate(before, after)
    assert {c.name: c.status for c in relaxed.checks}["phi_leak"] == "warn"
    assert relaxed.decision == "pass"


def test_unpaired_ids_raise_unless_allowed(scores: NDArray[np.float64]) -> None:
    before = _items(scores, _base_flags)
    after = _items(scores, _base_flags)[:-4] + _items(scores[:1], _base_flags, prefix="x")
    with pytest.raises(InputError, match=r"4 item\(s\) only in the baseline \('n-0296', "
                                         r"'n-0297', 'n-0298', 'n-0299'\) and 1 item\(s\) only "
                                         r"in the candidate \('x-0000'\); pass allow_unpaired"):
        regression_gate(before, after)
    result = regression_gate(before, after, allow_unpaired=True)
    assert (result.n_paired, result.n_baseline_only, result.n_candidate_only) == (296, 4, 1)
    assert result.decision == "pass"
    with pytest.raises(InputError, match="share no item id"):
        regression_gate(before, _items(scores, _base_flags, prefix="y"), allow_unpaired=True)


def test_bad_items_raise(scores: NDArray[np.float64]) -> None:
    items = _items(scores[:20], _base_flags)
    with pytest.raises(InputError, match=r"candidate, item 21: id 'n-0000' appears twice"):
        regression_gate(items, [*items, items[0]])
    nan = [items[0].model_copy(update={"metrics": {"rouge_l": float("nan")}}), *items[1:]]
    with pytest.raises(InputError, match=r"candidate, item 'n-0000': metric 'rouge_l' is nan"):
        regression_gate(items, nan)
    other = [items[0].model_copy(update={"task": "qa"}), *items[1:]]
    with pytest.raises(InputError, match="'summarization' in the baseline but 'qa'"):
        regression_gate(items, other)
    with pytest.raises(InputError, match=r"metric\(s\) 'bleu' that no paired item has"):
        regression_gate(items, items, spec={"metrics": {"bleu": {}}})


def test_margin_direction_and_missing_values(scores: NDArray[np.float64]) -> None:
    after = scores - 0.02
    missing = [item.model_copy(update={"metrics": {"rouge_l": None}}) if i < 5 else item
               for i, item in enumerate(_items(after, _base_flags))]
    before = _items(scores, _base_flags)
    strict = regression_gate(before, missing, spec={"n_boot": 200})
    (check,) = [c for c in strict.checks if c.kind == "metric"]
    assert check.status == "fail" and check.metric is not None
    assert (check.metric.n_excluded, check.metric.change.n) == (5, 295)
    assert check.metric.change.value == pytest.approx(-0.02, abs=1e-12)
    assert "5 without a value excluded" in check.reason
    # a margin of 0.03 tolerates the drop; lower-is-better reads the same drop as a gain
    tolerant = regression_gate(before, missing, spec={"n_boot": 200,
                                              "metrics": {"rouge_l": {"margin": 0.03}}})
    lower = regression_gate(before, missing, spec={"n_boot": 200,
                                           "metrics": {"rouge_l": {"direction": "lower"}}})
    assert tolerant.checks[0].status == "pass" and lower.checks[0].status == "pass"
    # a drop beyond the margin whose interval reaches back inside it warns
    noisy = scores - 0.005 + np.random.default_rng(8).normal(0, 0.05, N)
    drop = float(np.mean(noisy - scores))
    warned = regression_gate(before, _items(noisy, _base_flags),
                     spec={"n_boot": 200, "metrics": {"rouge_l": {"margin": -drop / 2}}})
    change = warned.checks[0].metric
    assert change is not None and change.change.value == pytest.approx(drop, abs=1e-12)
    assert drop < -change.margin < change.change.ci_high  # beyond the margin, not surely
    assert warned.checks[0].status == "warn" and warned.decision == "pass"
    assert "worse than the margin" in warned.checks[0].reason


def test_spec_reads_yaml_and_reports_bad_fields() -> None:
    spec = GateSpec.from_yaml(
        "metrics:\n  rouge_l: {margin: 0.01, direction: higher}\n  readability:\n"
        "flags: {unsupported_number: {alpha: 0.01}}\nzero_tolerance: [phi_leak]\nn_boot: 500\n")
    assert spec.metrics["rouge_l"].margin == 0.01
    assert spec.metrics["readability"].direction == "higher"
    assert spec.flags["unsupported_number"].alpha == 0.01
    assert (spec.zero_tolerance, spec.n_boot, spec.alpha) == (("phi_leak",), 500, 0.05)
    assert spec.fingerprint == GateSpec.from_dict(spec.model_dump()).fingerprint
    with pytest.raises(PlanError, match=r"<gate> line 3, metrics.rouge_l.direction: "):
        GateSpec.from_yaml("alpha: 0.1\nmetrics:\n  rouge_l: {direction: up}\n")
    with pytest.raises(PlanError, match="unknown field 'margin'"):
        GateSpec.from_dict({"margin": 0.1})


def test_junit_has_one_case_per_check_and_a_failure_for_each_failed_one(
        scores: NDArray[np.float64]) -> None:
    def more(i: int) -> list[str]:
        return ["unsupported_number"] if i % 100 < 3 or i % 10 == 5 else []

    result = regression_gate(_items(scores, _base_flags), _items(scores, more),
                     spec={"zero_tolerance": ["phi_leak"]})
    root = ET.fromstring(result.to_junit())
    (suite,) = root.findall("testsuite")
    cases = suite.findall("testcase")
    assert [case.get("name") for case in cases] == [c.name for c in result.checks]
    failed = [case.get("name") for case in cases if case.find("failure") is not None]
    assert failed == ["unsupported_number"]
    assert (suite.get("tests"), suite.get("failures")) == ("3", "1")
    failure = suite.find("testcase[@name='unsupported_number']/failure")
    assert failure is not None and failure.get("message") == result.checks[2].reason
    assert result.to_junit() == result.to_junit()


def test_a_metric_without_paired_values_warns_and_is_not_compared(
        scores: NDArray[np.float64]) -> None:
    before = _items(scores[:20], _base_flags)
    after = [item.model_copy(update={"metrics": {"rouge_l": None}}) for item in before]
    (check, *_) = regression_gate(before, after).checks
    assert (check.name, check.status, check.metric) == ("rouge_l", "warn", None)
    assert check.reason == ("rouge_l: no paired item has a value on both sides (20 items); "
                            "not compared")

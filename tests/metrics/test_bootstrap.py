"""The bootstrap engine: seeding, the documented resampling scheme, the AUROC fast path, BCa,
undefined replicates and stratification."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from numpy.typing import ArrayLike, NDArray
from scipy import stats
from sklearn.metrics import brier_score_loss, roc_auc_score

from assay.errors import InputError, UndefinedMetricError
from assay.metrics import get_metric
from assay.metrics._bootstrap import BLOCK, AurocKernel, Resampler, make_strata, replicates
from assay.metrics._registry import MetricSpec, Task
from assay.metrics.intervals import bootstrap_ci, bootstrap_metric, jackknife_acceleration


def _spec(name: str, fn: Any, task: Task = "binary") -> MetricSpec:
    return MetricSpec(
        name=name, fn=fn, title=name, task=task, score_kind="value", greater_is_better=None
    )


def _weighted_mean(y: ArrayLike, s: ArrayLike, *, sample_weight: ArrayLike | None = None) -> float:
    weights = None if sample_weight is None else np.asarray(sample_weight, float)
    return float(np.average(np.asarray(s, float), weights=weights))


def _positives(y: ArrayLike, s: ArrayLike, *, sample_weight: ArrayLike | None = None) -> float:
    w = np.ones(len(np.asarray(y))) if sample_weight is None else np.asarray(sample_weight)
    return float(np.dot(w, np.asarray(y)))


def documented_indices(
    y: NDArray[Any], score: NDArray[np.float64], seed: int, replicate: int
) -> NDArray[np.intp]:
    """The resampled row numbers, rebuilt from the scheme described in ``_bootstrap``."""
    rng = np.random.Generator(np.random.SFC64(np.random.SeedSequence(seed, spawn_key=(replicate,))))
    drawn = []
    for label in np.unique(y):
        rows = np.flatnonzero(y == label)
        rows = rows[np.argsort(score[rows], kind="stable")]
        size = rows.size
        sizes = [min(65536, size - start) for start in range(0, size, 65536)]
        per_block = rng.multinomial(size, np.array(sizes) / size) if len(sizes) > 1 else [size]
        for b, (block, count) in enumerate(zip(sizes, per_block, strict=True)):
            if block == 65536:
                local = rng.integers(0, 65536, count, dtype=np.uint16)
            else:
                local = rng.integers(0, block, count, dtype=np.int32)
            drawn.append(rows[b * 65536 + local.astype(np.intp)])
    return np.concatenate(drawn)


@pytest.fixture(scope="module")
def data() -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    rng = np.random.default_rng(21)
    y = (rng.random(800) < 0.25).astype(np.int64)
    risk = 1 / (1 + np.exp(-(-1.2 + 1.3 * y + rng.normal(size=800))))
    return y, risk, np.round(risk, 2)  # probability, and a coarse copy with many ties


def test_same_seed_same_numbers_different_seed_different(data: Any) -> None:
    y, risk, _ = data
    first = bootstrap_metric("auroc", y, risk, n_boot=200, seed=5)
    again = bootstrap_metric("auroc", y, risk, n_boot=200, seed=5)
    other = bootstrap_metric("auroc", y, risk, n_boot=200, seed=6)
    assert np.array_equal(first.replicates, again.replicates)
    assert first.estimate == again.estimate
    assert not np.array_equal(first.replicates, other.replicates)
    assert first.estimate.ci_low != other.estimate.ci_low


def test_numbers_do_not_depend_on_threads_or_on_n_boot(data: Any) -> None:
    y, risk, _ = data
    one = bootstrap_metric("brier", y, risk, n_boot=120, n_threads=1).replicates
    three = bootstrap_metric("brier", y, risk, n_boot=120, n_threads=3).replicates
    longer = bootstrap_metric("brier", y, risk, n_boot=300, n_threads=2).replicates
    assert np.array_equal(one, three)
    assert np.array_equal(one, longer[:120])


def test_percentile_interval_matches_a_naive_loop_with_the_same_indices(data: Any) -> None:
    y, risk, coarse = data
    for metric, naive, score in [
        ("auroc", roc_auc_score, coarse),
        ("brier", lambda t, p: brier_score_loss(t, p), risk),
    ]:
        ours = bootstrap_metric(metric, y, score, n_boot=150, seed=9)
        loop = []
        for r in range(150):
            idx = documented_indices(y, score, 9, r)
            loop.append(naive(y[idx], score[idx]))
        np.testing.assert_allclose(ours.replicates, loop, rtol=0, atol=1e-12)
        low, high = np.percentile(loop, [2.5, 97.5])
        assert (ours.estimate.ci_low, ours.estimate.ci_high) == pytest.approx(
            (low, high), abs=1e-12
        )


def test_multi_block_strata_follow_the_documented_scheme() -> None:
    rng = np.random.default_rng(2)
    y = (rng.random(150_000) < 0.3).astype(np.int64)  # ~105,000 controls: two blocks
    score = y + rng.normal(size=y.size)
    ours = replicates("auroc", y, score, n_boot=10, seed=1, fast_path=True).replicates[:, 0]
    for r in range(3):
        idx = documented_indices(y, score, 1, r)
        assert np.bincount(y[idx]).tolist() == np.bincount(y).tolist()
        assert ours[r] == pytest.approx(roc_auc_score(y[idx], score[idx]), abs=1e-12)


@pytest.mark.parametrize("scores", ["continuous", "ties"])
@pytest.mark.parametrize("weighted", [False, True])
def test_auroc_fast_path_equals_the_generic_path(data: Any, scores: str, weighted: bool) -> None:
    y, risk, coarse = data
    score = risk if scores == "continuous" else coarse
    weights = np.random.default_rng(3).uniform(0.2, 3, y.size) if weighted else None
    fast = replicates("auroc", y, score, n_boot=100, seed=2, sample_weight=weights)
    slow = replicates("auroc", y, score, n_boot=100, seed=2, sample_weight=weights, fast_path=False)
    if weighted:
        np.testing.assert_allclose(fast.replicates, slow.replicates, rtol=0, atol=1e-13)
    else:  # integer arithmetic: the same bits
        assert np.array_equal(fast.replicates, slow.replicates)


def test_fast_path_point_estimate_is_the_metric_value_bit_for_bit(data: Any) -> None:
    y, risk, coarse = data
    auroc = get_metric("auroc").fn
    for score in (risk, coarse):
        assert bootstrap_metric("auroc", y, score, n_boot=10).estimate.value == auroc(y, score)


def test_fast_path_equals_the_metric_given_the_same_counts() -> None:
    rng = np.random.default_rng(8)
    y = (rng.random(BLOCK + 5000) < 0.5).astype(np.int64)
    score = np.round(y + rng.normal(size=y.size), 1)  # ties within and across classes
    resampler = Resampler(make_strata(y, [score], y.size), y.size)
    controls, cases = resampler.strata
    kernel = AurocKernel(score, None, cases, controls)
    assert kernel.ties
    auroc = get_metric("auroc").fn
    for r in range(3):
        draws = resampler.draws(Resampler.generator(11, r))
        counts = resampler.counts(draws)
        assert counts[cases].sum() == cases.size and counts[controls].sum() == controls.size
        expected = auroc(y, score, sample_weight=counts)
        assert kernel.from_draws(draws[1], draws[0]) == expected
        assert kernel.from_counts(counts[cases], counts[controls]) == expected


def test_stratification_keeps_the_class_counts(data: Any) -> None:
    y, risk, _ = data
    spec = _spec("positives", _positives)
    kept = bootstrap_metric(spec, y, risk, n_boot=50).replicates
    plain = bootstrap_metric(spec, y, risk, n_boot=50, stratified=False).replicates
    assert set(kept.tolist()) == {float(y.sum())}
    assert plain.std() > 1 and abs(plain.mean() - y.sum()) < 3 * plain.std()


def test_rows_in_another_order_give_the_same_replicates(data: Any) -> None:
    y, risk, _ = data
    order = np.random.default_rng(4).permutation(y.size)
    for metric in ("auroc", "brier"):
        before = bootstrap_metric(metric, y, risk, n_boot=60).replicates
        after = bootstrap_metric(metric, y[order], risk[order], n_boot=60).replicates
        np.testing.assert_allclose(before, after, rtol=0, atol=1e-15)


def test_bca_moves_the_interval_of_a_right_skewed_mean_the_right_way() -> None:
    # the mean of 40 exponential values: the exact interval is 2 n mean / chi2(2n) quantiles
    x = np.random.default_rng(12).exponential(size=40)
    spec = _spec("mean", _weighted_mean, task="regression")
    y = np.zeros(x.size)
    pct = bootstrap_metric(spec, y, x, n_boot=4000, seed=3).estimate
    bca = bootstrap_metric(spec, y, x, n_boot=4000, seed=3, method="bca")
    exact = 2 * x.sum() / stats.chi2.ppf([0.975, 0.025], 2 * x.size)
    assert bca.acceleration is not None and bca.acceleration > 0
    assert bca.jackknife_groups == 40  # 40 rows <= 50 groups: exact leave-one-out
    assert bca.estimate.ci_low is not None and bca.estimate.ci_high is not None
    assert pct.ci_low is not None and pct.ci_high is not None
    assert bca.estimate.ci_low > pct.ci_low and bca.estimate.ci_high > pct.ci_high
    assert abs(bca.estimate.ci_high - exact[1]) < abs(pct.ci_high - exact[1])
    assert abs(bca.estimate.ci_low - exact[0]) < abs(pct.ci_low - exact[0])
    assert bca.estimate.method == "bootstrap-bca"


def test_leave_one_out_acceleration_matches_the_formula() -> None:
    x = np.random.default_rng(13).exponential(size=30)
    spec = _spec("mean", _weighted_mean, task="regression")
    result = bootstrap_metric(spec, np.zeros(30), x, n_boot=500, method="bca")
    loo = np.array([np.delete(x, i).mean() for i in range(30)])
    d = loo.mean() - loo
    assert result.acceleration == pytest.approx(np.sum(d**3) / (6 * np.sum(d**2) ** 1.5))
    assert result.stratified is False  # a regression outcome is one stratum
    assert jackknife_acceleration(np.ones(5)) == 0.0


def test_grouped_jackknife_on_large_data_uses_50_stratified_groups(data: Any) -> None:
    y, risk, _ = data
    result = bootstrap_metric("auroc", y, risk, n_boot=300, method="bca")
    assert result.jackknife_groups == 50
    assert result.acceleration is not None and abs(result.acceleration) < 0.1
    est = result.estimate
    assert est.ci_low is not None and est.ci_high is not None
    assert est.ci_low < est.value < est.ci_high


def _undefined_when_row_zero_drawn_often(
    y: ArrayLike, s: ArrayLike, *, sample_weight: ArrayLike | None = None
) -> float:
    w = np.ones(len(np.asarray(y))) if sample_weight is None else np.asarray(sample_weight)
    if w[0] >= 5:
        raise UndefinedMetricError("row 0 was drawn 5 times or more")
    return float(np.average(np.asarray(s, float), weights=w))


def test_undefined_replicates_are_dropped_and_counted_or_refused() -> None:
    rng = np.random.default_rng(14)
    y = np.zeros(100, dtype=np.int64)
    x = rng.normal(size=100)
    spec = _spec("fragile", _undefined_when_row_zero_drawn_often, task="regression")
    result = bootstrap_metric(spec, y, x, n_boot=2000, seed=1)
    expected = sum(
        int(np.count_nonzero(documented_indices(y, x, 1, r) == 0) >= 5) for r in range(2000)
    )
    assert 0 < result.n_undefined == expected <= 20
    assert result.replicates.size == 2000 - expected
    with pytest.raises(UndefinedMetricError, match=r"undefined in \d+ of 2000.*drawn 5 times"):
        bootstrap_metric(spec, y, x, n_boot=2000, seed=1, max_undefined_share=0.001)


def test_a_metric_undefined_on_all_rows_raises_before_resampling() -> None:
    with pytest.raises(UndefinedMetricError, match="no positive"):
        bootstrap_ci("auroc", [0, 0, 0, 0], [0.1, 0.2, 0.3, 0.4], n_boot=20)


def test_estimate_fields_and_read_only_replicates(data: Any) -> None:
    y, risk, _ = data
    result = bootstrap_metric("sensitivity", y, risk, n_boot=100, threshold=0.3)
    assert result.estimate.method == "bootstrap-percentile"
    assert (result.estimate.n, result.estimate.n_events) == (800, int(y.sum()))
    assert (result.n_boot, result.n_undefined, result.seed, result.stratified) == (100, 0, 0, True)
    with pytest.raises(ValueError, match="read-only"):
        result.replicates[0] = 0.0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"n_boot": 5}, "n_boot"),
        ({"seed": -1}, "seed"),
        ({"level": 1.5}, "level"),
        ({"method": "basic"}, "method"),
        ({"n_threads": 0}, "n_threads"),
        ({"max_undefined_share": 1.0}, "max_undefined_share"),
    ],
)
def test_bad_options_are_input_errors(data: Any, options: dict[str, Any], message: str) -> None:
    y, risk, _ = data
    with pytest.raises(InputError, match=message):
        bootstrap_metric("auroc", y, risk, **options)

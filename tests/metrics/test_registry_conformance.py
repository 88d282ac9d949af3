"""Every registered metric, found through ``list_metrics()``, obeys the same contract.

Invariances checked for each: row order, weights of one equal no weights, integer weights
equal repeated rows, and list / ndarray / pandas inputs give the same value. Hypothesis checks
row order and unit weights on generated data for every binary metric, and that the ranking
metrics only use the order of the score.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

import assay.metrics as am
from assay.errors import UndefinedMetricError
from assay.metrics import MetricSpec, get_metric, list_metrics

EXAMPLE_PARAMS: dict[str, Any] = {"threshold": 0.4, "n_bins": 10}
"""A value for each parameter name a metric may declare (a new name must be added here)."""

N = 80


def _data(spec: MetricSpec, seed: int = 0) -> tuple[NDArray[Any], NDArray[Any]]:
    """Inputs fitting the metric's task and score kind, with tied scores."""
    rng = np.random.default_rng(seed)
    if spec.task == "regression":
        y = rng.normal(50, 10, size=N)
        return y, np.round(y + rng.normal(0, 5, size=N), 1)
    if spec.task == "multiclass":
        probabilities = np.round(rng.dirichlet([2, 2, 2], size=N), 2)
        labels = np.array([rng.choice(3, p=row / row.sum()) for row in probabilities])
        return labels, probabilities
    p = np.round(rng.uniform(0.02, 0.98, size=N), 2)  # ties; valid for every binary kind
    y = (rng.random(N) < p).astype(np.int64)
    return y, p


def _call(spec: MetricSpec, y: Any, score: Any, weight: Any = None) -> float:
    params = {name: EXAMPLE_PARAMS[name] for name in spec.params}
    return spec.fn(y, score, sample_weight=weight, **params)


@pytest.fixture(params=list_metrics())
def spec(request: pytest.FixtureRequest) -> MetricSpec:
    return get_metric(request.param)


def test_the_catalogue_is_complete() -> None:
    assert len(list_metrics()) >= 29
    assert {"auroc", "sensitivity", "ici", "net_benefit", "r2", "macro_f1"} <= set(list_metrics())


def test_spec_describes_the_function(spec: MetricSpec) -> None:
    assert spec.fn is getattr(am, spec.name)
    assert spec.fn.__name__ == spec.name
    assert spec.fn.__doc__ and len(spec.fn.__doc__) > 80
    signature = inspect.signature(spec.fn)
    positional = [p for p in signature.parameters.values() if p.kind is p.POSITIONAL_ONLY]
    assert [p.name for p in positional] == ["y_true", "y_score"]
    assert signature.parameters["sample_weight"].default is None
    keywords = {name for name, p in signature.parameters.items() if p.kind is p.KEYWORD_ONLY} - {
        "sample_weight"
    }
    assert keywords == set(spec.params)
    assert set(spec.params) <= set(EXAMPLE_PARAMS)
    assert (spec.interval == "wilson") == (spec.counts is not None)
    if spec.greater_is_better is None and spec.name != "flag_rate":
        assert spec.ideal is not None


def test_value_is_a_finite_float(spec: MetricSpec) -> None:
    value = _call(spec, *_data(spec))
    assert isinstance(value, float) and np.isfinite(value)


def test_row_order_does_not_matter(spec: MetricSpec) -> None:
    y, score = _data(spec)
    order = np.random.default_rng(1).permutation(N)
    assert _call(spec, y[order], score[order]) == pytest.approx(
        _call(spec, y, score), rel=1e-10, abs=1e-12
    )


def test_weights_of_one_are_no_weights(spec: MetricSpec) -> None:
    y, score = _data(spec)
    assert _call(spec, y, score, np.ones(N)) == _call(spec, y, score)


def test_integer_weights_are_repeated_rows(spec: MetricSpec) -> None:
    y, score = _data(spec)
    counts = np.random.default_rng(2).integers(1, 4, size=N)
    repeated = _call(spec, np.repeat(y, counts), np.repeat(score, counts, axis=0))
    assert _call(spec, y, score, counts) == pytest.approx(repeated, rel=1e-9, abs=1e-12)


# The lowess span counts weight, so ICI and E90 treat weights strictly as frequencies and are
# not scale-free; every other metric is a ratio of weighted sums.
FREQUENCY_WEIGHTED = {"ici", "e90"}


@pytest.mark.parametrize("name", sorted(set(list_metrics()) - FREQUENCY_WEIGHTED))
def test_weights_scale_free(name: str) -> None:
    spec = get_metric(name)
    y, score = _data(spec)
    weights = np.random.default_rng(3).uniform(0.5, 2.0, size=N)
    assert _call(spec, y, score, 2 * weights) == pytest.approx(
        _call(spec, y, score, weights), rel=1e-9, abs=1e-12
    )


def test_input_containers_give_the_same_value(spec: MetricSpec) -> None:
    y, score = _data(spec)
    expected = _call(spec, y, score)
    index = pd.RangeIndex(100, 100 + N)
    score_frame: Any = (
        pd.DataFrame(score, index=index) if score.ndim == 2 else pd.Series(score, index=index)
    )
    for y_in, score_in in [
        (y.tolist(), score.tolist()),
        (pd.Series(y, index=index), score_frame),
        (tuple(y.tolist()), score),
    ]:
        assert _call(spec, y_in, score_in, pd.Series(np.ones(N))) == expected


ranks = st.lists(st.integers(-50, 50), min_size=2, max_size=40)
TRANSFORMS: list[Callable[[NDArray[np.float64]], NDArray[np.float64]]] = [
    np.exp,
    lambda s: 3.0 * s + 2.0,
    lambda s: s**3,
    lambda s: 1 / (1 + np.exp(-s)),
]


@settings(max_examples=150, deadline=None)
@given(scores=ranks, data=st.data())
def test_ranking_metrics_only_use_the_order_of_the_score(
    scores: list[int], data: st.DataObject
) -> None:
    y = np.array(
        data.draw(st.lists(st.sampled_from([0, 1]), min_size=len(scores), max_size=len(scores)))
    )
    if y.min() == y.max():
        y[0] = 1 - y[0]
    s = np.array(scores, dtype=np.float64) / 4.0  # ties allowed; transforms stay distinct
    transform = data.draw(st.sampled_from(TRANSFORMS))
    for name in ("auroc", "auprc"):
        metric = get_metric(name)
        assert metric.score_kind == "rank"
        assert _call(metric, y, transform(s)) == pytest.approx(_call(metric, y, s), abs=1e-12)
    assert am.auroc(y, -s) == pytest.approx(1 - am.auroc(y, s), abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(
    scores=st.lists(st.floats(0, 1, allow_nan=False), min_size=2, max_size=30),
    data=st.data(),
)
def test_auroc_equals_the_pairwise_definition(scores: list[float], data: st.DataObject) -> None:
    y = np.array(
        data.draw(st.lists(st.sampled_from([0, 1]), min_size=len(scores), max_size=len(scores)))
    )
    if y.min() == y.max():
        y[0] = 1 - y[0]
    s = np.array(scores)
    cases, controls = s[y == 1], s[y == 0]
    pairs = (cases[:, None] > controls[None, :]) + 0.5 * (cases[:, None] == controls[None, :])
    assert am.auroc(y, s) == pytest.approx(pairs.mean(), abs=1e-12)


def _value_or_reason(spec: MetricSpec, y: Any, score: Any, weight: Any = None) -> object:
    try:
        return _call(spec, y, score, weight)
    except UndefinedMetricError as exc:
        return f"undefined: {exc}"


@settings(max_examples=60, deadline=None)
@given(
    probabilities=st.lists(st.floats(0.01, 0.99), min_size=3, max_size=60),
    data=st.data(),
)
def test_every_binary_metric_ignores_row_order_and_unit_weights(
    probabilities: list[float], data: st.DataObject
) -> None:
    n = len(probabilities)
    y = np.array(data.draw(st.lists(st.sampled_from([0, 1]), min_size=n, max_size=n)))
    y[:2] = [0, 1]  # both outcomes present
    p = np.round(np.array(probabilities), 2)  # rounding makes ties likely
    order = np.array(data.draw(st.permutations(list(range(n)))))
    for name in list_metrics("binary"):
        spec = get_metric(name)
        expected = _value_or_reason(spec, y, p)
        for value in (_value_or_reason(spec, y[order], p[order]),
                      _value_or_reason(spec, y, p, np.ones(n))):
            if isinstance(expected, str):
                assert value == expected, name
            else:
                assert value == pytest.approx(expected, rel=1e-9, abs=1e-12), name


def test_metrics_doc_lists_every_registered_metric() -> None:
    from pathlib import Path

    doc = (Path(__file__).parents[2] / "docs" / "metrics.md").read_text()
    missing = [name for name in list_metrics() if f"`{name}`" not in doc]
    assert not missing, f"docs/metrics.md does not describe {missing}"

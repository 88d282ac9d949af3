"""Per-group values of ``metric_by_group`` against fairlearn's ``MetricFrame`` on real data.

Data: the RHC study (5,735 critically ill adults, survset's ``rhc``). Outcome: death within 30
days of admission. Score: a logistic regression on age, APS, coma score and vital signs, fitted
on even patient ids and scored on the odd ones (2,867 patients). Groups: race (white, black,
other), sex, age band (under 50, 50–64, 65–79, 80 and over), and race × sex. fairlearn is
given the matching scikit-learn metric functions; every group's value must agree to 1e-9,
unweighted and with continuous weights.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sklearn.metrics as skm
from numpy.typing import NDArray
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from SurvSet.data import SurvLoader

from assay.subgroups import SubgroupTable, metric_by_group

fairlearn_metrics = pytest.importorskip("fairlearn.metrics")

TOLERANCE = 1e-9
THRESHOLD = 0.3
FEATURES = ["num_age", "num_aps1", "num_scoma1", "num_meanbp1", "num_hrt1", "num_resp1"]


@dataclass(frozen=True)
class Cohort:
    y: NDArray[np.int64]
    p: NDArray[np.float64]
    weight: NDArray[np.float64]
    groups: pd.DataFrame


@pytest.fixture(scope="module")
def rhc() -> Cohort:
    with warnings.catch_warnings():
        # survset's pickle references numpy.core, which numpy 2 reports as deprecated
        warnings.simplefilter("ignore", DeprecationWarning)
        frame: pd.DataFrame = SurvLoader().load_dataset("rhc")["df"]
    died_30d = ((frame["event"] == 1) & (frame["time"] <= 30)).astype(np.int64)
    train = (frame["pid"] % 2 == 0).to_numpy()
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    model.fit(frame.loc[train, FEATURES], died_30d[train])
    p = model.predict_proba(frame.loc[~train, FEATURES])[:, 1]
    groups = pd.DataFrame(
        {
            "race": frame.loc[~train, "fac_race"].astype(str).to_numpy(),
            "sex": frame.loc[~train, "fac_sex"].astype(str).to_numpy(),
            "age_band": pd.cut(frame.loc[~train, "num_age"], [0, 50, 65, 80, 200], right=False,
                               labels=["<50", "50-64", "65-79", "80+"]).astype(str).to_numpy(),
        }
    )
    weight = np.random.default_rng(7).uniform(0.2, 3.0, size=p.size)
    y: NDArray[np.int64] = np.asarray(died_30d[~train], dtype=np.int64)
    return Cohort(y, p, weight, groups)


def _flag(p: NDArray[np.float64]) -> NDArray[np.int64]:
    return (p >= THRESHOLD).astype(np.int64)


# metric name, scikit-learn function, whether fairlearn gets the flag instead of the score
METRICS: list[tuple[str, Callable[..., float], bool]] = [
    ("auroc", skm.roc_auc_score, False),
    ("brier", skm.brier_score_loss, False),
    ("sensitivity", skm.recall_score, True),
    ("ppv", skm.precision_score, True),
    ("accuracy", skm.accuracy_score, True),
]


def _values(table: SubgroupTable, group: str) -> dict[str, float]:
    values: dict[str, float] = {}
    for row in table.rows:
        if row.group == group:
            assert row.status == "ok" and row.value is not None and row.group_value is not None
            values[row.group_value] = row.value
    return values


def test_the_data_has_what_the_test_claims(rhc: Cohort) -> None:
    assert rhc.y.size == 2867
    assert sorted(rhc.groups["race"].unique()) == ["black", "other", "white"]
    assert sorted(rhc.groups["sex"].unique()) == ["Female", "Male"]
    assert sorted(rhc.groups["age_band"].unique()) == ["50-64", "65-79", "80+", "<50"]
    assert 0.1 < rhc.y.mean() < 0.4 and 0.1 < _flag(rhc.p).mean() < 0.9


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize(("metric", "theirs", "flagged"), METRICS, ids=[m[0] for m in METRICS])
def test_per_group_values_match_fairlearn(
    rhc: Cohort, metric: str, theirs: Callable[..., float], flagged: bool, weighted: bool
) -> None:
    params: dict[str, Any] = {"threshold": THRESHOLD} if flagged else {}
    weight = rhc.weight if weighted else None
    table = metric_by_group(
        metric, rhc.y, rhc.p, rhc.groups, intersections=[("race", "sex")], ci="none",
        sample_weight=weight, **params,
    )
    prediction = _flag(rhc.p) if flagged else rhc.p
    sample_params = {"sample_weight": weight} if weighted else None
    for group, features in [
        ("race", rhc.groups["race"]),
        ("sex", rhc.groups["sex"]),
        ("age_band", rhc.groups["age_band"]),
        ("race*sex", rhc.groups[["race", "sex"]]),
    ]:
        frame = fairlearn_metrics.MetricFrame(
            metrics=theirs, y_true=rhc.y, y_pred=prediction, sensitive_features=features,
            sample_params=sample_params,
        )
        expected = {
            "*".join(key) if isinstance(key, tuple) else str(key): float(value)
            for key, value in frame.by_group.items()
        }
        ours = _values(table, group)
        assert ours.keys() == expected.keys()
        for key, value in expected.items():
            assert ours[key] == pytest.approx(value, abs=TOLERANCE, rel=0), (group, key)
        assert table.rows[0].value == pytest.approx(float(frame.overall), abs=TOLERANCE, rel=0)


def test_intervals_do_not_change_the_values(rhc: Cohort) -> None:
    """The default intervals (DeLong, Wilson) report the same per-group values."""
    for metric, params in [("auroc", {}), ("sensitivity", {"threshold": THRESHOLD})]:
        kwargs: dict[str, Any] = {"intersections": [("race", "sex")], **params}
        with_ci = metric_by_group(metric, rhc.y, rhc.p, rhc.groups, **kwargs)
        without = metric_by_group(metric, rhc.y, rhc.p, rhc.groups, ci="none", **kwargs)
        assert [r.value for r in with_ci.rows] == [r.value for r in without.rows]
        assert all(r.ci_low is not None and r.ci_low <= r.value <= r.ci_high  # type: ignore[operator]
                   for r in with_ci.rows)

"""A realistic Run built model by model, for the report tests.

Two scores on 2,000 simulated admissions (about 13% readmitted): ``readmit_risk``, a predicted
probability, and ``lactate``, a lab value in mmol/L that is not a probability. The curves and
the numbers are computed from the simulated data with plain numpy here, so the fixture does not
depend on the metric implementations; the checks are judged with the real ``Condition``. The
plan has a passing, a failing, a warning, an erroring (PPV where nobody is flagged), a skipped
(calibration of the lab value) and a comparison check.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pytest
from numpy.typing import NDArray

from assay.checks import (
    CheckResult,
    Condition,
    DataSummary,
    MetricRecord,
    Plan,
    Run,
    ScoreSummary,
)
from assay.data import Roles
from assay.metrics import Curve, Estimate, PairedComparison
from assay.metrics.intervals import wilson_interval

Array = NDArray[np.float64]
LEVEL = 0.95
Z = 1.959963984540054
SKIP_REASON = ("score 'lactate' is not a probability (values outside 0–1); probability "
               "metrics do not apply")


def simulate(seed: int = 20240611, n: int = 2000) -> tuple[Array, Array, Array]:
    rng = np.random.default_rng(seed)
    severity = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(-2.2 + 1.1 * severity)))).astype(np.float64)
    risk = 1 / (1 + np.exp(-(-2.05 + 1.3 * severity + rng.normal(scale=0.35, size=n))))
    lactate = np.exp(0.4 + 0.22 * severity + rng.normal(scale=0.38, size=n))
    return y, np.round(risk, 4), np.round(lactate, 1)


def auroc(y: Array, s: Array) -> float:
    cases, controls = s[y == 1], s[y == 0]
    order = np.sort(controls)
    below = np.searchsorted(order, cases, side="left")
    ties = np.searchsorted(order, cases, side="right") - below
    return float((below + 0.5 * ties).sum() / (cases.size * controls.size))


def hanley_mcneil(area: float, m: int, n: int) -> tuple[float, float]:
    q1, q2 = area / (2 - area), 2 * area**2 / (1 + area)
    se = math.sqrt((area * (1 - area) + (m - 1) * (q1 - area**2) + (n - 1) * (q2 - area**2))
                   / (m * n))
    return area - Z * se, area + Z * se


def roc(y: Array, s: Array) -> Curve:
    thresholds = np.unique(s)[::-1]
    flagged = s[None, :] >= thresholds[:, None]
    tpr = (flagged & (y == 1)).sum(axis=1) / (y == 1).sum()
    fpr = (flagged & (y == 0)).sum(axis=1) / (y == 0).sum()
    return Curve(kind="roc", columns={"fpr": [0.0, *fpr.tolist()], "tpr": [0.0, *tpr.tolist()],
                                      "threshold": [float(thresholds[0]) + 1e-9,
                                                    *thresholds.tolist()]},
                 n=y.size, n_events=int(y.sum()))


def pr(y: Array, s: Array) -> Curve:
    thresholds = np.unique(s)[::-1]
    flagged = s[None, :] >= thresholds[:, None]
    tp = (flagged & (y == 1)).sum(axis=1)
    precision = tp / flagged.sum(axis=1)
    return Curve(kind="pr", columns={"recall": (tp / y.sum()).tolist(),
                                     "precision": precision.tolist(),
                                     "threshold": thresholds.tolist()},
                 n=y.size, n_events=int(y.sum()))


def calibration(y: Array, p: Array) -> Curve:
    grid = np.linspace(p.min(), p.max(), 41)
    width = 0.06
    observed, low, high = [], [], []
    for g in grid:
        near = np.exp(-0.5 * ((p - g) / width) ** 2)
        rate = float(near @ y / near.sum())
        effective = near.sum() ** 2 / (near**2).sum()
        half = Z * math.sqrt(max(rate * (1 - rate), 1e-4) / effective)
        observed.append(rate)
        low.append(max(rate - half, 0.0))
        high.append(min(rate + half, 1.0))
    return Curve(kind="calibration", columns={"predicted": grid.tolist(), "observed": observed,
                                              "observed_low": low, "observed_high": high},
                 n=y.size, n_events=int(y.sum()), level=LEVEL)


def reliability(y: Array, p: Array, n_bins: int = 10) -> Curve:
    edges = np.quantile(p, np.linspace(0, 1, n_bins + 1))
    index = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, n_bins - 1)
    count = np.bincount(index, minlength=n_bins).astype(np.float64)
    events = np.bincount(index, weights=y, minlength=n_bins)
    predicted = np.bincount(index, weights=p, minlength=n_bins) / count
    low, high = wilson_interval(events, count, LEVEL)
    return Curve(kind="reliability", columns={
        "bin_low": edges[:-1].tolist(), "bin_high": edges[1:].tolist(),
        "predicted": predicted.tolist(), "observed": (events / count).tolist(),
        "observed_low": low.tolist(), "observed_high": high.tolist(),
        "n": count.tolist(), "n_events": events.tolist()},
        n=y.size, n_events=int(y.sum()), level=LEVEL)


def decision(y: Array, p: Array) -> Curve:
    t = np.round(np.arange(0.01, 0.61, 0.01), 2)
    prevalence = y.mean()
    flagged = p[None, :] >= t[:, None]
    tp = (flagged & (y == 1)).sum(axis=1) / y.size
    fp = (flagged & (y == 0)).sum(axis=1) / y.size
    odds = t / (1 - t)
    return Curve(kind="decision", columns={
        "threshold": t.tolist(), "model": (tp - fp * odds).tolist(),
        "treat_all": (prevalence - (1 - prevalence) * odds).tolist(),
        "treat_none": [0.0] * t.size}, n=y.size, n_events=int(y.sum()))


def confusion(y: Array, s: Array, threshold: float) -> dict[str, tuple[float, float]]:
    flag = s >= threshold
    tp, fp = float((flag & (y == 1)).sum()), float((flag & (y == 0)).sum())
    fn, tn = float((~flag & (y == 1)).sum()), float((~flag & (y == 0)).sum())
    return {"flag_rate": (tp + fp, float(y.size)), "sensitivity": (tp, tp + fn),
            "specificity": (tn, tn + fp), "ppv": (tp, tp + fp), "npv": (tn, tn + fn)}


def threshold_table(y: Array, s: Array, grid: list[float]) -> Curve:
    columns: dict[str, list[float]] = {"threshold": list(grid), "n_flagged": [], "defined": []}
    for t in grid:
        counts = confusion(y, s, t)
        flagged = counts["flag_rate"][0]
        columns["n_flagged"].append(flagged)
        columns["defined"].append(float(0 < flagged < y.size))
        for name, (k, n) in counts.items():
            low, high = wilson_interval(k, n, LEVEL) if n else (math.nan, math.nan)
            columns.setdefault(name, []).append(k / n if n else math.nan)
            columns.setdefault(f"{name}_low", []).append(float(low))
            columns.setdefault(f"{name}_high", []).append(float(high))
    return Curve(kind="threshold", columns=columns, n=y.size, n_events=int(y.sum()),
                 level=LEVEL)


def proportion(y: Array, s: Array, name: str, threshold: float) -> Estimate | None:
    k, n = confusion(y, s, threshold)[name]
    if n == 0:
        return None
    low, high = wilson_interval(k, n, LEVEL)
    return Estimate(value=k / n, ci_low=float(low), ci_high=float(high), method="wilson",
                    n=y.size, n_events=int(y.sum()))


def bootstrap(y: Array, s: Array, fn: object, seed: int = 7) -> Estimate:
    rng = np.random.default_rng(seed)
    replicates = [fn(y[rows], s[rows])  # type: ignore[operator]
                  for rows in (rng.integers(0, y.size, y.size) for _ in range(200))]
    low, high = np.percentile(replicates, [2.5, 97.5])
    return Estimate(value=fn(y, s), ci_low=float(low), ci_high=float(high),  # type: ignore[operator]
                    method="bootstrap-percentile", n=y.size, n_events=int(y.sum()))


def average_precision(y: Array, s: Array) -> float:
    order = np.argsort(-s, kind="stable")
    hits = y[order]
    precision = np.cumsum(hits) / np.arange(1, y.size + 1)
    return float((precision * hits).sum() / hits.sum())


def brier(y: Array, p: Array) -> float:
    return float(np.mean((p - y) ** 2))


PLAN = {
    "name": "Readmission risk validation",
    "version": "2",
    "roles": {"target": "readmit_30d", "score": ["readmit_risk", "lactate"]},
    "thresholds": {"high_risk": 0.3},
    "settings": {"n_boot": 1000, "seed": 42},
    "checks": [
        {"metric": "auroc", "condition": "ci_low >= 0.7", "id": "auroc"},
        {"metric": "sensitivity", "threshold": "high_risk", "condition": "ci_low >= 0.7",
         "id": "sensitivity-high-risk"},
        {"metric": "specificity", "threshold": "high_risk", "condition": "ci_low >= 0.8",
         "warning": "ci_low >= 0.9", "id": "specificity-high-risk"},
        {"metric": "brier", "condition": "value <= 0.12", "id": "brier"},
        {"metric": "ppv", "threshold": 0.97, "condition": "ci_low >= 0.5", "id": "ppv-0.97"},
        {"metric": "calibration_slope", "score": "lactate", "condition": "ci in [0.8, 1.2]",
         "id": "calibration-slope-lactate"},
        {"compare": "auroc", "challenger": "readmit_risk", "baseline": "lactate",
         "test": "noninferiority", "margin": 0.02, "id": "auroc-vs-lactate"},
    ],
}


def _judge(check_id: str, title: str, metric: str, score: str, estimate: Estimate,
           condition: str, warning: str | None = None,
           threshold: float | None = None) -> CheckResult:
    holds = Condition.model_validate(condition).holds(estimate)
    warned = warning is not None and not Condition.model_validate(warning).holds(estimate)
    status = "fail" if not holds else "warn" if warned else "pass"
    reason = (f"{estimate} does not meet '{condition}'" if status == "fail" else
              f"{estimate} meets '{condition}' but not '{warning}'" if status == "warn" else
              f"{estimate} meets '{condition}'")
    return CheckResult(id=check_id, kind="metric", title=title, status=status, reason=reason,
                       metric=metric, score=score, threshold=threshold, condition=condition,
                       warning=warning, estimate=estimate)


def build_run() -> Run:
    y, risk, lactate = simulate()
    plan = Plan.model_validate(PLAN)
    scores = {"readmit_risk": risk, "lactate": lactate}
    n, events = y.size, int(y.sum())

    aurocs = {}
    for name, s in scores.items():
        area = auroc(y, s)
        low, high = hanley_mcneil(area, events, n - events)
        aurocs[name] = Estimate(value=area, ci_low=low, ci_high=high, method="delong", n=n,
                                n_events=events)
    brier_risk = bootstrap(y, risk, brier)
    sens = proportion(y, risk, "sensitivity", 0.3)
    spec = proportion(y, risk, "specificity", 0.3)
    assert sens is not None and spec is not None
    results = (
        _judge("auroc", "AUROC of readmit_risk", "auroc", "readmit_risk",
               aurocs["readmit_risk"], "ci_low >= 0.7"),
        _judge("sensitivity-high-risk", "Sensitivity of readmit_risk at threshold 0.3",
               "sensitivity", "readmit_risk", sens, "ci_low >= 0.7", threshold=0.3),
        _judge("specificity-high-risk", "Specificity of readmit_risk at threshold 0.3",
               "specificity", "readmit_risk", spec, "ci_low >= 0.8", "ci_low >= 0.9",
               threshold=0.3),
        _judge("brier", "Brier score of readmit_risk", "brier", "readmit_risk", brier_risk,
               "value <= 0.12"),
        CheckResult(id="ppv-0.97", kind="metric", title="PPV of readmit_risk at threshold 0.97",
                    status="error", metric="ppv", score="readmit_risk", threshold=0.97,
                    condition="ci_low >= 0.5",
                    reason="could not be evaluated: nobody was flagged at threshold 0.97"),
        CheckResult(id="calibration-slope-lactate", kind="metric",
                    title="Calibration slope of lactate", status="skipped",
                    metric="calibration_slope", score="lactate", condition="ci in [0.8, 1.2]",
                    reason=SKIP_REASON),
    )
    a, b = aurocs["readmit_risk"], aurocs["lactate"]
    difference = a.value - b.value
    comparison = PairedComparison(
        metric="auroc", a="readmit_risk", b="lactate", value_a=a.value, value_b=b.value,
        difference=difference, ci_low=difference - 0.041, ci_high=difference + 0.041,
        level=LEVEL, p_value=2.1e-6, method="delong", n=n, n_events=events)
    results += (CheckResult(
        id="auroc-vs-lactate", kind="comparison",
        title="AUROC of readmit_risk vs lactate (noninferiority, margin 0.02)",
        status="pass" if comparison.ci_low > -0.02 else "fail", metric="auroc",
        score="readmit_risk", condition="ci_low > -0.02", comparison=comparison,
        reason=f"difference {difference:+.3f} meets 'ci_low > -0.02'"),)

    records: list[MetricRecord] = []
    for name, s in scores.items():
        probability = name == "readmit_risk"
        records.append(MetricRecord(score=name, metric="auroc", **aurocs[name].model_dump()))
        records.append(MetricRecord(score=name, metric="auprc",
                                    **bootstrap(y, s, average_precision).model_dump()))
        for metric in ("brier", "calibration_slope"):
            if probability and metric == "brier":
                records.append(MetricRecord(score=name, metric=metric, **brier_risk.model_dump()))
            elif probability:
                records.append(MetricRecord(score=name, metric=metric, value=0.914,
                                            ci_low=0.832, ci_high=1.001, level=LEVEL,
                                            method="bootstrap-percentile", n=n, n_events=events))
            else:
                records.append(MetricRecord(
                    score=name, metric=metric, value=None, n=n, n_events=events,
                    status="skipped",
                    reason=SKIP_REASON))
        cut = 0.3 if probability else 2.5
        for metric in ("sensitivity", "specificity", "ppv", "npv"):
            estimate = proportion(y, s, metric, cut)
            assert estimate is not None
            records.append(MetricRecord(score=name, metric=metric, threshold=cut,
                                        **estimate.model_dump()))
    records.append(MetricRecord(score="readmit_risk", metric="ppv", value=None, n=n,
                                n_events=events, threshold=0.97, status="undefined",
                                reason="nobody was flagged at threshold 0.97"))

    grid_risk = [round(t, 2) for t in np.arange(0.05, 1.0, 0.05)]
    grid_lactate = sorted({*np.quantile(lactate, np.linspace(0.1, 0.9, 9)).round(1).tolist()})
    curves = {
        "readmit_risk": {"roc": roc(y, risk), "pr": pr(y, risk),
                         "calibration": calibration(y, risk), "reliability": reliability(y, risk),
                         "decision": decision(y, risk),
                         "threshold": threshold_table(y, risk, grid_risk)},
        "lactate": {"roc": roc(y, lactate), "pr": pr(y, lactate),
                    "threshold": threshold_table(y, lactate, grid_lactate)},
    }
    return Run(
        assay_version="0.1.0", plan=plan, plan_fingerprint=plan.fingerprint,
        roles=Roles(target="readmit_30d", score=["readmit_risk", "lactate"]),
        data=DataSummary(
            source="inpatient_2023.parquet",
            fingerprint="sha256:9f2c4be07d51a3e6c1b0f8a2d4e6c8b0a1f3e5d7c9b1a3f5e7d9c1b3a5f7e9d1",
            n=n, n_events=events,
            scores=(ScoreSummary(name="readmit_risk", probability=True,
                                 minimum=float(risk.min()), maximum=float(risk.max())),
                    ScoreSummary(name="lactate", probability=False,
                                 minimum=float(lactate.min()), maximum=float(lactate.max()))),
            time_start="2023-01-02T00:00:00", time_end="2023-12-30T00:00:00"),
        seed=42, level=LEVEL, thresholds={"high_risk": 0.3},
        threshold_scores={"high_risk": ("readmit_risk",)}, results=results,
        metrics=tuple(records), comparisons=(comparison,), curves=curves,
        started_at=datetime(2025, 3, 14, 9, 30, tzinfo=UTC),
        timings={"checks": 0.41, "metrics": 1.2, "curves": 0.3, "total": 1.95},
    )


@pytest.fixture(scope="session")
def run() -> Run:
    """The fixture Run: 2 scores, 7 checks (pass, fail, warn, error, skipped, comparison)."""
    return build_run()


@pytest.fixture(scope="session")
def html(run: Run) -> str:
    """The fixture Run rendered once."""
    from assay.reports import render_html

    return render_html(run)


def build_grouped_run() -> Run:
    """A Run with group records, from the real engine on 300 synthetic patients.

    Groupings ``sex`` (F 150, M 143, X 7: X is below the small-cell threshold of 11) and the
    intersection ``site*sex`` (which also has an empty cell, south × X).
    """
    import pandas as pd

    from assay.checks import validate

    rng = np.random.default_rng(3)
    n = 300
    sex = np.array(["F"] * 150 + ["M"] * 143 + ["X"] * 7)
    site = np.where(np.arange(n) % 2 == 0, "north", "south")
    site[-7:] = "north"
    x = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(-1 + 1.5 * x)))).astype(int)
    risk = np.round(1 / (1 + np.exp(-(-1 + 1.2 * x))), 4)
    frame = pd.DataFrame({"outcome": y, "risk": risk, "sex": sex, "site": site})
    plan = Plan(name="Grouped validation", groups=("sex", "site*sex"),
                settings={"n_boot": 200}, thresholds={"operating": 0.3})
    return validate(plan, frame, roles=Roles(target="outcome", score="risk"))


@pytest.fixture(scope="session")
def grouped_run() -> Run:
    """A Run with group records (one sex value with 7 patients)."""
    return build_grouped_run()

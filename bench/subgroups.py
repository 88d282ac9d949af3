"""Benchmark (c): the subgroup table with bootstrap intervals against fairlearn's MetricFrame.

Called from ``bench/run.py``; see ``bench/README.md``. Both sides compute 6 metrics overall and
in every group of 5 attributes on the same 1,000,000 rows, each with ``--n-boot`` bootstrap
replicates. fairlearn's bootstrap is run with only ``--fairlearn-reps`` replicates and its time
extrapolated linearly.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import sklearn.metrics as skm
from numpy.typing import NDArray

from assay.subgroups import SubgroupTable, metric_by_group

TARGET = 20.0  # ours must be at least 20x faster than fairlearn (extrapolated)
THRESHOLD = 0.5
AGREEMENT = 1e-9  # point values per group, ours against fairlearn

# attribute: (levels, shares), imbalanced as in a typical hospital population
ATTRIBUTES: dict[str, tuple[list[str], list[float]]] = {
    "sex": (["female", "male"], [0.52, 0.48]),
    "race": (
        ["white", "black", "hispanic", "asian", "other"],
        [0.62, 0.18, 0.12, 0.05, 0.03],
    ),
    "age_band": (["18-44", "45-64", "65-79", "80+"], [0.25, 0.35, 0.28, 0.12]),
    "site": (
        ["site_1", "site_2", "site_3", "site_4", "site_5", "site_6"],
        [0.30, 0.25, 0.15, 0.12, 0.10, 0.08],
    ),
    "payer": (["private", "medicare", "medicaid", "self_pay"], [0.45, 0.30, 0.20, 0.05]),
}


def _at_threshold(fn: Callable[..., float], **kwargs: Any) -> Callable[..., float]:
    """A scikit-learn metric of the flag ``score >= THRESHOLD``, for fairlearn."""

    def metric(y_true: NDArray[Any], y_pred: NDArray[np.float64]) -> float:
        return float(fn(y_true, y_pred >= THRESHOLD, **kwargs))

    return metric


# our metric name, its parameters, the scikit-learn function fairlearn is given
METRICS: list[tuple[str, dict[str, float], Callable[..., float]]] = [
    ("auroc", {}, skm.roc_auc_score),
    ("brier", {}, skm.brier_score_loss),
    ("sensitivity", {"threshold": THRESHOLD}, _at_threshold(skm.recall_score)),
    ("specificity", {"threshold": THRESHOLD}, _at_threshold(skm.recall_score, pos_label=0)),
    ("ppv", {"threshold": THRESHOLD}, _at_threshold(skm.precision_score)),
    ("accuracy", {"threshold": THRESHOLD}, _at_threshold(skm.accuracy_score)),
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--fairlearn-reps",
        type=int,
        default=2,
        help="bootstrap replicates fairlearn actually runs; the time is extrapolated to --n-boot",
    )


def data(
    rows: int, seed: int
) -> tuple[NDArray[np.int8], NDArray[np.float64], dict[str, NDArray[np.str_]]]:
    """Outcome, calibrated risk (prevalence about 9 %, about 1.3 % flagged at 0.5), groups."""
    rng = np.random.default_rng(seed)
    groups = {
        name: rng.choice(np.array(levels), size=rows, p=shares)
        for name, (levels, shares) in ATTRIBUTES.items()
    }
    risk = 1 / (1 + np.exp(-(-2.9 + rng.normal(scale=1.3, size=rows))))
    y = (rng.random(rows) < risk).astype(np.int8)
    return y, risk, groups


def _ours(
    y: NDArray[np.int8], risk: NDArray[np.float64], groups: dict[str, Any], n_boot: int, seed: int
) -> dict[str, tuple[SubgroupTable, float]]:
    """Each metric's table and the seconds it took."""
    tables = {}
    for metric, params, _ in METRICS:
        start = time.perf_counter()
        table = metric_by_group(
            metric, y, risk, groups, ci="bootstrap", n_boot=n_boot, seed=seed, **params
        )
        tables[metric] = (table, time.perf_counter() - start)
    return tables


def _fairlearn(
    y: NDArray[np.int8],
    risk: NDArray[np.float64],
    groups: dict[str, Any],
    n_boot: int | None,
    seed: int,
) -> tuple[float, list[Any]]:
    """Seconds for one MetricFrame per attribute (with ``n_boot`` replicates), and the frames."""
    from fairlearn.metrics import MetricFrame

    bootstrap: dict[str, Any] = (
        {}
        if n_boot is None
        else {"n_boot": n_boot, "ci_quantiles": [0.025, 0.975], "random_state": seed}
    )
    start = time.perf_counter()
    frames = [
        MetricFrame(
            metrics={metric: fn for metric, _, fn in METRICS},
            y_true=y,
            y_pred=risk,
            sensitive_features=values,
            **bootstrap,
        )
        for values in groups.values()
    ]
    return time.perf_counter() - start, frames


def _largest_difference(metric_tables: dict[str, SubgroupTable], frames: list[Any]) -> float:
    """Largest |ours - fairlearn| over the metrics, the groups and the overall rows."""
    largest = 0.0
    for metric, table in metric_tables.items():
        ours = {(row.group, row.group_value): row.value for row in table.rows}
        for name, frame in zip(ATTRIBUTES, frames, strict=True):
            theirs = {(name, str(value)): v for value, v in frame.by_group[metric].items()}
            theirs[(None, None)] = frame.overall[metric]
            for key, value in theirs.items():
                mine = ours[key]
                largest = max(largest, float("inf") if mine is None else abs(mine - value))
    return largest


def _line(label: str, figure: str, note: str = "") -> None:
    print(f"    {label:<40}{figure:>9}  {note}".rstrip())


def run(args: argparse.Namespace) -> bool:
    """Run benchmark (c), print it, and say whether the target was met."""
    reps = min(args.fairlearn_reps, args.n_boot)
    if reps < 1:
        raise SystemExit("--fairlearn-reps must be at least 1")
    y, risk, groups = data(args.rows, args.seed)
    n_groups = sum(len(levels) for levels, _ in ATTRIBUTES.values())
    smallest = min(np.unique(values, return_counts=True)[1].min() for values in groups.values())
    print(
        f"\n(c) subgroup table: {len(METRICS)} metrics x {len(ATTRIBUTES)} attributes "
        f"({n_groups} groups) + overall, {args.n_boot:,} bootstrap replicates each"
    )
    print(
        f"    data: {args.rows:,} rows, prevalence {y.mean():.3f}, "
        f"{(risk >= THRESHOLD).mean():.3f} flagged at {THRESHOLD}, smallest group {smallest:,}"
    )

    tables = _ours(y, risk, groups, args.n_boot, args.seed)
    ours_time = sum(seconds for _, seconds in tables.values())
    for metric, (_, seconds) in tables.items():
        _line(f"assay metric_by_group, {metric}", f"{seconds:.1f} s")
    with_interval = sum(
        row.ci_low is not None for table, _ in tables.values() for row in table.rows
    )
    _line(
        f"assay, all {len(METRICS)} tables",
        f"{ours_time:.1f} s",
        f"ci='bootstrap'; {with_interval} of {len(METRICS) * (n_groups + 1)} rows with an interval",
    )

    fixed, frames = _fairlearn(y, risk, groups, None, args.seed)
    with_reps, _ = _fairlearn(y, risk, groups, reps, args.seed)
    per_replicate = (with_reps - fixed) / reps
    theirs = fixed + per_replicate * args.n_boot
    speedup = theirs / ours_time
    frames_run = f"{len(ATTRIBUTES)} MetricFrames"
    _line(f"fairlearn, {frames_run}, no bootstrap", f"{fixed:.1f} s")
    _line(
        f"fairlearn, {frames_run}, n_boot={reps}",
        f"{with_reps:.1f} s",
        f"{per_replicate:.1f} s per replicate (all {len(ATTRIBUTES)} frames)",
    )
    if reps < args.n_boot:
        _line(
            f"fairlearn EXTRAPOLATED to n_boot={args.n_boot:,}",
            f"{theirs:.0f} s",
            f"= no-bootstrap time + per-replicate time x {args.n_boot:,}"
            + (f" (about {theirs / 3600:.0f} hours)" if theirs >= 3600 else ""),
        )
    _line(
        "speed-up (fairlearn / ours)",
        f"{speedup:.0f}x",
        f"target >= {TARGET:.0f}x: {'met' if speedup >= TARGET else 'NOT MET'}",
    )

    points = {
        metric: metric_by_group(metric, y, risk, groups, ci="none", **params)
        for metric, params, _ in METRICS
    }
    difference = _largest_difference(points, frames)
    agree = difference <= AGREEMENT
    _line(
        "point values, ours vs fairlearn",
        f"{difference:.1e}",
        f"largest |difference| over {len(METRICS)} metrics x {n_groups + 1} rows: "
        f"{'agree' if agree else 'DO NOT AGREE'} to {AGREEMENT:g}",
    )

    tracemalloc.start()
    try:
        _ours(y, risk, groups, 100, args.seed)
        peak = tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()
    _line(
        "peak allocated, ours",
        f"{peak:.1f} MB",
        f"tracemalloc, all {len(METRICS)} tables, 100 replicates",
    )
    return speedup >= TARGET and agree

"""Benchmarks: Assay's DeLong and AUROC bootstrap against scikit-learn baselines (a, b),
the subgroup table with bootstrap intervals against fairlearn's MetricFrame (c), and drift
against Evidently and NannyML (d), and column profiles against whylogs (e).

Run with ``make bench`` (``.venv/bin/python bench/run.py``); see ``bench/README.md``.
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray
from profiles import add_arguments as add_profile_arguments
from profiles import run as run_profile
from sklearn.metrics import roc_auc_score

from assay.metrics.intervals import bootstrap_metric, delong_auroc_ci
from drift import add_arguments as add_drift_arguments
from drift import run as run_drift
from genai import add_arguments as add_genai_arguments
from genai import run as run_genai
from subgroups import add_arguments as add_subgroup_arguments
from subgroups import run as run_subgroups

DELONG_TARGET = 3.0  # our DeLong CI may take at most 3x one roc_auc_score call
BOOTSTRAP_TARGET = 50.0  # our bootstrap must be at least 50x faster than the loop


def _best_of(repeats: int, fn: Callable[[], Any]) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _traced_peak_mb(fn: Callable[[], Any]) -> float:
    """Peak memory numpy and Python allocated during ``fn`` (tracemalloc), in MB."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def _data(rows: int, prevalence: float, seed: int) -> tuple[NDArray[np.int8], NDArray[np.float64]]:
    rng = np.random.default_rng(seed)
    y = (rng.random(rows) < prevalence).astype(np.int8)
    score = rng.normal(size=rows) + 1.2 * y  # continuous scores, AUROC about 0.80
    return y, score


def _loop_bootstrap(
    y: NDArray[np.int8], score: NDArray[np.float64], replicates: int, seed: int
) -> float:
    """The plain loop: stratified resampled indices, one roc_auc_score call per replicate."""
    rng = np.random.default_rng(seed)
    cases, controls = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    total = 0.0
    for _ in range(replicates):
        idx = np.concatenate(
            [
                cases[rng.integers(0, cases.size, cases.size)],
                controls[rng.integers(0, controls.size, controls.size)],
            ]
        )
        total += roc_auc_score(y[idx], score[idx])
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--prevalence", type=float, default=0.10)
    parser.add_argument("--n-boot", type=int, default=1000)
    parser.add_argument(
        "--loop-reps",
        type=int,
        default=20,
        help="replicates of the plain loop actually run; the time is extrapolated to --n-boot",
    )
    parser.add_argument("--repeats", type=int, default=3, help="best of this many timings")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--only",
        choices=["a", "b", "c", "d", "e", "f"],
        nargs="+",
        default=["a", "b", "c", "d", "e", "f"],
        help="run only these benchmarks ((a) and (b) always run together)",
    )
    add_subgroup_arguments(parser)
    add_drift_arguments(parser)
    add_profile_arguments(parser)
    add_genai_arguments(parser)
    args = parser.parse_args(argv)

    met = True
    if {"a", "b"} & set(args.only):
        met = _intervals(args)
    if "c" in set(args.only):
        met = run_subgroups(args) and met
    if "d" in set(args.only):
        met = run_drift(args) and met
    if "e" in set(args.only):
        met = run_profile(args) and met
    if "f" in set(args.only):
        met = run_genai(args) and met
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nprocess peak resident set            {rss_mb:8.1f} MB (whole run, all benchmarks)")
    return 0 if met else 1


def _intervals(args: argparse.Namespace) -> bool:
    """Benchmarks (a) and (b); whether both targets were met."""
    y, score = _data(args.rows, args.prevalence, args.seed)
    print(
        f"data: {args.rows:,} rows, prevalence {y.mean():.3f}, continuous scores; "
        f"numpy {np.__version__}"
    )

    # (a) DeLong interval vs one roc_auc_score call
    sklearn_time = _best_of(args.repeats, lambda: roc_auc_score(y, score))
    delong_time = _best_of(args.repeats, lambda: delong_auroc_ci(y, score))
    ratio = delong_time / sklearn_time
    print("\n(a) AUROC with DeLong 95% CI")
    print(f"    one sklearn roc_auc_score call   {sklearn_time:8.3f} s")
    print(f"    assay delong_auroc_ci            {delong_time:8.3f} s")
    print(
        f"    ratio (ours / sklearn)           {ratio:8.2f}x   target <= {DELONG_TARGET:.0f}x: "
        f"{'met' if ratio <= DELONG_TARGET else 'NOT MET'}"
    )

    # (b) stratified bootstrap of the AUROC
    def ours() -> None:
        bootstrap_metric("auroc", y, score, n_boot=args.n_boot, seed=args.seed)

    ours_time = _best_of(args.repeats, ours)
    loop_reps = min(args.loop_reps, args.n_boot)
    loop_time = _best_of(1, lambda: _loop_bootstrap(y, score, loop_reps, args.seed))
    per_replicate = loop_time / loop_reps
    loop_total = per_replicate * args.n_boot
    speedup = loop_total / ours_time
    print(f"\n(b) stratified bootstrap of the AUROC, {args.n_boot:,} replicates")
    print(
        f"    assay bootstrap_metric           {ours_time:8.3f} s "
        f"({ours_time / args.n_boot * 1e3:.2f} ms per replicate, whole call)"
    )
    if loop_reps < args.n_boot:
        print(
            f"    plain loop, {loop_reps} replicates run    {loop_time:8.3f} s "
            f"({per_replicate:.3f} s per replicate)"
        )
        print(
            f"    plain loop EXTRAPOLATED to {args.n_boot:,}  {loop_total:8.1f} s "
            f"(= {loop_reps} measured replicates x {args.n_boot / loop_reps:g})"
        )
    else:
        print(f"    plain loop, all replicates run   {loop_total:8.1f} s")
    print(
        f"    speed-up (loop / ours)           {speedup:8.1f}x   target >= "
        f"{BOOTSTRAP_TARGET:.0f}x: {'met' if speedup >= BOOTSTRAP_TARGET else 'NOT MET'}"
    )
    single = _best_of(
        1,
        lambda: bootstrap_metric("auroc", y, score, n_boot=args.n_boot, n_threads=1),
    )
    print(
        f"    for reference, on one thread     {single:8.3f} s "
        f"({loop_total / single:.1f}x; the default uses up to 8 threads, same numbers)"
    )

    # memory: traced peaks of each of our calls, and the process peak resident set
    delong_peak = _traced_peak_mb(lambda: delong_auroc_ci(y, score))
    boot_peak = _traced_peak_mb(
        lambda: bootstrap_metric("auroc", y, score, n_boot=100, seed=args.seed)
    )
    input_mb = (y.nbytes + score.nbytes) / 1e6
    print("\nmemory, (a) and (b)")
    print(f"    inputs (y int8 + score float64)  {input_mb:8.1f} MB")
    print(f"    peak allocated, delong_auroc_ci  {delong_peak:8.1f} MB (tracemalloc)")
    print(f"    peak allocated, bootstrap        {boot_peak:8.1f} MB (tracemalloc, 100 replicates)")
    return ratio <= DELONG_TARGET and speedup >= BOOTSTRAP_TARGET


if __name__ == "__main__":
    sys.exit(main())

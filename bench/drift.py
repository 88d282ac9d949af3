"""Benchmark (d): ``assay drift`` against Evidently's data drift preset and NannyML's univariate
drift calculator on the same 1,000,000 × 50 Parquet files.

Called from ``bench/run.py``; see ``bench/README.md``. Each peer runs in its own virtualenv
(``bench/.venv-evidently``, ``bench/.venv-nannyml``, made by ``make bench``) through a runner in
``bench/peers/`` that times only the drift computation and prints JSON with per-column values.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from assay.drift import DriftReport, compare_features

TARGET = 10.0  # ours at least 10x faster than each peer
BENCH = Path(__file__).resolve().parent
PEERS = ("evidently", "nannyml")
NUMERIC, CATEGORICAL, SHIFTED = 40, 10, 5  # columns; the first SHIFTED numeric ones move
LEVELS = np.array(["a", "b", "c", "d"])
SHARES, SHIFTED_SHARES = [0.4, 0.3, 0.2, 0.1], [0.3, 0.3, 0.25, 0.15]
CATEGORICAL_SHIFTED = 2
# methods matching each peer's configuration (see the runners' docstrings)
MATCH_EVIDENTLY = {"numeric": ["wasserstein"], "categorical": ["jensen_shannon"]}
MATCH_NANNYML = {"numeric": ["ks"], "categorical": ["jensen_shannon", "cramers_v"]}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--drift-rows", type=int, default=1_000_000)
    parser.add_argument("--drift-cache", type=Path,
                        default=Path(tempfile.gettempdir()) / "assay-bench-drift",
                        help="folder of the Parquet files (written once)")


def _frame(rng: np.random.Generator, rows: int, shifted: bool) -> pd.DataFrame:
    columns: dict[str, Any] = {}
    for j in range(NUMERIC):
        # shifts of 0.05 to 0.25 SD: some near the 0.1 thresholds
        shift = 0.05 * (j + 1) if shifted and j < SHIFTED else 0.0
        columns[f"num_{j:02d}"] = rng.normal(shift, 1.0, rows)
    for j in range(CATEGORICAL):
        shares = SHIFTED_SHARES if shifted and j < CATEGORICAL_SHIFTED else SHARES
        columns[f"cat_{j}"] = rng.choice(LEVELS, rows, p=shares).astype(object)
    return pd.DataFrame(columns)


def data(rows: int, seed: int, cache: Path) -> tuple[Path, Path]:
    """The reference and current Parquet files, written on first use."""
    cache.mkdir(parents=True, exist_ok=True)
    paths = (cache / f"reference-{rows}-{seed}.parquet", cache / f"current-{rows}-{seed}.parquet")
    if not all(p.exists() for p in paths):
        rng = np.random.default_rng(seed)
        for path, shifted in zip(paths, (False, True), strict=True):
            _frame(rng, rows, shifted).to_parquet(path.with_suffix(".tmp"))
            path.with_suffix(".tmp").replace(path)
    return paths


def _timed(fn: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def _peer(name: str, paths: tuple[Path, Path]) -> dict[str, Any]:
    python = BENCH / f".venv-{name}" / "bin" / "python"
    if not python.exists():
        return {"blocked": f"{python} is missing (make bench creates it)"}
    env = {**os.environ, "DO_NOT_TRACK": "1", "NML_DISABLE_USAGE_LOGGING": "1"}
    done = subprocess.run([str(python), str(BENCH / "peers" / f"{name}_drift.py"),
                           *map(str, paths)], capture_output=True, text=True, env=env,
                          check=False)
    if done.returncode != 0:
        return {"blocked": done.stderr.strip().splitlines()[-1] if done.stderr else "failed"}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _decisions(report: DriftReport, method: str) -> dict[str, tuple[float, bool]]:
    return {r.feature: (r.statistic, r.drifted) for r in report.records if r.method == method}


def _pick(columns: dict[str, Any], method: str) -> dict[str, tuple[float, bool]]:
    return {c: (v[method]["statistic"], v[method]["drifted"])
            for c, v in columns.items() if method in v}


def _agreement(label: str, ours: dict[str, tuple[float, bool]],
               theirs: dict[str, tuple[float, bool]], note: str) -> None:
    common = [c for c in ours if c in theirs]
    same = [c for c in common if ours[c][1] == theirs[c][1]]
    drifted = sum(ours[c][1] for c in common)
    print(f"    {label:<46}{len(same):>3} of {len(common)} agree "
          f"(ours: {drifted} drifted)  {note}")
    for c in common:
        if ours[c][1] != theirs[c][1]:
            print(f"        {c}: ours {ours[c][0]:.4f} ({'drift' if ours[c][1] else 'no drift'})"
                  f", theirs {theirs[c][0]:.4g} ({'drift' if theirs[c][1] else 'no drift'})")


def _line(label: str, seconds: float, note: str = "") -> None:
    print(f"    {label:<46}{seconds:8.2f} s  {note}".rstrip())


def run(args: argparse.Namespace) -> bool:
    """Run benchmark (d), print it, and say whether the target was met."""
    paths = data(args.drift_rows, args.seed, args.drift_cache)
    reference, current = (pd.read_parquet(p) for p in paths)
    print(f"\n(d) drift: {len(reference):,} reference and {len(current):,} current rows x "
          f"{reference.shape[1]} columns ({NUMERIC} numeric, {SHIFTED} shifted by 0.05-0.25 SD; "
          f"{CATEGORICAL} categorical, {CATEGORICAL_SHIFTED} shifted); files in {paths[0].parent}")
    _load("at the start")
    _, ours = _timed(lambda: compare_features(reference, current))
    evidently_match, ours_evidently = _timed(
        lambda: compare_features(reference, current, methods=MATCH_EVIDENTLY))
    nannyml_match, ours_nannyml = _timed(
        lambda: compare_features(reference, current, methods=MATCH_NANNYML))
    _line("assay compare_features, default methods", ours,
          "PSI + KS (numeric), PSI + Cramer's V (categorical), missing share")
    _line("assay, Evidently's methods", ours_evidently, "Wasserstein / Jensen-Shannon")
    _line("assay, NannyML's methods", ours_nannyml, "KS / Jensen-Shannon + Cramer's V")
    assay = BENCH.parent / ".venv" / "bin" / "assay"
    with tempfile.TemporaryDirectory() as folder:
        command = [str(assay), "drift", *map(str, paths), "--json", f"{folder}/drift.json"]
        done, cli = _timed(lambda: subprocess.run(command, capture_output=True, text=True,
                                                  check=False))
        joint = (json.loads(Path(f"{folder}/drift.json").read_text())["multivariate"]
                 if done.returncode == 0 else None)
    _line("assay drift CLI, whole command", cli,
          "reads both files, default methods, domain classifier on 50,000 rows a side, "
          "PCA reconstruction"
          + (f" (AUROC {joint['auroc']:.3f} [{joint['ci_low']:.3f}, {joint['ci_high']:.3f}])"
             if joint else f" FAILED: {done.stderr.strip()[-200:]}"))

    met = done.returncode == 0
    for name in PEERS:
        result = _peer(name, paths)
        if "blocked" in result:
            print(f"    {name}: BLOCKED - {result['blocked']}")
            met = False
            continue
        seconds = result["seconds"]
        matched = ours_evidently if name == "evidently" else ours_nannyml
        ratio, matched_ratio = seconds / ours, seconds / matched
        _line(f"{name} {result['version']}", seconds,
              f"{ratio:.1f}x ours (default methods), {matched_ratio:.1f}x ours (same methods)")
        speedup = min(ratio, matched_ratio)
        print(f"    {'speed-up (' + name + ' / ours, the smaller)':<46}{speedup:7.1f}x  "
              f"target >= {TARGET:.0f}x: {'met' if speedup >= TARGET else 'NOT MET'}")
        met = met and speedup >= TARGET
        columns = result["columns"]
        if name == "evidently":
            theirs = {c: (v["statistic"], v["drifted"]) for c, v in columns.items()}
            _agreement("Wasserstein (normalised), threshold 0.1", _decisions(evidently_match,
                       "wasserstein"), theirs, "same definition; theirs drifts at >=, ours at >")
            _agreement("Jensen-Shannon, threshold 0.1", _decisions(evidently_match,
                       "jensen_shannon"), theirs, "theirs natural log (= ours x 0.833)")
        else:
            _agreement("KS statistic, threshold 0.1", _decisions(nannyml_match, "ks"),
                       _pick(columns, "kolmogorov_smirnov"), "theirs read at 10,000 bins")
            _agreement("Jensen-Shannon (base 2), threshold 0.1",
                       _decisions(nannyml_match, "jensen_shannon"),
                       _pick(columns, "jensen_shannon"), "same definition")
            _agreement("chi-square: ours Cramer's V > 0.1, theirs p < 0.05",
                       _decisions(nannyml_match, "cramers_v"), _pick(columns, "chi2"),
                       "effect size against p-value")
    _load("at the end")
    return met


def _load(when: str) -> None:
    """The machine's load, since other jobs share its cores and the times move with it."""
    one, five, _ = os.getloadavg()
    print(f"    machine load {when}: {one:.1f} (1 min), {five:.1f} (5 min) on "
          f"{os.cpu_count()} cores")

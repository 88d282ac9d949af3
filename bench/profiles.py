"""Benchmark (e): ``assay.curation.profile`` against whylogs' standard profile on the same
10,000,000 × 20 Parquet file.

Called from ``bench/run.py``; see ``bench/README.md``. whylogs runs in its own virtualenv
(``bench/.venv-whylogs``, made by ``make bench``) through ``bench/peers/whylogs_profile.py``,
which times only ``why.log(pandas=frame)`` and prints JSON. Both sides read the same file
outside the timed part; the peak resident set of each profiling call is measured the same way
on both sides (the kernel's high-water mark, reset after reading the file).
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

from assay.curation._profile import Profile, profile

TARGET = 3.0  # ours at least 3x faster than whylogs
BENCH = Path(__file__).resolve().parent
NUMERIC, CATEGORICAL = 14, 4
LEVELS = (5, 12, 25, 50)  # levels of the categorical columns
START = np.datetime64("2022-01-01T00:00:00", "s")
SPAN_SECONDS = 2 * 365 * 86_400


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile-rows", type=int, default=10_000_000)
    parser.add_argument("--profile-cache", type=Path,
                        default=Path(tempfile.gettempdir()) / "assay-bench-profile",
                        help="folder of the Parquet file (written once)")


def _frame(rng: np.random.Generator, rows: int) -> pd.DataFrame:
    columns: dict[str, Any] = {}
    for j in range(NUMERIC):
        kind = j % 4
        if kind == 0:
            values = rng.normal(50.0 + j, 10.0, rows)
        elif kind == 1:
            values = rng.lognormal(0.0, 0.5 + 0.05 * j, rows)
        elif kind == 2:
            values = rng.gamma(2.0, 1.0 + j, rows)
        else:
            values = np.round(rng.normal(100.0, 15.0, rows), 1)  # few distinct values
        missing_share = (0.0, 0.02, 0.1, 0.3)[j % 4] if j % 3 else 0.0
        if missing_share:
            values[rng.random(rows) < missing_share] = np.nan
        columns[f"num_{j:02d}"] = values
    for j, levels in enumerate(LEVELS):
        names = np.array([f"level_{j}_{i:02d}" for i in range(levels)], dtype=object)
        weights = 1.0 / np.arange(1, levels + 1) ** 1.1  # a few large levels, a long tail
        values = names[rng.choice(levels, rows, p=weights / weights.sum())]
        values[rng.random(rows) < 0.05 * j] = None
        columns[f"cat_{j}"] = values
    columns["length_of_stay"] = rng.poisson(4, rows).astype(np.int64)
    seconds = rng.integers(0, SPAN_SECONDS, rows)
    columns["admitted"] = pd.Series(START + seconds.astype("timedelta64[s]")).astype(
        "datetime64[ns]")
    return pd.DataFrame(columns)


def data(rows: int, seed: int, cache: Path) -> Path:
    """The Parquet file, written on first use."""
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"profile-{rows}-{seed}.parquet"
    if not path.exists():
        _frame(np.random.default_rng(seed), rows).to_parquet(path.with_suffix(".tmp"))
        path.with_suffix(".tmp").replace(path)
    return path


def reset_peak_rss() -> float:
    """Reset the kernel's high-water mark of this process's resident set; the current size, MB."""
    Path("/proc/self/clear_refs").write_text("5")
    return _status_mb("VmRSS")


def peak_rss() -> float:
    """The high-water mark of this process's resident set since :func:`reset_peak_rss`, MB."""
    return _status_mb("VmHWM")


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"/proc/self/status has no {field}")


def _peer(path: Path) -> dict[str, Any]:
    python = BENCH / ".venv-whylogs" / "bin" / "python"
    if not python.exists():
        return {"blocked": f"{python} is missing (make bench creates it)"}
    env = {**os.environ, "WHYLOGS_NO_ANALYTICS": "True"}
    done = subprocess.run([str(python), str(BENCH / "peers" / "whylogs_profile.py"), str(path)],
                          capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        return {"blocked": done.stderr.strip().splitlines()[-1] if done.stderr else "failed"}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _line(label: str, seconds: float, note: str = "") -> None:
    print(f"    {label:<46}{seconds:8.2f} s  {note}".rstrip())


def _check(ours: Profile, theirs: dict[str, Any], frame: pd.DataFrame) -> None:
    """Counts that both tools give exactly: rows and missing values per column."""
    differ = []
    for column in ours.columns:
        peer = theirs["columns"].get(column.name)
        if peer is None or (peer["n"], peer["missing"]) != (column.n, column.missing):
            differ.append(f"{column.name}: ours {column.n}/{column.missing}, theirs "
                          f"{None if peer is None else (peer['n'], peer['missing'])}")
    print(f"    rows and missing values per column: "
          f"{len(ours.columns) - len(differ)} of {frame.shape[1]} agree")
    for line in differ:
        print(f"        {line}")


def run(args: argparse.Namespace) -> bool:
    """Run benchmark (e), print it, and say whether the target was met."""
    path = data(args.profile_rows, args.seed, args.profile_cache)
    frame = pd.read_parquet(path)
    print(f"\n(e) profile: {len(frame):,} rows x {frame.shape[1]} columns ({NUMERIC} float with "
          f"0-30 % missing, {CATEGORICAL} text with {'/'.join(map(str, LEVELS))} levels, "
          f"1 integer, 1 datetime); file {path}")
    one, five, _ = os.getloadavg()
    print(f"    machine load at the start: {one:.1f} (1 min), {five:.1f} (5 min) on "
          f"{os.cpu_count()} cores")
    best, ours = float("inf"), None
    base = reset_peak_rss()
    for _ in range(args.repeats):
        start = time.perf_counter()
        ours = profile(frame)
        best = min(best, time.perf_counter() - start)
    assert ours is not None
    memory = peak_rss() - base
    _line("assay profile(frame)", best,
          f"best of {args.repeats}; peak resident set +{memory:,.0f} MB over the "
          f"{base:,.0f} MB holding the frame")
    result = _peer(path)
    if "blocked" in result:
        print(f"    whylogs: BLOCKED - {result['blocked']}")
        return False
    seconds = result["seconds"]
    _line(f"whylogs {result['version']} why.log(pandas=frame)", seconds,
          f"once; peak resident set +{result['peak_rss_mb']:,.0f} MB over the "
          f"{result['base_rss_mb']:,.0f} MB holding the frame")
    ratio = seconds / best
    print(f"    {'speed-up (whylogs / ours)':<46}{ratio:7.1f}x  target >= {TARGET:.0f}x: "
          f"{'met' if ratio >= TARGET else 'NOT MET'}")
    _check(ours, result, frame)
    return ratio >= TARGET

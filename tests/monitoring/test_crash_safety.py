"""A monitor run killed at random points and restarted, 20 times, leaves exactly one result per
window with the values of an uninterrupted run, and an audit chain that verifies."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from assay.monitoring import MonitorRecords, MonitorSpec, run_monitor
from assay.store import Store
from tests.monitoring.test_run import START, make_log

WEEKS = 16
AS_OF = START + timedelta(weeks=WEEKS)
RUNNER = """
import sys
from assay.monitoring import MonitorSpec, run_monitor
from assay.store import Store

spec = MonitorSpec.load(sys.argv[1])
store = Store.open(sys.argv[2])
print("started", flush=True)
run_monitor(spec, store, as_of=sys.argv[3], base=__import__("pathlib").Path(sys.argv[1]).parent,
            on_window=lambda result: print("window", result.label, flush=True))
print("done", flush=True)
"""


def _monitor(folder: Path) -> Path:
    make_log(11, weeks=WEEKS, lab_factor_from=8).to_parquet(folder / "log.parquet")
    make_log(12, weeks=8).to_parquet(folder / "reference.parquet")
    path = folder / "monitor.yaml"
    path.write_text(
        "monitor: crash-test\n"
        "source: {path: log.parquet}\nreference: {path: reference.parquet}\n"
        "roles: {target: outcome, score: risk, time: predicted_at, features: [age, lab]}\n"
        "label_time: outcome_known_at\nthreshold: 0.3\nmetrics: [auroc, oe_ratio]\n"
        "alerts:\n"
        "  - {name: lab-drift, drift: {method: psi}, severity: critical}\n"
        "  - {name: auroc-cusum, sequential: {metric: auroc}}\n", encoding="utf-8")
    return path


def _killed_run(command: list[str], windows_to_wait: int, delay: float) -> str:
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONHASHSEED": "0"})
    assert process.stdout is not None
    seen = 0
    last = ""
    while seen <= windows_to_wait:
        last = process.stdout.readline()
        if not last or last.startswith("done"):
            break
        seen += last.startswith("window")
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.wait()
    process.stdout.close()
    return last.strip()


@pytest.mark.slow
def test_twenty_kills_leave_one_identical_result_per_window(tmp_path: Path) -> None:
    path = _monitor(tmp_path)
    url = f"sqlite:///{tmp_path}/killed.db"
    command = [sys.executable, "-c", RUNNER, str(path), url, AS_OF.isoformat()]
    chooser = random.Random(20)
    outcomes = []
    for _ in range(20):
        outcomes.append(_killed_run(command, chooser.randrange(0, 2), chooser.uniform(0, 0.05)))
    print("\nlast line before each kill:", outcomes)
    finished = subprocess.run(command, capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert finished.stdout.strip().endswith("done")

    killed = Store.open(url)
    clean = Store.open(f"sqlite:///{tmp_path}/clean.db")
    spec = MonitorSpec.load(path)
    run_monitor(spec, clean, as_of=AS_OF, base=tmp_path)
    after_kills = MonitorRecords(killed).windows(spec.name, all_revisions=True)
    uninterrupted = MonitorRecords(clean).windows(spec.name, all_revisions=True)
    assert len(after_kills) == len(uninterrupted) == WEEKS
    assert [w.revision for w in after_kills] == [1] * WEEKS
    for a, b in zip(after_kills, uninterrupted, strict=True):
        assert a.status == b.status
        assert json.loads(a.result.model_dump_json()) == json.loads(b.result.model_dump_json())
    rules = sorted((a.rule, a.state, a.first_window_start)
                   for a in MonitorRecords(killed).alerts(states=("open", "resolved")))
    assert rules == sorted((a.rule, a.state, a.first_window_start)
                           for a in MonitorRecords(clean).alerts(states=("open", "resolved")))
    assert killed.verify_audit().ok
    assert sum(line.startswith("window") for line in outcomes) >= 5  # kills landed mid-run

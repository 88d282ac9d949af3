"""MLflow key names and the import boundary: no MLflow needed for most of these."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assay.integrations._mlflow_keys import MAX_KEY_LENGTH, check_passed, metric_key, unique_keys

# what MLflow accepts on every platform (its Windows rule), and no path tricks
PORTABLE = re.compile(r"^[/\w.\- ]*$")


@pytest.mark.parametrize(("text", "key"), [
    ("risk.auroc", "risk.auroc"),
    ("risk.sensitivity@0.3", "risk.sensitivity_at_0.3"),
    ("check.sensitivity@operating.passed", "check.sensitivity_at_operating.passed"),
    ("risk/score.brier", "risk_score.brier"),
    ("../risk..auroc", "_risk.auroc"),
    ("score (v2):auroc", "score _v2__auroc"),
])
def test_metric_key(text: str, key: str) -> None:
    assert metric_key(text) == key


@given(st.text(max_size=400))
def test_every_key_is_one_mlflow_accepts(text: str) -> None:
    key = metric_key(text)
    assert PORTABLE.match(key)
    assert 0 < len(key) <= MAX_KEY_LENGTH
    assert ".." not in key and not key.startswith((".", "/", " "))


def test_long_keys_stay_distinct() -> None:
    first, second = metric_key("a" * 300 + "1"), metric_key("a" * 300 + "2")
    assert len(first) == len(second) == MAX_KEY_LENGTH and first != second


def test_unique_keys_suffixes_repeats() -> None:
    assert unique_keys([("a.b", 1), ("a.b", 2), ("a.b", 3), ("c", 4)]) == {
        "a.b": 1, "a.b_2": 2, "a.b_3": 3, "c": 4}


def test_check_passed() -> None:
    assert [check_passed(s) for s in ("pass", "warn", "fail", "error", "skipped")] == [
        1.0, 1.0, 0.0, 0.0, None]


def test_public_surface() -> None:
    import assay.integrations

    assert assay.integrations.__all__ == []
    module = pytest.importorskip("assay.integrations.mlflow")
    assert module.__all__ == ["REPORT_ARTIFACT", "RUN_ARTIFACT", "MlflowRegistration",
                              "load_mlflow_model", "log_run_to_mlflow", "register_from_mlflow"]
    public = {name for name, value in vars(module).items()
              if not name.startswith("_") and type(value).__name__ != "module"
              and name != "annotations"}
    assert public == set(module.__all__)


WITHOUT_MLFLOW = """
import sys
sys.modules["mlflow"] = None  # makes 'import mlflow' raise ImportError
import assay, assay.integrations
try:
    import assay.integrations.mlflow
except ImportError as exc:
    print(type(exc).__name__, exc.extra, exc.package)
    print(exc)
"""


def test_without_mlflow_the_error_names_the_extra() -> None:
    completed = subprocess.run([sys.executable, "-c", WITHOUT_MLFLOW], capture_output=True,
                               text=True, check=False)
    assert completed.returncode == 0, completed.stderr
    first, second = completed.stdout.splitlines()
    assert first == "MissingExtraError mlflow mlflow-skinny"
    assert "pip install 'assay[mlflow]'" in second

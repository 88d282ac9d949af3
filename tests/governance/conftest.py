"""Governance fixtures: a passing Run (the store's backends come from tests/conftest.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from assay.checks import Plan, Run, validate

__all__ = ["passing_run", "validation_frame"]

PASSING_PLAN = """
name: governance-local-validation
roles: {target: outcome, score: [risk]}
settings: {n_boot: 100, seed: 3}
checks:
  - metric: auroc
    condition: ci_low >= 0.6
"""


@pytest.fixture(scope="session")
def validation_frame() -> pd.DataFrame:
    """400 patients: an outcome and a risk with AUROC about 0.8."""
    rng = np.random.default_rng(5)
    signal = rng.normal(size=400)
    risk = 1 / (1 + np.exp(-(-1.0 + 1.3 * signal)))
    return pd.DataFrame({"outcome": (rng.random(400) < risk).astype(int), "risk": risk})


@pytest.fixture(scope="session")
def passing_run(validation_frame: pd.DataFrame) -> Run:
    """A Run whose one check passes."""
    run = validate(Plan.from_yaml(PASSING_PLAN), validation_frame)
    assert run.passed
    return run

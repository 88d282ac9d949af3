from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="session")
def cohort() -> pd.DataFrame:
    """2,000 patients: a calibrated risk, a weaker challenger, a lab value (not a probability)."""
    rng = np.random.default_rng(11)
    n = 2000
    signal = rng.normal(size=n)
    risk = 1 / (1 + np.exp(-(-1.8 + 1.1 * signal)))
    y = rng.random(n) < risk
    noisy = 1 / (1 + np.exp(-(-1.8 + 1.1 * (signal + rng.normal(scale=0.8, size=n)))))
    lactate = np.round(np.exp(0.3 * signal + rng.normal(scale=0.3, size=n)) * 1.5, 1)
    return pd.DataFrame({
        "encounter_id": [f"E{i:05d}" for i in range(n)],
        "outcome": y.astype(int),
        "risk": risk,
        "challenger": noisy,
        "lactate": lactate,
        "discharged_at": pd.date_range("2025-01-01", periods=n, freq="4h"),
    })

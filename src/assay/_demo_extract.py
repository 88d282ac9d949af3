"""The demo's validation data as a warehouse extract delivers it, not as a textbook would.

The synthetic cohort is clean; a real extract is not. This adds what the plan's cohort and
quality checks are there to catch, each at a plausible rate: encounters sent twice by the
interface, teenagers admitted to adult wards, deaths in hospital and transfers (no 30-day
readmission to observe), outcomes not yet known when the data were pulled, a monitor that
writes 999 when it has no heart rate, and one ward whose thermometers switched to °F.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

FAHRENHEIT_FROM = "2025-02-01"
"""The day the ward's new thermometers started sending °F."""


@dataclass(frozen=True)
class Extract:
    """The extract and what was done to it, in numbers for the demo's story."""

    frame: pd.DataFrame
    pulled_on: pd.Timestamp
    added: dict[str, int]


def warehouse_extract(clean: pd.DataFrame, seed: int) -> Extract:
    """``clean`` as delivered: the same encounters plus the blemishes of a real extract."""
    rng = np.random.default_rng(seed + 101)
    frame = clean.copy()
    frame["readmit_30d"] = frame["readmit_30d"].astype("float64")
    n = len(frame)
    free = np.ones(n, dtype=bool)

    def pick(share: float) -> np.ndarray:
        chosen = free & (rng.random(n) < share)
        free[chosen] = False
        return chosen

    children = pick(0.004)
    frame.loc[children, "age"] = rng.integers(15, 18, int(children.sum()))
    died = pick(0.015)
    frame.loc[died, "discharge_disposition"] = "Died"
    frame.loc[died, "readmit_30d"] = 0.0
    transferred = pick(0.01)
    frame.loc[transferred, "discharge_disposition"] = "Acute care transfer"
    pulled_on = frame["discharged_at"].max().normalize() + pd.Timedelta(days=14)
    unknown = (frame["discharged_at"] + pd.Timedelta(days=30)) > pulled_on
    frame.loc[unknown, "readmit_30d"] = np.nan
    no_reading = rng.random(n) < 0.001
    frame.loc[no_reading, "heart_rate_bpm"] = 999.0
    ward = (frame["discharged_at"] >= pd.Timestamp(FAHRENHEIT_FROM)) & (rng.random(n) < 0.04)
    frame.loc[ward, "temp_c"] = frame.loc[ward, "temp_c"] * 1.8 + 32.0
    resent = frame.sample(n=25, random_state=seed)
    frame = (pd.concat([frame, resent])
             .sort_values("discharged_at", kind="stable").reset_index(drop=True))
    added = {"resent": 25, "children": int(children.sum()), "died": int(died.sum()),
             "transferred": int(transferred.sum()), "outcome_unknown": int(unknown.sum()),
             "heart_rate_999": int(no_reading.sum()), "fahrenheit": int(ward.sum())}
    return Extract(frame=frame, pulled_on=pulled_on, added=added)

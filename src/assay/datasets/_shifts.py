"""Named distribution shifts that can be injected into the synthetic inpatient cohort.

Each shift is a small frozen dataclass that says what changes and from when. A shift acts on the
encounters discharged on or after its ``starts`` date (and, for an outage, before ``ends``); rows
discharged earlier are never touched. ``assay.datasets.apply_shift`` applies one to a cohort.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd

from assay.datasets._simulate import (
    MEASUREMENT_UNITS,
    PAYERS,
    RACE_GROUPS,
    Population,
)
from assay.errors import InputError

_OUTCOME_WINDOW = pd.Timedelta(days=30)


def parse_date(value: str, field_name: str) -> pd.Timestamp:
    """Read a date such as ``"2025-03-01"``; tell the user which field was wrong."""
    try:
        parsed = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{field_name} must be a date like '2025-03-01' (got {value!r})") from exc
    if pd.isna(parsed):
        raise InputError(f"{field_name} must be a date like '2025-03-01' (got {value!r})")
    if parsed.tzinfo is not None:
        raise InputError(f"{field_name} must be a date without a time zone (got {value!r})")
    return parsed


def _check_measurement(column: str, shift_name: str) -> None:
    if column not in MEASUREMENT_UNITS:
        known = ", ".join(MEASUREMENT_UNITS)
        raise InputError(f"{shift_name}.column must be one of {known} (got {column!r})")


def _normalised_mix(
    mix: Mapping[str, float] | None, categories: tuple[str, ...], field_name: str
) -> Mapping[str, float] | None:
    if mix is None:
        return None
    unknown = sorted(set(mix) - set(categories))
    if unknown:
        raise InputError(
            f"{field_name} has unknown categories {unknown}; use {', '.join(categories)}"
        )
    shares = {name: float(mix.get(name, 0.0)) for name in categories}
    if any(not math.isfinite(share) or share < 0 for share in shares.values()):
        raise InputError(f"{field_name} shares must be finite and >= 0 (got {dict(mix)})")
    total = sum(shares.values())
    if total <= 0:
        raise InputError(f"{field_name} shares must add up to more than 0 (got {dict(mix)})")
    return MappingProxyType({name: share / total for name, share in shares.items()})


@dataclass(frozen=True)
class LabUnitChange:
    """A lab feed starts sending its results in another unit.

    Simulates an interface or analyser change: from ``starts`` the values in ``column`` are
    multiplied by ``factor`` (the default turns glucose in mg/dL into mmol/L). The patients and
    their outcomes do not change, only the numbers the model receives.

    Parameters
    ----------
    column : str
        A vital-sign or lab column, e.g. ``"glucose_mg_dl"``.
    factor : float
        Multiplier applied to the values (``1 / 18.016`` for glucose mg/dL to mmol/L).
    starts : str
        First discharge date affected.
    unit : str
        The unit the feed sends from ``starts`` on; documentation only (the column keeps its
        name, as it would in a real feed).
    """

    column: str = "glucose_mg_dl"
    factor: float = 1 / 18.016
    starts: str = "2025-03-01"
    unit: str = "mmol/L"

    def __post_init__(self) -> None:
        _check_measurement(self.column, "LabUnitChange")
        if not math.isfinite(self.factor) or self.factor <= 0:
            raise InputError(f"LabUnitChange.factor must be finite and > 0 (got {self.factor})")
        parse_date(self.starts, "LabUnitChange.starts")


@dataclass(frozen=True)
class NewPopulation:
    """A new clinic or catchment area starts sending patients.

    From ``starts``, a ``share`` of the encounters come from new patients drawn from a shifted
    population: mean age moved by ``age_shift`` years (the whole age distribution slides within
    18 to 100; nothing piles up at the limits) and, when given, other race and ethnicity and
    payer mixes. They take the place of randomly chosen encounters of the original population,
    so the number of rows stays the same. Their features, risk and outcomes follow the same
    clinical model: only who arrives changes (a covariate shift), and with it the outcome rate
    as far as the new patients differ.

    Parameters
    ----------
    starts : str
        First discharge date of the new patients.
    share : float
        Share of the encounters discharged from ``starts`` that come from the new population,
        in (0, 1].
    age_shift : float
        Years added to the mean age of new patients, from -20 to 20 (negative: younger).
    race_mix : Mapping[str, float] or None
        Shares of ``White``, ``Black``, ``Hispanic``, ``Asian``, ``Other/Unknown`` (missing
        groups get 0; shares are rescaled to sum to 1). None keeps the original mix.
    payer_mix : Mapping[str, float] or None
        Shares of ``Medicare``, ``Medicaid``, ``Commercial``, ``Self-pay``. None keeps the
        original rule (payer follows age and race and ethnicity).
    """

    starts: str
    share: float = 0.3
    age_shift: float = -15.0
    race_mix: Mapping[str, float] | None = field(default=None, hash=False)
    payer_mix: Mapping[str, float] | None = field(default=None, hash=False)

    def __post_init__(self) -> None:
        parse_date(self.starts, "NewPopulation.starts")
        if not 0.0 < self.share <= 1.0:
            raise InputError(f"NewPopulation.share must be in (0, 1] (got {self.share})")
        if not -20.0 <= self.age_shift <= 20.0:
            raise InputError(
                f"NewPopulation.age_shift must be between -20 and 20 years (got {self.age_shift})"
            )
        race = _normalised_mix(self.race_mix, RACE_GROUPS, "NewPopulation.race_mix")
        payer = _normalised_mix(self.payer_mix, PAYERS, "NewPopulation.payer_mix")
        object.__setattr__(self, "race_mix", race)
        object.__setattr__(self, "payer_mix", payer)

    def population(self) -> Population:
        """The simulation parameters of the new patients."""
        base = Population()
        return Population(
            age_shift=self.age_shift,
            race_shares=base.race_shares
            if self.race_mix is None
            else tuple(self.race_mix[name] for name in RACE_GROUPS),
            payer_shares=None
            if self.payer_mix is None
            else tuple(self.payer_mix[name] for name in PAYERS),
        )


@dataclass(frozen=True)
class PrevalenceChange:
    """The readmission rate changes while the patients and their features do not.

    Simulates a change outside the hospital record, such as a closed skilled nursing facility or
    a new transitional-care programme: from ``starts`` the odds of readmission are multiplied by
    ``odds_ratio`` (a shift of the intercept of the true risk model). ``true_risk`` is updated
    and outcomes are redrawn, changing only as many labels as needed.

    With ``odds_ratio`` below 1 some readmissions are undone. When the undone readmission was
    the patient's next encounter in the cohort, that encounter and the patient's later ones are
    given a new patient id, so that no discharge without a readmission is followed within 30
    days by an encounter of the same patient.

    Parameters
    ----------
    starts : str
        First discharge date affected.
    odds_ratio : float
        Multiplier of the odds of readmission, > 0.
    """

    starts: str
    odds_ratio: float = 1.8

    def __post_init__(self) -> None:
        parse_date(self.starts, "PrevalenceChange.starts")
        if not math.isfinite(self.odds_ratio) or self.odds_ratio <= 0:
            raise InputError(
                f"PrevalenceChange.odds_ratio must be finite and > 0 (got {self.odds_ratio})"
            )


@dataclass(frozen=True)
class FeedOutage:
    """A feature stops arriving for a while.

    Simulates an interface outage or a test no longer ordered: ``column`` is missing for every
    encounter discharged from ``starts`` up to (not including) ``ends``. Everything else,
    including the outcome, is unchanged.

    Parameters
    ----------
    column : str
        A vital-sign or lab column, e.g. ``"lactate_mmol_l"``.
    starts, ends : str
        The outage window of discharge dates, ``starts`` included and ``ends`` excluded.
    """

    column: str
    starts: str
    ends: str

    def __post_init__(self) -> None:
        _check_measurement(self.column, "FeedOutage")
        starts = parse_date(self.starts, "FeedOutage.starts")
        ends = parse_date(self.ends, "FeedOutage.ends")
        if ends <= starts:
            raise InputError(
                f"FeedOutage.ends ({self.ends}) must be after FeedOutage.starts ({self.starts})"
            )


Shift: TypeAlias = LabUnitChange | NewPopulation | PrevalenceChange | FeedOutage
"""Any of the shifts that ``make_inpatient_cohort`` and ``apply_shift`` accept."""


def rows_from(
    cohort: pd.DataFrame, starts: str, field_name: str, ends: str | None = None
) -> npt.NDArray[np.bool_]:
    """Rows discharged in ``[starts, ends)``; an error if there are none."""
    discharged = cohort["discharged_at"]
    inside = discharged >= parse_date(starts, field_name)
    window = f"on or after {starts}"
    if ends is not None:
        inside &= discharged < parse_date(ends, field_name)
        window = f"from {starts} to before {ends}"
    if not inside.any():
        raise InputError(
            f"{field_name}: no encounters discharged {window}; the cohort's discharges run "
            f"from {discharged.min()} to {discharged.max()}"
        )
    return inside.to_numpy()


def change_lab_unit(cohort: pd.DataFrame, shift: LabUnitChange) -> pd.DataFrame:
    """Multiply ``shift.column`` by ``shift.factor`` from ``shift.starts``."""
    affected = rows_from(cohort, shift.starts, "LabUnitChange.starts")
    shifted = cohort.copy()
    values = shifted[shift.column].to_numpy(dtype=np.float64, copy=True)
    values[affected] *= shift.factor
    shifted[shift.column] = values
    return shifted


def cut_feed(cohort: pd.DataFrame, shift: FeedOutage) -> pd.DataFrame:
    """Blank ``shift.column`` inside the outage window."""
    affected = rows_from(cohort, shift.starts, "FeedOutage", shift.ends)
    shifted = cohort.copy()
    values = shifted[shift.column].to_numpy(dtype=np.float64, copy=True)
    values[affected] = np.nan
    shifted[shift.column] = values
    return shifted


def readmitted_here(cohort: pd.DataFrame) -> npt.NDArray[np.bool_]:
    """Rows whose patient's next encounter in the cohort starts within 30 days of discharge."""
    patient = pd.factorize(cohort["patient_id"])[0]
    admitted = cohort["admitted_at"].to_numpy()
    discharged = cohort["discharged_at"].to_numpy()
    order = np.lexsort((admitted, patient))
    same_patient = patient[order][1:] == patient[order][:-1]
    gap = admitted[order][1:] - discharged[order][:-1]
    flagged = np.zeros(len(cohort), dtype=bool)
    flagged[order[:-1]] = same_patient & (gap <= _OUTCOME_WINDOW.to_timedelta64())
    return flagged


def id_numbers(ids: pd.Series, prefix: str, column: str) -> npt.NDArray[np.int64]:
    """The numbers in ids like ``P0000001``; an error naming the column otherwise."""
    matches = ids.astype(str).str.fullmatch(prefix + r"\d+")
    if not matches.all():
        raise InputError(
            f"column '{column}' must hold ids like '{prefix}0000001' "
            f"(found {ids[~matches].iloc[0]!r} in {int((~matches).sum())} rows)"
        )
    return np.asarray(ids.astype(str).str.slice(1).astype(np.int64), dtype=np.int64)


def _split_patients(cohort: pd.DataFrame, undone: npt.NDArray[np.bool_]) -> npt.NDArray[np.str_]:
    """Patient ids where the encounters after each ``undone`` row belong to a new patient."""
    patient = pd.factorize(cohort["patient_id"])[0]
    order = np.lexsort((cohort["admitted_at"].to_numpy(), patient))
    same_patient = np.r_[False, patient[order][1:] == patient[order][:-1]]
    splits = same_patient & np.r_[False, undone[order][:-1]]
    segment = np.cumsum(~same_patient | splits) - 1
    split_segment = np.zeros(segment[-1] + 1, dtype=bool)
    split_segment[segment[splits]] = True
    first_new = int(id_numbers(cohort["patient_id"], "P", "patient_id").max()) + 1
    new_number = first_new + np.cumsum(split_segment) - 1
    ids = cohort["patient_id"].to_numpy(dtype=object)[order]
    moved = split_segment[segment]
    ids[moved] = [f"P{number:07d}" for number in new_number[segment[moved]]]
    result = np.empty(len(cohort), dtype=object)
    result[order] = ids
    return result


def _check_values(values: pd.Series, valid: pd.Series, rule: str) -> None:
    if not valid.all():
        raise InputError(
            f"column '{values.name}' must {rule} "
            f"(found {values[~valid].tolist()[0]!r} in {int((~valid).sum())} rows)"
        )


def change_prevalence(
    cohort: pd.DataFrame, shift: PrevalenceChange, rng: np.random.Generator
) -> pd.DataFrame:
    """Shift the intercept of the true risk from ``shift.starts`` and redraw the outcomes."""
    affected = rows_from(cohort, shift.starts, "PrevalenceChange.starts")
    _check_values(cohort["readmit_30d"], cohort["readmit_30d"].isin([0, 1]), "contain only 0/1")
    within = cohort["true_risk"].between(0.0, 1.0)
    _check_values(cohort["true_risk"], within, "hold probabilities from 0 to 1")
    old_risk = np.clip(cohort["true_risk"].to_numpy(dtype=np.float64), 1e-12, 1 - 1e-12)
    old_label = cohort["readmit_30d"].to_numpy(dtype=np.int64) == 1
    logit = np.log(old_risk / (1.0 - old_risk)) + math.log(shift.odds_ratio)
    new_risk = 1.0 / (1.0 + np.exp(-logit))
    draw = rng.random(len(cohort))
    shifted = cohort.copy()
    if shift.odds_ratio >= 1.0:
        # Each encounter without a readmission gains one with the probability that lifts its
        # risk from old_risk to new_risk.
        new_label = old_label | (draw < (new_risk - old_risk) / (1.0 - old_risk))
    else:
        # Each readmission is kept with probability new_risk / old_risk. A readmission that is
        # the patient's next encounter is then no readmission of that patient: the encounters
        # from it on get a new patient id.
        new_label = old_label & (draw < new_risk / old_risk)
        undone = affected & old_label & ~new_label & readmitted_here(cohort)
        if undone.any():
            shifted["patient_id"] = _split_patients(cohort, undone)
    shifted["true_risk"] = np.where(affected, new_risk, cohort["true_risk"].to_numpy())
    shifted["readmit_30d"] = np.where(affected, new_label, old_label).astype(np.int64)
    return shifted

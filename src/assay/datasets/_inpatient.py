"""A seeded synthetic 30-day readmission cohort, one row per inpatient discharge.

The data are simulated. They look like an adult inpatient cohort of a US hospital closely enough
to exercise validation and monitoring code, but they are not real patients and carry no clinical
evidence.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from assay.datasets._shifts import (
    FeedOutage,
    LabUnitChange,
    NewPopulation,
    PrevalenceChange,
    Shift,
    change_lab_unit,
    change_prevalence,
    cut_feed,
    id_numbers,
    parse_date,
    rows_from,
)
from assay.datasets._simulate import (
    ADMISSION_TYPES,
    BURN_IN_DAYS,
    DISPOSITIONS,
    LANGUAGES,
    MEASUREMENT_UNITS,
    PAYERS,
    RACE_GROUPS,
    SEXES,
    Array,
    Population,
    simulate_encounters,
)
from assay.errors import InputError

logger = logging.getLogger(__name__)

_SHIFT_TYPES = (LabUnitChange, NewPopulation, PrevalenceChange, FeedOutage)
_SHIFT_NAMES = tuple(shift_type.__name__ for shift_type in _SHIFT_TYPES)

_COUNT_UNITS = {
    "prior_admissions_12m": "admissions in the 365 days before admission",
    "length_of_stay_days": "days (midnights)",
    "charlson_index": "Charlson comorbidity index points",
    "n_medications": "medications on the discharge list",
}
_CATEGORIES = {
    "sex": SEXES,
    "race_ethnicity": RACE_GROUPS,
    "payer": PAYERS,
    "language": LANGUAGES,
    "admission_type": ADMISSION_TYPES,
    "discharge_disposition": DISPOSITIONS,
}
COLUMNS = (
    "encounter_id",
    "patient_id",
    "admitted_at",
    "discharged_at",
    "label_available_at",
    "age",
    *_CATEGORIES,
    *MEASUREMENT_UNITS,
    *_COUNT_UNITS,
    "true_risk",
    "readmit_30d",
)
_VITALS = ("heart_rate_bpm", "sbp_mmhg", "resp_rate_bpm", "temp_c", "spo2_pct")
_VITALS_MISSING = (0.008, 0.008, 0.012, 0.015, 0.010)
_BASIC_LABS = ("sodium_mmol_l", "creatinine_mg_dl", "hemoglobin_g_dl", "wbc_k_ul", "glucose_mg_dl")


def units() -> dict[str, str]:
    """Units of the numeric clinical columns of the inpatient cohort.

    Returns
    -------
    dict[str, str]
        A new dict from column name to unit, for the vital signs, labs, age and counts.

    Examples
    --------
    >>> from assay.datasets import units
    >>> units()["creatinine_mg_dl"]
    'mg/dL'
    """
    return {"age": "years", **MEASUREMENT_UNITS, **_COUNT_UNITS}


def _expit(logit: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.asarray(1.0 / (1.0 + np.exp(-logit)), dtype=np.float64)


def _record_missing(values: dict[str, Array], rng: np.random.Generator) -> None:
    """Blank values the way a record would, depending on other recorded values (in place)."""
    size = values["age"].shape[0]
    elective = values["admission_type"] == ADMISSION_TYPES.index("Elective")
    emergency = values["admission_type"] == ADMISSION_TYPES.index("Emergency")
    los = values["length_of_stay_days"].astype(np.float64)
    heart_rate = values["heart_rate_bpm"].astype(np.float64)
    resp_rate = values["resp_rate_bpm"].astype(np.float64)
    wbc = values["wbc_k_ul"].astype(np.float64)
    fever = values["temp_c"].astype(np.float64) >= 38.0
    missing: dict[str, npt.NDArray[np.float64]] = {
        name: np.where(elective, 2.0 * share, share)
        for name, share in zip(_VITALS, _VITALS_MISSING, strict=True)
    }
    lab_missing = _expit(np.log(0.015 / 0.985) + 1.0 * elective + 0.6 * (los == 1))
    missing |= {name: lab_missing for name in _BASIC_LABS}
    missing["lactate_mmol_l"] = 1.0 - _expit(
        -0.9
        + 0.04 * (heart_rate - 80.0)
        + 0.25 * (resp_rate - 17.5)
        + 0.06 * (wbc - 8.0)
        + 0.8 * emergency
        + 1.2 * fever
    )
    missing["albumin_g_dl"] = 1.0 - _expit(1.9 + 0.15 * (los - 4.0) - 0.9 * elective)
    for name in MEASUREMENT_UNITS:
        blank = rng.random(size) < missing[name]
        values[name] = np.where(blank, np.nan, values[name].astype(np.float64))


def _encounter_frame(
    values: dict[str, Array],
    *,
    day0: pd.Timestamp,
    first_encounter: int,
    first_patient: int,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Turn simulated encounters (times in days from ``day0``) into cohort rows."""
    _record_missing(values, rng)
    size = values["age"].shape[0]

    def timestamps(days: Array) -> pd.Series:
        # Whole minutes, cut down (never rounded up past midnight, which would change the date).
        days = days.astype(np.float64)
        whole_days = np.floor(days)
        minute = np.minimum(np.floor((days - whole_days) * 1440.0), 1439.0)
        minutes = (whole_days * 1440.0 + minute).astype(np.int64)
        return pd.Series(day0 + pd.to_timedelta(minutes, unit="min")).astype("datetime64[ns]")

    discharged = timestamps(values["discharged"])
    frame: dict[str, object] = {
        "encounter_id": [
            f"E{number:07d}" for number in range(first_encounter, first_encounter + size)
        ],
        "patient_id": [f"P{first_patient + int(number):07d}" for number in values["patient"]],
        "admitted_at": timestamps(values["admitted"]),
        "discharged_at": discharged,
        "label_available_at": discharged + pd.Timedelta(days=30),
        "age": values["age"].astype(np.int64),
    }
    for name, categories in _CATEGORIES.items():
        frame[name] = np.asarray(categories, dtype=object)[values[name]]
    for name in MEASUREMENT_UNITS:
        frame[name] = values[name].astype(np.float64)
    for name in _COUNT_UNITS:
        frame[name] = values[name].astype(np.int64)
    frame["true_risk"] = values["true_risk"].astype(np.float64)
    frame["readmit_30d"] = values["readmit_30d"].astype(np.int64)
    return pd.DataFrame(frame, columns=list(COLUMNS))


def _simulate_frame(
    n_encounters: int,
    *,
    day0: pd.Timestamp,
    end: pd.Timestamp,
    burn_in_days: float,
    population: Population,
    first_encounter: int,
    first_patient: int,
    rng: np.random.Generator,
) -> pd.DataFrame:
    values = simulate_encounters(
        n_encounters,
        window_days=(end - day0) / pd.Timedelta(days=1),
        burn_in_days=burn_in_days,
        weekday_of_day0=day0.dayofweek,
        day_of_year_of_day0=day0.dayofyear - 1,
        population=population,
        rng=rng,
    )
    return _encounter_frame(
        values, day0=day0, first_encounter=first_encounter, first_patient=first_patient, rng=rng
    )


def _add_new_population(
    cohort: pd.DataFrame, shift: NewPopulation, rng: np.random.Generator
) -> pd.DataFrame:
    affected = rows_from(cohort, shift.starts, "NewPopulation.starts")
    n_new = round(shift.share * int(affected.sum()))
    if n_new == 0:
        raise InputError(
            f"NewPopulation.share {shift.share} of {int(affected.sum())} encounters discharged "
            f"on or after {shift.starts} rounds to no encounter; use a larger share"
        )
    replaced = rng.choice(np.flatnonzero(affected), size=n_new, replace=False)
    day0 = parse_date(shift.starts, "NewPopulation.starts")
    newcomers = _simulate_frame(
        n_new,
        day0=day0,
        end=cohort["discharged_at"].max().floor("D") + pd.Timedelta(days=1),
        burn_in_days=0.0,
        population=shift.population(),
        first_encounter=int(id_numbers(cohort["encounter_id"], "E", "encounter_id").max()) + 1,
        first_patient=int(id_numbers(cohort["patient_id"], "P", "patient_id").max()) + 1,
        rng=rng,
    )
    stays = np.ones(len(cohort), dtype=bool)
    stays[replaced] = False
    later = pd.concat([cohort[affected & stays], newcomers], ignore_index=True)
    later = later.sort_values("discharged_at", kind="stable")
    return pd.concat([cohort[~affected], later], ignore_index=True)


def apply_shift(cohort: pd.DataFrame, shift: Shift, *, seed: int = 0) -> pd.DataFrame:
    """Return a copy of an inpatient cohort with one shift injected.

    Parameters
    ----------
    cohort : pandas.DataFrame
        A frame made by :func:`make_inpatient_cohort` (the shift needs its columns).
    shift : LabUnitChange, NewPopulation, PrevalenceChange or FeedOutage
        What changes and from which discharge date.
    seed : int
        Seed of the random draws the shift needs (new patients, redrawn outcomes).

    Returns
    -------
    pandas.DataFrame
        The shifted cohort; the input is not modified. Rows discharged before the shift starts
        are identical to the input's and, when the input is sorted by ``discharged_at`` (as
        :func:`make_inpatient_cohort` returns it), keep their positions.

    Raises
    ------
    InputError
        If a needed column is missing or no encounter is discharged in the shift's window.

    Examples
    --------
    >>> from assay.datasets import FeedOutage, apply_shift, make_inpatient_cohort
    >>> cohort = make_inpatient_cohort(2_000, seed=1)
    >>> outage = FeedOutage(column="lactate_mmol_l", starts="2024-09-01", ends="2024-10-01")
    >>> shifted = apply_shift(cohort, outage)
    >>> in_window = shifted["discharged_at"].between("2024-09-01", "2024-09-30 23:59")
    >>> bool(shifted.loc[in_window, "lactate_mmol_l"].isna().all())
    True
    """
    needed = [name for name in COLUMNS if name not in cohort.columns]
    if needed:
        raise InputError(
            f"the cohort lacks the columns {needed}; make it with make_inpatient_cohort"
        )
    for name in ("admitted_at", "discharged_at"):
        if not pd.api.types.is_datetime64_dtype(cohort[name]):
            raise InputError(
                f"column '{name}' must hold time-zone-naive datetimes (found {cohort[name].dtype})"
            )
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InputError(f"seed must be a whole number >= 0 (got {seed!r})")
    rng = np.random.default_rng(seed)
    if isinstance(shift, LabUnitChange):
        return change_lab_unit(cohort, shift)
    if isinstance(shift, FeedOutage):
        return cut_feed(cohort, shift)
    if isinstance(shift, PrevalenceChange):
        return change_prevalence(cohort, shift, rng)
    if isinstance(shift, NewPopulation):
        return _add_new_population(cohort, shift, rng)
    raise InputError(f"{shift!r} is not a shift; use {', '.join(_SHIFT_NAMES)}")


def make_inpatient_cohort(
    n_encounters: int = 20_000,
    *,
    start: str = "2024-01-01",
    months: int = 18,
    seed: int = 0,
    shifts: Sequence[Shift] = (),
) -> pd.DataFrame:
    """Simulate a 30-day readmission cohort of adult inpatient discharges.

    The rows are synthetic: drawn from a hand-built model of a US hospital, not from patients.
    Use them to exercise validation and monitoring, never as clinical evidence.

    Parameters
    ----------
    n_encounters : int
        Number of rows (discharges) returned.
    start : str
        First day of the window; discharges fall in ``[start, start + months)``.
    months : int
        Length of the window in calendar months, 1 to 120.
    seed : int
        Seed of every random draw; the same arguments always give the same frame.
    shifts : Sequence of LabUnitChange, NewPopulation, PrevalenceChange, FeedOutage
        Shifts applied in order, each to the discharges from its start date on.

    Returns
    -------
    pandas.DataFrame
        One row per discharge, sorted by ``discharged_at``; columns as in
        ``docs/datasets.md`` and :func:`units`. ``true_risk`` is the probability the outcome
        ``readmit_30d`` was drawn with.

    Raises
    ------
    InputError
        If an argument is out of range or a shift's window holds no discharge.

    Examples
    --------
    >>> from assay.datasets import PrevalenceChange, make_inpatient_cohort
    >>> cohort = make_inpatient_cohort(2_000, seed=7)
    >>> len(cohort), cohort["encounter_id"].is_unique
    (2000, True)
    >>> shifted = make_inpatient_cohort(2_000, seed=7, shifts=[PrevalenceChange("2025-01-01")])
    >>> bool(shifted["readmit_30d"].sum() > cohort["readmit_30d"].sum())
    True
    """
    if isinstance(n_encounters, bool) or not isinstance(n_encounters, int) or n_encounters < 1:
        raise InputError(f"n_encounters must be a whole number >= 1 (got {n_encounters!r})")
    if isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= 120:
        raise InputError(f"months must be a whole number from 1 to 120 (got {months!r})")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InputError(f"seed must be a whole number >= 0 (got {seed!r})")
    if isinstance(shifts, _SHIFT_TYPES):
        raise InputError("shifts must be a list of shifts, e.g. shifts=[LabUnitChange()]")
    day0 = parse_date(start, "start").normalize()
    cohort = _simulate_frame(
        n_encounters,
        day0=day0,
        end=day0 + pd.DateOffset(months=months),
        burn_in_days=float(BURN_IN_DAYS),
        population=Population(),
        first_encounter=1,
        first_patient=1,
        rng=np.random.default_rng(seed),
    )
    for position, shift in enumerate(shifts):
        shift_seed = np.random.SeedSequence(seed, spawn_key=(position + 1,)).generate_state(1)
        logger.debug("applying %r to the synthetic inpatient cohort", shift)
        cohort = apply_shift(cohort, shift, seed=int(shift_seed[0]))
    return cohort

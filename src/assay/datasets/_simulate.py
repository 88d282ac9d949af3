"""The simulation behind the synthetic inpatient cohort.

Patients carry a hidden frailty score and fixed traits (age, sex, race and ethnicity, payer,
language, diabetes, chronic kidney disease, Charlson index). Each patient's stays are simulated in
turn: the kind of admission, an acute severity, the length of stay, the last vital signs and labs
before discharge, the discharge disposition and the 30-day readmission risk. A readmission that
comes back to this hospital becomes the patient's next encounter within 30 days; every other next
encounter starts more than 30 days after discharge, so the label never contradicts the timeline.

Times are float days from the window start. Everything here is private to ``assay.datasets``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

Array: TypeAlias = npt.NDArray[Any]
FloatArray: TypeAlias = npt.NDArray[np.float64]
IntArray: TypeAlias = npt.NDArray[np.int64]


MEASUREMENT_UNITS = {
    "heart_rate_bpm": "beats/min",
    "sbp_mmhg": "mmHg",
    "resp_rate_bpm": "breaths/min",
    "temp_c": "°C",
    "spo2_pct": "%",
    "sodium_mmol_l": "mmol/L",
    "creatinine_mg_dl": "mg/dL",
    "hemoglobin_g_dl": "g/dL",
    "wbc_k_ul": "10^3/µL",
    "glucose_mg_dl": "mg/dL",
    "lactate_mmol_l": "mmol/L",
    "albumin_g_dl": "g/dL",
}
"""Vital signs and labs: the last value recorded before discharge, in these units."""

SEXES = ("F", "M", "Unknown")
RACE_GROUPS = ("White", "Black", "Hispanic", "Asian", "Other/Unknown")
RACE_SHARES = (0.60, 0.18, 0.13, 0.05, 0.04)
PAYERS = ("Medicare", "Medicaid", "Commercial", "Self-pay")
LANGUAGES = ("English", "Spanish", "Other")
ADMISSION_TYPES = ("Emergency", "Urgent", "Elective")
DISPOSITIONS = ("Home", "Home health", "SNF", "Other")

IN_SYSTEM_READMISSION_SHARE = 0.75
"""Share of 30-day readmissions that return to this hospital and so appear in the cohort."""

BURN_IN_DAYS = 730
"""Days simulated before the window so that prior admissions and repeat visits are in steady
state when the window opens; encounters discharged before the window are not returned."""

_MAX_STAYS_PER_PATIENT = 25
_AGE_BETA = (2.2, 1.9)
MEAN_AGE = 18.0 + 82.0 * _AGE_BETA[0] / (_AGE_BETA[0] + _AGE_BETA[1])
"""Mean age at a patient's first simulated admission (about 62 years)."""
_TRAITS_PER_STAY = "frailty sex race_ethnicity payer language diabetes ckd charlson_index".split()
_LANGUAGE_BY_RACE = np.array(
    [
        [0.980, 0.005, 0.015],  # White
        [0.970, 0.005, 0.025],  # Black
        [0.500, 0.480, 0.020],  # Hispanic
        [0.650, 0.000, 0.350],  # Asian
        [0.800, 0.080, 0.120],  # Other/Unknown
    ]
)
_PAYER_BY_GROUP = np.array(  # follows PAYERS
    [
        [0.14, 0.28, 0.48, 0.10],  # under 65
        [0.15, 0.40, 0.33, 0.12],  # under 65, Black or Hispanic
        [0.85, 0.06, 0.08, 0.01],  # 65 and over
    ]
)
_WEEKDAY_VOLUME = np.array([1.08, 1.05, 1.03, 1.02, 1.00, 0.88, 0.90])  # Monday first
_EMERGENCY_HOURS = np.array(  # relative volume by hour of the day, from midnight
    [3, 2.5, 2, 1.8, 1.8, 2, 2.5, 3.5, 4.5, 5.5, 6, 6.5] + [6.5] * 6 + [6, 5.5, 5, 4.5, 4, 3.5]
)
_DISCHARGE_HOURS = np.array([0.0] * 9 + [1, 3, 5, 6, 6, 5, 4, 3, 2, 1, 0.5, 0.3] + [0.0] * 3)


@dataclass(frozen=True)
class Population:
    """Who arrives at the hospital.

    ``race_shares`` follows ``RACE_GROUPS``; ``payer_shares`` follows ``PAYERS`` and, when None,
    the payer depends on age (Medicare from 65) and on race and ethnicity.
    """

    age_shift: float = 0.0
    race_shares: tuple[float, ...] = RACE_SHARES
    payer_shares: tuple[float, ...] | None = None


def _patients(
    n_patients: int,
    first_day: float,
    window_days: float,
    weekday_of_day0: int,
    day_of_year_of_day0: int,
    population: Population,
    rng: np.random.Generator,
) -> dict[str, FloatArray | IntArray]:
    """Draw fixed traits and the first admission day of ``n_patients`` patients."""
    frailty = rng.standard_normal(n_patients)
    # Age is 18 + 82 * Beta(a, b) with a + b fixed; a shift of the mean age moves a and b, so
    # no age piles up at the limits.
    mean_share = (MEAN_AGE - 18.0 + population.age_shift) / 82.0
    a_plus_b = _AGE_BETA[0] + _AGE_BETA[1]
    age = 18.0 + 82.0 * rng.beta(mean_share * a_plus_b, (1 - mean_share) * a_plus_b, n_patients)
    sex = draw_categories(rng, np.array([0.515, 0.482, 0.003]), n_patients)
    race = draw_categories(rng, np.asarray(population.race_shares), n_patients)
    black_or_hispanic = (race == 1) | (race == 2)
    if population.payer_shares is None:
        payer_group = np.where(age >= 65, 2, black_or_hispanic.astype(np.int64))
        payer_probs = _PAYER_BY_GROUP[payer_group]
    else:
        payer_probs = np.asarray(population.payer_shares)
    payer = draw_categories(rng, payer_probs, n_patients)
    language = draw_categories(rng, _LANGUAGE_BY_RACE[race], n_patients)
    diabetes_logit = -1.1 + 0.02 * (age - 60) + 0.3 * frailty + 0.35 * black_or_hispanic
    diabetes = rng.random(n_patients) < 1.0 / (1.0 + np.exp(-diabetes_logit))
    ckd_logit = -1.9 + 0.04 * (age - 60) + 0.4 * frailty
    ckd = rng.random(n_patients) < 1.0 / (1.0 + np.exp(-ckd_logit))
    charlson = rng.poisson(np.exp(0.35 + 0.02 * (age - 60) + 0.35 * frailty))
    charlson = np.minimum(charlson + diabetes + 2 * ckd, 15)

    days = np.arange(math.floor(first_day), math.ceil(window_days))
    weekday = (weekday_of_day0 + days) % 7
    day_of_year = (day_of_year_of_day0 + days) % 365.25
    season = 1.0 + 0.18 * np.cos(2.0 * np.pi * (day_of_year - 20.0) / 365.25)
    volume = season * _WEEKDAY_VOLUME[weekday]
    first_admission_day = rng.choice(days, size=n_patients, p=volume / volume.sum())
    return {
        "frailty": frailty,
        "age": age,
        "sex": sex,
        "race_ethnicity": race,
        "payer": payer,
        "language": language,
        "diabetes": diabetes.astype(np.int64),
        "ckd": ckd.astype(np.int64),
        "charlson_index": charlson.astype(np.int64),
        "first_admission_day": first_admission_day.astype(np.float64),
        "out_of_system_rate": 0.2 * np.exp(0.6 * frailty),
    }


def _admission_times(
    rng: np.random.Generator,
    proposed: FloatArray,
    admission_type: IntArray,
    weekday_of_day0: int,
) -> FloatArray:
    """Move elective admissions to a weekday morning (at or after the proposed time)."""
    morning = (6.0 + 3.0 * rng.random(proposed.size)) / 24.0
    day = np.floor(proposed)
    day = np.where(day + morning < proposed, day + 1.0, day)
    weekday = (weekday_of_day0 + day.astype(np.int64)) % 7
    elective_time = day + np.where(weekday == 5, 2.0, np.where(weekday == 6, 1.0, 0.0)) + morning
    is_elective = admission_type == ADMISSION_TYPES.index("Elective")
    return np.where(is_elective, elective_time, proposed)


def draw_categories(rng: np.random.Generator, probs: FloatArray, size: int) -> IntArray:
    """Draw category codes from shares given once (1-D) or per draw (one row per draw)."""
    cumulative = np.cumsum(np.broadcast_to(probs, (size, probs.shape[-1])), axis=1)
    cumulative = cumulative / cumulative[:, -1:]
    codes = np.sum(rng.random(size)[:, None] >= cumulative[:, :-1], axis=1)
    return np.asarray(codes, dtype=np.int64)


_RISK_INTERCEPT = -4.1
_RISK_BY_PAYER = np.array([0.10, 0.30, -0.10, 0.0])  # follows PAYERS
_RISK_BY_DISPOSITION = np.array([0.0, 0.20, 0.35, 0.55])  # follows DISPOSITIONS


def readmission_risk(values: dict[str, Array]) -> FloatArray:
    """The true 30-day readmission probability from the true (never missing) values."""
    age = values["age"].astype(np.float64)
    home = values["discharge_disposition"] == DISPOSITIONS.index("Home")
    logit = (
        _RISK_INTERCEPT
        + 0.20 * np.minimum(values["prior_admissions_12m"], 4)
        + 0.08 * values["charlson_index"]
        + 0.25 * np.log(values["length_of_stay_days"])
        + 0.008 * (age - 65.0)
        + 0.0003 * (age - 65.0) ** 2
        + _RISK_BY_PAYER[values["payer"]]
        + _RISK_BY_DISPOSITION[values["discharge_disposition"]]
        + 0.25 * ((age >= 75) & home)
        + 0.20 * (values["admission_type"] == ADMISSION_TYPES.index("Emergency"))
        + 0.45 * np.maximum(3.4 - values["albumin_g_dl"], 0.0)
        + 0.12 * np.maximum(12.0 - values["hemoglobin_g_dl"], 0.0)
        + 0.07 * np.maximum(np.abs(values["sodium_mmol_l"] - 139.0) - 3.0, 0.0)
        + 0.25 * np.log(values["creatinine_mg_dl"])
        + 0.02 * (values["n_medications"] - 8.0)
        + 0.015 * np.maximum(values["heart_rate_bpm"] - 90.0, 0.0)
        + 0.35 * values["frailty"]
        + values["unrecorded_risk"]
    )
    return np.asarray(1.0 / (1.0 + np.exp(-logit)), dtype=np.float64)


def encounter_features(rng: np.random.Generator, stay: dict[str, Array]) -> dict[str, Array]:
    """Severity, length of stay, last vitals and labs, disposition and risk of one stay each.

    ``stay`` holds, per stay, the patient traits and ``admission_type`` and
    ``prior_admissions_12m``; the returned dict adds the simulated values to them.
    """
    size = int(stay["age"].shape[0])
    frailty = stay["frailty"].astype(np.float64)
    age = stay["age"].astype(np.float64)
    male = (stay["sex"] == SEXES.index("M")).astype(np.float64)
    diabetes = stay["diabetes"].astype(np.float64)
    ckd = stay["ckd"].astype(np.float64)
    charlson = stay["charlson_index"].astype(np.float64)
    type_shift = np.array([0.25, 0.10, -0.50])[stay["admission_type"]]
    severity = 0.45 * frailty + 0.893 * rng.standard_normal(size) + type_shift

    def normal(mean: FloatArray, sd: float) -> FloatArray:
        return np.asarray(mean + sd * rng.standard_normal(size), dtype=np.float64)

    los = np.exp(normal(np.log(3.0) + 0.28 * severity + 0.005 * (age - 60) + 0.05 * charlson, 0.5))
    values = dict(stay)
    values["length_of_stay_days"] = np.clip(np.rint(los), 1, 30).astype(np.int64)
    values["heart_rate_bpm"] = np.clip(np.rint(normal(80.0 + 6.0 * severity, 11.0)), 40, 160)
    sbp = normal(127.0 - 5.0 * severity + 0.25 * (age - 60), 17.0)
    values["sbp_mmhg"] = np.clip(np.rint(sbp), 70, 220)
    values["resp_rate_bpm"] = np.clip(np.rint(normal(17.5 + 1.3 * severity, 2.2)), 10, 40)
    values["temp_c"] = np.clip(np.round(normal(36.8 + 0.15 * severity, 0.35), 1), 35.0, 40.5)
    values["spo2_pct"] = np.clip(np.rint(normal(96.3 - 1.0 * severity, 1.6)), 80, 100)
    values["sodium_mmol_l"] = np.clip(np.rint(normal(138.6 - 0.9 * severity, 3.3)), 118, 160)
    creatinine = np.exp(
        normal(np.log(0.95) + 0.18 * severity + 0.85 * ckd + 0.006 * (age - 60) + 0.12 * male, 0.3)
    )
    values["creatinine_mg_dl"] = np.clip(np.round(creatinine, 2), 0.3, 12.0)
    hemoglobin = normal(11.6 - 0.55 * severity - 1.1 * ckd + 0.9 * male - 0.1 * frailty, 1.6)
    values["hemoglobin_g_dl"] = np.clip(np.round(hemoglobin, 1), 5.0, 18.5)
    values["wbc_k_ul"] = np.clip(
        np.round(np.exp(normal(np.log(8.0) + 0.15 * severity, 0.33)), 1), 0.8, 45
    )
    glucose = np.exp(normal(np.log(112.0) + 0.38 * diabetes + 0.06 * severity, 0.2))
    glucose = glucose * np.exp(0.12 * diabetes * rng.standard_normal(size))
    values["glucose_mg_dl"] = np.clip(np.rint(glucose), 45, 600)
    values["lactate_mmol_l"] = np.clip(
        np.round(np.exp(normal(np.log(1.3) + 0.22 * severity, 0.38)), 1), 0.3, 15.0
    )
    albumin = normal(3.35 - 0.28 * severity - 0.1 * frailty - 0.15 * ckd, 0.45)
    values["albumin_g_dl"] = np.clip(np.round(albumin, 1), 1.2, 5.2)
    medication_rate = (
        4.0 + 1.3 * charlson + 0.05 * np.maximum(age - 40, 0) + 0.8 * np.maximum(severity, 0)
    ) + 1.5 * diabetes
    values["n_medications"] = np.minimum(rng.poisson(medication_rate), 35).astype(np.int64)
    self_pay = (stay["payer"] == PAYERS.index("Self-pay")).astype(np.float64)
    disposition_scores = np.column_stack(
        [
            np.zeros(size),
            -1.6 + 0.035 * (age - 65) + 0.25 * severity + 0.1 * charlson,
            -2.6 + 0.06 * (age - 65) + 0.4 * severity + 0.35 * frailty + 0.04 * los,
            -3.0 + 0.25 * severity + 0.3 * self_pay,
        ]
    )
    disposition_probs = np.exp(disposition_scores)
    values["discharge_disposition"] = draw_categories(rng, disposition_probs, size)
    # Home support, adherence, follow-up access: risk the record does not show.
    values["unrecorded_risk"] = 0.85 * rng.standard_normal(size)
    values["true_risk"] = readmission_risk(values)
    return values


def _simulate_patients(
    n_patients: int,
    first_day: float,
    window_days: float,
    weekday_of_day0: int,
    day_of_year_of_day0: int,
    population: Population,
    rng: np.random.Generator,
) -> dict[str, Array]:
    """Simulate every stay of ``n_patients`` patients until they leave the window."""
    traits = _patients(
        n_patients, first_day, window_days, weekday_of_day0, day_of_year_of_day0, population, rng
    )
    hour = rng.choice(24, size=n_patients, p=_EMERGENCY_HOURS / _EMERGENCY_HOURS.sum())
    proposed = traits["first_admission_day"] + (hour + rng.random(n_patients)) / 24.0
    after_readmission = np.zeros(n_patients, dtype=bool)
    admissions = np.full((_MAX_STAYS_PER_PATIENT, n_patients), np.nan)
    active = np.arange(n_patients)
    steps: list[dict[str, Array]] = []
    for stay in range(_MAX_STAYS_PER_PATIENT):
        if active.size == 0:
            break
        n_active = active.size
        type_probs = np.where(
            after_readmission[active][:, None],
            np.array([[0.85, 0.15, 0.0]]),
            np.array([[0.68, 0.17, 0.15]]),
        )
        admission_type = draw_categories(rng, type_probs, n_active)
        admitted = _admission_times(rng, proposed[active], admission_type, weekday_of_day0)
        admissions[stay, active] = admitted
        prior_in_system = np.sum(
            admitted[None, :] - admissions[:stay, active] <= 365.0, axis=0
        ).astype(np.int64)
        prior = prior_in_system + rng.poisson(traits["out_of_system_rate"][active])
        age_now = np.floor(
            traits["age"][active] + (admitted - traits["first_admission_day"][active]) / 365.25
        )
        stay_values = encounter_features(
            rng,
            {
                "patient": active,
                "stay": np.full(n_active, stay),
                "admitted": admitted,
                "admission_type": admission_type,
                "age": np.clip(age_now, 18, 100).astype(np.int64),
                "prior_admissions_12m": prior,
                **{key: traits[key][active] for key in _TRAITS_PER_STAY},
            },
        )
        los = stay_values["length_of_stay_days"]
        discharge_hour = rng.choice(24, size=n_active, p=_DISCHARGE_HOURS / _DISCHARGE_HOURS.sum())
        stay_values["discharged"] = (
            np.floor(admitted) + los + (discharge_hour + rng.random(n_active)) / 24.0
        )
        risk = stay_values["true_risk"]
        outcome_draw = rng.random(n_active)
        stay_values["readmit_30d"] = (outcome_draw < risk).astype(np.int64)
        back_here = outcome_draw < IN_SYSTEM_READMISSION_SHARE * risk
        frailty = traits["frailty"][active]
        soon = np.clip(rng.gamma(1.3, 8.0, n_active), 0.2, 29.5)
        later = 31.0 + rng.exponential(150.0 * np.exp(-0.4 * frailty))
        returns = back_here | (rng.random(n_active) < 1.0 / (1.0 + np.exp(0.4 - 0.7 * frailty)))
        proposed[active] = np.where(
            returns, stay_values["discharged"] + np.where(back_here, soon, later), np.inf
        )
        after_readmission[active] = back_here
        steps.append(stay_values)
        active = active[proposed[active] < window_days]
    return {key: np.concatenate([step[key] for step in steps]) for key in steps[0]}


def simulate_encounters(
    n_encounters: int,
    *,
    window_days: float,
    burn_in_days: float,
    weekday_of_day0: int,
    day_of_year_of_day0: int,
    population: Population,
    rng: np.random.Generator,
) -> dict[str, Array]:
    """Return exactly ``n_encounters`` encounters discharged in ``[0, window_days)``.

    Patients are simulated from ``-burn_in_days`` on, then taken in random order until their
    encounters inside the window add up to ``n_encounters``; the last patient taken keeps only
    their earliest encounters. Rows come sorted by discharge time, and ``patient`` numbers the
    patients from 0 in order of their first row.
    """
    # In steady state about two encounters per patient fall in a window as long as the
    # burn-in plus the window; without burn-in (new arrivals only) about one.
    expected_per_patient = 1.9 * window_days / (window_days + burn_in_days)
    if burn_in_days <= 0:
        expected_per_patient = 0.9
    n_patients = math.ceil(1.05 * n_encounters / expected_per_patient) + 32
    while True:
        calendar = (weekday_of_day0, day_of_year_of_day0)
        columns = _simulate_patients(
            n_patients, -burn_in_days, window_days, *calendar, population, rng
        )
        discharged = columns["discharged"]
        in_window = (discharged >= 0.0) & (discharged < window_days)
        per_patient = np.bincount(columns["patient"][in_window], minlength=n_patients)
        order = rng.permutation(n_patients)
        cumulative = np.cumsum(per_patient[order])
        if cumulative[-1] >= n_encounters:
            break
        growth = min(10.0, 1.1 * n_encounters / max(int(cumulative[-1]), 1))
        n_patients = math.ceil(max(growth, 1.2) * n_patients)
    last = int(np.searchsorted(cumulative, n_encounters))
    taken = np.zeros(n_patients, dtype=bool)
    taken[order[: last + 1]] = True
    keep_of_last = n_encounters - (int(cumulative[last - 1]) if last > 0 else 0)
    rows = np.flatnonzero(in_window & taken[columns["patient"]])
    rows = rows[np.lexsort((columns["stay"][rows], columns["patient"][rows]))]
    patient = columns["patient"][rows]
    group_start = np.r_[0, np.flatnonzero(np.diff(patient)) + 1]
    rank = np.arange(rows.size) - np.repeat(group_start, np.diff(np.r_[group_start, rows.size]))
    rows = rows[(patient != order[last]) | (rank < keep_of_last)]
    rows = rows[np.lexsort((columns["patient"][rows], columns["admitted"][rows], discharged[rows]))]
    selected = {key: value[rows] for key, value in columns.items()}
    _, first_row, inverse = np.unique(selected["patient"], return_index=True, return_inverse=True)
    selected["patient"] = np.argsort(np.argsort(first_row))[inverse]
    return selected

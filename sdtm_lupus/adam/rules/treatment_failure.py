"""Treatment failure (derivations.md R4.6): the date a subject's SRI result turns to failure.

Inputs are the shared tables SUBJECTS and MEDS of `sdtm_lupus.adam.rules.tables`. R4.6a
(a new immunosuppressant) is also the severe flare criterion R5.2d: `compute_new_immunosuppressant`
is its one definition, used by both. When a record is active is medication_days.py's.
"""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import numpy as np
import pandas as pd

from sdtm_lupus.adam.rules.medication_days import (
    NEVER,
    compute_active_days,
    day_numbers,
    is_sle_indication,
    normalised,
)
from sdtm_lupus.adam.rules.steroid_dose import MEDS_COLUMNS, UNITS_PER_MG, DoseSteps
from sdtm_lupus.adam.rules.tables import assert_columns
from sdtm_lupus.config.study import RuleParameters

# R4.6a: drugs that count as a new immunosuppressive treatment besides class IMMUNOSUPPRESSANT.
TF_DRUG_CLASSES = frozenset({"IMMUNOSUPPRESSANT"})
TF_DRUGS = frozenset({"CYCLOPHOSPHAMIDE", "RITUXIMAB", "BELIMUMAB"})  # CM belimumab is non-study
COMPLETED = "COMPLETED"
DEFAULT_UNTIL_DAY = 365


def compute_new_immunosuppressant(subjects: pd.DataFrame, meds: pd.DataFrame) -> pd.Series:
    """R4.6a (and R5.2d): True on each MEDS record that starts a new immunosuppressant: the *first*
    qualifying start after day 1 of each drug (CMDECOD) of the subject (records of that drug
    starting the same day all count; a later pulse, dose change or restart does not).

    Counts: a record of class IMMUNOSUPPRESSANT or CMDECOD in TF_DRUGS, is_sle_indication
    (CMINDC), STARTDT after day 1 (the subject's TRTSDT in `subjects`), when no record of the
    same subject and CMDECOD is active on day 1 (medication_days: whatever its class or
    indication). A record without CMDECOD (missing or blank) cannot be matched against the
    day-1 drugs and never counts (a missing value never satisfies a criterion); one without
    STARTDT is before the study; a subject without TRTSDT (or not in `subjects`) has none.
    Aligned to the index of `meds`.
    """
    decod = normalised(meds["CMDECOD"])
    klass = normalised(meds["CMCLAS"])
    start, has_start = day_numbers(meds["STARTDT"])
    first, last = compute_active_days(meds)

    day1_of, _ = day_numbers(subjects["TRTSDT"])
    med_subject = meds["USUBJID"].to_numpy(dtype=object)
    day1 = pd.Series(med_subject).map(dict(zip(subjects["USUBJID"], day1_of))).fillna(0).to_numpy(dtype=np.int64)
    treated = day1 > 0
    has_decod = (decod.notna() & decod.ne("")).to_numpy()
    med_decod = decod.to_numpy(dtype=object)
    candidate = ((klass.isin(list(TF_DRUG_CLASSES)) | decod.isin(list(TF_DRUGS))).to_numpy()
                 & has_decod & meds["CMINDC"].map(is_sle_indication).to_numpy(dtype=bool)
                 & has_start & treated & (start > day1))
    active_day1 = treated & has_decod & (first <= day1) & (day1 <= last)
    on_day1 = set(zip(med_subject[active_day1], med_decod[active_day1]))
    qualifies = candidate & np.fromiter(((s, d) not in on_day1 for s, d in zip(med_subject, med_decod)),
                                        dtype=bool, count=len(meds))
    # only the first start of each drug counts (R4.6a, R5.2d): a later pulse or a restart is not new
    first_start: dict = {}
    for s, d, day in zip(med_subject[qualifies], med_decod[qualifies], start[qualifies]):
        first_start[(s, d)] = min(day, first_start.get((s, d), day))
    new = qualifies & np.fromiter((first_start.get((s, d)) == day for s, d, day in zip(med_subject, med_decod, start)),
                                  dtype=bool, count=len(meds))
    return pd.Series(new, index=meds.index, dtype=bool, name="NEWIS")


def _tf_new_immunosuppressant(subjects: pd.DataFrame, meds: pd.DataFrame) -> np.ndarray:
    """R4.6a: earliest start after day 1 of a new IS / CYC / RTX / belimumab with SLE indication
    (compute_new_immunosuppressant). Returns day numbers per subject (0 = none)."""
    start, _ = day_numbers(meds["STARTDT"])
    new = compute_new_immunosuppressant(subjects, meds).to_numpy(dtype=bool)
    med_subject = meds["USUBJID"].to_numpy(dtype=object)
    earliest = pd.Series(start[new], index=med_subject[new]).groupby(level=0).min()
    return subjects["USUBJID"].map(earliest).fillna(0).to_numpy(dtype=np.int64)


def _tf_dose_increase(subjects: pd.DataFrame, meds: pd.DataFrame, params: RuleParameters,
                      until_day: int | None) -> np.ndarray:
    """R4.6b: first day after day 1 (through study day `until_day`) with dose > max(f x base, base + inc).

    base = the day-1 dose (R2.3). The dose is a step function, so only day 2 and the days on
    which a record starts or stops can be the first day above the threshold; only those days
    are examined. Comparison in exact units. Returns day numbers per subject (0 = none).
    """
    steps = DoseSteps(meds)
    subject = subjects["USUBJID"].to_numpy(dtype=object)
    day1, treated = day_numbers(subjects["TRTSDT"])
    base = steps.units(subject, day1)
    factor = Fraction(str(params.tf_pred_factor))
    increment = Fraction(str(params.tf_pred_increment)) * UNITS_PER_MG
    horizon = day1 + (until_day - 1 if until_day is not None else NEVER)

    rows = [np.flatnonzero(treated)]
    days = [day1[treated] + 1]
    if len(steps.key):
        row_of_code = pd.Series(np.arange(len(subject)), index=steps.subjects.get_indexer(subject))
        row_of_code = row_of_code[(row_of_code.index >= 0) & ~row_of_code.index.duplicated(keep="first")]
        ev_row = row_of_code.reindex(steps.code).to_numpy(dtype=float)
        has_row = ~np.isnan(ev_row)
        ev_row, ev_day = ev_row[has_row].astype(np.int64), steps.day[has_row]
        inside = treated[ev_row] & (ev_day > day1[ev_row] + 1)
        rows.append(ev_row[inside])
        days.append(ev_day[inside])
    rows, days = np.concatenate(rows), np.concatenate(days)
    within = days <= horizon[rows]
    rows, days = rows[within], days[within]
    dose, b = steps.units(subject[rows], days), base[rows]
    above = ((dose * factor.denominator > b * factor.numerator)
             & ((dose - b) * increment.denominator > increment.numerator))
    first = np.full(len(subject), NEVER, dtype=np.int64)
    np.minimum.at(first, rows[above], days[above])
    return np.where(first < NEVER, first, 0)


def _tf_disposition(subjects: pd.DataFrame) -> np.ndarray:
    """R4.6c: DSSTDT of a subject whose DSDECOD is anything but COMPLETED (DSDECOD None = no
    disposition yet; DSSTDT None = no date to fail on). Returns day numbers (0 = none)."""
    decod = normalised(subjects["DSDECOD"])
    day, valid = day_numbers(subjects["DSSTDT"])
    return np.where(valid & (decod.notna() & (decod != COMPLETED)).to_numpy(), day, 0)


def compute_treatment_failure_date(subjects: pd.DataFrame, meds: pd.DataFrame, params: RuleParameters,
                                   until_day: int | None = DEFAULT_UNTIL_DAY) -> pd.Series:
    """R4.6: treatment-failure date (TFDT) per subject: the earliest of (a), (b), (c), else None.

    (a) _tf_new_immunosuppressant; (b) _tf_dose_increase scanned over study days 2 ..
    `until_day` (default 365 = the Week 52 target day; pass the study day of the latest
    analysis date when a visit falls later, or None for no limit); (c) _tf_disposition.
    A subject without TRTSDT has no day 1: only (c) applies.
    """
    assert_columns(subjects, ("USUBJID", "TRTSDT", "DSDECOD", "DSSTDT"), "compute_treatment_failure_date: SUBJECTS")
    assert_columns(meds, MEDS_COLUMNS, "compute_treatment_failure_date: MEDS")
    parts = np.vstack([_tf_new_immunosuppressant(subjects, meds),
                       _tf_dose_increase(subjects, meds, params, until_day),
                       _tf_disposition(subjects)])
    earliest = np.where(parts > 0, parts, NEVER).min(axis=0)
    return pd.Series([date.fromordinal(int(d)) if d < NEVER else None for d in earliest],
                     index=subjects.index, dtype=object, name="TFDT")

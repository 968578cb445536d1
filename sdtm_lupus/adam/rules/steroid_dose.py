"""Prednisone-equivalent daily dose and body weight (derivations.md R2.3, R3.3, R3.4).

Inputs are the shared tables MEDS, WEIGHTS and SUBJECTS of `sdtm_lupus.adam.rules.tables` plus
*queries*: any frame with USUBJID and DATE (`datetime.date` or None); results align to the
queries' index and never re-sort them.

Dose arithmetic is exact. A record contributes `CMDOSE x PREDFACT` (rounded to 10^-6 mg,
the precision at which doses and factors are recorded) times the frequency multiplier; the
sum is kept in integer units of 1/14 000 000 mg, in which every multiplier of R3.3 (1/2,
1/7) is whole, so overlapping records add up exactly, a day without glucocorticoid is
exactly 0 and the R4.6b thresholds (e.g. 12.5 mg on a 10 mg baseline) compare exactly.

Records that cannot contribute to the daily dose (R3.3): a glucocorticoid record
(PREDFACT not null) with CMDOSE missing, CMDOSFRQ missing or a frequency outside R3.3
contributes nothing - a dose is never imputed - as does one whose ENDDT precedes its STARTDT
(active on no day); `compute_dose_unusable` names the reason so that the caller reports each
such record as a QC finding, and `compute_pred_dose(..., unusable="missing")` gives NaN on
the dates such a record is active, for rules where an unknown dose must not count as 0. A record without PREDFACT
(not a glucocorticoid, or a CMDECOD without a prednisone equivalent in
specs/clinical-constants.yaml, §8 case 38) is not a glucocorticoid record for R3.3; the
caller reports uncoded names. When a record is active is medication_days.py's one definition.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from types import MappingProxyType
from typing import Literal

import numpy as np
import pandas as pd

from sdtm_lupus.adam.rules.medication_days import (
    NEVER,
    ONCE,
    SUBJECT_STRIDE,
    compute_active_days,
    day_numbers,
    normalised,
)
from sdtm_lupus.adam.rules.tables import assert_columns

# R3.3: daily multiplier of CMDOSFRQ. "EVERY WEEK" is the SDTM CT term the mapping gives
# the export's "QW"; both spellings are accepted. ONCE counts on its start day only.
FREQUENCY_PER_DAY: Mapping[str, Fraction] = MappingProxyType({
    "QD": Fraction(1), "BID": Fraction(2), "TID": Fraction(3), "QOD": Fraction(1, 2),
    "EVERY WEEK": Fraction(1, 7), "QW": Fraction(1, 7), "ONCE": Fraction(1),
})

_RECORD_PRECISION = 1_000_000        # CMDOSE x PREDFACT rounded to 10^-6 mg
_UNIT_STEPS = 14                     # every multiplier x 14 is whole
UNITS_PER_MG = _RECORD_PRECISION * _UNIT_STEPS
assert all((m * _UNIT_STEPS).denominator == 1 for m in FREQUENCY_PER_DAY.values())

MEDS_COLUMNS = ("USUBJID", "CMDECOD", "CMCLAS", "CMINDC", "CMDOSE", "CMDOSFRQ", "PREDFACT", "STARTDT", "ENDDT")


# --------------------------------------------------------------------------- helpers
def _frequency_steps(frequency: pd.Series) -> pd.Series:
    """CMDOSFRQ -> multiplier x 14 (int), NaN when missing or not in R3.3."""
    steps = {k: int(v * _UNIT_STEPS) for k, v in FREQUENCY_PER_DAY.items()}
    return normalised(frequency).map(lambda f: steps.get(f, np.nan) if f else np.nan).astype(float)


class DoseSteps:
    """Per-subject step function of the daily dose in units (1/UNITS_PER_MG mg).

    Each usable glucocorticoid record adds +units on its first day and -units the day after
    its last; the integer cumulative sum per subject, looked up with searchsorted, is the
    daily dose on any day.
    """

    def __init__(self, meds: pd.DataFrame, unusable: bool = False):
        """unusable=True: count instead the active records that cannot contribute (1 unit each)."""
        gc = meds[meds["PREDFACT"].notna()]
        steps = _frequency_steps(gc["CMDOSFRQ"]).to_numpy()
        dose = pd.to_numeric(gc["CMDOSE"], errors="coerce").to_numpy(dtype=float)
        factor = pd.to_numeric(gc["PREDFACT"], errors="coerce").to_numpy(dtype=float)
        usable = ~np.isnan(steps) & ~np.isnan(dose) & ~np.isnan(factor)
        per_mg = np.zeros(len(gc), dtype=np.int64)
        per_mg[usable] = np.rint(dose[usable] * factor[usable] * _RECORD_PRECISION).astype(np.int64)
        units = per_mg * np.where(usable, np.nan_to_num(steps), 0).astype(np.int64)
        if unusable:
            units = (~usable).astype(np.int64)
        first, last = compute_active_days(gc)
        keep = (units != 0) & (first <= last)
        subject = gc["USUBJID"].to_numpy(dtype=object)[keep]
        first, last, units = first[keep], last[keep], units[keep]
        self.subjects = pd.Index(pd.unique(subject))
        code = self.subjects.get_indexer(subject).astype(np.int64)
        # events: (+units at first) and (-units at last + 1, unless ongoing)
        closes = last + 1 < NEVER
        ev_code = np.concatenate([code, code[closes]])
        ev_day = np.concatenate([first, last[closes] + 1])
        ev_units = np.concatenate([units, -units[closes]])
        order = np.argsort(ev_code * SUBJECT_STRIDE + ev_day, kind="stable")
        self.code = ev_code[order]
        self.day = ev_day[order]
        self.key = self.code * SUBJECT_STRIDE + self.day
        cum = np.cumsum(ev_units[order])
        group_start = np.r_[True, self.code[1:] != self.code[:-1]] if len(order) else np.zeros(0, bool)
        before = np.r_[0, cum[:-1]] if len(order) else cum
        base = np.maximum.accumulate(np.where(group_start, np.arange(len(order)), 0)) if len(order) else cum
        self.level = cum - before[base]

    def units(self, subject: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Daily dose in units for each (subject, day number)."""
        code = self.subjects.get_indexer(subject).astype(np.int64)
        known = code >= 0
        out = np.zeros(len(subject), dtype=np.int64)
        if not known.any() or len(self.key) == 0:
            return out
        qkey = code[known] * SUBJECT_STRIDE + day[known]
        pos = np.searchsorted(self.key, qkey, side="right") - 1
        hit = (pos >= 0) & (self.code[np.maximum(pos, 0)] == code[known])
        out[known] = np.where(hit, self.level[np.maximum(pos, 0)], 0)
        return out


def _units_to_mg(units: np.ndarray) -> np.ndarray:
    return units / UNITS_PER_MG


# --------------------------------------------------------------------------- R3.3
def compute_dose_unusable(meds: pd.DataFrame) -> pd.Series:
    """R3.3: why a glucocorticoid record cannot contribute to the daily dose (None = usable).

    Values: `CMDOSE MISSING`, `CMDOSFRQ MISSING`, `CMDOSFRQ NOT IN R3.3`, `ENDDT BEFORE
    STARTDT` (a record active on no day); None for usable records and for records that are
    not glucocorticoids (PREDFACT null). The caller reports every non-null value as a QC
    finding; compute_pred_dose counts such records as 0 mg.
    """
    assert_columns(meds, ("PREDFACT", "CMDOSE", "CMDOSFRQ", "STARTDT", "ENDDT"), "compute_dose_unusable: MEDS")
    start, has_start = day_numbers(meds["STARTDT"])
    end, has_end = day_numbers(meds["ENDDT"])
    reversed_dates = has_start & has_end & (end < start)
    freq = normalised(meds["CMDOSFRQ"])
    dose = pd.to_numeric(meds["CMDOSE"], errors="coerce")
    glucocorticoid = meds["PREDFACT"].notna().to_numpy()
    reason = np.select(
        [~glucocorticoid, dose.isna().to_numpy(), freq.isna().to_numpy(), ~freq.isin(list(FREQUENCY_PER_DAY)).to_numpy(),
         reversed_dates & (freq != ONCE).to_numpy()],
        [None, "CMDOSE MISSING", "CMDOSFRQ MISSING", "CMDOSFRQ NOT IN R3.3", "ENDDT BEFORE STARTDT"], default=None)
    return pd.Series(reason, index=meds.index, dtype=object, name="DOSEISSUE")


def compute_pred_dose(meds: pd.DataFrame, queries: pd.DataFrame, unusable: Literal["ignore", "missing"] = "ignore"
                      ) -> pd.Series:
    """R3.3: prednisone-equivalent daily dose (mg/day) on each query's DATE.

    Sum over glucocorticoid MEDS records (PREDFACT not null) active on the date
    (STARTDT <= d <= ENDDT; ENDDT None = ongoing; STARTDT None = started before the study)
    of CMDOSE x PREDFACT x FREQUENCY_PER_DAY[CMDOSFRQ]; ONCE counts on STARTDT only (a ONCE
    record without STARTDT never counts). A subject without glucocorticoid records has 0.0;
    a query without DATE gets NaN.
    Records that cannot contribute (compute_dose_unusable): `unusable="ignore"` (default)
    counts them as 0 mg; `unusable="missing"` gives NaN on every date one of them is active
    (for rules where an unknown dose must not pass as 0, e.g. prednisone-free PFREE52).
    Vectorised: one step function per subject, looked up with searchsorted.
    """
    assert_columns(meds, MEDS_COLUMNS, "compute_pred_dose: MEDS")
    assert_columns(queries, ("USUBJID", "DATE"), "compute_pred_dose: queries")
    if unusable not in ("ignore", "missing"):
        raise ValueError(f"compute_pred_dose: unusable must be 'ignore' or 'missing', not {unusable!r}")
    day, valid = day_numbers(queries["DATE"])
    units = DoseSteps(meds).units(queries["USUBJID"], day)
    if unusable == "missing":
        valid = valid & (DoseSteps(meds, unusable=True).units(queries["USUBJID"], day) == 0)
    return pd.Series(np.where(valid, _units_to_mg(units), np.nan), index=queries.index, dtype=float, name="PREDDOSE")


def derive_var_bpred(subjects: pd.DataFrame, meds: pd.DataFrame) -> pd.Series:
    """R2.3: baseline prednisone-equivalent dose BPRED = the daily dose on day 1 (TRTSDT).

    NaN for a subject without TRTSDT.
    """
    assert_columns(subjects, ("USUBJID", "TRTSDT"), "derive_var_bpred: SUBJECTS")
    queries = pd.DataFrame({"USUBJID": subjects["USUBJID"], "DATE": subjects["TRTSDT"]}, index=subjects.index)
    return compute_pred_dose(meds, queries).rename("BPRED")


# --------------------------------------------------------------------------- R3.4
def compute_weight(weights: pd.DataFrame, queries: pd.DataFrame) -> pd.Series:
    """R3.4: latest non-missing WEIGHT dated on or before each query's DATE (kg).

    NaN when there is none (or the query has no DATE). Two weights on the same date: the
    later row of WEIGHTS stands.
    """
    assert_columns(weights, ("USUBJID", "DATE", "WEIGHT"), "compute_weight: WEIGHTS")
    assert_columns(queries, ("USUBJID", "DATE"), "compute_weight: queries")
    value = pd.to_numeric(weights["WEIGHT"], errors="coerce").to_numpy(dtype=float)
    wday, wvalid = day_numbers(weights["DATE"])
    keep = wvalid & ~np.isnan(value)
    subjects = pd.Index(pd.unique(weights["USUBJID"].to_numpy(dtype=object)[keep]))
    wcode = subjects.get_indexer(weights["USUBJID"].to_numpy(dtype=object)[keep]).astype(np.int64)
    wkey = wcode * SUBJECT_STRIDE + wday[keep]
    order = np.argsort(wkey, kind="stable")
    wkey, wcode, value = wkey[order], wcode[order], value[keep][order]

    qday, qvalid = day_numbers(queries["DATE"])
    qcode = subjects.get_indexer(queries["USUBJID"]).astype(np.int64)
    out = np.full(len(queries), np.nan)
    ok = qvalid & (qcode >= 0)
    if ok.any() and len(wkey):
        pos = np.searchsorted(wkey, qcode[ok] * SUBJECT_STRIDE + qday[ok], side="right") - 1
        safe = np.maximum(pos, 0)
        hit = (pos >= 0) & (wcode[safe] == qcode[ok])
        out[ok] = np.where(hit, value[safe], np.nan)
    return pd.Series(out, index=queries.index, dtype=float, name="WEIGHT")

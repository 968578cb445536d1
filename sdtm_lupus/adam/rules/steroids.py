"""Prednisone-equivalent dose, body weight and treatment failure (derivations.md R2.3, R3.3, R3.4, R4.6).

Inputs are the shared tables MEDS, WEIGHTS and SUBJECTS of `sdtm_lupus.adam.rules` plus
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
(not a glucocorticoid, or a drug name not yet in the mapping's dictionary, §8 case 38) is
not a glucocorticoid record for R3.3; the caller reports uncoded names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from fractions import Fraction
from types import MappingProxyType
from typing import Literal

import numpy as np
import pandas as pd

from sdtm_lupus.adam.rules import assert_columns
from sdtm_lupus.config.study import RuleParameters

# R3.3: daily multiplier of CMDOSFRQ. "EVERY WEEK" is the SDTM CT term the mapping gives
# the export's "QW"; both spellings are accepted. ONCE counts on its start day only.
FREQUENCY_PER_DAY: Mapping[str, Fraction] = MappingProxyType({
    "QD": Fraction(1), "BID": Fraction(2), "TID": Fraction(3), "QOD": Fraction(1, 2),
    "EVERY WEEK": Fraction(1, 7), "QW": Fraction(1, 7), "ONCE": Fraction(1),
})
ONCE = "ONCE"

_RECORD_PRECISION = 1_000_000        # CMDOSE x PREDFACT rounded to 10^-6 mg
_UNIT_STEPS = 14                     # every multiplier x 14 is whole
UNITS_PER_MG = _RECORD_PRECISION * _UNIT_STEPS
assert all((m * _UNIT_STEPS).denominator == 1 for m in FREQUENCY_PER_DAY.values())

# R4.6a: drugs that count as a new immunosuppressive treatment besides class IMMUNOSUPPRESSANT.
TF_DRUG_CLASSES = frozenset({"IMMUNOSUPPRESSANT"})
TF_DRUGS = frozenset({"CYCLOPHOSPHAMIDE", "RITUXIMAB", "BELIMUMAB"})  # CM belimumab is non-study
COMPLETED = "COMPLETED"
DEFAULT_UNTIL_DAY = 365

MEDS_COLUMNS = ("USUBJID", "CMDECOD", "CMCLAS", "CMINDC", "CMDOSE", "CMDOSFRQ", "PREDFACT", "STARTDT", "ENDDT")

# Day numbers: proleptic ordinals (1 = 0001-01-01). 0 stands for "before the study" (an
# unknown start) and _NEVER for "ongoing"; both lie outside every real date.
_EPOCH_ORDINAL = 719_163             # date(1970, 1, 1).toordinal()
_BEFORE = 0
_NEVER = 1 << 22                     # > date(9999, 12, 31).toordinal() + 1
_SUBJECT_STRIDE = 1 << 23

_SLE_WORD = re.compile(r"(?<![A-Za-z0-9])SLE(?![A-Za-z0-9])", re.IGNORECASE)


# --------------------------------------------------------------------------- helpers
def day_numbers(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Dates (date / Timestamp / None) -> (int64 ordinals, valid mask)."""
    if len(values) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
    stamps = pd.to_datetime(pd.Series(values.to_numpy(), dtype=object), errors="raise")
    valid = stamps.notna().to_numpy()
    days = np.zeros(len(values), dtype=np.int64)
    days[valid] = stamps[valid].to_numpy().astype("datetime64[D]").astype(np.int64) + _EPOCH_ORDINAL
    return days, valid


def _upper(values: pd.Series) -> pd.Series:
    return values.astype(object).where(values.notna(), None).map(
        lambda v: v.strip().upper() if isinstance(v, str) else None)


def _frequency_steps(frequency: pd.Series) -> pd.Series:
    """CMDOSFRQ -> multiplier x 14 (int), NaN when missing or not in R3.3."""
    steps = {k: int(v * _UNIT_STEPS) for k, v in FREQUENCY_PER_DAY.items()}
    return _upper(frequency).map(lambda f: steps.get(f, np.nan) if f else np.nan).astype(float)


class _DoseSteps:
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
        start, has_start = day_numbers(gc["STARTDT"])
        end, has_end = day_numbers(gc["ENDDT"])
        once = (_upper(gc["CMDOSFRQ"]) == ONCE).to_numpy()
        usable = ~np.isnan(steps) & ~np.isnan(dose) & ~np.isnan(factor)
        per_mg = np.zeros(len(gc), dtype=np.int64)
        per_mg[usable] = np.rint(dose[usable] * factor[usable] * _RECORD_PRECISION).astype(np.int64)
        units = per_mg * np.where(usable, np.nan_to_num(steps), 0).astype(np.int64)
        if unusable:
            units = (~usable).astype(np.int64)
        first = np.where(has_start, start, _BEFORE)
        last = np.where(once, np.where(has_start, start, _BEFORE - 1), np.where(has_end, end, _NEVER - 1))
        keep = (units != 0) & (first <= last)
        subject = gc["USUBJID"].to_numpy(dtype=object)[keep]
        first, last, units = first[keep], last[keep], units[keep]
        self.subjects = pd.Index(pd.unique(subject))
        code = self.subjects.get_indexer(subject).astype(np.int64)
        # events: (+units at first) and (-units at last + 1, unless ongoing)
        closes = last + 1 < _NEVER
        ev_code = np.concatenate([code, code[closes]])
        ev_day = np.concatenate([first, last[closes] + 1])
        ev_units = np.concatenate([units, -units[closes]])
        order = np.argsort(ev_code * _SUBJECT_STRIDE + ev_day, kind="stable")
        self.code = ev_code[order]
        self.day = ev_day[order]
        self.key = self.code * _SUBJECT_STRIDE + self.day
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
        qkey = code[known] * _SUBJECT_STRIDE + day[known]
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
    freq = _upper(meds["CMDOSFRQ"])
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
    units = _DoseSteps(meds).units(queries["USUBJID"], day)
    if unusable == "missing":
        valid = valid & (_DoseSteps(meds, unusable=True).units(queries["USUBJID"], day) == 0)
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
    wkey = wcode * _SUBJECT_STRIDE + wday[keep]
    order = np.argsort(wkey, kind="stable")
    wkey, wcode, value = wkey[order], wcode[order], value[keep][order]

    qday, qvalid = day_numbers(queries["DATE"])
    qcode = subjects.get_indexer(queries["USUBJID"]).astype(np.int64)
    out = np.full(len(queries), np.nan)
    ok = qvalid & (qcode >= 0)
    if ok.any() and len(wkey):
        pos = np.searchsorted(wkey, qcode[ok] * _SUBJECT_STRIDE + qday[ok], side="right") - 1
        safe = np.maximum(pos, 0)
        hit = (pos >= 0) & (wcode[safe] == qcode[ok])
        out[ok] = np.where(hit, value[safe], np.nan)
    return pd.Series(out, index=queries.index, dtype=float, name="WEIGHT")


# --------------------------------------------------------------------------- R4.6
def is_sle_indication(text: object) -> bool:
    """derivations.md notation: CMINDC contains the word `SLE` or the text `lupus` (any case).

    "Word" = not preceded or followed by an ASCII letter or digit ("SLE flare", "SLE-related"
    yes; "sleep", "measles" no).
    """
    if not isinstance(text, str):
        return False
    return bool(_SLE_WORD.search(text)) or "lupus" in text.lower()


def _tf_new_immunosuppressant(subjects: pd.DataFrame, meds: pd.DataFrame) -> np.ndarray:
    """R4.6a: earliest start after day 1 of a new IS / CYC / RTX / belimumab with SLE indication.

    Counts: a record of class IMMUNOSUPPRESSANT or CMDECOD in TF_DRUGS, is_sle_indication
    (CMINDC), STARTDT after day 1, when no record of the same subject and CMDECOD is active
    on day 1. "Active" is the R3.3 activity of a record (STARTDT None = before the study,
    ENDDT None = ongoing, ONCE = its start day only), whatever its class or indication. A
    record without CMDECOD cannot be matched against the day-1 drugs and never counts (a
    missing value never satisfies a criterion); one without STARTDT is before the study.
    Returns day numbers per subject (0 = none).
    """
    decod = _upper(meds["CMDECOD"])
    klass = _upper(meds["CMCLAS"])
    start, has_start = day_numbers(meds["STARTDT"])
    end, has_end = day_numbers(meds["ENDDT"])
    once = (_upper(meds["CMDOSFRQ"]) == ONCE).to_numpy()
    first = np.where(has_start, start, _BEFORE)
    last = np.where(once, np.where(has_start, start, _BEFORE - 1), np.where(has_end, end, _NEVER))

    day1_of, _ = day_numbers(subjects["TRTSDT"])
    med_subject = meds["USUBJID"].to_numpy(dtype=object)
    day1 = pd.Series(med_subject).map(dict(zip(subjects["USUBJID"], day1_of))).fillna(0).to_numpy(dtype=np.int64)
    treated = day1 > 0
    has_decod = decod.notna().to_numpy()
    med_decod = decod.to_numpy(dtype=object)
    candidate = ((klass.isin(list(TF_DRUG_CLASSES)) | decod.isin(list(TF_DRUGS))).to_numpy()
                 & has_decod & meds["CMINDC"].map(is_sle_indication).to_numpy(dtype=bool)
                 & has_start & treated & (start > day1))
    active_day1 = treated & has_decod & (first <= day1) & (day1 <= last)
    on_day1 = set(zip(med_subject[active_day1], med_decod[active_day1]))
    new = candidate & np.fromiter(((s, d) not in on_day1 for s, d in zip(med_subject, med_decod)),
                                  dtype=bool, count=len(meds))
    earliest = pd.Series(start[new], index=med_subject[new]).groupby(level=0).min()
    return subjects["USUBJID"].map(earliest).fillna(0).to_numpy(dtype=np.int64)


def _tf_dose_increase(subjects: pd.DataFrame, meds: pd.DataFrame, params: RuleParameters,
                      until_day: int | None) -> np.ndarray:
    """R4.6b: first day after day 1 (through study day `until_day`) with dose > max(f x base, base + inc).

    base = the day-1 dose (R2.3). The dose is a step function, so only day 2 and the days on
    which a record starts or stops can be the first day above the threshold; only those days
    are examined. Comparison in exact units. Returns day numbers per subject (0 = none).
    """
    steps = _DoseSteps(meds)
    subject = subjects["USUBJID"].to_numpy(dtype=object)
    day1, treated = day_numbers(subjects["TRTSDT"])
    base = steps.units(subject, day1)
    factor = Fraction(str(params.tf_pred_factor))
    increment = Fraction(str(params.tf_pred_increment)) * UNITS_PER_MG
    horizon = day1 + (until_day - 1 if until_day is not None else _NEVER)

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
    first = np.full(len(subject), _NEVER, dtype=np.int64)
    np.minimum.at(first, rows[above], days[above])
    return np.where(first < _NEVER, first, 0)


def _tf_disposition(subjects: pd.DataFrame) -> np.ndarray:
    """R4.6c: DSSTDT of a subject whose DSDECOD is anything but COMPLETED (DSDECOD None = no
    disposition yet; DSSTDT None = no date to fail on). Returns day numbers (0 = none)."""
    decod = _upper(subjects["DSDECOD"])
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
    earliest = np.where(parts > 0, parts, _NEVER).min(axis=0)
    return pd.Series([date.fromordinal(int(d)) if d < _NEVER else None for d in earliest],
                     index=subjects.index, dtype=object, name="TFDT")

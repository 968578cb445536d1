"""R1 Assessments, occasions and analysis visits (derivations.md R1).

Inputs are neutral per-row tables, one row per raw assessment row, each with USUBJID,
FOLDER, ADT (`datetime.date` or None) and ORDER (int: the row's position in its file; larger
= later). OCCASIONS follows the contract of `sdtm_lupus.adam.rules` (module docstring); it
also keeps ORDER and SITETOT (the standing sledai row's) for R1.3 and the R3.1 QC.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

import numpy as np
import pandas as pd

from sdtm_lupus.adam.rules.bilag import BILAG_SYSTEMS, normalise_grade
from sdtm_lupus.adam.rules.sledai import SLEDAI_DESCRIPTORS, compute_sledai_total
from sdtm_lupus.adam.rules.tables import as_date, assert_columns
from sdtm_lupus.distinct import map_distinct

KEY: tuple[str, ...] = ("USUBJID", "FOLDER", "ADT")
ROW: tuple[str, ...] = (*KEY, "ORDER")

SLEDAI_COLUMNS: tuple[str, ...] = (*SLEDAI_DESCRIPTORS, "SITETOT", "QSSEQ")
PGA_COLUMNS: tuple[str, ...] = ("PGA10",)
BILAG_COLUMNS: tuple[str, ...] = BILAG_SYSTEMS
FLARE_COLUMNS: tuple[str, ...] = ("FLCRF", "MM_NEWWORSE", "SV_NEWWORSE", "SV_HOSP", "FLAREDT")

# Output 2 (rows that stand for no occasion): FORM, USUBJID, FOLDER, ADT, ORDER, REASON, SRCROW.
UNMATCHED_COLUMNS: tuple[str, ...] = ("FORM", *ROW, "REASON", "SRCROW")
REASON_NO_OCCASION = "NO OCCASION"   # pga/bilag/flare: no sledai occasion with that subject, FOLDER and date
REASON_NO_DATE = "DATE MISSING"      # no (valid) date: cannot identify an occasion
REASON_SUPERSEDED = "SUPERSEDED"     # a later row of the file has the same identity and stands for it

_WEEK = re.compile(r"^WEEK (\d+)$")


def nones(index: pd.Index, name: str | None = None) -> pd.Series:
    """An object Series of None (pandas would otherwise fill NaN)."""
    return pd.Series([None] * len(index), index=index, dtype=object, name=name)


def _dates(values: pd.Series) -> pd.Series:
    return map_distinct(values, as_date)


def _neutral(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with ADT as date objects; the input index must be unique (results align to it)."""
    if not frame.index.is_unique:
        raise ValueError("derive_occasions: input index must be unique")
    out = frame.copy()
    out["ADT"] = _dates(frame["ADT"])
    return out


def _standing_rows(frame: pd.DataFrame) -> pd.Index:
    """R1.1: per identity (subject, FOLDER, date) the row with the largest ORDER, in input order."""
    dated = frame[frame["ADT"].notna()]
    if dated.empty:
        return dated.index
    ranked = dated.sort_values("ORDER", kind="stable")
    winners = ranked.groupby(list(KEY), sort=False, dropna=False).tail(1).index
    return dated.index[dated.index.isin(winners)]


def _unmatched(form: str, frame: pd.DataFrame, reason: pd.Series) -> pd.DataFrame:
    rows = frame.loc[reason.notna()]
    return pd.DataFrame({
        "FORM": pd.Series(form, index=rows.index, dtype=object),
        "USUBJID": rows["USUBJID"].astype(object),
        "FOLDER": rows["FOLDER"].astype(object),
        "ADT": rows["ADT"].astype(object),
        "ORDER": rows["ORDER"].astype("int64"),
        "REASON": reason[reason.notna()].astype(object),
        "SRCROW": pd.Series(list(rows.index), index=rows.index, dtype=object),
    }, columns=list(UNMATCHED_COLUMNS))


def _empty_like(columns: Iterable[str], index: pd.Index) -> pd.DataFrame:
    return pd.DataFrame({c: nones(index) for c in columns}, index=index)


def _attach(occ: pd.DataFrame, form: str, frame: pd.DataFrame, columns: tuple[str, ...]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """R1.1: the columns of the `form` row standing for each occasion (later row if two match),
    and the rows of `form` that stand for no occasion."""
    if frame.empty:
        return _empty_like(columns, occ.index), pd.DataFrame(columns=list(UNMATCHED_COLUMNS))
    assert_columns(frame, [*ROW, *columns], f"derive_occasions: {form}")
    rows = _neutral(frame)
    occ_keys, row_keys = _identities(occ, rows)
    standing = _standing_rows(rows)
    has_occ = pd.Series(np.isin(row_keys, occ_keys), index=rows.index)
    reason = nones(rows.index)
    reason[~has_occ] = REASON_NO_OCCASION
    reason[has_occ & ~rows.index.isin(standing)] = REASON_SUPERSEDED
    reason[rows["ADT"].isna()] = REASON_NO_DATE
    standing_pos = rows.index.get_indexer(standing)
    found = pd.Index(row_keys[standing_pos]).get_indexer(occ_keys)      # standing rows: one per identity
    source = np.where(found >= 0, standing_pos[found], -1).astype(np.int64)
    attached = {c: pd.Series(_take_or_none(rows[c], source), index=occ.index, dtype=object) for c in columns}
    out = pd.DataFrame(attached, index=occ.index)
    return out, _unmatched(form, rows, reason)


def _identities(occ: pd.DataFrame, rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """One integer per (USUBJID, FOLDER, ADT) identity, the same in both frames: (occ's, rows')."""
    n = len(occ)
    key = np.zeros(n + len(rows), dtype=np.int64)
    for c in KEY:
        codes, uniques = pd.factorize(np.concatenate([occ[c].to_numpy(dtype=object), rows[c].to_numpy(dtype=object)]),
                                      use_na_sentinel=False)
        key = key * (len(uniques) + 1) + codes
    return key[:n], key[n:]


def _take_or_none(values: pd.Series, positions: np.ndarray) -> np.ndarray:
    """values at each position as objects; None where the position is -1."""
    taken = np.full(len(positions), None, dtype=object)
    found = positions >= 0
    taken[found] = values.iloc[positions[found]].to_numpy(dtype=object)
    return taken


def _none_for_missing(values: pd.Series) -> pd.Series:
    return map_distinct(values, lambda v: None if v is None or (not isinstance(v, str) and pd.isna(v)) else v)


def _bool_or_none(values: pd.Series) -> pd.Series:
    return map_distinct(values, lambda v: None if v is None or pd.isna(v) else bool(v))


def derive_var_occ(occasions: pd.DataFrame) -> pd.Series:
    """R1: OCC = 1..n per subject in date order; same date -> later file row (ORDER) later."""
    assert_columns(occasions, ["USUBJID", "ADT", "ORDER"], "derive_var_occ")
    ranked = occasions.sort_values(["USUBJID", "ADT", "ORDER"], kind="stable")
    occ = ranked.groupby("USUBJID", sort=False).cumcount() + 1
    return occ.reindex(occasions.index).astype("int64").rename("OCC")


def derive_occasions(sledai: pd.DataFrame, pga: pd.DataFrame, bilag: pd.DataFrame, flare: pd.DataFrame,
                     scheduled_folders: set[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """R1.1: OCCASIONS (one row per sledai identity) and the rows that stand for no occasion.

    An occasion is a sledai row identified by (USUBJID, FOLDER, ADT); of two rows with one
    identity the later (ORDER) stands for it. pga/bilag/flare rows join the occasion of the
    same subject, FOLDER and date (the later row if two match). SCHEDULED = FOLDER in
    `scheduled_folders` (the study's visit folders; UNSCHEDULED, EARLY TERMINATION and a folder
    the study does not schedule are not). AVISIT/AVISITN, ADY and ANL01FL are added by the
    caller (derive_var_avisit, derive_var_ady, derive_var_anl01fl).

    Occasion rows keep the index label of their standing sledai row, in the input order.
    Output 2 lists, per form in input order, the rows that take no part in R4-R6:
    REASON "NO OCCASION" (pga/bilag/flare matching no occasion), "DATE MISSING" (any form),
    "SUPERSEDED" (a later row has the same identity: the earlier keeps its SDTM record only).
    """
    assert_columns(sledai, [*ROW, *SLEDAI_COLUMNS], "derive_occasions: sledai")
    rows = _neutral(sledai)
    standing = _standing_rows(rows)
    reason = nones(rows.index)
    reason[~rows.index.isin(standing)] = REASON_SUPERSEDED
    reason[rows["ADT"].isna()] = REASON_NO_DATE
    unmatched = [_unmatched("sledai", rows, reason)]

    src = rows.loc[standing]
    occ = pd.DataFrame({
        "USUBJID": src["USUBJID"].astype(object),
        "FOLDER": src["FOLDER"].astype(object),
        "SCHEDULED": src["FOLDER"].isin(set(scheduled_folders)).astype(bool),
        "ADT": src["ADT"].astype(object),
        "ORDER": src["ORDER"].astype("int64"),
        "QSSEQ": pd.to_numeric(src["QSSEQ"], errors="coerce").astype("float64"),
        "SITETOT": pd.to_numeric(src["SITETOT"], errors="coerce").astype("float64"),
    }, index=src.index)
    occ.insert(1, "OCC", derive_var_occ(occ))
    for c in SLEDAI_DESCRIPTORS:
        occ[c] = src[c].astype("boolean").fillna(False).astype(bool)
    occ["SLEDAI"] = compute_sledai_total(src)

    pga_cols, pga_out = _attach(occ, "pga", pga, PGA_COLUMNS)
    pga10 = map_distinct(pga_cols["PGA10"], lambda v: pd.NA if v is None or pd.isna(v) else int(v))
    occ["PGA10"] = pd.array(pga10.tolist(), dtype="Int64")
    bil_cols, bil_out = _attach(occ, "bilag", bilag, BILAG_COLUMNS)
    for s in BILAG_SYSTEMS:
        occ[s] = map_distinct(bil_cols[s], normalise_grade)
    fl_cols, fl_out = _attach(occ, "flare", flare, FLARE_COLUMNS)
    occ["FLCRF"] = _none_for_missing(fl_cols["FLCRF"])
    for c in ("MM_NEWWORSE", "SV_NEWWORSE", "SV_HOSP"):
        occ[c] = _bool_or_none(fl_cols[c])
    occ["FLAREDT"] = map_distinct(fl_cols["FLAREDT"], as_date)

    parts = [u for u in (*unmatched, pga_out, bil_out, fl_out) if not u.empty]
    out2 = (pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(UNMATCHED_COLUMNS)))
    return occ, out2.reset_index(drop=True)


def derive_var_anl01fl(occasions: pd.DataFrame) -> pd.Series:
    """R1.3: per subject and scheduled FOLDER, "Y" on the occasion with the latest date (same
    date: the later file row, ORDER); None on the others and on unscheduled / ET occasions."""
    assert_columns(occasions, ["USUBJID", "FOLDER", "SCHEDULED", "ADT", "ORDER"], "derive_var_anl01fl")
    flag = nones(occasions.index, name="ANL01FL")
    sched = occasions[occasions["SCHEDULED"].astype(bool) & occasions["ADT"].notna()]
    if sched.empty:
        return flag
    ranked = sched.sort_values(["ADT", "ORDER"], kind="stable")
    chosen = ranked.groupby(["USUBJID", "FOLDER"], sort=False).tail(1).index
    flag[occasions.index.isin(chosen)] = "Y"
    return flag


def derive_var_avisit(occasions: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """R1.2: (AVISIT, AVISITN) from the scheduled FOLDER: `WEEK N` (N > 0) -> "Week N" / N.

    `WEEK 0` and `SCREENING` get None here: the `Baseline` analysis visit is the ABLFL record
    of R2 and is named when ADEFF is assembled. UNSCHEDULED / EARLY TERMINATION (and any folder
    not scheduled by the study) get None: no by-visit AVISIT.
    """
    assert_columns(occasions, ["FOLDER", "SCHEDULED"], "derive_var_avisit")
    week = map_distinct(occasions["FOLDER"], _week_of_folder)        # (AVISIT, AVISITN) or None per folder
    scheduled = map_distinct(occasions["SCHEDULED"], bool).to_numpy(dtype=bool)
    visit = np.where(scheduled, week.to_numpy(dtype=object), None)
    avisit = pd.Series([v[0] if v else None for v in visit], index=occasions.index, dtype=object, name="AVISIT")
    avisitn = pd.Series([v[1] if v else np.nan for v in visit], index=occasions.index, dtype="float64",
                        name="AVISITN")
    return avisit, avisitn


def _week_of_folder(folder) -> tuple[str, float] | None:
    """`WEEK N` (N > 0) -> ("Week N", N); None for any other folder."""
    m = _WEEK.match(str(folder).strip().upper()) if isinstance(folder, str) else None
    return (f"Week {int(m.group(1))}", float(int(m.group(1)))) if m and int(m.group(1)) > 0 else None


def compute_study_day(d: date | None, trtsdt: date | None) -> int | None:
    """Study day (derivations notation): d - TRTSDT + 1 on or after day 1, else d - TRTSDT (no day 0)."""
    if d is None or trtsdt is None:
        return None
    diff = (d - trtsdt).days
    return diff + 1 if diff >= 0 else diff


def derive_var_ady(adt: pd.Series, trtsdt: pd.Series) -> pd.Series:
    """ADY from ADT and the subject's TRTSDT (aligned Series); <NA> when either is missing."""
    if not adt.index.equals(trtsdt.index):
        raise ValueError("derive_var_ady: adt and trtsdt must share one index")
    days = [compute_study_day(as_date(d), as_date(t)) for d, t in zip(adt, trtsdt)]
    return pd.Series(days, index=adt.index, dtype="Int64", name="ADY")

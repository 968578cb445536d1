"""R10 ADLB - laboratory analysis (derivations.md R10, with R1.2-R1.3 per parameter).

Input: SDTM LB records (the columns named below), never the raw lab form. LB already holds
the result in the standard unit (LBSTRESN, LBSTRESC, LBSTNRLO/LBSTNRHI: sdtm/lb.py converts
with the factors of specs/lab-tests.yaml); ADLB takes them as they are and never re-converts.

LAB - one row per analysable LB record (compute_lab_records):
  USUBJID; LBSEQ; LBTESTCD; LBTEST; LBSTRESN float|NaN; LBSTRESC str|None; LBSTRESU str|None;
  LBSTNRLO/LBSTNRHI float|NaN; VISIT str|None; ADT date|None (complete LBDTC date).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date

import numpy as np
import pandas as pd

from sdtm_lupus.adam.rules.occasions import nones
from sdtm_lupus.adam.rules.tables import assert_columns, date_ordinals, per_subject
from sdtm_lupus.distinct import map_distinct

ANTI_DSDNA, DNAXULN = "DDNAIGAB", "DNAXULN"
DNAXULN_PARAM = "Anti-dsDNA IgG / Upper Limit of Normal (ratio)"
BASELINE_VISIT = ("Baseline", 0.0)
_WEEK = re.compile(r"^WEEK\s+(\d+)$")
LB_COLUMNS = ("USUBJID", "LBSEQ", "LBTESTCD", "LBTEST", "LBSTRESN", "LBSTRESC", "LBSTRESU", "LBSTNRLO", "LBSTNRHI",
              "VISIT", "LBDTC")


def compute_lab_records(lb: pd.DataFrame, text_only: Iterable[tuple[str, str | None]] = ()) -> pd.DataFrame:
    """R10.1: the LB records that become ADLB records, with ADT (the complete date of LBDTC).

    `text_only`: (LBTESTCD, LBMETHOD) pairs whose results are terms only (the dipstick protein,
    specs/lab-tests.yaml `qualitative: true`): they stay in LB and get no parameter."""
    assert_columns(lb, LB_COLUMNS, "compute_lab_records")
    method = lb["LBMETHOD"] if "LBMETHOD" in lb else pd.Series(None, index=lb.index, dtype=object)
    pairs = set(text_only)
    keep = _distinct_pairs(lb["LBTESTCD"], method, lambda t, m: (t, m if isinstance(m, str) else None) not in pairs)
    out = lb.loc[keep.astype(bool), list(LB_COLUMNS)]        # a new frame (copy on write)
    out["ADT"] = map_distinct(out["LBDTC"], lambda v: date.fromisoformat(v[:10]) if isinstance(v, str) and len(v) >= 10
                              else None)
    return out.drop(columns="LBDTC")


def _distinct_pairs(left: pd.Series, right: pd.Series, fn) -> np.ndarray:
    """fn(left value, right value) of each row (an object array), called once per distinct pair."""
    lcodes, lvalues = _value_codes(left.to_numpy(dtype=object))
    rcodes, rvalues = _value_codes(right.to_numpy(dtype=object))
    width = len(rvalues)
    pair, distinct = pd.factorize(lcodes * width + rcodes)
    results = np.array([fn(lvalues[code // width], rvalues[code % width]) for code in distinct] + [None],
                       dtype=object)[:-1]
    return results[pair]


def _value_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes and the distinct values; missing values are told apart by their type (None, NaN, ...)."""
    codes, uniques = pd.factorize(values)
    codes = codes.astype(np.int64)
    distinct = list(uniques)
    missing = np.flatnonzero(codes < 0)
    if len(missing):
        kinds, _ = pd.factorize(_type_of(values[missing]))
        firsts = np.unique(kinds, return_index=True)[1]
        codes[missing] = len(distinct) + kinds
        distinct += [values[missing[i]] for i in firsts]
    return codes, np.array(distinct + [None], dtype=object)[:-1]


_type_of = np.frompyfunc(type, 1, 1)


def compute_anrind(aval: pd.Series, anrlo: pd.Series, anrhi: pd.Series) -> pd.Series:
    """R10.2 ANRIND: LOW below ANRLO, HIGH above ANRHI, else NORMAL; missing when AVAL is
    missing or the record has no limit at all (nothing to compare against)."""
    aval, lo, hi = (pd.to_numeric(s, errors="coerce").astype("float64") for s in (aval, anrlo, anrhi))
    low, high = (aval < lo).to_numpy(), (aval > hi).to_numpy()
    known = (aval.notna() & (lo.notna() | hi.notna())).to_numpy()
    labels = np.array([None, "LOW", "HIGH", "NORMAL"], dtype=object)
    return pd.Series(labels[np.select([~known, low, high], [0, 1, 2], 3)], index=aval.index, dtype=object)


def derive_param_lab(lab: pd.DataFrame) -> pd.DataFrame:
    """R10.1-R10.2: one record per LAB row, PARAMCD = LBTESTCD. AVAL = LBSTRESN (standard unit);
    a qualified (`<x`, `>x`) or text result has AVAL missing and AVALC = LBSTRESC; ANRLO/ANRHI =
    LBSTNRLO/LBSTNRHI (the same conversion as the result). Aligned to `lab`'s index."""
    assert_columns(lab, ["USUBJID", "LBSEQ", "LBTESTCD", "LBTEST", "LBSTRESN", "LBSTRESC", "LBSTRESU", "LBSTNRLO",
                         "LBSTNRHI", "VISIT", "ADT"], "derive_param_lab")
    aval = pd.to_numeric(lab["LBSTRESN"], errors="coerce").astype("float64")
    units = lab.groupby("LBTESTCD")["LBSTRESU"].agg(lambda s: next((u for u in s if isinstance(u, str) and u), None))
    unit = lab["LBTESTCD"].map(units)
    param = _distinct_pairs(lab["LBTEST"], unit, lambda t, u: f"{t} ({u})" if isinstance(u, str) else str(t))
    anrlo = pd.to_numeric(lab["LBSTNRLO"], errors="coerce").astype("float64")
    anrhi = pd.to_numeric(lab["LBSTNRHI"], errors="coerce").astype("float64")
    return pd.DataFrame({
        "USUBJID": lab["USUBJID"], "PARAMCD": lab["LBTESTCD"], "PARAM": param,
        "AVAL": aval, "AVALC": pd.Series(np.where(aval.isna(), lab["LBSTRESC"].to_numpy(dtype=object), None), index=lab.index),
        "AVALU": unit.astype(object), "ANRLO": anrlo, "ANRHI": anrhi, "ANRIND": compute_anrind(aval, anrlo, anrhi),
        "VISIT": lab["VISIT"], "ADT": lab["ADT"], "SRCDOM": "LB", "SRCVAR": "LBSTRESN", "SRCSEQ": lab["LBSEQ"],
    }, index=lab.index)


def derive_param_dnaxuln(lab: pd.DataFrame) -> pd.DataFrame:
    """R10.2 DNAXULN: each anti-dsDNA record's result / the same record's upper limit (LBSTNRHI),
    so that assays of different labs compare; missing when the result carries a qualifier (no
    LBSTRESN) or the record has no upper limit. Reference range 0 to 1 (ULN multiples)."""
    assert_columns(lab, ["USUBJID", "LBSEQ", "LBTESTCD", "LBSTRESN", "LBSTNRHI", "VISIT", "ADT"], "derive_param_dnaxuln")
    dna = lab[lab["LBTESTCD"].eq(ANTI_DSDNA)]
    result = pd.to_numeric(dna["LBSTRESN"], errors="coerce").astype("float64")
    uln = pd.to_numeric(dna["LBSTNRHI"], errors="coerce").astype("float64")
    aval = (result / uln).where(uln.gt(0)).round(10)
    lo = pd.Series(0.0, index=dna.index)
    hi = pd.Series(1.0, index=dna.index)
    return pd.DataFrame({
        "USUBJID": dna["USUBJID"], "PARAMCD": DNAXULN, "PARAM": DNAXULN_PARAM, "AVAL": aval, "AVALC": None,
        "AVALU": "ULN", "ANRLO": lo, "ANRHI": hi, "ANRIND": compute_anrind(aval, lo, hi),
        "VISIT": dna["VISIT"], "ADT": dna["ADT"], "SRCDOM": "LB", "SRCVAR": "LBSTNRHI", "SRCSEQ": dna["LBSEQ"],
    }, index=dna.index)


def derive_var_ablfl_lab(records: pd.DataFrame, trtsdt_by_subject: Mapping[str, date | None] | pd.Series) -> pd.Series:
    """R10.3: per subject and PARAMCD, "Y" on the last record with a non-missing AVAL dated on or
    before day 1 (TRTSDT); of two on one date, the higher SRCSEQ (the later LB record). None elsewhere."""
    assert_columns(records, ["USUBJID", "PARAMCD", "ADT", "AVAL", "SRCSEQ"], "derive_var_ablfl_lab")
    adt = date_ordinals(records["ADT"])
    day1 = date_ordinals(pd.Series(per_subject(records["USUBJID"], trtsdt_by_subject)))
    with np.errstate(invalid="ignore"):
        pre = adt <= day1                   # False when either date is missing (NaN)
    flag = nones(records.index, name="ABLFL")
    candidates = np.flatnonzero(pre & records["AVAL"].notna().to_numpy())
    if not len(candidates):
        return flag
    chosen = _last_per_group(records, candidates, ["USUBJID", "PARAMCD"], adt)
    flag.iloc[chosen] = "Y"
    return flag


def _last_per_group(records: pd.DataFrame, rows: np.ndarray, keys: list[str], adt: np.ndarray) -> np.ndarray:
    """Positions (sorted) among `rows` of the last record per `keys` group in (ADT, SRCSEQ) order,
    ties to the later row: `sort_values(["ADT", "SRCSEQ"], kind="stable").groupby(keys).tail(1)`."""
    ranked = pd.DataFrame({"ADT": adt[rows], "SRCSEQ": records["SRCSEQ"].to_numpy()[rows]})
    order = rows[ranked.sort_values(["ADT", "SRCSEQ"], kind="stable").index.to_numpy()]
    group = records.groupby(keys, sort=False).ngroup().to_numpy(dtype="float64")[order]
    order, group = order[~np.isnan(group)], group[~np.isnan(group)]       # a missing key: no group
    last_in_reverse = np.unique(group[::-1], return_index=True)[1]
    return np.sort(order[len(order) - 1 - last_in_reverse])


def derive_var_base_chg(records: pd.DataFrame, ablfl: pd.Series, post: pd.Series) -> pd.DataFrame:
    """R10.3: BASE (the ABLFL record's AVAL, on every record of the subject x parameter), CHG = AVAL - BASE
    and PCHG = 100 x CHG / BASE (missing when BASE is 0) on post-baseline records (`post`)."""
    assert_columns(records, ["USUBJID", "PARAMCD", "AVAL"], "derive_var_base_chg")
    base_rows = records[ablfl.eq("Y").fillna(False).astype(bool)]
    keys = pd.MultiIndex.from_arrays([base_rows["USUBJID"], base_rows["PARAMCD"]])
    values = np.append(base_rows["AVAL"].to_numpy(dtype=float), np.nan)       # position -1: no baseline
    pos = keys.get_indexer(pd.MultiIndex.from_arrays([records["USUBJID"], records["PARAMCD"]]))
    base = pd.Series(values[pos], index=records.index, dtype="float64")
    chg = (records["AVAL"].astype("float64") - base).where(post.astype(bool)).round(10)
    pchg = (100 * chg / base).where(base.ne(0)).round(10)
    return pd.DataFrame({"BASE": base, "CHG": chg, "PCHG": pchg}, index=records.index)


def derive_var_avisit_lab(records: pd.DataFrame, ablfl: pd.Series, ady: pd.Series) -> tuple[pd.Series, pd.Series]:
    """R10.4 (R1.2): `Baseline`/0 on the ABLFL record; `Week N`/N on a record of the scheduled visit
    WEEK N dated after day 1; None elsewhere (screening, pre-dose records that are not the baseline,
    UNSCHEDULED, EARLY TERMINATION)."""
    assert_columns(records, ["VISIT"], "derive_var_avisit_lab")
    week = map_distinct(records["VISIT"], _week_number).to_numpy(dtype="float64")
    day = pd.to_numeric(ady, errors="coerce").to_numpy(dtype="float64")
    with np.errstate(invalid="ignore"):
        weekly = ~np.isnan(week) & (day > 1)
    base = ablfl.eq("Y").to_numpy(dtype=bool)
    avisitn = np.where(base, BASELINE_VISIT[1], np.where(weekly, week, np.nan))
    labels = map_distinct(pd.Series(avisitn[weekly & ~base]), lambda n: f"Week {int(n)}").to_numpy(dtype=object)
    avisit = np.full(len(records), None, dtype=object)
    avisit[weekly & ~base] = labels
    avisit[base] = BASELINE_VISIT[0]
    return (pd.Series(avisit, index=records.index, dtype=object, name="AVISIT"),
            pd.Series(avisitn, index=records.index, dtype="float64", name="AVISITN"))


def _week_number(visit) -> float:
    """N of a `WEEK N` visit name; NaN for any other."""
    m = _WEEK.match(visit.strip().upper()) if isinstance(visit, str) else None
    return float(int(m.group(1))) if m else np.nan


def derive_var_anl01fl_lab(records: pd.DataFrame) -> pd.Series:
    """R10.4 (R1.3): per subject, PARAMCD and AVISIT, "Y" on the record with the latest date (same date:
    the later LB record, SRCSEQ); the baseline record is its own analysis record. None without AVISIT."""
    assert_columns(records, ["USUBJID", "PARAMCD", "AVISIT", "ADT", "SRCSEQ"], "derive_var_anl01fl_lab")
    flag = nones(records.index, name="ANL01FL")
    adt = date_ordinals(records["ADT"])
    rows = np.flatnonzero(records["AVISIT"].notna().to_numpy() & ~np.isnan(adt))
    if not len(rows):
        return flag
    flag.iloc[_last_per_group(records, rows, ["USUBJID", "PARAMCD", "AVISIT"], adt)] = "Y"
    return flag


def derive_var_ady_lab(records: pd.DataFrame, trtsdt_by_subject: Mapping[str, date | None] | pd.Series) -> pd.Series:
    """ADY: study day of ADT (derivations notation, no day 0); missing without ADT or TRTSDT."""
    adt = date_ordinals(records["ADT"])
    day1 = date_ordinals(pd.Series(per_subject(records["USUBJID"], trtsdt_by_subject), index=records.index))
    return pd.Series(compute_study_days(adt, day1), index=records.index, dtype="float64")


def compute_study_days(adt: np.ndarray, trtsdt: np.ndarray) -> np.ndarray:
    """`compute_study_day` on day numbers (float, NaN = missing): d - TRTSDT + 1 from day 1 on, else d - TRTSDT."""
    diff = adt - trtsdt
    with np.errstate(invalid="ignore"):
        return diff + (diff >= 0)

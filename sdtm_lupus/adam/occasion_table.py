"""SDTM QS -> the neutral per-row tables of R1 -> OCCASIONS with every per-occasion column.

Which QS test codes belong to which raw form and column comes from specs/instruments.yaml
(the same definitions that mapped the forms to QS).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sdtm_lupus.adam.rule_tables import to_date
from sdtm_lupus.adam.rules.occasions import (
    derive_occasions,
    derive_var_ady,
    derive_var_anl01fl,
    derive_var_avisit,
)
from sdtm_lupus.adam.rules.pga import compute_pga_tenths
from sdtm_lupus.config.study import Study
from sdtm_lupus.distinct import map_distinct
from sdtm_lupus.frames import take_rows
from sdtm_lupus.specs import load_instruments

FORM_COLUMNS = {"sledai": "SLEDAI", "pga": "PGA", "bilag": "BILAG", "flare": "FLARE"}


def folder_of(visit: pd.Series, visitnum: pd.Series, study: Study) -> pd.Series:
    """The raw FOLDER a QS record came from: scheduled visit names are the folder names."""
    scheduled = {v.visit: v.folder for v in study.visits}
    et = study.early_termination
    return pd.Series([scheduled.get(v) or (et.folder if n == et.visitnum else study.unscheduled_folder)
                      for v, n in zip(visit, visitnum)], index=visit.index, dtype=object)


def form_rows(qs: pd.DataFrame, study: Study) -> dict[str, pd.DataFrame]:
    """Per raw form: one row per QS occasion group (USUBJID, QSGRPID) with the item columns."""
    defs = load_instruments()
    order_col = "_row" if "_row" in qs else "QSSEQ"
    keys = ["USUBJID", "QSGRPID"]
    used = list(dict.fromkeys([*keys, "QSTESTCD", "VISIT", "VISITNUM", "QSDTC", order_col, "QSSEQ",
                               "QSORRES", "QSSTRESC"]))     # the columns read below: the copies hold these only
    out = {}
    qscat, qscats = pd.factorize(qs["QSCAT"])             # once: the forms below compare integer codes
    qs_testcd, qs_testcds = pd.factorize(qs["QSTESTCD"])
    for inst in defs.instruments:
        by_code = {item.testcd: item for item in inst.items}
        in_form = (qscat == _code_of(qscats, [inst.qscat])[0]) & np.isin(qs_testcd, _code_of(qs_testcds, list(by_code)))
        recs = take_rows(qs[used], np.flatnonzero(in_form))
        if recs.empty:
            out[inst.form] = pd.DataFrame(columns=[*keys, "FOLDER", "ADT", "ORDER", "QSSEQ",
                                                   *(i.column for i in inst.items)])
            continue
        groups = recs.groupby(keys, sort=False)
        first = groups.agg(
            VISIT=("VISIT", "first"), VISITNUM=("VISITNUM", "first"), QSDTC=("QSDTC", "first"),
            ORDER=(order_col, "max"), QSSEQ=("QSSEQ", "min")).reset_index()
        first["FOLDER"] = folder_of(first["VISIT"], first["VISITNUM"], study)
        first["ADT"] = map_distinct(first["QSDTC"], to_date)
        first["ORDER"] = first["ORDER"].astype("int64")
        group = groups.ngroup().to_numpy()          # each record's row of `first`
        values = _item_values(recs, by_code).to_numpy(dtype=object)
        valued = pd.notna(values)
        codes, testcds = pd.factorize(recs["QSTESTCD"])
        for item in inst.items:
            rows = codes == (testcds.get_loc(item.testcd) if item.testcd in testcds else -2)
            first[item.column] = pd.Series(_last_values(group, values, rows, len(first), valued),
                                           index=first.index, dtype=object)
        out[inst.form] = first
    return out


def _code_of(uniques, values: list) -> np.ndarray:
    """The factorize codes of `values`; -2 (matching no row, not even a missing one) when absent."""
    codes = pd.Index(uniques).get_indexer(values)
    return np.where(codes >= 0, codes, -2)


def _last_values(group: np.ndarray, values: np.ndarray, rows: np.ndarray, n_groups: int,
                 valued: np.ndarray) -> np.ndarray:
    """Per group, the last non-missing value (`valued`) among the `rows` records (by record order): None
    when its records hold no value, NaN when it has no record (as a pivot of the records leaves it)."""
    out = np.full(n_groups, np.nan, dtype=object)
    out[group[rows]] = None
    valued = np.flatnonzero(rows & valued)
    reverse = group[valued][::-1]
    groups_hit, last_in_reverse = np.unique(reverse, return_index=True)
    out[groups_hit] = values[valued[::-1][last_in_reverse]]
    return out


def _item_values(recs: pd.DataFrame, by_code: dict) -> pd.Series:
    """The value of each QS record as its item's raw form column held it (checkbox: ticked;
    flag: Y; other kinds: the text, None when empty), once per distinct text of each item kind."""
    kind = recs["QSTESTCD"].map({code: item.kind for code, item in by_code.items()}).to_numpy(dtype=object)
    out = np.full(len(recs), None, dtype=object)
    for k in pd.unique(kind):
        rows = np.flatnonzero(kind == k)
        column, fn = _ITEM_VALUE.get(k, _ITEM_VALUE["text"])
        out[rows] = map_distinct(recs[column].take(rows), fn).to_numpy(dtype=object)
    return pd.Series(out, index=recs.index, dtype=object)


def _checkbox_value(orres) -> bool:
    return orres == "PRESENT"


def _flag_value(stresc) -> bool:
    return stresc == "Y"


def _text_value(stresc) -> str | None:
    return stresc if isinstance(stresc, str) and stresc else None


# item kind -> (the QS column it is read from, its value); number, code and date items: "text"
_ITEM_VALUE = {"checkbox": ("QSORRES", _checkbox_value), "flag": ("QSSTRESC", _flag_value),
               "text": ("QSSTRESC", _text_value)}


def build_occasions(qs: pd.DataFrame, subjects: pd.DataFrame, study: Study) -> tuple[pd.DataFrame, pd.DataFrame]:
    """OCCASIONS (with AVISIT, AVISITN, ADY, ANL01FL) and the rows that stand for no occasion."""
    rows = form_rows(qs, study)
    sledai = rows["sledai"].rename(columns={})
    pga = rows["pga"].copy()
    pga["PGA10"] = compute_pga_tenths(pga["PGA"])[0] if len(pga) else pd.Series(dtype="Int64")
    bilag = rows["bilag"]
    flare = rows.get("flare", pd.DataFrame())
    if len(flare):
        flare = flare.rename(columns={"FLARE": "FLCRF"})
        flare["FLAREDT"] = flare["FLAREDAT"].map(to_date)
    else:
        flare = pd.DataFrame(columns=["USUBJID", "FOLDER", "ADT", "ORDER", "FLCRF", "MM_NEWWORSE", "SV_NEWWORSE",
                                      "SV_HOSP", "FLAREDT"])
    scheduled = {v.folder for v in study.visits}
    occ, unmatched = derive_occasions(sledai, pga, bilag, flare, scheduled)
    trtsdt = occ["USUBJID"].map(subjects.set_index("USUBJID")["TRTSDT"])
    occ["ADY"] = derive_var_ady(occ["ADT"], trtsdt)
    occ["AVISIT"], occ["AVISITN"] = derive_var_avisit(occ)
    occ["ANL01FL"] = derive_var_anl01fl(occ)
    return occ, unmatched

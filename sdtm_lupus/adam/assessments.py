"""SDTM QS -> the neutral per-row tables of R1 -> OCCASIONS with every per-occasion column.

Which QS test codes belong to which raw form and column comes from specs/instruments.yaml
(the same definitions that mapped the forms to QS).
"""

from __future__ import annotations

import pandas as pd

from sdtm_lupus.adam.inputs import to_date
from sdtm_lupus.adam.rules.occasions import (
    derive_occasions,
    derive_var_ady,
    derive_var_anl01fl,
    derive_var_avisit,
)
from sdtm_lupus.adam.rules.pga import compute_pga_tenths
from sdtm_lupus.config.study import Study
from sdtm_lupus.distinct import map_distinct
from sdtm_lupus.sdtm.qs import load_instruments

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
    used = list(dict.fromkeys([*keys, "QSCAT", "QSTESTCD", "VISIT", "VISITNUM", "QSDTC", order_col, "QSSEQ",
                               "QSORRES", "QSSTRESC"]))
    qs = qs[used]       # the columns read below: each instrument's subset copies these only
    out = {}
    for inst in defs.instruments:
        by_code = {item.testcd: item for item in inst.items}
        recs = qs[qs["QSCAT"].eq(inst.qscat) & qs["QSTESTCD"].isin(list(by_code))]
        if recs.empty:
            out[inst.form] = pd.DataFrame(columns=[*keys, "FOLDER", "ADT", "ORDER", "QSSEQ",
                                                   *(i.column for i in inst.items)])
            continue
        first = recs.groupby(keys, sort=False).agg(
            VISIT=("VISIT", "first"), VISITNUM=("VISITNUM", "first"), QSDTC=("QSDTC", "first"),
            ORDER=(order_col, "max"), QSSEQ=("QSSEQ", "min")).reset_index()
        first["FOLDER"] = folder_of(first["VISIT"], first["VISITNUM"], study)
        first["ADT"] = map_distinct(first["QSDTC"], to_date)
        first["ORDER"] = first["ORDER"].astype("int64")
        wide = _wide_items(recs, keys, by_code)
        wide = wide.reindex(columns=[i.column for i in inst.items]).reset_index()
        out[inst.form] = first.merge(wide, on=keys, how="left")
    return out


def _wide_items(recs: pd.DataFrame, keys: list[str], by_code: dict) -> pd.DataFrame:
    """One row per occasion group (keys), one object column per item (named by its raw column): the
    last non-missing item value of the group (NaN where it has none)."""
    values = recs[keys].assign(COLUMN=recs["QSTESTCD"].map({code: item.column for code, item in by_code.items()}),
                               VALUE=_item_values(recs, by_code))
    last = values.groupby([*keys, "COLUMN"], sort=True, dropna=False)["VALUE"].last()
    return last.unstack("COLUMN").astype(object)


def _item_values(recs: pd.DataFrame, by_code: dict) -> pd.Series:
    """The value of each QS record as its item's raw form column held it (checkbox: ticked;
    flag: Y; other kinds: the text, None when empty), once per distinct text of each item kind."""
    kind = recs["QSTESTCD"].map({code: item.kind for code, item in by_code.items()})
    out = pd.Series(None, index=recs.index, dtype=object)
    for k in pd.unique(kind):
        rows = kind.eq(k).to_numpy()
        column, fn = _ITEM_VALUE.get(k, _ITEM_VALUE["text"])
        out[rows] = map_distinct(recs.loc[rows, column], fn).to_numpy(dtype=object)
    return out


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

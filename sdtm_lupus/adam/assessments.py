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
    out = {}
    for inst in defs.instruments:
        by_code = {item.testcd: item for item in inst.items}
        recs = qs[qs["QSCAT"].eq(inst.qscat) & qs["QSTESTCD"].isin(list(by_code))]
        keys = ["USUBJID", "QSGRPID"]
        if recs.empty:
            out[inst.form] = pd.DataFrame(columns=[*keys, "FOLDER", "ADT", "ORDER", "QSSEQ",
                                                   *(i.column for i in inst.items)])
            continue
        first = recs.groupby(keys, sort=False).agg(
            VISIT=("VISIT", "first"), VISITNUM=("VISITNUM", "first"), QSDTC=("QSDTC", "first"),
            ORDER=(order_col, "max"), QSSEQ=("QSSEQ", "min")).reset_index()
        first["FOLDER"] = folder_of(first["VISIT"], first["VISITNUM"], study)
        first["ADT"] = first["QSDTC"].map(to_date)
        first["ORDER"] = first["ORDER"].astype("int64")
        values = recs.assign(COLUMN=recs["QSTESTCD"].map(lambda c: by_code[c].column))
        values = values.assign(VALUE=[_item_value(by_code[c], o, s, n) for c, o, s, n in zip(
            values["QSTESTCD"], values["QSORRES"], values["QSSTRESC"], values["QSSTRESN"])])
        wide = values.pivot_table(index=keys, columns="COLUMN", values="VALUE", aggfunc="last", dropna=False)
        wide = wide.reindex(columns=[i.column for i in inst.items]).reset_index()
        out[inst.form] = first.merge(wide, on=keys, how="left")
    return out


def _item_value(item, orres, stresc, stresn):
    if item.kind == "checkbox":
        return orres == "PRESENT"
    if item.kind == "flag":
        return stresc == "Y"
    if item.kind == "number":
        return stresc if isinstance(stresc, str) and stresc else None
    return stresc if isinstance(stresc, str) and stresc else None


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

"""BDS record derivations shared by the ADaM parameters (docs/derivations.md R1, R2, R7).

Pure functions on aligned Series / frames: they never re-sort their input.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from sdtm_lupus.adam.rules.medication_days import day_numbers
from sdtm_lupus.adam.rules.tables import as_date_or_none, assert_columns

YN_AVAL = {"Y": 1.0, "N": 0.0}

# PARAMN: the order parameters are listed in (R7 order; ADTTE after ADEFF). One number per PARAMCD.
PARAMN: Mapping[str, float] = {code: float(n) for n, code in enumerate((
    "SLEDAI", "PGA", "BILNEWA", "BILNEWB", "PREDDOSE", "LLDAS",
    "SRI4SLED", "SRI4BILG", "SRI4PGA", "SRI4", "SRI5", "SRI6", "SRI7", "SRI8",
    "FLARE", "FLANY52", "FLSEV52", "FLMM52", "PFREE52",
    "TTFLANY", "TTFLSEV", "TTFLMM"), start=1)}

# ANL01FL by parameter for the records that are not per-occasion measurements (R7 "Flags"):
# one record per subject x visit (SRI and its components), one per subject (FL*52, PFREE52)
# and one per post-baseline occasion (FLARE, each entering R6): every such record is the record
# the primary analysis of its parameter uses.
ANALYSIS_RECORD_PARAMS = frozenset({"SRI4SLED", "SRI4BILG", "SRI4PGA", "SRI4", "SRI5", "SRI6", "SRI7", "SRI8",
                                    "FLARE", "FLANY52", "FLSEV52", "FLMM52", "PFREE52"})


def derive_var_ady(records: pd.DataFrame, trtsdt: Mapping) -> pd.Series:
    """ADY = ADT - TRTSDT + 1 when ADT >= TRTSDT, else ADT - TRTSDT (no day 0); NaN when ADT or
    the subject's TRTSDT is missing. records: USUBJID, ADT; trtsdt: USUBJID -> date.
    (Vectorised form of occasions.compute_study_day.)"""
    assert_columns(records, ("USUBJID", "ADT"), "derive_var_ady")
    adt, has_adt = day_numbers(records["ADT"])
    first = pd.Series(records["USUBJID"].to_numpy(dtype=object)).map(
        {u: as_date_or_none(d) for u, d in dict(trtsdt).items()})
    day1, has_day1 = day_numbers(first)
    diff = (adt - day1).astype("float64")
    ady = np.where(diff >= 0, diff + 1, diff)
    return pd.Series(np.where(has_adt & has_day1, ady, np.nan), index=records.index, dtype="float64", name="ADY")


def derive_var_aval_yn(records: pd.DataFrame) -> pd.Series:
    """R7: AVAL of a Y/N parameter is 1 for 'Y', 0 for 'N'; other records keep their AVAL.
    records: AVAL, AVALC."""
    assert_columns(records, ("AVAL", "AVALC"), "derive_var_aval_yn")
    aval = pd.to_numeric(records["AVAL"], errors="coerce").astype("float64")
    yn = records["AVALC"].map(YN_AVAL).astype("float64")
    return aval.where(yn.isna(), yn).rename("AVAL")


def derive_var_chg(aval: pd.Series, base: pd.Series, ady: pd.Series) -> pd.Series:
    """CHG = AVAL - BASE on post-baseline records (ADY > 1); missing on the baseline and on
    pre-baseline records, and when BASE is missing (R2.2)."""
    post = pd.to_numeric(ady, errors="coerce").astype("float64") > 1
    return (pd.to_numeric(aval, errors="coerce") - pd.to_numeric(base, errors="coerce")).where(post).rename("CHG")


def derive_var_pchg(chg: pd.Series, base: pd.Series) -> pd.Series:
    """PCHG = 100 x CHG / BASE; missing when BASE is 0 or missing, or CHG is missing."""
    base = pd.to_numeric(base, errors="coerce")
    return (pd.to_numeric(chg, errors="coerce") / base * 100).where(base.ne(0) & base.notna()).rename("PCHG")


def derive_var_paramn(paramcd: pd.Series) -> pd.Series:
    """PARAMN: the number of PARAMCD in PARAMN (NaN for an unlisted code)."""
    return paramcd.map(PARAMN).astype("float64").rename("PARAMN")


def derive_var_anl01fl_param(records: pd.DataFrame) -> pd.Series:
    """ANL01FL: 'Y' on every record of the ANALYSIS_RECORD_PARAMS parameters; other records keep
    theirs (R1.3 for the per-occasion measurements). records: PARAMCD, ANL01FL."""
    assert_columns(records, ("PARAMCD", "ANL01FL"), "derive_var_anl01fl_param")
    flag = records["ANL01FL"].astype(object).where(records["ANL01FL"].eq("Y"), None)
    return flag.where(~records["PARAMCD"].isin(list(ANALYSIS_RECORD_PARAMS)), "Y").rename("ANL01FL")


def derive_var_tte_source(adtte: pd.DataFrame, occasions: pd.DataFrame, adeff: pd.DataFrame) -> dict[str, pd.Series]:
    """R7 traceability of ADTTE: SRCDOM / SRCVAR / SRCSEQ of each record.

    Event (CNSR 0): the ADEFF FLARE record of the event occasion (SRCDOM 'ADEFF', SRCVAR 'ADT',
    SRCSEQ its ASEQ; found by the occasion's QSSEQ, which is that record's SRCSEQ). Censored at an
    occasion: that occasion's QS record (SRCDOM 'QS', SRCVAR 'QSDTC', SRCSEQ its QSSEQ). Censored
    at TRTSDT (no occasion): SRCDOM 'ADSL', SRCVAR 'TRTSDT', SRCSEQ missing.

    adtte: USUBJID, CNSR, OCC; occasions: USUBJID, OCC, QSSEQ; adeff: USUBJID, PARAMCD, SRCSEQ, ASEQ.
    """
    assert_columns(adtte, ("USUBJID", "CNSR", "OCC"), "derive_var_tte_source adtte")
    assert_columns(occasions, ("USUBJID", "OCC", "QSSEQ"), "derive_var_tte_source occasions")
    assert_columns(adeff, ("USUBJID", "PARAMCD", "SRCSEQ", "ASEQ"), "derive_var_tte_source adeff")
    qsseq = {(u, o): s for u, o, s in zip(occasions["USUBJID"], occasions["OCC"], occasions["QSSEQ"])}
    flare = adeff[adeff["PARAMCD"].eq("FLARE")]
    aseq = {(u, s): a for u, s, a in zip(flare["USUBJID"], flare["SRCSEQ"], flare["ASEQ"])}
    dom, var, seq = [], [], []
    for u, cnsr, occ in zip(adtte["USUBJID"], adtte["CNSR"], adtte["OCC"]):
        source = None if occ is None or pd.isna(occ) else qsseq.get((u, occ))
        if pd.isna(cnsr):
            dom.append(None), var.append(None), seq.append(np.nan)
        elif int(cnsr) == 0:
            dom.append("ADEFF"), var.append("ADT"), seq.append(aseq.get((u, source), np.nan))
        elif source is not None:
            dom.append("QS"), var.append("QSDTC"), seq.append(source)
        else:
            dom.append("ADSL"), var.append("TRTSDT"), seq.append(np.nan)
    index = adtte.index
    return {"SRCDOM": pd.Series(dom, index=index, dtype=object), "SRCVAR": pd.Series(var, index=index, dtype=object),
            "SRCSEQ": pd.Series(seq, index=index, dtype="float64")}

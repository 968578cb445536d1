"""R11 ADAE - treatment-emergent adverse events (derivations.md R11).

Input: SDTM AE records (AESTDTC as collected, possibly partial) and each subject's TRTSDT /
TRTEDT (ADSL: first / last infusion given). The TEAE window after the last infusion is the
rule parameter `teae_window_days` (Study.rules, default 28).
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from datetime import date, timedelta

import numpy as np
import pandas as pd

from sdtm_lupus.adam.rules.tables import as_date, assert_columns

# R11.3: AEREL terms counted as related (AEREL codelist of specs/ct, upper case).
RELATED_TERMS = frozenset({"RELATED", "PROBABLY RELATED", "POSSIBLY RELATED"})


def compute_start_date(iso: object, trtsdt: date | None) -> tuple[date | None, str | None]:
    """R11.1: (ASTDT, ASTDTF) of one AESTDTC. A complete date is taken as is (flag None); a partial
    start goes to the first day of its known period ("D": day imputed, "M": month and day), or to
    TRTSDT when TRTSDT falls inside that period; a fully unknown or missing start gives (None, None)."""
    if not isinstance(iso, str) or len(iso) < 4 or not iso[:4].isdigit():
        return None, None
    if len(iso) >= 10:
        return date.fromisoformat(iso[:10]), None
    year = int(iso[:4])
    if len(iso) >= 7 and iso[5:7].isdigit():
        month = int(iso[5:7])
        first, last, flag = date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1]), "D"
    else:
        first, last, flag = date(year, 1, 1), date(year, 12, 31), "M"
    if trtsdt is not None and first <= trtsdt <= last:
        return trtsdt, flag
    return first, flag


def derive_var_astdt(ae: pd.DataFrame, trtsdt_by_subject: Mapping[str, date | None] | pd.Series,
                     ) -> tuple[pd.Series, pd.Series]:
    """R11.1 over AE records: (ASTDT, ASTDTF), aligned to `ae`'s index."""
    assert_columns(ae, ["USUBJID", "AESTDTC"], "derive_var_astdt")
    pairs = [compute_start_date(s, as_date(trtsdt_by_subject.get(u))) for u, s in zip(ae["USUBJID"], ae["AESTDTC"])]
    return (pd.Series([p[0] for p in pairs], index=ae.index, dtype=object, name="ASTDT"),
            pd.Series([p[1] for p in pairs], index=ae.index, dtype=object, name="ASTDTF"))


def derive_var_trtemfl(astdt: pd.Series, trtsdt: pd.Series, trtedt: pd.Series, window_days: int) -> pd.Series:
    """R11.2: "Y" when TRTSDT <= ASTDT <= TRTEDT + window_days, or ASTDT is missing; None for a subject
    never treated (no TRTSDT) and for events outside the window. A treated subject without TRTEDT
    (the last infusion unknown) has no upper bound."""
    if not (astdt.index.equals(trtsdt.index) and astdt.index.equals(trtedt.index)):
        raise ValueError("derive_var_trtemfl: astdt, trtsdt and trtedt must share one index")
    window = timedelta(days=int(window_days))
    out = []
    for start, first, last in zip(astdt, trtsdt, trtedt):
        first, last, start = as_date(first), as_date(last), as_date(start)
        if first is None:
            out.append(None)
        elif start is None:
            out.append("Y")
        else:
            out.append("Y" if first <= start and (last is None or start <= last + window) else None)
    return pd.Series(out, index=astdt.index, dtype=object, name="TRTEMFL")


def derive_var_arel(aerel: pd.Series) -> pd.Series:
    """R11.3: RELATED for Related / Probably related / Possibly related (any case), NOT RELATED for any
    other collected causality; missing when none was collected."""
    text = aerel.astype(object).where(aerel.notna(), None)
    return pd.Series([None if not isinstance(v, str) or not v.strip() else
                      ("RELATED" if v.strip().upper() in RELATED_TERMS else "NOT RELATED") for v in text],
                     index=aerel.index, dtype=object, name="AREL")


def derive_var_atoxgr(aetoxgr: pd.Series) -> tuple[pd.Series, pd.Series]:
    """R11.3: (ATOXGR, ATOXGRN) = the CTCAE v4.0 grade as collected (AETOXGR "1".."5"), text and number."""
    text = aetoxgr.astype(object).where(aetoxgr.notna(), None)
    grade = pd.Series([str(v).strip() if v is not None and str(v).strip() else None for v in text], index=aetoxgr.index,
                      dtype=object, name="ATOXGR")
    number = pd.to_numeric(grade, errors="coerce").astype("float64").rename("ATOXGRN")
    return grade.where(number.notna(), None), number


def derive_var_slehosfl(aeshosp: pd.Series, aesle: pd.Series) -> pd.Series:
    """SLE-related hospitalisation: "Y" when the event required or prolonged hospitalisation (AESHOSP)
    and the investigator marked it an SLE disease-activity manifestation (SUPPAE AESLEACT); "N" when
    not hospitalised, or hospitalised for an event not marked SLE-related; missing when unknown."""
    hosp, sle = aeshosp.astype(object), aesle.astype(object)
    yes = hosp.eq("Y") & sle.eq("Y")
    no = hosp.eq("N") | hosp.eq("Y") & sle.eq("N")
    return pd.Series(np.select([yes, no], ["Y", "N"], None), index=aeshosp.index, dtype=object, name="SLEHOSFL")

"""R8 ADSL derivations (docs/derivations.md R8), one small pure function per variable.

Each function takes the columns it needs (asserted), returns a Series aligned to its input
and never re-sorts it. adam/adsl.py assembles ADSL from them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
import pandas as pd

from sdtm_lupus.adam.rules.tables import as_date_or_none, assert_columns

# R8 BSEROFL: the test and the side of its normal range (LBNRIND) that counts.
SEROLOGY = {"DDNAIGAB": "HIGH", "C3": "LOW", "C4": "LOW"}
DAYS_PER_YEAR = 365.25          # R8 SLEDURY
AGE_CUT = 40                    # R8 AGEGR1: <40, >=40
SLEDUR_CUT = 5                  # R8 SLEDURGR: <5, >=5 years
BSLED_CUT = 4                   # R8 BSLEDGR: <=4, >4
BPRED_CUT = 7.5                 # R8 BPREDGR: <=7.5, >7.5 mg/day
BPGA_CUT = 1.0                  # BPGAGR1: <1.0, >=1.0


def _iso_date(value) -> date | None:
    """A complete ISO date (or datetime) text -> date; partial, missing or not text -> None."""
    return date.fromisoformat(value[:10]) if isinstance(value, str) and len(value) >= 10 else None


def compute_group(values: pd.Series, cut: float, low_label: str, high_label: str, low_inclusive: bool) -> pd.Series:
    """Two subgroups split at `cut` (`low_inclusive`: the cut itself is in the low group); missing stays missing."""
    values = pd.to_numeric(values, errors="coerce")
    low = values <= cut if low_inclusive else values < cut
    return pd.Series(np.where(values.isna(), None, np.where(low, low_label, high_label)), index=values.index,
                     dtype=object)


def derive_var_agegr1(age: pd.Series) -> pd.Series:
    """R8 AGEGR1: AGE < 40 -> '<40', AGE >= 40 -> '>=40'."""
    return compute_group(age, AGE_CUT, "<40", ">=40", low_inclusive=False).rename("AGEGR1")


def derive_var_sledurgr(sledury: pd.Series) -> pd.Series:
    """R8 SLEDURGR: SLEDURY < 5 -> '<5', else '>=5'."""
    return compute_group(sledury, SLEDUR_CUT, "<5", ">=5", low_inclusive=False).rename("SLEDURGR")


def derive_var_bsledgr(bsledai: pd.Series) -> pd.Series:
    """R8 BSLEDGR: BSLEDAI <= 4 -> '<=4', else '>4'."""
    return compute_group(bsledai, BSLED_CUT, "<=4", ">4", low_inclusive=True).rename("BSLEDGR")


def derive_var_bpredgr(bpred: pd.Series) -> pd.Series:
    """R8 BPREDGR: BPRED <= 7.5 -> '<=7.5', else '>7.5'."""
    return compute_group(bpred, BPRED_CUT, "<=7.5", ">7.5", low_inclusive=True).rename("BPREDGR")


def derive_var_bpgagr1(bpga: pd.Series) -> pd.Series:
    """BPGAGR1: BPGA < 1.0 -> '<1.0', else '>=1.0'."""
    return compute_group(bpga, BPGA_CUT, "<1.0", ">=1.0", low_inclusive=False).rename("BPGAGR1")


def compute_sle_duration(diag_iso, consent_iso) -> float | None:
    """R8 SLEDURY: (CONSDAT - DIAGDAT) days / 365.25, one decimal; a partial DIAGDAT is imputed
    to the 1st of its month, or 1 July when only the year is known; missing -> None."""
    consent = _iso_date(consent_iso)
    if not isinstance(diag_iso, str) or len(diag_iso) < 4 or consent is None:
        return None
    year = int(diag_iso[:4])
    if len(diag_iso) >= 10:
        diag = date.fromisoformat(diag_iso[:10])
    elif len(diag_iso) >= 7:
        diag = date(year, int(diag_iso[5:7]), 1)
    else:
        diag = date(year, 7, 1)
    return round((consent - diag).days / DAYS_PER_YEAR, 1)


def derive_var_sledury(diag: pd.Series, consent: pd.Series) -> pd.Series:
    """R8 SLEDURY per subject (compute_sle_duration), float with NaN for missing."""
    if not diag.index.equals(consent.index):
        raise ValueError("derive_var_sledury: diag and consent must share one index")
    return pd.Series([compute_sle_duration(d, c) for d, c in zip(diag, consent)], index=diag.index,
                     dtype="float64", name="SLEDURY")


def derive_var_fasfl(subjects: pd.DataFrame, occasions: pd.DataFrame) -> pd.Series:
    """R8 FASFL: 'Y' when ITTFL = 'Y' and the subject has at least one post-baseline SELENA-SLEDAI
    occasion (study day ADY > 1; a day-1 occasion is baseline, not post-baseline) with a total; else 'N'.

    subjects: USUBJID, ITTFL; occasions: USUBJID, ADY, SLEDAI.
    """
    assert_columns(subjects, ("USUBJID", "ITTFL"), "derive_var_fasfl subjects")
    assert_columns(occasions, ("USUBJID", "ADY", "SLEDAI"), "derive_var_fasfl occasions")
    ady = pd.to_numeric(occasions["ADY"], errors="coerce").astype("float64")
    post = set(occasions.loc[(ady > 1).to_numpy() & occasions["SLEDAI"].notna().to_numpy(), "USUBJID"])
    ok = subjects["USUBJID"].isin(post) & subjects["ITTFL"].eq("Y")
    return pd.Series(np.where(ok, "Y", "N"), index=subjects.index, dtype=object, name="FASFL")


def derive_var_bserofl(subjects: pd.DataFrame, lab: pd.DataFrame) -> pd.Series:
    """R8 BSEROFL: 'Y' when, on the last result dated on or before day 1 (per test), anti-dsDNA
    (DDNAIGAB) is HIGH or C3 or C4 is LOW (LBNRIND); 'N' when one of them was tested and none
    is; None when none was tested. A HIGH C3 or a LOW anti-dsDNA does not count.

    subjects: USUBJID, TRTSDT; lab: USUBJID, LBTESTCD, LBNRIND, LBDTC, LBSEQ.
    """
    assert_columns(subjects, ("USUBJID", "TRTSDT"), "derive_var_bserofl subjects")
    if lab is None or lab.empty:
        return pd.Series(None, index=subjects.index, dtype=object, name="BSEROFL")
    assert_columns(lab, ("USUBJID", "LBTESTCD", "LBNRIND", "LBDTC", "LBSEQ"), "derive_var_bserofl lab")
    day1 = dict(zip(subjects["USUBJID"], subjects["TRTSDT"].map(as_date_or_none)))
    recs = lab[lab["LBTESTCD"].isin(list(SEROLOGY)) & lab["LBNRIND"].notna()]
    dates = recs["LBDTC"].map(_iso_date)
    limit = [day1.get(u) for u in recs["USUBJID"]]
    keep = [d is not None and d1 is not None and d <= d1 for d, d1 in zip(dates, limit)]
    recs = recs.assign(DATE=dates)[keep]
    last = recs.sort_values(["USUBJID", "LBTESTCD", "DATE", "LBSEQ"], kind="stable").groupby(
        ["USUBJID", "LBTESTCD"]).tail(1)
    positive = last[[SEROLOGY[t] == ind for t, ind in zip(last["LBTESTCD"], last["LBNRIND"])]]
    tested, positives = set(last["USUBJID"]), set(positive["USUBJID"])
    return pd.Series(["Y" if u in positives else ("N" if u in tested else None) for u in subjects["USUBJID"]],
                     index=subjects.index, dtype=object, name="BSEROFL")


def derive_var_trtn(trt: pd.Series, arms: Sequence[str]) -> pd.Series:
    """TRT01PN / TRT01AN: the 1-based position of the arm in the study configuration's `arms`
    (studies/<study>.yaml order); NaN for a treatment that is not a configured arm."""
    number = {arm: float(k) for k, arm in enumerate(arms, start=1)}
    return pd.Series([number.get(t, np.nan) for t in trt], index=trt.index, dtype="float64")

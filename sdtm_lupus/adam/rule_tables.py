"""SDTM datasets -> the rule input tables of adam/rules/tables.py (SUBJECTS, MEDS, WEIGHTS, EVENTS).

ADaM is derived from SDTM only. Reference data used here: the prednisone equivalents of
specs/clinical-constants.yaml (R3.3, by CMDECOD), passed in by the caller.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from datetime import date

import pandas as pd


def to_date(iso) -> date | None:
    """A complete ISO date/datetime -> date; partial or missing -> None."""
    return date.fromisoformat(iso[:10]) if isinstance(iso, str) and len(iso) >= 10 else None


def impute_start(iso) -> date | None:
    """Partial start -> first day of its known period; fully unknown -> None (before the study)."""
    if not isinstance(iso, str) or len(iso) < 4:
        return None
    if len(iso) >= 10:
        return date.fromisoformat(iso[:10])
    if len(iso) >= 7:
        return date(int(iso[:4]), int(iso[5:7]), 1)
    return date(int(iso[:4]), 1, 1)


def impute_end(iso) -> date | None:
    """Partial end -> last day of its known period; missing -> None (ongoing)."""
    if not isinstance(iso, str) or len(iso) < 4:
        return None
    if len(iso) >= 10:
        return date.fromisoformat(iso[:10])
    y = int(iso[:4])
    if len(iso) >= 7:
        m = int(iso[5:7])
        return date(y, m, calendar.monthrange(y, m)[1])
    return date(y, 12, 31)


def _col(df: pd.DataFrame | None, name: str) -> pd.Series:
    if df is None or name not in df:
        return pd.Series([None] * (0 if df is None else len(df)), index=None if df is None else df.index, dtype=object)
    return df[name]


def build_subjects(sdtm: dict[str, pd.DataFrame]) -> pd.DataFrame:
    dm = sdtm["DM"]
    subjects = pd.DataFrame({"USUBJID": dm["USUBJID"].to_numpy()})
    subjects["TRTSDT"] = [to_date(v) for v in dm["RFXSTDTC"]]
    subjects["TRTEDT"] = [to_date(v) for v in dm["RFXENDTC"]]
    ds = sdtm.get("DS")
    if ds is not None and len(ds):
        events = ds[ds["DSCAT"].eq("DISPOSITION EVENT")].drop_duplicates("USUBJID", keep="last").set_index("USUBJID")
        subjects["DSDECOD"] = subjects["USUBJID"].map(events["DSDECOD"])
        subjects["DSSTDT"] = subjects["USUBJID"].map(events["DSSTDTC"]).map(to_date)
    else:
        subjects["DSDECOD"], subjects["DSSTDT"] = None, None
    weights = build_weights(sdtm)
    screening = weights.loc[weights["SCREENING"].astype(bool)].drop_duplicates("USUBJID", keep="last").set_index("USUBJID")
    subjects["SCRWEIGHT"] = subjects["USUBJID"].map(screening["WEIGHT"])
    return subjects


def build_weights(sdtm: dict[str, pd.DataFrame]) -> pd.DataFrame:
    vs = sdtm.get("VS")
    if vs is None or not len(vs):
        return pd.DataFrame({"USUBJID": pd.Series(dtype=object), "DATE": pd.Series(dtype=object),
                             "WEIGHT": pd.Series(dtype=float), "SCREENING": pd.Series(dtype=bool)})
    w = vs[vs["VSTESTCD"].eq("WEIGHT") & vs["VSSTRESN"].notna()]
    out = pd.DataFrame({"USUBJID": w["USUBJID"].to_numpy(), "DATE": [to_date(v) for v in w["VSDTC"]],
                        "WEIGHT": w["VSSTRESN"].to_numpy(dtype=float),
                        "SCREENING": _col(w, "VISIT").eq("SCREENING").to_numpy(dtype=bool)})
    return out[out["DATE"].notna() | out["SCREENING"]].reset_index(drop=True)


def build_meds(sdtm: dict[str, pd.DataFrame], prednisone_equivalents: Mapping[str, float]) -> pd.DataFrame:
    """MEDS: the CM records with PREDFACT (R3.3 factor of their CMDECOD) and imputed dates."""
    cm = sdtm.get("CM")
    columns = ["USUBJID", "CMSEQ", "CMDECOD", "CMCLAS", "CMINDC", "CMDOSE", "CMDOSFRQ", "PREDFACT", "STARTDT",
               "ENDDT"]
    if cm is None or not len(cm):
        return pd.DataFrame(columns=columns)
    factors = dict(prednisone_equivalents)
    meds = cm[["USUBJID", "CMSEQ", "CMDECOD", "CMCLAS", "CMINDC", "CMDOSE", "CMDOSFRQ"]].copy()
    meds["PREDFACT"] = meds["CMDECOD"].map(factors)
    meds["STARTDT"] = [impute_start(v) for v in cm["CMSTDTC"]]
    meds["ENDDT"] = [impute_end(v) for v in cm["CMENDTC"]]
    return meds[columns].reset_index(drop=True)


def build_events(sdtm: dict[str, pd.DataFrame]) -> pd.DataFrame:
    ae = sdtm.get("AE")
    if ae is None or not len(ae):
        return pd.DataFrame(columns=["USUBJID", "AESEQ", "AESTDT", "AESHOSP", "AESLE"])
    events = pd.DataFrame({"USUBJID": ae["USUBJID"].to_numpy(), "AESEQ": ae["AESEQ"].to_numpy(),
                           "AESTDT": [to_date(v) for v in ae["AESTDTC"]], "AESHOSP": _col(ae, "AESHOSP").to_numpy()})
    supp = sdtm.get("SUPPAE")
    sle = {}
    if supp is not None and len(supp):
        rows = supp[supp["QNAM"].eq("AESLEACT")]
        sle = {(u, float(s)): v for u, s, v in zip(rows["USUBJID"], rows["IDVARVAL"], rows["QVAL"])}
    events["AESLE"] = [sle.get((u, float(s))) for u, s in zip(events["USUBJID"], events["AESEQ"])]
    return events

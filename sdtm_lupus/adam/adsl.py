"""ADSL: one record per subject assigned to an arm (derivations.md R8)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from sdtm_lupus.adam.rule_tables import to_date
from sdtm_lupus.adam.rules.baseline import compute_baseline_values
from sdtm_lupus.adam.rules.bilag import BILAG_SYSTEMS
from sdtm_lupus.adam.rules.lldas import derive_var_blldasfl
from sdtm_lupus.adam.rules.steroid_dose import compute_weight, derive_var_bpred

# Baseline serology (R8 BSEROFL): the test and the side of its normal range that counts.
SEROLOGY = {"DDNAIGAB": "HIGH", "C3": "LOW", "C4": "LOW"}


def compute_sle_duration(diag_iso, consent_iso) -> float | None:
    """R8 SLEDURY: (CONSDAT - DIAGDAT) / 365.25, one decimal; partial DIAGDAT -> 1st of its
    month, or 1 July when only the year is known."""
    consent = to_date(consent_iso)
    if not isinstance(diag_iso, str) or len(diag_iso) < 4 or consent is None:
        return None
    year = int(diag_iso[:4])
    if len(diag_iso) >= 10:
        diag = date.fromisoformat(diag_iso[:10])
    elif len(diag_iso) >= 7:
        diag = date(year, int(diag_iso[5:7]), 1)
    else:
        diag = date(year, 7, 1)
    return round((consent - diag).days / 365.25, 1)


def group(values: pd.Series, cut: float, low_label: str, high_label: str, low_inclusive: bool) -> pd.Series:
    """Two subgroups split at `cut`; missing stays missing."""
    low = values <= cut if low_inclusive else values < cut
    return pd.Series(np.where(values.isna(), None, np.where(low, low_label, high_label)), index=values.index,
                     dtype=object)


def derive_var_bserofl(subjects: pd.DataFrame, lb: pd.DataFrame | None) -> pd.Series:
    """R8 BSEROFL: anti-dsDNA above ULN, or C3 or C4 below LLN, on the last result on or before day 1."""
    if lb is None or lb.empty:
        return pd.Series(None, index=subjects.index, dtype=object)
    trtsdt = subjects.set_index("USUBJID")["TRTSDT"]
    recs = lb[lb["LBTESTCD"].isin(list(SEROLOGY)) & lb["LBNRIND"].notna()].copy()
    recs["DATE"] = recs["LBDTC"].map(to_date)
    recs["DAY1"] = recs["USUBJID"].map(trtsdt)
    recs = recs[recs["DATE"].notna() & recs["DAY1"].notna()]
    recs = recs[[d <= d1 for d, d1 in zip(recs["DATE"], recs["DAY1"])]]
    last = recs.sort_values(["USUBJID", "LBTESTCD", "DATE", "LBSEQ"]).groupby(["USUBJID", "LBTESTCD"]).tail(1)
    positive = last[[SEROLOGY[t] == ind for t, ind in zip(last["LBTESTCD"], last["LBNRIND"])]]
    tested, positives = set(last["USUBJID"]), set(positive["USUBJID"])
    return subjects["USUBJID"].map(lambda u: "Y" if u in positives else ("N" if u in tested else None))


def build_adsl(sdtm: dict[str, pd.DataFrame], subjects: pd.DataFrame, occ: pd.DataFrame, meds: pd.DataFrame,
               weights: pd.DataFrame) -> pd.DataFrame:
    dm = sdtm["DM"]
    assigned = dm["ARMCD"].notna()
    adsl = dm.loc[assigned, ["STUDYID", "USUBJID", "SUBJID", "SITEID", "AGE", "AGEU", "SEX", "RACE", "ETHNIC",
                             "COUNTRY", "ARMCD", "ARM", "ACTARMCD", "ACTARM", "DTHFL"]].reset_index(drop=True)
    subj = subjects.set_index("USUBJID").reindex(adsl["USUBJID"])
    adsl["AGEGR1"] = group(adsl["AGE"], 40, "<40", ">=40", low_inclusive=False)
    adsl["TRT01P"] = adsl["ARM"]
    adsl["TRT01A"] = adsl["ACTARM"]
    adsl["RANDDT"] = _randomisation_dates(sdtm.get("DS"), adsl["USUBJID"])
    adsl["TRTSDT"] = subj["TRTSDT"].to_numpy()
    adsl["TRTEDT"] = subj["TRTEDT"].to_numpy()
    adsl["ITTFL"] = "Y"                     # assigned to an arm: randomised / enrolled and eligible
    adsl["SAFFL"] = np.where(adsl["TRTSDT"].notna(), "Y", "N")
    post = occ[occ["ADY"].astype("float64") > 1].groupby("USUBJID").size()
    adsl["FASFL"] = np.where(adsl["USUBJID"].map(post).fillna(0).gt(0) & adsl["ITTFL"].eq("Y"), "Y", "N")
    dsdecod = subj["DSDECOD"].to_numpy()
    adsl["EOSSTT"] = [None if d is None or (isinstance(d, float)) else ("COMPLETED" if d == "COMPLETED"
                      else "DISCONTINUED") for d in dsdecod]
    adsl["EOSSTT"] = adsl["EOSSTT"].fillna("ONGOING")
    adsl["EOSDT"] = subj["DSSTDT"].to_numpy()
    adsl["DCSREAS"] = [d if isinstance(d, str) and d != "COMPLETED" else None for d in dsdecod]

    queries = pd.DataFrame({"USUBJID": adsl["USUBJID"], "DATE": adsl["TRTSDT"]})
    adsl["BWEIGHT"] = compute_weight(weights, queries) if len(weights) else np.nan
    mh = sdtm.get("MH")
    diag = {} if mh is None or mh.empty else mh.drop_duplicates("USUBJID").set_index("USUBJID")["MHSTDTC"].to_dict()
    consent = dm.set_index("USUBJID")["RFICDTC"]
    adsl["SLEDURY"] = [compute_sle_duration(diag.get(u), consent.get(u)) for u in adsl["USUBJID"]]
    adsl["SLEDURGR"] = group(pd.to_numeric(adsl["SLEDURY"]), 5, "<5", ">=5", low_inclusive=False)

    base = compute_baseline_values(occ, occ["ABLFL_SLEDAI"], ["SLEDAI"])["SLEDAI"]
    adsl["BSLEDAI"] = adsl["USUBJID"].map(base).astype("float64")
    adsl["BSLEDGR"] = group(adsl["BSLEDAI"], 4, "<=4", ">4", low_inclusive=True)
    pga = compute_baseline_values(occ, occ["ABLFL_PGA"], ["PGA10"])["PGA10"]
    adsl["BPGA"] = adsl["USUBJID"].map(pga).astype("float64") / 10
    adsl["BPGAGR1"] = group(adsl["BPGA"], 1.0, "<1.0", ">=1.0", low_inclusive=False)
    bil = compute_baseline_values(occ, occ["ABLFL_BILAG"], list(BILAG_SYSTEMS))
    any_b = bil.eq("B").any(axis=1).where(bil.notna().all(axis=1))
    adsl["BBILBFL"] = adsl["USUBJID"].map(any_b).map({True: "Y", False: "N"})
    adsl["BPRED"] = derive_var_bpred(adsl.assign(TRTSDT=adsl["TRTSDT"]), meds).to_numpy()
    adsl["BPREDGR"] = group(adsl["BPRED"], 7.5, "<=7.5", ">7.5", low_inclusive=True)
    adsl["BSEROFL"] = derive_var_bserofl(adsl, sdtm.get("LB")).to_numpy()
    bll = derive_var_blldasfl(occ, occ["ABLFL_SLEDAI"])
    by_subject = pd.Series(bll[bll.notna()].to_numpy(), index=occ.loc[bll.notna(), "USUBJID"].to_numpy())
    adsl["BLLDASFL"] = adsl["USUBJID"].map(by_subject)
    return adsl


def _randomisation_dates(ds: pd.DataFrame | None, usubjid: pd.Series) -> list:
    """RANDDT from the DS protocol milestone RANDOMIZED, when the study collects it."""
    if ds is None or ds.empty:
        return [None] * len(usubjid)
    rand = ds[ds["DSDECOD"].eq("RANDOMIZED")].drop_duplicates("USUBJID").set_index("USUBJID")["DSSTDTC"]
    return [to_date(rand.get(u)) for u in usubjid]

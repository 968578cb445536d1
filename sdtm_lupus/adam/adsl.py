"""ADSL: one record per subject assigned to an arm (derivations.md R8)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sdtm_lupus.adam.rule_tables import to_date
from sdtm_lupus.adam.rules.adsl import (
    derive_var_agegr1,
    derive_var_bpgagr1,
    derive_var_bpredgr,
    derive_var_bserofl,
    derive_var_bsledgr,
    derive_var_fasfl,
    derive_var_sledurgr,
    derive_var_sledury,
    derive_var_trtn,
)
from sdtm_lupus.adam.rules.baseline import compute_baseline_values
from sdtm_lupus.adam.rules.bilag import BILAG_SYSTEMS
from sdtm_lupus.adam.rules.lldas import derive_var_blldasfl
from sdtm_lupus.adam.rules.steroid_dose import compute_weight, derive_var_bpred


def build_adsl(sdtm: dict[str, pd.DataFrame], subjects: pd.DataFrame, occ: pd.DataFrame, meds: pd.DataFrame,
               weights: pd.DataFrame, arms: Sequence[str] = ()) -> pd.DataFrame:
    """ADSL (R8) from SDTM DM/DS/MH/LB and the rule tables; `arms`: the study's arms in
    configuration order (TRT01PN / TRT01AN)."""
    dm = sdtm["DM"]
    assigned = dm["ARMCD"].notna()
    adsl = dm.loc[assigned, ["STUDYID", "USUBJID", "SUBJID", "SITEID", "AGE", "AGEU", "SEX", "RACE", "ETHNIC",
                             "COUNTRY", "ARMCD", "ARM", "ACTARMCD", "ACTARM", "DTHFL"]].reset_index(drop=True)
    subj = subjects.set_index("USUBJID").reindex(adsl["USUBJID"])
    adsl["AGEGR1"] = derive_var_agegr1(adsl["AGE"]).to_numpy()
    adsl["TRT01P"] = adsl["ARM"]
    adsl["TRT01PN"] = derive_var_trtn(adsl["TRT01P"], arms).to_numpy()
    adsl["TRT01A"] = adsl["ACTARM"]
    adsl["TRT01AN"] = derive_var_trtn(adsl["TRT01A"], arms).to_numpy()
    adsl["RANDDT"] = _randomisation_dates(sdtm.get("DS"), adsl["USUBJID"])
    adsl["TRTSDT"] = subj["TRTSDT"].to_numpy()
    adsl["TRTEDT"] = subj["TRTEDT"].to_numpy()
    adsl["ITTFL"] = "Y"                     # assigned to an arm: randomised / enrolled and eligible
    adsl["SAFFL"] = np.where(adsl["TRTSDT"].notna(), "Y", "N")
    adsl["FASFL"] = derive_var_fasfl(adsl, occ).to_numpy()
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
    adsl["SLEDURY"] = derive_var_sledury(adsl["USUBJID"].map(diag), adsl["USUBJID"].map(consent)).to_numpy()
    adsl["SLEDURGR"] = derive_var_sledurgr(adsl["SLEDURY"]).to_numpy()

    base = compute_baseline_values(occ, occ["ABLFL_SLEDAI"], ["SLEDAI"])["SLEDAI"]
    adsl["BSLEDAI"] = adsl["USUBJID"].map(base).astype("float64")
    adsl["BSLEDGR"] = derive_var_bsledgr(adsl["BSLEDAI"]).to_numpy()
    pga = compute_baseline_values(occ, occ["ABLFL_PGA"], ["PGA10"])["PGA10"]
    adsl["BPGA"] = adsl["USUBJID"].map(pga).astype("float64") / 10
    adsl["BPGAGR1"] = derive_var_bpgagr1(adsl["BPGA"]).to_numpy()
    bil = compute_baseline_values(occ, occ["ABLFL_BILAG"], list(BILAG_SYSTEMS))
    any_b = bil.eq("B").any(axis=1).where(bil.notna().all(axis=1))
    adsl["BBILBFL"] = adsl["USUBJID"].map(any_b).map({True: "Y", False: "N"})
    adsl["BPRED"] = derive_var_bpred(adsl.assign(TRTSDT=adsl["TRTSDT"]), meds).to_numpy()
    adsl["BPREDGR"] = derive_var_bpredgr(adsl["BPRED"]).to_numpy()
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

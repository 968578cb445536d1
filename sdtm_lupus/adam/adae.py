"""ADAE: one record per SDTM AE record of an ADSL subject (derivations.md R11), and the safety summary."""

from __future__ import annotations

from datetime import date

import pandas as pd

from sdtm_lupus.adam.rules.ae import derive_var_arel, derive_var_astdt, derive_var_atoxgr, derive_var_slehosfl, derive_var_trtemfl
from sdtm_lupus.adam.rules.occasions import compute_study_day
from sdtm_lupus.adam.rules.tables import as_date
from sdtm_lupus.config.study import RuleParameters

AE_VARIABLES = ("AESEQ", "AESPID", "AETERM", "AEDECOD", "AEBODSYS", "AESOC", "AESTDTC", "AEENDTC", "AESER", "AEACN",
                "AEREL", "AEOUT", "AESHOSP", "AETOXGR")
GRADES = ("1", "2", "3", "4", "5")
DISCONTINUED = "DRUG WITHDRAWN"      # AEACN: the event led to discontinuation of study treatment
FATAL = "FATAL"                      # AEOUT


def _supp_values(supp: pd.DataFrame | None, qnam: str) -> dict[tuple[str, float], str]:
    if supp is None or supp.empty:
        return {}
    rows = supp[supp["QNAM"].eq(qnam)]
    return {(u, float(s)): v for u, s, v in zip(rows["USUBJID"], rows["IDVARVAL"], rows["QVAL"])}


def build_adae(ae: pd.DataFrame | None, supp: pd.DataFrame | None, adsl: pd.DataFrame,
               params: RuleParameters) -> pd.DataFrame:
    """ADAE records of the ADSL subjects (unsorted; derive.finish sorts them)."""
    if ae is None or ae.empty:
        return pd.DataFrame()
    ae = ae[ae["USUBJID"].isin(adsl["USUBJID"])]
    out = ae[[c for c in AE_VARIABLES if c in ae]].copy()
    out.insert(0, "USUBJID", ae["USUBJID"])
    subject = adsl.set_index("USUBJID")
    trtsdt = ae["USUBJID"].map(subject["TRTSDT"]).astype(object)
    trtedt = ae["USUBJID"].map(subject["TRTEDT"]).astype(object)
    out["TRTSDT"], out["TRTEDT"] = trtsdt, trtedt
    out["ASTDT"], out["ASTDTF"] = derive_var_astdt(ae, subject["TRTSDT"])
    out["ASTDY"] = [compute_study_day(as_date(d), as_date(t)) for d, t in zip(out["ASTDT"], trtsdt)]
    out["AENDT"] = [date.fromisoformat(v[:10]) if isinstance(v, str) and len(v) >= 10 else None for v in ae["AEENDTC"]]
    out["TRTEMFL"] = derive_var_trtemfl(out["ASTDT"], trtsdt, trtedt, params.teae_window_days)
    out["ATOXGR"], out["ATOXGRN"] = derive_var_atoxgr(ae["AETOXGR"])
    out["AREL"] = derive_var_arel(ae["AEREL"])
    sle = _supp_values(supp, "AESLEACT")
    out["AESLEFL"] = [sle.get((u, float(s))) for u, s in zip(ae["USUBJID"], ae["AESEQ"])]
    out["SLEHOSFL"] = derive_var_slehosfl(ae["AESHOSP"], out["AESLEFL"])
    return out


def safety_summary(adsl: pd.DataFrame, adae: pd.DataFrame, window_days: int) -> dict:
    """Subjects with treatment-emergent AEs by actual arm (safety set, counts only): any TEAE, by worst
    CTCAE grade, related, serious, leading to discontinuation, fatal, SLE-related hospitalisation."""
    out: dict = {"population": "SAFFL = Y", "teae_window_days": int(window_days), "by_arm": {}}
    safety = adsl[adsl["SAFFL"].eq("Y")]
    teae = adae[adae["TRTEMFL"].eq("Y")] if len(adae) else adae
    for arm, subjects in safety.groupby("TRT01A", sort=True):
        ids = set(subjects["USUBJID"])
        events = teae[teae["USUBJID"].isin(ids)] if len(teae) else teae

        def with_(mask) -> int:
            return int(events.loc[mask, "USUBJID"].nunique()) if len(events) else 0

        worst = events.groupby("USUBJID")["ATOXGRN"].max() if len(events) else pd.Series(dtype=float)
        by_grade = {g: int((worst == float(g)).sum()) for g in GRADES}
        by_grade["missing"] = int(worst.isna().sum())
        out["by_arm"][arm] = {
            "safety": len(ids), "events": len(events), "any_teae": with_(slice(None)),
            "worst_grade": by_grade,
            "related": with_(events["AREL"].eq("RELATED")) if len(events) else 0,
            "serious": with_(events["AESER"].eq("Y")) if len(events) else 0,
            "leading_to_discontinuation": with_(events["AEACN"].eq(DISCONTINUED)) if len(events) else 0,
            "fatal": with_(events["AEOUT"].eq(FATAL) | events["ATOXGRN"].eq(5)) if len(events) else 0,
            "sle_hospitalisation": with_(events["SLEHOSFL"].eq("Y")) if len(events) else 0,
        }
    return out

"""ADEFF: BDS records per subject x parameter x analysis visit (derivations.md R1-R7, R9)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd

from sdtm_lupus.adam.rules.baseline import compute_baseline_values, derive_var_ablfl
from sdtm_lupus.adam.rules.bilag import BILAG_SYSTEMS, compute_bilag_complete, compute_bilag_new
from sdtm_lupus.adam.rules.flares import derive_param_flare
from sdtm_lupus.adam.rules.lldas import derive_prev_descriptors, derive_var_lldas
from sdtm_lupus.adam.rules.sri import derive_param_sri, derive_param_sri_component
from sdtm_lupus.adam.rules.steroids import compute_pred_dose, compute_weight
from sdtm_lupus.adam.rules.subject_flags import derive_param_flare52, derive_param_pfree52
from sdtm_lupus.config.study import RuleParameters, Study

PARAMS = {
    "SLEDAI": "SELENA-SLEDAI Total Score",
    "PGA": "Physician's Global Assessment (0-3)",
    "BILNEWA": "Number of New BILAG A Organ Systems",
    "BILNEWB": "Number of New BILAG B Organ Systems",
    "PREDDOSE": "Prednisone-Equivalent Daily Dose (mg/day)",
    "LLDAS": "Lupus Low Disease Activity State",
}
BASELINE_VISIT = ("Baseline", 0.0)


def enrich_occasions(occ: pd.DataFrame, subjects: pd.DataFrame, meds: pd.DataFrame, weights: pd.DataFrame,
                     ) -> pd.DataFrame:
    """Occasions plus baseline flags per instrument, PRED and WEIGHT on the occasion date."""
    occ = occ.copy()
    trtsdt = subjects.set_index("USUBJID")["TRTSDT"]
    for instrument in ("SLEDAI", "PGA", "BILAG"):
        occ[f"ABLFL_{instrument}"] = derive_var_ablfl(occ, trtsdt, instrument)
    queries = pd.DataFrame({"USUBJID": occ["USUBJID"], "DATE": occ["ADT"]}, index=occ.index)
    occ["PRED"] = compute_pred_dose(meds, queries)
    occ["WEIGHT"] = compute_weight(weights, queries) if len(weights) else np.nan
    prev = derive_prev_descriptors(occ)
    occ = pd.concat([occ, prev], axis=1)
    occ["LLDAS"] = derive_var_lldas(occ)
    return occ


def _visit(occ: pd.DataFrame, ablfl: pd.Series) -> tuple[pd.Series, pd.Series]:
    """AVISIT/AVISITN: "Baseline" on the baseline occasion, else the by-visit AVISIT (R1.2)."""
    base = ablfl.eq("Y").fillna(False).astype(bool)
    avisit = occ["AVISIT"].astype(object).where(~base, BASELINE_VISIT[0])
    avisitn = occ["AVISITN"].astype("float64").where(~base, BASELINE_VISIT[1])
    return avisit, avisitn


def _continuous(occ: pd.DataFrame, paramcd: str, value: pd.Series, ablfl: pd.Series, srcvar: str | None,
                with_pchg: bool = False) -> pd.DataFrame:
    """One record per occasion with a value: AVAL, BASE (R2), CHG (PCHG); ABLFL on the baseline."""
    has = value.notna()
    base_by_subject = pd.Series(value[ablfl.eq("Y").fillna(False)].to_numpy(),
                                index=occ.loc[ablfl.eq("Y").fillna(False), "USUBJID"].to_numpy())
    base = occ["USUBJID"].map(base_by_subject).astype("float64")
    avisit, avisitn = _visit(occ, ablfl)
    post = occ["ADY"].astype("float64") > 1
    chg = (value - base).where(post)
    out = pd.DataFrame({
        "USUBJID": occ["USUBJID"], "PARAMCD": paramcd, "PARAM": PARAMS[paramcd],
        "AVISIT": avisit, "AVISITN": avisitn, "ADT": occ["ADT"], "ADY": occ["ADY"].astype("float64"),
        "AVAL": value.astype("float64"), "AVALC": None, "BASE": base, "CHG": chg,
        "PCHG": (chg / base * 100).where(base.ne(0)) if with_pchg else np.nan,
        "ABLFL": ablfl.where(ablfl.eq("Y"), None), "ANL01FL": occ["ANL01FL"],
        "SRCDOM": "QS" if srcvar else "CM", "SRCVAR": srcvar, "SRCSEQ": occ["QSSEQ"] if srcvar else np.nan,
    })
    return out[has]


def param_by_occasion(occ: pd.DataFrame) -> list[pd.DataFrame]:
    out = [
        _continuous(occ, "SLEDAI", occ["SLEDAI"].astype("float64"), occ["ABLFL_SLEDAI"], "QSSTRESN", with_pchg=True),
        _continuous(occ, "PGA", occ["PGA10"].astype("float64") / 10, occ["ABLFL_PGA"], "QSSTRESN"),
        _continuous(occ, "PREDDOSE", occ["PRED"].astype("float64"), occ["ABLFL_SLEDAI"], None),
    ]
    grades = occ[list(BILAG_SYSTEMS)]
    base_values = compute_baseline_values(occ, occ["ABLFL_BILAG"], list(BILAG_SYSTEMS))
    base = base_values.reindex(occ["USUBJID"].to_numpy())[list(BILAG_SYSTEMS)]
    base.index = occ.index
    new = compute_bilag_new(grades, base)
    post = (occ["ADY"].astype("float64") > 1) & compute_bilag_complete(grades)
    avisit, avisitn = _visit(occ, occ["ABLFL_BILAG"])
    for code, col in (("BILNEWA", "BILNEWA"), ("BILNEWB", "BILNEWB")):
        frame = pd.DataFrame({"USUBJID": occ["USUBJID"], "PARAMCD": code, "PARAM": PARAMS[code],
                              "AVISIT": avisit, "AVISITN": avisitn, "ADT": occ["ADT"],
                              "ADY": occ["ADY"].astype("float64"), "AVAL": new[col].astype("float64"),
                              "ANL01FL": occ["ANL01FL"], "SRCDOM": "QS", "SRCVAR": "QSSTRESC",
                              "SRCSEQ": occ["QSSEQ"]})
        out.append(frame[post & new[col].notna()])
    lldas = occ["LLDAS"]
    out.append(pd.DataFrame({"USUBJID": occ["USUBJID"], "PARAMCD": "LLDAS", "PARAM": PARAMS["LLDAS"],
                             "AVISIT": occ["AVISIT"], "AVISITN": occ["AVISITN"].astype("float64"),
                             "ADT": occ["ADT"], "ADY": occ["ADY"].astype("float64"),
                             "AVALC": lldas, "AVAL": lldas.map({"Y": 1.0, "N": 0.0}),
                             "ANL01FL": occ["ANL01FL"], "SRCDOM": "QS", "SRCVAR": "QSSTRESC",
                             "SRCSEQ": occ["QSSEQ"]})[lldas.notna()])
    return out


def sri_rows(occ: pd.DataFrame, subjects: pd.DataFrame, study: Study, tfdt: pd.Series) -> pd.DataFrame:
    """The SRI input table (sri.py): FAS subject x scheduled post-baseline assessment visit."""
    fas = subjects[subjects["FASFL"].eq("Y")]
    visits = [v for v in study.visits if v.assessments and v.target_day > 1 and v.folder.startswith("WEEK ")]
    grades_ok = compute_bilag_complete(occ[list(BILAG_SYSTEMS)])
    base_sled = compute_baseline_values(occ, occ["ABLFL_SLEDAI"], ["SLEDAI"])["SLEDAI"]
    base_pga = compute_baseline_values(occ, occ["ABLFL_PGA"], ["PGA10"])["PGA10"]
    base_bil = compute_baseline_values(occ, occ["ABLFL_BILAG"], list(BILAG_SYSTEMS))
    analysed = occ[occ["ANL01FL"].eq("Y") & occ["SCHEDULED"]].set_index(["USUBJID", "FOLDER"])
    rows = []
    for subj in fas.itertuples(index=False):
        for v in visits:
            n = int(v.folder.split()[1])
            key = (subj.USUBJID, v.folder)
            hit = analysed.loc[key] if key in analysed.index else None
            row = {"USUBJID": subj.USUBJID, "AVISIT": f"Week {n}", "AVISITN": float(n),
                   "TARGETDT": subj.TRTSDT + timedelta(days=7 * n) if subj.TRTSDT else None,
                   "BASE_SLEDAI": base_sled.get(subj.USUBJID, np.nan),
                   "BASE_PGA10": base_pga.get(subj.USUBJID, pd.NA),
                   "BASE_BILAG_OK": bool(subj.USUBJID in base_bil.index
                                         and base_bil.loc[subj.USUBJID, list(BILAG_SYSTEMS)].notna().all()),
                   "TFDT": tfdt.get(subj.USUBJID), "DSDECOD": subj.DSDECOD, "DSSTDT": subj.DSSTDT,
                   "ADT": None, "SLEDAI": np.nan, "PGA10": pd.NA, "BILNEWA": np.nan, "BILNEWB": np.nan,
                   "BILEVAL": None, "QSSEQ": np.nan}
            if hit is not None:
                if isinstance(hit, pd.DataFrame):
                    hit = hit.iloc[-1]
                grades = pd.DataFrame([hit[list(BILAG_SYSTEMS)].to_dict()])
                base = pd.DataFrame([base_bil.loc[subj.USUBJID, list(BILAG_SYSTEMS)].to_dict()]) \
                    if subj.USUBJID in base_bil.index else pd.DataFrame([{s: None for s in BILAG_SYSTEMS}])
                new = compute_bilag_new(grades, base).iloc[0]
                row.update(ADT=hit["ADT"], SLEDAI=float(hit["SLEDAI"]), PGA10=hit["PGA10"],
                           BILNEWA=new["BILNEWA"], BILNEWB=new["BILNEWB"], BILEVAL=bool(new["BILEVAL"]),
                           QSSEQ=hit["QSSEQ"])
            rows.append(row)
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    frame["PGA10"] = pd.array(frame["PGA10"], dtype="Int64")
    frame["BASE_PGA10"] = pd.array(frame["BASE_PGA10"], dtype="Int64")
    del grades_ok
    return frame


def param_sri(rows: pd.DataFrame, params: RuleParameters) -> list[pd.DataFrame]:
    if rows.empty:
        return []
    out = []
    for code in ("SRI4SLED", "SRI4BILG", "SRI4PGA"):
        comp = derive_param_sri_component(rows, code, params)
        out.append(comp.assign(SRCDOM="QS", SRCVAR="QSSTRESN", SRCSEQ=rows.loc[comp.index, "QSSEQ"]))
    for k in range(4, 9):
        sri = derive_param_sri(rows, k, params)
        out.append(sri.assign(SRCDOM="QS", SRCVAR="QSSTRESN", SRCSEQ=rows.loc[sri.index, "QSSEQ"]))
    return out


def param_flares(occ: pd.DataFrame, subjects: pd.DataFrame, meds: pd.DataFrame, events: pd.DataFrame,
                 params: RuleParameters) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    fas = subjects[subjects["FASFL"].eq("Y")]
    fas_occ = occ[occ["USUBJID"].isin(fas["USUBJID"])]
    flares = derive_param_flare(fas_occ, fas, meds, events, params)
    records = flares.assign(
        AVISIT=fas_occ.loc[flares.index, "AVISIT"], AVISITN=fas_occ.loc[flares.index, "AVISITN"],
        ADY=fas_occ.loc[flares.index, "ADY"].astype("float64"), ANL01FL=None, CRITFL=flares["FLCRIT"],
        SRCDOM="QS", SRCVAR="QSSTRESC", SRCSEQ=fas_occ.loc[flares.index, "QSSEQ"])
    out = [records]
    flags = derive_param_flare52(flares, fas, params)
    out.append(flags)
    dose_on = (lambda q: compute_pred_dose(meds, q))
    out.append(derive_param_pfree52(fas_occ, flares, fas, dose_on, params))
    return flares, out

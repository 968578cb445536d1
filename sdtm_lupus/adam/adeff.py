"""ADEFF: BDS records per subject x parameter x analysis visit (derivations.md R1-R7, R9)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd

from sdtm_lupus.adam.rules.baseline import compute_baseline_values, derive_var_ablfl
from sdtm_lupus.adam.rules.bds import derive_var_chg, derive_var_pchg
from sdtm_lupus.adam.rules.bilag import BILAG_SYSTEMS, compute_bilag_complete, compute_bilag_new
from sdtm_lupus.adam.rules.flares import derive_param_flare
from sdtm_lupus.adam.rules.lldas import derive_prev_descriptors, derive_var_lldas
from sdtm_lupus.adam.rules.sri import derive_param_sri, derive_param_sri_component
from sdtm_lupus.adam.rules.steroid_dose import compute_pred_dose, compute_weight, derive_var_bpred
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
    chg = derive_var_chg(value, base, occ["ADY"])
    out = pd.DataFrame({
        "USUBJID": occ["USUBJID"], "PARAMCD": paramcd, "PARAM": PARAMS[paramcd],
        "AVISIT": avisit, "AVISITN": avisitn, "ADT": occ["ADT"], "ADY": occ["ADY"].astype("float64"),
        "AVAL": value.astype("float64"), "AVALC": None, "BASE": base, "CHG": chg,
        "PCHG": derive_var_pchg(chg, base) if with_pchg else np.nan,
        "ABLFL": ablfl.where(ablfl.eq("Y"), None), "ANL01FL": occ["ANL01FL"],
        "SRCDOM": "QS" if srcvar else "CM", "SRCVAR": srcvar, "SRCSEQ": occ["QSSEQ"] if srcvar else np.nan,
    })
    return out[has]


def compute_preddose_ablfl(occ: pd.DataFrame, subjects: pd.DataFrame) -> pd.Series:
    """R2.3: the PREDDOSE baseline is the daily dose on day 1, so its ABLFL record is the subject's
    occasion dated TRTSDT (the last one of that date), not the SLEDAI baseline occasion."""
    trtsdt = occ["USUBJID"].map(subjects.set_index("USUBJID")["TRTSDT"])
    on_day1 = pd.Series([d is not None and t is not None and not pd.isna(t) and d == t
                         for d, t in zip(occ["ADT"], trtsdt)], index=occ.index)
    ranked = occ[on_day1.to_numpy()].sort_values(["ADT", "OCC"], kind="stable")
    chosen = ranked.groupby("USUBJID", sort=False).tail(1).index
    return pd.Series(np.where(occ.index.isin(chosen), "Y", None), index=occ.index, dtype=object)


def _preddose(occ: pd.DataFrame, subjects: pd.DataFrame, meds: pd.DataFrame) -> list[pd.DataFrame]:
    """PREDDOSE per occasion with BASE = the day-1 dose (R2.3, as ADSL BPRED); a subject with no
    occasion dated day 1 gets a derived baseline record at TRTSDT (AVISIT Baseline, SRCDOM CM)."""
    ablfl = compute_preddose_ablfl(occ, subjects)
    day1 = subjects[subjects["USUBJID"].isin(occ["USUBJID"]) & subjects["TRTSDT"].notna()]
    missing = day1[~day1["USUBJID"].isin(occ.loc[ablfl.eq("Y"), "USUBJID"])]
    dose1 = pd.Series(derive_var_bpred(day1, meds).to_numpy(), index=day1["USUBJID"].to_numpy())
    value = occ["PRED"].astype("float64")
    records = _continuous(occ, "PREDDOSE", value, ablfl, None)
    records["BASE"] = records["USUBJID"].map(dose1).astype("float64")
    records["CHG"] = derive_var_chg(records["AVAL"], records["BASE"], records["ADY"])
    extra = pd.DataFrame({
        "USUBJID": missing["USUBJID"].to_numpy(dtype=object), "PARAMCD": "PREDDOSE", "PARAM": PARAMS["PREDDOSE"],
        "AVISIT": BASELINE_VISIT[0], "AVISITN": BASELINE_VISIT[1], "ADT": missing["TRTSDT"].to_numpy(dtype=object),
        "ADY": 1.0, "AVAL": missing["USUBJID"].map(dose1).to_numpy(dtype=float),
        "BASE": missing["USUBJID"].map(dose1).to_numpy(dtype=float), "ABLFL": "Y", "SRCDOM": "CM"})
    return [records, extra]


def param_by_occasion(occ: pd.DataFrame, subjects: pd.DataFrame, meds: pd.DataFrame) -> list[pd.DataFrame]:
    out = [
        _continuous(occ, "SLEDAI", occ["SLEDAI"].astype("float64"), occ["ABLFL_SLEDAI"], "QSSTRESN", with_pchg=True),
        _continuous(occ, "PGA", occ["PGA10"].astype("float64") / 10, occ["ABLFL_PGA"], "QSSTRESN"),
        *_preddose(occ, subjects, meds),
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
    """The SRI input table (sri.py): FAS subject x scheduled post-baseline assessment visit.

    Rows in subject order (as in `subjects`), then visit order; a visit's occasion is the
    subject's ANL01FL = Y scheduled occasion of that FOLDER (the last one should there be two).
    """
    fas = subjects[subjects["FASFL"].eq("Y")]
    visits = [v for v in study.visits if v.assessments and v.target_day > 1 and v.folder.startswith("WEEK ")]
    if fas.empty or not visits:
        return pd.DataFrame()
    grid = _subject_visit_grid(fas, visits)
    usubjid = grid["USUBJID"]
    base_sled = compute_baseline_values(occ, occ["ABLFL_SLEDAI"], ["SLEDAI"])["SLEDAI"]
    base_pga = compute_baseline_values(occ, occ["ABLFL_PGA"], ["PGA10"])["PGA10"]
    base_bil = compute_baseline_values(occ, occ["ABLFL_BILAG"], list(BILAG_SYSTEMS))[list(BILAG_SYSTEMS)]
    subject_base_bil = base_bil.reindex(usubjid.to_numpy())
    grid["BASE_SLEDAI"] = base_sled.reindex(usubjid.to_numpy()).to_numpy()
    grid["BASE_PGA10"] = pd.array(base_pga.reindex(usubjid.to_numpy()).to_numpy(), dtype="Int64")
    grid["BASE_BILAG_OK"] = subject_base_bil.notna().all(axis=1).to_numpy()
    grid["TFDT"] = _none_for_nan(tfdt.reindex(usubjid.to_numpy()).to_numpy(dtype=object))
    grid["DSDECOD"] = np.repeat(fas["DSDECOD"].to_numpy(dtype=object), len(visits))
    grid["DSSTDT"] = np.repeat(fas["DSSTDT"].to_numpy(dtype=object), len(visits))
    _add_visit_occasion(grid, occ, subject_base_bil)
    return grid.drop(columns="FOLDER")


def _subject_visit_grid(fas: pd.DataFrame, visits: list) -> pd.DataFrame:
    """USUBJID, AVISIT, AVISITN, TARGETDT (TRTSDT + 7N days) and FOLDER per FAS subject x visit."""
    weeks = [int(v.folder.split()[1]) for v in visits]
    n_subjects = len(fas)
    trtsdt = np.repeat(fas["TRTSDT"].to_numpy(dtype=object), len(visits))
    week = np.tile(weeks, n_subjects)
    return pd.DataFrame({
        "USUBJID": np.repeat(fas["USUBJID"].to_numpy(dtype=object), len(visits)),
        "AVISIT": np.tile([f"Week {n}" for n in weeks], n_subjects).astype(object),
        "AVISITN": week.astype(float),
        "TARGETDT": np.array([t + timedelta(days=7 * int(n)) if t else None for t, n in zip(trtsdt, week)],
                             dtype=object),
        "FOLDER": np.tile([v.folder for v in visits], n_subjects).astype(object),
    })


def _none_for_nan(values: np.ndarray) -> np.ndarray:
    return np.array([None if v is None or (isinstance(v, float) and np.isnan(v)) else v for v in values],
                    dtype=object)


def _add_visit_occasion(grid: pd.DataFrame, occ: pd.DataFrame, base_bil: pd.DataFrame) -> None:
    """ADT, SLEDAI, PGA10, BILNEWA/BILNEWB/BILEVAL (against the subject's baseline BILAG) and QSSEQ of
    each grid row's occasion; missing (None / NaN / <NA>) where the visit has none."""
    analysed = occ[occ["ANL01FL"].eq("Y") & occ["SCHEDULED"]].drop_duplicates(["USUBJID", "FOLDER"], keep="last")
    keys = pd.MultiIndex.from_arrays([analysed["USUBJID"], analysed["FOLDER"]])
    pos = keys.get_indexer(pd.MultiIndex.from_arrays([grid["USUBJID"], grid["FOLDER"]]))
    has = pos >= 0
    hits = analysed.iloc[pos[has]]
    grades = hits[list(BILAG_SYSTEMS)].set_axis(pd.RangeIndex(len(hits)))
    new = compute_bilag_new(grades, base_bil[has].set_axis(grades.index))
    n = len(grid)
    adt = np.full(n, None, dtype=object)
    adt[has] = hits["ADT"].to_numpy(dtype=object)
    sledai = np.full(n, np.nan)
    sledai[has] = hits["SLEDAI"].to_numpy(dtype=float)
    pga10 = pd.array([pd.NA] * n, dtype="Int64")
    pga10[has] = hits["PGA10"].to_numpy()
    bilnew = {}
    for col in ("BILNEWA", "BILNEWB"):
        bilnew[col] = np.full(n, np.nan)
        bilnew[col][has] = new[col].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    bileval = np.full(n, None, dtype=object)
    bileval[has] = new["BILEVAL"].to_numpy(dtype=bool)
    qsseq = np.full(n, np.nan)
    qsseq[has] = hits["QSSEQ"].to_numpy(dtype=float)
    grid["ADT"], grid["SLEDAI"], grid["PGA10"] = adt, sledai, pga10
    grid["BILNEWA"], grid["BILNEWB"], grid["BILEVAL"], grid["QSSEQ"] = bilnew["BILNEWA"], bilnew["BILNEWB"], bileval, qsseq


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


def pfree_dose_on(meds: pd.DataFrame):
    """The daily dose PFREE52 checks (R3.3, R7): NaN on a day with an active glucocorticoid record of
    unknown dose (or frequency), which is never a zero-dose day, so it cannot make PFREE52 'Y'."""
    def dose_on(queries: pd.DataFrame) -> pd.Series:
        return compute_pred_dose(meds, queries, unusable="missing")
    return dose_on


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
    out.append(derive_param_pfree52(fas_occ, flares, fas, pfree_dose_on(meds), params))
    return flares, out

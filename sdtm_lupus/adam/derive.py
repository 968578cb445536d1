"""Derive stage: SDTM datasets -> ADaM (ADSL, ADEFF, ADTTE, ADLB, ADAE) and the response-prediction table,
never from the raw forms.

`derive_adam` reads the SDTM datasets, the study (its rule parameters) and the specs only:
clinical constants come from specs/, never from a site mapping.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sdtm_lupus.adam.adae import build_adae, safety_summary
from sdtm_lupus.adam.adeff import enrich_occasions, param_by_occasion, param_flares, param_sri, sri_rows
from sdtm_lupus.adam.adlb import build_adlb
from sdtm_lupus.adam.adsl import build_adsl
from sdtm_lupus.adam.occasion_table import build_occasions
from sdtm_lupus.adam.prediction import build_prediction, missing_shares, prediction_csv, prediction_json
from sdtm_lupus.adam.rule_tables import build_events, build_meds, build_subjects, build_weights
from sdtm_lupus.adam.rules.bds import (
    derive_var_ady,
    derive_var_anl01fl_param,
    derive_var_aval_yn,
    derive_var_paramn,
    derive_var_tte_source,
)
from sdtm_lupus.adam.rules.flares import compute_prebaseline_crf_flare
from sdtm_lupus.adam.rules.steroid_dose import compute_dose_unusable
from sdtm_lupus.adam.rules.treatment_failure import compute_treatment_failure_date
from sdtm_lupus.adam.rules.tte import KINDS, derive_param_tte
from sdtm_lupus.config.study import Study
from sdtm_lupus.findings import Finding
from sdtm_lupus.frames import take_rows
from sdtm_lupus.memory import release_free_memory
from sdtm_lupus.specs import Specs, conform_to_spec, load_lab_tests

SUBJECT_COLUMNS = ("STUDYID", "TRT01P", "TRT01PN", "TRT01A", "TRT01AN", "FASFL")


@dataclass
class AdamResult:
    datasets: dict[str, pd.DataFrame]
    findings: list[Finding] = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    safety: dict = field(default_factory=dict)        # R11 TEAE summary by arm (report["safety"])
    prediction: dict = field(default_factory=dict)    # R12 table: rows, columns, missing share per column
    files: dict[str, bytes] = field(default_factory=dict)   # written next to adam/ (prediction.csv/.json)


def derive_adam(sdtm: dict[str, pd.DataFrame], study: Study, specs: Specs) -> AdamResult:
    params = study.rules
    findings: list[Finding] = []
    subjects = build_subjects(sdtm)
    meds, weights, events = build_meds(sdtm, specs.clinical.prednisone_equivalents), build_weights(sdtm), build_events(sdtm)
    occ, _ = build_occasions(sdtm["QS"], subjects, study)
    release_free_memory()       # the QS copies read into occasions (large; see sdtm_lupus.memory)
    occ = enrich_occasions(occ, subjects, meds, weights)
    adsl = build_adsl(sdtm, subjects, occ, meds, weights, [a.arm for a in study.arms])
    subjects = subjects.merge(adsl[["USUBJID", "FASFL"]], on="USUBJID", how="inner")
    tfdt = pd.Series(compute_treatment_failure_date(subjects, meds, params).to_numpy(), index=subjects["USUBJID"])

    parts = param_by_occasion(occ[occ["USUBJID"].isin(adsl["USUBJID"])], subjects, meds)
    parts += param_sri(sri_rows(occ, subjects, study, tfdt), params)
    flares, flare_parts = param_flares(occ, subjects, meds, events, params)
    parts += flare_parts
    findings += _flare_findings(flares, study)
    findings += prebaseline_flare_findings(occ, subjects) + unusable_dose_findings(meds)
    adeff = _with_subject(_stack(parts, specs.dataset("ADEFF").names), adsl)
    del parts       # the parameter blocks, now copied into ADEFF (the largest ADaM dataset)
    release_free_memory()
    adeff["ASEQ"] = np.nan
    trtsdt = dict(zip(adsl["USUBJID"], adsl["TRTSDT"]))
    adeff["ADY"] = derive_var_ady(adeff, trtsdt)
    adeff["AVAL"] = derive_var_aval_yn(adeff)
    adeff["ANL01FL"] = derive_var_anl01fl_param(adeff)
    adeff["PARAMN"] = derive_var_paramn(adeff["PARAMCD"])

    fas = subjects[subjects["FASFL"].eq("Y")]
    tte = [derive_param_tte(flares, occ, fas, params, kind) for kind in KINDS]
    adtte = _with_subject(_stack(tte, [*specs.dataset("ADTTE").names, "OCC"]), adsl)   # OCC: the source occasion
    adtte["PARAMN"] = derive_var_paramn(adtte["PARAMCD"])

    adeff = finish(adeff, specs, "ADEFF", ["USUBJID", "PARAMCD", "AVISITN", "ADT"], seq="ASEQ")
    adtte = adtte.assign(**derive_var_tte_source(adtte, occ, adeff))
    datasets = {
        "ADSL": finish(adsl, specs, "ADSL", ["USUBJID"]),
        "ADEFF": adeff,
        "ADTTE": finish(adtte, specs, "ADTTE", ["USUBJID", "PARAMCD"]),
    }
    datasets.update(derive_safety_lab(sdtm, adsl, specs, params))
    result = AdamResult(datasets, findings, endpoint_summary(datasets, study))
    result.safety = safety_summary(datasets["ADSL"], datasets["ADAE"], params.teae_window_days)
    add_prediction(result, study)
    return result


def derive_safety_lab(sdtm: dict[str, pd.DataFrame], adsl: pd.DataFrame, specs: Specs, params) -> dict[str, pd.DataFrame]:
    """ADLB (R10) and ADAE (R11), finished; empty frames (with the spec columns) when LB / AE are absent."""
    subject = adsl[["USUBJID", "STUDYID", "TRT01P", "TRT01A", "SAFFL", "FASFL"]]
    adlb = build_adlb(sdtm.get("LB"), adsl, load_lab_tests())
    adlb = adlb.merge(subject, on="USUBJID", how="left") if len(adlb) else adlb     # ADSL subjects only
    adae = build_adae(sdtm.get("AE"), sdtm.get("SUPPAE"), adsl, params)
    adae = adae.merge(subject.drop(columns="FASFL"), on="USUBJID", how="left") if len(adae) else adae
    if not len(adlb):
        adlb = pd.DataFrame(columns=specs.dataset("ADLB").names)
    if not len(adae):
        adae = pd.DataFrame(columns=specs.dataset("ADAE").names)
    return {"ADLB": finish(adlb.assign(ASEQ=np.nan), specs, "ADLB", ["USUBJID", "PARAMCD", "ADT", "SRCSEQ"], seq="ASEQ"),
            "ADAE": finish(adae, specs, "ADAE", ["USUBJID", "AESEQ"])}


def add_prediction(result: AdamResult, study: Study) -> None:
    """R12: the prediction table and its dictionary as files, its completeness in the summary."""
    ds = result.datasets
    table, dictionary = build_prediction(ds["ADSL"], ds["ADEFF"], ds["ADLB"], load_lab_tests())
    result.files = {"prediction.csv": prediction_csv(table),
                    "prediction.json": prediction_json(table, dictionary, study.studyid)}
    result.prediction = {"csv": "prediction.csv", "dictionary": "prediction.json", "rows": len(table),
                         "columns": len(table.columns), "missing_share": missing_shares(table)}


def _stack(parts: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    """Concatenate parameter blocks; no blocks gives an empty frame with the spec columns."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=[c for c in columns if c not in SUBJECT_COLUMNS])
    return pd.concat(parts, ignore_index=True)


def _with_subject(frame: pd.DataFrame, adsl: pd.DataFrame) -> pd.DataFrame:
    return frame.merge(adsl[["USUBJID", *SUBJECT_COLUMNS]], on="USUBJID", how="left")


def finish(df: pd.DataFrame, specs: Specs, name: str, order: list[str], seq: str | None = None) -> pd.DataFrame:
    """The dataset sorted, numbered and conformed to its spec. `df` is consumed (emptied column by
    column as the sorted copy is built): ADEFF holds millions of rows."""
    spec = specs.dataset(name)
    positions = _sort_positions(df, order)
    if np.array_equal(positions, np.arange(len(df))):
        out = df.reset_index(drop=True)
    else:
        out = take_rows(df, positions, consume=True)
    if seq:
        out[seq] = out.groupby("USUBJID").cumcount() + 1
    return conform_to_spec(out, spec)


def _sort_positions(df: pd.DataFrame, order: list[str]) -> np.ndarray:
    """The row order of `df.sort_values(order, kind="stable", na_position="first")`: a stable
    sort on the integer ranks of each key (its sorted distinct values; missing = -1, first)."""
    keys = [pd.factorize(df[c], sort=True)[0] for c in dict.fromkeys(order)]
    return np.lexsort(keys[::-1]) if keys else np.arange(len(df))


def _flare_findings(flares: pd.DataFrame, study: Study) -> list[Finding]:
    """R5.5: the investigator's call disagreeing with the derived category is a QC finding."""
    out = []
    for r in flares[flares["CRFDISFL"].eq("Y")].itertuples(index=False):
        out.append(Finding(rule="QC-FLARE-CALL", severity="warning", dataset="ADEFF", variable="AVALC",
                           usubjid=r.USUBJID, value=str(r.FLCRF),
                           message=f"investigator flare call {r.FLCRF} on {r.ADT} disagrees with the derived "
                                   f"modified-SFI category {r.AVALC}; the analysis uses the derived category"))
    return out


def prebaseline_flare_findings(occ: pd.DataFrame, subjects: pd.DataFrame) -> list[Finding]:
    """§8 case 43: a flare CRF calling a flare on an occasion that is not post-baseline (on or before
    the baseline occasion or day 1) gets no R5 result; reported so the call is not silently lost.
    FAS subjects only (the flare parameter's population)."""
    fas = subjects[subjects["FASFL"].eq("Y")]
    fas_occ = occ[occ["USUBJID"].isin(fas["USUBJID"])]
    if not len(fas_occ):
        return []
    hit = fas_occ[compute_prebaseline_crf_flare(fas_occ, fas)]
    return [Finding(rule="QC-FLARE-PREBASELINE", severity="notice", dataset="ADEFF", variable="AVALC",
                    usubjid=r.USUBJID, value=str(r.FLCRF),
                    message=f"flare CRF calls a {r.FLCRF} flare on {r.ADT}, on or before baseline / day 1: "
                            f"not a study flare (R5, edge case 43), no FLARE record")
            for r in hit.itertuples(index=False)]


# compute_dose_unusable reasons -> the CM variable named; ENDDT BEFORE STARTDT is the SDTM stage's
# CM-END-BEFORE-START already.
_DOSE_VARIABLE = {"CMDOSE MISSING": "CMDOSE", "CMDOSFRQ MISSING": "CMDOSFRQ", "CMDOSFRQ NOT IN R3.3": "CMDOSFRQ"}


def unusable_dose_findings(meds: pd.DataFrame) -> list[Finding]:
    """R3.3: a glucocorticoid record that cannot contribute to the daily dose (missing dose, missing
    or unknown frequency) adds 0 mg and is a QC finding; the listing of such records."""
    if not len(meds):
        return []
    reason = compute_dose_unusable(meds)
    out = []
    for r, why in zip(meds.itertuples(index=False), reason):
        if why not in _DOSE_VARIABLE:
            continue
        variable = _DOSE_VARIABLE[why]
        value = getattr(r, variable)
        out.append(Finding(rule="QC-DOSE-UNUSABLE", severity="warning", dataset="CM", variable=variable,
                           usubjid=r.USUBJID, value=None if pd.isna(value) else str(value),
                           message=f"glucocorticoid record CMSEQ {int(r.CMSEQ)} ({r.CMDECOD}): {why}; it adds 0 mg "
                                   f"to the daily prednisone-equivalent dose and its days are never zero-dose days (R3.3)"))
    return out


def endpoint_summary(datasets: dict[str, pd.DataFrame], study: Study) -> dict:
    """Counts only: SRI-4 at week 48, flares by day 365, median time to first flare, by arm."""
    adsl, adeff, adtte = datasets["ADSL"], datasets["ADEFF"], datasets["ADTTE"]
    out: dict = {"by_arm": {}}
    for arm, subjects in adsl[adsl["FASFL"].eq("Y")].groupby("TRT01P"):
        ids = set(subjects["USUBJID"])
        eff = adeff.loc[adeff["USUBJID"].isin(ids), ["PARAMCD", "AVISIT", "AVALC"]]     # the columns counted
        sri = eff[eff["PARAMCD"].eq("SRI4") & eff["AVISIT"].eq("Week 48")]
        row = {"fas": len(ids), "sri4_week48": {"responders": int(sri["AVALC"].eq("Y").sum()), "n": len(sri)}}
        for code in ("FLANY52", "FLSEV52"):
            flags = eff[eff["PARAMCD"].eq(code)]
            row[code] = {"yes": int(flags["AVALC"].eq("Y").sum()), "n": len(flags)}
        tte = adtte[adtte["USUBJID"].isin(ids) & adtte["PARAMCD"].eq("TTFLANY")]
        row["TTFLANY"] = {"events": int(tte["CNSR"].eq(0).sum()), "n": len(tte),
                          "median_days": km_median(tte["AVAL"], tte["CNSR"])}
        out["by_arm"][arm] = row
    return out


def km_median(aval: pd.Series, cnsr: pd.Series) -> float | None:
    """Kaplan-Meier median (the first time survival falls to 0.5 or below); None if not reached."""
    data = pd.DataFrame({"t": aval, "c": cnsr}).dropna().sort_values("t")
    at_risk, surv = len(data), 1.0
    for t, group in data.groupby("t"):
        events = int((group["c"] == 0).sum())
        if at_risk:
            surv *= 1 - events / at_risk
        if surv <= 0.5:
            return float(t)
        at_risk -= len(group)
    return None

"""VS: height and weight at screening (enrol) and the weight used for each infusion (dosing).

enrol is not visit-based: its measurements belong to the study's first scheduled visit
(SCREENING) and carry no date (the export collects none), so VSDTC is null there and EPOCH
is that visit's epoch. For VSLOBXFL an undated screening record ranks at informed consent,
which precedes every dated measurement of the subject.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sdtm_lupus.sdtm.builder_state import MapState
from sdtm_lupus.sdtm.timing import derive_lobxfl
from sdtm_lupus.specs import load_raw_layout

# (form, column, VSTESTCD, VSTEST, unit: collected = standard)
MEASUREMENTS = [
    ("enrol", "HEIGHT_CM", "HEIGHT", "Height", "cm"),
    ("enrol", "WEIGHT_KG", "WEIGHT", "Weight", "kg"),
    ("dosing", "WEIGHT_KG", "WEIGHT", "Weight", "kg"),
]
RANK = "_rank"      # date that orders records for VSLOBXFL (dropped)


def build(state: MapState) -> dict[str, pd.DataFrame]:
    frames = [f for f in (_records(state, *m) for m in MEASUREMENTS) if len(f)]
    if not frames:
        return {}
    vs = pd.concat(frames, ignore_index=True)
    vs["VSLOBXFL"] = derive_lobxfl(vs, RANK, state.ref(vs["USUBJID"], "RFXSTDTC"), ["USUBJID", "VSTESTCD"])
    return {"VS": vs.drop(columns=RANK)}


def _records(state: MapState, form: str, column: str, testcd: str, test: str, unit: str) -> pd.DataFrame:
    rows = state.cleaned(form)
    if form == "enrol":
        rows = rows.drop_duplicates("SUBJID", keep="first")
    rows = rows[rows[column].notna()]
    spec = load_raw_layout().forms[form]
    if spec.visit_based:
        dtc = rows[spec.date_column]
        visitnum, visit = state.visit(rows["USUBJID"], rows["FOLDER"], dtc)
        epoch, rank = state.epoch(dtc, rows["USUBJID"]), dtc
    else:
        first = min(state.study.visits, key=lambda v: v.target_day)
        dtc = pd.Series(None, index=rows.index, dtype=object)
        visitnum, visit, epoch = first.visitnum, first.visit, first.epoch
        rank = rows["CONSDAT"]
    number = rows[column].map(lambda v: np.format_float_positional(v, trim="-"))
    collected = state.forms[form].data.loc[rows.index, column].str.strip() if state.has(form) else number
    vs = pd.DataFrame({"STUDYID": state.study.studyid, "DOMAIN": "VS", "USUBJID": rows["USUBJID"],
                       "VSTESTCD": testcd, "VSTEST": test, "VSORRES": collected, "VSORRESU": unit,
                       "VSSTRESC": number, "VSSTRESN": rows[column], "VSSTRESU": unit,
                       "VISITNUM": visitnum, "VISIT": visit, "EPOCH": epoch, "VSDTC": dtc,
                       "VSDY": state.study_day(dtc, rows["USUBJID"]), RANK: rank}, index=rows.index)
    return vs.assign(**state.provenance(rows, form))

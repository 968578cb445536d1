"""EX: one record per infusion actually given (dosing rows with GIVEN = Yes)."""

from __future__ import annotations

import pandas as pd

from sdtm_lupus.readers.forms import ROW, Form
from sdtm_lupus.sdtm.builder_state import MapState
from sdtm_lupus.sdtm.dates import combine
from sdtm_lupus.sdtm.map_context import FILE, SRCROW, MapContext
from sdtm_lupus.sdtm.timing import derive_epoch, derive_seq, derive_study_day
from sdtm_lupus.sdtm.visits import VisitNumbering


def given_doses(state: MapState) -> pd.DataFrame:
    """Infusions given (cached): USUBJID, EXSTDTC/EXENDTC and the arm whose dose they match."""
    if "doses" not in state.cache:
        enrol = state.cleaned("enrol").drop_duplicates("SUBJID", keep="first")
        planned = pd.Series(enrol["ARMCD_RAND"].to_numpy(), index=enrol["USUBJID"])
        state.cache["doses"] = _given_doses(state.cleaned("dosing"), state.forms["dosing"], planned, state.ctx)
    return state.cache["doses"]


def build(state: MapState) -> dict[str, pd.DataFrame]:
    ex = build_ex(given_doses(state), state.dm, state.visits, state.ctx, state.file("dosing"))
    state.cache["EX"] = ex
    return {"EX": ex}


def _given_doses(dosing: pd.DataFrame, form: Form, planned_arm: pd.Series, ctx: MapContext) -> pd.DataFrame:
    """Rows not given are reported (notice), so every dosing row is accounted for.

    planned_arm: ARMCD by USUBJID (from enrol).
    """
    study = ctx.study
    d = dosing.copy()
    not_given = d["GIVEN"].ne("Y")
    if not_given.any():
        rows = form.data.loc[not_given, ["SUBJID", "GIVEN", "REASNG", ROW]]
        ctx.report("EX-NOT-GIVEN", "notice",
                   "infusion not given (GIVEN {value!r}, reason {REASNG!r}): no EX record",
                   form, "GIVEN", rows)
    d = d[~not_given].copy()
    d["EXSTDTC"] = [combine(day, t) for day, t in zip(d["EXSTDAT"], d["EXSTTIM"])]
    d["EXENDTC"] = [combine(day, t) for day, t in zip(d["EXSTDAT"], d["EXENTIM"])]
    backwards = d["EXENDTC"].notna() & (d["EXENDTC"] < d["EXSTDTC"])
    if backwards.any():
        ctx.report("EX-END-BEFORE-START", "warning", "infusion end time {EXENTIM!r} is before its start time",
                   form, "EXENTIM", form.data.loc[backwards[backwards].index, ["SUBJID", "EXENTIM", ROW]])
    dose_to_arm = {a.dose: a.armcd for a in study.arms}
    planned = d["USUBJID"].map(planned_arm)
    matched = d["DOSE_MGKG"].map(dose_to_arm)
    unmatched = matched.isna()
    if unmatched.any():
        ctx.report("EX-DOSE-NO-ARM", "warning",
                   "DOSE_MGKG {value!r} matches no arm's planned dose; treatment taken from the planned arm",
                   form, "DOSE_MGKG", form.data.loc[unmatched[unmatched].index, ["SUBJID", "DOSE_MGKG", ROW]])
    d["ARMCD_ACT"] = matched.where(~unmatched, planned)
    return d


def build_ex(doses: pd.DataFrame, dm: pd.DataFrame, visits: VisitNumbering, ctx: MapContext,
             dosing_file: str) -> pd.DataFrame:
    study = ctx.study
    arms = {a.armcd: a for a in study.arms}
    ref = dm.set_index("USUBJID")
    ex = pd.DataFrame(index=doses.index)
    ex["STUDYID"] = study.studyid
    ex["DOMAIN"] = "EX"
    ex["USUBJID"] = doses["USUBJID"]
    ex["EXTRT"] = doses["ARMCD_ACT"].map(lambda a: arms[a].treatment if a in arms else None)
    ex["EXDOSE"] = doses["DOSE_MGKG"]
    ex["EXDOSU"] = doses["ARMCD_ACT"].map(lambda a: arms[a].dose_unit if a in arms else None)
    ex["EXDOSFRM"] = doses["ARMCD_ACT"].map(lambda a: arms[a].dose_form if a in arms else None)
    ex["EXROUTE"] = doses["ARMCD_ACT"].map(lambda a: arms[a].route if a in arms else None)
    ex["VISITNUM"], ex["VISIT"] = visits.assign(doses["USUBJID"], doses["FOLDER"], doses["EXSTDTC"])
    ex["EPOCH"] = derive_epoch(doses["EXSTDTC"], ex["USUBJID"].map(ref["RFXSTDTC"]),
                               ex["USUBJID"].map(ref["RFXENDTC"]), study)
    ex["EXSTDTC"] = doses["EXSTDTC"]
    ex["EXENDTC"] = doses["EXENDTC"]
    rfstdtc = ex["USUBJID"].map(ref["RFSTDTC"])
    ex["EXSTDY"] = derive_study_day(ex["EXSTDTC"], rfstdtc)
    ex["EXENDY"] = derive_study_day(ex["EXENDTC"], rfstdtc)
    ex[FILE] = dosing_file
    ex[SRCROW] = doses[ROW]
    ex.insert(3, "EXSEQ", derive_seq(ex, ["EXSTDTC", SRCROW]))
    return ex

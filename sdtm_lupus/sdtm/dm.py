"""DM: one record per enrolled subject, from enrol, dosing and disp."""

from __future__ import annotations

from datetime import date

import pandas as pd

from sdtm_lupus.findings import Finding
from sdtm_lupus.readers.forms import ROW
from sdtm_lupus.sdtm.builder_state import MapState
from sdtm_lupus.sdtm.dates import to_date
from sdtm_lupus.sdtm.ex import given_doses
from sdtm_lupus.sdtm.map_context import FILE, SRCROW, MapContext, usubjid

SCREEN_FAILURE = "SCREEN FAILURE"
NOT_TREATED = "ASSIGNED, NOT TREATED"
UNPLANNED = "UNPLANNED TREATMENT"


def derive_age_range(brthdtc: str | None, on: date | None) -> tuple[int, int] | None:
    """Possible completed years of age at `on` for a (possibly partial) ISO birth date."""
    if not brthdtc or on is None:
        return None
    y = int(brthdtc[:4])
    if len(brthdtc) >= 10:
        born = date.fromisoformat(brthdtc[:10])
        earliest = latest = born
    elif len(brthdtc) == 7:
        m = int(brthdtc[5:7])
        earliest = date(y, m, 1)
        latest = date.fromordinal(date(y + (m == 12), m % 12 + 1, 1).toordinal() - 1)
    else:
        earliest, latest = date(y, 1, 1), date(y, 12, 31)

    def age(born: date) -> int:
        return on.year - born.year - ((on.month, on.day) < (born.month, born.day))

    return age(latest), age(earliest)


def build(state: MapState) -> dict[str, pd.DataFrame]:
    enrol = state.cleaned("enrol").drop_duplicates("SUBJID", keep="first")
    doses = given_doses(state)
    return {"DM": build_dm(enrol, doses, state.cleaned("disp"), state.ctx, state.file("enrol"))}


def build_dm(enrol: pd.DataFrame, doses: pd.DataFrame, disp: pd.DataFrame, ctx: MapContext,
             enrol_file: str) -> pd.DataFrame:
    """enrol/disp: cleaned forms; doses: given infusions with USUBJID, ARMCD_ACT, EXSTDTC, EXENDTC."""
    study = ctx.study
    dm = pd.DataFrame(index=enrol.index)
    dm["STUDYID"] = study.studyid
    dm["DOMAIN"] = "DM"
    dm["USUBJID"] = [usubjid(study.studyid, s) for s in enrol["SUBJID"]]
    dm["SUBJID"] = enrol["SUBJID"]

    first = doses.groupby("USUBJID")["EXSTDTC"].min()
    last = doses.groupby("USUBJID")["EXENDTC"].max()
    disp_by = disp.assign(USUBJID=[usubjid(study.studyid, s) for s in disp["SUBJID"]]).drop_duplicates(
        "USUBJID", keep="last").set_index("USUBJID")
    dsstdtc = dm["USUBJID"].map(disp_by["DSSTDAT"])
    decod = dm["USUBJID"].map(disp_by["DSDECOD_SITE"])
    rfx_start = dm["USUBJID"].map(first)
    rfx_end = dm["USUBJID"].map(last)
    last_dose_date = rfx_end.map(lambda v: v[:10] if isinstance(v, str) else None)

    dm["RFSTDTC"] = rfx_start
    dm["RFENDTC"] = dsstdtc.where(dsstdtc.notna() & rfx_start.notna(), last_dose_date)
    dm["RFXSTDTC"] = rfx_start
    dm["RFXENDTC"] = rfx_end
    dm["RFICDTC"] = enrol["CONSDAT"]
    dm["RFPENDTC"] = dsstdtc.where(dsstdtc.notna(), last_dose_date)
    death = decod.eq("DEATH")
    dm["DTHDTC"] = dsstdtc.where(death, None)
    dm["DTHFL"] = pd.Series("Y", index=dm.index).where(death, None)
    dm["SITEID"] = enrol["SITEID"]
    dm["BRTHDTC"] = enrol["BRTHDAT"]
    dm["AGE"] = enrol["AGE"]
    dm["AGEU"] = pd.Series("YEARS", index=dm.index).where(enrol["AGE"].notna(), None)
    dm["SEX"] = enrol["SEX"]
    dm["RACE"] = enrol["RACE"]
    dm["ETHNIC"] = enrol["ETHNIC"]
    _arms(dm, enrol, doses, ctx)
    dm["COUNTRY"] = enrol["COUNTRY"]
    dm[FILE] = enrol_file
    dm[SRCROW] = enrol[ROW]
    _check_age(dm, enrol, ctx, enrol_file)
    return dm


def _arms(dm: pd.DataFrame, enrol: pd.DataFrame, doses: pd.DataFrame, ctx: MapContext) -> None:
    """ARM/ACTARM per SDTMIG: screen failures and untreated subjects get ARMNRS."""
    study = ctx.study
    planned = enrol["ARMCD_RAND"].where(enrol["ELIGIBLE"].ne("N"), None)
    actual = dm["USUBJID"].map(_actual_arms(doses))
    arm_name = {a.armcd: a.arm for a in study.arms}

    armcd, actarmcd, armnrs, actarmud = [], [], [], []
    for plan, act in zip(planned, actual):
        act = act if isinstance(act, tuple) else ()
        if plan is None:
            armcd.append(None), actarmcd.append(None), armnrs.append(SCREEN_FAILURE), actarmud.append(None)
        elif not act:
            armcd.append(plan), actarmcd.append(None), armnrs.append(NOT_TREATED), actarmud.append(None)
        elif len(act) == 1:
            armcd.append(plan), actarmcd.append(act[0]), armnrs.append(None), actarmud.append(None)
        else:
            armcd.append(plan), actarmcd.append(None), armnrs.append(UNPLANNED)
            actarmud.append("; ".join(arm_name[a] for a in act))
    dm["ARMCD"] = armcd
    dm["ARM"] = dm["ARMCD"].map(arm_name)
    dm["ACTARMCD"] = actarmcd
    dm["ACTARM"] = dm["ACTARMCD"].map(arm_name)
    dm["ARMNRS"] = armnrs
    dm["ACTARMUD"] = actarmud
    for col in ("ARM", "ACTARM"):
        dm[col] = dm[col].astype(object).where(dm[col].notna(), None)


def _actual_arms(doses: pd.DataFrame) -> dict[str, tuple[str, ...]]:
    """Per subject, the distinct arm codes of the doses given, sorted (subjects without one: absent)."""
    given = doses[["USUBJID", "ARMCD_ACT"]].dropna().drop_duplicates().sort_values(["USUBJID", "ARMCD_ACT"])
    arms: dict[str, list[str]] = {}
    for subject, code in zip(given["USUBJID"], given["ARMCD_ACT"]):
        arms.setdefault(subject, []).append(code)
    return {subject: tuple(codes) for subject, codes in arms.items()}


def _check_age(dm: pd.DataFrame, enrol: pd.DataFrame, ctx: MapContext, file: str) -> None:
    """AGE as collected must fit BRTHDTC at consent; a disagreement is a finding, AGE is kept."""
    for idx, brth, cons, age in zip(dm.index, dm["BRTHDTC"], dm["RFICDTC"], dm["AGE"]):
        span = derive_age_range(brth, to_date(cons))
        if span is None or pd.isna(age) or span[0] <= age <= span[1]:
            continue
        expected = str(span[0]) if span[0] == span[1] else f"{span[0]}-{span[1]}"
        ctx.findings.append(Finding(
            rule="DM-AGE-BRTHDTC", severity="warning", dataset="enrol", variable="AGE", file=file,
            row=int(enrol.at[idx, ROW]), usubjid=dm.at[idx, "USUBJID"], value=str(int(age)),
            message=f"AGE {int(age)} disagrees with BRTHDAT {brth} at consent {cons} "
                    f"(expected {expected}); AGE kept as collected"))

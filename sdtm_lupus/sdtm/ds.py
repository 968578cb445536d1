"""DS: disposition events (disp) and protocol milestones (enrol).

Disposition events: one per disp row; DSTERM as collected, DSDECOD the NCOMPLT term from
the mapping's value map (disp.DSDECOD_SITE). Protocol milestones: one per enrol row for
each milestone whose date the export collects (MILESTONES).

RANDOMIZED is not written: the export collects the randomisation number and arm but no
randomisation date, and the first infusion is not the randomisation date. A milestone
without a date is of no use, so it is omitted and a notice says so (RANDNO goes to SUPPDM).
"""

from __future__ import annotations

import pandas as pd

from sdtm_lupus.findings import Finding
from sdtm_lupus.readers.forms import ROW
from sdtm_lupus.sdtm.builder_state import MapState
from sdtm_lupus.sdtm.parse import nullable

DISPOSITION, MILESTONE = "DISPOSITION EVENT", "PROTOCOL MILESTONE"
# protocol milestone (PROTMLST term) -> enrol column holding its date
MILESTONES = {"INFORMED CONSENT OBTAINED": "CONSDAT"}


def build(state: MapState) -> dict[str, pd.DataFrame]:
    disp, enrol = state.cleaned("disp"), state.cleaned("enrol").drop_duplicates("SUBJID", keep="first")
    collected = nullable(state.forms["disp"].data["DSDECOD_SITE"].str.strip()) if state.has("disp") \
        else disp["DSDECOD_SITE"]
    _check(state, disp, collected)
    done = collected.notna()
    frames = [_records(state, disp[done], "disp", collected[done], disp.loc[done, "DSDECOD_SITE"], DISPOSITION,
                       disp.loc[done, "DSSTDAT"])]
    frames += [_records(state, enrol, "enrol", term, term, MILESTONE, enrol[column])
               for term, column in MILESTONES.items()]
    return {"DS": pd.concat(frames, ignore_index=True)}


def _records(state: MapState, rows: pd.DataFrame, form: str, term, decod, cat: str, dtc: pd.Series) -> pd.DataFrame:
    out = pd.DataFrame({"STUDYID": state.study.studyid, "DOMAIN": "DS", "USUBJID": rows["USUBJID"],
                        "DSTERM": term, "DSDECOD": decod, "DSCAT": cat,
                        "EPOCH": state.epoch(dtc, rows["USUBJID"]), "DSSTDTC": dtc,
                        "DSSTDY": state.study_day(dtc, rows["USUBJID"])}, index=rows.index)
    return out.assign(**state.provenance(rows, form))


def _check(state: MapState, disp: pd.DataFrame, collected: pd.Series) -> None:
    """Findings: a disp row without a status (no DS record); a subject with several disp rows;
    randomised subjects without a RANDOMIZED milestone (notice)."""
    if state.has("disp"):
        form = state.forms["disp"]
        state.ctx.report("DS-NO-STATUS", "warning", "DSDECOD_SITE is empty: no disposition record",
                         form, "DSDECOD_SITE", form.data.loc[collected.isna(), ["SUBJID", "DSDECOD_SITE", ROW]])
    several = disp[disp["USUBJID"].duplicated(keep=False)]
    for subject, rows in several.groupby("USUBJID"):
        state.ctx.findings.append(Finding(
            rule="DS-SEVERAL-DISPOSITIONS", severity="warning", dataset="disp", variable="SUBJID",
            file=state.file("disp"), row=int(rows[ROW].iloc[-1]), usubjid=subject,
            message=f"{len(rows)} disposition rows for one subject: each is a DS record; DM uses the last"))
    enrol = state.cleaned("enrol")
    randomised = enrol["ARMCD_RAND"].notna() & enrol["ELIGIBLE"].ne("N")
    if state.study.randomised and randomised.any():
        state.ctx.findings.append(Finding(
            rule="DS-NO-RANDOMIZATION-DATE", severity="notice", dataset="DS",
            message=f"{int(randomised.sum())} randomised subjects: the export has no randomisation date, "
                    "so DS has no RANDOMIZED milestone (randomisation number in SUPPDM.RANDNO)"))

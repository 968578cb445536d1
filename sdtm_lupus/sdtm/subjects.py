"""Checks across forms before mapping: study id, subjects known to enrol, visit folders."""

from __future__ import annotations

from sdtm_lupus.readers.forms import ROW, Forms
from sdtm_lupus.sdtm.map_context import MapContext
from sdtm_lupus.specs import load_raw_layout


def other_study(forms: Forms, studyid: str) -> tuple[str, int] | None:
    """(the one STUDYID every row of the export carries, rows) when that is not `studyid`: the export
    belongs to another study (one message up front, not one per row); None otherwise."""
    ids: set[str] = set()
    rows = 0
    for form in forms.values():
        values = form.data["STUDYID"]
        values = values[values.ne("")]
        ids.update(values.unique())
        rows += len(values)
    if len(ids) == 1 and studyid not in ids:
        return next(iter(ids)), rows
    return None


def check_subjects(forms: Forms, ctx: MapContext) -> None:
    """STUDYID matches the study; SUBJID present; one enrol row per subject; every subject enrolled."""
    studyid = ctx.study.studyid
    enrol = forms["enrol"]
    for name, form in sorted(forms.items()):
        data = form.data
        wrong = data["STUDYID"].ne(studyid)
        ctx.report("MAP-STUDYID", "error", f"STUDYID {{value!r}} is not {studyid}", form, "STUDYID",
                   data.loc[wrong, ["SUBJID", "STUDYID", ROW]])
        blank = data["SUBJID"].str.strip().eq("")
        ctx.report("MAP-SUBJID-MISSING", "error", "SUBJID is empty: the row cannot belong to a subject",
                   form, "SUBJID", data.loc[blank, ["SUBJID", ROW]])
    dup = enrol.data["SUBJID"].duplicated(keep="first") & enrol.data["SUBJID"].ne("")
    ctx.report("MAP-ENROL-DUPLICATE", "error", "subject {value} appears more than once on enrol",
               enrol, "SUBJID", enrol.data.loc[dup, ["SUBJID", ROW]])
    enrolled = set(enrol.data["SUBJID"])
    for name, form in sorted(forms.items()):
        if name == "enrol":
            continue
        data = form.data
        orphan = ~data["SUBJID"].isin(enrolled) & data["SUBJID"].ne("")
        ctx.report("MAP-SUBJECT-NOT-ENROLLED", "error",
                   "subject {value} is on " + name + " but not on enrol", form, "SUBJID",
                   data.loc[orphan, ["SUBJID", ROW]])


def check_folders(forms: Forms, ctx: MapContext) -> None:
    """Visit-based forms: FOLDER is a visit of the study, UNSCHEDULED or early termination."""
    layout = load_raw_layout()
    study = ctx.study
    known = {v.folder for v in study.visits} | {study.unscheduled_folder, study.early_termination.folder}
    for name, form in sorted(forms.items()):
        if not layout.forms[name].visit_based:
            continue
        data = form.data
        empty = data["FOLDER"].eq("")
        ctx.report("MAP-FOLDER-MISSING", "warning", "FOLDER is empty on a visit-based form: no VISITNUM",
                   form, "FOLDER", data.loc[empty, ["SUBJID", "FOLDER", ROW]])
        unknown = ~data["FOLDER"].isin(known) & ~empty
        ctx.report("MAP-FOLDER-UNKNOWN", "warning",
                   f"FOLDER {{value!r}} is not a visit of {study.studyid}: numbered as an unscheduled visit",
                   form, "FOLDER", data.loc[unknown, ["SUBJID", "FOLDER", ROW]])

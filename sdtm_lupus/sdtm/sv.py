"""SV: one record per subject visit actually done, summarising the visit-based forms.

A visit is done when any visit-based form (specs/raw-forms.yaml: visit_based with a
date_column) has a row for it; VISITNUM/VISIT come from the shared visit numbering, so SV
agrees with every domain. SVSTDTC/SVENDTC are the earliest/latest date of the visit's rows.
SV records summarise rows mapped elsewhere: they carry no provenance.

QC: a scheduled visit with a row dated outside target day + window (study.visits) is a
warning QC-VISIT-WINDOW, once per subject and visit, naming the first such raw row (earliest
date, then form in export-spec order, then row).
"""

from __future__ import annotations

import pandas as pd

from sdtm_lupus.findings import Finding
from sdtm_lupus.readers.forms import ROW
from sdtm_lupus.sdtm.state import MapState
from sdtm_lupus.specs import load_raw_layout

UNPLANNED = "UNSCHEDULED VISIT"


def visit_rows(state: MapState) -> pd.DataFrame:
    """Rows of the visit-based forms with a VISITNUM: USUBJID, VISITNUM, VISIT, DTC (date), DY, form,
    column (its date column), order (of the form in the export spec), ROW; in visit and date order."""
    layout = load_raw_layout()
    parts = []
    for order, name in enumerate(layout.forms):
        if name not in state.forms:
            continue
        spec = layout.forms[name]
        if not (spec.visit_based and spec.date_column):
            continue
        rows = state.cleaned(name)
        dtc = rows[spec.date_column].map(lambda v: v[:10] if isinstance(v, str) else None)
        visitnum, visit = state.visit(rows["USUBJID"], rows["FOLDER"], dtc)
        parts.append(pd.DataFrame({"USUBJID": rows["USUBJID"], "VISITNUM": visitnum, "VISIT": visit,
                                   "DTC": dtc, "DY": state.study_day(dtc, rows["USUBJID"]),
                                   "form": name, "column": spec.date_column, "order": order, ROW: rows[ROW]}))
    columns = ["USUBJID", "VISITNUM", "VISIT", "DTC", "DY", "form", "column", "order", ROW]
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    return frame[frame["VISITNUM"].notna()].sort_values(["USUBJID", "VISITNUM", "DTC", "order", ROW],
                                                         na_position="last", kind="stable")


def build(state: MapState) -> dict[str, pd.DataFrame]:
    rows = visit_rows(state)
    by_visit = rows.groupby(["USUBJID", "VISITNUM"], sort=True)
    sv = by_visit["VISIT"].first().reset_index()
    dated = rows[rows["DTC"].notna()].groupby(["USUBJID", "VISITNUM"])["DTC"]
    sv = sv.join(dated.min().rename("SVSTDTC"), on=["USUBJID", "VISITNUM"])
    sv = sv.join(dated.max().rename("SVENDTC"), on=["USUBJID", "VISITNUM"])
    scheduled = {v.visitnum: v for v in state.study.visits}
    known = set(scheduled) | {state.study.early_termination.visitnum}
    sv.insert(0, "STUDYID", state.study.studyid)
    sv.insert(1, "DOMAIN", "SV")
    sv["VISITDY"] = sv["VISITNUM"].map(lambda n: scheduled[n].target_day if n in scheduled else None)
    sv["EPOCH"] = state.epoch(sv["SVSTDTC"], sv["USUBJID"])
    sv["SVSTDY"] = state.study_day(sv["SVSTDTC"], sv["USUBJID"])
    sv["SVENDY"] = state.study_day(sv["SVENDTC"], sv["USUBJID"])
    sv["SVUPDES"] = sv["VISITNUM"].map(lambda n: None if n in known else UNPLANNED)
    _check_windows(state, rows, scheduled)
    return {"SV": sv} if len(sv) else {}


def _check_windows(state: MapState, rows: pd.DataFrame, scheduled: dict) -> None:
    rows = rows[rows["VISITNUM"].isin(list(scheduled)) & rows["DY"].notna()]
    for (subject, visitnum), group in rows.groupby(["USUBJID", "VISITNUM"], sort=True):
        v = scheduled[visitnum]
        lo, hi = v.target_day + v.window[0], v.target_day + v.window[1]
        out = group[(group["DY"] < lo) | (group["DY"] > hi)]
        if out.empty:
            continue
        first = out.iloc[0]
        days = sorted({int(d) for d in group["DY"]})
        span = str(days[0]) if len(days) == 1 else f"{days[0]} to {days[-1]}"
        state.ctx.findings.append(Finding(
            rule="QC-VISIT-WINDOW", severity="warning", dataset=first["form"], variable=first["column"],
            file=state.file(first["form"]), row=int(first[ROW]), usubjid=subject, value=first["DTC"],
            message=f"{v.visit} done on study day {span}, outside its window (target day {v.target_day}, "
                    f"window day {lo} to {hi}); kept as {v.visit}"))

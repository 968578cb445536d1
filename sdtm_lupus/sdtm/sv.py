"""SV: one record per subject visit actually done, summarising the visit-based forms.

SV holds the visits done (SVOCCUR Y; SVPRESP Y for scheduled ones, SDTMIG 3.4; no EPOCH).
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

from sdtm_lupus.distinct import map_distinct
from sdtm_lupus.findings import Finding
from sdtm_lupus.readers.forms import ROW
from sdtm_lupus.sdtm.builder_state import MapState
from sdtm_lupus.specs import load_raw_layout

UNPLANNED = "UNSCHEDULED VISIT"


def visit_rows(state: MapState) -> pd.DataFrame:
    """Rows of the visit-based forms with a VISITNUM: USUBJID, VISITNUM, VISIT, DTC (date), DY, form,
    column (its date column), order (of the form in the export spec), ROW; in visit and date order.

    Of the rows of one form with the same subject, FOLDER and date only the first (in file order)
    is kept: the others have the same visit, date and study day, so SV and its window check
    (which name the first row) cannot tell them apart - and a lab form has one per test."""
    layout = load_raw_layout()
    parts = []
    for order, name in enumerate(layout.forms):
        if name not in state.forms:
            continue
        spec = layout.forms[name]
        if not (spec.visit_based and spec.date_column):
            continue
        cleaned = state.cleaned(name)
        dtc = map_distinct(cleaned[spec.date_column], _date_part)
        first = ~pd.DataFrame({"USUBJID": cleaned["USUBJID"], "FOLDER": cleaned["FOLDER"], "DTC": dtc}).duplicated()
        rows, dtc = cleaned.loc[first, ["USUBJID", "FOLDER", ROW]], dtc[first]
        visitnum, visit = state.visit(rows["USUBJID"], rows["FOLDER"], dtc)
        parts.append(pd.DataFrame({"USUBJID": rows["USUBJID"], "VISITNUM": visitnum, "VISIT": visit,
                                   "DTC": dtc, "DY": state.study_day(dtc, rows["USUBJID"]),
                                   "form": name, "column": spec.date_column, "order": order, ROW: rows[ROW]}))
    columns = ["USUBJID", "VISITNUM", "VISIT", "DTC", "DY", "form", "column", "order", ROW]
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    return frame[frame["VISITNUM"].notna()].sort_values(["USUBJID", "VISITNUM", "DTC", "order", ROW],
                                                         na_position="last", kind="stable")


def _date_part(iso) -> str | None:
    return iso[:10] if isinstance(iso, str) else None


def _text_extremes(text: pd.Series, by: list[pd.Series]) -> tuple[pd.Series, pd.Series]:
    """Smallest and largest text of each group (groupby min / max of strings), compared as integer ranks."""
    codes, uniques = pd.factorize(text, sort=True)
    ranks = pd.Series(codes, index=text.index).groupby(by)
    smallest, largest = ranks.min(), ranks.max()
    return (pd.Series(uniques[smallest.to_numpy()], index=smallest.index, dtype=object),
            pd.Series(uniques[largest.to_numpy()], index=largest.index, dtype=object))


def build(state: MapState) -> dict[str, pd.DataFrame]:
    rows = visit_rows(state)
    by_visit = rows.groupby(["USUBJID", "VISITNUM"], sort=True)
    sv = by_visit["VISIT"].first().reset_index()
    dated = rows[rows["DTC"].notna()]
    first_date, last_date = _text_extremes(dated["DTC"], [dated["USUBJID"], dated["VISITNUM"]])
    sv = sv.join(first_date.rename("SVSTDTC"), on=["USUBJID", "VISITNUM"])
    sv = sv.join(last_date.rename("SVENDTC"), on=["USUBJID", "VISITNUM"])
    scheduled = {v.visitnum: v for v in state.study.visits}
    known = set(scheduled) | {state.study.early_termination.visitnum}
    sv.insert(0, "STUDYID", state.study.studyid)
    sv.insert(1, "DOMAIN", "SV")
    # SDTMIG 3.4: SVPRESP Y for the planned visits (the schedule and early termination, as in TV), null for
    # unscheduled ones; SVOCCUR Y, since only visits that took place are written (no EPOCH in SV)
    sv["SVPRESP"] = sv["VISITNUM"].map(lambda n: "Y" if n in known else None).astype(object)
    sv["SVOCCUR"] = "Y"
    sv["VISITDY"] = sv["VISITNUM"].map(lambda n: scheduled[n].target_day if n in scheduled else None)
    sv["SVSTDY"] = state.study_day(sv["SVSTDTC"], sv["USUBJID"])
    sv["SVENDY"] = state.study_day(sv["SVENDTC"], sv["USUBJID"])
    sv["SVUPDES"] = sv["VISITNUM"].map(lambda n: None if n in known else UNPLANNED)
    _check_windows(state, rows, scheduled)
    return {"SV": sv} if len(sv) else {}


def _check_windows(state: MapState, rows: pd.DataFrame, scheduled: dict) -> None:
    """QC-VISIT-WINDOW per subject and scheduled visit with a row outside the window (see module doc)."""
    rows = rows[rows["VISITNUM"].isin(list(scheduled)) & rows["DY"].notna()]
    lo = rows["VISITNUM"].map({n: v.target_day + v.window[0] for n, v in scheduled.items()})
    hi = rows["VISITNUM"].map({n: v.target_day + v.window[1] for n, v in scheduled.items()})
    keys = ["USUBJID", "VISITNUM"]
    outside = rows[(rows["DY"] < lo) | (rows["DY"] > hi)]
    if outside.empty:
        return
    first_outside = outside.drop_duplicates(keys, keep="first").sort_values(keys, kind="stable")
    days = rows.groupby(keys, sort=False)["DY"].agg(["min", "max"]).rename(columns={"min": "_low", "max": "_high"})
    first_outside = first_outside.join(days, on=keys)      # the study days of the subject's visit
    for first in first_outside.to_dict("records"):
        v = scheduled[first["VISITNUM"]]
        lo_day, hi_day = v.target_day + v.window[0], v.target_day + v.window[1]
        low, high = int(first["_low"]), int(first["_high"])
        span = str(low) if low == high else f"{low} to {high}"
        state.ctx.findings.append(Finding(
            rule="QC-VISIT-WINDOW", severity="warning", dataset=first["form"], variable=first["column"],
            file=state.file(first["form"]), row=int(first[ROW]), usubjid=first["USUBJID"], value=first["DTC"],
            message=f"{v.visit} done on study day {span}, outside its window (target day {v.target_day}, "
                    f"window day {lo_day} to {hi_day}); kept as {v.visit}"))

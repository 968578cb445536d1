"""CM: one record per medication period of the `cm` form (glucocorticoids included, lupus-endpoints §7.4).

CMTRT stays verbatim (English or Chinese); CMDECOD/CMCLAS come from the mapping's drug dictionary,
so the reviewer-facing coded name is English (ASCII). A name the dictionary lacks is kept uncoded
with a warning (never dropped).
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from sdtm_lupus.config.mapping import Drug
from sdtm_lupus.findings import Finding
from sdtm_lupus.readers.forms import ROW, Form
from sdtm_lupus.sdtm.ae import add_timing, definitely_before, ongoing_end, report_duplicates
from sdtm_lupus.sdtm.builder_state import MapState
from sdtm_lupus.sdtm.map_context import SRCROW, MapContext
from sdtm_lupus.sdtm.timing import derive_seq

FORM = "cm"
SUMMED_CLASS = "GLUCOCORTICOID"     # records of one such drug are summed per day (R3.3): overlaps matter
# CM variable <- cleaned cm column, taken as collected (codes already mapped through the mapping's value maps).
CM_COLUMNS = {"CMSPID": "CMSPID", "CMTRT": "CMTRT", "CMINDC": "CMINDC", "CMDOSE": "CMDOSE", "CMDOSU": "CMDOSU",
              "CMDOSFRQ": "CMDOSFRQ", "CMROUTE": "CMROUTE", "CMSTDTC": "CMSTDAT", "CMENDTC": "CMENDAT"}


def build(state: MapState) -> dict[str, pd.DataFrame]:
    if not state.has(FORM):
        return {}
    form, raw = state.forms[FORM], state.cleaned(FORM)
    cm = build_cm(raw, form, state)
    check_cm(raw, cm, form, state.ctx)
    return {"CM": cm}


def build_cm(raw: pd.DataFrame, form: Form, state: MapState) -> pd.DataFrame:
    cm = pd.DataFrame({"STUDYID": state.study.studyid, "DOMAIN": "CM", "USUBJID": raw["USUBJID"]}, index=raw.index)
    for variable, column in CM_COLUMNS.items():
        cm[variable] = raw[column]
    drugs = code_drugs(raw["CMTRT"], state.ctx.mapping.drugs)
    cm["CMDECOD"] = drugs.map(lambda d: d.decod if d else None)
    dictionary_class = drugs.map(lambda d: d.cmclas if d else None)
    cm["CMCLAS"] = dictionary_class.where(dictionary_class.notna(), raw["CMCLASS"])
    cm["CMENRTPT"], cm["CMENTPT"] = ongoing_end(form.data["CMENDAT"].str.strip().eq(""))
    cm["CMSTRTPT"], cm["CMSTTPT"] = start_before_study(cm, state)
    add_timing(cm, "CM", state)
    cm = cm.assign(**state.provenance(raw, FORM))
    cm["CMSEQ"] = derive_seq(cm, ["CMSTDTC", "CMTRT", SRCROW])
    return cm


CONSENT = "INFORMED CONSENT"


def start_before_study(cm: pd.DataFrame, state: MapState) -> tuple[pd.Series, pd.Series]:
    """CMSTRTPT / CMSTTPT (CORE-000892): BEFORE / INFORMED CONSENT where the start is unknown (CMSTDTC
    empty) and the drug was taken before the study: still ongoing at the end of the study (a drug started
    in the study has a known start: the site prescribed it) or ended before informed consent."""
    unknown = cm["CMSTDTC"].isna()
    before = unknown & (cm["CMENRTPT"].notna() | definitely_before(cm["CMENDTC"], state.ref(cm["USUBJID"], "RFICDTC")))
    return (pd.Series("BEFORE", index=cm.index, dtype=object).where(before, None),
            pd.Series(CONSENT, index=cm.index, dtype=object).where(before, None))


def drug_key(name: str) -> str:
    return name.strip().casefold()


def code_drugs(verbatim: pd.Series, dictionary: dict[str, Drug]) -> pd.Series:
    """The dictionary entry of each verbatim name (trimmed, case-insensitive), None when unknown."""
    lookup = {drug_key(name): drug for name, drug in dictionary.items()}
    return verbatim.map(lambda v: lookup.get(drug_key(v)) if isinstance(v, str) else None).astype(object)


def check_cm(raw: pd.DataFrame, cm: pd.DataFrame, form: Form, ctx: MapContext) -> None:
    """Row findings: uncoded names, site class disagreeing with the dictionary, end before start, overlaps."""
    rows = form.data.assign(DICT_CLASS=cm["CMCLAS"])
    checks = [
        ("CM-DRUG-UNCODED", "warning", "CMTRT", cm["CMDECOD"].isna() & cm["CMTRT"].notna(),
         "drug name {value!r} is not in the mapping's drug dictionary: CMDECOD left null, record kept "
         "(excluded from glucocorticoid doses until the dictionary codes it)"),
        ("CM-CLASS-DIFFERS", "notice", "CMCLASS",
         cm["CMDECOD"].notna() & raw["CMCLASS"].notna() & raw["CMCLASS"].ne(cm["CMCLAS"]),
         "site class {value!r} differs from the dictionary class {DICT_CLASS!r} of {CMTRT!r}: dictionary class used"),
        ("CM-END-BEFORE-START", "warning", "CMENDAT", definitely_before(cm["CMENDTC"], cm["CMSTDTC"]),
         "end date {value!r} is before start date {CMSTDAT!r}"),
    ]
    for rule, severity, column, mask, message in checks:
        ctx.report(rule, severity, message, form, column, rows.loc[mask[mask].index])
    report_duplicates(cm, ["USUBJID", "CMTRT", "CMSTDTC"], "CM-DUPLICATE", form, "CMTRT", ctx)
    report_overlaps(cm, form, ctx)


# ---------------------------------------------------------------- overlapping glucocorticoid periods (case 37)

def period_start(iso: str | None) -> date | None:
    """First day of a (possibly partial) ISO date's period (R3.3)."""
    if not isinstance(iso, str):
        return None
    y, m, d = (int(p) for p in (iso[:10].split("-") + ["1", "1"])[:3])
    return date(y, m, d)


def period_end(iso: str | None) -> date | None:
    """Last day of a (possibly partial) ISO date's period (R3.3); None when missing."""
    if not isinstance(iso, str):
        return None
    parts = iso[:10].split("-")
    if len(parts) == 3:
        return date.fromisoformat(iso[:10])
    y, m = int(parts[0]), int(parts[1]) if len(parts) == 2 else 12
    return date(y + (m == 12), m % 12 + 1, 1) - timedelta(days=1)


def overlapping_pairs(cm: pd.DataFrame, summed: pd.Series) -> list[tuple[int, int]]:
    """Index pairs (earlier, later) of records of one subject and CMDECOD whose periods overlap.

    Only records where `summed` holds; an empty end is ongoing; a record without a start is skipped.
    """
    periods = pd.DataFrame({"USUBJID": cm["USUBJID"], "CMDECOD": cm["CMDECOD"],
                            "start": cm["CMSTDTC"].map(period_start),
                            "end": cm["CMENDTC"].map(period_end).where(cm["CMENRTPT"].isna(), date.max)})
    periods = periods[summed & periods["start"].notna() & periods["end"].notna()]
    ordered = periods.sort_values("start", kind="stable")
    # groups numbered in order of first appearance; every (earlier, later) pair of records of a group
    group = ordered.groupby(["USUBJID", "CMDECOD"], sort=False).ngroup().to_numpy()
    records = pd.DataFrame({"g": group, "i": np.arange(len(ordered))})
    both = records.merge(records, on="g", suffixes=("_a", "_b"))
    both = both[both["i_a"] < both["i_b"]]
    g, a, b = (both[c].to_numpy() for c in ("g", "i_a", "i_b"))
    start, end = ordered["start"].to_numpy(dtype=object), ordered["end"].to_numpy(dtype=object)
    overlap = ((start[b] <= end[a]) & (start[a] <= end[b])).astype(bool)
    g, a, b = g[overlap], a[overlap], b[overlap]
    order = np.lexsort((b, a, g))        # group, then earlier record, then later record
    index = ordered.index.to_numpy()
    return list(zip(index[a[order]].tolist(), index[b[order]].tolist()))


def report_overlaps(cm: pd.DataFrame, form: Form, ctx: MapContext) -> None:
    summed = cm["CMCLAS"].eq(SUMMED_CLASS) & cm["CMDECOD"].notna()
    for first, second in overlapping_pairs(cm, summed):
        a, b = form.data.loc[first], form.data.loc[second]
        ctx.findings.append(Finding(
            rule="CM-OVERLAP", severity="notice", dataset=FORM, variable="CMSTDAT", file=form.file,
            row=int(b[ROW]), usubjid=cm.at[second, "USUBJID"], value=b["CMSTDAT"],
            message=f"{cm.at[second, 'CMDECOD']} period {b['CMSTDAT']}..{b['CMENDAT'] or 'ongoing'} overlaps "
                    f"row {int(a[ROW])} ({a['CMSTDAT']}..{a['CMENDAT'] or 'ongoing'}): doses are summed per day "
                    f"(R3.3); check for a double entry"))

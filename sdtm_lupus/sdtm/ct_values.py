"""Raw values that need no mapping entry: a CDISC submission value, or a listed synonym, of the codelist
the column feeds (specs/raw-forms.yaml `codelists`, specs/ct `synonyms`). `ug` is accepted as `ug`, `mcg`
as `ug`, each with one notice per distinct value (not per row) naming the codelist and the NCI code.
"""

from __future__ import annotations

import pandas as pd

from sdtm_lupus.findings import Finding
from sdtm_lupus.readers.forms import ROW, Form
from sdtm_lupus.sdtm.map_context import MapContext
from sdtm_lupus.specs import load_raw_layout

RULE = "MAP-CT-ACCEPTED"


def accept_ct_values(form: Form, column: str, ctx: MapContext, candidates: pd.Series, what: str) -> dict[str, str]:
    """{raw value: submission value} for the distinct `candidates` (raw texts the mapping does not map)
    that are terms or synonyms of the column's target codelist; reports a notice per accepted value."""
    name = load_raw_layout().codelist(form.name, column)
    codelist = ctx.specs.terminology.codelists.get(name) if name else None
    if codelist is None or candidates.empty:
        return {}
    accepted = {}
    for raw in pd.unique(candidates):
        term = codelist.submission_value(raw) if isinstance(raw, str) else None
        if term is None:
            continue
        accepted[raw] = term
        rows = form.data.loc[candidates.index[candidates.eq(raw)], ROW]
        code = codelist.terms[term]
        as_what = "the" if term == raw else f"a synonym of {term!r}, the"
        ctx.findings.append(Finding(
            rule=RULE, severity="notice", dataset=form.name, variable=column, file=form.file, row=int(rows.iloc[0]),
            value=raw, message=f"{column} {raw!r} is {as_what} CDISC submission value of codelist {name}"
                               f"{f' ({code})' if code else ''}: accepted as {term!r} without a `{what}` entry "
                               f"({len(rows)} row(s))"))
    return accepted

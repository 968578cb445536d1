"""Map stage: Forms -> SDTM datasets (DataFrames in spec order, with provenance columns)."""

from __future__ import annotations

import pandas as pd

from sdtm_lupus.findings import Finding
from sdtm_lupus.readers.forms import ROW, Forms
from sdtm_lupus.sdtm.clean import clean_form
from sdtm_lupus.sdtm.context import MapContext, usubjid
from sdtm_lupus.sdtm.dm import build_dm
from sdtm_lupus.sdtm.ex import build_ex, given_doses
from sdtm_lupus.sdtm.subjects import check_folders, check_subjects
from sdtm_lupus.sdtm.timing import derive_study_day
from sdtm_lupus.sdtm.visits import VisitNumbering
from sdtm_lupus.specs import conform_to_spec, load_raw_layout

# Forms each domain is built from; forms not listed are reported as not yet mapped.
DOMAIN_SOURCES = {"DM": ("enrol", "dosing", "disp"), "EX": ("dosing",)}


def map_sdtm(forms: Forms, ctx: MapContext) -> dict[str, pd.DataFrame]:
    """All SDTM datasets this version maps, sorted by their keys, provenance kept."""
    check_subjects(forms, ctx)
    check_folders(forms, ctx)
    layout = load_raw_layout()
    clean = {name: clean_form(forms[name], ctx) for name in ("enrol", "dosing", "disp") if name in forms}
    enrol = clean["enrol"].drop_duplicates("SUBJID", keep="first")
    planned = pd.Series(enrol["ARMCD_RAND"].to_numpy(),
                        index=[usubjid(ctx.study.studyid, s) for s in enrol["SUBJID"]])
    empty_disp = pd.DataFrame(columns=[*layout.columns("disp"), ROW])
    doses = given_doses(clean["dosing"], forms["dosing"], planned, ctx)
    dm = build_dm(enrol, doses, clean.get("disp", empty_disp), ctx, forms["enrol"].file)

    visits = VisitNumbering(ctx.study)
    rfstdtc = doses["USUBJID"].map(dm.set_index("USUBJID")["RFSTDTC"])
    visits.register(doses["USUBJID"], doses["FOLDER"], derive_study_day(doses["EXSTDTC"], rfstdtc),
                    doses["EXSTDTC"])
    visits.finish()
    ex = build_ex(doses, dm, visits, ctx, forms["dosing"].file)

    mapped = {form for sources in DOMAIN_SOURCES.values() for form in sources}
    for name, form in sorted(forms.items()):
        if name not in mapped and len(form):
            ctx.findings.append(Finding(
                rule="MAP-FORM-NOT-MAPPED", severity="notice", dataset=name, file=form.file,
                message=f"{len(form)} rows of form {name} are read and checked but not yet mapped to SDTM"))

    datasets = {"DM": dm, "EX": ex}
    out = {}
    for name, df in datasets.items():
        spec = ctx.specs.dataset(name)
        seq = f"{name}SEQ"
        order = ["STUDYID", "USUBJID", seq] if seq in spec.names else list(spec.keys)
        out[name] = conform_to_spec(df, spec).sort_values(order, kind="stable").reset_index(drop=True)
    return out

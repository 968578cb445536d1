"""Tiny literal raw forms for mapping tests."""

from __future__ import annotations

import pandas as pd

from sdtm_lupus.api import load_configuration, study_specs
from sdtm_lupus.readers.forms import ROW, Form
from sdtm_lupus.sdtm.map_context import MapContext
from sdtm_lupus.specs import load_raw_layout
from tests.paths import STUDIES


def form(name: str, rows: list[dict], studyid: str = "NCT04515719") -> Form:
    """A Form with every reference column ("" when not given), rows numbered from line 2."""
    columns = load_raw_layout().columns(name)
    records = [{c: str(r.get(c, "")) for c in columns} | {"STUDYID": r.get("STUDYID", studyid)} for r in rows]
    data = pd.DataFrame(records, columns=columns).astype(object)
    data[ROW] = range(2, len(rows) + 2)
    return Form(name=name, file=f"{name}.csv", data=data)


def context(study: str = "NCT04515719") -> MapContext:
    st, mapping = load_configuration(STUDIES / f"{study}.yaml", None)
    return MapContext(study=st, mapping=mapping, specs=study_specs(st))


def enrol_row(subjid: str, **kw) -> dict:
    row = {"SITEID": "01", "SUBJID": subjid, "CONSDAT": "01-MAR-2021", "BRTHDAT": "15-JUN-1985", "AGE": "35",
           "SEX": "Female", "RACE": "Asian", "ETHNIC": "Not Hispanic or Latino", "COUNTRY": "CHN",
           "ARMCD_RAND": "BEL2", "ELIGIBLE": "Yes"}
    return row | kw


def dose_row(subjid: str, folder: str, day: str, **kw) -> dict:
    row = {"SITEID": "01", "SUBJID": subjid, "FOLDER": folder, "EXSTDAT": day, "EXSTTIM": "09:00",
           "EXENTIM": "10:05", "WEIGHT_KG": "60", "DOSE_MGKG": "2", "DOSE_MG": "120", "GIVEN": "Yes"}
    return row | kw

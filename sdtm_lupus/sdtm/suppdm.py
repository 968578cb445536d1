"""SUPPDM: collected subject-level items with no DM variable (enrol RANDNO)."""

from __future__ import annotations

import pandas as pd

from sdtm_lupus.sdtm.builder_state import MapState
from sdtm_lupus.sdtm.supp import Qualifier, build_supp

QUALIFIERS = [Qualifier("RANDNO", "Randomization Number", "RANDNO")]


def build(state: MapState) -> dict[str, pd.DataFrame]:
    enrol = state.cleaned("enrol").drop_duplicates("SUBJID", keep="first").set_index("USUBJID")
    dm = state.dm.assign(**{q.column: state.dm["USUBJID"].map(enrol[q.column]) for q in QUALIFIERS})
    supp = build_supp(dm, "DM", QUALIFIERS, idvar=None)
    return {"SUPPDM": supp} if len(supp) else {}

"""SUPPEX: the dose given in mg and the infused volume of each EX record (dosing DOSE_MG, VOLUME_ML; QNAM VOLUMEML: at most 8 characters).

EX records carry the raw row (_row) of their dosing row: that is the link, so EXSEQ is
the one EX derived. EX is taken from state.cache["EX"] when the lead's pipeline put it
there, else rebuilt with ex.build (deterministic, reports nothing twice).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sdtm_lupus.readers.forms import ROW
from sdtm_lupus.sdtm import ex as ex_domain
from sdtm_lupus.sdtm.builder_state import MapState
from sdtm_lupus.sdtm.map_context import SRCROW
from sdtm_lupus.sdtm.supp import Qualifier, build_supp

QUALIFIERS = [Qualifier("DOSE_MG", "Dose Given in mg", "DOSE_MG"),
              Qualifier("VOLUMEML", "Infused Volume (mL)", "VOLUME_ML")]


def build(state: MapState) -> dict[str, pd.DataFrame]:
    ex = state.cache.get("EX")
    if ex is None:
        ex = ex_domain.build(state)["EX"]
    dosing = state.cleaned("dosing").set_index(ROW)
    parent = ex.assign(**{q.column: ex[SRCROW].map(dosing[q.column]).map(_text) for q in QUALIFIERS})
    supp = build_supp(parent, "EX", QUALIFIERS, idvar="EXSEQ")
    return {"SUPPEX": supp} if len(supp) else {}


def _text(value: float) -> str | None:
    return None if pd.isna(value) else np.format_float_positional(value, trim="-")

"""CM: not mapped yet (its forms are read, checked and reported as deferred)."""

from __future__ import annotations

import pandas as pd

from sdtm_lupus.sdtm.state import MapState

FORMS: tuple[str, ...] = ("cm",)


def build(state: MapState) -> dict[str, pd.DataFrame]:
    for form in FORMS:
        if state.has(form):
            state.ctx.defer(state.forms[form])
    return {}

"""What the domain builders share during one mapping run."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

import pandas as pd

from sdtm_lupus.distinct import map_distinct
from sdtm_lupus.readers.forms import ROW, Forms
from sdtm_lupus.sdtm.map_context import FILE, SRCROW, MapContext, usubjid
from sdtm_lupus.sdtm.parse import parse_form
from sdtm_lupus.sdtm.timing import derive_epoch, derive_study_day
from sdtm_lupus.sdtm.visits import VisitNumbering
from sdtm_lupus.specs import load_raw_layout


@dataclass
class MapState:
    ctx: MapContext
    forms: Forms
    _clean: dict[str, pd.DataFrame] = field(default_factory=dict)
    dm: pd.DataFrame | None = None            # set once DM is built (every later domain needs it)
    visits: VisitNumbering | None = None      # set once unscheduled visits are numbered
    cache: dict[str, object] = field(default_factory=dict)  # intermediate results shared by builders

    @property
    def study(self):
        return self.ctx.study

    def has(self, form: str) -> bool:
        return form in self.forms

    def cleaned(self, form: str) -> pd.DataFrame:
        """Typed cells of a form (see parse.py) plus USUBJID; an absent form gives an empty frame."""
        if form not in self._clean:
            if form in self.forms:
                frame = parse_form(self.forms[form], self.ctx)
            else:
                frame = pd.DataFrame(columns=[*load_raw_layout().columns(form), ROW])
            frame["USUBJID"] = map_distinct(frame["SUBJID"], partial(usubjid, self.study.studyid))
            self._clean[form] = frame
        return self._clean[form]

    def file(self, form: str) -> str:
        return self.forms[form].file if form in self.forms else f"{form} (not sent)"

    # -- per-subject reference values from DM, aligned to a domain's USUBJID column --
    def ref(self, usubjids: pd.Series, variable: str) -> pd.Series:
        return usubjids.map(self.dm.set_index("USUBJID")[variable])

    def study_day(self, dtc: pd.Series, usubjids: pd.Series) -> pd.Series:
        return derive_study_day(dtc, self.ref(usubjids, "RFSTDTC"))

    def epoch(self, dtc: pd.Series, usubjids: pd.Series) -> pd.Series:
        return derive_epoch(dtc, self.ref(usubjids, "RFXSTDTC"), self.ref(usubjids, "RFXENDTC"), self.study)

    def visit(self, usubjids: pd.Series, folder: pd.Series, dtc: pd.Series) -> tuple[pd.Series, pd.Series]:
        return self.visits.assign(usubjids, folder, dtc)

    def provenance(self, frame: pd.DataFrame, form: str) -> dict[str, object]:
        """Columns _file/_row for records built one-to-one from the rows of `frame` (a cleaned form)."""
        return {FILE: self.file(form), SRCROW: frame[ROW].to_numpy()}

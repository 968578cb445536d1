"""MH: the SLE diagnosis, one record per enrolled subject (enrol DIAGDAT, partial dates kept)."""

from __future__ import annotations

import pandas as pd

from sdtm_lupus.sdtm.builder_state import MapState

# The one medical-history event the export collects: enrol column with its start date.
# No MHCAT: every record is the primary diagnosis, and a category that groups all records in one
# is no category (CORE-000365); MHCAT returns when MH gets other kinds of history.
DIAGNOSIS = {"MHTERM": "SYSTEMIC LUPUS ERYTHEMATOSUS", "MHDECOD": "Systemic lupus erythematosus"}
DATE_COLUMN = "DIAGDAT"


def build(state: MapState) -> dict[str, pd.DataFrame]:
    enrol = state.cleaned("enrol").drop_duplicates("SUBJID", keep="first")
    dtc = enrol[DATE_COLUMN]
    mh = pd.DataFrame({"STUDYID": state.study.studyid, "DOMAIN": "MH", "USUBJID": enrol["USUBJID"], **DIAGNOSIS,
                       "MHSTDTC": dtc, "MHSTDY": state.study_day(dtc, enrol["USUBJID"])}, index=enrol.index)
    return {"MH": mh.assign(**state.provenance(enrol, "enrol"))}

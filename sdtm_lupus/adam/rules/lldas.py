"""R9 Lupus Low Disease Activity State at an occasion (derivations.md R9; BLLDASFL of R8).

"All of: SLEDAI total <= 4; none of SEIZURE, PSYCHOSIS, ORGBRAIN, VISUAL, CRANIAL, LUPUSHA,
CVA, VASCULIT, UCASTS, HEMATUR, PROTEIN, PYURIA, PLEURISY, PERICARD, FEVER marked; no
descriptor marked that was not marked at the previous occasion; PGA <= 1.0;
prednisone-equivalent daily dose <= 7.5 mg. (The "standard immunosuppressants tolerated"
criterion is assumed met.)"

R8: "`BLLDASFL` (R9 at the baseline SLEDAI occasion; its "previous occasion" is the
screening assessment, and with none, no descriptor counts as new)."

Missing values: derivations.md notation - "A missing value never satisfies a criterion".
LLDAS is a state, so a criterion with a missing input is not met and the result is "N"
(never None): SLEDAI, PGA10 or PRED missing -> "N"; no previous occasion -> "N" unless the
caller asks for the R8 reading (`no_previous="none_new"`).

Input design: the occasion's own columns (SLEDAI, the 24 descriptors, PGA10, PRED = the
prednisone-equivalent daily dose on ADT, supplied by the caller from R3.3) plus PREV_<DESC>
columns holding the previous occasion's descriptors (nullable boolean, all <NA> when there
is no previous occasion). derive_prev_descriptors (previous occasion in OCC order) and
derive_screening_descriptors (the latest screening occasion before, for BLLDASFL) make them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import pandas as pd

from sdtm_lupus.adam.rules.sledai import SLEDAI_DESCRIPTORS
from sdtm_lupus.adam.rules.tables import assert_columns

LLDAS_MAJOR_DESCRIPTORS: tuple[str, ...] = (
    "SEIZURE", "PSYCHOSIS", "ORGBRAIN", "VISUAL", "CRANIAL", "LUPUSHA", "CVA", "VASCULIT",
    "UCASTS", "HEMATUR", "PROTEIN", "PYURIA", "PLEURISY", "PERICARD", "FEVER",
)
LLDAS_SLEDAI_MAX = 4          # SLEDAI total <= 4
LLDAS_PGA10_MAX = 10          # PGA <= 1.0, in exact tenths
LLDAS_PRED_MAX = 7.5          # prednisone-equivalent mg/day <= 7.5
_PRED_DECIMALS = 6            # dose sums are floats (e.g. 6.67 x 0.75): compared at 1e-6 mg

PREV_COLUMNS: tuple[str, ...] = tuple(f"PREV_{d}" for d in SLEDAI_DESCRIPTORS)


def _marked(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """Checkboxes as bools: an empty box is not marked (checkbox convention, as R3.1)."""
    return pd.DataFrame({c: frame[c].astype("boolean").fillna(False).astype(bool) for c in columns}, index=frame.index)


def _shifted_within_subject(occasions: pd.DataFrame, values: pd.DataFrame) -> pd.DataFrame:
    ranked = occasions.sort_values(["USUBJID", "OCC"], kind="stable")
    shifted = values.loc[ranked.index].groupby(ranked["USUBJID"], sort=False).shift(1)
    return shifted


def derive_prev_descriptors(occasions: pd.DataFrame) -> pd.DataFrame:
    """R9: PREV_<DESC> = the descriptors of the subject's previous occasion in OCC order
    (nullable boolean; all <NA> on a subject's first occasion)."""
    assert_columns(occasions, ["USUBJID", "OCC", *SLEDAI_DESCRIPTORS], "derive_prev_descriptors")
    marked = _marked(occasions, SLEDAI_DESCRIPTORS).astype("boolean")
    prev = _shifted_within_subject(occasions, marked).reindex(occasions.index)
    prev.columns = list(PREV_COLUMNS)
    return prev.astype("boolean")


def derive_screening_descriptors(occasions: pd.DataFrame, screening_folders: Iterable[str] = ("SCREENING",)) -> pd.DataFrame:
    """R8 BLLDASFL: PREV_<DESC> = the descriptors of the subject's latest screening occasion
    before this one (OCC order); all <NA> when there is none (e.g. the baseline occasion is
    the screening assessment itself)."""
    assert_columns(occasions, ["USUBJID", "OCC", "FOLDER", *SLEDAI_DESCRIPTORS], "derive_screening_descriptors")
    marked = _marked(occasions, SLEDAI_DESCRIPTORS).astype("boolean")
    is_screening = occasions["FOLDER"].isin(set(screening_folders))
    marked[~is_screening] = pd.NA
    ranked = occasions.sort_values(["USUBJID", "OCC"], kind="stable")
    by = ranked["USUBJID"]
    shifted = marked.loc[ranked.index].groupby(by, sort=False).shift(1)
    prev = shifted.groupby(by, sort=False).ffill().reindex(occasions.index)
    prev.columns = list(PREV_COLUMNS)
    return prev.astype("boolean")


def derive_var_lldas(occasions: pd.DataFrame, *, no_previous: Literal["not_met", "none_new"] = "not_met") -> pd.Series:
    """R9: "Y" when every LLDAS criterion is met at the occasion, else "N".

    Needs SLEDAI, the 24 descriptors, PREV_<DESC> (see module docstring), PGA10 and PRED.
    `no_previous`: what an occasion without a previous occasion (PREV_* all <NA>) means for
    "no descriptor newly marked": "not_met" (R9 default: a missing value never satisfies a
    criterion -> "N") or "none_new" (R8 BLLDASFL: no descriptor counts as new).
    """
    if no_previous not in ("not_met", "none_new"):
        raise ValueError(f"no_previous must be 'not_met' or 'none_new', got {no_previous!r}")
    assert_columns(occasions, ["SLEDAI", *SLEDAI_DESCRIPTORS, *PREV_COLUMNS, "PGA10", "PRED"], "derive_var_lldas")
    marked = _marked(occasions, SLEDAI_DESCRIPTORS)

    sledai = pd.to_numeric(occasions["SLEDAI"], errors="coerce")
    low_sledai = sledai.notna() & (sledai <= LLDAS_SLEDAI_MAX)
    no_major = ~marked[list(LLDAS_MAJOR_DESCRIPTORS)].any(axis=1)

    prev = occasions[list(PREV_COLUMNS)].astype("boolean")
    has_prev = prev.notna().all(axis=1)
    prev_marked = prev.fillna(False).astype(bool)
    newly = pd.Series(False, index=occasions.index)
    for d, p in zip(SLEDAI_DESCRIPTORS, PREV_COLUMNS):
        newly |= marked[d] & ~prev_marked[p]
    newly &= has_prev                       # without a previous occasion nothing is "newly" marked ...
    no_new = ~newly if no_previous == "none_new" else has_prev & ~newly   # ... but R9 needs one (not met)

    pga10 = occasions["PGA10"].astype("Int64")
    low_pga = (pga10.notna() & (pga10.fillna(LLDAS_PGA10_MAX + 1) <= LLDAS_PGA10_MAX)).astype(bool)
    pred = pd.to_numeric(occasions["PRED"], errors="coerce").astype("float64")
    low_pred = pred.notna() & (pred.round(_PRED_DECIMALS) <= LLDAS_PRED_MAX)

    met = low_sledai & no_major & no_new & low_pga & low_pred
    return pd.Series(["Y" if m else "N" for m in met], index=occasions.index, dtype=object, name="LLDAS")


def derive_var_blldasfl(occasions: pd.DataFrame, ablfl: pd.Series, screening_folders: Iterable[str] = ("SCREENING",)) -> pd.Series:
    """R8 BLLDASFL: R9 at the baseline SLEDAI occasion (`ablfl` = derive_var_ablfl(..., "SLEDAI")),
    its previous occasion being the latest screening occasion before it (none -> no descriptor
    counts as new). "Y"/"N" on the ABLFL row, None on every other row; the caller moves it to
    ADSL (a subject without a baseline occasion gets no BLLDASFL). PRED must be the dose on the
    occasion date (R9), supplied by the caller."""
    assert_columns(occasions, ["USUBJID", "OCC", "FOLDER", "SLEDAI", *SLEDAI_DESCRIPTORS, "PGA10", "PRED"],
                   "derive_var_blldasfl")
    if not ablfl.index.equals(occasions.index):
        raise ValueError("derive_var_blldasfl: ablfl must share the occasions index")
    frame = occasions.drop(columns=[c for c in PREV_COLUMNS if c in occasions.columns])
    frame = frame.join(derive_screening_descriptors(occasions, screening_folders))
    lldas = derive_var_lldas(frame, no_previous="none_new")
    is_base = ablfl.eq("Y").fillna(False).astype(bool)
    return lldas.where(is_base, None).astype(object).rename("BLLDASFL")

"""R2.1 Baseline per instrument (derivations.md R2).

"Baseline of an instrument (SELENA-SLEDAI, PGA, BILAG, each separately) is its last
non-missing assessment dated on or before day 1 (screening counts); a BILAG assessment is
non-missing only when all nine systems are graded. `ABLFL = Y` on it."

Works on OCCASIONS: a pga/bilag row that joined no occasion (R1.1) is not a baseline
candidate. A subject without a baseline simply has no ABLFL row (R2.2's consequences -
SRI `BASELINE MISSING`, CHG missing - belong to the SRI/ADEFF rules); a subject without
TRTSDT (never dosed) has no day 1 and so no baseline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import numpy as np
import pandas as pd

from sdtm_lupus.adam.rules.bilag import BILAG_SYSTEMS, compute_bilag_complete
from sdtm_lupus.adam.rules.occasions import nones
from sdtm_lupus.adam.rules.tables import assert_columns, date_ordinals, per_subject

# The OCCASIONS columns that carry each instrument's value.
INSTRUMENT_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "SLEDAI": ("SLEDAI",),
    "PGA": ("PGA10",),
    "BILAG": BILAG_SYSTEMS,
}


def _columns(instrument: str) -> tuple[str, ...]:
    try:
        return INSTRUMENT_COLUMNS[instrument]
    except KeyError:
        raise ValueError(f"instrument must be one of {sorted(INSTRUMENT_COLUMNS)}, got {instrument!r}") from None


def compute_instrument_present(occasions: pd.DataFrame, instrument: str) -> pd.Series:
    """R2.1: True where the occasion carries a non-missing assessment of the instrument
    (BILAG: all nine systems graded)."""
    cols = _columns(instrument)
    assert_columns(occasions, cols, "compute_instrument_present")
    if instrument == "BILAG":
        return compute_bilag_complete(occasions)
    return occasions[cols[0]].notna().astype(bool)


def derive_var_ablfl(occasions: pd.DataFrame, trtsdt_by_subject: Mapping[str, date | None] | pd.Series,
                     instrument: str) -> pd.Series:
    """R2.1: "Y" on the subject's last occasion dated on or before TRTSDT (day 1) that has a
    non-missing assessment of `instrument` ("SLEDAI", "PGA", "BILAG"); None elsewhere.

    At most one "Y" per subject: of two candidates on one date, the later in OCC order.
    `trtsdt_by_subject`: USUBJID -> TRTSDT (a dict or a Series indexed by USUBJID).
    """
    cols = _columns(instrument)
    assert_columns(occasions, ["USUBJID", "OCC", "ADT", *cols], "derive_var_ablfl")
    trtsdt = date_ordinals(pd.Series(per_subject(occasions["USUBJID"], trtsdt_by_subject)))
    present = compute_instrument_present(occasions, instrument)
    with np.errstate(invalid="ignore"):     # NaN (a missing date) compares False
        pre_dose = pd.Series(date_ordinals(occasions["ADT"]) <= trtsdt, index=occasions.index, dtype=bool)
    candidates = occasions[present & pre_dose]
    flag = nones(occasions.index, name="ABLFL")
    if candidates.empty:
        return flag
    ranked = candidates.sort_values(["ADT", "OCC"], kind="stable")
    chosen = ranked.groupby("USUBJID", sort=False).tail(1).index
    flag[occasions.index.isin(chosen)] = "Y"
    return flag


def _typed(values: pd.Series, dtype) -> pd.Series:
    """Integer columns stay integers (Int64, <NA> when missing); others object with None."""
    if pd.api.types.is_integer_dtype(dtype):
        return values.astype("Int64")
    return values.astype(object).where(values.notna(), None)


def compute_baseline_values(occasions: pd.DataFrame, ablfl: pd.Series, columns: Sequence[str]) -> pd.DataFrame:
    """One row per subject of `occasions` (first-appearance order, index USUBJID): the
    `columns` of its ABLFL = "Y" occasion plus BASEOCC (its OCC) and BASEDT (its ADT);
    all missing when the subject has no baseline (kept visible, never dropped)."""
    assert_columns(occasions, ["USUBJID", "OCC", "ADT", *columns], "compute_baseline_values")
    if not ablfl.index.equals(occasions.index):
        raise ValueError("compute_baseline_values: ablfl must share the occasions index")
    subjects = pd.Index(pd.unique(occasions["USUBJID"]), name="USUBJID")
    base = occasions[ablfl.eq("Y").fillna(False).astype(bool)]
    if base["USUBJID"].duplicated().any():
        raise ValueError("compute_baseline_values: more than one ABLFL = Y occasion for a subject")
    base = base.set_index("USUBJID")
    out = {c: _typed(base[c].reindex(subjects), occasions[c].dtype) for c in columns}
    out["BASEOCC"] = base["OCC"].reindex(subjects).astype("Int64")
    out["BASEDT"] = _typed(base["ADT"].reindex(subjects), occasions["ADT"].dtype)
    frame = pd.DataFrame(out, index=subjects)
    return frame


def derive_var_base(occasions: pd.DataFrame, ablfl: pd.Series, columns: Sequence[str]) -> pd.DataFrame:
    """The subject's baseline `columns` on every occasion row (aligned to the occasions index);
    missing when the subject has no baseline. E.g. BASE of SLEDAI, or the nine baseline BILAG
    grades for bilag.compute_bilag_new."""
    values = compute_baseline_values(occasions, ablfl, columns)
    out = values.loc[:, list(columns)].reindex(occasions["USUBJID"].to_numpy())
    out.index = occasions.index
    return out

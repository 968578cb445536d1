"""The shared rule tables: their contracts, and the helpers that check and read them.

Derivation rules of ../shared/docs/derivations.md (R1-R9): one small pure function per rule.
Verb grammar (as pharmaverse admiral): `derive_var_*` adds a column, `derive_param_*`
returns a parameter's rows, `compute_*` works on values. Pure: no I/O, no printing, never
re-sorting the input (results align to the input index); each first asserts the columns
it needs (`assert_columns`). Rule parameters come from `Study.rules` (RuleParameters).

Shared table contracts (column names; dates are `datetime.date` or None, never text):

OCCASIONS - one row per occasion (R1), built from SDTM QS by adam/occasion_table.py:
  USUBJID str; OCC int (1..n per subject, date order); FOLDER str (scheduled visit name as
  in the visit folder, e.g. "WEEK 4", "SCREENING", or "UNSCHEDULED" / "EARLY TERMINATION");
  SCHEDULED bool; AVISIT str|None ("Week 4"); AVISITN float|None (4); ADT date; ADY int;
  ANL01FL "Y"|None (R1.3); QSSEQ float (traceability: the SITETOT record, else first item);
  24 SLEDAI descriptor columns named as the export (SEIZURE ... LEUKOPEN): bool;
  SLEDAI int (R3.1 total); PGA10 Int64 (PGA in exact tenths: 1.5 -> 15) or <NA>;
  BILAG grades CONST MUCOCUT NEURO MUSCULO CARDRESP GASTRO OPHTHAL RENAL HAEM: "A".."E"|None;
  flare CRF (NCT04515719): FLCRF "NONE"/"MILD/MODERATE"/"SEVERE"|None; MM_NEWWORSE,
  SV_NEWWORSE, SV_HOSP: bool|None; FLAREDT date|None.
SUBJECTS - one row per subject: USUBJID; TRTSDT date|None (first infusion given);
  TRTEDT; DSDECOD str|None ("COMPLETED", ...); DSSTDT date|None; SCRWEIGHT float|None.
MEDS - CM records with imputed dates (R3.3 / derivations notation): USUBJID; CMSEQ;
  CMDECOD str|None; CMCLAS str|None (GLUCOCORTICOID, ANTIMALARIAL, IMMUNOSUPPRESSANT, NSAID,
  OTHER); CMINDC str|None; CMDOSE float|None; CMDOSFRQ str|None (QD, BID, TID, QOD,
  EVERY WEEK, ONCE); PREDFACT float|None (prednisone mg-equivalent per mg; None = not a
  glucocorticoid or not coded); STARTDT date|None (partial start -> first day of its period;
  fully unknown -> None meaning "before the study"); ENDDT date|None (partial end -> last day
  of its period; None = ongoing).
WEIGHTS - USUBJID; DATE date; WEIGHT float (dosing weights and the screening weight).
EVENTS - AE records: USUBJID; AESEQ; AESTDT date|None; AESHOSP "Y"/"N"/None; AESLE "Y"/"N"/None.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

import numpy as np
import pandas as pd

from sdtm_lupus.distinct import map_distinct


def assert_columns(df: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{what}: missing required columns {missing}")


def as_date(value: object) -> date | None:
    """Strict: datetime.date, or None for None/NaT/NaN; a Timestamp/datetime is reduced to its
    date; anything else (text, a number) is a TypeError."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    raise TypeError(f"not a date: {value!r}")


def as_date_or_none(value: object) -> date | None:
    """Lenient: datetime.date (a Timestamp/datetime reduced to its date); None for anything
    else (None, NaT, NaN, text, numbers)."""
    if value is None or value is pd.NaT or (not isinstance(value, (date, str)) and pd.isna(value)):
        return None
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


def as_float(value: object) -> float | None:
    """A number as float; None for None, NaN, <NA> and text."""
    if value is None or isinstance(value, str) or pd.isna(value):
        return None
    return float(value)


def date_ordinals(values: pd.Series) -> np.ndarray:
    """Dates (strict, as `as_date`) as float day numbers (`date.toordinal`), NaN when missing:
    computed once per distinct value, so dates compare and subtract as numbers."""
    def ordinal(value) -> float:
        d = as_date(value)
        return np.nan if d is None else float(d.toordinal())
    return map_distinct(values, ordinal).to_numpy(dtype="float64")


def per_subject(usubjid: pd.Series, by_subject) -> np.ndarray:
    """`by_subject.get(u)` for each row's subject (a Mapping or a Series indexed by USUBJID),
    looked up once per distinct subject; an object array aligned to `usubjid`."""
    codes, uniques = pd.factorize(usubjid, use_na_sentinel=False)
    table = np.empty(len(uniques), dtype=object)
    for i, u in enumerate(uniques):
        table[i] = by_subject.get(u)
    return table[codes]

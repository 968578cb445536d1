"""Day numbers and the days a CM record is active (derivations.md R3.3 and notation).

The one definition of "a MEDS record is active on a day", used by the daily dose (R3.3,
steroid_dose.py), treatment failure (R4.6a, treatment_failure.py) and the flare criteria
(R5, flares.py): STARTDT <= day <= ENDDT, STARTDT None = started before the study, ENDDT
None = ongoing; a ONCE record on its STARTDT only (never when it has no STARTDT).

Day numbers are proleptic ordinals (1 = 0001-01-01). BEFORE (0) stands for "before the
study" (an unknown start) and ONGOING for "no end"; both lie outside every real date.
"""

from __future__ import annotations

import re
from datetime import date

import numpy as np
import pandas as pd

ONCE = "ONCE"

EPOCH_ORDINAL = 719_163              # date(1970, 1, 1).toordinal()
BEFORE = 0
NEVER = 1 << 22                      # > date(9999, 12, 31).toordinal() + 1
ONGOING = NEVER - 1                  # the last day of a record without end
SUBJECT_STRIDE = 1 << 23             # subject code x SUBJECT_STRIDE + day number: one sortable key

_SLE_WORD = re.compile(r"(?<![A-Za-z0-9])SLE(?![A-Za-z0-9])", re.IGNORECASE)


def day_numbers(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Dates (date / Timestamp / None) -> (int64 ordinals, valid mask)."""
    if len(values) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
    codes, uniques = pd.factorize(values.to_numpy(dtype=object))     # converted once per distinct date
    stamps = pd.to_datetime(pd.Series(np.asarray(uniques, dtype=object), dtype=object), errors="raise")
    table_valid = np.append(stamps.notna().to_numpy(), False)         # code -1: a missing value
    table_days = np.zeros(len(table_valid), dtype=np.int64)
    table_days[:-1][table_valid[:-1]] = stamps[table_valid[:-1]].to_numpy().astype("datetime64[D]").astype(np.int64) \
        + EPOCH_ORDINAL
    return table_days[codes], table_valid[codes]


def normalised(values: pd.Series) -> pd.Series:
    """Coded text as compared by the rules: stripped, upper case; None when missing (a blank
    text stays "": the callers that need a value test for it)."""
    return values.astype(object).where(values.notna(), None).map(
        lambda v: v.strip().upper() if isinstance(v, str) else None)


def compute_active_days(meds: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(first, last) day number of each MEDS record, aligned to its rows: the record is active
    on day d when first <= d <= last (module docstring; a ONCE record without STARTDT gets
    last < first: active on no day)."""
    start, has_start = day_numbers(meds["STARTDT"])
    end, has_end = day_numbers(meds["ENDDT"])
    once = (normalised(meds["CMDOSFRQ"]) == ONCE).to_numpy()
    first = np.where(has_start, start, BEFORE)
    last = np.where(once, np.where(has_start, start, BEFORE - 1), np.where(has_end, end, ONGOING))
    return first, last


def is_active_on(first: int, last: int, day: date | None) -> bool:
    """One record (its compute_active_days span) active on `day`; never on a missing day."""
    return day is not None and first <= day.toordinal() <= last


def is_sle_indication(text: object) -> bool:
    """derivations.md notation: CMINDC contains the word `SLE` or the text `lupus` (any case).

    "Word" = not preceded or followed by an ASCII letter or digit ("SLE flare", "SLE-related"
    yes; "sleep", "measles" no).
    """
    if not isinstance(text, str):
        return False
    return bool(_SLE_WORD.search(text)) or "lupus" in text.lower()

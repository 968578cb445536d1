"""Per-value Python functions applied once per distinct value, not once per row.

Clinical data repeat heavily (a few thousand distinct dates, codes or subject ids over
millions of rows), so a function of one value is evaluated on the distinct values
(`pd.factorize`) and its results are taken back to every row by code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

_type_of = np.frompyfunc(type, 1, 1)


def map_distinct(values: pd.Series, fn: Callable[[Any], Any], dtype: Any = object) -> pd.Series:
    """`values.map(fn)` with fn called once per distinct value (same index; the given dtype).

    Distinct values are told apart by equality and hash, as dict keys are: use it on text,
    dates and the like, not on a mix of 1, 1.0 and True. Missing values are grouped by their
    type (None, NaN, pd.NA, NaT), so fn may treat them differently.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    table = _results(fn, uniques)
    out = np.empty(len(codes), dtype=object)
    found = codes >= 0
    out[found] = table[codes[found]]
    missing = np.flatnonzero(~found)
    if len(missing):
        out[missing] = _missing_results(fn, values.to_numpy(dtype=object)[missing])
    return pd.Series(out, index=values.index, dtype=dtype)


def _results(fn: Callable[[Any], Any], uniques) -> np.ndarray:
    table = np.empty(len(uniques), dtype=object)
    for i, value in enumerate(uniques):      # item by item: a result may itself be a tuple
        table[i] = fn(value)
    return table


def _missing_results(fn: Callable[[Any], Any], missing: np.ndarray) -> np.ndarray:
    """fn of each missing value, called once per kind of missing value."""
    kinds, _ = pd.factorize(_type_of(missing))
    out = np.empty(len(missing), dtype=object)
    for kind in range(kinds.max() + 1):
        rows = kinds == kind
        out[rows] = _results(fn, missing[rows][:1])     # a one-item array, broadcast
    return out


def shared_text(values: pd.Series) -> pd.Series:
    """The same values with one object per distinct value (rows built one by one, e.g. read from a
    CSV file or joined row by row, each hold their own copy: millions of them on a large lab form)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    table = np.append(np.asarray(uniques, dtype=object), None)
    return pd.Series(table[codes], index=values.index, dtype=object).where(codes >= 0, values)

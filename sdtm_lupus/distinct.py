"""Per-value Python functions applied once per distinct value, not once per row.

Clinical data repeat heavily (a few thousand distinct dates, codes or subject ids over
millions of rows), so a function of one value is evaluated on the distinct values
(`pd.factorize`) and its results are taken back to every row by code.
"""

from __future__ import annotations

import contextlib
import ctypes
from collections.abc import Callable, Iterator
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


# ---------------------------------------------------------------- shared column factorisations
# Writing one output folder reads each column several times: XPT checks, storage lengths and bytes,
# define.xml data types, lengths, value-level subsets and codelist terms, the reviewer's guide
# conditions. All of them need only the column's pd.factorize (codes + distinct values). Inside
# `shared_factorisations()` (write_output_folder wraps the filling of the staging folder with it: the
# frames do not change meanwhile) each column is factorised once; outside it every call computes afresh.

_SCOPES: list[dict] = []
SHARED_MIN_ROWS = 10_000     # shorter columns: pd.factorize at once
OBJECTS_BY_ADDRESS = 1 << 16    # up to this many distinct objects: taken from their addresses


@contextlib.contextmanager
def shared_factorisations() -> Iterator[None]:
    """Reuse the factorisation of a column (by frame and name) until the block ends."""
    _SCOPES.append({})
    try:
        yield
    finally:
        _SCOPES.pop()


def forget_factorisations() -> None:
    """Drop what shared_factorisations() holds so far (e.g. once a folder's datasets are described)."""
    if _SCOPES:
        _SCOPES[-1].clear()


def small_codes(codes: np.ndarray, distinct: int) -> np.ndarray:
    """The codes in the smallest signed integer type holding -1 ... distinct (all columns of a
    large dataset are held at once: 1-2 bytes a cell instead of 8)."""
    for dtype in (np.int8, np.int16, np.int32):
        if distinct < np.iinfo(dtype).max:
            return codes.astype(dtype)
    return codes


def factorized(df: pd.DataFrame, name: str) -> tuple[np.ndarray, pd.Index]:
    """pd.factorize of column `name` of df: (codes in the smallest integer type, -1 = missing;
    the distinct non-missing values in order of first occurrence). Read-only: shared."""
    cache = _SCOPES[-1] if _SCOPES else None
    key = (id(df), name)
    if cache is not None and key in cache:
        return cache[key][1]
    codes, uniques = _factorize(df[name])
    result = (small_codes(codes, len(uniques)), uniques)
    result[0].flags.writeable = False
    if cache is not None:
        cache[key] = (df, result)       # holding df keeps its id from being reused in the scope
    return result


def _factorize(series: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """pd.factorize(series), faster for an object column whose rows share few objects (the mapping
    gives one object per distinct text): the rows are grouped by object first (by the object
    addresses the array holds, read as integers), then the objects by value. The codes and the
    distinct values are the same: one object is one value, and the objects come in the order of
    their first row."""
    values = series.to_numpy()
    if series.dtype != object or values.ndim != 1 or not values.flags.c_contiguous or len(values) < SHARED_MIN_ROWS:
        return pd.factorize(series)
    addresses = np.ctypeslib.as_array((ctypes.c_ssize_t * len(values)).from_address(values.ctypes.data))
    by_object, objects = pd.factorize(addresses)
    if len(objects) > len(values) // 4:
        return pd.factorize(series)     # hardly shared: grouping by object first would not pay
    codes, uniques = pd.factorize(_objects(values, by_object, objects))
    return codes[by_object], pd.Index(uniques, dtype=object)


def _objects(values: np.ndarray, by_object: np.ndarray, addresses: np.ndarray) -> np.ndarray:
    """The distinct objects of `values` in order of first row (addresses: theirs, in that order)."""
    if len(addresses) <= OBJECTS_BY_ADDRESS:     # alive: `values` holds them
        objects = np.empty(len(addresses), dtype=object)
        for i, address in enumerate(addresses.tolist()):
            objects[i] = ctypes.cast(address, ctypes.py_object).value
        return objects
    # codes are numbered in order of appearance: an object's first row is where the running maximum grows
    running = np.maximum.accumulate(by_object)
    return values[np.flatnonzero(np.diff(running, prepend=-1) > 0)]


def derived(obj, kind: str, compute):
    """compute(obj), once per object and kind inside shared_factorisations() (obj: e.g. the distinct values of a column)."""
    cache = _SCOPES[-1] if _SCOPES else None
    if cache is None:
        return compute(obj)
    key = (id(obj), kind)
    if key not in cache:
        cache[key] = (obj, compute(obj))
    return cache[key][1]


def all_text(df: pd.DataFrame, name: str) -> bool:
    """Every non-missing value of the column is a str (as pd.api.types.infer_dtype(skipna=True) in
    ("string", "empty")); inside shared_factorisations(), an object column is judged on its distinct values."""
    series = df[name]
    if series.dtype != object or not _SCOPES:
        return pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty")
    return all(isinstance(u, str) for u in factorized(df, name)[1])


def distinct_values(df: pd.DataFrame, name: str) -> np.ndarray:
    """The distinct non-missing values of a column, in order of first occurrence."""
    return np.asarray(factorized(df, name)[1])

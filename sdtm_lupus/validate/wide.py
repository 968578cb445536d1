"""Wide Great Expectations batches: one GE expectation per check kind for the whole run.

GE costs a fixed few milliseconds per expectation, whatever the rows, so a thousand narrow
expectations (one per variable and rule) cost seconds even on a tiny study. Here every column is
factorised once (its distinct values and, per row, a code), and the column checks run on tables of
distinct values instead of on the rows:

- not_null, in_set, regex, max_bytes: one table of (check, distinct value) rows per kind; GE checks
  it with one expectation (in_set: each value keyed by its check, against every check's keyed
  terms; max_bytes: each value's UTF-8 bytes less its check's limit, at most 0); each failing
  distinct value is mapped back to the rows that hold it through the codes;
- unique: one GE batch per dataset holding one id column per uniqueness check (the key
  combination, factorised; null where every key is null, as GE's compound check ignores those
  rows), one ExpectColumnValuesToBeUnique each.

Every check still gets its own stable id, element count, exact unexpected count and failing
records, the same as one narrow expectation per check would give (tests/validate/test_gate_wide.py
compares both engines).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pandas as pd

from sdtm_lupus.distinct import small_codes
from sdtm_lupus.validate.results import MAX_EXAMPLES, MAX_RECORDS, Expectation, ExpectationResult

VALUE_KINDS = ("not_null", "in_set", "regex", "max_bytes")
WIDE_KINDS = (*VALUE_KINDS, "unique")
KEY_SEP, OTHER_SEP = "\x1f", "\x1e"     # in_set keys: check number + value; a non-text value never matches
COMBINE_LIMIT = 2 ** 62


class Factorized:
    """Each column of one dataset factorised once: codes per row (-1: null or "") and the distinct values."""

    def __init__(self, df: pd.DataFrame):
        self.df = df
        self._raw: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._nbytes: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.df)

    def raw_codes(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        """pd.factorize of the column as it is ("" a value like any other)."""
        if column not in self._raw:
            codes, uniques = pd.factorize(self.df[column], use_na_sentinel=True)
            self._raw[column] = (small_codes(codes, len(uniques)), np.asarray(uniques, dtype=object))
        return self._raw[column]

    def codes(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        """Codes and distinct values with "" as null (SDTM's empty value), as the checks see them."""
        if column not in self._cache:
            codes, uniques = self.raw_codes(column)
            empty = np.flatnonzero([isinstance(u, str) and u == "" for u in uniques])
            if len(empty):
                e = int(empty[0])
                codes = np.where(codes == e, -1, codes - (codes > e))
                uniques = np.delete(uniques, e)
            self._cache[column] = (codes, uniques)
        return self._cache[column]

    def nbytes(self, column: str) -> np.ndarray:
        """UTF-8 byte length of each distinct value (NaN for a value that is not text)."""
        if column not in self._nbytes:
            _, uniques = self.codes(column)
            self._nbytes[column] = np.array([len(u.encode("utf-8")) if isinstance(u, str) else np.nan
                                             for u in uniques], dtype=float)
        return self._nbytes[column]

    def group_ids(self, columns: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        """One id per distinct combination of the columns (0, 1, 2...), and where every column is null."""
        all_null = np.ones(len(self.df), dtype=bool)
        ids = np.zeros(len(self.df), dtype=np.int64)
        for column in columns:
            codes, uniques = self.codes(column)
            all_null &= codes == -1
            if int(ids.max(initial=0) + 1) * (len(uniques) + 1) >= COMBINE_LIMIT:
                ids = pd.factorize(ids)[0].astype(np.int64)
            ids = ids * (len(uniques) + 1) + (codes + 1)
        return pd.factorize(ids)[0].astype(np.int64), all_null


@dataclass
class WideCheck:
    """One value check: its expectation and the factorised dataset it reads."""

    expectation: Expectation
    data: Factorized
    examples: Callable[[np.ndarray, tuple[str, ...], int], list[dict]]

    @property
    def column(self) -> str:
        return self.expectation.variables[0]


def run_wide(checks: list[WideCheck], gx) -> list[ExpectationResult]:
    """Results of value and uniqueness checks, in the order given. `gx` runs one GE batch:
    gx(name, frame, [(id, class name, kwargs)], result_format) -> {id: (success, result dict, error)}."""
    results = _run_values([c for c in checks if c.expectation.kind in VALUE_KINDS], gx)
    results |= _run_unique([c for c in checks if c.expectation.kind == "unique"], gx)
    return [results[c.expectation.id] for c in checks]


# --------------------------------------------------------------------------- distinct-value checks

@dataclass
class _Table:
    """One wide expectation's column of distinct values, with each row's check and distinct-value code."""

    name: str
    kind: str
    checks: list[WideCheck]
    values: pd.Series
    owner: np.ndarray
    code: np.ndarray
    pattern: str | None = None


def _run_values(checks: list[WideCheck], gx) -> dict[str, ExpectationResult]:
    """One GE batch: a column of distinct values per kind (regex: per pattern), one expectation each.
    Columns are padded to one length with values their expectation passes (null; not_null: "")."""
    groups: dict[tuple[str, Any], list[WideCheck]] = {}
    for c in checks:
        groups.setdefault((c.expectation.kind, c.expectation.params.get("regex")), []).append(c)
    tables = [_table(f"v{g}", kind, members, pattern) for g, ((kind, pattern), members) in enumerate(groups.items())]
    if not tables:
        return {}
    length = max(len(t.values) for t in tables)
    frame = pd.DataFrame({t.name: _padded(t, length) for t in tables})
    outcome = gx("wide.values", frame, [(t.name, *_gx_expectation(t)) for t in tables], {"result_format": "COMPLETE"})
    out = {}
    for t in tables:
        success, result, error = outcome[t.name]
        bad = np.asarray(result.get("unexpected_index_list") or [], dtype=np.int64)
        for i, c in enumerate(t.checks):
            out[c.expectation.id] = _value_result(c, error, t.code[bad[t.owner[bad] == i]])
    return out


def _table(name: str, kind: str, checks: list[WideCheck], pattern: str | None) -> _Table:
    values, owner, code = [], [], []
    sets = _value_sets(checks) if kind == "in_set" else {}
    for i, c in enumerate(checks):
        codes, uniques = c.data.codes(c.column)
        if kind == "not_null":      # the distinct values, and one null row if the column has nulls
            has_null = bool((codes == -1).any())
            vals = [*uniques, *([None] * has_null)]
            vals_code = np.array([*range(len(uniques)), *([-1] * has_null)], dtype=np.int64)
        else:
            vals, vals_code = list(uniques), np.arange(len(uniques))
            if kind == "in_set":
                k = sets[tuple(c.expectation.params["value_set"])]
                vals = [f"{k}{KEY_SEP}{v}" if isinstance(v, str) else f"{k}{OTHER_SEP}{v!r}" for v in vals]
            elif kind == "max_bytes":
                vals = list(c.data.nbytes(c.column) - c.expectation.params["max"])
        values += vals
        owner.append(np.full(len(vals), i))
        code.append(vals_code)
    series = pd.Series(values, dtype=float if kind == "max_bytes" else object)
    return _Table(name, kind, checks, series, _concat(owner), _concat(code), pattern)


def _value_sets(checks: list[WideCheck]) -> dict[tuple, int]:
    """Each distinct value set (codelist) once, numbered: the in_set key prefix of its checks' values."""
    return {terms: k for k, terms in enumerate(dict.fromkeys(tuple(c.expectation.params["value_set"]) for c in checks))}


def _padded(t: _Table, length: int) -> pd.Series:
    filler = "" if t.kind == "not_null" else np.nan if t.kind == "max_bytes" else None
    pad = pd.Series([filler] * (length - len(t.values)), dtype=t.values.dtype)
    return pd.concat([t.values, pad], ignore_index=True)


def _gx_expectation(t: _Table) -> tuple[str, dict]:
    if t.kind == "not_null":
        return "ExpectColumnValuesToNotBeNull", {"column": t.name}
    if t.kind == "regex":
        return "ExpectColumnValuesToMatchRegex", {"column": t.name, "regex": t.pattern}
    if t.kind == "max_bytes":
        return "ExpectColumnValuesToBeBetween", {"column": t.name, "max_value": 0}
    keyed = [f"{k}{KEY_SEP}{term}" for terms, k in _value_sets(t.checks).items() for term in terms]
    return "ExpectColumnValuesToBeInSet", {"column": t.name, "value_set": keyed}


def _value_result(c: WideCheck, error: str | None, bad_codes: np.ndarray) -> ExpectationResult:
    if error:   # a check that could not run is a failure: the gate never passes unchecked data
        return ExpectationResult(c.expectation, "failed", note=f"GE error: {error}")
    codes, _ = c.data.codes(c.column)
    positions = np.flatnonzero(np.isin(codes, bad_codes)) if len(bad_codes) else np.empty(0, dtype=np.int64)
    return _rows_result(c, len(codes), len(positions), positions[:MAX_RECORDS])


def _rows_result(c: WideCheck, element_count: int, unexpected: int, positions) -> ExpectationResult:
    records = c.examples(positions, c.expectation.variables, MAX_RECORDS)
    return ExpectationResult(c.expectation, "failed" if unexpected else "passed", element_count, unexpected,
                             records[:MAX_EXAMPLES], records=records)


# --------------------------------------------------------------------------- uniqueness

def _run_unique(checks: list[WideCheck], gx) -> dict[str, ExpectationResult]:
    """One GE expectation on one column: every check's key-combination ids, shifted so that two
    checks never share an id; an unexpected row maps back to its check and row by the offsets."""
    if not checks:
        return {}
    sizes = [len(c.data) for c in checks]
    offsets = np.concatenate([[0], np.cumsum(sizes)]).tolist()
    keys = np.empty(offsets[-1], dtype=np.int64 if offsets[-1] >= 2 ** 31 else np.int32)
    nulls = np.empty(offsets[-1], dtype=bool)
    shift = 0
    for i, c in enumerate(checks):       # filled in place: one key column, not a copy per check
        ids, all_null = c.data.group_ids(c.expectation.variables)
        keys[offsets[i]:offsets[i + 1]] = ids + shift
        nulls[offsets[i]:offsets[i + 1]] = all_null     # rows GE's compound check ignores: null keys
        shift += int(ids.max(initial=-1)) + 1
        del ids, all_null
    frame = pd.DataFrame({"key": pd.arrays.IntegerArray(keys, nulls)}, copy=False)
    success, result, error = gx("wide.unique", frame, [("unique", "ExpectColumnValuesToBeUnique", {"column": "key"})],
                                {"result_format": "COMPLETE"})["unique"]
    bad = np.sort(np.asarray(result.get("unexpected_index_list") or [], dtype=np.int64))
    out = {}
    for i, c in enumerate(checks):
        if error:
            out[c.expectation.id] = ExpectationResult(c.expectation, "failed", note=f"GE error: {error}")
            continue
        mine = bad[(bad >= offsets[i]) & (bad < offsets[i + 1])] - offsets[i]
        out[c.expectation.id] = _rows_result(c, offsets[i + 1] - offsets[i], len(mine), mine[:MAX_RECORDS])
    return out


def _concat(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)

"""PGA exact tenths (R4.3 arithmetic; lupus-endpoints.md §3)."""

from decimal import Decimal

import pandas as pd
import pytest

from sdtm_lupus.adam.rules.pga import (
    NOT_A_NUMBER,
    TOO_MANY_DECIMALS,
    compute_pga_change,
    compute_pga_tenths,
    parse_tenths,
    to_tenths,
)


@pytest.mark.parametrize("value, tenths, problem", [
    ("1.5", 15, None),
    ("0", 0, None),
    ("3.0", 30, None),
    ("2", 20, None),
    (" 0.8 ", 8, None),
    (".5", 5, None),
    ("1.50", 15, None),            # trailing zero: still exact tenths
    (1.5, 15, None),
    (0.3, 3, None),
    (2, 20, None),
    (Decimal("1.2"), 12, None),
    ("1.55", None, TOO_MANY_DECIMALS),
    ("0.25", None, TOO_MANY_DECIMALS),
    (0.1 + 0.2, None, TOO_MANY_DECIMALS),  # 0.30000000000000004: never rounded
    ("abc", None, NOT_A_NUMBER),
    ("1,5", None, NOT_A_NUMBER),
    (".", None, NOT_A_NUMBER),
    (True, None, NOT_A_NUMBER),
    ("", None, None),
    (None, None, None),
    (float("nan"), None, None),
    (pd.NA, None, None),
])
def test_parse_tenths(value, tenths, problem):
    assert parse_tenths(value) == (tenths, problem)
    assert to_tenths(value) == tenths


def test_series_tenths_keep_index_and_report_problems():
    tenths, problem = compute_pga_tenths(pd.Series(["1.2", "1.25", None], index=[5, 1, 9]))
    assert tenths.dtype == "Int64" and tenths.index.tolist() == [5, 1, 9]
    assert tenths.tolist()[:1] == [12] and tenths.isna().tolist() == [False, True, True]
    assert problem.tolist() == [None, TOO_MANY_DECIMALS, None]


@pytest.mark.parametrize("now, base, change", [
    ("1.5", "1.2", 3),     # edge case 11: exactly +0.3 (float gives 0.30000000000000004)
    ("1.4", "1.2", 2),     # edge case 12
    ("0.8", "1.5", -7),
    ("2.5", "1.5", 10),
    (None, "1.5", None),
])
def test_change_is_exact(now, base, change):
    assert compute_pga_change(to_tenths(now), to_tenths(base)) == change


def test_change_exact_where_float_is_not():
    assert 1.5 - 1.2 != 0.3
    assert compute_pga_change(to_tenths("1.5"), to_tenths("1.2")) == to_tenths("0.3")


def test_change_series():
    now = pd.Series([15, 14, None], index=[2, 0, 1], dtype="Int64")
    base = pd.Series([12, 12, 12], index=[2, 0, 1], dtype="Int64")
    change = compute_pga_change(now, base)
    assert change.dtype == "Int64" and change.index.tolist() == [2, 0, 1]
    assert change.tolist()[:2] == [3, 2] and pd.isna(change.iloc[2])
    assert compute_pga_change(now, None).isna().all()
    assert compute_pga_change(now, 12).tolist()[:2] == [3, 2]

import pandas as pd
import pytest

from sdtm_lupus.sdtm.numbers import NON_NEGATIVE, XPT_MAX, Bounds, number_problem, parse_numbers


@pytest.mark.parametrize("text, problem", [
    ("12", None), ("-1.5", None), ("1e3", None), (".5", None), ("0", None),
    ("abc", "not a number"), ("1,5", "not a number"), ("0x10", "not a number"),
    ("inf", "not a finite number"), ("-Infinity", "not a finite number"), ("NaN", "not a finite number"),
    ("1e308", "out of range"), ("1e400", "out of range"), ("9" * 400, "out of range"), ("7.3e75", "out of range"),
    ("1e-300", "too close to 0"), ("１２", "U+FF11 FULLWIDTH DIGIT ONE"), ("12\u00a0", "U+00A0 NO-BREAK SPACE"),
])
def test_number_problem(text, problem):
    found = number_problem(text)
    assert (found is None) if problem is None else (problem in found)


def test_parse_numbers_values_missing_and_bounds():
    values = pd.Series(["60", "", " 70.5 ", "-1", "0", "inf", "60"], index=[10, 11, 12, 13, 14, 15, 16])
    value, problem = parse_numbers(values, Bounds(low=0, above=True, what="body weight"))
    assert value.index.tolist() == values.index.tolist() and value.dtype == "float64"
    assert value.fillna(-99).tolist() == [60.0, -99, 70.5, -99, -99, -99, 60.0]
    assert [p is not None for p in problem] == [False, False, False, True, True, True, False]
    assert "body weight must be above 0" in problem[13] and "not a finite" in problem[15]
    value, problem = parse_numbers(pd.Series(["0", "-0.0"]), NON_NEGATIVE)
    assert value.tolist() == [0.0, 0.0] and problem.isna().all()
    assert XPT_MAX == 16.0 ** 63

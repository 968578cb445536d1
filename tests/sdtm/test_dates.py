import pandas as pd
import pytest

from sdtm_lupus.config.mapping import DateFormat, TimeFormat
from sdtm_lupus.sdtm.dates import combine, parse_date, parse_dates, parse_time

REF = DateFormat()


@pytest.mark.parametrize(
    "raw, iso, problem",
    [
        ("05-MAR-2021", "2021-03-05", None),
        ("5-mar-2021", "2021-03-05", None),
        ("UN-MAR-2021", "2021-03", None),
        ("UN-UNK-1985", "1985", None),
        ("UN-UNK-UNKN", None, None),
        ("", None, None),
        ("29-FEB-2020", "2020-02-29", None),
        ("31-FEB-2021", None, "day 31 does not exist in Feb 2021"),
        ("29-FEB-2021", None, "day 29 does not exist in Feb 2021"),
        ("05-XYZ-2021", None, "month 'XYZ' does not exist"),
        ("2021-03-05", None, "not a date in the format DD-MMM-YYYY"),
        ("05-UNK-2021", "2021", "day known but month unknown: kept as year only"),
    ],
)
def test_parse_date_reference_format(raw, iso, problem):
    parsed = parse_date(raw, REF)
    assert (parsed.iso, parsed.problem) == (iso, problem)


@pytest.mark.parametrize("raw, iso", [("2021-03-05", "2021-03-05"), ("2021-03", "2021-03"), ("2021", "2021")])
def test_parse_date_iso_format_keeps_truncation(raw, iso):
    assert parse_date(raw, DateFormat(format="ISO8601")).iso == iso


def test_parse_date_other_layout_tokens():
    fmt = DateFormat(format="DD/MM/YYYY", unknown_day="NK", unknown_month="NK", unknown_year="NKNK")
    assert parse_date("07/11/2021", fmt).iso == "2021-11-07"
    assert parse_date("NK/11/2021", fmt).iso == "2021-11"
    assert parse_date("31/04/2021", fmt).problem == "day 31 does not exist in Apr 2021"


def test_parse_dates_vectorised_marks_partial():
    iso, problem, partial = parse_dates(pd.Series(["05-MAR-2021", "UN-MAR-2021", "31-FEB-2021"]), REF)
    assert iso.tolist() == ["2021-03-05", "2021-03", None]
    assert partial.tolist() == [False, True, False]
    assert problem.notna().tolist() == [False, False, True]


@pytest.mark.parametrize("raw, iso, problem", [("14:05", "14:05", None), ("9:05", "09:05", None),
                                               ("24:00", None, "time does not exist"),
                                               ("1405", None, "not a time in the format HH:MM"), ("", None, None)])
def test_parse_time(raw, iso, problem):
    assert parse_time(raw, TimeFormat()) == (iso, problem)


def test_combine_drops_time_of_partial_date():
    assert combine("2021-03-05", "14:05") == "2021-03-05T14:05"
    assert combine("2021-03", "14:05") == "2021-03"
    assert combine(None, "14:05") is None
    assert combine("2021-03-05", None) == "2021-03-05"

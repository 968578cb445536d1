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


# ---------------------------------------------------------------- look-alikes and implausible years (issue 12)

@pytest.mark.parametrize("raw, named", [
    ("０５-MAR-2021", "U+FF10 FULLWIDTH DIGIT ZERO"),
    ("05-MAR-２０２１", "U+FF12 FULLWIDTH DIGIT TWO"),
    ("05-MAR-2021\u00a0", "U+00A0 NO-BREAK SPACE"),
    ("\u300005-MAR-2021", "U+3000 IDEOGRAPHIC SPACE"),
    ("05-MAR-٢٠٢١", "ARABIC-INDIC DIGIT"),
])
def test_dates_with_lookalike_characters_are_refused_and_named(raw, named):
    parsed = parse_date(raw, REF)
    assert parsed.iso is None and "not a date in the format DD-MMM-YYYY" in parsed.problem and named in parsed.problem
    assert parse_date("２０２１-０３-０５", DateFormat(format="ISO8601")).iso is None


@pytest.mark.parametrize("raw", ["０9:05", "09:05\u00a0", "09：05"])
def test_times_with_lookalike_characters_are_refused(raw):
    iso, problem = parse_time(raw, TimeFormat())
    assert iso is None and "U+" in problem


def test_ascii_blanks_around_a_date_are_still_trimmed():
    assert parse_date(" 05-MAR-2021\t", REF).iso == "2021-03-05"


def _clean_dates(column: str, values: list[str]):
    from sdtm_lupus.sdtm.parse import parse_form
    from tests.sdtm.builders import context, enrol_row, form

    ctx = context()
    rows = [enrol_row(f"01-000{i}", **{column: v}) for i, v in enumerate(values, start=1)]
    return parse_form(form("enrol", rows), ctx)[column].tolist(), \
        [(f.rule, f.severity, f.row, f.variable) for f in ctx.findings if f.rule == "MAP-DATE-RANGE"]


def test_dates_after_2100_or_before_1900_are_errors_and_left_missing():
    values, findings = _clean_dates("DIAGDAT", ["31-DEC-9999", "UN-UNK-1899", "01-JAN-1900", "31-DEC-2100"])
    assert values == [None, None, "1900-01-01", "2100-12-31"]
    assert findings == [("MAP-DATE-RANGE", "error", 2, "DIAGDAT"), ("MAP-DATE-RANGE", "error", 3, "DIAGDAT")]


def test_birth_date_before_1900_is_a_warning_and_kept():
    values, findings = _clean_dates("BRTHDAT", ["15-JUN-1895", "UN-UNK-9999"])
    assert values == ["1895-06-15", None]
    assert findings == [("MAP-DATE-RANGE", "error", 3, "BRTHDAT"), ("MAP-DATE-RANGE", "warning", 2, "BRTHDAT")]

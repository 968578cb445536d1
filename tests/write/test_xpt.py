import datetime as dt
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from sdtm_lupus.write import xpt
from sdtm_lupus.write.xpt import (
    STAMP_LENGTH,
    STAMP_OFFSETS,
    XptDataset,
    XptError,
    XptVariable,
    check_xpt,
    date_to_sas_date,
    namestr_lengths,
    prepare_xpt_frame,
    read_xpt,
    sas_date_to_date,
    write_xpt,
)

REFERENCE = Path("/work/shared/reference/cdisc-msg")
ADSL = REFERENCE / "adam" / "adsl.xpt"
RECORD = 80

DM = XptDataset(
    "DM",
    "Demographics",
    (
        XptVariable("STUDYID", "Study Identifier", "Char"),
        XptVariable("USUBJID", "Unique Subject Identifier", "Char"),
        XptVariable("AGE", "Age", "Num"),
        XptVariable("WTCHG", "Weight Change (kg)", "Num"),
        XptVariable("DOSETOT", "Total Dose (mg)", "Num"),
        XptVariable("BRTHDT", "Date of Birth", "Num", "DATE9."),
        XptVariable("SEX", "Sex", "Char"),
        XptVariable("ARMNOTE", "Arm Note", "Char"),
    ),
)


def days(d):  # independent of the code under test
    return float((d - dt.date(1960, 1, 1)).days)


def dm_frame():
    # Deliberately not in spec order.
    return pd.DataFrame(
        {
            "SEX": ["F", "M", None, "F"],
            "USUBJID": ["LUP-001-0001", "LUP-001-0002", "LUP-002-0003", "LUP-002-0004"],
            "STUDYID": ["LUP-001"] * 4,
            "AGE": [34, 0, None, 71],
            "WTCHG": [-2.5, 0.0, np.nan, -0.125],
            "DOSETOT": [1e15, 123456789.125, 0.0, 8.5e74],
            "BRTHDT": [dt.date(1990, 2, 3), None, pd.Timestamp("1959-12-31"), dt.date(1960, 1, 1)],
            "ARMNOTE": [None, "", "x", "SCREEN FAILURE   "],
        }
    )


DM_EXPECTED = pd.DataFrame(
    {
        "STUDYID": ["LUP-001"] * 4,
        "USUBJID": ["LUP-001-0001", "LUP-001-0002", "LUP-002-0003", "LUP-002-0004"],
        "AGE": [34.0, 0.0, np.nan, 71.0],
        "WTCHG": [-2.5, 0.0, np.nan, -0.125],
        "DOSETOT": [1e15, 123456789.125, 0.0, 8.5e74],
        "BRTHDT": [days(dt.date(1990, 2, 3)), np.nan, -1.0, 0.0],
        "SEX": ["F", "M", "", "F"],
        "ARMNOTE": ["", "", "x", "SCREEN FAILURE"],
    }
)


def read_with_pyreadstat(path):
    df, meta = pyreadstat.read_xport(str(path), disable_datetime_conversion=True)
    return df, meta


def read_with_pandas(path, n_rows, row_length):
    """pandas' reading of the first `n_rows`; may be fewer, see below."""
    df = pd.read_sas(path, format="xport", encoding="ascii")
    # pandas defects when a record is at most 80 bytes: it guesses the row count
    # from the blank 8-byte words in the last 80 bytes of the file. Padding it does
    # not count comes back as extra blank rows; blank words inside the data make it
    # drop final records. Allow both, within those last 80 bytes only.
    assert abs(len(df) - n_rows) * row_length <= RECORD
    assert len(df) == n_rows or row_length <= RECORD
    df = df.iloc[:n_rows].reset_index(drop=True)
    for name in df.columns:
        if pd.api.types.is_float_dtype(df[name]):
            # pandas issue 50670: reads IBM zero as 5.4e-79.
            df[name] = df[name].mask(df[name].abs() < 1e-70, 0.0)
        else:
            df[name] = df[name].fillna("").astype(object)
    return df


def assert_values(actual, expected):
    assert list(actual.columns) == list(expected.columns)
    assert len(actual) == len(expected)
    for name in expected.columns:
        got, want = actual[name].tolist(), expected[name].tolist()
        if pd.api.types.is_float_dtype(expected[name]):
            assert np.array_equal(np.array(got, float), np.array(want, float), equal_nan=True), name
        else:
            assert ["" if v is None or v != v else v for v in got] == want, name


def assert_read_back(path, expected):
    """Both readers give `expected` (numbers as stored, dates as SAS day numbers)."""
    by_pyreadstat, meta = read_with_pyreadstat(path)
    assert_values(by_pyreadstat, expected)
    row_length = sum(meta.variable_storage_width.values())
    assert_pandas_values(path, expected, row_length)


def assert_pandas_values(path, expected, row_length):
    by_pandas = read_with_pandas(path, len(expected), row_length)
    assert_values(by_pandas, expected.iloc[: len(by_pandas)])


def stamps(data):
    return [data[o : o + STAMP_LENGTH] for o in STAMP_OFFSETS]


def differing_offsets(a, b):
    assert len(a) == len(b)
    return {i for i, (x, y) in enumerate(zip(a, b)) if x != y}


STAMP_BYTES = {o + i for o in STAMP_OFFSETS for i in range(STAMP_LENGTH)}


# ---------------------------------------------------------------- round trip


def test_dm_like_frame_round_trips_through_both_readers(tmp_path):
    path = tmp_path / "dm.xpt"
    write_xpt(dm_frame(), path, DM)
    assert_read_back(path, DM_EXPECTED)


def test_dates_read_back_as_dates(tmp_path):
    path = tmp_path / "dm.xpt"
    write_xpt(dm_frame(), path, DM)
    df, _ = read_xpt(path)
    assert df["BRTHDT"].tolist()[0] == dt.date(1990, 2, 3)
    assert df["BRTHDT"].tolist()[2] == dt.date(1959, 12, 31)
    assert df["BRTHDT"].tolist()[3] == dt.date(1960, 1, 1)
    assert pd.isna(df["BRTHDT"].tolist()[1])


def test_names_and_labels_read_back(tmp_path):
    path = tmp_path / "dm.xpt"
    write_xpt(dm_frame(), path, DM)
    _, meta = read_xpt(path)
    assert meta["name"] == "DM"
    assert meta["label"] == "Demographics"
    assert meta["labels"] == {v.name: v.label for v in DM.variables}
    assert meta["formats"] == {"BRTHDT": "DATE9."}
    assert meta["types"] == {v.name: v.type for v in DM.variables}
    by_pandas = pd.read_sas(path, format="xport", encoding="ascii")
    assert list(by_pandas.columns) == [v.name for v in DM.variables]


def test_column_order_follows_spec(tmp_path):
    path = tmp_path / "dm.xpt"
    write_xpt(dm_frame(), path, DM)
    df, _ = read_xpt(path)
    assert list(df.columns) == [v.name for v in DM.variables]
    assert list(namestr_lengths(path.read_bytes())) == [v.name for v in DM.variables]


def test_char_length_is_longest_value_in_bytes(tmp_path):
    path = tmp_path / "dm.xpt"
    write_xpt(dm_frame(), path, DM)
    _, meta = read_xpt(path)
    expected = {
        "STUDYID": 7, "USUBJID": 12, "SEX": 1,
        "ARMNOTE": 14,  # trailing blanks are SAS padding, not counted
        "AGE": 8, "WTCHG": 8, "DOSETOT": 8, "BRTHDT": 8,
    }
    assert meta["lengths"] == expected
    assert namestr_lengths(path.read_bytes()) == expected


def test_all_missing_char_column_gets_length_1(tmp_path):
    dataset = XptDataset("X", "", (XptVariable("ID", "", "Char"), XptVariable("NOTE", "", "Char")))
    path = tmp_path / "x.xpt"
    write_xpt(pd.DataFrame({"ID": ["A", "B"], "NOTE": [None, ""]}), path, dataset)
    assert read_xpt(path)[1]["lengths"] == {"ID": 1, "NOTE": 1}


def test_200_byte_value_is_accepted(tmp_path):
    dataset = XptDataset("X", "", (XptVariable("TEXT", "", "Char"),))
    path = tmp_path / "x.xpt"
    write_xpt(pd.DataFrame({"TEXT": ["y" * 200]}), path, dataset)
    df, meta = read_xpt(path)
    assert meta["lengths"] == {"TEXT": 200}
    assert df["TEXT"].tolist() == ["y" * 200]


def test_zero_rows(tmp_path):
    path = tmp_path / "dm.xpt"
    write_xpt(dm_frame().iloc[:0], path, DM)
    df, meta = read_xpt(path)
    assert len(df) == 0
    assert list(df.columns) == [v.name for v in DM.variables]
    assert meta["lengths"]["STUDYID"] == 1


# ---------------------------------------------------------------- metadata steps


def test_prepare_converts_dates_datetimes_and_missing():
    dataset = XptDataset(
        "X", "",
        (
            XptVariable("D1", "", "Num", "DATE9."),
            XptVariable("D2", "", "Num", "YYMMDD10."),
            XptVariable("DTM", "", "Num", "DATETIME20."),
            XptVariable("D64", "", "Num", "DATE9."),
            XptVariable("C", "", "Char"),
        ),
    )
    df = pd.DataFrame(
        {
            "C": [None, np.nan, "a  "],
            "D1": [dt.date(2020, 1, 1), None, np.datetime64("1960-01-02")],
            "D2": [pd.Timestamp("1959-01-01"), pd.NaT, 5],
            "DTM": [dt.datetime(1960, 1, 2, 0, 0, 30), None, dt.date(1960, 1, 1)],
            "D64": pd.to_datetime(["2020-01-01", None, "1960-01-01"]),
        }
    )
    assert check_xpt(df, dataset) == []
    out = prepare_xpt_frame(df, dataset)
    assert list(out.columns) == ["D1", "D2", "DTM", "D64", "C"]
    assert out["C"].tolist() == ["", "", "a"]
    assert_values(
        out[["D1", "D2", "DTM", "D64"]],
        pd.DataFrame(
            {
                "D1": [days(dt.date(2020, 1, 1)), np.nan, 1.0],
                "D2": [-365.0, np.nan, 5.0],
                "DTM": [86430.0, np.nan, 0.0],
                "D64": [days(dt.date(2020, 1, 1)), np.nan, 0.0],
            }
        ),
    )


def test_sas_date_helpers():
    assert date_to_sas_date(dt.date(1960, 1, 1)) == 0.0
    assert date_to_sas_date(dt.date(1959, 12, 31)) == -1.0
    assert date_to_sas_date(dt.date(2024, 2, 29)) == days(dt.date(2024, 2, 29))
    assert math.isnan(date_to_sas_date(None))
    assert sas_date_to_date(days(dt.date(2024, 2, 29))) == dt.date(2024, 2, 29)
    assert sas_date_to_date(float("nan")) is None


# ---------------------------------------------------------------- deterministic header


def test_two_writes_at_different_wall_clock_times_are_byte_identical(tmp_path):
    prepared = prepare_xpt_frame(dm_frame(), DM)

    def raw(path):  # what pyreadstat alone writes
        pyreadstat.write_xport(prepared, str(path), file_format_version=5, table_name="DM",
                               column_labels=[v.label for v in DM.variables])
        return path.read_bytes()

    raw_first = raw(tmp_path / "raw1.xpt")
    write_xpt(dm_frame(), tmp_path / "first.xpt", DM)
    time.sleep(1.1)  # pyreadstat stamps the C wall clock to the second
    raw_second = raw(tmp_path / "raw2.xpt")
    write_xpt(dm_frame(), tmp_path / "second.xpt", DM)

    # pyreadstat's own output differs between the two times, in the stamps only ...
    assert raw_first != raw_second
    assert differing_offsets(raw_first, raw_second) <= STAMP_BYTES
    # ... and ours does not differ at all.
    assert (tmp_path / "first.xpt").read_bytes() == (tmp_path / "second.xpt").read_bytes()


def test_default_and_given_created_stamps(tmp_path):
    write_xpt(dm_frame(), tmp_path / "default.xpt", DM)
    write_xpt(dm_frame(), tmp_path / "given.xpt", DM, created=dt.datetime(2024, 3, 5, 14, 7, 9))
    default = (tmp_path / "default.xpt").read_bytes()
    given = (tmp_path / "given.xpt").read_bytes()
    assert stamps(default) == [b"01JAN60:00:00:00"] * 4
    assert stamps(given) == [b"05MAR24:14:07:09"] * 4
    assert differing_offsets(default, given) <= STAMP_BYTES


# ---------------------------------------------------------------- strict checks


def replace_variable(target, **changes):
    return XptDataset(DM.name, DM.label, tuple(
        XptVariable(**{**v.__dict__, **changes}) if v.name == target else v for v in DM.variables
    ))


def with_cell(column, row, value):
    df = dm_frame()
    df[column] = df[column].astype(object)
    df.at[row, column] = value
    return df


REFUSALS = {
    "variable label of 41 chars": (dm_frame, lambda: replace_variable("SEX", label="L" * 41), "XPT-LABEL-LENGTH", "SEX", None),
    "dataset label of 41 chars": (dm_frame, lambda: XptDataset("DM", "D" * 41, DM.variables), "XPT-LABEL-LENGTH", None, None),
    "non-ASCII label": (dm_frame, lambda: replace_variable("SEX", label="Sexe (fémin)"), "XPT-NON-ASCII", "SEX", None),
    "variable name of 9 chars": (
        lambda: dm_frame().rename(columns={"USUBJID": "USUBJIDXX"}),
        lambda: replace_variable("USUBJID", name="USUBJIDXX"), "XPT-NAME-LENGTH", "USUBJIDXX", None,
    ),
    "dataset name of 9 chars": (dm_frame, lambda: XptDataset("DMDMDMDMD", "x", DM.variables), "XPT-NAME-LENGTH", None, None),
    "lowercase name": (
        lambda: dm_frame().rename(columns={"SEX": "sex"}),
        lambda: replace_variable("SEX", name="sex"), "XPT-NAME-INVALID", "sex", None,
    ),
    "value of 201 bytes": (lambda: with_cell("ARMNOTE", 2, "z" * 201), lambda: DM, "XPT-CHAR-200", "ARMNOTE", 2),
    "non-ASCII value": (lambda: with_cell("ARMNOTE", 1, "泼尼松"), lambda: DM, "XPT-NON-ASCII", "ARMNOTE", 1),
    "missing variable": (lambda: dm_frame().drop(columns="SEX"), lambda: DM, "XPT-MISSING-VAR", "SEX", None),
    "extra column": (lambda: dm_frame().assign(RACE="ASIAN"), lambda: DM, "XPT-EXTRA-VAR", "RACE", None),
    "string in Num column": (lambda: with_cell("AGE", 3, "71"), lambda: DM, "XPT-TYPE", "AGE", 3),
    "number in Char column": (lambda: with_cell("SEX", 0, 1), lambda: DM, "XPT-TYPE", "SEX", 0),
    "boolean in Num column": (lambda: with_cell("AGE", 0, True), lambda: DM, "XPT-TYPE", "AGE", 0),
    "date without date format": (lambda: with_cell("AGE", 0, dt.date(2020, 1, 1)), lambda: DM, "XPT-TYPE", "AGE", 0),
    "time of day under DATE9.": (lambda: with_cell("BRTHDT", 0, dt.datetime(1990, 2, 3, 8, 30)), lambda: DM, "XPT-TYPE", "BRTHDT", 0),
    "number too large for IBM float": (lambda: with_cell("DOSETOT", 0, 1e75), lambda: DM, "XPT-NUM-RANGE", "DOSETOT", 0),
    "infinity": (lambda: with_cell("DOSETOT", 1, float("-inf")), lambda: DM, "XPT-NUM-RANGE", "DOSETOT", 1),
    "number too small for IBM float": (lambda: with_cell("WTCHG", 1, 1e-80), lambda: DM, "XPT-NUM-RANGE", "WTCHG", 1),
    "Char format on Num": (dm_frame, lambda: replace_variable("AGE", format="$8."), "XPT-FORMAT", "AGE", None),
    "unknown type": (dm_frame, lambda: replace_variable("AGE", type="Integer"), "XPT-TYPE", "AGE", None),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_strict_check_refuses_and_writes_nothing(tmp_path, case):
    make_frame, make_dataset, rule, variable, row = REFUSALS[case]
    path = tmp_path / "dm.xpt"
    with pytest.raises(XptError) as raised:
        write_xpt(make_frame(), path, make_dataset())
    assert [(p.rule, p.variable, p.row) for p in raised.value.problems] == [(rule, variable, row)]
    assert raised.value.problems[0].dataset == make_dataset().name
    assert list(tmp_path.iterdir()) == []


def test_good_frame_has_no_problems():
    assert check_xpt(dm_frame(), DM) == []


def test_problem_message_names_the_value():
    [problem] = check_xpt(with_cell("ARMNOTE", 1, "泼尼松"), DM)
    assert "泼尼松" in problem.message and "ARMNOTE" in problem.message


def test_refused_write_leaves_existing_file_untouched(tmp_path):
    path = tmp_path / "dm.xpt"
    write_xpt(dm_frame(), path, DM)
    before = path.read_bytes()
    with pytest.raises(XptError):
        write_xpt(with_cell("ARMNOTE", 0, "é"), path, DM)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["dm.xpt"]


def test_writer_failure_leaves_no_partial_file(tmp_path, monkeypatch):
    def broken_writer(df, path, **kwargs):
        Path(path).write_bytes(b"HEADER RECORD*** partial")
        raise OSError("disk full")

    monkeypatch.setattr(xpt.pyreadstat, "write_xport", broken_writer)
    with pytest.raises(OSError, match="disk full"):
        write_xpt(dm_frame(), tmp_path / "dm.xpt", DM)
    assert list(tmp_path.iterdir()) == []


def test_cell_problems_are_capped_with_a_summary():
    df = pd.concat([dm_frame()] * 30, ignore_index=True)  # 120 rows
    df["ARMNOTE"] = "泼尼松"
    problems = check_xpt(df, DM)
    cells = [p for p in problems if p.row is not None]
    summaries = [p for p in problems if p.row is None]
    assert len(cells) == 50 and [p.row for p in cells] == list(range(50))
    assert len(summaries) == 1
    assert summaries[0].rule == "XPT-NON-ASCII" and "120" in summaries[0].message


def test_all_blank_last_row_is_refused():
    # XPT readers cannot tell it from the file's blank padding: pyreadstat drops it.
    dataset = XptDataset("X", "", (XptVariable("A", "", "Char"), XptVariable("B", "", "Char")))
    [problem] = check_xpt(pd.DataFrame({"A": ["a", ""], "B": ["b", None]}), dataset)
    assert (problem.rule, problem.row) == ("XPT-BLANK-LAST-ROW", 1)
    assert check_xpt(pd.DataFrame({"A": ["", "a"], "B": [None, ""]}), dataset) == []


# ---------------------------------------------------------------- SAS-written references


def dataset_from(meta, columns):
    return XptDataset(meta["name"], meta["label"], tuple(
        XptVariable(c, meta["labels"][c], meta["types"][c], meta["formats"].get(c)) for c in columns
    ))


def rewrite(source, target):
    df, meta = read_xpt(source)
    write_xpt(df, target, dataset_from(meta, df.columns))
    return meta


def longest(values):
    return max([1, *(len(v.rstrip(" ").encode()) for v in values)])


def test_msg_adsl_round_trip(tmp_path):
    target = tmp_path / "adsl.xpt"
    sas_meta = rewrite(ADSL, target)
    ours_df, ours_meta = read_xpt(target)

    sas_raw, sas_pm = read_with_pyreadstat(ADSL)
    ours_raw, _ = read_with_pyreadstat(target)
    assert_values(ours_raw, sas_raw.fillna({c: "" for c in sas_raw if sas_pm.readstat_variable_types[c] == "string"}))
    assert ours_df["TRTSDT"].tolist()[:1] == [dt.date(2014, 1, 2)]

    for key in ("name", "label", "labels", "formats", "types"):
        assert ours_meta[key] == sas_meta[key], key
    assert sas_meta["formats"]["TRTSDT"] == "DATE9."
    char = [c for c, t in sas_meta["types"].items() if t == "Char"]
    assert {c: ours_meta["lengths"][c] for c in char} == {c: longest(sas_raw[c].fillna("")) for c in char}
    # SAS declared RFSTDTC/RFENDTC as $20 for 10-character dates; we store 10.
    assert (sas_meta["lengths"]["RFSTDTC"], ours_meta["lengths"]["RFSTDTC"]) == (20, 10)

    # pandas reads ours like pyreadstat does, and like it reads the SAS file.
    sas_by_pandas = pd.read_sas(ADSL, format="xport", encoding="ascii")
    row_length = sum(ours_meta["lengths"].values())
    assert_pandas_values(target, ours_raw.fillna({c: "" for c in char}), row_length)
    sas_row_length = sum(sas_meta["lengths"].values())
    assert_values(read_with_pandas(target, len(sas_raw), row_length),
                  read_with_pandas(ADSL, len(sas_by_pandas), sas_row_length))


def test_header_records_have_the_sas_layout(tmp_path):
    target = tmp_path / "adsl.xpt"
    rewrite(ADSL, target)
    sas, ours = ADSL.read_bytes(), target.read_bytes()

    def record(data, i):
        return data[i * RECORD : (i + 1) * RECORD]

    # Header-record lines, including the NAMESTR count, are identical.
    for i in (0, 3, 4, 7):
        assert record(ours, i) == record(sas, i), i
    # Library header: SAS/SAS/SASLIB, then created stamp in cols 65-80; next record
    # starts with the modified stamp and is otherwise blank.
    for data in (sas, ours):
        assert record(data, 1)[:24] == b"SAS     SAS     SASLIB  "
        assert record(data, 1)[40:64] == b" " * 24
        assert record(data, 2)[16:] == b" " * 64
        # Member header: SAS, dataset name, SASDATA; then modified stamp, blanks, label.
        assert record(data, 5)[:24] == b"SAS     ADSL    SASDATA "
        assert record(data, 5)[40:64] == b" " * 24
        assert record(data, 6)[16:32] == b" " * 16
        assert record(data, 6)[32:72] == b"Subject-Level Analysis Dataset".ljust(40)
        for stamp in stamps(data):
            assert xpt.STAMP_PATTERN.fullmatch(stamp)
    assert stamps(sas) == [b"16APR22:20:09:03"] * 4
    assert stamps(ours) == [b"01JAN60:00:00:00"] * 4


@pytest.mark.parametrize("source", sorted(REFERENCE.glob("*/*.xpt")), ids=lambda p: p.name)
def test_every_msg_reference_file_round_trips(tmp_path, source):
    target = tmp_path / source.name
    rewrite(source, target)
    sas_raw, sas_pm = read_with_pyreadstat(source)
    ours_raw, ours_pm = read_with_pyreadstat(target)
    char = [c for c, t in sas_pm.readstat_variable_types.items() if t == "string"]
    assert_values(ours_raw, sas_raw.fillna({c: "" for c in char}))
    row_length = sum(ours_pm.variable_storage_width.values())
    assert_pandas_values(target, ours_raw.fillna({c: "" for c in char}), row_length)


# ---------------------------------------------------------------- native observation records


def pyreadstat_bytes(frame, dataset, path):
    """The whole file as pyreadstat writes it (the writer before observation records were encoded
    here), with the same fixed header stamps."""
    prepared = prepare_xpt_frame(frame, dataset)
    pyreadstat.write_xport(prepared, str(path), file_format_version=5, table_name=dataset.name,
                           file_label=dataset.label, column_labels=[v.label for v in dataset.variables],
                           variable_format={v.name: v.format for v in dataset.variables if v.format})
    data = bytearray(path.read_bytes())
    xpt._stamp_header(data, xpt.DEFAULT_CREATED)
    return bytes(data)


AWKWARD = XptDataset("AWK", "Awkward values", (
    XptVariable("TXT", "Text", "Char"), XptVariable("X", "Number", "Num"),
    XptVariable("DT", "Date", "Num", "DATE9."), XptVariable("SHORT", "Short text", "Char")))


def awkward_frame(rows: int, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    magnitudes = 10.0 ** rng.integers(-70, 70, rows)
    numbers = rng.uniform(-1, 1, rows) * magnitudes
    specials = np.array([0.0, -0.0, np.nan, 1.0, 0.1, -0.5, 16.0 ** -65, 2.0 ** 248, -(2.0 ** 248), 22000.0])
    numbers[: len(specials)] = specials[: rows]
    # no NUL: readstat cuts a text there, write_xpt refuses it (XPT-NUL, tests/readers/test_hostile_csv.py)
    texts = np.array(["", "a", "trailing  ", " leading", "SYSTEMIC LUPUS ERYTHEMATOSUS", "x" * 200], dtype=object)
    return pd.DataFrame({
        "TXT": texts[rng.integers(0, len(texts), rows)],
        "X": numbers,
        "DT": pd.to_datetime("2021-01-01") + pd.to_timedelta(rng.integers(-30000, 30000, rows), unit="D"),
        "SHORT": np.array(["Y", "N", None], dtype=object)[rng.integers(0, 3, rows)],
    })


@pytest.mark.parametrize("rows", [1, 2, 37, xpt.OBS_CHUNK_ROWS + 1001])
def test_observation_records_are_the_bytes_pyreadstat_writes(tmp_path, rows):
    frame = awkward_frame(rows)
    frame.loc[rows - 1, "SHORT"] = "Y"     # a blank last row is refused (XPT-BLANK-LAST-ROW)
    write_xpt(frame, tmp_path / "awk.xpt", AWKWARD)
    assert (tmp_path / "awk.xpt").read_bytes() == pyreadstat_bytes(frame, AWKWARD, tmp_path / "ref.xpt")


def test_zero_rows_are_the_bytes_pyreadstat_writes(tmp_path):
    frame = awkward_frame(5).iloc[:0]
    write_xpt(frame, tmp_path / "awk.xpt", AWKWARD)
    assert (tmp_path / "awk.xpt").read_bytes() == pyreadstat_bytes(frame, AWKWARD, tmp_path / "ref.xpt")


def test_ibm_doubles_read_back_exactly(tmp_path):
    frame = awkward_frame(5000, seed=11)
    frame.loc[4999, "SHORT"] = "N"
    write_xpt(frame, tmp_path / "awk.xpt", AWKWARD)
    back, _ = pyreadstat.read_xport(str(tmp_path / "awk.xpt"))
    np.testing.assert_array_equal(back["X"].to_numpy(), frame["X"].to_numpy())   # NaN == NaN here


@pytest.mark.parametrize("distinct", [126, 127, 128, 40_000])     # code types int8 / int16 / int32
def test_many_distinct_texts_are_the_bytes_pyreadstat_writes(tmp_path, distinct):
    rows = 41_000
    frame = awkward_frame(rows, seed=3)
    frame["TXT"] = [f"T{i % distinct}" if i % 5 else None for i in range(rows)]
    frame.loc[rows - 1, "SHORT"] = "Y"
    write_xpt(frame, tmp_path / "awk.xpt", AWKWARD)
    assert (tmp_path / "awk.xpt").read_bytes() == pyreadstat_bytes(frame, AWKWARD, tmp_path / "ref.xpt")

"""SAS XPORT v5 write layer: strict checks, metadata steps, deterministic bytes.

Built like R's xportr: small metadata steps (type -> length -> label -> order ->
format -> write) and strict checks that refuse to write. pyreadstat writes the
header records only (from a one-row template with the same storage widths); the
observation records are encoded here, vectorised, with exactly readstat's bytes
(pyreadstat converts value by value in Python: most of a large run's write time).
Every XPT v5 limit is enforced here, because pyreadstat silently cuts labels,
accepts over-long and non-ASCII values and stamps the wall clock into the header.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
from dataclasses import dataclass
from functools import cached_property, partial
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from sdtm_lupus.distinct import all_text, derived, factorized, small_codes
from sdtm_lupus.write import background

MAX_NAME_CHARS = 8
MAX_LABEL_CHARS = 40
MAX_CHAR_BYTES = 200
CELL_PROBLEMS_PER_RULE = 50  # per variable and rule; one summary problem reports the rest

# Numbers readstat can write as IBM floats: smaller magnitudes become 0, and from
# 2**249 up (below the true IBM maximum of ~7.2e75) its writer saturates to a value
# that reads back as infinity.
IBM_MIN_MAGNITUDE = 16.0**-65
IBM_MAX_MAGNITUDE_EXCLUSIVE = 2.0**249

SAS_EPOCH_DATE = dt.date(1960, 1, 1)
SAS_EPOCH_DATETIME = dt.datetime(1960, 1, 1)

DATE_FORMATS = {"DATE", "YYMMDD", "E8601DA", "MMDDYY", "DDMMYY"}
DATETIME_FORMATS = {"DATETIME", "E8601DT"}
TIME_FORMATS = {"TIME", "E8601TM"}

NAME_PATTERN = re.compile(r"[A-Z_][A-Z0-9_]*")
# SAS format: optional $, a name not ending in a digit, width, ".", decimals.
FORMAT_PATTERN = re.compile(r"(\$?(?:[A-Z_][A-Z0-9_]*?)?)(\d*)\.(\d*)")
STAMP_PATTERN = re.compile(rb"\d\d[A-Z]{3}\d\d:\d\d:\d\d:\d\d")
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")

RECORD = 80
LIBRARY_HEADER = b"HEADER RECORD*******LIBRARY HEADER RECORD!!!!!!!"
MEMBER_HEADER = b"HEADER RECORD*******MEMBER  HEADER RECORD!!!!!!!"
DSCRPTR_HEADER = b"HEADER RECORD*******DSCRPTR HEADER RECORD!!!!!!!"
NAMESTR_HEADER = b"HEADER RECORD*******NAMESTR HEADER RECORD!!!!!!!"
OBS_HEADER = b"HEADER RECORD*******OBS     HEADER RECORD!!!!!!!"
OBS_CHUNK_ROWS = 50_000     # observations encoded per block (bounded memory on millions of rows)
OBS_BLOCK_BYTES = 1 << 20   # at most this many bytes a block: it stays in the CPU cache while it is filled
# Byte ranges of the ddMMMyy:hh:mm:ss stamps (single-member file, XPORT v5 spec):
# record 1 cols 65-80 library created, record 2 cols 1-16 library modified,
# record 5 cols 65-80 member created, record 6 cols 1-16 member modified.
STAMP_OFFSETS = (1 * RECORD + 64, 2 * RECORD, 5 * RECORD + 64, 6 * RECORD)
STAMP_LENGTH = 16


@dataclass(frozen=True)
class XptVariable:
    name: str
    label: str
    type: str  # "Char" or "Num"
    format: str | None = None  # e.g. "DATE9." for numeric SAS dates
    length: int | None = None  # storage bytes; None: the longest value (Char) or 8 (Num)


@dataclass(frozen=True)
class XptDataset:
    name: str
    label: str
    variables: tuple[XptVariable, ...]  # order = output order


@dataclass
class XptProblem:
    """One reason a dataset cannot be written as-is."""

    dataset: str
    variable: str | None
    row: int | None  # 0-based position in the frame; None for metadata problems
    rule: str
    message: str


class XptError(Exception):
    def __init__(self, problems: list[XptProblem]):
        self.problems = problems
        shown = "; ".join(p.message for p in problems[:5])
        more = f" (+{len(problems) - 5} more)" if len(problems) > 5 else ""
        super().__init__(f"{len(problems)} XPT problem(s): {shown}{more}")


# ---------------------------------------------------------------- dates


def date_to_sas_date(d: dt.date | None) -> float:
    """Days since 1960-01-01 (NaN for missing)."""
    if _is_missing(d):
        return math.nan
    if isinstance(d, dt.datetime):
        d = d.date()
    return float((d - SAS_EPOCH_DATE).days)


def sas_date_to_date(x: float | None) -> dt.date | None:
    if _is_missing(x):
        return None
    return SAS_EPOCH_DATE + dt.timedelta(days=int(x))


def datetime_to_sas_datetime(value: dt.datetime | dt.date | None) -> float:
    """Seconds since 1960-01-01T00:00:00 (NaN for missing)."""
    if _is_missing(value):
        return math.nan
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    return (value - SAS_EPOCH_DATETIME) / dt.timedelta(seconds=1)


def _time_to_sas_time(t: dt.time) -> float:
    return t.hour * 3600 + t.minute * 60 + t.second + t.microsecond / 1e6


def _format_kind(fmt: str | None) -> str | None:
    """'date', 'datetime', 'time' or None, from the format name."""
    match = FORMAT_PATTERN.fullmatch(fmt or "")
    name = match.group(1) if match else ""
    if name in DATE_FORMATS:
        return "date"
    if name in DATETIME_FORMATS:
        return "datetime"
    if name in TIME_FORMATS:
        return "time"
    return None


# ---------------------------------------------------------------- checks


def _is_missing(value) -> bool:
    return value is None or (pd.api.types.is_scalar(value) and bool(pd.isna(value)))


def _shown(value, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _check_name(name: str, what: str) -> list[tuple[str, str]]:
    if len(name) > MAX_NAME_CHARS:
        return [("XPT-NAME-LENGTH", f"{what} name {name!r} has {len(name)} characters, XPT v5 allows {MAX_NAME_CHARS}")]
    if not NAME_PATTERN.fullmatch(name):
        return [("XPT-NAME-INVALID", f"{what} name {name!r} must be uppercase letters, digits or _, not starting with a digit")]
    return []


def _check_label(label: str, what: str) -> list[tuple[str, str]]:
    found = []
    if len(label) > MAX_LABEL_CHARS:
        found.append(("XPT-LABEL-LENGTH", f"{what} label {label!r} has {len(label)} characters, XPT v5 allows {MAX_LABEL_CHARS}"))
    if not label.isascii():
        found.append(("XPT-NON-ASCII", f"{what} label {label!r} has non-ASCII characters"))
    return found


def _check_format(var: XptVariable) -> list[tuple[str, str]]:
    if var.format is None:
        return []
    match = FORMAT_PATTERN.fullmatch(var.format)
    if not match or not (match.group(1) or match.group(2)) or len(match.group(1)) > MAX_NAME_CHARS:
        return [("XPT-FORMAT", f"format {var.format!r} of {var.name} is not a SAS format like DATE9. or 8.2")]
    if (var.type == "Char") != match.group(1).startswith("$"):
        return [("XPT-FORMAT", f"format {var.format!r} does not suit {var.type} variable {var.name}")]
    return []


def _metadata_problems(dataset: XptDataset) -> list[XptProblem]:
    found = [(None, rule, msg) for rule, msg in _check_name(dataset.name, "dataset")]
    found += [(None, rule, msg) for rule, msg in _check_label(dataset.label, f"dataset {dataset.name}")]
    seen = set()
    for var in dataset.variables:
        checks = _check_name(var.name, "variable") + _check_label(var.label, f"variable {var.name}")
        if var.type not in ("Char", "Num"):
            checks.append(("XPT-TYPE", f"variable {var.name} has type {var.type!r}, expected 'Char' or 'Num'"))
        else:
            checks += _check_format(var)
        if var.name in seen:
            checks.append(("XPT-DUPLICATE-VAR", f"variable {var.name} is listed twice in the dataset metadata"))
        seen.add(var.name)
        found += [(var.name, rule, msg) for rule, msg in checks]
    return [XptProblem(dataset.name, var, None, rule, msg) for var, rule, msg in found]


def _column_problems(df: pd.DataFrame, dataset: XptDataset) -> list[XptProblem]:
    columns = [str(c) for c in df.columns]
    wanted = [v.name for v in dataset.variables]
    found = [
        XptProblem(dataset.name, name, None, "XPT-MISSING-VAR", f"variable {name} is in the metadata but not in the data")
        for name in wanted if name not in columns
    ]
    found += [
        XptProblem(dataset.name, name, None, "XPT-EXTRA-VAR", f"column {name} is in the data but not in the metadata")
        for name in columns if name not in wanted
    ]
    found += [
        XptProblem(dataset.name, name, None, "XPT-DUPLICATE-VAR", f"column {name} appears more than once in the data")
        for name in sorted({c for c in columns if columns.count(c) > 1})
    ]
    return found


def _char_cell_problem(value, var: XptVariable) -> tuple[str, str] | None:
    if not isinstance(value, str):
        if _is_missing(value):
            return None
        return "XPT-TYPE", f"{var.name} is Char but holds {_shown(value)} ({type(value).__name__})"
    text = value.rstrip(" ")
    if "\x00" in text:     # readstat ends a text at NUL: the rest would be cut silently
        return "XPT-NUL", f"{var.name} value {_shown(text)} holds a NUL character: it would be cut there"
    if not text.isascii():
        return "XPT-NON-ASCII", f"{var.name} value {_shown(text)} has non-ASCII characters"
    if len(text) > MAX_CHAR_BYTES:  # ASCII: characters == bytes
        return "XPT-CHAR-200", f"{var.name} value {_shown(text)} is {len(text)} bytes, XPT v5 allows {MAX_CHAR_BYTES}"
    return None


def _num_cell_problem(value, var: XptVariable) -> tuple[str, str] | None:
    if _is_missing(value):
        return None
    kind = _format_kind(var.format)
    if isinstance(value, (bool, np.bool_)):
        return "XPT-TYPE", f"{var.name} is Num but holds the boolean {value}"
    if isinstance(value, (int, float, np.integer, np.floating)):
        return _range_problem(float(value), var)
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    if isinstance(value, dt.date):  # includes datetime and pd.Timestamp
        if kind not in ("date", "datetime"):
            return "XPT-TYPE", f"{var.name} holds the date {value} but its format {var.format} is not a date or datetime format"
        if isinstance(value, dt.datetime):
            if value.tzinfo is not None:
                return "XPT-TYPE", f"{var.name} holds the time-zone-aware {value}; SAS datetimes have no zone"
            if kind == "date" and value.time() != dt.time():
                return "XPT-TYPE", f"{var.name} holds {value} with a time of day, but {var.format} keeps only the date"
        return None
    if isinstance(value, dt.time):
        if kind != "time":
            return "XPT-TYPE", f"{var.name} holds the time {value} but its format {var.format} is not a time format"
        return None
    return "XPT-TYPE", f"{var.name} is Num but holds {_shown(value)} ({type(value).__name__})"


def _range_problem(x: float, var: XptVariable) -> tuple[str, str] | None:
    size = abs(x)
    if size >= IBM_MAX_MAGNITUDE_EXCLUSIVE or (0 < size < IBM_MIN_MAGNITUDE) or math.isinf(x):
        return "XPT-NUM-RANGE", f"{var.name} value {x!r} cannot be stored as an XPT (IBM) number"
    return None


def _cell_problems(series: pd.Series, var: XptVariable, distinct: tuple | None = None) -> list[tuple[int, str, str]]:
    """(row, rule, message) for every bad cell of one column (distinct: its pd.factorize, if known)."""
    if var.type == "Num" and (pd.api.types.is_integer_dtype(series) or pd.api.types.is_float_dtype(series)):
        values = series.to_numpy(dtype=float, na_value=np.nan)  # fast path: only the range can be wrong
        sizes = np.abs(values)
        bad = np.isinf(values) | (sizes >= IBM_MAX_MAGNITUDE_EXCLUSIVE) | ((sizes > 0) & (sizes < IBM_MIN_MAGNITUDE))
        return [(int(i), *_range_problem(float(values[i]), var)) for i in np.flatnonzero(bad)]
    if var.type == "Char" and (distinct is not None or _is_text(series)):
        return _text_cell_problems(series, var, distinct)
    check = _char_cell_problem if var.type == "Char" else _num_cell_problem
    return [(i, *problem) for i, value in enumerate(series.tolist()) if (problem := check(value, var))]


def _is_text(series: pd.Series) -> bool:
    """Every non-missing value is a str (a C scan; then values can be checked once per distinct text)."""
    return pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty")


def _text_cell_problems(series: pd.Series, var: XptVariable, distinct: tuple | None = None) -> list[tuple[int, str, str]]:
    """_char_cell_problem of a text column, evaluated once per distinct value (missing values pass)."""
    codes, uniques = distinct if distinct is not None else pd.factorize(series)
    if _plain_texts(uniques):
        return []
    problems = [_char_cell_problem(u, var) for u in uniques]
    bad = np.array([p is not None for p in problems] + [False], dtype=bool)     # code -1 (missing): never bad
    return [(int(i), *problems[codes[i]]) for i in np.flatnonzero(bad[codes])]


def _plain_texts(uniques) -> bool:
    """Every value is an ASCII str without NUL of at most MAX_CHAR_BYTES: no _char_cell_problem (one C pass)."""
    if not all(isinstance(u, str) for u in uniques):
        return False
    joined = "".join(uniques)
    return joined.isascii() and "\x00" not in joined and max(map(len, uniques), default=0) <= MAX_CHAR_BYTES


def _capped(dataset: str, var: str, cells: list[tuple[int, str, str]]) -> list[XptProblem]:
    out, counts = [], {}
    for row, rule, message in cells:
        counts[rule] = counts.get(rule, 0) + 1
        if counts[rule] <= CELL_PROBLEMS_PER_RULE:
            out.append(XptProblem(dataset, var, row, rule, f"row {row}: {message}"))
    for rule, count in counts.items():
        if count > CELL_PROBLEMS_PER_RULE:
            out.append(XptProblem(dataset, var, None, rule,
                                  f"{count} values of {var} break {rule}; only the first {CELL_PROBLEMS_PER_RULE} are listed"))
    return out


def check_xpt(df: pd.DataFrame, dataset: XptDataset, *, distinct: dict[str, tuple] | None = None) -> list[XptProblem]:
    """Every reason `df` cannot be written as `dataset`; writes nothing. distinct: the pd.factorize
    of text Char columns by name, when the caller has it (write_xpt: one pass per column)."""
    problems = _metadata_problems(dataset) + _column_problems(df, dataset)
    columns = [str(c) for c in df.columns]
    for var in dataset.variables:
        if var.type in ("Char", "Num") and columns.count(var.name) == 1:
            series = df.iloc[:, columns.index(var.name)]
            cells = _cell_problems(series, var, (distinct or {}).get(var.name))
            problems += _capped(dataset.name, var.name, cells)
    # Readers cannot tell an all-blank last observation from the blank padding
    # that ends the file, so pyreadstat drops it (only possible when all are Char).
    if len(df) and all(v.type == "Char" for v in dataset.variables) and not problems:
        last = df.iloc[-1]
        if all(_is_missing(last[v.name]) or str(last[v.name]).strip(" ") == "" for v in dataset.variables):
            problems.append(XptProblem(dataset.name, None, len(df) - 1, "XPT-BLANK-LAST-ROW",
                                       "the last row is entirely blank; XPT readers would drop it as padding"))
    return problems


# ---------------------------------------------------------------- metadata steps


def _num_value(value, kind: str | None) -> float:
    if _is_missing(value):
        return math.nan
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    if isinstance(value, dt.date):
        return date_to_sas_date(value) if kind == "date" else datetime_to_sas_datetime(value)
    if isinstance(value, dt.time):
        return _time_to_sas_time(value)
    return float(value)


def _num_column(series: pd.Series, var: XptVariable) -> pd.Series:
    kind = _format_kind(var.format)
    if pd.api.types.is_datetime64_any_dtype(series):
        unit = pd.Timedelta(days=1) if kind == "date" else pd.Timedelta(seconds=1)
        return ((series - pd.Timestamp(SAS_EPOCH_DATETIME)) / unit).astype("float64")
    if series.dtype == np.float64:
        return series       # already what is written: no copy
    if pd.api.types.is_integer_dtype(series) or pd.api.types.is_float_dtype(series):
        return pd.Series(series.to_numpy(dtype=float, na_value=np.nan), index=series.index)
    return pd.Series([_num_value(v, kind) for v in series.tolist()], index=series.index, dtype="float64")


def char_value(value) -> str:
    # Trailing blanks are padding in SAS, not data: strip them so the storage
    # length is the longest meaningful value.
    return "" if _is_missing(value) else str(value).rstrip(" ")


def _char_column(series: pd.Series) -> pd.Series:
    if not _is_text(series):
        return pd.Series([char_value(v) for v in series.tolist()], index=series.index, dtype=object)
    codes, uniques = pd.factorize(series)       # each distinct text once; missing -> code -1
    values = [char_value(u) for u in uniques]
    if series.dtype == object and (codes >= 0).all() and values == list(uniques):
        return series       # nothing to change: no copy of a column that may hold millions of cells
    table = np.array([*values, ""], dtype=object)      # a missing value is written as ""
    return pd.Series(table[codes], index=series.index, dtype=object)


def prepare_xpt_frame(df: pd.DataFrame, dataset: XptDataset) -> pd.DataFrame:
    """Order columns as in `dataset`; Char missing -> ""; Num -> float64 with
    dates/datetimes/times as SAS day/second numbers and missing as NaN."""
    columns = {
        var.name: _char_column(df[var.name]) if var.type == "Char" else _num_column(df[var.name], var)
        for var in dataset.variables
    }
    return pd.DataFrame(columns, copy=False).reset_index(drop=True)     # the columns are new: no second copy


# ---------------------------------------------------------------- bytes


def sas_stamp(moment: dt.datetime) -> bytes:
    """ddMMMyy:hh:mm:ss, English months whatever the locale."""
    return (f"{moment.day:02d}{MONTHS[moment.month - 1]}{moment.year % 100:02d}:"
            f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}").encode("ascii")


# pyreadstat stamps the wall clock; a fixed stamp makes reruns byte-identical
# (the SAS epoch, so nobody mistakes it for a real creation time).
DEFAULT_CREATED = dt.datetime(1960, 1, 1)


def _expect_layout(data: bytes) -> None:
    layout = {0: LIBRARY_HEADER, 3: MEMBER_HEADER, 4: DSCRPTR_HEADER, 7: NAMESTR_HEADER}
    for record, header in layout.items():
        if data[record * RECORD: record * RECORD + len(header)] != header:
            raise RuntimeError(f"unexpected XPT layout from pyreadstat: record {record} is not {header!r}")
    for offset in STAMP_OFFSETS:
        if not STAMP_PATTERN.fullmatch(data[offset: offset + STAMP_LENGTH]):
            raise RuntimeError(f"unexpected XPT layout from pyreadstat: no date stamp at byte {offset}")


def _stamp_header(data: bytearray, created: dt.datetime) -> None:
    _expect_layout(data)
    stamp = sas_stamp(created)
    for offset in STAMP_OFFSETS:
        data[offset: offset + STAMP_LENGTH] = stamp


def namestr_lengths(data: bytes) -> dict[str, int]:
    """Variable name -> storage length, parsed from the NAMESTR records."""
    namestr_size = int(data[3 * RECORD + 74: 3 * RECORD + 78])  # 140 (136 on VAX/VMS)
    count = int(data[7 * RECORD + 54: 7 * RECORD + 58])
    start = 8 * RECORD
    lengths = {}
    for i in range(count):
        record = data[start + i * namestr_size: start + (i + 1) * namestr_size]
        lengths[record[8:16].decode("ascii").rstrip()] = int.from_bytes(record[4:6], "big")
    return lengths


def write_xpt(df: pd.DataFrame, path, dataset: XptDataset, *, created: dt.datetime | None = None,
              distinct: dict[str, tuple] | None = None) -> None:
    """Write `df` as an XPT v5 file via path + ".tmp" and os.replace.

    Raises XptError (nothing written) if any check fails, RuntimeError if
    pyreadstat's header is not laid out as expected (header stamps, lengths).
    Each text column is factorised once (or given: `distinct`, as text_factorisations returns it):
    checks, lengths and bytes work on its distinct values.
    """
    distinct = text_factorisations(df, dataset) if distinct is None else distinct
    problems = check_xpt(df, dataset, distinct=distinct)
    if problems:
        raise XptError(problems)
    encoded = [_encode(df[var.name], var, distinct.get(var.name)) for var in dataset.variables]
    del distinct
    wrong = [XptProblem(dataset.name, e.var.name, None, "XPT-LENGTH",
                        f"{e.var.name} is declared {e.var.length} bytes but its values need {e.width}")
             for e in encoded if e.var.length is not None and e.var.length != e.width]
    if wrong:
        raise XptError(wrong)
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    try:
        header = _header_records(_width_template(encoded, len(df)), dataset, tmp)
        _stamp_header(header, created or DEFAULT_CREATED)
        widths = {e.var.name: e.width for e in encoded}
        if namestr_lengths(header) != widths:
            raise RuntimeError(f"pyreadstat wrote storage lengths {namestr_lengths(header)}, expected {widths}")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    # the records: now, or by the writer thread inside background.deferred() (write_output_folder)
    background.run(partial(_write_file, tmp, path, header, encoded, len(df)))


def _write_file(tmp: Path, path: Path, header: bytearray, encoded: list[_Encoded], rows: int) -> None:
    """header + observation records into tmp (synced), then renamed to path."""
    try:
        with open(tmp, "wb") as handle:
            handle.write(header)
            size = 0
            for block in observation_blocks(encoded, rows):
                handle.write(block)
                size += len(block)
            handle.write(b" " * (-size % RECORD))       # the last record padded with blanks
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def text_factorisations(df: pd.DataFrame, dataset: XptDataset) -> dict[str, tuple]:
    """pd.factorize of each text Char column (codes in the smallest integer type, distinct values);
    shared with define.xml inside distinct.shared_factorisations()."""
    columns = [str(c) for c in df.columns]
    return {var.name: factorized(df, var.name) for var in dataset.variables
            if var.type == "Char" and columns.count(var.name) == 1 and all_text(df, var.name)}


@dataclass
class _Encoded:
    """One variable as written: Num as float64 (SAS numbers, NaN missing); Char as codes into its
    distinct texts (trailing blanks stripped, "" for missing)."""

    var: XptVariable
    numbers: np.ndarray | None = None
    codes: np.ndarray | None = None
    texts: list[str] | None = None

    @cached_property
    def width(self) -> int:
        if self.texts is None:
            return 8
        return text_width(self.texts)


def text_width(texts) -> int:
    """Storage bytes of a Char variable: its longest value (trailing blanks stripped), at least 1."""
    if "".join(texts).isascii():          # one C pass; then characters == bytes
        return max(1, *map(len, texts)) if texts else 1
    return max([1, *(len(t.encode("ascii")) for t in texts)])


def text_bytes(texts) -> int:
    """The longest text in UTF-8 bytes, at least 1 (define.xml and xpt_length: before the ASCII check)."""
    if "".join(texts).isascii():
        return max(1, *map(len, texts)) if texts else 1
    return max([1, *(len(t.encode("utf-8")) for t in texts)])


def char_texts(uniques) -> list[str]:
    """char_value of each distinct value (once per distinct values object inside distinct.shared_factorisations())."""
    return derived(uniques, "char_texts",
                   lambda values: [u.rstrip(" ") if type(u) is str else char_value(u) for u in values])


def _encode(series: pd.Series, var: XptVariable, distinct: tuple | None) -> _Encoded:
    if var.type == "Num":
        return _Encoded(var, numbers=_num_column(series, var).to_numpy(dtype=np.float64))
    if distinct is None:        # not all text (e.g. numbers in a Char column): per value, then factorised
        codes, uniques = pd.factorize(_char_column(series))
        distinct = (small_codes(codes, len(uniques)), uniques)
    codes, uniques = distinct
    texts = [*char_texts(uniques), ""]      # code -1 (missing) picks the last text, ""
    return _Encoded(var, codes=codes, texts=texts)


def _width_template(encoded: list[_Encoded], rows: int) -> pd.DataFrame:
    """At most one row holding each Char variable's longest text: pyreadstat gives it the same
    header (storage widths) as the whole data. No rows when there is no data."""
    if not rows:
        return pd.DataFrame({e.var.name: pd.Series([], dtype=object if e.texts is not None else np.float64)
                             for e in encoded})
    return pd.DataFrame({e.var.name: [max(e.texts, key=len)] if e.texts is not None else [np.nan] for e in encoded})


def _header_records(template: pd.DataFrame, dataset: XptDataset, tmp: Path) -> bytearray:
    """pyreadstat's header records (library to OBS header) written from `template`."""
    pyreadstat.write_xport(
        template, os.fspath(tmp), file_format_version=5, table_name=dataset.name,
        file_label=dataset.label, column_labels=[v.label for v in dataset.variables],
        variable_format={v.name: v.format for v in dataset.variables if v.format},
    )
    data = tmp.read_bytes()
    at = data.find(OBS_HEADER)
    if at < 0 or at % RECORD:
        raise RuntimeError("unexpected XPT layout from pyreadstat: no OBS header record")
    return bytearray(data[: at + RECORD])


def observation_blocks(encoded: list[_Encoded], rows: int):
    """The observation records as byte blocks of OBS_CHUNK_ROWS rows: per row, each variable in
    order, Char as ASCII padded with blanks to its width, Num as an IBM double (big-endian).

    A block is an array of records with one unsigned-integer field per 8, 4, 2 or 1 bytes of a
    variable: copying whole integers (a gather from the distinct texts' bytes for Char) is much
    faster than copying a few bytes per cell. One block buffer is reused (fresh memory costs a page
    fault per 4 KiB): each block is valid until the next one is asked for."""
    fields, sources = [], []
    offset = 0
    for e in encoded:
        if e.texts is None:
            fields.append((offset, 8))
            sources.append((e, None))
        else:
            table = _char_table(e.texts, e.width)
            for start, size in _pieces(e.width):
                fields.append((offset + start, size))
                sources.append((e, np.ascontiguousarray(table[:, start: start + size]).view(f"u{size}").ravel()))
        offset += e.width
    record = np.dtype({"names": [f"f{i}" for i in range(len(fields))], "formats": [f"u{s}" for _, s in fields],
                       "offsets": [o for o, _ in fields], "itemsize": offset})
    chunk = max(1, min(OBS_CHUNK_ROWS, OBS_BLOCK_BYTES // max(offset, 1)))
    buffer = np.empty(min(rows, chunk), dtype=record)
    varying = []
    for i, (e, table) in enumerate(sources):
        if table is not None and _constant(e.codes):    # e.g. STUDYID: filled once, the buffer is reused
            buffer[f"f{i}"] = table[e.codes[0]]
        else:
            varying.append((f"f{i}", e, table))
    for start in range(0, rows, chunk):
        stop = min(start + chunk, rows)
        block = buffer[: stop - start]
        for name, e, table in varying:
            if table is None:
                block[name] = _ibm_words(e.numbers[start:stop]).astype(">u8").view(np.uint64)
            else:
                block[name] = table.take(e.codes[start:stop])      # code -1 (missing): the last text, ""
        yield block.view(np.uint8)


def _constant(codes: np.ndarray) -> bool:
    return len(codes) > 0 and codes.min() == codes.max()


def _pieces(width: int) -> list[tuple[int, int]]:
    """(start, size) pieces of 8, 4, 2 and 1 bytes covering `width` bytes."""
    out, start = [], 0
    for size in (8, 4, 2, 1):
        while width - start >= size:
            out.append((start, size))
            start += size
    return out


def _char_table(texts: list[str], width: int) -> np.ndarray:
    """(len(texts), width) uint8: each text blank-padded (readstat would cut a text at a NUL: refused)."""
    if any("\x00" in t for t in texts):
        raise ValueError("a text holds a NUL character: XPT readers would cut it there (check_xpt reports it as XPT-NUL)")
    padded = b"".join(t.ljust(width).encode("ascii") for t in texts)
    return np.frombuffer(padded, dtype=np.uint8).reshape(len(texts), width)


SAS_MISSING = np.uint64(0x2E << 56)     # "." followed by seven zero bytes


def _ibm_bytes(values: np.ndarray) -> np.ndarray:
    """(n, 8) uint8: IBM System/360 doubles, big-endian, as readstat writes them (see _ibm_words)."""
    return _ibm_words(values).astype(">u8").view(np.uint8).reshape(len(values), 8)


def _ibm_words(values: np.ndarray) -> np.ndarray:
    """uint64 IBM System/360 doubles, as readstat writes them. Exact for every finite value that
    check_xpt lets through: a 53-bit IEEE significand shifted by 0-3 bits fits the 56-bit IBM
    fraction. 0 (and -0) -> zero, NaN -> SAS missing "."."""
    x = np.ascontiguousarray(values, dtype=np.float64)
    bits = x.view(np.uint64)
    sign = bits >> np.uint64(63)
    power2 = ((bits >> np.uint64(52)) & np.uint64(0x7FF)).astype(np.int64) - 1022   # |x| = f * 2**power2, f in [0.5, 1)
    power16 = -((-power2) // 4)                                                       # ceil(power2 / 4)
    shift = (4 * power16 - power2).astype(np.uint64)                                  # 0..3
    significand = (bits & np.uint64((1 << 52) - 1)) | np.uint64(1 << 52)
    fraction = significand << (np.uint64(3) - shift)
    ibm = (sign << np.uint64(63)) | ((power16 + 64).astype(np.uint64) << np.uint64(56)) | fraction
    ibm = np.where(x == 0, np.uint64(0), ibm)
    return np.where(np.isnan(x), SAS_MISSING, ibm)


def read_xpt(path) -> tuple[pd.DataFrame, dict]:
    """pyreadstat.read_xport plus the metadata needed to write the file again."""
    df, meta = pyreadstat.read_xport(os.fspath(path))
    formats = {
        name: fmt if "." in fmt else fmt + "."  # pyreadstat reports "DATE9" but "8.2"
        for name, fmt in meta.original_variable_types.items() if fmt
    }
    return df, {
        "name": meta.table_name,
        "label": meta.file_label or "",
        "labels": {name: label or "" for name, label in zip(meta.column_names, meta.column_labels)},
        "lengths": dict(meta.variable_storage_width),
        "formats": formats,
        "types": {name: "Char" if t == "string" else "Num" for name, t in meta.readstat_variable_types.items()},
    }

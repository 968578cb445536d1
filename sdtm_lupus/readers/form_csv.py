"""Form CSV transport: one `<form>.csv` per form, header on line 1.

Cells are carried as-is (no whitespace stripping, "" = missing); each row keeps the line
number on which its record began (header = 1) in the ROW column. A cell holding a control or
invisible character (NUL, ESC, C1, U+FFFD, zero-width, a BOM inside the file...) is refused
here, naming file, line and column (readers/cells.py).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sdtm_lupus.config.mapping import FormSource
from sdtm_lupus.findings import Finding, InputError
from sdtm_lupus.readers.cells import HOSTILE, describe, hostile_cells
from sdtm_lupus.readers.forms import ROW, Form

MAX_ROW_FINDINGS = 20  # field-count errors reported per file before summarising
_CJK = re.compile("[\u3400-\u9fff\uf900-\ufaff]")


def build_form(name: str, file_label: str, columns: list[str], values: dict[str, Sequence[str]],
               rows: list[int]) -> Form:
    """The one way both transports build a Form: str columns in layout order, then ROW."""
    data = {col: pd.Series(values.get(col, [""] * len(rows)), dtype="str") for col in columns}
    data[ROW] = pd.Series(rows, dtype="int64")
    return Form(name=name, file=file_label, data=pd.DataFrame(data))


def empty_form(name: str, file_label: str, columns: list[str]) -> Form:
    return build_form(name, file_label, columns, {}, [])


def decode_text(raw: bytes, encoding: str, file_label: str) -> str:
    """Strict decode; a UTF-8 byte-order mark is accepted (and stripped) in either encoding."""
    bom = raw.startswith(b"\xef\xbb\xbf")
    body = raw[3:] if bom else raw
    codec = "utf-8" if encoding.replace("_", "-").lower() in ("utf-8", "utf8") else encoding
    if codec != "utf-8" and (bom or _looks_utf8(raw)):
        raise InputError(Finding(
            rule="READ-ENCODING", severity="error", file=file_label,
            message=f"the mapping names encoding {encoding}, but the file is UTF-8 "
                    f"({'byte-order mark' if bom else 'valid UTF-8 with Chinese text'}); "
                    f"reading it as {encoding} would garble the text: fix the mapping's encoding"))
    try:
        text = body.decode(codec)
    except UnicodeDecodeError as exc:
        offset = exc.start + (3 if bom else 0)
        line = raw.count(b"\n", 0, offset) + 1
        hint = " (the file decodes as GB18030: set `encoding: gb18030` in the mapping)" \
            if codec == "utf-8" and _decodes(body, "gb18030") else ""
        raise InputError(Finding(
            rule="READ-ENCODING", severity="error", file=file_label, row=line,
            message=f"not valid {encoding}: undecodable byte 0x{raw[offset]:02x} at byte offset {offset} "
                    f"(line {line}){hint}")) from None
    return text[1:] if text.startswith("\ufeff") else text


def _decodes(raw: bytes, codec: str) -> bool:
    try:
        raw.decode(codec)
    except UnicodeDecodeError:
        return False
    return True


def _looks_utf8(raw: bytes) -> bool:
    """Valid UTF-8 holding CJK ideographs: GB18030 bytes practically never decode so."""
    if raw.isascii():
        return False
    try:
        return _CJK.search(raw.decode("utf-8")) is not None
    except UnicodeDecodeError:
        return False


def read_form_csv(path: Path, form: str, source: FormSource, columns: list[str], encoding: str,
                  file_label: str, other_columns: Collection[str] = (),
                  optional: Collection[str] = ()) -> tuple[Form, list[Finding]]:
    """Read one form CSV. `columns`: common + reference columns of the form, in order;
    `other_columns`: source columns other forms read from the same file (not "extra");
    `optional`: reference columns the file may lack (specs/raw-forms.yaml `optional`), then read as empty.

    Returns the Form and non-fatal findings; raises InputError with every fatal finding.
    """
    def finding(rule: str, message: str, severity: str = "error", **where) -> Finding:
        return Finding(rule=rule, severity=severity, message=message, dataset=form,
                       file=file_label, **where)

    raw = Path(path).read_bytes()
    text = decode_text(raw, encoding, file_label)
    size = len(raw)
    del raw  # large files: keep the peak down
    # Fast path (pandas' C parser) for well-formed files; anything it cannot prove is read
    # exactly as the csv module reads it goes through the csv module, which also words every error.
    parsed = _parse_fast(text)
    if parsed is None:
        parsed = _parse_csv_module(text, size, finding)
    hostile = HOSTILE.search(text) is not None   # one scan of the file; cells are located only on a hit
    del text
    header, starts = parsed.header, parsed.starts
    fatal: list[Finding] = []
    findings: list[Finding] = []

    for i, name in enumerate(header if hostile else ()):
        if HOSTILE.search(name):
            hint = " (NUL bytes throughout: is the file UTF-16?)" if name.count("\x00") > 1 else ""
            fatal.append(finding("READ-CONTROL-CHAR", row=1, variable=name,
                                 message=f"header field {i + 1} {name!r} contains {describe(name, HOSTILE.findall(name))}"
                                         + hint))
    # Header: every reference column must be there (under its source name), once.
    position = {}
    for i, name in enumerate(header):
        position.setdefault(name, i)
    wanted = {col: source.rename.get(col, col) for col in columns if col not in source.absent}
    for col in source.absent:
        if col in position and col not in set(wanted.values()) | set(other_columns):
            fatal.append(finding("READ-ABSENT-COLUMN", f"column {col} is in the header, but the mapping declares it "
                                 f"absent (forms.{form}.absent): remove it from absent so that the file's values are read",
                                 variable=col, row=1))
    for col, src in wanted.items():
        shown = src if src == col else f"{src} (reference column {col})"
        if src not in position and col in optional:
            continue
        if src not in position:
            near = [h for h in header if h.strip().upper() == src.upper()]
            hint = f"; the header has {near[0]!r}" if near else ""
            fatal.append(finding("READ-MISSING-COLUMN", f"required column {shown} is not in the header{hint}",
                                 variable=src, row=1))
        elif header.count(src) > 1:
            fatal.append(finding("READ-DUPLICATE-COLUMN", f"column {shown} appears {header.count(src)} times "
                                 "in the header", variable=src, row=1))
    used = set(wanted.values()) | set(other_columns) | set(source.absent)   # an absent column in the file: READ-ABSENT-COLUMN
    for name in dict.fromkeys(header):
        if name not in used:
            findings.append(finding("READ-EXTRA-COLUMN", severity="warning", variable=name, row=1,
                                    message=f"column {name!r} is not in the {form} layout or mapping: "
                                            "its data is not carried over"))

    # Every record must have as many fields as the header (the fast path only accepts such files).
    width = len(header)
    bad = parsed.bad
    for line, count in bad[:MAX_ROW_FINDINGS]:
        truncated = parsed.ends_open and line == starts[-1] and count < width
        fatal.append(finding(
            "READ-TRUNCATED" if truncated else "READ-FIELD-COUNT", row=line,
            message=f"record has {count} fields, the header has {width}"
                    + (" (last line, no final newline: file truncated?)" if truncated else "")))
    if len(bad) > MAX_ROW_FINDINGS:
        fatal.append(finding("READ-FIELD-COUNT", f"{len(bad) - MAX_ROW_FINDINGS} more records have a "
                             f"field count other than {width}", row=bad[MAX_ROW_FINDINGS][0]))
    if fatal:
        raise InputError(fatal + findings)

    values = {col: parsed.column(position[src]) for col, src in wanted.items() if src in position}
    values.update({col: [default] * len(starts) for col, default in source.absent.items() if col in columns})
    result = build_form(form, file_label, columns, values, starts)
    if hostile:
        fatal = hostile_cells(result)
        if fatal:
            raise InputError(fatal + findings)
    return result, findings


@dataclass
class _Parsed:
    header: list[str]
    starts: Sequence[int]                        # line on which each body record begins
    column: Callable[[int], Sequence[str]]       # body values of the header's i-th field
    bad: list[tuple[int, int]] = field(default_factory=list)  # (line, field count) of wrong-width records
    ends_open: bool = False                      # no final line break


def _parse_csv_module(text: str, size: int, finding: Callable[..., Finding]) -> _Parsed:
    """The reference reader: Python's csv module (strict), one record at a time."""
    ends_open = bool(text) and not text.endswith(("\n", "\r"))
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[list[str]] = []
    starts: list[int] = []
    start = 1
    try:
        for record in reader:
            if record:  # csv yields [] for a blank line: not a record
                records.append(record)
                starts.append(start)
            start = reader.line_num + 1
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            raise InputError(finding(
                "READ-TRUNCATED", row=start,
                message="file ends inside a quoted field: the record that begins on this line "
                        "is truncated (incomplete export?)")) from None
        raise InputError(finding("READ-CSV-SYNTAX", f"malformed CSV: {exc}", row=reader.line_num)) from None
    if not records:
        raise InputError(finding("READ-EMPTY-FILE", "file is empty: no header row"
                                 + (" (0 bytes)" if not size else "")))
    header, body, starts = records[0], records[1:], starts[1:]
    width = len(header)
    bad = [(line, len(rec)) for rec, line in zip(body, starts) if len(rec) != width]
    if bad:
        return _Parsed(header, starts, lambda i: (), bad, ends_open)
    fields = list(zip(*body)) if body else [()] * width  # columnar: transpose once
    del records, body
    return _Parsed(header, starts, fields.__getitem__, [], ends_open)


_QUOTE, _COMMA, _LF, _CR = b'"'[0], b","[0], b"\n"[0], b"\r"[0]


def _parse_fast(text: str) -> _Parsed | None:
    """pandas' C parser, for files it provably reads exactly as the strict csv module does.

    Checked on the UTF-8 bytes with numpy, whatever the file's encoding (after the strict
    decode): no NUL, no lone CR, every quote either opens a field, closes one (followed by a
    comma, line break or the end) or is one of a doubled pair inside a quoted field, an even
    number of quotes, no record longer than the csv module's field size limit; after parsing,
    the record count must equal the line breaks outside quotes and the commas outside quotes
    must be exactly (width - 1) per record (pandas raises on longer records, pads shorter
    ones, and keeps blank lines as records here). Returns None when any check fails.
    """
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        return None
    if not data or b"\x00" in data or data.count(b"\r") != data.count(b"\r\n") \
            or data.startswith(b"\xef\xbb\xbf"):
        return None
    arr = np.frombuffer(data, dtype=np.uint8)
    n = len(arr)
    quotes = np.flatnonzero(arr == _QUOTE)
    newlines = np.flatnonzero(arr == _LF)
    commas_total = data.count(b",")
    if len(quotes):
        if len(quotes) % 2:
            return None  # ends inside quotes, or a stray quote: the csv module words it
        k = np.arange(len(quotes))
        prev = np.where(quotes > 0, arr[np.maximum(quotes - 1, 0)], _LF)
        nxt = np.where(quotes < n - 1, arr[np.minimum(quotes + 1, n - 1)], _LF)
        gap_before = np.diff(quotes, prepend=-2)   # 1: the previous quote is adjacent
        gap_after = np.diff(quotes, append=n + 2)  # 1: the next quote is adjacent
        even = (k % 2) == 0
        opens = even & ((prev == _COMMA) | (prev == _LF) | (gap_before == 1))
        closes = ~even & ((nxt == _COMMA) | (nxt == _LF) | (nxt == _CR) | (gap_after == 1))
        if not np.all(opens | closes):
            return None  # a quote inside an unquoted field or text after a closing quote
        # Inside quotes = between quote 2i and quote 2i+1 (doubled quotes split a field in two spans).
        inside_nl = (np.searchsorted(quotes, newlines) % 2) == 1
        comma_pos = np.flatnonzero(arr == _COMMA)
        commas_inside = int((np.searchsorted(comma_pos, quotes[1::2])
                             - np.searchsorted(comma_pos, quotes[0::2])).sum())
        del comma_pos
    else:
        inside_nl = np.zeros(len(newlines), dtype=bool)
        commas_inside = 0
    ends = newlines[~inside_nl]
    bounds = np.concatenate(([-1], ends, [n]))
    if int(np.diff(bounds).max()) > csv.field_size_limit():
        return None  # a field could exceed the csv module's limit: it reports that
    records = len(ends) + (0 if data.endswith(b"\n") else 1)
    try:
        frame = pd.read_csv(io.BytesIO(data), header=None, dtype=str, keep_default_na=False, na_filter=False,
                            skip_blank_lines=False, encoding="utf-8", engine="c")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError):
        return None
    del data, arr
    width = frame.shape[1]
    if width < 2 or len(frame) != records or commas_total - commas_inside != records * (width - 1):
        return None  # blank or short records (a blank line is a record of 1 field here)
    embedded = np.flatnonzero(inside_nl)
    if len(embedded):
        # record of each line break inside quotes = line breaks before it that end records
        owner = embedded - np.arange(len(embedded))
        extra = np.bincount(owner, minlength=records)
        begins = 1 + np.arange(records) + np.concatenate(([0], np.cumsum(extra)[:-1]))
    else:
        begins = np.arange(1, records + 1)
    header = frame.iloc[0].tolist()
    body = frame.iloc[1:].reset_index(drop=True)
    del frame
    return _Parsed(header, begins[1:].astype("int64"), lambda i: body[i])

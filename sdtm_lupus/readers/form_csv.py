"""Form CSV transport: one `<form>.csv` per form, header on line 1.

Cells are carried as-is (no whitespace stripping, "" = missing); each row keeps the line
number on which its record began (header = 1) in the ROW column.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection, Sequence
from pathlib import Path

import pandas as pd

from sdtm_lupus.config.mapping import FormSource
from sdtm_lupus.findings import Finding, InputError
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
                  file_label: str, other_columns: Collection[str] = ()) -> tuple[Form, list[Finding]]:
    """Read one form CSV. `columns`: common + reference columns of the form, in order;
    `other_columns`: source columns other forms read from the same file (not "extra").

    Returns the Form and non-fatal findings; raises InputError with every fatal finding.
    """
    def finding(rule: str, message: str, severity: str = "error", **where) -> Finding:
        return Finding(rule=rule, severity=severity, message=message, dataset=form,
                       file=file_label, **where)

    raw = Path(path).read_bytes()
    text = decode_text(raw, encoding, file_label)
    size, ends_open = len(raw), bool(text) and not text.endswith(("\n", "\r"))
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    del raw, text  # large files: keep the peak down
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
    fatal: list[Finding] = []
    findings: list[Finding] = []

    # Header: every reference column must be there (under its source name), once.
    position = {}
    for i, name in enumerate(header):
        position.setdefault(name, i)
    wanted = {col: source.rename.get(col, col) for col in columns}
    for col, src in wanted.items():
        shown = src if src == col else f"{src} (reference column {col})"
        if src not in position:
            near = [h for h in header if h.strip().upper() == src.upper()]
            hint = f"; the header has {near[0]!r}" if near else ""
            fatal.append(finding("READ-MISSING-COLUMN", f"required column {shown} is not in the header{hint}",
                                 variable=src, row=1))
        elif header.count(src) > 1:
            fatal.append(finding("READ-DUPLICATE-COLUMN", f"column {shown} appears {header.count(src)} times "
                                 "in the header", variable=src, row=1))
    used = set(wanted.values()) | set(other_columns)
    for name in dict.fromkeys(header):
        if name not in used:
            findings.append(finding("READ-EXTRA-COLUMN", severity="warning", variable=name, row=1,
                                    message=f"column {name!r} is not in the {form} layout or mapping: "
                                            "its data is not carried over"))

    # Every record must have as many fields as the header.
    width = len(header)
    bad = [(line, len(rec)) for rec, line in zip(body, starts) if len(rec) != width]
    for line, count in bad[:MAX_ROW_FINDINGS]:
        truncated = ends_open and line == starts[-1] and count < width
        fatal.append(finding(
            "READ-TRUNCATED" if truncated else "READ-FIELD-COUNT", row=line,
            message=f"record has {count} fields, the header has {width}"
                    + (" (last line, no final newline: file truncated?)" if truncated else "")))
    if len(bad) > MAX_ROW_FINDINGS:
        fatal.append(finding("READ-FIELD-COUNT", f"{len(bad) - MAX_ROW_FINDINGS} more records have a "
                             f"field count other than {width}", row=bad[MAX_ROW_FINDINGS][0]))
    if fatal:
        raise InputError(fatal + findings)

    # Columnar build: transpose once, pick the wanted source columns.
    fields = list(zip(*body)) if body else [()] * width
    del records, body
    values = {col: fields[position[src]] for col, src in wanted.items()}
    return build_form(form, file_label, columns, values, starts), findings

"""Characters a raw cell may not hold, whatever the transport (CSV or ODM).

Policy (README "Hostile characters"):
- control characters: C0 except tab, line feed and carriage return (NUL, ESC, ...), DEL, C1
  (U+0080..U+009F), the replacement character U+FFFD (the text was mis-decoded before it
  reached us) and the non-characters U+FFFE/U+FFFF: error READ-CONTROL-CHAR;
- invisible format characters: zero-width space/joiners, bidirectional controls, word joiner,
  soft hyphen, a byte-order mark inside a cell (U+FEFF), line/paragraph separators, tag
  characters: error READ-INVISIBLE-CHAR;
- tab and line breaks inside a quoted cell are kept as collected (they are visible whitespace);
- look-alikes (no-break and other Unicode spaces, full-width or other non-ASCII digits,
  Cyrillic or Greek letters in a code) are refused where the column is read as a date,
  time, number, yes/no, checkbox or identifier, and named in the code-list message
  (sdtm/parse.py); free text (verbatim terms) may hold them (the non_ascii policy applies).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

import pandas as pd

from sdtm_lupus.findings import Finding
from sdtm_lupus.readers.forms import ROW, Form

MAX_CELL_FINDINGS = 20   # per form and rule; then one summary finding

_CONTROL = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd\ufffe\uffff"
_INVISIBLE = ("\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
              "\U000e0001\U000e0020-\U000e007f")
CONTROL = re.compile(f"[{_CONTROL}]")
INVISIBLE = re.compile(f"[{_INVISIBLE}]")
HOSTILE = re.compile(f"[{_CONTROL}{_INVISIBLE}]")
_RULES = (("READ-CONTROL-CHAR", CONTROL, "control character"), ("READ-INVISIBLE-CHAR", INVISIBLE, "invisible character"))


def describe(text: str, chars: Iterable[str] | None = None) -> str:
    """'U+00A0 NO-BREAK SPACE, U+FF11 FULLWIDTH DIGIT ONE' for the distinct characters named."""
    seen = dict.fromkeys(chars if chars is not None else text)
    return ", ".join(f"U+{ord(c):04X} {unicodedata.name(c, 'control character')}" for c in seen)


def non_ascii(text: str) -> str:
    """The description of the non-ASCII characters of text ('' when it is ASCII)."""
    return "" if text.isascii() else describe(text, [c for c in text if ord(c) > 127])


def hostile_cells(form: Form, columns: Iterable[str] | None = None,
                  distinct: Mapping[str, Iterable] | None = None) -> list[Finding]:
    """One error per cell of `form` holding a control or invisible character (capped per rule).
    distinct: the distinct values of columns, when the caller has them already."""
    data = form.data
    findings: list[Finding] = []
    counts: dict[str, int] = {}
    for column in columns if columns is not None else [c for c in data.columns if c != ROW]:
        values = data[column]
        known = distinct.get(column) if distinct is not None else None
        uniques = [u for u in (pd.unique(values) if known is None else known) if isinstance(u, str)]
        if not uniques or not HOSTILE.search("\n".join(uniques)):
            continue
        bad = {u for u in uniques if HOSTILE.search(u)}
        for value, row in zip(values[values.isin(bad)], data.loc[values.isin(bad), ROW]):
            for rule, pattern, what in _RULES:
                found = pattern.findall(value)
                if not found:
                    continue
                counts[rule] = counts.get(rule, 0) + 1
                if counts[rule] <= MAX_CELL_FINDINGS:
                    findings.append(Finding(
                        rule=rule, severity="error", dataset=form.name, variable=column, file=form.file, row=int(row),
                        value=value, message=f"{column} {value!r} contains the {what} {describe(value, found)}: "
                                             "refused (it would corrupt or silently cut the value)"))
    for rule, count in counts.items():
        if count > MAX_CELL_FINDINGS:
            findings.append(Finding(rule=rule, severity="error", dataset=form.name, file=form.file,
                                    message=f"{count - MAX_CELL_FINDINGS} more cells hold such characters"))
    return findings

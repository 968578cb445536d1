"""The non-ASCII policy: XPT v5 holds ASCII only, so other text is escaped or refused.

"escape" replaces each non-ASCII character by \\uXXXX (lossless, reversible, visible) and
reports a warning per cell; "error" reports an error per cell. Never silent.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sdtm_lupus.distinct import map_distinct
from sdtm_lupus.findings import Finding

PROVENANCE = ("_file", "_row")


def escape_non_ascii(text: str) -> str:
    return "".join(c if ord(c) < 128 else (f"\\u{ord(c):04x}" if ord(c) < 0x10000 else f"\\U{ord(c):08x}")
                   for c in text)


def is_non_ascii(value) -> bool:
    return isinstance(value, str) and not value.isascii()


def _all_ascii_text(values: pd.Series) -> bool:
    """True when every non-missing value is ASCII text: one C-level pass (str.isascii is O(1): Python
    flags ASCII strings). False means "look cell by cell" (non-ASCII text, or a value that is not text:
    NaN or a number raise TypeError here; None and "" are skipped)."""
    try:
        return all(map(str.isascii, filter(None, values.to_numpy(dtype=object))))
    except TypeError:
        return False


def apply_ascii_policy(name: str, df: pd.DataFrame, policy: str) -> tuple[pd.DataFrame, list[Finding]]:
    findings: list[Finding] = []
    out = df
    for col in df.columns:
        if col in PROVENANCE or df[col].dtype != object:
            continue
        values = df[col]
        if _all_ascii_text(values):
            continue
        bad = map_distinct(values, is_non_ascii, dtype=bool)
        if not bad.any():
            continue
        findings.extend(_findings(name, df, col, bad.to_numpy(), policy))
        if policy == "escape":
            if out is df:
                out = df.copy()
            out.loc[bad, col] = values[bad].map(escape_non_ascii)
    return out, findings


def _findings(name: str, df: pd.DataFrame, col: str, bad: np.ndarray, policy: str) -> list[Finding]:
    """One finding per non-ASCII cell of df[col] (bad: a mask over the rows), in row order."""
    at = np.flatnonzero(bad)

    def cells(column: str) -> list:
        return df[column].to_numpy(dtype=object)[at].tolist() if column in df else [None] * len(at)

    escaped: dict[str, str] = {}
    findings = []
    for value, usubjid, file, row in zip(cells(col), cells("USUBJID"), cells("_file"), cells("_row")):
        text = escaped.get(value)
        if text is None:
            text = escaped[value] = escape_non_ascii(value)
        findings.append(Finding(
            rule="XPT-NON-ASCII", severity="warning" if policy == "escape" else "error",
            dataset=name, variable=col, usubjid=usubjid, file=file, row=None if row is None else int(row),
            value=value,
            message=(f"non-ASCII text '{value}' written to XPT as '{text}'" if policy == "escape"
                     else f"non-ASCII text {value!r} cannot be written to XPT v5 (policy: error)")))
    return findings

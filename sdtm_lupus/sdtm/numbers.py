"""The one way a raw numeric cell is read (parse.py for number/integer columns, lb.py for results and ranges).

A number is ASCII: optional sign, digits with `.` as decimal separator, optional exponent,
ASCII blanks around it ignored. Refused, each with its reason (the caller reports it as an
error naming file, row and column): any non-ASCII character (no-break space, full-width
digits...), words such as `inf`, `nan`, `Infinity`, and values an XPT file cannot hold
(IBM double: magnitude from about 5.4E-79 to 7.2E+75) or outside the column's plausible range.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sdtm_lupus.readers.cells import non_ascii

NUMBER_TEXT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
ASCII_BLANKS = " \t\r\n"
XPT_MAX = 16.0 ** 63            # IBM double: magnitude < 16^63 (~7.2E+75)
XPT_MIN = 16.0 ** -65           # and >= 16^-65 (~5.4E-79) unless zero

NOT_A_NUMBER = "not a number"


@dataclass(frozen=True)
class Bounds:
    """Plausible range of a column (inclusive unless `above` is set: then strictly above `low`)."""
    low: float | None = None
    high: float | None = None
    above: bool = False
    what: str = "value"

    def problem(self, x: float) -> str | None:
        if self.low is not None and (x < self.low or (self.above and x == self.low)):
            if self.low == 0:
                return f"{'not positive' if self.above else 'negative'}: a {self.what} must be {'above' if self.above else 'at least'} 0"
            return f"below {self.low:g}: implausible {self.what}"
        if self.high is not None and x > self.high:
            return f"above {self.high:g}: implausible {self.what}"
        return None


NON_NEGATIVE = Bounds(low=0, what="quantity")


def number_problem(text: str) -> str | None:
    """Why a stripped, non-empty text is not a storable number (None when it is one)."""
    if not text.isascii():
        return f"contains {non_ascii(text)}: numbers are read in ASCII digits only"
    if not NUMBER_TEXT.fullmatch(text):
        low = text.lower().lstrip("+-")
        if low in ("inf", "infinity", "nan"):
            return "not a finite number"
        return NOT_A_NUMBER
    x = float(text)
    if not math.isfinite(x) or abs(x) >= XPT_MAX:
        return "out of range: an XPT number can hold at most about 7.2E+75"
    if 0 < abs(x) < XPT_MIN:
        return "out of range: too close to 0 for an XPT number"
    return None


def parse_numbers(values: pd.Series, bounds: Bounds | None = None) -> tuple[pd.Series, pd.Series]:
    """(float64 values, problem text or None) for raw numeric cells; "" (or blanks) is missing, no problem.

    Each distinct text is checked once; the accepted ones are converted together by pd.to_numeric.
    A cell with a problem is NaN.
    """
    uniques = [u for u in pd.unique(values) if isinstance(u, str)]
    problems: dict[str, str | None] = {}
    accepted: dict[str, str] = {}
    for u in uniques:
        text = u.strip(ASCII_BLANKS)
        if not text:
            continue
        problems[u] = number_problem(text)
        if problems[u] is None:
            accepted[u] = text
    numbers = pd.to_numeric(pd.Series(list(accepted.values()), dtype=object)).astype("float64") if accepted \
        else pd.Series([], dtype="float64")
    number_of = dict(zip(accepted, numbers.tolist()))
    if bounds is not None:
        for u, x in number_of.items():
            problems[u] = bounds.problem(x)
    good = {u: x for u, x in number_of.items() if problems[u] is None}
    value = values.map(good).astype("float64") if good else pd.Series(np.nan, index=values.index, dtype="float64")
    bad = {u: p for u, p in problems.items() if p is not None}
    problem = values.map(bad).astype(object) if bad else pd.Series(None, index=values.index, dtype=object)
    return value, problem.where(problem.notna(), None)

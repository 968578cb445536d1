"""PGA in exact integer tenths (derivations.md R4.3, R5.1e, R5.2e, R9; lupus-endpoints.md §3).

"PGA at Week N - baseline PGA < `0.3`, computed exactly in tenths (values are recorded to
one decimal; an increase of exactly 0.3 is worsening)." Values never pass through floating
point arithmetic: text is parsed digit by digit; a float argument is taken by its shortest
repr (`str(1.5) == "1.5"`), so 0.30000000000000004 is rejected rather than rounded.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pandas as pd

_NUMBER = re.compile(r"^([+-]?)(\d*)(?:\.(\d*))?$")

TOO_MANY_DECIMALS = "MORE THAN ONE DECIMAL"
NOT_A_NUMBER = "NOT A NUMBER"


def _is_missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def parse_tenths(value: object) -> tuple[int | None, str | None]:
    """(tenths, problem): "1.5" -> (15, None); "" / None -> (None, None);
    "1.55" -> (None, "MORE THAN ONE DECIMAL"); "abc" -> (None, "NOT A NUMBER").

    Trailing zeros beyond the first decimal are exact and accepted ("1.50" -> 15).
    """
    if _is_missing(value):
        return None, None
    if isinstance(value, bool):
        return None, NOT_A_NUMBER
    if isinstance(value, Decimal):
        value = format(value, "f")
    text = str(value).strip()
    m = _NUMBER.match(text)
    if m is None or (m.group(2) == "" and not m.group(3)):
        return None, NOT_A_NUMBER
    sign, whole, frac = m.group(1), m.group(2) or "0", (m.group(3) or "")
    if len(frac.rstrip("0")) > 1:
        return None, TOO_MANY_DECIMALS
    tenths = int(whole) * 10 + int((frac + "0")[0])
    return (-tenths if sign == "-" else tenths), None


def to_tenths(value: object) -> int | None:
    """Exact tenths of a one-decimal value ("1.5" -> 15); None when missing or not exact
    (use parse_tenths / compute_pga_tenths to learn why, for the QC report)."""
    return parse_tenths(value)[0]


def compute_pga_tenths(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Per value: (PGA10 Int64, problem text or None), aligned to the input index."""
    parsed = [parse_tenths(v) for v in values]
    tenths = pd.Series([t for t, _ in parsed], index=values.index, dtype="Int64", name="PGA10")
    problem = pd.Series([p for _, p in parsed], index=values.index, dtype=object, name="PROBLEM")
    return tenths, problem


def compute_pga_change(now10, base10):
    """Change in exact tenths: now10 - base10 (<NA> / None when either is missing).

    Series in -> Int64 Series out (aligned on the index); two scalars -> int or None.
    """
    if isinstance(now10, pd.Series) or isinstance(base10, pd.Series):
        now, base = (v.astype("Int64") if isinstance(v, pd.Series) else (pd.NA if _is_missing(v) else int(v))
                     for v in (now10, base10))
        return (now - base).astype("Int64")
    if _is_missing(now10) or _is_missing(base10):
        return None
    return int(now10) - int(base10)

"""The layout step: site values to the reference layout's values, right after reading.

Both transports (form CSV, ODM) call apply_layout on the Forms they read, so everything
downstream (the parse step, SDTM, ADaM, "as collected" texts such as DSTERM or QSORRES)
sees the reference wording and units. Two mapping keys act here (docs/mapping.md):

- `recode`: site value -> reference value, on any column (common columns included). Strict:
  a non-empty value the map lacks is an error (MAP-RECODE) unless the map is written
  `{map: {...}, unmapped: keep}`; an empty cell stays empty unless the map has an entry for "".
- `numbers`: value * scale + offset in exact decimal arithmetic, written as a plain decimal
  (the shortest, or `decimals` places); a cell that is not a plain number is left as is for
  the parse step to report.

Findings are grouped: one per column and distinct value, with its count and first row.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation, localcontext

import pandas as pd

from sdtm_lupus.config.mapping import Mapping, NumberTransform
from sdtm_lupus.findings import Finding
from sdtm_lupus.readers.forms import ROW, Form, Forms

MAX_VALUE_FINDINGS = 20     # distinct values reported per column and rule; then one summary finding
MAX_DIGITS = 60             # longer "numbers" are left as is (the parse step refuses them)
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)$", re.ASCII)
_BLANKS = " \t\r\n"


def apply_layout(forms: Forms, mapping: Mapping) -> list[Finding]:
    """Recode and rescale the cells of every form in place (mapping keys `recode`, `numbers`).

    Returns findings (MAP-RECODE, MAP-NUMBERS-DECIMALS errors), one per column and distinct value."""
    findings: list[Finding] = []
    if not mapping.recode and not mapping.numbers:
        return findings
    for form in forms.values():
        for column in [c for c in form.data.columns if c != ROW]:
            recode = mapping.recode_map(form.name, column)
            if recode is not None:
                findings += _recode(form, column, recode, mapping)
            transform = mapping.per_column(mapping.numbers, form.name, column)
            if transform is not None:
                findings += _numbers(form, column, transform, mapping)
    return findings


def _key(table: dict, form: str, column: str) -> str:
    """The key of the mapping entry that applies to form.column (for messages)."""
    return next(k for k in (f"{form}.{column}", f"{form}.*", f"*.{column}") if k in table)


def _replace(form: Form, column: str, convert: Callable[[str], str | None]) -> dict[str, str]:
    """Apply convert to each distinct value of a column (None: the value fails); returns the failures'
    {value: value} in order of first appearance. A column without a change keeps its object."""
    values = form.data[column]
    table: dict[str, str] = {}
    failed: dict[str, str] = {}
    for value in pd.unique(values):
        new = convert(value)
        if new is None:
            failed[value] = value
        elif new != value:
            table[value] = new
    if table:
        form.data[column] = values.map(table).fillna(values).astype("str")
    return failed


def _grouped(rule: str, form: Form, column: str, values: pd.Series, failed: dict[str, str],
             message: Callable[[str, int, int], str]) -> list[Finding]:
    """One finding per distinct failed value: count and first row."""
    if not failed:
        return []
    mask = values.isin(list(failed))
    rows = form.data.loc[mask, ROW]
    counts = values[mask].value_counts(sort=False)
    first = rows.groupby(values[mask], sort=False).min()
    out = []
    for value in list(failed)[:MAX_VALUE_FINDINGS]:
        count, row = int(counts[value]), int(first[value])
        out.append(Finding(rule=rule, severity="error", dataset=form.name, variable=column, file=form.file,
                           row=row, value=value, message=message(value, count, row)))
    if len(failed) > MAX_VALUE_FINDINGS:
        more = list(failed)[MAX_VALUE_FINDINGS:]
        out.append(Finding(rule=rule, severity="error", dataset=form.name, variable=column, file=form.file,
                           message=f"{len(more)} more distinct values of {column} ({int(values.isin(more).sum())} rows)"))
    return out


def _rows(count: int, row: int) -> str:
    return f"{count} row{'s' if count > 1 else ''}, first on row {row}"


def _recode(form: Form, column: str, recode, mapping: Mapping) -> list[Finding]:
    key = _key(mapping.recode, form.name, column)
    table, keep = recode.map, recode.unmapped == "keep"

    def convert(value: str) -> str | None:
        if value in table:
            return table[value]
        return value if value == "" or keep else None

    before = form.data[column]
    failed = _replace(form, column, convert)
    return _grouped("MAP-RECODE", form, column, before, failed, lambda v, n, r: (
        f"{column} {v!r} is not in the mapping's recode map {key} ({_rows(n, r)}): add it to the map, or write the "
        "map as {map: {...}, unmapped: keep} to keep values it does not list"))


def scaled(text: str, transform: NumberTransform) -> str | None:
    """text * scale + offset as a plain decimal string; text itself when it is not a plain number;
    None when `decimals` is set and the result has more decimal places than that."""
    stripped = text.strip(_BLANKS)
    if len(stripped) > MAX_DIGITS or not _PLAIN_NUMBER.match(stripped):
        return text
    with localcontext() as ctx:
        ctx.prec = 4 * MAX_DIGITS + len(str(transform.scale)) + len(str(transform.offset))  # exact: never rounds
        try:
            value = Decimal(stripped) * transform.scale + transform.offset
            if transform.decimals is not None:
                exact = value.quantize(Decimal(1).scaleb(-transform.decimals))
                if exact != value:
                    return None
                value = exact
            elif value == value.to_integral_value():
                value = value.quantize(Decimal(1))
            else:
                value = value.normalize()
        except InvalidOperation:
            return text
    if value == 0:
        value = abs(value)          # no "-0"
    return format(value, "f")


def _numbers(form: Form, column: str, transform: NumberTransform, mapping: Mapping) -> list[Finding]:
    key = _key(mapping.numbers, form.name, column)
    before = form.data[column]
    failed = _replace(form, column, lambda v: scaled(v, transform))
    return _grouped("MAP-NUMBERS-DECIMALS", form, column, before, failed, lambda v, n, r: (
        f"{column} {v!r} scaled by the mapping's numbers entry {key} (x {transform.scale} + {transform.offset}) has "
        f"more than {transform.decimals} decimal places ({_rows(n, r)}): refused rather than rounded"))

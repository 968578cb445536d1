"""Typed cells from a raw Form: each column parsed by its kind in specs/raw-forms.yaml.

Dates become ISO 8601 text (partial dates truncated), times HH:MM, numbers floats,
yes/no Y/N, checkboxes True/False, codes their submission value through the mapping's
value map. Every cell that cannot be read is a finding naming file, row and column;
the cell becomes missing (never a guess).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sdtm_lupus.readers.forms import ROW, Form
from sdtm_lupus.sdtm.context import MapContext
from sdtm_lupus.sdtm.dates import parse_dates, parse_time
from sdtm_lupus.specs import load_raw_layout

YES_NO = {"yes": "Y", "no": "N", "y": "Y", "n": "N"}


def clean_form(form: Form, ctx: MapContext) -> pd.DataFrame:
    """A frame with the form's common columns, typed reference columns, and ROW."""
    layout = load_raw_layout()
    data = form.data
    out = {col: nullable(data[col]) for col in layout.common}
    for column, kind in layout.forms[form.name].columns.items():
        out[column] = _CLEANERS[kind](form, column, ctx)
    out[ROW] = data[ROW]
    return pd.DataFrame(out, index=data.index)


def _bad(form: Form, ctx: MapContext, column: str, mask: pd.Series, rule: str, why: pd.Series | str,
         severity: str = "error") -> None:
    if not mask.any():
        return
    rows = form.data.loc[mask, ["SUBJID", column, ROW]]
    if isinstance(why, str):
        ctx.report(rule, severity, f"{column} {{value!r}}: {why}", form, column, rows)
        return
    for reason, group in rows.groupby(why[mask], sort=False):
        ctx.report(rule, severity, f"{column} {{value!r}}: {reason}", form, column, group)


def nullable(values: pd.Series) -> pd.Series:
    """Object-dtype text with None for missing ("" or NaN): the convention of cleaned frames."""
    text = values.astype(object)
    return text.where(text.notna() & text.ne(""), None)


def _text(form: Form, column: str, ctx: MapContext) -> pd.Series:
    return nullable(form.data[column])


def _date(form: Form, column: str, ctx: MapContext, *, full: bool = False) -> pd.Series:
    iso, problem, partial = parse_dates(form.data[column], ctx.mapping.dates)
    _bad(form, ctx, column, problem.notna() & iso.isna(), "MAP-DATE", problem)
    _bad(form, ctx, column, problem.notna() & iso.notna(), "MAP-DATE-PARTIAL", problem, "warning")
    if full:
        _bad(form, ctx, column, partial & problem.isna(), "MAP-DATE-INCOMPLETE",
             "a complete date is required here; kept as the known part", "warning")
    return iso


def _time(form: Form, column: str, ctx: MapContext) -> pd.Series:
    parsed = {v: parse_time(v, ctx.mapping.times) for v in pd.unique(form.data[column])}
    results = [parsed[v] for v in form.data[column]]
    iso = pd.Series([r[0] for r in results], index=form.data.index, dtype=object)
    problem = pd.Series([r[1] for r in results], index=form.data.index, dtype=object)
    _bad(form, ctx, column, problem.notna(), "MAP-TIME", problem)
    return iso


def _number(form: Form, column: str, ctx: MapContext, *, integer: bool = False) -> pd.Series:
    text = form.data[column].str.strip()
    value = pd.to_numeric(text.replace("", None), errors="coerce").astype("float64")
    _bad(form, ctx, column, value.isna() & (text != ""), "MAP-NUMBER", "not a number")
    if integer:
        frac = value.notna() & (value != np.floor(value))
        _bad(form, ctx, column, frac, "MAP-INTEGER", "not a whole number")
    return value


def _yesno(form: Form, column: str, ctx: MapContext) -> pd.Series:
    text = form.data[column].str.strip()
    value = nullable(text.str.lower().map(YES_NO))
    _bad(form, ctx, column, value.isna() & (text != ""), "MAP-YESNO", "expected Yes or No")
    return value


def _checkbox(form: Form, column: str, ctx: MapContext) -> pd.Series:
    text = form.data[column].str.strip()
    checked = text.isin(ctx.mapping.checkbox_checked)
    unknown = ~checked & ~text.isin(ctx.mapping.checkbox_unchecked)
    _bad(form, ctx, column, unknown, "MAP-CHECKBOX",
         f"expected one of {list(ctx.mapping.checkbox_checked + ctx.mapping.checkbox_unchecked)}")
    return checked


def _code(form: Form, column: str, ctx: MapContext) -> pd.Series:
    text = form.data[column]
    value_map = ctx.mapping.value_map(form.name, column)
    if value_map is None:
        return nullable(text)
    value = nullable(text.map(value_map))
    _bad(form, ctx, column, value.isna() & (text != ""), "MAP-CODE",
         f"not in the mapping's value map {form.name}.{column}")
    return value


_CLEANERS = {
    "text": _text,
    "date": _date,
    "fulldate": lambda f, c, x: _date(f, c, x, full=True),
    "time": _time,
    "number": _number,
    "integer": lambda f, c, x: _number(f, c, x, integer=True),
    "yesno": _yesno,
    "checkbox": _checkbox,
    "code": _code,
}

"""Typed cells from a raw Form: each column parsed by its kind in specs/raw-forms.yaml.

Dates become ISO 8601 text (partial dates truncated), times HH:MM, numbers floats,
yes/no Y/N, checkboxes True/False, codes their submission value through the mapping's
value map. Every cell that cannot be read is a finding naming file, row and column;
the cell becomes missing (never a guess).

Both transports pass here, so the value checks live here: control and invisible characters
in any cell (readers/cells.py; the CSV reader refuses them earlier), look-alike characters
(no-break space, full-width digits...) in dates, times, numbers, yes/no, checkboxes and
identifiers, dictionary codes that are not digits, numbers that are not finite, do not fit an XPT file or are negative
(sdtm/numbers.py), and dates outside the years 1900-2100.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sdtm_lupus.readers.cells import hostile_cells, non_ascii
from sdtm_lupus.readers.forms import ROW, Form
from sdtm_lupus.sdtm.ct_values import accept_ct_values
from sdtm_lupus.sdtm.dates import BLANKS, FIRST_YEAR, LAST_YEAR, parse_dates, parse_time
from sdtm_lupus.sdtm.map_context import MapContext
from sdtm_lupus.sdtm.numbers import NON_NEGATIVE, Bounds, parse_numbers
from sdtm_lupus.specs import load_raw_layout

YES_NO = {"yes": "Y", "no": "N", "y": "Y", "n": "N"}
IDENTIFIERS = ("STUDYID", "SITEID", "SUBJID")   # must be ASCII: look-alikes would make a different subject
BIRTH_DATES = ("BRTHDAT",)                      # may be before FIRST_YEAR (a warning, not an error)
# Plausible ranges: doses, volumes and age are never negative, a body measure is above 0. Scores (PGA,
# SITETOT) have their own range checks in qs.py (warnings, kept as collected); every number must be finite
# and fit an XPT file.
BOUNDS = {"WEIGHT_KG": Bounds(low=0, above=True, what="body weight"),
          "HEIGHT_CM": Bounds(low=0, above=True, what="body height"),
          **{c: NON_NEGATIVE for c in ("AGE", "DOSE_MGKG", "DOSE_MG", "VOLUME_ML", "CMDOSE")}}


def parse_form(form: Form, ctx: MapContext) -> pd.DataFrame:
    """A frame with the form's common columns, typed reference columns, and ROW."""
    layout = load_raw_layout()
    data = form.data
    cells = {col: Distinct(data[col]) for col in data.columns if col != ROW}     # each column factorised once
    # ODM cells (a CSV with such a cell never gets here)
    ctx.findings.extend(hostile_cells(form, distinct={col: d.uniques for col, d in cells.items()}))

    def distinct(col: str) -> Distinct:
        if col not in cells:
            cells[col] = Distinct(data[col])
        return cells[col]

    for col in IDENTIFIERS:
        d = distinct(col)
        odd = d.uniques.map(non_ascii, na_action="ignore")
        bad = odd.fillna("").ne("")
        _bad_distinct(form, ctx, col, d, bad, "MAP-IDENTIFIER",
                      "an identifier must be ASCII; it contains " + odd.where(bad, ""))
    out = {col: distinct(col).rows(nullable(distinct(col).uniques)) for col in layout.common}
    for column, kind in layout.forms[form.name].columns.items():
        out[column] = _CLEANERS[kind](form, column, ctx, distinct(column))
    out[ROW] = data[ROW]
    return pd.DataFrame(out, index=data.index)


class Distinct:
    """A raw column as its distinct texts (`uniques`, a Series of the column's dtype, missing values
    included) and one code per row. Every cleaner is elementwise, so it runs on the distinct texts and
    its results are taken back to the rows (`rows`): a lab form repeats a few thousand texts 600 000 times."""

    def __init__(self, values: pd.Series):
        codes, uniques = pd.factorize(values, use_na_sentinel=False)
        self.index, self.codes = values.index, codes
        self.uniques = pd.Series(uniques, copy=False)

    def rows(self, per_unique: pd.Series) -> pd.Series:
        """A Series over the distinct values -> the same values over the rows (dtype kept)."""
        out = per_unique.take(self.codes)
        out.index = self.index
        return out


def _bad(form: Form, ctx: MapContext, column: str, mask: pd.Series, rule: str, why: pd.Series | str,
         severity: str = "error") -> None:
    if not mask.any():
        return
    rows = form.data.loc[mask, list(dict.fromkeys(["SUBJID", column, ROW]))]
    if isinstance(why, str):
        ctx.report(rule, severity, f"{column} {{value!r}}: {why}", form, column, rows)
        return
    for reason, group in rows.groupby(why[mask], sort=False):
        ctx.report(rule, severity, f"{column} {{value!r}}: {reason}", form, column, group)


def _bad_distinct(form: Form, ctx: MapContext, column: str, d: Distinct, bad: pd.Series, rule: str,
                  why: pd.Series | str, severity: str = "error") -> None:
    """_bad with the mask and reasons given per distinct value of the column."""
    if not bad.any():
        return
    _bad(form, ctx, column, d.rows(bad).to_numpy(), rule, why if isinstance(why, str) else d.rows(why), severity)


def nullable(values: pd.Series) -> pd.Series:
    """Object-dtype text with None for missing ("" or NaN): the convention of cleaned frames."""
    text = values.astype(object)
    return text.where(text.notna() & text.ne(""), None)


def _text(form: Form, column: str, ctx: MapContext, d: Distinct) -> pd.Series:
    return d.rows(nullable(d.uniques))


def _date(form: Form, column: str, ctx: MapContext, d: Distinct, *, full: bool = False) -> pd.Series:
    iso, problem, partial = parse_dates(d.uniques, ctx.mapping.date_format(form.name, column))
    _bad_distinct(form, ctx, column, d, problem.notna() & iso.isna(), "MAP-DATE", problem)
    _bad_distinct(form, ctx, column, d, problem.notna() & iso.notna(), "MAP-DATE-PARTIAL", problem, "warning")
    if full:
        _bad_distinct(form, ctx, column, d, partial & problem.isna(), "MAP-DATE-INCOMPLETE",
                      "a complete date is required here; kept as the known part", "warning")
    year = pd.to_numeric(iso.str[:4], errors="coerce")
    late, early = year > LAST_YEAR, year < FIRST_YEAR
    _bad_distinct(form, ctx, column, d, late, "MAP-DATE-RANGE", f"after the year {LAST_YEAR}: not a plausible date")
    if column in BIRTH_DATES:
        _bad_distinct(form, ctx, column, d, early, "MAP-DATE-RANGE", f"before the year {FIRST_YEAR}: check the "
                      "birth date; kept as collected", "warning")
    else:
        _bad_distinct(form, ctx, column, d, early, "MAP-DATE-RANGE",
                      f"before the year {FIRST_YEAR}: not a plausible date")
    return d.rows(iso.where(~(late | early) | (column in BIRTH_DATES) & early, None))


def _time(form: Form, column: str, ctx: MapContext, d: Distinct) -> pd.Series:
    results = [parse_time(v, ctx.mapping.times) for v in d.uniques]
    iso = pd.Series([r[0] for r in results], dtype=object)
    problem = pd.Series([r[1] for r in results], dtype=object)
    _bad_distinct(form, ctx, column, d, problem.notna(), "MAP-TIME", problem)
    return d.rows(iso)


def _number(form: Form, column: str, ctx: MapContext, d: Distinct, *, integer: bool = False) -> pd.Series:
    value, problem = parse_numbers(d.uniques, BOUNDS.get(column))
    _bad_distinct(form, ctx, column, d, problem.notna(), "MAP-NUMBER", problem)
    if integer:
        frac = value.notna() & (value != np.floor(value))
        _bad_distinct(form, ctx, column, d, frac, "MAP-INTEGER", "not a whole number")
    return d.rows(value)


MAX_CODE_DIGITS = 15   # a float (and an XPT number) holds every integer of up to 15 digits exactly


def _digits(form: Form, column: str, ctx: MapContext, d: Distinct) -> pd.Series:
    """A dictionary code (e.g. MedDRA): ASCII digits only, ASCII blanks around ignored; read as a number."""
    text = d.uniques.str.strip(" \t\r\n")
    digits = text.str.fullmatch(r"[0-9]+").fillna(False).astype(bool)
    bad = (text != "") & ~digits
    _bad_distinct(form, ctx, column, d, bad, "MAP-DIGITS", _why(text, bad, "a code must be digits only"))
    long = digits & (text.str.len() > MAX_CODE_DIGITS)
    _bad_distinct(form, ctx, column, d, long, "MAP-DIGITS", f"more than {MAX_CODE_DIGITS} digits: not a dictionary code")
    value = pd.to_numeric(text.where(digits & ~long, None), errors="coerce").astype("float64")
    return d.rows(value)


def _why(text: pd.Series, mask: pd.Series, reason: str) -> pd.Series:
    """reason, plus the non-ASCII characters (look-alikes) a refused value holds."""
    odd = text[mask].map(non_ascii)
    return (reason + odd.map(lambda o: f" (it contains {o})" if o else "")).reindex(text.index)


def _yesno(form: Form, column: str, ctx: MapContext, d: Distinct) -> pd.Series:
    text = d.uniques.str.strip(BLANKS)
    value = nullable(text.str.lower().map(YES_NO))
    bad = value.isna() & (text != "")
    _bad_distinct(form, ctx, column, d, bad, "MAP-YESNO", _why(text, bad, "expected Yes or No"))
    return d.rows(value)


def _checkbox(form: Form, column: str, ctx: MapContext, d: Distinct) -> pd.Series:
    text = d.uniques.str.strip(BLANKS)
    yes, no = ctx.mapping.checkbox_texts(form.name, column)
    checked = text.isin(yes)
    unknown = ~checked & ~text.isin(no)
    _bad_distinct(form, ctx, column, d, unknown, "MAP-CHECKBOX", _why(text, unknown, f"expected one of {list(yes + no)}"))
    return d.rows(checked)


def _code(form: Form, column: str, ctx: MapContext, d: Distinct) -> pd.Series:
    """Through the value map; a value it lacks that is a term or synonym of the column's codelist is accepted
    (sdtm/ct_values.py); without a value map other values pass as collected."""
    text = d.uniques
    value_map = ctx.mapping.value_map(form.name, column)
    value = nullable(text.map(value_map or {}))
    unmapped = value.isna() & (text != "")
    if unmapped.any():      # the candidates as rows: accept_ct_values reports rows and counts
        rows = form.data[column]
        accepted = accept_ct_values(form, column, ctx, rows[d.rows(unmapped).to_numpy()], "values")
        if accepted:
            value = value.where(value.notna(), text.map(accepted))
    if value_map is None:
        return d.rows(value.where(value.notna(), nullable(text)))
    bad = value.isna() & (text != "")
    _bad_distinct(form, ctx, column, d, bad, "MAP-CODE",
                  _why(text, bad, f"not in the mapping's value map {form.name}.{column}"))
    return d.rows(value)


_CLEANERS = {
    "text": _text,
    "date": _date,
    "fulldate": lambda f, c, x, d: _date(f, c, x, d, full=True),
    "time": _time,
    "number": _number,
    "integer": lambda f, c, x, d: _number(f, c, x, d, integer=True),
    "yesno": _yesno,
    "checkbox": _checkbox,
    "code": _code,
    "digits": _digits,
}

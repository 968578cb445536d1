"""LB: one record per lab result (form lab), standardised by the definitions in specs/lab-tests.yaml.

Site test names reach a definition through the mapping's `lab_tests`, site units a CDISC unit
through its `units`. Conversions run on unique (definition, unit) pairs and unique result
texts, never row by row. Each problem is a finding naming file, row and column:
- test name not in `lab_tests`: error LB-TEST-UNKNOWN and no record (LBTESTCD cannot be
  guessed; the error stops the run until the mapping names the test);
- unit not in `units`, or no factor from it to the test's standard unit: warning
  LB-UNIT-UNKNOWN; the record is kept with LBSTRESC/LBSTRESN/LBSTRESU and the standard range null;
- result neither a number, a qualified number (`<10`, `>=800`) nor a known result term:
  warning LB-RESULT-UNKNOWN (LBSTRESC null); no result at all: warning LB-RESULT-MISSING.
A qualified number keeps its qualifier and has its number converted (`<5` mg/dL of C3 ->
LBSTRESC `<0.05`, LBSTRESU g/L), LBSTRESN null. Result terms (NEG -> NEGATIVE) have no LBSTRESU.
LBNRIND from the standard range, inclusive limits: a number is LOW below the low limit, HIGH
above the high limit, NORMAL between them (both limits needed). `<x` is LOW when x <= low limit
(`<=x`: x < low) and NORMAL when the low limit is <= 0 and x <= high limit (lab quantities are
never negative); `>x` is HIGH when x >= high limit (`>=x`: x > high). Anything else, terms
included, stays null.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sdtm_lupus.config.loading import ConfigError
from sdtm_lupus.distinct import shared_text
from sdtm_lupus.readers.cells import describe
from sdtm_lupus.readers.forms import ROW
from sdtm_lupus.sdtm.builder_state import MapState
from sdtm_lupus.sdtm.ct_values import accept_ct_values
from sdtm_lupus.sdtm.map_context import FILE, SRCROW
from sdtm_lupus.sdtm.numbers import NON_NEGATIVE, parse_numbers
from sdtm_lupus.sdtm.timing import derive_lobxfl
from sdtm_lupus.specs import LabTests, load_lab_tests

FORMS: tuple[str, ...] = ("lab",)
NUMBER = r"(?a)^\s*(?P<qual><=|>=|<|>)?\s*(?P<num>[+-]?(?:\d+\.?\d*|\.\d+))\s*$"    # ASCII digits only



def build(state: MapState) -> dict[str, pd.DataFrame]:
    lab = state.cleaned("lab")
    if lab.empty:
        return {}
    return {"LB": build_lb(lab, state, load_lab_tests())}


def build_lb(lab: pd.DataFrame, state: MapState, defs: LabTests) -> pd.DataFrame:
    ctx, form = state.ctx, state.forms["lab"]
    mapping = ctx.mapping
    unknown_ids = sorted(set(mapping.lab_tests.values()) - set(defs.tests))
    if unknown_ids:
        raise ConfigError(f"{mapping.source}: lab_tests names {unknown_ids}, which are not definitions in specs/lab-tests.yaml")

    def report(rule: str, severity: str, message: str, mask: pd.Series, column: str, **extra: pd.Series) -> None:
        rows = form.data.loc[mask[mask].index, ["SUBJID", column, ROW]]
        ctx.report(rule, severity, message, form, column, rows.assign(**{k: v[mask] for k, v in extra.items()}))

    # test: site name -> definition (exact, else ignoring case and outer spaces)
    folded = {k.strip().casefold(): v for k, v in mapping.lab_tests.items()}
    names = pd.unique(lab["LBTEST"].dropna())
    def_id = lab["LBTEST"].map({n: mapping.lab_tests.get(n, folded.get(n.strip().casefold())) for n in names})
    unknown = def_id.isna()
    report("LB-TEST-UNKNOWN", "error", "lab test {value!r} is not in the mapping's lab_tests: no LB record",
           unknown, "LBTEST")
    definitions = pd.DataFrame.from_dict({k: t.model_dump() for k, t in defs.tests.items()}, orient="index")
    d = lab[~unknown].assign(_def=def_id[~unknown]).join(definitions, on="_def")
    quant = ~d["qualitative"].astype(bool)

    # units and conversion factors, on unique (definition, unit) pairs
    unit = d["LBORRESU"].map({u: mapping.units.get(u.strip()) for u in pd.unique(d["LBORRESU"].dropna())}).astype(object)
    # a CDISC lab unit (or a listed synonym) needs no `units` entry (sdtm/ct_values.py)
    accepted = accept_ct_values(form, "LBORRESU", ctx, d["LBORRESU"][d["LBORRESU"].notna() & unit.isna()], "units")
    if accepted:
        unit = unit.where(unit.notna(), d["LBORRESU"].map(accepted))
    factors = {(k, u): f for k, t in defs.tests.items() for u, f in t.all_factors().items()}
    factor = _pair_lookup(d["_def"], unit, factors)

    # results, parsed once per distinct text
    texts = pd.Series(pd.unique(d["LBORRES"].dropna()), dtype=object)
    terms = {k.upper(): v for k, v in {**defs.result_terms, **(mapping.value_map("lab", "LBORRES") or {})}.items()}
    parts = texts.str.extract(NUMBER)
    num, num_problem = parse_numbers(parts["num"].fillna(""), NON_NEGATIVE)     # lab quantities: never negative
    term_of = texts.str.strip().str.upper().map(terms)
    lookalike = texts.map(_lookalikes).where(term_of.isna() & parts["num"].isna(), "")
    why = num_problem.where(num_problem.notna(), lookalike.map(lambda o: f"contains {o}: numbers are read in ASCII "
                                                                          "digits only" if o else None))
    parsed = pd.DataFrame({"qual": parts["qual"].fillna("").to_numpy(), "num": num.to_numpy(),
                           "term": term_of.to_numpy(), "why": why.to_numpy()}, index=texts.to_numpy())
    p = parsed.reindex(d["LBORRES"].to_numpy()).set_axis(d.index)
    number = p["num"].where(quant)
    term = p["term"].where(number.isna())
    qual = p["qual"].where(number.notna(), "")
    value = (number * factor).round(10)
    limits = {c: parse_numbers(d[c].fillna(""), NON_NEGATIVE) for c in ("LBORNRLO", "LBORNRHI")}
    lo, hi = ((limits[c][0] * factor).round(10) for c in ("LBORNRLO", "LBORNRHI"))
    report("MAP-NUMBER", "error", "LBORRES {value!r}: {WHY}", p["why"].notna(), "LBORRES", WHY=p["why"])
    for c, (_, problem) in limits.items():
        report("MAP-NUMBER", "error", c + " {value!r}: {WHY}", problem.notna(), c, WHY=problem)

    not_mapped = d["LBORRESU"].notna() & unit.isna()
    report("LB-UNIT-UNKNOWN", "warning", "unit {value!r} is not in the mapping's units: kept as collected, "
           "no numeric standard result", not_mapped, "LBORRESU")
    needs = quant & (p["num"].notna() | d["LBORNRLO"].notna() | d["LBORNRHI"].notna())
    report("LB-UNIT-UNKNOWN", "warning", "no conversion from unit {value!r} to {STDU} for {TESTCD} in "
           "specs/lab-tests.yaml: no standard result", needs & factor.isna() & ~not_mapped, "LBORRESU",
           STDU=d["unit"], TESTCD=d["testcd"])
    report("LB-RESULT-MISSING", "warning", "no result: record kept without a standard result",
           d["LBORRES"].isna(), "LBORRES")
    report("LB-RESULT-UNKNOWN", "warning", "result {value!r} is neither a number nor a known result term "
           "(specs/lab-tests.yaml result_terms): LBSTRESC null", d["LBORRES"].notna() & number.isna() & term.isna(),
           "LBORRES")

    text = value.map({v: np.format_float_positional(v, trim="-") for v in pd.unique(value.dropna())})
    dtc = shared_text(d["LBDAT"].where(~(d["LBDAT"].str.len().eq(10) & d["LBTIM"].notna()),
                                       d["LBDAT"] + "T" + d["LBTIM"]))
    category = d["LBCAT"]
    if (cat_map := mapping.value_map("lab", "LBCAT")) is not None:
        category = category.map(cat_map).where(lambda s: s.notna(), category)
    lb = pd.DataFrame({
        "STUDYID": state.study.studyid, "DOMAIN": "LB", "USUBJID": d["USUBJID"],
        "LBTESTCD": d["testcd"], "LBTEST": d["test"], "LBCAT": category.where(category.notna(), d["category"]),
        "LBORRES": d["LBORRES"], "LBORRESU": unit.where(unit.notna(), d["LBORRESU"]),
        "LBORNRLO": d["LBORNRLO"], "LBORNRHI": d["LBORNRHI"],
        "LBSTRESC": (qual + text).where(value.notna(), term), "LBSTRESN": value.where(qual.eq("")),
        "LBSTRESU": d["unit"].where(value.notna()), "LBSTNRLO": lo, "LBSTNRHI": hi,
        "LBNRIND": reference_indicator(value, qual, lo, hi),
        "LBNAM": d["LBNAM"], "LBSPEC": d["specimen"], "LBMETHOD": d["method"], "LBDTC": dtc,
    }, index=d.index)
    # timing once per collection (subject, folder, date/time), not once per test
    keys = pd.DataFrame({"USUBJID": d["USUBJID"], "FOLDER": d["FOLDER"], "LBDTC": dtc})
    collection = keys.groupby(list(keys.columns), sort=False, dropna=False).ngroup().to_numpy()
    visits = keys.iloc[np.unique(collection, return_index=True)[1]].copy()    # = keys.drop_duplicates()
    visits["VISITNUM"], visits["VISIT"] = state.visit(visits["USUBJID"], visits["FOLDER"], visits["LBDTC"])
    visits["EPOCH"] = state.epoch(visits["LBDTC"], visits["USUBJID"])
    visits["LBDY"] = state.study_day(visits["LBDTC"], visits["USUBJID"])
    timing = visits.take(collection).set_axis(d.index)       # each row: its collection's timing
    lb[["VISITNUM", "VISIT", "EPOCH", "LBDY"]] = timing[["VISITNUM", "VISIT", "EPOCH", "LBDY"]]
    lb["LBLOBXFL"] = derive_lobxfl(lb.assign(_method=lb["LBMETHOD"].fillna("")), "LBDTC",
                                   state.ref(lb["USUBJID"], "RFXSTDTC"), ["USUBJID", "LBTESTCD", "LBSPEC", "_method"],
                                   valid=lb["LBORRES"].notna())
    lb[FILE], lb[SRCROW] = state.file("lab"), d[ROW]
    return lb


def _pair_lookup(first: pd.Series, second: pd.Series, table: dict[tuple, float]) -> pd.Series:
    """table[(first, second)] per row (NaN when the pair is missing or not in table), looked up once per
    distinct pair: a left merge of the rows with the table, without the merge."""
    fc, fu = pd.factorize(first)
    sc, su = pd.factorize(second)
    width = len(su) + 1
    pc, pairs = pd.factorize(fc.astype(np.int64) * width + sc + 1)
    found = np.array([table.get((fu[p // width], su[p % width - 1]), np.nan)
                      if p >= 0 and p % width else np.nan for p in pairs] + [np.nan], dtype="float64")
    return pd.Series(found[pc], index=first.index, dtype="float64")


def _lookalikes(text: str) -> str:
    """Non-ASCII digits, spaces and full-width signs of a result that is neither a number nor a term."""
    odd = [c for c in text if ord(c) > 127 and (c.isdigit() or c.isspace() or 0xFF01 <= ord(c) <= 0xFF5E)]
    return describe(text, odd) if odd else ""


def reference_indicator(value: pd.Series, qual: pd.Series, lo: pd.Series, hi: pd.Series) -> pd.Series:
    """LBNRIND from standard values, their qualifiers ("", <, <=, >, >=) and standard limits (see module doc)."""
    plain = qual.eq("") & value.notna()
    below, above = qual.isin(["<", "<="]), qual.isin([">", ">="])
    low = (plain | below) & (value < lo) | qual.eq("<") & (value == lo)
    high = (plain | above) & (value > hi) | qual.eq(">") & (value == hi)
    normal = plain & lo.notna() & hi.notna() | below & (lo <= 0) & (value <= hi)
    indicator = np.array([None, "LOW", "HIGH", "NORMAL"], dtype=object)      # one object per term, shared by the rows
    return pd.Series(indicator[np.select([low, high, normal], [1, 2, 3], 0)], index=value.index, dtype=object)

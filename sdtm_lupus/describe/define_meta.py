"""Submission metadata of one run: what define.xml and the Dataset-JSON files say about the datasets.

Built from the specs (variable metadata, CT), specs/define/*.yaml (origins, methods, comments),
the mapping (raw files, renames, value maps), the study (rule parameters, epochs) and the
datasets actually written (data types, lengths, value-level subsets, codelist terms in use).
Never hand-written: the same inputs give the same metadata.

OIDs: IG.<dataset>, IT.<dataset>.<variable>, IT.<dataset>.<variable>.<value> (value level),
VL.<dataset>.<variable>, WC.<dataset>.<by>.<value>, CL.<codelist>, MT.<method>, COM.<comment>,
LF.<dataset>, STD.<standard>.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from sdtm_lupus.config.loading import ConfigError
from sdtm_lupus.config.mapping import Mapping
from sdtm_lupus.config.study import Study
from sdtm_lupus.distinct import distinct_values, factorized
from sdtm_lupus.specs import (
    ADAM_STANDARD,
    DATE_FORMATS,
    SDTM_STANDARD,
    DatasetSpec,
    DefineCodelistSpec,
    DefineSpec,
    Specs,
    TextSpec,
    VariableSpec,
    VarMeta,
    load_define_spec,
    load_raw_layout,
)
from sdtm_lupus.write.define_model import (
    CodeListMeta,
    DatasetMeta,
    DefineMeta,
    ItemMeta,
    Origin,
    Standard,
    Term,
    TextDef,
    ValueList,
    WhereClause,
)

VENDOR_FORMS = ("lab",)
# A default creation date/time for define.xml and Dataset-JSON when the study gives none: the
# SAS epoch, as in the XPT headers (deterministic, and nobody mistakes it for a real date).
DEFAULT_CREATED = "1960-01-01T00:00:00"
# Variables whose values decode a code variable of the same record (CodeListItem Decode).
DECODES = {"QSTESTCD": "QSTEST", "LBTESTCD": "LBTEST", "VSTESTCD": "VSTEST", "TSPARMCD": "TSPARM",
           "PARAMCD": "PARAM", "ARMCD": "ARM", "ACTARMCD": "ACTARM", "IETESTCD": "IETEST"}
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?")
ISO_PARTIAL_DATE = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?")
ISO_PARTIAL_DATETIME = re.compile(r"\d{4}(-\d{2}(-\d{2}(T\d{2}(:\d{2}(:\d{2}(\.\d+)?)?)?)?)?)?")
MAX_SIGNIFICANT_DIGITS = 10


# ---------------------------------------------------------------- data types and lengths

def _distinct(series: pd.Series) -> np.ndarray:
    """The distinct non-missing values (one pass over the column, then the few distinct values)."""
    unique = pd.unique(series.to_numpy())
    return unique[pd.notna(unique)]


def _column_values(df: pd.DataFrame, name: str) -> np.ndarray:
    """The distinct non-missing values of a column of df, in order of first occurrence (the column's
    factorisation is shared with the XPT writer inside distinct.shared_factorisations())."""
    return distinct_values(df, name) if name in df else np.array([], dtype=object)


def char_length(series: pd.Series) -> int:
    """The XPT storage length of a Char column: its longest value (trailing blanks stripped), at least 1."""
    return _char_length(_distinct(series))


def _char_length(values: np.ndarray) -> int:
    texts = [str(v).rstrip(" ") for v in values]
    if "".join(texts).isascii():          # one C pass; then characters == bytes
        return max(1, *map(len, texts)) if texts else 1
    return max([1, *(len(t.encode("utf-8")) for t in texts)])


def iso_data_type(series: pd.Series) -> str:
    """Define-XML DataType of an ISO 8601 text column, from its values."""
    return _iso_data_type(_distinct(series))


def _iso_data_type(distinct: np.ndarray) -> str:
    values = [v for v in (str(u).strip() for u in distinct) if v]
    if not values:
        return "date"
    for name, pattern in (("date", ISO_DATE), ("datetime", ISO_DATETIME), ("partialDate", ISO_PARTIAL_DATE),
                          ("partialDatetime", ISO_PARTIAL_DATETIME)):
        if all(pattern.fullmatch(v) for v in values):
            return name
    return "text"


def _decimals(value: float) -> int:
    text = np.format_float_positional(round(value, MAX_SIGNIFICANT_DIGITS), trim="-")
    return len(text.partition(".")[2])


def numeric_type(series: pd.Series) -> tuple[str, int | None]:
    """("integer", None) when every value is a whole number, else ("float", decimals needed)."""
    return _numeric_type(_distinct(series))


def _numeric_type(distinct: np.ndarray) -> tuple[str, int | None]:
    values = pd.unique(pd.to_numeric(pd.Series(distinct), errors="coerce").dropna().to_numpy(dtype=float))
    values = values[np.isfinite(values)]
    if not len(values) or np.all(values == np.round(values)):
        return "integer", None
    fractional = np.unique(values[values != np.round(values)])
    return "float", max(1, _most_decimals(fractional))


def _most_decimals(values: np.ndarray) -> int:
    """max(_decimals(v)); a value rounded to MAX_SIGNIFICANT_DIGITS places never needs more
    (its shortest repr is at most as fine as that rounding), so the search stops there."""
    most = 0
    for value in values.tolist():
        most = max(most, _decimals(value))
        if most >= MAX_SIGNIFICANT_DIGITS:
            break
    return most


def _float_column_type(values: np.ndarray) -> tuple[str, int | None]:
    """_numeric_type of a float64 column's values, without finding the distinct values first
    (a column of whole numbers needs none; else only the fractional ones)."""
    finite = values[np.isfinite(values)]
    whole = finite == np.round(finite)
    if whole.all():
        return "integer", None
    return "float", max(1, _most_decimals(np.unique(pd.unique(finite[~whole]))))


def _column_types(var: VariableSpec, df: pd.DataFrame) -> dict:
    """item_types of a column of df (its distinct values shared with the XPT writer)."""
    if var.type == "Num" and var.name in df and df[var.name].dtype == np.float64 and not _is_date_format(var.format):
        data_type, digits = _float_column_type(df[var.name].to_numpy())
        return {"data_type": data_type, "length": 8, "significant_digits": digits}
    return _item_types(var, lambda: _column_values(df, var.name))


def _is_date_format(fmt: str | None) -> bool:
    return bool(fmt) and fmt.startswith(DATE_FORMATS)


def item_types(var: VariableSpec, series: pd.Series) -> dict:
    """DataType, Length, SignificantDigits, DisplayFormat of one variable (or value-level subset)."""
    return _item_types(var, lambda: _distinct(series))


def _item_types(var: VariableSpec, distinct) -> dict:
    """item_types from distinct(): the distinct non-missing values (asked for only when needed)."""
    if var.type == "Num":
        if _is_date_format(var.format):
            return {"data_type": "integer", "length": 8, "display_format": var.format}
        data_type, digits = _numeric_type(distinct())
        return {"data_type": data_type, "length": 8, "significant_digits": digits}
    values = distinct()
    if var.format == "ISO8601":
        data_type = _iso_data_type(values)
        return {"data_type": data_type, "length": _char_length(values) if data_type == "text" else None}
    return {"data_type": "text", "length": _char_length(values)}


# ---------------------------------------------------------------- building

@dataclass
class _Context:
    standard: str
    study: Study
    mapping: Mapping
    specs: Specs
    own: DefineSpec
    common: DefineSpec
    used_methods: dict[str, None] = field(default_factory=dict)
    used_comments: dict[str, None] = field(default_factory=dict)
    extra_methods: dict[str, TextSpec] = field(default_factory=dict)

    def method(self, key: str | None) -> str | None:
        if key is None:
            return None
        if key not in self.own.methods and key not in self.common.methods and key not in self.extra_methods:
            raise ConfigError(f"specs/define: method {key!r} is used but not defined")
        self.used_methods[key] = None
        return f"MT.{key}"

    def comment(self, key: str | None) -> str | None:
        if key is None:
            return None
        if key not in self.own.comments and key not in self.common.comments:
            raise ConfigError(f"specs/define: comment {key!r} is used but not defined")
        self.used_comments[key] = None
        return f"COM.{key}"


def _format_context(study: Study, specs: Specs) -> dict[str, object]:
    follow = next((e for e in study.epochs if e.starts_days_after_last_dose is not None), None)
    treat = next((e.epoch for e in study.epochs[1:] if e is not follow), study.epochs[0].epoch)
    values = {name: f"{value:g}" if isinstance(value, float) else value
              for name, value in study.rules.model_dump().items()}
    return {**values, "non_ascii": study.non_ascii, "first_epoch": study.epochs[0].epoch,
            "treatment_epoch": treat, "followup_epoch": follow.epoch if follow else treat,
            "followup_offset": follow.starts_days_after_last_dose if follow else 0,
            "early_termination_visitnum": f"{study.early_termination.visitnum:g}",
            "ct": f"{specs.terminology.package} {specs.terminology.version}"}


def render_text(text: str, study: Study, specs: Specs) -> str:
    """A method or comment text with the values in force; rule overrides are stated."""
    context = _format_context(study, specs)
    try:
        rendered = text.format_map(context)
    except KeyError as exc:
        raise ConfigError(f"specs/define: unknown placeholder {exc} in {text[:60]!r}...") from None
    used = {name for _, name, _, _ in string.Formatter().parse(text) if name}
    overrides = study.rule_overrides()
    notes = [f"{name} = {o['value']:g} (derivations.md default {o['default']:g})"
             for name, o in overrides.items() if name in used]
    if notes:
        rendered += " Study override of the rule parameters: " + "; ".join(notes) + "."
    return " ".join(rendered.split())


def _collected_text(form: str, columns: list[str], mapping: Mapping, value_map: bool = True) -> str:
    layout = load_raw_layout()
    spec = layout.forms.get(form)
    source = mapping.forms.get(form)
    files = [f"CSV {source.file}", f"ODM form {mapping.odm.form_oid_of(form, source)}"] if source else []
    where = f"{form} form ({', '.join(([spec.label] if spec else []) + files)})"
    named = []
    for column in columns:
        site = source.rename.get(column) if source else None
        text = column + (f" (site column {site})" if site and site != column else "")
        if mapping.recode_map(form, column) is not None:
            text += ", site values recoded to the reference layout's by the mapping's recode map"
        if mapping.per_column(mapping.numbers, form, column) is not None:
            text += ", converted to the reference unit by the mapping's numbers entry"
        if value_map and mapping.value_map(form, column):
            text += f", site values mapped by the mapping's value map {form}.{column}"
        named.append(text)
    return f"{where}, column{'s' if len(columns) > 1 else ''} " + " + ".join(named)


def _origin(meta: VarMeta, ctx: _Context) -> Origin:
    kind, ref = meta.type, meta.ref
    if kind == "Collected" and ref:
        form, _, cols = ref.partition(".")
        source = meta.source or ("Vendor" if form in VENDOR_FORMS else "Investigator")
        text = _collected_text(form, cols.split("+"), ctx.mapping, meta.value_map)
        if meta.text:
            text += f"; {meta.text}"
        return Origin("Collected", source, text)
    if kind == "Predecessor":
        return Origin("Predecessor", None, ref)
    if kind in ("Not Available", "Other"):
        return Origin(kind, meta.source, meta.text)
    source = meta.source or ("Investigator" if kind == "Collected" else "Sponsor")
    return Origin(kind, source, meta.text)


def _automatic(ds: str, var: str, ctx: _Context) -> VarMeta | None:
    """Collected or Predecessor origins found from the code's column maps, the raw layout and the specs."""
    if ctx.standard == "sdtm":
        from sdtm_lupus.sdtm.ae import AE_COLUMNS
        from sdtm_lupus.sdtm.cm import CM_COLUMNS

        copies = {"AE": ("ae", AE_COLUMNS), "CM": ("cm", CM_COLUMNS)}
        if ds in copies and var in copies[ds][1]:
            form, columns = copies[ds]
            return VarMeta(origin=f"Collected {form}.{copies[ds][1][var]}")
        layout = load_raw_layout()
        for form in ctx.own.sources.get(ds, ()):
            if var in layout.forms[form].columns or var in layout.common:
                return VarMeta(origin=f"Collected {form}.{var}")
        return None
    if ds == "ADSL":
        return VarMeta(origin=f"Predecessor DM.{var}") if var in ctx.specs.dataset("DM").names else None
    if var in ctx.specs.dataset("ADSL").names:
        return VarMeta(origin=f"Predecessor ADSL.{var}")
    return None


def variable_meta(ds: str, var: str, ctx: _Context) -> VarMeta | None:
    entry = ctx.own.datasets.get(ds)
    if entry and var in entry.variables:
        return entry.variables[var]
    auto = _automatic(ds, var, ctx)
    if auto is not None and ctx.standard == "adam":
        return auto
    if var in ctx.own.defaults:
        return ctx.own.defaults[var]
    if auto is not None:
        return auto
    return entry.default if entry else None


def _apply(item: ItemMeta, meta: VarMeta | None, ctx: _Context) -> None:
    if meta is None:
        return
    item.origin = _origin(meta, ctx)
    item.method = ctx.method(meta.method)
    item.comment = ctx.comment(meta.comment)
    if meta.codelist:
        if meta.codelist not in ctx.own.codelists:
            raise ConfigError(f"specs/define: codelist {meta.codelist!r} is used but not defined")
        item.codelist = f"CL.{meta.codelist}"


def _non_ascii_columns(frame: pd.DataFrame | None, names: list[str]) -> set[str]:
    if frame is None:
        return set()
    out = set()
    for col in names:
        if col in frame and frame[col].dtype == object and \
                any(isinstance(v, str) and not v.isascii() for v in pd.unique(frame[col].to_numpy())):
            out.add(col)
    return out


def _dataset_meta(name: str, df: pd.DataFrame, spec: DatasetSpec, ctx: _Context,
                  text_frame: pd.DataFrame | None) -> DatasetMeta:
    sdtm = ctx.standard == "sdtm"
    keys = {k: i + 1 for i, k in enumerate(spec.keys)}
    non_ascii = _non_ascii_columns(text_frame, spec.names)
    items = []
    for order, var in enumerate(spec.variables, start=1):
        item = ItemMeta(oid=f"IT.{name}.{var.name}", name=var.name, label=var.label, order=order,
                        key_sequence=keys.get(var.name), mandatory=var.core == "Req",
                        role=var.role if sdtm and var.role else None, xpt_type=var.type,
                        codelist=f"CL.{var.codelist}" if var.codelist else None, **_column_types(var, df))
        meta_v = variable_meta(name, var.name, ctx)
        if meta_v is not None and meta_v.origin == "Not Available" and var.name in df and df[var.name].notna().any():
            meta_v = _automatic(name, var.name, ctx) or meta_v   # e.g. MedDRA codes the export did carry
        _apply(item, meta_v, ctx)
        if var.name in non_ascii and item.comment is None:
            item.comment = ctx.comment("NON_ASCII")
        items.append(item)
    entry = ctx.own.datasets.get(name)
    supp = name.startswith("SUPP")
    one_per_subject = spec.structure.lower() == "one record per subject"
    reference = spec.class_ == "TRIAL DESIGN"
    meta = DatasetMeta(
        name=name, oid=f"IG.{name}", label=spec.label, class_=spec.class_, structure=spec.structure,
        purpose="Tabulation" if sdtm else "Analysis", repeating=not (one_per_subject or reference),
        reference=reference, file=f"{name.lower()}.xpt", domain=(name[4:] if supp else name) if sdtm else None,
        domain_description=ctx.specs.dataset(name[4:]).label if supp and name[4:] in ctx.specs.datasets else None,
        records=len(df), items=items, comment=ctx.comment(entry.comment if entry else None))
    meta.value_lists = _value_lists(meta, df, spec, ctx)
    return meta


# ---------------------------------------------------------------- value-level metadata

@dataclass(frozen=True)
class _ValueRule:
    by: str
    variables: tuple[str, ...]
    values: dict[str, dict[str, VarMeta]]   # value -> variable -> meta
    labels: dict[str, str] = field(default_factory=dict)  # value -> description of the subset


def _qs_rule() -> _ValueRule:
    from sdtm_lupus.specs import QSALL, load_instruments

    values: dict[str, dict[str, VarMeta]] = {}
    for inst in load_instruments().instruments:
        for item in inst.items:
            collected = VarMeta(origin=f"Collected {inst.form}.{item.column}",
                                text=f"{item.kind} item of {inst.name}")
            derived = VarMeta(origin="Derived", method=f"QS_{item.kind.upper()}")
            values[item.testcd] = {"QSORRES": collected, "QSSTRESC": derived, "QSSTRESN": derived}
    assigned = VarMeta(origin="Assigned", text="form row with every item empty: not done")
    values[QSALL[0]] = {"QSORRES": assigned, "QSSTRESC": assigned, "QSSTRESN": assigned}
    return _ValueRule("QSTESTCD", ("QSORRES", "QSSTRESC", "QSSTRESN"), values)


QS_KIND_METHODS = {
    "QS_CHECKBOX": "Checkbox item: QSORRES PRESENT (ticked) or ABSENT; QSSTRESC/QSSTRESN the item's SELENA-SLEDAI "
                   "weight when PRESENT, 0 when ABSENT (specs/instruments.yaml).",
    "QS_FLAG": "Flag item: ticked -> Y, not ticked -> N (QSSTRESC); QSSTRESN null.",
    "QS_NUMBER": "Number item: QSSTRESN the number as collected, QSSTRESC its text; empty -> QSSTAT NOT DONE.",
    "QS_CODE": "Code item: QSSTRESC the submission value of the mapping's value map (e.g. BILAG grade A-E); "
               "QSSTRESN null; empty -> QSSTAT NOT DONE.",
    "QS_DATE": "Date item: QSORRES and QSSTRESC the ISO 8601 date; no record when empty.",
}


def _lb_rule(mapping: Mapping) -> _ValueRule:
    from sdtm_lupus.specs import load_lab_tests

    defs = load_lab_tests()
    site_names: dict[str, list[str]] = {}
    for site, def_id in mapping.lab_tests.items():
        site_names.setdefault(def_id, []).append(site)
    values: dict[str, dict[str, VarMeta]] = {}
    for def_id, test in defs.tests.items():
        names = ", ".join(repr(n) for n in site_names.get(def_id, []))
        collected = VarMeta(origin="Collected lab.LBORRES", source="Vendor",
                            text=f"site test name{'s' if names.count(',') else ''} {names or '(none in the mapping)'}")
        derived = VarMeta(origin="Derived", method=f"LB_{test.testcd}")
        values.setdefault(test.testcd, {"LBORRES": collected, "LBSTRESC": derived, "LBSTRESN": derived})
    return _ValueRule("LBTESTCD", ("LBORRES", "LBSTRESC", "LBSTRESN"), values)


def _lb_methods() -> dict[str, TextSpec]:
    from sdtm_lupus.specs import load_lab_tests

    out: dict[str, TextSpec] = {}
    for test in load_lab_tests().tests.values():
        if test.qualitative:
            text = (f"{test.testcd} ({test.test}, {test.specimen}): qualitative; the result term as the site writes "
                    "it mapped to LBSTRESC (specs/lab-tests.yaml result_terms, e.g. NEG -> NEGATIVE); no LBSTRESN.")
        else:
            factors = "; ".join(f"{unit} x {factor:g}" for unit, factor in test.factors.items())
            text = (f"{test.testcd} ({test.test}, {test.specimen}): LBSTRESN = numeric LBORRES converted to "
                    f"{test.unit}" + (f" ({factors})" if factors else " (no other unit is converted)") +
                    "; LBSTRESC its text, a qualified result (<x) keeps the qualifier and has no LBSTRESN.")
        prev = out.get(f"LB_{test.testcd}")
        out[f"LB_{test.testcd}"] = TextSpec(text=text if prev is None else f"{prev.text} {text}")
    return out


def _supp_rule(name: str, mapping: Mapping) -> _ValueRule | None:
    from sdtm_lupus.sdtm.ae import SUPPAE_QUALIFIERS
    from sdtm_lupus.sdtm.suppdm import QUALIFIERS as SUPPDM_QUALIFIERS
    from sdtm_lupus.sdtm.suppex import QUALIFIERS as SUPPEX_QUALIFIERS

    qualifiers = {"SUPPAE": ("ae", SUPPAE_QUALIFIERS), "SUPPDM": ("enrol", SUPPDM_QUALIFIERS),
                  "SUPPEX": ("dosing", SUPPEX_QUALIFIERS)}.get(name)
    if qualifiers is None:
        return None
    form, quals = qualifiers
    values = {q.qnam: {"QVAL": VarMeta(origin=f"Collected {form}.{q.column}")} for q in quals}
    return _ValueRule("QNAM", ("QVAL",), values, {q.qnam: q.qlabel for q in quals})


def _value_rule(name: str, ctx: _Context) -> _ValueRule | None:
    if ctx.standard == "sdtm":
        if name == "QS":
            return _qs_rule()
        if name == "LB":
            return _lb_rule(ctx.mapping)
        return _supp_rule(name, ctx.mapping)
    spec = ctx.own.value_level.get(name)
    if spec is None:
        return None
    return _ValueRule(spec.by, spec.variables, {v: {var: meta for var in spec.variables}
                                                for v, meta in spec.values.items()})


def _oid_part(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.\-]", "_", value)


def _value_lists(meta: DatasetMeta, df: pd.DataFrame, spec: DatasetSpec, ctx: _Context) -> list[ValueList]:
    rule = _value_rule(meta.name, ctx)
    if rule is None or rule.by not in df or not len(df):
        return []
    by_codes, by_values = factorized(df, rule.by)        # distinct non-missing values, first occurrence first
    group_of = {v: i for i, v in enumerate(by_values)}
    present = [v for v in by_values if v in rule.values]
    unknown = sorted(set(by_values) - set(rule.values))
    order = {v: i for i, v in enumerate(rule.values)}
    present = sorted(present, key=order.__getitem__) + unknown
    by_item = meta.item(rule.by)
    lists = []
    for var_name in rule.variables:
        if var_name not in spec.names:
            continue
        var, parent = spec.variable(var_name), meta.item(var_name)
        codes, uniques = factorized(df, var_name)
        in_group = _codes_by_group(by_codes, len(by_values), codes, len(uniques))
        distinct = np.asarray(uniques)
        entries = []
        for value in present:
            subset = in_group[group_of[value]]
            if not len(subset):
                continue                                   # e.g. AVAL of a Y/N parameter: no value
            where = WhereClause(f"WC.{meta.name}.{rule.by}.{_oid_part(value)}", by_item.oid, value)
            item = ItemMeta(oid=f"{parent.oid}.{_oid_part(value)}", name=var_name,
                            label=f"{var.label} ({rule.labels.get(value, value)})"[:200], order=len(entries) + 1,
                            mandatory=False, xpt_type=var.type, codelist=None,
                            **_item_types(var, lambda subset=subset: distinct[subset]))
            _apply(item, rule.values.get(value, {}).get(var_name), ctx)
            entries.append((item, where))
        if entries:
            parent.value_list = f"VL.{meta.name}.{var_name}"
            lists.append(ValueList(parent.value_list, entries))
    return lists


DENSE_PAIRS = 1 << 22       # up to this many (group, value) pairs: a presence table instead of a sort


def _codes_by_group(group_codes: np.ndarray, groups: int, codes: np.ndarray, distinct: int) -> list[np.ndarray]:
    """Per group code, the codes of the distinct non-missing values the column takes in its rows."""
    if not distinct:
        return [np.array([], dtype=np.int64)] * groups
    ok = (group_codes >= 0) & (codes >= 0)
    keys = group_codes[ok].astype(np.int64) * distinct + codes[ok]
    if groups * distinct <= DENSE_PAIRS:
        seen = np.zeros(groups * distinct, dtype=bool)
        seen[keys] = True
        pairs = np.flatnonzero(seen)
    else:
        pairs = np.unique(keys)
    group, value = np.divmod(pairs, distinct)
    bounds = np.searchsorted(group, np.arange(groups + 1))
    return [value[bounds[g]: bounds[g + 1]] for g in range(groups)]


# ---------------------------------------------------------------- codelists

def _codelists(datasets: list[DatasetMeta], frames: dict[str, pd.DataFrame], ctx: _Context) -> list[CodeListMeta]:
    from sdtm_lupus.specs import load_lab_tests

    sponsor_lab = {t.testcd for t in load_lab_tests().tests.values() if t.sponsor} | \
        {t.test for t in load_lab_tests().tests.values() if t.sponsor}
    used: dict[str, dict[str, None]] = {}
    decodes: dict[str, dict[str, str]] = {}
    for ds in datasets:
        frame = frames[ds.name]
        for item in ds.items:
            if not item.codelist or item.name not in frame:
                continue
            key = item.codelist[3:]
            used.setdefault(key, {})
            used[key].update(dict.fromkeys(str(v) for v in _column_values(frame, item.name)))
            partner = DECODES.get(item.name)
            if partner and partner in frame:
                decodes.setdefault(key, {}).update(_decode_pairs(frame, item.name, partner))
    out = []
    for key in sorted(used):
        if key in ctx.own.codelists:
            out.append(_define_only_codelist(key, ctx.own.codelists[key], used[key]))
            continue
        codelist = ctx.specs.terminology.codelists.get(key)
        if codelist is None:
            raise ConfigError(f"specs: codelist {key} is referenced but not defined")
        in_data = used[key]
        terms = [v for v in codelist.terms if v in in_data] if in_data else list(codelist.terms)
        terms += [v for v in in_data if v not in codelist.terms]         # extended values found in the data
        decode = decodes.get(key, {})
        out.append(CodeListMeta(
            oid=f"CL.{key}", name=codelist.name, code=codelist.code,
            terms=[Term(v, codelist.terms.get(v), decode.get(v),
                        extended=v not in codelist.terms or (key in ("LBTESTCD", "LBTEST") and v in sponsor_lab))
                   for v in terms]))
    return out


def _decode_pairs(frame: pd.DataFrame, code: str, decode: str) -> list[tuple[str, str]]:
    """The distinct (code, decode) pairs of rows holding both, as text, in order of first occurrence."""
    codes, code_values = factorized(frame, code)
    decodes, decode_values = factorized(frame, decode)
    ok = (codes >= 0) & (decodes >= 0)
    if not ok.any():
        return []
    keys = pd.unique(codes[ok].astype(np.int64) * len(decode_values) + decodes[ok])
    first, second = np.divmod(keys, len(decode_values))
    return [(str(code_values[i]), str(decode_values[j])) for i, j in zip(first.tolist(), second.tolist())]


def _define_only_codelist(key: str, spec: DefineCodelistSpec, in_data: dict[str, None]) -> CodeListMeta:
    """A sponsor codelist of specs/define (every code with its decode, in spec order). For joined
    values (separator) the list holds the codes a value is built from, not the joined values; a code
    found in the data but not in the spec is added as an extended value."""
    codes = [c for v in in_data for c in (v.split(spec.separator) if spec.separator else [v])]
    extra = [c for c in dict.fromkeys(codes) if c and c not in spec.terms]
    return CodeListMeta(oid=f"CL.{key}", name=spec.name, code=None,
                        terms=[Term(code, None, decode) for code, decode in spec.terms.items()]
                        + [Term(code, None, "not in specs/define (extended value)", extended=True) for code in extra])


# ---------------------------------------------------------------- entry point

def build_define_meta(standard: Literal["sdtm", "adam"], datasets: dict[str, pd.DataFrame], specs: Specs,
                      study: Study, mapping: Mapping, *, text_datasets: dict[str, pd.DataFrame] | None = None,
                      created: str | None = None) -> DefineMeta:
    """Metadata of the datasets of one standard as written (`datasets`: the frames given to the XPT writer;
    `text_datasets`: the same before non-ASCII escaping, to mark the variables the policy touched).
    created: the creation date/time; default the study's `define_created`, else DEFAULT_CREATED."""
    if created is None and getattr(study, "define_created", None) is not None:
        created = study.define_created.isoformat(timespec="seconds")

    own, common = load_define_spec(standard)
    ctx = _Context(standard, study, mapping, specs, own, common)
    if standard == "sdtm":
        ctx.extra_methods.update({k: TextSpec(text=v) for k, v in QS_KIND_METHODS.items()})
        ctx.extra_methods.update(_lb_methods())
    ig_name, ig_version = (SDTM_STANDARD if standard == "sdtm" else ADAM_STANDARD).split(" ")
    ig_oid, ct_oid = f"STD.{ig_name}.{ig_version}", f"STD.CT.SDTM.{specs.terminology.version}"
    metas = [_dataset_meta(name, datasets[name], specs.dataset(name), ctx, (text_datasets or {}).get(name))
             for name in sorted(datasets)]
    codelists = _codelists(metas, datasets, ctx)
    ctx.comment(own.metadata_comment)
    texts = {**common.methods, **own.methods, **ctx.extra_methods}
    methods = [TextDef(f"MT.{k}", texts[k].name or f"Algorithm {k.replace('_', ' ')}", texts[k].type,
                       render_text(texts[k].text, study, specs)) for k in sorted(ctx.used_methods)]
    notes = {**common.comments, **own.comments}
    comments = [TextDef(f"COM.{k}", k, "", render_text(notes[k].text, study, specs)) for k in sorted(ctx.used_comments)]
    label = "SDTM" if standard == "sdtm" else "ADaM"
    return DefineMeta(
        standard=standard, study_oid=f"STDY.{study.studyid}", study_name=study.studyid,
        study_description=" ".join(study.title.split()), mdv_oid=f"MDV.{study.studyid}.{ig_name}.{ig_version}",
        mdv_name=f"Study {study.studyid} {label} data definitions", file_oid=f"DEF.{study.studyid}.{label}",
        created=created or DEFAULT_CREATED,
        standards=[Standard(ig_oid, ig_name, "IG", ig_version),
                   Standard(ct_oid, "CDISC/NCI", "CT", specs.terminology.version, "SDTM")],
        ig_standard=ig_oid, ct_standard=ct_oid, datasets=metas, codelists=codelists, methods=methods,
        comments=comments, mdv_comment=f"COM.{own.metadata_comment}" if own.metadata_comment else None)

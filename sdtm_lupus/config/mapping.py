"""Mapping files (mappings/*.yaml): how one site layout maps onto the reference forms.

A new site layout is a new mapping file: file names, column renames, encoding, date and
time formats, value maps (site code -> CDISC submission value), unit maps and drug
dictionaries. Nothing here executes code from the file.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sdtm_lupus.config.loading import (
    MAX_CONFIG_BYTES,
    ConfigError,
    Location,
    raise_problems,
    read_yaml_located,
    shown,
    suggest,
    validate_model,
)

if TYPE_CHECKING:
    from sdtm_lupus.specs import RawLayout

COMMON_COLUMNS = ("STUDYID", "SITEID", "SUBJID", "FOLDER")
DATE_TOKENS = ("DD", "MM", "MMM", "YYYY")
MAX_EXTENDS = 8                  # files in one `extends` chain
# Value maps apply to the columns of these kinds in specs/raw-forms.yaml (sdtm/parse.py) ...
VALUE_MAP_KINDS = ("code",)
# ... and to these columns, which the mapper reads through a value map although their kind is
# not `code` (sdtm/lb.py: result terms and lab category).
VALUE_MAP_COLUMNS = {"lab": ("LBORRES", "LBCAT")}
# Column kinds (specs/raw-forms.yaml) each per-column key applies to (recode: any column).
NUMBER_KINDS = ("number", "integer")
DATE_KINDS = ("date", "fulldate")
CHECKBOX_KINDS = ("checkbox",)
MAX_DECIMALS = 12


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_date_format(v: str) -> str:
    """Only known tokens, each once, YYYY always, DD only with a month; other characters are separators."""
    if v == "ISO8601":
        return v
    allowed = f"allowed tokens: {', '.join(DATE_TOKENS)} (or the whole format ISO8601), other characters " \
              "are separators and may not be ASCII letters or digits"
    parts = re.split(r"(YYYY|MMM|MM|DD)", v)
    unknown = [word for literal in parts[0::2] for word in re.findall(r"[A-Za-z0-9]+", literal)]
    if unknown:
        raise ValueError(f"unknown token {shown(unknown[0])} in {shown(v)}; {allowed}")
    tokens = parts[1::2]
    twice = sorted({t for t in tokens if tokens.count(t) > 1})
    if twice or ("MM" in tokens and "MMM" in tokens):
        raise ValueError(f"{shown(v)} gives the {'year' if 'YYYY' in twice else 'day' if 'DD' in twice else 'month'}"
                         f" twice; {allowed}")
    if "YYYY" not in tokens:
        raise ValueError(f"{shown(v)} has no year (YYYY); {allowed}")
    if "DD" in tokens and not {"MM", "MMM"} & set(tokens):
        raise ValueError(f"{shown(v)} has a day but no month (MM or MMM); {allowed}")
    return v


class DateFormat(_Strict):
    # Tokens: DD, MM, MMM (English month abbreviation), YYYY; other characters are literal.
    # "ISO8601" reads YYYY-MM-DD and its truncations (YYYY-MM, YYYY).
    format: str = "DD-MMM-YYYY"
    unknown_day: str = "UN"
    unknown_month: str = "UNK"
    unknown_year: str = "UNKN"

    @field_validator("format")
    @classmethod
    def _tokens(cls, v: str) -> str:
        return _check_date_format(v)


class DateFormatOverride(_Strict):
    """`date_formats` entry: the fields given replace those of the mapping's `dates`."""
    format: str | None = None
    unknown_day: str | None = None
    unknown_month: str | None = None
    unknown_year: str | None = None

    @field_validator("format")
    @classmethod
    def _tokens(cls, v: str | None) -> str | None:
        return None if v is None else _check_date_format(v)


class Checkboxes(_Strict):
    """`checkboxes` entry: the texts of a checked and an unchecked box (a field not given: the mapping's
    `checkbox_checked` / `checkbox_unchecked`)."""
    checked: tuple[str, ...] | None = None
    unchecked: tuple[str, ...] | None = None

    @model_validator(mode="after")
    def _disjoint(self) -> Checkboxes:
        both = sorted(set(self.checked or ()) & set(self.unchecked or ()))
        if both:
            raise ValueError(f"{shown(both[0])} is both checked and unchecked")
        return self


class Recode(_Strict):
    """Long form of a `recode` entry: `{map: {...}, unmapped: keep}` keeps values not in the map."""
    map: dict[str, str]
    unmapped: Literal["error", "keep"] = "error"


class NumberTransform(_Strict):
    """`numbers` entry: reference value = site value * scale + offset (exact decimals)."""
    scale: Decimal = Decimal(1)
    offset: Decimal = Decimal(0)
    decimals: int | None = Field(default=None, ge=0, le=MAX_DECIMALS)   # None: shortest plain decimal

    @field_validator("scale", "offset")
    @classmethod
    def _finite(cls, v: Decimal, info) -> Decimal:
        if not v.is_finite():
            raise ValueError(f"{info.field_name} must be a finite number")
        if info.field_name == "scale" and v == 0:
            raise ValueError("scale 0 would turn every value into the offset")
        if v != 0 and not -30 <= v.adjusted() <= 30:
            raise ValueError(f"{info.field_name} {v} is out of range (1e-30 to 1e30)")
        return v


class TimeFormat(_Strict):
    format: Literal["HH:MM", "HH:MM:SS", "HHMM"] = "HH:MM"


class FormSource(_Strict):
    file: str                                   # CSV file name in the export folder
    odm_form: str | None = None                 # FormOID in ODM (default: form name upper case)
    required: bool = True
    rename: dict[str, str] = Field(default_factory=dict)   # reference column -> source column
    odm_items: dict[str, str] = Field(default_factory=dict)  # reference column -> ItemOID
    absent: dict[str, str] = Field(default_factory=dict)     # reference column the file lacks -> its value

    @field_validator("rename", "odm_items")
    @classmethod
    def _one_source_each(cls, v: dict[str, str]) -> dict[str, str]:
        """Two reference columns may not be read from one site column (or ItemOID)."""
        first: dict[str, str] = {}
        for column, source in v.items():
            if source in first:
                raise ValueError(f"{shown(source)} is the source of both {first[source]} and {column}; "
                                 "each reference column needs its own site column")
            first[source] = column
        return v


# Placeholders of the ODM OID patterns (odm.form_oid, odm.item_oid).
FORM_OID_FIELDS = ("FORM", "form")
ITEM_OID_FIELDS = ("FORM", "form", "FORMOID", "COLUMN", "column")
_NAME = r"[A-Za-z_][\w.\-]*"
_ATTRIBUTE = re.compile(rf"(\{{[^{{}}\s]+\}}|{_NAME}:)?{_NAME}")


def _oid_pattern(v: str, allowed: tuple[str, ...], needed: tuple[str, ...]) -> str:
    """A str.format pattern using only the allowed placeholders and at least one of `needed`."""
    import string

    try:
        parsed = [(f, spec, conv) for _, f, spec, conv in string.Formatter().parse(v) if f is not None]
    except ValueError as exc:
        raise ValueError(f"{shown(v)} is not a valid pattern ({exc}; write a literal brace as {{{{ or }}}})") from None
    listed = ", ".join("{" + a + "}" for a in allowed)
    if any(spec or conv for _, spec, conv in parsed):
        raise ValueError(f"{shown(v)}: a placeholder takes no conversion or format (write {{NAME}}; allowed: {listed})")
    fields = [f for f, _, _ in parsed]
    for name in fields:
        if name not in allowed:
            raise ValueError(f"unknown placeholder {{{name}}} in {shown(v)}{suggest(name, allowed)} "
                             f"(allowed: {listed})")
    if not set(fields) & set(needed):
        raise ValueError(f"{shown(v)} has none of {', '.join('{' + n + '}' for n in needed)}: every "
                         f"{'form' if 'FORM' in needed else 'column'} would get the same OID (allowed: {listed})")
    if not v.format(**{a: "x" for a in allowed}).strip():
        raise ValueError(f"{shown(v)} gives an empty OID")
    return v


class OdmStudyId(_Strict):
    """Where STUDYID comes from: a constant (`value`), ClinicalData/@StudyOID (`from: study_oid`,
    the default) or Study/GlobalVariables/StudyName of that study (`from: study_name`); `map`
    translates what was read (an OID not in a given map is an error, ODM-STUDYID)."""
    value: str | None = None
    from_: Literal["study_oid", "study_name"] | None = Field(default=None, alias="from")
    map: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_source(self) -> OdmStudyId:
        if self.value is not None and (self.from_ is not None or self.map):
            raise ValueError("give either `value` (a constant STUDYID) or `from` (study_oid or study_name, "
                             "optionally with `map`), not both")
        if self.value is not None and not self.value.strip():
            raise ValueError("`value` is empty: give the protocol id, e.g. NCT04515719")
        return self

    @property
    def source(self) -> str:
        """'value', 'study_oid' or 'study_name'."""
        return "value" if self.value is not None else self.from_ or "study_oid"


class OdmLayout(_Strict):
    file: str = "export.xml"
    # Attribute of SubjectData holding SUBJID (default: SubjectKey). A vendor attribute is written with
    # the prefix the file declares (`OpenClinica:StudySubjectID`, resolved through the namespace
    # declarations in scope at each SubjectData; a prefix the file does not declare is an error
    # ODM-SUBJECT-KEY naming the line) or in Clark notation (`{http://...}StudySubjectID`).
    subject_key_attribute: str | None = None
    # STUDYID: {value: NCT04515719} | {from: study_oid, map: {S_515719: NCT04515719}} | {from: study_name}.
    studyid: OdmStudyId = OdmStudyId()
    # FormOID of each form unless forms.<form>.odm_form names it: {FORM} / {form} = form name in upper /
    # lower case, e.g. "F_{FORM}" (default "{FORM}": ENROL, DOSING, ...).
    form_oid: str = "{FORM}"
    # ItemOID of each column unless forms.<form>.odm_items names it: {COLUMN} = the column as renamed by
    # forms.<form>.rename (else the reference column), {column} = the same in lower case, {FORM} / {form}
    # = form name, {FORMOID} = the form's FormOID; e.g. "I_{FORM}_{COLUMN}" (default "{FORMOID}.{COLUMN}").
    item_oid: str = "{FORMOID}.{COLUMN}"
    common_event: str = "COMMON"                # StudyEventOID of forms that are not visit-based
    event_folders: dict[str, str] = Field(default_factory=dict)  # StudyEventOID -> FOLDER
    site_ids: dict[str, str] = Field(default_factory=dict)       # LocationOID -> SITEID
    decode_codelists: bool = True               # decode values through MetaDataVersion CodeLists

    @field_validator("form_oid")
    @classmethod
    def _form_pattern(cls, v: str) -> str:
        return _oid_pattern(v, FORM_OID_FIELDS, ("FORM", "form"))

    @field_validator("item_oid")
    @classmethod
    def _item_pattern(cls, v: str) -> str:
        return _oid_pattern(v, ITEM_OID_FIELDS, ("COLUMN", "column"))

    @field_validator("subject_key_attribute")
    @classmethod
    def _attribute_name(cls, v: str | None) -> str | None:
        if v is not None and not _ATTRIBUTE.fullmatch(v):
            raise ValueError(f"{shown(v)} is not an attribute name: write NAME, PREFIX:NAME (a prefix the file "
                             "declares, e.g. OpenClinica:StudySubjectID) or {namespace-uri}NAME")
        return v

    def form_oid_of(self, name: str, source: FormSource) -> str:
        """The FormOID of a form: forms.<form>.odm_form, else the form_oid pattern."""
        return source.odm_form or self.form_oid.format(FORM=name.upper(), form=name.lower())

    def item_oids(self, name: str, source: FormSource, columns) -> dict[str, str]:
        """ItemOID -> reference column for the form's non-common columns (odm_items win over item_oid);
        columns the form declares `absent` have no ItemOID."""
        form_oid = self.form_oid_of(name, source)
        out: dict[str, str] = {}
        for col in columns:
            if col in COMMON_COLUMNS or col in source.absent:
                continue
            site = source.rename.get(col, col)
            oid = source.odm_items.get(col) or self.item_oid.format(
                FORM=name.upper(), form=name.lower(), FORMOID=form_oid, COLUMN=site, column=site.lower())
            out.setdefault(oid, col)
        return out


# Keys a mapping once held that are clinical constants now (specs/), with where they went.
MOVED_TO_SPECS = {
    "prednisone_factor": "prednisone equivalents are clinical constants, no longer a mapping key: they live once, "
                         "by CMDECOD, under prednisone_equivalents in specs/clinical-constants.yaml (derivations.md "
                         "R3.3), so that no site file can change an efficacy result; remove this key",
}


class Drug(_Strict):
    decod: str                                  # CMDECOD
    cmclas: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _moved_keys(cls, data: object) -> object:
        if isinstance(data, dict):
            for key, why in MOVED_TO_SPECS.items():
                if key in data:
                    raise ValueError(f"{key}: {why}")
        return data


class Mapping(_Strict):
    name: str
    description: str = ""
    encoding: Literal["utf-8", "gb18030"] = "utf-8"
    dates: DateFormat = DateFormat()
    times: TimeFormat = TimeFormat()
    forms: dict[str, FormSource]
    odm: OdmLayout = OdmLayout()
    # value maps: "form.COLUMN" -> {site value: submission value}
    values: dict[str, dict[str, str]] = Field(default_factory=dict)
    checkbox_checked: tuple[str, ...] = ("1",)
    checkbox_unchecked: tuple[str, ...] = ("0", "")
    # unit maps: site unit text -> CDISC unit
    units: dict[str, str] = Field(default_factory=dict)
    # lab test names as the site writes them -> LBTESTCD (definitions in specs/lab-tests.yaml)
    lab_tests: dict[str, str] = Field(default_factory=dict)
    # drug dictionary: verbatim name (any case, any script) -> coded drug
    drugs: dict[str, Drug] = Field(default_factory=dict)
    # layout step (readers/layout.py), both transports: "form.COLUMN" | "form.*" | "*.COLUMN" ->
    # {site value: reference value} (strict) or {map: {...}, unmapped: keep}
    recode: dict[str, dict[str, str] | Recode] = Field(default_factory=dict)
    numbers: dict[str, NumberTransform] = Field(default_factory=dict)
    # parse step (sdtm/parse.py): per-column date formats and checkbox vocabularies
    date_formats: dict[str, DateFormatOverride] = Field(default_factory=dict)
    checkboxes: dict[str, Checkboxes] = Field(default_factory=dict)
    source: Path | None = Field(default=None, exclude=True)

    @field_validator("values")
    @classmethod
    def _value_keys(cls, v: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        for key in v:
            if key.count(".") != 1 or not all(key.split(".")):
                raise ValueError(f"key {key!r} must be 'form.COLUMN'")
        return v

    @field_validator("recode", "numbers", "date_formats", "checkboxes")
    @classmethod
    def _column_keys(cls, v: dict) -> dict:
        for key in v:
            form, _, column = key.partition(".")
            if not form or not column or "." in column or form == column == "*":
                raise ValueError(f"key {key!r} must be 'form.COLUMN', 'form.*' or '*.COLUMN'")
        return v

    def value_map(self, form: str, column: str) -> dict[str, str] | None:
        """Value map of a column; "form.*" applies to every column of the form."""
        return self.values.get(f"{form}.{column}") or self.values.get(f"{form}.*")

    @staticmethod
    def per_column(table: dict, form: str, column: str):
        """The entry of a per-column table for form.column: "form.COLUMN", else "form.*", else "*.COLUMN"."""
        for key in (f"{form}.{column}", f"{form}.*", f"*.{column}"):
            if key in table:
                return table[key]
        return None

    def recode_map(self, form: str, column: str) -> Recode | None:
        entry = self.per_column(self.recode, form, column)
        return Recode(map=entry) if isinstance(entry, dict) else entry

    def date_format(self, form: str, column: str) -> DateFormat:
        """`dates`, with the fields that `date_formats` gives for this column replaced."""
        override = self.per_column(self.date_formats, form, column)
        if override is None:
            return self.dates
        return self.dates.model_copy(update=override.model_dump(exclude_none=True))

    def checkbox_texts(self, form: str, column: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(checked, unchecked) texts of a checkbox column."""
        entry = self.per_column(self.checkboxes, form, column) or Checkboxes()
        checked = self.checkbox_checked if entry.checked is None else entry.checked
        unchecked = self.checkbox_unchecked if entry.unchecked is None else entry.unchecked
        return checked, unchecked


def _merge(base: dict, override: dict) -> dict:
    out = dict(base)
    for key, value in override.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def _resolved(path: Path, seen: tuple[Path, ...] = (), via: str = "") -> tuple[dict, dict[tuple, Location]]:
    """The mapping's data with `extends: other.yaml` merged under it (keys of this file win),
    and the file and line of each key path. via: the `extends` key that names this file."""
    path = Path(path).resolve()
    if path in seen:
        chain = " -> ".join(p.name for p in (*seen, path))
        raise ConfigError(f"{via}: loops back to itself ({chain})")
    if len(seen) >= MAX_EXTENDS:
        raise ConfigError(f"{via}: a chain of more than {MAX_EXTENDS} files")
    try:
        data, lines = read_yaml_located(path, MAX_CONFIG_BYTES)
    except ConfigError as exc:
        raise ConfigError(f"{via}: {exc}" if via else str(exc)) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of keys at the top level")
    if "extends" not in data:
        return data, lines
    parent = data.pop("extends")
    where = f"{path}: line {lines[('extends',)][1]}: extends"
    if not isinstance(parent, str) or not parent.strip():
        raise ConfigError(f"{where}: expected the file name of another mapping (got {shown(parent)})")
    target = path.parent / parent
    if target.suffix.lower() not in (".yaml", ".yml"):
        raise ConfigError(f"{where}: {shown(parent)} is not a mapping file (.yaml or .yml)")
    base, base_lines = _resolved(target, (*seen, path), f"{where} {shown(parent)}")
    lines = {**base_lines, **{k: v for k, v in lines.items() if k != ("extends",)}}
    return _merge(base, data), lines


def value_map_targets(layout: RawLayout) -> dict[str, list[str]]:
    """form -> the columns whose raw text goes through the mapping's value map."""
    return {name: [c for c, kind in spec.columns.items()
                   if kind in VALUE_MAP_KINDS or c in VALUE_MAP_COLUMNS.get(name, ())]
            for name, spec in layout.forms.items()}


def layout_problems(mapping: Mapping, layout: RawLayout) -> list[tuple[tuple, str]]:
    """Keys of the mapping that name no form or column of the reference layout, value maps
    that are never applied, and site columns (or ItemOIDs) read into two reference columns."""
    problems: list[tuple[tuple, str]] = []
    forms = list(layout.forms)
    for name, source in mapping.forms.items():
        if name not in layout.forms:
            problems.append((("forms", name), f"unknown form{suggest(name, forms)} (forms of "
                             f"specs/raw-forms.yaml: {', '.join(forms)})"))
            continue
        columns = layout.columns(name)
        for key in ("rename", "odm_items"):
            for column in getattr(source, key):
                if column not in columns:
                    problems.append((("forms", name, key, column), f"not a column of form {name}"
                                     f"{suggest(column, columns)}"))
        read_as: dict[str, str] = {}
        for column in columns:
            site = source.rename.get(column, column)
            if site in read_as:
                problems.append((("forms", name, "rename", column), f"site column {shown(site)} is already read "
                                 f"as {read_as[site]}; each reference column needs its own site column"))
            read_as.setdefault(site, column)
        for column in source.absent:
            if column not in columns:
                problems.append((("forms", name, "absent", column), f"not a column of form {name}"
                                 f"{suggest(column, columns)}"))
            elif column in source.rename:
                problems.append((("forms", name, "absent", column), f"{column} is also renamed (read from site column "
                                 f"{shown(source.rename[column])}): a column is either read or absent"))
        by_item: dict[str, str] = {}
        for column in columns:
            if column in COMMON_COLUMNS:
                continue
            item = source.odm_items.get(column) or next(iter(mapping.odm.item_oids(name, source, [column])))
            if item in by_item and (column in source.odm_items or by_item[item] in source.odm_items):
                key = column if column in source.odm_items else by_item[item]
                problems.append((("forms", name, "odm_items", key), f"ItemOID {shown(item)} is already read "
                                 f"as {by_item[item] if key == column else column}; each reference column needs its own "
                                 "ItemOID"))
            by_item.setdefault(item, column)
    targets = value_map_targets(layout)
    described = "; ".join(f"{f}: {', '.join(cs)}" for f, cs in targets.items() if cs)
    for key in mapping.values:
        form, column = key.split(".")
        loc = ("values", key)
        if form not in layout.forms:
            problems.append((loc, f"unknown form {shown(form)}{suggest(form, forms)}"))
        elif column == "*":
            if not targets[form]:
                problems.append((loc, f"never applied: form {form} has no coded column (value maps apply to {described})"))
        elif column not in layout.forms[form].columns:
            problems.append((loc, f"{shown(column)} is not a column of form {form}"
                             f"{suggest(column, targets[form] or layout.forms[form].columns)}"))
        elif column not in targets[form]:
            kind = layout.forms[form].columns[column]
            problems.append((loc, f"never applied: {form}.{column} is a {kind} column, read without a value map "
                             f"(value maps apply to {described})"))
    problems += _per_column_problems(mapping, layout)
    return problems


# key -> (column kinds it applies to (None: any), what they are called in a message)
_PER_COLUMN = {
    "recode": (None, "any column"),
    "numbers": (NUMBER_KINDS, "number and integer columns"),
    "date_formats": (DATE_KINDS, "date columns"),
    "checkboxes": (CHECKBOX_KINDS, "checkbox columns"),
}


def _per_column_problems(mapping: Mapping, layout: RawLayout) -> list[tuple[tuple, str]]:
    """Every key of recode / numbers / date_formats / checkboxes names a form and a column it can apply to."""
    problems: list[tuple[tuple, str]] = []
    forms = list(layout.forms)
    for key_name, (kinds, described) in _PER_COLUMN.items():
        def fits(form: str, column: str, kinds=kinds) -> bool:
            kind = "common" if column in layout.common else layout.forms[form].columns.get(column)
            return kind is not None and (kinds is None or kind in kinds)

        def fitting(form: str, kinds=kinds) -> list[str]:
            return [c for c in layout.columns(form) if fits(form, c, kinds)]

        for key in getattr(mapping, key_name):
            form, _, column = key.partition(".")
            loc = (key_name, key)
            if form == "*":
                everywhere = list(dict.fromkeys(c for f in forms for c in fitting(f)))
                if column not in everywhere:
                    problems.append((loc, f"{shown(column)} is not a column of any form that {key_name} applies to "
                                     f"({described}){suggest(column, everywhere)}"))
            elif form not in layout.forms:
                problems.append((loc, f"unknown form {shown(form)}{suggest(form, forms)}"))
            elif column == "*":
                if not fitting(form):
                    problems.append((loc, f"never applied: form {form} has no {described}"))
            elif column not in layout.columns(form):
                problems.append((loc, f"{shown(column)} is not a column of form {form}"
                                 f"{suggest(column, fitting(form) or layout.columns(form))}"))
            elif not fits(form, column):
                kind = layout.forms[form].columns[column] if column not in layout.common else "common"
                problems.append((loc, f"never applied: {form}.{column} is a {kind} column ({key_name} applies to "
                                 f"{described})"))
    for key, entry in mapping.recode.items():
        table = entry.map if isinstance(entry, Recode) else entry
        if not table:
            problems.append((("recode", key), "empty map: give at least one site value"))
    return problems


def load_mapping(path: Path) -> Mapping:
    """Load a mapping file; `extends: base.yaml` reuses another layout and changes only some keys."""
    from sdtm_lupus.specs import load_raw_layout

    try:
        data, lines = _resolved(Path(path))
    except ConfigError as exc:
        if str(Path(path).resolve()) in str(exc) or str(path) in str(exc):
            raise
        raise ConfigError(f"{path}: in a file it extends: {exc}") from None
    mapping = validate_model(data, Mapping, Path(path), lines)
    problems = layout_problems(mapping, load_raw_layout())
    if problems:
        raise_problems(Path(path), problems, lines)
    return mapping.model_copy(update={"source": Path(path).resolve()})

"""`sdtm-lupus mapping draft`: a starting mapping for an unseen form-CSV export.

- files -> reference forms (specs/raw-forms.yaml) by their columns (and file name);
- columns -> reference columns by name (case, spaces and underscores ignored; a few synonyms), then by
  content (dates, times, checkboxes, yes/no, numbers) when exactly one column of that kind is left;
- the date format from the date columns; the encoding (UTF-8, else GB18030);
- value maps, units, lab test names and drug names from the wording of the shipped reference mapping;
  a value that is a CDISC term or synonym needs no entry; anything else is `TODO` for a human.
A mapping with a TODO left is refused by every command until it is filled in.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from sdtm_lupus.config.loading import ConfigError
from sdtm_lupus.config.mapping import COMMON_COLUMNS, Mapping, load_mapping, value_map_targets
from sdtm_lupus.firstcontact.check import normalized
from sdtm_lupus.specs import load_raw_layout, load_specs

REFERENCE = Path(__file__).resolve().parent.parent.parent / "mappings" / "reference.yaml"
MAX_ROWS = 20_000                   # rows per file looked at for content
SYNONYMS = {"SUBJECT": "SUBJID", "SUBJECTID": "SUBJID", "SUBJNO": "SUBJID", "PATIENTID": "SUBJID",
            "SITE": "SITEID", "SITENO": "SITEID", "SITENUMBER": "SITEID", "STUDY": "STUDYID",
            "PROTOCOL": "STUDYID", "VISIT": "FOLDER", "VISITNAME": "FOLDER", "EVENT": "FOLDER",
            "GENDER": "SEX", "DOB": "BRTHDAT", "BIRTHDATE": "BRTHDAT", "DATEOFBIRTH": "BRTHDAT",
            "CONSENTDATE": "CONSDAT", "WEIGHT": "WEIGHT_KG", "HEIGHT": "HEIGHT_CM", "DOSEUNIT": "CMDOSU",
            "DRUG": "CMTRT", "MEDICATION": "CMTRT", "TESTNAME": "LBTEST", "TEST": "LBTEST", "RESULT": "LBORRES",
            "UNIT": "LBORRESU", "UNITS": "LBORRESU"}
DATE_FORMATS = [("DD-MMM-YYYY", r"(\d\d|UN)-([A-Za-z]{3}|UNK)-\d{4}"), ("ISO8601", r"\d{4}(-\d\d(-\d\d)?)?"),
                ("DD/MM/YYYY", r"\d\d/\d\d/\d{4}"), ("YYYY/MM/DD", r"\d{4}/\d\d/\d\d"), ("DD.MM.YYYY", r"\d\d\.\d\d\.\d{4}")]
KIND_PATTERNS = {"time": r"\d\d:\d\d", "checkbox": r"[01]", "yesno": r"(?i)yes|no", "number": r"-?\d+(\.\d+)?"}


@dataclass
class SiteFile:
    name: str
    encoding: str
    header: list[str]
    values: dict[str, list[str]] = field(default_factory=dict)     # column -> values (first MAX_ROWS rows)

    def distinct(self, column: str) -> list[str]:
        return sorted({v for v in self.values.get(column, []) if v.strip()})


def read_site_file(path: Path) -> SiteFile:
    raw = path.read_bytes()
    try:
        text, encoding = raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        try:
            text, encoding = raw.decode("gb18030"), "gb18030"
        except UnicodeDecodeError:
            raise ConfigError(f"{path.name}: neither UTF-8 nor GB18030: cannot draft a mapping for it") from None
    rows = list(csv.reader(io.StringIO(text, newline="")))
    rows = [r for r in rows if r]
    if not rows:
        raise ConfigError(f"{path.name}: empty file: no header row to match")
    header, body = rows[0], rows[1:MAX_ROWS + 1]
    values = {name: [r[i] if i < len(r) else "" for r in body] for i, name in enumerate(header)}
    return SiteFile(path.name, encoding, header, values)


def _matches(values: list[str], pattern: str) -> bool:
    filled = [v.strip() for v in values if v.strip()]
    return bool(filled) and all(re.fullmatch(pattern, v) for v in filled)


def date_format(values: list[str]) -> str | None:
    return next((fmt for fmt, pattern in DATE_FORMATS if _matches(values, pattern)), None)


def content_kind(values: list[str]) -> str | None:
    if date_format(values):
        return "date"
    return next((kind for kind, pattern in KIND_PATTERNS.items() if _matches(values, pattern)), None)


def _by_name(column: str, header: list[str]) -> str | None:
    for site in header:
        key = normalized(site).upper()
        if key == normalized(column).upper() or SYNONYMS.get(key) == column:
            return site
    return None


@dataclass
class FormDraft:
    form: str
    file: SiteFile | None
    columns: dict[str, str] = field(default_factory=dict)           # reference column -> site column
    by_content: set[str] = field(default_factory=set)


def match_form(form: str, file: SiteFile) -> FormDraft:
    layout = load_raw_layout()
    draft = FormDraft(form, file)
    for column in layout.columns(form):
        site = _by_name(column, [h for h in file.header if h not in draft.columns.values()])
        if site:
            draft.columns[column] = site
    kinds = layout.forms[form].columns
    left = [c for c in layout.columns(form, optional=False) if c not in draft.columns]
    free = [h for h in file.header if h not in draft.columns.values()]
    inferred = {h: content_kind(file.values[h]) for h in free}
    for kind in ("date", "time", "checkbox", "yesno", "number"):
        wanted = [c for c in left if _kind_group(kinds.get(c, "text")) == kind]
        found = [h for h in free if inferred[h] == kind]
        if len(wanted) == 1 and len(found) == 1:
            draft.columns[wanted[0]] = found[0]
            draft.by_content.add(wanted[0])
    return draft


def _kind_group(kind: str) -> str:
    return {"fulldate": "date", "integer": "number"}.get(kind, kind)


def assign_files(files: list[SiteFile], forms: list[str]) -> dict[str, FormDraft]:
    """Each form the file whose columns match it best (greedy on the number of matched columns)."""
    layout = load_raw_layout()
    scored = []
    for file in files:
        for form in forms:
            d = match_form(form, file)
            own = [c for c in d.columns if c not in COMMON_COLUMNS and c not in d.by_content]
            bonus = 0.5 if normalized(Path(file.name).stem) == normalized(form) else 0
            if own:
                scored.append((len(own) / len(layout.forms[form].columns) + bonus, form, file.name, d))
    out: dict[str, FormDraft] = {}
    used: set[str] = set()
    for _, form, name, d in sorted(scored, key=lambda t: -t[0]):
        if form not in out and name not in used:
            out[form], _ = d, used.add(name)
    return out


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def draft_mapping(raw_dir: Path, forms: list[str] | None = None, name: str = "draft") -> tuple[str, int]:
    """The YAML text of a starting mapping for the CSV export in raw_dir, and its number of TODOs."""
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        raise ConfigError(f"export folder {raw_dir} does not exist or is not a folder")
    files = [read_site_file(p) for p in sorted(raw_dir.glob("*.csv")) + sorted(raw_dir.glob("*.CSV")) if p.is_file()]
    if not files:
        raise ConfigError(f"{raw_dir}: no .csv files (mapping draft reads form-CSV exports)")
    layout = load_raw_layout()
    forms = forms or list(layout.forms)
    reference: Mapping = load_mapping(REFERENCE)
    drafts = assign_files(files, forms)
    encodings = {f.encoding for f in files}
    lines = [f"# Drafted by `sdtm-lupus mapping draft` from {raw_dir.name}: check every entry; fill each TODO.",
             f"name: {name}", "description: drafted mapping (check it)",
             f"encoding: {'gb18030' if 'gb18030' in encodings else 'utf-8'}"]
    todo = 0
    date_values = [v for d in drafts.values() for c, s in d.columns.items()
                   if layout.forms[d.form].columns.get(c) in ("date", "fulldate") for v in d.file.values[s]]
    fmt = date_format(date_values) or "DD-MMM-YYYY"
    lines.append(f"dates: {{format: {fmt}, unknown_day: UN, unknown_month: UNK, unknown_year: UNKN}}")
    lines.append("forms:")
    for form in forms:
        d = drafts.get(form)
        if d is None:
            todo += 1
            lines.append(f"  {form}: {{file: TODO}}  # TODO: no file of the export matches form {form}")
            continue
        required = ", required: false" if form == "flare" else ""
        renames = {c: s for c, s in d.columns.items() if c != s}
        missing = [c for c in layout.columns(form, optional=False) if c not in d.columns]    # optional: may be absent
        if not renames and not missing:
            lines.append(f"  {form}: {{file: {_q(d.file.name)}{required}}}")
            continue
        lines.append(f"  {form}:")
        lines.append(f"    file: {_q(d.file.name)}" + ("\n    required: false" if required else ""))
        lines.append("    rename:")
        for column, site in renames.items():
            note = "  # check: matched by content" if column in d.by_content else ""
            lines.append(f"      {column}: {_q(site)}{note}")
        for column in missing:
            todo += 1
            lines.append(f"      {column}: TODO  # TODO: the {d.file.name} column holding {column}")
    codelists = load_specs().terminology.codelists
    value_lines: list[str] = []
    for form, columns in value_map_targets(layout).items():
        d = drafts.get(form)
        for column in columns if d else ():
            if column not in d.columns or (form, column) in (("lab", "LBORRES"), ("lab", "LBCAT")):
                continue
            known = reference.value_map(form, column) or {}
            codelist = codelists.get(layout.codelist(form, column) or "")
            entries = []
            for value in d.file.distinct(d.columns[column]):
                if value in known:
                    entries.append(f"      {_q(value)}: {_q(known[value])}")
                elif codelist is None or codelist.submission_value(value) is None:
                    todo += 1
                    terms = f" of codelist {layout.codelist(form, column)}" if codelist else ""
                    entries.append(f"      {_q(value)}: TODO  # TODO: the submission value{terms}")
            if entries:
                value_lines += [f"  {form}.{column}:", *entries]
    if value_lines:
        lines += ["values:", *value_lines]
    lab = drafts.get("lab")
    if lab and "LBORRESU" in lab.columns:
        lbunit = codelists.get("LBUNIT")
        entries = []
        for unit in lab.file.distinct(lab.columns["LBORRESU"]):
            if unit in reference.units:
                entries.append(f"  {_q(unit)}: {_q(reference.units[unit])}")
            elif not (lbunit and lbunit.submission_value(unit)):
                todo += 1
                entries.append(f"  {_q(unit)}: TODO  # TODO: a CDISC lab unit (codelist LBUNIT)")
        if entries:
            lines += ["units:", *entries]
    if lab and "LBTEST" in lab.columns:
        folded = {k.casefold(): v for k, v in reference.lab_tests.items()}
        lines.append("lab_tests:")
        for test in lab.file.distinct(lab.columns["LBTEST"]):
            target = reference.lab_tests.get(test) or folded.get(test.strip().casefold())
            if target is None:
                todo += 1
            lines.append(f"  {_q(test)}: {target or 'TODO  # TODO: a definition of specs/lab-tests.yaml'}")
    cm = drafts.get("cm")
    if cm and "CMTRT" in cm.columns:
        folded_drugs = {k.strip().casefold(): v for k, v in reference.drugs.items()}
        entries, uncoded = [], []
        for drug in cm.file.distinct(cm.columns["CMTRT"]):
            coded = folded_drugs.get(drug.strip().casefold())
            if coded is None:
                uncoded.append(drug)
                continue
            fields = [f"decod: {_q(coded.decod)}"] + ([f"cmclas: {coded.cmclas}"] if coded.cmclas else [])
            entries.append(f"  {_q(drug)}: {{{', '.join(fields)}}}")
        lines += ["drugs:", *entries] if entries else []
        lines += [f"# not coded (CMDECOD stays empty, a warning): {_q(d)}: {{decod: ..., cmclas: ...}}" for d in uncoded]
    return "\n".join(lines) + "\n", todo


def write_draft(raw_dir: Path, out: Path, forms: list[str] | None = None) -> int:
    """Write the draft to `out` (never over an existing file); returns the number of TODOs."""
    out = Path(out)
    if out.exists() or out.is_symlink():
        raise ConfigError(f"--out {out} exists: refusing to overwrite it; give a new file name")
    if out.suffix.lower() not in (".yaml", ".yml"):
        raise ConfigError(f"--out {out}: a mapping file name ends in .yaml or .yml")
    text, todo = draft_mapping(raw_dir, forms, name=out.stem)
    try:
        with open(out, "x", encoding="utf-8") as handle:       # "x": fails if it appeared meanwhile
            handle.write(text)
    except OSError as exc:
        raise ConfigError(f"cannot write {out}: {exc.strerror or exc}") from None
    return todo

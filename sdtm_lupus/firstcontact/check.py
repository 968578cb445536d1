"""`sdtm-lupus mapping check`: what a mapping lacks for an export, grouped by distinct value, and the YAML
lines that would map it. Reads and maps the export (no ADaM, no gate, nothing written).

Each unknown is one entry per distinct value (with its count, files and first rows), whatever the number
of rows: a unit, a code, a lab test name, a visit folder, a drug name, a column, a file or an ODM OID. The
YAML uses the keys of the mapping language (values, lab_tests, units, drugs, forms.<f>.rename / file /
odm_form / odm_items); `recode` entries for visit folders and values a recode map lacks.
A target a human must choose is `TODO` (a mapping with a TODO left is refused: see `todo_problems`).
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field

from sdtm_lupus.config.mapping import COMMON_COLUMNS, Mapping
from sdtm_lupus.config.study import Study
from sdtm_lupus.findings import Finding, errors_first
from sdtm_lupus.firstcontact.groups import group_findings, wrap
from sdtm_lupus.specs import Specs, load_raw_layout

TODO = "TODO"
# rules that mean "the mapping does not know this"; everything else is a problem of the data itself
UNKNOWN_RULES = ("MAP-CODE", "LB-TEST-UNKNOWN", "LB-UNIT-UNKNOWN", "MAP-FOLDER-UNKNOWN", "CM-DRUG-UNCODED",
                 "READ-MISSING-COLUMN", "READ-EXTRA-COLUMN", "READ-MISSING-FILE", "ODM-UNKNOWN-ITEM",
                 "ODM-UNKNOWN-FORM", "ODM-UNMAPPED-OID", "MAP-RECODE")
KIND_ORDER = ("file", "column", "OID", "code", "unit", "lab test", "visit", "drug")


@dataclass
class Unknown:
    kind: str                      # file, column, OID, code, unit, lab test, visit, drug
    key: str                       # where it belongs in the mapping: "cm.CMDOSU", "lab_tests", "*.FOLDER" ...
    value: str                     # the site's value (or column, file name, OID)
    count: int = 0                 # rows (or occurrences) holding it
    files: list[str] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    section: str = ""              # top-level mapping key of the suggestion
    target: str = TODO             # suggested target (TODO: a human chooses)
    hint: str = ""                 # what to choose from / why the target was suggested
    fatal: bool = True             # stops a conversion (error) or changes its result (warning)

    def headline(self) -> str:
        """`unit 'ugg' in cm.csv, column CMDOSU: 35 rows (2, 3, 4, ...)`."""
        column = self.key.split(".", 1)[1] if self.section in ("values", "units", "lab_tests", "recode", "drugs") \
            else ""
        where = ", ".join(self.files) + (f", column {column}" if column and column != "*" else "")
        shown = ", ".join(str(r) for r in self.rows[:3]) + (", ..." if len(self.rows) > 3 else "")
        count = f": {self.count} row{'s' if self.count != 1 else ''} ({shown})" if self.rows else ""
        return f"{self.kind} {self.value!r} in {where}{count}"

    def to_dict(self) -> dict:
        return {"kind": self.kind, "key": self.key, "value": self.value, "count": self.count, "files": self.files,
                "first_rows": self.rows[:3], "section": self.section, "target": self.target, "hint": self.hint,
                "stops_conversion": self.fatal}


@dataclass
class CheckResult:
    transport: str
    mapping: str
    rows_read: dict[str, int]      # form -> rows (empty when reading stopped)
    mapped: bool                   # the map stage ran (reading succeeded)
    unknowns: list[Unknown]
    problems: list[Finding]        # errors and warnings that are not unknown vocabulary
    findings: list[Finding]        # everything, errors first

    @property
    def covered(self) -> bool:
        return not self.unknowns and not any(f.severity == "error" for f in self.problems)

    @property
    def exit_code(self) -> int:
        return 0 if self.covered else 2

    def yaml(self) -> str:
        return suggestion_yaml(self.unknowns)

    def to_dict(self) -> dict:
        return {"status": "covered" if self.covered else "not covered", "exit_code": self.exit_code,
                "transport": self.transport, "mapping": self.mapping, "rows_read": self.rows_read,
                "mapped": self.mapped, "unknowns": [u.to_dict() for u in self.unknowns], "yaml": self.yaml(),
                "problems": [g.to_dict() for g in group_findings(self.problems)],
                "findings": [f.to_dict() for f in self.findings]}

    def text(self, width: int = 100) -> str:
        lines = [f"{self.transport} export, mapping {self.mapping}: read "
                 + (f"{sum(self.rows_read.values())} rows of {len(self.rows_read)} forms" if self.rows_read
                    else "stopped (see below)")
                 + ("; mapped to SDTM (nothing written)" if self.mapped else "")]
        if self.unknowns:
            lines += ["", f"{len(self.unknowns)} unknown value(s): the mapping does not cover this export"]
            for i, u in enumerate(self.unknowns, 1):
                lines += wrap(f"{i:>3}. {u.headline()}", width, "       ")
            lines += ["", "Add to the mapping (choose each TODO; `sdtm-lupus mapping check` again):", ""]
            lines += [part for line in self.yaml().splitlines() for part in _cut(line, width)]
        problems = group_findings([f for f in self.problems if f.severity != "notice"])
        if problems:
            lines += ["", f"{len(problems)} other problem(s) in the data (grouped by value):"]
            lines += [part for g in problems[:40] for part in wrap(g.text(), width)]
            if len(problems) > 40:
                lines.append(f"... and {len(problems) - 40} more (see --json)")
        if self.covered:
            lines += ["", "the mapping covers this export"]
        return "\n".join(lines)


def _cut(line: str, width: int) -> list[str]:
    """A YAML line kept valid: a too long trailing comment moves to its own line before it."""
    if len(line) <= width or "  # " not in line:
        return [line]
    code, comment = line.split("  # ", 1)
    indent = re.match(r"[#\s]*", code).group(0)
    return [part for part in wrap(f"{indent}# {comment}", width, indent + "#   ")] + [code]


def _q(text: str) -> str:
    """A YAML scalar: JSON double-quoted strings are valid YAML."""
    return json.dumps(text, ensure_ascii=False)


def suggestion_yaml(unknowns: list[Unknown]) -> str:
    """The mapping lines for the unknowns, by section (a section's lines merge into the mapping's own)."""
    out: list[str] = []
    by_section: dict[str, list[Unknown]] = {}
    for u in unknowns:
        if u.section:
            by_section.setdefault(u.section, []).append(u)
    for section in ("forms", "values", "units", "lab_tests", "drugs", "recode"):
        items = by_section.get(section, [])
        if not items:
            continue
        if section == "forms":
            out.append("forms:")
            by_form: dict[str, list[Unknown]] = {}
            for u in items:
                by_form.setdefault(u.key.split(".")[0], []).append(u)
            for form, us in by_form.items():
                out.append(f"  {form}:")
                for u in us:
                    out.append("    " + _line(u))
        elif section == "values":
            out.append("values:")
            by_key: dict[str, list[Unknown]] = {}
            for u in items:
                by_key.setdefault(u.key, []).append(u)
            for key, us in by_key.items():
                out.append(f"  {key}:")
                out += ["    " + _line(u) for u in us]
        elif section == "recode":
            out.append("recode:")
            by_key = {}
            for u in items:
                by_key.setdefault(u.key, []).append(u)
            for key, us in by_key.items():
                out.append(f"  {_q(key)}:")
                out += ["    " + _line(u) for u in us]
        else:
            out.append(f"{section}:")
            out += ["  " + _line(u) for u in items]
    return "\n".join(out) + ("\n" if out else "")


def _line(u: Unknown) -> str:
    if u.section == "forms":
        sub = u.key.split(".", 1)[1]           # rename.COLUMN, odm_items.COLUMN, file, odm_form
        if sub in ("file", "odm_form"):
            text = f"{sub}: {_q(u.target) if u.target != TODO else TODO}"
        else:
            kind, column = sub.split(".", 1)
            text = f"{kind}: {{{column}: {_q(u.target) if u.target != TODO else TODO}}}" if column != TODO else \
                f"{kind}: {{TODO: {_q(u.value)}}}"
    elif u.section == "drugs":
        text = f"{_q(u.value)}: {{decod: TODO, cmclas: TODO}}"
    else:
        text = f"{_q(u.value)}: {_q(u.target) if u.target != TODO else TODO}"
    marker = "TODO: " if TODO in text else "check: "
    return text + (f"  # {marker}{u.hint}" if u.hint else ("  # TODO" if TODO in text else ""))


# ------------------------------------------------------------------------------------ findings -> unknowns

def close(value: str, choices, n: int = 3) -> list[str]:
    choices = list(dict.fromkeys(c for c in choices if isinstance(c, str)))
    folded = {c.casefold(): c for c in choices}
    hits = difflib.get_close_matches(value.casefold(), list(folded), n=n, cutoff=0.6)
    return [folded[h] for h in hits]


def normalized(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", name.casefold())


def unknowns_of(findings: list[Finding], mapping: Mapping, study: Study, specs: Specs,
                files: list[str] | None = None) -> list[Unknown]:
    """One Unknown per distinct (kind, key, value) among the findings of rules in UNKNOWN_RULES."""
    from sdtm_lupus.specs import load_lab_tests

    layout = load_raw_layout()
    codelists = specs.terminology.codelists
    found: dict[tuple, Unknown] = {}
    extra_by_file: dict[str, list[str]] = {}
    for f in findings:
        if f.rule == "READ-EXTRA-COLUMN" and f.file:
            extra_by_file.setdefault(f.file, []).append(f.variable or "")

    def add(kind: str, key: str, value: str, f: Finding, section: str, target: str = TODO, hint: str = "",
            fatal: bool = True) -> None:
        u = found.get((kind, key, value))
        if u is None:
            u = found[(kind, key, value)] = Unknown(kind, key, value, section=section, target=target, hint=hint,
                                                    fatal=fatal)
        u.count += 1
        if f.file and f.file not in u.files:
            u.files.append(f.file)
        if f.row is not None:
            u.rows.append(f.row)

    for f in findings:
        if f.rule not in UNKNOWN_RULES:
            continue
        value = f.value if f.value is not None else (f.variable or "")
        form = f.dataset or ""
        if f.rule == "MAP-CODE":
            name = layout.codelist(form, f.variable or "")
            terms = list(codelists[name].terms) + [s for ss in codelists[name].synonyms.values() for s in ss] \
                if name in codelists else []
            exact = [t for t in terms if t.casefold() == value.strip().casefold()]
            target = codelists[name].submission_value(exact[0]) if exact else TODO
            near = close(value, terms)
            hint = (f"same as the {name} term except case or spaces" if exact else
                    f"a term of codelist {name}" + (f", e.g. {', '.join(near)}" if near else "") if name else
                    "the value the reference layout uses")
            add("unit" if name in ("UNIT", "LBUNIT") else "code", f"{form}.{f.variable}", value, f, "values",
                target, hint)
        elif f.rule == "LB-TEST-UNKNOWN":
            similar = close(value, mapping.lab_tests)
            hint = "a definition of specs/lab-tests.yaml" + (
                "; like " + ", ".join(f"{s!r}: {mapping.lab_tests[s]}" for s in similar) if similar else
                f" ({', '.join(sorted(load_lab_tests().tests)[:6])}, ...)")
            add("lab test", "lab.LBTEST", value, f, "lab_tests", TODO, hint)
        elif f.rule == "LB-UNIT-UNKNOWN":
            if "is not in the mapping's units" not in f.message:
                continue               # a unit the mapping knows but specs/lab-tests.yaml cannot convert
            lbunit = codelists.get("LBUNIT")
            terms = list(lbunit.terms) if lbunit else []
            exact = [t for t in terms if t.casefold() == value.strip().casefold()]
            near = close(value, terms + list(mapping.units))
            add("unit", "lab.LBORRESU", value, f, "units", exact[0] if exact else TODO,
                "a CDISC lab unit (codelist LBUNIT)" + (f", e.g. {', '.join(near)}" if near else ""))
        elif f.rule == "MAP-FOLDER-UNKNOWN":
            folders = [v.folder for v in study.visits] + [study.unscheduled_folder, study.early_termination.folder]
            near = close(value, folders)
            add("visit", "*.FOLDER", value, f, "recode", TODO,
                f"a visit folder of {study.studyid}" + (f", e.g. {', '.join(near)}" if near else
                                                         f" ({', '.join(folders[:4])}, ...)"), fatal=False)
        elif f.rule == "MAP-RECODE" and f.dataset and f.variable:
            keys = (f"{f.dataset}.{f.variable}", f"{f.dataset}.*", f"*.{f.variable}")
            key = next((k for k in keys if k in mapping.recode), keys[0])
            add("code", key, value, f, "recode", TODO, f"the reference wording of {f.variable} (site-export spec)")
        elif f.rule == "CM-DRUG-UNCODED":
            add("drug", "cm.CMTRT", value, f, "drugs", TODO, "coded name (CMDECOD) and class (CMCLAS)", fatal=False)
        elif f.rule == "READ-MISSING-COLUMN":
            reverse = {src: ref for ref, src in mapping.forms[form].rename.items()} if form in mapping.forms else {}
            column = reverse.get(value, value)
            extra = extra_by_file.get(f.file or "", [])
            candidates = [c for c in extra if normalized(c) == normalized(column)]
            near = candidates or [c for c in extra if normalized(column) in normalized(c)][:1] or close(column, extra, 1)
            add("column", f"{form}.rename.{column}", column, f, "forms", near[0] if near else TODO,
                ("site column of the same name" if candidates else "a column of the file not read yet")
                if near else f"the {f.file} column holding {column}")
        elif f.rule == "READ-EXTRA-COLUMN":
            add("column", f"{form}.extra", value, f, "", fatal=False,
                hint="not read: rename a reference column to it, or leave it out")
        elif f.rule == "READ-MISSING-FILE" and f.severity == "error":
            unused = [p for p in (files or []) if p not in {s.file for s in mapping.forms.values()}]
            near = close(f.file or "", unused, 1)
            add("file", f"{form}.file", f.file or "", f, "forms", near[0] if near else TODO,
                "a file of the export not read yet" if near else "the export's file of form " + form)
        elif f.rule == "ODM-UNKNOWN-FORM":
            owner = _odm_form_owner(value, mapping)
            add("OID", f"{owner or TODO}.odm_form", value, f, "forms" if owner else "", value,
                "FormOID of the export" if owner else "name the reference form it holds")
        elif f.rule == "ODM-UNKNOWN-ITEM":
            m = re.search(r"in form (\S+) maps", f.message)
            form_oid = m.group(1) if m else ""
            owner = next((n for n, s in mapping.forms.items() if (s.odm_form or n.upper()) == form_oid), None)
            column = _column_of_oid(value, owner, layout) if owner else None
            add("OID", f"{owner or TODO}.odm_items.{column or TODO}", value, f, "forms" if owner else "", value,
                "ItemOID of the export" + ("" if column else ": name its reference column"))
        elif f.rule == "ODM-UNMAPPED-OID":
            table = "site_ids" if "site_ids" in f.message else "event_folders"
            add("OID", f"odm.{table}", value, f, "", TODO, f"odm.{table}: {{{_q(value)}: TODO}}", fatal=False)
    renamed = {(u.files[0] if u.files else "", u.target) for u in found.values() if ".rename." in u.key}
    for key, u in list(found.items()):
        u.rows = sorted(set(u.rows))
        if u.key.endswith(".extra") and (u.files[0] if u.files else "", u.value) in renamed:
            del found[key]             # the extra column is the suggested source of a missing one
    order = {k: i for i, k in enumerate(KIND_ORDER)}
    return sorted(found.values(), key=lambda u: (order.get(u.kind, 99),))


def _odm_form_owner(form_oid: str, mapping: Mapping) -> str | None:
    key = normalized(form_oid.split(".")[-1].removeprefix("F_").removeprefix("f_"))
    return next((n for n in mapping.forms if normalized(n) == key or key.endswith(normalized(n))), None)


def _column_of_oid(oid: str, form: str, layout) -> str | None:
    tail = normalized(re.split(r"[.]", oid)[-1])
    columns = [c for c in layout.columns(form) if c not in COMMON_COLUMNS]
    inside = sorted((c for c in columns if normalized(c) in tail), key=lambda c: -len(normalized(c)))
    return inside[0] if inside else None


def check_findings(findings: list[Finding], mapping: Mapping, study: Study, specs: Specs, *, transport: str,
                   rows_read: dict[str, int], mapped: bool, files: list[str]) -> CheckResult:
    findings = errors_first(findings)
    unknowns = unknowns_of(findings, mapping, study, specs, files)
    # Unmapped drugs and extra columns are listed, but only the ones that stop or change a conversion count.
    problems = [f for f in findings if f.rule not in UNKNOWN_RULES or
                (f.rule == "LB-UNIT-UNKNOWN" and "is not in the mapping's units" not in f.message)]
    return CheckResult(transport=transport, mapping=mapping.name, rows_read=rows_read, mapped=mapped,
                       unknowns=unknowns, problems=problems, findings=findings)


# ------------------------------------------------------------------------------------ TODOs left in a mapping

def todo_problems(mapping: Mapping) -> list[str]:
    """Key paths of a mapping whose value is still the draft's TODO placeholder."""
    out = []
    for form, source in mapping.forms.items():
        if source.file == TODO:
            out.append(f"forms.{form}.file")
        out += [f"forms.{form}.rename.{c}" for c, s in source.rename.items() if s == TODO]
        out += [f"forms.{form}.odm_items.{c}" for c, s in source.odm_items.items() if s == TODO]
    for key, values in mapping.values.items():
        out += [f"values.{key}.{v!r}" for v, t in values.items() if t == TODO]
    out += [f"units.{u!r}" for u, t in mapping.units.items() if t == TODO]
    out += [f"lab_tests.{n!r}" for n, t in mapping.lab_tests.items() if t == TODO]
    out += [f"drugs.{n!r}" for n, d in mapping.drugs.items() if TODO in (d.decod, d.cmclas)]
    return out

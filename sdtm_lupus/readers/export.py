"""Read one export folder, whatever its transport, into Forms."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from sdtm_lupus.config.loading import ConfigError
from sdtm_lupus.config.mapping import Mapping
from sdtm_lupus.findings import Finding, InputError, errors, errors_first
from sdtm_lupus.readers.form_csv import empty_form, read_form_csv
from sdtm_lupus.readers.forms import Forms
from sdtm_lupus.readers.layout import apply_layout
from sdtm_lupus.readers.manifest import verify_manifest
from sdtm_lupus.readers.odm import read_odm
from sdtm_lupus.specs import RawLayout, load_raw_layout


def detect_transport(raw_dir: Path, mapping: Mapping) -> Literal["csv", "odm"]:
    """ODM when the mapping's ODM file (export.xml) is in the folder, else form CSV."""
    return "odm" if (Path(raw_dir) / mapping.odm.file).is_file() else "csv"


def read_export(raw_dir: Path, mapping: Mapping, forms: Iterable[str],
                layout: RawLayout | None = None) -> tuple[Forms, list[Finding]]:
    """Read the study's forms from an export folder (manifest verified first when present).

    The mapping's `recode` and `numbers` are applied to what was read (readers/layout.py, both
    transports). Returns Forms keyed by form name, in the order given, and non-fatal findings. Raises
    InputError with every fatal finding (errors first), ConfigError when the mapping or
    layout lacks a form the study lists.
    """
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        raise InputError(Finding(rule="READ-NO-FOLDER", severity="error",
                                 message=f"export folder {raw_dir} does not exist or is not a folder"))
    layout = layout or load_raw_layout()
    names = list(dict.fromkeys(forms))
    for name in names:
        if name not in layout.forms:
            raise ConfigError(f"form {name!r} is not in the reference layout (specs/raw-forms.yaml)")
        if name not in mapping.forms:
            raise ConfigError(f"{mapping.source or mapping.name}: forms.{name} is missing from the mapping")

    findings = verify_manifest(raw_dir)
    if errors(findings):
        raise InputError(errors_first(findings))

    columns = {name: layout.columns(name) for name in names}
    if detect_transport(raw_dir, mapping) == "odm":
        ignored = sorted({mapping.forms[n].file for n in names if (raw_dir / mapping.forms[n].file).is_file()})
        if ignored:
            findings.append(Finding(rule="READ-TRANSPORT", severity="notice", file=mapping.odm.file,
                                    message=f"reading ODM {mapping.odm.file}; form CSV files {ignored} are ignored"))
        try:
            result, odm_findings = read_odm(raw_dir / mapping.odm.file, mapping, columns, mapping.odm.file)
        except InputError as exc:
            raise InputError(errors_first(findings + exc.findings)) from None
        findings += odm_findings + required_rows(result, mapping, names)
        if not errors(findings):
            findings += apply_layout(result, mapping)
        if errors(findings):
            raise InputError(errors_first(findings))
        return result, findings

    # Source columns each file feeds, so a file shared by several forms reports no false extras.
    used_by_file: dict[str, set[str]] = {}
    for name in names:
        source = mapping.forms[name]
        used_by_file.setdefault(source.file, set()).update(source.rename.get(c, c) for c in columns[name]
                                                           if c not in source.absent)

    result: Forms = {}
    read: list[str] = []  # forms whose file was read without error
    present = {p.name.lower(): p.name for p in raw_dir.iterdir()}
    for name in names:
        source = mapping.forms[name]
        path = raw_dir / source.file
        if not path.is_file():
            near = present.get(Path(source.file).name.lower())
            findings.append(Finding(
                rule="READ-MISSING-FILE", severity="error" if source.required else "notice",
                dataset=name, file=source.file,
                message=(f"file for form {name} is missing" if source.required
                         else f"optional form {name} not sent: read as empty")
                        + (f" (the folder has {near!r}: file names are case sensitive)" if near else "")))
            result[name] = empty_form(name, source.file, columns[name])
            continue
        try:
            result[name], found = read_form_csv(path, name, source, columns[name], mapping.encoding,
                                                source.file, other_columns=used_by_file[source.file],
                                                optional=layout.forms[name].optional)
            findings.extend(found)
            read.append(name)
        except InputError as exc:
            findings.extend(exc.findings)
        except OSError as exc:
            findings.append(Finding(rule="READ-IO", severity="error", dataset=name, file=source.file,
                                    message=f"cannot read file: {exc.strerror or exc}"))
    findings += required_rows(result, mapping, read)
    if not errors(findings):
        findings += apply_layout(result, mapping)
    if errors(findings):
        raise InputError(errors_first(findings))
    return result, findings


def required_rows(forms: Forms, mapping: Mapping, names: Iterable[str]) -> list[Finding]:
    """The one check, for both transports, that a required form received rows: a required form
    read as empty (a CSV with a header only, no ItemGroupData for its FormOID in ODM) is an
    error, as a missing file is; an optional form (`required: false`) may be empty."""
    out = []
    for name in names:
        source, form = mapping.forms[name], forms[name]
        if len(form) or not source.required:
            continue
        if form.file == source.file:
            what = "the file has a header row but no records"
        else:
            what = f"the ODM file has no ItemGroupData in a FormData with FormOID {mapping.odm.form_oid_of(name, source)!r}"
        out.append(Finding(rule="READ-NO-ROWS", severity="error", dataset=name, file=form.file,
                           message=f"{what}: form {name} is required by the study and cannot be read as "
                                   "'nothing collected' (mark it `required: false` in the mapping if it may be empty)"))
    return out


"""Checks of the submission metadata: define.xml (XSD + consistency with the XPT files) and Dataset-JSON.

Rule ids (Finding.rule), all severity error unless noted:
  DEFINE-MISSING              an output folder with XPT files has no define.xml
  DEFINE-XML                  define.xml is not well-formed XML
  DEFINE-XSD                  a Define-XML 2.1 schema error (one finding per error, source line in `row`)
  DEFINE-REF                  an OID reference that resolves to nothing: ItemRef -> ItemDef, CodeListRef ->
                              CodeList, MethodOID -> MethodDef, CommentOID -> def:CommentDef,
                              ValueListRef -> def:ValueListDef, WhereClauseRef -> def:WhereClauseDef,
                              def:ItemOID of a where clause -> ItemDef, ArchiveLocationID -> def:leaf
  DEFINE-DATASET-MISSING      an XPT file whose dataset has no ItemGroupDef
  DEFINE-DATASET-EXTRA        an ItemGroupDef whose XPT file (def:leaf) is not in the folder
  DEFINE-VARIABLE-MISSING     an XPT variable the dataset's ItemGroupDef does not list
  DEFINE-VARIABLE-EXTRA       a variable the define lists that the XPT file does not have
  DEFINE-ORDER                variables listed in another order than the XPT file's (warning)
  DEFINE-LABEL                dataset or variable label differs from the XPT label
  DEFINE-TYPE                 DataType does not fit the XPT type (Char: text or ISO 8601 types; Num: integer/float)
  DEFINE-LENGTH               Length differs from the XPT storage length
  DEFINE-FORMAT               DisplayFormat differs from the XPT format
  DATASET-JSON-READ           a .json file is not readable JSON
  DATASET-JSON-SCHEMA         Dataset-JSON 1.1 schema error
  DATASET-JSON-ROWS           records differs from the number of rows, or a row has the wrong number of values
  DATASET-JSON-DEFINE         itemGroupOID / itemOID / name / label / dataType disagrees with define.xml
  DATASET-JSON-XPT            the dataset's variables or record count differ from its XPT file
The Define-XML 2.1 schema (and the ARM 1.0 schema, for a define with analysis results metadata) ship
in the defineutils package; every schema import resolves to a local file (no network).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from lxml import etree

from sdtm_lupus.findings import Finding

ODM = "{http://www.cdisc.org/ns/odm/v1.3}"
DEF = "{http://www.cdisc.org/ns/def/v2.1}"
ARM_NS = "http://www.cdisc.org/ns/arm/v1.0"
XLINK = "{http://www.w3.org/1999/xlink}"
MAX_XSD_FINDINGS = 50
SCHEMA_ROWS = 100
ISO_TYPES = {"date", "datetime", "time", "partialDate", "partialTime", "partialDatetime", "durationDatetime",
             "intervalDatetime", "incompleteDatetime", "incompleteDate", "incompleteTime"}
CHAR_TYPES = {"text", "string", "URI", *ISO_TYPES}
NUM_TYPES = {"integer", "float", "double"}


def _schema_root() -> Path:
    """defineutils' schema folder, found without importing the package (it imports xmlschema)."""
    import importlib.util

    spec = importlib.util.find_spec("defineutils")
    if spec is None or not spec.origin:
        raise RuntimeError("the defineutils package (Define-XML 2.1 schemas) is not installed")
    return Path(spec.origin).resolve().parent / "validate" / "schema"


@cache
def define_schema(arm: bool = False) -> etree.XMLSchema:
    """The Define-XML 2.1 schema (with the ARM 1.0 extension when `arm`), imports resolved locally."""
    path = _schema_root() / ("cdisc-arm-1.0/arm1-0-0.xsd" if arm else "cdisc-define-2.1/define2-1-0.xsd")
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    return etree.XMLSchema(etree.parse(str(path), parser))


def _f(rule: str, message: str, file: str, *, dataset: str | None = None, variable: str | None = None,
       row: int | None = None, severity: str = "error", value: str | None = None) -> Finding:
    return Finding(rule=rule, severity=severity, message=message, dataset=dataset, variable=variable, file=file,
                   row=row, value=value)


# ---------------------------------------------------------------- define.xml

@dataclass
class ParsedDefine:
    """What the consistency checks need from a define.xml."""
    doc: etree._ElementTree
    groups: dict[str, etree._Element]          # dataset name -> ItemGroupDef
    items: dict[str, etree._Element]           # OID -> ItemDef

    def group_items(self, name: str) -> list[etree._Element]:
        """The ItemDefs of a dataset in OrderNumber order (missing ItemDefs skipped)."""
        refs = sorted(self.groups[name].findall(f"{ODM}ItemRef"), key=lambda r: int(r.get("OrderNumber") or 0))
        return [self.items[r.get("ItemOID")] for r in refs if r.get("ItemOID") in self.items]


def _text(node: etree._Element | None) -> str | None:
    if node is None:
        return None
    translated = node.find(f"{ODM}Description/{ODM}TranslatedText")
    return translated.text if translated is not None else None


def parse_define(path: Path) -> ParsedDefine:
    doc = etree.parse(str(path), etree.XMLParser(no_network=True, resolve_entities=False, huge_tree=True))
    root = doc.getroot()
    return ParsedDefine(doc, {g.get("Name"): g for g in root.iter(f"{ODM}ItemGroupDef")},
                        {i.get("OID"): i for i in root.iter(f"{ODM}ItemDef")})


def check_define_xsd(doc: etree._ElementTree, file: str) -> list[Finding]:
    uses_arm = ARM_NS in (doc.getroot().nsmap or {}).values() or any(
        (el.tag if isinstance(el.tag, str) else "").startswith("{" + ARM_NS) for el in doc.getroot().iter())
    schema = define_schema(arm=uses_arm)
    if schema.validate(doc):
        return []
    errors = list(schema.error_log)
    out = [_f("DEFINE-XSD", f"Define-XML 2.1 schema{' (with ARM 1.0)' if uses_arm else ''}: {e.message}", file,
              row=e.line) for e in errors[:MAX_XSD_FINDINGS]]
    if len(errors) > MAX_XSD_FINDINGS:
        out.append(_f("DEFINE-XSD", f"{len(errors) - MAX_XSD_FINDINGS} more schema errors", file))
    return out


def check_define_references(parsed: ParsedDefine, file: str) -> list[Finding]:
    root = parsed.doc.getroot()

    def oids(tag: str, attr: str = "OID") -> set[str]:
        return {el.get(attr) for el in root.iter(tag)}

    targets = {
        "ItemOID": oids(f"{ODM}ItemDef"), "CodeListOID": oids(f"{ODM}CodeList"), "MethodOID": oids(f"{ODM}MethodDef"),
        f"{DEF}CommentOID": oids(f"{DEF}CommentDef"), "ValueListOID": oids(f"{DEF}ValueListDef"),
        "WhereClauseOID": oids(f"{DEF}WhereClauseDef"), f"{DEF}ItemOID": oids(f"{ODM}ItemDef"),
        f"{DEF}ArchiveLocationID": oids(f"{DEF}leaf", "ID"), "leafID": oids(f"{DEF}leaf", "ID"),
        f"{DEF}StandardOID": oids(f"{DEF}Standard"),
    }
    out = []
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        for attr, known in targets.items():
            value = el.get(attr)
            if value is not None and value not in known and not (attr == "ItemOID" and el.tag == f"{ODM}ItemDef"):
                where = el.tag.split("}")[-1]
                out.append(_f("DEFINE-REF", f"{where} {attr.split('}')[-1]}={value!r} resolves to no definition",
                              file, row=el.sourceline, value=value))
    return out


def _xpt_metadata(path: Path) -> dict:
    import pyreadstat

    _, meta = pyreadstat.read_xport(str(path), metadataonly=True)
    formats = {n: (f if "." in f else f + ".") for n, f in meta.original_variable_types.items() if f}
    return {"name": meta.table_name, "label": meta.file_label or "", "columns": list(meta.column_names),
            "labels": dict(zip(meta.column_names, [lab or "" for lab in meta.column_labels])),
            "lengths": dict(meta.variable_storage_width), "formats": formats,
            "types": {n: "Char" if t == "string" else "Num" for n, t in meta.readstat_variable_types.items()}}


def check_define_against_xpt(parsed: ParsedDefine, folder: Path, file: str) -> list[Finding]:
    out: list[Finding] = []
    xpts = {}
    for path in sorted(folder.glob("*.xpt")):
        meta = _xpt_metadata(path)
        xpts[meta["name"]] = (path, meta)
    for name, group in parsed.groups.items():
        leaf = group.find(f"{DEF}leaf")
        href = leaf.get(f"{XLINK}href") if leaf is not None else f"{name.lower()}.xpt"
        if name not in xpts:
            exists = (folder / href).exists()
            out.append(_f("DEFINE-DATASET-EXTRA", f"dataset {name} is in the define but {href} is "
                          f"{'another dataset' if exists else 'not in ' + folder.name + '/'}", file, dataset=name))
        elif xpts[name][0].name != href:
            out.append(_f("DEFINE-REF", f"def:leaf of {name} points to {href}, the file is {xpts[name][0].name}",
                          file, dataset=name))
    for name, (path, meta) in xpts.items():
        if name not in parsed.groups:
            out.append(_f("DEFINE-DATASET-MISSING", f"{path.name} (dataset {name}) has no ItemGroupDef in the define",
                          file, dataset=name))
            continue
        out += _compare_dataset(parsed, name, meta, file)
    return out


def _compare_dataset(parsed: ParsedDefine, name: str, meta: dict, file: str) -> list[Finding]:
    out = []
    label = _text(parsed.groups[name])
    if label != meta["label"]:
        out.append(_f("DEFINE-LABEL", f"dataset label {label!r} in the define, {meta['label']!r} in the XPT file",
                      file, dataset=name))
    items = parsed.group_items(name)
    listed = [i.get("Name") for i in items]
    for var in meta["columns"]:
        if var not in listed:
            out.append(_f("DEFINE-VARIABLE-MISSING", f"{name}.{var} is in the XPT file but not in the define",
                          file, dataset=name, variable=var))
    for var in listed:
        if var not in meta["columns"]:
            out.append(_f("DEFINE-VARIABLE-EXTRA", f"{name}.{var} is in the define but not in the XPT file",
                          file, dataset=name, variable=var))
    common = [v for v in listed if v in meta["columns"]]
    if common != [v for v in meta["columns"] if v in listed]:
        out.append(_f("DEFINE-ORDER", f"{name}: the define lists the variables in another order than the XPT file",
                      file, dataset=name, severity="warning"))
    for item in items:
        var = item.get("Name")
        if var not in meta["columns"]:
            continue
        out += _compare_variable(name, var, item, meta, file)
    return out


def _compare_variable(name: str, var: str, item: etree._Element, meta: dict, file: str) -> list[Finding]:
    out = []
    label, xpt_label = _text(item), meta["labels"][var]
    if label != xpt_label:
        out.append(_f("DEFINE-LABEL", f"label {label!r} in the define, {xpt_label!r} in the XPT file", file,
                      dataset=name, variable=var))
    data_type, xpt_type = item.get("DataType"), meta["types"][var]
    if data_type not in (CHAR_TYPES if xpt_type == "Char" else NUM_TYPES):
        out.append(_f("DEFINE-TYPE", f"DataType {data_type!r} does not fit the XPT {xpt_type} variable", file,
                      dataset=name, variable=var, value=data_type))
    length, width = item.get("Length"), meta["lengths"].get(var)
    if length is not None and width is not None and int(length) != int(width):
        out.append(_f("DEFINE-LENGTH", f"Length {length} in the define, {width} in the XPT file", file,
                      dataset=name, variable=var, value=length))
    elif length is None and data_type in ("text", "integer", "float"):
        out.append(_f("DEFINE-LENGTH", f"no Length for DataType {data_type} (XPT length {width})", file,
                      dataset=name, variable=var))
    shown, xpt_format = item.get(f"{DEF}DisplayFormat"), meta["formats"].get(var)
    if (shown or None) != (xpt_format or None) and xpt_type == "Num":
        out.append(_f("DEFINE-FORMAT", f"DisplayFormat {shown!r} in the define, format {xpt_format!r} in the XPT file",
                      file, dataset=name, variable=var))
    return out


def check_define(path: Path, xpt_folder: Path | None = None, *, label: str | None = None) -> list[Finding]:
    """All findings of one define.xml; with `xpt_folder`, also its agreement with the XPT files there."""
    path = Path(path)
    file = label or path.name
    try:
        parsed = parse_define(path)
    except (OSError, etree.XMLSyntaxError) as exc:
        return [_f("DEFINE-XML", f"not a readable XML file: {exc}", file)]
    out = check_define_xsd(parsed.doc, file) + check_define_references(parsed, file)
    if xpt_folder is not None:
        out += check_define_against_xpt(parsed, Path(xpt_folder), file)
    return out


# ---------------------------------------------------------------- Dataset-JSON

@cache
def _json_validator():
    import jsonschema

    from sdtm_lupus.write.dataset_json import load_schema

    schema = load_schema()
    return jsonschema.validators.validator_for(schema)(schema)


def _xpt_columns_and_records(path: Path) -> tuple[list[str], int]:
    import pyreadstat

    _, meta = pyreadstat.read_xport(str(path), metadataonly=True)
    columns = list(meta.column_names)
    frame, _ = pyreadstat.read_xport(str(path), usecols=columns[:1])
    return columns, len(frame)


def check_dataset_json(path: Path, parsed: ParsedDefine | None = None, xpt: Path | None = None, *,
                       label: str | None = None) -> list[Finding]:
    path = Path(path)
    file = label or path.name
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return [_f("DATASET-JSON-READ", f"not a readable JSON file: {exc}", file)]
    # The schema asks of a row only that it is an array: rows past the first SCHEMA_ROWS are checked
    # below (length, value types), not by jsonschema (which costs ~50 us per row).
    head = {**doc, "rows": doc["rows"][:SCHEMA_ROWS]} if isinstance(doc, dict) and isinstance(doc.get("rows"), list) \
        else doc
    out = [_f("DATASET-JSON-SCHEMA", f"Dataset-JSON 1.1 schema: {e.message[:300]} at /{'/'.join(map(str, e.path))}",
              file) for e in list(_json_validator().iter_errors(head))[:MAX_XSD_FINDINGS]]
    if out or not isinstance(doc, dict):
        return out
    name, columns, rows = doc.get("name"), doc.get("columns", []), doc.get("rows") or []
    if doc.get("records") != len(rows):
        out.append(_f("DATASET-JSON-ROWS", f"records {doc.get('records')} but {len(rows)} rows", file, dataset=name))
    bad = [i for i, row in enumerate(rows) if not isinstance(row, list) or len(row) != len(columns)]
    if bad:
        out.append(_f("DATASET-JSON-ROWS", f"{len(bad)} row(s) do not have {len(columns)} values (first: row {bad[0]})",
                      file, dataset=name))
    if not bad:
        out += _json_value_types(columns, rows, file, name)
    if parsed is not None:
        out += _json_vs_define(doc, parsed, file)
    if xpt is not None and xpt.exists():
        xcols, records = _xpt_columns_and_records(xpt)
        names = [c.get("name") for c in columns]
        if names != xcols:
            out.append(_f("DATASET-JSON-XPT", f"variables {names} differ from {xpt.name}: {xcols}", file, dataset=name))
        if len(rows) != records:
            out.append(_f("DATASET-JSON-XPT", f"{len(rows)} rows, {xpt.name} has {records} records", file,
                          dataset=name))
    elif xpt is not None:
        out.append(_f("DATASET-JSON-XPT", f"no XPT file {xpt.name} beside the JSON file", file, dataset=name,
                      severity="warning"))
    return out


JSON_TYPES = {"string": (str,), "integer": (int,), "float": (int, float), "double": (int, float),
              "decimal": (str, int, float), "boolean": (bool,), "date": (str,), "datetime": (str,), "time": (str,),
              "URI": (str,)}


def _json_value_types(columns: list[dict], rows: list[list], file: str, name: str | None) -> list[Finding]:
    """Every non-null value has the JSON type of its column's dataType (booleans are not integers)."""
    out = []
    for column, values in zip(columns, zip(*rows) if rows else [() for _ in columns]):
        allowed = JSON_TYPES.get(column.get("dataType"), (str, int, float, bool))
        kinds = set(map(type, values)) - {type(None)}
        wrong = sorted(k.__name__ for k in kinds if not issubclass(k, allowed) or (k is bool and bool not in allowed))
        if wrong:
            out.append(_f("DATASET-JSON-ROWS", f"column {column.get('name')} ({column.get('dataType')}) holds "
                          f"{', '.join(wrong)} values", file, dataset=name, variable=column.get("name")))
    return out


def _json_vs_define(doc: dict, parsed: ParsedDefine, file: str) -> list[Finding]:
    name = doc.get("name")
    group = next((g for g in parsed.groups.values() if g.get("OID") == doc.get("itemGroupOID")), None)
    if group is None:
        return [_f("DATASET-JSON-DEFINE", f"itemGroupOID {doc.get('itemGroupOID')!r} is not in define.xml", file,
                   dataset=name)]
    out = []
    if group.get("Name") != name:
        out.append(_f("DATASET-JSON-DEFINE", f"name {name!r}, the define's ItemGroupDef is {group.get('Name')!r}",
                      file, dataset=name))
    refs = [r.get("ItemOID") for r in sorted(group.findall(f"{ODM}ItemRef"), key=lambda r: int(r.get("OrderNumber")))]
    oids = [c.get("itemOID") for c in doc.get("columns", [])]
    if oids != refs:
        out.append(_f("DATASET-JSON-DEFINE", "itemOIDs differ from the define's ItemRefs of "
                      f"{group.get('Name')}: {sorted(set(oids) ^ set(refs)) or 'order'}", file, dataset=name))
    expected = {"text": "string", "integer": "integer", "float": "float", "date": "date", "datetime": "datetime"}
    for column in doc.get("columns", []):
        item = parsed.items.get(column.get("itemOID"))
        if item is None:
            continue
        var = column.get("name")
        if item.get("Name") != var or _text(item) != column.get("label"):
            out.append(_f("DATASET-JSON-DEFINE", f"column {var!r} ({column.get('label')!r}) differs from ItemDef "
                          f"{item.get('Name')!r} ({_text(item)!r})", file, dataset=name, variable=var))
        want = "date" if item.get(f"{DEF}DisplayFormat") else expected.get(item.get("DataType"), "string")
        if column.get("dataType") != want:
            out.append(_f("DATASET-JSON-DEFINE", f"dataType {column.get('dataType')!r}, the define's DataType "
                          f"{item.get('DataType')!r} gives {want!r}", file, dataset=name, variable=var))
        if column.get("length") is not None and item.get("Length") is not None and \
                int(column["length"]) != int(item.get("Length")):
            out.append(_f("DATASET-JSON-DEFINE", f"length {column['length']}, define Length {item.get('Length')}",
                          file, dataset=name, variable=var))
    return out


# ---------------------------------------------------------------- an output folder

def check_output_folder(folder: Path, label: str, *, json_files: bool = True) -> list[Finding]:
    """define.xml of one output folder (OUT/sdtm or OUT/adam) against its XPT files, and (json_files) its
    Dataset-JSON files."""
    out: list[Finding] = []
    folder = Path(folder)
    define = folder / "define.xml"
    parsed = None
    if define.exists():
        found = check_define(define, folder, label=f"{label}/define.xml")
        out += found
        if not any(f.rule == "DEFINE-XML" for f in found):
            parsed = parse_define(define)
    elif any(folder.glob("*.xpt")):
        out.append(_f("DEFINE-MISSING", f"{label}/ has XPT files but no define.xml", f"{label}/", severity="warning"))
    for path in sorted(folder.glob("*.json")) if json_files else []:
        out += check_dataset_json(path, parsed, folder / f"{path.stem}.xpt", label=f"{label}/{path.name}")
    return out


def check_output_metadata(out_dir: Path) -> list[Finding]:
    """check_output_folder for OUT/sdtm and OUT/adam."""
    out: list[Finding] = []
    for name in ("sdtm", "adam"):
        if (Path(out_dir) / name).is_dir():
            out += check_output_folder(Path(out_dir) / name, name)
    return out

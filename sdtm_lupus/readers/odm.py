"""CDISC ODM 1.3 transport (export.xml): ClinicalData/SubjectData/StudyEventData/FormData/
ItemGroupData/ItemData, one ItemGroupData = one row, ROW = its source line.

Parsed incrementally (iterparse, processed subjects are freed) with a parser that loads no
DTD, resolves no entities and opens no network; a document that declares a DOCTYPE is refused.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from sdtm_lupus.config.mapping import COMMON_COLUMNS, Mapping
from sdtm_lupus.findings import Finding, InputError
from sdtm_lupus.readers.form_csv import build_form
from sdtm_lupus.readers.forms import Forms

NS = "{http://www.cdisc.org/ns/odm/v1.3}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
PROLOG_BYTES = 65536
MAX_PROLOG = 1 << 24  # beyond this the parser-level DOCTYPE check still applies
_PROLOG_TOKEN = re.compile(r"\s*(<\?.*?\?>|<!--.*?-->|<!(?:DOCTYPE|ENTITY)|<(?=[A-Za-z_:]))", re.S | re.I)
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


@dataclass
class _Target:
    """One reference form fed by a FormOID: item map and column buffers."""
    name: str
    columns: list[str]
    items: dict[str, str]                       # ItemOID -> reference column
    values: dict[str, list[str]] = field(default_factory=dict)
    rows: list[int] = field(default_factory=list)
    sources: list[tuple[str, str | None]] = field(default_factory=list)  # (column, ItemOID or None: common)

    def __post_init__(self) -> None:
        self.values = {col: [] for col in self.columns}
        oid_of = {col: oid for oid, col in self.items.items()}
        self.sources = [(col, oid_of.get(col)) for col in self.columns]


def read_odm(path: Path, mapping: Mapping, forms: dict[str, list[str]],
             file_label: str) -> tuple[Forms, list[Finding]]:
    """Read the forms named in `forms` (name -> common + reference columns) from one ODM file.

    Returns Forms (every requested form, possibly empty) and non-fatal findings; raises
    InputError with every fatal finding.
    """
    odm = mapping.odm

    def finding(rule: str, message: str, severity: str = "error", **where) -> Finding:
        return Finding(rule=rule, severity=severity, message=message, file=file_label, **where)

    _refuse_doctype(Path(path), finding)
    targets: dict[str, list[_Target]] = {}
    for name, columns in forms.items():
        source = mapping.forms[name]
        form_oid = source.odm_form or name.upper()
        items = {source.odm_items.get(col) or f"{form_oid}.{source.rename.get(col, col)}": col
                 for col in columns if col not in COMMON_COLUMNS}
        targets.setdefault(form_oid, []).append(_Target(name, columns, items))
    known_items = {oid for ts in targets.values() for t in ts for oid in t.items}

    fatal: list[Finding] = []
    findings: list[Finding] = []
    item_codelist: dict[str, str] = {}           # ItemOID -> CodeListOID
    codelists: dict[str, dict[str, str]] = {}    # CodeListOID -> coded value -> decode
    unknown_items: dict[str, int] = {}           # ItemOID -> first line
    unknown_forms: dict[str, list[int]] = {}     # FormOID -> [first line, item groups]
    unmapped: dict[tuple[str, str], int] = {}    # (kind, OID) -> first line
    duplicates: dict[str, int] = {}
    bad_codes: set[tuple[str, str]] = set()
    bad_subjects: set[int] = set()
    form_el = None
    context: tuple[list[_Target], dict[str, str]] = ([], {})

    def common_values(form_el: etree._Element) -> dict[str, str]:
        event = form_el.getparent()
        subject = event.getparent() if event is not None else None
        clinical = subject.getparent() if subject is not None else None
        if clinical is None or clinical.tag != NS + "ClinicalData":
            fatal.append(finding("ODM-STRUCTURE", "FormData is not inside ClinicalData/SubjectData/"
                                 "StudyEventData", row=form_el.sourceline))
            return {}
        subjid = subject.get(odm.subject_key_attribute or "SubjectKey")
        if subjid is None and subject.sourceline not in bad_subjects:
            bad_subjects.add(subject.sourceline)
            fatal.append(finding("ODM-SUBJECT-KEY", f"SubjectData (SubjectKey {subject.get('SubjectKey')!r}) "
                                 f"has no attribute {odm.subject_key_attribute or 'SubjectKey'}",
                                 row=subject.sourceline))
        site_ref = subject.find(NS + "SiteRef")
        location = site_ref.get("LocationOID", "") if site_ref is not None else ""
        event_oid = event.get("StudyEventOID", "")
        return {
            "STUDYID": clinical.get("StudyOID", ""),
            "SITEID": _through(odm.site_ids, location, "SiteRef/@LocationOID", site_ref, unmapped),
            "SUBJID": subjid or "",
            "FOLDER": "" if event_oid == odm.common_event
            else _through(odm.event_folders, event_oid, "StudyEventOID", event, unmapped),
        }

    def item_group(group: etree._Element) -> None:
        nonlocal form_el, context
        parent = group.getparent()
        if parent is None or parent.tag != NS + "FormData":
            return  # e.g. ReferenceData item groups: not site data
        if parent is not form_el:
            form_el = parent
            form_oid = parent.get("FormOID", "")
            if form_oid not in targets:
                unknown_forms.setdefault(form_oid, [parent.sourceline, 0])
            context = (targets.get(form_oid, []), common_values(parent))
        form_targets, common = context
        if not form_targets:
            unknown_forms[form_el.get("FormOID", "")][1] += 1
            return
        row: dict[str, str] = {}
        for item in group:
            tag = item.tag
            if not isinstance(tag, str) or not tag.startswith(NS + "ItemData"):
                continue  # comments, annotations, audit records
            oid = item.get("ItemOID", "")
            value = item.get("Value", "") if tag == NS + "ItemData" else (item.text or "")
            if oid not in known_items:
                unknown_items.setdefault(oid, item.sourceline)
            elif oid in row:
                duplicates.setdefault(oid, item.sourceline)
            else:
                row[oid] = value
        for target in form_targets:
            for col, oid in target.sources:
                target.values[col].append(row.get(oid, "") if oid else common.get(col, ""))
            target.rows.append(group.sourceline)

    def metadata(mdv: etree._Element) -> None:
        for item_def in mdv.iterfind(NS + "ItemDef"):
            ref = item_def.find(NS + "CodeListRef")
            if ref is not None:
                item_codelist.setdefault(item_def.get("OID", ""), ref.get("CodeListOID", ""))
        for codelist in mdv.iterfind(NS + "CodeList"):
            decodes = {cli.get("CodedValue", ""): _decode_text(cli) for cli in codelist.iterfind(NS + "CodeListItem")}
            codelists.setdefault(codelist.get("OID", ""), decodes)

    checked = False
    parse = etree.iterparse(
        str(path), events=("end",), tag=(NS + "ItemGroupData", NS + "SubjectData", NS + "MetaDataVersion"),
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False)
    try:
        for _, el in parse:
            if not checked:
                _check_document(el, finding)
                checked = True
            if el.tag == NS + "ItemGroupData":
                item_group(el)
                el.clear()
            elif el.tag == NS + "MetaDataVersion":
                metadata(el)
                el.clear()
            else:  # SubjectData done: free it and earlier siblings
                el.clear()
                while el.getprevious() is not None:
                    del el.getparent()[0]
        if not checked:
            _check_document(parse.root, finding)
    except etree.XMLSyntaxError as exc:
        raise InputError(fatal + [finding("ODM-PARSE", f"malformed XML: {exc.msg}", row=exc.lineno)]) from None

    # Decode coded values through the MetaDataVersion code lists (EDC exports).
    if odm.decode_codelists:
        for target in (t for ts in targets.values() for t in ts):
            for oid, col in target.items.items():
                decodes = codelists.get(item_codelist.get(oid, ""))
                if decodes is None:
                    continue
                values = target.values[col]
                for i, value in enumerate(values):
                    if value in decodes:
                        values[i] = decodes[value]
                    elif value and (oid, value) not in bad_codes:
                        bad_codes.add((oid, value))
                        findings.append(finding(
                            "ODM-CODELIST-VALUE", severity="warning", dataset=target.name, variable=col,
                            row=target.rows[i], value=value,
                            message=f"value {value!r} of {oid} is not in code list {item_codelist[oid]}: "
                                    "carried as is"))

    for (kind, oid), line in unmapped.items():
        table = "site_ids" if kind.startswith("Site") else "event_folders"
        findings.append(finding("ODM-UNMAPPED-OID", severity="warning", row=line, value=oid,
                                message=f"{kind} {oid!r} is not in the mapping's odm.{table}: carried as is"))
    for oid, line in unknown_items.items():
        findings.append(finding("ODM-UNKNOWN-ITEM", severity="warning", row=line, value=oid,
                                message=f"ItemOID {oid!r} maps to no reference column: its data is not carried over"))
    for oid, line in duplicates.items():
        findings.append(finding("ODM-DUPLICATE-ITEM", severity="warning", row=line, value=oid,
                                message=f"ItemOID {oid!r} appears twice in one ItemGroupData: the first value is kept"))
    for oid, (line, groups) in unknown_forms.items():
        findings.append(finding("ODM-UNKNOWN-FORM", severity="notice", row=line, value=oid,
                                message=f"FormOID {oid!r} is not a form this study reads: "
                                        f"{groups} item group(s) not carried over"))
    for target in (t for ts in targets.values() for t in ts):
        if not target.rows:
            required = mapping.forms[target.name].required
            findings.append(finding("ODM-EMPTY-FORM", severity="warning" if required else "notice",
                                    dataset=target.name, message=f"no data for form {target.name}: read as empty"))
    if fatal:
        raise InputError(fatal + findings)

    by_name = {t.name: t for ts in targets.values() for t in ts}
    return {name: build_form(name, file_label, cols, by_name[name].values, by_name[name].rows)
            for name, cols in forms.items()}, findings


def _through(table: dict[str, str], oid: str, kind: str, el, unmapped: dict) -> str:
    """Map an OID through a mapping table; an unmapped OID (when a table is given) is noted."""
    if not table or not oid:
        return oid
    if oid not in table:
        unmapped.setdefault((kind, oid), el.sourceline)
    return table.get(oid, oid)


def _decode_text(item: etree._Element) -> str:
    """CodeListItem/Decode/TranslatedText: English (or unlabelled) first, else the first."""
    texts = item.findall(f"{NS}Decode/{NS}TranslatedText")
    if not texts:
        return item.get("CodedValue", "")
    best = next((t for t in texts if t.get(XML_LANG, "en").lower().startswith("en")), texts[0])
    return best.text or ""


def _refuse_doctype(path: Path, finding) -> None:
    """Refuse a DOCTYPE/ENTITY in the prolog before the parser sees it: scan past the XML
    declaration, comments and processing instructions up to the root element."""
    with path.open("rb") as fh:
        raw = fh.read(PROLOG_BYTES)
        codec = next((c for bom, c in _BOMS if raw.startswith(bom)), "utf-8-sig")
        while True:
            text, pos = raw.decode(codec, errors="ignore"), 0  # tokens are ASCII: lossy is fine
            while token := _PROLOG_TOKEN.match(text, pos):
                if token.group(1).startswith(("<?", "<!--")):
                    pos = token.end()
                elif token.group(1).startswith("<!"):
                    line = text.count("\n", 0, token.start(1)) + 1
                    raise InputError(finding("ODM-DTD", "the document declares a DOCTYPE/ENTITY: refused "
                                             "(ODM exports need none; entities are never expanded)", row=line))
                else:
                    return  # root element reached
            more = fh.read(len(raw))  # incomplete token: read on, doubling
            if not more or len(raw) > MAX_PROLOG:
                return  # the parser-level check still applies
            raw += more


def _check_document(el: etree._Element, finding) -> None:
    tree = el.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise InputError(finding("ODM-DTD", "the document declares a DOCTYPE: refused", row=1))
    root = tree.getroot()
    if root.tag != NS + "ODM":
        raise InputError(finding("ODM-PARSE", f"root element is {root.tag}, not ODM 1.3 "
                                 f"({NS[1:-1]})", row=root.sourceline))

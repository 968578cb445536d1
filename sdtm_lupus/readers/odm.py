"""CDISC ODM 1.3 transport (export.xml): ClinicalData/SubjectData/StudyEventData/FormData/
ItemGroupData/ItemData, one ItemGroupData = one row, ROW = its source line.

Parsed incrementally (a pull parser fed in chunks; every element is freed when it ends, no
reference to a processed element is kept, so reading time is linear in the file size) with a
parser that loads no DTD, resolves no entities and opens no network; a document that declares
a DOCTYPE, or uses XInclude, is refused. The encoding is checked against the bytes and source
lines are counted by the reader itself (odm_stream), never taken from libxml2.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from sdtm_lupus.config.mapping import Mapping
from sdtm_lupus.findings import Finding, InputError
from sdtm_lupus.readers.form_csv import build_form
from sdtm_lupus.readers.forms import Forms
from sdtm_lupus.readers.odm_stream import StartTagLines, utf8_chunks

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
    InputError with every fatal finding. Every ItemData lands in a row or in an error finding:
    a FormOID or ItemOID the mapping does not know, a repeated ItemOID in one item group, item
    data outside ClinicalData/SubjectData/StudyEventData/FormData/ItemGroupData are errors.
    Whether a required form received rows is checked by readers.export (both transports).
    """
    odm = mapping.odm

    def finding(rule: str, message: str, severity: str = "error", **where) -> Finding:
        return Finding(rule=rule, severity=severity, message=message, file=file_label, **where)

    _refuse_doctype(Path(path), finding)
    targets: dict[str, list[_Target]] = {}
    for name, columns in forms.items():
        source = mapping.forms[name]
        form_oid = odm.form_oid_of(name, source)
        targets.setdefault(form_oid, []).append(_Target(name, columns, odm.item_oids(name, source, columns)))
    form_items = {oid: {item for t in ts for item in t.items} for oid, ts in targets.items()}

    state = _State(odm, targets, form_items, finding)
    lines = StartTagLines()
    parser = etree.XMLPullParser(
        events=("start", "end"), resolve_entities=False, no_network=True, load_dtd=False,
        dtd_validation=False, huge_tree=False, remove_comments=True, remove_pis=True)
    try:
        for chunk in utf8_chunks(Path(path), finding):
            lines.feed(chunk)
            parser.feed(chunk)
            state.events(parser.read_events(), lines.lines)
        parser.close()
        state.events(parser.read_events(), lines.lines)
    except etree.XMLSyntaxError as exc:
        message = _LIBXML_WHERE.sub("", exc.msg or str(exc)).strip()
        line = exc.lineno or None
        if "limit" in message.lower():  # libxml2 names where it gave up; the culprit starts at the last tag
            message += " (a text or attribute value beyond 10 MB, or elements nested deeper than 256 levels)"
            line = lines.last or line
        if not Path(path).stat().st_size:
            message, line = "the file is empty (0 bytes): no ODM document", None
        raise InputError(state.fatal + [finding("ODM-PARSE", f"malformed XML: {message}", row=line)]) from None
    fatal, findings = state.fatal, state.findings

    # Decode coded values through the MetaDataVersion code lists (EDC exports).
    if odm.decode_codelists:
        bad_codes: set[tuple[str, str]] = set()
        for target in (t for ts in targets.values() for t in ts):
            for oid, col in target.items.items():
                decodes = state.codelists.get(state.item_codelist.get(oid, ""))
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
                            message=f"value {value!r} of {oid} is not in code list {state.item_codelist[oid]}: "
                                    "carried as is"))

    if state.undeclared:
        prefix, (line, count) = next(iter(state.undeclared.items()))
        attribute = odm.subject_key_attribute
        fatal.append(finding("ODM-SUBJECT-KEY", row=line, value=attribute, variable="SUBJID",
                             message=f"the prefix {prefix!r} of odm.subject_key_attribute {attribute!r} is not declared "
                                     f"in the file where SubjectData is ({count} SubjectData, first on this line): declare "
                                     f"xmlns:{prefix}=\"...\" in the export, or write the attribute with the prefix the "
                                     "file uses or in Clark notation {namespace-uri}name"))
    for (kind, oid), line in state.unmapped.items():
        table = "site_ids" if kind.startswith("Site") else "event_folders"
        findings.append(finding("ODM-UNMAPPED-OID", severity="warning", row=line, value=oid,
                                message=f"{kind} {oid!r} is not in the mapping's odm.{table}: carried as is"))
    for (form_oid, oid), (line, count) in state.unknown_items.items():
        fatal.append(finding("ODM-UNKNOWN-ITEM", row=line, value=oid, variable=oid,
                             message=f"ItemOID {oid!r} in form {form_oid} maps to no reference column of the mapping "
                                     f"({count} value(s), first on this line): its data would be lost; "
                                     "fix the mapping (odm_items / rename) or the export"))
    for (form_oid, oid), (line, count) in state.duplicates.items():
        fatal.append(finding("ODM-DUPLICATE-ITEM", row=line, value=oid, variable=oid,
                             message=f"ItemOID {oid!r} appears more than once in one ItemGroupData of form {form_oid} "
                                     f"({count} time(s), first repeat on this line): only one value can be kept"))
    for oid, (line, groups, items) in state.unknown_forms.items():
        fatal.append(finding("ODM-UNKNOWN-FORM", row=line, value=oid, variable=oid,
                             message=f"FormOID {oid!r} is not a form of the mapping ({groups} item group(s), "
                                     f"{items} ItemData, first on this line): its data would be lost; "
                                     "map it with forms.<form>.odm_form"))
    for target in (t for ts in targets.values() for t in ts):
        if not target.rows and not mapping.forms[target.name].required:
            findings.append(finding("ODM-EMPTY-FORM", severity="notice", dataset=target.name,
                                    message=f"no data for optional form {target.name}: read as empty"))
    if fatal:
        raise InputError(fatal + findings)

    by_name = {t.name: t for ts in targets.values() for t in ts}
    for name, target in by_name.items():        # forms.<form>.absent: the stated default, as in CSV
        for col, default in mapping.forms[name].absent.items():
            if col in target.values:
                target.values[col] = [default] * len(target.rows)
    return {name: build_form(name, file_label, cols, by_name[name].values, by_name[name].rows)
            for name, cols in forms.items()}, findings


_ITEM_DATA = NS + "ItemData"
_LIBXML_WHERE = re.compile(r"[\s,]*line \d+, column \d+\s*$")
_XINCLUDE = ("{http://www.w3.org/2001/XInclude}", "{http://www.w3.org/2003/XInclude}")


class _State:
    """What the event loop knows: plain values taken from start tags, never a processed element."""

    def __init__(self, odm, targets: dict[str, list[_Target]], form_items: dict[str, set[str]], finding) -> None:
        self.odm, self.targets, self.form_items, self.finding = odm, targets, form_items, finding
        self.fatal: list[Finding] = []
        self.findings: list[Finding] = []
        self.item_codelist: dict[str, str] = {}          # ItemOID -> CodeListOID
        self.codelists: dict[str, dict[str, str]] = {}   # CodeListOID -> coded value -> decode
        self.unknown_items: dict[tuple[str, str], list[int]] = {}   # (FormOID, ItemOID) -> [first line, count]
        self.duplicates: dict[tuple[str, str], list[int]] = {}
        self.unknown_forms: dict[str, list[int]] = {}     # FormOID -> [first line, item groups, items]
        self.unmapped: dict[tuple[str, str], int] = {}    # (kind, OID) -> first line
        self.structure: dict[str, int] = {}               # message -> first line
        self.started = False
        self.path: list[str] = []                         # tags of the open elements
        self.lines: list[int] = []                        # their start lines
        self.study_oid = ""                               # current Study/@OID
        self.study_names: dict[str, str] = {}             # Study/@OID -> GlobalVariables/StudyName
        self.undeclared: dict[str, list[int]] = {}        # undeclared prefix of the subject key -> [first line, count]
        key = odm.subject_key_attribute or "SubjectKey"
        prefix, colon, local = key.partition(":") if not key.startswith("{") else ("", "", key)
        self.key_prefix, self.key_local = (prefix, local) if colon else ("", key)
        self.versions: set[str] = set()                   # declared MetaDataVersion OIDs
        self.clinical: tuple[str, str] | None = None      # (StudyOID, MetaDataVersionOID) of the first block
        self.study_id = ""
        self.subject: dict[str, object] = {}
        self.site = ("", 0)
        self.event = ("", 0)
        self.form_oid = ""
        self.form_targets: list[_Target] = []
        self.form_items_now: set[str] = set()
        self.common: dict[str, str] = {}
        self.row: dict[str, str] | None = None
        self.row_line = 0

    def error(self, rule: str, message: str, line: int, **where) -> None:
        self.fatal.append(self.finding(rule, message, row=line, **where))

    def events(self, events, lines) -> None:
        path, open_lines, popleft = self.path, self.lines, lines.popleft
        item_tag, group_tag = _ITEM_DATA, NS + "ItemGroupData"
        for event, el in events:
            tag = el.tag
            if event == "start":
                path.append(tag)
                open_lines.append(popleft())
                if tag != item_tag:  # ItemData is read when it ends
                    self.start(el, tag, open_lines[-1])
                continue
            path.pop()
            line = open_lines.pop()
            if tag == item_tag:  # the common case, inline: a known item, first in its group
                row = self.row
                if row is not None and path[-1] == group_tag:
                    oid = el.get("ItemOID", "")
                    if oid in self.form_items_now and oid not in row:
                        row[oid] = el.get("Value", "")
                        continue
                self.item(el, tag, line)
                continue
            if isinstance(tag, str) and tag.startswith(item_tag):  # ItemDataString, ItemDataInteger, ...
                self.item(el, tag, line)
                continue
            if tag == group_tag:
                self.end_group()
            elif tag == NS + "MetaDataVersion":
                self.metadata(el)
            elif tag == NS + "StudyName" and path == [NS + "ODM", NS + "Study", NS + "GlobalVariables"]:
                self.study_names.setdefault(self.study_oid, (el.text or "").strip())
                continue
            elif len(path) >= 2 and path[1] == NS + "Study":
                continue  # metadata is read when its MetaDataVersion ends
            # Free the element and the siblings before it: nothing refers to them any more.
            el.clear(keep_tail=False)
            parent = el.getparent()
            if parent is not None:
                while el.getprevious() is not None:
                    del parent[0]

    def start(self, el, tag: str, line: int) -> None:
        if not self.started:
            self.started = True
            _check_document(el, self.finding, line)
        if not isinstance(tag, str) or tag.startswith(_ITEM_DATA):
            return
        if tag.startswith(_XINCLUDE):
            raise InputError(self.fatal + [self.finding(
                "ODM-XINCLUDE", "the document uses XInclude: refused (ODM exports need none; nothing is included)",
                row=line)])
        parent = self.path[-2] if len(self.path) >= 2 else None
        if tag == NS + "Study":
            self.study_oid = el.get("OID", "")
        elif tag == NS + "MetaDataVersion":
            self.versions.add(el.get("OID", ""))
        elif tag == NS + "ClinicalData":
            self.clinical_block(el, line)
        elif tag == NS + "SubjectData":
            subjid = self.subject_key(el, line)
            self.subject = {"SUBJID": subjid or "", "line": line}
            self.site = ("", line)
        elif tag == NS + "SiteRef" and parent == NS + "SubjectData":
            self.site = (el.get("LocationOID", ""), line)
        elif tag == NS + "StudyEventData":
            self.event = (el.get("StudyEventOID", ""), line)
        elif tag == NS + "FormData":
            self.start_form(el, line)
        elif tag == NS + "ItemGroupData":
            self.row, self.row_line = None, line
            if self.path[:-1] != [NS + "ODM", NS + "ClinicalData", NS + "SubjectData", NS + "StudyEventData",
                                  NS + "FormData"]:
                self.structure_error("ItemGroupData is not inside ODM/ClinicalData/SubjectData/StudyEventData/"
                                     "FormData: its data would not be carried over", line)
            elif self.form_targets:
                self.row = {}
            else:
                self.unknown_forms[self.form_oid][1] += 1

    def subject_key(self, el, line: int) -> str | None:
        """SUBJID from SubjectData: SubjectKey or odm.subject_key_attribute, a PREFIX:name resolved through
        the namespace declarations in scope (an undeclared prefix is noted once, with its first line)."""
        key = self.key_local
        if self.key_prefix:
            uri = el.nsmap.get(self.key_prefix) if self.key_prefix != "xml" else XML_LANG[1:XML_LANG.index("}")]
            if uri is None:
                self.undeclared.setdefault(self.key_prefix, [line, 0])[1] += 1
                return None
            key = f"{{{uri}}}{key}"
        subjid = el.get(key)
        if subjid is None:
            self.error("ODM-SUBJECT-KEY", f"SubjectData (SubjectKey {el.get('SubjectKey')!r}) has no attribute "
                       f"{self.odm.subject_key_attribute or key}", line)
        return subjid

    def studyid(self, study_oid: str, line: int) -> str:
        """STUDYID of the ClinicalData block (odm.studyid): a constant, its StudyOID or the StudyName of
        that Study, through odm.studyid.map when one is given."""
        spec = self.odm.studyid
        if spec.source == "value":
            return spec.value or ""
        read = study_oid
        if spec.source == "study_name":
            if study_oid not in self.study_names:
                named = sorted(k for k in self.study_names) or "none"
                self.error("ODM-STUDYID", f"odm.studyid is taken from Study/GlobalVariables/StudyName, but no Study with "
                           f"OID {study_oid!r} (the StudyOID of ClinicalData) and a StudyName precedes the clinical "
                           f"data (Studies with a StudyName: {named})", line, value=study_oid)
                return ""
            read = self.study_names[study_oid]
            if not read:
                self.error("ODM-STUDYID", f"Study {study_oid!r} has an empty GlobalVariables/StudyName: no STUDYID "
                           "(odm.studyid from: study_name)", line, value=study_oid)
                return ""
        if not spec.map:
            return read
        if read not in spec.map:
            what = "StudyOID" if spec.source == "study_oid" else "StudyName"
            self.error("ODM-STUDYID", f"{what} {read!r} is not in odm.studyid.map (mapped: {sorted(spec.map)}): "
                       "the export may be of another study", line, value=read)
            return read
        return spec.map[read]

    def structure_error(self, message: str, line: int) -> None:
        if message not in self.structure:
            self.structure[message] = line
            self.error("ODM-STRUCTURE", message, line)

    def clinical_block(self, el, line: int) -> None:
        study, version = el.get("StudyOID", ""), el.get("MetaDataVersionOID", "")
        if self.versions and version not in self.versions:
            self.error("ODM-METADATA-VERSION", f"ClinicalData (StudyOID {study!r}) refers to MetaDataVersionOID "
                       f"{version!r}, which the document does not declare (declared: {sorted(self.versions)}): "
                       "refused rather than merged", line, value=version)
        if self.clinical is None:
            self.clinical = (study, version)
            self.study_id = self.studyid(study, line)
            return
        first_study, first_version = self.clinical
        if study != first_study:
            self.error("ODM-STUDY-OID", f"a second ClinicalData block has StudyOID {study!r}, the first has "
                       f"{first_study!r}: one export holds one study; refused rather than merged", line, value=study)
        elif not self.versions and version != first_version:
            self.error("ODM-METADATA-VERSION", f"a second ClinicalData block has MetaDataVersionOID {version!r}, the "
                       f"first has {first_version!r} and the document declares none: refused rather than merged",
                       line, value=version)

    def start_form(self, el, line: int) -> None:
        self.form_oid = oid = el.get("FormOID", "")
        self.form_targets = self.targets.get(oid, [])
        self.form_items_now = self.form_items.get(oid, set())
        if self.path[:-1] != [NS + "ODM", NS + "ClinicalData", NS + "SubjectData", NS + "StudyEventData"]:
            self.form_targets = []
            self.structure_error("FormData is not inside ODM/ClinicalData/SubjectData/StudyEventData: "
                                 "its data would not be carried over", line)
            self.unknown_forms.pop(oid, None)
            return
        if not self.form_targets:
            self.unknown_forms.setdefault(oid, [line, 0, 0])
            return
        odm = self.odm
        location, site_line = self.site
        event_oid, event_line = self.event
        self.common = {
            "STUDYID": self.study_id,
            "SITEID": self.through(odm.site_ids, location, "SiteRef/@LocationOID", site_line),
            "SUBJID": self.subject.get("SUBJID", ""),
            "FOLDER": "" if event_oid == odm.common_event
            else self.through(odm.event_folders, event_oid, "StudyEventOID", event_line),
        }

    def through(self, table: dict[str, str], oid: str, kind: str, line: int) -> str:
        """Map an OID through a mapping table; an unmapped OID (when a table is given) is noted."""
        if not table or not oid:
            return oid
        if oid not in table:
            self.unmapped.setdefault((kind, oid), line)
        return table.get(oid, oid)

    def item(self, el, tag: str, line: int) -> None:
        if len(self.path) < 1 or self.path[-1] != NS + "ItemGroupData":
            self.structure_error(f"{tag[len(NS):] if tag.startswith(NS) else tag} is not inside an ItemGroupData: "
                                 "its data would not be carried over", line)
            return
        if self.row is None:
            if self.form_oid in self.unknown_forms:
                self.unknown_forms[self.form_oid][2] += 1
            return  # counted with its unknown form, or its item group is a structure error
        oid = el.get("ItemOID", "")
        if oid not in self.form_items_now:
            self.unknown_items.setdefault((self.form_oid, oid), [line, 0])[1] += 1
        elif oid in self.row:
            self.duplicates.setdefault((self.form_oid, oid), [line, 0])[1] += 1
        else:
            self.row[oid] = el.get("Value", "") if tag == _ITEM_DATA else (el.text or "")

    def end_group(self) -> None:
        row = self.row
        if row is None:
            return
        common = self.common
        for target in self.form_targets:
            for col, oid in target.sources:
                target.values[col].append(row.get(oid, "") if oid else common.get(col, ""))
            target.rows.append(self.row_line)
        self.row = None

    def metadata(self, mdv: etree._Element) -> None:
        for item_def in mdv.iterfind(NS + "ItemDef"):
            ref = item_def.find(NS + "CodeListRef")
            if ref is not None:
                self.item_codelist.setdefault(item_def.get("OID", ""), ref.get("CodeListOID", ""))
        for codelist in mdv.iterfind(NS + "CodeList"):
            decodes = {cli.get("CodedValue", ""): _decode_text(cli) for cli in codelist.iterfind(NS + "CodeListItem")}
            self.codelists.setdefault(codelist.get("OID", ""), decodes)


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


def _check_document(el: etree._Element, finding, line: int) -> None:
    """At the root element's start tag: no DTD, root is ODM 1.3."""
    tree = el.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise InputError(finding("ODM-DTD", "the document declares a DOCTYPE: refused", row=1))
    if el.tag != NS + "ODM":
        raise InputError(finding("ODM-PARSE", f"root element is {el.tag}, not ODM 1.3 "
                                 f"({NS[1:-1]})", row=line))

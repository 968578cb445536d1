"""Define-XML 2.1 for the SDTM and the ADaM output of a run, with the CDISC stylesheet and its HTML rendition.

write_define(folder, meta) writes folder/define.xml (from a DefineMeta, see define_model.py),
folder/define2-1.xsl (the CDISC stylesheet, MIT licence, Lex Jansen) and folder/define.html
(define.xml rendered with that stylesheet by lxml). Deterministic: the same metadata gives the
same bytes; the ODM CreationDateTime is the study's `define_created` or a fixed constant.
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from sdtm_lupus import __version__
from sdtm_lupus.write import background
from sdtm_lupus.write.define_model import CodeListMeta, DatasetMeta, DefineMeta, ItemMeta, TextDef

ODM_NS = "http://www.cdisc.org/ns/odm/v1.3"
DEF_NS = "http://www.cdisc.org/ns/def/v2.1"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_NS = "http://www.w3.org/XML/1998/namespace"
NSMAP = {None: ODM_NS, "def": DEF_NS, "xlink": XLINK_NS}
ASSETS = Path(__file__).resolve().parent / "assets"
STYLESHEET = ASSETS / "define2-1.xsl"
DEFINE_FILE, HTML_FILE = "define.xml", "define.html"


def _q(tag: str) -> str:
    prefix, _, local = tag.rpartition(":")
    return f"{{{DEF_NS if prefix == 'def' else XLINK_NS if prefix == 'xlink' else ODM_NS}}}{local}"


def _el(parent, tag: str, attrs: dict | None = None, text: str | None = None):
    node = etree.SubElement(parent, _q(tag))
    for key, value in (attrs or {}).items():
        if value is not None:
            node.set(_q(key) if ":" in key else key, str(value))
    if text is not None:
        node.text = text
    return node


def _description(parent, text: str, tag: str = "Description") -> None:
    node = _el(parent, tag)
    translated = _el(node, "TranslatedText", text=text)
    translated.set(f"{{{XML_NS}}}lang", "en")


def _yes_no(flag: bool) -> str:
    return "Yes" if flag else "No"


def build_define(meta: DefineMeta) -> etree._ElementTree:
    root = etree.Element(_q("ODM"), nsmap=NSMAP)
    for key, value in (("ODMVersion", "1.3.2"), ("FileType", "Snapshot"), ("FileOID", meta.file_oid),
                       ("CreationDateTime", meta.created), ("Originator", "sdtm-lupus"),
                       ("SourceSystem", "sdtm-lupus"), ("SourceSystemVersion", __version__)):
        root.set(key, value)
    root.set(_q("def:Context"), "Submission")
    study = _el(root, "Study", {"OID": meta.study_oid})
    glob = _el(study, "GlobalVariables")
    _el(glob, "StudyName", text=meta.study_name)
    _el(glob, "StudyDescription", text=meta.study_description)
    _el(glob, "ProtocolName", text=meta.study_name)
    mdv = _el(study, "MetaDataVersion", {"OID": meta.mdv_oid, "Name": meta.mdv_name,
                                         "def:DefineVersion": "2.1.0", "def:CommentOID": meta.mdv_comment})
    standards = _el(mdv, "def:Standards")
    for std in meta.standards:
        _el(standards, "def:Standard", {"OID": std.oid, "Name": std.name, "Type": std.type,
                                        "PublishingSet": std.publishing_set, "Version": std.version,
                                        "Status": "Final"})
    for ds in meta.datasets:
        for vl in ds.value_lists:
            node = _el(mdv, "def:ValueListDef", {"OID": vl.oid})
            for item, where in vl.items:
                ref = _el(node, "ItemRef", {"ItemOID": item.oid, "OrderNumber": item.order,
                                            "Mandatory": _yes_no(item.mandatory), "MethodOID": item.method})
                _el(ref, "def:WhereClauseRef", {"WhereClauseOID": where.oid})
    seen = set()
    for ds in meta.datasets:
        for vl in ds.value_lists:
            for _, where in vl.items:
                if where.oid in seen:
                    continue
                seen.add(where.oid)
                node = _el(mdv, "def:WhereClauseDef", {"OID": where.oid})
                check = _el(node, "RangeCheck", {"Comparator": "EQ", "SoftHard": "Soft", "def:ItemOID": where.item_oid})
                _el(check, "CheckValue", text=where.value)
    for ds in meta.datasets:
        _item_group(mdv, ds, meta)
    for ds in meta.datasets:
        for item in ds.items:
            _item_def(mdv, item)
        for vl in ds.value_lists:
            for item, _ in vl.items:
                _item_def(mdv, item)
    for codelist in meta.codelists:
        _codelist(mdv, codelist, meta.ct_standard)
    for method in meta.methods:
        _method(mdv, method)
    for comment in meta.comments:
        node = _el(mdv, "def:CommentDef", {"OID": comment.oid})
        _description(node, comment.text)
    return etree.ElementTree(root)


def _item_group(mdv, ds: DatasetMeta, meta: DefineMeta) -> None:
    node = _el(mdv, "ItemGroupDef", {
        "OID": ds.oid, "Name": ds.name, "Domain": ds.domain, "Repeating": _yes_no(ds.repeating),
        "IsReferenceData": _yes_no(ds.reference), "SASDatasetName": ds.name, "Purpose": ds.purpose,
        "def:Structure": ds.structure, "def:StandardOID": meta.ig_standard, "def:ArchiveLocationID": ds.leaf,
        "def:CommentOID": ds.comment})
    _description(node, ds.label)
    for item in ds.items:
        _el(node, "ItemRef", {"ItemOID": item.oid, "OrderNumber": item.order, "Mandatory": _yes_no(item.mandatory),
                              "KeySequence": item.key_sequence, "MethodOID": item.method, "Role": item.role})
    if ds.domain_description:
        _el(node, "Alias", {"Context": "DomainDescription", "Name": ds.domain_description})
    _el(node, "def:Class", {"Name": ds.class_})
    leaf = _el(node, "def:leaf", {"ID": ds.leaf, "xlink:href": ds.file})
    _el(leaf, "def:title", text=ds.file)


def _item_def(mdv, item: ItemMeta) -> None:
    node = _el(mdv, "ItemDef", {
        "OID": item.oid, "Name": item.name, "DataType": item.data_type, "Length": item.length,
        "SignificantDigits": item.significant_digits, "SASFieldName": item.name,
        "def:DisplayFormat": item.display_format, "def:CommentOID": item.comment})
    _description(node, item.label)
    if item.codelist:
        _el(node, "CodeListRef", {"CodeListOID": item.codelist})
    if item.origin:
        origin = _el(node, "def:Origin", {"Type": item.origin.type, "Source": item.origin.source})
        if item.origin.text:
            _description(origin, item.origin.text)
    if item.value_list:
        _el(node, "def:ValueListRef", {"ValueListOID": item.value_list})


def _codelist(mdv, codelist: CodeListMeta, ct_standard: str) -> None:
    standard = codelist.code is not None
    node = _el(mdv, "CodeList", {"OID": codelist.oid, "Name": codelist.name, "DataType": codelist.data_type,
                                 "def:StandardOID": ct_standard if standard else None,
                                 "def:IsNonStandard": None if standard else "Yes"})
    for order, term in enumerate(codelist.terms, start=1):
        attrs = {"CodedValue": term.value, "OrderNumber": order, "def:ExtendedValue": "Yes" if term.extended else None}
        if codelist.decoded:
            item = _el(node, "CodeListItem", attrs)
            _description(item, term.decode, tag="Decode")
        else:
            item = _el(node, "EnumeratedItem", attrs)
        if term.code:
            _el(item, "Alias", {"Context": "nci:ExtCodeID", "Name": term.code})
    if codelist.code:
        _el(node, "Alias", {"Context": "nci:ExtCodeID", "Name": codelist.code})


def _method(mdv, method: TextDef) -> None:
    node = _el(mdv, "MethodDef", {"OID": method.oid, "Name": method.name, "Type": method.type})
    _description(node, method.text)


def define_bytes(meta: DefineMeta) -> bytes:
    tree = build_define(meta)
    body = etree.tostring(tree, encoding="UTF-8", xml_declaration=False, pretty_print=True)
    head = b'<?xml version="1.0" encoding="UTF-8"?>\n<?xml-stylesheet type="text/xsl" href="define2-1.xsl"?>\n'
    return head + body


@__import__("functools").cache
def _transform() -> etree.XSLT:
    return etree.XSLT(etree.parse(str(STYLESHEET)))


def render_html(define_xml: bytes) -> bytes:
    """define.xml rendered with the CDISC stylesheet (define2-1.xsl) by lxml."""
    doc = etree.fromstring(define_xml, etree.XMLParser(no_network=True, resolve_entities=False))
    return bytes(_transform()(doc))


def write_define(folder: Path, meta: DefineMeta) -> dict[str, str]:
    """define.xml, define2-1.xsl and define.html in `folder`; returns kind -> file name."""
    folder.mkdir(parents=True, exist_ok=True)
    data = define_bytes(meta)
    (folder / DEFINE_FILE).write_bytes(data)
    (folder / STYLESHEET.name).write_bytes(STYLESHEET.read_bytes())
    background.later(lambda: (folder / HTML_FILE).write_bytes(render_html(data)))   # read by no check
    return {"define": DEFINE_FILE, "stylesheet": STYLESHEET.name, "html": HTML_FILE}

"""Test helper (no tests here): rewrite a reference ODM export (`sdtm-lupus simulate --transport odm`)
in the style of an OpenClinica 3.x ODM 1.3 export, the layout of mappings/examples/edc-openclinica.yaml.

- Study/@OID and ClinicalData/@StudyOID S_<digits of the protocol id> (S_515719); the protocol id only in
  GlobalVariables/StudyName;
- SubjectKey an internal id (SS_0001, ...), the subject number in OpenClinica:StudySubjectID (namespace
  declared on the root with that prefix);
- StudyEventOIDs SE_<FOLDER without spaces> (COMMON -> SE_LOGS), FormOIDs F_<FORM> (disp -> F_ENDOFSTUDY),
  ItemGroupOIDs IG_<FORM>_1, ItemOIDs I_<FORM>_<COLUMN> (ENROL.HEIGHT_CM -> I_ENROL_HEIGHT,
  AE.MEDDRA_VER -> I_AE_MEDDRA), LocationOIDs S_SITE<site>;
- coded values for CODED items, with CodeLists (and CodeListRefs) in MetaDataVersion;
- dates in ISO 8601, partial dates truncated (UN-MAR-2021 -> 2021-03, UN-UNK-1985 -> 1985, UN-UNK-UNKN -> empty);
- empty values omitted (no ItemData); no manifest.json.
"""

from __future__ import annotations

import re
from pathlib import Path

from lxml import etree

from sdtm_lupus.specs import load_raw_layout

ODM_URI = "http://www.cdisc.org/ns/odm/v1.3"
OC_URI = "http://www.openclinica.org/ns/odm_ext_v130/v3.1"
NS = "{" + ODM_URI + "}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
COMMON_EVENT = "SE_LOGS"
FORM_OIDS = {"DISP": "F_ENDOFSTUDY"}
ITEM_OIDS = {"ENROL.HEIGHT_CM": "I_ENROL_HEIGHT", "AE.MEDDRA_VER": "I_AE_MEDDRA"}
_YES_NO = {"1": "Yes", "0": "No"}
CODED = {  # reference ItemOID -> (CodeListOID, coded value -> reference wording)
    "ENROL.SEX": ("CL_SEX", {"1": "Female", "2": "Male"}),
    "AE.AEREL": ("CL_AEREL", {"1": "Not related", "2": "Unlikely related", "3": "Possibly related",
                              "4": "Probably related", "5": "Related"}),
    "AE.AESER": ("CL_NY", _YES_NO),
    "AE.AESHOSP": ("CL_NY", _YES_NO),
    "AE.AESLE": ("CL_NY", _YES_NO),
    "FLARE.FLARE": ("CL_FLARE", {"0": "None", "1": "Mild/Moderate", "2": "Severe"}),
}
_MONTHS = {m: i for i, m in enumerate(("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV",
                                       "DEC"), 1)}
_DATE = re.compile(r"^(\d{2}|UN)-([A-Z]{3})-(\d{4}|UNKN)$")


def iso_date(text: str) -> str:
    """DD-MMM-YYYY (UN/UNK/UNKN for unknown parts) -> ISO 8601, truncated when partial."""
    match = _DATE.match(text)
    if not match:
        raise ValueError(f"not a reference date: {text!r}")
    day, month, year = match.groups()
    if year == "UNKN":
        return ""
    if month == "UNK":
        if day != "UN":
            raise ValueError(f"day without month cannot be written in ISO 8601: {text!r}")
        return year
    iso = f"{year}-{_MONTHS[month]:02d}"
    return iso if day == "UN" else f"{iso}-{day}"


def event_oid(folder: str) -> str:
    return COMMON_EVENT if folder == "COMMON" else "SE_" + re.sub(r"[^A-Z0-9]", "", folder.upper())


def form_oid(oid: str) -> str:
    return FORM_OIDS.get(oid, f"F_{oid}")


def item_oid(oid: str) -> str:
    form, _, column = oid.partition(".")
    return ITEM_OIDS.get(oid, f"I_{form}_{column}")


def study_oid(studyid: str) -> str:
    return "S_" + "".join(c for c in studyid if c.isdigit())[-6:] if any(c.isdigit() for c in studyid) else "S_" + studyid


def to_openclinica(reference_odm_path: Path, out_path: Path) -> dict[str, int]:
    """Write the OpenClinica-style document; returns counts (subjects, coded values, ISO dates, dropped items)."""
    layout = load_raw_layout()
    dates = {f"{f.upper()}.{c}" for f, spec in layout.forms.items() for c, kind in spec.columns.items()
             if kind in ("date", "fulldate")}
    encode = {oid: {text: code for code, text in decodes.items()} for oid, (_, decodes) in CODED.items()}
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)
    old_root = etree.parse(str(reference_odm_path), parser).getroot()
    root = etree.Element(NS + "ODM", nsmap={None: ODM_URI, "OpenClinica": OC_URI})
    for key, value in old_root.attrib.items():
        root.set(key, value)
    root.set("SourceSystem", "OpenClinica")
    root.text = old_root.text
    for child in list(old_root):
        root.append(child)
    counts = {"subjects": 0, "coded": 0, "dates": 0, "dropped": 0}

    study = root.find(NS + "Study")
    studyid = study.findtext(f"{NS}GlobalVariables/{NS}StudyName")
    new_study = study_oid(studyid)
    study.set("OID", new_study)
    study.find(f"{NS}GlobalVariables/{NS}ProtocolName").text = f"{studyid} (OpenClinica)"
    mdv = study.find(NS + "MetaDataVersion")
    for el in mdv.iter(NS + "StudyEventRef", NS + "StudyEventDef"):
        attr = "StudyEventOID" if el.tag == NS + "StudyEventRef" else "OID"
        el.set(attr, event_oid(el.get(attr)))
    for el in mdv.iter(NS + "FormRef", NS + "FormDef"):
        attr = "FormOID" if el.tag == NS + "FormRef" else "OID"
        el.set(attr, form_oid(el.get(attr)))
    for el in mdv.iter(NS + "ItemGroupRef", NS + "ItemGroupDef"):
        attr = "ItemGroupOID" if el.tag == NS + "ItemGroupRef" else "OID"
        el.set(attr, f"IG_{el.get(attr)}_1")
    for el in mdv.iter(NS + "ItemRef"):
        el.set("ItemOID", item_oid(el.get("ItemOID")))
    for el in mdv.iter(NS + "ItemDef"):
        ref = el.get("OID")
        el.set("OID", item_oid(ref))
        if ref in CODED:
            el.set("DataType", "integer")
            etree.SubElement(el, NS + "CodeListRef", CodeListOID=CODED[ref][0])
    written: set[str] = set()
    for codelist, decodes in CODED.values():
        if codelist in written:
            continue
        written.add(codelist)
        cl = etree.SubElement(mdv, NS + "CodeList", OID=codelist, Name=codelist[3:], DataType="integer")
        for code, text in decodes.items():
            item = etree.SubElement(cl, NS + "CodeListItem", CodedValue=code)
            etree.SubElement(etree.SubElement(item, NS + "Decode"), NS + "TranslatedText",
                             {XML_LANG: "en"}).text = text
    for loc in root.iter(NS + "Location"):
        loc.set("OID", f"S_SITE{loc.get('OID')}")
    for ref in root.iter(NS + "MetaDataVersionRef"):
        ref.set("StudyOID", new_study)

    clinical = root.find(NS + "ClinicalData")
    clinical.set("StudyOID", new_study)
    for number, subject in enumerate(clinical.iterfind(NS + "SubjectData"), 1):
        counts["subjects"] += 1
        subjid = subject.get("SubjectKey")
        subject.attrib.clear()
        subject.set("SubjectKey", f"SS_{number:04d}")
        subject.set(f"{{{OC_URI}}}StudySubjectID", subjid)
        subject.set(f"{{{OC_URI}}}Status", "available")
        for site in subject.iterfind(NS + "SiteRef"):
            site.set("LocationOID", f"S_SITE{site.get('LocationOID')}")
        for event in subject.iterfind(NS + "StudyEventData"):
            event.set("StudyEventOID", event_oid(event.get("StudyEventOID")))
            for form in event.iterfind(NS + "FormData"):
                form.set("FormOID", form_oid(form.get("FormOID")))
                for group in form.iterfind(NS + "ItemGroupData"):
                    group.set("ItemGroupOID", f"IG_{group.get('ItemGroupOID')}_1")
                    for item in list(group.iterfind(NS + "ItemData")):
                        ref, value = item.get("ItemOID"), item.get("Value", "")
                        if ref in dates and value:
                            value = iso_date(value)
                            counts["dates"] += 1
                        if ref in encode and value:
                            if value not in encode[ref]:
                                raise ValueError(f"{ref} value {value!r} has no code in {CODED[ref][0]}")
                            value = encode[ref][value]
                            counts["coded"] += 1
                        if not value:
                            group.remove(item)
                            counts["dropped"] += 1
                            continue
                        item.set("ItemOID", item_oid(ref))
                        item.set("Value", value)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    etree.ElementTree(root).write(str(out_path), xml_declaration=True, encoding="UTF-8")
    return counts

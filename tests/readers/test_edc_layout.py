"""Mapping language v2, ODM side: studyid, OID patterns, prefixed vendor attributes, and the worked
EDC (OpenClinica 3.x style) example proven byte-identical to the reference layout."""

import re
from pathlib import Path

import pytest

from sdtm_lupus.config.loading import ConfigError
from sdtm_lupus.config.mapping import FormSource, Mapping, OdmLayout, load_mapping
from sdtm_lupus.findings import InputError
from sdtm_lupus.readers.forms import ROW
from sdtm_lupus.readers.odm import read_odm

COMMON = ["STUDYID", "SITEID", "SUBJID", "FOLDER"]
FORMS = {"pga": COMMON + ["ASSESSDAT", "PGA"], "ae": COMMON + ["AETERM", "AESER"]}
OC = "http://www.openclinica.org/ns/odm_ext_v130/v3.1"

EDC = f"""<?xml version="1.0" encoding="UTF-8"?>
<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3" xmlns:OpenClinica="{OC}" ODMVersion="1.3">
<Study OID="S_515719">
<GlobalVariables><StudyName>
  NCT04515719
</StudyName><StudyDescription>x</StudyDescription><ProtocolName>P</ProtocolName></GlobalVariables>
<MetaDataVersion OID="v1" Name="v1">
<ItemDef OID="I_AE_AESER" Name="AESER" DataType="text"><CodeListRef CodeListOID="CL_NY"/></ItemDef>
<CodeList OID="CL_NY" Name="NY" DataType="text">
<CodeListItem CodedValue="1"><Decode><TranslatedText>Yes</TranslatedText></Decode></CodeListItem>
<CodeListItem CodedValue="0"><Decode><TranslatedText>No</TranslatedText></Decode></CodeListItem>
</CodeList>
</MetaDataVersion></Study>
<ClinicalData StudyOID="S_515719" MetaDataVersionOID="v1">
<SubjectData SubjectKey="SS_0001" OpenClinica:StudySubjectID="01-0001">
<SiteRef LocationOID="S_SITE01"/>
<StudyEventData StudyEventOID="SE_COMMON">
<FormData FormOID="F_AE">
<ItemGroupData ItemGroupOID="IG_AE_1" ItemGroupRepeatKey="1">
<ItemData ItemOID="I_AE_AETERM" Value="Rash"/><ItemData ItemOID="I_AE_AESER" Value="1"/>
</ItemGroupData>
</FormData>
</StudyEventData>
<StudyEventData StudyEventOID="SE_WEEK4">
<FormData FormOID="F_PGA_V2">
<ItemGroupData ItemGroupOID="IG_PGA_1" ItemGroupRepeatKey="1">
<ItemData ItemOID="I_PGA_DATE" Value="2021-03-05"/><ItemData ItemOID="I_PGA_PGA" Value="1.5"/>
</ItemGroupData>
</FormData>
</StudyEventData>
</SubjectData>
</ClinicalData>
</ODM>
"""


def edc_mapping(**odm) -> Mapping:
    settings = dict(subject_key_attribute="OpenClinica:StudySubjectID", form_oid="F_{FORM}", item_oid="I_{FORM}_{COLUMN}",
                    common_event="SE_COMMON", event_folders={"SE_WEEK4": "WEEK 4"}, site_ids={"S_SITE01": "01"},
                    studyid={"from": "study_name"})
    return Mapping(name="edc", forms={
        "pga": FormSource(file="pga.csv", odm_form="F_PGA_V2", odm_items={"ASSESSDAT": "I_PGA_DATE"}),
        "ae": FormSource(file="ae.csv")}, odm=OdmLayout(**{**settings, **odm}))


def read(tmp_path, body, mapping):
    path = tmp_path / "export.xml"
    path.write_text(body, encoding="utf-8")
    return read_odm(path, mapping, FORMS, "export.xml")


def fatal(tmp_path, body, mapping) -> list:
    with pytest.raises(InputError) as exc:
        read(tmp_path, body, mapping)
    return exc.value.findings


# ---- studyid ---------------------------------------------------------------------------------

def test_studyid_from_study_name_patterns_exceptions_and_prefixed_attribute(tmp_path):
    forms, findings = read(tmp_path, EDC, edc_mapping())
    assert findings == []
    assert forms["ae"].data.drop(columns=ROW).values.tolist() == [["NCT04515719", "01", "01-0001", "", "Rash", "Yes"]]
    assert forms["pga"].data.drop(columns=ROW).values.tolist() == [
        ["NCT04515719", "01", "01-0001", "WEEK 4", "2021-03-05", "1.5"]]


@pytest.mark.parametrize("studyid, expected", [
    ({"value": "NCT04515719"}, "NCT04515719"),
    ({"from": "study_oid", "map": {"S_515719": "NCT04515719"}}, "NCT04515719"),
    ({"from": "study_oid"}, "S_515719"),
    ({}, "S_515719"),                              # default: today's behaviour
    ({"from": "study_name", "map": {"NCT04515719": "NCT-MAPPED"}}, "NCT-MAPPED"),
])
def test_studyid_three_ways(tmp_path, studyid, expected):
    forms, _ = read(tmp_path, EDC, edc_mapping(studyid=studyid))
    assert forms["ae"].data["STUDYID"].tolist() == [expected]
    assert forms["pga"].data["STUDYID"].tolist() == [expected]


def test_studyid_oid_missing_from_map_is_an_error(tmp_path):
    found = fatal(tmp_path, EDC, edc_mapping(studyid={"from": "study_oid", "map": {"S_999": "NCT0"}}))
    assert [(f.rule, f.row, f.value) for f in found] == [("ODM-STUDYID", 14, "S_515719")]
    assert "not in odm.studyid.map" in found[0].message and found[0].file == "export.xml"


def test_studyid_from_study_name_without_a_study_name_is_an_error(tmp_path):
    body = EDC.replace('<Study OID="S_515719">', '<Study OID="S_OTHER">')
    found = fatal(tmp_path, body, edc_mapping())
    assert [(f.rule, f.row) for f in found] == [("ODM-STUDYID", 14)]
    assert "S_OTHER" in found[0].message
    empty = fatal(tmp_path, EDC.replace("\n  NCT04515719\n", ""), edc_mapping())
    assert [(f.rule, f.row) for f in empty] == [("ODM-STUDYID", 12)] and "empty" in empty[0].message


@pytest.mark.parametrize("studyid, words", [
    ({"value": "X", "from": "study_oid"}, "either `value`"),
    ({"value": " "}, "`value` is empty"),
    ({"from": "protocol_name"}, "'study_oid' or 'study_name'"),
    ({"form": "study_oid"}, "Extra inputs"),
    ({"from_": "study_oid"}, "Extra inputs"),
])
def test_studyid_configuration_errors(tmp_path, studyid, words):
    with pytest.raises(ValueError, match=words):
        OdmLayout(studyid=studyid)


# ---- OID patterns ----------------------------------------------------------------------------

def test_patterns_with_exceptions_resolve_oids():
    odm = OdmLayout(form_oid="F_{FORM}", item_oid="I_{form}_{column}")
    pga = FormSource(file="pga.csv", odm_items={"PGA": "PGA_SCORE"}, rename={"ASSESSDAT": "VISDAT"})
    assert odm.form_oid_of("pga", pga) == "F_PGA"
    assert odm.form_oid_of("pga", pga.model_copy(update={"odm_form": "F_X"})) == "F_X"
    assert odm.item_oids("pga", pga, FORMS["pga"]) == {"I_pga_visdat": "ASSESSDAT", "PGA_SCORE": "PGA"}
    assert OdmLayout(item_oid="{FORMOID}_{COLUMN}").item_oids("pga", pga.model_copy(update={"odm_form": "F_X"}),
                                                              ["PGA", "ASSESSDAT"]) == {"PGA_SCORE": "PGA",
                                                                                        "F_X_VISDAT": "ASSESSDAT"}


def test_default_patterns_reproduce_the_reference_oids():
    odm, ae = OdmLayout(), FormSource(file="ae.csv")
    assert odm.form_oid_of("ae", ae) == "AE"
    assert odm.item_oids("ae", ae, FORMS["ae"]) == {"AE.AETERM": "AETERM", "AE.AESER": "AESER"}
    # the FormOID of an odm_form exception feeds the default item pattern, as before
    assert OdmLayout().item_oids("pga", FormSource(file="p.csv", odm_form="F_PGA", rename={"PGA": "SCORE"}),
                                 ["PGA"]) == {"F_PGA.SCORE": "PGA"}


def test_item_pattern_that_misses_an_item_is_an_error_naming_it(tmp_path):
    found = fatal(tmp_path, EDC, edc_mapping(item_oid="IT_{FORM}_{COLUMN}"))
    assert {(f.rule, f.value) for f in found} >= {("ODM-UNKNOWN-ITEM", "I_AE_AETERM"), ("ODM-UNKNOWN-ITEM", "I_PGA_PGA")}


@pytest.mark.parametrize("key, pattern, words", [
    ("item_oid", "I_{FORM}_{COL}", r"unknown placeholder \{COL\}.*did you mean.*allowed: \{FORM\}, \{form\}, "
                                   r"\{FORMOID\}, \{COLUMN\}, \{column\}"),
    ("form_oid", "F_{COLUMN}", r"unknown placeholder \{COLUMN\}.*allowed: \{FORM\}, \{form\}"),
    ("item_oid", "I_{FORM}", r"has none of \{COLUMN\}, \{column\}"),
    ("form_oid", "F_AE", r"has none of \{FORM\}, \{form\}"),
    ("item_oid", "I_{FORM}_{COLUMN", "not a valid pattern"),
    ("item_oid", "I_{FORM}_{COLUMN!r}", "takes no conversion or format"),
    ("form_oid", "F_{FORM:>8}", "takes no conversion or format"),
    ("item_oid", "I_{}_{COLUMN}", r"unknown placeholder \{\}"),
])
def test_pattern_errors(key, pattern, words):
    with pytest.raises(ValueError, match=words):
        OdmLayout(**{key: pattern})


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_unknown_placeholder_in_a_mapping_file_is_a_config_error_naming_file_line_and_key(tmp_path):
    path = write(tmp_path, "name: x\nforms: {}\nodm:\n  form_oid: F_{FORM}\n  item_oid: I_{FORM}_{ITEM}\n")
    with pytest.raises(ConfigError) as err:
        load_mapping(path)
    text = str(err.value)
    assert str(path) in text and "line 5: odm.item_oid" in text and "unknown placeholder {ITEM}" in text
    assert "{COLUMN}" in text


def test_studyid_error_in_a_mapping_file_names_the_key_path(tmp_path):
    path = write(tmp_path, "name: x\nforms: {}\nodm:\n  studyid: {from: study_oid, colour: red}\n")
    with pytest.raises(ConfigError, match=r"line 4: odm\.studyid\.colour: Extra inputs.*allowed: value, from, map\)$"):
        load_mapping(path)


def test_pattern_made_item_oid_clash_with_an_exception_is_a_config_error(tmp_path):
    path = write(tmp_path, "name: x\nforms:\n  pga: {file: pga.csv, odm_items: {ASSESSDAT: I_PGA_PGA}}\n"
                           "odm: {item_oid: 'I_{FORM}_{COLUMN}'}\n")
    with pytest.raises(ConfigError, match="ItemOID 'I_PGA_PGA' is already read as"):
        load_mapping(path)


# ---- prefixed vendor attributes ----------------------------------------------------------------

@pytest.mark.parametrize("attribute", ["OpenClinica:StudySubjectID", f"{{{OC}}}StudySubjectID"])
def test_vendor_attribute_by_declared_prefix_or_clark_name(tmp_path, attribute):
    forms, _ = read(tmp_path, EDC, edc_mapping(subject_key_attribute=attribute))
    assert forms["ae"].data["SUBJID"].tolist() == ["01-0001"]


def test_prefix_is_resolved_through_the_file_not_the_prefix_text(tmp_path):
    # the file binds another prefix to the namespace: the mapping's prefix must be the file's
    body = EDC.replace("xmlns:OpenClinica=", "xmlns:oc=").replace("OpenClinica:StudySubjectID=", "oc:StudySubjectID=")
    forms, _ = read(tmp_path, body, edc_mapping(subject_key_attribute="oc:StudySubjectID"))
    assert forms["ae"].data["SUBJID"].tolist() == ["01-0001"]
    # a prefix declared only on SubjectData is in scope there
    local = EDC.replace(f' xmlns:OpenClinica="{OC}"', "").replace(
        '<SubjectData SubjectKey="SS_0001"', f'<SubjectData xmlns:OpenClinica="{OC}" SubjectKey="SS_0001"')
    forms, _ = read(tmp_path, local, edc_mapping())
    assert forms["ae"].data["SUBJID"].tolist() == ["01-0001"]
    # the file's prefix is oc: the mapping's OpenClinica: is not declared there
    found = fatal(tmp_path, body, edc_mapping())
    assert [(f.rule, f.row) for f in found] == [("ODM-SUBJECT-KEY", 15)]
    # a declared prefix whose attribute the SubjectData lacks
    found = fatal(tmp_path, EDC.replace(' OpenClinica:StudySubjectID="01-0001"', ""), edc_mapping())
    assert [(f.rule, f.row) for f in found] == [("ODM-SUBJECT-KEY", 15)] and "has no attribute" in found[0].message


def test_undeclared_prefix_is_an_error_naming_file_and_line(tmp_path):
    body = EDC.replace(f' xmlns:OpenClinica="{OC}"', "").replace(' OpenClinica:StudySubjectID="01-0001"', "")
    found = fatal(tmp_path, body, edc_mapping())
    assert [(f.rule, f.file, f.row, f.value) for f in found] == [
        ("ODM-SUBJECT-KEY", "export.xml", 15, "OpenClinica:StudySubjectID")]
    assert "prefix 'OpenClinica'" in found[0].message and "not declared" in found[0].message


@pytest.mark.parametrize("attribute", ["a:b:c", "Open Clinica:ID", "{uri", ":ID", "1abc"])
def test_malformed_attribute_names_are_config_errors(attribute):
    with pytest.raises(ValueError, match="is not an attribute name"):
        OdmLayout(subject_key_attribute=attribute)


# ---- the worked example: an OpenClinica-style export converts byte-identically ----------------

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "mappings" / "examples" / "edc-openclinica.yaml"
STUDY = ROOT / "studies" / "NCT04515719.yaml"
CASES = ("simulated", "fixture")


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """case -> (reference export folder, OpenClinica-style folder, transform counts)."""
    from sdtm_lupus.api import simulate_export
    from tests.odm_edc import to_openclinica

    work = tmp_path_factory.mktemp("edc")
    simulate_export("NCT04515719", 30, 7, work / "simulated-ref", transport="odm")
    refs = {"simulated": work / "simulated-ref", "fixture": ROOT / "fixtures" / "NCT04515719" / "odm"}
    return {case: (ref, work / f"{case}-edc", to_openclinica(ref / "export.xml", work / f"{case}-edc" / "export.xml"))
            for case, ref in refs.items()}


@pytest.fixture(scope="module")
def converted(exports, tmp_path_factory):
    """case -> (output of the reference export with the study's mapping, output of the EDC export with the example)."""
    from sdtm_lupus.api import convert

    work = tmp_path_factory.mktemp("edc-out")
    out = {}
    for case, (ref, edc, _) in exports.items():
        a = convert(ref, STUDY, work / f"{case}-ref")
        b = convert(edc, STUDY, work / f"{case}-edc", mapping_path=EXAMPLE)
        assert (a.exit_code, b.exit_code) == (0, 0)
        out[case] = (work / f"{case}-ref", work / f"{case}-edc")
    return out


@pytest.mark.parametrize("case", CASES)
def test_edc_export_really_is_in_the_openclinica_style(exports, case):
    ref, edc, counts = exports[case]
    text = (edc / "export.xml").read_text(encoding="utf-8")
    assert not (edc / "manifest.json").exists()
    assert counts["subjects"] >= 8 and counts["coded"] > 40 and counts["dates"] > 1000
    assert f'xmlns:OpenClinica="{OC}"' in text and '<StudyName>NCT04515719</StudyName>' in text
    assert 'StudyOID="S_515719"' in text and 'StudyOID="NCT04515719"' not in text and 'OID="NCT04515719"' not in text
    assert '<SubjectData SubjectKey="SS_0001" OpenClinica:StudySubjectID="' in text
    assert 'LocationOID="S_SITE01"' in text and 'StudyEventOID="SE_WEEK4"' in text and 'StudyEventOID="SE_LOGS"' in text
    assert 'FormOID="F_ENROL"' in text and 'FormOID="F_ENDOFSTUDY"' in text and 'ItemOID="I_ENROL_HEIGHT"' in text
    assert 'ItemOID="I_AE_MEDDRA"' in text and 'ItemOID="I_DISP_DSSTDAT"' in text
    assert not re.search(r'(Item|Form)OID="(ENROL|AE|LAB|DISP)[".]', text)
    assert re.search(r'ItemOID="I_ENROL_SEX" Value="[12]"', text) and 'Value="Female"' not in text
    assert re.search(r'ItemOID="I_FLARE_FLARE" Value="[012]"', text) and 'CodeList OID="CL_AEREL"' in text
    assert re.search(r'Value="\d{4}-\d{2}-\d{2}"', text) and re.search(r'Value="\d{4}-\d{2}"', text)
    assert re.search(r'Value="\d{4}"', text) and not re.search(r'Value="(\d\d|UN)-[A-Z]{3}-', text)
    assert 'Value=""' not in text
    if case == "simulated":
        assert counts["dropped"] > 0  # UN-UNK-UNKN: no ISO 8601 value, so no ItemData


@pytest.mark.parametrize("case", CASES)
def test_edc_export_with_the_example_mapping_gives_byte_identical_xpt(converted, case):
    ref_out, edc_out = converted[case]
    files = sorted(p.relative_to(ref_out) for p in ref_out.glob("*/*.xpt"))
    assert {f.parts[0] for f in files} == {"sdtm", "adam"} and len(files) >= 15
    assert files == sorted(p.relative_to(edc_out) for p in edc_out.glob("*/*.xpt"))
    differ = [str(f) for f in files if (ref_out / f).read_bytes() != (edc_out / f).read_bytes()]
    assert differ == []


def test_the_reference_mapping_cannot_read_the_edc_export(exports, tmp_path):
    from sdtm_lupus.api import convert

    with pytest.raises(InputError) as exc:
        convert(exports["fixture"][1], STUDY, tmp_path / "out")
    assert {f.rule for f in exc.value.findings} >= {"ODM-UNKNOWN-FORM"}


def test_example_mapping_extends_the_reference_layout():
    example, reference = load_mapping(EXAMPLE), load_mapping(ROOT / "mappings" / "reference.yaml")
    assert example.values == reference.values and example.units == reference.units and example.drugs == reference.drugs
    assert example.dates.format == "ISO8601" and example.odm.studyid.source == "study_name"
    assert example.forms["disp"].file == "disp.csv" and example.forms["disp"].odm_form == "F_ENDOFSTUDY"
    assert example.forms["flare"].required is False

import pytest

from sdtm_lupus.config.mapping import FormSource, Mapping, OdmLayout
from sdtm_lupus.findings import InputError
from sdtm_lupus.readers import odm
from sdtm_lupus.readers.forms import ROW
from sdtm_lupus.readers.odm import read_odm

COMMON = ["STUDYID", "SITEID", "SUBJID", "FOLDER"]
FORMS = {"pga": COMMON + ["ASSESSDAT", "PGA"], "ae": COMMON + ["AETERM", "AESER"]}
ODM_OPEN = '<?xml version="1.0" encoding="UTF-8"?>\n<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3" ' \
           'xmlns:v="http://vendor.example/odm">\n'


def mapping(**odm) -> Mapping:
    return Mapping(name="t", forms={"pga": FormSource(file="pga.csv"), "ae": FormSource(file="ae.csv")},
                   odm=OdmLayout(**odm))


def read(tmp_path, body, mapping_=None, forms=FORMS):
    path = tmp_path / "export.xml"
    path.write_text(body, encoding="utf-8")
    return read_odm(path, mapping_ or mapping(), forms, "export.xml")


def fatal(tmp_path, body, **kwargs) -> list:
    with pytest.raises(InputError) as exc:
        read(tmp_path, body, **kwargs)
    return exc.value.findings


REFERENCE = ODM_OPEN + """<ClinicalData StudyOID="NCT04515719" MetaDataVersionOID="v1">
<SubjectData SubjectKey="01-0001">
<SiteRef LocationOID="01"/>
<StudyEventData StudyEventOID="WEEK 4">
<FormData FormOID="PGA">
<ItemGroupData ItemGroupOID="PGA" ItemGroupRepeatKey="1">
<ItemData ItemOID="PGA.ASSESSDAT" Value="05-MAR-2021"/>
<ItemData ItemOID="PGA.PGA" Value="1.5"/>
<ItemData ItemOID="PGA.PGA_NOTE" Value="x"/>
</ItemGroupData>
<ItemGroupData ItemGroupOID="PGA" ItemGroupRepeatKey="2">
<ItemData ItemOID="PGA.PGA" Value="0.5"/>
<ItemData ItemOID="PGA.PGA_NOTE" Value="y"/>
</ItemGroupData>
</FormData>
<FormData FormOID="VITALS"><ItemGroupData ItemGroupOID="VS"/></FormData>
</StudyEventData>
<StudyEventData StudyEventOID="COMMON">
<FormData FormOID="AE">
<ItemGroupData ItemGroupOID="AE" ItemGroupRepeatKey="1">
<ItemData ItemOID="AE.AETERM" Value="皮疹"/><ItemData ItemOID="AE.AESER" Value="No"/>
</ItemGroupData>
</FormData>
</StudyEventData>
</SubjectData>
<SubjectData SubjectKey="01-0002">
<StudyEventData StudyEventOID="UNSCHEDULED" StudyEventRepeatKey="2">
<FormData FormOID="PGA">
<ItemGroupData ItemGroupOID="PGA" ItemGroupRepeatKey="1"><ItemData ItemOID="PGA.PGA" Value="2"/></ItemGroupData>
</FormData>
</StudyEventData>
</SubjectData>
</ClinicalData>
</ODM>
"""


def test_reference_layout(tmp_path):
    forms, findings = read(tmp_path, REFERENCE)
    pga, ae = forms["pga"].data, forms["ae"].data
    assert list(pga.columns) == FORMS["pga"] + [ROW]
    assert pga.drop(columns=ROW).values.tolist() == [
        ["NCT04515719", "01", "01-0001", "WEEK 4", "05-MAR-2021", "1.5"],
        ["NCT04515719", "01", "01-0001", "WEEK 4", "", "0.5"],
        ["NCT04515719", "", "01-0002", "UNSCHEDULED", "", "2"],
    ]
    lines = REFERENCE.splitlines()
    assert pga[ROW].tolist() == [i + 1 for i, line in enumerate(lines) if '<ItemGroupData ItemGroupOID="PGA"' in line]
    assert ae.drop(columns=ROW).values.tolist() == [["NCT04515719", "01", "01-0001", "", "皮疹", "No"]]
    assert forms["ae"].file == "export.xml"
    rules = {(f.rule, f.severity, f.value): f.row for f in findings}
    first_note = next(i + 1 for i, line in enumerate(lines) if "PGA.PGA_NOTE" in line)
    assert rules == {("ODM-UNKNOWN-ITEM", "warning", "PGA.PGA_NOTE"): first_note,
                     ("ODM-UNKNOWN-FORM", "notice", "VITALS"): lines.index('<FormData FormOID="VITALS">'
                                                                           '<ItemGroupData ItemGroupOID="VS"/></FormData>') + 1}


def test_required_form_absent_from_odm_is_read_empty_with_a_warning(tmp_path):
    body = ODM_OPEN + '<ClinicalData StudyOID="S"/></ODM>'
    forms, findings = read(tmp_path, body)
    assert len(forms["pga"]) == 0 and list(forms["pga"].data.columns) == FORMS["pga"] + [ROW]
    assert {(f.rule, f.severity, f.dataset) for f in findings} == {
        ("ODM-EMPTY-FORM", "warning", "pga"), ("ODM-EMPTY-FORM", "warning", "ae")}


EDC = ODM_OPEN + """<Study OID="S"><MetaDataVersion OID="v1" Name="v1">
<ItemDef OID="IT_SER" Name="Serious" DataType="text"><CodeListRef CodeListOID="CL_NY"/></ItemDef>
<ItemDef OID="IT_TERM" Name="Term" DataType="text"/>
<CodeList OID="CL_NY" Name="NY" DataType="text">
<CodeListItem CodedValue="1"><Decode>
<TranslatedText xml:lang="zh">是</TranslatedText><TranslatedText xml:lang="en">Yes</TranslatedText>
</Decode></CodeListItem>
<CodeListItem CodedValue="0"><Decode><TranslatedText>No</TranslatedText></Decode></CodeListItem>
</CodeList>
</MetaDataVersion></Study>
<ClinicalData StudyOID="NCT04515719" MetaDataVersionOID="v1">
<SubjectData SubjectKey="SUBJ-99817" v:SubjectNumber="01-0007">
<SiteRef LocationOID="SITE_PUMCH"/>
<StudyEventData StudyEventOID="SE_AELOG">
<FormData FormOID="F_AE">
<ItemGroupData ItemGroupOID="IG_AE" ItemGroupRepeatKey="1">
<ItemData ItemOID="IT_TERM" Value="1"/><ItemData ItemOID="IT_SER" Value="1"/>
</ItemGroupData>
<ItemGroupData ItemGroupOID="IG_AE" ItemGroupRepeatKey="2">
<ItemData ItemOID="IT_TERM" Value="Fever"/><ItemData ItemOID="IT_SER" Value="9"/>
</ItemGroupData>
</FormData>
</StudyEventData>
<StudyEventData StudyEventOID="SE_WK4">
<FormData FormOID="F_PGA">
<ItemGroupData ItemGroupOID="IG_PGA"><ItemData ItemOID="F_PGA.SCORE" Value="1.5"/></ItemGroupData>
</FormData>
</StudyEventData>
<StudyEventData StudyEventOID="SE_WK99">
<FormData FormOID="F_PGA">
<ItemGroupData ItemGroupOID="IG_PGA"><ItemData ItemOID="F_PGA.SCORE" Value="2"/></ItemGroupData>
</FormData>
</StudyEventData>
</SubjectData>
</ClinicalData>
</ODM>
"""


def edc_mapping(decode=True) -> Mapping:
    return Mapping(
        name="edc",
        forms={"pga": FormSource(file="pga.csv", odm_form="F_PGA", rename={"PGA": "SCORE"}),
               "ae": FormSource(file="ae.csv", odm_form="F_AE", odm_items={"AETERM": "IT_TERM", "AESER": "IT_SER"})},
        odm=OdmLayout(subject_key_attribute="{http://vendor.example/odm}SubjectNumber", common_event="SE_AELOG",
                      event_folders={"SE_WK4": "WEEK 4"}, site_ids={"SITE_PUMCH": "01"}, decode_codelists=decode))


def test_vendor_keys_oid_maps_and_codelist_decoding(tmp_path):
    forms, findings = read(tmp_path, EDC, edc_mapping())
    ae, pga = forms["ae"].data, forms["pga"].data
    # IT_TERM has no CodeListRef: its "1" stays; IT_SER decodes through CL_NY, English text preferred
    assert ae.drop(columns=ROW).values.tolist() == [
        ["NCT04515719", "01", "01-0007", "", "1", "Yes"],
        ["NCT04515719", "01", "01-0007", "", "Fever", "9"],
    ]
    assert pga.drop(columns=ROW).values.tolist() == [
        ["NCT04515719", "01", "01-0007", "WEEK 4", "", "1.5"],
        ["NCT04515719", "01", "01-0007", "SE_WK99", "", "2"],
    ]
    assert {(f.rule, f.value) for f in findings} == {("ODM-CODELIST-VALUE", "9"), ("ODM-UNMAPPED-OID", "SE_WK99")}


def test_codelist_decoding_can_be_switched_off(tmp_path):
    forms, _ = read(tmp_path, EDC, edc_mapping(decode=False))
    assert forms["ae"].data["AESER"].tolist() == ["1", "9"]


def test_missing_vendor_subject_attribute_is_fatal(tmp_path):
    findings = fatal(tmp_path, EDC.replace(' v:SubjectNumber="01-0007"', ""), mapping_=edc_mapping())
    assert "ODM-SUBJECT-KEY" in [f.rule for f in findings]


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE ODM [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3"><ClinicalData StudyOID="&lol3;"><SubjectData SubjectKey="1">
<StudyEventData StudyEventOID="WEEK 4"><FormData FormOID="PGA"><ItemGroupData>
<ItemData ItemOID="PGA.PGA" Value="&lol3;"/></ItemGroupData></FormData></StudyEventData></SubjectData></ClinicalData></ODM>
"""

EXTERNAL_ENTITY = BILLION_LAUGHS.replace('<!ENTITY lol "lol">', '<!ENTITY lol SYSTEM "file:///etc/passwd">')


@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL_ENTITY])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_doctype_and_entities_are_refused(tmp_path, body, encoding):
    path = tmp_path / "export.xml"
    path.write_bytes(body.replace('"1.0"?>', f'"1.0" encoding="{encoding}"?>').encode(encoding))
    with pytest.raises(InputError) as exc:
        read_odm(path, mapping(), FORMS, "export.xml")
    assert [f.rule for f in exc.value.findings] == ["ODM-DTD"]
    assert "lollol" not in str(exc.value) and "root:" not in str(exc.value)


def test_malformed_xml_is_fatal_with_line(tmp_path):
    body = REFERENCE.replace('Value="1.5"/>', 'Value="1.5">')  # unclosed element
    [finding] = fatal(tmp_path, body)
    assert (finding.rule, finding.file) == ("ODM-PARSE", "export.xml")
    assert finding.row == next(i + 1 for i, line in enumerate(body.splitlines()) if "</ItemGroupData>" in line)
    [finding] = fatal(tmp_path, REFERENCE[: len(REFERENCE) // 2])
    assert finding.rule == "ODM-PARSE" and finding.row > 1


def test_root_that_is_not_odm_is_fatal(tmp_path):
    [finding] = fatal(tmp_path, '<?xml version="1.0"?>\n<Data><SubjectData/></Data>\n')
    assert finding.rule == "ODM-PARSE" and "not ODM" in finding.message


@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL_ENTITY])
def test_parser_level_check_refuses_without_the_prescan(tmp_path, monkeypatch, body):
    monkeypatch.setattr(odm, "_refuse_doctype", lambda path, finding: None)
    with pytest.raises(InputError) as exc:
        read(tmp_path, body)
    assert [f.rule for f in exc.value.findings] == ["ODM-DTD" if body is BILLION_LAUGHS else "ODM-PARSE"]
    assert "lollol" not in str(exc.value) and "root:" not in str(exc.value)

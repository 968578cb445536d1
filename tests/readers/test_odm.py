import codecs

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


CLEAN = REFERENCE.replace('<ItemData ItemOID="PGA.PGA_NOTE" Value="x"/>\n', "").replace(
    '<ItemData ItemOID="PGA.PGA_NOTE" Value="y"/>\n', "").replace(
    '<FormData FormOID="VITALS"><ItemGroupData ItemGroupOID="VS"/></FormData>\n', "")


def test_reference_layout(tmp_path):
    forms, findings = read(tmp_path, CLEAN)
    pga, ae = forms["pga"].data, forms["ae"].data
    assert list(pga.columns) == FORMS["pga"] + [ROW]
    assert pga.drop(columns=ROW).values.tolist() == [
        ["NCT04515719", "01", "01-0001", "WEEK 4", "05-MAR-2021", "1.5"],
        ["NCT04515719", "01", "01-0001", "WEEK 4", "", "0.5"],
        ["NCT04515719", "", "01-0002", "UNSCHEDULED", "", "2"],
    ]
    lines = CLEAN.splitlines()
    assert pga[ROW].tolist() == [i + 1 for i, line in enumerate(lines) if '<ItemGroupData ItemGroupOID="PGA"' in line]
    assert ae.drop(columns=ROW).values.tolist() == [["NCT04515719", "01", "01-0001", "", "皮疹", "No"]]
    assert forms["ae"].file == "export.xml"
    assert findings == []


def test_unknown_item_and_form_oids_are_errors_naming_line_and_oid(tmp_path):
    lines = REFERENCE.splitlines()
    found = {(f.rule, f.severity, f.value, f.variable): f.row for f in fatal(tmp_path, REFERENCE)}
    first_note = next(i + 1 for i, line in enumerate(lines) if "PGA.PGA_NOTE" in line)
    vitals = next(i + 1 for i, line in enumerate(lines) if 'FormOID="VITALS"' in line)
    assert found == {("ODM-UNKNOWN-ITEM", "error", "PGA.PGA_NOTE", "PGA.PGA_NOTE"): first_note,
                     ("ODM-UNKNOWN-FORM", "error", "VITALS", "VITALS"): vitals}


def test_mistyped_item_oid_is_an_error_not_a_not_done(tmp_path):
    # One PGA ItemOID mistyped: before, every PGA became missing (NOT DONE) with a warning only.
    body = CLEAN.replace('ItemOID="PGA.PGA"', 'ItemOID="PGA.PGAX"')
    [finding] = fatal(tmp_path, body)
    assert (finding.rule, finding.severity, finding.value, finding.file) == (
        "ODM-UNKNOWN-ITEM", "error", "PGA.PGAX", "export.xml")
    assert finding.row == next(i + 1 for i, line in enumerate(body.splitlines()) if "PGA.PGAX" in line)
    assert "3 value(s)" in finding.message


def test_item_of_another_form_is_an_error(tmp_path):
    body = CLEAN.replace('<ItemData ItemOID="AE.AESER" Value="No"/>', '<ItemData ItemOID="PGA.PGA" Value="No"/>')
    [finding] = fatal(tmp_path, body)
    assert (finding.rule, finding.value) == ("ODM-UNKNOWN-ITEM", "PGA.PGA") and "form AE" in finding.message


def test_repeated_item_in_one_group_is_an_error(tmp_path):
    body = CLEAN.replace('<ItemData ItemOID="PGA.PGA" Value="0.5"/>',
                         '<ItemData ItemOID="PGA.PGA" Value="0.5"/><ItemData ItemOID="PGA.PGA" Value="3"/>')
    [finding] = fatal(tmp_path, body)
    assert (finding.rule, finding.severity, finding.value) == ("ODM-DUPLICATE-ITEM", "error", "PGA.PGA")


@pytest.mark.parametrize("body", [
    ODM_OPEN + '<ReferenceData StudyOID="S" MetaDataVersionOID="v1"><ItemGroupData ItemGroupOID="PGA">'
               '<ItemData ItemOID="PGA.PGA" Value="1"/></ItemGroupData></ReferenceData></ODM>',
    ODM_OPEN + '<ClinicalData StudyOID="S"><SubjectData SubjectKey="1"><StudyEventData StudyEventOID="E">'
               '<ItemGroupData ItemGroupOID="PGA"><ItemData ItemOID="PGA.PGA" Value="1"/></ItemGroupData>'
               '</StudyEventData></SubjectData></ClinicalData></ODM>',
    ODM_OPEN + '<ClinicalData StudyOID="S"><SubjectData SubjectKey="1"><StudyEventData StudyEventOID="E">'
               '<FormData FormOID="PGA"><ItemData ItemOID="PGA.PGA" Value="1"/></FormData>'
               '</StudyEventData></SubjectData></ClinicalData></ODM>',
])
def test_item_data_outside_the_clinical_structure_is_an_error(tmp_path, body):
    [finding] = fatal(tmp_path, body)
    assert finding.rule == "ODM-STRUCTURE" and finding.row == 3


def test_no_odm_mapping_reading_an_edc_export_is_refused(tmp_path):
    # The reference mapping (no odm_form / odm_items) on an EDC export: every form is unknown.
    found = fatal(tmp_path, EDC)
    assert {(f.rule, f.severity, f.value) for f in found} >= {
        ("ODM-UNKNOWN-FORM", "error", "F_AE"), ("ODM-UNKNOWN-FORM", "error", "F_PGA")}


def test_required_form_absent_from_odm_is_read_empty_here(tmp_path):
    # read_odm reads it as empty; readers.export.required_rows refuses it (tests/readers/test_export.py).
    body = ODM_OPEN + '<ClinicalData StudyOID="S"/></ODM>'
    forms, findings = read(tmp_path, body)
    assert len(forms["pga"]) == 0 and list(forms["pga"].data.columns) == FORMS["pga"] + [ROW]
    assert findings == []


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


# --- true source lines beyond 65 535 (libxml2 line numbers saturate there) ---------------

def big_document(groups: int = 40_000, tail: str = "") -> str:
    """Two lines per item group for one subject's PGA form: well past line 65 535."""
    rows = "".join(f'<ItemGroupData ItemGroupOID="PGA" ItemGroupRepeatKey="{i}">\n'
                   f'<ItemData ItemOID="PGA.PGA" Value="{i % 4}"/></ItemGroupData>\n' for i in range(groups))
    return (ODM_OPEN + '<ClinicalData StudyOID="S">\n<SubjectData SubjectKey="01-0001">\n'
            '<StudyEventData StudyEventOID="WEEK 4">\n<FormData FormOID="PGA">\n' + rows + tail
            + '</FormData>\n</StudyEventData>\n</SubjectData>\n</ClinicalData>\n</ODM>\n')


def test_rows_beyond_line_65535_keep_their_true_lines(tmp_path):
    body = big_document()
    forms, _ = read(tmp_path, body)
    expected = [i + 1 for i, line in enumerate(body.splitlines()) if line.startswith("<ItemGroupData")]
    assert expected[-1] > 80_000
    assert forms["pga"].data[ROW].tolist() == expected
    assert forms["pga"].data[ROW].is_unique


def test_finding_beyond_line_65535_names_the_true_line(tmp_path):
    body = big_document(tail='<!-- a comment with <ItemGroupData in it\n-->\n<ItemGroupData ItemGroupOID="PGA"\n'
                             '  ItemGroupRepeatKey="x"><ItemData ItemOID="PGA.TYPO" Value="1"/></ItemGroupData>\n')
    [finding] = fatal(tmp_path, body)
    lines = body.splitlines()
    assert (finding.rule, finding.value) == ("ODM-UNKNOWN-ITEM", "PGA.TYPO")
    assert finding.row == next(i + 1 for i, line in enumerate(lines) if "PGA.TYPO" in line) > 80_000


def test_parse_error_beyond_line_65535_names_the_true_line(tmp_path):
    body = big_document().replace('Value="3"/></ItemGroupData>\n</FormData>', 'Value="3"></ItemGroupData>\n</FormData>')
    [finding] = fatal(tmp_path, body)
    assert finding.rule == "ODM-PARSE"
    assert finding.row == next(i + 1 for i, line in enumerate(body.splitlines()) if 'Value="3"></Item' in line)


@pytest.mark.parametrize("chunk", [1, 3, 7, 64])
def test_start_tag_lines_do_not_depend_on_chunk_boundaries(chunk):
    from sdtm_lupus.readers.odm_stream import StartTagLines
    doc = (b'<?xml version="1.0"?>\n<!-- <x> \n <y> -->\n<a\n b="1">\n<![CDATA[ <z>\n ]]>'
           b'<?pi <w> ?>\n<b/><c>t</c>\n</a>\n')
    lines = StartTagLines()
    for i in range(0, len(doc), chunk):
        lines.feed(doc[i:i + chunk])
    assert list(lines.lines) == [4, 8, 8]


# --- encoding: the declaration must agree with the bytes ---------------------------------

LATIN = CLEAN.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"')


def test_declared_latin1_stored_as_utf8_is_refused(tmp_path):
    path = tmp_path / "export.xml"
    path.write_bytes(LATIN.encode("utf-8"))  # 皮疹 as UTF-8 bytes: read as Latin-1 it is mojibake
    with pytest.raises(InputError) as exc:
        read_odm(path, mapping(), FORMS, "export.xml")
    [finding] = exc.value.findings
    line = next(i + 1 for i, text in enumerate(LATIN.splitlines()) if "皮疹" in text)
    assert (finding.rule, finding.file, finding.row) == ("READ-ODM-ENCODING", "export.xml", line)
    assert "ISO-8859-1" in finding.message and "UTF-8" in finding.message and "byte offset" in finding.message


def test_declared_latin1_really_latin1_is_read(tmp_path):
    body = CLEAN.replace("皮疹", "Éruption cutanée").replace('encoding="UTF-8"', 'encoding="ISO-8859-1"')
    path = tmp_path / "export.xml"
    path.write_bytes(body.encode("latin-1"))
    forms, _ = read_odm(path, mapping(), FORMS, "export.xml")
    assert forms["ae"].data["AETERM"].tolist() == ["Éruption cutanée"]
    assert forms["pga"].data[ROW].tolist() == read(tmp_path, CLEAN)[0]["pga"].data[ROW].tolist()


def test_utf16_with_bom_is_read_with_the_same_lines(tmp_path):
    path = tmp_path / "export.xml"
    path.write_bytes(CLEAN.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16"))
    forms, _ = read_odm(path, mapping(), FORMS, "export.xml")
    reference, _ = read(tmp_path, CLEAN)
    assert forms["ae"].data.equals(reference["ae"].data) and forms["pga"].data.equals(reference["pga"].data)


@pytest.mark.parametrize("raw, words", [
    (codecs.BOM_UTF16_LE + CLEAN.encode("utf-16-le"), ["UTF-16", "byte-order mark"]),          # BOM vs UTF-8
    (codecs.BOM_UTF8 + LATIN.encode("latin-1", errors="replace"), ["UTF-8", "byte-order mark"]),
    (CLEAN.replace("UTF-8", "UTF-16").encode("utf-8"), ["UTF-16"]),                            # no UTF-16 bytes
    (CLEAN.replace("UTF-8", "UTF-7").encode("utf-8"), ["not supported"]),
    (CLEAN.encode("utf-8").replace("皮疹".encode(), b"\xc0\xbc\xe9"), ["not valid", "0xc0"]),  # overlong '<'
    (CLEAN.encode("utf-8") + b"\xe7\x9a", ["not valid", "end of the file"]),
])
def test_encoding_contradictions_are_refused(tmp_path, raw, words):
    path = tmp_path / "export.xml"
    path.write_bytes(raw)
    with pytest.raises(InputError) as exc:
        read_odm(path, mapping(), FORMS, "export.xml")
    [finding] = exc.value.findings
    assert finding.rule == "READ-ODM-ENCODING" and finding.file == "export.xml"
    assert all(w in finding.message for w in words), finding.message


# --- one export, one study: further ClinicalData blocks must match -----------------------

def with_second_block(study: str, version: str) -> str:
    second = (f'<ClinicalData StudyOID="{study}" MetaDataVersionOID="{version}">\n<SubjectData SubjectKey="09-0001">\n'
              '<StudyEventData StudyEventOID="WEEK 4"><FormData FormOID="PGA"><ItemGroupData ItemGroupOID="PGA">'
              '<ItemData ItemOID="PGA.PGA" Value="3"/></ItemGroupData></FormData></StudyEventData>\n'
              '</SubjectData>\n</ClinicalData>\n')
    return CLEAN.replace("</ODM>", second + "</ODM>")


@pytest.mark.parametrize("study, version, rule", [
    ("NCT04515719", "v2", "ODM-METADATA-VERSION"), ("OTHER", "v1", "ODM-STUDY-OID")])
def test_second_clinical_data_block_that_does_not_match_is_refused(tmp_path, study, version, rule):
    body = with_second_block(study, version)
    [finding] = fatal(tmp_path, body)
    assert (finding.rule, finding.file) == (rule, "export.xml")
    assert finding.row == [i + 1 for i, line in enumerate(body.splitlines()) if line.startswith("<ClinicalData")][1]


def test_clinical_data_with_an_undeclared_metadata_version_is_refused(tmp_path):
    body = EDC.replace('<ClinicalData StudyOID="NCT04515719" MetaDataVersionOID="v1">',
                       '<ClinicalData StudyOID="NCT04515719" MetaDataVersionOID="v9">')
    findings = fatal(tmp_path, body, mapping_=edc_mapping())
    assert [f.rule for f in findings if f.severity == "error"] == ["ODM-METADATA-VERSION"]


def test_matching_second_clinical_data_block_is_read(tmp_path):
    forms, _ = read(tmp_path, with_second_block("NCT04515719", "v1"))
    assert forms["pga"].data["SUBJID"].tolist()[-1] == "09-0001"


def test_absent_columns_take_their_default_and_need_no_item_oid(tmp_path):
    absent = Mapping(name="t", forms={"pga": FormSource(file="pga.csv", absent={"ASSESSDAT": "UN-UNK-UNKN"}),
                                      "ae": FormSource(file="ae.csv", absent={"AESER": ""})}, odm=OdmLayout())
    body = CLEAN.replace('<ItemData ItemOID="PGA.ASSESSDAT" Value="05-MAR-2021"/>\n', "").replace(
        '<ItemData ItemOID="AE.AESER" Value="No"/>', "")
    forms, findings = read(tmp_path, body, mapping_=absent)
    assert forms["pga"].data["ASSESSDAT"].tolist() == ["UN-UNK-UNKN"] * 3
    assert forms["ae"].data["AESER"].tolist() == [""] and findings == []
    # an item sent for a column the mapping calls absent is not silently dropped
    found = fatal(tmp_path, CLEAN, mapping_=absent)
    assert {(f.rule, f.value) for f in found} >= {("ODM-UNKNOWN-ITEM", "PGA.ASSESSDAT")}

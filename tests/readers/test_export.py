import csv
import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest
from lxml import etree

from sdtm_lupus.config.loading import ConfigError
from sdtm_lupus.config.mapping import FormSource, Mapping, load_mapping
from sdtm_lupus.findings import InputError
from sdtm_lupus.readers.export import detect_transport, read_export
from sdtm_lupus.readers.forms import ROW
from sdtm_lupus.specs import load_raw_layout

REFERENCE = load_mapping(Path(__file__).resolve().parents[2] / "mappings" / "reference.yaml")
LAYOUT = load_raw_layout()
COMMON = ["STUDYID", "SITEID", "SUBJID", "FOLDER"]

ROWS = {
    "pga": [
        {"STUDYID": "NCT04515719", "SITEID": "01", "SUBJID": "01-0001", "FOLDER": "WEEK 0",
         "ASSESSDAT": "05-MAR-2021", "PGA": "1.5"},
        {"STUDYID": "NCT04515719", "SITEID": "01", "SUBJID": "01-0001", "FOLDER": "UNSCHEDULED", "PGA": "2"},
        {"STUDYID": "NCT04515719", "SITEID": "02", "SUBJID": "02-0001", "FOLDER": "WEEK 4",
         "ASSESSDAT": "UN-MAR-2021", "PGA": "0"},
    ],
    "ae": [
        {"STUDYID": "NCT04515719", "SITEID": "01", "SUBJID": "01-0001", "AESPID": "1", "AETERM": "皮疹",
         "AEPT": "Rash", "AESTDAT": "UN-MAR-2021", "AESER": "No", "AEOUT": "Recovered/resolved"},
        {"STUDYID": "NCT04515719", "SITEID": "02", "SUBJID": "02-0001", "AESPID": "1",
         "AETERM": 'Headache, "severe"\nwith nausea', "AESER": "Yes", "AETOXGR": "3"},
    ],
}


def write_csv(folder: Path, form: str, rows: list[dict], encoding="utf-8") -> None:
    columns = LAYOUT.columns(form)
    with (folder / f"{form}.csv").open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(columns)
        writer.writerows([[row.get(c, "") for c in columns] for row in rows])


def write_odm(folder: Path, rows_by_form: dict[str, list[dict]]) -> None:
    """Same content as ODM: a subject/event/form per row, in the reference layout."""
    ns = "http://www.cdisc.org/ns/odm/v1.3"
    root = etree.Element(f"{{{ns}}}ODM", nsmap={None: ns})
    clinical = etree.SubElement(root, f"{{{ns}}}ClinicalData", StudyOID="NCT04515719")
    for form, rows in rows_by_form.items():
        for row in rows:
            subject = etree.SubElement(clinical, f"{{{ns}}}SubjectData", SubjectKey=row["SUBJID"])
            etree.SubElement(subject, f"{{{ns}}}SiteRef", LocationOID=row["SITEID"])
            event = etree.SubElement(subject, f"{{{ns}}}StudyEventData", StudyEventOID=row.get("FOLDER") or "COMMON")
            group = etree.SubElement(etree.SubElement(event, f"{{{ns}}}FormData", FormOID=form.upper()),
                                     f"{{{ns}}}ItemGroupData", ItemGroupRepeatKey="1")
            for col, value in row.items():
                if col not in COMMON:
                    etree.SubElement(group, f"{{{ns}}}ItemData", ItemOID=f"{form.upper()}.{col}", Value=value)
    etree.ElementTree(root).write(str(folder / "export.xml"), xml_declaration=True, encoding="UTF-8")


def test_csv_and_odm_transports_read_identically(tmp_path):
    csv_dir, odm_dir = tmp_path / "csv", tmp_path / "odm"
    csv_dir.mkdir(), odm_dir.mkdir()
    for form, rows in ROWS.items():
        write_csv(csv_dir, form, rows)
    write_odm(odm_dir, ROWS)
    assert (detect_transport(csv_dir, REFERENCE), detect_transport(odm_dir, REFERENCE)) == ("csv", "odm")

    forms = ["pga", "ae", "flare"]  # flare is optional and absent
    from_csv, csv_findings = read_export(csv_dir, REFERENCE, forms)
    from_odm, odm_findings = read_export(odm_dir, REFERENCE, forms)
    assert list(from_csv) == list(from_odm) == forms
    for form in forms:
        assert list(from_csv[form].data.columns) == LAYOUT.columns(form) + [ROW]
        pd.testing.assert_frame_equal(from_csv[form].data.drop(columns=ROW), from_odm[form].data.drop(columns=ROW))
    assert from_csv["ae"].data["AETERM"].tolist() == ["皮疹", 'Headache, "severe"\nwith nausea']
    assert from_csv["pga"].data[ROW].tolist() == [2, 3, 4]
    assert (from_csv["pga"].file, from_odm["pga"].file) == ("pga.csv", "export.xml")
    assert len(from_csv["flare"]) == 0
    assert [(f.rule, f.severity) for f in csv_findings] == [("READ-MISSING-FILE", "notice")]
    assert [(f.rule, f.severity) for f in odm_findings] == [("ODM-EMPTY-FORM", "notice")]


def test_fatal_findings_of_all_files_are_raised_together(tmp_path):
    write_csv(tmp_path, "pga", ROWS["pga"])
    (tmp_path / "ae.csv").write_bytes("AETERM\n皮疹\n".encode("gb18030"))
    with pytest.raises(InputError) as exc:
        read_export(tmp_path, REFERENCE, ["pga", "ae", "lab"])
    found = {(f.rule, f.file) for f in exc.value.findings}
    assert {("READ-ENCODING", "ae.csv"), ("READ-MISSING-FILE", "lab.csv")} <= found
    assert all(f.file != "pga.csv" for f in exc.value.findings)


def test_forms_the_study_does_not_list_are_not_read(tmp_path):
    write_csv(tmp_path, "pga", ROWS["pga"])
    (tmp_path / "lab.csv").write_bytes(b"")  # would be fatal if read
    forms, findings = read_export(tmp_path, REFERENCE, ["pga"])
    assert list(forms) == ["pga"] and findings == []


def test_not_a_folder(tmp_path):
    with pytest.raises(InputError) as exc:
        read_export(tmp_path / "nowhere", REFERENCE, ["pga"])
    assert exc.value.findings[0].rule == "READ-NO-FOLDER"


def test_manifest_mismatch_refuses_the_export(tmp_path):
    write_csv(tmp_path, "pga", ROWS["pga"])
    content = (tmp_path / "pga.csv").read_bytes()
    (tmp_path / "manifest.json").write_text(json.dumps({"algorithm": "sha256", "files": [
        {"path": "pga.csv", "sha256": hashlib.sha256(content + b"x").hexdigest(), "bytes": len(content)}]}))
    with pytest.raises(InputError) as exc:
        read_export(tmp_path, REFERENCE, ["pga"])
    assert [(f.rule, f.file) for f in exc.value.findings] == [("MANIFEST-MISMATCH", "pga.csv")]


def test_one_file_feeding_two_forms_reports_no_extra_columns(tmp_path):
    mapping = Mapping(name="merged", forms={"pga": FormSource(file="assess.csv"),
                                            "flare": FormSource(file="assess.csv", rename={"FLARE": "FLARECALL"})})
    header = COMMON + ["ASSESSDAT", "PGA", "FLARECALL", "MM_NEWWORSE", "SV_NEWWORSE", "SV_HOSP", "FLAREDAT", "NOTE"]
    (tmp_path / "assess.csv").write_text(",".join(header) + "\nS,01,01-0001,WEEK 4,05-MAR-2021,1.5,None,0,0,0,,x\n")
    forms, findings = read_export(tmp_path, mapping, ["pga", "flare"])
    assert forms["pga"].data.loc[0, "PGA"] == "1.5" and forms["flare"].data.loc[0, "FLARE"] == "None"
    assert [(f.rule, f.variable) for f in findings] == [("READ-EXTRA-COLUMN", "NOTE")] * 2


def test_form_missing_from_mapping_is_a_config_error(tmp_path):
    mapping = Mapping(name="small", forms={"pga": FormSource(file="pga.csv")})
    with pytest.raises(ConfigError, match="forms.ae"):
        read_export(tmp_path, mapping, ["pga", "ae"])


def test_required_csv_with_a_header_only_is_an_error_optional_may_be_empty(tmp_path):
    write_csv(tmp_path, "pga", [])          # header only: before, read as "no assessments"
    write_csv(tmp_path, "ae", ROWS["ae"])
    write_csv(tmp_path, "flare", [])        # optional (required: false): may be empty
    with pytest.raises(InputError) as exc:
        read_export(tmp_path, REFERENCE, ["pga", "ae", "flare"])
    assert [(f.rule, f.severity, f.file, f.dataset) for f in exc.value.findings if f.severity == "error"] == [
        ("READ-NO-ROWS", "error", "pga.csv", "pga")]
    write_csv(tmp_path, "pga", ROWS["pga"])
    forms, findings = read_export(tmp_path, REFERENCE, ["pga", "ae", "flare"])
    assert len(forms["flare"]) == 0 and not [f for f in findings if f.severity == "error"]


def test_required_form_that_receives_nothing_from_odm_is_an_error(tmp_path):
    write_odm(tmp_path, {"pga": ROWS["pga"]})  # no AE FormData at all; flare (optional) absent too
    with pytest.raises(InputError) as exc:
        read_export(tmp_path, REFERENCE, ["pga", "ae", "flare"])
    errors_ = [f for f in exc.value.findings if f.severity == "error"]
    assert [(f.rule, f.file, f.dataset) for f in errors_] == [("READ-NO-ROWS", "export.xml", "ae")]
    assert "FormOID 'AE'" in errors_[0].message
    assert ("ODM-EMPTY-FORM", "notice") in {(f.rule, f.severity) for f in exc.value.findings}

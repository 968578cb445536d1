"""Dataset-JSON 1.1 beside the XPT files: schema, the define's OIDs, UTF-8 text as collected, ISO dates,
and the round trip JSON -> DataFrame -> XPT equal to the XPT written directly."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from lxml import etree

from sdtm_lupus.specs import load_specs
from sdtm_lupus.validate.define_check import check_dataset_json, parse_define
from sdtm_lupus.write.ascii import apply_ascii_policy
from sdtm_lupus.write.dataset_json import SCHEMA, dumps, read_dataset_json
from sdtm_lupus.write.outputs import write_datasets
from tests.paths import ROOT
from tests.write.submission_runs import CREATED, RUN_NAMES

ODM = "{http://www.cdisc.org/ns/odm/v1.3}"
FOLDERS = ["sdtm", "adam"]
MSG_SCHEMA = ROOT.parent / "shared" / "reference" / "cdisc-msg" / "schema" / "dataset.schema.json"


def _json_files(run, folder: str) -> list[Path]:
    return sorted((run.out / folder).glob("*.json"))


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    if MSG_SCHEMA.exists():
        assert schema == json.loads(MSG_SCHEMA.read_text(encoding="utf-8"))    # the shipped copy is the CDISC one
    return jsonschema.validators.validator_for(schema)(schema)


@pytest.mark.parametrize("name", RUN_NAMES)
@pytest.mark.parametrize("folder", FOLDERS)
def test_one_valid_json_file_per_xpt_file(submission_runs, validator, name, folder):
    run = submission_runs[name]
    files = _json_files(run, folder)
    assert [p.stem for p in files] == sorted(p.stem for p in (run.out / folder).glob("*.xpt"))
    for path in files:
        doc = json.loads(path.read_text(encoding="utf-8"))
        errors = list(validator.iter_errors(doc))
        assert errors == [], (path.name, [e.message for e in errors[:3]])
        assert doc["datasetJSONVersion"] == "1.1.0" and doc["records"] == len(doc["rows"])
        assert all(len(row) == len(doc["columns"]) for row in doc["rows"])
        assert run.result.report["datasets"][doc["name"]]["json"] == f"{folder}/{path.name}"


@pytest.mark.parametrize("folder", FOLDERS)
def test_oids_and_metadata_match_the_define(submission_runs, folder):
    run = submission_runs["NCT04515719"]
    define = etree.parse(str(run.out / folder / "define.xml")).getroot()
    mdv = define.find(f"{ODM}Study/{ODM}MetaDataVersion")
    groups = {g.get("OID"): g for g in define.iter(f"{ODM}ItemGroupDef")}
    items = {i.get("OID"): i for i in define.iter(f"{ODM}ItemDef")}
    for path in _json_files(run, folder):
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert doc["studyOID"] == define.find(f"{ODM}Study").get("OID")
        assert doc["metaDataVersionOID"] == mdv.get("OID") and doc["metaDataRef"] == "define.xml"
        group = groups[doc["itemGroupOID"]]
        assert group.get("Name") == doc["name"]
        refs = sorted(group.findall(f"{ODM}ItemRef"), key=lambda r: int(r.get("OrderNumber")))
        assert [c["itemOID"] for c in doc["columns"]] == [r.get("ItemOID") for r in refs]
        for column, ref in zip(doc["columns"], refs):
            item = items[column["itemOID"]]
            assert column["name"] == item.get("Name")
            assert column["label"] == item.find(f"{ODM}Description/{ODM}TranslatedText").text
            if "length" in column:
                assert str(column["length"]) == item.get("Length")
            assert column.get("keySequence") == (int(ref.get("KeySequence")) if ref.get("KeySequence") else None)
        assert check_dataset_json(path, parse_define(run.out / folder / "define.xml"),
                                  path.with_suffix(".xpt")) == []


def test_numeric_dates_are_iso_dates(submission_runs):
    doc = json.loads((submission_runs["NCT04515719"].out / "adam" / "adsl.json").read_text(encoding="utf-8"))
    columns = {c["name"]: (i, c) for i, c in enumerate(doc["columns"])}
    i, trtsdt = columns["TRTSDT"]
    assert (trtsdt["dataType"], trtsdt["targetDataType"], trtsdt["displayFormat"]) == ("date", "integer", "DATE9.")
    values = [row[i] for row in doc["rows"] if row[i] is not None]
    assert values and all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", v) for v in values)
    i, age = columns["AGE"]
    assert age["dataType"] == "integer" and all(isinstance(r[i], int) for r in doc["rows"] if r[i] is not None)


def test_text_is_utf8_as_collected_while_xpt_escapes_it(submission_runs):
    run = submission_runs["NCT04893161"]
    escaped = [f for f in run.result.report["findings"] if f["rule"] == "XPT-NON-ASCII"]
    assert escaped
    for finding in escaped:
        folder = "adam" if finding["dataset"].startswith("AD") else "sdtm"
        raw = (run.out / folder / f"{finding['dataset'].lower()}.json").read_text(encoding="utf-8")
        assert json.dumps(finding["value"], ensure_ascii=False) in raw
        assert "\\\\u" not in raw
    cm = (run.out / "sdtm" / "cm.json").read_bytes()
    assert "泼尼松".encode() in cm


@pytest.mark.parametrize("name", RUN_NAMES)
@pytest.mark.parametrize("folder", FOLDERS)
def test_round_trip_json_to_xpt_equals_the_xpt_written(submission_runs, tmp_path, name, folder):
    run = submission_runs[name]
    specs = load_specs()
    frames = {}
    for path in _json_files(run, folder):
        frame, meta = read_dataset_json(path)
        frame, _ = apply_ascii_policy(meta["name"], frame, "escape")        # the same escaping as convert
        frames[meta["name"]] = frame
    written = write_datasets(tmp_path / folder, frames, {**specs.datasets, **_study_specs(run).datasets})
    for dataset, file in written.items():
        assert (tmp_path / folder / file).read_bytes() == (run.out / folder / file).read_bytes(), dataset


def _study_specs(run):
    from sdtm_lupus import api
    from sdtm_lupus.config.study import load_study

    return api.study_specs(load_study(run.study))


def test_json_is_deterministic(submission_runs, tmp_path):
    run = submission_runs["NCT04893161"]
    for path in _json_files(run, "sdtm"):
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert dumps(doc) == path.read_bytes(), path.name
    assert json.loads((run.out / "sdtm" / "dm.json").read_text(encoding="utf-8"))["datasetJSONCreationDateTime"] \
        == CREATED


def test_checker_reports_a_json_that_disagrees(submission_runs, tmp_path):
    run = submission_runs["NCT04515719"]
    doc = json.loads((run.out / "sdtm" / "dm.json").read_text(encoding="utf-8"))
    doc["columns"][3]["label"] = "Something Else"
    doc["records"] += 1
    doc["rows"][0][3] = 12
    bad = tmp_path / "dm.json"
    bad.write_bytes(dumps(doc))
    findings = check_dataset_json(bad, parse_define(run.out / "sdtm" / "define.xml"), run.out / "sdtm" / "dm.xpt")
    rules = {f.rule for f in findings}
    assert {"DATASET-JSON-ROWS", "DATASET-JSON-DEFINE"} <= rules
    doc.pop("itemGroupOID")
    bad.write_text(json.dumps(doc), encoding="utf-8")
    assert {f.rule for f in check_dataset_json(bad)} == {"DATASET-JSON-SCHEMA"}

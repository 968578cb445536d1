"""The CLI driven in-process with click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from sdtm_lupus import __version__
from sdtm_lupus.cli import main
from sdtm_lupus.write.xpt import read_xpt
from tests.export_builder import write_export
from tests.paths import MAPPINGS, STUDIES
from tests.rejected import assert_only_input_problems
from tests.sdtm.builders import dose_row, enrol_row

STUDY = str(STUDIES / "NCT04515719.yaml")


def mini_rows() -> dict[str, list[dict]]:
    return {
        "enrol": [enrol_row("01-0001"), enrol_row("01-0002", ARMCD_RAND="PBO"),
                  enrol_row("01-0003", ELIGIBLE="No")],
        "dosing": [dose_row("01-0001", "WEEK 0", "05-MAR-2021"),
                   dose_row("01-0001", "WEEK 2", "19-MAR-2021"),
                   dose_row("01-0002", "WEEK 0", "06-MAR-2021", DOSE_MGKG="0", DOSE_MG="0")],
        "disp": [{"SUBJID": "01-0003", "DSSTDAT": "10-MAR-2021", "DSDECOD_SITE": "Screen failure"}],
        # Every required form needs at least one row (an empty required form is bad input).
        "ae": [{"SITEID": "01", "SUBJID": "01-0001", "AESPID": "1", "AETERM": "Headache", "AEPT": "Headache",
                "AESTDAT": "10-MAR-2021", "AEENDAT": "12-MAR-2021", "AETOXGR": "1", "AESER": "No",
                "AEREL": "Not related", "AEACN": "Dose not changed", "AEOUT": "Recovered/resolved"}],
        "cm": [{"SITEID": "01", "SUBJID": "01-0001", "CMSPID": "1", "CMTRT": "Hydroxychloroquine",
                "CMCLASS": "ANTIMALARIAL", "CMDOSE": "200", "CMDOSU": "mg", "CMDOSFRQ": "BID", "CMROUTE": "Oral",
                "CMSTDAT": "01-JAN-2020", "CMINDC": "SLE"}],
        "sledai": [{"SITEID": "01", "SUBJID": "01-0001", "FOLDER": "WEEK 0", "ASSESSDAT": "05-MAR-2021",
                    "SITETOT": "0"}],
        "bilag": [{"SITEID": "01", "SUBJID": "01-0001", "FOLDER": "WEEK 0", "ASSESSDAT": "05-MAR-2021"}
                  | dict.fromkeys(["CONST", "MUCOCUT", "NEURO", "MUSCULO", "CARDRESP", "GASTRO", "OPHTHAL",
                                   "RENAL", "HAEM"], "E")],
        "pga": [{"SITEID": "01", "SUBJID": "01-0001", "FOLDER": "WEEK 0", "ASSESSDAT": "05-MAR-2021", "PGA": "0.5"}],
        "lab": [{"SITEID": "01", "SUBJID": "01-0001", "FOLDER": "WEEK 0", "LBDAT": "05-MAR-2021", "LBTIM": "08:30",
                 "LBCAT": "IMMUNOLOGY", "LBTEST": "Complement C3", "LBORRES": "1.29", "LBORRESU": "g/L",
                 "LBORNRLO": "0.90", "LBORNRHI": "1.80", "LBNAM": "Central Hospital Laboratory"}],
    }


def invoke(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_version():
    result = invoke("--version")
    assert result.exit_code == 0 and __version__ in result.output


@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_command_is_documented_with_exit_codes(command):
    result = invoke(command, "--help")
    assert result.exit_code == 0
    assert main.commands[command].help, f"{command} has no help text"
    assert "Exit codes: 0 success; 1 validation failed" in result.output


@pytest.mark.parametrize("command", sorted(main.commands["mapping"].commands))
def test_every_mapping_command_is_documented_with_exit_codes(command):
    result = invoke("mapping", command, "--help")
    assert result.exit_code == 0 and main.commands["mapping"].commands[command].help
    assert "Exit codes: 0 the mapping covers the export; 2 something is unknown" in result.output


def test_repeated_bad_input_is_one_line_per_distinct_value_and_the_full_list_is_in_out_rejected(tmp_path):
    rows = mini_rows()
    rows["cm"] = [rows["cm"][0] | {"CMSPID": str(i), "CMDOSU": "ugg"} for i in range(1, 8)]
    raw = write_export(tmp_path / "raw", "NCT04515719", rows)
    out = tmp_path / "out"
    result = invoke("convert", raw, "--study", STUDY, "--out", out)
    assert result.exit_code == 2, result.output
    assert "bad input: 7 problem(s) in 1 group(s); nothing was written to " in result.output
    assert result.output.count("'ugg'") == 1
    assert "ERROR [MAP-CODE] cm.csv rows 2, 3, 4, ... (7 rows), column CMDOSU: CMDOSU 'ugg'" in result.output
    assert f"every finding (errors first): {out}.rejected/input-problems.json" in result.output
    problems = assert_only_input_problems(out)
    assert problems["counts"]["error"] == 7 and len([f for f in problems["findings"] if f["rule"] == "MAP-CODE"]) == 7
    assert problems["groups"][0]["count"] == 7 and problems["groups"][0]["first_rows"] == [2, 3, 4]
    # a later good run removes the stale list
    assert invoke("convert", write_export(tmp_path / "good", "NCT04515719", mini_rows()), "--study", STUDY,
                  "--out", out, "-q").exit_code == 0
    assert not (tmp_path / "out.rejected").exists()


def test_convert_writes_dm_ex_and_report(tmp_path):
    raw = write_export(tmp_path / "raw", "NCT04515719", mini_rows())
    out = tmp_path / "out"
    log = tmp_path / "run.json"
    result = invoke("convert", raw, "--study", STUDY, "--out", out, "--log-json", log)
    assert result.exit_code == 0, result.output
    assert {"dm.xpt", "ex.xpt"} <= {p.name for p in (out / "sdtm").iterdir()}
    dm, meta = read_xpt(out / "sdtm" / "dm.xpt")
    assert meta["name"] == "DM" and meta["label"] == "Demographics"
    assert dm["USUBJID"].tolist() == ["NCT04515719-01-0001", "NCT04515719-01-0002", "NCT04515719-01-0003"]
    report = json.loads((out / "validation.json").read_text(encoding="utf-8"))
    assert report["status"] == "passed" and report["datasets"]["EX"]["records"] == 3
    run = json.loads(log.read_text(encoding="utf-8"))
    assert run["exit_code"] == 0 and set(run["timings_s"]) == {"read", "map", "derive", "validate", "write"}


def test_convert_twice_gives_byte_identical_outputs(tmp_path):
    """Without --created the run date is taken once (define.xml, guide) and recorded in validation.json
    run.created; a rerun given it with --created writes the same bytes, every file."""
    raw = write_export(tmp_path / "raw", "NCT04515719", mini_rows())
    assert invoke("convert", raw, "--study", STUDY, "--out", tmp_path / "a", "-q").exit_code == 0
    created = json.loads((tmp_path / "a" / "validation.json").read_text(encoding="utf-8"))["run"]["created"]
    assert created != "1960-01-01T00:00:00" and created[:4] >= "2025"
    assert f'CreationDateTime="{created}"' in (tmp_path / "a" / "sdtm" / "define.xml").read_text(encoding="utf-8")
    assert created in (tmp_path / "a" / "reviewers-guide.md").read_text(encoding="utf-8")
    assert invoke("convert", raw, "--study", STUDY, "--out", tmp_path / "b", "-q", "--created", created).exit_code == 0
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert files and Path("reviewers-guide.html") in files
    for rel in files:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel


def test_convert_created_must_be_an_iso_date_time(tmp_path):
    raw = write_export(tmp_path / "raw", "NCT04515719", mini_rows())
    result = invoke("convert", raw, "--study", STUDY, "--out", tmp_path / "a", "-q", "--created", "yesterday")
    assert result.exit_code == 2 and "--created 'yesterday'" in result.output + (result.stderr or "")


@pytest.mark.parametrize("damage, expected", [
    ("missing-enrol", ["enrol.csv", "READ-MISSING-FILE"]),
    ("wrong-encoding", ["ae.csv", "byte offset", "READ-ENCODING"]),
    ("impossible-date", ["dosing.csv row 3, column EXSTDAT", "31-FEB-2021"]),
    ("orphan-subject", ["dosing.csv row 5, column SUBJID", "01-0099", "not on enrol"]),
])
def test_damaged_export_exits_2_names_file_row_column_and_writes_nothing(tmp_path, damage, expected):
    rows = mini_rows()
    if damage == "impossible-date":
        rows["dosing"][1]["EXSTDAT"] = "31-FEB-2021"
    if damage == "orphan-subject":
        rows["dosing"].append(dose_row("01-0099", "WEEK 0", "07-MAR-2021"))
    raw = write_export(tmp_path / "raw", "NCT04515719", rows)
    if damage == "missing-enrol":
        (raw / "enrol.csv").unlink()
    if damage == "wrong-encoding":
        (raw / "ae.csv").write_bytes("STUDYID,SITEID,SUBJID,FOLDER,AESPID,AETERM\n".encode()
                                     + "NCT04515719,01,01-0001,,1,皮疹\n".encode("gb18030"))
    out = tmp_path / "out"
    result = invoke("convert", raw, "--study", STUDY, "--out", out)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for text in expected:
        assert text in result.output
    assert "nothing was written" in result.output
    assert_only_input_problems(out)


def test_failed_gate_exits_1_keeps_previous_output_and_writes_report_aside(tmp_path):
    raw = write_export(tmp_path / "raw", "NCT04515719", mini_rows())
    out = tmp_path / "out"
    assert invoke("convert", raw, "--study", STUDY, "--out", out, "-q").exit_code == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    bad_mapping = tmp_path / "bad.yaml"
    bad_mapping.write_text(f"extends: {MAPPINGS / 'reference.yaml'}\nname: bad\n"
                           "values:\n  enrol.SEX: {Female: FEMALE, Male: MALE}\n", encoding="utf-8")
    result = invoke("convert", raw, "--study", STUDY, "--mapping", bad_mapping, "--out", out)
    assert result.exit_code == 1, result.output
    assert "DM.SEX.CT" in result.output
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    report = json.loads((tmp_path / "out.rejected" / "validation.json").read_text(encoding="utf-8"))
    failed = [e for e in report["gate"]["expectations"] if e["status"] == "failed"]
    # DM has three subjects; ADSL carries SEX of the two assigned to an arm
    assert [(e["id"], e["dataset"], e["unexpected_count"]) for e in failed] == [
        ("ADSL.SEX.CT", "ADSL", 2), ("DM.SEX.CT", "DM", 3)]
    dm_failure = failed[1]
    assert dm_failure["examples"][0]["file"] == "enrol.csv" and dm_failure["examples"][0]["row"] == 2
    assert not (tmp_path / "out.rejected" / "sdtm").exists()


def test_bad_mapping_file_exits_2_with_key_path(tmp_path):
    raw = write_export(tmp_path / "raw", "NCT04515719", mini_rows())
    bad_mapping = tmp_path / "bad.yaml"
    bad_mapping.write_text("name: bad\nencoding: latin-1\nforms: {}\n", encoding="utf-8")
    result = invoke("convert", raw, "--study", STUDY, "--mapping", bad_mapping, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert "bad.yaml" in result.output and "encoding: Input should be 'utf-8' or 'gb18030'" in result.output


def test_usage_error_exits_2(tmp_path):
    assert invoke("convert", tmp_path).exit_code == 2


def test_validate_rechecks_written_xpt(tmp_path):
    raw = write_export(tmp_path / "raw", "NCT04515719", mini_rows())
    out = tmp_path / "out"
    assert invoke("convert", raw, "--study", STUDY, "--out", out, "-q").exit_code == 0
    result = invoke("validate", out, "--study", STUDY, "-q")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["status"] == "passed" and payload["gate"]["summary"]["failed"] == 0


def test_validate_without_outputs_exits_2(tmp_path):
    result = invoke("validate", tmp_path)
    assert result.exit_code == 2 and "no sdtm/*.xpt" in result.output

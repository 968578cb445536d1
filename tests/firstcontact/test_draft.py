"""`sdtm-lupus mapping draft`: a starting mapping from an unseen CSV export."""

from __future__ import annotations

import shutil

import yaml
from click.testing import CliRunner

from sdtm_lupus.cli import main
from tests.paths import FIXTURES, STUDIES

STUDY = str(STUDIES / "NCT04515719.yaml")


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_draft_of_the_reference_fixture_has_no_todo_and_converts_it(tmp_path):
    raw = FIXTURES / "NCT04515719" / "csv"
    drafted = tmp_path / "site.yaml"
    result = invoke("mapping", "draft", raw, "--study", STUDY, "--out", drafted)
    assert result.exit_code == 0, result.output
    assert "no TODO" in result.output and ": TODO" not in drafted.read_text(encoding="utf-8")
    check = invoke("mapping", "check", raw, "--study", STUDY, "--mapping", drafted, "-q")
    assert check.exit_code == 0, check.output
    out = tmp_path / "out"
    converted = invoke("convert", raw, "--study", STUDY, "--mapping", drafted, "--out", out, "-q")
    assert converted.exit_code == 0, converted.output
    assert (out / "sdtm" / "cm.xpt").is_file() and (out / "sdtm" / "lb.xpt").is_file()


def test_draft_finds_renamed_columns_and_a_renamed_file(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(FIXTURES / "NCT04515719" / "csv", raw)
    (raw / "manifest.json").unlink()
    (raw / "cm.csv").rename(raw / "conmeds_export.csv")
    for name, old, new in (("enrol.csv", "SUBJID,", "Subject_ID,"), ("conmeds_export.csv", ",CMDOSU,", ",cm_dosu,"),
                           ("lab.csv", ",LBTEST,", ",Test Name,")):
        path = raw / name
        path.write_text(path.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    drafted = tmp_path / "site.yaml"
    result = invoke("mapping", "draft", raw, "--out", drafted)
    assert result.exit_code == 0, result.output
    forms = yaml.safe_load(drafted.read_text(encoding="utf-8"))["forms"]
    assert forms["cm"]["file"] == "conmeds_export.csv"
    assert forms["cm"]["rename"] == {"CMDOSU": "cm_dosu"}
    assert forms["enrol"]["rename"] == {"SUBJID": "Subject_ID"}
    assert forms["lab"]["rename"] == {"LBTEST": "Test Name"}
    assert set(forms) == {"enrol", "dosing", "ae", "cm", "sledai", "bilag", "pga", "flare", "lab", "disp"}
    converted = invoke("convert", raw, "--study", STUDY, "--mapping", drafted, "--out", tmp_path / "out", "-q")
    assert converted.exit_code == 0, converted.output


def test_draft_refuses_to_overwrite(tmp_path):
    drafted = tmp_path / "site.yaml"
    drafted.write_text("mine", encoding="utf-8")
    result = invoke("mapping", "draft", FIXTURES / "NCT04515719" / "csv", "--out", drafted)
    assert result.exit_code == 2 and "refusing to overwrite" in result.output
    assert drafted.read_text(encoding="utf-8") == "mine" and "Traceback" not in result.output

"""Commands that answer the user plainly (issue 17): study ids, the wrong study up front,
--fail-on-findings, progress lines, and `validate`'s verdict and study detection."""

import json
import shutil

import pytest
from click.testing import CliRunner

from sdtm_lupus.cli import main
from tests.paths import FIXTURES

STUDY = "NCT04515719"


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    out = tmp_path_factory.mktemp("ux") / "out"
    result = run("convert", FIXTURES / STUDY / "csv", "--study", STUDY, "--out", out)     # a study id, not a path
    assert result.exit_code == 0, result.output
    return out, result


def test_convert_takes_a_study_id_and_ends_with_the_report(converted):
    out, result = converted
    lines = result.stderr.splitlines()
    assert lines[-1].endswith(f"report: {out / 'validation.html'}")
    assert all(len(line) <= 100 for line in lines)
    assert any("validating QS:" in line for line in lines) and any("writing sdtm/qs.xpt" in line for line in lines)
    assert all(line.startswith("[") and "s] " in line[:12] for line in lines if not line.startswith(" "))


def test_an_export_of_another_study_is_one_message_up_front(tmp_path):
    result = run("convert", FIXTURES / "NCT04893161" / "csv", "--study", STUDY, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert "READ-OTHER-STUDY" in result.output and "use --study NCT04893161" in result.output
    assert result.output.count("ERROR") == 1 and "MAP-STUDYID" not in result.output


def test_fail_on_findings_stops_the_write_on_qc_warnings(tmp_path):
    out = tmp_path / "out"
    result = run("convert", FIXTURES / STUDY / "csv", "--study", STUDY, "--out", out, "-q",
                 "--fail-on-findings", "warning")
    assert result.exit_code == 1 and not out.exists()
    assert "finding(s) at or above warning (--fail-on-findings)" in result.stderr
    assert "WARNING [QC-VISIT-WINDOW]" in result.stderr
    report = json.loads((tmp_path / "out.rejected" / "validation.json").read_text(encoding="utf-8"))
    assert report["status"] == "failed" and report["fail_on_findings"] == "warning"
    assert report["gate"]["summary"]["failed_by_severity"]["error"] == 0


def test_validate_detects_the_study_and_gives_a_one_line_verdict(converted):
    out, _ = converted
    result = run("validate", out)
    assert result.exit_code == 0
    verdict = result.stderr.strip().splitlines()[-1]
    assert verdict.startswith("validate: PASSED (study NCT04515719 from validation.json;") and "NOT RUN" not in verdict
    assert json.loads(result.stdout)["study"]["configuration"] == "NCT04515719.yaml"


def test_validate_says_which_checks_it_could_not_run(converted, tmp_path):
    out = tmp_path / "copy"
    shutil.copytree(converted[0], out)
    report = json.loads((out / "validation.json").read_text(encoding="utf-8"))
    (out / "validation.json").write_text(json.dumps({**report, "study": "NCT00000000"}), encoding="utf-8")
    result = run("validate", out)
    verdict = result.stderr.strip().splitlines()[-1]
    assert "NOT RUN: the study's own checks (ARMCD and ARM codelists)" in verdict
    assert json.loads(result.stdout)["study"] == {"id": "NCT00000000", "detected_from": "validation.json",
                                                  "not_run": "the study's own checks (ARMCD and ARM codelists): "
                                                             "give --study STUDY.yaml"}

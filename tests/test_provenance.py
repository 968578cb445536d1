"""Provenance and refused runs (issue 12: defects 7 and 9): what the manifest may vouch for, what is
hashed as input, what a refused run's log keeps, and the last line of defence against tracebacks."""

import hashlib
import json
import shutil

import pytest
from click.testing import CliRunner

from sdtm_lupus.cli import main
from sdtm_lupus.output_marker import OUTPUT_MARKER, marker_bytes
from sdtm_lupus.readers.manifest import export_files, scan_export, verify_manifest
from sdtm_lupus.simulate.writers import write_manifest
from tests.paths import FIXTURES, STUDIES

STUDY = STUDIES / "NCT04515719.yaml"


def convert(raw, out, *args):
    result = CliRunner().invoke(main, ["convert", str(raw), "--study", str(STUDY), "--out", str(out), "-q", *args])
    assert "Traceback" not in result.output
    return result


@pytest.fixture
def raw(tmp_path):
    folder = tmp_path / "raw"
    shutil.copytree(FIXTURES / "NCT04515719" / "csv", folder)
    return folder


def manifest_files(raw):
    return sorted(p.name for p in raw.iterdir() if p.is_file() and p.name != "manifest.json")


def test_a_manifest_of_deeply_nested_arrays_is_refused_without_a_traceback(raw, tmp_path):
    (raw / "manifest.json").write_text("[" * 100_000 + "]" * 100_000)
    result = convert(raw, tmp_path / "out")
    assert result.exit_code == 2 and "manifest.json" in result.output and "nested too deeply" in result.output
    assert not (tmp_path / "out").exists()


def test_an_oversized_manifest_is_refused_before_it_is_parsed(raw, monkeypatch):
    from sdtm_lupus.readers import manifest

    monkeypatch.setattr(manifest, "MAX_MANIFEST_BYTES", 1000)
    (raw / "manifest.json").write_text(json.dumps({"algorithm": "sha256", "files": [], "pad": "x" * 2000}))
    [finding] = verify_manifest(raw)
    assert finding.rule == "MANIFEST-FORMAT" and "larger than" in finding.message


def test_a_manifest_cannot_vouch_for_a_symlink_that_leads_outside_the_export(raw, tmp_path):
    outside = tmp_path / "elsewhere.csv"
    shutil.move(raw / "pga.csv", outside)
    (raw / "pga.csv").symlink_to(outside)
    write_manifest(raw, "NCT04515719", manifest_files(raw))     # the manifest's hashes match the target
    findings = verify_manifest(raw)
    assert [(f.rule, f.file) for f in findings] == [("MANIFEST-PATH", "pga.csv")]
    result = convert(raw, tmp_path / "out")
    assert result.exit_code == 2 and "pga.csv" in result.output and "outside the export folder" in result.output
    assert not (tmp_path / "out").exists()


def test_a_symlink_that_leads_outside_the_export_is_refused_without_a_manifest(raw, tmp_path):
    outside = tmp_path / "elsewhere.csv"
    shutil.move(raw / "ae.csv", outside)
    (raw / "ae.csv").symlink_to(outside)
    (raw / "manifest.json").unlink()
    assert [(f.rule, f.severity, f.file) for f in scan_export(raw)] == [("READ-LINK-OUTSIDE", "error", "ae.csv")]
    result = convert(raw, tmp_path / "out")
    assert result.exit_code == 2 and "READ-LINK-OUTSIDE" in result.output


def test_a_symlink_inside_the_export_is_fine(raw):
    (raw / "alias.txt").symlink_to(raw / "enrol.csv")
    assert scan_export(raw) == []


def test_a_previous_output_inside_the_export_is_neither_hashed_nor_unlisted(raw, tmp_path):
    old = raw / "old-run"                      # e.g. copied in by hand, or written by an older version
    (old / "sdtm").mkdir(parents=True)
    (old / "sdtm" / "dm.xpt").write_bytes(b"old")
    (old / OUTPUT_MARKER).write_bytes(marker_bytes(old))
    assert not any(f.startswith("old-run/") for f in export_files(raw))
    assert [(f.rule, f.file) for f in verify_manifest(raw)] == []          # not "unlisted"
    assert [(f.rule, f.severity, f.file) for f in scan_export(raw)] == \
        [("READ-OUTPUT-IN-EXPORT", "warning", "old-run")]
    result = convert(raw, tmp_path / "out")
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "out" / "validation.json").read_text())
    hashed = [f["path"] for f in report["input"]["files"]]
    assert "enrol.csv" in hashed and not any(p.startswith("old-run/") for p in hashed)
    assert {"rule": "READ-OUTPUT-IN-EXPORT", "severity": "warning"}.items() <= next(
        f for f in report["findings"] if f["rule"] == "READ-OUTPUT-IN-EXPORT").items()
    entry = next(f for f in report["input"]["files"] if f["path"] == "enrol.csv")
    assert entry["sha256"] == hashlib.sha256((raw / "enrol.csv").read_bytes()).hexdigest()


def test_the_log_of_a_refused_run_keeps_its_warnings(raw, tmp_path):
    (raw / "notes.txt").write_text("not listed in the manifest: a warning")
    lines = (raw / "dosing.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    header = lines[0].rstrip("\r\n").split(",")
    cells = lines[1].rstrip("\r\n").split(",")
    cells[header.index("EXSTDAT")] = "31-FEB-2021"
    lines[1] = ",".join(cells) + "\n"
    (raw / "dosing.csv").write_text("".join(lines), encoding="utf-8")
    write_manifest(raw, "NCT04515719", [n for n in manifest_files(raw) if n != "notes.txt"])
    log = tmp_path / "run.json"
    result = convert(raw, tmp_path / "out", "--log-json", str(log))
    assert result.exit_code == 2
    assert "1 problem(s)" in result.output and "MANIFEST-UNLISTED" not in result.output   # stderr: the errors
    logged = json.loads(log.read_text())
    assert logged["exit_code"] == 2
    assert {(f["rule"], f["severity"]) for f in logged["findings"]} >= {("MAP-DATE", "error"),
                                                                        ("MANIFEST-UNLISTED", "warning")}


def test_an_unforeseen_exception_is_a_plain_internal_error_not_a_traceback(raw, tmp_path, monkeypatch):
    from sdtm_lupus import sdtm

    def broken(*_a, **_kw):
        raise ValueError("something nobody foresaw")
    monkeypatch.setattr(sdtm, "map_sdtm", broken)
    log = tmp_path / "run.json"
    result = convert(raw, tmp_path / "out", "--log-json", str(log))
    assert result.exit_code == 3
    assert "internal error (ValueError: something nobody foresaw)" in result.output
    assert "nothing was written" in result.output and not (tmp_path / "out").exists()
    assert json.loads(log.read_text())["exit_code"] == 3

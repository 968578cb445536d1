"""The output-folder rules (issue 12: defects 1, 7, 9 and 10): convert never deletes what it did not
write, refuses an OUT over the export, finds an unwritable OUT before the work, survives a full disk
and a kill -9, and cleans up after itself."""

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner

from sdtm_lupus import api
from sdtm_lupus.cli import main
from sdtm_lupus.output_marker import OUTPUT_MARKER, marker_bytes
from sdtm_lupus.write import output_folder
from sdtm_lupus.write.atomic import clean_leftovers
from sdtm_lupus.write.output_folder import OutputError, check_output_target, rejected_dir
from tests.paths import FIXTURES, STUDIES

STUDY = STUDIES / "NCT04515719.yaml"


def snapshot(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def convert(raw, out, *args):
    # a fixed creation date: reruns write the same bytes (define.xml, Dataset-JSON, reviewer's guide)
    result = CliRunner().invoke(main, ["convert", str(raw), "--study", str(STUDY), "--out", str(out), "-q",
                                       "--created", "2025-01-01T00:00:00", *args])
    assert "Traceback" not in result.output
    return result


def dead_pid():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.fixture
def raw(tmp_path):
    folder = tmp_path / "export" / "raw"
    shutil.copytree(FIXTURES / "NCT04515719" / "csv", folder)
    return folder


@pytest.fixture
def no_work(monkeypatch):
    """Refusals must come before reading: reading the export fails the test."""
    from sdtm_lupus.readers import export

    def read_export(*_args, **_kw):
        raise AssertionError("the export was read although the output folder is refused")
    monkeypatch.setattr(export, "read_export", read_export)


@pytest.mark.parametrize("where", ["raw", "parent", "grandparent"])
def test_out_that_is_or_contains_the_export_is_refused_and_the_export_kept(raw, where, no_work):
    out = {"raw": raw, "parent": raw.parent, "grandparent": raw.parent.parent}[where]
    (raw.parent / "SAP.docx").write_bytes(b"statistical analysis plan")
    before = snapshot(out)
    result = convert(raw, out)
    assert result.exit_code == 2
    assert "is or contains the export folder" in result.output and "nothing was written" in result.output
    assert snapshot(out) == before


def test_out_inside_the_export_is_refused(raw, no_work):
    before = snapshot(raw)
    result = convert(raw, raw / "out")
    assert result.exit_code == 2 and "lies inside the export folder" in result.output
    assert snapshot(raw) == before and not (raw / "out").exists()


def test_out_through_a_symlink_to_the_export_is_refused(raw, tmp_path, no_work):
    link = tmp_path / "link-to-export"
    link.symlink_to(raw.parent, target_is_directory=True)
    result = convert(raw, link / "raw")
    assert result.exit_code == 2 and "export folder" in result.output
    assert (raw / "enrol.csv").is_file()


@pytest.mark.parametrize("out", [".", ".."])
def test_out_that_is_the_current_folder_is_refused(raw, out, monkeypatch, tmp_path, no_work):
    work = tmp_path / "work" / "here"
    work.mkdir(parents=True)
    (work / "qc_program.sas").write_text("proc print; run;")
    monkeypatch.chdir(work)
    result = convert(raw, out)
    assert result.exit_code == 2
    assert (work / "qc_program.sas").read_text() == "proc print; run;"


def test_out_that_contains_the_current_folder_is_refused(raw, monkeypatch, tmp_path, no_work):
    work = tmp_path / "project" / "programs"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    result = convert(raw, tmp_path / "project")
    assert result.exit_code == 2 and "current folder" in result.output and work.is_dir()


def test_a_folder_of_other_files_is_refused_without_overwrite(raw, tmp_path, no_work):
    out = tmp_path / "deliverables"
    out.mkdir()
    (out / "SAP.pdf").write_bytes(b"%PDF")
    (out / "qc").mkdir()
    result = convert(raw, out)
    assert result.exit_code == 2
    assert "not written by sdtm-lupus" in result.output and "SAP.pdf" in result.output and "--overwrite" in result.output
    assert snapshot(out) == {"SAP.pdf": b"%PDF"} and (out / "qc").is_dir()


@pytest.mark.parametrize("kind", ["file", "symlink"])
def test_out_that_is_a_file_or_a_link_is_refused(raw, tmp_path, kind, no_work):
    out = tmp_path / "out"
    if kind == "file":
        out.write_text("not a folder")
    else:
        (tmp_path / "real").mkdir()
        out.symlink_to(tmp_path / "real", target_is_directory=True)
    result = convert(raw, out)
    assert result.exit_code == 2 and str(out) in result.output
    assert out.is_symlink() if kind == "symlink" else out.read_text() == "not a folder"


def test_an_unwritable_parent_is_found_before_any_work(raw, no_work):
    # /sys refuses mkdir even for root: a real read-only place, no permission tricks needed
    result = convert(raw, "/sys/sdtm-lupus-out")
    assert result.exit_code == 2 and "cannot write in /sys" in result.output


def test_permission_denied_on_the_parent_is_found_before_any_work(raw, tmp_path, monkeypatch, no_work):
    def denied(*_a, **_kw):
        raise PermissionError(errno.EACCES, "Permission denied")
    monkeypatch.setattr(output_folder.tempfile, "mkdtemp", denied)
    result = convert(raw, tmp_path / "out")
    assert result.exit_code == 2 and "Permission denied" in result.output and not (tmp_path / "out").exists()


def test_the_whole_life_of_an_output_folder(raw, tmp_path, monkeypatch):
    """--overwrite, reruns, a user's file put into OUT, a rejected run, a stale .rejected, a full disk."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("someone's file")
    first = convert(raw, out, "--overwrite")                        # explicit: replace the foreign folder
    assert first.exit_code == 0, first.output
    written = snapshot(out)
    assert "old.txt" not in written and "sdtm/dm.xpt" in written
    listed = json.loads(written[OUTPUT_MARKER])["files"]
    assert sorted(listed) == sorted(k for k in written if k != OUTPUT_MARKER)

    stale = rejected_dir(out)                                       # reports of an earlier failed run
    stale.mkdir()
    (stale / "validation.json").write_text("{}")
    (stale / OUTPUT_MARKER).write_bytes(marker_bytes(stale))
    killed = tmp_path / f".out.tmp-{dead_pid()}-0badc0de"           # staging folder of a killed run
    (killed / "sdtm").mkdir(parents=True)
    second = convert(raw, out)                                      # our own output: replaced, no flag needed
    assert second.exit_code == 0, second.output
    assert snapshot(out) == written                                 # deterministic, and replaced whole
    assert not stale.exists() and not killed.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export", "out"]

    (out / "adam" / "my-notes.txt").write_text("notes")             # a user's file inside our output
    third = convert(raw, out)
    assert third.exit_code == 2 and "adam/my-notes.txt" in third.output
    (out / "adam" / "my-notes.txt").unlink()

    from sdtm_lupus.validate.results import GateResult

    with monkeypatch.context() as patch:                            # the gate stops the write
        patch.setattr(GateResult, "blocking", lambda self, fail_on="error": self.results[:1])
        rejected = convert(raw, out)
    assert rejected.exit_code == 1
    assert snapshot(out) == written                                 # the previous output is intact
    assert (stale / "validation.json").is_file() and (stale / OUTPUT_MARKER).is_file()

    from sdtm_lupus.write import outputs

    def disk_full(folder, *_a, **_kw):
        (folder / "half.xpt").parent.mkdir(parents=True, exist_ok=True)
        (folder / "half.xpt").write_bytes(b"HEADER")
        raise OSError(errno.ENOSPC, "No space left on device", str(folder / "half.xpt"))
    monkeypatch.setattr(outputs, "write_datasets", disk_full)
    full = convert(raw, out)
    assert full.exit_code == 2 and "the disk is full" in full.output and "previous output is intact" in full.output
    assert snapshot(out) == written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export", "out", "out.rejected"]


KILL_MID_WRITE = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from sdtm_lupus.write.output_folder import write_output_folder

    def fill(tmp):
        (tmp / "sdtm").mkdir()
        (tmp / "sdtm" / "dm.xpt").write_bytes(b"x" * 1_000_000)
        os.kill(os.getpid(), signal.SIGKILL)        # kill -9 in the middle of writing
    write_output_folder(Path(sys.argv[1]), fill)
""")


def test_kill_9_mid_write_leaves_the_previous_output_and_the_next_run_cleans_up(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "sdtm").mkdir()
    (out / "sdtm" / "dm.xpt").write_bytes(b"previous")
    (out / OUTPUT_MARKER).write_bytes(marker_bytes(out))
    before = snapshot(out)
    proc = subprocess.run([sys.executable, "-c", KILL_MID_WRITE, str(out)], cwd=tmp_path)
    assert proc.returncode == -signal.SIGKILL
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.tmp-")]
    assert len(leftovers) == 1 and snapshot(out) == before
    cleaned = check_output_target(None, out)
    assert cleaned == leftovers and sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert snapshot(out) == before


def test_a_run_killed_between_the_two_renames_gets_its_previous_output_back(tmp_path):
    out = tmp_path / "out"
    backup = tmp_path / f".out.old-{dead_pid()}-12345678"
    backup.mkdir()
    (backup / "dm.xpt").write_bytes(b"previous")
    assert clean_leftovers(out) == [backup.name]
    assert snapshot(out) == {"dm.xpt": b"previous"} and not backup.exists()


def test_the_staging_folder_of_a_run_still_going_is_left_alone(tmp_path):
    mine = tmp_path / f".out.tmp-{os.getpid()}-abcdef01"
    mine.mkdir()
    other = tmp_path / ".out.tmp-notapid-abcdef01"                 # not ours by name: never touched
    other.mkdir()
    assert clean_leftovers(tmp_path / "out") == []
    assert mine.is_dir() and other.is_dir()


def test_check_output_target_names_the_reason_for_each_refusal(tmp_path):
    (tmp_path / "raw").mkdir()
    with pytest.raises(OutputError, match="lies inside the export folder"):
        check_output_target(tmp_path / "raw", tmp_path / "raw" / "a" / "b")
    with pytest.raises(OutputError, match="rejected-run folder"):
        (tmp_path / "x.rejected").mkdir()
        (tmp_path / "x.rejected" / "keep.txt").write_text("mine")
        check_output_target(tmp_path / "raw", tmp_path / "x")
    assert check_output_target(tmp_path / "raw", tmp_path / "x", overwrite=True) == []


def test_the_rejected_run_report_folder_may_not_be_the_export(tmp_path, no_work):
    raw = tmp_path / "site.rejected"
    shutil.copytree(FIXTURES / "NCT04515719" / "csv", raw)
    result = convert(raw, tmp_path / "site")
    assert result.exit_code == 2 and "rejected-run folder" in result.output and (raw / "enrol.csv").is_file()


def test_api_convert_refuses_like_the_cli(raw):
    with pytest.raises(OutputError):
        api.convert(raw, STUDY, raw)

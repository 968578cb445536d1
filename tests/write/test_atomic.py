import os

import pytest

from sdtm_lupus.write import atomic
from sdtm_lupus.write.atomic import atomic_output_dir


def snapshot(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def make_previous_output(folder):
    (folder / "sdtm").mkdir(parents=True)
    (folder / "sdtm" / "dm.xpt").write_bytes(b"old dm")
    (folder / "report.txt").write_text("old report")
    return snapshot(folder)


def test_success_moves_files_in_and_replaces_previous_output(tmp_path):
    final = tmp_path / "out"
    make_previous_output(final)
    with atomic_output_dir(final) as staging:
        assert staging.parent == tmp_path and staging.name.startswith(".out.tmp-")
        assert staging.is_dir() and not any(staging.iterdir())
        (staging / "sdtm").mkdir()
        (staging / "sdtm" / "ae.xpt").write_bytes(b"new ae")
        assert snapshot(final)["sdtm/dm.xpt"] == b"old dm"  # untouched until exit
    assert snapshot(final) == {"sdtm/ae.xpt": b"new ae"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temp, no backup


def test_exception_leaves_previous_output_byte_identical(tmp_path):
    final = tmp_path / "out"
    before = make_previous_output(final)
    with pytest.raises(RuntimeError, match="mapping failed"):
        with atomic_output_dir(final) as staging:
            (staging / "dm.xpt").write_bytes(b"half written")
            raise RuntimeError("mapping failed")
    assert snapshot(final) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_creates_missing_final_dir_and_parents(tmp_path):
    final = tmp_path / "runs" / "2024" / "out"
    with atomic_output_dir(final) as staging:
        (staging / "dm.xpt").write_bytes(b"dm")
    assert snapshot(final) == {"dm.xpt": b"dm"}
    assert [p.name for p in final.parent.iterdir()] == ["out"]


def test_exception_without_previous_output_leaves_nothing(tmp_path):
    final = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        with atomic_output_dir(final) as staging:
            (staging / "dm.xpt").write_bytes(b"dm")
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_failed_rename_into_place_restores_previous_output(tmp_path, monkeypatch):
    final = tmp_path / "out"
    before = make_previous_output(final)
    real_rename = os.rename

    def rename(src, dst):
        if ".out.tmp-" in str(src):  # moving the new folder into place fails
            raise OSError("rename failed")
        real_rename(src, dst)

    monkeypatch.setattr(atomic.os, "rename", rename)
    with pytest.raises(OSError, match="rename failed"):
        with atomic_output_dir(final) as staging:
            (staging / "dm.xpt").write_bytes(b"new dm")
    assert snapshot(final) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]

"""The output-folder rules: what `convert --out` may replace, checked before any work is done.

- OUT (and OUT.rejected) may not be, contain or lie inside the export folder, nor contain the
  current folder or the home folder, nor be a filesystem root or a symbolic link.
- An existing OUT is replaced only when sdtm-lupus wrote it (its marker lists every file it
  wrote) and nothing else was put into it since, unless `overwrite` is given.
- OUT's parent must be writable: probed at the start, not after hours of work.
- Staging folders of killed runs are removed; a stale OUT.rejected goes once a run succeeds.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from pathlib import Path

from sdtm_lupus import distinct
from sdtm_lupus.output_marker import OUTPUT_MARKER, foreign_entries, is_tool_output, marker_bytes
from sdtm_lupus.write import background
from sdtm_lupus.write.atomic import atomic_output_dir, clean_leftovers

SHOWN = 5


class OutputError(Exception):
    """The output folder cannot be used or written (exit 2; nothing written, previous output intact)."""


def rejected_dir(out_dir: Path) -> Path:
    """Reports of a run whose gate failed go here, never into the output folder."""
    out_dir = Path(out_dir)
    return out_dir.with_name(out_dir.name + ".rejected")


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_output_target(raw_dir: Path | None, out_dir: Path, *, overwrite: bool = False) -> list[str]:
    """Refuse an unsafe OUT (OutputError); clean leftovers of killed runs; return what was cleaned."""
    out_dir = Path(out_dir)
    if out_dir.name in ("", ".", ".."):
        raise OutputError(f"--out {out_dir}: give a folder name, not {out_dir.name or out_dir!s}")
    raw = Path(raw_dir).resolve() if raw_dir is not None else None
    cleaned: list[str] = []
    for target in (out_dir, rejected_dir(out_dir)):
        _check_one(raw, target, overwrite, out_dir)
        cleaned += clean_leftovers(target)
    _probe_writable(out_dir)
    return cleaned


def _check_one(raw: Path | None, target: Path, overwrite: bool, out_dir: Path) -> None:
    what = "--out" if target == out_dir else f"--out {out_dir}: the rejected-run folder"
    if target.is_symlink():
        raise OutputError(f"{what} {target} is a symbolic link: give the real folder")
    resolved = target.resolve()
    if raw is not None and _inside(raw, resolved):
        raise OutputError(f"{what} {target} is or contains the export folder {raw}: it would be replaced; "
                          "choose a folder outside the export")
    if raw is not None and _inside(resolved, raw):
        raise OutputError(f"{what} {target} lies inside the export folder {raw}: outputs must not mix with "
                          "the raw export; choose a folder outside it")
    for name, protected in (("the current folder", Path.cwd().resolve()), ("your home folder", Path.home().resolve())):
        if _inside(protected, resolved):
            raise OutputError(f"{what} {target} is or contains {name}: choose a folder of its own")
    if resolved.parent == resolved:
        raise OutputError(f"{what} {target} is a filesystem root")
    if not target.exists():
        return
    if not target.is_dir():
        raise OutputError(f"{what} {target} exists and is not a folder")
    foreign = foreign_entries(target)
    if foreign and not overwrite:
        listed = ", ".join(foreign[:SHOWN]) + (" ..." if len(foreign) > SHOWN else "")
        whose = "holds files sdtm-lupus did not write" if is_tool_output(target) else \
            "is not empty and was not written by sdtm-lupus"
        raise OutputError(f"{what} {target} {whose} ({listed}); nothing was changed. Choose another folder, "
                          "or give --overwrite to replace it")


def _probe_writable(out_dir: Path) -> None:
    """Make and remove a folder where the outputs will be staged: fails now, not after the work."""
    parent = out_dir.resolve().parent
    existing = parent
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise OutputError(f"--out {out_dir}: {existing} is not a folder")
    try:
        probe = tempfile.mkdtemp(prefix=f".{out_dir.name}.probe-", dir=existing)
        os.rmdir(probe)
    except OSError as exc:
        raise OutputError(f"--out {out_dir}: cannot write in {existing}: {exc.strerror or exc}") from None


def write_output_folder(target: Path, fill) -> None:
    """Build target in a staging folder with fill(staging), mark it as ours, move it into place.

    Any OSError (disk full, permission, read-only filesystem) becomes an OutputError; the staging
    folder is removed and a previous output stays as it was.
    """
    try:
        with atomic_output_dir(target, before_swap=lambda tmp: (tmp / OUTPUT_MARKER).write_bytes(marker_bytes(tmp))) \
                as staging, distinct.shared_factorisations(), background.deferred():
            fill(staging)       # the frames do not change meanwhile; XPT records are written in the background
    except OSError as exc:
        reason = "the disk is full" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else (exc.strerror or str(exc))
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        raise OutputError(f"cannot write {target}: {reason}{where}; nothing was written and any previous "
                          "output is intact") from None


def remove_stale_rejected(out_dir: Path) -> bool:
    """After a successful run, the reports of an earlier rejected run no longer describe OUT."""
    stale = rejected_dir(out_dir)
    if stale.is_dir() and not stale.is_symlink() and is_tool_output(stale) and not foreign_entries(stale):
        shutil.rmtree(stale)
        return True
    return False

"""All-or-nothing output folders: a run either replaces the folder or leaves it alone."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path


def _sibling(final_dir: Path, tag: str) -> Path:
    # Same parent as final_dir, so renames stay on one filesystem (atomic).
    return final_dir.parent / f".{final_dir.name}.{tag}-{secrets.token_hex(4)}"


def _swap_into_place(new_dir: Path, final_dir: Path) -> None:
    if not final_dir.exists():
        os.rename(new_dir, final_dir)
        return
    backup = _sibling(final_dir, "old")
    os.rename(final_dir, backup)
    try:
        os.rename(new_dir, final_dir)
    except BaseException:
        os.rename(backup, final_dir)
        raise
    shutil.rmtree(backup, ignore_errors=True)


@contextlib.contextmanager
def atomic_output_dir(final_dir: Path) -> Iterator[Path]:
    """Yield a fresh temporary directory next to final_dir (same filesystem,
    named .{final.name}.tmp-XXXX); on normal exit replace final_dir with it.

    An existing final_dir is moved aside to a backup name, the temp directory is
    renamed into place, then the backup is deleted; if that rename fails the
    backup is restored. On exception the temp directory is deleted, final_dir is
    left untouched and the exception re-raised.
    """
    final_dir = Path(final_dir)
    final_dir.parent.mkdir(parents=True, exist_ok=True)
    temp_dir = _sibling(final_dir, "tmp")
    temp_dir.mkdir()  # plain mkdir (unlike mkdtemp) keeps the usual umask permissions
    try:
        yield temp_dir
        _swap_into_place(temp_dir, final_dir)
    except BaseException:
        shutil.rmtree(temp_dir, ignore_errors=True)
        raise

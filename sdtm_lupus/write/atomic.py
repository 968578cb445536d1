"""All-or-nothing output folders: a run either replaces the folder or leaves it alone.

Staging and backup folders sit next to the final folder and carry the writing process id
(`.OUT.tmp-<pid>-<hex>`, `.OUT.old-<pid>-<hex>`), so a later run can tell the leftovers of a
killed run from the work of a run still going on (see `clean_leftovers`).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path


def _sibling(final_dir: Path, tag: str) -> Path:
    # Same parent as final_dir, so renames stay on one filesystem (atomic).
    return final_dir.parent / f".{final_dir.name}.{tag}-{os.getpid()}-{secrets.token_hex(4)}"


def _leftover_pattern(final_dir: Path) -> re.Pattern:
    return re.compile(rf"^\.{re.escape(final_dir.name)}\.(tmp|old)-(\d+)-[0-9a-f]{{8}}$")


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:         # alive, owned by someone else
        return True
    return True


def clean_leftovers(final_dir: Path) -> list[str]:
    """Remove staging/backup folders of final_dir left by runs that were killed; return their names.

    A backup left when final_dir itself is missing (killed between the two renames of the swap)
    is the previous output: it is moved back into place, not deleted.
    """
    final_dir = Path(final_dir)
    if not final_dir.parent.is_dir():
        return []
    pattern = _leftover_pattern(final_dir)
    removed = []
    for entry in sorted(final_dir.parent.iterdir()):
        match = pattern.match(entry.name)
        if not match or not entry.is_dir() or entry.is_symlink() or _process_alive(int(match.group(2))):
            continue
        if match.group(1) == "old" and not final_dir.exists():
            os.rename(entry, final_dir)
        else:
            shutil.rmtree(entry)
        removed.append(entry.name)
    return removed


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
def atomic_output_dir(final_dir: Path, *, before_swap: Callable[[Path], None] | None = None) -> Iterator[Path]:
    """Yield a fresh temporary directory next to final_dir (same filesystem,
    named .{final.name}.tmp-PID-XXXX); on normal exit replace final_dir with it.

    before_swap(temp_dir) runs last inside the temporary folder (e.g. to write its marker).
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
        if before_swap is not None:
            before_swap(temp_dir)
        _swap_into_place(temp_dir, final_dir)
    except BaseException:
        shutil.rmtree(temp_dir, ignore_errors=True)
        raise

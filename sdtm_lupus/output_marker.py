"""How sdtm-lupus recognises a folder it wrote itself (readers skip it, writers may replace it)."""

from __future__ import annotations

import json
import os
from pathlib import Path

OUTPUT_MARKER = ".sdtm-lupus-output.json"
# Files of an output folder written before the marker existed (sdtm-lupus 0.1 without a marker).
LEGACY_OUTPUT_FILES = ("validation.json", "validation.html", "validation.xlsx")
LEGACY_OUTPUT_FOLDERS = ("sdtm", "adam")


def marker_bytes(folder: Path) -> bytes:
    """The marker of a finished output folder: the tool and every file it wrote (deterministic)."""
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                   if p.is_file() and p.name != OUTPUT_MARKER)
    return (json.dumps({"tool": "sdtm-lupus", "files": files}, indent=1) + "\n").encode("ascii")


def written_files(folder: Path) -> set[str] | None:
    """The files the marker of folder lists; None when folder is not an sdtm-lupus output."""
    marker = Path(folder) / OUTPUT_MARKER
    if marker.is_file() and not marker.is_symlink():
        try:
            data = json.loads(marker.read_bytes()[:16 << 20])
        except (ValueError, RecursionError):
            return None
        if isinstance(data, dict) and data.get("tool") == "sdtm-lupus" and isinstance(data.get("files"), list):
            return {f for f in data["files"] if isinstance(f, str)}
    return _legacy_output(Path(folder))


def _legacy_output(folder: Path) -> set[str] | None:
    report = folder / "validation.json"
    try:
        tool = json.loads(report.read_bytes()[:256 << 20]).get("tool", {}).get("name")
    except (OSError, ValueError, RecursionError, AttributeError):
        return None
    if tool != "sdtm-lupus":
        return None
    files = set()
    for path in folder.rglob("*"):
        rel = path.relative_to(folder)
        if path.is_file() and (rel.as_posix() in LEGACY_OUTPUT_FILES
                               or (len(rel.parts) == 2 and rel.parts[0] in LEGACY_OUTPUT_FOLDERS)):
            files.add(rel.as_posix())
    return files


def is_tool_output(folder: Path) -> bool:
    return Path(folder).is_dir() and written_files(folder) is not None


def foreign_entries(folder: Path, most: int = 20) -> list[str]:
    """Up to `most` entries of folder that sdtm-lupus did not write (top-level names when it is not
    an sdtm-lupus output at all, so a huge foreign folder is never walked)."""
    folder = Path(folder)
    listed = written_files(folder)
    if listed is None:
        return sorted(p.name + ("/" if p.is_dir() else "") for p in _first(folder.iterdir(), most))
    parents = {p.as_posix() for f in listed for p in Path(f).parents if p.as_posix() != "."}
    foreign: list[str] = []
    for root, dirs, files in os.walk(folder):
        base = Path(root).relative_to(folder)
        for name in sorted(dirs):
            rel = (base / name).as_posix()
            if rel not in parents or (Path(root) / name).is_symlink():
                foreign.append(rel + "/")
                dirs.remove(name)            # report a foreign folder once, not each file inside it
        foreign.extend(rel for rel in ((base / n).as_posix() for n in sorted(files))
                       if rel not in listed and rel != OUTPUT_MARKER)
        if len(foreign) >= most:
            break
    return foreign[:most]


def _first(entries, most: int) -> list[Path]:
    out = []
    for entry in entries:
        out.append(entry)
        if len(out) >= most:
            break
    return out

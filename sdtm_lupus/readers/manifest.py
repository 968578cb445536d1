"""manifest.json: the export's own list of files with their SHA-256 and size.

`{"study": ..., "algorithm": "sha256", "files": [{"path", "sha256", "bytes"}]}`
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path, PurePosixPath

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sdtm_lupus.findings import Finding
from sdtm_lupus.output_marker import is_tool_output

MANIFEST = "manifest.json"
CHUNK = 1 << 20
MAX_MANIFEST_BYTES = 64 << 20     # a manifest lists files: far below this even for 100 000 of them


class _Entry(BaseModel):
    model_config = ConfigDict(extra="ignore")
    path: str = Field(min_length=1)
    sha256: str = Field(pattern=r"^[0-9a-fA-F]{64}$")
    bytes: int = Field(ge=0)


class _Manifest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    study: str | None = None
    algorithm: str
    files: list[_Entry]


def _error(rule: str, message: str, file: str = MANIFEST, severity: str = "error") -> Finding:
    return Finding(rule=rule, severity=severity, message=message, file=file)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def verify_manifest(raw_dir: Path) -> list[Finding]:
    """Check every listed file's size and SHA-256; note files the manifest does not list.

    No manifest: no findings. Fatal problems are findings of severity "error".
    """
    raw_dir = Path(raw_dir)
    path = raw_dir / MANIFEST
    if not path.is_file():
        return []
    size = path.stat().st_size
    if size > MAX_MANIFEST_BYTES:
        return [_error("MANIFEST-FORMAT", f"{size} bytes: larger than the {MAX_MANIFEST_BYTES >> 20} MiB a manifest "
                                          "may have")]
    try:
        manifest = _Manifest.model_validate(json.loads(path.read_bytes()))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return [_error("MANIFEST-FORMAT", f"not valid JSON: {exc}")]
    except RecursionError:
        return [_error("MANIFEST-FORMAT", "not a manifest: nested too deeply")]
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return [_error("MANIFEST-FORMAT", f"not a manifest: {problems}")]
    if manifest.algorithm.lower() != "sha256":
        return [_error("MANIFEST-ALGORITHM", f"unsupported algorithm {manifest.algorithm!r} (only sha256)")]

    findings: list[Finding] = []
    listed: set[str] = set()
    for entry in manifest.files:
        rel = PurePosixPath(entry.path)
        if rel.is_absolute() or ".." in rel.parts or "\\" in entry.path:
            findings.append(_error("MANIFEST-PATH", f"path {entry.path!r} is not inside the export folder"))
            continue
        listed.add(rel.as_posix())
        target = raw_dir / rel
        if not _inside(target.resolve(), raw_dir.resolve()):
            findings.append(_error("MANIFEST-PATH", f"{entry.path!r} is a symbolic link to {target.resolve()}, outside "
                                   "the export folder: the manifest cannot vouch for it", file=entry.path))
            continue
        if not target.is_file():
            findings.append(_error("MANIFEST-MISSING-FILE", "file listed in manifest.json is missing", file=entry.path))
            continue
        size = target.stat().st_size
        if size != entry.bytes:
            findings.append(_error("MANIFEST-MISMATCH", f"file has {size} bytes, manifest.json says "
                                   f"{entry.bytes}: refused (incomplete or altered transfer)", file=entry.path))
        elif sha256_of(target) != entry.sha256.lower():
            findings.append(_error("MANIFEST-MISMATCH", "SHA-256 differs from manifest.json: refused "
                                   "(altered or corrupted file)", file=entry.path))
    for present in export_files(raw_dir):
        if present != MANIFEST and present not in listed:
            findings.append(_error("MANIFEST-UNLISTED", "file is not listed in manifest.json: its integrity "
                                   "is not verified", file=present, severity="warning"))
    return findings


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def tool_outputs(raw_dir: Path) -> list[Path]:
    """Folders inside the export that an sdtm-lupus run wrote (not raw data: never read or hashed)."""
    return sorted(p for p in Path(raw_dir).rglob("*") if p.is_dir() and not p.is_symlink() and is_tool_output(p))


def export_files(raw_dir: Path) -> list[str]:
    """The export's files (relative POSIX paths, sorted), without sdtm-lupus output folders inside it."""
    raw_dir = Path(raw_dir)
    skipped = tool_outputs(raw_dir)
    return sorted(p.relative_to(raw_dir).as_posix() for p in raw_dir.rglob("*")
                  if p.is_file() and not any(folder in p.parents for folder in skipped))


def scan_export(raw_dir: Path) -> list[Finding]:
    """Provenance of the export folder itself: links leading outside it (error), earlier outputs inside it."""
    raw_dir = Path(raw_dir)
    root = raw_dir.resolve()
    findings = [Finding(rule="READ-LINK-OUTSIDE", severity="error", file=p.relative_to(raw_dir).as_posix(),
                        message=f"symbolic link to {p.resolve()}, outside the export folder: the export must hold "
                                "its own data; copy the file in")
                for p in sorted(raw_dir.rglob("*")) if p.is_symlink() and not _inside(p.resolve(), root)]
    findings += [Finding(rule="READ-OUTPUT-IN-EXPORT", severity="warning", file=p.relative_to(raw_dir).as_posix(),
                         message="an sdtm-lupus output folder inside the export: not read, not hashed as input")
                 for p in tool_outputs(raw_dir)]
    return findings

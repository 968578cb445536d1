"""manifest.json: the export's own list of files with their SHA-256 and size.

`{"study": ..., "algorithm": "sha256", "files": [{"path", "sha256", "bytes"}]}`
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path, PurePosixPath

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sdtm_lupus.findings import Finding

MANIFEST = "manifest.json"
CHUNK = 1 << 20


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
    try:
        manifest = _Manifest.model_validate(json.loads(path.read_bytes()))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return [_error("MANIFEST-FORMAT", f"not valid JSON: {exc}")]
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
    for present in sorted(p.relative_to(raw_dir).as_posix() for p in raw_dir.rglob("*") if p.is_file()):
        if present != MANIFEST and present not in listed:
            findings.append(_error("MANIFEST-UNLISTED", "file is not listed in manifest.json: its integrity "
                                   "is not verified", file=present, severity="warning"))
    return findings

import hashlib
import json

import pytest

from sdtm_lupus.readers.manifest import verify_manifest


def export(tmp_path, files: dict[str, bytes], listed: dict[str, bytes] | None = None, **manifest):
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    listed = files if listed is None else listed
    body = {"study": "NCT04515719", "algorithm": "sha256",
            "files": [{"path": n, "sha256": hashlib.sha256(c).hexdigest(), "bytes": len(c)} for n, c in listed.items()],
            **manifest}
    (tmp_path / "manifest.json").write_text(json.dumps(body))
    return tmp_path


def rules(findings):
    return sorted((f.rule, f.severity, f.file) for f in findings)


def test_no_manifest_no_findings(tmp_path):
    (tmp_path / "ae.csv").write_bytes(b"x")
    assert verify_manifest(tmp_path) == []


def test_matching_manifest(tmp_path):
    assert verify_manifest(export(tmp_path, {"ae.csv": b"a,b\n", "pga.csv": "皮疹".encode()})) == []


def test_sha256_mismatch_same_size(tmp_path):
    export(tmp_path, {"ae.csv": b"a,b\n"})
    (tmp_path / "ae.csv").write_bytes(b"a,c\n")
    assert rules(verify_manifest(tmp_path)) == [("MANIFEST-MISMATCH", "error", "ae.csv")]


def test_size_mismatch(tmp_path):
    export(tmp_path, {"ae.csv": b"a,b\n"})
    (tmp_path / "ae.csv").write_bytes(b"a,b\n1,")
    [finding] = verify_manifest(tmp_path)
    assert (finding.rule, finding.file) == ("MANIFEST-MISMATCH", "ae.csv") and "6 bytes" in finding.message


def test_missing_and_unlisted_files(tmp_path):
    export(tmp_path, {"ae.csv": b"a\n"}, listed={"ae.csv": b"a\n", "lab.csv": b"x\n"})
    (tmp_path / "notes.txt").write_bytes(b"hello")
    assert rules(verify_manifest(tmp_path)) == [("MANIFEST-MISSING-FILE", "error", "lab.csv"),
                                                ("MANIFEST-UNLISTED", "warning", "notes.txt")]


@pytest.mark.parametrize("content, rule", [
    ("{not json", "MANIFEST-FORMAT"),
    (json.dumps({"algorithm": "sha256", "files": [{"path": "ae.csv"}]}), "MANIFEST-FORMAT"),
    (json.dumps({"algorithm": "md5", "files": []}), "MANIFEST-ALGORITHM"),
    (json.dumps({"algorithm": "sha256", "files": [{"path": "../etc/passwd", "sha256": "0" * 64, "bytes": 1}]}),
     "MANIFEST-PATH"),
])
def test_unusable_manifest_is_fatal(tmp_path, content, rule):
    (tmp_path / "manifest.json").write_text(content)
    assert [(f.rule, f.severity) for f in verify_manifest(tmp_path)] == [(rule, "error")]

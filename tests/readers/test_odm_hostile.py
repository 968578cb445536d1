"""Hostile and damaged ODM exports, driven through the CLI in-process: each is bad input (exit 2),
the message names export.xml (and a line where there is one), no traceback, nothing written."""

from __future__ import annotations

import codecs
import shutil

import pytest
from click.testing import CliRunner

from sdtm_lupus.cli import main
from tests.paths import FIXTURES, STUDIES
from tests.rejected import assert_only_input_problems

STUDY = "NCT04893161"
FIXTURE = (FIXTURES / STUDY / "odm" / "export.xml").read_bytes()
HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3">\n'
        '<ClinicalData StudyOID="NCT04893161" MetaDataVersionOID="v1">\n<SubjectData SubjectKey="01-0001">\n'
        '<StudyEventData StudyEventOID="WEEK 0">\n<FormData FormOID="PGA">\n<ItemGroupData ItemGroupOID="PGA">\n')
TAIL = '</ItemGroupData>\n</FormData>\n</StudyEventData>\n</SubjectData>\n</ClinicalData>\n</ODM>\n'
ENTITIES = ('<!ENTITY lol "lol">\n<!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">\n'
            '<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">\n')


def doc(inner: str, head: str = HEAD) -> bytes:
    return (head + inner + TAIL).encode("utf-8")


HOSTILE = {
    # rule expected, line expected (None: no line), bytes
    "billion-laughs": ("ODM-DTD", 2, doc('<ItemData ItemOID="PGA.PGA" Value="&lol2;"/>\n', HEAD.replace(
        "?>\n", f"?>\n<!DOCTYPE ODM [\n{ENTITIES}]>\n", 1))),
    "external-entity": ("ODM-DTD", 2, doc('<ItemData ItemOID="PGA.PGA" Value="&xxe;"/>\n', HEAD.replace(
        "?>\n", '?>\n<!DOCTYPE ODM [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n', 1))),
    "xinclude": ("ODM-XINCLUDE", 8, doc('<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" '
                                        'href="file:///etc/passwd" parse="text"/>\n')),
    "deep-nesting": ("ODM-PARSE", 8, doc('<v:x xmlns:v="urn:v">' * 400 + "\n" + "</v:x>" * 400 + "\n")),
    "huge-attribute": ("ODM-PARSE", 8, doc('<ItemData ItemOID="PGA.PGA" Value="' + "9" * 12_000_000 + '"/>\n')),
    "huge-text": ("ODM-PARSE", 8, doc('<ItemDataString ItemOID="PGA.PGA">' + "x" * 12_000_000
                                      + "</ItemDataString>\n")),
    "truncated": ("ODM-PARSE", FIXTURE[: len(FIXTURE) // 2].count(b"\n") + 1, FIXTURE[: len(FIXTURE) // 2]),
    "non-xml-bytes": ("READ-ODM-ENCODING", 1, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe\xfd"),
    "ascii-garbage": ("ODM-PARSE", 1, b"STUDYID,SITEID,SUBJID\nNCT04893161,01,01-0001\n"),
    "empty-file": ("ODM-PARSE", None, b""),
    "declared-latin1-stored-utf8": ("READ-ODM-ENCODING", 8, doc('<ItemData ItemOID="PGA.PGA" Value="皮疹"/>\n')
                                    .replace(b"UTF-8", b"ISO-8859-1", 1)),
    "utf16-bom-declared-utf8": ("READ-ODM-ENCODING", 1, codecs.BOM_UTF16_LE + (HEAD + TAIL).encode("utf-16-le")),
    "utf7-declaration": ("READ-ODM-ENCODING", None, doc("").replace(b"UTF-8", b"UTF-7", 1)),
    "overlong-utf8": ("READ-ODM-ENCODING", 8, doc('<ItemData ItemOID="PGA.PGA" Value="\x00"/>\n')
                      .replace(b"\x00", b"\xc0\xbcscript\xc0\xbe")),
    "not-odm-root": ("ODM-PARSE", 2, b'<?xml version="1.0"?>\n<html><body/></html>\n'),
}


def convert(raw, out):
    return CliRunner().invoke(main, ["convert", str(raw), "--study", str(STUDIES / f"{STUDY}.yaml"), "--out", str(out)])


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_odm_exits_2_names_file_and_line_writes_nothing(tmp_path, case):
    rule, line, content = HOSTILE[case]
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "export.xml").write_bytes(content)
    out = tmp_path / "out"
    result = convert(raw, out)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and not isinstance(result.exception, Exception) or \
        isinstance(result.exception, SystemExit)
    assert f"[{rule}] export.xml" in result.output, result.output
    if line is not None:
        assert f"[{rule}] export.xml row {line}" in result.output, result.output
    assert "nothing was written" in result.output
    assert_only_input_problems(out)
    assert "root:" not in result.output and "lollol" not in result.output


def test_hostile_odm_leaves_a_previous_output_intact(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(FIXTURES / STUDY / "odm", raw)
    out = tmp_path / "out"
    assert convert(raw, out).exit_code == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    (raw / "manifest.json").unlink()
    (raw / "export.xml").write_bytes(HOSTILE["xinclude"][2])
    result = convert(raw, out)
    assert result.exit_code == 2 and "ODM-XINCLUDE" in result.output
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before

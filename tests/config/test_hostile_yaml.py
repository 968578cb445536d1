"""Hostile and mistaken configuration files (issue 12): each is one short ConfigError naming the
file, the key and (where there is one) the line; through the CLI, exit 2, no traceback, no output.

Every case is a function (tmp_path) -> Case, run twice: by the loader and by `sdtm-lupus convert`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from sdtm_lupus.cli import main
from sdtm_lupus.config.loading import MAX_ALIAS_NODES, MAX_CONFIG_BYTES, MAX_SPEC_BYTES, ConfigError, read_yaml
from sdtm_lupus.config.mapping import load_mapping
from sdtm_lupus.config.study import load_study
from sdtm_lupus.specs import load_raw_layout
from tests.paths import FIXTURES, MAPPINGS, ROOT, STUDIES

REFERENCE = MAPPINGS / "reference.yaml"
STUDY = STUDIES / "NCT04515719.yaml"


@dataclass
class Case:
    kind: str                       # "mapping" or "study": which file the CLI gets
    path: Path
    expected: list[str] = field(default_factory=list)   # substrings of the message


CASES = {}


def case(func):
    CASES[func.__name__] = func
    return func


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def mapping(tmp_path: Path, body: str, name: str = "bad.yaml") -> Path:
    """A mapping that extends the reference layout (absolute path) and adds body (line 3 on)."""
    return write(tmp_path / name, f"extends: {REFERENCE}\nname: bad\n{body}")


def study(tmp_path: Path, old: str, new: str) -> Path:
    text = STUDY.read_text(encoding="utf-8")
    assert old in text
    return write(tmp_path / "bad-study.yaml", text.replace(old, new, 1))


def study_line(path: Path, start: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if line.startswith(start))


# --- duplicate keys --------------------------------------------------------------------------

@case
def duplicate_top_level_key(tmp_path):
    path = mapping(tmp_path, "encoding: utf-8\nencoding: gb18030\n")
    return Case("mapping", path, ["line 4", "encoding: key given twice (lines 3 and 4)"])


@case
def duplicate_nested_key(tmp_path):
    # the case: the last `Female` won, so every Female became M
    path = mapping(tmp_path, "values:\n  enrol.SEX:\n    Female: F\n    Male: M\n    Female: M\n")
    return Case("mapping", path, ["line 7", "values.enrol.SEX.Female: key given twice (lines 5 and 7)"])


@case
def duplicate_key_in_study(tmp_path):
    path = study(tmp_path, "phase: PHASE IV TRIAL\n", "phase: PHASE IV TRIAL\nphase: PHASE III TRIAL\n")
    line = study_line(path, "phase:")
    return Case("study", path, [f"line {line + 1}", f"phase: key given twice (lines {line} and {line + 1})"])


# --- size, aliases, nesting, tags, encoding ----------------------------------------------------

BOMB = "".join(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}" if i else "lol"] * 9) + "]\n" for i in range(9))


@case
def alias_bomb(tmp_path):
    # 9 ** 9 (387 million) strings once expanded
    path = write(tmp_path / "bomb.yaml", BOMB + "name: *l8\nforms: {}\n")
    return Case("mapping", path, [f"aliases expand to more than {MAX_ALIAS_NODES} nodes"])


@case
def alias_bomb_in_study(tmp_path):
    path = write(tmp_path / "bomb-study.yaml", BOMB + "studyid: *l8\n")
    return Case("study", path, [f"aliases expand to more than {MAX_ALIAS_NODES} nodes"])


@case
def recursive_alias(tmp_path):
    path = mapping(tmp_path, "units: &u {g/L: *u}\n")
    return Case("mapping", path, ["line 3", "alias *u is inside the node it names"])


@case
def deep_nesting(tmp_path):
    path = mapping(tmp_path, "description: " + "[" * 200 + "]" * 200 + "\n")
    return Case("mapping", path, ["line 3", "nested deeper than"])


@case
def huge_mapping(tmp_path):
    path = tmp_path / "huge.yaml"
    with path.open("wb") as fh:             # 50 MB, sparse: never read
        fh.write(b"name: huge\n")
        fh.truncate(50 * 1024 * 1024)
    return Case("mapping", path, [f"{50 * 1024 * 1024} bytes; configuration files are limited to {MAX_CONFIG_BYTES}"])


@case
def huge_study(tmp_path):
    path = write(tmp_path / "huge-study.yaml", "studyid: X\n" + "#" * MAX_CONFIG_BYTES + "\n")
    return Case("study", path, [f"limited to {MAX_CONFIG_BYTES} bytes"])


@case
def python_object_tag(tmp_path):
    path = mapping(tmp_path, "description: !!python/object/apply:os.system ['echo hacked']\n")
    return Case("mapping", path, ["line 3, column 14: invalid YAML", "python/object/apply:os.system"])


@case
def python_name_tag_in_study(tmp_path):
    path = study(tmp_path, "phase: PHASE IV TRIAL", "phase: !!python/name:os.system ''")
    return Case("study", path, [f"line {study_line(path, 'phase:')}", "invalid YAML"])


@case
def not_utf8(tmp_path):
    path = write(tmp_path / "latin1.yaml", f"extends: {REFERENCE}\nname: Düsseldorf\n".encode("latin-1"))
    return Case("mapping", path, ["not UTF-8 (byte offset"])


# --- files that are not regular YAML files ------------------------------------------------------

@case
def mapping_is_dev_zero(tmp_path):
    return Case("mapping", Path("/dev/zero"), ["not a regular file"])


@case
def extends_dev_zero(tmp_path):
    return Case("mapping", write(tmp_path / "m.yaml", "extends: /dev/zero\nname: x\n"),
                ["line 1: extends: '/dev/zero' is not a mapping file (.yaml or .yml)"])


@case
def extends_symlink_to_dev_zero(tmp_path):
    (tmp_path / "zero.yaml").symlink_to("/dev/zero")
    return Case("mapping", write(tmp_path / "m.yaml", "name: x\nextends: zero.yaml\n"),
                ["line 2: extends 'zero.yaml':", "/dev/zero: not a regular file"])


@case
def mapping_is_fifo(tmp_path):
    os.mkfifo(tmp_path / "fifo.yaml")       # nobody writes: reading it would block forever
    return Case("mapping", tmp_path / "fifo.yaml", ["not a regular file"])


@case
def extends_dotdot(tmp_path):
    return Case("mapping", write(tmp_path / "m.yaml", "extends: ..\nname: x\n"),
                ["line 1: extends: '..' is not a mapping file"])


@case
def extends_directory(tmp_path):
    (tmp_path / "base.yaml").mkdir()
    return Case("mapping", write(tmp_path / "m.yaml", "extends: base.yaml\nname: x\n"),
                ["line 1: extends 'base.yaml':", "is a folder, not a file"])


@case
def extends_non_yaml_file(tmp_path):
    return Case("mapping", write(tmp_path / "m.yaml", "extends: ../fixtures/NCT04515719/csv/ae.csv\nname: x\n"),
                ["line 1: extends: '../fixtures/NCT04515719/csv/ae.csv' is not a mapping file"])


@case
def extends_empty(tmp_path):
    return Case("mapping", write(tmp_path / "m.yaml", "name: x\nextends: ''\n"),
                ["line 2: extends: expected the file name of another mapping"])


@case
def extends_missing_file(tmp_path):
    return Case("mapping", write(tmp_path / "m.yaml", "extends: nope.yaml\nname: x\n"),
                ["line 1: extends 'nope.yaml':", "nope.yaml: file not found"])


@case
def extends_cycle(tmp_path):
    write(tmp_path / "b.yaml", "name: b\nextends: a.yaml\n")
    return Case("mapping", write(tmp_path / "a.yaml", "extends: b.yaml\nname: a\n"),
                ["b.yaml: line 2: extends 'a.yaml': loops back to itself (a.yaml -> b.yaml -> a.yaml)"])


@case
def extends_itself(tmp_path):
    return Case("mapping", write(tmp_path / "a.yaml", "extends: a.yaml\nname: a\n"),
                ["a.yaml: line 1: extends 'a.yaml': loops back to itself"])


@case
def extends_chain_too_long(tmp_path):
    for i in range(12):
        write(tmp_path / f"m{i}.yaml", f"extends: m{i + 1}.yaml\nname: m{i}\n")
    write(tmp_path / "m12.yaml", f"extends: {REFERENCE}\nname: m12\n")
    return Case("mapping", tmp_path / "m0.yaml", ["extends 'm8.yaml': a chain of more than 8 files"])


# --- control characters ----------------------------------------------------------------------

def with_title(tmp_path: Path, title: str) -> Path:
    text = STUDY.read_text(encoding="utf-8")
    start, end = text.index("title: >-"), text.index("phase:")
    return write(tmp_path / "bad-study.yaml", text[:start] + f"title: {title}\n" + text[end:])


@case
def bell_in_study_title(tmp_path):
    path = with_title(tmp_path, '"Low-dose\\a belimumab"')
    return Case("study", path, [f"line {study_line(path, 'title:')}: title: value holds the control character U+0007"])


@case
def nul_in_study_title(tmp_path):
    path = with_title(tmp_path, '"Belimumab\\0 trial"')
    return Case("study", path, [f"line {study_line(path, 'title:')}: title: value holds the control character U+0000"])


@case
def raw_control_byte_in_study(tmp_path):
    path = study(tmp_path, "phase: PHASE IV TRIAL", "phase: PHASE IV\x07TRIAL")
    return Case("study", path, [f"line {study_line(path, 'phase:')}", "invalid YAML", "#x0007"])


@case
def escape_in_mapping_key(tmp_path):
    path = mapping(tmp_path, 'drugs:\n  "pred\\x1bnisone": {decod: PREDNISONE}\n')
    return Case("mapping", path, ["line 4: drugs: key 'pred\\x1bnisone' holds the control character U+001B"])


# --- unknown keys ------------------------------------------------------------------------------

@case
def unknown_top_level_key(tmp_path):
    path = mapping(tmp_path, "value:\n  enrol.SEX: {Female: F, Male: M}\n")
    return Case("mapping", path, ["line 3: value: Extra inputs are not permitted (unknown key; did you mean 'values'?",
                                  "allowed: name, description, encoding"])


@case
def unknown_nested_key(tmp_path):
    path = mapping(tmp_path, "forms:\n  enrol: {fille: enrol2.csv}\n")
    return Case("mapping", path, ["line 4: forms.enrol.fille: Extra inputs are not permitted (unknown key; "
                                  "did you mean 'file'? allowed: file, odm_form, required, rename, odm_items, absent)"])


@case
def unknown_study_key(tmp_path):
    path = study(tmp_path, "blinding:", "blindng:")
    line = study_line(path, "blindng:")
    return Case("study", path, [f"line {line}: blindng: Extra inputs are not permitted (unknown key; "
                                "did you mean 'blinding'?", "blinding: Field required"])


@case
def unknown_key_in_study_list(tmp_path):
    path = study(tmp_path, "epoch: SCREENING, element: SCRN}", "epoch: SCREENING, elemnt: SCRN}")
    return Case("study", path, [f"line {study_line(path, '  - {epoch: SCREENING')}: epochs[0].elemnt: Extra inputs "
                                "are not permitted (unknown key; did you mean 'element'?"])


@case
def loader_key_in_file(tmp_path):
    return Case("mapping", mapping(tmp_path, "source: /etc/passwd\n"), ["source: unknown key (set by the loader"])


@case
def unknown_form(tmp_path):
    path = mapping(tmp_path, "forms:\n  enroll: {file: enrol.csv}\n")
    return Case("mapping", path, ["line 4: forms.enroll: unknown form; did you mean 'enrol'?"])


@case
def unknown_renamed_column(tmp_path):
    path = mapping(tmp_path, "forms:\n  enrol:\n    rename: {SEXX: Gender}\n")
    return Case("mapping", path, ["line 5: forms.enrol.rename.SEXX: not a column of form enrol; did you mean 'SEX'?"])


# --- dates and times ---------------------------------------------------------------------------

@case
def date_format_unknown_token(tmp_path):
    path = mapping(tmp_path, "dates: {format: DD-MMM-YYY}\n")
    return Case("mapping", path, ["line 3: dates.format: Value error, unknown token 'YYY' in 'DD-MMM-YYY'; "
                                  "allowed tokens: DD, MM, MMM, YYYY"])


@case
def date_format_without_year(tmp_path):
    path = mapping(tmp_path, "dates:\n  format: DD/MM\n")
    return Case("mapping", path, ["line 4: dates.format: Value error, 'DD/MM' has no year (YYYY)"])


@case
def date_format_token_twice(tmp_path):
    path = mapping(tmp_path, "dates: {format: DD-MM-MMM-YYYY}\n")
    return Case("mapping", path, ["dates.format: Value error, 'DD-MM-MMM-YYYY' gives the month twice"])


@case
def time_format_unknown(tmp_path):
    path = mapping(tmp_path, "times: {format: HH.MM}\n")
    return Case("mapping", path, ["line 3: times.format: Input should be 'HH:MM', 'HH:MM:SS' or 'HHMM'"])


# --- renames and value maps that lose or ignore data ------------------------------------------

@case
def two_columns_renamed_from_one(tmp_path):
    path = mapping(tmp_path, "forms:\n  enrol:\n    rename: {SEX: Gender, RACE: Gender}\n")
    return Case("mapping", path, ["line 5: forms.enrol.rename: Value error, 'Gender' is the source of both SEX and RACE"])


@case
def renamed_onto_another_column(tmp_path):
    path = mapping(tmp_path, "forms:\n  enrol:\n    rename: {SEX: RACE}\n")
    return Case("mapping", path, ["forms.enrol.rename.RACE: site column 'RACE' is already read as SEX"])


@case
def two_columns_from_one_odm_item(tmp_path):
    path = mapping(tmp_path, "forms:\n  pga:\n    odm_items: {PGA: IT.X, ASSESSDAT: IT.X}\n")
    return Case("mapping", path, ["line 5: forms.pga.odm_items: Value error, 'IT.X' is the source of both PGA and ASSESSDAT"])


@case
def value_map_on_unknown_column(tmp_path):
    path = mapping(tmp_path, "values:\n  enrol.SEXX: {Female: F}\n")
    return Case("mapping", path, ["line 4: values.enrol.SEXX: 'SEXX' is not a column of form enrol; did you mean 'SEX'?"])


@case
def value_map_on_unknown_form(tmp_path):
    path = mapping(tmp_path, "values:\n  enroll.SEX: {Female: F}\n")
    return Case("mapping", path, ["line 4: values.enroll.SEX: unknown form 'enroll'; did you mean 'enrol'?"])


@case
def value_map_never_applied(tmp_path):
    path = mapping(tmp_path, "values:\n  enrol.COUNTRY: {Deutschland: DEU}\n")
    return Case("mapping", path, ["line 4: values.enrol.COUNTRY: never applied: enrol.COUNTRY is a text column",
                                  "value maps apply to enrol: SEX, RACE, ETHNIC"])


@case
def value_map_wildcard_never_applied(tmp_path):
    path = mapping(tmp_path, "values:\n  pga.*: {'1': '1'}\n")
    return Case("mapping", path, ["line 4: values.pga.*: never applied: form pga has no coded column"])


@pytest.mark.parametrize("name", sorted(CASES))
def test_loader_refuses(name, tmp_path):
    c = CASES[name](tmp_path)
    load = load_mapping if c.kind == "mapping" else load_study
    with pytest.raises(ConfigError) as err:
        load(c.path)
    text = str(err.value)
    assert str(c.path) in text or c.path.name in text
    for expected in c.expected:
        assert expected in text
    assert len(text) < 2000 and max(len(line) for line in text.splitlines()) < 400


@pytest.mark.parametrize("name", sorted(CASES))
def test_cli_exits_2_without_traceback_or_output(name, tmp_path):
    c = CASES[name](tmp_path)
    study_path, mapping_path = (STUDY, c.path) if c.kind == "mapping" else (c.path, None)
    out = tmp_path / "out"
    args = ["convert", FIXTURES / "NCT04515719" / "csv", "--study", study_path, "--out", out]
    args += ["--mapping", mapping_path] if mapping_path else []
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)          # not an exception caught by CliRunner
    assert "Traceback" not in result.output
    assert str(c.path) in result.output or c.path.name in result.output
    for expected in c.expected:
        assert expected in result.output
    assert not out.exists() and not list(tmp_path.glob("out*"))


# --- good input is unchanged -----------------------------------------------------------------

SHIPPED = sorted(p for folder in ("specs", "mappings", "studies") for p in (ROOT / folder).rglob("*.y*ml"))


@pytest.mark.parametrize("path", SHIPPED, ids=[str(p.relative_to(ROOT)) for p in SHIPPED])
def test_shipped_yaml_reads_as_plain_safe_load(path):
    assert read_yaml(path) == yaml.safe_load(path.read_text(encoding="utf-8"))


def test_a_few_aliases_for_sharing_are_fine(tmp_path):
    anchors = "common: &c {file: enrol.csv, required: true}\n"
    path = write(tmp_path / "m.yaml", anchors + "name: x\nforms:\n  enrol: *c\n  disp: {<<: *c, file: disp.csv}\n")
    data = read_yaml(path)
    assert data["forms"] == {"enrol": {"file": "enrol.csv", "required": True},
                             "disp": {"file": "disp.csv", "required": True}}


def test_alias_bound_counts_expanded_nodes(tmp_path):
    # 100 aliases of a 99-node list: 9 800 added nodes (accepted); 110 aliases: 10 780, over the bound
    items = "[" + ", ".join(["x"] * 98) + "]"
    ok = write(tmp_path / "ok.yaml", f"a: &a {items}\nb: [" + ", ".join(["*a"] * 100) + "]\n")
    assert len(read_yaml(ok)["b"]) == 100
    bad = write(tmp_path / "bad.yaml", f"a: &a {items}\nb: [" + ", ".join(["*a"] * 110) + "]\n")
    with pytest.raises(ConfigError, match="aliases expand to more than"):
        read_yaml(bad)


def test_tab_and_newline_are_allowed(tmp_path):
    path = write(tmp_path / "m.yaml", 'description: "two\\tcolumns\\nand lines"\nname: x\n')
    assert read_yaml(path)["description"] == "two\tcolumns\nand lines"


def test_specs_have_a_larger_cap_than_studies(tmp_path):
    text = "a: x\n" + "#" * (2 * MAX_CONFIG_BYTES) + "\n"
    assert MAX_CONFIG_BYTES < len(text) < MAX_SPEC_BYTES
    assert read_yaml(write(tmp_path / "spec.yaml", text)) == {"a": "x"}
    with pytest.raises(ConfigError, match=f"limited to {MAX_CONFIG_BYTES} bytes"):
        load_study(write(tmp_path / "study.yaml", text))


def test_spec_with_duplicate_key_is_refused(tmp_path):
    text = (ROOT / "specs" / "raw-forms.yaml").read_text(encoding="utf-8").replace(
        "      SEX: code\n", "      SEX: code\n      SEX: text\n", 1)
    write(tmp_path / "raw-forms.yaml", text)
    with pytest.raises(ConfigError, match=r"forms\.enrol\.columns\.SEX: key given twice"):
        load_raw_layout(tmp_path)


def test_value_maps_of_the_lab_columns_the_mapper_reads_are_accepted(tmp_path):
    path = mapping(tmp_path, "values:\n  lab.LBCAT: {Chemistry: CHEMISTRY}\n  lab.LBORRES: {neg: NEGATIVE}\n")
    loaded = load_mapping(path)
    assert loaded.value_map("lab", "LBCAT") == {"Chemistry": "CHEMISTRY"}


def test_site_date_formats_with_other_separators_are_accepted(tmp_path):
    for fmt in ("YYYY年MM月DD日", "DD/MM/YYYY", "YYYYMMDD", "MMM YYYY", "ISO8601"):
        assert load_mapping(mapping(tmp_path, f"dates: {{format: '{fmt}'}}\n")).dates.format == fmt


def test_long_values_are_cut_in_messages(tmp_path):
    path = mapping(tmp_path, "encoding: " + "x" * 5000 + "\ndescription: &n [" + ", ".join(["y"] * 5000) + "]\n")
    with pytest.raises(ConfigError) as err:
        load_mapping(path)
    text = str(err.value)
    assert "encoding: Input should be 'utf-8' or 'gb18030' (got 'xxxx" in text and "...)" in text
    assert len(text) < 800


def test_raw_control_byte_after_non_ascii_text_names_its_line(tmp_path):
    path = write(tmp_path / "m.yaml", "name: 泼尼松 Düsseldorf\ndescription: a\x07b\n")
    with pytest.raises(ConfigError, match=r"m\.yaml: line 2: invalid YAML: unacceptable character #x0007"):
        read_yaml(path)


def test_long_names_in_validator_messages_are_cut(tmp_path):
    folder = "W" * 5000
    path = study(tmp_path, "{folder: WEEK 52, visitnum: 52, visit: WEEK 52, target_day: 365, window: [-7, 7], epoch: FOLLOW-UP}",
                 f"{{folder: {folder}, visitnum: 52, visit: WEEK 52, target_day: 365, window: [-7, 7], epoch: LATER}}")
    with pytest.raises(ConfigError, match="names epoch 'LATER'|folder 'WWW") as err:
        load_study(path)
    assert len(str(err.value)) < 800


@pytest.mark.parametrize("name", ["alias_bomb", "recursive_alias", "duplicate_nested_key", "escape_in_mapping_key",
                                  "raw_control_byte_in_study", "deep_nesting", "python_object_tag"])
def test_pure_python_loader_refuses_the_same(name, tmp_path, monkeypatch):
    """PyYAML without libyaml: the same checks through yaml.SafeLoader."""
    from sdtm_lupus.config import loading

    monkeypatch.setattr(loading, "_Loader", yaml.SafeLoader)
    monkeypatch.setattr(loading, "_C_LOADER", False)
    c = CASES[name](tmp_path)
    with pytest.raises(ConfigError) as err:
        (load_mapping if c.kind == "mapping" else load_study)(c.path)
    for expected in c.expected:
        assert expected in str(err.value)

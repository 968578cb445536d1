"""Configuration checks of the mapping v2 keys: absent, recode, numbers, date_formats, checkboxes."""

from __future__ import annotations

from pathlib import Path

import pytest

from sdtm_lupus.config.loading import ConfigError
from sdtm_lupus.config.mapping import Recode, load_mapping
from tests.paths import MAPPINGS

BASE = MAPPINGS / "reference.yaml"


def mapping(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(f"extends: {BASE}\nname: site\n{text}", encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as err:
        load_mapping(mapping(tmp_path, text))
    return str(err.value)


def test_new_keys_load_and_resolve_by_specificity(tmp_path):
    m = load_mapping(mapping(tmp_path, """
forms: {pga: {file: PGA.csv, absent: {STUDYID: NCT04515719}}}
recode:
  "*.FOLDER": {V1: WEEK 0}
  pga.FOLDER: {map: {P1: WEEK 0}, unmapped: keep}
  enrol.ARMCD_RAND: {BEL_2MGKG: BEL2}
numbers: {pga.PGA: {scale: 0.1, decimals: 1}}
date_formats: {lab.LBDAT: {format: ISO8601}, "ae.*": {unknown_day: "--"}}
checkboxes: {"sledai.*": {checked: [Y]}, sledai.FEVER: {unchecked: [N]}}
"""))
    assert m.forms["pga"].absent == {"STUDYID": "NCT04515719"}
    assert m.recode_map("dosing", "FOLDER") == Recode(map={"V1": "WEEK 0"}, unmapped="error")
    assert m.recode_map("pga", "FOLDER").unmapped == "keep"
    assert m.recode_map("pga", "PGA") is None
    assert str(m.numbers["pga.PGA"].scale) == "0.1"
    assert m.date_format("lab", "LBDAT").format == "ISO8601"
    assert (m.date_format("ae", "AESTDAT").format, m.date_format("ae", "AESTDAT").unknown_day) == ("DD-MMM-YYYY", "--")
    assert m.date_format("cm", "CMSTDAT") == m.dates
    assert m.checkbox_texts("sledai", "RASH") == (("Y",), ("0", ""))
    assert m.checkbox_texts("sledai", "FEVER") == (("1",), ("N",))     # form.COLUMN wins over form.*
    assert m.checkbox_texts("flare", "SV_HOSP") == (("1",), ("0", ""))


@pytest.mark.parametrize("text, expected", [
    ("recode: {pga.FOLDR: {a: b}}", "recode.pga.FOLDR: 'FOLDR' is not a column of form pga; did you mean 'FOLDER'?"),
    ("recode: {pgaa.PGA: {a: b}}", "recode.pgaa.PGA: unknown form 'pgaa'; did you mean 'pga'?"),
    ("recode: {'*.FOLDRE': {a: b}}", "recode.*.FOLDRE: 'FOLDRE' is not a column of any form"),
    ("recode: {PGA: {a: b}}", "key 'PGA' must be 'form.COLUMN', 'form.*' or '*.COLUMN'"),
    ("recode: {pga.PGA: {}}", "recode.pga.PGA: empty map"),
    ("recode: {pga.PGA: {map: {a: b}, unmapped: drop}}", "recode.pga.PGA"),
    ("numbers: {pga.PGA: {scale: 0}}", "numbers.pga.PGA.scale: Value error, scale 0"),
    ("numbers: {pga.PGA: {scale: .inf}}", "numbers.pga.PGA.scale: Input should be a finite number"),
    ("numbers: {pga.PGA: {scael: 0.1}}", "numbers.pga.PGA.scael: Extra inputs are not permitted (unknown key; did you "
                                         "mean 'scale'?"),
    ("numbers: {pga.ASSESSDAT: {scale: 2}}", "never applied: pga.ASSESSDAT is a fulldate column (numbers applies to "
                                             "number and integer columns)"),
    ("numbers: {'*.FOLDER': {scale: 2}}", "'FOLDER' is not a column of any form that numbers applies to"),
    ("date_formats: {pga.PGA: {format: ISO8601}}", "never applied: pga.PGA is a number column"),
    ("date_formats: {pga.ASSESSDAT: {format: YYYY/MM/QQ}}", "unknown token 'QQ'"),
    ("checkboxes: {'pga.*': {checked: [Y]}}", "never applied: form pga has no checkbox columns"),
    ("checkboxes: {sledai.FEVER: {checked: [Y], unchecked: [Y, '']}}", "'Y' is both checked and unchecked"),
    ("forms: {pga: {file: p.csv, absent: {FOLDR: ''}}}", "forms.pga.absent.FOLDR: not a column of form pga; did you "
                                                         "mean 'FOLDER'?"),
    ("forms: {pga: {file: p.csv, rename: {FOLDER: VISIT}, absent: {FOLDER: ''}}}",
     "forms.pga.absent.FOLDER: FOLDER is also renamed (read from site column 'VISIT')"),
])
def test_bad_new_keys_are_config_errors_with_key_path_and_line(tmp_path, text, expected):
    message = problems(tmp_path, text)
    assert expected in message
    assert "site.yaml" in message and "line 3" in message


def test_the_worked_example_loads():
    m = load_mapping(MAPPINGS / "examples" / "site-b-csv.yaml")
    assert m.encoding == "gb18030" and m.forms["disp"].absent == {"FOLDER": ""}
    assert m.recode_map("sledai", "FOLDER").map["V01 Week 0"] == "WEEK 0"
    assert m.values == load_mapping(BASE).values                  # inherited through extends

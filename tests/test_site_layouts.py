"""Another site's CSV layout converts, by a mapping file alone, to byte-identical datasets.

Each case is a reference-layout export (a fixture, or a simulated export of 30 subjects) rewritten
into site B's layout (tests/layouts.py): other file and column names, GB18030 + CRLF, YYYY/MM/DD
dates with "--", Y/empty checkboxes, "V01 Week 0" visits, BEL_2MGKG arm codes, PGA in tenths, no
FOLDER on the non-visit forms, site codes for disposition and flare category. Converted with
mappings/examples/site-b-csv.yaml, it must give the same sdtm/*.xpt and adam/*.xpt files, byte for
byte, as the reference export converted with the study's own mapping.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner

from sdtm_lupus import api
from sdtm_lupus.cli import main
from sdtm_lupus.findings import InputError
from tests.layouts import SITE_B_FILES, to_site_b
from tests.paths import FIXTURES, MAPPINGS, STUDIES

SITE_B = MAPPINGS / "examples" / "site-b-csv.yaml"
CASES = ["fixture-NCT04515719", "fixture-NCT04893161", "simulated-NCT04515719", "simulated-NCT04893161"]


@pytest.fixture(scope="module", params=CASES)
def converted(request, tmp_path_factory):
    """(reference output, site-B output, site-B export folder) of one case, converted once."""
    kind, study = request.param.split("-")
    work = tmp_path_factory.mktemp(request.param)
    if kind == "fixture":
        reference = FIXTURES / study / "csv"
    else:
        reference = work / "reference"
        api.simulate_export(study, 30, 1313, reference)
    site_b = to_site_b(reference, work / "site-b")
    config = STUDIES / f"{study}.yaml"
    ref = api.convert(reference, config, work / "out-reference")
    other = api.convert(site_b, config, work / "out-site-b", mapping_path=SITE_B)
    assert (ref.exit_code, other.exit_code) == (0, 0)
    return ref.out_dir, other.out_dir, site_b


def xpt_files(out: Path) -> list[str]:
    return sorted(str(p.relative_to(out)) for p in [*out.glob("sdtm/*.xpt"), *out.glob("adam/*.xpt")])


def test_site_b_export_really_differs_from_the_reference(converted):
    _, _, site_b = converted
    assert sorted(p.name for p in site_b.iterdir()) == sorted(f for f in SITE_B_FILES.values()
                                                              if (site_b / f).exists())
    raw = (site_b / "PGA.csv").read_bytes()
    assert b"\r\n" in raw and raw.count(b"\r\n") == raw.count(b"\n")
    rows = list(csv.DictReader(raw.decode("gb18030").splitlines()))
    assert "FOLDER" not in rows[0] and "PGA" not in rows[0]
    assert any(r["VISIT"] == "V01 Week 0" for r in rows)
    assert all("." not in r["PGA_TENTHS"] and "-" not in r["ASSESSDAT"] for r in rows)
    demog = list(csv.DictReader((site_b / "DEMOG.csv").read_bytes().decode("gb18030").splitlines()))
    assert "VISIT" not in demog[0] and {r["RAND_ARM"] for r in demog} - {""} <= {"BEL_2MGKG", "PLACEBO", "BEL_10MGKG"}
    sledai = (site_b / "SLEDAI2K.csv").read_bytes().decode("gb18030")
    assert ",Y," in sledai or ",Y\r\n" in sledai


def test_site_b_converts_to_byte_identical_xpt_files(converted):
    reference, site_b, _ = converted
    files = xpt_files(reference)
    assert "sdtm/dm.xpt" in files and "sdtm/qs.xpt" in files and any(f.startswith("adam/") for f in files)
    assert xpt_files(site_b) == files
    differ = [f for f in files if (reference / f).read_bytes() != (site_b / f).read_bytes()]
    assert differ == []


def incomplete_mapping(tmp_path: Path) -> Path:
    """site-b-csv.yaml without the visit name "V02 Week 2" in its FOLDER recode."""
    text = SITE_B.read_text(encoding="utf-8")
    assert "    V02 Week 2: WEEK 2\n" in text
    text = text.replace("    V02 Week 2: WEEK 2\n", "").replace("extends: ../reference.yaml",
                                                                   f"extends: {MAPPINGS / 'reference.yaml'}")
    path = tmp_path / "site-b-incomplete.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_visit_name_missing_from_the_recode_is_one_finding_per_file(tmp_path):
    site_b = to_site_b(FIXTURES / "NCT04893161" / "csv", tmp_path / "site-b")
    mapping = incomplete_mapping(tmp_path)
    with pytest.raises(InputError) as err:
        api.convert(site_b, STUDIES / "NCT04893161.yaml", tmp_path / "out", mapping_path=mapping)
    found = [f for f in err.value.findings if f.severity == "error"]
    assert found and all(f.rule == "MAP-RECODE" for f in found)
    # the visit is in several files: one grouped finding per file, none per row
    expected = {}
    for name in SITE_B_FILES.values():
        if not (site_b / name).exists():
            continue
        rows = list(csv.DictReader((site_b / name).read_bytes().decode("gb18030").splitlines()))
        lines = [i + 2 for i, r in enumerate(rows) if r.get("VISIT") == "V02 Week 2"]
        if lines:
            expected[name] = (len(lines), lines[0])
    assert len(expected) >= 3
    assert sorted(f.file for f in found) == sorted(expected)
    for f in found:
        count, first = expected[f.file]
        assert (f.variable, f.value, f.row) == ("FOLDER", "V02 Week 2", first)
        assert f"'V02 Week 2' is not in the mapping's recode map *.FOLDER ({count} rows, first on row {first})" \
            in f.message
    assert not (tmp_path / "out").exists()


def test_the_cli_exits_2_on_an_unmapped_value(tmp_path):
    site_b = to_site_b(FIXTURES / "NCT04893161" / "csv", tmp_path / "site-b")
    result = CliRunner().invoke(main, ["convert", str(site_b), "--study", str(STUDIES / "NCT04893161.yaml"),
                                       "--mapping", str(incomplete_mapping(tmp_path)), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert "MAP-RECODE" in result.output and "V02 Week 2" in result.output

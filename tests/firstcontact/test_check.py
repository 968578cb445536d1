"""`sdtm-lupus mapping check`: unknowns grouped by distinct value, the YAML to add, exit 0 / 2."""

from __future__ import annotations

import json
import shutil

import yaml
from click.testing import CliRunner

from sdtm_lupus.cli import main
from tests.paths import FIXTURES, STUDIES

STUDY = str(STUDIES / "NCT04515719.yaml")


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def three_unknowns(tmp_path):
    """The fixture with a new lab test name, an unknown dose unit and a new visit name."""
    raw = tmp_path / "raw"
    shutil.copytree(FIXTURES / "NCT04515719" / "csv", raw)
    (raw / "manifest.json").unlink()
    for name, old, new in (("cm.csv", ",mg,", ",ugg,"), ("lab.csv", ",Complement C4,", ",Urine protein (dipstick),"),
                           ("lab.csv", ",WEEK 4,", ",Visit 4,")):
        path = raw / name
        path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    return raw


def test_three_unknowns_are_three_groups_with_counts_first_rows_and_yaml(tmp_path):
    raw = three_unknowns(tmp_path)
    result = invoke("mapping", "check", raw, "--study", STUDY, "-q")
    assert result.exit_code == 2, result.output
    out = result.stdout
    assert "3 unknown value(s)" in out
    assert "unit 'ugg' in cm.csv, column CMDOSU: 35 rows (2, 3, 4, ...)" in out
    assert "lab test 'Urine protein (dipstick)' in lab.csv, column LBTEST: 109 rows (4, 17, 32, ...)" in out
    assert "visit 'Visit 4' in lab.csv, column FOLDER: 78 rows (43, 44, 45, ...)" in out
    assert out.count("'ugg'") == 1 and out.count("MAP-CODE") == 0           # not one line per row
    assert '"ugg": TODO  # TODO: a term of codelist UNIT, e.g. ug' in out
    assert '"Urine protein (dipstick)": TODO' in out and "'Urine protein': PROTDIP" in out
    assert '    "Visit 4": TODO' in out
    assert max(len(line) for line in out.splitlines()) <= 100
    assert not list(tmp_path.glob("out*")) and sorted(p.name for p in tmp_path.iterdir()) == ["raw"]
    # the YAML block is valid YAML with the suggested keys
    block = out.split("`sdtm-lupus mapping check` again):\n\n", 1)[1].split("\n\n", 1)[0]
    assert yaml.safe_load(block) == {"values": {"cm.CMDOSU": {"ugg": "TODO"}},
                                     "lab_tests": {"Urine protein (dipstick)": "TODO"},
                                     "recode": {"*.FOLDER": {"Visit 4": "TODO"}}}


def test_json_for_pipelines(tmp_path):
    raw = three_unknowns(tmp_path)
    result = invoke("mapping", "check", raw, "--study", STUDY, "--json", "-q")
    assert result.exit_code == 2
    report = json.loads(result.stdout)
    assert report["status"] == "not covered" and report["mapped"] is True
    assert [(u["kind"], u["key"], u["value"], u["count"]) for u in report["unknowns"]] == [
        ("unit", "cm.CMDOSU", "ugg", 35), ("lab test", "lab.LBTEST", "Urine protein (dipstick)", 109),
        ("visit", "*.FOLDER", "Visit 4", 78)]
    assert report["unknowns"][0]["first_rows"] == [2, 3, 4]


def test_the_reference_fixture_is_covered_exit_0(tmp_path):
    for transport in ("csv", "odm"):
        result = invoke("mapping", "check", FIXTURES / "NCT04515719" / transport, "--study", STUDY, "-q")
        assert result.exit_code == 0, result.output
        assert "the mapping covers this export" in result.stdout and "unknown" not in result.stdout


def test_a_renamed_column_and_an_odm_item_are_named_with_the_fix(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(FIXTURES / "NCT04515719" / "csv", raw)
    (raw / "manifest.json").unlink()
    pga = raw / "pga.csv"
    pga.write_text(pga.read_text(encoding="utf-8").replace(",PGA\n", ",pga_score\n", 1), encoding="utf-8")
    result = invoke("mapping", "check", raw, "--study", STUDY, "-q")
    assert result.exit_code == 2
    assert "column 'PGA' in pga.csv" in result.stdout
    assert 'rename: {PGA: "pga_score"}  # check: a column of the file not read yet' in result.stdout
    assert "mapped to SDTM" not in result.stdout        # reading stopped: the map stage did not run

    odm = tmp_path / "odm"
    shutil.copytree(FIXTURES / "NCT04515719" / "odm", odm)
    (odm / "manifest.json").unlink()
    xml = odm / "export.xml"
    xml.write_text(xml.read_text(encoding="utf-8").replace('ItemOID="PGA.PGA"', 'ItemOID="PGA.PGA_SCORE"'),
                   encoding="utf-8")
    result = invoke("mapping", "check", odm, "--study", STUDY, "-q")
    assert result.exit_code == 2
    assert "OID 'PGA.PGA_SCORE' in export.xml" in result.stdout
    assert 'odm_items: {PGA: "PGA.PGA_SCORE"}' in result.stdout


def test_a_drafted_mapping_with_todo_left_is_refused(tmp_path):
    mapping = tmp_path / "m.yaml"
    mapping.write_text("extends: " + str(FIXTURES.parent / "mappings" / "reference.yaml") + "\n"
                       "lab_tests: {Urine protein (dipstick): TODO}\n", encoding="utf-8")
    result = invoke("mapping", "check", FIXTURES / "NCT04515719" / "csv", "--study", STUDY, "--mapping", mapping)
    assert result.exit_code == 2 and "TODO(s) of a drafted mapping are not filled in" in result.output
    assert "lab_tests.'Urine protein (dipstick)'" in result.output and "Traceback" not in result.output


def test_a_value_the_recode_map_lacks_is_one_group_with_its_recode_line(tmp_path):
    from tests.layouts import to_site_b
    from tests.paths import MAPPINGS

    raw = tmp_path / "site-b"
    to_site_b(FIXTURES / "NCT04515719" / "csv", raw)
    mapping = (MAPPINGS / "examples" / "site-b-csv.yaml").read_text(encoding="utf-8")
    assert "    V02 Week 2: WEEK 2\n" in mapping
    shutil.copy(MAPPINGS / "reference.yaml", tmp_path / "reference.yaml")      # what it `extends`
    incomplete = tmp_path / "examples" / "site-b.yaml"
    incomplete.parent.mkdir()
    incomplete.write_text(mapping.replace("    V02 Week 2: WEEK 2\n", ""), encoding="utf-8")
    result = invoke("mapping", "check", raw, "--study", STUDY, "--mapping", incomplete)
    assert result.exit_code == 2, result.output
    block = result.stdout.split("`sdtm-lupus mapping check` again):\n\n", 1)[1].split("\n\n", 1)[0]
    [(key, entries)] = yaml.safe_load(block)["recode"].items()
    assert entries == {"V02 Week 2": "TODO"} and key.endswith("FOLDER")

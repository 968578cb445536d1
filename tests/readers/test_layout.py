"""The layout step (readers/layout.py) and forms.<form>.absent in the CSV reader."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from sdtm_lupus.config.mapping import Mapping, NumberTransform, load_mapping
from sdtm_lupus.findings import InputError
from sdtm_lupus.readers.export import read_export
from sdtm_lupus.readers.layout import apply_layout, scaled
from tests.paths import MAPPINGS
from tests.sdtm.builders import form

REFERENCE = load_mapping(MAPPINGS / "reference.yaml")


def with_keys(**keys) -> Mapping:
    return Mapping.model_validate(REFERENCE.model_dump(exclude={"source"}, by_alias=True) | keys)


def pga_rows(*folders: str) -> list[dict]:
    return [{"SITEID": "01", "SUBJID": "01-0001", "FOLDER": f, "ASSESSDAT": "05-MAR-2021", "PGA": "15"} for f in folders]


def test_recode_is_strict_and_reports_each_distinct_value_once():
    forms = {"pga": form("pga", pga_rows("V1", "V9", "", "V9", "V8", "V9"))}
    found = apply_layout(forms, with_keys(recode={"*.FOLDER": {"V1": "WEEK 0"}}))
    assert forms["pga"].data["FOLDER"].tolist() == ["WEEK 0", "V9", "", "V9", "V8", "V9"]
    assert [(f.rule, f.severity, f.file, f.variable, f.value, f.row) for f in found] == [
        ("MAP-RECODE", "error", "pga.csv", "FOLDER", "V9", 3), ("MAP-RECODE", "error", "pga.csv", "FOLDER", "V8", 6)]
    assert "'V9' is not in the mapping's recode map *.FOLDER (3 rows, first on row 3)" in found[0].message
    assert "(1 row, first on row 6)" in found[1].message


def test_recode_long_form_keeps_unmapped_values_and_maps_empty_only_when_listed():
    forms = {"pga": form("pga", pga_rows("V1", "V9", ""))}
    mapping = with_keys(recode={"pga.FOLDER": {"map": {"V1": "WEEK 0", "": "UNSCHEDULED"}, "unmapped": "keep"}})
    assert apply_layout(forms, mapping) == []
    assert forms["pga"].data["FOLDER"].tolist() == ["WEEK 0", "V9", "UNSCHEDULED"]


def test_recode_applies_to_any_column_and_the_most_specific_key_wins():
    forms = {"pga": form("pga", pga_rows("V1")), "bilag": form("bilag", [{"SUBJID": "01-0001", "FOLDER": "V1"}]),
             "enrol": form("enrol", [{"SUBJID": "01-0001", "ARMCD_RAND": "BEL_2MGKG", "SITEID": "C1"}])}
    mapping = with_keys(recode={"*.FOLDER": {"V1": "WEEK 0"}, "pga.FOLDER": {"V1": "WEEK 2"},
                                "enrol.ARMCD_RAND": {"BEL_2MGKG": "BEL2"}, "enrol.SITEID": {"C1": "01"}})
    assert apply_layout(forms, mapping) == []
    assert (forms["pga"].data["FOLDER"][0], forms["bilag"].data["FOLDER"][0]) == ("WEEK 2", "WEEK 0")
    assert forms["enrol"].data[["ARMCD_RAND", "SITEID"]].values.tolist() == [["BEL2", "01"]]


def test_numbers_scale_exactly_and_leave_non_numbers_to_the_parse_step():
    forms = {"pga": form("pga", [{"SUBJID": "1", "PGA": v} for v in ["15", "10", "0", "", "abc", "3"]])}
    assert apply_layout(forms, with_keys(numbers={"pga.PGA": {"scale": 0.1}})) == []
    assert forms["pga"].data["PGA"].tolist() == ["1.5", "1", "0", "", "abc", "0.3"]


def test_numbers_with_decimals_write_the_reference_text_and_refuse_rounding():
    forms = {"pga": form("pga", [{"SUBJID": "1", "PGA": v} for v in ["10", "15", "155", "155"]])}
    found = apply_layout(forms, with_keys(numbers={"pga.PGA": {"scale": 0.01, "decimals": 1}}))
    assert forms["pga"].data["PGA"].tolist() == ["0.1", "15", "155", "155"]      # refused values kept as sent
    assert [(f.rule, f.value, f.row) for f in found] == [("MAP-NUMBERS-DECIMALS", "15", 3),
                                                         ("MAP-NUMBERS-DECIMALS", "155", 4)]
    assert "(2 rows, first on row 4)" in found[1].message


@pytest.mark.parametrize("text, transform, expected", [
    ("15", {"scale": "0.1"}, "1.5"), ("10", {"scale": "0.1"}, "1"), ("10", {"scale": "0.1", "decimals": 1}, "1.0"),
    ("-0", {}, "0"), ("98.6", {"scale": "0.5", "offset": "-16"}, "33.3"), ("1e3", {"scale": 2}, "1e3"),
    ("0.1", {"scale": 3}, "0.3"), ("2", {"scale": "1000"}, "2000"), (" 7 ", {"offset": 1}, "8"),
])
def test_scaled(text, transform, expected):
    assert scaled(text, NumberTransform(**transform)) == expected


def write(folder: Path, name: str, header: list[str], rows: list[list[str]]) -> None:
    with open(folder / name, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)


AE_HEADER = ["STUDYID", "SITEID", "SUBJID", "AESPID", "AETERM", "AELLT", "AEPT", "AESOC", "AEHLT", "AEHLGT",
             "MEDDRA_VER", "AESTDAT", "AEENDAT", "AEONGO", "AETOXGR", "AESER", "AESHOSP", "AESLE", "AEREL", "AEACN", "AEOUT"]


def test_absent_columns_are_filled_not_missing(tmp_path):
    write(tmp_path, "ae.csv", AE_HEADER, [["S", "01", "01-0001", "1", "Rash"] + [""] * 16])
    forms = dict(REFERENCE.forms) | {"ae": REFERENCE.forms["ae"].model_copy(update={"absent": {"FOLDER": "X"}})}
    result, findings = read_export(tmp_path, REFERENCE.model_copy(update={"forms": forms}), ["ae"])
    assert result["ae"].data["FOLDER"].tolist() == ["X"]
    assert result["ae"].data["AETERM"].tolist() == ["Rash"]
    assert findings == []
    with pytest.raises(InputError) as err:                   # without absent: a missing column
        read_export(tmp_path, REFERENCE, ["ae"])
    assert [f.rule for f in err.value.findings] == ["READ-MISSING-COLUMN"]


def test_an_absent_column_that_is_in_the_file_is_an_error(tmp_path):
    write(tmp_path, "ae.csv", AE_HEADER + ["FOLDER"], [["S", "01", "01-0001", "1", "Rash"] + [""] * 17])
    forms = dict(REFERENCE.forms) | {"ae": REFERENCE.forms["ae"].model_copy(update={"absent": {"FOLDER": ""}})}
    with pytest.raises(InputError) as err:
        read_export(tmp_path, REFERENCE.model_copy(update={"forms": forms}), ["ae"])
    (finding,) = err.value.findings
    assert (finding.rule, finding.file, finding.variable, finding.row) == ("READ-ABSENT-COLUMN", "ae.csv", "FOLDER", 1)
    assert "remove it from absent" in finding.message


def test_read_export_applies_the_layout_step_and_raises_its_errors(tmp_path):
    write(tmp_path, "pga.csv", ["STUDYID", "SITEID", "SUBJID", "FOLDER", "ASSESSDAT", "PGA"],
          [["S", "01", "01-0001", "V1", "05-MAR-2021", "15"], ["S", "01", "01-0001", "V7", "05-APR-2021", "5"]])
    mapping = with_keys(recode={"*.FOLDER": {"V1": "WEEK 0"}}, numbers={"pga.PGA": {"scale": 0.1, "decimals": 1}})
    with pytest.raises(InputError) as err:
        read_export(tmp_path, mapping, ["pga"])
    assert [(f.rule, f.value, f.row) for f in err.value.findings] == [("MAP-RECODE", "V7", 3)]
    mapping = with_keys(recode={"*.FOLDER": {"V1": "WEEK 0", "V7": "WEEK 4"}}, numbers={"pga.PGA": {"scale": 0.1,
                                                                                                    "decimals": 1}})
    result, _ = read_export(tmp_path, mapping, ["pga"])
    assert result["pga"].data[["FOLDER", "PGA"]].values.tolist() == [["WEEK 0", "1.5"], ["WEEK 4", "0.5"]]

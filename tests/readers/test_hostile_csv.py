"""Hostile cell values end to end (issue 12): the CLI refuses them with exit 2, naming file, row and
column, writes nothing and shows no traceback. Policy: README "Hostile cell values".

Each case starts from a small export that converts cleanly (test_the_base_export_converts) and
changes one cell, byte for byte, so the refusal is due to that cell alone.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from sdtm_lupus.cli import main
from sdtm_lupus.write.xpt import XptDataset, XptError, XptVariable, _char_table, check_xpt, write_xpt
from tests.export_builder import write_export
from tests.paths import STUDIES
from tests.rejected import assert_only_input_problems
from tests.test_cli import mini_rows
from tests.validate.test_reports import read_xlsx

STUDY = str(STUDIES / "NCT04515719.yaml")
CELL = "@@CELL@@"
AE = {"SITEID": "01", "SUBJID": "01-0001", "AESPID": "1", "AETERM": "Headache", "AELLT": "Headache",
      "AEPT": "Headache", "AESOC": "Nervous system disorders", "AEHLT": "Headaches NEC", "AEHLGT": "Headaches",
      "MEDDRA_VER": "26.0", "AESTDAT": "10-MAR-2021", "AEENDAT": "12-MAR-2021", "AEONGO": "No", "AETOXGR": "1",
      "AESER": "No", "AESHOSP": "No", "AESLE": "No", "AEREL": "Not related", "AEACN": "Dose not changed",
      "AEOUT": "Recovered/resolved"}
CM = {"SITEID": "01", "SUBJID": "01-0001", "CMSPID": "1", "CMTRT": "Prednisone", "CMCLASS": "GLUCOCORTICOID",
      "CMDOSE": "10", "CMDOSU": "mg", "CMDOSFRQ": "QD", "CMROUTE": "Oral", "CMSTDAT": "01-MAR-2021", "CMINDC": "SLE"}
LAB = {"SITEID": "01", "SUBJID": "01-0001", "FOLDER": "WEEK 0", "LBDAT": "05-MAR-2021", "LBTIM": "09:00",
       "LBCAT": "IMMUNOLOGY", "LBTEST": "Complement C3", "LBORRES": "1.2", "LBORRESU": "g/L", "LBORNRLO": "0.9",
       "LBORNRHI": "1.8", "LBNAM": "Lab"}


def base_rows() -> dict[str, list[dict]]:
    return mini_rows() | {"ae": [dict(AE)], "cm": [dict(CM)], "lab": [dict(LAB)]}


def export(tmp_path: Path, form: str, column: str, raw: str, index: int = 0) -> Path:
    """The base export with form's row `index` (CSV line index + 2) holding exactly `raw` in `column`."""
    rows = base_rows()
    rows[form][index][column] = CELL
    folder = write_export(tmp_path / "raw", "NCT04515719", rows)
    path = folder / f"{form}.csv"
    data = path.read_bytes()
    assert data.count(CELL.encode()) == 1
    path.write_bytes(data.replace(CELL.encode(), raw.encode("utf-8")))
    return folder


def convert(tmp_path: Path, raw: Path):
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["convert", str(raw), "--study", STUDY, "--out", str(out)])
    return result, out


def refused(tmp_path: Path, raw: Path, *expected: str) -> str:
    """Exit 2, no traceback, nothing written; every expected text is in the output. Returns the output."""
    result, out = convert(tmp_path, raw)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    assert "nothing was written" in result.output
    assert_only_input_problems(out)
    for text in expected:
        assert text in result.output, (text, result.output)
    return result.output


def test_the_base_export_converts(tmp_path):
    result, out = convert(tmp_path, write_export(tmp_path / "raw", "NCT04515719", base_rows()))
    assert result.exit_code == 0, result.output
    assert {"ae.xpt", "cm.xpt", "lb.xpt", "ex.xpt"} <= {p.name for p in (out / "sdtm").iterdir()}


# ---------------------------------------------------------------- control and invisible characters

HOSTILE = [
    ("\x00", "READ-CONTROL-CHAR", "U+0000"),                  # NUL: used to cut the XPT value silently
    ("\x1b", "READ-CONTROL-CHAR", "U+001B"),                  # ESC
    ("\x7f", "READ-CONTROL-CHAR", "U+007F"),                  # DEL
    ("\x85", "READ-CONTROL-CHAR", "U+0085"),                  # C1 next line
    ("\ufffd", "READ-CONTROL-CHAR", "U+FFFD REPLACEMENT CHARACTER"),
    ("\u200b", "READ-INVISIBLE-CHAR", "U+200B ZERO WIDTH SPACE"),
    ("\ufeff", "READ-INVISIBLE-CHAR", "U+FEFF ZERO WIDTH NO-BREAK SPACE"),   # a BOM in a middle cell
    ("\u202e", "READ-INVISIBLE-CHAR", "U+202E RIGHT-TO-LEFT OVERRIDE"),
]


@pytest.mark.parametrize("char, rule, named", HOSTILE, ids=[repr(h[0]) for h in HOSTILE])
def test_control_and_invisible_characters_are_refused_at_read_time(tmp_path, char, rule, named):
    value = f"Head{char}ache"
    output = refused(tmp_path, export(tmp_path, "ae", "AETERM", value),
                     f"ERROR [{rule}] ae.csv row 2, column AETERM", repr(value), named)
    assert output.count(f"[{rule}]") == 1


@pytest.mark.parametrize("form, column", [("dosing", "EXSTDAT"), ("enrol", "SUBJID"), ("lab", "LBORRES")])
def test_nul_in_any_column_is_refused(tmp_path, form, column):
    value = base_rows()[form][0][column] + "\x00x"
    refused(tmp_path, export(tmp_path, form, column, value), f"{form}.csv row 2, column {column}", "U+0000")


def test_all_hostile_cells_of_a_run_are_reported_together(tmp_path):
    raw = export(tmp_path, "ae", "AETERM", "a\x00b")
    path = raw / "cm.csv"
    path.write_bytes(path.read_bytes().replace(b"Prednisone", "Pred\u200bnisone".encode()))
    refused(tmp_path, raw, "ae.csv row 2, column AETERM", "cm.csv row 2, column CMTRT")


def test_tab_and_quoted_line_breaks_in_free_text_are_kept(tmp_path):
    from sdtm_lupus.readers.cells import HOSTILE as pattern

    assert not pattern.search("a\tb\nc\r\nd")       # policy: visible whitespace is data, not an attack


def test_hostile_header_field_is_named(tmp_path):
    raw = export(tmp_path, "ae", "AETERM", "Headache")
    path = raw / "ae.csv"
    path.write_bytes(path.read_bytes().replace(b"AETERM", "AETERM\u200b".encode(), 1))
    refused(tmp_path, raw, "ERROR [READ-CONTROL-CHAR] ae.csv row 1", "U+200B", "READ-MISSING-COLUMN")


def test_odm_cell_with_invisible_character_is_refused(tmp_path):
    """The value checks sit in the parse step, which both transports pass."""
    import shutil

    raw = tmp_path / "raw"
    shutil.copytree(Path(__file__).resolve().parents[2] / "fixtures" / "NCT04515719" / "odm", raw)
    (raw / "manifest.json").unlink()
    xml = (raw / "export.xml").read_text(encoding="utf-8")
    marker = 'ItemOID="AE.AETERM" Value="'
    at = xml.index(marker) + len(marker)
    (raw / "export.xml").write_text(xml[:at] + "&#x200B;" + xml[at:], encoding="utf-8")
    line = xml[:at].count("\n") + 1
    output = refused(tmp_path, raw, "ERROR [READ-INVISIBLE-CHAR] export.xml", "column AETERM", "U+200B")
    assert any(f"row {r}," in output for r in range(line - 3, line + 1))


# ---------------------------------------------------------------- look-alike characters

LOOKALIKES = [
    ("dosing", "EXSTDAT", "０５-MAR-2021", "MAP-DATE", "U+FF10 FULLWIDTH DIGIT ZERO"),
    ("dosing", "EXSTDAT", "05-MAR-2021\u00a0", "MAP-DATE", "U+00A0 NO-BREAK SPACE"),
    ("ae", "AESTDAT", "１０-MAR-２０２１", "MAP-DATE", "FULLWIDTH DIGIT"),
    ("dosing", "EXSTTIM", "０9:00", "MAP-TIME", "U+FF10"),
    ("dosing", "WEIGHT_KG", "60\u00a0", "MAP-NUMBER", "U+00A0 NO-BREAK SPACE"),
    ("dosing", "WEIGHT_KG", "６０", "MAP-NUMBER", "U+FF16 FULLWIDTH DIGIT SIX"),
    ("cm", "CMDOSE", "1\u202f0", "MAP-NUMBER", "U+202F NARROW NO-BREAK SPACE"),
    ("lab", "LBORRES", "１.2", "MAP-NUMBER", "U+FF11 FULLWIDTH DIGIT ONE"),
    ("dosing", "GIVEN", "Yes\u00a0", "MAP-YESNO", "U+00A0 NO-BREAK SPACE"),
    ("enrol", "SEX", "Маle", "MAP-CODE", "U+041C CYRILLIC CAPITAL LETTER EM"),
    ("enrol", "SUBJID", "01-000１", "MAP-IDENTIFIER", "U+FF11"),
]


@pytest.mark.parametrize("form, column, value, rule, named", LOOKALIKES, ids=[f"{c[1]}={c[2]!r}" for c in LOOKALIKES])
def test_lookalike_characters_are_refused_where_values_are_read(tmp_path, form, column, value, rule, named):
    rows_of = {"enrol": 0}
    refused(tmp_path, export(tmp_path, form, column, value, rows_of.get(form, 0)),
            f"ERROR [{rule}] {form}.csv row 2, column {column}", repr(value), named)


# ---------------------------------------------------------------- numbers

NUMBERS = [
    ("cm", "CMDOSE", "1e308", "XPT number"),
    ("dosing", "WEIGHT_KG", "inf", "not a finite number"),
    ("dosing", "WEIGHT_KG", "-inf", "not a finite number"),
    ("dosing", "WEIGHT_KG", "nan", "not a finite number"),
    ("dosing", "WEIGHT_KG", "Infinity", "not a finite number"),
    ("dosing", "WEIGHT_KG", "1e400", "XPT number"),
    ("enrol", "WEIGHT_KG", "1e-300", "too close to 0"),
    ("enrol", "WEIGHT_KG", "-60", "body weight must be above 0"),
    ("enrol", "HEIGHT_CM", "-170", "body height must be above 0"),
    ("dosing", "WEIGHT_KG", "0", "body weight must be above 0"),
    ("dosing", "DOSE_MGKG", "-2", "negative"),
    ("cm", "CMDOSE", "-10", "negative"),
    ("lab", "LBORRES", "-1.2", "negative"),
    ("lab", "LBORRES", "<" + "9" * 400, "XPT number"),
    ("lab", "LBORNRHI", "inf", "not a finite number"),
    ("lab", "LBORNRLO", "-0.9", "negative"),
]


@pytest.mark.parametrize("form, column, value, why", NUMBERS, ids=[f"{c[1]}={c[2][:12]}" for c in NUMBERS])
def test_absurd_numbers_are_errors_not_tracebacks(tmp_path, form, column, value, why):
    refused(tmp_path, export(tmp_path, form, column, value),
            f"ERROR [MAP-NUMBER] {form}.csv row 2, column {column}", why)


# ---------------------------------------------------------------- implausible dates

@pytest.mark.parametrize("form, column, value", [("ae", "AEENDAT", "31-DEC-9999"), ("cm", "CMSTDAT", "UN-UNK-2101"),
                                                 ("cm", "CMSTDAT", "01-JAN-1850")])
def test_dates_outside_1900_to_2100_are_errors(tmp_path, form, column, value):
    refused(tmp_path, export(tmp_path, form, column, value),
            f"ERROR [MAP-DATE-RANGE] {form}.csv row 2, column {column}", repr(value))


# ---------------------------------------------------------------- quoting tricks

def test_unterminated_quote_is_a_truncated_record(tmp_path):
    refused(tmp_path, export(tmp_path, "ae", "AETERM", '"Headache'), "ERROR [READ-TRUNCATED] ae.csv row 2")


def test_text_after_a_closing_quote_is_a_syntax_error(tmp_path):
    refused(tmp_path, export(tmp_path, "ae", "AETERM", '"Head"ache'), "ERROR [READ-CSV-SYNTAX] ae.csv row 2")


def test_quoted_line_break_is_kept_and_later_rows_keep_their_line_numbers(tmp_path):
    rows = base_rows()
    rows["ae"] = [dict(AE, AETERM="Rash\non\narms"), dict(AE, AESPID="2", AESTDAT="31-FEB-2021")]
    raw = write_export(tmp_path / "raw", "NCT04515719", rows)
    assert (raw / "ae.csv").read_text(encoding="utf-8").count("\n") == 5    # header, 3-line record, record
    # the impossible date is on the record that begins on line 5, not "row 3"
    refused(tmp_path, raw, "ERROR [MAP-DATE] ae.csv row 5, column AESTDAT")


# ---------------------------------------------------------------- very long cells, formulas

def test_cell_over_200_bytes_is_refused_never_cut(tmp_path):
    """XPT v5 holds 200 bytes per value: a longer value fails the gate (exit 1), nothing is written."""
    raw = export(tmp_path, "ae", "AETERM", "x" * 250)
    result, out = convert(tmp_path, raw)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and not out.exists()
    report = json.loads((tmp_path / "out.rejected" / "validation.json").read_text(encoding="utf-8"))
    failed = [e for e in report["gate"]["expectations"] if e.get("status") == "failed"] \
        if "expectations" in report["gate"] else report["gate"]
    assert "AETERM" in json.dumps(failed) and "200" in json.dumps(failed)


def test_formula_in_a_verbatim_term_is_neutralised_in_the_xlsx_report(tmp_path):
    formula = "=cmd|' /C calc'!A0"
    raw = export(tmp_path, "cm", "CMTRT", formula)      # not in the drug dictionary: a finding quotes it
    result, out = convert(tmp_path, raw)
    assert result.exit_code == 0, result.output
    sheets = read_xlsx((out / "validation.xlsx").read_bytes())     # also asserts: no cell holds a formula
    cells = [v for rows in sheets.values() for row in rows for v in row if isinstance(v, str)]
    quoting = [c for c in cells if "cmd|" in c]
    assert quoting and all(not c.startswith(("=", "+", "-", "@")) for c in quoting)
    assert formula not in [c.strip() for c in cells]
    html = (out / "validation.html").read_text(encoding="utf-8")
    assert "cmd|" in html and "<script>=cmd" not in html


# ---------------------------------------------------------------- the XPT writer's last line of defence

def test_xpt_writer_refuses_text_with_nul_instead_of_cutting_it(tmp_path):
    dataset = XptDataset(name="AE", label="Adverse Events", variables=(XptVariable(name="AETERM", label="Term",
                                                                                     type="Char"),))
    df = pd.DataFrame({"AETERM": ["Head\x00ache"]})
    assert [p.rule for p in check_xpt(df, dataset)] == ["XPT-NUL"]
    with pytest.raises(XptError, match="NUL"):
        write_xpt(df, tmp_path / "ae.xpt", dataset)
    assert not (tmp_path / "ae.xpt").exists()
    with pytest.raises(ValueError, match="NUL"):
        _char_table(["Head\x00ache"], 10)

"""A raw code that already is a CDISC submission value, or a listed synonym, needs no mapping entry (issue 13)."""

from __future__ import annotations

import pytest

from sdtm_lupus.sdtm import map_sdtm
from sdtm_lupus.specs import load_raw_layout, load_specs
from tests.sdtm.builders import context, dose_row, enrol_row, form
from tests.sdtm.test_cm import SUBJ, cm_row
from tests.sdtm.test_lb import lab_row


def run(forms_rows: dict, **mapping_changes):
    ctx = context()
    if mapping_changes:
        ctx.mapping = ctx.mapping.model_copy(update=mapping_changes)
    forms = {"enrol": form("enrol", [enrol_row(SUBJ)]),
             "dosing": form("dosing", [dose_row(SUBJ, "WEEK 0", "05-MAR-2021"), dose_row(SUBJ, "WEEK 2", "19-MAR-2021")])}
    forms |= {name: form(name, rows) for name, rows in forms_rows.items()}
    return map_sdtm(forms, ctx), ctx


def test_every_code_column_names_a_codelist_that_exists():
    codelists = load_specs().terminology.codelists
    layout = load_raw_layout()
    for key, name in layout.codelists.items():
        form_name, column = key.split(".")
        assert column in layout.forms[form_name].columns, key
        assert name in codelists, key


@pytest.mark.parametrize("raw, expected, as_what", [
    ("ug", "ug", "is the CDISC submission value of codelist UNIT (C48152)"),
    ("mcg", "ug", "is a synonym of 'ug', the CDISC submission value of codelist UNIT (C48152)"),
    ("µg", "ug", "synonym of 'ug'"),
])
def test_a_unit_the_value_map_lacks_is_accepted_when_it_is_cdisc_or_a_synonym(raw, expected, as_what):
    rows = [cm_row(CMSPID=str(i), CMDOSU=raw, CMSTDAT=f"1{i}-MAR-2021", CMENDAT="") for i in range(3)]
    datasets, ctx = run({"cm": rows})
    assert datasets["CM"]["CMDOSU"].tolist() == [expected] * 3
    assert not [f for f in ctx.findings if f.severity == "error"]
    [notice] = [f for f in ctx.findings if f.rule == "MAP-CT-ACCEPTED"]      # one per distinct value, not per row
    assert notice.severity == "notice" and notice.value == raw and notice.variable == "CMDOSU" and notice.row == 2
    assert as_what in notice.message and "(3 row(s))" in notice.message


def test_a_value_neither_mapped_nor_cdisc_is_still_an_error():
    _, ctx = run({"cm": [cm_row(CMDOSU="ugg"), cm_row(CMSPID="2", CMDOSU="UG", CMSTDAT="12-MAR-2021")]})
    assert sorted(f.value for f in ctx.findings if f.rule == "MAP-CODE") == ["UG", "ugg"]   # case-sensitive
    assert not [f for f in ctx.findings if f.rule == "MAP-CT-ACCEPTED"]


def test_the_value_map_wins_over_the_codelist():
    values = {**context().mapping.values, "cm.CMROUTE": {"IV": "ORAL"}}      # a (strange) site map is obeyed
    datasets, ctx = run({"cm": [cm_row(CMROUTE="IV")]}, values=values)
    assert datasets["CM"]["CMROUTE"].tolist() == ["ORAL"]
    assert not [f for f in ctx.findings if f.rule == "MAP-CT-ACCEPTED"]


def test_a_cdisc_lab_unit_needs_no_units_entry():
    labs = [lab_row("Complement C3", "1.29", "g/L", "0.90", "1.80"),
            lab_row("24h urine protein", "286", "mg/24h", "0", "150", LBCAT="URINALYSIS")]
    datasets, ctx = run({"lab": labs}, units={})
    lb = datasets["LB"].set_index("LBTESTCD")
    assert lb.loc["C3", "LBORRESU"] == "g/L" and lb.loc["C3", "LBSTRESN"] == 1.29
    assert lb.loc["PROT", "LBORRESU"] == "mg/day" and lb.loc["PROT", "LBSTRESU"] == "g/day"
    assert not [f for f in ctx.findings if f.rule == "LB-UNIT-UNKNOWN"]
    accepted = {f.value: f.message for f in ctx.findings if f.rule == "MAP-CT-ACCEPTED"}
    assert set(accepted) == {"g/L", "mg/24h"} and "without a `units` entry" in accepted["g/L"]

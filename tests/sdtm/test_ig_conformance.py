"""specs/sdtm/*.yaml against the SDTMIG 3.4 domain tables of specs/ig/sdtmig-3.4.yaml (CORE-001081, -000852)."""

import pytest

from sdtm_lupus.specs import load_specs
from sdtm_lupus.specs.ig import load_ig_tables

SDTM = sorted(n for n in load_specs().datasets if not n.startswith("AD"))


def test_every_sdtm_spec_has_an_ig_table():
    ig = load_ig_tables()
    assert ig.version == "3.4"
    assert [n for n in SDTM if ig.table(n) is None] == []


@pytest.mark.parametrize("dataset", SDTM)
def test_variables_are_ig_variables_in_ig_order(dataset):
    table = [v.name for v in load_ig_tables().table(dataset)]
    names = load_specs().dataset(dataset).names
    assert [n for n in names if n not in table] == [], "variables the IG table does not list"
    assert names == sorted(names, key=table.index), "variable order differs from the IG"


@pytest.mark.parametrize("dataset", SDTM)
def test_roles_are_the_ig_roles(dataset):
    ig = {v.name: v.role for v in load_ig_tables().table(dataset)}
    spec = load_specs().dataset(dataset)
    assert {v.name: v.role for v in spec.variables if v.role != ig.get(v.name)} == {}


@pytest.mark.parametrize("dataset", SDTM)
def test_required_ig_variables_are_kept(dataset):
    names = set(load_specs().dataset(dataset).names)
    assert [v.name for v in load_ig_tables().table(dataset) if v.core == "Req" and v.name not in names] == []


def test_the_ig_table_catches_a_wrong_order_and_role():
    """The checks above can fail: CMCLAS before CMINDC (the order before issue 16) is out of IG order."""
    table = [v.name for v in load_ig_tables().table("CM")]
    old = ["CMTRT", "CMDECOD", "CMCLAS", "CMINDC"]
    assert old != sorted(old, key=table.index)
    roles = {v.name: v.role for v in load_ig_tables().table("AE")}
    assert (roles["AEBDSYCD"], roles["AESOC"], roles["AESOCCD"]) == ("Variable Qualifier",) * 3
    assert {v.name: v.role for v in load_ig_tables().table("CM")}["CMDOSFRQ"] == "Record Qualifier"

"""xportr's chain: type -> length -> label -> order -> format -> write, each step alone."""

import math

import pandas as pd
import pytest

from sdtm_lupus.specs import DatasetSpec
from sdtm_lupus.write.outputs import xpt_format, xpt_label, xpt_length, xpt_order, xpt_plan, xpt_type, xpt_write
from sdtm_lupus.write.xpt import XptError, read_xpt

SPEC = DatasetSpec.model_validate({
    "dataset": "XX", "label": "Example Domain", "class": "FINDINGS", "structure": "One record per row",
    "keys": ["USUBJID"],
    "variables": [
        {"name": "USUBJID", "label": "Unique Subject Identifier", "type": "Char", "core": "Req"},
        {"name": "XXSEQ", "label": "Sequence Number", "type": "Num", "core": "Req"},
        {"name": "XXDT", "label": "Date", "type": "Num", "core": "Perm", "format": "DATE9."},
        {"name": "XXORRES", "label": "Result", "type": "Char", "core": "Exp", "format": "ISO8601"},
    ]})


def frame():
    # columns deliberately out of spec order, with a provenance column and trailing blanks
    return pd.DataFrame({"XXORRES": ["POS  ", None], "XXSEQ": [1.0, 2.0], "USUBJID": ["S-1", "S-22"],
                         "XXDT": [pd.Timestamp("2021-03-05"), None], "_row": [2, 3]})


def test_type_takes_the_spec_types_and_drops_provenance():
    plan = xpt_type(frame(), SPEC)
    assert [(v.name, v.type) for v in plan.dataset.variables] == \
        [("USUBJID", "Char"), ("XXSEQ", "Num"), ("XXDT", "Num"), ("XXORRES", "Char")]
    assert "_row" not in plan.frame
    assert all(v.label == "" and v.format is None and v.length is None for v in plan.dataset.variables)


def test_length_is_the_longest_value_without_trailing_blanks_and_8_for_numbers():
    plan = xpt_length(xpt_type(frame(), SPEC))
    assert {v.name: v.length for v in plan.dataset.variables} == {"USUBJID": 4, "XXSEQ": 8, "XXDT": 8, "XXORRES": 3}


def test_an_all_missing_text_column_is_one_byte():
    df = frame().assign(XXORRES=[None, None])
    assert xpt_length(xpt_type(df, SPEC)).dataset.variables[3].length == 1


def test_label_sets_variable_and_dataset_labels():
    plan = xpt_label(xpt_type(frame(), SPEC), SPEC)
    assert plan.dataset.label == "Example Domain"
    assert [v.label for v in plan.dataset.variables] == ["Unique Subject Identifier", "Sequence Number", "Date", "Result"]


def test_order_follows_the_spec_whatever_order_the_steps_saw():
    plan = xpt_type(frame(), SPEC)
    shuffled = plan.dataset.__class__(plan.dataset.name, "", tuple(reversed(plan.dataset.variables)))
    ordered = xpt_order(plan.__class__(plan.frame, shuffled, {}), SPEC)
    assert [v.name for v in ordered.dataset.variables] == ["USUBJID", "XXSEQ", "XXDT", "XXORRES"]


def test_format_only_for_numbers():
    plan = xpt_format(xpt_type(frame(), SPEC), SPEC)
    assert {v.name: v.format for v in plan.dataset.variables} == \
        {"USUBJID": None, "XXSEQ": None, "XXDT": "DATE9.", "XXORRES": None}


def test_write_reads_back_what_the_chain_planned(tmp_path):
    plan = xpt_plan(frame(), SPEC)
    xpt_write(plan, tmp_path / "xx.xpt")
    df, meta = read_xpt(tmp_path / "xx.xpt")
    assert list(df.columns) == ["USUBJID", "XXSEQ", "XXDT", "XXORRES"]
    assert df["XXORRES"].tolist() == ["POS", ""] and df["USUBJID"].tolist() == ["S-1", "S-22"]
    assert df["XXSEQ"].tolist() == [1.0, 2.0] and str(df["XXDT"][0])[:10] == "2021-03-05"
    assert math.isnan(df["XXDT"][1]) if isinstance(df["XXDT"][1], float) else pd.isna(df["XXDT"][1])
    assert meta["name"] == "XX" and meta["label"] == "Example Domain"
    assert meta["lengths"] == {v.name: v.length for v in plan.dataset.variables} == \
        {"USUBJID": 4, "XXSEQ": 8, "XXDT": 8, "XXORRES": 3}
    assert meta["formats"] == {"XXDT": "DATE9."}


def test_write_is_strict_a_declared_length_that_does_not_fit_refuses(tmp_path):
    plan = xpt_plan(frame(), SPEC)
    short = tuple(v.__class__(v.name, v.label, v.type, v.format, 2) if v.name == "USUBJID" else v
                  for v in plan.dataset.variables)
    with pytest.raises(XptError, match="XPT-LENGTH|declared 2 bytes"):
        xpt_write(plan.__class__(plan.frame, plan.dataset.__class__(plan.dataset.name, plan.dataset.label, short),
                                 plan.distinct), tmp_path / "xx.xpt")
    assert not (tmp_path / "xx.xpt").exists()

"""The wide GE engine (validate/wide.py: a few expectations on distinct values) must give every
check exactly what one narrow GE expectation per check on the rows gives: status, counts, examples
and failing records. The narrow engine (run_gate(wide=False)) is the reference."""

import numpy as np
import pandas as pd
import pytest

from sdtm_lupus.validate.gate import run_gate
from sdtm_lupus.validate.results import MAX_RECORDS
from sdtm_lupus.validate.wide import Factorized
from tests.validate.test_gate import DM_ROWS, EX_ROWS, SPECS, frame


def both(datasets):
    wide, narrow = run_gate(datasets, SPECS), run_gate(datasets, SPECS, wide=False)
    assert wide.to_dict() == narrow.to_dict()
    return wide


def failed(g):
    return {r.expectation.id: r.unexpected_count for r in g.failed}


def hostile_ex(char_dtype=object):
    e = frame("EX", EX_ROWS * 4, "ex.csv", char_dtype)
    e["EXSEQ"] = np.arange(1.0, len(e) + 1)
    e.loc[0, "USUBJID"] = None                     # Req null
    e.loc[1, "STUDYID"] = ""                       # Req empty text is null
    e.loc[2, "EXDOSU"] = "MG"                      # not in an extensible codelist
    e.loc[3, "EXROUTE"] = "intravenous"            # not in a non-extensible codelist
    e.loc[4, "EXSTDTC"] = "2021-02-31T"            # not ISO 8601
    e.loc[5, "EXSTDTC"] = "2021-03-05\n"           # a trailing newline is not ISO 8601
    e.loc[6, "VISIT"] = "é" * 101                  # 202 bytes
    e.loc[7, "DOMAIN"] = "ÉX"                      # 3 bytes > 2, and not "EX"
    e.loc[8, ["USUBJID", "EXSEQ"]] = ["NCT1-001", 4.0]     # repeats row 3's --SEQ within the subject
    e.loc[9, "EPOCH"] = ""                         # empty text in a Perm CT column: null, not a term
    return e


@pytest.mark.parametrize("char_dtype", [object, "str"])
def test_hostile_frames_give_the_same_results_in_both_engines(char_dtype):
    d = frame("DM", DM_ROWS, "dm.csv", char_dtype)
    d.loc[1, "SEX"] = "X"
    g = both({"DM": d, "EX": hostile_ex(char_dtype)})
    got = failed(g)
    for id_ in ("EX.USUBJID.REQ", "EX.STUDYID.REQ", "EX.EXDOSU.CT", "EX.EXROUTE.CT", "EX.EXSTDTC.ISO8601",
                "EX.VISIT.LEN200", "EX.DOMAIN.LEN2", "EX.DOMAIN.VALUE", "EX.EXSEQ.UNIQUE", "DM.SEX.CT"):
        assert id_ in got, id_
    assert got["EX.EXSTDTC.ISO8601"] == 2 and got["EX.EXSEQ.UNIQUE"] == 2
    assert "EX.EPOCH.CT" not in got


def test_a_text_column_holding_numbers_and_nulls():
    e = frame("EX", EX_ROWS, "ex.csv")
    e["EPOCH"] = pd.Series([5, None, "TREATMENT"], dtype=object)   # a number in a CT text column
    e["EXSTDTC"] = pd.Series([2021, np.nan, "2021-04-01"], dtype=object)
    g = both({"DM": frame("DM", DM_ROWS, "dm.csv"), "EX": e})
    assert failed(g)["EX.EPOCH.CT"] == 1


def test_more_failures_than_records_kept():
    rows = 2 * MAX_RECORDS + 250
    e = frame("EX", [EX_ROWS[0]] * rows, "ex.csv")
    e["EXSEQ"] = 1.0                                     # every row repeats the same keys and --SEQ
    e["EXDOSU"] = ["MG", "mL"] * (rows // 2)            # half outside the codelist
    g = both({"DM": frame("DM", DM_ROWS, "dm.csv"), "EX": e})
    by_id = {r.expectation.id: r for r in g.results}
    seq, unit = by_id["EX.EXSEQ.UNIQUE"], by_id["EX.EXDOSU.CT"]
    assert (seq.unexpected_count, len(seq.records)) == (rows, MAX_RECORDS)
    assert (unit.unexpected_count, len(unit.records)) == (rows // 2, MAX_RECORDS)
    assert [r["row"] for r in unit.records[:3]] == [2, 4, 6]


def test_rows_where_every_key_is_null_are_not_duplicates():
    e = frame("EX", EX_ROWS, "ex.csv")
    e = pd.concat([e, e.iloc[[2, 2]]], ignore_index=True)
    e.loc[3:4, ["STUDYID", "USUBJID", "EXTRT", "EXSTDTC", "EXSEQ"]] = None
    g = both({"DM": frame("DM", DM_ROWS, "dm.csv"), "EX": e})
    assert "EX.KEYS.UNIQUE" not in failed(g)


@pytest.mark.parametrize("values,codes,uniques", [
    (["a", "", "b", None, "a", ""], [0, -1, 1, -1, 0, -1], ["a", "b"]),
    (["", "x"], [-1, 0], ["x"]),
    ([1.0, np.nan, 1.0], [0, -1, 0], [1.0]),
])
def test_factorized_codes_treat_empty_text_as_null(values, codes, uniques):
    got_codes, got_uniques = Factorized(pd.DataFrame({"C": pd.Series(values, dtype=object)})).codes("C")
    assert got_codes.tolist() == codes and list(got_uniques) == uniques


def test_group_ids_number_combinations_and_leave_all_null_rows_out():
    df = pd.DataFrame({"A": ["x", "x", "y", None, "x"], "B": [1.0, 1.0, 1.0, np.nan, np.nan]})
    ids, all_null = Factorized(df).group_ids(("A", "B"))
    assert ids[0] == ids[1] and len({ids[0], ids[2], ids[4]}) == 3
    assert all_null.tolist() == [False, False, False, True, False]

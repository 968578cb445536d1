import re

import pytest

from sdtm_lupus.specs import Codelist, load_specs
from sdtm_lupus.validate.suites import ISO8601_REGEX, build_cross_expectations, build_expectations

SPECS = load_specs()


def by_id(exps):
    return {e.id: e for e in exps}


def test_ids_unique_and_sorted_by_dataset():
    exps = build_expectations(SPECS, ["EX", "DM"])
    ids = [e.id for e in exps]
    assert len(ids) == len(set(ids))
    assert [e.dataset for e in exps] == sorted(e.dataset for e in exps)


def test_dm_expectations_follow_spec():
    exps = by_id(build_expectations(SPECS, ["DM"]))
    sex = exps["DM.SEX.CT"]
    assert (sex.severity, sex.variables, sex.kind) == ("error", ("SEX",), "in_set")
    assert sex.rule == "SEX is in codelist SEX (C66731)"
    assert sex.params["value_set"] == ["F", "INTERSEX", "M", "U"]
    assert exps["DM.USUBJID.REQ"].kind == "not_null"
    assert exps["DM.RFSTDTC.EXP"].kind == "column_exists"
    assert exps["DM.RFSTDTC.ISO8601"].params["regex"] == ISO8601_REGEX
    assert exps["DM.DOMAIN.VALUE"].params["value_set"] == ["DM"]
    assert exps["DM.ARMCD.LEN20"].params["max"] == 20 and exps["DM.ARMCD.LEN200"].params["max"] == 200
    assert exps["DM.DOMAIN.LEN2"].params["max"] == 2
    assert exps["DM.KEYS.UNIQUE"].variables == ("STUDYID", "USUBJID")
    for meta in ("NAME8", "VARNAME8", "LABEL40", "COLUMNS", "EXTRA"):
        assert exps[f"DM.META.{meta}"].kind == "meta"
    # Perm: no presence/null check, but format and length still checked; Num: no length check.
    assert "DM.BRTHDTC.REQ" not in exps and "DM.BRTHDTC.EXP" not in exps and "DM.BRTHDTC.ISO8601" in exps
    assert "DM.AGE.LEN200" not in exps
    assert not [i for i in exps if i.endswith("SEQ.UNIQUE")]   # DM has no --SEQ
    assert all(e.severity == "error" for e in exps.values() if e.kind != "in_set")


def test_ex_expectations_follow_spec():
    exps = by_id(build_expectations(SPECS, ["EX"]))
    assert exps["EX.KEYS.UNIQUE"].variables == ("STUDYID", "USUBJID", "EXTRT", "EXSTDTC")
    assert exps["EX.EXSEQ.UNIQUE"].variables == ("USUBJID", "EXSEQ")
    assert exps["EX.EXSEQ.REQ"].kind == "not_null"
    assert exps["EX.EXSTDTC.ISO8601"].severity == "error"
    # UNIT is extensible: out-of-codelist units are warnings.
    assert exps["EX.EXDOSU.CT"].severity == "warning"
    assert exps["EX.EXDOSU.CT"].rule.endswith("(extensible)")


def test_study_codelists_filled_from_study():
    assert by_id(build_expectations(SPECS, ["DM"]))["DM.ARMCD.CT"].params["value_set"] is None
    specs = SPECS.with_codelists({"ARMCD": Codelist(name="Planned Arm Code", extensible=False,
                                                    terms={"PBO": None, "ANI": None})})
    assert by_id(build_expectations(specs, ["DM"]))["DM.ARMCD.CT"].params["value_set"] == ["ANI", "PBO"]


def test_cross_expectations_only_for_non_dm_sdtm():
    exps = build_cross_expectations(SPECS, ["DM", "EX"])
    assert [(e.id, e.severity, e.kind) for e in exps] == [("X.EX.USUBJID.IN_DM", "error", "in_dm")]


@pytest.mark.parametrize("value", ["2021", "2021-03", "2021-03-05", "2021-03-05T10", "2021-03-05T10:30",
                                   "2021-03-05T10:30:15", "2021-03-05T10:30:15.25"])
def test_iso8601_accepts_truncated(value):
    assert re.search(ISO8601_REGEX, value)


@pytest.mark.parametrize("value", ["2021-02-31T", "05-MAR-2021", "2021-3-5", "2021-03-05 10:30", "21-03-05",
                                   "2021-03-05\n", "٢٠٢١", "2021-03-05T10:30Z", ""])
def test_iso8601_rejects(value):
    assert not re.search(ISO8601_REGEX, value)


def test_dataset_without_spec():
    (e,) = build_expectations(SPECS, ["ZZ"])
    assert (e.id, e.severity, e.kind) == ("ZZ.META.SPEC", "error", "meta")
    assert build_cross_expectations(SPECS, ["ZZ"]) == []

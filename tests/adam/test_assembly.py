"""ADaM assembled from the SDTM of the fixtures, and the small assembly helpers."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pyreadstat
import pytest

from sdtm_lupus import api
from sdtm_lupus.adam.derive import km_median
from sdtm_lupus.adam.rule_tables import impute_end, impute_start
from sdtm_lupus.adam.rules.adsl import compute_group as group
from sdtm_lupus.adam.rules.adsl import compute_sle_duration
from tests.paths import STUDIES


@pytest.mark.parametrize("diag, consent, years", [
    ("2011-03-15", "2021-03-15", 10.0),
    ("2011-03", "2021-03-01", 10.0),     # partial month -> the 1st
    ("2011", "2021-07-01", 10.0),        # year only -> 1 July
    (None, "2021-03-01", None),
    ("2020-01-01", None, None),
])
def test_sle_duration_imputes_partial_diagnosis_dates(diag, consent, years):
    assert compute_sle_duration(diag, consent) == years


def test_groups_split_at_the_cut_with_the_stated_side():
    values = pd.Series([39.0, 40.0, None])
    assert group(values, 40, "<40", ">=40", low_inclusive=False).tolist() == ["<40", ">=40", None]
    assert group(pd.Series([7.5, 7.6]), 7.5, "<=7.5", ">7.5", low_inclusive=True).tolist() == ["<=7.5", ">7.5"]


@pytest.mark.parametrize("iso, start, end", [
    ("2021-03-05", date(2021, 3, 5), date(2021, 3, 5)),
    ("2021-03", date(2021, 3, 1), date(2021, 3, 31)),
    ("2021-02", date(2021, 2, 1), date(2021, 2, 28)),
    ("2021", date(2021, 1, 1), date(2021, 12, 31)),
    (None, None, None),
])
def test_partial_cm_dates_imputed_per_r33(iso, start, end):
    assert (impute_start(iso), impute_end(iso)) == (start, end)


def test_km_median():
    assert km_median(pd.Series([10.0, 20, 30, 40]), pd.Series([0, 0, 0, 0])) == 20.0
    assert km_median(pd.Series([10.0, 20, 30]), pd.Series([0, 1, 1])) is None
    assert km_median(pd.Series([5.0, 10, 10, 30]), pd.Series([1, 0, 0, 1])) == 10.0


@pytest.fixture(scope="module", params=["NCT04515719", "NCT04893161"])
def converted(request, fixture_runs):
    study = request.param
    return study, fixture_runs[study].result


def read(result, name):
    df, meta = pyreadstat.read_xport(result.out_dir / "adam" / f"{name.lower()}.xpt")
    return df, meta


def test_adsl_one_record_per_assigned_subject(converted):
    study, result = converted
    adsl, meta = read(result, "ADSL")
    dm, _ = pyreadstat.read_xport(result.out_dir / "sdtm" / "dm.xpt")
    assert sorted(adsl["USUBJID"]) == sorted(dm.loc[dm["ARMCD"].ne(""), "USUBJID"])
    assert adsl["USUBJID"].is_unique
    assert meta.column_names_to_labels["TRTSDT"] == "Date of First Exposure to Treatment"
    assert meta.original_variable_types["TRTSDT"].startswith("DATE")
    # TRTSDT is the SAS day number of DM.RFXSTDTC's date
    rfx = dm.set_index("USUBJID")["RFXSTDTC"].str[:10]
    for u, trtsdt in zip(adsl["USUBJID"], adsl["TRTSDT"]):   # pyreadstat reads DATE9. as dates
        if rfx[u]:
            assert trtsdt == date.fromisoformat(rfx[u])


def test_adeff_has_every_sri_record_for_the_fas(converted):
    study, result = converted
    adsl, _ = read(result, "ADSL")
    adeff, _ = read(result, "ADEFF")
    fas = adsl.loc[adsl["FASFL"].eq("Y"), "USUBJID"]
    visits = [v for v in api.load_study(STUDIES / f"{study}.yaml").visits
              if v.assessments and v.target_day > 1 and v.folder.startswith("WEEK ")]
    sri4 = adeff[adeff["PARAMCD"].eq("SRI4")]
    assert len(sri4) == len(fas) * len(visits)
    assert set(sri4["AVALC"]) <= {"Y", "N"}
    assert (sri4["AVAL"] == sri4["AVALC"].map({"Y": 1.0, "N": 0.0})).all()
    assert set(sri4.loc[sri4["DTYPE"].eq("NRI"), "AVALC"]) <= {"N"}
    assert adeff.groupby("PARAMCD")["PARAM"].nunique().max() == 1
    sledai = adeff[adeff["PARAMCD"].eq("SLEDAI") & adeff["ABLFL"].eq("Y")]
    assert sledai["USUBJID"].is_unique and (sledai["AVISIT"] == "Baseline").all()
    assert (adeff["SRCDOM"].isin(["QS", "CM", ""])).all()


def test_adtte_three_parameters_per_fas_subject(converted):
    study, result = converted
    adsl, _ = read(result, "ADSL")
    adtte, _ = read(result, "ADTTE")
    fas = set(adsl.loc[adsl["FASFL"].eq("Y"), "USUBJID"])
    assert set(adtte["USUBJID"]) == fas
    assert sorted(adtte["PARAMCD"].unique()) == ["TTFLANY", "TTFLMM", "TTFLSEV"]
    assert set(adtte["CNSR"]) <= {0.0, 1.0}
    assert all(aval == (adt - start).days + 1 for aval, adt, start in zip(adtte["AVAL"], adtte["ADT"],
                                                                          adtte["STARTDT"]))


def test_endpoint_summary_in_report(converted):
    study, result = converted
    summary = result.report["endpoints"]["by_arm"]
    assert summary and all(row["sri4_week48"]["n"] == row["fas"] for row in summary.values())

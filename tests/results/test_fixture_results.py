"""Issue 18 on both fixture studies: the ADaM gaps, OUT/results/ against counts made by hand from
the ADaM files, and the report's figures rendered by headless Chromium."""

from __future__ import annotations

import csv
from datetime import date

import pyreadstat
import pytest
from lxml import html as lxml_html

from sdtm_lupus.results.stats import kaplan_meier, wilson
from tests.paths import FIXTURES
from tests.shared_runs import convert_run
from tests.validate.test_report_browser import run_chromium

YN = ("SRI4", "SRI5", "SRI6", "SRI7", "SRI8", "SRI4SLED", "SRI4BILG", "SRI4PGA", "FLANY52", "FLSEV52", "FLMM52",
      "PFREE52", "LLDAS")


@pytest.fixture(scope="module", params=["NCT04515719", "NCT04893161"])
def run(request, fixture_runs):
    study = request.param
    out = fixture_runs[study].out
    read = {n: pyreadstat.read_xport(out / "adam" / f"{n}.xpt")[0] for n in ("adsl", "adeff", "adtte")}
    return study, out, read


def rows(path):
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_ady_on_every_dated_adeff_record(run):
    _, _, d = run
    adsl, adeff = d["adsl"], d["adeff"]
    trtsdt = dict(zip(adsl["USUBJID"], adsl["TRTSDT"]))
    dated = adeff[adeff["ADT"].notna()]
    assert dated["ADY"].notna().all()
    for u, adt, ady in zip(dated["USUBJID"], dated["ADT"], dated["ADY"]):
        diff = (adt - trtsdt[u]).days
        assert ady == (diff + 1 if diff >= 0 else diff)


def test_every_yn_parameter_has_aval_1_0(run):
    _, _, d = run
    yn = d["adeff"][d["adeff"]["PARAMCD"].isin(YN)]
    assert set(yn["PARAMCD"]) >= {"SRI4", "SRI4SLED", "FLANY52", "FLSEV52", "FLMM52", "PFREE52"}
    assert (yn["AVAL"] == yn["AVALC"].map({"Y": 1.0, "N": 0.0})).all()


def test_analysis_flag_on_sri_and_flare_records(run):
    _, _, d = run
    adeff = d["adeff"]
    for code in ("SRI4", "SRI8", "SRI4PGA", "FLARE", "FLANY52", "PFREE52"):
        assert adeff.loc[adeff["PARAMCD"].eq(code), "ANL01FL"].eq("Y").all(), code


def test_numbering_variables(run):
    _, _, d = run
    adsl, adeff, adtte = d["adsl"], d["adeff"], d["adtte"]
    assert adsl["TRT01PN"].notna().all() and adsl["TRT01AN"].notna().all()
    assert adsl.groupby("TRT01P")["TRT01PN"].nunique().max() == 1
    for ds in (adeff, adtte):
        assert ds["PARAMN"].notna().all()
        assert ds.groupby("PARAMCD")["PARAMN"].nunique().max() == 1
        assert ds.groupby("PARAMN")["PARAMCD"].nunique().max() == 1
    with_visit = adeff[adeff["AVISIT"].ne("")]
    assert with_visit["AVISITN"].notna().all()


def test_adtte_events_trace_to_their_adeff_flare_record(run):
    _, _, d = run
    adeff, adtte = d["adeff"], d["adtte"]
    assert adtte["SRCSEQ"].notna().any()
    events = adtte[adtte["CNSR"].eq(0)]
    for u, adt, seq in zip(events["USUBJID"], events["ADT"], events["SRCSEQ"]):
        (rec,) = adeff[adeff["USUBJID"].eq(u) & adeff["ASEQ"].eq(seq)].itertuples()
        assert rec.PARAMCD == "FLARE" and rec.AVALC in ("MILD/MODERATE", "SEVERE")
        assert adt <= rec.ADT                    # the onset is in the occasion's interval
    censored = adtte[adtte["CNSR"].eq(1)]
    assert set(censored["SRCDOM"]) <= {"QS", "ADSL"}
    assert censored.loc[censored["SRCDOM"].eq("QS"), "SRCSEQ"].notna().all()


def test_preddose_baseline_is_the_day_1_dose(run):
    _, _, d = run
    adsl, adeff = d["adsl"], d["adeff"]
    pred = adeff[adeff["PARAMCD"].eq("PREDDOSE")]
    bpred = dict(zip(adsl["USUBJID"], adsl["BPRED"]))
    trtsdt = dict(zip(adsl["USUBJID"], adsl["TRTSDT"]))
    base = pred[pred["ABLFL"].eq("Y")]
    assert base["USUBJID"].is_unique
    assert all(adt == trtsdt[u] and aval == bpred[u] for u, adt, aval in zip(base["USUBJID"], base["ADT"], base["AVAL"]))
    assert all(b == bpred[u] for u, b in zip(pred["USUBJID"], pred["BASE"]))


def test_randdt_empty_and_the_define_says_why(run):
    _, out, d = run
    assert d["adsl"]["RANDDT"].isna().all()
    assert "collects no randomisation date" in (out / "adam" / "define.xml").read_text(encoding="utf-8")


def test_endpoints_csv_counts_and_wilson_intervals(run):
    _, out, d = run
    adsl, adeff = d["adsl"], d["adeff"]
    fas = adsl[adsl["FASFL"].eq("Y")]
    arm_of = dict(zip(fas["USUBJID"], fas["TRT01P"]))
    table = rows(out / "results" / "endpoints.csv")
    assert {r["paramcd"] for r in table} >= {"SRI4", "FLANY52", "PFREE52"}
    for r in table:
        recs = adeff[adeff["PARAMCD"].eq(r["paramcd"]) & adeff["USUBJID"].isin(set(arm_of))]
        if r["avisit"]:
            recs = recs[recs["AVISIT"].eq(r["avisit"])]
        recs = recs[recs["USUBJID"].map(arm_of).eq(r["arm"])]
        assert int(r["n"]) == len(recs)
        if not r["paramcd"].startswith("SRI4") or r["paramcd"] == "SRI4":       # components: observed visits only
            assert len(recs) == (fas["TRT01P"] == r["arm"]).sum()               # one record per FAS subject
        assert int(r["responders"]) == recs["AVALC"].eq("Y").sum()
        low, high = wilson(int(r["responders"]), int(r["n"]))
        assert (float(r["ci_low"]), float(r["ci_high"])) == (round(low, 6), round(high, 6))
    arms = sorted(set(fas["TRT01P"]))
    compared = [r for r in table if r["difference"]]
    assert bool(compared) == (len(arms) == 2)
    for r in compared:
        assert r["reference_arm"] == "Placebo" and r["arm"] != "Placebo"


def test_km_files_match_the_adtte_records(run):
    _, out, d = run
    adsl, adtte = d["adsl"], d["adtte"]
    fas = adsl[adsl["FASFL"].eq("Y")]
    medians = rows(out / "results" / "km_median.csv")
    km_rows = rows(out / "results" / "km.csv")
    assert {m["paramcd"] for m in medians} == {"TTFLANY", "TTFLSEV", "TTFLMM"}
    for m in medians:
        sel = adtte[adtte["PARAMCD"].eq(m["paramcd"]) & adtte["TRT01P"].eq(m["arm"])]
        assert int(m["n"]) == len(sel) == (fas["TRT01P"] == m["arm"]).sum()
        assert int(m["events"]) == (sel["CNSR"] == 0).sum()
        # by hand: survival steps down by (1 - d/n) at each event time
        surv, at_risk = 1.0, len(sel)
        mine = [r for r in km_rows if r["paramcd"] == m["paramcd"] and r["arm"] == m["arm"]]
        for r in mine:
            t = float(r["time"])
            ev, ce = ((sel["AVAL"] == t) & (sel["CNSR"] == 0)).sum(), ((sel["AVAL"] == t) & (sel["CNSR"] == 1)).sum()
            assert (int(r["at_risk"]), int(r["events"]), int(r["censored"])) == (at_risk, ev, ce)
            surv *= 1 - ev / at_risk
            assert float(r["survival"]) == pytest.approx(surv, abs=1e-6)
            at_risk -= ev + ce
        km = kaplan_meier(sel["AVAL"].tolist(), sel["CNSR"].astype(int).tolist())
        assert (float(m["median"]) if m["median"] else None) == km.median


def test_results_bytes_are_deterministic(run, tmp_path):
    study, out, _ = run
    convert_run(tmp_path, "again", FIXTURES / study / "csv", study)     # as the shared run was made
    for name in ("endpoints.csv", "km.csv", "km_median.csv"):
        assert (out / "results" / name).read_bytes() == (tmp_path / "again" / "results" / name).read_bytes()
    assert (out / "validation.html").read_bytes() == (tmp_path / "again" / "validation.html").read_bytes()


def test_report_figures_render_in_chromium(run, tmp_path):
    study, out, _ = run
    doc = lxml_html.fromstring(run_chromium(tmp_path, "--dump-dom", (out / "validation.html").resolve().as_uri()).stdout)
    assert doc.get("data-report") == "ready"          # the page's script ran under its CSP
    for fig_id in ("plot-sri4-by-visit", "plot-km-ttflany", "plot-km-ttflsev", "plot-km-ttflmm"):
        (figure,) = doc.xpath(f'//figure[@id="{fig_id}"]')
        svgs = figure.xpath('.//*[local-name()="svg"]')
        assert len(svgs) == 1, fig_id
        assert len(svgs[0].xpath('.//*[local-name()="path"]')) > 5, fig_id
    km = doc.xpath('//figure[@id="plot-km-ttflany"]')[0].text_content()
    assert "Number at risk" in km
    assert doc.xpath('//table[@id="results-endpoints"]/tbody/tr')
    shot = tmp_path / "shot.png"
    run_chromium(tmp_path, f"--screenshot={shot}", "--window-size=1200,1600",
                 (out / "validation.html").resolve().as_uri() + "#results")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_fixture_dates_are_dates(run):
    _, _, d = run
    assert isinstance(d["adsl"]["TRTSDT"].dropna().iloc[0], date)

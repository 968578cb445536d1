"""define.xml (Define-XML 2.1) for the SDTM and ADaM output: schema, agreement with the XPT files,
value-level metadata, methods with the rule parameters in force, determinism, define.html, and the
define checker itself (the CDISC MSG examples, tampered defines)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from lxml import etree
from lxml import html as lxml_html

from sdtm_lupus import api
from sdtm_lupus.config.study import load_study
from sdtm_lupus.describe.define_meta import render_text
from sdtm_lupus.validate.define_check import check_define, check_output_folder, define_schema
from sdtm_lupus.write.xpt import read_xpt
from tests.paths import ROOT, STUDIES
from tests.write.submission_runs import CREATED, RUN_NAMES

ODM = "{http://www.cdisc.org/ns/odm/v1.3}"
DEF = "{http://www.cdisc.org/ns/def/v2.1}"
XLINK = "{http://www.w3.org/1999/xlink}"
MSG = ROOT.parent / "shared" / "reference" / "cdisc-msg"
FOLDERS = ["sdtm", "adam"]


def _define(run, folder: str) -> etree._ElementTree:
    return etree.parse(str(run.out / folder / "define.xml"))


def _text(node) -> str | None:
    found = node.find(f"{ODM}Description/{ODM}TranslatedText")
    return None if found is None else found.text


# ---------------------------------------------------------------- the CDISC MSG examples

@pytest.mark.skipif(not MSG.exists(), reason="shared/reference/cdisc-msg is not beside the repository")
def test_msg_sdtm_define_is_rejected_for_the_stdtmig_standard_name():
    findings = check_define(MSG / "sdtm" / "define.xml")
    xsd = [f for f in findings if f.rule == "DEFINE-XSD"]
    assert xsd and all(f.severity == "error" for f in xsd)
    assert any("STDTMIG" in f.message and f.row for f in xsd), [f.message for f in xsd]


@pytest.mark.skipif(not MSG.exists(), reason="shared/reference/cdisc-msg is not beside the repository")
def test_msg_adam_define_passes_the_schema():
    findings = check_define(MSG / "adam" / "define.xml")
    assert [f for f in findings if f.rule in ("DEFINE-XSD", "DEFINE-XML", "DEFINE-REF")] == []


def test_schema_imports_resolve_locally():
    for arm in (False, True):
        assert define_schema(arm) is not None          # lxml, no network: every import is a local file


# ---------------------------------------------------------------- our define.xml

@pytest.mark.parametrize("name", RUN_NAMES)
@pytest.mark.parametrize("folder", FOLDERS)
def test_define_validates_against_the_xsd_and_checks_clean(submission_runs, name, folder):
    run = submission_runs[name]
    doc = _define(run, folder)
    schema = define_schema(False)
    assert schema.validate(doc), [e.message for e in schema.error_log][:5]
    assert check_output_folder(run.out / folder, folder) == []
    # the self-check of convert found nothing either
    assert not [f for f in run.result.report["findings"] if f["rule"].startswith(("DEFINE", "DATASET-JSON"))]


@pytest.mark.parametrize("name", RUN_NAMES)
@pytest.mark.parametrize("folder", FOLDERS)
def test_define_agrees_with_the_xpt_files(submission_runs, name, folder):
    """Independent of the checker: every dataset, variable, label, length and type, read back with pyreadstat."""
    run = submission_runs[name]
    root = _define(run, folder).getroot()
    groups = {g.get("Name"): g for g in root.iter(f"{ODM}ItemGroupDef")}
    items = {i.get("OID"): i for i in root.iter(f"{ODM}ItemDef")}
    xpts = {p.stem.upper(): p for p in (run.out / folder).glob("*.xpt")}
    assert set(groups) == set(xpts) and xpts
    for name_, group in groups.items():
        df, meta = read_xpt(xpts[name_])
        assert _text(group) == meta["label"]
        assert group.find(f"{DEF}leaf").get(f"{XLINK}href") == xpts[name_].name
        refs = sorted(group.findall(f"{ODM}ItemRef"), key=lambda r: int(r.get("OrderNumber")))
        defs = [items[r.get("ItemOID")] for r in refs]
        assert [d.get("Name") for d in defs] == list(df.columns)
        for item in defs:
            var = item.get("Name")
            assert _text(item) == meta["labels"][var], (name_, var)
            kind = meta["types"][var]
            data_type = item.get("DataType")
            if kind == "Num":
                assert data_type in ("integer", "float") and item.get("Length") == "8", (name_, var)
                assert item.get(f"{DEF}DisplayFormat") == meta["formats"].get(var), (name_, var)
            elif data_type == "text":
                assert int(item.get("Length")) == meta["lengths"][var], (name_, var)
            else:   # ISO 8601 text: no Length; every value fits the declared type
                assert data_type in ("date", "datetime", "partialDate", "partialDatetime"), (name_, var)
                values = [v for v in df[var] if v]
                if data_type == "date":
                    assert all(len(v) == 10 for v in values), (name_, var)


def test_keys_class_structure_and_standards(submission_runs):
    root = _define(submission_runs["NCT04515719"], "sdtm").getroot()
    qs = next(g for g in root.iter(f"{ODM}ItemGroupDef") if g.get("Name") == "QS")
    keys = sorted((int(r.get("KeySequence")), r.get("ItemOID")) for r in qs.findall(f"{ODM}ItemRef")
                  if r.get("KeySequence"))
    assert [oid for _, oid in keys] == [f"IT.QS.{v}" for v in ("STUDYID", "USUBJID", "QSCAT", "QSTESTCD", "VISITNUM",
                                                              "QSDTC", "QSGRPID")]
    assert qs.find(f"{DEF}Class").get("Name") == "FINDINGS" and qs.get("Purpose") == "Tabulation"
    standards = {(s.get("Name"), s.get("Version"), s.get("Type")) for s in root.iter(f"{DEF}Standard")}
    assert standards == {("SDTMIG", "3.4", "IG"), ("CDISC/NCI", "2025-03-28", "CT")}
    adam = _define(submission_runs["NCT04515719"], "adam").getroot()
    adsl = next(g for g in adam.iter(f"{ODM}ItemGroupDef") if g.get("Name") == "ADSL")
    assert adsl.get("Purpose") == "Analysis" and adsl.get("Repeating") == "No"
    assert adsl.find(f"{DEF}Class").get("Name") == "SUBJECT LEVEL ANALYSIS DATASET"
    trtsdt = next(i for i in adam.iter(f"{ODM}ItemDef") if i.get("OID") == "IT.ADSL.TRTSDT")
    assert (trtsdt.get("DataType"), trtsdt.get(f"{DEF}DisplayFormat")) == ("integer", "DATE9.")


def test_codelists_carry_nci_codes_and_sponsor_terms(submission_runs):
    root = _define(submission_runs["NCT04515719"], "sdtm").getroot()
    codelists = {c.get("OID"): c for c in root.iter(f"{ODM}CodeList")}
    sex = codelists["CL.SEX"]
    assert sex.find(f"{ODM}Alias").get("Name") == "C66731" and sex.get(f"{DEF}StandardOID")
    assert {a.get("Name") for a in sex.iter(f"{ODM}Alias")} >= {"C66731", "C16576"}
    qstestcd = codelists["CL.QSTESTCD"]
    assert qstestcd.get(f"{DEF}IsNonStandard") == "Yes"
    decodes = {i.get("CodedValue"): i.find(f"{ODM}Decode/{ODM}TranslatedText").text
               for i in qstestcd.findall(f"{ODM}CodeListItem")}
    assert decodes["SSLD0101"] == "SSLD01-Seizure" and decodes["BILG0108"] == "BILG01-Renal"
    assert any(c.startswith("SFI01") for c in decodes)
    # every CodeListRef resolves, and every codelist is used
    refs = {r.get("CodeListOID") for r in root.iter(f"{ODM}CodeListRef")}
    assert refs == set(codelists)
    adam = _define(submission_runs["NCT04515719"], "adam").getroot()
    paramcd = next(c for c in adam.iter(f"{ODM}CodeList") if c.get("OID") == "CL.PARAMCD_EFF")
    assert {i.get("CodedValue") for i in paramcd.iter(f"{ODM}CodeListItem")} >= {"SLEDAI", "SRI4", "FLARE"}


def test_value_level_metadata_for_qs_lb_and_adeff(submission_runs):
    run = submission_runs["NCT04515719"]
    sdtm = _define(run, "sdtm").getroot()
    lists = {v.get("OID"): v for v in sdtm.iter(f"{DEF}ValueListDef")}
    assert {"VL.QS.QSORRES", "VL.QS.QSSTRESN", "VL.LB.LBORRES", "VL.LB.LBSTRESN", "VL.SUPPAE.QVAL"} <= set(lists)
    wheres = {w.get("OID"): w for w in sdtm.iter(f"{DEF}WhereClauseDef")}
    check = wheres["WC.QS.QSTESTCD.SSLD0101"].find(f"{ODM}RangeCheck")
    assert check.get(f"{DEF}ItemOID") == "IT.QS.QSTESTCD" and check.findtext(f"{ODM}CheckValue") == "SSLD0101"
    items = {i.get("OID"): i for i in sdtm.iter(f"{ODM}ItemDef")}
    seizure = items["IT.QS.QSORRES.SSLD0101"].find(f"{DEF}Origin")
    assert seizure.get("Type") == "Collected" and "column SEIZURE" in _text(seizure)
    assert items["IT.LB.LBORRES.C3"].find(f"{DEF}Origin").get("Source") == "Vendor"
    methods = {m.get("OID"): _text(m) for m in sdtm.iter(f"{ODM}MethodDef")}
    assert "mg/dL x 0.01" in methods["MT.LB_C3"]
    adam = _define(run, "adam").getroot()
    aval = {r.find(f"{DEF}WhereClauseRef").get("WhereClauseOID"): r.get("MethodOID")
            for v in adam.iter(f"{DEF}ValueListDef") if v.get("OID") == "VL.ADEFF.AVALC" for r in v}
    assert aval["WC.ADEFF.PARAMCD.SRI4"] == "MT.P_SRI" and aval["WC.ADEFF.PARAMCD.FLARE"] == "MT.P_FLARE"


def test_origins_and_predecessors(submission_runs):
    run = submission_runs["NCT04515719"]
    sdtm = {i.get("OID"): i for i in _define(run, "sdtm").getroot().iter(f"{ODM}ItemDef")}
    adam = {i.get("OID"): i for i in _define(run, "adam").getroot().iter(f"{ODM}ItemDef")}

    def origin(items, oid):
        node = items[oid].find(f"{DEF}Origin")
        return node.get("Type"), node.get("Source"), _text(node)

    assert origin(sdtm, "IT.DM.AGE")[:2] == ("Collected", "Investigator")
    assert "enrol" in origin(sdtm, "IT.DM.AGE")[2] and "column AGE" in origin(sdtm, "IT.DM.AGE")[2]
    assert "column AEPT" in origin(sdtm, "IT.AE.AEDECOD")[2]            # from AE_COLUMNS, automatically
    assert "value map enrol.SEX" in origin(sdtm, "IT.DM.SEX")[2]
    assert origin(sdtm, "IT.CM.CMDECOD")[0] == "Assigned"
    assert origin(sdtm, "IT.AE.AESTDY")[0] == "Derived" and sdtm["IT.AE.AESTDY"] is not None
    assert origin(adam, "IT.ADSL.AGE") == ("Predecessor", None, "DM.AGE")
    assert origin(adam, "IT.ADEFF.TRT01P") == ("Predecessor", None, "ADSL.TRT01P")
    # every variable has an origin
    for items in (sdtm, adam):
        assert [oid for oid, i in items.items() if i.find(f"{DEF}Origin") is None] == []


def test_methods_quote_the_rules_with_the_parameters_in_force(submission_runs):
    adam = _define(submission_runs["NCT04515719"], "adam").getroot()
    methods = {m.get("OID"): _text(m) for m in adam.iter(f"{ODM}MethodDef")}
    assert "R4" in methods["MT.P_SRI"] and "< 0.3" in methods["MT.P_SRI"]
    assert "max(1.25 x baseline dose, baseline dose + 2.5 mg/day)" in methods["MT.P_SRI"]
    assert "day 281" in methods["MT.P_PFREE52"] and "day 337" in methods["MT.P_PFREE52"]
    assert "R6" in methods["MT.TTE"] and "day 365" in methods["MT.TTE"]
    refs = {r.get("MethodOID") for r in adam.iter(f"{ODM}ItemRef") if r.get("MethodOID")}
    assert refs <= set(methods) and set(methods) <= refs          # defined = referenced
    comments = {c.get("OID") for c in adam.iter(f"{DEF}CommentDef")}
    assert {r.get(f"{DEF}CommentOID") for r in adam.iter() if r.get(f"{DEF}CommentOID")} <= comments


def test_a_rule_override_is_quoted_and_stated(tmp_path):
    data = yaml.safe_load((STUDIES / "NCT04515719.yaml").read_text(encoding="utf-8"))
    data["rules"] = {"sri_pga_worsening": 0.5}
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    study = load_study(path)
    text = render_text("PGA increase < {sri_pga_worsening}; factor {tf_pred_factor}", study, api.study_specs(study))
    assert text.startswith("PGA increase < 0.5; factor 1.25")
    assert "sri_pga_worsening = 0.5 (derivations.md default 0.3)" in text and "tf_pred_factor" not in text[40:]


def test_non_ascii_policy_comment_on_the_escaped_variables(submission_runs):
    run = submission_runs["NCT04893161"]
    escaped = {(f["dataset"], f["variable"]) for f in run.result.report["findings"] if f["rule"] == "XPT-NON-ASCII"}
    assert escaped
    root = _define(run, "sdtm").getroot()
    assert root.find(f"{ODM}Study/{ODM}MetaDataVersion").get(f"{DEF}CommentOID") == "COM.NON_ASCII"
    items = {i.get("OID"): i for i in root.iter(f"{ODM}ItemDef")}
    for dataset, variable in escaped:
        assert items[f"IT.{dataset}.{variable}"].get(f"{DEF}CommentOID") == "COM.NON_ASCII"
    comment = next(c for c in root.iter(f"{DEF}CommentDef") if c.get("OID") == "COM.NON_ASCII")
    assert "\\uXXXX" in _text(comment) and "escape" in _text(comment)


def test_define_is_deterministic_and_independent_of_the_json_format(submission_runs, xpt_only_run):
    run = submission_runs["NCT04893161"]
    for folder in FOLDERS:
        for file in ("define.xml", "define.html", "define2-1.xsl"):
            assert (run.out / folder / file).read_bytes() == (xpt_only_run.out / folder / file).read_bytes(), file
        assert not list((xpt_only_run.out / folder).glob("*.json"))
    root = _define(run, "sdtm").getroot()
    assert root.get("CreationDateTime") == CREATED == run.result.report["run"]["created"]


def test_define_created_from_the_study_configuration(tmp_path, submission_runs):
    from sdtm_lupus.describe.define_meta import build_define_meta
    from sdtm_lupus.specs import conform_to_spec
    from sdtm_lupus.write.submission import write_submission_files

    data = yaml.safe_load((STUDIES / "NCT04893161.yaml").read_text(encoding="utf-8"))
    data["define_created"] = "2025-06-30T12:00:00"
    data["mapping"] = str((STUDIES / data["mapping"]).resolve())
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    study, mapping = api.load_configuration(path, None)
    df, _ = read_xpt(submission_runs["NCT04893161"].out / "sdtm" / "ts.xpt")
    specs = api.study_specs(study)
    frame = conform_to_spec(df.replace({"": None}), specs.dataset("TS"))
    meta = build_define_meta("sdtm", {"TS": frame}, specs, study, mapping)
    write_submission_files(tmp_path / "sdtm", meta, {"TS": frame}, formats=("xpt", "json"))
    assert etree.parse(str(tmp_path / "sdtm" / "define.xml")).getroot().get("CreationDateTime") == \
        "2025-06-30T12:00:00"
    doc = json.loads((tmp_path / "sdtm" / "ts.json").read_text(encoding="utf-8"))
    assert doc["datasetJSONCreationDateTime"] == "2025-06-30T12:00:00"


# ---------------------------------------------------------------- define.html

@pytest.mark.parametrize("folder", FOLDERS)
def test_define_html_renders_every_dataset(submission_runs, folder):
    run = submission_runs["NCT04515719"]
    page = (run.out / folder / "define.html").read_bytes()
    doc = lxml_html.fromstring(page)
    names = {g.get("Name") for g in _define(run, folder).getroot().iter(f"{ODM}ItemGroupDef")}
    anchors = {a.get("id") for a in doc.iter() if a.get("id")}
    assert {f"IG.{n}" for n in names} <= anchors
    assert "Define-XML version" in doc.text_content() and "NCT04515719" in doc.text_content()
    assert (run.out / folder / "define2-1.xsl").read_bytes() == \
        (ROOT / "sdtm_lupus" / "write" / "assets" / "define2-1.xsl").read_bytes()


def _chromium(tmp_path: Path, *args: str) -> str:
    """Headless Chromium (installed by .ci/run, as for the validation report browser test): stdout."""
    binary = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if not binary:
        pytest.fail("Chromium is not installed: apt-get install -y chromium (.ci/run installs it before pytest)")
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    result = subprocess.run([binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                             "--disable-component-update", "--disable-sync", "--no-first-run",
                             f"--user-data-dir={profile}", *args], capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_define_html_in_headless_chromium(submission_runs, tmp_path):
    """define.html in a real browser: the stylesheet's tables are laid out, and a screenshot is taken."""
    url = (submission_runs["NCT04515719"].out / "adam" / "define.html").resolve().as_uri()
    dom = lxml_html.fromstring(_chromium(tmp_path, "--dump-dom", url))
    assert len(dom.xpath("//tr")) > 20
    assert "SRI-k response" in dom.text_content() and "ADEFF" in dom.text_content()
    shot = tmp_path / "define.png"
    _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1400,1600", url)
    assert shot.stat().st_size > 10_000


# ---------------------------------------------------------------- the checker on tampered output

def _tampered(run, tmp_path, edit) -> Path:
    out = tmp_path / "out"
    shutil.copytree(run.out, out)
    path = out / "sdtm" / "define.xml"
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    return out


def test_checker_reports_labels_lengths_variables_and_references(submission_runs, tmp_path):
    run = submission_runs["NCT04893161"]
    root = _define(run, "sdtm").getroot()
    age_len = next(i for i in root.iter(f"{ODM}ItemDef") if i.get("OID") == "IT.DM.SITEID").get("Length")

    def edit(text: str) -> str:
        text = text.replace("<TranslatedText xml:lang=\"en\">Age</TranslatedText>",
                            "<TranslatedText xml:lang=\"en\">Age at Consent</TranslatedText>", 1)
        text = text.replace(f'OID="IT.DM.SITEID" Name="SITEID" DataType="text" Length="{age_len}"',
                            f'OID="IT.DM.SITEID" Name="SITEID" DataType="text" Length="{int(age_len) + 5}"')
        text = text.replace('<ItemRef ItemOID="IT.DM.COUNTRY"', '<ItemRef ItemOID="IT.DM.NOPE"')
        text = text.replace('<CodeListRef CodeListOID="CL.SEX"/>', '<CodeListRef CodeListOID="CL.SEXX"/>')
        return text

    out = _tampered(run, tmp_path, edit)
    findings = check_output_folder(out / "sdtm", "sdtm")
    rules = {(f.rule, f.variable) for f in findings}
    assert ("DEFINE-LABEL", "AGE") in rules
    assert ("DEFINE-LENGTH", "SITEID") in rules
    assert ("DEFINE-VARIABLE-MISSING", "COUNTRY") in rules
    assert any(f.rule == "DEFINE-REF" and f.value == "CL.SEXX" for f in findings)
    assert any(f.rule == "DEFINE-REF" and f.value == "IT.DM.NOPE" for f in findings)
    # and `sdtm-lupus validate` fails on it, with the findings in its report
    code, result = api.validate_output(out)
    assert code == api.EXIT_VALIDATION and result["status"] == "failed"
    assert {"DEFINE-LABEL", "DEFINE-LENGTH", "DEFINE-REF"} <= {f["rule"] for f in result["findings"]}


def test_checker_reports_a_missing_dataset_and_a_schema_error(submission_runs, tmp_path):
    run = submission_runs["NCT04893161"]
    out = _tampered(run, tmp_path, lambda t: t.replace('Name="SDTMIG" Type="IG"', 'Name="STDTMIG" Type="IG"'))
    shutil.copy(out / "sdtm" / "dm.xpt", out / "sdtm" / "xx.xpt")       # same dataset DM twice
    (out / "sdtm" / "ts.xpt").unlink()
    findings = check_output_folder(out / "sdtm", "sdtm")
    rules = {f.rule for f in findings}
    assert "DEFINE-XSD" in rules and "DEFINE-DATASET-EXTRA" in rules


def test_cli_validate_checks_define_and_json(submission_runs):
    from click.testing import CliRunner

    from sdtm_lupus.cli import main

    run = submission_runs["NCT04515719"]
    result = CliRunner().invoke(main, ["validate", str(run.out), "--quiet"])
    assert result.exit_code == 0, result.output[-2000:]
    report = json.loads(result.stdout)
    assert report["status"] == "passed" and report["findings"] == []


def test_cli_convert_rejects_an_unknown_format(tmp_path):
    from click.testing import CliRunner

    from sdtm_lupus.cli import main

    result = CliRunner().invoke(main, ["convert", str(tmp_path), "--study", str(STUDIES / "NCT04515719.yaml"),
                                       "--out", str(tmp_path / "out"), "--format", "xpt,csv"])
    assert result.exit_code == 2 and "unknown output format" in result.output


def test_adlb_and_adae_in_define_with_value_level_metadata_and_in_dataset_json(submission_runs):
    run = submission_runs["NCT04515719"]
    adam = _define(run, "adam").getroot()
    groups = {g.get("OID") for g in adam.iter(f"{ODM}ItemGroupDef")}
    assert {"IG.ADLB", "IG.ADAE"} <= groups
    [aval] = [v for v in adam.iter(f"{DEF}ValueListDef") if v.get("OID") == "VL.ADLB.AVAL"]
    wheres = {r.find(f"{DEF}WhereClauseRef").get("WhereClauseOID") for r in aval}
    assert {"WC.ADLB.PARAMCD.C3", "WC.ADLB.PARAMCD.DNAXULN", "WC.ADLB.PARAMCD.CRP"} <= wheres
    for name in ("adlb", "adae"):
        doc = json.loads((run.out / "adam" / f"{name}.json").read_text(encoding="utf-8"))
        assert doc["itemGroupOID"] == f"IG.{name.upper()}" and doc["records"] > 0

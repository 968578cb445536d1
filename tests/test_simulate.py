"""The simulator: determinism, both transports, the export contract, clinical sense, inject kinds."""

import csv
import hashlib
import io
import json
import os
import re
import runpy
import subprocess
import sys
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from lxml import etree

from sdtm_lupus.config.study import load_study
from sdtm_lupus.simulate import CASE_KINDS, INJECT_KINDS, simulate
from sdtm_lupus.simulate.knowledge import MONTHS
from sdtm_lupus.specs import load_raw_layout, sledai_weights
from tests.paths import FIXTURES, ROOT, STUDIES

NS = "{http://www.cdisc.org/ns/odm/v1.3}"
LOW, ACTIVE = "NCT04515719", "NCT04893161"
M = "|".join(MONTHS)
DATE = re.compile(rf"^\d{{2}}-({M})-\d{{4}}$")
PARTIAL = re.compile(rf"^(\d{{2}}|UN)-({M}|UNK)-(\d{{4}}|UNKN)$")
KIND_FORMAT = {"fulldate": DATE, "date": PARTIAL, "time": re.compile(r"^([01]\d|2[0-3]):[0-5]\d$"),
               "integer": re.compile(r"^-?\d+$"), "number": re.compile(r"^-?\d+(\.\d+)?$"),
               "checkbox": re.compile(r"^[01]$"), "yesno": re.compile(r"^(Yes|No)$")}


def study(studyid):
    return load_study(STUDIES / f"{studyid}.yaml")


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def read_csv(path: Path, encoding="utf-8") -> list[dict[str, str]]:
    with path.open(encoding=encoding, newline="") as fh:
        return list(csv.DictReader(fh))


def parse_day(text: str) -> int:
    d, m, y = text.split("-")
    return date(int(y), MONTHS.index(m) + 1, int(d)).toordinal()


def total(row) -> int:
    return sum(w for item, w in sledai_weights().items() if row[item] == "1")


@pytest.fixture(scope="module")
def low(tmp_path_factory):
    """A clean NCT04515719 CSV export with every awkward case present (forced from 5 subjects)."""
    out = tmp_path_factory.mktemp("low")
    return out, simulate(study(LOW), 40, 3, out)


@pytest.fixture(scope="module")
def active(tmp_path_factory):
    out = tmp_path_factory.mktemp("active")
    return out, simulate(study(ACTIVE), 40, 3, out)


# ---- determinism ---------------------------------------------------------------------------

@pytest.mark.parametrize("transport", ["csv", "odm"])
def test_same_arguments_give_byte_identical_folders(tmp_path, transport):
    a = simulate(study(LOW), 12, 5, tmp_path / "a", transport=transport, inject=["site-total", "reassessment"])
    b = simulate(study(LOW), 12, 5, tmp_path / "b", transport=transport, inject=["site-total", "reassessment"])
    assert files(tmp_path / "a") == files(tmp_path / "b")
    assert a.defects == b.defects and a.cases == b.cases and a.rows == b.rows


def test_different_seeds_differ(tmp_path):
    simulate(study(LOW), 5, 1, tmp_path / "a")
    simulate(study(LOW), 5, 2, tmp_path / "b")
    a, b = files(tmp_path / "a"), files(tmp_path / "b")
    assert a.keys() == b.keys()
    assert all(a[name] != b[name] for name in a)


def test_output_does_not_depend_on_hash_seed(tmp_path):
    """No set or dict iteration order leaks into the bytes (run under two PYTHONHASHSEEDs)."""
    code = ("import sys; from pathlib import Path; from sdtm_lupus.config.study import load_study; "
            "from sdtm_lupus.simulate import simulate; "
            f"simulate(load_study(Path({str(STUDIES / (LOW + '.yaml'))!r})), 10, 9, Path(sys.argv[1]), "
            "transport=sys.argv[2])")
    for transport in ("csv", "odm"):
        for hash_seed in ("1", "2"):
            env = {**os.environ, "PYTHONHASHSEED": hash_seed}
            subprocess.run([sys.executable, "-c", code, str(tmp_path / f"{transport}{hash_seed}"), transport],
                           check=True, env=env, cwd=ROOT)
        assert files(tmp_path / f"{transport}1") == files(tmp_path / f"{transport}2")


# ---- the export contract -------------------------------------------------------------------

@pytest.mark.parametrize("studyid", [LOW, ACTIVE])
def test_one_csv_per_form_with_the_reference_columns(tmp_path, studyid):
    s = study(studyid)
    summary = simulate(s, 6, 4, tmp_path)
    layout = load_raw_layout()
    assert sorted(summary.files) == sorted([f"{f}.csv" for f in s.forms] + ["manifest.json"])
    assert sorted(p.name for p in tmp_path.iterdir()) == summary.files
    for form in s.forms:
        with (tmp_path / f"{form}.csv").open(encoding="utf-8", newline="") as fh:
            assert next(csv.reader(fh)) == layout.columns(form, optional=False)   # simulated exports carry no MedDRA codes
    assert ("flare.csv" in summary.files) == (studyid == LOW)


def test_value_formats_follow_the_spec(low):
    out, _ = low
    layout, s = load_raw_layout(), study(LOW)
    seen_partial = set()
    for form in s.forms:
        spec = layout.forms[form]
        for row in read_csv(out / f"{form}.csv"):
            assert row["STUDYID"] == LOW and re.fullmatch(r"\d{2}", row["SITEID"])
            assert re.fullmatch(rf"{row['SITEID']}-\d{{4}}", row["SUBJID"])
            assert bool(row["FOLDER"]) == spec.visit_based
            for column, kind in spec.columns.items():
                if column in spec.optional:
                    assert column not in row        # simulated exports carry no optional columns
                    continue
                value = row[column]
                if value and kind in KIND_FORMAT:
                    assert KIND_FORMAT[kind].match(value), (form, column, value)
                if kind == "date" and value.startswith("UN-"):
                    seen_partial.add(value.count("UN"))
    assert seen_partial >= {1, 2}            # UN-MAR-2021 and UN-UNK-1985 styles both occur


def test_both_transports_carry_the_same_rows(tmp_path):
    s = study(LOW)
    a = simulate(s, 10, 8, tmp_path / "csv")
    b = simulate(s, 10, 8, tmp_path / "odm", transport="odm")
    layout = load_raw_layout()
    tree = etree.parse(str(tmp_path / "odm" / "export.xml"))
    root = tree.getroot()
    assert root.get("ODMVersion") == "1.3.2" and root.get("CreationDateTime").startswith("2024-02")
    clinical = root.find(NS + "ClinicalData")
    assert clinical.get("StudyOID") == LOW
    odm: dict[str, list[tuple]] = {f: [] for f in s.forms}
    for subject in clinical.iter(NS + "SubjectData"):
        site = subject.find(NS + "SiteRef").get("LocationOID")
        keys = [e.get("StudyEventRepeatKey") for e in subject.iter(NS + "StudyEventData")
                if e.get("StudyEventOID") == "UNSCHEDULED"]
        assert keys == [str(k) for k in range(1, len(keys) + 1)]
        for event in subject.iter(NS + "StudyEventData"):
            folder = event.get("StudyEventOID")
            for form_el in event.iter(NS + "FormData"):
                form = form_el.get("FormOID").lower()
                groups = form_el.findall(NS + "ItemGroupData")
                assert [g.get("ItemGroupRepeatKey") for g in groups] == [str(k) for k in range(1, len(groups) + 1)]
                for g in groups:
                    items = {i.get("ItemOID"): i.get("Value") for i in g}
                    assert all(v for v in items.values())           # empty values are omitted
                    odm[form].append((LOW, site, subject.get("SubjectKey"), "" if folder == "COMMON" else folder,
                                      *(items.get(f"{form.upper()}.{c}", "") for c in layout.columns(form, optional=False)[4:])))
    for form in s.forms:
        rows = [tuple(r.values()) for r in read_csv(tmp_path / "csv" / f"{form}.csv")]
        assert sorted(rows) == sorted(odm[form]), form
    # the same cases, each located at its own transport's row
    assert [(p.kind, p.index, p.value) for p in a.cases] == [(p.kind, p.index, p.value) for p in b.cases]
    lines = (tmp_path / "odm" / "export.xml").read_text(encoding="utf-8").splitlines()
    for p in b.cases:
        assert f'ItemGroupOID="{p.form.upper()}"' in lines[p.row - 1]
        assert f'ItemOID="{p.form.upper()}.{p.column}" Value="{escape(p.value)}"' in lines[p.row - 1]


def test_manifest_lists_every_file_with_its_hash(low):
    out, summary = low
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["study"] == LOW and manifest["algorithm"] == "sha256"
    listed = [e["path"] for e in manifest["files"]]
    assert listed == sorted(listed) == [f for f in summary.files if f != "manifest.json"]
    for e in manifest["files"]:
        data = (out / e["path"]).read_bytes()
        assert e == {"path": e["path"], "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def test_gb18030_csvs(tmp_path):
    simulate(study(ACTIVE), 8, 12, tmp_path / "u")
    simulate(study(ACTIVE), 8, 12, tmp_path / "g", encoding="gb18030")
    for name, raw in files(tmp_path / "u").items():
        if name.endswith(".csv"):
            assert (tmp_path / "g" / name).read_bytes() == raw.decode("utf-8").encode("gb18030")
    ae = (tmp_path / "g" / "ae.csv").read_bytes() + (tmp_path / "g" / "cm.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        ae.decode("utf-8")


# ---- clinical content ----------------------------------------------------------------------

def test_sitetot_is_the_weighted_sum_except_planted_rows(low):
    out, summary = low
    rows = read_csv(out / "sledai.csv")
    wrong = {i for i, row in enumerate(rows) if int(row["SITETOT"]) != total(row)}
    planted = {p.index for p in summary.planted("site-total")}
    assert wrong == planted and planted


def test_baseline_activity_matches_the_study(low, active):
    for (out, _), check in ((low, lambda t: t <= 6), (active, lambda t: t >= 6)):
        eligible = {r["SUBJID"] for r in read_csv(out / "enrol.csv") if r["ELIGIBLE"] == "Yes"}
        baseline = [r for r in read_csv(out / "sledai.csv") if r["FOLDER"] in ("SCREENING", "WEEK 0")
                    and r["SUBJID"] in eligible]
        assert len({r["SUBJID"] for r in baseline}) == len(eligible)
        assert all(check(total(r)) for r in baseline)


def test_subjects_screen_failures_and_dropouts(low):
    out, summary = low
    enrol, disp = read_csv(out / "enrol.csv"), {r["SUBJID"]: r for r in read_csv(out / "disp.csv")}
    dosed = {r["SUBJID"] for r in read_csv(out / "dosing.csv")}
    assert [r["SUBJID"] for r in enrol] == sorted(disp) and len(enrol) == summary.subjects == 40
    failures = {r["SUBJID"] for r in enrol if r["ELIGIBLE"] == "No"}
    assert failures and len(failures) == summary.screen_failures
    for r in enrol:
        d = disp[r["SUBJID"]]
        if r["SUBJID"] in failures:
            assert d["DSDECOD_SITE"] == "Screen failure" and not d["LASTDOSE"] and not r["ARMCD_RAND"]
            assert r["SUBJID"] not in dosed
        else:
            assert r["ARMCD_RAND"] in ("BEL2", "PBO") and re.fullmatch(r"R\d{5}", r["RANDNO"])
    for form in ("sledai", "lab", "ae", "flare"):
        assert not failures & {r["SUBJID"] for r in read_csv(out / f"{form}.csv") if r["FOLDER"] != "SCREENING"}
    arms = [r["ARMCD_RAND"] for r in enrol if r["ARMCD_RAND"]]
    assert abs(arms.count("BEL2") - arms.count("PBO")) <= 2            # 1:1 in blocks of 4
    dropouts = {s for s, d in disp.items() if d["DSDECOD_SITE"] not in ("Completed", "Screen failure")}
    assert dropouts and {p.subject for p in summary.planted("dropout")} == dropouts
    visits = read_csv(out / "sledai.csv")
    for subjid in dropouts:
        stop = parse_day(disp[subjid]["DSSTDAT"])
        assert all(parse_day(v["ASSESSDAT"]) <= stop for v in visits if v["SUBJID"] == subjid)
    for subjid, d in disp.items():
        if d["DSDECOD_SITE"] == "Completed":
            last = max(parse_day(v["ASSESSDAT"]) for v in visits if v["SUBJID"] == subjid)
            assert parse_day(d["DSSTDAT"]) == last


def test_age_agrees_with_birth_date_except_planted(low):
    out, summary = low
    planted = {p.index for p in summary.planted("age-mismatch")}
    bad = set()
    for i, r in enumerate(read_csv(out / "enrol.csv")):
        cons = date.fromordinal(parse_day(r["CONSDAT"]))
        _, month, year = r["BRTHDAT"].split("-")
        if month == "UNK":
            ok = int(r["AGE"]) in (cons.year - int(year) - 1, cons.year - int(year))
        else:
            day, rest = r["BRTHDAT"].split("-", 1)
            birth = date.fromordinal(parse_day(("15" if day == "UN" else day) + "-" + rest))
            age = cons.year - birth.year - ((cons.month, cons.day) < (birth.month, birth.day))
            ok = abs(int(r["AGE"]) - age) <= (1 if r["BRTHDAT"].startswith("UN") else 0)
        if not ok:
            bad.add(i)
    assert bad == planted and planted


def test_dosing_follows_arm_and_weight(low):
    out, _ = low
    arm = {r["SUBJID"]: r["ARMCD_RAND"] for r in read_csv(out / "enrol.csv")}
    rows = read_csv(out / "dosing.csv")
    folders = set(study(LOW).dosing_folders)
    for r in rows:
        assert r["FOLDER"] in folders
        if r["GIVEN"] == "Yes":
            mgkg = {"BEL2": 2, "PBO": 0}[arm[r["SUBJID"]]]
            assert r["DOSE_MGKG"] == str(mgkg) and int(r["DOSE_MG"]) == round(mgkg * float(r["WEIGHT_KG"]))
            start, end = (int(t[:2]) * 60 + int(t[3:]) for t in (r["EXSTTIM"], r["EXENTIM"]))
            assert 45 <= end - start <= 90
        else:
            assert r["REASNG"] and not r["DOSE_MG"]


def test_flare_crf_follows_its_boxes_except_planted(low):
    out, summary = low
    planted = {p.index for p in summary.planted("flare-disagreement")}
    bad, calls = set(), set()
    for i, r in enumerate(read_csv(out / "flare.csv")):
        calls.add(r["FLARE"])
        expect = "Severe" if r["SV_NEWWORSE"] == "1" else "Mild/Moderate" if r["MM_NEWWORSE"] == "1" else "None"
        if r["FLARE"] != expect or bool(r["FLAREDAT"]) != (r["FLARE"] != "None"):
            bad.add(i)
    assert bad == planted and planted
    assert calls == {"None", "Mild/Moderate", "Severe"}


def test_labs_follow_the_serology_descriptors(low):
    out, _ = low
    labs: dict[tuple, dict[str, dict]] = {}
    for r in read_csv(out / "lab.csv"):
        labs.setdefault((r["SUBJID"], r["FOLDER"], r["LBDAT"]), {})[r["LBTEST"]] = r

    def value(r):
        return float(r["LBORRES"].lstrip("<>"))

    checked = 0
    for r in read_csv(out / "sledai.csv"):
        tests = labs.get((r["SUBJID"], r["FOLDER"], r["ASSESSDAT"]))
        if not tests:
            continue                          # a re-assessment dated after the draw
        dna, c3, c4 = tests["Anti-dsDNA antibody"], tests["Complement C3"], tests["Complement C4"]
        high = not dna["LBORRES"].startswith("<") and value(dna) > float(dna["LBORNRHI"])
        assert high == (r["DNABIND"] == "1")
        low_comp = value(c3) < float(c3["LBORNRLO"]) or value(c4) < float(c4["LBORNRLO"])
        assert low_comp == (r["LOWCOMP"] == "1")
        if r["THROMBO"] == "1":
            assert value(tests["Platelets"]) < 100
        checked += 1
    assert checked > 100


def test_awkward_cases_are_all_present_and_located(low):
    out, summary = low
    assert set(summary.case_counts) == set(CASE_KINDS)
    for p in summary.cases:
        lines = (out / p.file).read_text(encoding="utf-8").splitlines()
        row = next(csv.DictReader(io.StringIO(lines[0] + "\n" + lines[p.row - 1])))
        assert row["SUBJID"] == p.subject and row[p.column] == p.value, p
    units = {r["LBORRESU"] for r in read_csv(out / "lab.csv") if r["LBTEST"] == "Complement C3"}
    assert units == {"g/L", "mg/dL"}
    assert any(not r["AETERM"].isascii() for r in read_csv(out / "ae.csv"))


# ---- inject kinds --------------------------------------------------------------------------

def line_of(path: Path, row: int, encoding="utf-8") -> dict[str, str]:
    lines = path.read_text(encoding=encoding).splitlines()
    return next(csv.DictReader(io.StringIO(lines[0] + "\n" + lines[row - 1])))


def injected(tmp_path, kind, transport="csv"):
    summary = simulate(study(LOW), 6, 21, tmp_path, transport=transport, inject=[kind])
    [defect] = summary.defects
    assert defect.kind == kind and defect.injected
    return summary, defect


def test_every_inject_kind_is_described():
    assert len(INJECT_KINDS) >= 12 and all(INJECT_KINDS.values())


def test_inject_missing_enrol(tmp_path):
    summary, d = injected(tmp_path, "missing-enrol")
    assert not (tmp_path / "enrol.csv").exists() and d.file == "enrol.csv"
    assert "enrol.csv" not in json.dumps(json.loads((tmp_path / "manifest.json").read_text()))
    assert all(p.form != "enrol" for p in summary.cases)


def test_inject_empty_file(tmp_path):
    _, d = injected(tmp_path, "empty-file")
    assert d.file == "lab.csv" and (tmp_path / "lab.csv").stat().st_size == 0


def test_inject_truncated_file(tmp_path):
    _, d = injected(tmp_path, "truncated-file")
    text = (tmp_path / "lab.csv").read_text(encoding="utf-8")
    lines = text.split("\n")
    assert len(lines) == d.row and not text.endswith("\n")            # the file ends on the reported row
    assert lines[-1].count('"') % 2 == 1                                  # inside a quoted field
    assert d.column == "LBNAM"
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert {e["path"]: e["bytes"] for e in manifest["files"]}["lab.csv"] == len(text.encode())


def test_inject_wrong_encoding(tmp_path):
    _, d = injected(tmp_path, "wrong-encoding")
    raw = (tmp_path / "ae.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    row = line_of(tmp_path / "ae.csv", d.row, encoding="gb18030")
    assert not row[d.column].isascii()
    assert (tmp_path / "cm.csv").read_bytes().decode("utf-8")


def test_inject_impossible_date(tmp_path):
    _, d = injected(tmp_path, "impossible-date")
    row = line_of(tmp_path / "dosing.csv", d.row)
    assert d.column == "EXSTDAT" and re.fullmatch(r"31-FEB-20\d\d", row["EXSTDAT"]) and row["EXSTDAT"] == d.value
    assert (tmp_path / "dosing.csv").read_text().count("31-FEB-") == 1


def test_inject_orphan_subject(tmp_path):
    _, d = injected(tmp_path, "orphan-subject")
    enrolled = {r["SUBJID"] for r in read_csv(tmp_path / "enrol.csv")}
    orphans = [r for r in read_csv(tmp_path / "dosing.csv") if r["SUBJID"] not in enrolled]
    assert [r["SUBJID"] for r in orphans] == [d.subject] and line_of(tmp_path / "dosing.csv", d.row)["SUBJID"] == d.subject


def test_inject_unknown_unit(tmp_path):
    _, d = injected(tmp_path, "unknown-unit")
    row = line_of(tmp_path / "lab.csv", d.row)
    assert row["LBORRESU"] == "mmol/day" == d.value and row["SUBJID"] == d.subject
    assert [r["LBORRESU"] for r in read_csv(tmp_path / "lab.csv")].count("mmol/day") == 1


def test_inject_site_total(tmp_path):
    summary, d = injected(tmp_path, "site-total")
    row = line_of(tmp_path / "sledai.csv", d.row)
    assert int(row["SITETOT"]) == total(row) + 4
    wrong = {i for i, r in enumerate(read_csv(tmp_path / "sledai.csv")) if int(r["SITETOT"]) != total(r)}
    assert wrong == {p.index for p in summary.planted("site-total")}


def test_inject_reassessment(tmp_path):
    _, d = injected(tmp_path, "reassessment")
    rows = read_csv(tmp_path / "sledai.csv")
    second, first = rows[d.index], rows[d.index - 1]
    assert (second["SUBJID"], second["FOLDER"]) == (first["SUBJID"], first["FOLDER"]) == (d.subject, d.folder)
    assert parse_day(second["ASSESSDAT"]) == parse_day(first["ASSESSDAT"]) + 1


def test_inject_out_of_window(tmp_path):
    summary, d = injected(tmp_path, "out-of-window")
    s = study(LOW)
    visit = s.visit(d.folder)
    day1 = next(parse_day(r["EXSTDAT"]) for r in read_csv(tmp_path / "dosing.csv")
                if r["SUBJID"] == d.subject and r["FOLDER"] == "WEEK 0")
    for form in ("sledai", "bilag", "pga", "flare", "lab", "dosing"):
        date_col = "EXSTDAT" if form == "dosing" else "LBDAT" if form == "lab" else "ASSESSDAT"
        days = {parse_day(r[date_col]) - day1 + 1 for r in read_csv(tmp_path / f"{form}.csv")
                if r["SUBJID"] == d.subject and r["FOLDER"] == d.folder}
        assert days <= {visit.target_day + visit.window[1] + 12}, form


def test_inject_chinese_verbatim(tmp_path):
    _, d = injected(tmp_path, "chinese-verbatim")
    row = line_of(tmp_path / "ae.csv", d.row)
    assert not row["AETERM"].isascii() and row["AETERM"] == d.value and row["AEPT"].isascii()


@pytest.mark.parametrize("transport", ["csv", "odm"])
def test_inject_manifest_mismatch(tmp_path, transport):
    _, d = injected(tmp_path, "manifest-mismatch", transport)
    entry = next(e for e in json.loads((tmp_path / "manifest.json").read_text())["files"] if e["path"] == d.file)
    assert hashlib.sha256((tmp_path / d.file).read_bytes()).hexdigest() != entry["sha256"]
    line = (tmp_path / d.file).read_text(encoding="utf-8").splitlines()[d.row - 1]
    assert d.value in line and d.file == ("pga.csv" if transport == "csv" else "export.xml")


def test_odm_file_level_injects(tmp_path):
    _, d = injected(tmp_path / "m", "missing-enrol", "odm")
    text = (tmp_path / "m" / "export.xml").read_text(encoding="utf-8")
    assert 'FormOID="ENROL"' not in text and 'FormOID="DISP"' in text and d.file == "export.xml"
    _, d = injected(tmp_path / "t", "truncated-file", "odm")
    data = (tmp_path / "t" / "export.xml").read_bytes()
    assert data.count(b"\n") + 1 == d.row and data.rsplit(b'Value="', 1)[1].count(b'"') == 0
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(data)
    _, d = injected(tmp_path / "i", "impossible-date", "odm")
    assert 'ItemOID="DOSING.EXSTDAT" Value="31-FEB-' in (tmp_path / "i" / "export.xml").read_text().splitlines()[d.row - 1]
    _, d = injected(tmp_path / "e", "empty-file", "odm")
    assert (tmp_path / "e" / "export.xml").stat().st_size == 0


def test_inject_refusals(tmp_path):
    with pytest.raises(ValueError, match="wrong-encoding.*odm"):
        simulate(study(LOW), 3, 1, tmp_path, transport="odm", inject=["wrong-encoding"])
    with pytest.raises(ValueError, match="unknown inject"):
        simulate(study(LOW), 3, 1, tmp_path, inject=["nonsense"])
    with pytest.raises(ValueError, match="destroys lab.csv"):
        simulate(study(LOW), 3, 1, tmp_path, inject=["empty-file", "unknown-unit"])
    with pytest.raises(ValueError, match="n_subjects"):
        simulate(study(LOW), 0, 1, tmp_path)


def test_all_injects_at_once_on_one_subject(tmp_path):
    kinds = [k for k in INJECT_KINDS if k not in ("empty-file", "truncated-file")]
    summary = simulate(study(LOW), 1, 3, tmp_path, inject=kinds)
    assert sorted(p.kind for p in summary.defects) == sorted(kinds)


# ---- fixtures ------------------------------------------------------------------------------

def test_fixtures_are_up_to_date(tmp_path):
    regenerate = runpy.run_path(str(FIXTURES / "regenerate.py"))["regenerate"]   # no __pycache__ in fixtures/
    regenerate(tmp_path)
    fresh = files(tmp_path)
    committed = {k: v for k, v in files(FIXTURES).items()
                 if k not in ("regenerate.py", ".gitattributes") and "__pycache__" not in k}
    assert sorted(fresh) == sorted(committed), "fixtures/ is stale: run .venv/bin/python fixtures/regenerate.py"
    stale = [k for k in fresh if fresh[k] != committed[k]]
    assert not stale, f"stale fixture files {stale}: run .venv/bin/python fixtures/regenerate.py"

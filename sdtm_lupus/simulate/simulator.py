"""Simulated site exports (site-export-spec.md) for tests, fixtures and benchmarks.

    simulate(study, n_subjects, seed, out_dir, transport="csv" | "odm", inject=(...))

writes one complete export folder: a CSV per form (or export.xml) plus manifest.json,
clinically plausible (lupus course, flares, glucocorticoid tapers, labs that follow the
SLEDAI descriptors) and byte-identical for the same arguments. The non-fatal awkward cases
of real exports occur naturally (and at least once from 5 subjects on); `inject` plants
one named defect each. The returned SimulationSummary says where every case and defect is.
"""

from __future__ import annotations

import csv
import io
import math
import random
from dataclasses import asdict, dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Literal, Sequence

from sdtm_lupus.config.study import Study
from sdtm_lupus.simulate import knowledge as K
from sdtm_lupus.simulate.subject import DATE_COLUMN, CaseLog, Mark, Skeleton, SubjectRows, SubjectSim, fmt_date
from sdtm_lupus.simulate.writers import MANIFEST, ODM_FILE, CsvWriter, OdmWriter, write_manifest
from sdtm_lupus.specs import load_raw_layout, sledai_weights

__all__ = ["INJECT_KINDS", "CASE_KINDS", "Planted", "SimulationSummary", "simulate"]

INJECT_KINDS: dict[str, str] = {
    "missing-enrol": "enrol.csv is not written (ODM: no ENROL forms)",
    "empty-file": "lab.csv is 0 bytes (ODM: export.xml)",
    "truncated-file": "lab.csv ends mid-row, inside a quoted field when the row has one (ODM: export.xml "
                      "ends inside an attribute value)",
    "wrong-encoding": "ae.csv, holding Chinese text, is written in GB18030 while the export is UTF-8 (CSV only)",
    "impossible-date": "one dosing EXSTDAT is 31-FEB-<year>",
    "orphan-subject": "a dosing row for a subject who is not on enrol",
    "unknown-unit": "a 24h urine protein result in mmol/day, a unit the mapping does not list",
    "site-total": "one SELENA-SLEDAI SITETOT 4 above the weighted sum of its descriptors",
    "reassessment": "a second SELENA-SLEDAI row in a folder that had one, dated a day later",
    "out-of-window": "a scheduled visit (all its forms) moved 12 days past the end of its window",
    "chinese-verbatim": "an AE verbatim term (AETERM) rewritten in Chinese",
    "manifest-mismatch": "pga.csv (ODM: export.xml) changed after manifest.json was written",
}
# Non-fatal awkward cases present in clean exports (SimulationSummary.cases).
CASE_KINDS: dict[str, str] = {
    "screen-failure": "ELIGIBLE No: screening data only, disposition Screen failure",
    "dropout": "discontinued before the end (EARLY TERMINATION visit unless lost to follow-up or death)",
    "reassessment": "second SELENA-SLEDAI/BILAG/PGA in one scheduled folder (same day or later)",
    "out-of-window": "scheduled visit dated outside its window",
    "unscheduled": "UNSCHEDULED visit (flare assessment or symptom review)",
    "site-total": "SITETOT disagrees with the weighted descriptor sum",
    "age-mismatch": "AGE disagrees with BRTHDAT and CONSDAT",
    "flare-disagreement": "flare CRF call disagrees with its own manifestation boxes",
    "given-no": "infusion not given (GIVEN No, REASNG)",
    "partial-date": "partial date (UN-MAR-2021, UN-UNK-1985, UN-UNK-UNKN)",
    "chinese-text": "Chinese verbatim text (AETERM, CMTRT)",
    "qualifier": "lab result with a qualifier (<10, >800, <0.5, NEG, TRACE, POS)",
    "mixed-units": "lab result in the second lab's unit (mg/dL, mg/24h)",
}
# Per-subject rates of the forced cases; from FORCE_FROM subjects on each occurs at least once.
FLAG_RATES = {"reassessment": .03, "out-of-window": .05, "unscheduled": .06, "site-total": .04,
              "age-mismatch": .02, "flare-disagreement": .03, "chinese-text": 0.0}
SCREEN_FAILURE_RATE = DROPOUT_RATE = .05
FORCE_FROM = 5
FIRST_DOSE = (date(2021, 3, 19).toordinal(), date(2022, 12, 31).toordinal())
# Destructive file-level defects and the files they damage (so they cannot hide another defect).
_CSV_FILE = {"missing-enrol": "enrol.csv", "empty-file": "lab.csv", "truncated-file": "lab.csv",
             "wrong-encoding": "ae.csv", "impossible-date": "dosing.csv", "orphan-subject": "dosing.csv",
             "unknown-unit": "lab.csv", "site-total": "sledai.csv", "reassessment": "sledai.csv",
             "out-of-window": "sledai.csv", "chinese-verbatim": "ae.csv", "manifest-mismatch": "pga.csv"}
_DESTRUCTIVE = ("empty-file", "truncated-file")


@dataclass(frozen=True)
class Planted:
    """Where a case or defect sits. row: CSV line (header = 1) or ODM line of the ItemGroupData;
    index: 0-based data row within the form (the same in both transports)."""
    kind: str
    file: str
    row: int | None = None
    column: str | None = None
    form: str | None = None
    index: int | None = None
    subject: str | None = None
    folder: str | None = None
    value: str | None = None
    note: str = ""
    injected: bool = False              # planted by inject=..., not a natural case


@dataclass
class SimulationSummary:
    study: str
    seed: int
    transport: str
    encoding: str
    out_dir: Path
    subjects: int                       # on enrol (screen failures included)
    screen_failures: int
    dropouts: int
    rows: dict[str, int]                # data rows per form, as generated
    files: list[str]                    # files in the export folder, manifest.json included
    defects: list[Planted] = field(default_factory=list)    # injected (inject=...)
    cases: list[Planted] = field(default_factory=list)      # natural awkward cases (capped kinds: a few)
    case_counts: dict[str, int] = field(default_factory=dict)

    def planted(self, kind: str) -> list[Planted]:
        return [p for p in self.defects + self.cases if p.kind == kind]

    def to_dict(self) -> dict:
        out = asdict(self)
        out["out_dir"] = str(self.out_dir)
        return out


def simulate(study: Study, n_subjects: int, seed: int, out_dir: Path, *,
             transport: Literal["csv", "odm"] = "csv", inject: Sequence[str] = (),
             encoding: str = "utf-8", manifest: bool = True) -> SimulationSummary:
    """Write one export folder for `study`; see the module docstring and INJECT_KINDS."""
    inject = list(dict.fromkeys(inject))
    encoding = encoding.lower().replace("_", "-")
    _check(study, n_subjects, transport, inject, encoding, manifest)
    layout = load_raw_layout()
    columns = {f: layout.columns(f, optional=False) for f in study.forms}   # no optional columns
    profile = K.PROFILES.get(study.studyid, K.DEFAULT_PROFILE)
    skeletons = _skeletons(study, profile, n_subjects, seed)
    targets = _targets(study, skeletons, seed, inject)
    if "wrong-encoding" in targets:                # ae.csv must hold Chinese text
        i = targets["wrong-encoding"]
        skeletons[i] = replace(skeletons[i], needs_chinese_ae=True)

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in [f"{f}.csv" for f in layout.forms] + [ODM_FILE, MANIFEST]:
        (out_dir / name).unlink(missing_ok=True)   # stale files of an earlier run
    forms = [f for f in study.forms if not ("missing-enrol" in inject and f == "enrol")]
    if transport == "csv":
        writer = CsvWriter(out_dir, forms, columns, encoding)
    else:
        sites = sorted({s.siteid for s in skeletons})
        created = (date(2024, 2, 1) + timedelta(days=seed % 28)).isoformat() + "T09:00:00+08:00"
        writer = OdmWriter(out_dir / ODM_FILE, study, forms, columns, sites, created,
                           f"{study.studyid}.SIM.{seed}")

    log = CaseLog()
    planted: list[Planted] = []
    rows = {f: 0 for f in study.forms}
    orphan_row = None
    by_index = {i: [k for k, t in targets.items() if t == i] for i in set(targets.values())}
    for i, sk in enumerate(skeletons):
        unit = SubjectSim(study, profile, sk, seed, columns, log).run()
        for kind in sorted(by_index.get(i, ())):
            plant = _CONTENT.get(kind)
            if plant:
                unit.marks.append(plant(unit, columns, random.Random(f"{study.studyid}|{seed}|{kind}"), study))
        if "orphan-subject" in by_index.get(i, ()):
            orphan_row = list(next(r for r in unit.rows["dosing"]))
        for f, rs in unit.rows.items():
            rows[f] += len(rs)
        planted += _resolve(unit, writer, columns, transport)
    if orphan_row is not None:
        unit = _orphan(orphan_row, skeletons, columns)
        rows["dosing"] += 1
        planted += _resolve(unit, writer, columns, transport)
    files = writer.close()

    summary = SimulationSummary(
        study=study.studyid, seed=seed, transport=transport, encoding=encoding, out_dir=out_dir,
        subjects=len(skeletons), screen_failures=sum(s.armcd is None for s in skeletons),
        dropouts=sum(s.dropout is not None for s in skeletons), rows=rows, files=[],
        case_counts=dict(sorted(log.counts.items())))
    for item in planted:
        (summary.defects if item.injected else summary.cases).append(item)
    summary.cases.sort(key=lambda p: (p.kind, p.form or "", p.index or 0))

    file_of = (lambda kind: _CSV_FILE[kind]) if transport == "csv" else (lambda kind: ODM_FILE)
    for kind in ("missing-enrol", "wrong-encoding", "empty-file", "truncated-file"):
        if kind in inject:
            summary.defects.append(_FILE_LEVEL[kind](out_dir / file_of(kind), columns, transport, kind))
    if manifest:
        write_manifest(out_dir, study.studyid, files)
        files = files + [MANIFEST]
    if "manifest-mismatch" in inject:
        summary.defects = [_manifest_mismatch(out_dir, p, transport) if p.kind == "manifest-mismatch" else p
                           for p in summary.defects]
    summary.files = sorted(f for f in files if (out_dir / f).exists())
    summary.defects.sort(key=lambda p: list(INJECT_KINDS).index(p.kind))
    return summary


def _check(study, n, transport, inject, encoding, manifest) -> None:
    unknown = [k for k in inject if k not in INJECT_KINDS]
    if unknown:
        raise ValueError(f"unknown inject kind(s) {unknown}; known: {', '.join(INJECT_KINDS)}")
    if n < 1:
        raise ValueError(f"n_subjects must be at least 1, got {n}")
    if transport not in ("csv", "odm"):
        raise ValueError(f"transport must be 'csv' or 'odm', got {transport!r}")
    if encoding not in ("utf-8", "gb18030"):
        raise ValueError(f"encoding must be utf-8 or gb18030, got {encoding!r}")
    if transport == "odm" and encoding != "utf-8":
        raise ValueError("encoding applies to the csv transport; export.xml is always UTF-8")
    if "wrong-encoding" in inject and (transport == "odm" or encoding != "utf-8"):
        raise ValueError(f"inject kind 'wrong-encoding' does not apply to transport {transport!r} with "
                         f"encoding {encoding!r} (it writes one CSV in GB18030 inside a UTF-8 CSV export)")
    if "manifest-mismatch" in inject and not manifest:
        raise ValueError("inject kind 'manifest-mismatch' needs manifest=True")
    missing = [f for f in study.forms if f not in load_raw_layout().forms]
    if missing:
        raise ValueError(f"study {study.studyid} lists forms the simulator does not know: {missing}")
    files = {kind: (_CSV_FILE[kind] if transport == "csv" else ODM_FILE) for kind in inject}
    for kind in inject:
        clash = [k for k in inject if k != kind and files[k] == files[kind]] if kind in _DESTRUCTIVE else []
        if clash:
            raise ValueError(f"inject kind {kind!r} destroys {files[kind]}, where {clash} would be planted")
    needs_form = {"orphan-subject": "dosing", "impossible-date": "dosing", "unknown-unit": "lab",
                  "site-total": "sledai", "reassessment": "sledai", "chinese-verbatim": "ae",
                  "wrong-encoding": "ae", "manifest-mismatch": "pga", "empty-file": "lab",
                  "truncated-file": "lab", "missing-enrol": "enrol"}
    absent = [k for k in inject if needs_form.get(k, "sledai") not in study.forms]
    if absent:
        raise ValueError(f"inject kind(s) {absent} need forms the study {study.studyid} does not have")


# ---- the study-level draw --------------------------------------------------------------------

def _count(r: random.Random, n: int, rate: float, force: bool, most: int) -> int:
    k = int(n * rate + r.random())
    return max(0, min(most, max(k, 1 if force else 0)))


def _skeletons(study: Study, profile: K.Profile, n: int, seed: int) -> list[Skeleton]:
    r = random.Random(f"{study.studyid}|{seed}|skeleton")
    force = n >= FORCE_FROM
    n_sites = profile.sites or (1 if n == 1 else min(40, max(2, math.ceil(n / 40))))
    site_weights = [r.uniform(.5, 1.5) for _ in range(n_sites)]
    drawn = [(r.choices(range(n_sites), site_weights)[0], r.randint(*FIRST_DOSE)) for _ in range(n)]
    # numbers within a site follow the order of enrolment
    order = sorted(range(n), key=lambda i: (drawn[i][0], drawn[i][1], i))
    number: dict[int, int] = {}
    per_site: dict[int, int] = {}
    for i in order:
        per_site[drawn[i][0]] = number[i] = per_site.get(drawn[i][0], 0) + 1
    width = max(4, len(str(max(per_site.values()))))          # 01-0001; 01-10000 at a huge site
    ids = {i: (f"{drawn[i][0] + 1:02d}", f"{drawn[i][0] + 1:02d}-{number[i]:0{width}d}") for i in order}
    failures = set(r.sample(range(n), _count(r, n, SCREEN_FAILURE_RATE, force, n - 1)))
    eligible = sorted((i for i in range(n) if i not in failures), key=lambda i: (drawn[i][1], i))
    arms, randno = {}, {}
    block: list[str] = []
    for k, i in enumerate(eligible, 1):            # permuted blocks, in order of randomisation
        if not block:
            block = [a.armcd for a in study.arms for _ in range(2)]
            r.shuffle(block)
        arms[i] = block.pop() if study.randomised else study.arms[0].armcd
        randno[i] = f"R{k:05d}" if study.randomised else ""
    dropouts = r.sample(eligible, _count(r, len(eligible), DROPOUT_RATE, force, len(eligible) - 1))
    dropout = {i: r.choices([(d, et) for _, d, et in K.DROPOUT_REASONS],
                            [w for w, _, _ in K.DROPOUT_REASONS])[0] for i in dropouts}
    completers = [i for i in eligible if i not in dropout] or eligible
    flags: dict[int, set[str]] = {i: set() for i in range(n)}
    for flag, rate in FLAG_RATES.items():
        if flag == "flare-disagreement" and "flare" not in study.forms:
            continue
        for i in r.sample(completers, _count(r, len(completers), rate, force, len(completers))):
            flags[i].add(flag)
    skeletons = [Skeleton(subjid=ids[i][1], siteid=ids[i][0], day1=drawn[i][1], armcd=arms.get(i),
                          randno=randno.get(i, ""), primary_lab=drawn[i][0] % 2, dropout=dropout.get(i),
                          flags=frozenset(flags[i])) for i in range(n)]
    return sorted(skeletons, key=lambda s: s.subjid)


def _targets(study: Study, skeletons: list[Skeleton], seed: int, inject: list[str]) -> dict[str, int]:
    """The subject (index) each inject kind is planted on: a completer when there is one."""
    completers = [i for i, s in enumerate(skeletons) if s.armcd and not s.dropout]
    pool = completers or [i for i, s in enumerate(skeletons) if s.armcd] or list(range(len(skeletons)))
    return {kind: random.Random(f"{study.studyid}|{seed}|target|{kind}").choice(pool)
            for kind in inject if kind not in ("missing-enrol", "empty-file", "truncated-file")}


# ---- content defects: change a subject's rows, return the Mark ---------------------------------

def _col(columns, form, name) -> int:
    return columns[form].index(name)


def _inj_site_total(unit: SubjectRows, columns, r, study) -> Mark:
    cols = columns["sledai"]
    taken = {id(m.row) for m in unit.marks if m.kind == "site-total"}
    rows = [row for row in unit.rows["sledai"] if id(row) not in taken]
    row = r.choice(rows[1:] or rows)
    total = sum(w for d, w in sledai_weights().items() if row[cols.index(d)] == "1")
    row[cols.index("SITETOT")] = str(total + 4)
    return Mark("site-total", "sledai", row, "SITETOT", f"SITETOT {total + 4}, descriptors sum to {total}", True)


def _inj_reassessment(unit: SubjectRows, columns, r, study) -> Mark:
    rows = unit.rows["sledai"]
    folders = [row[3] for row in rows]
    single = [row for row in rows if folders.count(row[3]) == 1 and row[3] in unit.visit_dates]
    row = r.choice(single[2:-1] or single or rows)
    i = _col(columns, "sledai", "ASSESSDAT")
    second = list(row)
    second[i] = fmt_date(_parse(row[i]) + 1)
    rows.insert(rows.index(row) + 1, second)
    return Mark("reassessment", "sledai", second, "ASSESSDAT", f"second SELENA-SLEDAI in {row[3]}, a day later",
                True)


def _inj_out_of_window(unit: SubjectRows, columns, r, study) -> Mark:
    visits = {v.folder: v for v in study.visits}
    candidates = [f for f in unit.visit_dates if visits[f].target_day > 1 and visits[f].window[1] >= 7]
    if not candidates or unit.day1 is None:
        raise ValueError("out-of-window: the target subject has no post-baseline visit to move")
    folder = r.choice(candidates[1:-1] or candidates)
    v = visits[folder]
    day = unit.day1 + v.target_day - 1 + v.window[1] + 12
    new, first = fmt_date(day), None
    for form, name in DATE_COLUMN.items():
        if form not in unit.rows:
            continue
        i = _col(columns, form, name)
        for row in unit.rows[form]:
            if row[3] == folder:
                row[i] = new
                if first is None or form == "sledai" and first[1] != "sledai":
                    first = (row, form)
    note = f"{folder} moved to study day {v.target_day + v.window[1] + 12} (window ends {v.target_day + v.window[1]})"
    return Mark("out-of-window", first[1], first[0], DATE_COLUMN[first[1]], note, True)


def _inj_unknown_unit(unit: SubjectRows, columns, r, study) -> Mark:
    i = _col(columns, "lab", "LBTEST")
    rows = [row for row in unit.rows["lab"] if row[i] == "24h urine protein"]
    row = r.choice(rows)
    row[_col(columns, "lab", "LBORRESU")] = "mmol/day"
    return Mark("unknown-unit", "lab", row, "LBORRESU", "24h urine protein in mmol/day (not in the mapping)", True)


def _inj_impossible_date(unit: SubjectRows, columns, r, study) -> Mark:
    rows = unit.rows["dosing"]
    row = rows[1] if len(rows) > 1 else rows[0]
    i = _col(columns, "dosing", "EXSTDAT")
    row[i] = f"31-FEB-{row[i][-4:]}"
    return Mark("impossible-date", "dosing", row, "EXSTDAT", f"EXSTDAT {row[i]}", True)


def _inj_chinese(unit: SubjectRows, columns, r, study) -> Mark:
    i = _col(columns, "ae", "AETERM")
    english = {t.en: t for t in K.AE_TERMS.values()}
    rows = [row for row in unit.rows["ae"] if row[i] in english]
    if rows:
        row = rows[0]
        row[i] = english[row[i]].zh
    else:                                  # no English verbatim to rewrite: add a small AE
        t, cols = K.AE_TERMS["arthralgia"], columns["ae"]
        start = unit.day1 + 20
        values = {"AESPID": str(len(unit.rows["ae"]) + 1), "AETERM": t.zh, "AELLT": t.llt, "AEPT": t.pt,
                  "AESOC": t.soc, "AEHLT": t.hlt, "AEHLGT": t.hlgt, "MEDDRA_VER": "26.0",
                  "AESTDAT": fmt_date(start), "AEENDAT": fmt_date(start + 6), "AEONGO": "No", "AETOXGR": "1",
                  "AESER": "No", "AESHOSP": "No", "AESLE": "No", "AEREL": "Not related",
                  "AEACN": "Dose not changed", "AEOUT": "Recovered/resolved"}
        row = [study.studyid, unit.siteid, unit.subjid, "", *(values[c] for c in cols[4:])]
        unit.rows["ae"].append(row)
    return Mark("chinese-verbatim", "ae", row, "AETERM", f"AETERM {row[i]}", True)


def _inj_manifest(unit: SubjectRows, columns, r, study) -> Mark:
    """Nothing changes yet: the row is located now and edited once manifest.json exists."""
    return Mark("manifest-mismatch", "pga", unit.rows["pga"][0], "PGA", "changed after the manifest", True)


_CONTENT = {"site-total": _inj_site_total, "reassessment": _inj_reassessment, "out-of-window": _inj_out_of_window,
            "unknown-unit": _inj_unknown_unit, "impossible-date": _inj_impossible_date,
            "chinese-verbatim": _inj_chinese, "manifest-mismatch": _inj_manifest}


def _parse(text: str) -> int:
    d, m, y = text.split("-")
    return date(int(y), K.MONTHS.index(m) + 1, int(d)).toordinal()


def _orphan(row: list[str], skeletons: list[Skeleton], columns) -> SubjectRows:
    site = row[1]
    numbers = [s.subjid.split("-", 1)[1] for s in skeletons if s.siteid == site]
    width = max(len(n) for n in numbers)
    subjid = f"{site}-{int(max(numbers)) + 1:0{width}d}"
    orphan = [*row[:2], subjid, *row[3:]]
    unit = SubjectRows(subjid, site, {"dosing": [orphan]})
    unit.marks.append(Mark("orphan-subject", "dosing", orphan, "SUBJID", f"{subjid} is not on enrol", True))
    return unit


def _resolve(unit: SubjectRows, writer, columns, transport) -> list[Planted]:
    """Write the subject; locate its marks. A case on a form not written (missing-enrol) drops out."""
    where = writer.write(unit, {id(m.row) for m in unit.marks})
    out = []
    for m in unit.marks:
        line, index = where.get(id(m.row), (None, None))
        if line is None and not m.defect:
            continue
        out.append(Planted(kind=m.kind, file=f"{m.form}.csv" if transport == "csv" else ODM_FILE, row=line,
                           column=m.column, form=m.form, index=index, subject=unit.subjid,
                           folder=m.row[3] or None, value=m.row[columns[m.form].index(m.column)] if m.column
                           else None, note=m.note, injected=m.defect))
    return out


# ---- file-level defects, applied to the written files ------------------------------------------

def _missing(path: Path, columns, transport, kind) -> Planted:
    note = "enrol.csv not written" if transport == "csv" else "no ENROL FormData in export.xml"
    return Planted(kind=kind, file=path.name, form="enrol", note=note, injected=True)


def _empty(path: Path, columns, transport, kind) -> Planted:
    path.write_bytes(b"")
    return Planted(kind=kind, file=path.name, form="lab" if transport == "csv" else None, note="0 bytes",
                   injected=True)


def _truncated(path: Path, columns, transport, kind) -> Planted:
    data = path.read_bytes()
    lines = data.split(b"\n")
    if transport == "csv":
        k = max(1, (len(lines) - 1) // 2)             # 0-based line index, a data row
        for j in range(k, min(k + 200, len(lines) - 1)):
            if b'"' in lines[j]:
                k = j
                break
        line = lines[k]
        cut = line.index(b'"') + 6 if b'"' in line else len(line) // 2
        fields = next(csv.reader(io.StringIO(line[:cut].decode("utf-8"))))
        column, note = columns["lab"][len(fields) - 1], "cut inside a quoted field" if b'"' in line else "cut mid-line"
    else:
        groups = [j for j, ln in enumerate(lines) if b"<ItemGroupData" in ln]
        k = groups[len(groups) // 2]
        line = lines[k]
        start = line.index(b'ItemOID="', line.index(b"<ItemData")) + 9
        column = line[start:line.index(b'"', start)].decode()
        cut = line.index(b'Value="', start) + 9
        note = "cut inside an ItemData Value attribute"
    offset = sum(len(ln) + 1 for ln in lines[:k]) + cut
    path.write_bytes(data[:offset])
    return Planted(kind=kind, file=path.name, row=k + 1, column=column, form="lab" if transport == "csv" else None,
                   note=f"{note}; file ends at byte {offset}", injected=True)


def _wrong_encoding(path: Path, columns, transport, kind) -> Planted:
    text = path.read_text(encoding="utf-8")
    path.write_bytes(text.encode("gb18030"))
    for k, line in enumerate(text.split("\n")):
        if not line.isascii():
            cells = next(csv.reader(io.StringIO(line)))
            column = columns["ae"][next(i for i, c in enumerate(cells) if not c.isascii())]
            return Planted(kind=kind, file=path.name, row=k + 1, column=column, form="ae",
                           note="GB18030 bytes in a UTF-8 export; first non-ASCII text here", injected=True)
    raise AssertionError("wrong-encoding: ae.csv holds no Chinese text")


def _manifest_mismatch(out_dir: Path, p: Planted, transport) -> Planted:
    path = out_dir / p.file
    data = path.read_bytes()
    lines = data.split(b"\n")
    line = lines[p.row - 1]
    old = p.value or ""
    new = "2.9" if old != "2.9" else "0.1"
    if transport == "csv":
        cells = next(csv.reader(io.StringIO(line.decode("utf-8"))))
        cells[-1] = new                                    # PGA is the last column of pga
        buf = io.StringIO()
        csv.writer(buf, lineterminator="").writerow(cells)
        lines[p.row - 1] = buf.getvalue().encode("utf-8")
    else:
        lines[p.row - 1] = line.replace(f'ItemOID="PGA.PGA" Value="{old}"'.encode(),
                                        f'ItemOID="PGA.PGA" Value="{new}"'.encode())
    path.write_bytes(b"\n".join(lines))
    return replace(p, value=new, note=f"PGA {old} changed to {new} after manifest.json was written")


_FILE_LEVEL = {"missing-enrol": _missing, "empty-file": _empty, "truncated-file": _truncated,
               "wrong-encoding": _wrong_encoding}

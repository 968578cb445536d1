"""The library face: convert(), validate_output(), simulate_export(). The CLI is a thin wrapper."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sdtm_lupus import __version__
from sdtm_lupus.config.loading import ConfigError
from sdtm_lupus.config.mapping import Mapping, load_mapping
from sdtm_lupus.config.study import Study, load_study
from sdtm_lupus.findings import Finding, InputError, errors, errors_first
from sdtm_lupus.specs import Codelist, Specs, load_specs
from sdtm_lupus.write.output_folder import check_output_target, rejected_dir, remove_stale_rejected, write_output_folder

Progress = Callable[[str], None]
EXIT_OK, EXIT_VALIDATION, EXIT_INPUT = 0, 1, 2


@dataclass
class ConvertResult:
    exit_code: int                   # EXIT_OK or EXIT_VALIDATION (bad input raises InputError)
    out_dir: Path                    # where outputs (or, on a failed gate, the reports) were written
    transport: str
    datasets: dict[str, int]         # dataset -> records
    findings: list[Finding]
    report: dict                     # validation.json content
    timings: dict[str, float] = field(default_factory=dict)

    def log(self) -> dict:
        return {"tool": "sdtm-lupus", "version": __version__, "exit_code": self.exit_code,
                "out_dir": str(self.out_dir), "transport": self.transport, "datasets": self.datasets,
                "timings_s": {k: round(v, 3) for k, v in self.timings.items()},
                "findings": [f.to_dict() for f in self.findings], "gate": self.report.get("gate")}


def study_specs(study: Study) -> Specs:
    """Specs with the study-defined codelists (ARMCD, ARM) filled from the configuration."""
    arms = {
        "ARMCD": Codelist(name="Arm Code", extensible=False, terms={a.armcd: None for a in study.arms}),
        "ARM": Codelist(name="Arm", extensible=False, terms={a.arm: None for a in study.arms}),
    }
    return load_specs().with_codelists(arms)


def load_configuration(study_path: Path, mapping_path: Path | None) -> tuple[Study, Mapping]:
    from sdtm_lupus.firstcontact.check import todo_problems

    study = load_study(resolve_study(study_path))
    mapping = load_mapping(mapping_path or study.mapping_path())
    todo = todo_problems(mapping)
    if todo:
        raise ConfigError(f"{mapping.source}: {len(todo)} TODO(s) of a drafted mapping are not filled in: "
                          + ", ".join(todo[:10]) + (" ..." if len(todo) > 10 else ""))
    missing = [f for f in study.forms if f not in mapping.forms]
    if missing:
        raise ConfigError(f"{mapping.source}: forms {missing} of study {study.studyid} have no entry under 'forms'")
    return study, mapping


def convert(raw_dir: Path, study_path: Path, out_dir: Path, *, mapping_path: Path | None = None,
            fail_on: str = "error", progress: Progress = lambda _: None,
            formats: tuple[str, ...] = ("xpt",), overwrite: bool = False,
            fail_on_findings: str | None = None, created: str | None = None,
            ge_worker: bool = False) -> ConvertResult:
    """Read -> map -> validate -> write. Raises InputError (bad input), ConfigError (bad configuration)
    or OutputError (an unsafe or unwritable output folder: checked before reading).

    formats: "xpt" (always) and "json" (Dataset-JSON 1.1 beside the XPT files); define.xml is always written.
    overwrite: replace an OUT that holds files sdtm-lupus did not write (see write/output_folder.py).
    fail_on: the lowest severity of a failed gate expectation that stops the write (exit 1);
    fail_on_findings: also stop it on mapping/QC findings at or above this severity ("warning" or
    "notice"; error-level findings always stop the run as bad input, exit 2).
    created: the creation date/time of define.xml, Dataset-JSON and the reviewer's guide (ISO 8601, to the
    second); default the study's `define_created`, else the run date (UTC), taken once and recorded in
    validation.json run.created, so a rerun given it writes the same bytes.
    ge_worker: import Great Expectations in a helper process while reading and mapping (the CLI does;
    a no-op when GE is already imported here); see validate/gx_worker.py.
    """
    from sdtm_lupus.memory import release_free_memory

    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        release_free_memory()       # the stage's temporaries: peak RSS is data alive + one stage's work
        now = time.perf_counter()
        timings[stage] = now - clock
        clock = now

    raw_dir, out_dir = Path(raw_dir), Path(out_dir)
    study, mapping = load_configuration(study_path, mapping_path)
    for name in check_output_target(raw_dir, out_dir, overwrite=overwrite):
        progress(f"removed {name}, left by an interrupted run")
    specs = study_specs(study)
    created = run_created(created, study)
    gx = start_ge_worker() if ge_worker else None
    try:
        return _convert_checked(raw_dir, out_dir, study, mapping, specs, (fail_on, fail_on_findings), progress, formats,
                                timings, lap, created, gx)
    except InputError as exc:
        _write_input_problems(exc, out_dir, study, raw_dir)
        raise
    finally:
        if gx is not None:
            gx.close()


def start_ge_worker():
    """A GE worker process (validate/gx_worker.py), or None when GE is already imported in this process."""
    if "great_expectations" in sys.modules:
        return None
    from sdtm_lupus.validate.gx_worker import GxWorker, take_prestarted

    return take_prestarted() or GxWorker.start()


def run_created(created: str | None, study: Study) -> str:
    """The run's creation date/time (see convert): `created`, else the study's define_created, else now (UTC)."""
    from datetime import UTC, datetime

    if created is not None:
        try:
            return datetime.fromisoformat(created).replace(tzinfo=None).isoformat(timespec="seconds")
        except ValueError:
            raise ConfigError(f"--created {created!r}: not an ISO 8601 date/time (e.g. 2025-06-30T12:00:00)") from None
    if study.define_created is not None:
        return study.define_created.replace(tzinfo=None).isoformat(timespec="seconds")
    return datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")


def _convert_checked(raw_dir: Path, out_dir: Path, study: Study, mapping: Mapping, specs: Specs,
                     levels: tuple[str, str | None], progress: Progress, formats: tuple[str, ...],
                     timings: dict[str, float], lap, created: str, gx=None) -> ConvertResult:
    """convert() after the configuration and the output folder were checked."""
    fail_on, fail_on_findings = levels
    from sdtm_lupus.readers.export import detect_transport, read_export
    from sdtm_lupus.readers.manifest import scan_export
    from sdtm_lupus.sdtm import map_sdtm
    from sdtm_lupus.sdtm.map_context import MapContext
    from sdtm_lupus.write.ascii import apply_ascii_policy

    transport = detect_transport(raw_dir, mapping)
    progress(f"reading {transport} export {raw_dir}")
    scanned = scan_export(raw_dir) if raw_dir.is_dir() else []
    if errors(scanned):
        raise InputError(errors_first(scanned))
    try:
        forms, findings = read_export(raw_dir, mapping, study.forms)
    except InputError as exc:
        raise InputError(errors_first(scanned + exc.findings)) from None
    findings = scanned + findings
    _refuse_other_study(forms, study)
    lap("read")

    progress(f"mapping {sum(len(f) for f in forms.values())} raw rows to SDTM")
    ctx = MapContext(study=study, mapping=mapping, specs=specs, findings=findings)
    datasets = map_sdtm(forms, ctx)
    del forms       # the raw cells (the largest frames of a run) are not needed after mapping
    if errors(ctx.findings):
        raise InputError(errors_first(ctx.findings))
    unescaped = dict(datasets)       # text as collected, for Dataset-JSON (apply_ascii_policy copies on change)
    for name in list(datasets):
        datasets[name], more = apply_ascii_policy(name, datasets[name], study.non_ascii)
        ctx.findings.extend(more)
    if errors(ctx.findings):
        raise InputError(errors_first(ctx.findings))
    lap("map")

    progress("deriving ADaM (ADSL, ADEFF, ADTTE, ADLB, ADAE) and the prediction table")
    from sdtm_lupus.adam import derive_adam

    adam = derive_adam(datasets, study, specs)
    ctx.findings.extend(adam.findings)
    datasets.update(adam.datasets)
    lap("derive")

    progress("validating " + ", ".join(f"{n} ({len(d)})" for n, d in datasets.items()))
    from sdtm_lupus.validate.gate import run_gate

    gate = run_gate(datasets, specs, progress=progress, gx=gx)
    if gx is not None:
        gx.release()        # its teardown overlaps the write
    if gx is not None and gx.failure:
        progress(f"the Great Expectations worker failed ({gx.failure}); validated in this process instead")
    lap("validate")
    blocking = bool(gate.blocking(fail_on)) or bool(findings_at(ctx.findings, fail_on_findings))
    from sdtm_lupus.validate.reports.build import build_report

    report = build_report(study, mapping.name, specs, {"transport": transport, "files": _input_files(raw_dir)},
                          datasets, ctx, gate, fail_on)
    report["endpoints"] = adam.summary
    report["safety"] = adam.safety
    if not blocking:                # the prediction files are written with the datasets only
        report["prediction"] = adam.prediction
    if fail_on_findings:
        report["fail_on_findings"] = fail_on_findings
        report["status"] = "failed" if blocking else "passed"
    report["run"] = {"created": created}      # define.xml, Dataset-JSON, reviewer's guide; rerun with --created
    from sdtm_lupus.results.tables import compute_results

    report["results"] = compute_results(adam.datasets)
    exit_code = EXIT_VALIDATION if blocking else EXIT_OK
    target = rejected_dir(out_dir) if blocking else out_dir
    progress(("validation failed: writing the validation report to " if blocking else "writing ") + str(target))
    write_run(target, datasets if not blocking else {}, specs, report, study=study, mapping=mapping, formats=formats,
              text_datasets={n: d for n, d in unescaped.items() if d is not datasets.get(n)}, progress=progress,
              extra_files=adam.files if not blocking else None, created=created)
    if not blocking and remove_stale_rejected(out_dir):
        progress(f"removed {rejected_dir(out_dir)}: the report of an earlier rejected run")
    lap("write")
    return ConvertResult(exit_code, target, transport, {n: len(d) for n, d in datasets.items()},
                         ctx.findings, report, timings)


INPUT_PROBLEMS = "input-problems.json"


def _write_input_problems(exc: InputError, out_dir: Path, study: Study, raw_dir: Path) -> None:
    """Bad input (exit 2): every finding, errors first and grouped by distinct value, goes to
    OUT.rejected/input-problems.json (a marked folder, written atomically; OUT itself is untouched)."""
    from sdtm_lupus.firstcontact.groups import group_findings
    from sdtm_lupus.write.output_folder import OutputError

    findings = errors_first(exc.findings)
    counts = {s: sum(f.severity == s for f in findings) for s in ("error", "warning", "notice")}
    payload = {"tool": {"name": "sdtm-lupus", "version": __version__}, "study": study.studyid,
               "export": raw_dir.name, "status": "rejected: bad input", "exit_code": EXIT_INPUT,
               "counts": counts, "groups": [g.to_dict() for g in group_findings(findings)],
               "findings": [f.to_dict() for f in findings]}
    target = rejected_dir(out_dir)

    def fill(tmp: Path) -> None:
        (tmp / INPUT_PROBLEMS).write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    try:
        write_output_folder(target, fill)
    except OutputError as error:
        exc.problems_file_error = str(error)
        return
    exc.problems_file = target / INPUT_PROBLEMS


def _refuse_other_study(forms, study: Study) -> None:
    """An export of another study is one message up front, not one finding per row."""
    from sdtm_lupus.sdtm.subjects import other_study

    found = other_study(forms, study.studyid)
    if found:
        other, rows = found
        shipped = STUDIES_DIR / f"{other}.yaml"
        hint = f"use --study {other}" + (f" ({shipped.relative_to(STUDIES_DIR.parent)})" if shipped.exists() else "")
        raise InputError(Finding(rule="READ-OTHER-STUDY", severity="error", value=other,
                                 message=f"the export is {other} (the STUDYID of all {rows} rows), but the study "
                                         f"configuration is {study.studyid}: {hint}"))


def findings_at(findings: list[Finding], level: str | None) -> list[Finding]:
    """The findings at or above `level` ("error", "warning", "notice"); none when level is None."""
    from sdtm_lupus.findings import SEVERITIES

    if level is None:
        return []
    return [f for f in findings if SEVERITIES.index(f.severity) <= SEVERITIES.index(level)]


def is_adam(name: str) -> bool:
    return name.startswith("AD")


def write_run(target: Path, datasets: dict[str, pd.DataFrame], specs: Specs, report: dict, *,
              study: Study | None = None, mapping: Mapping | None = None, formats: tuple[str, ...] = ("xpt",),
              text_datasets: dict[str, pd.DataFrame] | None = None, extra_files: dict[str, bytes] | None = None,
              progress: Progress = lambda _: None, created: str | None = None) -> None:
    """The output folder; with study and mapping also define.xml (+ Dataset-JSON for formats "json") and the
    reviewer's guide (reviewers-guide.md/.html).
    extra_files: more files written as given at the top of the folder (prediction.csv/.json, beside adam/)."""
    from sdtm_lupus.validate.reports import write_reports
    from sdtm_lupus.write.outputs import write_datasets

    def fill(tmp: Path) -> None:
        written = [n for n in datasets if len(datasets[n])]   # an empty dataset is not submitted
        for folder, names in (("sdtm", [n for n in written if not is_adam(n)]),
                              ("adam", [n for n in written if is_adam(n)])):
            if not names:
                continue
            files = write_datasets(tmp / folder, {n: datasets[n] for n in names}, specs.datasets, progress)
            for name, file in files.items():
                report["datasets"][name]["file"] = f"{folder}/{file}"
            if study is not None and mapping is not None:
                _write_submission_metadata(tmp, folder, {n: datasets[n] for n in names}, specs, study, mapping,
                                           report, formats, text_datasets, created)
        for name, content in sorted((extra_files or {}).items()):
            (tmp / name).write_bytes(content)
        if written and report.get("results"):
            from sdtm_lupus.results.tables import write_results

            report["results"]["files"] = write_results(tmp / "results", report["results"])
        (tmp / "validation.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n",
                                             encoding="utf-8")
        write_reports(tmp, report)   # validation.html and validation.xlsx, from the same dict
        if study is not None and written:
            from sdtm_lupus.describe.reviewers_guide import write_reviewers_guide

            write_reviewers_guide(tmp, study, specs, report, {n: datasets[n] for n in written})

    write_output_folder(target, fill)


def _write_submission_metadata(tmp: Path, folder: str, datasets: dict[str, pd.DataFrame], specs: Specs, study: Study,
                               mapping: Mapping, report: dict, formats: tuple[str, ...],
                               text_datasets: dict[str, pd.DataFrame] | None, created: str | None = None) -> None:
    """define.xml/define.html (and Dataset-JSON) of one folder, self-checked; files and findings go to the report."""
    from sdtm_lupus.describe.define_meta import build_define_meta
    from sdtm_lupus.validate.define_check import check_output_folder
    from sdtm_lupus.write.submission import write_submission_files

    meta = build_define_meta(folder, datasets, specs, study, mapping, text_datasets=text_datasets, created=created)
    files = write_submission_files(tmp / folder, meta, datasets, formats=formats, text_datasets=text_datasets)
    for name, file in files.pop("json", {}).items():
        report["datasets"][name]["json"] = f"{folder}/{file}"
    report.setdefault("submission_metadata", {"formats": list(formats)})[folder] = \
        {kind: f"{folder}/{file}" for kind, file in files.items()}
    # the define against the XPT files just written (cheap); `validate` also re-reads the JSON files
    report["findings"].extend(f.to_dict() for f in check_output_folder(tmp / folder, folder, json_files=False))


def _input_files(raw_dir: Path) -> list[dict]:
    from sdtm_lupus.readers.manifest import export_files, sha256_of

    return [{"path": rel, "bytes": (raw_dir / rel).stat().st_size, "sha256": sha256_of(raw_dir / rel)}
            for rel in export_files(raw_dir)]


def check_mapping(raw_dir: Path, study_path: Path, *, mapping_path: Path | None = None,
                  progress: Progress = lambda _: None):
    """`mapping check`: read and map the export (no ADaM, no gate, nothing written) and return what the
    mapping lacks, grouped by distinct value, with the YAML that would map it (firstcontact.check.CheckResult).
    Raises ConfigError for a bad study or mapping file."""
    from sdtm_lupus.firstcontact.check import check_findings
    from sdtm_lupus.readers.export import detect_transport, read_export
    from sdtm_lupus.readers.manifest import scan_export
    from sdtm_lupus.sdtm import map_sdtm
    from sdtm_lupus.sdtm.map_context import MapContext

    raw_dir = Path(raw_dir)
    study, mapping = load_configuration(study_path, mapping_path)
    specs = study_specs(study)
    transport = detect_transport(raw_dir, mapping)
    files = sorted(p.name for p in raw_dir.iterdir() if p.is_file()) if raw_dir.is_dir() else []
    progress(f"reading {transport} export {raw_dir}")
    findings = scan_export(raw_dir) if raw_dir.is_dir() else []
    rows_read: dict[str, int] = {}
    mapped = False
    if not errors(findings):
        try:
            forms, more = read_export(raw_dir, mapping, study.forms)
        except InputError as exc:
            findings += exc.findings
        else:
            findings += more
            rows_read = {name: len(form) for name, form in forms.items()}
            progress(f"mapping {sum(rows_read.values())} raw rows (nothing is written)")
            ctx = MapContext(study=study, mapping=mapping, specs=specs, findings=findings)
            map_sdtm(forms, ctx)
            findings, mapped = ctx.findings, True
    return check_findings(findings, mapping, study, specs, transport=transport, rows_read=rows_read,
                          mapped=mapped, files=files)


def draft_mapping(raw_dir: Path, out_path: Path, *, study_path: Path | None = None) -> int:
    """`mapping draft`: write a starting mapping for a form-CSV export (firstcontact.draft); returns the
    number of TODOs left for a human. Raises ConfigError (no CSV files, an existing --out, ...)."""
    from sdtm_lupus.firstcontact.draft import write_draft

    forms = load_study(study_path).forms if study_path else None
    return write_draft(Path(raw_dir), Path(out_path), forms)


STUDIES_DIR = Path(__file__).resolve().parent.parent / "studies"


def resolve_study(study: str | Path) -> Path:
    """A study configuration path, or the id of a study shipped in studies/."""
    path = Path(study)
    if path.suffix in (".yaml", ".yml") or path.exists():
        return path
    shipped = STUDIES_DIR / f"{study}.yaml"
    if shipped.exists():
        return shipped
    known = ", ".join(sorted(p.stem for p in STUDIES_DIR.glob("*.yaml")))
    raise ConfigError(f"unknown study {str(study)!r}: give a study YAML or one of {known}")


def simulate_export(study: str | Path, n_subjects: int, seed: int, out_dir: Path, *, transport: str = "csv",
                    inject: tuple[str, ...] = (), encoding: str = "utf-8"):
    """A synthetic export of the study (see sdtm_lupus.simulate); returns its SimulationSummary."""
    from sdtm_lupus.simulate import simulate

    try:
        return simulate(load_study(resolve_study(study)), n_subjects, seed, Path(out_dir), transport=transport,
                        inject=inject, encoding=encoding)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def validate_output(out_dir: Path, study_path: Path | None = None, *, fail_on: str = "error",
                    progress: Progress = lambda _: None, ge_worker: bool = False) -> tuple[int, dict]:
    """Re-validate the XPT files of an output folder without converting.

    Without study_path the study is detected from the output (validation.json, else DM.STUDYID) and its
    configuration taken from studies/ when shipped; otherwise the study's own checks (arm codelists) are
    not run, and the result says so (`study.not_run`). ge_worker: as for convert()."""
    out_dir = Path(out_dir)
    if not (sorted(out_dir.glob("sdtm/*.xpt")) + sorted(out_dir.glob("adam/*.xpt"))):
        raise InputError(f"{out_dir}: no sdtm/*.xpt or adam/*.xpt files to validate")
    gx = start_ge_worker() if ge_worker else None
    try:
        return _validate_output(out_dir, study_path, fail_on, progress, gx)
    finally:
        if gx is not None:
            gx.close()


def _validate_output(out_dir: Path, study_path: Path | None, fail_on: str, progress: Progress, gx) -> tuple[int, dict]:
    from sdtm_lupus.specs import conform_to_spec
    from sdtm_lupus.validate.gate import run_gate
    from sdtm_lupus.write.xpt import read_xpt

    out_dir = Path(out_dir)
    files = sorted(out_dir.glob("sdtm/*.xpt")) + sorted(out_dir.glob("adam/*.xpt"))
    if not files:
        raise InputError(f"{out_dir}: no sdtm/*.xpt or adam/*.xpt files to validate")
    datasets, names = {}, {}
    for path in files:
        try:
            df, meta = read_xpt(path)
        except Exception as exc:  # pyreadstat raises its own error types
            raise InputError(f"{path}: not a readable XPT file ({exc})") from None
        datasets[meta["name"]], names[meta["name"]] = df, path
    study_info: dict = {}
    if study_path is None:
        study_info = _detect_study(out_dir, datasets.get("DM"))
        if study_info.get("configuration"):
            study_path = STUDIES_DIR / study_info["configuration"]
    else:
        study_info = {"configuration": str(study_path)}
    specs = study_specs(load_study(resolve_study(study_path))) if study_path else load_specs()
    datasets = {name: conform_to_spec(df, specs.dataset(name)) if name in specs.datasets else df
                for name, df in datasets.items()}
    gate = run_gate(datasets, specs, progress=progress, gx=gx)
    if gx is not None:
        gx.release()
    from sdtm_lupus.validate.define_check import check_output_metadata

    progress("checking define.xml and Dataset-JSON files")
    metadata = check_output_metadata(out_dir)     # define.xml vs the XPT files, Dataset-JSON
    levels = ("error",) if fail_on == "error" else ("error", "warning")
    failed = gate.blocking(fail_on) or any(f.severity in levels for f in metadata)
    result = {"status": "failed" if failed else "passed", "study": study_info, "gate": gate.to_dict(),
              "findings": [f.to_dict() for f in metadata]}
    return (EXIT_VALIDATION if failed else EXIT_OK), result


def _detect_study(out_dir: Path, dm: pd.DataFrame | None) -> dict:
    """{"id", "detected_from", "configuration" (a shipped studies/*.yaml) or "not_run"}."""
    import json as _json

    found, source = None, None
    report = out_dir / "validation.json"
    if report.is_file():
        try:
            found, source = _json.loads(report.read_text(encoding="utf-8")).get("study"), "validation.json"
        except (ValueError, AttributeError):
            found = None
    if not found and dm is not None and "STUDYID" in dm and len(dm):
        found, source = str(dm["STUDYID"].iloc[0]), "DM.STUDYID"
    info: dict = {"id": found, "detected_from": source}
    if found and (STUDIES_DIR / f"{found}.yaml").is_file():
        info["configuration"] = f"{found}.yaml"
    else:
        info["not_run"] = "the study's own checks (ARMCD and ARM codelists): give --study STUDY.yaml"
    return info

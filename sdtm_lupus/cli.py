"""sdtm-lupus command line: thin wrappers over sdtm_lupus.api.

Exit codes: 0 success; 1 validation failed (nothing written); 2 bad input or usage.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import traceback
from pathlib import Path

import click

from sdtm_lupus import __version__

EXIT_CODES_HELP = ("Exit codes: 0 success; 1 validation failed (nothing written); 2 bad input, configuration, "
                   "output folder or usage (nothing written); 3 internal error (a bug: please report it).")
MAX_SHOWN = 20


WIDTH = 100


def _echo_err(quiet: bool):
    """Progress on stderr: elapsed seconds first, lines wrapped to WIDTH columns."""
    if quiet:
        return lambda _msg: None
    import textwrap
    import time

    start = time.perf_counter()

    def say(message: str) -> None:
        prefix = f"[{time.perf_counter() - start:6.1f}s] "
        lines = textwrap.wrap(message, WIDTH - len(prefix), subsequent_indent="  ", break_on_hyphens=False) or [""]
        click.echo(prefix + ("\n" + " " * len(prefix)).join(lines), err=True)
    return say


def _fail_input(exc: Exception, log_json: Path | None) -> None:
    """Bad input or configuration: a plain message, exit 2, never a traceback.

    stderr lists the errors grouped by (rule, file, column, distinct value), with counts and first rows;
    convert writes every finding to OUT.rejected/input-problems.json; the --log-json log keeps them too.
    """
    from sdtm_lupus.findings import InputError, errors
    from sdtm_lupus.firstcontact.groups import group_findings, group_lines

    findings = exc.findings if isinstance(exc, InputError) else []
    problems = errors(findings) or findings
    listed = getattr(exc, "problems_file", None)
    if problems:
        groups = len(group_findings(problems))
        lines = group_lines(problems, MAX_SHOWN)
        distinct = f" in {groups} group(s)" if groups != len(problems) else ""
        where = f"; nothing was written to {listed.parent.with_suffix('')}" if listed else "; nothing was written"
        message = f"bad input: {len(problems)} problem(s){distinct}{where}\n" + "\n".join(lines)
        if listed:
            message += f"\nevery finding (errors first): {listed}"
        elif getattr(exc, "problems_file_error", None):
            message += f"\nthe list of problems could not be written: {exc.problems_file_error}"
    else:
        message = f"{exc}\nnothing was written"
    if log_json:
        _write_log(log_json, {"tool": "sdtm-lupus", "version": __version__, "exit_code": 2,
                              "error": str(exc), "findings": [f.to_dict() for f in findings]})
    click.echo(f"Error: {message}", err=True)
    sys.exit(2)


def _write_log(path: Path, payload: dict) -> None:
    try:
        path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    except OSError as exc:
        click.echo(f"Error: cannot write the run log {path}: {exc.strerror or exc}", err=True)


@contextlib.contextmanager
def _no_traceback(log_json: Path | None):
    """The last line of defence: an unexpected exception is a bug (exit 3), shown without a traceback
    unless SDTM_LUPUS_DEBUG=1; Ctrl-C exits 130. Nothing is written in either case (atomic output)."""
    try:
        yield
    except KeyboardInterrupt:
        click.echo("Error: interrupted; nothing was written", err=True)
        sys.exit(130)
    except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
        raise                                   # usage errors: click prints them (exit 2)
    except MemoryError:
        click.echo("Error: out of memory; nothing was written", err=True)
        sys.exit(3)
    except Exception as exc:  # noqa: BLE001 - anything not foreseen must still not end in a traceback
        if os.environ.get("SDTM_LUPUS_DEBUG"):
            raise
        where = traceback.extract_tb(exc.__traceback__)[-1]
        message = (f"internal error ({type(exc).__name__}: {str(exc)[:300]}) at {Path(where.filename).name}:"
                   f"{where.lineno}; nothing was written. This is a bug: please report it with the command; "
                   "SDTM_LUPUS_DEBUG=1 shows the traceback")
        if log_json:
            _write_log(log_json, {"tool": "sdtm-lupus", "version": __version__, "exit_code": 3, "error": message})
        click.echo(f"Error: {message}", err=True)
        sys.exit(3)


study_option = click.option(
    "--study", "study_path", required=True, type=click.Path(path_type=Path),
    help="Study configuration (a YAML file) or the id of a study shipped in studies/ (NCT04515719, ...).")


def common_options(func):
    func = click.option("--quiet", "-q", is_flag=True, help="No progress messages on stderr.")(func)
    func = click.option("--log-json", type=click.Path(dir_okay=False, path_type=Path),
                        help="Write a machine-readable run log (JSON) to this file.")(func)
    func = click.option("--fail-on", type=click.Choice(["error", "warning"]), default="error", show_default=True,
                        help="Lowest severity of a failed gate expectation (the Great Expectations checks of the "
                             "datasets) that fails the run: exit 1; convert then writes no dataset.")(func)
    return func


@click.group(help=f"Convert lupus trial site exports to validated CDISC SDTM/ADaM XPT v5.\n\n{EXIT_CODES_HELP}",
             context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sdtm-lupus")
def main() -> None:
    pass


@main.command(help=f"""Convert the raw export in RAW_DIR (form CSV folder or ODM export.xml)
into SDTM and ADaM XPT v5 files under OUT_DIR/sdtm and OUT_DIR/adam, each with its
Define-XML 2.1 (define.xml, define.html) and, with --format xpt,json, Dataset-JSON 1.1 files,
and OUT_DIR/validation.json (gate result, findings, reconciliation, endpoint summary).

The output folder is replaced only when everything succeeded. When the validation gate
fails, nothing is written to OUT_DIR and the report goes to OUT_DIR.rejected/; on bad input
(exit 2) stderr lists the problems grouped by rule, file, column and value, and every finding
goes to OUT_DIR.rejected/input-problems.json. OUT_DIR may
not be, contain or lie inside RAW_DIR; an existing OUT_DIR is replaced only when sdtm-lupus
wrote it and nothing else was put into it, unless --overwrite is given.

{EXIT_CODES_HELP}""")
@click.argument("raw_dir", type=click.Path(path_type=Path))
@study_option
@click.option("--mapping", "mapping_path", type=click.Path(path_type=Path),
              help="Mapping file of the site layout (default: the one the study names).")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Output folder.")
@click.option("--format", "formats", default="xpt", show_default=True,
              help="Dataset formats, comma-separated: xpt (always written) and json (CDISC Dataset-JSON 1.1 "
                   "beside the XPT files). define.xml is always written.")
@click.option("--overwrite", is_flag=True,
              help="Replace an existing OUT_DIR even if it holds files sdtm-lupus did not write.")
@click.option("--fail-on-findings", type=click.Choice(["warning", "notice"]),
              help="Also fail (exit 1, no dataset written) on mapping and QC findings at or above this severity; "
                   "error-level findings always stop the run (exit 2).")
@click.option("--created", help="Creation date/time of define.xml, Dataset-JSON and the reviewer's guide (ISO 8601; "
                                "default: the study's define_created, else the run date, see validation.json run.created).")
@common_options
def convert(raw_dir, study_path, mapping_path, out_dir, formats, overwrite, fail_on_findings, created, quiet, log_json,
            fail_on):
    from sdtm_lupus.validate.gx_worker import prestarted

    with _no_traceback(log_json), prestarted():      # GE loads in a worker while the pipeline imports
        _convert(raw_dir, study_path, mapping_path, out_dir, formats, overwrite, quiet, log_json, fail_on,
                 fail_on_findings, created)


def _convert(raw_dir, study_path, mapping_path, out_dir, formats, overwrite, quiet, log_json, fail_on,
             fail_on_findings=None, created=None):
    from sdtm_lupus import api
    from sdtm_lupus.config.loading import ConfigError
    from sdtm_lupus.findings import InputError
    from sdtm_lupus.write.output_folder import OutputError
    from sdtm_lupus.write.submission import parse_formats

    try:
        formats = parse_formats(formats)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--format") from None
    say = _echo_err(quiet)
    try:
        result = api.convert(raw_dir, study_path, out_dir, mapping_path=mapping_path, fail_on=fail_on, progress=say,
                             formats=formats, overwrite=overwrite, fail_on_findings=fail_on_findings, created=created,
                             ge_worker=True)
    except (InputError, ConfigError, OutputError) as exc:
        _fail_input(exc, log_json)
    if log_json:
        _write_log(log_json, result.log())
    gate = result.report["gate"]["summary"]
    counts = ", ".join(f"{n} {c}" for n, c in result.datasets.items())
    if result.exit_code:
        flagged = api.findings_at(result.findings, fail_on_findings)
        reasons = [f"{gate['failed']} expectation(s) failed"] if not flagged or gate["failed"] else []
        reasons += [f"{len(flagged)} finding(s) at or above {fail_on_findings} (--fail-on-findings)"] if flagged else []
        click.echo(f"validation failed: {'; '.join(reasons)}; nothing written. "
                   f"Report: {result.out_dir / 'validation.html'}", err=True)
        for item in result.report["gate"]["expectations"]:
            if item["status"] == "failed":
                click.echo(f"  {item['severity'].upper()} [{item['id']}] {item['message']} "
                           f"({item['unexpected_count']} record(s))", err=True)
        for line in _finding_counts(flagged):
            click.echo(line, err=True)
        sys.exit(1)
    say(f"wrote {counts} to {result.out_dir} "
        f"({len(result.findings)} finding(s); {gate['failed']} expectation(s) failed below --fail-on)")
    from sdtm_lupus.validate.reports.text import endpoint_lines, safety_lines

    for line in endpoint_lines(result.report.get("endpoints", {})) + safety_lines(result.report.get("safety", {})):
        say(line)
    if result.report.get("prediction"):
        say(f"prediction table: {result.out_dir / 'prediction.csv'} ({result.report['prediction']['rows']} FAS subjects; "
            f"dictionary prediction.json)")
    say(f"report: {result.out_dir / 'validation.html'}")


def _finding_counts(findings) -> list[str]:
    """One line per (severity, rule) with its count: the findings that failed a --fail-on-findings run."""
    counts: dict[tuple[str, str], int] = {}
    for f in findings:
        counts[(f.severity, f.rule)] = counts.get((f.severity, f.rule), 0) + 1
    return [f"  {sev.upper()} [{rule}] {n} finding(s) (--fail-on-findings)" for (sev, rule), n in sorted(counts.items())]


@main.command(help=f"""Re-validate the XPT files of an existing output folder (OUT_DIR/sdtm, OUT_DIR/adam)
without converting, and check define.xml (schema, agreement with the XPT files) and the Dataset-JSON
files when present. Prints the gate result and those findings as JSON on stdout, and a one-line
verdict with its reasons on stderr. Exit 1 when an expectation at or above --fail-on failed.

{EXIT_CODES_HELP}""")
@click.argument("out_dir", type=click.Path(path_type=Path))
@click.option("--study", "study_path", type=click.Path(path_type=Path),
              help="Study configuration or shipped study id, for the study's arm codelists (default: the study "
                   "the output names, when it is shipped in studies/; otherwise those checks are not run, as "
                   "the verdict says).")
@common_options
def validate(out_dir, study_path, quiet, log_json, fail_on):
    from sdtm_lupus.validate.gx_worker import prestarted

    with _no_traceback(log_json), prestarted():
        _validate(out_dir, study_path, quiet, log_json, fail_on)


def _validate(out_dir, study_path, quiet, log_json, fail_on):
    from sdtm_lupus import api
    from sdtm_lupus.config.loading import ConfigError
    from sdtm_lupus.findings import InputError

    try:
        code, result = api.validate_output(out_dir, study_path, fail_on=fail_on, progress=_echo_err(quiet),
                                           ge_worker=True)
    except (InputError, ConfigError) as exc:
        _fail_input(exc, log_json)
    if log_json:
        _write_log(log_json, result)
    click.echo(json.dumps(result, indent=2, ensure_ascii=False))
    if not quiet:
        click.echo(_validate_verdict(result, fail_on), err=True)
    sys.exit(code)


def _validate_verdict(result: dict, fail_on: str) -> str:
    """One line for a human: the verdict, its reasons, and what was not checked."""
    summary = result["gate"]["summary"]
    failed = [e["id"] for e in result["gate"]["expectations"] if e["status"] == "failed"
              and (e["severity"] == "error" or fail_on == "warning")]
    define = [f["rule"] for f in result["findings"] if f["severity"] == "error" or
              (fail_on == "warning" and f["severity"] == "warning")]
    reasons = ([f"{len(failed)} expectation(s) failed at or above {fail_on} ({', '.join(failed[:5])}"
                f"{' ...' if len(failed) > 5 else ''})"] if failed else []) + \
              ([f"{len(define)} define/Dataset-JSON finding(s) ({', '.join(sorted(set(define))[:5])})"] if define else [])
    study = result.get("study", {})
    where = f"study {study['id']} from {study['detected_from']}; " if study.get("detected_from") else ""
    note = f"; NOT RUN: {study['not_run']}" if study.get("not_run") else ""
    if result["status"] == "passed":
        return f"validate: PASSED ({where}{summary['passed']} expectation(s) passed, {summary['failed']} failed below " \
               f"--fail-on){note}"
    return f"validate: FAILED: {'; '.join(reasons) or 'see the JSON on stdout'} ({where.rstrip('; ')}){note}"


@main.command(help=f"""Write a synthetic site export of a study to OUT_DIR: realistic lupus courses,
deterministic for a seed, for any number of subjects. --inject plants one named defect
(repeatable; kinds: --list-injects) so a converter can be tested against a specific bad input.

{EXIT_CODES_HELP}""")
@click.option("--study", help="Study id (NCT04515719, NCT04893161) or a study YAML.  [required]")
@click.option("--subjects", type=click.IntRange(1, 20000), default=100, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), help="Export folder.  [required]")
@click.option("--transport", type=click.Choice(["csv", "odm"]), default="csv", show_default=True)
@click.option("--encoding", type=click.Choice(["utf-8", "gb18030"]), default="utf-8", show_default=True)
@click.option("--inject", multiple=True, help="Defect kind to plant (repeatable).")
@click.option("--list-injects", is_flag=True, help="List the inject kinds and exit.")
@click.option("--quiet", "-q", is_flag=True, help="No summary on stderr.")
def simulate(study, subjects, seed, out_dir, transport, encoding, inject, list_injects, quiet):
    with _no_traceback(None):
        _simulate(study, subjects, seed, out_dir, transport, encoding, inject, list_injects, quiet)


def _simulate(study, subjects, seed, out_dir, transport, encoding, inject, list_injects, quiet):
    from sdtm_lupus import api
    from sdtm_lupus.config.loading import ConfigError

    if list_injects:
        from sdtm_lupus.simulate import INJECT_KINDS

        for kind, text in INJECT_KINDS.items():
            click.echo(f"{kind:18} {text}")
        return
    if not study or not out_dir:
        raise click.UsageError("--study and --out are required")
    try:
        summary = api.simulate_export(study, subjects, seed, out_dir, transport=transport, inject=tuple(inject),
                                      encoding=encoding)
    except ConfigError as exc:
        _fail_input(exc, None)
    if not quiet:
        rows = sum(summary.rows.values())
        click.echo(f"wrote {summary.subjects} subjects ({rows} rows) to {out_dir}", err=True)
        for planted in summary.defects:
            click.echo(f"  planted {planted.kind}: {planted.file} row {planted.row} column {planted.column}", err=True)


MAPPING_EXIT_HELP = ("Exit codes: 0 the mapping covers the export; 2 something is unknown to the mapping (or the "
                     "export has errors), bad configuration or usage; 3 internal error (a bug: please report it).")


@main.group(help=f"""Tools for a new site export: what its mapping needs (check) and a starting
mapping (draft). Neither converts or writes datasets.

{EXIT_CODES_HELP}""")
def mapping() -> None:
    pass


@mapping.command("check", help=f"""Read the export in RAW_DIR with the study's mapping (or --mapping) and
map it to SDTM without converting (no ADaM, no gate; nothing is written). Lists every unknown code,
unit, lab test name, visit, drug, column, file and ODM OID once per distinct value, with its count
and the rows where it first occurs, then the mapping YAML that would map them (`TODO` where you
choose the target), then the other problems of the data grouped by value. --json prints all of it
as JSON on stdout for pipelines.

{MAPPING_EXIT_HELP}""")
@click.argument("raw_dir", type=click.Path(path_type=Path))
@study_option
@click.option("--mapping", "mapping_path", type=click.Path(path_type=Path),
              help="Mapping file to check (default: the one the study names).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout.")
@click.option("--quiet", "-q", is_flag=True, help="No progress messages on stderr.")
def mapping_check(raw_dir, study_path, mapping_path, as_json, quiet):
    with _no_traceback(None):
        from sdtm_lupus import api
        from sdtm_lupus.config.loading import ConfigError
        from sdtm_lupus.findings import InputError

        try:
            result = api.check_mapping(raw_dir, study_path, mapping_path=mapping_path, progress=_echo_err(quiet))
        except (ConfigError, InputError) as exc:
            _fail_input(exc, None)
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False) if as_json else result.text())
        sys.exit(result.exit_code)


@mapping.command("draft", help=f"""Write a starting mapping for the unseen form-CSV export in RAW_DIR to
--out (never over an existing file): files matched to reference forms by their columns, columns
matched by name (case and underscores ignored, simple synonyms) and by content (dates, times,
checkboxes, numbers), the date format and encoding, and value maps, units, lab test names and
drugs in the wording of the shipped reference mapping. What a human must choose is `TODO`; a
mapping with a TODO left is refused until it is filled in. --study limits the forms to the
study's. Then run `sdtm-lupus mapping check`.

{MAPPING_EXIT_HELP}""")
@click.argument("raw_dir", type=click.Path(path_type=Path))
@click.option("--study", "study_path", type=click.Path(path_type=Path), help="Study configuration: its forms only.")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Mapping file to write (.yaml); must not exist.")
def mapping_draft(raw_dir, study_path, out_path):
    with _no_traceback(None):
        from sdtm_lupus import api
        from sdtm_lupus.config.loading import ConfigError

        try:
            todo = api.draft_mapping(raw_dir, out_path, study_path=study_path)
        except ConfigError as exc:
            _fail_input(exc, None)
        click.echo(f"wrote {out_path}" + (f": {todo} TODO(s) to fill in" if todo else ": no TODO")
                   + f"; next: sdtm-lupus mapping check {raw_dir} --study STUDY.yaml --mapping {out_path}")

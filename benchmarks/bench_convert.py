"""Whole-convert benchmark against the physical floor of issue 19 (not part of the test suite).

    .venv/bin/python benchmarks/bench_convert.py [--sizes 60 300 3000 10000 20000] [--seed 20240] [--repeat 1]
        [--baseline-code /tmp/base | --baseline OLD.json] [--tests-json T.json | --skip-tests]
        [--out benchmarks/RESULTS.md] [--keep DIR] [--label TEXT] [--baseline-label TEXT]
    .venv/bin/python benchmarks/bench_convert.py --render benchmarks/RESULTS.json [--baseline OLD.json]

One invocation, per number of NCT04515719 subjects:
1. simulates a CSV export once, with this checkout's code, in a subprocess (not timed; shared by
   before and after);
2. runs the convert in a fresh subprocess (benchmarks/bench_children.py) per run and per code version:
   "command" = the child's wall time from spawn to exit (interpreter start, imports, convert, exit),
   "whole" = time.perf_counter() around the convert(...) call, "import" = the child's sdtm_lupus imports,
   stage seconds from ConvertResult.timings, CPU seconds, peak RSS = the child's ru_maxrss (os.wait4);
3. measures the physical floor of issue 19 in another fresh subprocess: pandas reading every raw CSV
   form (dtype=str, keep_default_na=False, the mapping's encoding) + plain binary writes (open, write,
   flush, close; no fsync) of the bytes of every file convert wrote, recursively, into a scratch folder;
   the fsync of the XPT copies is timed separately (convert fsyncs each XPT file; the floor does not);
4. with --baseline-code DIR does 2. and 3. for that older copy of the project too (PYTHONPATH=DIR), runs
   interleaved with this checkout's, and compares the two outputs byte for byte;
5. times `python -c "import pandas"` (fresh subprocesses, fastest of --repeat) for the 60-subject target;
6. runs the test suite timing (benchmarks/bench_tests.py: full and `-m "not slow"`) unless --skip-tests
   or --tests-json gives an earlier bench_tests.py JSON;
7. writes RESULTS.md (benchmarks/bench_render.py) and RESULTS.json (raw numbers; usable as --baseline or
   --render input).

With --repeat > 1 each measurement runs N times and the fastest is reported (peak RSS: the largest).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import bench_render
import bench_tests

ROOT = Path(__file__).resolve().parents[1]
CHILDREN = Path(__file__).resolve().with_name("bench_children.py")
STUDY = Path("studies") / "NCT04515719.yaml"
DEFAULT_SIZES = (60, 300, 3000, 10000, 20000)
FLOOR_DEFINITION = ("pandas read of every raw CSV form + plain binary writes (no fsync) of the bytes of every "
                    "file convert wrote")


# --------------------------------------------------------------------------- child processes
def run_child(argv: list[str], code: Path) -> tuple[str, float, Any, tuple[float, float]]:
    """Run `python argv` with PYTHONPATH=code.

    (stdout, wall seconds spawn to exit, the child's rusage, (spawn, exit) as time.time() stamps)."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        spawned, t0 = time.time(), time.perf_counter()
        proc = subprocess.Popen([sys.executable, *argv], stdout=out, stderr=err, cwd=code, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall, exited = time.perf_counter() - t0, time.time()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"child {' '.join(argv)} failed (exit {proc.returncode}):\n{err.read()[-4000:]}")
        return out.read(), wall, usage, (spawned, exited)


def child_json(kind: str, args: list[str], code: Path) -> tuple[dict, float, Any]:
    """A bench_children.py run: its JSON (+ "startup": spawn to its first line, "exit": its last line to exit)."""
    stdout, wall, usage, (spawned, exited) = run_child([str(CHILDREN), kind, *args], code)
    result = json.loads(stdout.strip().splitlines()[-1])
    result.update(startup=result.pop("t_start") - spawned, exit=exited - result.pop("t_end"))
    return result, wall, usage


def time_import_pandas(repeat: int) -> list[float]:
    """Wall seconds of fresh `python -c "import pandas"` processes."""
    return [run_child(["-c", "import pandas"], ROOT)[1] for _ in range(repeat)]


def study_of(code: Path) -> Path:
    own = code / STUDY
    return own if own.exists() else ROOT / STUDY


def measure_convert(code: Path, raw: Path, out: Path) -> dict:
    for folder in (out, out.with_name(out.name + ".rejected")):
        shutil.rmtree(folder, ignore_errors=True)       # convert would otherwise move the old one aside
    c, wall, usage = child_json("convert", [str(raw), str(study_of(code)), str(out)], code)
    if c["exit_code"] != 0:
        raise SystemExit(f"convert of {raw} with {code} exited {c['exit_code']} (gate failed?) - see {c['out_dir']}")
    c.update(command=wall, command_cpu=usage.ru_utime + usage.ru_stime, peak_rss_mb=usage.ru_maxrss / 1024)
    return c


def measure_floor(raw: Path, out: Path, encoding: str, scratch: Path) -> dict:
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    try:
        f, _, usage = child_json("floor", [str(raw), str(out), encoding, str(scratch)], ROOT)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    f["peak_rss_mb"] = usage.ru_maxrss / 1024
    return f


# --------------------------------------------------------------------------- one size
def simulate(n: int, seed: int, raw: Path) -> dict:
    shutil.rmtree(raw, ignore_errors=True)
    sim, _, _ = child_json("simulate", [str(ROOT / STUDY), str(n), str(seed), str(raw)], ROOT)
    print(f"[N={n}] simulated {sim['raw_bytes'] / 1e6:.1f} MB in {sim['simulate_s']:.1f} s", file=sys.stderr, flush=True)
    return sim


def _log_run(n: int, label: str, i: int, c: dict, f: dict) -> None:
    stages = ", ".join(f"{k} {v:.2f}" for k, v in c["timings"].items())
    print(f"[N={n} {label}] run {i + 1}: command {c['command']:.2f} s, whole {c['whole']:.2f} s ({stages}), "
          f"peak RSS {c['peak_rss_mb']:.0f} MB; floor {f['floor']:.2f} s (read {f['read']:.2f} + write "
          f"{f['write']:.2f} of {f['bytes'] / 1e6:.0f} MB)", file=sys.stderr, flush=True)


def summarise(n: int, seed: int, sim: dict, converts: list[dict], floors: list[dict], load: list[float],
              import_pandas: float) -> dict:
    """One size, one code version: the fastest run of each measurement (peak RSS: the largest)."""
    best = min(converts, key=lambda c: c["command"])
    floor = min(floors, key=lambda f: f["floor"])
    whole, command = best["whole"], best["command"]
    return {
        "subjects": n, "seed": seed, "repeat": len(converts), "code": best["code"], "simulate_s": sim["simulate_s"],
        "raw_mb": sim["raw_bytes"] / 1e6, "rows_read": best["rows_read"] or floor["rows"],
        "records_written": sum(best["datasets"].values()), "datasets": best["datasets"],
        "timings": best["timings"], "other": whole - sum(best["timings"].values()),
        "whole": whole, "import": best["import"], "command": command,
        "startup": best["startup"], "exit": best["exit"],
        "cpu": best["cpu"], "command_cpu": best["command_cpu"],
        "peak_rss_mb": max(c["peak_rss_mb"] for c in converts),
        "floor_definition": FLOOR_DEFINITION,
        "floor": floor["floor"], "floor_read": floor["read"], "floor_write": floor["write"],
        "floor_bytes": floor["bytes"], "floor_files": floor["files"], "floor_csv_files": floor["csv_files"],
        "floor_fsync_xpt": floor["fsync_xpt"], "floor_xpt_files": floor["xpt_files"], "floor_cpu": floor["cpu"],
        "floor_peak_rss_mb": max(f["peak_rss_mb"] for f in floors),
        "ratio": whole / floor["floor"], "command_ratio": command / floor["floor"],
        "cpu_ratio": best["cpu"] / floor["cpu"] if floor["cpu"] else None,
        "ms_per_subject": 1000 * whole / n, "ms_per_subject_command": 1000 * command / n,
        "import_pandas": import_pandas, "import_pandas_ratio": command / import_pandas,
        "load_avg": load,
        "all_whole": [c["whole"] for c in converts], "all_command": [c["command"] for c in converts],
        "all_floor": [f["floor"] for f in floors],
    }


def bench_size(n: int, args, codes: dict[str, Path], workdir: Path, import_pandas: float) -> dict[str, dict]:
    """{"after": result, "before": result (with --baseline-code)} for n subjects."""
    raw = workdir / f"raw-{n}"
    sim = simulate(n, args.seed, raw)
    outs = {label: workdir / f"out-{n}-{label}" for label in codes}
    runs: dict[str, tuple[list, list]] = {label: ([], []) for label in codes}
    load = [os.getloadavg()[0]]
    for i in range(args.repeat):
        for label, code in codes.items():        # interleaved: before and after see the same machine state
            c = measure_convert(code, raw, outs[label])
            f = measure_floor(raw, outs[label], sim["encoding"], workdir / "floor-scratch")
            runs[label][0].append(c)
            runs[label][1].append(f)
            _log_run(n, label, i, c, f)
    load.append(os.getloadavg()[0])
    results = {label: summarise(n, args.seed, sim, *runs[label], load, import_pandas) for label in codes}
    if "before" in codes:
        results["after"].update(compare_outputs(outs["before"], outs["after"]), identical_to=str(codes["before"]))
        print(f"[N={n}] outputs before/after: {'identical' if results['after']['identical'] else 'DIFFERENT'} "
              f"({results['after']['files_compared']} files)", file=sys.stderr, flush=True)
    if not args.keep:
        for folder in (raw, *outs.values()):
            shutil.rmtree(folder, ignore_errors=True)
    return results


# --------------------------------------------------------------------------- output identity
def _same_bytes(a: Path, b: Path, chunk: int = 16 * 1024 * 1024) -> bool:
    if a.stat().st_size != b.stat().st_size:
        return False
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while block := fa.read(chunk):
            if block != fb.read(chunk):
                return False
    return True


def compare_outputs(before: Path, after: Path) -> dict:
    """Byte comparison of every file under the two output folders (as check_identical.py, without JSON diffs)."""
    def files(folder: Path) -> dict[str, Path]:
        return {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*")) if p.is_file()}

    old, new = files(before), files(after)
    problems = [f"{name}: only in the before output" for name in sorted(set(old) - set(new))]
    problems += [f"{name}: only in the after output" for name in sorted(set(new) - set(old))]
    problems += [f"{name}: differs" for name in sorted(set(old) & set(new)) if not _same_bytes(old[name], new[name])]
    return {"identical": not problems, "identical_to": str(before), "files_compared": len(set(old) & set(new)),
            "differences": problems[:20]}


# --------------------------------------------------------------------------- machine and code
def machine() -> dict:
    import platform
    from importlib.metadata import PackageNotFoundError, version

    def ver(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "?"

    def first(path: str, key: str) -> str:
        try:
            return next(line.split(":", 1)[1].strip() for line in Path(path).read_text().splitlines()
                        if line.startswith(key))
        except (OSError, StopIteration):
            return "?"

    mem = first("/proc/meminfo", "MemTotal:")
    mem = f"{int(mem.split()[0]) / 1024 / 1024:.1f} GiB" if mem != "?" else mem
    return {"cores": os.cpu_count(), "cpu": first("/proc/cpuinfo", "model name"), "memory": mem,
            "python": platform.python_version(), "platform": platform.platform(), "pandas": ver("pandas"),
            "great_expectations": ver("great_expectations"), "pyreadstat": ver("pyreadstat")}


def describe_code(code: Path) -> str:
    """`path (git <rev>[, modified])` when code is a git checkout, else the path."""
    git = ["git", "-C", str(code)]
    rev = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    if rev.returncode != 0 or Path(subprocess.run([*git, "rev-parse", "--show-toplevel"], capture_output=True,
                                                  text=True).stdout.strip() or "/nonexistent").resolve() != code:
        return str(code)
    dirty = subprocess.run([*git, "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True)
    return f"{code} (git {rev.stdout.strip()}{', modified' if dirty.stdout.strip() else ''})"


# --------------------------------------------------------------------------- main
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES), help="numbers of subjects")
    ap.add_argument("--seed", type=int, default=20240)
    ap.add_argument("--repeat", type=int, default=1, help="runs per measurement; the fastest is reported")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "RESULTS.md",
                    help="Markdown written here, the JSON next to it (.json)")
    before = ap.add_mutually_exclusive_group()
    before.add_argument("--baseline", type=Path, help="JSON of an earlier run (before/after tables)")
    before.add_argument("--baseline-code", type=Path,
                        help="older copy of the project measured in the same run (PYTHONPATH=DIR), e.g. /tmp/base")
    ap.add_argument("--label", default="", help="what code was measured (default: this checkout, git revision)")
    ap.add_argument("--baseline-label", default="", help="what the before code is")
    tests = ap.add_mutually_exclusive_group()
    tests.add_argument("--tests-json", type=Path, help="test-suite times from an earlier benchmarks/bench_tests.py run")
    tests.add_argument("--skip-tests", action="store_true", help="do not time the test suite")
    ap.add_argument("--render", type=Path, help="only re-render --out from this results JSON (no runs)")
    ap.add_argument("--keep", type=Path, help="keep the simulated exports and outputs in this folder")
    return ap.parse_args(argv)


def attach_baseline(doc: dict, path: Path, label: str) -> None:
    """Use an earlier run's JSON as the before side of doc."""
    old = json.loads(path.read_text())
    doc["before"] = old["results"]
    doc["before_label"] = label or f"`{path}`" + (f" ({old['label']})" if old.get("label") else "")
    doc.setdefault("before_import_pandas", old.get("import_pandas_s"))
    old_tests = (old.get("tests") or {}).get("suites", {}).get("after")
    if old_tests and doc.get("tests") and "before" not in doc["tests"]["suites"]:
        doc["tests"]["suites"]["before"] = old_tests


def measure(args) -> dict:
    codes = {"after": ROOT}
    if args.baseline_code:
        base = args.baseline_code.resolve()
        if not (base / "sdtm_lupus" / "__init__.py").exists():
            raise SystemExit(f"{base}: no sdtm_lupus package there")
        codes = {"before": base, "after": ROOT}
    doc = {"generated": time.strftime("%Y-%m-%d %H:%M"), "machine": machine(), "seed": args.seed,
           "repeat": args.repeat, "label": args.label or describe_code(ROOT), "floor_definition": FLOOR_DEFINITION}
    if args.baseline_code:
        doc["before_label"] = args.baseline_label or describe_code(codes["before"])
    pandas_runs = time_import_pandas(args.repeat)
    doc.update(import_pandas_s=min(pandas_runs), import_pandas_all=pandas_runs)
    print(f"python -c 'import pandas': {min(pandas_runs):.2f} s", file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-convert-") as tmp:
        workdir = args.keep or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        per_size = [bench_size(n, args, codes, workdir, doc["import_pandas_s"]) for n in sorted(set(args.sizes))]
    doc["results"] = [r["after"] for r in per_size]
    if args.baseline_code:
        doc["before"] = [r["before"] for r in per_size]
        doc["before_import_pandas"] = doc["import_pandas_s"]
    if args.tests_json:
        doc["tests"] = json.loads(args.tests_json.read_text())
    elif not args.skip_tests:
        doc["tests"] = bench_tests.bench_tests(codes, ["fast", "full"], dry_run=False)
    return doc


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.render:
        doc = json.loads(args.render.read_text())
        doc["label"] = args.label or doc.get("label", "")
        if args.tests_json:
            doc["tests"] = json.loads(args.tests_json.read_text())
    else:
        doc = measure(args)
    if args.baseline:
        attach_baseline(doc, args.baseline, args.baseline_label)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if not args.render:         # the JSON holds the before side too, so --render alone redraws everything
        args.out.with_suffix(".json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    args.out.write_text(bench_render.render(doc), encoding="utf-8")
    print(f"wrote {args.out}" + ("" if args.render else f" and {args.out.with_suffix('.json')}"), file=sys.stderr)


if __name__ == "__main__":
    main()

"""Check that two versions of sdtm_lupus write byte-identical outputs (not part of the test suite).

    .venv/bin/python benchmarks/check_identical.py --baseline-code /tmp/base [--work /tmp/identical]
                                                    [--subjects 1000] [--seed 4242]

`--baseline-code` is a folder holding an earlier copy of the project (its `sdtm_lupus/`,
`specs/`, `studies/`, `mappings/`), e.g. made before a change with
`mkdir /tmp/base && git archive HEAD | tar -x -C /tmp/base` or `cp -r sdtm_lupus specs studies mappings /tmp/base`.
The code under test is this checkout. Cases:

- every `fixtures/<study>/csv` export, converted with `studies/<study>.yaml`;
- a simulated `--subjects` CSV export of every study in `studies/` (simulated once, by the
  baseline code, into the work folder);
- the same for NCT04515719 with the non-fatal defects of INJECTED planted (findings, a failed
  warning-level expectation with its records).

Each case is converted by each version in a fresh subprocess (PYTHONPATH = that version),
then every output file (sdtm/*.xpt, adam/*.xpt, validation.json, and whatever else the run
writes) is compared byte for byte. validation.json differences are shown as JSON paths.
Baseline outputs are kept in the work folder and reused by later runs (`--fresh` redoes them).
Exit status 0: identical; 1: some file differs or is missing on one side.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INJECTED = ("site-total", "reassessment", "out-of-window", "chinese-verbatim", "unknown-unit")

CONVERT = """
import inspect, json, sys, time
from pathlib import Path
from sdtm_lupus.api import convert
raw, study, out = sys.argv[1:4]
# one creation time for both versions (convert --created; older versions wrote a fixed 1960 stamp)
created = {"created": "1960-01-01T00:00:00"} if "created" in inspect.signature(convert).parameters else {}
t0 = time.perf_counter()
result = convert(Path(raw), Path(study), Path(out), **created)
print(json.dumps({"exit_code": result.exit_code, "out_dir": str(result.out_dir),
                  "seconds": time.perf_counter() - t0, "timings": result.timings}))
"""

SIMULATE = """
import sys
from pathlib import Path
from sdtm_lupus.api import simulate_export
study, n, seed, out = sys.argv[1:5]
inject = tuple(filter(None, sys.argv[5].split(","))) if len(sys.argv) > 5 else ()
simulate_export(study, int(n), int(seed), Path(out), transport="csv", inject=inject)
"""


def run_python(code_root: Path, script: str, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(code_root)}
    proc = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, env=env,
                          cwd=code_root)
    if proc.returncode != 0:
        raise SystemExit(f"failed under {code_root}: {' '.join(args)}\n{proc.stderr[-4000:]}")
    return proc.stdout


def study_configs(code_root: Path) -> dict[str, Path]:
    return {p.stem: p for p in sorted((code_root / "studies").glob("*.yaml"))}


def make_cases(baseline: Path, work: Path, subjects: int, seed: int) -> dict[str, tuple[Path, str]]:
    """case name -> (raw export folder, study id)."""
    cases = {}
    for raw in sorted(ROOT.glob("fixtures/*/csv")):
        study = raw.parent.name
        cases[f"fixture-{study}-csv"] = (raw, study)
    for study in study_configs(ROOT):
        raw = work / "inputs" / f"{study}-{subjects}-seed{seed}"
        if not (raw / "manifest.json").exists():
            shutil.rmtree(raw, ignore_errors=True)
            print(f"simulating {subjects} subjects of {study} (seed {seed})", file=sys.stderr, flush=True)
            run_python(baseline, SIMULATE, study, str(subjects), str(seed), str(raw))
        cases[f"simulated-{study}-{subjects}"] = (raw, study)
    # defects that convert reports without stopping (findings, a failed warning-level expectation)
    raw = work / "inputs" / f"NCT04515719-{subjects}-seed{seed}-injected"
    if not (raw / "manifest.json").exists():
        shutil.rmtree(raw, ignore_errors=True)
        run_python(baseline, SIMULATE, "NCT04515719", str(subjects), str(seed), str(raw), ",".join(INJECTED))
    cases[f"simulated-NCT04515719-{subjects}-injected"] = (raw, "NCT04515719")
    return cases


def convert(code_root: Path, raw: Path, study: str, out: Path) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(out.with_name(out.name + ".rejected"), ignore_errors=True)
    stdout = run_python(code_root, CONVERT, str(raw), str(code_root / "studies" / f"{study}.yaml"), str(out))
    return json.loads(stdout.strip().splitlines()[-1])


def files_under(folder: Path) -> dict[str, Path]:
    return {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*")) if p.is_file()}


def json_differences(a, b, path: str = "$", limit: int = 10) -> list[str]:
    """Up to `limit` JSON paths where a and b differ."""
    if type(a) is not type(b):
        return [f"{path}: {a!r:.80} != {b!r:.80}"]
    if isinstance(a, dict):
        out = [f"{path}.{k}: only on one side" for k in sorted(set(a) ^ set(b))]
        for k in a:
            if k in b and len(out) < limit:
                out += json_differences(a[k], b[k], f"{path}.{k}", limit - len(out))
        return out[:limit]
    if isinstance(a, list):
        out = [f"{path}: {len(a)} items != {len(b)} items"] if len(a) != len(b) else []
        for i, (x, y) in enumerate(zip(a, b)):
            if len(out) >= limit:
                break
            out += json_differences(x, y, f"{path}[{i}]", limit - len(out))
        return out[:limit]
    return [] if a == b else [f"{path}: {a!r:.80} != {b!r:.80}"]


def compare(before: Path, after: Path) -> tuple[int, list[str]]:
    """(number of files compared, problems)."""
    old, new = files_under(before), files_under(after)
    problems = [f"{name}: only in the baseline output" for name in sorted(set(old) - set(new))]
    problems += [f"{name}: only in the new output" for name in sorted(set(new) - set(old))]
    for name in sorted(set(old) & set(new)):
        a, b = old[name].read_bytes(), new[name].read_bytes()
        if a == b:
            continue
        problems.append(f"{name}: differs ({len(a)} vs {len(b)} bytes)")
        if name.endswith(".json"):
            problems += ["    " + d for d in json_differences(json.loads(a), json.loads(b))]
    return len(set(old) & set(new)), problems


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--baseline-code", type=Path, required=True, help="folder with the earlier sdtm_lupus/ etc.")
    ap.add_argument("--work", type=Path, default=Path("/tmp/check-identical"))
    ap.add_argument("--subjects", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=4242)
    ap.add_argument("--fresh", action="store_true", help="redo the baseline outputs even if they exist")
    args = ap.parse_args()
    baseline = args.baseline_code.resolve()
    if not (baseline / "sdtm_lupus" / "__init__.py").exists():
        raise SystemExit(f"{baseline}: no sdtm_lupus package there")
    args.work.mkdir(parents=True, exist_ok=True)

    cases = make_cases(baseline, args.work, args.subjects, args.seed)
    failures = 0
    for case, (raw, study) in cases.items():
        before, after = args.work / "before" / case, args.work / "after" / case
        done = before / "validation.json"
        if args.fresh or not done.exists():
            old = convert(baseline, raw, study, before)
            (args.work / "before" / f"{case}.timing.json").write_text(json.dumps(old))
        old = json.loads((args.work / "before" / f"{case}.timing.json").read_text())
        new = convert(ROOT, raw, study, after)
        if old["exit_code"] != new["exit_code"]:
            print(f"{case}: exit code {old['exit_code']} -> {new['exit_code']}")
            failures += 1
        count, problems = compare(Path(old["out_dir"]), Path(new["out_dir"]))
        status = "IDENTICAL" if not problems else "DIFFERENT"
        failures += bool(problems)
        print(f"{case}: {status} ({count} files; convert {old['seconds']:.1f} s -> {new['seconds']:.1f} s)")
        for p in problems:
            print(f"    {p}")
    print("all outputs identical" if not failures else f"{failures} case(s) differ")
    raise SystemExit(1 if failures else 0)


if __name__ == "__main__":
    main()

"""Test-suite wall times (issue 19: full suite <= 2 min, fast subset <= 30 s on an idle 2-core machine).

    .venv/bin/python benchmarks/bench_tests.py [--out benchmarks/tests.json] [--baseline-code /tmp/base]
                                               [--only-fast] [--dry-run]

Runs, each in a fresh subprocess with PYTHONPATH and the working folder set to the code measured:
- fast: `python -m pytest -q -p no:cacheprovider -m "not slow"`
- full: `python -m pytest -q -p no:cacheprovider`
and records wall seconds (spawn to exit), the counts of pytest's summary line (passed, failed,
skipped, deselected, ...), the exit code and the 1-minute load average before / after each run.
With --baseline-code DIR (an older copy of the project with its own tests/) the same runs are made
for that copy too ("before"). --only-fast skips the full suite; --dry-run only collects
(`--collect-only`: checks the harness in seconds, the times are then collection times).
The JSON is read by `bench_convert.py --tests-json` (or written by it when it runs this script).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUITES = {"fast": ["-m", "not slow"], "full": []}
TARGETS_S = {"full": 120.0, "fast": 30.0}
COUNT = re.compile(r"(\d+) (passed|failed|skipped|deselected|errors?|xfailed|xpassed|warnings?)")
COLLECTED = re.compile(r"(\d+)(?:/\d+)? tests? collected")    # --collect-only: "12/20 tests collected (8 deselected)"


def summary_counts(output: str) -> tuple[str, dict[str, int]]:
    """pytest's last summary line ("12 passed, 3 deselected in 4.56s") and its counts by outcome."""
    lines = [line.strip("= ") for line in output.strip().splitlines() if line.strip()]
    last = next((line for line in reversed(lines) if COUNT.search(line) or COLLECTED.search(line)), "")
    counts: dict[str, int] = {}
    for number, what in COUNT.findall(last):
        key = {"error": "errors", "warning": "warnings"}.get(what, what)
        counts[key] = counts.get(key, 0) + int(number)
    if m := COLLECTED.search(last):
        counts["collected"] = int(m.group(1))
    return last, counts


def run_suite(code: Path, suite: str, dry_run: bool) -> dict:
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SUITES[suite],
           *(["--collect-only"] if dry_run else [])]
    env = {**os.environ, "PYTHONPATH": str(code)}
    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=code, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    last, counts = summary_counts(proc.stdout)
    ran = sum(counts.get(k, 0) for k in ("passed", "failed", "errors", "xfailed", "xpassed"))
    return {"suite": suite, "command": " ".join(cmd[1:]), "code": str(code), "wall_s": wall,
            "exit_code": proc.returncode, "summary": last, "counts": counts,
            "tests": counts.get("collected", 0) if dry_run else ran,
            "load_before": load_before, "load_after": os.getloadavg()[0], "dry_run": dry_run,
            "target_s": TARGETS_S[suite], "stderr_tail": proc.stderr[-2000:] if proc.returncode else ""}


def bench_tests(codes: dict[str, Path], suites: list[str], dry_run: bool) -> dict:
    out: dict[str, dict] = {}
    for label, code in codes.items():
        for suite in suites:
            r = run_suite(code, suite, dry_run)
            out.setdefault(label, {})[suite] = r
            print(f"[tests {label}] {suite}: {r['wall_s']:.1f} s, {r['summary'] or '(no summary)'} "
                  f"(exit {r['exit_code']}; load {r['load_before']:.1f} -> {r['load_after']:.1f})",
                  file=sys.stderr, flush=True)
    return {"generated": time.strftime("%Y-%m-%d %H:%M"), "cores": os.cpu_count(), "dry_run": dry_run,
            "codes": {k: str(v) for k, v in codes.items()}, "suites": out}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "tests.json", help="JSON written here")
    ap.add_argument("--code", type=Path, default=ROOT, help="the project copy measured (default: this checkout)")
    ap.add_argument("--baseline-code", type=Path, help="also measure this older copy of the project (before)")
    ap.add_argument("--only-fast", action="store_true", help="skip the full suite")
    ap.add_argument("--dry-run", action="store_true", help="collect only (quick check of the harness)")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    codes = {"after": args.code.resolve()}
    if args.baseline_code:
        codes = {"before": args.baseline_code.resolve(), **codes}
    result = bench_tests(codes, ["fast"] if args.only_fast else ["fast", "full"], args.dry_run)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()

"""End-to-end convert benchmark against the I/O floor (not part of the test suite).

    .venv/bin/python benchmarks/bench_convert.py [--sizes 300 3000 10000] [--seed 20240]
                                                 [--repeat 1] [--out benchmarks/RESULTS.md]

For each number of NCT04515719 subjects it
1. simulates a CSV export into a temporary folder (not timed);
2. runs `sdtm_lupus.api.convert` in a fresh subprocess per run, recording the stage timings
   (read/map/derive/validate/write), the whole call (time.perf_counter around convert), the child's
   import time (reported separately) and the child's peak RSS (ru_maxrss);
3. measures the I/O floor in another fresh subprocess: pandas reading every form CSV
   (dtype=str, keep_default_na=False, mapping encoding) plus pyreadstat.write_xport(..., v5)
   writing every dataset convert wrote, sdtm/*.xpt and adam/*.xpt (read back first, not timed);
4. writes RESULTS.md (and a JSON of the raw numbers next to it).

With --repeat > 1 the fastest run of each measurement is reported (peak RSS: the largest).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STUDY = ROOT / "studies" / "NCT04515719.yaml"
DEFAULT_SIZES = (300, 3000, 10000)

# Targets checked in RESULTS.md.
TARGET_FLOOR_RATIO = 3.0        # whole convert <= 3 x I/O floor at the largest N
TARGET_FLAT = 1.25              # ms/subject at largest N <= 1.25 x ms/subject at smallest N
TARGET_RSS_MB = 4096            # peak RSS of one convert
STAGES = ("read", "map", "derive", "validate", "write")   # keys of ConvertResult.timings


# --------------------------------------------------------------------------- children
def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _cpu_s() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def child_convert(raw: str, out: str) -> dict:
    t0 = time.perf_counter()
    import sdtm_lupus.readers.export  # noqa: E401,F401
    import sdtm_lupus.sdtm
    import sdtm_lupus.validate.gate
    import sdtm_lupus.write.outputs  # noqa: F401
    from sdtm_lupus.api import convert  # noqa: E402  (import timed on purpose)
    t_import = time.perf_counter() - t0

    rows_read = []
    def progress(msg: str) -> None:
        if msg.startswith("mapping ") and msg.endswith(" raw rows to SDTM"):
            rows_read.append(int(msg.split()[1]))

    t1, c1 = time.perf_counter(), _cpu_s()
    result = convert(Path(raw), STUDY, Path(out), progress=progress)
    whole, cpu = time.perf_counter() - t1, _cpu_s() - c1
    return {"import": t_import, "whole": whole, "cpu": cpu, "timings": result.timings, "exit_code": result.exit_code,
            "datasets": result.datasets, "rows_read": rows_read[0] if rows_read else None,
            "out_dir": str(result.out_dir), "peak_rss_mb": _peak_rss_mb()}


def child_floor(raw: str, out: str, encoding: str) -> dict:
    t0 = time.perf_counter()
    import pandas as pd
    import pyreadstat
    t_import = time.perf_counter() - t0

    csvs = sorted(Path(raw).glob("*.csv"))
    xpts = sorted((Path(out) / "sdtm").glob("*.xpt")) + sorted((Path(out) / "adam").glob("*.xpt"))
    # Datasets to write: every one convert wrote (SDTM and ADaM), read back (not timed); SAS dates stay numbers.
    frames = []
    for path in xpts:
        df, meta = pyreadstat.read_xport(str(path), disable_datetime_conversion=True)
        frames.append((f"{path.parent.name}-{path.name}", meta.table_name or path.stem.upper(), df,
                       meta.column_labels))

    t1, c1 = time.perf_counter(), _cpu_s()
    rows = 0
    for path in csvs:
        rows += len(pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding))
    t_read = time.perf_counter() - t1

    with tempfile.TemporaryDirectory(prefix="floor-xpt-") as tmp:
        t2 = time.perf_counter()
        for file, table, df, labels in frames:
            pyreadstat.write_xport(df, str(Path(tmp) / file), file_format_version=5, table_name=table,
                                   column_labels=labels)
        t_write = time.perf_counter() - t2
    cpu = _cpu_s() - c1
    return {"import": t_import, "cpu": cpu, "read": t_read, "write": t_write, "floor": t_read + t_write,
            "rows": rows, "files": len(csvs), "xpt_files": len(frames), "peak_rss_mb": _peak_rss_mb()}


def _run_child(*args: str) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"child {args[0]} failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- parent
def bench_size(n: int, seed: int, repeat: int, workdir: Path) -> dict:
    from sdtm_lupus.api import load_configuration
    from sdtm_lupus.config.study import load_study
    from sdtm_lupus.simulate import simulate

    raw = workdir / f"raw-{n}"
    t0 = time.perf_counter()
    simulate(load_study(STUDY), n, seed, raw, transport="csv")
    t_sim = time.perf_counter() - t0
    _, mapping = load_configuration(STUDY, None)
    raw_bytes = sum(p.stat().st_size for p in raw.iterdir() if p.is_file())
    print(f"[N={n}] simulated {raw_bytes / 1e6:.1f} MB in {t_sim:.1f} s", file=sys.stderr, flush=True)

    converts, floors, load = [], [], [os.getloadavg()[0]]
    for i in range(repeat):
        out = workdir / f"out-{n}-{i}"
        c = _run_child("convert", str(raw), str(out))
        if c["exit_code"] != 0:
            raise SystemExit(f"N={n}: convert exited {c['exit_code']} (gate failed?) - see {c['out_dir']}")
        converts.append(c)
        print(f"[N={n}] convert run {i + 1}: whole {c['whole']:.2f} s "
              f"({', '.join(f'{k} {v:.2f}' for k, v in c['timings'].items())}), "
              f"import {c['import']:.2f} s, peak RSS {c['peak_rss_mb']:.0f} MB", file=sys.stderr, flush=True)
        f = _run_child("floor", str(raw), str(out), mapping.encoding)
        floors.append(f)
        print(f"[N={n}] I/O floor run {i + 1}: {f['floor']:.2f} s (read {f['read']:.2f}, write {f['write']:.2f})",
              file=sys.stderr, flush=True)

    load.append(os.getloadavg()[0])
    best = min(converts, key=lambda c: c["whole"])
    floor = min(floors, key=lambda f: f["floor"])
    return {
        "subjects": n, "seed": seed, "repeat": repeat, "simulate_s": t_sim,
        "raw_mb": raw_bytes / 1e6, "rows_read": best["rows_read"] or floor["rows"],
        "records_written": sum(best["datasets"].values()), "datasets": best["datasets"],
        "timings": best["timings"], "whole": best["whole"], "import": best["import"],
        "peak_rss_mb": max(c["peak_rss_mb"] for c in converts),
        "floor": floor["floor"], "floor_read": floor["read"], "floor_write": floor["write"],
        "floor_xpt_files": floor["xpt_files"],
        "floor_peak_rss_mb": floor["peak_rss_mb"], "ms_per_subject": 1000 * best["whole"] / n,
        "ratio": best["whole"] / floor["floor"] if floor["floor"] else float("inf"),
        "cpu": min(c["cpu"] for c in converts), "floor_cpu": min(f["cpu"] for f in floors),
        "cpu_ratio": min(c["cpu"] for c in converts) / min(f["cpu"] for f in floors),
        "load_avg": load,
        "all_whole": [c["whole"] for c in converts], "all_floor": [f["floor"] for f in floors],
    }


def machine() -> dict:
    import great_expectations
    import pandas
    import pyreadstat

    mem = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    cpu = "?"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cores": os.cpu_count(), "cpu": cpu, "memory": mem, "python": platform.python_version(),
            "platform": platform.platform(), "pandas": pandas.__version__,
            "great_expectations": great_expectations.__version__, "pyreadstat": pyreadstat.__version__}


def _stage(timings: dict, stage: str) -> float | None:
    """A stage's seconds; None for a stage the measured code did not have (e.g. derive before ADaM)."""
    return timings.get(stage)


def _seconds(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _where_time_goes(results: list[dict]) -> str:
    big = results[-1]
    t = big["timings"]
    total = big["whole"]
    stages = sorted(t.items(), key=lambda kv: -kv[1])
    share = ", ".join(f"{k} {v:.1f} s ({100 * v / total:.0f} %)" for k, v in stages)
    small = results[0]
    lines = [f"At {big['subjects']:,} subjects the convert call takes {total:.1f} s: {share}; "
             f"the rest of the call ({total - sum(t.values()):.1f} s) is loading the configuration and specs; "
             f"the child's imports add {big['import']:.1f} s on top (not in \"whole\")."]
    if len(results) > 1:
        common = [k for k in t if k in small["timings"]]
        fixed = {k: small["timings"][k] - (big["timings"][k] - small["timings"][k])
                 * small["subjects"] / (big["subjects"] - small["subjects"]) for k in common}
        marginal = {k: 1000 * (big["timings"][k] - small["timings"][k]) / (big["subjects"] - small["subjects"])
                    for k in common}
        lines.append("A straight line through the smallest and largest run splits each stage into a fixed cost "
                     "and a per-subject cost: "
                     + ", ".join(f"{k} ≈ {fixed[k]:.2f} s + {marginal[k]:.2f} ms/subject" for k in common) + ".")
    budget = TARGET_FLOOR_RATIO * big["floor"]
    lines.append(f"The I/O floor at {big['subjects']:,} subjects is {big['floor']:.1f} s "
                 f"(pandas read {big['floor_read']:.1f} s, pyreadstat write {big['floor_write']:.2f} s of "
                 f"{big.get('floor_xpt_files', '?')} XPT files), so the {TARGET_FLOOR_RATIO:g} × target allows "
                 f"{budget:.1f} s. In units of the floor: "
                 + ", ".join(f"{k} {v / big['floor']:.2f} ×" for k, v in t.items())
                 + f". convert's read stage is {t['read'] / big['floor_read']:.1f} × pandas reading the same files "
                 f"and its write stage {t['write'] / big['floor_write']:.2f} × a bare pyreadstat write: "
                 "convert encodes the XPT observation records itself (vectorised; pyreadstat writes only the "
                 "header records and converts value by value in Python), and on top of that hashes every input "
                 "file for validation.json, runs the XPT checks and writes define.xml/define.html and the "
                 "validation reports.")
    return " ".join(lines[:1]) + "\n\n" + "\n\n".join(lines[1:])


def render(results: list[dict], mach: dict, args, baseline: list[dict] | None) -> str:
    out = ["# Convert benchmark: NCT04515719 CSV exports", "",
           f"Generated by `benchmarks/bench_convert.py` on {args.generated} "
           f"(seed {args.seed}, {args.repeat} run(s) per size, fastest reported).", "",
           *([f"Code measured: {args.label}", ""] if args.label else []),
           "## Machine", "",
           f"- CPU: {mach['cores']} cores ({mach['cpu']}); memory {mach['memory']}",
           f"- {mach['platform']}",
           f"- Python {mach['python']}, pandas {mach['pandas']}, great_expectations "
           f"{mach['great_expectations']}, pyreadstat {mach['pyreadstat']}", "",
           "## Results", "",
           "Each convert runs in a fresh subprocess; *whole* is `time.perf_counter()` around "
           "`sdtm_lupus.api.convert(...)` (configuration load + read + map + derive + validate + write), the "
           "child's import time is reported separately. *Peak RSS* is the child's `ru_maxrss`. The *I/O floor* is "
           "a separate fresh subprocess: `pd.read_csv(dtype=str, keep_default_na=False)` of every form CSV plus "
           "`pyreadstat.write_xport(file_format_version=5)` of every dataset convert wrote (sdtm/*.xpt and "
           "adam/*.xpt). *CPU s* is user + system CPU time of the same calls (`getrusage`), less sensitive than "
           "wall time to other load on a shared machine; the load average is shown per size for that reason.", ""]
    header = " | ".join(f"{k} s" for k in STAGES)
    for r in results:
        t = r["timings"]
        out += [f"### {r['subjects']:,} subjects", "",
                f"| raw MB | rows read | records written | {header} | whole s "
                "| import s | ms / subject | peak RSS MB | I/O floor s | whole / floor | CPU s: convert / floor (ratio) |",
                "|---:|---:|---:|" + "---:|" * len(STAGES) + "---:|---:|---:|---:|---:|---:|---:|",
                f"| {r['raw_mb']:.1f} | {r['rows_read']:,} | {r['records_written']:,} | "
                + " | ".join(_seconds(_stage(t, k)) for k in STAGES)
                + f" | {r['whole']:.2f} | {r['import']:.2f} "
                f"| {r['ms_per_subject']:.2f} | {r['peak_rss_mb']:.0f} | {r['floor']:.2f} "
                f"(read {r['floor_read']:.2f} + write {r['floor_write']:.2f}) | {r['ratio']:.2f} "
                f"| {r['cpu']:.1f} / {r['floor_cpu']:.1f} ({r['cpu_ratio']:.2f}) |", "",
                f"1-minute load average before / after this size: {r['load_avg'][0]:.1f} / {r['load_avg'][1]:.1f} "
                f"({os.cpu_count()} cores).", "",
                "Records written: " + ", ".join(f"{k} {v:,}" for k, v in sorted(r["datasets"].items())) + ".", ""]

    big, small = results[-1], results[0]
    flat = big["ms_per_subject"] / small["ms_per_subject"]
    rss = max(r["peak_rss_mb"] for r in results)
    per_subject = " → ".join(f"{r['ms_per_subject']:.2f}" for r in results)
    ok = lambda c: "**met**" if c else "**NOT met**"  # noqa: E731
    out += ["## Targets", "",
            "| target | measured | status |", "|---|---|---|",
            f"| end to end ≤ {TARGET_FLOOR_RATIO:g} × I/O floor at {big['subjects']:,} subjects "
            f"| {big['ratio']:.2f} × ({big['whole']:.1f} s vs {big['floor']:.1f} s) "
            f"| {ok(big['ratio'] <= TARGET_FLOOR_RATIO)} |",
            f"| time per subject roughly flat ({small['subjects']:,} → {big['subjects']:,}; "
            f"largest ≤ {TARGET_FLAT:g} × smallest) "
            f"| {per_subject} ms ({flat:.2f} ×) "
            f"| {ok(flat <= TARGET_FLAT)} |",
            f"| peak RSS ≤ {TARGET_RSS_MB / 1024:g} GB | {rss:.0f} MB | {ok(rss <= TARGET_RSS_MB)} |", "",
            "## Where the time goes", "", _where_time_goes(results), ""]
    if baseline:
        out += _before_after(results, baseline, args)
    return "\n".join(out)


def _before_after(results: list[dict], baseline: list[dict], args) -> list[str]:
    header = " | ".join(f"{k} s" for k in STAGES)
    out = ["## Before / after", "",
           f"Baseline: `{args.baseline}` (same harness, earlier code; – = no such stage then).", "",
           f"| subjects | {header} | whole s | peak RSS MB | whole / floor |",
           "|---:|" + "---|" * len(STAGES) + "---|---|---|"]
    by_n = {b["subjects"]: b for b in baseline}

    def cell(old: float | None, new: float | None, fmt: str = "{:.2f}") -> str:
        def text(v: float | None) -> str:
            return "–" if v is None else fmt.format(v)
        return f"{text(old)} → {text(new)}"

    for r in results:
        b = by_n.get(r["subjects"])
        if not b:
            continue
        out.append(f"| {r['subjects']:,} | "
                   + " | ".join(cell(_stage(b["timings"], k), _stage(r["timings"], k)) for k in STAGES)
                   + f" | {cell(b['whole'], r['whole'])} | {cell(b['peak_rss_mb'], r['peak_rss_mb'], '{:.0f}')}"
                   f" | {cell(b['ratio'], r['ratio'])} |")
    out.append("")
    return out


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        kind, rest = sys.argv[2], sys.argv[3:]
        result = child_convert(*rest) if kind == "convert" else child_floor(*rest)
        print(json.dumps(result))
        return

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES), help="numbers of subjects")
    ap.add_argument("--seed", type=int, default=20240)
    ap.add_argument("--repeat", type=int, default=1, help="runs per size; the fastest is reported")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "RESULTS.md")
    ap.add_argument("--baseline", type=Path, help="JSON of an earlier run, for a before/after table")
    ap.add_argument("--label", default="", help="what code was measured (shown in RESULTS.md)")
    ap.add_argument("--render", type=Path, help="only re-render --out from this results JSON (no runs)")
    ap.add_argument("--keep", type=Path, help="keep the simulated exports and outputs in this folder")
    args = ap.parse_args()

    baseline = json.loads(args.baseline.read_text())["results"] if args.baseline else None
    if args.render:
        saved = json.loads(args.render.read_text())
        args.seed, args.repeat = saved["seed"], saved.get("repeat", args.repeat)
        args.label = args.label or saved.get("label", "")
        args.generated = saved.get("generated", "?")
        args.out.write_text(render(saved["results"], saved["machine"], args, baseline), encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr)
        return

    args.generated = time.strftime("%Y-%m-%d %H:%M")
    sizes = sorted(set(args.sizes))
    mach = machine()
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-convert-") as tmp:
        workdir = args.keep or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        for n in sizes:
            results.append(bench_size(n, args.seed, args.repeat, workdir))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(results, mach, args, baseline), encoding="utf-8")
    args.out.with_suffix(".json").write_text(json.dumps({"machine": mach, "seed": args.seed, "repeat": args.repeat,
                                                         "label": args.label, "generated": args.generated, "results": results},
                                                        indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out} and {args.out.with_suffix('.json')}", file=sys.stderr)


if __name__ == "__main__":
    main()

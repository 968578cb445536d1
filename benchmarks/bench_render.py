"""RESULTS.md of bench_convert.py: tables, linearity, test-suite times, issue 19 targets, before/after.

render(doc) takes the JSON bench_convert.py writes: {"results": [...], "before": [...] (optional),
"tests": bench_tests.py JSON (optional), "import_pandas_s", "machine", ...}. Older JSONs (earlier
harness: no command time, the floor was pandas read + pyreadstat write) render with "–" where a
number was not measured or was measured differently.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

STAGES = ("read", "map", "derive", "validate", "write")   # keys of ConvertResult.timings

# Issue 19 targets.
FLOOR_SIZE, TARGET_FLOOR_RATIO, TARGET_RSS_FLOOR_SIZE_MB = 3000, 10.0, 1.5 * 1024
SMALL_SIZE, TARGET_IMPORT_RATIO = 60, 4.0
LINEAR_FROM, LINEAR_TO, TARGET_LINEAR, LINEAR_LOW = 3000, 20000, 1.1, 300
TARGET_RSS_LARGE_MB = 6 * 1024
TARGET_TESTS_S = {"full": 120.0, "fast": 30.0}

Column = tuple[str, Callable[[dict], Any], Callable[[Any], str]]


def _num(spec: str) -> Callable[[Any], str]:
    return lambda v: spec.format(v)


def _key(name: str) -> Callable[[dict], Any]:
    return lambda r: r.get(name)


def _floor_key(name: str) -> Callable[[dict], Any]:
    """A floor number, only from runs that used the issue-19 floor (older runs: pyreadstat writes)."""
    return lambda r: r.get(name) if r.get("floor_definition") else None


def _stage(stage: str) -> Callable[[dict], Any]:
    return lambda r: (r.get("timings") or {}).get(stage)


def _load(r: dict) -> Any:
    load = r.get("load_avg")
    return f"{load[0]:.1f} / {load[1]:.1f}" if load else None


def _mb_files(r: dict) -> Any:
    return f"{r['floor_bytes'] / 1e6:,.0f} ({r['floor_files']})" if r.get("floor_bytes") is not None else None


S2, S1, S0, INT, TEXT = _num("{:.2f}"), _num("{:.1f}"), _num("{:.0f}"), _num("{:,}"), str

STAGE_COLUMNS: list[Column] = [
    ("raw MB", _key("raw_mb"), S1),
    ("rows read", _key("rows_read"), INT),
    ("records written", _key("records_written"), INT),
    *[(f"{s} s", _stage(s), S2) for s in STAGES],
    ("other s", _key("other"), S2),
    ("whole (call) s", _key("whole"), S2),
    ("imports s", _key("import"), S2),
    ("interpreter start s", _key("startup"), S2),
    ("exit s", _key("exit"), S2),
    ("command s", _key("command"), S2),
    ("CPU s (call)", _key("cpu"), S1),
    ("CPU s (command)", _key("command_cpu"), S1),
    ("peak RSS MB", _key("peak_rss_mb"), S0),
    ("load avg before / after", _load, TEXT),
]
FLOOR_COLUMNS: list[Column] = [
    ("floor read s", _floor_key("floor_read"), S2),
    ("floor write s", _floor_key("floor_write"), S2),
    ("MB written (files)", _mb_files, TEXT),
    ("floor s", _floor_key("floor"), S2),
    ("fsync of the XPT copies s (not in floor)", _floor_key("floor_fsync_xpt"), S2),
    ("command / floor", _floor_key("command_ratio"), S1),
    ("whole / floor", _floor_key("ratio"), S1),
    ("ms / subject (command)", _key("ms_per_subject_command"), S2),
    ("ms / subject (call)", _key("ms_per_subject"), S2),
    ("command / import pandas", _key("import_pandas_ratio"), S1),
]


def _cell(col: Column, r: dict | None) -> str:
    value = None if r is None else col[1](r)
    return "–" if value is None else col[2](value)


def _table(columns: list[Column], results: list[dict]) -> list[str]:
    return ["| subjects | " + " | ".join(c[0] for c in columns) + " |",
            "|---:|" + "---:|" * len(columns),
            *[f"| {r['subjects']:,} | " + " | ".join(_cell(c, r) for c in columns) + " |" for r in results], ""]


def _before_after_table(columns: list[Column], results: list[dict], before: dict[int, dict]) -> list[str]:
    rows = [f"| {r['subjects']:,} | " + " | ".join(f"{_cell(c, before.get(r['subjects']))} → {_cell(c, r)}"
                                                  for c in columns) + " |" for r in results]
    return ["| subjects | " + " | ".join(c[0] for c in columns) + " |", "|---:|" + "---|" * len(columns), *rows, ""]


def _at(results: list[dict] | None, n: int) -> dict | None:
    return next((r for r in results or [] if r["subjects"] == n), None)


# --------------------------------------------------------------------------- targets
def _status(ok: bool | None) -> str:
    return "not measured" if ok is None else "**met**" if ok else "**NOT met**"


def _floor_ratio(results: list[dict] | None) -> tuple[str, bool | None]:
    r = _at(results, FLOOR_SIZE)
    if not r or not r.get("command_ratio") or not r.get("floor_definition"):
        return "–", None
    return (f"{r['command_ratio']:.1f} × ({r['command']:.1f} s vs {r['floor']:.2f} s)",
            r["command_ratio"] <= TARGET_FLOOR_RATIO)


def _identical(results: list[dict] | None) -> tuple[str, bool | None]:
    r = _at(results, FLOOR_SIZE)
    if not r or r.get("identical") is None:
        return "not compared in this run (benchmarks/check_identical.py)", None
    if r["identical"]:
        return f"identical to {r.get('identical_to', 'the before code')}'s ({r['files_compared']} files)", True
    return "differs: " + "; ".join(r["differences"][:3]), False


def _rss(n: int, limit: float) -> Callable[[list[dict] | None], tuple[str, bool | None]]:
    def check(results: list[dict] | None) -> tuple[str, bool | None]:
        r = _at(results, n)
        return ("–", None) if not r else (f"{r['peak_rss_mb']:.0f} MB", r["peak_rss_mb"] <= limit)
    return check


def _import_ratio(results: list[dict] | None) -> tuple[str, bool | None]:
    r = _at(results, SMALL_SIZE)
    if not r or not r.get("import_pandas_ratio"):
        return "–", None
    return (f"{r['import_pandas_ratio']:.1f} × ({r['command']:.2f} s vs {r['import_pandas']:.2f} s)",
            r["import_pandas_ratio"] <= TARGET_IMPORT_RATIO)


def _per_subject(r: dict) -> float:
    return r.get("ms_per_subject_command") or r["ms_per_subject"]


def _linear(results: list[dict] | None) -> tuple[str, bool | None]:
    a, b = _at(results, LINEAR_FROM), _at(results, LINEAR_TO)
    if not a or not b:
        return "–", None
    low = _at(results, LINEAR_LOW)
    extra = f"; {LINEAR_LOW:,} → {LINEAR_TO:,}: {_per_subject(b) / _per_subject(low):.2f} ×" if low else ""
    return (f"{_per_subject(a):.2f} → {_per_subject(b):.2f} ms ({_per_subject(b) / _per_subject(a):.2f} ×{extra})",
            _per_subject(b) / _per_subject(a) <= TARGET_LINEAR)


def _suite(suites: dict | None, name: str) -> tuple[str, bool | None]:
    s = (suites or {}).get(name)
    if not s:
        return "–", None
    if s.get("dry_run"):
        return f"collection only (--dry-run): {s['wall_s']:.1f} s, {s['tests']} tests", None
    failed = f", exit {s['exit_code']}" if s["exit_code"] else ""
    return f"{s['wall_s']:.1f} s ({s['tests']} tests{failed})", s["wall_s"] <= TARGET_TESTS_S[name]


def _targets(doc: dict) -> list[str]:
    after, before = doc["results"], doc.get("before")
    suites = (doc.get("tests") or {}).get("suites", {})
    rows = [
        (f"{FLOOR_SIZE:,} subjects: command ≤ {TARGET_FLOOR_RATIO:g} × the physical floor", _floor_ratio),
        (f"{FLOOR_SIZE:,} subjects: outputs byte-identical to the before code's (--baseline-code)", _identical),
        (f"{FLOOR_SIZE:,} subjects: peak RSS ≤ 1.5 GB ({TARGET_RSS_FLOOR_SIZE_MB:.0f} MB)",
         _rss(FLOOR_SIZE, TARGET_RSS_FLOOR_SIZE_MB)),
        (f"{SMALL_SIZE} subjects: command ≤ {TARGET_IMPORT_RATIO:g} × `python -c \"import pandas\"`", _import_ratio),
        (f"linear: ms / subject (command) at {LINEAR_TO:,} ≤ {TARGET_LINEAR:g} × at {LINEAR_FROM:,}", _linear),
        (f"{LINEAR_TO:,} subjects: peak RSS ≤ 6 GB ({TARGET_RSS_LARGE_MB} MB)", _rss(LINEAR_TO, TARGET_RSS_LARGE_MB)),
    ]
    out = ["| target | before | after | status (after) |", "|---|---|---|---|"]
    for text, check in rows:
        measured, ok = check(after)
        old = check(before)[0] if before and check is not _identical else "–"    # identity: a property of after
        out.append(f"| {text} | {old} | {measured} | {_status(ok)} |")
    for name in ("full", "fast"):
        measured, ok = _suite(suites.get("after"), name)
        out.append(f"| test suite, {name}: ≤ {TARGET_TESTS_S[name]:g} s on an idle 2-core machine "
                   f"| {_suite(suites.get('before'), name)[0]} | {measured} | {_status(ok)} |")
    return out + [""]


# --------------------------------------------------------------------------- sections
def _header(doc: dict) -> list[str]:
    m = doc["machine"]
    pandas = doc.get("import_pandas_s")
    return ["# Convert benchmark: NCT04515719 CSV exports (issue 19)", "",
            f"Generated by `benchmarks/bench_convert.py` on {doc.get('generated', '?')} (seed {doc['seed']}, "
            f"{doc['repeat']} run(s) per measurement, fastest reported).", "",
            f"- After (code measured): {doc.get('label') or '?'}",
            *([f"- Before: {doc['before_label']}"] if doc.get("before") else []), "",
            "## Machine", "",
            f"- CPU: {m['cores']} cores ({m['cpu']}); memory {m['memory']}",
            f"- {m['platform']}",
            f"- Python {m['python']}, pandas {m['pandas']}, great_expectations {m['great_expectations']}, "
            f"pyreadstat {m['pyreadstat']}",
            *([f"- `python -c \"import pandas\"`: {pandas:.2f} s (fastest of {len(doc.get('import_pandas_all', [1]))} "
               "fresh processes)"] if pandas else []), ""]


DEFINITIONS = """\
## What is measured

- **command**: wall time of the convert child process from spawn to exit (interpreter start, imports,
  `sdtm_lupus.api.convert(...)`, interpreter exit), as the issue measures `convert`. **whole (call)**:
  `time.perf_counter()` around the `convert(...)` call alone; **imports s**: the child's `sdtm_lupus` imports;
  **interpreter start s**: spawn to the child's first line; **exit s**: its last line to process exit.
- **read … write s**: `ConvertResult.timings`; **other s** = whole − the stages (configuration, specs, output
  folder checks). **CPU s**: user + system time of the call / of the whole child. **peak RSS**: the child's
  `ru_maxrss` (MB = MiB).
- **physical floor** (issue 19), a separate fresh process: pandas reading every raw CSV form
  (`dtype=str, keep_default_na=False`, the mapping's encoding) + writing as many bytes as convert wrote:
  the bytes of every file under the output folder (XPT, define.xml, reports, ...; read first, untimed) written
  with plain binary writes (open, write, flush, close) into a scratch folder. **No fsync** in the floor;
  convert fsyncs each XPT file it writes, so the fsync of the XPT copies is timed separately (not in the floor).
- **command / floor**, **whole / floor**: the ratios of issue 19; **ms / subject** = time / subjects;
  **command / import pandas**: the 60-subject target. Each size is simulated once (this checkout's simulator,
  untimed) and converted by every code version measured; the load average is shown because wall times
  depend on other load on the machine (the CPU columns less so).
"""


def _linearity(results: list[dict]) -> list[str]:
    if len(results) < 2:
        return []
    per = " → ".join(f"{r['subjects']:,}: {_per_subject(r):.2f}" for r in results)
    lines = [f"ms / subject (command): {per}."]
    for a, b in ((LINEAR_FROM, LINEAR_TO), (LINEAR_LOW, LINEAR_TO)):
        ra, rb = _at(results, a), _at(results, b)
        if ra and rb:
            lines.append(f"At {b:,} / at {a:,}: {_per_subject(rb) / _per_subject(ra):.2f} ×.")
    first, last = results[0], results[-1]
    lines.append(f"Largest / smallest size measured ({last['subjects']:,} / {first['subjects']:,}): "
                 f"{_per_subject(last) / _per_subject(first):.2f} ×.")
    return ["### Linearity", "", " ".join(lines), ""]


def _tests_section(tests: dict | None) -> list[str]:
    if not tests:
        return ["### Test suite", "", "Not measured in this run (--skip-tests; see benchmarks/bench_tests.py).", ""]
    out = ["### Test suite", "",
           f"`benchmarks/bench_tests.py` on {tests.get('generated', '?')}: each suite in a fresh "
           "`python -m pytest -q -p no:cacheprovider` process; wall seconds spawn to exit.", "",
           "| code | suite | tests | wall s | target s | summary | load avg before / after | exit |",
           "|---|---|---:|---:|---:|---|---|---:|"]
    for code, suites in tests.get("suites", {}).items():
        for name, s in suites.items():
            out.append(f"| {code} | {name}{' (collect only)' if s.get('dry_run') else ''} | {s['tests']:,} "
                       f"| {s['wall_s']:.1f} | {TARGET_TESTS_S[name]:g} | {s['summary']} "
                       f"| {s['load_before']:.1f} / {s['load_after']:.1f} | {s['exit_code']} |")
    return out + [""]


def _where_time_goes(results: list[dict]) -> list[str]:
    big = results[-1]
    t, total = big["timings"], big["whole"]
    share = ", ".join(f"{k} {v:.1f} s ({100 * v / total:.0f} %)" for k, v in sorted(t.items(), key=lambda kv: -kv[1]))
    lines = [f"At {big['subjects']:,} subjects the command takes {big['command']:.1f} s, of which the convert call "
             f"{total:.1f} s: {share}, other {big['other']:.1f} s; the child's imports take {big['import']:.1f} s, "
             f"interpreter start {big['startup']:.2f} s and exit (freeing the data, atexit) {big['exit']:.2f} s."]
    small = results[0]
    if len(results) > 1:
        common = [k for k in t if k in small["timings"]]
        dn = big["subjects"] - small["subjects"]
        marginal = {k: (t[k] - small["timings"][k]) / dn for k in common}
        lines.append("A straight line through the smallest and largest run splits each stage into a fixed cost and "
                     "a per-subject cost: " + ", ".join(
                         f"{k} ≈ {small['timings'][k] - marginal[k] * small['subjects']:.2f} s + "
                         f"{1000 * marginal[k]:.2f} ms/subject" for k in common) + ".")
    if big.get("floor_definition"):
        lines.append(
            f"The physical floor at {big['subjects']:,} subjects is {big['floor']:.2f} s (pandas read "
            f"{big['floor_read']:.2f} s, plain writes {big['floor_write']:.2f} s of {big['floor_bytes'] / 1e6:,.0f} MB "
            f"in {big['floor_files']} files), so {TARGET_FLOOR_RATIO:g} × allows {TARGET_FLOOR_RATIO * big['floor']:.1f} s. "
            "In units of the floor: " + ", ".join(f"{k} {v / big['floor']:.1f} ×" for k, v in t.items())
            + f". convert's read stage is {t['read'] / big['floor_read']:.1f} × pandas reading the same files and "
            f"its write stage {t['write'] / big['floor_write']:.1f} × writing the same bytes (the write stage also "
            f"encodes the XPT records, checks them, fsyncs them (fsync of the copies: {big['floor_fsync_xpt']:.2f} s), "
            "builds define.xml and the reports).")
    return ["## Where the time goes (after)", "", *[line + "\n" for line in lines]]


def _before_after(doc: dict) -> list[str]:
    before = {r["subjects"]: r for r in doc.get("before") or []}
    results = [r for r in doc["results"] if r["subjects"] in before]
    if not results:
        return []
    speed = [f"{r['subjects']:,}: {before[r['subjects']][k] / r[k]:.2f} ×" for r in results
             for k in ("command",) if before[r["subjects"]].get(k) and r.get(k)]
    same = [f"{r['subjects']:,}: {'identical' if r['identical'] else 'DIFFERENT'} ({r['files_compared']} files)"
            for r in results if r.get("identical") is not None]
    out = ["## Before / after", "", f"Before: {doc['before_label']}; after: {doc.get('label') or '?'}. "
           "Cells are before → after; – = not measured (or, for the floor, measured with the older definition).", ""]
    out += ["### Stages and whole", "", *_before_after_table(STAGE_COLUMNS, results, before)]
    out += ["### Physical floor and ratios", "", *_before_after_table(FLOOR_COLUMNS, results, before)]
    if speed:
        out += ["Command speed-up (before / after): " + ", ".join(speed) + ".", ""]
    if same:
        base = next(r.get("identical_to", "the before code") for r in results if r.get("identical") is not None)
        out += [f"Outputs, byte for byte, of {base} vs after (every file under the output folder): "
                + ", ".join(same) + ".", ""]
        out += [f"- {r['subjects']:,}: {d}" for r in results for d in r.get("differences") or []]
    return out + [""]


def _records(results: list[dict]) -> list[str]:
    out = ["## Records written", ""]
    for r in results:
        out.append(f"- {r['subjects']:,} subjects: "
                   + ", ".join(f"{k} {v:,}" for k, v in sorted(r["datasets"].items())) + ".")
    return out + [""]


def render(doc: dict) -> str:
    results = doc["results"]
    out = _header(doc) + [DEFINITIONS]
    out += ["## Results (after)", "", "### Stages and whole", "", *_table(STAGE_COLUMNS, results),
            "### Physical floor and ratios", "", *_table(FLOOR_COLUMNS, results),
            *_linearity(results), *_tests_section(doc.get("tests")),
            "## Targets (issue 19)", "", *_targets(doc), *_where_time_goes(results), *_before_after(doc),
            *_records(results)]
    return "\n".join(out).rstrip("\n") + "\n"

"""Time the ODM reader alone on an export whose one form is large (not part of the test suite).

    .venv/bin/python benchmarks/bench_odm_read.py [--mb 72] [--work /tmp/bench-odm] [--code ROOT ...]

Writes a synthetic reference-layout ODM file (one subject, one LAB FormData holding about
--mb megabytes of ItemGroupData), then reads it with `read_odm` in a fresh subprocess per
code root (default: this checkout; pass an earlier copy, e.g. made with
`git archive <commit> | tar -x -C /tmp/base`, to compare) and prints CPU seconds, wall
seconds, peak RSS and rows read. A reader that keeps processed elements alive grows
super-linearly with the size of one form; a linear one does not (compare --mb 18 and 72).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

READ = """
import json, resource, sys, time
from pathlib import Path
from sdtm_lupus.config.mapping import load_mapping
from sdtm_lupus.readers.odm import read_odm
from sdtm_lupus.specs import load_raw_layout
path = Path(sys.argv[1])
mapping = load_mapping(Path("mappings/reference.yaml"))
layout = load_raw_layout()
t0, c0 = time.perf_counter(), time.process_time()
forms, findings = read_odm(path, mapping, {"lab": layout.columns("lab")}, "export.xml")
print(json.dumps({"wall_s": round(time.perf_counter() - t0, 2), "cpu_s": round(time.process_time() - c0, 2),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
                  "rows": len(forms["lab"]), "last_row_line": int(forms["lab"].data["_row"].iloc[-1])}))
"""

TESTS = [("Complement C3", "1.29", "g/L", "0.90", "1.80"), ("Platelets", "212", "10^9/L", "100", "300"),
         ("Anti-dsDNA antibody", "265.5", "IU/mL", "0", "100"), ("Creatinine", "63", "umol/L", "45", "84")]


def write_export(path: Path, megabytes: float) -> int:
    """One subject, one LAB form with item groups up to the size asked; returns the row count."""
    target, rows = int(megabytes * 1e6), 0
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write('<?xml version="1.0" encoding="UTF-8"?>\n<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3">\n'
                 '<ClinicalData StudyOID="NCT04515719" MetaDataVersionOID="MDV.1">\n'
                 '<SubjectData SubjectKey="01-0001">\n<SiteRef LocationOID="01"/>\n'
                 '<StudyEventData StudyEventOID="WEEK 4">\n<FormData FormOID="LAB">\n')
        while fh.tell() < target:
            test, res, unit, lo, hi = TESTS[rows % len(TESTS)]
            fh.write(f'<ItemGroupData ItemGroupOID="LAB" ItemGroupRepeatKey="{rows + 1}">\n'
                     f'<ItemData ItemOID="LAB.LBDAT" Value="05-MAR-2021"/>\n<ItemData ItemOID="LAB.LBTIM" Value="09:25"/>\n'
                     f'<ItemData ItemOID="LAB.LBCAT" Value="IMMUNOLOGY"/>\n<ItemData ItemOID="LAB.LBTEST" Value="{test}"/>\n'
                     f'<ItemData ItemOID="LAB.LBORRES" Value="{res}"/>\n<ItemData ItemOID="LAB.LBORRESU" Value="{unit}"/>\n'
                     f'<ItemData ItemOID="LAB.LBORNRLO" Value="{lo}"/>\n<ItemData ItemOID="LAB.LBORNRHI" Value="{hi}"/>\n'
                     f'<ItemData ItemOID="LAB.LBNAM" Value="Central Hospital Laboratory"/>\n</ItemGroupData>\n')
            rows += 1
        fh.write("</FormData>\n</StudyEventData>\n</SubjectData>\n</ClinicalData>\n</ODM>\n")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=float, default=72.0, help="size of the one large form, MB")
    ap.add_argument("--work", type=Path, default=Path("/tmp/bench-odm"))
    ap.add_argument("--code", type=Path, nargs="*", default=[ROOT], help="code roots to time (default: this checkout)")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    path = args.work / f"export-{args.mb:g}mb.xml"
    rows = write_export(path, args.mb)
    lines = sum(chunk.count(b"\n") for chunk in iter(lambda f=path.open("rb"): f.read(1 << 24), b""))
    print(f"{path}: {path.stat().st_size / 1e6:.1f} MB, {lines} lines, {rows} rows in one FormData")
    for code in args.code:
        proc = subprocess.run([sys.executable, "-c", READ, str(path)], capture_output=True, text=True,
                              cwd=code, env={**os.environ, "PYTHONPATH": str(code)})
        result = json.loads(proc.stdout) if proc.returncode == 0 else {"error": proc.stderr.strip()[-400:]}
        print(f"{code}: {json.dumps(result)}")


if __name__ == "__main__":
    main()

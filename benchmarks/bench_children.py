"""The measured child processes of bench_convert.py (one fresh interpreter each; not for direct use).

    python benchmarks/bench_children.py convert  RAW STUDY OUT
    python benchmarks/bench_children.py floor    RAW OUT ENCODING TMPDIR
    python benchmarks/bench_children.py simulate STUDY N SEED RAW

Only the standard library is imported at the top, so the `convert` child's spawn-to-exit time (the
"whole command") is interpreter start + sdtm_lupus imports + the convert call + interpreter exit,
with nothing of the harness in it. The project code comes from PYTHONPATH (the parent sets it to the
checkout or to --baseline-code). Each child prints one JSON line on stdout.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path

T_START = time.time()           # wall clock, compared with the parent's spawn and exit times
CHUNK = 64 * 1024 * 1024      # floor writes: bytes read (untimed) and written (timed) per step
CREATED = "1960-01-01T00:00:00"  # one define.xml creation stamp, so two versions' outputs can be compared
PRELOAD = ("sdtm_lupus.readers.export", "sdtm_lupus.sdtm", "sdtm_lupus.validate.gate", "sdtm_lupus.write.outputs")


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def convert(raw: str, study: str, out: str) -> dict:
    t0 = time.perf_counter()
    import importlib
    import inspect

    for module in PRELOAD:          # imported here so that "whole" is the call alone
        try:
            importlib.import_module(module)
        except ModuleNotFoundError:     # an older or newer layout of the package
            pass
    import sdtm_lupus.api
    from sdtm_lupus.api import convert
    t_import = time.perf_counter() - t0

    rows_read = []

    def progress(msg: str) -> None:
        if msg.startswith("mapping ") and msg.endswith(" raw rows to SDTM"):
            rows_read.append(int(msg.split()[1]))

    # older versions have no `created` (they wrote a fixed 1960 stamp)
    created = {"created": CREATED} if "created" in inspect.signature(convert).parameters else {}
    # as the CLI runs it: Great Expectations imported by a worker process while reading (newer versions)
    worker = {"ge_worker": True} if "ge_worker" in inspect.signature(convert).parameters else {}
    t1, c1 = time.perf_counter(), _cpu_s()
    result = convert(Path(raw), Path(study), Path(out), progress=progress, **created, **worker)
    whole, cpu = time.perf_counter() - t1, _cpu_s() - c1
    return {"import": t_import, "whole": whole, "cpu": cpu, "timings": result.timings, "exit_code": result.exit_code,
            "datasets": result.datasets, "rows_read": rows_read[0] if rows_read else None,
            "out_dir": str(result.out_dir), "code": str(Path(sdtm_lupus.api.__file__).parents[1])}


def _read_forms(raw: Path, encoding: str) -> tuple[float, int, int]:
    """pandas reading every form CSV as convert's CSV reader does: (seconds, files, rows)."""
    import pandas as pd

    csvs = sorted(raw.glob("*.csv"))
    t0, rows = time.perf_counter(), 0
    for path in csvs:
        rows += len(pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding))
    return time.perf_counter() - t0, len(csvs), rows


def _write_copy(src: Path, dst: Path) -> float:
    """Write src's bytes to dst with plain binary writes; only open/write/flush/close are timed, not reading src."""
    spent = 0.0
    with open(src, "rb") as source:
        t = time.perf_counter()
        target = open(dst, "wb")
        spent += time.perf_counter() - t
        while chunk := source.read(CHUNK):
            t = time.perf_counter()
            target.write(chunk)
            spent += time.perf_counter() - t
        t = time.perf_counter()
        target.flush()
        target.close()
        spent += time.perf_counter() - t
    return spent


def _fsync_all(paths: list[Path]) -> float:
    """Seconds to fsync the given (already written) files; informational, not part of the floor."""
    t0 = time.perf_counter()
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    return time.perf_counter() - t0


def floor(raw: str, out: str, encoding: str, tmp: str) -> dict:
    """The physical floor of issue 19: read every raw CSV form + write as many bytes as convert wrote."""
    t0 = time.perf_counter()
    import pandas  # noqa: F401
    t_import = time.perf_counter() - t0

    c0 = _cpu_s()
    t_read, n_csv, rows = _read_forms(Path(raw), encoding)
    files = sorted(p for p in Path(out).rglob("*") if p.is_file())
    copies = [Path(tmp) / p.relative_to(out) for p in files]
    for d in sorted({c.parent for c in copies}):        # folders made untimed
        d.mkdir(parents=True, exist_ok=True)
    t_write = sum(_write_copy(src, dst) for src, dst in zip(files, copies))
    cpu = _cpu_s() - c0
    xpt = [c for c in copies if c.suffix == ".xpt"]
    return {"import": t_import, "read": t_read, "write": t_write, "floor": t_read + t_write, "cpu": cpu,
            "rows": rows, "csv_files": n_csv, "files": len(files), "bytes": sum(p.stat().st_size for p in files),
            "fsync_xpt": _fsync_all(xpt), "xpt_files": len(xpt)}


def simulate(study: str, n: str, seed: str, raw: str) -> dict:
    from sdtm_lupus.api import load_configuration
    from sdtm_lupus.config.study import load_study
    from sdtm_lupus.simulate import simulate as simulate_export

    t0 = time.perf_counter()
    simulate_export(load_study(Path(study)), int(n), int(seed), Path(raw), transport="csv")
    seconds = time.perf_counter() - t0
    _, mapping = load_configuration(Path(study), None)
    raw_bytes = sum(p.stat().st_size for p in Path(raw).iterdir() if p.is_file())
    return {"simulate_s": seconds, "encoding": mapping.encoding, "raw_bytes": raw_bytes}


if __name__ == "__main__":
    kind, args = sys.argv[1], sys.argv[2:]
    result = {"convert": convert, "floor": floor, "simulate": simulate}[kind](*args)
    print(json.dumps({**result, "t_start": T_START, "t_end": time.time()}), flush=True)

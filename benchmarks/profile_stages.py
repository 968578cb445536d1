"""cProfile of convert's map, derive and validate stages on one export (not part of the test suite).

    .venv/bin/python benchmarks/profile_stages.py RAW_DIR [--study studies/NCT04515719.yaml]
                                                  [--stages map derive validate] [--out /tmp/profile] [--top 40]

Runs the stages as `sdtm_lupus.api.convert` does (read, map + ASCII policy, derive, validate;
not write), profiling each selected stage separately. Per stage it prints the wall time and
the `--top` functions by cumulative time, and saves `<out>/<stage>.pstats` for a closer look
(`python -m pstats`). Stages not selected run unprofiled. Simulate an export first, e.g.
`.venv/bin/python -m sdtm_lupus.cli simulate ...` or `sdtm_lupus.api.simulate_export`.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_stage(name: str, selected: list[str], out: Path, top: int, fn, *args):
    profiler = cProfile.Profile() if name in selected else None
    t0 = time.perf_counter()
    if profiler:
        profiler.enable()
    result = fn(*args)
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - t0
    print(f"== {name}: {seconds:.2f} s{' (profiled)' if profiler else ''}", flush=True)
    if profiler:
        profiler.dump_stats(out / f"{name}.pstats")
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(top)
        print(text.getvalue(), flush=True)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("raw", type=Path)
    ap.add_argument("--study", type=Path, default=ROOT / "studies" / "NCT04515719.yaml")
    ap.add_argument("--stages", nargs="+", default=["map", "derive", "validate"],
                    choices=["read", "map", "derive", "validate"])
    ap.add_argument("--out", type=Path, default=Path("/tmp/profile"))
    ap.add_argument("--top", type=int, default=40)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    from sdtm_lupus.adam import derive_adam
    from sdtm_lupus.api import load_configuration, study_specs
    from sdtm_lupus.readers.export import read_export
    from sdtm_lupus.sdtm import map_sdtm
    from sdtm_lupus.sdtm.map_context import MapContext
    from sdtm_lupus.validate.gate import run_gate
    from sdtm_lupus.write.ascii import apply_ascii_policy

    study, mapping = load_configuration(args.study, None)
    specs = study_specs(study)

    def read():
        return read_export(args.raw, mapping, study.forms)

    def map_stage(forms, findings):
        ctx = MapContext(study=study, mapping=mapping, specs=specs, findings=findings)
        datasets = map_sdtm(forms, ctx)
        for name in list(datasets):
            datasets[name], _ = apply_ascii_policy(name, datasets[name], study.non_ascii)
        return datasets

    def derive(datasets):
        datasets.update(derive_adam(datasets, study, specs).datasets)
        return datasets

    forms, findings = run_stage("read", args.stages, args.out, args.top, read)
    datasets = run_stage("map", args.stages, args.out, args.top, map_stage, forms, findings)
    datasets = run_stage("derive", args.stages, args.out, args.top, derive, datasets)
    run_stage("validate", args.stages, args.out, args.top, run_gate, datasets, specs)
    print(", ".join(f"{n} {len(d):,}" for n, d in sorted(datasets.items())), file=sys.stderr)


if __name__ == "__main__":
    main()

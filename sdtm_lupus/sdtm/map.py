"""Map stage: Forms -> SDTM datasets (DataFrames in spec order, with provenance columns).

Each domain module has a `build(state) -> {dataset: frame}` function; DOMAINS lists them in
build order (DM first: every other domain needs its reference dates). A builder returns
frames with spec variables plus `_file`/`_row` provenance; --SEQ is derived here.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from sdtm_lupus.findings import Finding
from sdtm_lupus.frames import sorted_rows, take_rows
from sdtm_lupus.readers.forms import ROW, Forms
from sdtm_lupus.sdtm import ae, cm, dm, ds, ex, lb, mh, qs, suppdm, suppex, sv, trial_design, vs
from sdtm_lupus.sdtm.builder_state import MapState
from sdtm_lupus.sdtm.map_context import FILE, SRCROW, MapContext
from sdtm_lupus.sdtm.subjects import check_folders, check_subjects
from sdtm_lupus.sdtm.visits import VisitNumbering
from sdtm_lupus.specs import conform_to_spec, load_raw_layout

Builder = Callable[[MapState], dict[str, pd.DataFrame]]

# Build order. DM first; SV after every visit-based domain it summarises.
DOMAINS: list[tuple[str, Builder]] = [
    ("DM", dm.build),
    ("EX", ex.build),
    ("AE", ae.build),
    ("CM", cm.build),
    ("QS", qs.build),
    ("LB", lb.build),
    ("DS", ds.build),
    ("MH", mh.build),
    ("VS", vs.build),
    ("SUPPDM", suppdm.build),
    ("SUPPEX", suppex.build),
    ("SV", sv.build),
    ("TRIAL DESIGN", trial_design.build),
]


def number_visits(state: MapState) -> VisitNumbering:
    """Register the unscheduled visits of every visit-based form, then number them once."""
    layout = load_raw_layout()
    visits = VisitNumbering(state.study)
    for name in sorted(state.forms):
        spec = layout.forms[name]
        if not spec.visit_based or not spec.date_column:
            continue
        frame = state.cleaned(name)
        rows = visits.unscheduled_rows(frame["FOLDER"], frame[spec.date_column])
        unscheduled = frame[rows]           # study days are needed for these rows only
        dtc = unscheduled[spec.date_column]
        visits.register(unscheduled["USUBJID"], unscheduled["FOLDER"], state.study_day(dtc, unscheduled["USUBJID"]),
                        dtc)
    visits.finish()
    return visits


def map_sdtm(forms: Forms, ctx: MapContext) -> dict[str, pd.DataFrame]:
    """All SDTM datasets, sorted by their keys, provenance kept; row reconciliation reported."""
    check_subjects(forms, ctx)
    check_folders(forms, ctx)
    state = MapState(ctx=ctx, forms=forms)
    datasets: dict[str, pd.DataFrame] = {}
    for _, build in DOMAINS:
        built = build(state)
        if "DM" in built and state.dm is None:
            state.dm = built["DM"]
            state.visits = number_visits(state)
        datasets.update(built)
    del state       # the cleaned forms: not needed from here on
    reconcile(forms, datasets, ctx)
    # one dataset at a time, so that a built frame is released as soon as its finished copy exists
    return {name: finish_dataset(name, datasets.pop(name), ctx) for name in sorted(datasets)}


def finish_dataset(name: str, df: pd.DataFrame, ctx: MapContext) -> pd.DataFrame:
    """Spec order and types; --SEQ when the builder left it to us; sorted by subject and sequence."""
    spec = ctx.specs.dataset(name)
    seq = f"{spec.dataset}SEQ" if f"{spec.dataset}SEQ" in spec.names else None
    df = conform_to_spec(df, spec)
    if seq and df[seq].isna().all() and len(df):
        from sdtm_lupus.sdtm.timing import derive_seq

        order = [k for k in spec.keys if k not in ("STUDYID", "USUBJID", seq)]
        order = [*order, SRCROW] if SRCROW in df else order
        if "USUBJID" in spec.names:
            positions = _numbered(df, seq, order)
            if positions is not None:       # the sort that numbers the records is the final order
                return _taken(df, positions)
        df[seq] = derive_seq(df, order)
    if "USUBJID" in spec.names:
        order = ["USUBJID", seq] if seq else [k for k in spec.keys if k != "STUDYID"]
    else:
        order = list(spec.keys)
    if _in_order(df, order):      # built in its final order (QS): nothing to move
        return df.reset_index(drop=True)
    return sorted_rows(df, order, consume=True)       # df: this function's conformed copy


def _numbered(df: pd.DataFrame, seq: str, order: list[str]) -> np.ndarray | None:
    """derive_seq(df, order) into df[seq], returning the row positions sorted by USUBJID and seq (the same
    stable sort: USUBJID, then order); None (nothing done) when a USUBJID is missing."""
    keys = list(dict.fromkeys(["USUBJID", *order]))
    ranked = df[keys].reset_index(drop=True).sort_values(["USUBJID", *order], kind="stable", na_position="last")
    subject = ranked["USUBJID"].to_numpy()
    if pd.isna(subject).any():
        return None
    idx = np.arange(len(subject))
    numbers = np.empty(len(subject))
    positions = ranked.index.to_numpy()
    numbers[positions] = idx - np.maximum.accumulate(np.where(np.r_[True, subject[1:] != subject[:-1]], idx, 0)) + 1
    df[seq] = numbers
    return positions


def _taken(df: pd.DataFrame, positions: np.ndarray) -> pd.DataFrame:
    """sorted_rows' result for rows already ranked (positions: the sorted order)."""
    if np.array_equal(positions, np.arange(len(df))):
        return df.reset_index(drop=True)
    return take_rows(df, positions, consume=True)


def _in_order(df: pd.DataFrame, keys: list[str]) -> bool:
    """The rows are already as a stable sort by `keys` leaves them (no missing key; any doubt: False)."""
    if len(df) < 2:
        return False
    undecided = np.ones(len(df) - 1, dtype=bool)       # pairs of neighbours equal on the keys so far
    try:
        for key in dict.fromkeys(keys):
            values = df[key].to_numpy()
            if pd.isna(values).any():
                return False
            before, after = values[:-1], values[1:]
            if (undecided & (before > after)).any():
                return False
            undecided &= before == after
    except TypeError:        # values that do not compare (mixed types): let the sort decide
        return False
    return True


def reconcile(forms: Forms, datasets: dict[str, pd.DataFrame], ctx: MapContext) -> dict[str, dict[str, int]]:
    """Rows read = rows mapped + rows accounted for by a finding; any other row is an error.

    A row is mapped when some output record carries its (_file, _row) provenance.
    """
    mapped = _mapped_rows(datasets)
    noted: dict[str, set[int]] = {}
    for f in ctx.findings:
        if f.file and f.row is not None:
            noted.setdefault(f.file, set()).add(f.row)
    summary = {}
    for name, form in sorted(forms.items()):
        if name in ctx.deferred:
            continue
        rows = _sorted_distinct(form.data[ROW].to_numpy().astype(np.int64))
        is_done = np.isin(rows, mapped.get(form.file, np.empty(0, dtype=np.int64)))
        done, undone = rows[is_done], rows[~is_done]
        is_explained = np.isin(undone, np.fromiter(noted.get(form.file, ()), dtype=np.int64))
        explained, lost = undone[is_explained], undone[~is_explained].tolist()      # sorted
        summary[name] = {"read": len(rows), "mapped": len(done), "rejected": len(explained), "lost": len(lost)}
        for row in lost[:50]:
            ctx.findings.append(Finding(rule="MAP-ROW-UNMAPPED", severity="error", dataset=name, file=form.file,
                                        row=row, message="row is in no output record and no finding explains it"))
        if len(lost) > 50:
            ctx.findings.append(Finding(rule="MAP-ROW-UNMAPPED", severity="error", dataset=name, file=form.file,
                                        message=f"{len(lost) - 50} more rows are in no output record"))
    ctx.reconciliation = summary
    return summary


def _mapped_rows(datasets: dict[str, pd.DataFrame]) -> dict[str, np.ndarray]:
    """Per source file, the distinct raw rows (_row, as integers) some record of the datasets carries."""
    parts: dict[str, list[np.ndarray]] = {}
    for df in datasets.values():
        if FILE in df and SRCROW in df and len(df):
            both = df[[FILE, SRCROW]].dropna()
            codes, files = pd.factorize(both[FILE])
            rows = both[SRCROW].to_numpy().astype(np.int64)
            for k, file in enumerate(files):
                parts.setdefault(file, []).append(rows[codes == k])
    return {file: _sorted_distinct(np.concatenate(arrays)) for file, arrays in parts.items()}


def _sorted_distinct(values: np.ndarray) -> np.ndarray:
    """np.unique by a sort (numpy's hash-based unique is slower on millions of integers)."""
    values = np.sort(values)
    return values[np.r_[True, values[1:] != values[:-1]]] if len(values) else values

"""The validation gate: run the spec expectations on the datasets with Great Expectations.

GE is imported inside run_gate (it costs ~2 s), so importing this module stays cheap.
"""

from __future__ import annotations

import math
import os
import re
import warnings
from collections import defaultdict
from functools import cached_property
from typing import Any, Iterable

import numpy as np
import pandas as pd

from sdtm_lupus.specs import DatasetSpec, Specs
from sdtm_lupus.validate.cross_checks import CROSS_CHECKS, build_reviewer_expectations
from sdtm_lupus.validate.results import MAX_EXAMPLES, MAX_RECORDS, Expectation, ExpectationResult, GateResult
from sdtm_lupus.validate.suites import PROVENANCE, build_cross_expectations, build_expectations, seq_variable
from sdtm_lupus.validate.wide import WIDE_KINDS, Factorized, WideCheck, run_wide

DATASET_NAME = re.compile(r"[A-Z][A-Z0-9]{0,7}\Z")
VARIABLE_NAME = re.compile(r"[A-Z][A-Z0-9_]{0,7}\Z")
GX_KINDS = ("not_null", "in_set", "regex", "unique", "max_bytes", "gx")
SPLIT_ROWS = 100_000     # datasets this long are validated in several narrow GE batches (_GxSession.validate)


def run_gate(datasets: dict[str, pd.DataFrame], specs: Specs, *,
             extra: Iterable[Expectation] = (), progress=lambda _: None, wide: bool = True,
             gx=None) -> GateResult:
    """Run every expectation. wide=True (the default) runs the column checks as a few wide GE
    expectations on distinct values (validate/wide.py); wide=False runs one GE expectation per
    check on the rows, the reference the tests compare the wide engine with. gx: where the wide
    GE batches run (gx_worker.GxWorker, started early); default a GE session in this process."""
    expectations = [*build_expectations(specs, datasets), *build_cross_expectations(specs, datasets),
                    *build_reviewer_expectations(datasets), *extra]
    by_dataset: dict[str, list[Expectation]] = defaultdict(list)
    for e in expectations:
        by_dataset[e.dataset].append(e)

    results: list[ExpectationResult] = []
    wide_checks: list[WideCheck] = []
    memo: dict = {}         # what cross checks share within the run
    session: _GxSession | None = None
    for name in sorted(by_dataset):
        exps = by_dataset[name]
        progress(f"validating {name}: {len(exps)} expectations on {len(datasets.get(name, ()))} records")
        ids = [e.id for e in exps]
        if len(set(ids)) != len(ids):
            raise ValueError(f"{name}: duplicate expectation ids {sorted({i for i in ids if ids.count(i) > 1})}")
        df = datasets.get(name)
        if df is None:
            results += [_not_run(e, f"dataset {name} is absent") for e in exps]
            continue
        frame = _Frame(df, specs.datasets.get(name))
        to_gx = []
        for e in exps:
            missing = [v for v in e.variables if v not in frame.columns]
            if e.kind == "meta":
                results.append(_meta(e, frame))
            elif e.kind == "column_exists":
                results.append(_column_exists(e, frame))
            elif missing:
                results.append(_not_run(e, f"variable {', '.join(missing)} absent"))
            elif e.kind == "in_dm":
                results.append(_in_dm(e, frame, datasets.get("DM")))
            elif e.kind in CROSS_CHECKS:
                results.append(_cross(e, frame, datasets, memo))
            elif e.kind == "in_set" and e.params.get("value_set") is None:
                results.append(_not_run(e, "codelist has no terms (study codelist not supplied)"))
            elif wide and e.kind in WIDE_KINDS:
                wide_checks.append(WideCheck(e, frame.factorized, frame.examples))
            elif e.kind in GX_KINDS:
                to_gx.append(e)
            else:
                raise ValueError(f"{e.id}: unknown expectation kind {e.kind!r}")
        if to_gx:
            session = session or _GxSession()
            results += session.validate(name, frame, to_gx)
    if wide_checks:
        progress(f"validating {len(wide_checks)} column checks as wide GE expectations")
        if gx is None:
            session = session or _GxSession()
        results += run_wide(wide_checks, (gx or session).run_batch)
    results.sort(key=lambda r: (r.expectation.dataset, r.expectation.id))
    return GateResult(results)


# --------------------------------------------------------------------------- dataset under test

class _Frame:
    """The caller's frame plus a working copy for GE: provenance dropped, "" as null, RangeIndex,
    helper byte-length columns. pandas copy-on-write keeps the caller's frame untouched."""

    def __init__(self, df: pd.DataFrame, spec: DatasetSpec | None):
        self.df, self.spec = df, spec
        self.columns = [c for c in df.columns if c not in PROVENANCE]
        self.seq = seq_variable(spec) if spec else None
        self.factorized = Factorized(df)

    @cached_property
    def work(self) -> pd.DataFrame:
        """The working copy the narrow GE engine reads (built only when it runs)."""
        work = self.df[self.columns]
        for c in self.columns:
            s = work[c]
            if _is_text(s):
                empty = s.eq("").to_numpy(dtype=bool, na_value=False)
                if empty.any():
                    work[c] = s.mask(empty)
        work.index = pd.RangeIndex(len(work))
        return work

    def _byte_lengths(self, column: str) -> np.ndarray:
        """Each value's UTF-8 byte length (NaN for nulls and non-strings), for max_bytes expectations.
        Encodes each distinct value once: SDTM values repeat a lot."""
        codes, uniques = pd.factorize(self.work[column])      # nulls -> code -1
        nbytes = [len(u.encode("utf-8")) if isinstance(u, str) else np.nan for u in uniques]
        return np.array([*nbytes, np.nan], dtype=float)[codes]

    def batch(self, columns: list[str]) -> pd.DataFrame:
        """The work columns named; a byte-length helper column (_bytes_name) is computed for this
        batch only, so the helpers are never all held at once."""
        parts = {}
        for c in columns:
            if c in self.work.columns:
                parts[c] = self.work[c]
            else:
                parts[c] = pd.Series(self._byte_lengths(c.removeprefix(BYTES_PREFIX)), index=self.work.index)
        return pd.DataFrame(parts, index=self.work.index, copy=False)

    def examples(self, positions: Iterable[int], variables: tuple[str, ...], most: int = MAX_EXAMPLES) -> list[dict]:
        out = []
        for pos in list(positions)[:most]:
            row = self.df.iloc[int(pos)]
            ex: dict[str, Any] = {}
            for key in ("USUBJID", self.seq):
                if key and key in self.df.columns:
                    ex[key] = _py(row[key])
            if len(variables) == 1:
                ex["value"] = _py(row[variables[0]])
            elif variables:
                ex["value"] = ", ".join(f"{v}={_py(row[v])}" for v in variables)
            if "_file" in self.df.columns:
                ex["file"] = _py(row["_file"])
            if "_row" in self.df.columns:
                ex["row"] = _py(row["_row"])
            out.append(ex)
        return out


BYTES_PREFIX = "__bytes__"


def _bytes_name(column: str) -> str:
    """Name of the helper column holding `column`'s UTF-8 byte lengths (see _Frame.batch)."""
    return BYTES_PREFIX + column


def _is_text(s: pd.Series) -> bool:
    return s.dtype == object or pd.api.types.is_string_dtype(s.dtype)


def _py(v: Any) -> Any:
    """JSON-friendly scalar: None for nulls, plain Python types, integral floats as int."""
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float):
        return None if math.isnan(v) else int(v) if v.is_integer() else v
    return v


def _result(e: Expectation, element_count: int, bad: list, examples: list[dict]) -> ExpectationResult:
    return ExpectationResult(e, "failed" if bad else "passed", element_count, len(bad), examples)


def _not_run(e: Expectation, note: str) -> ExpectationResult:
    return ExpectationResult(e, "not run", note=note)


# --------------------------------------------------------------------------- pandas / Python checks

def _meta(e: Expectation, f: _Frame) -> ExpectationResult:
    spec, check = f.spec, e.params["check"]
    if check == "spec":
        return _result(e, 1, [] if spec else [e.dataset], [] if spec else [{"value": e.dataset}])
    if spec is None:
        return _not_run(e, f"no spec for dataset {e.dataset}")
    if check == "name8":
        bad = [] if DATASET_NAME.match(spec.dataset) else [spec.dataset]
        return _result(e, 1, bad, [{"value": n} for n in bad])
    if check == "varname8":
        bad = [n for n in spec.names if not VARIABLE_NAME.match(n)]
        return _result(e, len(spec.names), bad, [{"value": n} for n in bad[:MAX_EXAMPLES]])
    if check == "label40":
        labels = [(spec.dataset, spec.label), *((v.name, v.label) for v in spec.variables)]
        bad = [(n, lab) for n, lab in labels if len(lab.encode("utf-8")) > 40]
        return _result(e, len(labels), bad, [{"name": n, "value": lab} for n, lab in bad[:MAX_EXAMPLES]])
    if check == "columns":
        bad = [n for n in spec.names if n not in f.columns]
        return _result(e, len(spec.names), bad, [{"value": n} for n in bad[:MAX_EXAMPLES]])
    if check == "extra":
        bad = [c for c in f.columns if c not in spec.names]
        return _result(e, len(f.columns), bad, [{"value": c} for c in bad[:MAX_EXAMPLES]])
    raise ValueError(f"{e.id}: unknown metadata check {check!r}")


def _column_exists(e: Expectation, f: _Frame) -> ExpectationResult:
    bad = [v for v in e.variables if v not in f.columns]
    return _result(e, len(e.variables), bad, [{"value": v} for v in bad])


def _in_dm(e: Expectation, f: _Frame, dm: pd.DataFrame | None) -> ExpectationResult:
    if dm is None or "USUBJID" not in dm.columns:
        return _not_run(e, "DM or DM.USUBJID is absent")
    dm_ids = dm["USUBJID"]
    codes, uniques = f.factorized.codes("USUBJID")
    unknown = np.flatnonzero(~pd.Series(uniques, dtype=object).isin(dm_ids[dm_ids.notna() & dm_ids.ne("")]))
    positions = np.flatnonzero(np.isin(codes, unknown))
    r = ExpectationResult(e, "failed" if len(positions) else "passed", len(codes), len(positions))
    r.records = f.examples(positions, e.variables, MAX_RECORDS)
    r.examples = r.records[:MAX_EXAMPLES]
    return r


def _cross(e: Expectation, f: _Frame, datasets: dict[str, pd.DataFrame], memo: dict) -> ExpectationResult:
    outcome = CROSS_CHECKS[e.kind](e, f.df, datasets, factorized=f.factorized, memo=memo)
    if isinstance(outcome, str):
        return _not_run(e, outcome)
    positions = np.flatnonzero(outcome)
    r = ExpectationResult(e, "failed" if len(positions) else "passed", len(f.df), len(positions))
    r.records = f.examples(positions, e.variables[1:] or e.variables, MAX_RECORDS)
    r.examples = r.records[:MAX_EXAMPLES]
    return r


# --------------------------------------------------------------------------- Great Expectations

class _GxSession:
    """One ephemeral GE context for the run; one dataframe asset, batch and suite per dataset."""

    RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": MAX_RECORDS,
                     "return_unexpected_index_query": False}

    def __init__(self) -> None:
        import logging

        os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
        gx_log = logging.getLogger("great_expectations")
        if not any(isinstance(h, logging.NullHandler) for h in gx_log.handlers):
            gx_log.addHandler(logging.NullHandler())   # unconfigured logging: no "lastResort" stderr output
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import great_expectations as gx
            import great_expectations.expectations as gxe
            from great_expectations.data_context.types.base import ProgressBarsConfig
            from great_expectations.execution_engine import pandas_execution_engine

            # GE md5-hashes every batch for an informational fingerprint (~1 s per million rows); skip it.
            pandas_execution_engine.HASH_THRESHOLD = 0

            self.gx, self.gxe = gx, gxe
            self.context = gx.get_context(mode="ephemeral")
            self.context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
            self.source = self.context.data_sources.add_pandas("sdtm")
            # one asset and batch definition for the whole run: each batch passes its own frame
            # (adding and deleting an asset per batch re-serialises the context's configuration)
            self.batches = self.source.add_dataframe_asset("gate").add_batch_definition_whole_dataframe("gate")

    def _expectation(self, e: Expectation, f: _Frame):
        gxe, p, meta = self.gxe, dict(e.params), {"id": e.id, "severity": e.severity}
        col = e.variables[0] if e.variables else None
        if e.kind == "not_null":
            return gxe.ExpectColumnValuesToNotBeNull(column=col, meta=meta)
        if e.kind == "in_set":
            return gxe.ExpectColumnValuesToBeInSet(column=col, value_set=list(p["value_set"]), meta=meta)
        if e.kind == "regex":
            return gxe.ExpectColumnValuesToMatchRegex(column=col, regex=p["regex"], meta=meta)
        if e.kind == "unique" and len(e.variables) == 1:
            return gxe.ExpectColumnValuesToBeUnique(column=col, meta=meta)
        if e.kind == "unique":
            return gxe.ExpectCompoundColumnsToBeUnique(column_list=list(e.variables), meta=meta)
        if e.kind == "max_bytes":
            return gxe.ExpectColumnValuesToBeBetween(column=_bytes_name(col), max_value=p["max"], meta=meta)
        cls = getattr(gxe, p.pop("gx"))
        return cls(**p, meta=meta)

    def validate(self, name: str, f: _Frame, exps: list[Expectation]) -> list[ExpectationResult]:
        """Results in the order of `exps`. A dataset of SPLIT_ROWS rows or more is validated as one
        GE batch (and suite) per group of expectations on the same variables, each batch holding
        only the columns its expectations read: GE copies a batch's whole frame for every
        expectation, so on a wide, long dataset that copying would cost more than the checks."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            configs = {e.id: self._expectation(e, f) for e in exps}
        if len(f.work) < SPLIT_ROWS:
            by_id = self._run(name, f.batch(_all_columns(exps, f)), [configs[e.id] for e in exps])
        else:
            by_id = {}
            for i, (columns, group) in enumerate(_column_groups(exps, f)):
                by_id |= self._run(f"{name}.{i}", f.batch(columns), [configs[e.id] for e in group])
        return [self._result(e, by_id[e.id], f) for e in exps]

    def run_batch(self, name: str, frame: pd.DataFrame, specs: list[tuple[str, str, dict]],
                  result_format: dict) -> dict[str, tuple[bool, dict, str | None]]:
        """GE on one frame: specs are (id, expectation class name, kwargs); per id (success, result, error)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expectations = [getattr(self.gxe, cls)(**kwargs, meta={"id": id_}) for id_, cls, kwargs in specs]
        by_id = self._run(name, frame, expectations, {**self.RESULT_FORMAT, **result_format})
        return {id_: (bool(r.success), r.result or {}, _gx_exception(r.exception_info)) for id_, r in by_id.items()}

    def _run(self, name: str, work: pd.DataFrame, expectations: list, result_format: dict | None = None) -> dict:
        """GE's result of each expectation (by Expectation id) on one batch."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            suite = self.gx.ExpectationSuite(name=name, expectations=expectations)
            batch = self.batches.get_batch(batch_parameters={"dataframe": work})
            try:
                outcome = batch.validate(suite, result_format=result_format or self.RESULT_FORMAT)
            finally:
                self._forget(batch.id)
        return {r.expectation_config.meta["id"]: r for r in outcome.results}

    def _forget(self, batch_id: str) -> None:
        """Drop the batch's frame and computed metrics: GE's context is process-wide and its execution
        engine caches every batch's data and every metric (a boolean Series per expectation), which
        would keep each dataset's working copy alive to the end of the process - and the next batch
        (same asset, same batch id) must never see the previous one's metrics."""
        engine = self.source.get_execution_engine()
        engine.batch_manager.batch_data_cache.pop(batch_id, None)
        engine.batch_manager.batch_cache.pop(batch_id, None)
        engine._metric_cache.clear()

    def _result(self, e: Expectation, r, f: _Frame) -> ExpectationResult:
        if error := _gx_exception(r.exception_info):
            # a check that could not run is a failure: the gate never passes unchecked data
            return ExpectationResult(e, "failed", note=f"GE error: {error}")
        res, status = r.result or {}, "passed" if r.success else "failed"
        if "element_count" in res:      # map expectations: counts and the failing rows (up to MAX_RECORDS)
            records = f.examples(res.get("partial_unexpected_index_list") or [], e.variables, MAX_RECORDS)
            return ExpectationResult(e, status, int(res["element_count"]), int(res.get("unexpected_count") or 0),
                                     records[:MAX_EXAMPLES], records=records)
        # aggregate expectations (extras): one observed value
        examples = [{"value": _py(res["observed_value"])}] if "observed_value" in res and not r.success else []
        return ExpectationResult(e, status, 1, int(not r.success), examples)


def _column_groups(exps: list[Expectation], f: _Frame) -> list[tuple[list[str], list[Expectation]]]:
    """Expectations grouped by the variables they check (first-appearance order), with the columns
    each group reads: its variables, or for max_bytes the helper column. An extra ("gx")
    expectation may read any column: it gets the whole frame as one batch would show it (the work
    columns, then every byte-length helper)."""
    whole = _all_columns(exps, f)
    groups: dict[tuple[str, ...], list[Expectation]] = {}
    for e in exps:
        groups.setdefault(e.variables if e.kind != "gx" else ("*gx*", e.id), []).append(e)
    out = []
    for group in groups.values():
        columns = [c for e in group for c in _columns_read(e, whole)]
        out.append((list(dict.fromkeys(columns)), group))
    return out


def _all_columns(exps: list[Expectation], f: _Frame) -> list[str]:
    """The work columns, then the byte-length helper of every max_bytes expectation."""
    helpers = [_bytes_name(e.variables[0]) for e in exps if e.kind == "max_bytes"]
    return list(dict.fromkeys([*f.work.columns, *helpers]))


def _columns_read(e: Expectation, whole: list[str]) -> list[str]:
    if e.kind == "gx":
        return whole
    if e.kind == "max_bytes":
        return [_bytes_name(e.variables[0])]
    return list(e.variables)


def _gx_exception(info: dict | None) -> str | None:
    """GE's exception message for a result: exception_info is flat, or keyed by metric id."""
    if not isinstance(info, dict) or not info:
        return None
    if "raised_exception" in info:
        return (info.get("exception_message") or "error") if info["raised_exception"] else None
    return next((m for m in map(_gx_exception, info.values()) if m), None)

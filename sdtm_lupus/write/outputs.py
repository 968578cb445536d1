"""Datasets + specs -> XPT files in a folder, as xportr's chain of small metadata steps:

    xpt_type -> xpt_length -> xpt_label -> xpt_order -> xpt_format -> xpt_write

Each step takes the plan so far (the frame and the XPT metadata being built) and returns a new plan
with one kind of metadata set from the spec or the data; xpt_write is strict: write/xpt.py checks every
XPT v5 limit and refuses to write anything that breaks one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from sdtm_lupus.specs import PROVENANCE, DatasetSpec
from sdtm_lupus.write.xpt import XptDataset, XptVariable, char_texts, text_bytes, text_factorisations, write_xpt


@dataclass(frozen=True)
class XptPlan:
    frame: pd.DataFrame
    dataset: XptDataset
    distinct: dict[str, tuple]        # pd.factorize of the text Char columns (shared with the writer)
    source: pd.DataFrame | None = None  # the frame as given (its column facts are shared with define.xml)


def xpt_type(df: pd.DataFrame, spec: DatasetSpec) -> XptPlan:
    """The spec's variables with their XPT type (Char/Num); provenance columns dropped."""
    frame = df.drop(columns=[c for c in PROVENANCE if c in df])
    variables = tuple(XptVariable(v.name, "", v.type) for v in spec.variables)
    return XptPlan(frame, XptDataset(spec.dataset, "", variables), {}, df)


def xpt_length(plan: XptPlan) -> XptPlan:
    """Char: the longest value in bytes (at least 1); Num: 8."""
    distinct = text_factorisations(plan.frame if plan.source is None else plan.source, plan.dataset)
    variables = []
    for var in plan.dataset.variables:
        if var.type == "Num":
            length = 8
        elif var.name in distinct:
            length = text_bytes(char_texts(distinct[var.name][1]))
        else:
            length = None       # not text (e.g. numbers in a Char column): the writer's checks say why
        variables.append(replace(var, length=length))
    return replace(plan, dataset=replace(plan.dataset, variables=tuple(variables)), distinct=distinct)


def xpt_label(plan: XptPlan, spec: DatasetSpec) -> XptPlan:
    labels = {v.name: v.label for v in spec.variables}
    variables = tuple(replace(v, label=labels[v.name]) for v in plan.dataset.variables)
    return replace(plan, dataset=replace(plan.dataset, label=spec.label, variables=variables))


def xpt_order(plan: XptPlan, spec: DatasetSpec) -> XptPlan:
    """Variables in the spec's order (the frame's column order does not matter to the writer)."""
    by_name = {v.name: v for v in plan.dataset.variables}
    return replace(plan, dataset=replace(plan.dataset, variables=tuple(by_name[v.name] for v in spec.variables)))


def xpt_format(plan: XptPlan, spec: DatasetSpec) -> XptPlan:
    """SAS display formats of Num variables (DATE9. for dates); Char variables carry none."""
    formats = {v.name: v.format for v in spec.variables if v.type == "Num"}
    variables = tuple(replace(v, format=formats.get(v.name)) for v in plan.dataset.variables)
    return replace(plan, dataset=replace(plan.dataset, variables=variables))


def xpt_write(plan: XptPlan, path: Path) -> None:
    write_xpt(plan.frame, path, plan.dataset, distinct=plan.distinct)


def xpt_plan(df: pd.DataFrame, spec: DatasetSpec) -> XptPlan:
    """The whole chain but the write."""
    plan = xpt_length(xpt_type(df, spec))
    return xpt_format(xpt_order(xpt_label(plan, spec), spec), spec)


def write_datasets(folder: Path, datasets: dict[str, pd.DataFrame], specs: dict[str, DatasetSpec],
                   progress=lambda _: None) -> dict[str, str]:
    """Write each dataset as <folder>/<name lower case>.xpt; returns name -> relative file path."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, df in sorted(datasets.items()):
        path = folder / f"{name.lower()}.xpt"
        progress(f"writing {folder.name}/{path.name} ({len(df)} records)")
        xpt_write(xpt_plan(df, specs[name]), path)
        written[name] = path.name
    return written

"""Expectations generated from the dataset specs (no study or lupus knowledge here).

Each Expectation says what to check; gate.py decides how (GE, or pandas for metadata and cross-dataset checks).
"""

from __future__ import annotations

from typing import Iterable

from sdtm_lupus.specs import DatasetSpec, Specs
from sdtm_lupus.validate.results import Expectation

# SDTM partial dates by truncation. [0-9], not \d (which matches any Unicode digit); \Z, not $
# (which also matches before a trailing newline); non-capturing groups keep pandas from warning.
ISO8601_REGEX = r"^[0-9]{4}(?:-[0-9]{2}(?:-[0-9]{2}(?:T[0-9]{2}(?::[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)?)?)?)?\Z"
XPT_MAX_BYTES = 200      # XPT v5 character variable limit
PROVENANCE = ("_file", "_row")


def seq_variable(spec: DatasetSpec) -> str | None:
    """The dataset's --SEQ variable (e.g. EXSEQ), when it has one and USUBJID."""
    if "USUBJID" not in spec.names:
        return None
    candidates = {spec.dataset + "SEQ", spec.dataset[:2] + "SEQ"}
    return next((n for n in spec.names if n in candidates), None)


def build_expectations(specs: Specs, datasets: Iterable[str]) -> list[Expectation]:
    out: list[Expectation] = []
    for name in sorted(set(datasets)):
        if name in specs.datasets:
            out.extend(_dataset_expectations(specs, specs.datasets[name]))
        else:   # e.g. a stray XPT in a folder being re-validated
            out.append(Expectation(id=f"{name}.META.SPEC", severity="error", dataset=name, variables=(),
                                   rule="the dataset has a spec", message=f"no spec for dataset {name}",
                                   kind="meta", params={"check": "spec"}))
    return out


def _dataset_expectations(specs: Specs, spec: DatasetSpec) -> list[Expectation]:
    ds = spec.dataset
    out: list[Expectation] = []

    def add(suffix: str, variables: tuple[str, ...], rule: str, message: str, kind: str,
            severity: str = "error", **params) -> None:
        out.append(Expectation(id=f"{ds}.{suffix}", severity=severity, dataset=ds, variables=variables,
                               rule=rule, message=message, kind=kind, params=params))

    # Metadata (checked in Python by the gate).
    add("META.NAME8", (), "dataset name is 1-8 characters A-Z/0-9 starting with a letter",
        f"dataset name {ds!r} is not a valid XPT v5 name", "meta", check="name8")
    add("META.VARNAME8", (), "variable names are 1-8 characters A-Z/0-9/_ starting with a letter",
        "variable names are not valid XPT v5 names", "meta", check="varname8")
    add("META.LABEL40", (), "dataset and variable labels are at most 40 bytes",
        "labels are longer than 40 bytes", "meta", check="label40")
    add("META.COLUMNS", (), "every spec variable is a column",
        f"spec variables are missing from {ds}", "meta", check="columns")
    add("META.EXTRA", (), "no columns beyond the spec (provenance _file/_row excepted)",
        f"{ds} has columns that are not in its spec", "meta", check="extra")

    for v in spec.variables:
        var = (v.name,)
        if v.core == "Req":
            add(f"{v.name}.REQ", var, f"{v.name} (Req) is never null",
                f"required variable {v.name} is null or empty", "not_null")
        elif v.core == "Exp":
            add(f"{v.name}.EXP", var, f"{v.name} (Exp) is present as a column",
                f"expected variable {v.name} is missing from {ds}", "column_exists")
        if v.codelist:
            cl = specs.terminology.codelists.get(v.codelist)
            code = f" ({cl.code})" if cl and cl.code else ""
            extensible = bool(cl and cl.extensible)
            add(f"{v.name}.CT", var,
                f"{v.name} is in codelist {v.codelist}{code}" + (" (extensible)" if extensible else ""),
                f"{v.name} has values not in codelist {v.codelist}{code}", "in_set",
                severity="warning" if extensible else "error",
                value_set=sorted(cl.terms) if cl else None)   # None: study codelist not supplied
        if v.format == "ISO8601":
            add(f"{v.name}.ISO8601", var, f"{v.name} is ISO 8601 (YYYY[-MM[-DD[Thh[:mm[:ss[.f]]]]]])",
                f"{v.name} has values that are not ISO 8601 dates", "regex", regex=ISO8601_REGEX)
        if v.type == "Char":
            add(f"{v.name}.LEN{XPT_MAX_BYTES}", var, f"{v.name} values are at most {XPT_MAX_BYTES} bytes (UTF-8)",
                f"{v.name} has values longer than {XPT_MAX_BYTES} bytes", "max_bytes", max=XPT_MAX_BYTES)
            if v.max_length is not None and v.max_length < XPT_MAX_BYTES:
                add(f"{v.name}.LEN{v.max_length}", var, f"{v.name} values are at most {v.max_length} bytes (UTF-8)",
                    f"{v.name} has values longer than {v.max_length} bytes", "max_bytes", max=v.max_length)

    if "DOMAIN" in spec.names:
        add("DOMAIN.VALUE", ("DOMAIN",), f'DOMAIN equals "{ds}"', f'DOMAIN is not "{ds}"',
            "in_set", value_set=[ds])
    if spec.keys:
        keys = tuple(spec.keys)
        add("KEYS.UNIQUE", keys, f"{', '.join(keys)} are unique together",
            f"records share the same keys {', '.join(keys)}", "unique")
    seq = seq_variable(spec)
    if seq:
        add(f"{seq}.UNIQUE", ("USUBJID", seq), f"{seq} is unique within USUBJID",
            f"{seq} is repeated within a subject", "unique")
    return out


def build_cross_expectations(specs: Specs, datasets: Iterable[str]) -> list[Expectation]:
    """Every USUBJID of every other SDTM dataset (spec has DOMAIN and USUBJID) is in DM."""
    out = []
    for name in sorted(set(datasets)):
        spec = specs.datasets.get(name)
        if name == "DM" or spec is None or not {"DOMAIN", "USUBJID"} <= set(spec.names):
            continue
        out.append(Expectation(
            id=f"X.{name}.USUBJID.IN_DM", severity="error", dataset=name, variables=("USUBJID",),
            rule=f"every {name}.USUBJID is a DM.USUBJID", message=f"{name} has subjects that are not in DM",
            kind="in_dm"))
    return out

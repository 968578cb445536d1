"""What every SDTM mapping step shares: configuration, specs and the findings it reports."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from sdtm_lupus.config.mapping import Mapping
from sdtm_lupus.config.study import Study
from sdtm_lupus.findings import Finding, Severity
from sdtm_lupus.readers.forms import ROW, Form
from sdtm_lupus.specs import Specs

# Provenance columns carried on SDTM frames until they are written.
FILE, SRCROW = "_file", "_row"


@dataclass
class MapContext:
    study: Study
    mapping: Mapping
    specs: Specs
    findings: list[Finding] = field(default_factory=list)
    deferred: set[str] = field(default_factory=set)     # forms this version does not map yet
    reconciliation: dict[str, dict[str, int]] = field(default_factory=dict)

    def defer(self, form: Form) -> None:
        """Mark a form as read and checked but not mapped to SDTM (a notice, not a loss)."""
        self.deferred.add(form.name)
        if len(form):
            self.findings.append(Finding(
                rule="MAP-FORM-NOT-MAPPED", severity="notice", dataset=form.name, file=form.file,
                message=f"{len(form)} rows of form {form.name} are read and checked but not yet mapped to SDTM"))

    def report(
        self,
        rule: str,
        severity: Severity,
        message: str,
        form: Form,
        column: str | None,
        rows: pd.DataFrame,
        *,
        value_column: str | None = None,
    ) -> None:
        """One finding per offending raw row of `form` (rows: a subset of form.data)."""
        value_column = value_column or column
        for rec in rows.to_dict("records"):
            value = rec.get(value_column) if value_column else None
            self.findings.append(
                Finding(
                    rule=rule,
                    severity=severity,
                    message=message.format(value=value, **{k: v for k, v in rec.items() if not k.startswith("_")}),
                    dataset=form.name,
                    variable=column,
                    file=form.file,
                    row=int(rec[ROW]),
                    usubjid=usubjid(self.study.studyid, rec["SUBJID"]) if rec.get("SUBJID") else None,
                    value=None if value is None else str(value),
                )
            )


def usubjid(studyid: str, subjid: str) -> str:
    return f"{studyid}-{subjid}"


def provenance(form: Form) -> pd.DataFrame:
    return pd.DataFrame({FILE: form.file, SRCROW: form.data[ROW].to_numpy()}, index=form.data.index)

"""Gate result types: expectations before running, their results, and the whole gate's outcome.

No great_expectations import here: these types are shared with the CLI and reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from sdtm_lupus.findings import SEVERITIES, Finding

STATUSES = ("passed", "failed", "not run")
MAX_EXAMPLES = 5
MAX_RECORDS = 1000      # failing records kept per expectation (the count is always exact)


@dataclass(frozen=True)
class Expectation:
    """One generated check, before running."""

    id: str                          # stable, e.g. "DM.SEX.CT", "EX.KEYS.UNIQUE", "X.EX.USUBJID.IN_DM"
    severity: str                    # error | warning | notice
    dataset: str
    variables: tuple[str, ...]
    rule: str                        # short rule text shown to QA
    message: str                     # plain-language message for a failure
    # How the gate runs it (see gate.py): "not_null", "column_exists", "in_set", "regex", "unique",
    # "max_bytes", "meta", "in_dm", or "gx" (any GE expectation: params = {"gx": class name, **kwargs}).
    kind: str = "gx"
    params: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"{self.id}: severity {self.severity!r} not in {SEVERITIES}")

    def to_dict(self) -> dict:
        return {"id": self.id, "severity": self.severity, "dataset": self.dataset,
                "variables": list(self.variables), "rule": self.rule, "message": self.message}


@dataclass
class ExpectationResult:
    expectation: Expectation
    status: str                      # "passed" | "failed" | "not run"
    element_count: int = 0
    unexpected_count: int = 0
    examples: list[dict] = field(default_factory=list)   # {"USUBJID", "<xx>SEQ", "value", "file", "row"}
    note: str | None = None          # why "not run", or GE's exception message
    records: list[dict] = field(default_factory=list)    # every failing record, up to MAX_RECORDS

    def to_dict(self) -> dict:
        d = {**self.expectation.to_dict(), "status": self.status, "element_count": self.element_count,
             "unexpected_count": self.unexpected_count, "examples": self.examples[:MAX_EXAMPLES]}
        if len(self.records) > len(d["examples"]):
            d["records"] = self.records
        allowed = self.expectation.params.get("value_set") if self.expectation.kind == "in_set" else None
        if self.status == "failed" and allowed:
            d["allowed"] = sorted(map(str, allowed))[:50]      # the terms a CT check accepts
        if self.note:
            d["note"] = self.note
        return d


def _sort_key(r: ExpectationResult) -> tuple[str, str]:
    return (r.expectation.dataset, r.expectation.id)


def _rank(severity: str) -> int:
    """error = 0 (most severe), warning = 1, notice = 2."""
    if severity not in SEVERITIES:
        raise ValueError(f"severity {severity!r} not in {SEVERITIES}")
    return SEVERITIES.index(severity)


@dataclass
class GateResult:
    results: list[ExpectationResult]

    @property
    def failed(self) -> list[ExpectationResult]:
        return [r for r in self.results if r.status == "failed"]

    def blocking(self, fail_on: str = "error") -> list[ExpectationResult]:
        """Failed expectations with severity at or above fail_on ("error" or "warning")."""
        limit = _rank(fail_on)
        return [r for r in self.failed if _rank(r.expectation.severity) <= limit]

    def to_findings(self) -> list[Finding]:
        findings = []
        for r in sorted(self.failed, key=_sort_key):
            e = r.expectation
            ex = r.examples[0] if r.examples else {}
            value = ex.get("value")
            findings.append(Finding(
                rule=e.id, severity=e.severity,  # type: ignore[arg-type]
                message=f"{e.message} ({r.unexpected_count} of {r.element_count})",
                dataset=e.dataset, variable=e.variables[0] if e.variables else None,
                file=ex.get("file"), row=ex.get("row"), usubjid=ex.get("USUBJID"),
                value=None if value is None else str(value),
            ))
        return findings

    def to_dict(self) -> dict:
        results = sorted(self.results, key=_sort_key)
        summary: dict[str, Any] = {"expectations": len(results)}
        summary.update({s: sum(r.status == s for r in results) for s in STATUSES})
        summary["failed_by_severity"] = {
            sev: sum(r.status == "failed" and r.expectation.severity == sev for r in results)
            for sev in SEVERITIES}
        return {"summary": summary, "expectations": [r.to_dict() for r in results]}

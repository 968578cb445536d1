"""The one Finding type every stage reports with (reader, mapper, QC checks, gate)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

Severity = Literal["error", "warning", "notice"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "notice")


@dataclass(frozen=True)
class Finding:
    rule: str                      # stable id, e.g. "READ-ENCODING", "DM-AGE-BRTHDTC"
    severity: Severity
    message: str                   # plain language, names the offending value
    dataset: str | None = None     # form name (raw) or dataset name (SDTM/ADaM)
    variable: str | None = None    # column or variable
    file: str | None = None        # raw file name, relative to the export folder
    row: int | None = None         # raw row: CSV line number (header = 1) or ODM source line
    usubjid: str | None = None
    value: str | None = None

    def where(self) -> str:
        parts = []
        if self.file:
            parts.append(self.file + (f" row {self.row}" if self.row is not None else ""))
        if self.variable:
            parts.append(f"column {self.variable}" if self.file else f"{self.dataset}.{self.variable}")
        elif self.dataset and not self.file:
            parts.append(self.dataset)
        return ", ".join(parts)

    def text(self) -> str:
        where = self.where()
        return f"{self.severity.upper()} [{self.rule}] {where + ': ' if where else ''}{self.message}"

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}


class InputError(Exception):
    """The raw export (or a file the run needs) cannot be used: exit code 2."""

    def __init__(self, findings: list[Finding] | Finding | str):
        if isinstance(findings, str):
            findings = Finding(rule="INPUT", severity="error", message=findings)
        self.findings = [findings] if isinstance(findings, Finding) else list(findings)
        self.problems_file = None      # where convert wrote every finding (OUT.rejected/input-problems.json)
        self.problems_file_error: str | None = None
        super().__init__("\n".join(f.text() for f in self.findings))


def errors(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == "error"]


def errors_first(findings: list[Finding]) -> list[Finding]:
    """Every finding, errors first: a refused run still reports its warnings (e.g. in --log-json)."""
    return errors(findings) + [f for f in findings if f.severity != "error"]

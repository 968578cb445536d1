"""Repeated findings grouped: one line per (rule, file, column, distinct value), with the count and first rows.

A code the mapping lacks is one problem with many rows, not one problem per row.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

from sdtm_lupus.findings import Finding

FIRST_ROWS = 3          # rows shown per group
WIDTH = 100             # terminal lines are wrapped to this width


@dataclass
class Group:
    first: Finding                                  # the first finding of the group (its message is shown)
    count: int = 0
    rows: list[int] = field(default_factory=list)   # every row, in report order

    @property
    def key(self) -> tuple:
        return group_key(self.first)

    def where(self) -> str:
        """As Finding.where(), with the group's rows: `cm.csv rows 2, 3, 4, ... (35 rows), column CMDOSU`."""
        f = self.first
        if len(self.rows) <= 1 or not f.file:
            return f.where()
        parts = [f.file + rows_text(self.rows)]
        if f.variable:
            parts.append(f"column {f.variable}")
        return ", ".join(parts)

    def text(self) -> str:
        f = self.first
        where = self.where()
        times = f" ({self.count} times)" if self.count > 1 and len(self.rows) < self.count else ""
        return f"{f.severity.upper()} [{f.rule}] {where + ': ' if where else ''}{f.message}{times}"

    def to_dict(self) -> dict:
        f = self.first
        out = {"rule": f.rule, "severity": f.severity, "file": f.file, "dataset": f.dataset, "column": f.variable,
               "value": f.value, "count": self.count, "first_rows": self.rows[:FIRST_ROWS], "message": f.message}
        return {k: v for k, v in out.items() if v is not None}


def rows_text(rows: list[int]) -> str:
    """` row 7`, or ` rows 2, 3, 4, ... (35 rows)`."""
    if not rows:
        return ""
    if len(rows) == 1:
        return f" row {rows[0]}"
    shown = ", ".join(str(r) for r in rows[:FIRST_ROWS])
    return f" rows {shown}" + (f", ... ({len(rows)} rows)" if len(rows) > FIRST_ROWS else "")


def group_key(f: Finding) -> tuple:
    return (f.rule, f.severity, f.file or f.dataset, f.variable, f.value if f.value is not None else
            (f.message if f.row is None else None))


def group_findings(findings: list[Finding]) -> list[Group]:
    """Groups in the order of their first finding (errors first when the findings are)."""
    groups: dict[tuple, Group] = {}
    for f in findings:
        g = groups.setdefault(group_key(f), Group(first=f))
        g.count += 1
        if f.row is not None:
            g.rows.append(f.row)
    for g in groups.values():
        g.rows = sorted(set(g.rows))
    return list(groups.values())


def wrap(line: str, width: int = WIDTH, indent: str = "    ") -> list[str]:
    """A long line cut at spaces into lines of at most `width` columns (continuations indented)."""
    return textwrap.wrap(line, width=width, subsequent_indent=indent, break_long_words=True,
                         break_on_hyphens=False) or [""]


def group_lines(findings: list[Finding], limit: int | None = None, width: int | None = None) -> list[str]:
    """One line per group (wrapped to `width` columns when given)."""
    groups = group_findings(findings)
    lines = [part for g in groups[:limit] for part in (wrap(g.text(), width) if width else [g.text()])]
    if limit is not None and len(groups) > limit:
        lines.append(f"... and {len(groups) - limit} more group(s)")
    return lines

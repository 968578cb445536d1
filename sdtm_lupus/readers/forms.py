"""Forms: the in-memory result of reading an export, whatever its transport."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

ROW = "_row"  # provenance column: CSV line number (header = 1) or ODM source line


@dataclass
class Form:
    """One raw form: string cells ("" = missing), reference column names, provenance."""

    name: str              # reference form name, e.g. "enrol"
    file: str              # file it came from, relative to the export folder
    data: pd.DataFrame     # columns: common + reference columns + ROW

    def __len__(self) -> int:
        return len(self.data)


Forms = dict[str, Form]

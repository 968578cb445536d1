"""What a run refused for bad input (exit 2) leaves: OUT untouched, the list of problems in OUT.rejected."""

from __future__ import annotations

import json
from pathlib import Path

from sdtm_lupus.output_marker import OUTPUT_MARKER


def assert_only_input_problems(out: Path) -> dict:
    """OUT was not created; OUT.rejected holds only input-problems.json (and the tool's marker).
    Returns the parsed input-problems.json."""
    rejected = out.with_name(out.name + ".rejected")
    assert not out.exists()
    assert sorted(p.name for p in out.parent.glob(out.name + "*")) == [rejected.name]
    assert sorted(p.name for p in rejected.iterdir()) == sorted([OUTPUT_MARKER, "input-problems.json"])
    problems = json.loads((rejected / "input-problems.json").read_text(encoding="utf-8"))
    assert problems["exit_code"] == 2 and problems["counts"]["error"] >= 1
    assert problems["findings"][0]["severity"] == "error"
    return problems

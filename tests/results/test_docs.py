"""The CRITFL decode is documented for every criterion code the flare rules can write."""

from __future__ import annotations

from pathlib import Path

from sdtm_lupus.adam.rules.flares import MILD_CRITERIA, SEVERE_CRITERIA

ROOT = Path(__file__).resolve().parents[2]


def test_readme_decodes_every_critfl_code_and_define_cites_it():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for code in MILD_CRITERIA + SEVERE_CRITERIA:
        assert f"| {code} |" in readme, code
    define = (ROOT / "specs" / "define" / "adam.yaml").read_text(encoding="utf-8")
    assert "M1a-M1e are R5.1a-e" in define and "S2a-S2e are R5.2a-e" in define


def test_project_ships_the_rules_the_define_cites():
    rules = (ROOT / "docs" / "derivations.md").read_text(encoding="utf-8")
    for n in range(1, 13):
        assert f"## R{n} " in rules
    assert "never a zero-dose day" in rules and "*first* start after day 1" in rules

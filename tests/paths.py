from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STUDIES = ROOT / "studies"
MAPPINGS = ROOT / "mappings"
FIXTURES = ROOT / "fixtures"

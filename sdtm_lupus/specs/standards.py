"""Where the specs live and the standards they follow."""

from pathlib import Path

SPECS_DIR = Path(__file__).resolve().parent.parent.parent / "specs"
# The implementation guides the specs/sdtm and specs/adam metadata follow.
SDTM_STANDARD = "SDTMIG 3.4"
ADAM_STANDARD = "ADaMIG 1.3"

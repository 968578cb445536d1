"""The one specs registry: every file of specs/ is loaded and validated here and handed to the stages
as plain models (no stage reads a spec file itself). Nothing is read at import time; each loader reads
its file once (cached).

- standards.py      where the specs live, the implementation guides they follow
- datasets.py       dataset/variable metadata (specs/sdtm, specs/adam), controlled terminology (specs/ct)
- raw_layout.py     the reference layout of the site export (specs/raw-forms.yaml)
- instruments.py    questionnaires (specs/instruments.yaml)
- lab_tests.py      lab tests, units, conversion factors (specs/lab-tests.yaml)
- constants.py      clinical constants (specs/clinical-constants.yaml; SLEDAI weights; unit factors)
- cross_checks.py   cross-dataset checks of the gate (specs/cross-checks.yaml)
- define_texts.py   origins, methods, comments of define.xml (specs/define/*.yaml)
"""

from sdtm_lupus.specs.constants import ClinicalConstants, lab_unit_factors, load_clinical_constants, prednisone_equivalents, sledai_weights
from sdtm_lupus.specs.cross_checks import CrossChecks, load_cross_checks
from sdtm_lupus.specs.datasets import (
                                        DATE_FORMATS,
                                        PROVENANCE,
                                        STUDY_CODELISTS,
                                        Codelist,
                                        DatasetSpec,
                                        Specs,
                                        Terminology,
                                        VariableSpec,
                                        conform_to_spec,
                                        load_specs,
)
from sdtm_lupus.specs.define_texts import (
                                        DEFINE_SPECS,
                                        DatasetMetaSpec,
                                        DefineCodelistSpec,
                                        DefineSpec,
                                        OriginSource,
                                        OriginType,
                                        TextSpec,
                                        ValueLevelSpec,
                                        VarMeta,
                                        load_define_spec,
)
from sdtm_lupus.specs.instruments import QSALL, Instrument, Instruments, Item, load_instruments
from sdtm_lupus.specs.lab_tests import LabTest, LabTests, load_lab_tests
from sdtm_lupus.specs.raw_layout import ColumnKind, RawFormSpec, RawLayout, load_raw_layout
from sdtm_lupus.specs.standards import ADAM_STANDARD, SDTM_STANDARD, SPECS_DIR

__all__ = [
    "ADAM_STANDARD", "DATE_FORMATS", "DEFINE_SPECS", "PROVENANCE", "QSALL", "SDTM_STANDARD", "SPECS_DIR", "STUDY_CODELISTS",
    "ClinicalConstants", "Codelist", "ColumnKind", "CrossChecks", "DatasetMetaSpec", "DatasetSpec", "DefineCodelistSpec", "DefineSpec",
    "Instrument", "Instruments", "Item", "LabTest", "LabTests", "OriginSource", "OriginType", "RawFormSpec", "RawLayout",
    "Specs", "Terminology", "TextSpec", "ValueLevelSpec", "VarMeta", "VariableSpec", "conform_to_spec",
    "lab_unit_factors", "load_clinical_constants", "load_cross_checks", "load_define_spec", "load_instruments",
    "load_lab_tests", "load_raw_layout", "load_specs", "prednisone_equivalents", "sledai_weights",
]

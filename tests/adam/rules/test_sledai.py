"""R3.1 SELENA-SLEDAI total."""

import re
from pathlib import Path

import pandas as pd
import pytest

from sdtm_lupus.adam.rules.sledai import (
    SLEDAI_DESCRIPTORS,
    compute_sledai_total,
    descriptor_weights,
)
from sdtm_lupus.config.loading import ConfigError
from sdtm_lupus.specs import sledai_weights

DERIVATIONS = Path("/work/shared/docs/derivations.md")

# derivations.md R3.1, copied literally.
R31_TEXT = ("Weights: 8 for SEIZURE, PSYCHOSIS, ORGBRAIN, VISUAL, CRANIAL, LUPUSHA, CVA, VASCULIT; 4 for ARTHRIT, "
            "MYOSITIS, UCASTS, HEMATUR, PROTEIN, PYURIA; 2 for RASH, ALOPECIA, MUCOSAL, PLEURISY, PERICARD, LOWCOMP, "
            "DNABIND; 1 for FEVER, THROMBO, LEUKOPEN (range 0-105).")

# The same table, pinned literally (R3.1): the weights of specs/instruments.yaml must be these.
R31_WEIGHTS = {
    **dict.fromkeys(("SEIZURE", "PSYCHOSIS", "ORGBRAIN", "VISUAL", "CRANIAL", "LUPUSHA", "CVA", "VASCULIT"), 8),
    **dict.fromkeys(("ARTHRIT", "MYOSITIS", "UCASTS", "HEMATUR", "PROTEIN", "PYURIA"), 4),
    **dict.fromkeys(("RASH", "ALOPECIA", "MUCOSAL", "PLEURISY", "PERICARD", "LOWCOMP", "DNABIND"), 2),
    **dict.fromkeys(("FEVER", "THROMBO", "LEUKOPEN"), 1),
}


def _weights_from_text(text: str) -> dict[str, int]:
    text = " ".join(text.split())
    section = text[text.index("Weights:"):text.index("(range")]
    out = {}
    for weight, names in re.findall(r"(\d+) for ([A-Z, ]+?)(?:;|$)", section.strip()):
        for name in names.split(","):
            out[name.strip()] = int(weight)
    return out


def test_table_agrees_with_r31_text():
    assert _weights_from_text(R31_TEXT) == dict(R31_WEIGHTS)
    assert list(R31_WEIGHTS) == list(SLEDAI_DESCRIPTORS) and sum(R31_WEIGHTS.values()) == 105


@pytest.mark.skipif(not DERIVATIONS.exists(), reason="shared docs not mounted")
def test_table_agrees_with_derivations_md():
    doc = DERIVATIONS.read_text(encoding="utf-8")
    r31 = doc[doc.index("## R3 "):doc.index("## R4 ")]
    assert _weights_from_text(r31) == dict(R31_WEIGHTS)


def test_weights_in_use_are_the_spec_and_r31():
    assert dict(sledai_weights()) == R31_WEIGHTS
    assert list(sledai_weights()) == list(SLEDAI_DESCRIPTORS)        # export order (the simulator writes it)
    assert dict(descriptor_weights()) == R31_WEIGHTS


def _spec(tmp_path, weights):
    # a valid instruments file (the registry checks it whole): the weights under test, nothing else
    items = "\n".join(f"      - {{column: {c}, testcd: SSLD01{k:02d}, test: SSLD01-{c}, kind: checkbox, weight: {w}}}"
                      for k, (c, w) in enumerate(weights.items(), start=1))
    path = tmp_path / "instruments.yaml"
    path.write_text(f"instruments:\n  - name: SELENA-SLEDAI\n    form: sledai\n    qscat: SELENA-SLEDAI\n    items:\n{items}\n"
                    "      - {column: SITETOT, testcd: SSLD0199, test: SSLD01-Total, kind: number, site_total: true}\n",
                    encoding="utf-8")
    return path


def test_spec_file_read_through_specs(tmp_path):
    _spec(tmp_path, R31_WEIGHTS)
    assert dict(sledai_weights(tmp_path)) == R31_WEIGHTS
    other = tmp_path / "other"
    other.mkdir()
    (other / "instruments.yaml").write_text(
        "instruments:\n  - {name: PGA, form: pga, qscat: PGA, items: [{column: PGA, testcd: PGA01, test: PGA-Global, "
        "kind: number}]}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="no instrument of form sledai"):
        sledai_weights(other)


@pytest.mark.parametrize("change", [{"NEWITEM": 1}, {"FEVER": None}])
def test_weights_not_naming_the_24_descriptors_are_an_error(change):
    weights = {k: v for k, v in {**R31_WEIGHTS, **change}.items() if v is not None}
    with pytest.raises(ConfigError, match="R3.1"):
        descriptor_weights(weights)


def test_total_with_given_weights():
    frame = _items([("FEVER", "SEIZURE")])
    assert compute_sledai_total(frame, {**R31_WEIGHTS, "FEVER": 3}).tolist() == [11]


def _items(rows, index=None):
    frame = pd.DataFrame([{c: c in marked for c in SLEDAI_DESCRIPTORS} for marked in rows], index=index)
    return frame


@pytest.mark.parametrize("marked, total", [
    ((), 0),
    (SLEDAI_DESCRIPTORS, 105),
    (("SEIZURE",), 8),
    (("ARTHRIT", "PROTEIN"), 8),
    (("RASH", "LOWCOMP", "DNABIND"), 6),
    (("FEVER", "THROMBO", "LEUKOPEN"), 3),
    (("VASCULIT", "PYURIA", "PERICARD", "LEUKOPEN"), 15),
])
def test_total_is_sum_of_weights(marked, total):
    assert compute_sledai_total(_items([marked])).tolist() == [total]


def test_total_aligns_to_input_index_and_ignores_sitetot():
    items = _items([("SEIZURE",), (), ("RASH",)], index=[30, 10, 20])
    items["SITETOT"] = [0, 99, 2]
    total = compute_sledai_total(items)
    assert total.index.tolist() == [30, 10, 20]
    assert total.tolist() == [8, 0, 2]
    assert total.dtype == "int64"


def test_empty_box_is_not_marked():
    items = _items([("RASH",)]).astype(object)
    items.loc[0, "SEIZURE"] = None
    items["ALOPECIA"] = pd.array([pd.NA], dtype="boolean")
    assert compute_sledai_total(items).tolist() == [2]


def test_missing_descriptor_column_is_refused():
    with pytest.raises(ValueError, match="LEUKOPEN"):
        compute_sledai_total(_items([()]).drop(columns="LEUKOPEN"))


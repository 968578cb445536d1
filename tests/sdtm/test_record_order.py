"""Record order and --SEQ come from the dataset keys and a transport-independent tie-break (form order,
then row within the form): the same data in another row order, or as ODM instead of CSV, gives the
same datasets byte for byte (issue 13)."""

import csv
import random
import shutil

import pytest

from sdtm_lupus import api
from tests.paths import FIXTURES, STUDIES

STUDY = "NCT04515719"


def reorder_forms(src, dst, seed=3):
    """Each form CSV with its (subject, folder) blocks shuffled; rows inside a block keep their order
    (a re-assessment is the later row of its block), rows without a folder are shuffled one by one."""
    rng = random.Random(seed)
    dst.mkdir()
    for path in sorted(src.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as fh:
            header, *body = list(csv.reader(fh))
        subj, folder = header.index("SUBJID"), header.index("FOLDER")
        blocks: dict[tuple, list] = {}
        for k, row in enumerate(body):
            blocks.setdefault((row[subj], row[folder] or k), []).append(row)
        keys = list(blocks)
        rng.shuffle(keys)
        with (dst / path.name).open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(row for key in keys for row in blocks[key])


def xpt_bytes(out):
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.glob("*/*.xpt"))}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("order") / "reference"
    assert api.convert(FIXTURES / STUDY / "csv", STUDIES / f"{STUDY}.yaml", out).exit_code == 0
    return xpt_bytes(out)


def test_rows_of_a_form_in_another_order_give_the_same_datasets(reference, tmp_path):
    reorder_forms(FIXTURES / STUDY / "csv", tmp_path / "raw")
    assert (tmp_path / "raw" / "pga.csv").read_bytes() != (FIXTURES / STUDY / "csv" / "pga.csv").read_bytes()
    out = tmp_path / "out"
    assert api.convert(tmp_path / "raw", STUDIES / f"{STUDY}.yaml", out).exit_code == 0
    got = xpt_bytes(out)
    assert got.keys() == reference.keys()
    assert [name for name in got if got[name] != reference[name]] == []


def test_the_same_export_as_odm_gives_the_same_datasets_as_csv(reference, tmp_path):
    raw = tmp_path / "odm"
    shutil.copytree(FIXTURES / STUDY / "odm", raw)
    out = tmp_path / "out"
    assert api.convert(raw, STUDIES / f"{STUDY}.yaml", out).exit_code == 0
    got = xpt_bytes(out)
    assert [name for name in got if got[name] != reference.get(name)] == []

from pathlib import Path

import pytest

from sdtm_lupus.config.loading import ConfigError
from sdtm_lupus.config.mapping import load_mapping
from sdtm_lupus.config.study import load_study
from tests.paths import MAPPINGS, STUDIES


@pytest.mark.parametrize("name", ["NCT04515719", "NCT04893161"])
def test_shipped_studies_load(name):
    study = load_study(STUDIES / f"{name}.yaml")
    assert study.studyid == name
    assert study.mapping_path() == (MAPPINGS / "reference.yaml").resolve()
    assert study.visit("WEEK 48").target_day == 337


def test_reference_mappings_load_and_extend():
    base = load_mapping(MAPPINGS / "reference.yaml")
    gb = load_mapping(MAPPINGS / "reference-gb18030.yaml")
    assert (base.encoding, gb.encoding) == ("utf-8", "gb18030")
    assert gb.forms == base.forms and gb.values == base.values
    assert base.value_map("enrol", "SEX") == {"Female": "F", "Male": "M"}
    assert base.value_map("bilag", "RENAL")["A"] == "A"
    assert base.value_map("cm", "CMDOSFRQ")["QW"] == "EVERY WEEK"


def write(tmp_path: Path, text: str, name: str = "m.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_mapping_error_names_file_key_path_and_expectation(tmp_path):
    path = write(tmp_path, "name: x\nencoding: latin-1\nforms:\n  enrol: {file: 3, colour: red}\n")
    with pytest.raises(ConfigError) as err:
        load_mapping(path)
    text = str(err.value)
    assert str(path) in text
    assert "encoding: Input should be 'utf-8' or 'gb18030'" in text
    assert "forms.enrol.colour: Extra inputs are not permitted" in text
    assert "forms.enrol.file: Input should be a valid string" in text


def test_mapping_value_map_key_must_name_form_and_column(tmp_path):
    path = write(tmp_path, "name: x\nforms: {}\nvalues:\n  SEX: {Female: F}\n")
    with pytest.raises(ConfigError, match="values: Value error, key 'SEX' must be 'form.COLUMN'"):
        load_mapping(path)


def test_yaml_tags_that_build_objects_are_refused(tmp_path):
    path = write(tmp_path, "name: !!python/object/apply:os.system ['echo hacked']\nforms: {}\n")
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_mapping(path)


def test_yaml_syntax_error_names_line(tmp_path):
    path = write(tmp_path, "name: x\nforms: [unclosed\n")
    with pytest.raises(ConfigError, match=r"line \d+, column \d+: invalid YAML"):
        load_mapping(path)


def test_extends_loop_is_reported(tmp_path):
    write(tmp_path, "extends: b.yaml\nname: a\n", "a.yaml")
    write(tmp_path, "extends: a.yaml\nname: b\n", "b.yaml")
    with pytest.raises(ConfigError, match="loops back"):
        load_mapping(tmp_path / "a.yaml")


def test_study_error_names_visit_epoch(tmp_path):
    text = (STUDIES / "NCT04893161.yaml").read_text(encoding="utf-8").replace(
        "epoch: SCREENING}", "epoch: RUN-IN}", 1)
    with pytest.raises(ConfigError, match="folder 'SCREENING' names epoch 'RUN-IN', not in epochs"):
        load_study(write(tmp_path, text, "study.yaml"))


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_study(tmp_path / "nope.yaml")


def test_prednisone_factor_in_a_mapping_says_factors_live_in_specs(tmp_path):
    (tmp_path / "reference.yaml").write_bytes((MAPPINGS / "reference.yaml").read_bytes())
    path = write(tmp_path, "extends: reference.yaml\nname: old-site\ndrugs:\n"
                           "  prednisone: {decod: PREDNISONE, cmclas: GLUCOCORTICOID, prednisone_factor: 1}\n")
    with pytest.raises(ConfigError) as err:
        load_mapping(path)
    text = str(err.value)
    assert "line 4: drugs.prednisone:" in text
    assert "prednisone_factor" in text and "specs/clinical-constants.yaml" in text

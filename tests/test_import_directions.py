"""Which part may know what (../shared/docs/architecture.md, issue 14): a stage never imports a later
stage, `api` or `cli`. Every import counts, also those inside functions (read from the source)."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "sdtm_lupus"
SHARED = {"sdtm_lupus", "sdtm_lupus.findings", "sdtm_lupus.frames", "sdtm_lupus.distinct", "sdtm_lupus.memory",
          "sdtm_lupus.output_marker", "sdtm_lupus.config.loading"}

# stage -> the subpackages/modules of sdtm_lupus it may import (besides itself, SHARED and the specs registry)
ALLOWED = {
    "specs": {"sdtm_lupus.config.loading"},
    "config": {"sdtm_lupus.specs"},
    "readers": {"sdtm_lupus.config", "sdtm_lupus.specs"},
    "sdtm": {"sdtm_lupus.readers.forms", "sdtm_lupus.readers.cells", "sdtm_lupus.config", "sdtm_lupus.specs"},
    "adam": {"sdtm_lupus.specs", "sdtm_lupus.config.study"},
    "describe": {"sdtm_lupus.specs", "sdtm_lupus.config", "sdtm_lupus.sdtm", "sdtm_lupus.write.define_model"},
    "validate": {"sdtm_lupus.specs", "sdtm_lupus.config", "sdtm_lupus.write.xpt", "sdtm_lupus.write.define_model",
                 "sdtm_lupus.write.dataset_json", "sdtm_lupus.write.define", "sdtm_lupus.describe",
                 "sdtm_lupus.results"},
    "write": {"sdtm_lupus.specs"},
    "simulate": {"sdtm_lupus.specs", "sdtm_lupus.config"},
    "firstcontact": {"sdtm_lupus.config", "sdtm_lupus.specs", "sdtm_lupus.readers", "sdtm_lupus.sdtm"},
    "results": {"sdtm_lupus.specs"},                     # statistics on ADaM frames, plots: plain data in

}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return {name for name in found if name.split(".")[0] == "sdtm_lupus"}


def stage_of(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def allowed(stage: str, name: str) -> bool:
    if not _is_module(name):
        return True                         # `from pkg import name` of a class or function: the module counts
    own = f"sdtm_lupus.{stage}"
    return (name in SHARED or name == own or name.startswith(own + ".")
            or any(name == a or name.startswith(a + ".") for a in ALLOWED[stage]))


def _is_module(name: str) -> bool:
    parts = name.split(".")[1:]
    target = PACKAGE.joinpath(*parts) if parts else PACKAGE
    return target.is_dir() or target.with_suffix(".py").is_file()


def test_every_stage_has_rules():
    stages = {stage_of(p) for p in PACKAGE.rglob("*.py") if len(p.relative_to(PACKAGE).parts) > 1}
    assert stages <= set(ALLOWED), f"new subpackage without import rules: {sorted(stages - set(ALLOWED))}"


@pytest.mark.parametrize("stage", sorted(ALLOWED))
def test_a_stage_imports_only_what_it_may_know(stage):
    wrong = {}
    for path in sorted((PACKAGE / stage).rglob("*.py")):
        bad = sorted(n for n in imports_of(path) if not allowed(stage, n))
        if bad:
            wrong[path.relative_to(PACKAGE).as_posix()] = bad
    assert wrong == {}


def test_no_stage_imports_api_or_cli():
    wrong = {p.relative_to(PACKAGE).as_posix(): sorted(n for n in imports_of(p) if n.split(".")[1:2] in (["api"], ["cli"]))
             for p in PACKAGE.rglob("*.py") if p.name not in ("api.py", "cli.py")}
    assert {k: v for k, v in wrong.items() if v} == {}


def test_the_checker_would_notice_a_wrong_import(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from sdtm_lupus.adam.derive import derive_adam\n", encoding="utf-8")
    assert "sdtm_lupus.adam.derive" in imports_of(probe)
    assert not allowed("write", "sdtm_lupus.adam.derive") and not allowed("readers", "sdtm_lupus.sdtm.qs")
    assert allowed("sdtm", "sdtm_lupus.readers.forms") and not allowed("sdtm", "sdtm_lupus.readers.odm")

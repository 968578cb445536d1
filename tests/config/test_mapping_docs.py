"""docs/mapping.md documents every key of the mapping format (every field of every model, recursively)."""

from __future__ import annotations

import re
import types
import typing

from pydantic import BaseModel

from sdtm_lupus.config.loading import public_fields
from sdtm_lupus.config.mapping import Mapping
from tests.paths import ROOT

DOC = ROOT / "docs" / "mapping.md"


def models(model: type[BaseModel], seen: dict | None = None) -> dict[str, type[BaseModel]]:
    """The model and every model its fields may hold (through dict, list, tuple, union), by name."""
    seen = {} if seen is None else seen
    if model.__name__ in seen:
        return seen
    seen[model.__name__] = model

    def walk(annotation) -> None:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            models(annotation, seen)
        for arg in typing.get_args(annotation):
            walk(arg)
        if isinstance(annotation, types.UnionType):
            for arg in annotation.__args__:
                walk(arg)

    for field in model.model_fields.values():
        walk(field.annotation)
    return seen


def section(doc: str, model_name: str) -> str:
    """The text under the heading that names `model_name` (to the next heading of that level),
    or the whole document when no heading names it."""
    match = re.search(rf"^(#+) [^\n]*`{model_name}`[^\n]*$", doc, re.M)
    if not match:
        return doc
    level = len(match.group(1))
    end = re.compile(rf"^#{{1,{level}}} ", re.M).search(doc, match.end())
    return doc[match.start():end.start() if end else len(doc)]


def undocumented(doc: str, root: type[BaseModel] = Mapping) -> list[str]:
    """'Model.key' for each key (field alias or name) not written as `key` in its model's section."""
    missing = []
    for name, model in models(root).items():
        text = section(doc, name)
        for key in public_fields(model):          # the keys a file writes (aliases such as `from`)
            if f"`{key}`" not in text:
                missing.append(f"{name}.{key}")
    return missing


def test_every_mapping_key_is_documented():
    doc = DOC.read_text(encoding="utf-8")
    assert len(models(Mapping)) >= 9          # Mapping, FormSource, DateFormat, ..., the walk went deep
    assert undocumented(doc) == []


def test_every_model_has_its_section():
    doc = DOC.read_text(encoding="utf-8")
    no_section = [name for name in models(Mapping) if section(doc, name) == doc]
    assert no_section == []


def test_the_check_fails_on_an_undocumented_key():
    class Inner(BaseModel):
        documented: int = 0
        forgotten_key: int = 0

    class Outer(BaseModel):
        inner: dict[str, Inner | str] = {}

    doc = "# x (model `Outer`)\n`inner`\n## y (model `Inner`)\n`documented`\n## z\n`forgotten_key`\n"
    assert undocumented(doc, Outer) == ["Inner.forgotten_key"]


def test_extends_and_limits_are_documented():
    doc = DOC.read_text(encoding="utf-8")
    assert "`extends`" in doc and "## Limits" in doc
    assert "1 MiB" in doc and "10 000 nodes" in doc and "8 files" in doc

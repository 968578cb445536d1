"""Safe YAML loading into pydantic models, with errors that name file, line and key path.

Every configuration file (study, mapping, spec) goes through read_yaml, which refuses:

- anything but a regular file (a folder, /dev/zero, a FIFO), and files above a size cap
  (MAX_CONFIG_BYTES for studies and mappings, MAX_SPEC_BYTES for specs/), checked before
  reading, and never more than the cap read;
- text that is not UTF-8, and YAML tags that build objects (safe loader only);
- aliases that expand to more than MAX_ALIAS_NODES nodes ("billion laughs"), recursive
  aliases, nesting deeper than MAX_DEPTH;
- a key given twice in one mapping (YAML would keep the last one silently);
- control characters (C0 other than tab and newline, DEL, C1) in any key or value.

Messages are short: an echoed value is cut at MAX_SHOWN characters.
"""

from __future__ import annotations

import difflib
import os
import stat
import types
import typing
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)

MAX_CONFIG_BYTES = 1 << 20        # studies/*.yaml, mappings/*.yaml: 1 MiB (shipped: under 6 KB)
MAX_SPEC_BYTES = 4 << 20          # specs/**/*.yaml: 4 MiB (largest shipped: specs/define/adam.yaml, 17 KB)
MAX_ALIAS_NODES = 10_000          # nodes that aliases may add to a document, all aliases together
MAX_DEPTH = 64                    # nesting of collections (shipped files: under 10)
MAX_SHOWN = 80                    # characters of a value echoed in a message
MAX_PROBLEMS = 20                 # problems listed in one message

# The C loader when PyYAML was built with libyaml; both are safe loaders (plain data only).
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_C_LOADER = _Loader is not yaml.SafeLoader
_MERGE_TAG = "tag:yaml.org,2002:merge"
_CONTROL = frozenset(chr(c) for c in (*range(0x00, 0x20), *range(0x7F, 0xA0))) - {"\t", "\n"}

Location = tuple[Path, int]        # file and 1-based line of a key or sequence item


class ConfigError(Exception):
    """A configuration file (study, mapping, spec) is missing or wrong."""


def shown(value: object) -> str:
    """repr of a value for a message, cut to MAX_SHOWN characters."""
    text = repr(value)
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN - 3] + "..."


def _key_path(loc: tuple) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            text = str(item)
            text = text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN - 3] + "..."
            parts.append(("." if parts else "") + text)
    return "".join(parts) or "(top level)"


def suggest(name: object, allowed: typing.Iterable[str]) -> str:
    """'; did you mean 'x'?' for the allowed name nearest to name ('' when none is near)."""
    allowed = list(allowed)
    if not isinstance(name, str) or not allowed:
        return ""
    by_upper = {a.upper(): a for a in allowed}
    if name.upper() in by_upper:
        return f"; did you mean {by_upper[name.upper()]!r}?"
    near = difflib.get_close_matches(name.upper(), list(by_upper), n=1, cutoff=0.6)
    return f"; did you mean {by_upper[near[0]]!r}?" if near else ""


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    """The bytes of a regular file of at most max_bytes, checked before reading."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO must not block the open
    except (FileNotFoundError, NotADirectoryError):
        raise ConfigError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder, not a file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot open: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise ConfigError(f"{path}: is a folder, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(f"{path}: not a regular file (a device, FIFO or socket is never read)")
        if info.st_size > max_bytes:
            raise ConfigError(f"{path}: {info.st_size} bytes; configuration files are limited to {max_bytes} bytes")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            raw = fh.read(max_bytes + 1)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if len(raw) > max_bytes:  # grew since fstat
        raise ConfigError(f"{path}: more than {max_bytes} bytes; configuration files are limited to {max_bytes} bytes")
    return raw


def _line(node_or_event) -> int:
    mark = getattr(node_or_event, "start_mark", None)
    return mark.line + 1 if mark is not None else 0


def _check_events(text: str, path: Path) -> None:
    """Alias expansion, recursive aliases and nesting, counted on the event stream (nothing built)."""
    loader = _Loader(text)
    sizes: dict[str, int] = {}                 # anchor -> expanded node count
    stack: list[list] = []                     # open collections: [anchor, expanded node count]
    added = 0                                  # nodes added by aliases
    try:
        while (event := loader.get_event()) is not None:
            if isinstance(event, yaml.CollectionStartEvent):
                stack.append([event.anchor, 1])
                if len(stack) > MAX_DEPTH:
                    raise ConfigError(f"{path}: line {_line(event)}: nested deeper than {MAX_DEPTH} levels")
            elif isinstance(event, yaml.CollectionEndEvent):
                anchor, count = stack.pop()
                if anchor is not None:
                    sizes[anchor] = count
                if stack:
                    stack[-1][1] += count
            elif isinstance(event, (yaml.ScalarEvent, yaml.AliasEvent)):
                count = 1
                if isinstance(event, yaml.AliasEvent):
                    if any(frame[0] == event.anchor for frame in stack):
                        raise ConfigError(f"{path}: line {_line(event)}: alias *{shown(event.anchor)[1:-1]} "
                                          "is inside the node it names (a recursive structure)")
                    count = sizes.get(event.anchor, 1)
                    added += count - 1
                    if added > MAX_ALIAS_NODES:
                        raise ConfigError(f"{path}: line {_line(event)}: aliases expand to more than "
                                          f"{MAX_ALIAS_NODES} nodes (refused: a YAML alias bomb?)")
                elif event.anchor is not None:
                    sizes[event.anchor] = 1
                if stack:
                    stack[-1][1] += count
    finally:
        loader.dispose()


class _Walker:
    """Duplicate keys, control characters and key lines, on the composed (bounded) node graph."""

    def __init__(self, loader, path: Path):
        self.loader, self.path = loader, path
        self.lines: dict[tuple, Location] = {}

    def walk(self, node, loc: tuple = ()) -> None:
        if isinstance(node, yaml.ScalarNode):
            self._text(node, loc)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self.lines.setdefault((*loc, i), (self.path, _line(item)))
                self.walk(item, (*loc, i))
        elif isinstance(node, yaml.MappingNode):
            first: dict[object, int] = {}
            for key_node, value_node in node.value:
                if key_node.tag == _MERGE_TAG:
                    self.walk(value_node, loc)
                    continue
                key = self._key(key_node, loc)
                line = _line(key_node)
                if key in first:
                    raise ConfigError(f"{self.path}: line {line}: {_key_path((*loc, key))}: key given twice "
                                      f"(lines {first[key]} and {line}); each key may appear once")
                first[key] = line
                self.lines[(*loc, key)] = (self.path, line)
                self.walk(value_node, (*loc, key))

    def _key(self, key_node, loc: tuple) -> object:
        if not isinstance(key_node, yaml.ScalarNode):
            return ("<complex key>", _line(key_node))  # refused later by the model; never equal to another
        self._text(key_node, loc, is_key=True)
        key = self.loader.construct_object(key_node)
        try:
            hash(key)
        except TypeError:
            return ("<unhashable key>", _line(key_node))
        return key

    def _text(self, node, loc: tuple, is_key: bool = False) -> None:
        bad = next((c for c in node.value if c in _CONTROL), None)
        if bad is not None:
            what = f"key {shown(node.value)}" if is_key else "value"
            raise ConfigError(f"{self.path}: line {_line(node)}: {_key_path(loc)}: {what} holds the control "
                              f"character U+{ord(bad):04X}; only tab and newline are allowed")


def read_yaml_located(path: Path, max_bytes: int = MAX_SPEC_BYTES) -> tuple[object, dict[tuple, Location]]:
    """Plain data of a YAML file and the (file, line) of each key path; see the module doc."""
    path = Path(path)
    raw = _read_bytes(path, max_bytes)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 (byte offset {exc.start})") from None
    del raw
    try:
        _check_events(text, path)
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None, {}
            walker = _Walker(loader, path)
            walker.walk(node)
            return loader.construct_document(node), walker.lines
        finally:
            loader.dispose()
    except yaml.reader.ReaderError as exc:       # a character YAML does not allow in a file
        before = text.encode("utf-8")[:exc.position] if _C_LOADER else text[:exc.position]  # libyaml: byte offset
        line = before.count(b"\n" if _C_LOADER else "\n") + 1
        character = f"#x{exc.character:04x}" if isinstance(exc.character, int) else shown(exc.character)
        raise ConfigError(f"{path}: line {line}: invalid YAML: unacceptable character {character}: "
                          "control characters are not allowed") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}:" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        if len(problem) > 2 * MAX_SHOWN:
            problem = problem[:2 * MAX_SHOWN - 3] + "..."
        raise ConfigError(f"{path}:{where} invalid YAML: {problem}") from None


def read_yaml(path: Path, max_bytes: int = MAX_SPEC_BYTES) -> object:
    """Safe loader: plain data only, no tags that build objects or run code."""
    return read_yaml_located(path, max_bytes)[0]


def load_model(path: Path, model: type[M], max_bytes: int = MAX_SPEC_BYTES) -> M:
    data, lines = read_yaml_located(path, max_bytes)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of keys at the top level")
    return validate_model(data, model, path, lines)


def locate(lines: dict[tuple, Location] | None, loc: tuple, path: Path) -> str:
    """'line N: ' (or 'other.yaml line N: ') of the nearest located ancestor of loc."""
    if not lines:
        return ""
    for end in range(len(loc), 0, -1):
        where = lines.get(tuple(loc[:end]))
        if where is not None:
            file, line = where
            return f"line {line}: " if Path(file).resolve() == Path(path).resolve() else f"{file} line {line}: "
    return ""


def _unwrap(annotation) -> list:
    """The model classes an annotation may hold at the next key level (with how many keys to skip)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return [t for arg in typing.get_args(annotation) for t in _unwrap(arg)]
    if origin in (dict, tuple, list) and typing.get_args(annotation):
        return [("skip", typing.get_args(annotation)[-1 if origin is not tuple else 0])]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return []


def _model_at(model: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """The model class that the key path loc points into (None when it is not a model)."""
    current: list = [model]
    for item in loc:
        nxt: list = []
        for cand in current:
            if isinstance(cand, tuple):                      # a dict value / sequence item: skip this key
                nxt.extend(_unwrap(cand[1]))
            elif isinstance(item, str) and item in cand.model_fields:
                nxt.extend(_unwrap(cand.model_fields[item].annotation))
        current = nxt
    models = [c for c in current if not isinstance(c, tuple)]
    return models[0] if models else None


def public_fields(model: type[BaseModel]) -> list[str]:
    """Keys a file may set (fields excluded from dumps, such as `source`, are set by the loader)."""
    return [field.alias or name for name, field in model.model_fields.items() if not field.exclude]


def _message(err: dict, model: type[BaseModel]) -> str:
    loc = tuple(err["loc"])
    if err["type"] == "extra_forbidden" and loc:
        parent = _model_at(model, loc[:-1])
        allowed = public_fields(parent) if parent else []
        hint = suggest(loc[-1], allowed)
        allowed_text = f" allowed: {', '.join(allowed)}" if allowed else ""
        return f"{err['msg']} (unknown key{hint}{allowed_text})"
    got = err.get("input")
    got_text = "" if isinstance(got, dict) else f" (got {shown(got)})"
    msg = err["msg"] if len(err["msg"]) <= 4 * MAX_SHOWN else err["msg"][:4 * MAX_SHOWN - 3] + "..."
    return f"{msg}{got_text}"


def validate_model(data: dict, model: type[M], path: Path, lines: dict[tuple, Location] | None = None) -> M:
    internal = [k for k, f in model.model_fields.items() if f.exclude and k in data]
    problems: list[tuple[tuple, str]] = [((k,), f"unknown key (set by the loader; allowed: "
                                                f"{', '.join(public_fields(model))})") for k in internal]
    model_obj = None
    try:
        model_obj = model.model_validate(data)
    except ValidationError as exc:
        problems += [(tuple(err["loc"]), _message(err, model)) for err in exc.errors()]
    if not problems:
        return model_obj
    raise_problems(path, problems, lines)


def raise_problems(path: Path, problems: list[tuple[tuple, str]], lines: dict[tuple, Location] | None) -> None:
    """ConfigError listing (key path, text) problems, each with its line when known."""
    out = [f"{path}: {len(problems)} problem(s):"]
    for loc, text in problems[:MAX_PROBLEMS]:
        out.append(f"  {locate(lines, loc, path)}{_key_path(loc)}: {text}")
    if len(problems) > MAX_PROBLEMS:
        out.append(f"  ... and {len(problems) - MAX_PROBLEMS} more")
    raise ConfigError("\n".join(out))

"""Recipes: YAML files that hold what a command line holds.

A recipe is a mapping of option names (``model``, ``folds``, ``drop`` ...) to values, plus ``command``
(train or cv) and ``data``. Which keys a command accepts, and of which type, is not listed here: the CLI
derives a :class:`KeySpec` per option from the command itself, so an option added to a command is a recipe
key at once. This module reads, validates and writes recipes; it knows nothing of Typer.

Paths in a recipe are relative to the recipe file. Every problem is one :class:`ConfigError` sentence naming
the file, the key and what was expected.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlcli.errors import ConfigError, did_you_mean

RECIPE_COMMANDS = ("train", "cv", "auto", "tune", "cluster", "reduce", "anomalies")

# what each kind of key holds, as said in messages
EXPECTED = {
    "int": "an integer",
    "float": "a number",
    "str": "a text value",
    "bool": "true or false",
    "list": "a list of text values (or one comma-separated value)",
    "params": "a mapping of parameter: value",
    "grid": "a mapping of parameter: [value, value, ...]",
}


@dataclass(frozen=True)
class KeySpec:
    """One recipe key: the option it fills, what it holds and whether it is a path."""

    key: str  # recipe key (snake_case), e.g. "test_size"
    param: str  # the command's parameter name it fills, e.g. "test_size" ("param" for key "params")
    kind: str  # int | float | str | bool | list | params | grid
    flag: str = ""  # the command-line spelling, e.g. "--test-size" ("" for an argument)
    path: str | None = None  # "in" (must exist), "out" (written) or None
    choices: tuple[str, ...] = ()
    default: Any = None  # the option's default (a false flag is written only when it differs)


@dataclass
class Recipe:
    path: Path  # as given (for messages)
    values: dict[str, Any]  # recipe key -> raw YAML value (keys normalised to snake_case)
    command: str | None = None
    lines: dict[str, int] = field(default_factory=dict)  # key -> line number, for messages

    @property
    def base(self) -> Path:
        return self.path.resolve().parent

    def where(self, key: str) -> str:
        return f"recipe {self.path}: key '{key}'"


def normalise_key(key: str) -> str:
    return key.strip().replace("-", "_")


# --------------------------------------------------------------------------------------------- reading

def _loader():
    import yaml

    class Loader(yaml.SafeLoader):
        """SafeLoader that refuses a key given twice (plain YAML keeps the last one silently)."""

    def construct_mapping(loader, node, deep=False):
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = loader.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            try:
                hashable = key in seen
            except TypeError:
                raise ConfigError(f"line {line}: a key must be a plain value") from None
            if hashable:
                raise ConfigError(f"key '{key}' is given twice (lines {seen[key]} and {line})")
            seen[key] = line
        return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    return Loader


def read_recipe(path: str | Path) -> Recipe:
    """Read and parse a recipe file; check only that it is a YAML mapping with text keys."""
    import yaml

    p = Path(path)
    if str(path) == "-":
        raise ConfigError("--recipe needs a file; a recipe cannot be read from stdin")
    if not p.exists():
        raise ConfigError(f"recipe file not found: {p}")
    if p.is_dir():
        raise ConfigError(f"recipe {p} is a directory; give a .yaml file")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"recipe {p} is not a UTF-8 text file") from None
    except OSError as exc:
        raise ConfigError(f"recipe {p} cannot be read: {exc.strerror or exc}") from None
    try:
        doc = yaml.load(text, Loader=_loader())  # noqa: S506 - a SafeLoader subclass
    except ConfigError as exc:
        raise ConfigError(f"recipe {p}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"recipe {p} is not valid YAML{where}: {problem}") from None
    if doc is None:
        raise ConfigError(f"recipe {p} is empty; write key: value lines such as 'data: train.csv'")
    if not isinstance(doc, dict):
        raise ConfigError(f"recipe {p} must be a mapping of key: value lines, got {_describe(doc)}")
    values: dict[str, Any] = {}
    for key, value in doc.items():
        if not isinstance(key, str):
            raise ConfigError(f"recipe {p}: key {key!r} must be text, got {_describe(key)}")
        norm = normalise_key(key)
        if norm in values:
            raise ConfigError(f"recipe {p}: key '{key}' is given twice (as '{norm}' and '{key}')")
        values[norm] = value
    command = values.pop("command", None)
    recipe = Recipe(p, values)
    if command is not None:
        if not isinstance(command, str) or command not in RECIPE_COMMANDS:
            raise ConfigError(f"{recipe.where('command')} must be one of {', '.join(RECIPE_COMMANDS)}, "
                              f"got {_describe(command)}")
        recipe.command = command
    return recipe


# --------------------------------------------------------------------------------------------- checking

def resolve(recipe: Recipe, command: str, specs: list[KeySpec],
            other_commands: dict[str, set[str]] | None = None) -> dict[str, Any]:
    """Check every key of ``recipe`` for ``command``; return parameter name -> value.

    Values come back in the shape the command line gives them: text, numbers, lists of text; ``params``
    and ``grid`` mappings become ``key=value`` texts; paths are made absolute against the recipe's folder
    (input files are checked later, once it is known that the command line does not replace them).
    ``other_commands`` maps another command to its keys, to say "that is a cv key" for a misplaced one.
    """
    if recipe.command is not None and recipe.command != command:
        raise ConfigError(f"recipe {recipe.path} is a {recipe.command} recipe (command: {recipe.command}); "
                          f"run it with: mlcli {recipe.command} --recipe {recipe.path}")
    by_key = {s.key: s for s in specs}
    out: dict[str, Any] = {}
    for key, raw in recipe.values.items():
        spec = by_key.get(key)
        if spec is None:
            raise ConfigError(_unknown(recipe, key, command, list(by_key), other_commands or {}))
        if raw is None:  # `key:` with no value means "the default", as if the key were absent
            continue
        out[spec.param] = _convert(recipe, spec, raw)
    return out


def _unknown(recipe: Recipe, key: str, command: str, keys: list[str], others: dict[str, set[str]]) -> str:
    for other, other_keys in others.items():
        if key in other_keys:
            return (f"recipe {recipe.path}: key '{key}' is {_a(other)} option, not {_a(command)} one; "
                    f"add 'command: {other}' and run it with: mlcli {other} --recipe {recipe.path}")
    hint = did_you_mean(key, keys + ["command"])
    return f"recipe {recipe.path}: unknown key '{key}'{hint}; the keys are the long options of: mlcli {command} --help"


def _a(command: str) -> str:
    return f"{'an' if command[:1] in 'aeiou' else 'a'} {command}"


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"{str(value).lower()} (true/false)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"text '{value}'"
    if value is None:
        return "nothing"
    return repr(value)


def _scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float)) and not isinstance(value, bool)


def _convert(recipe: Recipe, spec: KeySpec, raw: Any) -> Any:
    def bad() -> ConfigError:
        return ConfigError(f"{recipe.where(spec.key)} must be {EXPECTED[spec.kind]}, got {_describe(raw)}")

    kind = spec.kind
    if kind == "int":
        if not isinstance(raw, int) or isinstance(raw, bool):
            raise bad()
        value: Any = raw
    elif kind == "float":
        if not isinstance(raw, (int, float)) or isinstance(raw, bool):
            raise bad()
        value = raw
    elif kind == "bool":
        if not isinstance(raw, bool):
            raise bad()
        value = raw
    elif kind == "str":
        if not _scalar(raw):
            raise bad()
        value = str(raw)
        if spec.choices and value not in spec.choices:
            raise ConfigError(f"{recipe.where(spec.key)} must be one of {', '.join(spec.choices)}, "
                              f"got '{value}'{did_you_mean(value, spec.choices)}")
    elif kind == "list":
        items = raw if isinstance(raw, list) else [raw]
        if not items or not all(_scalar(i) for i in items):
            raise bad()
        value = [str(i) for i in items]
    elif kind == "params":
        if not isinstance(raw, dict) or not all(isinstance(k, str) for k in raw):
            raise bad()
        value = [f"{k}={param_text(v)}" for k, v in raw.items()]
    elif kind == "grid":
        if not isinstance(raw, dict) or not all(isinstance(k, str) for k in raw):
            raise bad()
        value = []
        for k, vs in raw.items():
            vs = vs if isinstance(vs, list) else [vs]
            if not vs or not all(_scalar(v) or isinstance(v, bool) for v in vs):
                raise ConfigError(f"{recipe.where(spec.key)}: '{k}' must be a list of values, got {_describe(vs)}")
            value.append(f"{k}=" + ",".join(param_text(v) for v in vs))
    else:  # pragma: no cover - a KeySpec made with an unknown kind
        raise ValueError(kind)
    if spec.path and kind == "str":
        value = absolute(value, recipe.base)
    return value


def check_input_path(recipe: Recipe, spec: KeySpec, value: str) -> None:
    """An input file named by the recipe must exist (called only for values the command line keeps)."""
    if spec.path == "in" and value != "-" and not Path(value).exists():
        given = recipe.values.get(spec.key)
        raise ConfigError(f"{recipe.where(spec.key)} names a file that does not exist: {given} "
                          f"(looked for {value}; paths in a recipe are relative to the recipe file)")


def absolute(value: str, base: Path) -> str:
    if value == "-":
        return value
    p = Path(os.path.expanduser(value))
    return str(p if p.is_absolute() else (base / p).resolve())


def param_text(value: Any) -> str:
    """A YAML value as the text of ``--param key=text`` (read back by the registry's parse_value)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


# --------------------------------------------------------------------------------------------- writing

def recipe_document(command: str, values: dict[str, Any], specs: list[KeySpec],
                    base: Path | None) -> dict[str, Any]:
    """The recipe mapping of an effective set of option values (parameter name -> value).

    Empty values (None, [], flags off by default) are left out; paths are made relative to ``base`` (the folder
    the recipe is written to) or kept absolute when ``base`` is None.
    """
    from mlcli.models.estimators import parse_value

    doc: dict[str, Any] = {"command": command}
    for spec in specs:
        value = values.get(spec.param)
        if value is None or value is False and spec.kind == "bool" and spec.default is False or value in ([], ()):
            continue
        if spec.kind == "params":
            value = {k.strip(): parse_value(v.strip()) for k, _, v in (s.partition("=") for s in value)}
        elif spec.kind == "grid":
            value = {k.strip(): [parse_value(x.strip()) for x in v.split(",")]
                     for k, _, v in (s.partition("=") for s in value)}
        elif spec.kind == "list":
            value = [x.strip() for item in value for x in str(item).split(",") if x.strip()]
        elif spec.path and isinstance(value, str) and value != "-":
            value = str(Path(value).resolve())
            if base is not None:
                value = _relative(value, base)
        doc[spec.key] = value
    return doc


def _relative(path: str, base: Path, max_up: int = 2) -> str:
    """``path`` relative to ``base`` when it is near (at most ``max_up`` folders up), else absolute."""
    try:
        rel = os.path.relpath(path, base)
    except ValueError:  # another drive (Windows)
        return path
    ups = 0
    for part in Path(rel).parts:
        if part != "..":
            break
        ups += 1
    return rel if ups <= max_up else path


def dump_recipe(doc: dict[str, Any], header: str = "") -> str:
    import yaml

    def line(key: str, value: Any) -> str:
        if isinstance(value, (list, dict)):  # short lists and mappings stay on one line: [a, b], {C: 0.5}
            flow = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10**6).strip()
            if len(key) + len(flow) < 96 and "\n" not in flow:
                return f"{key}: {flow}\n"
        return yaml.safe_dump({key: value}, sort_keys=False, default_flow_style=False, allow_unicode=True)

    body = "".join(line(k, v) for k, v in doc.items())
    return "".join(f"# {line}\n" for line in header.splitlines()) + body


def write_recipe(path: str | Path, text: str) -> Path:
    """Write a recipe atomically (a temporary sibling renamed into place)."""
    p = Path(path)
    tmp = p.with_name(f".{p.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, p)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ConfigError(f"--save-recipe {p}: cannot write it: {exc.strerror or exc}") from None
    return p

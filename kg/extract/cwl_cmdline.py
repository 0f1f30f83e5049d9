"""A CWL `CommandLineTool`'s command line, built the way the CWL spec (v1.0-v1.2,
"Building the command line") does, from its input values (here: their defaults).

`baseCommand` comes first; then every binding from `arguments` and from inputs with an
`inputBinding`, sorted by `position` (0 if none), an argument before an input at the same
position (by its index in the list), inputs by name; then `< stdin`, `> stdout`, `2> stderr`.
A binding's value gives words as the spec says: nothing if null or false, only the prefix if
true, each item of a list (or the items joined by `itemSeparator`), a File or Directory as
its path, the prefix as its own word unless `separate: false`. Expressions other than a plain
`$(inputs.<name>)` cannot be evaluated here and are kept as written.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from typing import Any

_INPUT_REF = re.compile(r"^\$\(inputs\.([A-Za-z_][A-Za-z0-9_]*)\)$")

# a File/Directory location (as written, relative to the CWL file) -> the path to show
Locate = Callable[[str], str]


def inputs_by_name(cwl: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The tool's input parameters by name, from the map or the list form."""
    raw = cwl.get("inputs") or {}
    if isinstance(raw, dict):
        pairs = [(str(k), v if isinstance(v, dict) else {"type": v}) for k, v in raw.items()]
    elif isinstance(raw, list):
        pairs = [(str(v.get("id", "")).rsplit("#", 1)[-1], v) for v in raw if isinstance(v, dict)]
    else:
        pairs = []
    return {name: item for name, item in pairs if name}


def file_location(value: Any) -> str | None:
    """The location a File or Directory object names, as written."""
    if not isinstance(value, dict) or value.get("class") not in ("File", "Directory"):
        return None
    location = value.get("path") or value.get("location")
    return location.removeprefix("file://") if isinstance(location, str) else None


def command_words(cwl: dict[str, Any], locate: Locate) -> list[str]:
    """The tool's argv, with each input's default as its value."""
    inputs = inputs_by_name(cwl)
    values = {name: item.get("default") for name, item in inputs.items()}
    base = cwl.get("baseCommand")
    words = [str(w) for w in (base if isinstance(base, list) else [base] if base else [])]
    bindings: list[tuple[tuple[int, int, int | str], dict[str, Any], Any]] = []
    arguments = cwl.get("arguments")
    for index, argument in enumerate(arguments if isinstance(arguments, list) else []):
        if isinstance(argument, dict):
            value = _resolve(argument.get("valueFrom"), values)
            bindings.append(((_position(argument), 0, index), argument, value))
        else:
            bindings.append(((0, 0, index), {}, _resolve(argument, values)))
    for name, item in inputs.items():
        binding = item.get("inputBinding")
        if isinstance(binding, dict):
            value = _resolve(binding["valueFrom"], values) if "valueFrom" in binding else values[name]
            bindings.append(((_position(binding), 1, name), binding, value))
    for _, binding, value in sorted(bindings, key=lambda b: b[0]):
        words += _words(binding, value, locate)
    return words


def command_line(cwl: dict[str, Any], locate: Locate) -> str:
    """The tool's command as one shell line (a word quoted only where it needs it), with
    its redirections of stdin, stdout and stderr."""
    values = {name: item.get("default") for name, item in inputs_by_name(cwl).items()}
    parts = [shlex.quote(w) for w in command_words(cwl, locate)]
    for key, redirect in (("stdin", "<"), ("stdout", ">"), ("stderr", "2>")):
        target = _resolve(cwl.get(key), values)
        if target is not None:
            parts += [redirect, shlex.quote(_text(target, locate))]
    return " ".join(parts)


def _position(binding: dict[str, Any]) -> int:
    position = binding.get("position", 0)
    return position if isinstance(position, int) and not isinstance(position, bool) else 0


def _resolve(value: Any, values: dict[str, Any]) -> Any:
    """A plain `$(inputs.<name>)` becomes that input's value; anything else stays."""
    if isinstance(value, str):
        match = _INPUT_REF.match(value)
        if match and match.group(1) in values:
            return values[match.group(1)]
    return value


def _text(value: Any, locate: Locate) -> str:
    location = file_location(value)
    return locate(location) if location is not None else str(value)


def _words(binding: dict[str, Any], value: Any, locate: Locate) -> list[str]:
    prefix = binding.get("prefix")
    prefix = str(prefix) if prefix is not None else None
    if value is None or value is False:
        return []
    if value is True:
        return [prefix] if prefix else []
    if isinstance(value, list):
        items = [_text(v, locate) for v in value if v is not None]
        separator = binding.get("itemSeparator")
        if separator is not None:
            items = [str(separator).join(items)] if items else []
        if not items:
            return []
    else:
        items = [_text(value, locate)]
    if not prefix:
        return items
    if binding.get("separate", True) is False:
        return [prefix + items[0], *items[1:]]
    return [prefix, *items]

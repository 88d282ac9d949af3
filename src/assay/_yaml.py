"""YAML loading that remembers the line of every key and refuses duplicate keys."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from assay.errors import PlanError


def read_yaml_file(path: str | Path, what: str) -> str:
    """The text of a YAML file; a file that cannot be read is a :class:`PlanError` naming it
    and ``what`` it should hold (``plan``, ``monitor``)."""
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PlanError(f"{path}: cannot read the {what}: {exc.strerror}") from exc


def load_yaml_mapping(text: str, source: str, hint: str
                      ) -> tuple[dict[str, Any], dict[tuple[Any, ...], int]]:
    """The YAML mapping in ``text`` and the line of every key (see :func:`load_yaml_with_lines`).

    Malformed YAML, a repeated key or a document that is not a mapping is a :class:`PlanError`
    starting with ``source``; ``hint`` says what the mapping should hold.
    """
    try:
        document, lines = load_yaml_with_lines(text)
    except yaml.YAMLError as exc:
        raise PlanError(f"{source}: not valid YAML: {exc}") from exc
    except ValueError as exc:
        raise PlanError(f"{source}: {exc}") from exc
    if not isinstance(document, dict):
        raise PlanError(f"{source}: {hint}")
    return document, lines


def load_yaml_with_lines(text: str) -> tuple[Any, dict[tuple[Any, ...], int]]:
    """Return the document and a map from each path (keys and list indexes) to its 1-based line.

    Raises
    ------
    yaml.YAMLError
        on malformed YAML.
    ValueError
        on a key given twice in one mapping (PyYAML would silently keep the last).
    """
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    lines: dict[tuple[Any, ...], int] = {}
    if node is None:
        return None, lines
    _walk(node, (), lines)
    return yaml.safe_load(text), lines


def _walk(node: yaml.Node, path: tuple[Any, ...], lines: dict[tuple[Any, ...], int]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            line = key_node.start_mark.line + 1
            if key in seen:
                raise ValueError(f"line {line}: key {key!r} repeats the key on line {seen[key]}")
            seen[key] = line
            _walk(value_node, (*path, key), lines)
            lines[(*path, key)] = line
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), lines)


def describe_validation_error(error: ValidationError, source: str,
                              lines: dict[tuple[Any, ...], int], *, what: str,
                              tags: Collection[str] = ()) -> str:
    """One line per problem: ``source line N, path.to.field: message``.

    ``what`` names the document when the problem is at its top; ``tags`` are the names of
    discriminated-union members, which pydantic puts in the location and a reader never wrote.
    """
    problems = []
    for item in error.errors():
        location = tuple(p for p in item["loc"] if p not in tags)
        line = _nearest_line(location, lines)
        where = _path_text(location) or what
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = f"unknown field {location[-1]!r}"
        elif item["type"] == "missing":
            message = f"required field {location[-1]!r} is missing"
            where = _path_text(location[:-1]) or what
        problems.append(f"{source}" + (f" line {line}" if line else "") + f", {where}: {message}")
    return "\n".join(problems)


def _nearest_line(location: tuple[Any, ...], lines: dict[tuple[Any, ...], int]) -> int | None:
    for end in range(len(location), -1, -1):
        if location[:end] in lines:
            return lines[location[:end]]
    return None


def _path_text(location: tuple[Any, ...]) -> str:
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text

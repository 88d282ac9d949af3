"""YAML loading that remembers the line of every key and refuses duplicate keys."""

from __future__ import annotations

from typing import Any

import yaml


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

"""Read-only mappings for the fields of frozen pydantic models.

``frozen=True`` stops assigning a model's attributes but not changing a dict held by one;
``FrozenMapping`` fields are stored as read-only views (nested mappings too), serialise as
ordinary JSON objects and validate back from them.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from pydantic import AfterValidator, SerializerFunctionWrapHandler, WrapSerializer


def _freeze(value: Any) -> Any:
    if isinstance(value, Mapping):
        return MappingProxyType({key: _freeze(item) for key, item in value.items()})
    return value


def thaw(value: Any) -> Any:
    """A read-only mapping (nested ones too) as ordinary dicts, for code that wants a dict."""
    if isinstance(value, Mapping):
        return {key: thaw(item) for key, item in value.items()}
    return value


def _serialise(value: Any, handler: SerializerFunctionWrapHandler) -> Any:
    return handler(thaw(value))


FROZEN = (AfterValidator(_freeze), WrapSerializer(_serialise))
"""Metadata for ``Annotated[Mapping[K, V], *FROZEN]``: a read-only mapping field."""

"""MLflow key names for Assay's records: pure functions, no MLflow import."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Sequence
from typing import TypeVar

__all__ = ["MAX_KEY_LENGTH", "check_passed", "metric_key", "unique_keys"]

log = logging.getLogger(__name__)

MAX_KEY_LENGTH = 250
"""MLflow's limit on metric, param and tag key length."""

_NOT_ALLOWED = re.compile(r"[^\w.\- ]")
"""MLflow allows letters, digits, ``_ . - /``, spaces (and ``:`` off Windows); Assay keeps to
the portable set and drops ``/`` so that a score name never becomes a path."""

Value = TypeVar("Value")


def metric_key(text: str) -> str:
    """``text`` as a key MLflow accepts on every platform.

    ``@`` (before a threshold) becomes ``_at_``; any other character outside letters, digits,
    ``_ . -`` and space becomes ``_``; repeated dots collapse and leading dots or spaces go,
    so the key never reads as a relative path; a key over 250 characters is cut and ends with
    a short hash of the whole.

    Examples
    --------
    >>> metric_key("risk.sensitivity@0.3")
    'risk.sensitivity_at_0.3'
    >>> metric_key("check.auroc [sex=F].passed")
    'check.auroc _sex_F_.passed'
    """
    key = _NOT_ALLOWED.sub("_", text.replace("@", "_at_"))
    key = re.sub(r"\.{2,}", ".", key).lstrip(". ").rstrip(" ") or "_"
    if len(key) > MAX_KEY_LENGTH:
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]
        key = f"{key[:MAX_KEY_LENGTH - 9]}_{digest}"
    return key


def unique_keys(named: Sequence[tuple[str, Value]]) -> dict[str, Value]:
    """The pairs as a dict; a key already used gets ``_2``, ``_3``… (and a logged warning)."""
    out: dict[str, Value] = {}
    for key, value in named:
        chosen, suffix = key, 2
        while chosen in out:
            chosen = f"{key[:MAX_KEY_LENGTH - 4]}_{suffix}"
            suffix += 1
        if chosen != key:
            log.warning("MLflow key %r is used twice after sanitising; logging it as %r",
                        key, chosen)
        out[chosen] = value
    return out


def check_passed(status: str) -> float | None:
    """1.0 for ``pass`` and ``warn`` (the CI gate lets warnings through), 0.0 for ``fail`` and
    ``error``, None (not logged) for ``skipped``: a skipped check is no evidence either way."""
    if status in ("pass", "warn"):
        return 1.0
    if status in ("fail", "error"):
        return 0.0
    return None

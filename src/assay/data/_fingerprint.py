"""Stable content fingerprints of tables and specs."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pandas as pd


def frame_fingerprint(frame: pd.DataFrame) -> str:
    """SHA-256 of a table's column names, dtypes and values (row order matters, index does not)."""
    digest = hashlib.sha256()
    header = [[str(c), str(t)] for c, t in zip(frame.columns, frame.dtypes, strict=True)]
    digest.update(json.dumps(header).encode())
    if len(frame):
        digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return "sha256:" + digest.hexdigest()


def json_fingerprint(document: Any) -> str:
    """SHA-256 of the canonical JSON of a document (sorted keys, no whitespace)."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()

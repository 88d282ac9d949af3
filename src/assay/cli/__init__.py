"""The ``assay`` command line (needs the ``cli`` extra: Typer and Rich)."""

from __future__ import annotations

import sys

__all__ = ["main"]


def main() -> None:
    """Entry point of the ``assay`` console script."""
    try:
        from assay.cli._app import app
    except ImportError as exc:
        sys.stderr.write(
            f"assay: the command line needs the 'cli' extra ({exc.name} is missing): "
            "pip install 'assay[cli]'\n"
        )
        raise SystemExit(2) from exc
    app()

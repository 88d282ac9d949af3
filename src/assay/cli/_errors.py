"""How every command reports bad input (one line on stderr, exit code 2) and writes its files."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from assay.errors import InputError, MissingExtraError, PlanError

__all__ = ["errors", "exits_2_on_bad_input", "write_file"]

errors = Console(stderr=True, highlight=False)

F = TypeVar("F", bound=Callable[..., Any])


def exits_2_on_bad_input(command: F) -> F:
    """Turn input, plan and missing-extra errors into one line on stderr and exit code 2."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (InputError, PlanError, MissingExtraError) as exc:
            errors.print(f"[bold red]error:[/] {escape(str(exc))}", markup=True, soft_wrap=True)
            raise typer.Exit(2) from exc

    return wrapper  # type: ignore[return-value]


def write_file(path: Path, text: str, console: Console) -> None:
    """Write a command's output file (UTF-8) and say so; an unwritable path is bad input."""
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot write: {exc.strerror}") from exc
    console.print(f"written: {path}")

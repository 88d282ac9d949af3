"""``assay card PRODUCT``: the model card of a product version as HTML, PDF or JSON."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from assay.errors import InputError

__all__ = ["CardFormat", "card_command"]

console = Console(highlight=False)


class CardFormat(StrEnum):
    """Output formats of ``assay card``."""

    html = "html"
    pdf = "pdf"
    json = "json"
    csv = "csv"
    """The HTI-1 attribute table alone: id, number, title, value, status, source, reason."""


def card_command(
    product: Annotated[str, typer.Argument(help="Registered product name.")],
    version: Annotated[str | None, typer.Option(
        "--version", help="Product version (default: the newest registered).")] = None,
    output_format: Annotated[CardFormat, typer.Option(
        "--format", help="html, pdf, json, or csv (the HTI-1 attribute table).")
    ] = CardFormat.html,
    out: Annotated[Path | None, typer.Option(
        "--out", help="Output file (default: <product>-<version>-card.<format>; JSON "
                      "without --out is printed).")] = None,
    url: Annotated[str | None, typer.Option(
        "--url", help="Database URL (default: ASSAY_DATABASE_URL, else ./.assay/assay.db)."
    )] = None,
) -> None:
    """Write the model card of a product version: CHAI sections, the 31 HTI-1 attributes."""
    from assay.governance import Registry
    from assay.store import Store

    store = Store.open(url)
    try:
        registry = Registry(store)
        versions = registry.versions(product)
        if not versions:
            raise InputError(f"product {product!r} has no registered version")
        if version is None:
            version = list(versions)[-1]
        elif version not in versions:
            raise InputError(f"product {product!r} has no version {version!r} "
                             f"(registered: {', '.join(versions)})")
        card = registry.model_card(product, version)
    finally:
        store.close()
    target = out or Path(f"{product}-{version}-card.{output_format.value}")
    if output_format is CardFormat.json:
        if out is None:
            console.print_json(card.to_json())
            return
        card.to_json(target)
    elif output_format is CardFormat.html:
        card.to_html(target)
    elif output_format is CardFormat.csv:
        card.hti1_table().to_csv(target, index=False)
    else:
        card.to_pdf(target)
    console.print(f"model card of {product} {version}: {target} "
                  f"(completeness {card.completeness:.0%}, {len(card.missing)} required "
                  "fields missing)")

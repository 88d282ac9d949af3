"""Assay: clinical AI assurance with an interval on every number."""

from assay._version import __version__

__all__ = ["__version__"]

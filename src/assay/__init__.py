"""Assay: clinical AI assurance with an interval on every number.

The top level holds what a notebook needs first; everything else lives in the subpackages
(:mod:`assay.metrics`, :mod:`assay.checks`, :mod:`assay.data`, :mod:`assay.datasets`).
"""

from assay._version import __version__
from assay.checks import Plan, Run, validate
from assay.data import Dataset, Roles
from assay.metrics import Estimate

__all__ = ["Dataset", "Estimate", "Plan", "Roles", "Run", "__version__", "validate"]

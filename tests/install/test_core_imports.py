"""The core computations import without any optional extra (CLI, reports, demo)."""

from __future__ import annotations

import subprocess
import sys

BLOCK_EXTRAS = """
import sys
for name in ("typer", "rich", "jinja2", "matplotlib", "sklearn", "polars"):
    sys.modules[name] = None  # makes 'import name' raise ImportError
import assay
from assay.metrics import estimate
from assay.checks import Plan, validate
import numpy as np
y = np.array([0, 1, 0, 1, 1, 0]); s = np.array([.1, .9, .3, .6, .4, .5])
print(estimate("auroc", y, s).value)
try:
    assay.Run.to_html
    from assay.reports import render_html
    render_html(None)
except ImportError as exc:
    print(type(exc).__name__, exc)
"""


def test_core_imports_without_extras() -> None:
    completed = subprocess.run([sys.executable, "-c", BLOCK_EXTRAS], capture_output=True,
                               text=True, check=False)
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert abs(float(lines[0]) - 8 / 9) < 1e-12
    assert lines[1].startswith("MissingExtraError") and "assay[report]" in lines[1]


def test_cli_without_its_extra_says_which_to_install() -> None:
    code = "import sys; sys.modules['typer'] = None; from assay.cli import main; main()"
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                               check=False)
    assert completed.returncode == 2 and "pip install 'assay[cli]'" in completed.stderr

"""Reports drawn from a stored Run: a self-contained HTML page and JUnit XML for CI.

Rendering never recomputes anything from data, so any stored Run re-renders to the same bytes.
The HTML report needs the ``report`` extra (jinja2 and matplotlib); JUnit needs nothing more.
"""

from assay.reports._html import render_html
from assay.reports._junit import render_junit

__all__ = ["render_html", "render_junit"]

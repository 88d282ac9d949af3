"""Reports drawn from stored results: a self-contained HTML page and JUnit XML for CI from a
Run, and the monitoring report of a monitor's stored windows and alerts.

Rendering never recomputes anything from data, so any stored Run re-renders to the same bytes.
The HTML and monitoring reports need the ``report`` extra (jinja2 and matplotlib; a PDF
monitoring report also the ``pdf`` extra); JUnit needs nothing more.
"""

from assay.reports._html import render_html
from assay.reports._junit import render_junit
from assay.reports._monitoring import render_monitoring_report

__all__ = ["render_html", "render_junit", "render_monitoring_report"]

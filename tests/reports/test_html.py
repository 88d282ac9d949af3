from __future__ import annotations

import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from assay.checks import Run
from assay.errors import MissingExtraError
from assay.reports import render_html

VOID = {"meta", "br", "link", "img", "input", "hr", "col", "source", "wbr"}
SVG_EMPTY = {"path", "use", "rect", "circle", "line", "polyline", "polygon", "stop", "ellipse"}


class Page(HTMLParser):
    """Collects what the tests read from the report, and checks that tags balance."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.ids: list[str] = []
        self.th_without_scope = 0
        self.sections: dict[str, list[str]] = {}
        self._section: str | None = None
        self.counts: dict[str, int] = {}
        self._count: str | None = None
        self.findings: dict[str, list[str]] = {}
        self._finding: tuple[str, list[str]] | None = None
        self._list: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.append(a["id"] or "")
        if tag == "th" and "scope" not in a:
            self.th_without_scope += 1
        if tag == "section":
            self._section = a.get("id")
            self.sections[self._section or ""] = []
        if tag == "li" and a.get("data-status"):
            self._count = a["data-status"]
        if tag == "ul" and "findings" in (a.get("class") or ""):
            self._list = (a.get("class") or "").split()[-1]
        if tag == "li" and self._list:
            self._finding = (self._list, [])
        if tag not in VOID and not (tag in SVG_EMPTY and self.get_starttag_text().endswith("/>")):
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID and self.stack and self.stack[-1] == tag:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
            return
        self.stack.pop()
        if tag == "li" and self._finding:
            self.findings.setdefault(self._finding[0], []).append("".join(self._finding[1]))
            self._finding = None
        if tag == "ul":
            self._list = None
        if tag == "section":
            self._section = None

    def handle_data(self, data: str) -> None:
        if self._section:
            self.sections[self._section].append(data)
        if self._finding:
            self._finding[1].append(data)
        if self._count and data.strip().isdigit():
            self.counts[self._count] = int(data)
            self._count = None


@pytest.fixture(scope="module")
def page(html: str) -> Page:
    parsed = Page()
    parsed.feed(html)
    parsed.close()
    return parsed


def section_text(page: Page, section_id: str) -> str:
    return re.sub(r"\s+", " ", "".join(page.sections[section_id]))


def test_tags_balance_and_ids_are_unique(page: Page) -> None:
    assert page.errors == []
    assert page.stack == []
    assert len(page.ids) == len(set(page.ids))


def test_summary_sentence_of_the_failing_check(run: Run, page: Page) -> None:
    failed = next(r for r in run.results if r.status == "fail")
    e = failed.estimate
    assert e is not None and e.ci_low is not None and e.ci_high is not None
    (sentence, error) = page.findings["findings-fail"]
    assert sentence == (
        f"Sensitivity of readmit_risk at threshold 0.30 (“high_risk”) was {e.value:.3f} "
        f"(95% CI {e.ci_low:.3f}–{e.ci_high:.3f}); the plan requires the lower bound of the "
        "95% CI to be at least 0.70."
    )
    assert error == ("“PPV of readmit_risk at threshold 0.97” could not be evaluated: nobody "
                     "was flagged at threshold 0.97.")
    (warning,) = page.findings["findings-warn"]
    assert "which holds, and warns unless the lower bound of the 95% CI is at least 0.90" in (
        warning)
    (skipped,) = page.findings["findings-skipped"]
    assert "was skipped: score 'lactate' is not a probability" in skipped


def test_summary_says_what_was_tested_on_which_data(page: Page) -> None:
    summary = section_text(page, "summary")
    assert "The plan “Readmission risk validation” (version 2) was run with 7 checks" in summary
    assert "inpatient_2023.parquet, hold 2,000 records; 275 had the outcome" in summary
    assert "(prevalence 13.8%)" in summary
    assert ("Of the 7 checks, 1 failed, 1 could not be evaluated, 1 passed with a warning, "
            "3 passed and 1 was skipped.") in summary


def test_status_counts_match_the_run(run: Run, page: Page) -> None:
    assert page.counts == dict(run.counts)
    assert sum(page.counts.values()) == len(run.results)


def test_checks_table_lists_every_check_most_severe_first(run: Run, html: str) -> None:
    table = html[html.index('<table class="checks">'):]
    table = table[:table.index("</table>")]
    order = re.findall(r'<tr class="row-(\w+)">', table)
    assert order == ["fail", "error", "warn", "pass", "pass", "pass", "skipped"]
    for result in run.results:
        assert f'<code class="check-id">{result.id}</code>' in table
    assert ">✗</span> Fail</span>" in table  # the badge has text, not colour alone
    assert "difference readmit_risk − lactate" in table


def test_skipped_and_undefined_metrics_show_their_reason(run: Run, html: str) -> None:
    rows = re.findall(r'<tr class="metric-(skipped|undefined)">(.*?)</tr>', html, re.DOTALL)
    expected = [r for r in run.metrics if r.status != "ok"]
    assert len(rows) == len(expected) == 3
    for record in expected:
        assert record.reason
        reason = record.reason.replace("'", "&#39;")
        assert any(status == record.status and reason in row for status, row in rows)


def test_non_probability_score_has_no_calibration_plot_and_says_why(page: Page,
                                                                  html: str) -> None:
    lactate = section_text(page, "score-2")
    assert lactate.startswith(" Score: lactate")
    assert ("No calibration or decision curve is shown for lactate: its values run from "
            "0.40 to 6.40, so they are not predicted probabilities") in lactate
    section = html[html.index('<section id="score-2"'):html.index('<section id="comparisons"')]
    assert "Calibration of lactate" not in section
    assert "Decision curve of lactate" not in section


def test_svg_count_per_score(run: Run, html: str) -> None:
    risk = html[html.index('<section id="score-1"'):html.index('<section id="score-2"')]
    lactate = html[html.index('<section id="score-2"'):html.index('<section id="comparisons"')]
    assert risk.count("<svg ") == 4
    assert lactate.count("<svg ") == 2
    assert html.count("<svg ") == 6
    for title in ("ROC curve of readmit_risk", "Precision–recall curve of readmit_risk",
                  "Calibration of readmit_risk", "Decision curve of readmit_risk"):
        assert f">{title}</title>" in risk
    auroc = run.metric("auroc", "readmit_risk")
    assert auroc.ci_low is not None and auroc.ci_high is not None
    # the legend carries the AUROC and its CI
    assert f"AUROC {auroc.value:.3f} ({auroc.ci_low:.3f}–{auroc.ci_high:.3f})" in risk


def test_threshold_table_and_metric_table(run: Run, html: str) -> None:
    risk = html[html.index('<section id="score-1"'):html.index('<section id="score-2"')]
    table = risk[risk.index('<table class="thresholds">'):]
    table = table[:table.index("</table>")]
    curve = run.curves["readmit_risk"]["threshold"]
    assert table.count("<tr") == len(curve.columns["threshold"]) + 1
    named = re.search(r'<tr class="named">(.*?)</tr>', table)
    assert named is not None and "high_risk" in named.group(1) and "0.30" in named.group(1)
    i = curve.columns["threshold"].index(0.3)
    sens = [curve.columns[c][i] for c in ("sensitivity", "sensitivity_low", "sensitivity_high")]
    assert f"{sens[0]:.3f} ({sens[1]:.3f}–{sens[2]:.3f})" in named.group(1)
    # nobody flagged at 0.95: PPV is not defined and shows a dash, never a number
    last = re.findall(r"<tr>(.*?)</tr>", table)[-1]
    assert ">0.95</th>" in last and '<td class="num">—</td>' in last
    assert "<th scope=\"row\">AUROC</th>" in risk
    assert "DeLong" in risk and "Wilson" in risk and "Bootstrap (percentile)" in risk


def test_comparisons_and_how_to_read(page: Page) -> None:
    comparisons = section_text(page, "comparisons")
    assert "readmit_risk − lactate" in comparisons
    assert "p < 0.001" in comparisons and "DeLong" in comparisons
    reading = section_text(page, "reading")
    assert "95% confidence interval" in reading
    assert ("resampling the records 1,000 times with replacement, patients with and without "
            "the outcome separately (seed 42)") in reading
    assert "DeLong" in reading and "Wilson" in reading


def test_header_gives_provenance(run: Run, html: str) -> None:
    header = html[html.index("<header"):html.index("</header>")]
    for text in ("Readmission risk validation, version 2", "inpatient_2023.parquet", "2,000",
                 "275 (13.8%)", "2025-03-14 09:30 UTC", "0.1.0", "seed 42",
                 "sha256:9f2c4be07d51", run.plan_fingerprint[:19]):
        assert text in header


def test_render_is_byte_identical_and_survives_a_json_round_trip(run: Run, html: str) -> None:
    assert render_html(run) == html
    stored = Run.from_json(run.to_json())
    assert render_html(stored) == html


def test_a_stored_run_renders_the_same_bytes_in_another_process(run: Run, html: str,
                                                                tmp_path: Path) -> None:
    stored = tmp_path / "run.json"
    run.to_json(stored)
    code = ("import sys; from assay.checks import Run; from assay.reports import render_html; "
            "sys.stdout.buffer.write(render_html(Run.from_json(sys.argv[1])).encode())")
    other = subprocess.run([sys.executable, "-c", code, str(stored)], check=True,
                           capture_output=True, env={**os.environ, "PYTHONHASHSEED": "7"})
    assert other.stdout.decode() == html


def test_no_scripts_and_no_external_references(html: str) -> None:
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.IGNORECASE)
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", html, re.IGNORECASE)
    assert "@import" not in html
    assert "<?xml" not in html and "<!DOCTYPE svg" not in html
    # the only http text left is XML namespace names, which are never fetched
    leftovers = re.sub(r'xmlns(:\w+)?="http://www\.w3\.org/[^"]*"', "", html)
    assert "http" not in leftovers


def test_accessible_structure(page: Page, html: str) -> None:
    assert page.th_without_scope == 0
    assert html.count('role="img"') == html.count("<svg ") == 6
    assert html.count("<title id=") == html.count("<desc id=") == 6
    assert '<html lang="en">' in html
    assert "@media print" in html


def test_never_claims_safety_or_validation(html: str) -> None:
    text = re.sub(r"<[^>]+>", " ", html)
    assert not re.search(r"\b(safe|safely|safety|unbiased|validated)\b", text, re.IGNORECASE)


def test_to_html_writes_the_file(run: Run, html: str, tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    assert run.to_html(path) == html
    assert path.read_text(encoding="utf-8") == html


def test_missing_jinja2_names_the_extra(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    from assay.reports import _html

    _html.template_environment.cache_clear()
    monkeypatch.setitem(sys.modules, "jinja2", None)
    try:
        with pytest.raises(MissingExtraError, match=r"assay\[report\]") as caught:
            render_html(run)
        assert caught.value.package == "jinja2"
    finally:
        _html.template_environment.cache_clear()


def test_missing_matplotlib_names_the_extra(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(MissingExtraError, match=r"assay\[report\]") as caught:
        render_html(run)
    assert caught.value.package == "matplotlib"


def test_importing_reports_needs_neither_jinja2_nor_matplotlib() -> None:
    code = ("import sys, assay.reports; "
            "assert 'jinja2' not in sys.modules and 'matplotlib' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_named_threshold_is_labelled_only_on_the_scores_the_plan_applies_it_to(run: Run) -> None:
    from assay.reports._html import _named_thresholds

    assert _named_thresholds(run, "readmit_risk") == {"high_risk": 0.3}
    assert _named_thresholds(run, "lactate") == {}


def test_a_run_without_checks_claims_no_result(run: Run) -> None:
    described_only = run.model_copy(update={"results": ()})
    html = render_html(described_only)
    assert "Overall result" not in html and 'id="checks"' not in html
    assert "describes performance without acceptance criteria" in html
    assert "nothing passes or fails" in html

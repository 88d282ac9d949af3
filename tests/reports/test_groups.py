"""The "By group" part of each score's section of the HTML report."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from assay.checks import MetricRecord, Run
from assay.reports import render_html
from assay.reports._format import format_count, format_interval


class GroupTables(HTMLParser):
    """The rows of every ``table.groups`` as lists of cell texts, keyed by caption."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, list[list[str]]] = {}
        self.headers: dict[str, list[str]] = {}
        self._table: str | None = None
        self._in_caption = False
        self._caption: list[str] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._head = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table" and "groups" in (dict(attrs).get("class") or ""):
            self._table = ""
        elif self._table is None:
            return
        elif tag == "caption":
            self._in_caption, self._caption = True, []
        elif tag == "thead":
            self._head = True
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if self._table is None:
            return
        if tag == "caption":
            self._in_caption = False
            self._table = "".join(self._caption)
            self.tables[self._table] = []
        elif tag == "thead":
            self._head = False
        elif tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._head:
                self.headers[self._table] = self._row
            else:
                self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._in_caption:
            self._caption.append(data)
        if self._cell is not None:
            self._cell.append(data)


@pytest.fixture(scope="module")
def grouped_html(grouped_run: Run) -> str:
    return render_html(grouped_run)


@pytest.fixture(scope="module")
def tables(grouped_html: str) -> GroupTables:
    parser = GroupTables()
    parser.feed(grouped_html)
    return parser


def _table(tables: GroupTables, grouping: str) -> tuple[list[str], dict[str, list[str]]]:
    caption = next(c for c in tables.tables if c.startswith(f"risk by {grouping}:"))
    return tables.headers[caption], {row[0]: row for row in tables.tables[caption]}


def _records(run: Run, group: str, value: str) -> list[MetricRecord]:
    return [r for r in run.group_metrics if r.group == group and r.group_value == value]


def _one(records: list[MetricRecord], metric: str) -> MetricRecord:
    return next(r for r in records if r.metric == metric
                and (r.threshold is None or r.threshold == 0.3))


def test_fixture_has_a_small_group(grouped_run: Run) -> None:
    small = _records(grouped_run, "sex", "X")
    assert small and all(r.suppressed and r.n == 7 for r in small)
    # the engine measured the small group, so the report must be what hides it
    assert _one(small, "sensitivity").value is not None
    assert grouped_run.plan.settings.small_cell_threshold == 11


def test_suppressed_row_shows_no_count_and_no_number(grouped_run: Run,
                                                     tables: GroupTables) -> None:
    _, rows = _table(tables, "sex")
    row = rows["X"]
    assert row == ["X", "suppressed: fewer than 11 patients"]
    text = " ".join(row)
    assert "7" not in text
    small = _records(grouped_run, "sex", "X")
    for metric in ("auroc", "sensitivity", "ppv", "flag_rate", "oe_ratio"):
        record = _one(small, metric)
        if record.value is not None:
            assert format_interval(record) not in text
    _, cross = _table(tables, "site × sex")
    assert cross["north × X"][1:] == ["suppressed: fewer than 11 patients"]
    assert cross["south × X"][1:] == ["suppressed: fewer than 11 patients"]


def test_unsuppressed_rows_match_the_records(grouped_run: Run, tables: GroupTables) -> None:
    header, rows = _table(tables, "sex")
    assert header == ["sex", "n", "AUROC", "Sensitivity at 0.30 “operating”",
                      "PPV at 0.30 “operating”", "Flag rate at 0.30 “operating”",
                      "O:E ratio", "Note"]
    for value in ("F", "M"):
        records = _records(grouped_run, "sex", value)
        auroc = _one(records, "auroc")
        assert auroc.n is not None and auroc.n > 11
        row = rows[value]
        assert row[1].startswith(format_count(auroc.n))
        expected = [format_interval(_one(records, m)) for m in
                    ("auroc", "sensitivity", "ppv", "flag_rate", "oe_ratio")]
        assert row[2:7] == expected
        assert all("(" in cell and "–" in cell for cell in row[2:7])


def test_plain_words_before_the_tables(grouped_html: str) -> None:
    start = grouped_html.index('id="score-1-groups"')
    part = grouped_html[start:grouped_html.index("</section>", start)]
    intro = re.sub(r"<[^>]+>", " ", part[:part.index("<figure")])
    intro = " ".join(intro.split())
    assert "2 groupings of the records: sex (3 groups) and site × sex (6 groups)" in intro
    assert "3 of these have fewer than 11 patients and are suppressed" in intro
    assert "overlapping intervals do not by themselves show" in intro
    text = re.sub(r"<svg.*?</svg>", " ", part, flags=re.DOTALL).lower()
    for word in ("fair", "unbiased", "safe"):
        assert not re.search(rf"\b{word}\b", text)


def test_forest_plot(grouped_run: Run, grouped_html: str) -> None:
    svgs = re.findall(r"<svg[^>]*>.*?</svg>", grouped_html, flags=re.DOTALL)
    forest = [s for s in svgs if 'id="forest-risk-title"' in s]
    assert len(forest) == 1
    svg = forest[0]
    assert '<title id="forest-risk-title">AUROC of risk by group</title>' in svg
    shown = sum(1 for r in grouped_run.group_metrics
                if r.metric == "auroc" and not r.suppressed and r.status == "ok")
    assert shown >= 4
    assert "<desc" in svg and f"for {shown} of 9 groups" in svg
    assert "sex = X: suppressed" in svg
    overall = grouped_run.metric("auroc", "risk")
    assert f"All patients: {format_interval(overall)}" in svg


def test_deterministic_and_self_contained(grouped_run: Run, grouped_html: str) -> None:
    assert render_html(grouped_run) == grouped_html
    assert render_html(Run.model_validate_json(grouped_run.to_json())) == grouped_html
    assert not re.search(r"(src|href)=\"(?!#)", grouped_html)
    assert "http://" not in grouped_html.replace("http://www.w3.org/", "")
    assert "https://" not in grouped_html
    assert "<script" not in grouped_html


def test_prepared_for_distribution_renders_the_same_rows(grouped_run: Run,
                                                         tables: GroupTables) -> None:
    parser = GroupTables()
    parser.feed(render_html(grouped_run.for_distribution()))
    assert parser.tables == tables.tables


def test_runs_without_groups_have_no_group_part(run: Run, html: str) -> None:
    assert not run.group_metrics
    page = re.sub(r"<style>.*?</style>", "", html, flags=re.DOTALL)
    assert "By group" not in page
    assert 'class="groups"' not in page
    assert "forest-" not in page
    assert "suppressed" not in page
    # the score sections end with the All metrics table, as before
    for anchor in ("score-1", "score-2"):
        section = page[page.index(f'<section id="{anchor}"'):]
        section = section[:section.index("</section>")]
        assert section.rstrip().endswith("</table>")


def test_undefined_cell_shows_its_reason(grouped_run: Run) -> None:
    changed = tuple(
        r.model_copy(update={"value": None, "ci_low": None, "ci_high": None,
                             "status": "undefined", "reason": "nobody was flagged"})
        if (r.group, r.group_value, r.metric) == ("sex", "F", "ppv") else r
        for r in grouped_run.metrics)
    parser = GroupTables()
    parser.feed(render_html(grouped_run.model_copy(update={"metrics": changed})))
    caption = next(c for c in parser.tables if c.startswith("risk by sex:"))
    row = next(r for r in parser.tables[caption] if r[0] == "F")
    assert row[4] == "—"
    assert row[-1] == "PPV at 0.30 “operating”: nobody was flagged"


def test_a_forest_plot_for_each_metric_column(grouped_run: Run, grouped_html: str) -> None:
    titles = re.findall(r'<title id="(forest-risk[^"]*)-title">([^<]*)</title>', grouped_html)
    slugs = [slug for slug, _ in titles]
    assert slugs[0] == "forest-risk"
    assert "forest-risk-sensitivity" in slugs and "forest-risk-oe_ratio" in slugs
    assert len(slugs) == len(set(slugs))  # ids unique on the page
    for _, title in titles:
        assert title.endswith("of risk by group")

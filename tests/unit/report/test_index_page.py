"""The run's index page: one row per report, relative links, failures, RAG badges, escaping, atomic write."""

from __future__ import annotations

import os

import pytest
from bs4 import BeautifulSoup

from rfd_lib.atomic import WriteError
from rfd_lib.report.index import IndexEntry, write_index

BANNER = "Internal: contains unsuppressed figures — do not circulate"
CHECKS = (
    "RFD-coded spells: patients aged under 18",
    "counted RFDs done as day cases",
    "counted RFDs per 100,000",
)
ENTRIES = (
    IndexEntry(
        provider_code="RAJ",
        provider_name="Mid and South Essex <b>NHS</b> Foundation Trust",
        html="providers/RAJ.html",
        pdf="providers/RAJ.pdf",
        headline=(("counted RFDs", "555"), ("rate per 100,000", "129.1"), ("funnel", "above 99.8 % limit")),
        statuses=tuple(zip(CHECKS, ("red", "amber", "green"), strict=True)),
    ),
    IndexEntry(
        provider_code="RBD",
        provider_name="Dorset County Hospital NHS Foundation Trust",
        html="providers/RBD.html",
        pdf=None,
        headline=(("counted RFDs", "40"), ("rate per 100,000", "12.0"), ("funnel", "within limits")),
        statuses=tuple(zip(CHECKS, ("green", "not assessable", "green"), strict=True)),
    ),
    IndexEntry(
        provider_code="RHQ",
        provider_name="Sheffield Teaching Hospitals NHS Foundation Trust",
        html=None,
        pdf=None,
        headline=(),
        statuses=(),
        failed="KeyError: <'catchment_population'> in internal/failed/RHQ.ipynb",
    ),
)


def _write(target, **changes):
    arguments = {
        "title": "Lumbar RFD audit",
        "subtitle": "Q1 2025/26 to Q2 2026/27",
        "run_date": "25 November 2026",
        "summary_html": "summary.html",
        "summary_pdf": "summary.pdf",
        "entries": ENTRIES,
        "banner": BANNER,
        "notes": ["Rates use <ONS> mid-2024 populations."],
        "footnote": "Counts of 1–7 are suppressed & others rounded to 5.",
    }
    return write_index(target, **{**arguments, **changes})


@pytest.fixture
def page(tmp_path):
    target = _write(tmp_path / "run" / "index.html")
    text = target.read_text(encoding="utf-8")
    return text, BeautifulSoup(text, "html.parser")


def _rows(soup):
    """Return each entry's row group (a failed report with figures has a second row for its reason)."""
    return soup.select("table.providers tbody.entry")


def test_one_row_per_entry_in_order(page):
    _, soup = page
    rows = _rows(soup)
    assert [row.select_one("td.code").get_text(strip=True) for row in rows] == ["RAJ", "RBD", "RHQ"]


def test_links_point_at_the_given_relative_paths(page):
    _, soup = page
    raj, rbd, _ = _rows(soup)
    assert [a["href"] for a in raj.find_all("a")] == ["providers/RAJ.html", "providers/RAJ.pdf"]
    assert [a["href"] for a in rbd.find_all("a")] == ["providers/RBD.html"]
    assert "no PDF" in rbd.get_text()
    summary = soup.select_one("section.summary")
    assert [a["href"] for a in summary.find_all("a")] == ["summary.html", "summary.pdf"]


def test_the_failed_entry_shows_its_reason_escaped_and_no_link(page):
    text, soup = page
    failed = _rows(soup)[2]
    assert "failed" in failed["class"]
    assert failed.find("a") is None
    assert "KeyError: <'catchment_population'> in internal/failed/RHQ.ipynb" in failed.get_text()
    assert "&lt;&#39;catchment_population&#39;&gt;" in text
    # One wide cell spans the links, headline and check columns: 1 + 3 + 3.
    assert failed.select_one("td.failure")["colspan"] == "7"


def test_a_failed_report_with_figures_keeps_them_and_gives_its_reason_below(tmp_path):
    entry = IndexEntry(
        "RM1",
        "Norfolk and Norwich",
        None,
        None,
        (("counted RFDs", "60"),),
        (("a check", "amber"),),
        failed="ValueError: NaN & <nothing> (executed notebook: internal/failed/RM1.ipynb)",
    )
    text = _write(tmp_path / "index.html", entries=[ENTRIES[0], entry]).read_text(encoding="utf-8")
    failed = _rows(BeautifulSoup(text, "html.parser"))[1]
    assert failed.find("a") is None
    main, detail = failed.find_all("tr")
    assert "report failed" in main.select_one("td.links").get_text()
    assert [span.get_text() for span in main.select("span.rag")] == ["amber"]
    assert (
        detail.get_text(strip=True)
        == "ValueError: NaN & <nothing> (executed notebook: internal/failed/RM1.ipynb)"
    )
    assert "NaN &amp; &lt;nothing&gt;" in text


def test_headline_values_sit_under_their_labels(page):
    _, soup = page
    headers = [th.get_text(strip=True) for th in soup.select("thead tr")[1].find_all("th")]
    assert headers[:3] == ["counted RFDs", "rate per 100,000", "funnel"]
    cells = [td.get_text(strip=True) for td in _rows(soup)[0].find_all("td")][3:6]
    assert cells == ["555", "129.1", "above 99.8 % limit"]


def test_numeric_columns_align_right_with_suppressed_cells_among_them(tmp_path):
    suppressed = IndexEntry(
        "RX1", "Small trust", "r.html", None, (("counted RFDs", "*"), ("funnel", "–")), ()
    )
    text = _write(tmp_path / "index.html", entries=[ENTRIES[0], suppressed]).read_text(encoding="utf-8")
    soup = BeautifulSoup(text, "html.parser")
    assert [th["class"] for th in soup.select("thead tr")[1].find_all("th")][:3] == [
        ["num"],
        ["num"],
        ["text"],
    ]
    assert [td["class"] for td in _rows(soup)[1].find_all("td")[3:6]] == [["num"], ["num", "muted"], ["text"]]


def test_badges_carry_their_class_and_text(page):
    _, soup = page
    raj, rbd, _ = _rows(soup)
    badges = [(span["class"][1], span.get_text(strip=True)) for span in raj.select("span.rag")]
    assert badges == [("rag-red", "red"), ("rag-amber", "amber"), ("rag-green", "green")]
    badges = [(span["class"][1], span.get_text(strip=True)) for span in rbd.select("span.rag")]
    assert badges == [("rag-green", "green"), ("rag-na", "n/a"), ("rag-green", "green")]
    legend = [(span["class"][1], span.get_text(strip=True)) for span in soup.select("ul.legend span.rag")[:4]]
    assert legend == [("rag-red", "red"), ("rag-amber", "amber"), ("rag-green", "green"), ("rag-na", "n/a")]
    assert [li.get_text(" ", strip=True) for li in soup.select("ol.key li")] == [
        f"C{number} {label}" for number, label in enumerate(CHECKS, start=1)
    ]


def test_the_banner_only_when_given(tmp_path, page):
    _, soup = page
    assert soup.select_one(".banner").get_text(strip=True) == BANNER
    plain = BeautifulSoup(
        _write(tmp_path / "plain.html", banner=None).read_text(encoding="utf-8"), "html.parser"
    )
    assert plain.select_one(".banner") is None
    assert BANNER not in plain.get_text()


def test_self_contained_no_scripts_no_remote_addresses(page):
    text, soup = page
    assert "<script" not in text.lower()
    assert soup.find(attrs={"onclick": True}) is None
    for element in soup.find_all(src=True) + soup.find_all(href=True):
        for attribute in ("src", "href"):
            value = element.get(attribute, "")
            assert not value.startswith(("http://", "https://", "//")), value
    assert soup.find("link") is None  # no external style sheet
    assert (
        "default-src 'none'" in soup.find("meta", attrs={"http-equiv": "Content-Security-Policy"})["content"]
    )


def test_everything_is_escaped(page):
    text, soup = page
    assert "<b>NHS</b>" not in text
    assert "&lt;b&gt;NHS&lt;/b&gt;" in text
    assert soup.select_one("table.providers b") is None
    assert (
        _rows(soup)[0].select_one("td.name").get_text() == "Mid and South Essex <b>NHS</b> Foundation Trust"
    )
    assert "&lt;ONS&gt;" in text and "suppressed &amp; others" in text


def test_links_are_percent_encoded_and_urls_refused(tmp_path):
    entry = IndexEntry("RX1", "Trust", "providers/RX1 #1.html", None, (), ())
    soup = BeautifulSoup(
        _write(tmp_path / "a.html", entries=[entry]).read_text(encoding="utf-8"), "html.parser"
    )
    assert _rows(soup)[0].find("a")["href"] == "providers/RX1%20%231.html"
    for link in (
        "https://example.org/report.html",
        "/home/jsmith/report.html",
        "javascript:alert(1)",
        "C:\\r.html",
    ):
        with pytest.raises(ValueError, match="relative"):
            _write(tmp_path / "b.html", summary_html=link)


def test_an_unknown_status_is_refused(tmp_path):
    entry = IndexEntry("RX1", "Trust", "r.html", None, (), (("a check", "Red"),))
    with pytest.raises(ValueError, match="status 'Red'"):
        _write(tmp_path / "index.html", entries=[entry])
    assert not (tmp_path / "index.html").exists()


def test_the_write_replaces_an_existing_index_and_leaves_no_temp_file(tmp_path):
    target = tmp_path / "index.html"
    target.write_text("old index", encoding="utf-8")
    assert _write(target) == target
    assert "old index" not in target.read_text(encoding="utf-8")
    assert "Lumbar RFD audit" in target.read_text(encoding="utf-8")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["index.html"]


def test_a_failed_write_keeps_the_old_index_and_leaves_no_temp_file(tmp_path, monkeypatch):
    target = tmp_path / "index.html"
    target.write_text("old index", encoding="utf-8")

    def fail(source, destination):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(WriteError, match=r"index.html: cannot be written \(disk full\)"):
        _write(target)
    assert target.read_text(encoding="utf-8") == "old index"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["index.html"]


def test_the_index_is_readable_by_others_as_the_umask_allows(tmp_path):
    old = os.umask(0o022)
    try:
        target = _write(tmp_path / "index.html")
    finally:
        os.umask(old)
    assert target.stat().st_mode & 0o777 == 0o644


def test_the_table_files_are_linked_by_name(tmp_path):
    target = _write(tmp_path / "run" / "index.html", tables=["tables/tables.xlsx", "tables/volumes.csv"])
    soup = BeautifulSoup(target.read_text(encoding="utf-8"), "html.parser")
    links = [(a.get_text(strip=True), a["href"]) for a in soup.select("section.tables a")]
    assert links == [("tables.xlsx", "tables/tables.xlsx"), ("volumes.csv", "tables/volumes.csv")]
    with pytest.raises(ValueError, match="relative"):
        _write(tmp_path / "other" / "index.html", tables=["/etc/tables.xlsx"])


def test_no_table_files_no_section(page):
    _, soup = page
    assert soup.select("section.tables") == []

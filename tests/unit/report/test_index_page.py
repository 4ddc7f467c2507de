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
    # One wide cell spans the red and amber counts, links, headline and check columns: 3 + 3 + 3.
    assert failed.select_one("td.failure")["colspan"] == "9"


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
    assert [span.get_text() for span in main.select("td.badge span.rag")] == ["A"]
    assert (
        detail.get_text(strip=True)
        == "ValueError: NaN & <nothing> (executed notebook: internal/failed/RM1.ipynb)"
    )
    assert "NaN &amp; &lt;nothing&gt;" in text


def test_headline_values_sit_under_their_labels(page):
    _, soup = page
    headers = [th.get_text(strip=True) for th in soup.select("thead tr")[1].find_all("th")]
    assert headers[:3] == ["counted RFDs", "rate per 100,000", "funnel"]
    cells = [td.get_text(strip=True) for td in _rows(soup)[0].find_all("td")][5:8]
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
    assert [td["class"] for td in _rows(soup)[1].find_all("td")[5:8]] == [["num"], ["num", "muted"], ["text"]]


def test_badges_carry_their_class_letter_and_status_in_words(page):
    _, soup = page
    raj, rbd, _ = _rows(soup)
    badges = [(span["class"][1], span.get_text(strip=True)) for span in raj.select("td.badge span.rag")]
    assert badges == [("rag-red", "R"), ("rag-amber", "A"), ("rag-green", "G")]
    badges = [(span["class"][1], span.get_text(strip=True)) for span in rbd.select("td.badge span.rag")]
    assert badges == [("rag-green", "G"), ("rag-na", "n/a"), ("rag-green", "G")]
    # Colour is not the only signal: a screen reader hears the check and its status in words.
    named = [(span["role"], span["aria-label"], span["title"]) for span in rbd.select("td.badge span.rag")]
    assert named[1] == ("img", f"{CHECKS[1]}: not assessable", f"{CHECKS[1]}: not assessable")
    legend = [li.get_text(" ", strip=True) for li in soup.select("ul.legend li")[:4]]
    assert [line.split(":")[0].strip() for line in legend] == ["R red", "A amber", "G green", "n/a n/a"]


def test_checks_are_named_in_words_in_the_column_heads_with_no_key(page):
    _, soup = page
    assert [th.get_text(strip=True) for th in soup.select("thead th.check")] == list(CHECKS)
    assert soup.select("ol.key") == [] and "C1" not in soup.get_text()


def test_each_line_counts_its_red_and_amber_checks(tmp_path):
    many = IndexEntry(
        "RX1", "Trust", "r.html", None, (), tuple(zip("abcd", ("red", "red", "amber", "green"), strict=True))
    )
    soup = BeautifulSoup(
        _write(tmp_path / "index.html", entries=[many, ENTRIES[1]]).read_text(encoding="utf-8"), "html.parser"
    )
    heads = [th.get_text(strip=True) for th in soup.select("thead th.tally-head")]
    assert heads == ["red", "amber"]
    counts = [[td.get_text(strip=True) for td in row.select("td.tally-cell")] for row in _rows(soup)]
    assert counts == [["2", "1"], ["0", "0"]]
    assert [span["class"] for span in _rows(soup)[0].select("td.tally-cell span")] == [
        ["rag", "rag-red"],
        ["rag", "rag-amber"],
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


def test_the_protective_marking_tops_and_tails_the_page_and_every_printed_page(tmp_path, page):
    marking = 'OFFICIAL-SENSITIVE <i>"x"</i>'
    text = _write(tmp_path / "index.html", marking=marking).read_text(encoding="utf-8")
    soup = BeautifulSoup(text, "html.parser")
    strips = soup.select("div.marking")
    assert [strip.get_text() for strip in strips] == [marking, marking]
    assert strips[0] is soup.body.find("div") and strips[1] is soup.body.find_all("div", recursive=False)[-1]
    assert "<i>" not in text
    # On paper: the top and bottom margin boxes, as a CSS string that cannot end the style element.
    css = '"OFFICIAL-SENSITIVE \\3c i\\3e \\22 x\\22 \\3c /i\\3e "'
    assert f"@top-center {{ content: {css};" in text and f"@bottom-center {{ content: {css};" in text
    none, _ = page
    assert 'class="marking' not in none and "@top-center" not in none

"""Report rendering: an executed notebook becomes one self-contained HTML file with no code, then an A4 PDF.

The fixture notebook (tests/notebooks/report_fixture.ipynb, committed without outputs) is executed
once per module with papermill, as the report runner will, and rendered with and without a banner.
"""

from __future__ import annotations

import dataclasses
import html as html_lib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import papermill
import pytest
from bs4 import BeautifulSoup

from rfd_lib.report import pdf
from rfd_lib.report.pdf import PdfError, find_chromium, print_pdf
from rfd_lib.report.render import RenderError, ReportContext, render_html
from tests.browser.chromium import CHROMIUM, needs_chromium, open_page
from tests.paths import TESTS

NOTEBOOKS = TESTS / "notebooks"
FIXTURE = NOTEBOOKS / "report_fixture.ipynb"
BROKEN = NOTEBOOKS / "broken_fixture.ipynb"
BANNER = "Contains unsuppressed figures — do not circulate"
INTERNAL = ReportContext(
    title="RFD audit: Synthetic Fenbridge General Hospital (ZF6)",
    subtitle="Financial quarter 2026/27 Q2 · lumbar radiofrequency facet joint denervation",
    run_date="25 November 2026",
    banner=BANNER,
    provenance=(
        ("rfd-audit version", "0.1.0"),
        ("Extract SHA-256", "9f2c4be1" * 8),
        ("Rule", "2K_RFD_back"),
    ),
)
PUBLIC = dataclasses.replace(INTERNAL, banner=None)

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdfinfo") is None,
    reason="poppler-utils (pdftotext, pdfinfo) not installed",
)
posix_only = pytest.mark.skipif(os.name != "posix", reason="the fake browsers are shell scripts")


# ---------- executing the fixture ----------


@pytest.fixture(scope="module")
def kernel_name(tmp_path_factory):
    """Return "python3", made to start this interpreter (the venv's) if the installed spec would not."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    # jupyter_client starts a spec whose argv[0] is one of these names with sys.executable.
    this_python = {"python", f"python{sys.version_info[0]}", "python{}.{}".format(*sys.version_info[:2])}
    try:
        argv0 = KernelSpecManager().get_kernel_spec("python3").argv[0]
    except NoSuchKernel:
        argv0 = None
    if argv0 in this_python or (argv0 and os.path.abspath(argv0) == os.path.abspath(sys.executable)):
        yield "python3"
        return
    # A user-wide python3 spec for another interpreter would lack rfd_lib and pandas: shadow it.
    folder = tmp_path_factory.mktemp("jupyter")
    spec = folder / "kernels" / "python3"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "Python 3", "language": "python"})
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(
            "JUPYTER_PATH", os.pathsep.join(p for p in (str(folder), os.environ.get("JUPYTER_PATH")) if p)
        )
        yield "python3"


@pytest.fixture(scope="module")
def executed(tmp_path_factory, kernel_name) -> Path:
    """Return the fixture notebook executed by papermill with a provider parameter injected."""
    out = tmp_path_factory.mktemp("executed") / "report_fixture.ipynb"
    papermill.execute_notebook(
        str(FIXTURE), str(out), parameters={"provider": "ZF6"}, kernel_name=kernel_name, progress_bar=False
    )
    return out


@pytest.fixture(scope="module")
def internal(tmp_path_factory, executed) -> Path:
    """Return the executed fixture rendered with the internal banner, alone in its folder."""
    return render_html(executed, tmp_path_factory.mktemp("internal") / "report.html", INTERNAL)


@pytest.fixture(scope="module")
def public(tmp_path_factory, executed) -> Path:
    """Return the executed fixture rendered without a banner, alone in its folder."""
    return render_html(executed, tmp_path_factory.mktemp("public") / "report.html", PUBLIC)


def soup_of(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def code_lines(nb: nbformat.NotebookNode) -> list[str]:
    """Lines of code that no output can contain verbatim (assignments, calls, imports, definitions)."""
    lines = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for line in cell.source.splitlines():
            line = line.strip()
            if len(line) >= 12 and (
                "=" in line or "(" in line or line.startswith(("import ", "from ", "def "))
            ):
                lines.append(line)
    return lines


# ---------- the HTML ----------


def test_the_fixture_really_has_what_the_report_must_hide(executed):
    nb = nbformat.read(executed, as_version=4)
    tags = [set(cell.metadata.get("tags", [])) for cell in nb.cells]
    assert {"parameters"} in tags and {"injected-parameters"} in tags and {"remove_cell"} in tags
    outputs = [output for cell in nb.cells if cell.cell_type == "code" for output in cell.outputs]
    assert any(
        o.output_type == "stream" and o.name == "stderr" and "FIXTURE-WARNING" in o.text for o in outputs
    )
    assert any("FIXTURE-REMOVED-CELL" in o.get("text", "") for o in outputs)
    assert any("image/png" in o.get("data", {}) for o in outputs)
    assert len(code_lines(nb)) >= 25


def test_report_is_one_file_that_fetches_nothing(internal):
    assert [p.name for p in internal.parent.iterdir()] == ["report.html"]
    text = internal.read_text(encoding="utf-8")
    soup = BeautifulSoup(text, "html.parser")
    assert "<script src" not in text.lower()
    assert soup.find_all(["script", "link", "iframe"]) == []
    for element in soup.find_all(True):
        for attribute in ("src", "href", "srcset"):
            value = element.get(attribute)
            if value is None or (element.name == "a" and attribute == "href"):
                continue
            assert not value.startswith(("http://", "https://", "//")), (
                f"<{element.name} {attribute}={value[:60]}>"
            )
    images = soup.find_all("img")
    assert len(images) == 2  # the chart figure and the plain image/png output
    assert all(img["src"].startswith("data:image/png;base64,") for img in images)
    assert soup.select_one("figure.chart img")["alt"] == "Counted RFDs by month, bar chart"
    assert soup.select_one(".jp-RenderedImage img")["src"].startswith("data:image/png;base64,")
    # Links stay links: following one is the reader's choice, not a fetch.
    assert soup.find("a", href="https://www.aomrc.org.uk/ebi/") is not None


def test_no_code_reaches_the_report(executed, internal):
    raw = internal.read_text(encoding="utf-8")
    unescaped = html_lib.unescape(raw)
    soup = BeautifulSoup(raw, "html.parser")
    shown = soup.get_text()  # highlighted code would be split by <span>s in the markup, not in the text
    for line in code_lines(nbformat.read(executed, as_version=4)):
        assert line not in raw and line not in unescaped and line not in shown, line
    assert "FIXTURE-WARNING" not in raw  # stderr
    assert "FIXTURE-REMOVED-CELL" not in raw  # remove_cell
    assert 'provider = "ZF6"' not in unescaped  # papermill's injected cell
    assert "In&nbsp;[" not in raw and "Out[" not in raw
    assert soup.select(".jp-InputArea-editor, .jp-InputPrompt, .jp-OutputPrompt, .highlight") == []
    assert "¶" not in raw  # nbconvert's heading anchor links


def test_header_shows_title_subtitle_and_run_date(internal):
    header = soup_of(internal).select_one("header.report-header")
    assert header.h1.get_text() == INTERNAL.title
    assert header.select_one(".report-subtitle").get_text() == INTERNAL.subtitle
    assert header.select_one(".report-run-date").get_text() == "Run on 25 November 2026"
    assert soup_of(internal).title.get_text() == INTERNAL.title


def test_contents_links_every_section_heading(internal):
    soup = soup_of(internal)
    links = soup.select("nav.contents a")
    headings = soup.select("main h2, main h3")
    assert [a["href"] for a in links] == [f"#{h['id']}" for h in headings]
    assert [a.get_text() for a in links] == [
        "Headline figures",
        "Activity",
        "Trend",
        "Monthly counts",
        "Restricted use",
        "Checks",
        "Trend",
        "Provenance",
    ]
    for link in links:
        assert len(soup.find_all(id=link["href"][1:])) == 1, link["href"]
    ids = [element["id"] for element in soup.find_all(id=True)]
    assert len(ids) == len(set(ids))
    # h3 entries nest under their h2.
    activity = soup.select_one("nav.contents > ol > li:nth-of-type(2)")
    assert [a.get_text() for a in activity.select(":scope > ol a")] == ["Trend", "Monthly counts"]


def test_provenance_table_ends_the_report(internal):
    soup = soup_of(internal)
    section = soup.select_one("section.provenance")
    assert section.h2.get_text() == "Provenance"
    rows = [(tr.th.get_text(), tr.td.code.get_text()) for tr in section.select("tr")]
    assert rows == list(INTERNAL.provenance)
    assert soup.select("main h2")[-1] is section.h2


def test_banner_shows_only_when_set(internal, public):
    inside = internal.read_text(encoding="utf-8")
    banner = BeautifulSoup(inside, "html.parser").select(".banner")
    assert [b.get_text() for b in banner] == [BANNER]
    assert f'@top-center {{ content: "{BANNER}"; }}' in inside  # every printed page
    outside = public.read_text(encoding="utf-8")
    assert "do not circulate" not in outside
    assert BeautifulSoup(outside, "html.parser").select(".banner, .has-banner") == []


def test_rag_cells_keep_their_word_in_a_badge(internal):
    soup = soup_of(internal)
    badges = {
        cls: [td.select_one("span.rag-badge").get_text() for td in soup.select(f"td.{cls}")]
        for cls in ("rag-green", "rag-amber", "rag-red", "rag-na")
    }
    assert badges == {
        "rag-green": ["Green"],
        "rag-amber": ["Amber"],
        "rag-red": ["Red"],
        "rag-na": ["Not assessable"],
    }
    headers = {th.get_text(): th.get("class", []) for th in soup.select("thead th")}
    assert "number" in headers["Counted RFDs"] and "number" in headers["Per 100,000"]
    assert "number" not in headers["Month"] and "number" not in headers["Status"]


def test_header_and_banner_text_cannot_break_out_of_the_page(tmp_path):
    nasty = 'Say "hi" </style><script>alert(1)</script> & \\ more'
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("## Only section")]
    context = dataclasses.replace(PUBLIC, title=nasty, banner=nasty, provenance=(("Note", nasty),))
    text = render_html(nb, tmp_path / "report.html", context).read_text(encoding="utf-8")
    soup = BeautifulSoup(text, "html.parser")
    assert soup.find_all("script") == []
    assert soup.select_one(".banner").get_text() == nasty
    assert soup.select_one("header h1").get_text() == nasty
    assert soup.select_one("section.provenance code").get_text() == nasty
    page_rule = soup.find_all("style")[-1].get_text()
    assert "</style>" not in page_rule and "\\22 " in page_rule  # quotes escaped inside CSS strings


def test_render_takes_a_notebook_node_and_replaces_the_target_atomically(executed, tmp_path):
    target = tmp_path / "report.html"
    target.write_text("an older report")
    result = render_html(nbformat.read(executed, as_version=4), target, PUBLIC)
    assert result == target
    assert "<main" in target.read_text(encoding="utf-8")
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_render_refuses_a_report_that_would_fetch_from_the_network(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell('## Logo\n\n<img src="https://example.org/logo.png" alt="logo">')
    ]
    target = tmp_path / "report.html"
    target.write_text("an older report")
    with pytest.raises(RenderError) as raised:
        render_html(nb, target, PUBLIC)
    assert "https://example.org/logo.png" in str(raised.value) and "\n" not in str(raised.value)
    assert target.read_text() == "an older report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_render_names_a_missing_notebook(tmp_path):
    missing = tmp_path / "nowhere.ipynb"
    with pytest.raises(RenderError, match=r"nowhere\.ipynb: no such notebook"):
        render_html(missing, tmp_path / "report.html", PUBLIC)
    assert list(tmp_path.iterdir()) == []


def test_a_failing_notebook_stops_and_renders_its_error_without_traceback(tmp_path, kernel_name):
    out = tmp_path / "broken.ipynb"
    with pytest.raises(papermill.PapermillExecutionError, match="deliberately broken fixture"):
        papermill.execute_notebook(str(BROKEN), str(out), kernel_name=kernel_name, progress_bar=False)
    nb = nbformat.read(out, as_version=4)  # papermill still writes the notebook, error included
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert [(e.ename, e.evalue) for e in errors] == [("RuntimeError", "deliberately broken fixture")]
    text = render_html(out, tmp_path / "broken.html", PUBLIC).read_text(encoding="utf-8")
    error = BeautifulSoup(text, "html.parser").select_one(".cell-error")
    assert error.get_text() == "RuntimeError: deliberately broken fixture"
    assert "Traceback" not in text and "raise RuntimeError" not in text


# ---------- in a browser ----------

PROBES = {
    "header": "getComputedStyle(document.querySelector('header.report-header')).backgroundColor",
    "title": "getComputedStyle(document.querySelector('header.report-header h1')).color",
    "banner": "getComputedStyle(document.querySelector('.banner')).backgroundColor",
    "banner_top": "document.querySelector('.banner').getBoundingClientRect().top",
    "red_badge": "getComputedStyle(document.querySelector('td.rag-red .rag-badge')).backgroundColor",
    "amber_text": "getComputedStyle(document.querySelector('td.rag-amber .rag-badge')).color",
    "count_align": "getComputedStyle(document.querySelector('td.count')).textAlign",
    "headline": "getComputedStyle(document.querySelector('.headline')).display",
    "note_size": "parseFloat(getComputedStyle(document.querySelector('p.note')).fontSize)",
    "chart_fits": "document.querySelector('figure.chart img').getBoundingClientRect().right"
    " <= document.querySelector('main').getBoundingClientRect().right",
}


@needs_chromium
def test_browser_shows_the_report_without_errors(internal, tmp_path):
    page = open_page(internal, tmp_path / "report.png", PROBES)
    assert page.console_errors == ()
    assert page.page_errors == ()
    assert page.external_requests == ()
    assert page.images == 2 and page.images_loaded == 2
    assert not page.overflows_horizontally
    assert (
        page.screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and page.screenshot.stat().st_size > 20_000
    )
    assert page.probes == {
        "header": "rgb(0, 94, 184)",
        "title": "rgb(255, 255, 255)",
        "banner": "rgb(213, 40, 27)",
        "banner_top": 0,
        "red_badge": "rgb(213, 40, 27)",
        "amber_text": "rgb(33, 43, 50)",
        "count_align": "right",
        "headline": "flex",
        "note_size": pytest.approx(13.6),
        "chart_fits": True,
    }


# ---------- the PDF ----------


def pdf_pages(path: Path) -> list[str]:
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    return [page for page in text.split("\f") if page.strip()]


def pdf_info(path: Path) -> str:
    return subprocess.run(["pdfinfo", str(path)], capture_output=True, check=True, text=True).stdout


@needs_chromium
@needs_poppler
def test_pdf_is_a4_with_banner_and_page_numbers_on_every_page(internal, tmp_path, capfd):
    target = print_pdf(internal, tmp_path / "report.pdf", CHROMIUM)
    assert capfd.readouterr() == ("", "")  # chromium's stderr noise is not shown on success
    assert target == tmp_path / "report.pdf" and target.read_bytes()[:5] == b"%PDF-"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.pdf"]
    info = pdf_info(target)
    assert "(A4)" in info
    pages = pdf_pages(target)
    assert len(pages) >= 2  # so "every page" means something
    assert f"Pages:           {len(pages)}" in info
    assert INTERNAL.title in pages[0]
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page
        assert BANNER in page, f"no banner on page {number}"
    assert "FIXTURE-WARNING" not in "".join(pages)


@needs_chromium
@needs_poppler
def test_pdf_without_banner_has_none(public, tmp_path):
    pages = pdf_pages(print_pdf(public, tmp_path / "report.pdf", CHROMIUM))
    assert "Page 1 of" in pages[0] and INTERNAL.title in pages[0]
    assert not any("do not circulate" in page for page in pages)


# ---------- finding a browser ----------


def fake_browser(folder: Path, name: str, body: str = "exit 0") -> Path:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


def test_find_chromium_honours_the_configured_browser(tmp_path, monkeypatch):
    configured = fake_browser(tmp_path, "my-chrome")
    monkeypatch.setenv("RFD_AUDIT_CHROMIUM", str(fake_browser(tmp_path, "from-env")))
    assert find_chromium(configured) == configured
    assert find_chromium(str(configured)) == configured


def test_find_chromium_names_a_missing_configured_browser(tmp_path):
    missing = tmp_path / "no-such-chrome"
    with pytest.raises(PdfError) as raised:
        find_chromium(missing)
    assert str(missing) in str(raised.value) and "no such browser" in str(raised.value)
    assert "\n" not in str(raised.value)


def test_find_chromium_uses_the_environment_variable(tmp_path, monkeypatch):
    browser = fake_browser(tmp_path, "edge")
    monkeypatch.setenv("RFD_AUDIT_CHROMIUM", str(browser))
    assert find_chromium() == browser
    monkeypatch.setenv("RFD_AUDIT_CHROMIUM", str(tmp_path / "gone"))
    with pytest.raises(PdfError, match="RFD_AUDIT_CHROMIUM"):
        find_chromium()


@posix_only
def test_find_chromium_searches_path_in_order_then_gives_none(tmp_path, monkeypatch):
    monkeypatch.delenv("RFD_AUDIT_CHROMIUM", raising=False)
    monkeypatch.setattr(pdf, "_install_paths", list)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_chromium() is None
    edge = fake_browser(tmp_path, "msedge")
    assert find_chromium() == edge
    chrome = fake_browser(tmp_path, "google-chrome")
    assert find_chromium() == chrome


# ---------- when printing fails ----------


@pytest.fixture
def page(tmp_path) -> Path:
    html = tmp_path / "report.html"
    html.write_text("<!DOCTYPE html><title>t</title><p>hello</p>")
    return html


@posix_only
def test_print_pdf_failure_is_one_line_naming_the_file_and_leaves_nothing(tmp_path, page):
    browser = fake_browser(
        tmp_path,
        "chromium",
        'for a in "$@"; do case "$a" in --print-to-pdf=*) out="${a#--print-to-pdf=}";; esac; done\n'
        'printf "%%PDF-1.4 half" > "$out"\n'
        'echo "fake chromium: cannot print" >&2\n'
        'echo "[1:2:ERROR:dbus/bus.cc:405] Failed to connect to the bus" >&2\n'
        "exit 1",
    )
    target = tmp_path / "out" / "report.pdf"
    with pytest.raises(PdfError) as raised:
        print_pdf(page, target, browser)
    message = str(raised.value)
    assert "\n" not in message
    assert str(page) in message and "exit status 1" in message and "fake chromium: cannot print" in message
    assert list(target.parent.iterdir()) == []  # the half-written partial is gone


@posix_only
def test_print_pdf_keeps_the_old_pdf_when_nothing_is_written(tmp_path, page):
    target = tmp_path / "report.pdf"
    target.write_bytes(b"%PDF- an older report")
    with pytest.raises(PdfError, match="no PDF written"):
        print_pdf(page, target, fake_browser(tmp_path, "chromium"))
    assert target.read_bytes() == b"%PDF- an older report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chromium", "report.html", "report.pdf"]


@posix_only
def test_print_pdf_stops_a_hung_browser(tmp_path, page):
    browser = fake_browser(tmp_path, "chromium", "sleep 30")
    started = time.monotonic()
    with pytest.raises(PdfError, match=r"did not finish printing within 1 s") as raised:
        print_pdf(page, tmp_path / "report.pdf", browser, timeout=1)
    assert time.monotonic() - started < 8  # the browser and its children were killed, not waited for
    assert str(page) in str(raised.value)
    assert not (tmp_path / "report.pdf").exists()


def test_print_pdf_names_a_missing_html_file(tmp_path):
    with pytest.raises(PdfError, match=r"missing\.html: no such HTML file"):
        print_pdf(tmp_path / "missing.html", tmp_path / "report.pdf", sys.executable)


def test_print_pdf_names_a_browser_that_cannot_start(tmp_path, page):
    with pytest.raises(PdfError, match="cannot start"):
        print_pdf(page, tmp_path / "report.pdf", tmp_path / "not-a-browser")
    assert not (tmp_path / "report.pdf").exists()


# ---------- the protective marking ----------

MARKING = "OFFICIAL-SENSITIVE <b>&"  # markup in it must print as text, never as markup


@needs_chromium
@needs_poppler
@pytest.mark.parametrize("banner", [None, BANNER])
def test_the_protective_marking_is_at_the_top_and_bottom_of_every_page(executed, tmp_path, banner):
    context = dataclasses.replace(INTERNAL, banner=banner, marking=MARKING)
    html = render_html(executed, tmp_path / "report.html", context)
    soup = soup_of(html)
    strips = soup.select("div.marking")
    assert [strip.get_text() for strip in strips] == [MARKING, MARKING]
    assert strips[0] is soup.body.find("div") and "foot" in strips[1]["class"]
    assert "<b>&" not in html.read_text(encoding="utf-8")
    pages = pdf_pages(print_pdf(html, tmp_path / "report.pdf", CHROMIUM))
    assert len(pages) >= 2
    for number, page in enumerate(pages, start=1):
        lines = [line.strip() for line in page.splitlines() if line.strip()]
        assert MARKING in lines[0], f"page {number} starts {lines[0]!r}"
        assert MARKING in lines[-1] or MARKING in lines[-2], f"page {number} ends {lines[-2:]!r}"
        assert f"Page {number} of {len(pages)}" in page
        assert (banner is None) == (BANNER not in page)

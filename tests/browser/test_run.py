"""The whole audit run, end to end, on a small synthetic set: reports that are right, whole and safe.

One run (module fixture) executes the summary and three provider notebooks through papermill in
two worker processes, renders them to HTML and prints them to PDF with headless Chromium. The
tests then read what an analyst would hand out: the index, each HTML report opened in a browser,
and each PDF's text, and check the figures against the saved audit and the identifiers of the
synthetic set against every page.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from bs4 import BeautifulSoup

from rfd_lib.cli import main
from rfd_lib.pipeline.params import ParamsError
from rfd_lib.pipeline.runner import run_audit
from rfd_lib.report.saved_audit import load_run
from rfd_lib.synthetic import write_extracts
from tests.browser.chromium import needs_chromium, open_page
from tests.paths import ROOT

PROVIDERS = ["ZF6", "ZH8", "ZK1"]
IDENTIFIERS = ["APCS_Ident", "Der_Pseudo_NHS_Number"]
MARKING = "OFFICIAL-SENSITIVE"
SAFE_COUNT = re.compile(r"^(\*|–|0|[1-9][0-9]{0,2}(,[0-9]{3})*)$")

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def extracts(tmp_path_factory) -> Path:
    """A small synthetic set (a fifth of the spells), as an analyst would receive it."""
    return write_extracts(tmp_path_factory.mktemp("extracts"), scale=0.2).folder


def params_file(folder: Path, extracts: Path, name: str, providers: list[str]) -> Path:
    files = sorted(str(path) for path in extracts.glob("Z*.csv"))
    text = {
        "name": name,
        "quarter": "2026/27 Q2",
        "extracts": {"files": files},
        "populations": str(extracts / "populations.csv"),
        "providers": providers,
        "output": str(folder / name),
        "jobs": 2,
        "protective_marking": MARKING,
    }
    path = folder / f"{name}.yaml"
    path.write_text(json.dumps(text), encoding="utf-8")  # JSON is YAML
    return path


@pytest.fixture(scope="module")
def run(tmp_path_factory, extracts):
    folder = tmp_path_factory.mktemp("run")
    return run_audit(params_file(folder, extracts, "q2", PROVIDERS), progress=False)


@pytest.fixture(scope="module")
def identifiers(extracts) -> set[str]:
    """Every spell and patient identifier in the synthetic extracts (none may reach a report)."""
    found: set[str] = set()
    for path in extracts.glob("Z*.csv"):
        manifest = json.loads((extracts / "manifest.json").read_text())["providers"][path.stem]
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(encoding=manifest["encoding"]),
            parse_options=pacsv.ParseOptions(delimiter=manifest["delimiter"]),
            convert_options=pacsv.ConvertOptions(
                column_types={column: pa.string() for column in IDENTIFIERS}, include_columns=IDENTIFIERS
            ),
        )
        for column in IDENTIFIERS:
            found |= {value.strip() for value in table[column].to_pylist() if value and value.strip()}
    return found


def pdf_text(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_every_report_is_made_whole(run):
    assert not run.failures
    names = [report.name for report in run.reports]
    assert names == ["summary", *PROVIDERS]
    for report in run.reports:
        assert report.html.is_file() and report.pdf.is_file() and report.executed.is_file()
        assert report.pdf.read_bytes().startswith(b"%PDF")
    assert not list(run.output.rglob("*.partial")), "a temporary file was left behind"
    read, accepted, quarantined = (
        int(n.replace(",", "")) for n in re.findall(r"[\d,]+", run.reconciliation)[:3]
    )
    assert read == accepted + quarantined and read > 1000
    executed = nbformat.read(run.reports[1].executed, as_version=4)
    assert executed.metadata.papermill.parameters["provider"] == "ZF6"


def test_the_index_links_every_report_with_its_statuses(run):
    soup = BeautifulSoup(run.index.read_text(encoding="utf-8"), "html.parser")
    links = {a["href"] for a in soup.find_all("a", href=True)}
    for name in ["summary", *PROVIDERS]:
        assert {f"{name}.html", f"{name}.pdf"} <= links
    badges = soup.select('[class*="rag-"]')
    assert any("red" in badge.get_text() for badge in badges)


def test_the_protective_marking_is_on_the_index_every_report_and_every_pdf_page(run):
    for page in ["index.html", "summary.html", f"{PROVIDERS[0]}.html"]:
        soup = BeautifulSoup((run.output / page).read_text(encoding="utf-8"), "html.parser")
        assert [strip.get_text(strip=True) for strip in soup.select("div.marking")] == [MARKING, MARKING], (
            page
        )
    for report in run.reports:
        pages = [page for page in pdf_text(report.pdf).split("\f") if page.strip()]
        for number, page in enumerate(pages, start=1):
            lines = [line for line in page.splitlines() if line.strip()]
            assert MARKING in lines[0] and MARKING in lines[-1], f"{report.pdf.name} page {number}"


@pytest.mark.parametrize("name,charts", [("summary", 2), ("ZK1", 6), ("ZF6", 4)])
def test_reports_render_in_a_browser_with_every_figure(run, name, charts, tmp_path):
    executed = nbformat.read(run.output / "internal" / "notebooks" / f"{name}.ipynb", as_version=4)
    figures = sum(
        output.get("data", {}).get("text/html", "").count('<figure class="chart">')
        for cell in executed.cells
        for output in cell.get("outputs", [])
    )
    page = open_page(run.output / f"{name}.html", tmp_path / f"{name}.png")
    assert page.console_errors == () and page.page_errors == () and page.external_requests == ()
    # Every chart the notebook drew is in the report and loads; a provider too small for a
    # trend chart (ZF6 here) has a note in its place, not a broken chart.
    assert page.images == figures >= charts and page.images_loaded == page.images
    assert (tmp_path / f"{name}.png").stat().st_size > 10_000


def test_the_pdf_carries_the_headline_figures(run):
    audit = load_run(run.output / "internal" / "audit_run.pkl").audit
    volumes = audit.volumes.set_index(["provider_code", "quarter"])
    for code in PROVIDERS:
        text = pdf_text(run.output / f"{code}.pdf")
        row = volumes.loc[(code, audit.quarter)]
        counted = "*" if row["counted_suppressed"] else f"{int(row['counted']):,}"
        assert f"{counted} counted RFDs" in " ".join(text.split()) or counted in text
        assert f"({code})" in text and "Page 1 of" in text and "Provenance" in text
    summary = pdf_text(run.output / "summary.pdf")
    assert "ZK1" in summary  # the heavy user is named on the funnel plot and in the league table


def pdf_pages(path: Path) -> list[list[str]]:
    """Return each page's lines of text (blanks collapsed), without the page-number footer line."""
    pages = []
    for page in pdf_text(path).split("\f"):
        lines = [" ".join(line.split()) for line in page.splitlines() if line.strip()]
        if lines and re.search(r"Page \d+ of \d+$", lines[-1]):
            lines.pop()
        pages.append(lines)
    while pages and not pages[-1]:
        pages.pop()
    return pages


def lead_ins(html: Path) -> tuple[set[str], list[str]]:
    """Return a report's headings, and the text of each markdown cell that introduces a chart or table.

    A lead-in (a heading with its opening sentences, or a sentence such as "Why ... not counted:")
    is a markdown cell followed by a cell of outputs; it belongs on the page of what it introduces.
    """

    def text(element) -> str:
        blocks = element.find_all(["h1", "h2", "h3", "h4", "p", "li"]) or [element]
        return " ".join(" ".join(block.get_text().split()) for block in blocks)

    soup = BeautifulSoup(html.read_text(encoding="utf-8"), "html.parser")
    headings = {text(heading) for heading in soup.select("main h1, main h2, main h3, main h4")}
    cells = soup.select("main > div.jp-Cell")
    leads = [
        text(cell)
        for cell, following in itertools.pairwise(cells)
        if "jp-MarkdownCell" in cell["class"] and "jp-MarkdownCell" not in following["class"]
    ]
    return headings, leads


def test_no_pdf_page_ends_with_a_heading_or_a_lead_in_parted_from_its_section(run):
    """Page by page (pdftotext), no page but the last ends on a heading or on what a chart's
    or table's lead-in says before it: the lead-in goes over to the next page with what it
    introduces. (The provider reports once left "Compared with peers" and "Trend" with their
    opening sentence at the foot of a page, their charts on the next.)"""
    for report in run.reports:
        headings, leads = lead_ins(report.html)
        assert headings and leads, report.name
        pages = pdf_pages(report.pdf)
        assert len(pages) > 2, report.name
        for number, lines in enumerate(pages[:-1], start=1):
            ending = " ".join(lines[-2:])
            assert lines[-1] not in headings, f"{report.name}.pdf page {number} ends with {lines[-1]!r}"
            parted = [lead for lead in leads if lines[-1] == lead or ending in lead]
            assert not parted, f"{report.name}.pdf page {number} ends with the lead-in {parted[0][:80]!r}"


def test_the_provenance_is_whole_on_one_page_with_its_heading(run):
    """No last page holding the provenance table's last few rows on their own."""
    for report in run.reports:
        pages = pdf_pages(report.pdf)
        (page,) = [lines for lines in pages if "Provenance" in lines]
        assert page is pages[-1] and any(line.startswith("run at ") for line in page), report.name
        assert any(line.startswith("rule file ") for line in page), report.name


def provenance_rows(html: Path) -> dict[str, str]:
    section = BeautifulSoup(html.read_text(encoding="utf-8"), "html.parser").select_one("section.provenance")
    return {row.th.get_text(strip=True): row.td.get_text(strip=True) for row in section.find_all("tr")}


def test_a_provider_report_lists_its_own_inputs_and_one_digest_of_the_other_providers(run, extracts):
    files = sorted(extracts.glob("Z*.csv"))
    assert len(files) == 20
    summary = provenance_rows(run.output / "summary.html")
    assert [label for label in summary if label.startswith("input Z")] == [f"input {f.name}" for f in files]
    for code in PROVIDERS:
        rows = provenance_rows(run.output / f"{code}.html")
        assert [label for label in rows if label.startswith("input ")] == [
            f"input {code}.csv",
            "input populations.csv",
            "input expectations.yaml",
            "input code_lists.yaml",
            "input wording.yaml",
        ]
        assert rows[f"input {code}.csv"] == summary[f"input {code}.csv"]
        # `sha256sum <the other 19 files> | LC_ALL=C sort -k2 | sha256sum`, as the README says.
        others = "".join(f"{summary[f'input {f.name}']}  {f.name}\n" for f in files if f.stem != code)
        assert rows["other providers' extracts (19 files)"] == hashlib.sha256(others.encode()).hexdigest()


def test_no_identifier_or_small_count_reaches_a_report(run, identifiers):
    assert len(identifiers) > 1000
    pages = {path.name: path.read_text(encoding="utf-8") for path in run.output.glob("*.html")}
    pages |= {path.name: pdf_text(path) for path in run.output.glob("*.pdf")}
    for name, text in pages.items():
        tokens = set(re.findall(r"[A-Za-z0-9]{6,}", text))
        assert not tokens & identifiers, f"{name} shows a spell or patient identifier"
    for path in run.output.glob("*.html"):
        soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
        cells = soup.select("td.count")
        assert cells or path.name == "index.html"
        for cell in cells:
            text = cell.get_text(strip=True)
            assert SAFE_COUNT.match(text), f"{path.name}: count cell {text!r}"
            if text not in ("*", "–"):
                assert int(text.replace(",", "")) % 5 == 0, f"{path.name}: {text} is not rounded"


def test_a_failing_provider_does_not_stop_the_others(run, extracts, tmp_path, monkeypatch, capsys):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    shutil.copy(ROOT / "notebooks" / "summary.ipynb", notebooks)
    provider = nbformat.read(ROOT / "notebooks" / "provider_audit.ipynb", as_version=4)
    provider.cells.insert(3, nbformat.v4.new_code_cell('assert provider != "ZF6", "deliberately broken"'))
    nbformat.write(provider, notebooks / "provider_audit.ipynb")
    monkeypatch.setattr("rfd_lib.config.NOTEBOOKS_DIR", notebooks)
    status = main(["run", str(params_file(tmp_path, extracts, "broken", ["ZF6", "ZH8"])), "--quiet"])
    err = capsys.readouterr().err
    assert status == 1
    assert "'ZF6': AssertionError: deliberately broken" in err and "ZF6.ipynb" in err
    output = tmp_path / "broken"
    assert (output / "ZH8.pdf").is_file() and not (output / "ZF6.html").exists()
    failed = nbformat.read(output / "internal" / "notebooks" / "ZF6.ipynb", as_version=4)
    assert any(o.get("ename") == "AssertionError" for c in failed.cells for o in c.get("outputs", []))
    index = (output / "index.html").read_text(encoding="utf-8")
    assert "deliberately broken" in index
    # The same inputs give the same numbers as the first run.
    first = load_run(run.output / "internal" / "audit_run.pkl").audit
    again = load_run(output / "internal" / "audit_run.pkl").audit
    pd.testing.assert_frame_equal(first.volumes, again.volumes)
    pd.testing.assert_frame_equal(first.checks, again.checks)


@pytest.mark.parametrize(
    "change,words",
    [
        ({"providers": ["ZZ9"]}, "providers: ZZ9 not in the extracts HINT: the extracts have ZA1, "),
        ({"quarter": "2019/20 Q1"}, "quarter: 2019/20 Q1 is not in the extracts, which cover 2024/25 Q3 to"),
    ],
)
def test_a_provider_or_quarter_the_extracts_lack_is_one_line_before_anything_is_written(
    extracts, tmp_path, change, words
):
    path = params_file(tmp_path, extracts, "wrong", ["ZH8"])
    path.write_text(json.dumps({**json.loads(path.read_text()), **change}), encoding="utf-8")
    with pytest.raises(ParamsError) as caught:
        run_audit(path, progress=False)
    assert str(caught.value).startswith(f"{path.resolve()}: ") and words in str(caught.value)
    assert not (tmp_path / "wrong").exists(), "nothing is written for a run that cannot start"


def test_without_a_browser_the_html_is_still_made(extracts, tmp_path, monkeypatch):
    monkeypatch.setattr("rfd_lib.pipeline.runner.find_chromium", lambda configured=None: None)
    result = run_audit(params_file(tmp_path, extracts, "nopdf", ["ZH8"]), progress=False, jobs=1)
    assert not result.failures and (result.output / "ZH8.html").is_file()
    assert not (result.output / "ZH8.pdf").exists()
    assert any("No Chromium, Chrome or Edge was found" in note for note in result.notes)

"""The run's index as an auditor reads it (issue 13 item 6): the demo's 20 providers, every check
named in words, and no horizontal scroll on a 1280 px screen or an A4 landscape page.

The index is written from the demo's own synthetic set and audit (the same figures ``make
report`` puts on it), each provider linked to an HTML and a PDF report, then laid out by
headless Chromium.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest
from bs4 import BeautifulSoup

from rfd_lib.errors import RfdAuditError
from rfd_lib.metrics.audit import audit_metrics
from rfd_lib.report.index import write_run_index
from rfd_lib.report.outcome import SUMMARY, Report
from rfd_lib.report.pdf import print_pdf
from rfd_lib.report.saved_audit import AuditRun, provider_names
from rfd_lib.yaml_model import read_yaml
from tests.browser.chromium import CHROMIUM, needs_chromium, widths
from tests.paths import ROOT

pytestmark = needs_chromium
MARKING = "OFFICIAL-SENSITIVE"

# A4 landscape less the index's @page margins (11 mm each side), in CSS px (96 to the inch).
A4_LANDSCAPE_PRINTABLE = round((297 - 2 * 11) / 25.4 * 96)


@pytest.fixture(scope="module")
def index(synthetic_set, tmp_path_factory):
    folder = tmp_path_factory.mktemp("index")
    audit = audit_metrics(synthetic_set.classified, populations=synthetic_set.populations)
    names = provider_names(synthetic_set.populations)
    run = AuditRun(audit, "demo", names, (), "1 April 2027", marking=MARKING)
    reports = [Report(SUMMARY, folder / "internal" / "summary.ipynb", html=folder / "summary.html")]
    reports += [
        Report(
            code,
            folder / "internal" / f"{code}.ipynb",
            html=folder / f"{code}.html",
            pdf=folder / f"{code}.pdf",
        )
        for code in audit.providers
    ]
    return write_run_index(run, reports, folder, [], False)


def test_the_demo_index_has_every_provider_and_every_check_named_in_words(index):
    soup = BeautifulSoup(index.read_text(encoding="utf-8"), "html.parser")
    assert len(soup.select("table.providers tbody.entry")) == 20
    expectations = read_yaml(ROOT / "params" / "expectations.yaml", RfdAuditError, "the expectations")
    shorts = [check["short"] for check in expectations["checks"].values()]
    heads = [th.get_text(" ", strip=True) for th in soup.select("table.providers th.check")]
    assert sorted(heads) == sorted(shorts) and len(heads) == 9
    assert soup.select("ol.key") == [] and "C1" not in soup.get_text()


def test_no_horizontal_scroll_on_a_1280_px_screen(index):
    seen = widths(index, 1280, 800)
    assert seen == {"page": 1280}, seen


def test_no_horizontal_scroll_on_an_a4_landscape_page(index):
    seen = widths(index, A4_LANDSCAPE_PRINTABLE, 735, media="print")
    assert seen == {"page": A4_LANDSCAPE_PRINTABLE}, seen


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) not installed")
def test_the_printed_index_has_the_marking_at_the_top_and_bottom_of_every_page(index, tmp_path):
    pdf = print_pdf(index, tmp_path / "index.pdf", CHROMIUM)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True)
    pages = [page for page in text.stdout.split("\f") if page.strip()]
    assert len(pages) >= 2
    for number, page in enumerate(pages, start=1):
        lines = [line.strip() for line in page.splitlines() if line.strip()]
        assert lines[0] == MARKING and lines[-1] == MARKING, f"page {number}: {lines[0]!r} … {lines[-1]!r}"

"""Statuses are defined once: every one has a badge, a colour on every page, and a legend line."""

from __future__ import annotations

import pytest

from rfd_lib.charts.house_style import RAG
from rfd_lib.metrics.status import Status
from tests.paths import ROOT

STYLES = [
    ROOT / "rfd_lib" / "report" / "templates" / "rfd_report" / "report.css",
    ROOT / "rfd_lib" / "report" / "templates" / "index.html.j2",
]


@pytest.mark.parametrize("status", list(Status))
def test_every_status_is_styled_coloured_and_explained(status):
    for style in STYLES:
        assert f".{status.css_class}" in style.read_text(encoding="utf-8"), (
            f"{style.name}: {status.css_class}"
        )
    assert status in RAG and status.meaning and status.badge


def test_statuses_are_plain_text_in_tables():
    assert Status.RED == "red" and {"red": 1}[Status.RED] == 1
    assert len({status.css_class for status in Status}) == len({status.badge for status in Status}) == 4

"""The summary's league table says each provider's trend in words from the wording file, not as a code."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest
from bs4 import BeautifulSoup

from rfd_lib.metrics.audit import audit_metrics
from rfd_lib.report.saved_audit import AuditRun, provider_names
from rfd_lib.report.summary_page import TREND_WORDS, SummaryPage
from rfd_lib.wording import say, wording

# Every variation icon rfd_lib.metrics.spc gives (variation × side of the mean, or common cause).
ICONS = ["common_cause"] + [
    f"{kind}_{side}" for kind in ("improvement", "concern", "neither") for side in ("high", "low")
]


@pytest.fixture(scope="module")
def run(synthetic_set) -> AuditRun:
    audit = audit_metrics(synthetic_set.classified, populations=synthetic_set.populations)
    return AuditRun(audit, "league", provider_names(synthetic_set.populations), (), "1 April 2027")


def _trend_cells(run: AuditRun, icons: list[object]) -> list[str]:
    """Return the league table's trend cells when the providers' variation icons are ``icons``."""
    spc = run.audit.spc.copy()
    spc["variation_icon"] = pd.Series(icons[: len(spc)], index=spc.index, dtype="string")
    page = SummaryPage(dataclasses.replace(run, audit=dataclasses.replace(run.audit, spc=spc)))
    table = BeautifulSoup(str(page.league_table()), "html.parser").find("table")
    headings = [cell.get_text(strip=True) for cell in table.thead.find_all("th")]
    column = headings.index(say("summary_page.league_table.trend"))
    return [row.find_all(["th", "td"])[column].get_text(strip=True) for row in table.tbody.find_all("tr")]


def test_every_variation_icon_has_words_in_the_wording_file():
    assert sorted(TREND_WORDS) == sorted(ICONS)
    for icon, key in TREND_WORDS.items():
        assert key == f"summary_page.league_table.trend_value.{icon}"
        assert "_" not in wording().say(key)


def test_the_trend_column_says_each_icon_in_words(run):
    icons = [*ICONS, None] * 3
    cells = _trend_cells(run, icons)
    expected = [
        say(TREND_WORDS[icon]) if icon else say("summary_page.league_table.no_trend_chart")
        for icon in icons[: len(cells)]
    ]
    assert cells == expected
    assert "special cause: high (neither better nor worse)" in cells
    assert not [cell for cell in cells if "neither high" in cell or "_" in cell or cell in ICONS]

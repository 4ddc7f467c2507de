"""A provider's report and the run's index say what changed since the previous quarter (issue 13 item 4)."""

from __future__ import annotations

import dataclasses

import pytest
from bs4 import BeautifulSoup

from rfd_lib.metrics.audit import audit_metrics
from rfd_lib.report.index import write_run_index
from rfd_lib.report.outcome import SUMMARY, Report
from rfd_lib.report.pages import ProviderPage
from rfd_lib.report.saved_audit import AuditRun, provider_names
from rfd_lib.wording import say


@pytest.fixture(scope="module")
def run(synthetic_set) -> AuditRun:
    audit = audit_metrics(synthetic_set.classified, populations=synthetic_set.populations)
    return AuditRun(audit, "changes", provider_names(synthetic_set.populations), (), "1 April 2027")


@pytest.fixture(scope="module")
def moved(run) -> tuple[AuditRun, str, str]:
    """The run with its first provider's repeat check green last quarter and red now."""
    audit = run.audit
    code, previous = audit.providers[0], audit.quarters[-2]
    checks = audit.checks.copy()
    rows = (checks["provider_code"] == code) & (checks["check"] == "repeat")
    checks.loc[rows & (checks["quarter"] == previous), ["status", "share"]] = ["green", 0.0]
    checks.loc[rows & (checks["quarter"] == audit.quarter), ["status", "share"]] = ["red", 0.5]
    # Every other check of the provider unchanged, so the words are exactly the one change.
    others = (checks["provider_code"] == code) & ~rows
    now = checks[others & (checks["quarter"] == audit.quarter)].set_index("check")["status"]
    before = others & (checks["quarter"] == previous)
    checks.loc[before, "status"] = checks.loc[before, "check"].map(now).to_numpy()
    return dataclasses.replace(run, audit=dataclasses.replace(audit, checks=checks)), code, previous


def test_a_providers_report_says_what_changed_since_last_quarter(moved):
    run, code, previous = moved
    soup = BeautifulSoup(str(ProviderPage(run, code).since_last_quarter()), "html.parser")
    text = soup.get_text(" ")
    assert f"Checks' statuses since {previous}: 1 new red." in text
    volumes = run.audit.volumes.set_index(["provider_code", "quarter"])["counted"]
    assert f"Counted RFDs: {volumes[(code, previous)]} in {previous}" in text
    headings = [cell.get_text(strip=True) for cell in soup.find("table").thead.find_all("th")]
    assert f"status, {previous}" in headings and f"status, {run.audit.quarter}" in headings
    rows = [
        [cell.get_text(strip=True) for cell in row.find_all(["th", "td"])]
        for row in soup.tbody.find_all("tr")
    ]
    repeat = next(
        row for row in rows if row[0] == run.audit.checks.set_index("check").loc["repeat", "label"].iat[0]
    )
    assert repeat[1:] == ["0 %", "green", "50 %", "red", "new"]
    assert {row[-1] for row in rows} <= {"unchanged", "new", "not comparable"}


def test_an_audit_of_one_quarter_says_there_is_no_previous_quarter(synthetic_set):
    first = sorted(synthetic_set.classified["discharge_date"].dropna())[0]
    audit = audit_metrics(synthetic_set.classified, quarter=f"{first.year}/{(first.year + 1) % 100:02d} Q3")
    assert len(audit.quarters) == 1
    run = AuditRun(audit, "one", {}, (), "1 April 2027")
    text = str(ProviderPage(run, audit.providers[0]).since_last_quarter())
    assert "there is no previous quarter to compare with" in text and "<table" not in text


def test_the_index_says_each_providers_changes_in_a_few_words(moved, tmp_path):
    run, code, _ = moved
    reports = [Report(SUMMARY, tmp_path / "internal" / "s.ipynb", html=tmp_path / "summary.html")]
    reports += [
        Report(c, tmp_path / "internal" / f"{c}.ipynb", html=tmp_path / f"{c}.html")
        for c in run.audit.providers
    ]
    index = write_run_index(run, reports, tmp_path, [], False)
    soup = BeautifulSoup(index.read_text(encoding="utf-8"), "html.parser")
    headline = [th.get_text(strip=True) for th in soup.select("table.providers thead tr")[1].find_all("th")]
    # After code, name, the red and amber counts and the links.
    column = 5 + headline.index(say("run_index.headline.changes"))
    cells = {
        row.find("td", class_="code").get_text(strip=True): row.find_all("td")[column].get_text(strip=True)
        for row in soup.select("table.providers tbody.entry tr:first-child")
    }
    assert len(cells) == len(run.audit.providers)
    assert cells[code] == "1 new red"
    assert all(cell for cell in cells.values())

"""The demo run as a reader gets it: its table files match its reports, and the attacker learns nothing.

One full run of ``params/demo.yaml``'s synthetic set (every provider, HTML reports, module
fixture) writes ``tables/``. The tests check that the index links the files, that every count a
report shows (cells of class ``count``) is in them with the same value, and then attack the
files (tests/attacker.py): for every suppressed count, which true values are still possible
given everything circulated. The true counts come from the same audit in internal mode, to
check that the attacker assumes nothing false.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from bs4 import BeautifulSoup
from openpyxl import load_workbook

from rfd_lib.metrics.audit import audit_metrics
from rfd_lib.metrics.disclosure import INTERNAL
from rfd_lib.pipeline.runner import run_audit
from rfd_lib.report.saved_audit import provider_names
from rfd_lib.report.table_files import TABLES, WORKBOOK, table_files, tidy_tables
from tests.attacker import THRESHOLD, attack, read_figures, totals, truth_violations

QUARTER = "2026/27 Q2"
KEY = ["table", "provider_code", "quarter", "measure", "statistic"]
ALL_SMALL = tuple(range(1, THRESHOLD + 1))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo-run")
    params = {
        "name": "demo",
        "quarter": QUARTER,
        "extracts": {"synthetic": True},
        "disclosure": "circulation",
        "formats": ["html"],
        "output": str(folder / "demo"),
        "jobs": 2,
    }
    path = folder / "demo.yaml"
    path.write_text(json.dumps(params), encoding="utf-8")  # JSON is YAML
    result = run_audit(path, progress=False)
    assert not result.failures
    return result


@pytest.fixture(scope="module")
def figures(run) -> pd.DataFrame:
    return read_figures(run.output / "tables")


@pytest.fixture(scope="module")
def truth(synthetic_set, tmp_path_factory) -> pd.DataFrame:
    """The same audit's true counts: the synthetic set (the run's: same seed), in internal mode."""
    folder = tmp_path_factory.mktemp("truth")
    audit = audit_metrics(
        synthetic_set.classified, quarter=QUARTER, populations=synthetic_set.populations, policy=INTERNAL
    )
    table_files(audit, provider_names(synthetic_set.populations), folder)
    return read_figures(folder)


def test_the_run_writes_the_tables_and_the_index_links_them(run, synthetic_set):
    folder = run.output / "tables"
    assert sorted(path.name for path in folder.iterdir()) == sorted([*(f"{t}.csv" for t in TABLES), WORKBOOK])
    assert sorted(run.tables) == sorted(folder.iterdir())
    record = json.loads((run.output / "internal" / "run.json").read_text(encoding="utf-8"))
    assert sorted(record["tables"]) == sorted(str(path) for path in folder.iterdir())
    soup = BeautifulSoup((run.output / "index.html").read_text(encoding="utf-8"), "html.parser")
    links = {a["href"] for a in soup.select("section.tables a")}
    assert links == {f"tables/{path.name}" for path in folder.iterdir()}
    # The files are the audit's published figures, exactly: the same audit worked out again.
    audit = audit_metrics(synthetic_set.classified, quarter=QUARTER, populations=synthetic_set.populations)
    for name, table in tidy_tables(audit, provider_names(synthetic_set.populations)).items():
        written = pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)
        assert written[["provider_code", "quarter", "measure", "statistic"]].equals(
            table[["provider_code", "quarter", "measure", "statistic"]].astype(str)
        ), name
    assert load_workbook(folder / WORKBOOK).sheetnames == ["about", *TABLES]


def _as_shown(row) -> str:
    """Return a file's figure as a report prints a count: 1,234, * or –."""
    if row.suppressed:
        return "*"
    return "–" if pd.isna(row.number) else f"{int(row.number):,}"


OUTSIDE = "Outside the definition: first restriction not met"  # the heading of its steps' column


def _count_tables(page: Path) -> list[pd.DataFrame]:
    """Return each table of ``page`` with a count cell: its text, and which cells are counts."""
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    found = []
    for table in soup.select("table"):
        if not table.select("td.count"):
            continue
        headings = [th.get_text(strip=True) for th in table.select("thead th")]
        rows = [
            {
                headings[n]: (cell.get_text(strip=True), "count" in (cell.get("class") or []))
                for n, cell in enumerate(row.select("td"))
            }
            for row in table.select("tbody tr")
        ]
        found.append(rows)
    return found


def test_every_count_a_report_shows_is_in_the_tables_with_the_same_value(run, figures):
    checked = 0
    checks = figures[(figures["table"] == "checks") & (figures["quarter"] == QUARTER)]
    waterfall = figures[(figures["table"] == "waterfall") & (figures["quarter"] == QUARTER)]
    for report in run.reports:
        if report.name == "summary":
            continue
        mine = checks[checks["provider_code"] == report.name]
        tables = _count_tables(report.html)
        (rows,) = [table for table in tables if table and "Check" in table[0]]
        # Outside the national definition: each step's spells are the waterfall's, as published.
        steps = waterfall[waterfall["provider_code"] == report.name]
        for table in [table for table in tables if table and OUTSIDE in table[0]]:
            for row in table:
                (figure,) = steps[steps["label"] == row[OUTSIDE][0]].itertuples()
                assert row["Spells"] == (_as_shown(figure), True), (report.name, row[OUTSIDE][0])
                checked += 1
        for row in rows:
            label = row["Check"][0]
            for heading, statistic in (("Spells", "numerator"), ("Of", "denominator")):
                text, is_count = row[heading]
                if not is_count:
                    continue
                (figure,) = mine[(mine["label"] == label) & (mine["statistic"] == statistic)].itertuples()
                assert text == _as_shown(figure), (report.name, label, statistic)
                checked += 1
    volumes = figures[(figures["table"] == "volumes") & (figures["measure"] == "counted")]
    summary = _count_tables(run.output / "summary.html")
    (league,) = [table for table in summary if table and "Counted RFDs" in table[0]]
    (outside,) = [table for table in summary if table and "RFD-coded spells" in table[0]]
    for row in outside:
        code = re.search(r"\(([^()]*)\)$", row["Provider"][0]).group(1)
        steps = waterfall[waterfall["provider_code"] == code]
        for heading, (text, is_count) in row.items():
            if heading == "Provider":
                continue
            step = {"RFD-coded spells": "rfd_coded", "Counted as 2K_RFD_back": "counted"}.get(heading)
            (figure,) = (
                steps[steps["measure"] == step] if step else steps[steps["label"] == heading]
            ).itertuples()
            assert is_count and text == _as_shown(figure), (code, heading)
            checked += 1
    for row in league:
        code = re.search(r"\(([^()]*)\)$", row["Provider"][0]).group(1)
        mine = volumes[(volumes["provider_code"] == code) & volumes["quarter"].str.endswith(QUARTER)]
        one = mine[mine["quarter"] == QUARTER].itertuples()
        several = mine[mine["quarter"] != QUARTER].itertuples()
        for (text, is_count), (figure,) in ((row["Counted RFDs"], one), (row["Last 4 quarters"], several)):
            assert is_count and text == _as_shown(figure), code
            checked += 1
    assert checked > 20 * 10


def test_the_attacker_finds_every_suppressed_count_as_uncertain_as_a_star(figures, truth, record_property):
    assert truth_violations(figures, truth) == []
    found = attack(figures).merge(
        truth[[*KEY, "number"]].rename(columns={"number": "true"}), on=KEY, how="left"
    )
    assert len(found) > 100
    small = found["true"].between(1, THRESHOLD) & ~totals(found)
    narrowed = found[small & found["feasible_small"].map(lambda values: values != ALL_SMALL)]
    assert narrowed.empty, narrowed
    assert (found["size"] >= THRESHOLD).all(), found[found["size"] < THRESHOLD]
    smallest = int(found["size"].min())
    record_property("smallest_feasible_set", smallest)
    print(
        f"\nattacker, demo run: {len(found)} suppressed counts, smallest feasible set {smallest} "
        f"(goal: {THRESHOLD}); every one of the {int(small.sum())} counts of 1 to {THRESHOLD} keeps all of 1 to {THRESHOLD}"
    )


def test_the_readme_age_band_chart_is_in_every_report_disclosure_controlled(run):
    """The README's worked example (notebooks' "Your analysis") runs in the demo run, its figures protected."""
    checked = 0
    for report in run.reports:
        soup = BeautifulSoup(report.html.read_text(encoding="utf-8"), "html.parser")
        (caption,) = [
            figure.figcaption.get_text(" ", strip=True)
            for figure in soup.select("figure.chart")
            if "Counted RFDs by age band" in figure.img["alt"]
        ]
        figures = re.search(r"The figures: (.*?)\. ", caption).group(1).split("; ")
        assert [figure.split(": ")[0] for figure in figures] == ["19–39", "40–59", "60–79", "80+"]
        for figure in figures:
            value = figure.split(": ")[1]
            assert value == "*" or int(value.replace(",", "")) % 5 == 0, (report.name, figure)
            checked += value != "0"
        assert "rounded to the nearest 5" in caption
    assert checked > 20

"""The table files for analysts: the tidy schema, hostile provider names made safe, internal mode marked."""

from __future__ import annotations

import csv

import pandas as pd
import pytest
from openpyxl import load_workbook

from rfd_lib.metrics.disclosure import CIRCULATION, INTERNAL, INTERNAL_BANNER
from rfd_lib.report.table_files import (
    INTERNAL_PREFIX,
    TABLES,
    WORKBOOK,
    table_files,
    tidy_tables,
    write_tables,
)
from rfd_lib.report.tidy_rows import COLUMNS
from tests.attacker import Spells, audit_of

Q1, Q2 = "2025/26 Q1", "2025/26 Q2"
HOSTILE = {
    "RXA": '=HYPERLINK("http://example.invalid","click")',
    "RXB": "+cmd|' /C calc'!A0\x01\x1f",
}


@pytest.fixture(scope="module")
def audits():
    groups = [
        Spells("RXA", Q1, 30),
        Spells("RXA", Q1, 3, fails=(0,)),
        Spells("RXA", Q2, 12, prior_block=None),
        Spells("RXB", Q2, 20, day_case=True),
        Spells("RXB", Q2, 4, kind="facet_injection"),
    ]
    return audit_of(groups, CIRCULATION), audit_of(groups, INTERNAL)


def test_every_table_is_tidy_and_holds_published_figures_only(audits):
    audit, _ = audits
    tables = tidy_tables(audit, HOSTILE)
    assert list(tables) == list(TABLES)
    for name, table in tables.items():
        assert list(table.columns) == COLUMNS, name
        # A suppressed figure has no value, anywhere.
        assert table.loc[table["suppressed"], "value"].isna().all(), name
    volumes = tables["volumes"].set_index(["provider_code", "quarter", "measure"])
    assert volumes.loc[("RXA", Q1, "counted"), "value"] == 30
    # RFD-coded 30: the waterfall's total as published (the 3 failing the diagnosis are hidden).
    assert volumes.loc[("RXA", Q1, "rfd_coded"), "value"] == 30
    steps = tables["waterfall"]
    reasons = steps[(steps["provider_code"] == "RXA") & (steps["quarter"] == Q1)]
    assert reasons["measure"].iloc[0] == "rfd_coded" and reasons["measure"].iloc[-1] == "counted"
    assert reasons["statistic"].iloc[1:-1].eq("first failure").all()
    assert reasons["suppressed"].iloc[1]
    checks = tables["checks"]
    assert set(checks["statistic"]) == {
        "numerator",
        "denominator",
        "unassessed",
        "without side",
        "share",
        "status",
        "thresholds",
        "basis",
        "note",
    }
    # Each check's row says its basis and thresholds, as the report does beside the status.
    repeat = checks[(checks["measure"] == "repeat") & (checks["quarter"] == Q2)].set_index(
        ["provider_code", "statistic"]
    )["value"]
    assert repeat[("RXA", "thresholds")] == "green ≤ 5 %, amber ≤ 15 %, red above"
    assert repeat[("RXA", "basis")].startswith("local policy (set in params/expectations.yaml)")


def test_no_text_cell_can_run_as_a_formula_in_the_csv_files(tmp_path, audits):
    audit, _ = audits
    written = table_files(audit, HOSTILE, tmp_path)
    assert [path.name for path in written] == [f"{name}.csv" for name in TABLES] + [WORKBOOK]
    for path in written[:-1]:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
        assert rows[0] == COLUMNS
        for row in rows[1:]:
            assert not any(
                cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row[1:2] + row[5:6]
            ), row
    names = pd.concat(
        [pd.read_csv(path, dtype=str, keep_default_na=False)["provider_name"] for path in written[:-1]]
    )
    assert set(names) >= {"'" + HOSTILE["RXA"], "all providers"}


def test_the_workbook_holds_text_as_text_and_the_same_figures(tmp_path, audits):
    audit, _ = audits
    written = table_files(audit, HOSTILE, tmp_path)
    book = load_workbook(tmp_path / WORKBOOK)
    assert book.sheetnames == ["about", *TABLES]
    assert any(audit.policy.footnote == cell.value for cell in book["about"]["A"])
    for name in TABLES:
        sheet = book[name]
        cells = [cell for row in sheet.iter_rows() for cell in row if cell.value is not None]
        assert not [cell for cell in cells if cell.data_type == "f"], name
        assert all(not str(cell.value).startswith("=") for cell in cells), name
        csv_rows = pd.read_csv(tmp_path / f"{name}.csv", dtype=str, keep_default_na=False)
        assert sheet.max_row == len(csv_rows) + 1, name
    volumes = pd.DataFrame(book["volumes"].values)
    volumes.columns = volumes.iloc[0]
    volumes = volumes.iloc[1:]
    # Control characters a workbook cannot hold are replaced; the formula is only text.
    assert "'+cmd|' /C calc'!A0\ufffd\ufffd" in set(volumes["provider_name"])
    counted = volumes[(volumes["provider_code"] == "RXA") & (volumes["quarter"] == Q1)]
    assert counted.set_index("measure").loc["counted", "value"] == 30  # a number, not text
    assert len(written) == len(TABLES) + 1


def test_internal_files_say_so_in_their_names_and_every_row(tmp_path, audits):
    _, internal = audits
    written = table_files(internal, {}, tmp_path)
    assert all(path.name.startswith(INTERNAL_PREFIX) for path in written)
    volumes = pd.read_csv(tmp_path / f"{INTERNAL_PREFIX}volumes.csv", dtype=str, keep_default_na=False)
    assert volumes.columns[0] == "banner" and volumes["banner"].eq(INTERNAL_BANNER).all()
    # Unsuppressed: the 3 failing the diagnosis are shown, and RFD-coded is the true 33.
    coded = volumes[
        (volumes["provider_code"] == "RXA") & (volumes["quarter"] == Q1) & (volumes["measure"] == "rfd_coded")
    ]
    assert coded["value"].tolist() == ["33"]
    assert load_workbook(tmp_path / f"{INTERNAL_PREFIX}{WORKBOOK}")["about"]["A1"].value == INTERNAL_BANNER


def test_a_run_without_the_workbook_writes_the_csv_files_only(tmp_path, audits):
    audit, _ = audits
    written = write_tables(tidy_tables(audit), tmp_path, CIRCULATION, workbook=False)
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(path.name for path in written)
    assert WORKBOOK not in {path.name for path in written}


def test_a_negative_figure_stays_a_number_and_text_that_looks_like_one_is_text(tmp_path):
    table = pd.DataFrame(
        [
            ["RXA", "RXA", Q1, "change_from_baseline", "share", "a ratio", -0.25, False, "ratio - 1"],
            ["RXA", "RXA", Q1, "change_from_baseline", "note", "a note", "-1 ok", False, "text"],
        ],
        columns=COLUMNS,
    )
    write_tables({"checks": table}, tmp_path, CIRCULATION)
    values = pd.read_csv(tmp_path / "checks.csv", dtype=str)["value"].tolist()
    assert values == ["-0.25", "'-1 ok"]
    sheet = load_workbook(tmp_path / WORKBOOK)["checks"]
    assert sheet["G2"].value == -0.25 and sheet["G3"].value == "'-1 ok" and sheet["G3"].data_type == "s"

"""Outside the national definition: the codes behind each step, protected, escaped and never a formula."""

from __future__ import annotations

import csv
import dataclasses

import pandas as pd
import pytest

from rfd_lib.metrics.definition import COLUMNS, published_codes
from rfd_lib.metrics.disclosure import CIRCULATION, INTERNAL
from rfd_lib.report.pages import ProviderPage
from rfd_lib.report.saved_audit import AuditRun
from rfd_lib.report.summary_page import SummaryPage
from rfd_lib.report.table_files import INTERNAL_PREFIX, table_files
from tests.attacker import Spells, audit_of

Q1, Q2 = "2025/26 Q1", "2025/26 Q2"
DIAGNOSIS = "restriction: LEFT(Primary_Spell_Diagnosis, 4) IN ('M512', 'M518', 'M519', 'M545', 'M549')"
FORMULA = "=cmd|' /C calc'!A0"
SCRIPT = "<script>alert(1)</script>"
# The true codes behind RXC's diagnosis step in Q2 (34 spells), most frequent first.
CODES = [(FORMULA, 12), (SCRIPT, 9), ("M479", 8), ("M478", 5)]


def raw_codes() -> pd.DataFrame:
    rows = [("RXC", Q2, 1, DIAGNOSIS, "Primary_Spell_Diagnosis", code, n) for code, n in CODES]
    table = pd.DataFrame(rows, columns=COLUMNS)
    return table.astype({"spells": "Int64", "step": "Int64"})


@pytest.fixture(scope="module", params=[CIRCULATION, INTERNAL], ids=["circulation", "internal"])
def run(request) -> AuditRun:
    policy = request.param
    groups = [Spells("RXC", Q1, 30), Spells("RXC", Q2, 30), Spells("RXC", Q2, 34, fails=(0,))]
    audit = audit_of(groups, policy)
    audit = dataclasses.replace(audit, definition_codes=published_codes(raw_codes(), policy))
    return AuditRun(audit, "test", {"RXC": "Hostile Codes Trust"}, (), "today")


def test_circulation_names_only_codes_behind_8_or_more_spells_without_counts(run):
    html = ProviderPage(run, "RXC").definition()
    if run.audit.policy.circulating:
        assert "M479" in html and "M478" not in html  # 8 spells named, 5 not
        assert "and other codes" in html
        assert "(12)" not in html and "(8)" not in html  # names only
        # The most frequent first: the formula (12), the script (9), then M479 (8).
        assert html.index("cmd|") < html.index("script&gt;") < html.index("M479")
    else:
        assert "M478 (5)" in html and "M479 (8)" in html and "other codes" not in html


def test_a_hostile_code_is_escaped_in_the_report(run):
    html = ProviderPage(run, "RXC").definition()
    assert "<script" not in html and "&lt;script&gt;alert(1)" in html
    # Context, never a status.
    assert "rag-" not in html


def test_no_code_starts_a_formula_in_the_table_files(run, tmp_path):
    written = table_files(run.audit, run.provider_names, tmp_path)
    prefix = "" if run.audit.policy.circulating else INTERNAL_PREFIX
    path = tmp_path / f"{prefix}definition.csv"
    assert path in written
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["measure"] for row in rows] == [DIAGNOSIS]
    value = rows[0]["value"]
    assert value.startswith("'=cmd|") and not value.startswith("=")
    assert ("M478" in value) == (not run.audit.policy.circulating)
    from openpyxl import load_workbook

    sheet = load_workbook(tmp_path / f"{prefix}tables.xlsx")["definition"]
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert not [cell for cell in cells if cell.data_type == "f"]


def test_the_summary_has_a_line_per_provider_outside_the_definition(run):
    html = SummaryPage(run).definition_table()
    assert "Hostile Codes Trust (RXC)" in html and "RFD-coded spells" in html
    assert "rag-" not in html

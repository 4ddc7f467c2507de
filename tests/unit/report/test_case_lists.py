"""The case lists' files: a CSV per provider and a workbook, hostile values made harmless, written whole."""

from __future__ import annotations

import pandas as pd
from openpyxl import load_workbook

from rfd_lib.metrics.case_lists import COLUMNS
from rfd_lib.report.case_lists import WORKBOOK, write_case_lists


def hostile_lists() -> pd.DataFrame:
    row = {column: "x" for column in COLUMNS}
    rows = [
        row | {"provider_code": "ZA1", "spell_id": '=HYPERLINK("http://x")', "diagnoses": "@SUM(A1)\x07"},
        row | {"provider_code": "ZA1", "spell_id": "-42", "procedures": "+V485\x00", "related_spells": pd.NA},
        row | {"provider_code": "ABOUT", "spell_id": "S3"},
    ]
    frame = pd.DataFrame(rows)
    for column in ("admission_date", "discharge_date"):
        frame[column] = pd.Timestamp("2025-01-02")
    return frame


def test_every_text_cell_is_safe_and_the_workbook_has_a_sheet_per_provider(tmp_path):
    stems = {"ZA1": "ZA1", "ABOUT": "ABOUT", "ZB2": "ZB2"}
    written = write_case_lists(hostile_lists(), tmp_path, stems)
    assert [path.name for path in written] == ["ZA1.csv", "ABOUT.csv", "ZB2.csv", WORKBOOK]
    za1 = pd.read_csv(tmp_path / "ZA1.csv", dtype=str, keep_default_na=False)
    assert list(za1["spell_id"]) == ['\'=HYPERLINK("http://x")', "'-42"]
    assert za1["diagnoses"].iat[0].startswith("'@") and za1["procedures"].iat[1].startswith("'+")
    assert (
        set(za1["admission_date"]) == {"2025-01-02"}
        and za1["banner"].str.contains("NOT for circulation").all()
    )
    assert len(pd.read_csv(tmp_path / "ZB2.csv")) == 0  # no spell listed: headings only

    book = load_workbook(tmp_path / WORKBOOK)
    assert book.sheetnames == ["about", "ZA1", "ABOUT (provider)", "ZB2"]
    assert "NOT for circulation" in book["about"]["A1"].value
    sheet = book.worksheets[1]
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert all(cell.data_type == "s" for cell in cells)
    values = [cell.value for cell in cells]
    assert '\'=HYPERLINK("http://x")' in values and "'@SUM(A1)\ufffd" in values and "'+V485\ufffd" in values
    assert not any(str(value).startswith(("=", "+", "-", "@")) for value in values)

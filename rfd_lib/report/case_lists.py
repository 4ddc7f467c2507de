"""Write the case lists for local review: one CSV per provider and one workbook, internal only.

:func:`write_case_lists` writes :func:`rfd_lib.metrics.case_lists.case_lists`'s rows into a
run's ``internal/case_lists/`` folder: ``<provider>.csv`` per provider (its report's file name,
safe whatever the code) and ``case_lists.xlsx`` with an ``about`` sheet and a sheet per provider.
They are patient level and NOT for circulation: nothing links them from a circulated page, and
every row starts with a ``banner`` column saying so. Spell identifiers and codes come from the
extract: no text cell can start a spreadsheet formula (:func:`rfd_lib.extracts.safe_csv.neutralised`)
and the workbook is made as the table files' is (:func:`rfd_lib.report.table_files.workbook_bytes`: text
stored as text, characters a workbook cannot hold replaced). Each file is written whole or not at
all (:func:`rfd_lib.atomic.write_atomically`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from rfd_lib.atomic import write_atomically
from rfd_lib.extracts.safe_csv import neutralised
from rfd_lib.metrics.case_lists import COLUMNS
from rfd_lib.report.table_files import workbook_bytes
from rfd_lib.wording import say

FOLDER = "case_lists"  # under the run's internal/ folder
WORKBOOK = f"{FOLDER}.xlsx"  # case_lists.xlsx
_DATES = ("admission_date", "discharge_date")
# A sheet name Excel takes as it is: at most 31 characters, none of []:*?/\ (codes are shaped so).
_SHEET = re.compile(r"[A-Za-z0-9 _.-]{1,31}")


def write_case_lists(lists: pd.DataFrame, folder: str | Path, stems: Mapping[str, str]) -> list[Path]:
    """Write a CSV per provider of ``stems`` (code → file stem) and the workbook; return the files.

    The workbook is the last file returned.

    ``lists`` is :func:`rfd_lib.metrics.case_lists.case_lists`'s output. A provider with no spell
    listed still gets its file (headings only), so an empty list is told from a missing one.
    """
    folder = Path(folder)
    text = _as_text(lists)
    written, sheets = [], {}
    for code, stem in stems.items():
        rows = text[text["provider_code"].eq(code)].reset_index(drop=True)
        csv = neutralised(rows).to_csv(index=False, lineterminator="\n")
        written.append(write_atomically(folder / f"{stem}.csv", csv))
        sheets[_sheet_name(code, stem)] = rows
    about = [say("case_lists.about.title"), say("case_lists.about.columns"), say("case_lists.about.counts")]
    written.append(write_atomically(folder / WORKBOOK, workbook_bytes(sheets, about)))
    return written


def _as_text(lists: pd.DataFrame) -> pd.DataFrame:
    """Return the rows as text (dates as ``YYYY-MM-DD``), each starting with the banner."""
    text = lists[COLUMNS].copy()
    for column in _DATES:
        text[column] = pd.to_datetime(text[column]).dt.strftime("%Y-%m-%d")
    text = text.astype("string")
    text.insert(0, "banner", pd.Series(say("case_lists.banner"), index=text.index, dtype="string"))
    return text


def _sheet_name(code: str, stem: str) -> str:
    """Return the provider's sheet name: its code, or its file stem if the code cannot name a sheet.

    Excel compares sheet names ignoring case, so a provider coded ABOUT gets "ABOUT (provider)".
    """
    name = code if _SHEET.fullmatch(code) else stem[:31]
    return f"{name} (provider)" if name.lower() == "about" else name

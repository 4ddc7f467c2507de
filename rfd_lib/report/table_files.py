"""Every figure the circulated reports show, as tidy CSV files and one workbook, for analysts.

:func:`write_tables` writes a run's ``tables/`` folder: one CSV per table and ``tables.xlsx``
with a sheet per table (and an ``about`` sheet saying what the columns mean and how the figures
were protected). They hold the published figures of :class:`~rfd_lib.metrics.audit.AuditMetrics`
only — the same numbers, suppressed and rounded the same way, as the reports — and nothing at
patient level. A figure's value in a file is the figure a report prints (a share as a fraction,
0.25 for 25 %).

Each table's rows, one per provider × quarter × measure × statistic, and what each column
holds are :mod:`rfd_lib.report.tidy_rows`'s; :func:`tidy_tables` gathers them and names each
provider. Provider codes and names come from the data: no text cell starts a spreadsheet formula
(:mod:`rfd_lib.extracts.safe_csv`; in the workbook every text cell is stored as text as well), and
characters a workbook cannot hold are replaced by ``\ufffd``.

In internal mode (unsuppressed figures) every file name starts with ``INTERNAL-`` and every row
starts with a ``banner`` column holding :data:`~rfd_lib.metrics.disclosure.INTERNAL_BANNER`.
Each file is written whole or not at all (:func:`rfd_lib.atomic.write_atomically`).
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from rfd_lib.atomic import write_atomically
from rfd_lib.extracts.safe_csv import neutralised
from rfd_lib.metrics.audit import AuditMetrics
from rfd_lib.metrics.disclosure import Disclosure
from rfd_lib.report.saved_audit import RATE_PER
from rfd_lib.report.tidy_rows import (
    COLUMNS,
    checks_rows,
    definition_rows,
    funnel_rows,
    intervals_rows,
    rates_rows,
    spc_rows,
    volumes_rows,
    waterfall_rows,
)
from rfd_lib.wording import say

TABLES = ("volumes", "waterfall", "definition", "checks", "intervals", "rates", "funnel", "spc")
WORKBOOK = "tables.xlsx"
INTERNAL_PREFIX = "INTERNAL-"
# Characters an .xlsx cell cannot hold (XML 1.0 control characters), and Excel's longest text.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_LONGEST_CELL = 32_767
_NUMBER = r"-?\d+(\.\d+)?"


def tidy_tables(
    audit: AuditMetrics, provider_names: Mapping[str, str] | None = None
) -> dict[str, pd.DataFrame]:
    """Return every table a circulated report draws from, by name (:data:`TABLES`).

    Each is tidy (:data:`~rfd_lib.report.tidy_rows.COLUMNS`), its providers named from ``provider_names``.
    """
    names = dict(provider_names or {})
    recent = audit.quarters[-audit.expectations.rolling_quarters :]
    restrictions = list(audit.expectations.restrictions)
    per = say(RATE_PER[audit.rate_denominator])
    tables = {
        "volumes": volumes_rows(audit.volumes, audit.quarters, audit.expectations.rolling_quarters),
        "waterfall": waterfall_rows(audit.waterfall, restrictions),
        "definition": definition_rows(audit.definition_codes, audit.waterfall, audit.policy),
        "checks": checks_rows(audit.checks),
        "intervals": intervals_rows(audit.intervals, recent),
        "rates": rates_rows(audit.rates, per),
        "funnel": funnel_rows(audit.funnel, audit.quarter, audit.providers, say("shared.rate_unit", per=per)),
        "spc": spc_rows(audit),
    }
    return {name: _named(table, names) for name, table in tables.items()}


def write_tables(
    tables: Mapping[str, pd.DataFrame],
    folder: str | Path,
    policy: Disclosure,
    *,
    footnote: str | None = None,
    workbook: bool = True,
) -> list[Path]:
    """Write ``tables`` (from :func:`tidy_tables`) into ``folder``: CSV files and (``workbook``) one workbook.

    Returns the files written, the workbook last. In internal mode (``policy``) the files are
    named and marked as such (see the module's docstring). ``footnote`` (the disclosure
    statement) goes on the workbook's ``about`` sheet.
    """
    folder = Path(folder)
    prefix = "" if policy.circulating else INTERNAL_PREFIX
    written = []
    frames = {name: _with_banner(table, policy) for name, table in tables.items()}
    for name, frame in frames.items():
        text = _safe_csv_text(_as_text(frame)).to_csv(index=False, lineterminator="\n")
        written.append(write_atomically(folder / f"{prefix}{name}.csv", text))
    if workbook:
        book = workbook_bytes(frames, _about(policy, footnote))
        written.append(write_atomically(folder / f"{prefix}{WORKBOOK}", book))
    return written


def table_files(audit: AuditMetrics, provider_names: Mapping[str, str], folder: str | Path) -> list[Path]:
    """Write the run's tables for ``audit`` into ``folder`` (``reports/<name>/tables/``); return the files."""
    return write_tables(
        tidy_tables(audit, provider_names), folder, audit.policy, footnote=audit.policy.footnote
    )


def _named(table: pd.DataFrame, names: Mapping[str, str]) -> pd.DataFrame:
    codes = table["provider_code"].astype(str)
    name = codes.map(lambda code: names.get(code) or code if code else say("table_files.all_providers"))
    out = table.assign(provider_name=name.to_numpy())
    return out[COLUMNS].reset_index(drop=True)


def _with_banner(table: pd.DataFrame, policy: Disclosure) -> pd.DataFrame:
    if policy.circulating:
        return table
    return pd.concat([pd.DataFrame({"banner": [policy.banner] * len(table)}), table], axis=1)


def _number_text(value: object) -> object:
    """Return a value as a file shows it: whole numbers without decimals, others to 6 places."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, bool | np.bool_):
        return "True" if value else "False"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        number = float(value)
        if number.is_integer() and abs(number) < 2**53:
            return str(int(number))
        return f"{number:.6f}".rstrip("0").rstrip(".")
    return str(value)


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    text = frame.copy()
    text["value"] = pd.array([_number_text(value) for value in frame["value"]], dtype="string")
    text["suppressed"] = frame["suppressed"].map({True: "True", False: "False"}).astype("string")
    for column in text.columns:
        if column not in ("value", "suppressed"):
            text[column] = text[column].astype("string")
    return text


def _safe_csv_text(text: pd.DataFrame) -> pd.DataFrame:
    """Return ``text`` (all text) with no cell able to start a formula; a number (-0.25) stays a number."""
    numbers = text["value"].str.fullmatch(_NUMBER, na=False).to_numpy()
    safe = neutralised(text)
    safe.loc[numbers, "value"] = text.loc[numbers, "value"]
    return safe


def _about(policy: Disclosure, footnote: str | None) -> list[str]:
    lines = [say("table_files.about.title"), say("table_files.about.columns")]
    if policy.banner:
        lines.insert(0, policy.banner)
    if footnote:
        lines.append(footnote)
    return lines


def _cell_text(text: str) -> str:
    """Return text a workbook cell can hold: no XML control character, at most Excel's length."""
    return _ILLEGAL.sub("\ufffd", text)[:_LONGEST_CELL]


def workbook_bytes(frames: Mapping[str, pd.DataFrame], about: Sequence[str]) -> bytes:
    """Return the workbook's bytes: an ``about`` sheet, then a sheet per frame (named by its key).

    Every text cell is formula-safe and holds no character a workbook cannot (the case lists'
    workbook is made here too).
    """
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "about"
    for n, line in enumerate(_safe_text(pd.DataFrame({"about": list(about)}))["about"], start=1):
        _put(sheet.cell(row=n, column=1), line)
    for name, frame in frames.items():
        frame = _safe_text(frame)
        sheet = book.create_sheet(name)
        for column, heading in enumerate(frame.columns, start=1):
            _put(sheet.cell(row=1, column=column), str(heading))
        for row, values in enumerate(frame.itertuples(index=False), start=2):
            for column, value in enumerate(values, start=1):
                _put(sheet.cell(row=row, column=column), value)
        sheet.freeze_panes = "A2"
    stream = io.BytesIO()
    book.save(stream)
    return stream.getvalue()


def _safe_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with every text cell (numbers and flags kept) unable to start a formula."""
    text = frame.map(lambda value: isinstance(value, str))
    out = frame.astype(object)
    for column in frame.columns:
        rows = text[column].to_numpy(dtype=bool)
        if rows.any():
            safe = neutralised(
                pd.DataFrame({"t": pd.array(frame.loc[rows, column].tolist(), dtype="string")})
            )
            out.loc[rows, column] = safe["t"].astype(object).to_numpy()
    return out


def _put(cell, value: object) -> None:
    """Set a workbook cell: numbers as numbers, booleans as booleans, everything else as plain text."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return
    if isinstance(value, bool | np.bool_):
        cell.value = bool(value)
    elif isinstance(value, int | np.integer):
        cell.value = int(value)
    elif isinstance(value, float | np.floating):
        cell.value = float(value)
    else:
        cell.value = _cell_text(str(value))
        cell.data_type = "s"  # never a formula, whatever the text starts with

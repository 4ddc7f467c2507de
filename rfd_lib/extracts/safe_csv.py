"""Write CSV files that a spreadsheet opens safely: no cell from an extract runs as a formula.

A value such as ``=HYPERLINK(...)`` or ``@SUM(...)`` in an extract, a file name or a column name
would run when the quarantine or findings file is opened in Excel (CSV injection). As OWASP
recommends, a text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets
a single quote in front, which spreadsheets show as text; numbers are left alone.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

# What a spreadsheet takes as the start of a formula (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMULA_START = "^[" + "".join(re.escape(start) for start in FORMULA_STARTS) + "]"


def neutralised(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``frame`` whose text cells and column names cannot start a formula."""
    safe = frame.copy()
    for name in safe.columns:
        values = safe[name]
        if isinstance(values.dtype, pd.CategoricalDtype):
            values = values.astype("string")
        if pd.api.types.is_string_dtype(values.dtype):
            risky = values.str.contains(FORMULA_START, regex=True, na=False)
            safe[name] = values.mask(risky, "'" + values.astype("string"))
    safe.columns = pd.Index(neutralised_name(str(name)) for name in safe.columns)
    return safe


def neutralised_name(text: str) -> str:
    """Return ``text`` with a single quote in front if a spreadsheet would run it as a formula."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` to ``path`` as CSV (no index), every cell safe to open in a spreadsheet."""
    neutralised(frame).to_csv(path, index=False)

"""NHS financial quarters: April–June is Q1, so 15 May 2025 falls in ``2025/26 Q1``.

Labels sort in time order as text, and :func:`quarter_range` gives the full run of quarters
between two dates so a quarter with no activity is a zero, not a gap.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

LABEL = re.compile(r"^(\d{4})/(\d{2}) Q([1-4])$")


def financial_quarter(dates: pd.Series) -> pd.Series:
    """Return the financial-quarter label of each date (``<NA>`` where the date is missing).

    >>> financial_quarter(pd.Series(pd.to_datetime(["2025-03-31", "2025-04-01"]))).tolist()
    ['2024/25 Q4', '2025/26 Q1']
    """
    dates = pd.to_datetime(dates)
    # Shifting back three months makes April the first month of the (financial) year.
    shifted = dates - pd.DateOffset(months=3)
    year = shifted.dt.year
    labels = (
        year.astype("Int64").astype("string")
        + "/"
        + ((year + 1) % 100).astype("Int64").astype("string").str.zfill(2)
        + " Q"
        + shifted.dt.quarter.astype("Int64").astype("string")
    )
    return labels.astype("string")


def quarter_bounds(label: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Return the first and last day of the quarter ``label`` (e.g. ``'2025/26 Q1'``).

    Raises ValueError, naming the label, if it is not of that form or its years do not follow.
    """
    match = LABEL.match(label.strip()) if isinstance(label, str) else None
    if not match or (int(match[1]) + 1) % 100 != int(match[2]):
        raise ValueError(f"{label!r} is not a financial quarter like '2025/26 Q1'")
    start = pd.Timestamp(year=int(match[1]), month=4, day=1) + pd.DateOffset(months=3 * (int(match[3]) - 1))
    return start, start + pd.DateOffset(months=3) - pd.Timedelta(days=1)


def quarter_range(first: str, last: str) -> list[str]:
    """Return every quarter label from ``first`` to ``last`` inclusive, in time order."""
    start, _ = quarter_bounds(first)
    end, _ = quarter_bounds(last)
    if end < start:
        raise ValueError(f"quarter {last!r} comes before {first!r}")
    starts = pd.Series(pd.date_range(start, end, freq="QS-APR"))
    return financial_quarter(starts).tolist()


def shift_quarter(label: str, by: int) -> str:
    """Return the quarter ``by`` quarters after ``label`` (before it when ``by`` is negative)."""
    start, _ = quarter_bounds(label)
    return financial_quarter(pd.Series([start + pd.DateOffset(months=3 * by)])).iat[0]


def rolling_total(
    table: pd.DataFrame, value: str, *, by: str = "provider_code", window: int = 4
) -> pd.Series:
    """Return the total of ``value`` over each row's quarter and the ``window - 1`` before it.

    ``table`` has one row per ``by`` and ``quarter`` with every quarter present (see
    :func:`quarter_range`); the first ``window - 1`` quarters of each group are ``<NA>``, since
    their total would cover quarters the data does not have. A missing (suppressed) value makes
    the totals that include it missing.
    """
    ordered = table.sort_values([by, "quarter"])
    values = ordered[value].astype("Float64")
    totals = values.groupby(ordered[by], sort=False).rolling(window, min_periods=window).sum()
    totals = totals.reset_index(level=0, drop=True)
    # rolling() skips NaN inside a window; a window holding a suppressed value is not a total.
    missing = values.isna().astype(np.int64).groupby(ordered[by], sort=False).rolling(window).sum()
    totals[missing.reset_index(level=0, drop=True).reindex(totals.index).fillna(0).gt(0)] = pd.NA
    return totals.reindex(table.index).round().astype("Int64")

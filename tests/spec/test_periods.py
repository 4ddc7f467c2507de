"""NHS financial quarters (Q1 = April-June) and rolling four-quarter totals, as worked examples."""

from __future__ import annotations

import pandas as pd
import pytest

from rfd_lib.metrics.periods import (
    financial_quarter,
    quarter_bounds,
    quarter_range,
    rolling_total,
    shift_quarter,
)

# date        quarter
QUARTERS = """
2025-03-31  2024/25 Q4
2025-04-01  2025/26 Q1
2025-06-30  2025/26 Q1
2025-07-01  2025/26 Q2
2025-12-31  2025/26 Q3
2026-01-01  2025/26 Q4
1999-12-31  1999/00 Q3
"""


@pytest.mark.parametrize("date,label", [line.split(None, 1) for line in QUARTERS.strip().splitlines()])
def test_a_date_falls_in_its_financial_quarter(date, label):
    assert financial_quarter(pd.Series(pd.to_datetime([date]))).tolist() == [label]
    start, end = quarter_bounds(label)
    assert start <= pd.Timestamp(date) <= end


def test_a_missing_date_has_no_quarter():
    assert financial_quarter(pd.Series([pd.Timestamp("2025-05-01"), pd.NaT])).isna().tolist() == [False, True]


def test_quarter_bounds_and_ranges():
    assert quarter_bounds("2025/26 Q4") == (pd.Timestamp("2026-01-01"), pd.Timestamp("2026-03-31"))
    assert quarter_range("2024/25 Q4", "2025/26 Q2") == ["2024/25 Q4", "2025/26 Q1", "2025/26 Q2"]
    assert shift_quarter("2025/26 Q1", -1) == "2024/25 Q4" and shift_quarter("2025/26 Q4", 1) == "2026/27 Q1"
    assert sorted(quarter_range("2023/24 Q1", "2026/27 Q4")) == quarter_range("2023/24 Q1", "2026/27 Q4")


@pytest.mark.parametrize("bad", ["2025/27 Q1", "2025 Q1", "2025/26 Q5", "Q1 2025/26"])
def test_a_label_that_is_not_a_financial_quarter_is_refused(bad):
    with pytest.raises(ValueError, match="financial quarter"):
        quarter_bounds(bad)


def test_rolling_totals_cover_four_whole_quarters_and_never_a_suppressed_one():
    quarters = quarter_range("2024/25 Q1", "2025/26 Q1")
    table = pd.DataFrame(
        {
            "provider_code": ["A"] * 5 + ["B"] * 5,
            "quarter": quarters * 2,
            "spells": pd.array([1, 2, 3, 4, 5, 10, None, 30, 40, 50], dtype="Int64"),
        }
    )
    # A: 1+2+3+4 = 10, then 2+3+4+5 = 14. B: every window holds the suppressed 2024/25 Q2.
    assert rolling_total(table, "spells").tolist() == [pd.NA] * 3 + [10, 14] + [pd.NA] * 5

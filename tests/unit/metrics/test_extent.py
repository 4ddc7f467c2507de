"""SpellExtent counts every spell by source, provider and financial quarter, as the audit would."""

from __future__ import annotations

import pandas as pd

from rfd_lib.metrics.extent import SpellExtent


def _spells(rows):
    source, provider, admitted, discharged = zip(*rows, strict=True)
    return pd.DataFrame(
        {
            "source": pd.Categorical(source),
            "provider_code": pd.array(provider, dtype="string"),
            "admission_date": pd.to_datetime(list(admitted)),
            "discharge_date": pd.to_datetime(list(discharged)),
        }
    )


def test_spells_are_counted_per_source_provider_and_quarter_of_their_discharge():
    spells = _spells(
        [
            ("a.csv", "RX1", "2025-03-30", "2025-03-31"),  # 2024/25 Q4
            ("a.csv", "RX1", "2025-03-31", "2025-04-01"),  # 2025/26 Q1
            ("a.csv", "RX1", "2025-04-02", "2025-06-30"),  # 2025/26 Q1, another date
            ("a.csv", "RX2", "2025-04-02", None),  # no discharge: no quarter
            ("b.csv", "RX1", "2025-01-01", "2025-04-01"),
        ]
    )
    extent = SpellExtent.of(spells)
    counted = {
        (row.source, row.provider_code, None if pd.isna(row.quarter) else row.quarter): row.spells
        for row in extent.counts.itertuples()
    }
    assert counted == {
        ("a.csv", "RX1", "2024/25 Q4"): 1,
        ("a.csv", "RX1", "2025/26 Q1"): 2,
        ("a.csv", "RX2", None): 1,
        ("b.csv", "RX1", "2025/26 Q1"): 1,
    }
    assert extent.first_admission == pd.Timestamp("2025-01-01")


def test_the_extent_of_two_batches_is_the_extent_of_their_spells_together():
    rows = [
        ("a.csv", "RX1", "2025-03-30", "2025-03-31"),
        ("a.csv", "RX1", "2025-03-31", "2025-04-01"),
        ("a.csv", "RX2", "2024-11-02", "2025-06-30"),
        ("a.csv", "RX1", "2025-04-02", "2025-06-30"),
    ]
    whole = SpellExtent.combine([SpellExtent.of(_spells(rows))])
    parts = SpellExtent.combine([SpellExtent.of(_spells(rows[:3])), SpellExtent.of(_spells(rows[3:]))])
    pd.testing.assert_frame_equal(parts.counts, whole.counts)
    assert parts.first_admission == whole.first_admission == pd.Timestamp("2024-11-02")

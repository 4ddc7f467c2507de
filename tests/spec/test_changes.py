"""What changed since the previous quarter, worked by hand: every pair of statuses and its change."""

from __future__ import annotations

import pandas as pd
import pytest

from rfd_lib.metrics.changes import (
    CHANGES,
    changes_in_words,
    counted_changes,
    previous_quarter,
    status_changes,
)

Q1, Q2 = "2026/27 Q1", "2026/27 Q2"
NA = "not assessable"

# previous status, status now → change (None: the check has no row in the previous quarter).
TRUTH = [
    ("green", "green", "unchanged"),
    ("green", "amber", "new"),
    ("green", "red", "new"),
    ("amber", "green", "resolved"),
    ("red", "green", "resolved"),
    ("amber", "red", "worse"),
    ("red", "amber", "better"),
    ("amber", "amber", "unchanged"),
    ("red", "red", "unchanged"),
    (NA, "red", "not comparable"),
    ("red", NA, "not comparable"),
    (NA, NA, "not comparable"),
    (pd.NA, "green", "not comparable"),  # status missing: as not assessable
    (None, "red", "not comparable"),
]


def checks(pairs) -> pd.DataFrame:
    """A checks table of one provider, one check per pair, in two quarters."""
    rows = []
    for n, (before, now, _) in enumerate(pairs):
        check = f"check {n}"
        common = {"provider_code": "ZA1", "check": check, "kind": "repeat", "label": f"label {n}"}
        if before is not None:
            rows.append(common | {"quarter": Q1, "status": before, "share": 0.1})
        rows.append(common | {"quarter": Q2, "status": now, "share": 0.2})
    return pd.DataFrame(rows).astype({"status": "string"})


@pytest.mark.parametrize(("before", "now", "change"), TRUTH, ids=[f"{b}->{n}" for b, n, _ in TRUTH])
def test_each_pair_of_statuses_has_its_change(before, now, change):
    table = status_changes(checks([(before, now, change)]), Q2, Q1)
    assert table["change"].tolist() == [change]
    assert table["status"].iat[0] == (NA if pd.isna(now) else now)
    assert table["previous_status"].iat[0] == (NA if before is None or pd.isna(before) else before)


def test_the_table_is_tidy_in_the_checks_order_with_both_shares():
    table = status_changes(checks(TRUTH), Q2, Q1)
    assert table["check"].tolist() == [f"check {n}" for n in range(len(TRUTH))]
    assert table["change"].tolist() == [change for _, _, change in TRUTH]
    assert set(table["change"]) <= set(CHANGES)
    assert table["share"].eq(0.2).all() and table["previous_share"].dropna().eq(0.1).all()


def test_a_providers_changes_in_words_count_new_reds_and_ambers_then_the_rest():
    pairs = [
        ("green", "red", ""),
        ("amber", "red", ""),
        ("green", "red", ""),
        ("green", "amber", ""),
        ("red", "green", ""),
        ("green", "green", ""),
    ]
    table = pd.concat(
        [
            status_changes(checks(pairs), Q2, Q1),
            status_changes(checks(pairs[-1:]), Q2, Q1).assign(provider_code="ZB2"),
        ]
    )
    words = changes_in_words(table)
    assert words["ZA1"] == "2 new red, 1 new amber, 1 worse (amber to red), 1 resolved"
    assert words["ZB2"] == "no status changed"


def test_counted_rfds_compare_the_published_counts():
    volumes = pd.DataFrame(
        {
            "provider_code": ["ZA1", "ZA1"],
            "quarter": [Q1, Q2],
            "counted": [pd.NA, 20],
            "counted_suppressed": [True, False],
        }
    )
    row = counted_changes(volumes, Q2, Q1).iloc[0]
    assert pd.isna(row["previous_counted"]) and row["previous_counted_suppressed"]
    assert row["counted"] == 20 and not row["counted_suppressed"]


def test_the_first_quarter_has_no_previous_quarter():
    assert previous_quarter([Q1, Q2], Q2) == Q1
    assert previous_quarter([Q1, Q2], Q1) is None

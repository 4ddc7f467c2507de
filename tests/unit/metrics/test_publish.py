"""The audit's tables as published: each count protected once, shares and statuses from published counts.

The raw tables here are made by hand in the shape :mod:`rfd_lib.metrics.volumes` and
:mod:`rfd_lib.metrics.checks` return, so each expected value can be worked out on paper with the rule in
:mod:`rfd_lib.metrics.disclosure` (1-7 hidden, others rounded to the nearest 5).
"""

from __future__ import annotations

import pandas as pd
import pytest

from rfd_lib.metrics.checks import COLUMNS
from rfd_lib.metrics.disclosure import CIRCULATION, INTERNAL, never_small
from rfd_lib.metrics.expectations import load_expectations
from rfd_lib.metrics.publish import (
    TOO_FEW,
    WORST_CASE,
    published_checks,
    published_intervals,
    published_volumes,
    published_waterfall,
)
from rfd_lib.wording import say

KEYS = ["provider_code", "quarter"]
LOOK_BACK = say("checks.notes.look_back")
Q1, Q2 = "2025/26 Q1", "2025/26 Q2"
VOLUME_COUNTS = ["rfd_coded", "counted", "patients_coded", "patients_counted", "day_cases"]


def raw_volumes() -> pd.DataFrame:
    """Two quarters at RXA: 15 coded of which 12 counted; then 6 coded, all counted."""
    table = pd.DataFrame(
        {
            "provider_code": ["RXA", "RXA"],
            "quarter": [Q1, Q2],
            "rfd_coded": [15, 6],
            "counted": [12, 6],
            "not_counted": [3, 0],
            "patients_coded": [14, 6],
            "patients_counted": [11, 6],
            "day_cases": [9, 5],
        }
    )
    counts = [*VOLUME_COUNTS, "not_counted"]
    table[counts] = table[counts].astype("Int64")
    return table


def raw_waterfall() -> pd.DataFrame:
    """Q1 at RXA: 15 coded = 3 emergency + 0 private + 12 counted."""
    return pd.DataFrame(
        {
            "provider_code": ["RXA"] * 4,
            "quarter": [Q1] * 4,
            "step": [0, 1, 2, 3],
            "label": ["RFD-coded spells", "emergency admission", "private patient", "counted as 2K_RFD_back"],
            "spells": pd.array([15, 3, 0, 12], dtype="Int64"),
        }
    )


def raw_check(check: str, numerator, denominator, *, unassessed=None, note=None, status=pd.NA) -> dict:
    """Return one row of counts as restricted_use_checks gives it (a restriction check names its own)."""
    kind = "restriction" if check.startswith("restriction: ") else check
    return dict(
        zip(
            COLUMNS,
            [
                "RXA",
                Q1,
                kind,
                check,
                "a label",
                "short",
                "expected",
                numerator,
                denominator,
                unassessed,
                status,
                note,
            ],
            strict=True,
        )
    )


def raw_checks(*rows: dict) -> pd.DataFrame:
    table = pd.DataFrame(list(rows), columns=COLUMNS)
    for column in ("numerator", "unassessed"):
        table[column] = table[column].astype("Int64")
    table["denominator"] = table["denominator"].astype("Float64")
    for column in ("status", "note", "check"):
        table[column] = table[column].astype("string")
    return table


def test_counted_is_published_even_when_the_spells_not_counted_are_few():
    published = published_volumes(raw_volumes(), CIRCULATION).set_index("quarter")
    # Q1: 15 -> 15 and 12 -> 10, each on its own; the 3 not counted are not published at all.
    assert published.loc[Q1, ["rfd_coded", "counted"]].tolist() == [15, 10]
    assert not published.loc[Q1, ["rfd_coded_suppressed", "counted_suppressed"]].any()
    assert "not_counted" not in published.columns
    # Q2: 6 coded and 6 counted are small: both hidden.
    assert published.loc[Q2, ["rfd_coded_suppressed", "counted_suppressed"]].all()
    assert published.loc[Q2, "day_cases_suppressed"]
    never_small(published.reset_index(), VOLUME_COUNTS)


def test_the_waterfall_ends_are_the_volumes_and_its_reasons_protect_each_other():
    volumes = published_volumes(raw_volumes(), CIRCULATION)
    table = published_waterfall(raw_waterfall(), volumes, CIRCULATION).set_index("step")
    # RFD-coded and counted are the volumes' published 15 and 10, not recomputed.
    assert table.loc[0, "spells"] == 15 and table.loc[3, "spells"] == 10
    # The 3 emergencies are hidden; the only other reason is 0, which is never hidden.
    assert table.loc[1, "spells_suppressed"] and table.loc[2, "spells"] == 0
    reasons = table.loc[[1, 2]].reset_index()
    never_small(reasons, ["spells"], within=KEYS)


def test_reasons_get_complementary_suppression_among_themselves():
    raw = raw_waterfall()
    raw["spells"] = pd.array([35, 3, 12, 20], dtype="Int64")
    volumes = published_volumes(raw_volumes().assign(rfd_coded=35, counted=20), CIRCULATION)
    table = published_waterfall(raw, volumes, CIRCULATION).set_index("step")
    assert table.loc[[1, 2], "spells_suppressed"].tolist() == [True, True]  # 3, and 12 to cover it
    assert not table.loc[[0, 3], "spells_suppressed"].any()


def test_intervals_are_protected_one_by_one():
    raw = pd.DataFrame(
        {
            "provider_code": ["RXA"] * 3,
            "band": ["0-6", "6-12", "12-16"],
            "spells": pd.array([2, 9, 0], "Int64"),
        }
    )
    table = published_intervals(raw, CIRCULATION)
    assert table["spells"].tolist()[1:] == [10, 0] and table["spells_suppressed"].tolist() == [
        True,
        False,
        False,
    ]


@pytest.fixture
def expectations():
    return load_expectations()


def test_a_hidden_breach_is_judged_at_its_worst(expectations):
    checks = raw_checks(raw_check("restriction: Only Elective Activity", 2, 15))
    published = published_checks(
        checks, published_volumes(raw_volumes(), CIRCULATION), expectations, CIRCULATION
    )
    row = published.iloc[0]
    assert row["numerator_suppressed"] and pd.isna(row["share"])
    # Denominator: the volumes' published RFD-coded 15. 1 to 7 of 15 is more than 2 %: red.
    assert row["denominator"] == 15 and row["status"] == "red"
    assert row["note"] == WORST_CASE


def test_a_hidden_denominator_leaves_a_more_is_better_check_unjudged(expectations):
    checks = raw_checks(raw_check("prior_block", 5, 5, unassessed=0))
    published = published_checks(
        checks, published_volumes(raw_volumes(), CIRCULATION), expectations, CIRCULATION
    )
    row = published.iloc[0]
    assert row["status"] == "not assessable" and row["note"] == TOO_FEW


def test_a_note_gives_only_the_published_count(expectations):
    checks = raw_checks(
        raw_check("repeat", 10, 40, unassessed=3, note=f"3 {say('checks.notes.look_back')}"),
        raw_check("prior_block", 40, 40, unassessed=12, note=f"12 {say('checks.notes.look_back')}"),
    )
    published = published_checks(
        checks, published_volumes(raw_volumes(), CIRCULATION), expectations, CIRCULATION
    )
    assert published["note"].tolist() == [
        f"* {say('checks.notes.look_back')}",
        f"10 {say('checks.notes.look_back')}",
    ]  # 10 shown: no worst case
    assert published["status"].tolist() == ["red", "green"]  # 10 / 40 = 25 % repeats; 40 / 40 blocks


def test_change_from_baseline_uses_published_counts(expectations):
    volumes = pd.concat([raw_volumes().iloc[[0]].assign(quarter=q) for q in ["Q1", "Q2", "Q3", "Q4", "Q5"]])
    volumes["counted"] = pd.array([12, 18, 22, 28, 40], dtype="Int64")
    published = published_volumes(volumes, CIRCULATION)
    row = raw_check("change_from_baseline", 40, 20.0, note="baseline: mean of Q1 to Q4")
    checks = raw_checks({**row, "quarter": "Q5"})
    out = published_checks(checks, published, expectations, CIRCULATION).iloc[0]
    # Published 10, 20, 20, 30: mean 20; this quarter 40: +100 %, red.
    assert (out["numerator"], out["denominator"], out["share"], out["status"]) == (40, 20.0, 1.0, "red")


def test_a_suppressed_baseline_quarter_leaves_the_baseline_unknown(expectations):
    volumes = pd.concat([raw_volumes().iloc[[0]].assign(quarter=q) for q in ["Q1", "Q2", "Q3", "Q4", "Q5"]])
    volumes["counted"] = pd.array([12, 3, 22, 28, 40], dtype="Int64")  # Q2's 3 is suppressed
    published = published_volumes(volumes, CIRCULATION)
    row = raw_check("change_from_baseline", 40, 16.25, note="baseline: mean of Q1 to Q4")
    out = published_checks(raw_checks({**row, "quarter": "Q5"}), published, expectations, CIRCULATION).iloc[0]
    assert pd.isna(out["denominator"]) and pd.isna(out["share"])
    assert out["status"] == "not assessable"
    assert out["note"].endswith("a baseline quarter's count is suppressed")


def test_internal_mode_publishes_the_true_counts(expectations):
    raw = raw_volumes()
    published = published_volumes(raw, INTERNAL)
    assert published[VOLUME_COUNTS].equals(raw[VOLUME_COUNTS])
    assert not published[[f"{c}_suppressed" for c in VOLUME_COUNTS]].to_numpy().any()
    checks = raw_checks(raw_check("restriction: Only Elective Activity", 2, 15))
    row = published_checks(checks, published, expectations, INTERNAL).iloc[0]
    assert (row["numerator"], row["denominator"], row["status"]) == (2, 15, "red")
    assert row["share"] == pytest.approx(2 / 15)

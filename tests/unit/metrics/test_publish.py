"""The audit's tables as published: each count protected once, shares and statuses from published counts.

The raw tables here are made by hand in the shape :mod:`rfd_lib.metrics.volumes` and
:mod:`rfd_lib.metrics.checks` return, so each expected value can be worked out on paper with the rule in
:mod:`rfd_lib.metrics.disclosure` (1-7 hidden, others rounded to the nearest 5).
"""

from __future__ import annotations

import pandas as pd
import pytest

from rfd_lib.metrics.checks import COLUMNS
from rfd_lib.metrics.disclosure import CIRCULATION, INTERNAL, DisclosureError, never_small
from rfd_lib.metrics.expectations import load_expectations
from rfd_lib.metrics.publish import (
    published_checks,
    published_volumes,
    published_waterfall,
)
from rfd_lib.metrics.publish_intervals import published_intervals
from rfd_lib.wording import say

KEYS = ["provider_code", "quarter"]
LOOK_BACK = say("checks.notes.look_back")
TOO_FEW = say("checks.notes.too_few")
WORST_CASE = say("checks.notes.worst_case")
WORST_DENOMINATOR = say("checks.notes.worst_denominator")
NOT_SHOWN_UNASSESSED = say("checks.notes.not_shown_unassessed")
CODED = say("checks.notes.coded_blocks")  # beside every prior-block check
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


RESTRICTIONS = [
    "Only Elective Activity",
    "Private Appointment Exclusion",
]  # the waterfall's reasons, in order
EMERGENCY = "restriction: Only Elective Activity"


def raw_waterfall(volumes: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each quarter of ``volumes`` (default raw_volumes()): coded = emergencies (the not counted) + 0 private + counted.

    Q1 at RXA: 15 coded = 3 emergency + 0 private + 12 counted; Q2: 6 = 0 + 0 + 6.
    """
    volumes = raw_volumes() if volumes is None else volumes
    labels = ["RFD-coded spells", "emergency admission", "private patient", "counted as 2K_RFD_back"]
    rows = [
        (code, quarter, step, labels[step], spells)
        for code, quarter, coded, counted in volumes[
            ["provider_code", "quarter", "rfd_coded", "counted"]
        ].itertuples(index=False)
        for step, spells in enumerate([coded, coded - counted, 0, counted])
    ]
    table = pd.DataFrame(rows, columns=["provider_code", "quarter", "step", "label", "spells"])
    return table.astype({"spells": "Int64"})


def published(volumes: pd.DataFrame, waterfall: pd.DataFrame | None = None, policy=CIRCULATION):
    """Return the published volumes and waterfall, as audit_metrics publishes them."""
    waterfall = raw_waterfall(volumes) if waterfall is None else waterfall
    table = published_volumes(volumes, policy, waterfall=waterfall)
    return table, published_waterfall(waterfall, table, policy, restrictions=RESTRICTIONS)


def judge(checks: pd.DataFrame, volumes: pd.DataFrame, expectations, policy=CIRCULATION) -> pd.DataFrame:
    table, _ = published(volumes, policy=policy)
    return published_checks(checks, table, expectations, policy)


def raw_check(
    check: str, numerator, denominator, *, unassessed=None, note=None, status=pd.NA, without_side=None
) -> dict:
    """Return one row of counts as restricted_use_checks gives it (a check is named by its kind)."""
    kind = check
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
                "basis",
                "thresholds",
                numerator,
                denominator,
                unassessed,
                without_side,
                status,
                note,
                "what it means",
                "what to ask",
            ],
            strict=True,
        )
    )


def raw_checks(*rows: dict) -> pd.DataFrame:
    table = pd.DataFrame(list(rows), columns=COLUMNS)
    for column in ("numerator", "unassessed", "without_side"):
        table[column] = table[column].astype("Int64")
    table["denominator"] = table["denominator"].astype("Float64")
    for column in ("status", "note", "check"):
        table[column] = table[column].astype("string")
    return table


def test_counted_is_published_even_when_the_spells_not_counted_are_few():
    table, _ = published(raw_volumes())
    table = table.set_index("quarter")
    # Q1: 12 counted -> 10 on its own. RFD-coded is the waterfall's total as published: counted 10
    # plus the reasons shown (the 3 emergencies are hidden, so left out): 10, not 15.
    assert table.loc[Q1, ["rfd_coded", "counted"]].tolist() == [10, 10]
    assert not table.loc[Q1, ["rfd_coded_suppressed", "counted_suppressed"]].any()
    assert "not_counted" not in table.columns
    # Q2: 6 counted is small and hidden; nothing else is shown, so RFD-coded is hidden too.
    assert table.loc[Q2, ["rfd_coded_suppressed", "counted_suppressed"]].all()
    assert table.loc[Q2, "day_cases_suppressed"]
    never_small(table.reset_index(), VOLUME_COUNTS)


def test_rfd_coded_spells_need_the_waterfall():
    with pytest.raises(DisclosureError, match="RFD-coded spells are published as the waterfall's total"):
        published_volumes(raw_volumes(), CIRCULATION)
    # Internal mode publishes the true count.
    assert published_volumes(raw_volumes(), INTERNAL)["rfd_coded"].tolist() == [15, 6]


def test_the_waterfall_ends_are_the_volumes_and_its_steps_add_up():
    _, table = published(raw_volumes())
    table = table[table["quarter"] == Q1].set_index("step")
    # RFD-coded and counted are the volumes' published 10 and 10, not recomputed.
    assert table.loc[0, "spells"] == 10 and table.loc[3, "spells"] == 10
    # The 3 emergencies are hidden; the only other reason is 0, which is never hidden.
    assert table.loc[1, "spells_suppressed"] and table.loc[2, "spells"] == 0
    assert table.loc[0, "spells"] == table.loc[[1, 2, 3], "spells"].fillna(0).sum()
    assert table.loc[[1, 2], "measure"].tolist() == [EMERGENCY, "restriction: Private Appointment Exclusion"]
    never_small(table.reset_index(), ["spells"])


def test_reasons_are_protected_each_on_their_own():
    raw = raw_waterfall()
    raw.loc[raw["quarter"] == Q1, "spells"] = pd.array([35, 3, 12, 20], dtype="Int64")
    volumes = raw_volumes().assign(rfd_coded=[35, 6], counted=[20, 6])
    _, table = published(volumes, raw)
    table = table[table["quarter"] == Q1].set_index("step")
    # 3 is hidden, 12 shown as 10: no total from the raw data is published to cover.
    assert table.loc[[1, 2], "spells_suppressed"].tolist() == [True, False]
    assert table["spells"].tolist()[::3] == [30, 20]  # RFD-coded 30 = 20 counted + 10 shown


def intervals(*spells: int) -> pd.DataFrame:
    bands = ["0-6", "6-12", "12-16", "16-24"][: len(spells)]
    return pd.DataFrame(
        {"provider_code": ["RXA"] * len(spells), "band": bands, "spells": pd.array(spells, "Int64")}
    )


def window(expectations, repeats: int, assessable: int, counted: int, unassessed: int = 0):
    """Return the published repeat check and volumes of a one-quarter window at RXA (Q1)."""
    volumes = raw_volumes().assign(counted=[counted, 6], rfd_coded=[counted, 6], not_counted=[0, 0])
    checks = raw_checks(raw_check("repeat", repeats, assessable, unassessed=unassessed))
    table, _ = published(volumes)
    return judge(checks, volumes, expectations), table[table["quarter"] == Q1]


def test_intervals_are_protected_together_within_the_provider(expectations):
    checks, volumes = window(expectations, repeats=30, assessable=200, counted=200)
    table = published_intervals(intervals(2, 9, 0, 20), CIRCULATION, checks=checks, volumes=volumes)
    # 2 is hidden, and 9 (the smallest other) with it: their total is bounded by counted RFDs.
    assert table["spells_suppressed"].tolist() == [True, True, False, False]
    assert table["spells"].tolist()[2:] == [0, 20]


def test_bands_that_could_bound_a_suppressed_window_count_are_hidden_two_at_least(expectations):
    # 46 counted, 43 assessable for a repeat (shown as 45 - 5 = 40: the 3 unassessed are hidden),
    # each with a previous RFD: 20 and 23 in two bands, shown as 20 and 25 (so at least 41). A
    # reader would take at least 41 assessable of at most 47 counted: the 3 at most 6. Both hidden.
    checks, volumes = window(expectations, repeats=30, assessable=43, counted=46, unassessed=3)
    out = published_intervals(intervals(20, 23), CIRCULATION, checks=checks, volumes=volumes)
    assert out["spells_suppressed"].tolist() == [True, True]
    # 3 repeats hidden, far below the bands (at most 48): nothing to hide.
    checks, volumes = window(expectations, repeats=3, assessable=40, counted=40)
    out = published_intervals(intervals(12, 20, 0, 10), CIRCULATION, checks=checks, volumes=volumes)
    assert not out["spells_suppressed"].any()


def test_bands_that_the_window_would_bound_are_not_shown(expectations):
    checks, volumes = window(expectations, repeats=0, assessable=5, counted=5)
    out = published_intervals(intervals(2, 3, 0, 0), CIRCULATION, checks=checks, volumes=volumes)
    # 2 and 3 hidden, under at most 7 assessable RFDs: one of them could not be 7. Not shown.
    assert out["spells"].isna().all() and not out["spells_suppressed"].any()
    checks, volumes = window(expectations, repeats=0, assessable=200, counted=200)
    out = published_intervals(intervals(2, 3, 0, 0), CIRCULATION, checks=checks, volumes=volumes)
    assert out["spells_suppressed"].tolist() == [True, True, False, False]  # 200 assessable: no bound


@pytest.fixture
def expectations():
    return load_expectations()


def test_a_hidden_breach_is_judged_at_its_worst(expectations):
    # 3 of 15 lumbar injections were facet joint injections: the 3 is hidden.
    checks = raw_checks(raw_check("facet_joint_injection", 3, 15))
    row = judge(checks, raw_volumes(), expectations).iloc[0]
    assert row["numerator_suppressed"] and pd.isna(row["share"])
    # Denominator 15 (published as 15). 1 to 7 of 15 is more than 10 %: red.
    assert row["denominator"] == 15 and row["status"] == "red"
    assert row["note"] == WORST_CASE


def test_a_hidden_denominator_leaves_a_more_is_better_check_unjudged(expectations):
    checks = raw_checks(raw_check("prior_block", 5, 5, unassessed=7))
    row = judge(checks, raw_volumes(), expectations).iloc[0]
    # 5 assessed (hidden) and 7 not (hidden with it: counted 10 less either would give the other).
    assert row["denominator_suppressed"] and row["unassessed_suppressed"] and row["numerator_suppressed"]
    assert row["status"] == "not assessable" and row["note"] == f"{TOO_FEW}; * {LOOK_BACK}; {CODED}"


def test_a_note_gives_only_the_published_count(expectations):
    checks = raw_checks(
        raw_check("repeat", 10, 49, unassessed=3, note=f"3 {LOOK_BACK}"),
        raw_check("prior_block", 40, 40, unassessed=12, note=f"12 {LOOK_BACK}"),
    )
    out = judge(checks, raw_volumes().assign(counted=[52, 6], rfd_coded=[55, 6]), expectations)
    less = say("checks.notes.counted_less", rounding=5)
    assert out["note"].tolist() == [
        f"{WORST_DENOMINATOR}; * {LOOK_BACK}; {less}",
        f"10 {LOOK_BACK}; {CODED}",  # 10 shown
    ]
    # The (b): counted 50 less a denominator would narrow the hidden 3, so the denominator
    # is counted less 5: 45. Judged on the worst it allows, 10 of 50 - 7 = 23 % repeats: red;
    # 40 / 40 blocks: green.
    assert out["denominator"].tolist() == [45, 40]
    assert out["status"].tolist() == ["red", "green"]


def test_a_denominator_of_counted_less_5_is_judged_on_the_worst_it_allows(expectations):
    # 41 counted, 40 assessed (1 not, hidden), 36 with a block: 90 %. Shown: 35 of 40 - 5; 100 %
    # would be green (at or above 90 %), but the denominator could be 40 - 1 = 39: 35 / 39 =
    # 89.7 %, amber.
    checks = raw_checks(raw_check("prior_block", 36, 40, unassessed=1))
    row = judge(checks, raw_volumes().assign(counted=[41, 6], rfd_coded=[41, 6]), expectations).iloc[0]
    assert (row["numerator"], row["denominator"]) == (35, 35)
    assert row["share"] == pytest.approx(35 / 35) and row["status"] == "amber"
    assert row["note"].startswith(WORST_DENOMINATOR)


def test_a_numerator_is_never_shown_above_a_denominator_of_counted_less_5(expectations):
    checks = raw_checks(raw_check("prior_block", 49, 49, unassessed=3))
    row = judge(checks, raw_volumes().assign(counted=[52, 6], rfd_coded=[55, 6]), expectations).iloc[0]
    assert (row["numerator"], row["denominator"], row["share"]) == (45, 45, 1.0)


def test_with_counted_rfds_suppressed_how_many_were_unassessed_is_not_shown(expectations):
    # 6 counted (hidden): 4 assessed and 2 not would each be *, telling a reader counted >= 2.
    checks = raw_checks(
        {**raw_check("prior_block", 4, 4, unassessed=2, note=f"2 {LOOK_BACK}"), "quarter": Q2}
    )
    row = judge(checks, raw_volumes(), expectations).iloc[0]
    assert pd.isna(row["unassessed"]) and not row["unassessed_suppressed"]
    assert row["note"].endswith(f"{NOT_SHOWN_UNASSESSED}; {CODED}") and "2" not in row["note"]


def test_change_from_baseline_uses_published_counts(expectations):
    volumes = pd.concat([raw_volumes().iloc[[0]].assign(quarter=q) for q in ["Q1", "Q2", "Q3", "Q4", "Q5"]])
    volumes["counted"] = pd.array([12, 18, 22, 28, 40], dtype="Int64")
    volumes["rfd_coded"] = volumes["counted"] + 3
    row = raw_check("change_from_baseline", 40, 20.0, note="baseline: mean of Q1 to Q4")
    out = judge(raw_checks({**row, "quarter": "Q5"}), volumes, expectations).iloc[0]
    # Published 10, 20, 20, 30: mean 20; this quarter 40: +100 %, red.
    assert (out["numerator"], out["denominator"], out["share"], out["status"]) == (40, 20.0, 1.0, "red")


def test_a_suppressed_baseline_quarter_leaves_the_baseline_unknown(expectations):
    volumes = pd.concat([raw_volumes().iloc[[0]].assign(quarter=q) for q in ["Q1", "Q2", "Q3", "Q4", "Q5"]])
    volumes["counted"] = pd.array([12, 3, 22, 28, 40], dtype="Int64")  # Q2's 3 is suppressed
    volumes["rfd_coded"] = volumes["counted"] + 3
    row = raw_check("change_from_baseline", 40, 16.25, note="baseline: mean of Q1 to Q4")
    out = judge(raw_checks({**row, "quarter": "Q5"}), volumes, expectations).iloc[0]
    assert pd.isna(out["denominator"]) and pd.isna(out["share"])
    assert out["status"] == "not assessable"
    assert out["note"].endswith("a baseline quarter's count is suppressed")


def test_internal_mode_publishes_the_true_counts(expectations):
    raw = raw_volumes()
    published = published_volumes(raw, INTERNAL)
    assert published[VOLUME_COUNTS].equals(raw[VOLUME_COUNTS])
    assert not published[[f"{c}_suppressed" for c in VOLUME_COUNTS]].to_numpy().any()
    checks = raw_checks(raw_check("facet_joint_injection", 5, 15))
    row = published_checks(checks, published, expectations, INTERNAL).iloc[0]
    assert (row["numerator"], row["denominator"], row["status"]) == (5, 15, "red")
    assert row["share"] == pytest.approx(5 / 15)


def test_two_pathway_checks_added_up_never_pin_the_counted_rfds(expectations):
    # Found by the attacker on the demo (ZG7, 2025/26 Q4): 73 counted (published 75). Prior block:
    # 72 assessed and 1 not (hidden), 69 with a block (published 70, so assessed >= 68). Repeat:
    # 51 assessed (50) and 22 not (20). Added up, the repeat's 50 + 20 said counted was at most
    # 74, so the hidden 1 could not be 7 (74 - 68 = 6). Each denominator is now the published
    # counted less the unassessed count as published: the two add up to the published 75 exactly.
    checks = raw_checks(
        raw_check("prior_block", 69, 72, unassessed=1),
        raw_check("repeat", 20, 51, unassessed=22),
    )
    out = judge(checks, raw_volumes().assign(counted=[73, 6], rfd_coded=[78, 6]), expectations)
    prior, repeat = out.iloc[0], out.iloc[1]
    assert prior["unassessed_suppressed"] and prior["denominator"] == 75 - 5
    assert (repeat["denominator"], repeat["unassessed"]) == (55, 20)
    assert repeat["denominator"] + repeat["unassessed"] == 75

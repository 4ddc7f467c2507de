"""The attacker (tests/attacker.py) on small audits: the issue's two examples, then hypothesis-made ones.

Each audit is worked out by the audit's own code from labelled spells (:func:`tests.attacker.audit_of`),
written to table files as a run writes them, and attacked from the files alone. The goal, for
every suppressed count: a count of 1 to 7 keeps every one of 1 to 7 possible, and any suppressed
count keeps at least 7 possible values. The true counts (the same audit in internal mode) must
satisfy everything the attacker assumes, so it never "finds" what is not there.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings, target
from hypothesis import strategies as st

from tests.attacker import THRESHOLD, Spells, attack, totals, truth_violations, written

Q1, Q2, Q3 = "2025/26 Q1", "2025/26 Q2", "2025/26 Q3"
ALL_SMALL = tuple(range(1, THRESHOLD + 1))
DIAGNOSIS, AGE = 0, 1  # the rule's first two restrictions


def attacked(groups: list[Spells], folder: Path) -> pd.DataFrame:
    """Return the attacker's findings on ``groups``' table files, each with its true count."""
    figures, truth = written(groups, folder)
    assert truth_violations(figures, truth) == []
    found = attack(figures)
    key = ["table", "provider_code", "quarter", "measure", "statistic"]
    return found.merge(truth[[*key, "number"]].rename(columns={"number": "true"}), on=key, how="left")


def cell(found: pd.DataFrame, table: str, measure: str, statistic: str) -> pd.Series:
    rows = found[(found["table"] == table) & found["measure"].str.contains(measure, regex=False)]
    (row,) = rows[rows["statistic"] == statistic].itertuples()
    return row


def test_a_waterfall_reason_is_not_narrowed_by_the_checks_table(tmp_path):
    # The (a): 18 RFD-coded, 0 counted, diagnosis 12, age 6. Before the fix the waterfall
    # published 20, *, * and the checks "diagnosis 10", narrowing the hidden age count to {6, 7}.
    found = attacked(
        [Spells("RXA", Q1, 12, fails=(DIAGNOSIS,)), Spells("RXA", Q1, 6, fails=(AGE,))], tmp_path
    )
    age = cell(found, "waterfall", "Age between", "first failure")
    assert age.true == 6 and age.feasible_small == ALL_SMALL


def test_the_unassessed_count_is_not_narrowed_by_counted_less_the_denominator(tmp_path):
    # The (b): 18 counted, 12 of them assessable for a prior block, 6 not. Before the fix,
    # counted 20 less the denominator 10 narrowed the suppressed 6 to {6, 7}.
    found = attacked([Spells("RXA", Q1, 12), Spells("RXA", Q1, 6, prior_block=None)], tmp_path)
    unassessed = cell(found, "checks", "prior_block", "unassessed")
    assert unassessed.true == 6 and unassessed.feasible_small == ALL_SMALL


def test_the_same_for_repeats(tmp_path):
    found = attacked([Spells("RXA", Q1, 12), Spells("RXA", Q1, 6, repeat=None)], tmp_path)
    unassessed = cell(found, "checks", "repeat", "unassessed")
    assert unassessed.true == 6 and unassessed.feasible_small == ALL_SMALL


def test_repeats_judged_without_a_side_do_not_narrow_a_hidden_unassessed_count(tmp_path):
    # 18 counted, all repeats, 12 assessable of which 12 judged without a side, 6 not assessable.
    # Shown beside a capped numerator, "12 without a side" would bound the hidden 6 from above.
    found = attacked(
        [
            Spells("RXA", Q1, 12, repeat=True, previous=40, without_side=True),
            Spells("RXA", Q1, 6, repeat=None),
        ],
        tmp_path,
    )
    unassessed = cell(found, "checks", "repeat", "unassessed")
    assert unassessed.true == 6 and unassessed.feasible_small == ALL_SMALL


def test_a_small_number_of_rfds_without_a_site_is_not_worked_out_from_the_total(tmp_path):
    found = attacked([Spells("RXA", Q1, 18), Spells("RXA", Q1, 5, kind="rfd_no_site")], tmp_path)
    no_site = cell(found, "checks", "rfd_without_lumbar_site", "numerator")
    assert no_site.true == 5 and no_site.feasible_small == ALL_SMALL


def test_a_later_restriction_does_not_bound_an_earlier_hidden_reason(tmp_path):
    # 7 fail the diagnosis (hidden) and the age restriction too; 22 fail the age restriction only.
    # Age's failures (29 -> 30) less its first failures (22 -> 20) would say diagnosis >= 6.
    found = attacked(
        [
            Spells("RXA", Q1, 7, fails=(DIAGNOSIS, AGE)),
            Spells("RXA", Q1, 22, fails=(AGE,)),
            Spells("RXA", Q1, 40),
        ],
        tmp_path,
    )
    diagnosis = cell(found, "waterfall", "Primary_Spell_Diagnosis", "first failure")
    assert diagnosis.true == 7 and diagnosis.feasible_small == ALL_SMALL


def test_a_chart_mean_does_not_narrow_a_shown_count_that_splits_into_a_hidden_one(tmp_path):
    # 19 counted (shown 20: 18 to 22) in the middle of three quarters, 5 of them unassessable for a
    # prior block (hidden). A mean of 6 (whole numbers) would say counted is 17 to 19, and with the
    # numerator (15: 13 or more) that the hidden 5 is at most 6. Found by the generated audits.
    found = attacked(
        [
            Spells("RXA", Q2, 14),
            Spells("RXA", Q2, 5, prior_block=None),
            Spells("RXA", Q1, 1, kind="block"),
            Spells("RXA", Q3, 1, kind="block"),
        ],
        tmp_path,
    )
    unassessed = cell(found, "checks", "prior_block", "unassessed")
    assert unassessed.true == 5 and unassessed.feasible_small == ALL_SMALL


# --- hypothesis-made audits ----------------------------------------------------------------

counts = st.one_of(st.integers(1, 9), st.integers(1, 30))
previous = st.sampled_from(
    [(False, None), (None, None), (True, 40), (True, 300), (False, 600), (False, 1200)]
)


@st.composite
def spells(draw, provider: str, quarter: str) -> Spells:
    kind = draw(st.sampled_from(["rfd"] * 6 + ["block", "block", "facet_injection", "rfd_no_site"]))
    repeat, days = draw(previous)
    fails = draw(st.one_of(st.just(()), st.sets(st.integers(0, 4), min_size=1, max_size=2)))
    return Spells(
        provider,
        quarter,
        draw(counts),
        kind=kind,
        fails=tuple(sorted(fails)),
        day_case=draw(st.booleans()),
        prior_block=draw(st.sampled_from([True, True, False, None])),
        repeat=repeat,
        previous=days,
        without_side=draw(st.booleans()),
        therapeutic=draw(st.booleans()),
    )


@st.composite
def audits(draw) -> list[Spells]:
    providers = ["RXA", "RXB"][: draw(st.integers(1, 2))]
    quarters = [Q1, Q2, Q3][: draw(st.integers(1, 3))]
    groups = [
        group
        for provider in providers
        for quarter in quarters
        for group in draw(st.lists(spells(provider, quarter), min_size=0, max_size=6))
    ]
    # Every provider has a spell somewhere, and the last quarter is in the data.
    return groups + [Spells(provider, quarters[-1], 1, kind="block") for provider in providers]


def test_no_suppressed_count_is_narrowed_in_generated_audits(record_property):
    smallest: list[int] = []

    @settings(derandomize=True, max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(audits())
    def check(groups):
        with tempfile.TemporaryDirectory() as folder:
            found = attacked(groups, Path(folder))
        if found.empty:
            return
        target(-float(found["size"].min()), label="smallest feasible set")
        smallest.append(int(found["size"].min()))
        small = found["true"].between(1, THRESHOLD) & ~totals(found)
        assert found.loc[small, "feasible_small"].map(lambda values: values == ALL_SMALL).all(), found[small]
        assert (found["size"] >= THRESHOLD).all(), found

    check()
    assert smallest, "no generated audit had a suppressed count"
    record_property("smallest_feasible_set", min(smallest))
    print(f"\nattacker, generated audits: smallest feasible set {min(smallest)} (goal: {THRESHOLD})")


@pytest.mark.parametrize("reasons", [(3,), (3, 12), (2, 2, 30)])
def test_a_waterfall_with_hidden_reasons_adds_up(tmp_path, reasons):
    # RFD-coded spells are the waterfall's total: counted and the reasons as published, so the
    # hidden reasons cannot be worked out from it.
    groups = [Spells("RXA", Q1, n, fails=(i,)) for i, n in enumerate(reasons)] + [Spells("RXA", Q1, 31)]
    figures, _ = written(groups, tmp_path)
    steps = figures[(figures["table"] == "waterfall")]
    coded = steps.loc[steps["measure"] == "rfd_coded", "number"].iat[0]
    assert coded == steps.loc[steps["measure"] != "rfd_coded", "number"].fillna(0).sum()

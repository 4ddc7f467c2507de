"""The case lists select the spells each check counts: per check, provider and quarter, its true count."""

from __future__ import annotations

import pandas as pd
import pytest

from rfd_lib.engine.rule import load_rule
from rfd_lib.metrics.activity import label_activity
from rfd_lib.metrics.audit import audit_metrics
from rfd_lib.metrics.case_lists import COLUMNS, SELECTIONS, case_lists
from rfd_lib.metrics.check_kinds import CheckKind
from rfd_lib.metrics.code_lists import load_code_lists
from rfd_lib.metrics.disclosure import INTERNAL
from rfd_lib.metrics.expectations import load_expectations

KEYS = ["provider_code", "quarter", "check"]


@pytest.fixture(scope="module")
def demo(synthetic_set):
    rule = load_rule()
    expectations = load_expectations(rule=rule)
    activity = label_activity(synthetic_set.classified, rule, load_code_lists(), expectations)
    internal = audit_metrics(synthetic_set.classified, populations=synthetic_set.populations, policy=INTERNAL)
    lists = case_lists(activity, synthetic_set.classified, internal.checks, expectations)
    return internal, lists, synthetic_set.classified


def test_each_checks_rows_per_provider_and_quarter_are_its_true_count(demo):
    internal, lists, _ = demo
    checks = internal.checks[internal.checks["kind"].isin([kind.value for kind in SELECTIONS])]
    good = checks["kind"].map({kind.value: internal.expectations.checks.of(kind).good for kind in CheckKind})
    numerator = checks["numerator"].fillna(0).astype(int)
    # Where a larger share is better, the spells behind the flag are the rest of the denominator.
    expected = numerator.where(good.eq("low"), checks["denominator"].fillna(0).astype(int) - numerator)
    listed = lists.groupby(KEYS).size()
    got = pd.Series(
        listed.reindex(pd.MultiIndex.from_frame(checks[KEYS])).fillna(0).astype(int).to_numpy(),
        index=checks.index,
    )
    assert (got == expected).all(), checks.assign(got=got, expected=expected)[got != expected].head()
    assert expected.sum() > 0 and set(lists["check"]) <= set(checks["check"])
    # Every kind of spell check has a list somewhere in the demo, the designed problems among them.
    assert {kind.value for kind in SELECTIONS} <= set(internal.checks.loc[checks.index, "kind"])
    assert not lists["check"].eq("expected_rate").any()
    assert lists["check"].eq("change_from_baseline").any()


def test_a_listed_spell_is_the_extracts_spell_with_its_dates_and_codes(demo):
    _, lists, classified = demo
    assert list(lists.columns) == COLUMNS
    spells = classified.set_index("spell_id")
    sample = lists.drop_duplicates("spell_id").head(50).set_index("spell_id")
    assert (sample["primary_procedure"] == spells.loc[sample.index, "Primary_Spell_Procedure"]).all()
    assert (sample["admission_date"] == spells.loc[sample.index, "admission_date"]).all()


def test_a_repeat_names_the_previous_rfd_of_the_same_patient(demo):
    _, lists, classified = demo
    repeats = lists[lists["check"].eq("repeat")]
    assert len(repeats) and repeats["related_spells"].notna().all()
    previous = repeats["related_spells"].str.extract(r"^(\S+) \((\d{4}-\d{2}-\d{2})\)$")
    spells = classified.set_index("spell_id")
    assert (spells.loc[previous[0], "patient_id"].to_numpy() == repeats["patient_id"].to_numpy()).all()
    assert (pd.to_datetime(previous[1]).to_numpy() <= repeats["admission_date"].to_numpy()).all()
    assert lists.loc[~lists["check"].eq("repeat"), "related_spells"].isna().all()


def test_a_new_kind_of_check_slots_in_with_one_line(demo, monkeypatch):
    from rfd_lib.metrics import case_lists as module

    internal, _, classified = demo
    rule = load_rule()
    activity = label_activity(classified, rule, load_code_lists(), internal.expectations)
    monkeypatch.setitem(
        module.SELECTIONS, CheckKind.CHANGE_FROM_BASELINE, module.SELECTIONS[CheckKind.REPEAT]
    )
    lists = case_lists(activity, classified, internal.checks, internal.expectations)
    assert (lists["check"] == "change_from_baseline").sum() == (lists["check"] == "repeat").sum() > 0

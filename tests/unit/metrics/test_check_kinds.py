"""The kinds of check are one vocabulary: the expectations file, the checks table and the reports share it."""

from __future__ import annotations

import pytest

from rfd_lib.metrics.check_kinds import CheckKind
from rfd_lib.metrics.expectations import Checks, load_expectations


def test_the_expectations_file_has_one_entry_per_kind_and_no_other():
    assert list(Checks.model_fields) == [kind.value for kind in CheckKind]
    checks = load_expectations().checks
    assert all(checks.of(kind).label and checks.of(kind).short for kind in CheckKind)


@pytest.mark.parametrize(
    ("kind", "restriction", "name"),
    [
        (CheckKind.RESTRICTION, "Only Elective Activity", "restriction: Only Elective Activity"),
        (CheckKind.REPEAT, None, "repeat"),
    ],
)
def test_a_check_is_named_from_its_kind(kind, restriction, name):
    assert kind.check_name(restriction) == name


@pytest.mark.parametrize(("kind", "restriction"), [(CheckKind.RESTRICTION, None), (CheckKind.REPEAT, "x")])
def test_only_a_restriction_check_names_a_restriction(kind, restriction):
    with pytest.raises(ValueError, match="only one, names its restriction"):
        kind.check_name(restriction)


def test_ratio_checks_divide_by_something_other_than_spells():
    ratios = {kind for kind in CheckKind if kind.is_ratio}
    assert ratios == {CheckKind.CHANGE_FROM_BASELINE, CheckKind.EXPECTED_RATE}
    assert not any(kind.counts_spells for kind in ratios)


def test_every_row_of_the_checks_table_carries_its_kind(synthetic_set):
    from rfd_lib.metrics.audit import audit_metrics

    audit = audit_metrics(synthetic_set.classified, populations=synthetic_set.populations)
    kinds = audit.checks["kind"]
    assert set(kinds) == {kind.value for kind in CheckKind}
    restriction = kinds.eq(CheckKind.RESTRICTION)
    assert audit.checks.loc[restriction, "check"].str.startswith("restriction: ").all()
    assert (audit.checks.loc[~restriction, "check"] == kinds[~restriction]).all()
    # The index's name of a restriction is its own label; of any other check, its kind's short name.
    labels = {r.label for r in audit.expectations.restrictions.values()}
    assert set(audit.checks.loc[restriction, "short"]) == labels
    assert set(audit.checks.loc[kinds.eq(CheckKind.DAY_CASE), "short"]) == {"day case"}

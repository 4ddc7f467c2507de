"""The kinds of check are one vocabulary: the expectations file, the checks table and the reports share it."""

from __future__ import annotations

import pytest

from rfd_lib.metrics.check_kinds import CheckKind
from rfd_lib.metrics.expectations import Checks, load_expectations


def test_the_expectations_file_has_one_entry_per_kind_and_no_other():
    assert list(Checks.model_fields) == [kind.value for kind in CheckKind]
    checks = load_expectations().checks
    assert all(checks.of(kind).label and checks.of(kind).short for kind in CheckKind)


@pytest.mark.parametrize("kind", list(CheckKind))
def test_a_check_is_named_from_its_kind(kind):
    assert kind.check_name() == kind.value


def test_the_national_definitions_restrictions_are_not_checks():
    # Diagnosis, age, emergency, cancer and private patient are the definition's scope: context.
    assert "restriction" not in {kind.value for kind in CheckKind}
    assert "restriction" not in Checks.model_fields


def test_ratio_checks_divide_by_something_other_than_spells():
    ratios = {kind for kind in CheckKind if kind.is_ratio}
    assert ratios == {CheckKind.CHANGE_FROM_BASELINE, CheckKind.EXPECTED_RATE}
    assert not any(kind.counts_spells for kind in ratios)


def test_every_row_of_the_checks_table_carries_its_kind(synthetic_set):
    from rfd_lib.metrics.audit import audit_metrics

    audit = audit_metrics(synthetic_set.classified, populations=synthetic_set.populations)
    kinds = audit.checks["kind"]
    assert set(kinds) == {kind.value for kind in CheckKind}
    assert (audit.checks["check"] == kinds).all()
    assert not audit.checks["check"].str.startswith("restriction").any()
    # The index's name of a check is its kind's short name.
    assert set(audit.checks.loc[kinds.eq(CheckKind.DAY_CASE), "short"]) == {"day case"}

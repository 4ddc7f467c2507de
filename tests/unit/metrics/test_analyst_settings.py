"""What an analyst tunes lives in params/: each setting, changed in a copy of the file, changes the audit.

Each test writes a copy of ``params/expectations.yaml`` or ``params/code_lists.yaml`` with one
setting changed and checks the figure it governs moved (so no default is still hard-coded), and
that a wrong value fails the load with the file and the key named.
"""

from __future__ import annotations

import pandas as pd
import pytest

from rfd_lib.config import CODE_LISTS, EXPECTATIONS
from rfd_lib.metrics.audit import audit_metrics
from rfd_lib.metrics.code_lists import CodeListError, load_code_lists
from rfd_lib.metrics.disclosure import INTERNAL
from rfd_lib.metrics.expectations import ExpectationsError, load_expectations

HEAVY = "ZK1"


def edited(tmp_path, source, old: str, new: str):
    text = source.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {source.name}"
    path = tmp_path / source.name
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def default(synthetic_set):
    return audit_metrics(synthetic_set.classified, populations=synthetic_set.populations, policy=INTERNAL)


def audit_with(synthetic_set, expectations=None, code_lists=None):
    return audit_metrics(
        synthetic_set.classified,
        populations=synthetic_set.populations,
        expectations=expectations,
        code_lists=code_lists,
        policy=INTERNAL,
    )


def test_the_rolling_total_and_the_interval_quarters_follow_rolling_quarters(
    tmp_path, synthetic_set, default
):
    two = load_expectations(edited(tmp_path, EXPECTATIONS, "rolling_quarters: 4", "rolling_quarters: 2"))
    audit = audit_with(synthetic_set, expectations=two)
    heavy = audit.volumes[audit.volumes["provider_code"] == HEAVY]
    assert heavy["counted_4q"].isna().tolist() == [True] + [False] * 7
    assert heavy["counted_4q"].iat[-1] == heavy["counted"].iloc[-2:].sum()
    assert any(f"{audit.quarters[-2]} to {audit.quarters[-1]}" in note for note in audit.notes)
    # Fewer quarters, fewer repeat RFDs charted by interval.
    assert audit.intervals["spells"].sum() < default.intervals["spells"].sum()


def test_the_funnel_levels_come_from_the_parameters(tmp_path, synthetic_set, default):
    assert tuple(default.funnel.levels) == (0.95, 0.998)
    path = edited(tmp_path, EXPECTATIONS, "funnel_levels: [0.95, 0.998]", "funnel_levels: [0.9, 0.99]")
    audit = audit_with(synthetic_set, expectations=load_expectations(path))
    assert tuple(audit.funnel.levels) == (0.9, 0.99)


@pytest.mark.parametrize("levels", ["[0.998, 0.95]", "[0.95, 1.0]", "[]", "[0.95, 0.95]"])
def test_funnel_levels_out_of_order_or_range_fail_to_load(tmp_path, levels):
    path = edited(tmp_path, EXPECTATIONS, "funnel_levels: [0.95, 0.998]", f"funnel_levels: {levels}")
    with pytest.raises(ExpectationsError, match=r"expectations.yaml.*funnel_levels"):
        load_expectations(path)


def test_the_direction_of_improvement_of_each_trend_comes_from_the_parameters(
    tmp_path, synthetic_set, default
):
    assert default.counted_xmr(HEAVY).improvement == "neither"
    assert default.facet_injection_xmr(HEAVY).improvement == "decrease"
    path = edited(tmp_path, EXPECTATIONS, "  counted: neither", "  counted: decrease")
    path = edited(tmp_path, path, "facet_joint_injections: decrease", "facet_joint_injections: neither")
    audit = audit_with(synthetic_set, expectations=load_expectations(path))
    assert audit.counted_xmr(HEAVY).improvement == "decrease"
    assert audit.facet_injection_xmr(HEAVY).improvement == "neither"


def test_a_direction_that_is_not_one_fails_to_load(tmp_path):
    path = edited(tmp_path, EXPECTATIONS, "  counted: neither", "  counted: down")
    with pytest.raises(ExpectationsError, match=r"trends.counted"):
        load_expectations(path)


def test_check_labels_and_short_names_come_from_the_parameters(tmp_path, synthetic_set):
    path = edited(
        tmp_path,
        EXPECTATIONS,
        "label: counted RFDs done as day cases\n    short: day case",
        "label: day-case RFDs (local policy)\n    short: day-case rate",
    )
    audit = audit_with(synthetic_set, expectations=load_expectations(path))
    day_case = audit.checks[audit.checks["kind"] == "day_case"]
    assert set(day_case["label"]) == {"day-case RFDs (local policy)"}
    assert set(day_case["short"]) == {"day-case rate"}


def test_the_day_case_classification_comes_from_the_code_lists(tmp_path, synthetic_set, default):
    path = edited(tmp_path, CODE_LISTS, 'patient_classification: ["2"]', 'patient_classification: ["1"]')
    audit = audit_with(synthetic_set, code_lists=load_code_lists(path))
    # Every counted RFD is an ordinary admission or a day case in this set: the two swap.
    pd.testing.assert_series_equal(
        audit.volumes["day_cases"],
        default.volumes["counted"] - default.volumes["day_cases"],
        check_names=False,
    )


@pytest.mark.parametrize("value", ["[2]", '["6"]', "[]", '"2"', '["2 "]'])
def test_a_day_case_value_that_is_not_a_quoted_classification_fails_to_load(tmp_path, value):
    path = edited(tmp_path, CODE_LISTS, 'patient_classification: ["2"]', f"patient_classification: {value}")
    with pytest.raises(CodeListError, match=r"code_lists.yaml.*day_case"):
        load_code_lists(path)

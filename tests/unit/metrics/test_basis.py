"""Each check's basis: quoted from the guidance word for word, or local policy or data quality, never mixed."""

from __future__ import annotations

import pytest

from rfd_lib.config import EXPECTATIONS
from rfd_lib.metrics.expectations import Checks, ExpectationsError, load_expectations
from rfd_lib.report.pages import checks_table
from tests.paths import GUIDANCE

QUOTE = "        This particular type of injection is called a ‘medial branch block,’ and differs to facet\n"


def edited(tmp_path, old: str, new: str):
    text = EXPECTATIONS.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "expectations.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.skipif(not GUIDANCE.is_file(), reason="the guidance is only beside a development checkout")
def test_every_quote_is_the_guidances_word_for_word():
    expectations = load_expectations(guidance=GUIDANCE)
    quoted = [name for name in Checks.model_fields if expectations.checks.of(name).basis.quote]
    assert quoted == ["prior_block", "therapeutic_block", "facet_joint_injection"]
    assert {expectations.checks.of(name).basis.kind for name in ("repeat", "day_case")} == {"local_policy"}


@pytest.mark.skipif(not GUIDANCE.is_file(), reason="the guidance is only beside a development checkout")
def test_a_quote_not_in_the_guidance_is_refused(tmp_path):
    # One word changed ("always" for "no longer"): not the guidance's sentence.
    path = edited(tmp_path, "which are no longer recommended", "which are always recommended")
    with pytest.raises(
        ExpectationsError, match=r"checks.facet_joint_injection.basis.quote: not in the guidance"
    ):
        load_expectations(path, guidance=GUIDANCE)


def test_a_guidance_basis_without_its_quote_is_refused(tmp_path):
    path = edited(
        tmp_path,
        "      kind: guidance\n      quote: >-\n" + QUOTE,
        "      kind: guidance\n      note: >-\n" + QUOTE,
    )
    with pytest.raises(ExpectationsError, match=r"facet_joint_injection\.basis"):
        load_expectations(path)
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace(
            "      note: >-\n"
            + QUOTE
            + "        joint injections, which are no longer recommended by NICE or GIRFT.\n",
            "",
        ),
        encoding="utf-8",
    )
    with pytest.raises(ExpectationsError, match=r"facet_joint_injection\.basis.*needs its quote"):
        load_expectations(path)


def test_a_quote_under_local_policy_is_refused(tmp_path):
    # A local policy must not read as the guidance's.
    path = edited(
        tmp_path,
        "      kind: local_policy  # the guidance says nothing of day cases\n",
        '      kind: local_policy\n      quote: "Most RFDs should be day cases."\n',
    )
    with pytest.raises(ExpectationsError, match=r"day_case\.basis.*has no quote"):
        load_expectations(path)


def test_the_expected_column_is_gone_and_a_basis_is_required(tmp_path):
    path = edited(
        tmp_path,
        "    basis:\n      kind: local_policy\n    good: low\n    green: 0.20",
        "    expected: no rise\n    good: low\n    green: 0.20",
    )
    with pytest.raises(ExpectationsError, match=r"change_from_baseline"):
        load_expectations(path)


def test_the_checks_table_shows_each_basis_and_the_thresholds_beside_the_status(synthetic_set):
    from rfd_lib.metrics.audit import audit_metrics

    audit = audit_metrics(synthetic_set.classified, populations=synthetic_set.populations)
    rows = audit.checks[(audit.checks["provider_code"] == "ZH8") & (audit.checks["quarter"] == audit.quarter)]
    html = checks_table(rows, None)
    headings = ["Check", "Basis", "Spells", "Of", "Share", "Status", "Thresholds", "Note"]
    positions = [html.index(f">{heading}</th>") for heading in headings]
    assert positions == sorted(positions) and "Expected" not in html
    assert "green ≤ 5 %, amber ≤ 15 %, red above" in html  # repeat
    assert "green ≥ 90 %, amber ≥ 70 %, red below" in html  # prior block
    assert "green ≤ +20 %, amber ≤ +50 %, red above" in html  # change from baseline
    assert "local policy (set in params/expectations.yaml)" in html
    assert (
        "Research is ongoing to determine the optimum frequency of repeat radiofrequency denervation." in html
    )
    assert "the guidance: “This particular type of injection is called a ‘medial branch block,’" in html

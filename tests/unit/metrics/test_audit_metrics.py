"""The whole audit on the built-in synthetic set: it finds what the set was made to hide, safely.

The set (:mod:`rfd_lib.synthetic`) has a heavy user (ZK1), a provider that codes badly (ZF6) and
a clean one (ZH8) among 20 (and more problems: ``rfd_lib.synthetic.pathways.STORY``). These tests run :func:`audit_metrics` on it as the notebooks will, and
check that each comes out as such, that every published count obeys the disclosure rule, and
that internal mode accounts for every RFD-coded spell.
"""

from __future__ import annotations

import pandas as pd
import pytest

from rfd_lib.engine.rule import load_rule
from rfd_lib.metrics.activity import label_activity
from rfd_lib.metrics.audit import AuditError, audit_metrics
from rfd_lib.metrics.code_lists import load_code_lists
from rfd_lib.metrics.disclosure import INTERNAL, INTERNAL_BANNER, never_small
from rfd_lib.metrics.expectations import load_expectations

HEAVY, BAD_CODER, CLEAN = "ZK1", "ZF6", "ZH8"
DIAGNOSIS = "restriction: LEFT(Primary_Spell_Diagnosis, 4) IN ('M512', 'M518', 'M519', 'M545', 'M549')"
KEYS = ["provider_code", "quarter"]


@pytest.fixture(scope="module")
def audit(synthetic_set):
    return audit_metrics(synthetic_set.classified, populations=synthetic_set.populations)


@pytest.fixture(scope="module")
def internal(synthetic_set):
    return audit_metrics(synthetic_set.classified, populations=synthetic_set.populations, policy=INTERNAL)


def latest(table: pd.DataFrame, quarter: str) -> pd.DataFrame:
    return table[table["quarter"] == quarter].set_index("provider_code")


def test_the_audit_covers_every_provider_and_quarter(audit):
    assert len(audit.providers) == 20
    assert audit.quarter == "2026/27 Q2" and len(audit.quarters) == 8
    assert len(audit.volumes) == 20 * 8 and len(audit.spc) == 20
    # Counted RFDs are the headline: published in every quarter at every provider of this set.
    assert not audit.volumes["counted_suppressed"].any()
    assert (audit.spc["values"] == 8).all()
    heavy = audit.volumes[audit.volumes["provider_code"] == HEAVY]
    assert heavy["counted_4q"].isna().tolist() == [True] * 3 + [False] * 5
    assert heavy["counted_4q"].iat[-1] == heavy["counted"].iloc[-4:].sum()


def test_the_heavy_user_is_above_its_peers_steadily_and_otherwise_on_the_pathway(audit):
    assert audit.funnel.outside == {HEAVY: "above"}
    rates = latest(audit.rates, audit.quarter)["rate"]
    assert rates.idxmax() == HEAVY and rates[HEAVY] > 3 * rates.drop(HEAVY).median()
    checks = latest(audit.checks, audit.quarter)
    heavy = checks.loc[HEAVY].set_index("check")["status"]
    assert not heavy.eq("red").any()  # its volume is the funnel's story, not a check's
    assert heavy[["prior_block", "repeat", "change_from_baseline"]].tolist() == ["green"] * 3
    assert not audit.counted_xmr(HEAVY).points["special_cause"].any()
    assert audit.spc.set_index("provider_code").loc[HEAVY, "variation_icon"] == "common_cause"


def test_the_bad_coder_counts_least_of_what_it_codes(audit, synthetic_set):
    volumes = latest(audit.volumes, audit.quarter)
    counted_share = volumes["counted"].astype(float) / volumes["rfd_coded"].astype(float)
    assert counted_share.idxmin() == BAD_CODER
    # Its diagnoses outside the definition are context with their codes, not a red check.
    assert not audit.checks["check"].str.startswith("restriction").any()
    steps = latest(audit.waterfall, audit.quarter).query("measure == @DIAGNOSIS")["spells"]
    share = steps.astype(float) / volumes["rfd_coded"].astype(float)
    assert share.idxmax() == BAD_CODER
    codes = latest(audit.definition_codes, audit.quarter).query("measure == @DIAGNOSIS")
    assert codes.loc[[BAD_CODER], "code"].notna().any()  # a code behind 8 or more spells is named
    assert codes["spells"].isna().all()  # without its count
    quarantined = synthetic_set.extract.reconciliation.set_index("source")["rows_quarantined"]
    assert quarantined[quarantined > 0].index.str.endswith(f"{BAD_CODER}.csv").all()
    assert quarantined.sum() > 0


def test_the_clean_provider_is_green_wherever_it_can_be_judged(audit):
    clean = audit.checks[audit.checks["provider_code"] == CLEAN]
    assert set(clean["status"]) <= {"green", "not assessable"}
    judged = clean[clean["status"] == "green"]["check"]
    assert {"prior_block", "day_case", "facet_joint_injection"} <= set(judged)
    assert CLEAN not in audit.funnel.outside


def test_every_published_count_obeys_the_disclosure_rule(audit):
    never_small(audit.volumes, ["rfd_coded", "counted", "patients_coded", "patients_counted", "day_cases"])
    last = audit.waterfall["step"].max()
    reasons = audit.waterfall[~audit.waterfall["step"].isin([0, last])]
    never_small(reasons, ["spells"])
    # RFD-coded spells are the waterfall's total as published: counted plus the reasons shown.
    steps = audit.waterfall.pivot_table(index=KEYS, columns="step", values="spells", aggfunc="sum")
    assert (steps[0] == steps.drop(columns=0).sum(axis=1)).all()
    never_small(audit.intervals, ["spells"])
    counts = audit.checks[~audit.checks["check"].isin(["change_from_baseline", "expected_rate"])]
    never_small(
        counts.assign(denominator=counts["denominator"].astype("Int64")), ["numerator", "denominator"]
    )
    never_small(audit.checks, ["unassessed"])
    assert (audit.rates["counted"].dropna() % 5 == 0).all()
    assert not audit.checks["note"].dropna().str.contains(r"^[1-7] ", regex=True).any()


def test_internal_mode_counts_every_rfd_coded_spell_and_says_so(internal, synthetic_set):
    rule = load_rule()
    activity = label_activity(synthetic_set.classified, rule, load_code_lists(), load_expectations(rule=rule))
    coded = activity[(activity["kind"] == "rfd") & activity["quarter"].isin(internal.quarters)]
    assert internal.volumes["rfd_coded"].sum() == len(coded)
    assert internal.volumes["counted"].sum() == coded["counted"].sum()
    steps = internal.waterfall.pivot_table(index=KEYS, columns="step", values="spells", aggfunc="sum")
    assert (steps[0] == steps.drop(columns=0).sum(axis=1)).all()  # unrounded, the waterfall adds up
    assert internal.policy.banner == INTERNAL_BANNER
    assert not internal.volumes.filter(like="_suppressed").to_numpy().any()


def test_without_populations_rates_and_the_funnel_are_not_assessable(synthetic_set):
    audit = audit_metrics(synthetic_set.classified)
    assert audit.funnel is None and audit.rates["rate"].isna().all()
    assert any("No population file" in note for note in audit.notes)


def test_spells_without_a_date_are_a_clear_error(synthetic_set):
    with pytest.raises(
        AuditError,
        match=r"^the spells have no discharge dates, so they cover no quarter: nothing to audit HINT",
    ):
        audit_metrics(synthetic_set.classified.iloc[:0])


def test_a_quarter_not_in_the_extract_is_a_clear_error(synthetic_set):
    with pytest.raises(
        AuditError, match="quarter 2019/20 Q1 is not in the extract, which covers 2024/25 Q3 to"
    ):
        audit_metrics(synthetic_set.classified, quarter="2019/20 Q1")


def test_an_earlier_quarter_audits_the_quarters_up_to_it(synthetic_set, audit):
    earlier = audit_metrics(
        synthetic_set.classified, quarter="2025/26 Q4", populations=synthetic_set.populations
    )
    assert earlier.quarters == audit.quarters[:6]
    assert set(earlier.volumes["quarter"]) == set(audit.quarters[:6])

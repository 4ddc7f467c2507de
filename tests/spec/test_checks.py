"""The restricted-use checks on a small made-up provider, worked by hand.

The spells below are the whole fixture: one provider (RXA), five patients, two quarters audited
(the extract starts in October 2024, so a 6-month look-back from April 2025 is inside it). Each
goes through the real rule engine (:func:`rfd_lib.classify`), then :func:`label_activity`,
:func:`restricted_use_checks` (the counts) and :func:`published_checks` with the internal policy
(counts as they are; the one place shares and statuses are worked out). In a table ``.`` is NULL. Procedures: V485 with Z676 is RFD;
A577 with Z676 a medial branch block; V544 with Z676 a facet joint injection.
"""

from __future__ import annotations

import pandas as pd
import pytest

from rfd_lib.engine.classification import classify
from rfd_lib.engine.rule import load_rule
from rfd_lib.metrics.activity import label_activity
from rfd_lib.metrics.check_kinds import CheckKind
from rfd_lib.metrics.checks import restricted_use_checks
from rfd_lib.metrics.code_lists import load_code_lists
from rfd_lib.metrics.disclosure import INTERNAL
from rfd_lib.metrics.expectations import ExpectationsError, load_expectations
from rfd_lib.metrics.publish import published_checks, published_volumes
from rfd_lib.metrics.volumes import volumes, waterfall

# spell patient admitted   class method category age primary any                diagnosis  what it is
SPELLS = """
S00   P9      2024-10-01 1     11     01       70  W401    ||W401             M170       a hip replacement: the extract starts here
S01   P1      2025-04-02 2     11     01       50  A577    ||A577,Z676        M545       block
S02   P1      2025-06-10 2     11     01       50  V485    ||V485,Z676        M545       RFD 69 days after its block: counted
S03   P2      2025-05-05 2     11     01       60  V485    ||V485,Z676        M545       RFD, no block: counted
S04   P2      2025-08-20 1     11     01       60  V485    ||V485,Z676        M545       repeat after 107 days: counted
S05   P3      2025-07-01 2     21     01       40  V485    ||V485,Z676        M545       emergency: not counted
S06   P4      2025-07-15 2     11     02       17  V485    ||V485,Z676        M170       private, 17, off-list: not counted
S07   P4      2025-08-01 2     11     01       45  V544    ||V544,Z676        M545       facet joint injection
S08   .       2025-09-01 2     11     01       45  V487    ||V487,Z993        M549       RFD without a patient: counted
"""
QUARTERS = ["2025/26 Q1", "2025/26 Q2"]
EMERGENCY = "Only Elective Activity"
DIAGNOSIS = "LEFT(Primary_Spell_Diagnosis, 4) IN ('M512', 'M518', 'M519', 'M545', 'M549')"


def spells(table: str = SPELLS) -> pd.DataFrame:
    rows = [line.split(None, 10) for line in table.strip().splitlines()]
    text = pd.DataFrame(
        rows,
        columns=[
            "spell",
            "patient",
            "admitted",
            "class",
            "method",
            "category",
            "age",
            "primary",
            "any",
            "diagnosis",
            "what",
        ],
    )
    text = text.replace({".": None})
    return pd.DataFrame(
        {
            "spell_id": text["spell"].astype("string"),
            "provider_code": pd.Series(["RXA"] * len(text), dtype="string"),
            "patient_id": text["patient"].astype("string"),
            "admission_date": pd.to_datetime(text["admitted"]),
            "discharge_date": pd.to_datetime(text["admitted"]),
            "patient_classification": text["class"].astype("string"),
            "Primary_Spell_Procedure": text["primary"].astype("string"),
            "Any_Spell_Procedure": text["any"].astype("string"),
            "Primary_Spell_Diagnosis": text["diagnosis"].astype("string"),
            "Any_Spell_Diagnosis": ("||" + text["diagnosis"]).astype("string"),
            "Age_At_Start_of_Spell_SUS": text["age"].astype("Int64"),
            "Der_Age_at_CDS_Activity_Date": text["age"].astype("Int64"),
            "Admission_Method": text["method"].astype("string"),
            "Administrative_Category": text["category"].astype("string"),
        }
    )


@pytest.fixture(scope="module")
def activity() -> pd.DataFrame:
    rule = load_rule()
    return label_activity(classify(spells()), rule, load_code_lists(), load_expectations(rule=rule))


def judged(activity: pd.DataFrame, populations: pd.DataFrame | None = None) -> pd.DataFrame:
    """Return the checks of ``activity`` with their shares and statuses, indexed by quarter and check."""
    expectations = load_expectations()
    counts = restricted_use_checks(activity, expectations, QUARTERS, populations)
    published = published_volumes(volumes(activity, QUARTERS), INTERNAL)
    return published_checks(counts, published, expectations, INTERNAL).set_index(["quarter", "check"])


@pytest.fixture(scope="module")
def checks(activity) -> pd.DataFrame:
    return judged(activity, pd.DataFrame({"provider_code": ["RXA"], "catchment_population": [200_000]}))


def test_each_spell_is_labelled(activity):
    assert activity["kind"].tolist() == ["block", "rfd", "rfd", "rfd", "rfd", "rfd", "facet_injection", "rfd"]
    assert activity["counted"].tolist() == [False, True, True, True, False, False, False, True]
    assert activity["first_failure"].tolist()[4:6] == [EMERGENCY, DIAGNOSIS]  # S06 fails three: the first
    assert activity["prior_block"].tolist()[1:4] == [True, False, False]
    assert activity["days_since_previous"].isna().tolist()[1:4] == [True, True, False]
    assert activity["days_since_previous"].iat[3] == 107
    # A first RFD is a repeat of nothing only if the 16-month look-back is inside the extract.
    assert [None if pd.isna(v) else v for v in activity["repeat"].tolist()[1:4]] == [None, None, True]
    assert pd.isna(activity["prior_block"].iat[7]) and pd.isna(activity["repeat"].iat[7])  # no patient


def test_volumes_and_patients(activity):
    table = volumes(activity, QUARTERS).set_index("quarter")
    # Q1: S02, S03 (both counted, patients P1 and P2). Q2: S04, S05, S06, S08; counted S04, S08.
    assert table["rfd_coded"].tolist() == [2, 4]
    assert table["counted"].tolist() == [2, 2]
    assert table["patients_coded"].tolist() == [2, 3]  # S08 has no patient
    assert table["day_cases"].tolist() == [2, 1]  # S04 was an ordinary admission


def test_the_waterfall_adds_up(activity):
    table = waterfall(
        activity, QUARTERS, {name: r.label for name, r in load_expectations().restrictions.items()}
    )
    q2 = table[table["quarter"] == "2025/26 Q2"].set_index("step")["spells"]
    # 4 coded = 1 off-list diagnosis (S06) + 1 emergency (S05) + 2 counted; S06's other failures are not counted twice.
    assert q2.tolist() == [4, 1, 0, 1, 0, 0, 2]
    assert q2.iloc[0] == q2.iloc[1:].sum()


@pytest.mark.parametrize(
    "quarter,check,numerator,denominator,status",
    [
        ("2025/26 Q1", "prior_block", 1, 2, "red"),  # S02 yes, S03 no: 50 % < 80 %
        ("2025/26 Q2", "repeat", 1, 1, "red"),  # S04 repeats S03 after 107 days; S08 not assessable
        ("2025/26 Q2", "facet_joint_injection", 1, 1, "red"),  # S07 is the only lumbar injection in Q2
        ("2025/26 Q1", "facet_joint_injection", 0, 1, "green"),  # S01 the only one, a block
        ("2025/26 Q2", "day_case", 1, 2, "red"),  # S04 ordinary, S08 day case
    ],
)
def test_check(checks, quarter, check, numerator, denominator, status):
    row = checks.loc[(quarter, check)]
    assert (row["numerator"], row["denominator"], row["status"]) == (numerator, denominator, status)
    assert row["share"] == pytest.approx(numerator / denominator)


def test_the_national_definition_is_not_a_check(checks):
    # S05 (emergency) and S06 (private, 17, off-list) are outside the definition: context, not breaches.
    assert not checks.index.get_level_values("check").str.startswith("restriction").any()
    assert set(checks.index.get_level_values("check")) == {kind.value for kind in CheckKind}


def test_a_provider_outside_the_definition_only_has_no_red_status():
    # Every RFD at RXB is a private patient's, each after its block: outside the indicator, not non-compliant.
    rule = load_rule()
    private = spells().assign(
        provider_code=pd.Series(["RXB"] * 9, dtype="string"),
        Administrative_Category=pd.Series(["02"] * 9, dtype="string"),
    )
    private = private[private["spell_id"].isin(["S00", "S01", "S02", "S03"])]
    activity = label_activity(classify(private), rule, load_code_lists(), load_expectations(rule=rule))
    assert not activity["counted"].any() and activity["kind"].eq("rfd").sum() == 2
    checks = judged(activity)
    assert not checks["status"].eq("red").any(), checks["status"].to_dict()


def test_the_codes_behind_each_step_are_the_restrictions_own_columns():
    from rfd_lib.metrics.definition import code_lists_text, codes_behind, published_codes
    from rfd_lib.metrics.disclosure import CIRCULATION

    rule = load_rule()
    classified = classify(spells())
    raw = codes_behind(classified, rule, load_expectations(rule=rule), "2025/26 Q2")
    # S05's admission method (21) is behind the emergency step; S06's primary diagnosis (M170)
    # behind the diagnosis step, the first it fails (it is also private and 17).
    assert raw[["step", "column", "code", "spells"]].values.tolist() == [
        [1, "Primary_Spell_Diagnosis", "M170", 1],
        [3, "Admission_Method", "21", 1],
    ]
    internal = code_lists_text(published_codes(raw, INTERNAL), INTERNAL)
    assert internal["codes"].tolist() == ["M170 (1)", "21 (1)"]
    # Circulated: no code behind 8 or more spells, so none is named.
    circulated = code_lists_text(published_codes(raw, CIRCULATION), CIRCULATION)
    assert circulated["codes"].tolist() == ["no code accounts for 8 or more spells"] * 2


def test_pathway_checks_say_what_they_could_not_assess(checks):
    assert (
        checks.loc[("2025/26 Q2", "repeat"), "note"]
        == "1 not assessable (no patient identifier, or the look-back starts before the extract); "
        "1 judged without a side (no laterality code on the RFD or the earlier one)"
    )
    assert checks.loc[("2025/26 Q2", "repeat"), "unassessed"] == 1  # S08, no patient
    assert checks.loc[("2025/26 Q1", "prior_block"), "unassessed"] == 0
    assert checks.loc[("2025/26 Q2", "day_case"), "unassessed"] is pd.NA  # not a pathway check


def test_baseline_and_expected_rate(checks):
    row = checks.loc[("2025/26 Q2", "change_from_baseline")]
    # Baseline: the first 4 quarters in the list, here both: mean (2 + 2) / 2 = 2 counted a quarter.
    assert (row["numerator"], row["denominator"], row["share"]) == (2, 2.0, 0.0)
    rate = checks.loc[("2025/26 Q2", "expected_rate")]
    assert rate["status"] == "not assessable" and rate["note"] == "no expected rate in the parameters"
    assert pd.isna(rate["numerator"])  # never a misleading zero


def test_without_patient_identifiers_the_pathway_checks_are_not_assessable():
    rule = load_rule()
    anonymous = spells().assign(patient_id=pd.Series([None] * 9, dtype="string"))
    activity = label_activity(classify(anonymous), rule, load_code_lists(), load_expectations(rule=rule))
    checks = judged(activity)
    for check in ("prior_block", "repeat"):
        row = checks.loc[("2025/26 Q2", check)]
        assert row["status"] == "not assessable"
        assert row["note"].startswith("the extract has no patient identifier")
        assert pd.isna(row["numerator"])


def test_expectations_naming_a_restriction_the_rule_lacks_fail_to_load(tmp_path):
    from rfd_lib.config import EXPECTATIONS

    path = tmp_path / "expectations.yaml"
    path.write_text(
        EXPECTATIONS.read_text(encoding="utf-8").replace("Only Elective Activity:", "Only Elective Activty:"),
        encoding="utf-8",
    )
    with pytest.raises(
        ExpectationsError,
        match=r"not in the rule: 'Only Elective Activty'.*no label for: 'Only Elective Activity'",
    ):
        load_expectations(path, rule=load_rule())


def test_thresholds_the_wrong_way_round_fail_to_load(tmp_path):
    from rfd_lib.config import EXPECTATIONS

    path = tmp_path / "expectations.yaml"
    path.write_text(
        EXPECTATIONS.read_text(encoding="utf-8").replace("green: 0.90", "green: 0.5"), encoding="utf-8"
    )
    with pytest.raises(ExpectationsError, match=r"checks.prior_block: amber \(0.7\) is on the wrong side"):
        load_expectations(path)


# --- the checks an auditor expects (issue 13): sides, same-spell blocks, therapeutic blocks, coding -------
# The extract starts in January 2024, so a 16-month look-back from May 2025 is inside it. Z94.1
# bilateral, Z94.2 right, Z94.3 left, Z94.4 one side, not stated. Every spell but H00 is kept.
# spell patient admitted   class method category age primary any                  diagnosis  what it is
PATHWAYS = """
H00   P0      2024-01-01 1     11     01       70  W401    ||W401               M170       the extract starts here
L1    P1      2025-04-10 2     11     01       50  V485    ||V485,Z676,Z943     M545       left RFD
L2    P1      2025-05-08 2     11     01       50  V485    ||V485,Z676,Z942     M545       right 4 weeks later: staged
B1    P2      2025-04-15 2     11     01       50  V485    ||V485,Z676,Z941     M545       bilateral RFD
B2    P2      2025-06-20 2     11     01       50  V485    ||V485,Z676,Z943     M545       then left: a repeat by side
N1    P3      2025-04-20 2     11     01       50  V485    ||V485,Z676          M545       no side coded
N2    P3      2025-06-25 2     11     01       50  V485    ||V485,Z676,Z942     M545       right: repeat judged without a side
U1    P4      2025-04-22 2     11     01       50  V485    ||V485,Z676,Z944     M545       one side, not stated
U2    P4      2025-06-01 2     11     01       50  V485    ||V485,Z676,Z943     M545       left: repeat judged without a side
S1    P5      2025-05-10 2     11     01       50  V487    ||V487,A577,Z993     M549       block and RFD in one spell
S2    .       2025-05-15 2     11     01       50  V485    ||V485,A577,Z676     M545       the same, no patient
T1    P6      2025-01-10 2     11     01       50  A577    ||A577,Z676          M545       block
T2    P6      2025-03-20 2     11     01       50  A735    ||A735,Z676          M545       block again
T3    P6      2025-05-20 2     11     01       50  A577    ||A577,Z676          M545       a third within 12 months, no RFD: therapeutic
D1    P7      2025-02-01 2     11     01       50  A577    ||A577,Z676          M545       block
D2    P7      2025-03-25 2     11     01       50  A577    ||A577,Z676          M545       block again
D4    P7      2025-04-25 2     11     01       50  A577    ||A577,Z676          M545       and a third
D3    P7      2025-06-15 2     11     01       50  V485    ||V485,Z676          M545       then RFD: the blocks were diagnostic
O1    P8      2025-05-05 2     11     01       50  A577    ||A577,Z676          M545       one block
X1    P9      2025-05-12 2     11     01       50  V485    ||V485               M545       RFD without a site code
X2    P10     2025-05-13 2     11     01       50  V485    ||V485,Z676          M479       RFD coded spondylosis: off the list
"""
PATHWAY_SPELLS = [line.split()[0] for line in PATHWAYS.strip().splitlines()][1:]


@pytest.fixture(scope="module")
def pathway_activity() -> pd.DataFrame:
    rule = load_rule()
    labelled = label_activity(
        classify(spells(PATHWAYS)), rule, load_code_lists(), load_expectations(rule=rule)
    )
    return labelled.set_axis(PATHWAY_SPELLS)


@pytest.fixture(scope="module")
def pathway_checks(pathway_activity) -> pd.DataFrame:
    return judged(pathway_activity).loc["2025/26 Q1"]


def flags(activity: pd.DataFrame, column: str, spells: list[str]) -> list[object]:
    return [None if pd.isna(value) else bool(value) for value in activity.loc[spells, column]]


def test_a_block_in_the_same_spell_is_before_the_rfd(pathway_activity):
    assert pathway_activity.loc[["S1", "S2"], "kind"].tolist() == ["rfd", "rfd"]
    # No block spell for P5, and no patient at all for S2: the spell's own block is prior.
    assert flags(pathway_activity, "prior_block", ["S1", "S2"]) == [True, True]
    assert flags(pathway_activity, "prior_block", ["D3", "N2"]) == [True, False]


@pytest.mark.parametrize(
    ("spell", "repeat", "without_side"),
    [
        ("L2", False, False),  # left then right four weeks apart: staged treatment
        ("B2", True, False),  # bilateral then left: the left side again
        ("N2", True, True),  # no side on the first: any side counts
        ("U2", True, True),  # "one side" (Z94.4) says no side
        ("S1", False, False),  # the patient's first RFD, look-back inside the extract
        ("L1", None, None),  # first RFD, look-back starts before the extract
    ],
)
def test_repeats_are_judged_by_side(pathway_activity, spell, repeat, without_side):
    assert flags(pathway_activity, "repeat", [spell]) == [repeat]
    assert flags(pathway_activity, "repeat_without_side", [spell]) == [without_side]


def test_the_repeat_check_counts_by_side_and_says_how_many_without_one(pathway_checks):
    row = pathway_checks.loc["repeat"]
    # Assessable: L2 B2 N2 U2 S1 D3; repeats B2 N2 U2, of which N2 and U2 judged without a side.
    assert (row["numerator"], row["denominator"], row["without_side"]) == (3, 6, 2)
    assert "2 judged without a side" in row["note"]


@pytest.mark.parametrize(
    ("spell", "therapeutic"),
    [
        ("T1", False),  # one block so far
        ("T2", False),  # the second: two can be diagnostic (the guidance's "one or more")
        ("T3", True),  # the third within 12 months, and no RFD after
        ("D4", False),  # three blocks, then an RFD: diagnostic
        ("O1", False),  # a single block
    ],
)
def test_repeated_blocks_with_no_rfd_after_are_therapeutic(pathway_activity, spell, therapeutic):
    assert flags(pathway_activity, "therapeutic_block", [spell]) == [therapeutic]


def test_the_therapeutic_block_check_counts_patients(pathway_checks):
    row = pathway_checks.loc["therapeutic_block"]
    # Blocked in 2025/26 Q1: P6 (T3), P7 (D4), P8 (O1); P6's blocks are therapeutic.
    assert (row["numerator"], row["denominator"]) == (1, 3)
    assert row["status"] == "red"  # 33 %: above amber at 10 %


def test_without_patient_identifiers_therapeutic_blocks_are_not_assessable():
    rule = load_rule()
    anonymous = spells(PATHWAYS).assign(patient_id=pd.Series([None] * 20, dtype="string"))
    activity = label_activity(classify(anonymous), rule, load_code_lists(), load_expectations(rule=rule))
    row = judged(activity).loc[("2025/26 Q1", "therapeutic_block")]
    assert row["status"] == "not assessable" and pd.isna(row["numerator"])


def test_coding_quality_checks(pathway_activity, pathway_checks):
    assert pathway_activity.loc["X1", "kind"] == "rfd_no_site"
    no_site = pathway_checks.loc["rfd_without_lumbar_site"]
    # RFD primary procedures in Q1: the 12 RFD-coded spells and X1, which has no lumbar site code.
    assert (no_site["numerator"], no_site["denominator"]) == (1, 13)
    outside = pathway_checks.loc["rfd_diagnosis_outside_list"]
    assert (outside["numerator"], outside["denominator"]) == (1, 12)  # X2, coded M47.9
    # The same spells as the waterfall's diagnosis step (the first restriction of 2K_RFD_back).
    activity = pathway_activity[
        pathway_activity["quarter"].eq("2025/26 Q1") & pathway_activity["kind"].eq("rfd")
    ]
    assert outside["numerator"] == activity["first_failure"].eq(DIAGNOSIS).sum()


def test_the_prior_block_check_says_coded_and_why(checks):
    row = checks.loc[("2025/26 Q1", "prior_block")]
    assert "coded in the look-back" in row["label"]
    assert "outpatient or at another provider" in row["note"]
    assert "outpatient or at another provider" in row["meaning"]
    assert row["ask"]


def test_every_check_says_what_it_means_and_what_to_ask(checks):
    assert checks["meaning"].notna().all() and checks["ask"].notna().all()


def test_a_basis_of_guidance_needs_its_quote(tmp_path):
    from rfd_lib.config import EXPECTATIONS

    text = EXPECTATIONS.read_text(encoding="utf-8")
    quote = '      quote: "Medial branch blocks should be offered only in accordance with the low back pain pathway."\n'
    assert quote in text
    path = tmp_path / "expectations.yaml"
    path.write_text(text.replace(quote, ""), encoding="utf-8")
    with pytest.raises(ExpectationsError, match=r"therapeutic_block\.basis.*needs its quote"):
        load_expectations(path)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "      kind: data_quality",
            '      kind: data_quality\n      quote: "x"',
            "a basis of kind data_quality has no quote",
        ),
        ("      kind: data_quality", "      kind: national", "basis.kind"),
        ("  min_blocks: 3", "  min_blocks: 1", "therapeutic_block.min_blocks"),
        ("  window_months: 12", "  window_months: 12\n  window: 3", "therapeutic_block.window"),
    ],
)
def test_a_faulty_basis_or_therapeutic_setting_fails_to_load(tmp_path, old, new, message):
    from rfd_lib.config import EXPECTATIONS

    text = EXPECTATIONS.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "expectations.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ExpectationsError, match=message):
        load_expectations(path)


def test_the_therapeutic_block_basis_quotes_the_guidance_exactly():
    from tests.paths import GUIDANCE

    basis = load_expectations().checks.therapeutic_block.basis
    assert basis is not None and basis.kind == "guidance"
    if GUIDANCE.is_file():
        assert basis.quote in GUIDANCE.read_text(encoding="utf-8")
    assert load_expectations().therapeutic_block.model_dump() == {"window_months": 12, "min_blocks": 3}

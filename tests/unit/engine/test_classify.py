"""The contract of ``rfd_lib.classify``: shape, pass-through, names, types and its errors."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rfd_lib import ColumnError, DataError, classify, load_rule
from rfd_lib.engine.classification import _spells_for
from rfd_lib.engine.evaluator import evaluate, plan
from rfd_lib.engine.sqlserver import null_mask, truth_masks
from rfd_lib.synthetic import example_spells

RULE = load_rule()
CRITERIA = [c.name for c in RULE.criteria]
ADDED = ["ebi_category", *CRITERIA, "reason"]


@pytest.fixture(scope="module")
def spells():
    return example_spells(6_000, seed=7, rfd_share=0.2)


def test_the_result_keeps_the_index_order_and_columns_and_adds_the_verdict(spells):
    shuffled = spells.sample(frac=1, random_state=1).set_index(
        pd.Index(np.arange(len(spells)) % 97, name="k")
    )
    result = classify(shuffled)
    assert result.index.equals(shuffled.index)
    assert list(result.columns) == [*shuffled.columns, *ADDED]
    pd.testing.assert_frame_equal(result[shuffled.columns], shuffled)
    assert str(result["ebi_category"].dtype) == "string"
    assert all(str(result[c].dtype) == "boolean" for c in CRITERIA)
    assert isinstance(result["reason"].dtype, pd.CategoricalDtype)


def test_the_input_frame_is_left_unchanged(spells):
    before = spells.copy()
    classify(spells)
    pd.testing.assert_frame_equal(spells, before)


def test_counted_spells_have_no_reason_and_every_other_spell_has_one(spells):
    result = classify(spells)
    counted = result["ebi_category"].notna()
    assert counted.sum() > 100
    assert result.loc[counted, "reason"].isna().all()
    assert result.loc[~counted, "reason"].notna().all()
    assert set(result.loc[counted, "ebi_category"]) == {"2K_RFD_back"}


def test_in_play_evaluation_agrees_with_evaluating_every_criterion(spells):
    fast = classify(spells)
    full = classify(spells, all_criteria=True)
    pd.testing.assert_series_equal(fast["ebi_category"], full["ebi_category"])
    pd.testing.assert_series_equal(fast["reason"], full["reason"])
    for criterion in CRITERIA:
        evaluated = fast[criterion].notna()
        pd.testing.assert_series_equal(fast.loc[evaluated, criterion], full.loc[evaluated, criterion])
    # The restrictions are evaluated on every coded spell, so every coded spell gets full reasons.
    coded = full[CRITERIA[0]].fillna(False)
    assert coded.sum() > 100
    pd.testing.assert_frame_equal(fast.loc[coded, CRITERIA], full.loc[coded, CRITERIA])


def test_the_planner_reorders_operands_without_changing_any_result(spells):
    source = _spells_for(spells, RULE)
    for criterion in RULE.criteria:
        planned = plan(criterion.expression, source)
        published = evaluate(criterion.expression, source)
        reordered = evaluate(planned, source)
        assert np.array_equal(published.true, reordered.true)
        assert np.array_equal(published.null, reordered.null)


def test_the_planner_puts_the_most_selective_operand_first():
    # Lumbar site codes are common (injections carry them too); the RFD code itself is rare.
    common_sites = _spells_for(example_spells(20_000, seed=3, rfd_share=0.005), RULE)
    assert plan(RULE.scope[0].expression, common_sites).operands[0].pattern.pattern == "%V48[57]%"
    # Where most spells are RFD but few have a lumbar site, the site codes go first.
    rare_sites = example_spells(2_000, seed=3, rfd_share=0.9)
    rare_sites["Any_Spell_Procedure"] = rare_sites["Any_Spell_Procedure"].str.replace("Z67", "Y67")
    planned = plan(RULE.scope[0].expression, _spells_for(rare_sites, RULE))
    assert [type(o).__name__ for o in planned.operands] == ["Or", "Like"]


def test_column_names_match_ignoring_case_as_in_sql_server(spells):
    renamed = spells.rename(columns=str.lower)
    result = classify(renamed)
    pd.testing.assert_series_equal(result["ebi_category"], classify(spells)["ebi_category"])


def test_two_columns_differing_only_in_case_are_ambiguous(spells):
    doubled = spells.assign(admission_method=spells["Admission_Method"])
    with pytest.raises(ColumnError, match="both match 'Admission_Method'"):
        classify(doubled)


def test_missing_columns_are_named_with_the_rule_that_needs_them(spells):
    with pytest.raises(ColumnError) as raised:
        classify(spells.drop(columns=["Admission_Method", "Any_Spell_Diagnosis"]))
    message = str(raised.value)
    assert "no column Admission_Method, Any_Spell_Diagnosis" in message
    assert "rule 2K_RFD_back" in message
    assert "HINT: closest columns present: " in message
    assert "Primary_Spell_Diagnosis" in message.split("HINT:")[1]


def test_a_column_that_classify_would_add_is_refused(spells):
    with pytest.raises(ColumnError, match="already have a column 'reason'"):
        classify(spells.assign(reason="x"))


def test_an_empty_frame_gives_an_empty_result_with_every_column(spells):
    result = classify(spells.iloc[:0])
    assert len(result) == 0
    assert list(result.columns)[-len(ADDED) :] == ADDED


def test_a_frame_assembled_from_pieces_is_classified_like_one_piece(spells):
    # pd.concat leaves Arrow columns in several chunks.
    pieces = pd.concat([spells.iloc[:2_000], spells.iloc[2_000:]])
    pd.testing.assert_series_equal(classify(pieces)["reason"], classify(spells)["reason"])


def test_object_python_and_default_string_columns_are_read_as_text(spells):
    as_object = spells.astype({c: object for c in RULE.columns if "Age" not in c})
    as_python = spells.astype({c: "string[python]" for c in RULE.columns if "Age" not in c})
    # pandas 3's default text dtype (what read_csv gives): Arrow-backed, NaN for missing.
    as_default = spells.astype({c: "str" for c in RULE.columns if "Age" not in c})
    assert as_default["Any_Spell_Diagnosis"].isna().any()
    expected = classify(spells)["reason"]
    for variant in (as_object, as_python, as_default):
        pd.testing.assert_series_equal(classify(variant)["reason"], expected)


def test_numeric_codes_compare_as_sql_server_compares_int_columns():
    # An administrative category read as the number 2 (its leading zero lost) is compared with
    # '02' as a number, as SQL Server would with an int column: 2 = 2, so the spell is excluded.
    spell = {
        "Primary_Spell_Procedure": ["V485"] * 2,
        "Any_Spell_Procedure": ["||V485,Z675"] * 2,
        "Primary_Spell_Diagnosis": ["M545"] * 2,
        "Any_Spell_Diagnosis": [None] * 2,
        "Age_At_Start_of_Spell_SUS": [40.0, 40.0],
        "Der_Age_at_CDS_Activity_Date": [np.nan, np.nan],
        "Admission_Method": [11, 21],
        "Administrative_Category": [2, 1],
    }
    result = classify(pd.DataFrame(spell), all_criteria=True)
    assert result["Private Appointment Exclusion"].tolist() == [False, True]
    assert result["Only Elective Activity"].tolist() == [True, False]


def test_ages_given_as_text_are_converted_and_bad_ones_stop_the_run_naming_the_row(spells):
    as_text = spells.astype({"Age_At_Start_of_Spell_SUS": "string"})
    pd.testing.assert_series_equal(classify(as_text)["reason"], classify(spells)["reason"])
    coded = classify(spells)["ebi_category"].notna().to_numpy().nonzero()[0]
    broken = as_text.copy()
    broken.iloc[coded[3], broken.columns.get_loc("Age_At_Start_of_Spell_SUS")] = "4o"
    with pytest.raises(DataError) as raised:
        classify(broken)
    assert str(raised.value).startswith(f"rule line 7: row {coded[3] + 1:,} of the spells holds text")
    assert "(columns: Age_At_Start_of_Spell_SUS, Der_Age_at_CDS_Activity_Date)" in str(raised.value)
    assert "4o" not in str(raised.value)


def test_an_unconvertible_value_stops_the_run_only_where_the_rule_reaches_it(tmp_path):
    # The planner samples the AND inside the second criterion, where most ages are unconvertible
    # text; only the in-play rows decide whether the run stops, never the sample.
    rule = tmp_path / "rule.sql"
    rule.write_text("WHEN x LIKE 'A%'\nAND (n BETWEEN 19 AND 120 AND y = 'b')\nTHEN 'T'\n")
    coded = np.arange(3_000) % 100 == 0
    frame = pd.DataFrame(
        {
            "x": pd.array(np.where(coded, "A1", "Z9"), dtype="string"),
            "n": pd.array(np.where(coded, "40", "unknown"), dtype="string"),
            "y": pd.array(["b"] * 3_000, dtype="string"),
        }
    )
    assert classify(frame, rule)["ebi_category"].notna().tolist() == coded.tolist()
    with pytest.raises(DataError, match="rule line 2"):
        classify(frame, rule, all_criteria=True)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (pd.Series(["V485", 4.5, None], dtype=object), "mixes text and numbers"),
        (pd.Series(pd.to_datetime(["2024-01-01"] * 3)), "holds timestamp"),
        (pd.Series([True, False, True]), "holds bool"),
    ],
    ids=["mixed object column", "dates", "booleans"],
)
def test_columns_of_the_wrong_type_are_named(values, message):
    frame = example_spells(3, seed=1)
    frame["Primary_Spell_Procedure"] = values.to_numpy()
    with pytest.raises(ColumnError, match=f"column 'Primary_Spell_Procedure' {message}"):
        classify(frame)


def test_a_non_frame_is_refused():
    with pytest.raises(TypeError, match="pandas DataFrame"):
        classify([{"Primary_Spell_Procedure": "V485"}])


@given(
    values=st.lists(st.one_of(st.none(), st.booleans()), max_size=70),
    start=st.integers(0, 69),
    length=st.integers(0, 70),
)
def test_masks_read_from_arrow_bitmaps_match_arrow(values, start, length):
    # Sliced arrays start mid-byte in their bitmaps.
    array = pa.array(values, pa.bool_()).slice(start, length)
    true, null = truth_masks(array)
    assert null.tolist() == [v is None for v in array.to_pylist()]
    assert true.tolist() == [v is True for v in array.to_pylist()]
    text = pa.array([None if v is None else "x" for v in values], pa.large_string()).slice(start, length)
    assert null_mask(text).tolist() == [v is None for v in text.to_pylist()]

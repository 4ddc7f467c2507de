"""``classify_table``: the Arrow face of the engine gives what ``classify`` gives, column by column.

The same compiled rule and evaluation run behind both (``classification._verdict``), so these
tests compare the two on the published rule's spec cases and on the synthetic demo extract, and
check what only the Arrow face has to do: record batches, dictionary-encoded text, Arrow types.
"""

import pandas as pd
import pyarrow as pa
import pytest

from rfd_lib import ColumnError, classify, load_rule
from rfd_lib.engine.classification import classify_table
from tests.spec.test_2K_RFD_back import CASES, spells_for

RULE = load_rule()
ADDED = ["ebi_category", *(c.name for c in RULE.criteria), "reason"]


def as_python(column: pd.Series) -> list:
    return column.astype(object).where(column.notna(), None).tolist()


def assert_same_verdict(table: pa.Table, frame: pd.DataFrame, **options) -> pa.Table:
    """Assert classify_table on ``table`` adds exactly what classify adds on ``frame``; return it."""
    ours = classify_table(table, **options)
    theirs = classify(frame, **options)
    assert ours.column_names == [*table.column_names, *ADDED]
    for name in ADDED:
        assert ours.column(name).to_pylist() == as_python(theirs[name]), name
    return ours


@pytest.mark.parametrize("all_criteria", [False, True], ids=["in-play evaluation", "every criterion"])
def test_every_spec_case_gets_the_label_criteria_and_reason_classify_gives(all_criteria):
    frame = spells_for(CASES)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    ours = assert_same_verdict(table, frame, all_criteria=all_criteria)
    # The spec's expectations, read straight off the Arrow result as well.
    assert ours.column("reason").to_pylist() == [expected for _, _, expected in CASES]
    assert ours.select(table.column_names).equals(table)


def test_the_synthetic_demo_extract_gets_what_classify_gives(synthetic_set):
    spells = synthetic_set.extract.spells
    table = pa.Table.from_pandas(spells, preserve_index=False)
    ours = assert_same_verdict(table, spells)
    assert ours.column("ebi_category").null_count < ours.num_rows  # some spells are counted
    assert pa.types.is_dictionary(ours.column("reason").type)
    assert ours.schema.field(ADDED[1]).type == pa.bool_()


def test_a_record_batch_of_dictionary_text_with_other_case_names_is_classified_the_same():
    frame = spells_for(CASES)
    renamed = frame.rename(columns=str.lower)
    table = pa.Table.from_pandas(renamed, preserve_index=False)
    encoded = pa.Table.from_arrays(
        [c.dictionary_encode() if pa.types.is_string(c.type) else c for c in table.columns],
        names=table.column_names,
    )
    (batch,) = encoded.to_batches()
    ours = classify_table(batch)
    assert ours.column("reason").to_pylist() == [expected for _, _, expected in CASES]


def test_a_column_clash_and_a_missing_column_are_one_line_errors():
    table = pa.Table.from_pandas(spells_for(CASES[:1]), preserve_index=False)
    with pytest.raises(ColumnError, match="already have a column 'reason'"):
        classify_table(table.append_column("reason", pa.array(["x"])))
    with pytest.raises(ColumnError, match="no column Admission_Method"):
        classify_table(table.drop_columns(["Admission_Method"]))
    with pytest.raises(TypeError, match="Arrow table or record batch"):
        classify_table(spells_for(CASES[:1]))

"""``rfd_lib.spark.prefilter`` keeps exactly the rows ``Prefilter.mask`` keeps.

The audit's pre-filter (the rule's scope and the code lists the audit labels by) on the synthetic
demo extract and on a few thousand hypothesis-made spells from the pre-filter's own property
test (padding, case, dotted codes, NULLs, codes inside SUS+ strings), with some letters whose
upper case differs between Java and Arrow only in how they spell it; then an extract's own
column names, whole-number and other-typed columns, and a pre-filter that keeps everything.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import strategies as st

from rfd_lib import ColumnError
from rfd_lib.engine.prefilter import Contains, Prefilter
from rfd_lib.spark import prefilter
from tests.spark.conftest import draw, spark_frame
from tests.unit.engine.test_prefilter import AP, AUDIT, SPELL, P, spells


def kept_by_spark(spark, table: pa.Table, condition: Prefilter, names=None) -> list[int]:
    """Return the positions of the rows of ``table`` Spark's pre-filter keeps, in order."""
    df = prefilter(spark_frame(spark, table), condition, names)
    return sorted(df.select("_row").toArrow().column("_row").to_pylist())


def kept_by_mask(table: pa.Table, condition: Prefilter, names=None) -> list[int]:
    return np.flatnonzero(condition.mask(table, names)).tolist()


def test_the_demo_extract_keeps_what_the_mask_keeps(spark, synthetic_set):
    table = pa.Table.from_pandas(synthetic_set.extract.spells[[P, AP, "provider_code"]], preserve_index=False)
    kept = kept_by_spark(spark, table, AUDIT)
    assert kept == kept_by_mask(table, AUDIT)
    assert 0 < len(kept) < table.num_rows


# Non-ASCII letters whose upper case both Java and Arrow write as one character, in codes.
ODD = st.sampled_from(["", "", "", "é", "ı", "ǅ", "İ", "ñ"])


def test_thousands_of_awkward_spells_keep_what_the_mask_keeps(spark):
    frame = spells(draw(st.lists(SPELL, max_size=30), at_least=3_000))[[P, AP]]
    odd = draw(st.lists(st.tuples(ODD, ODD)), at_least=len(frame))[: len(frame)]
    frame[P] = frame[P] + pd.array([a for a, _ in odd], dtype="string")
    frame[AP] = pd.array([b for _, b in odd], dtype="string") + frame[AP]
    table = pa.Table.from_pandas(frame, preserve_index=False)
    kept = kept_by_spark(spark, table, AUDIT)
    assert kept == kept_by_mask(table, AUDIT)
    assert 0 < len(kept) < table.num_rows


def test_an_extract_s_own_names_and_column_types_are_read_as_the_mask_reads_them(spark):
    names = {P: "Der_Primary_Procedure_Code", AP: "Der_Procedure_All"}
    table = pa.table(
        {
            "der_primary_procedure_code": ["A577", "A577", "V485", "W401", "v48.7"],
            "Der_Procedure_All": ["Z676", "Z671", None, None, ""],
        }
    )
    assert kept_by_spark(spark, table, AUDIT, names) == kept_by_mask(table, AUDIT, names) == [0, 2, 4]
    numbers = Prefilter(((Contains("code", ("485",)),),))
    whole = pa.table({"code": pa.array([485, 1485, 48, None], pa.int64())})
    assert kept_by_spark(spark, whole, numbers) == kept_by_mask(whole, numbers) == [0, 1]
    decimals = pa.table({"code": pa.array([1.5, None], pa.float64())})
    assert kept_by_spark(spark, decimals, numbers) == kept_by_mask(decimals, numbers) == [0, 1]
    with pytest.raises(ColumnError, match="Der_Procedure_All"):
        prefilter(spark_frame(spark, table.drop_columns(["Der_Procedure_All"])), AUDIT, names)


def test_a_pre_filter_that_keeps_everything_returns_the_frame_itself(spark):
    df = spark_frame(spark, pa.table({P: ["W401"]}))
    assert prefilter(df, Prefilter(keep_all=True, why="test")) is df

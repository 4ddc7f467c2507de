"""``rfd_lib.spark.classify`` agrees with the local engine spell for spell.

On Spark ``local[2]`` (one session for the run, ``conftest.py``), in small Arrow batches: every
case of the published rule's spec table, a few thousand hypothesis-made spells with SQL Server's
awkward values (the differential test's strategy), and the synthetic demo extract. Each
comparison is one Spark job over many spells, so the whole file runs in well under a minute.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from rfd_lib import ColumnError, DataError, RuleError, classify, load_rule
from rfd_lib.spark import classify as spark_classify
from rfd_lib.spark import collect_arrow, spark_errors
from tests.spark.conftest import draw, spark_frame
from tests.spec.test_2K_RFD_back import CASES, spells_for
from tests.unit.engine.test_differential import SPELLS, frame

RULE = load_rule()
ADDED = ["ebi_category", *(c.name for c in RULE.criteria), "reason"]


def as_python(column: pd.Series) -> list:
    return column.astype(object).where(column.notna(), None).tolist()


def classified_by_spark(spark, spells: pd.DataFrame, **options) -> pa.Table:
    """Return ``spells`` classified by Spark, collected, in their original row order."""
    df = spark_frame(spark, pa.Table.from_pandas(spells, preserve_index=False))
    return collect_arrow(spark_classify(df, **options)).sort_by("_row")


def assert_agrees_with_local(spark_result: pa.Table, spells: pd.DataFrame, **options) -> None:
    """Assert Spark's label, criteria and reason equal classify's, spell by spell."""
    local = classify(spells, **options)
    for name in ADDED:
        theirs, ours = as_python(local[name]), spark_result.column(name).to_pylist()
        differing = [i for i, (a, b) in enumerate(zip(ours, theirs, strict=True)) if a != b]
        assert not differing, (name, spells.iloc[differing[:3]].to_dict("records"))


@pytest.mark.parametrize("all_criteria", [False, True], ids=["in-play evaluation", "every criterion"])
def test_every_spec_case_is_classified_by_spark_as_locally(spark, all_criteria):
    spells = spells_for(CASES)
    result = classified_by_spark(spark, spells, all_criteria=all_criteria)
    assert result.column("reason").to_pylist() == [expected for _, _, expected in CASES]
    assert_agrees_with_local(result, spells, all_criteria=all_criteria)
    assert result.column_names == [*spells.columns, "_row", *ADDED]


def test_thousands_of_generated_spells_get_the_local_labels_spell_for_spell(spark):
    # SQL Server's awkward cases (padding, case, dotted codes, NULLs), as the differential test makes them.
    spells = frame(draw(SPELLS, at_least=3_000))
    result = classified_by_spark(spark, spells, all_criteria=True)
    assert_agrees_with_local(result, spells, all_criteria=True)
    assert 0 < pc.count(result.column("ebi_category")).as_py() < len(spells)


def test_the_demo_extract_gives_the_same_counted_spells_per_provider(spark, synthetic_set):
    spells = synthetic_set.extract.spells
    table = pa.Table.from_pandas(spells, preserve_index=False)
    # Spark takes no dictionary columns (the extract's `source` is categorical): plain text.
    table = table.cast(
        pa.schema(
            [
                pa.field(f.name, f.type.value_type) if pa.types.is_dictionary(f.type) else f
                for f in table.schema
            ]
        )
    )
    df = spark_classify(spark_frame(spark, table, partitions=4)).cache()  # two actions, one classification
    with spark_errors():
        counted = df.where("ebi_category IS NOT NULL").groupBy("provider_code").count().toArrow()
        labels = df.select("_row", "ebi_category", "reason").toArrow().sort_by("_row")
    df.unpersist()
    local = synthetic_set.classified
    expected = local.loc[local["ebi_category"].notna()].groupby("provider_code").size()
    got = dict(
        zip(counted.column("provider_code").to_pylist(), counted.column("count").to_pylist(), strict=True)
    )
    assert got == expected.to_dict()
    assert sum(got.values()) > 1_000
    assert labels.column("ebi_category").to_pylist() == as_python(local["ebi_category"])
    assert labels.column("reason").to_pylist() == as_python(local["reason"])


def test_a_value_sql_server_cannot_convert_reaches_the_caller_as_one_line(spark):
    spells = spells_for(CASES).astype({"Age_At_Start_of_Spell_SUS": "string"})
    spells.loc[3, "Age_At_Start_of_Spell_SUS"] = "forty"
    with pytest.raises(DataError) as raised:
        classified_by_spark(spark, spells)
    message = str(raised.value)
    assert "\n" not in message
    assert "rule line 7" in message and "cannot be converted to a whole number" in message
    assert "Spark partition" in message and "HINT: " in message
    assert "Traceback" not in message and "java" not in message.lower()


def test_a_bad_column_or_rule_fails_on_the_driver_before_any_job(spark, tmp_path):
    df = spark_frame(spark, pa.Table.from_pandas(spells_for(CASES[:2]), preserve_index=False))
    with pytest.raises(ColumnError, match="no column Admission_Method"):
        spark_classify(df.drop("Admission_Method"))
    with pytest.raises(ColumnError, match="already have a column 'reason'"):
        spark_classify(df.withColumnRenamed("_row", "reason"))
    with pytest.raises(ColumnError, match="holds bool values"):
        spark_classify(df.withColumn("Admission_Method", df["_row"] > 0))
    with pytest.raises(RuleError):
        spark_classify(df, str(tmp_path / "no_such_rule.sql"))


def test_column_names_are_matched_ignoring_case(spark):
    spells = spells_for(CASES).rename(columns=str.upper)
    result = classified_by_spark(spark, spells)
    assert result.column("reason").to_pylist() == [expected for _, _, expected in CASES]

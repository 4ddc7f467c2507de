"""``rfd-audit run`` on a Spark source gives the audit of the same extract read locally.

The synthetic set (a tenth of it: every provider's SUS+ spells, with its broken values, repeated
spell identifiers and quarantined rows) is written as ONE Parquet file in the SUS+ profile. Spark
``local[2]``, in Arrow batches of 1,000 rows (conftest.py), reads and classifies it with
:func:`classify_spark`; the local batch-wise reader reads the same file with
:func:`classify_extracts`. Kept spells, extent, reconciliation, findings and every audit figure
are compared; then a whole run from a parameter file (``extracts: spark: {path}``) against the
same run with ``extracts: files:``, table file by table file.
"""

from __future__ import annotations

import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rfd_lib.engine.rule import load_rule
from rfd_lib.errors import ExtractError
from rfd_lib.metrics.activity import audit_prefilter
from rfd_lib.metrics.audit import audit_metrics
from rfd_lib.metrics.code_lists import load_code_lists
from rfd_lib.pipeline.params import ParamsError, Spark, load_params
from rfd_lib.pipeline.runner import run_audit
from rfd_lib.pipeline.spark_source import classify_spark
from rfd_lib.pipeline.streaming import classify_extracts
from rfd_lib.synthetic.extract_set import extract_frames, write_extracts

FIGURES = ["volumes", "checks", "waterfall", "intervals", "spc_true_counts"]
# Where each spell came from: a file's row locally, Spark's row id there (not compared).
ROW_IDS = ["source_row"]


@pytest.fixture(scope="module")
def extract(tmp_path_factory):
    """One Parquet file of the synthetic set (scale 0.1), every provider, SUS+ columns."""
    folder = tmp_path_factory.mktemp("spark_run")
    frames = extract_frames(scale=0.1)
    spells = pd.concat(list(frames.values()), ignore_index=True)
    path = folder / "spells.parquet"
    pq.write_table(pa.Table.from_pandas(spells, preserve_index=False), path)
    return path


@pytest.fixture(scope="module")
def both(spark, extract, tmp_path_factory):
    folder = tmp_path_factory.mktemp("spark_both")
    rule = load_rule()
    keep = audit_prefilter(rule, load_code_lists())
    by_spark = classify_spark(Spark(path=str(extract)), rule=rule, keep=keep, parts=folder / "spark")
    local = classify_extracts([extract], rule=rule, keep=keep, parts=folder / "local")
    return by_spark, local


def by_spell(spells: pd.DataFrame) -> pd.DataFrame:
    return spells.drop(columns=ROW_IDS).sort_values("spell_id", kind="stable").reset_index(drop=True)


def test_spark_keeps_the_spells_the_local_reader_keeps(both):
    by_spark, local = both
    assert len(local.spells) > 1_000
    pd.testing.assert_frame_equal(by_spell(by_spark.spells), by_spell(local.spells), check_categorical=False)
    assert by_spark.spells_read == local.spells_read > len(local.spells)
    assert by_spark.quarantined == local.quarantined > 0


def test_spark_counts_the_extent_reconciliation_and_findings_as_locally(both):
    by_spark, local = both
    pd.testing.assert_frame_equal(by_spark.extent.counts, local.extent.counts)
    assert by_spark.extent.first_admission == local.extent.first_admission
    pd.testing.assert_frame_equal(by_spark.reconciliation, local.reconciliation)
    key = ["check", "column", "description"]
    counts = [found.set_index(key)["spells"].sort_index() for found in (by_spark.findings, local.findings)]
    pd.testing.assert_series_equal(*counts)
    assert "duplicate_spell_id" in by_spark.findings["check"].tolist()


@pytest.mark.parametrize("name", FIGURES)
def test_every_audit_figure_from_spark_is_the_local_one(both, name):
    by_spark, local = both
    theirs = audit_metrics(by_spark.spells, extent=by_spark.extent)
    ours = audit_metrics(local.spells, extent=local.extent)
    pd.testing.assert_frame_equal(getattr(theirs, name), getattr(ours, name))


@pytest.fixture(scope="module")
def synthetic_set(tmp_path_factory):
    """The synthetic set's files (scale 0.1): a CSV per provider and the populations."""
    return write_extracts(tmp_path_factory.mktemp("spark_set"), scale=0.1)


def test_a_csv_is_read_by_spark_as_text_with_the_profiles_null_values(spark, synthetic_set, tmp_path):
    # ZE5 writes its missing values as NULL, which the SUS+ profile reads as missing.
    path = synthetic_set.folder / "ZE5.csv"
    assert "NULL" in path.read_text(encoding="utf-8")
    rule = load_rule()
    keep = audit_prefilter(rule, load_code_lists())
    source = Spark(path=str(path), format="csv")
    by_spark = classify_spark(source, rule=rule, keep=keep, parts=tmp_path / "spark")
    local = classify_extracts([path], rule=rule, keep=keep, parts=tmp_path / "local")
    pd.testing.assert_frame_equal(by_spell(by_spark.spells), by_spell(local.spells), check_categorical=False)
    pd.testing.assert_frame_equal(by_spark.reconciliation, local.reconciliation)
    pd.testing.assert_frame_equal(
        by_spark.findings.drop(columns="example_rows"), local.findings.drop(columns="example_rows")
    )


def write_params(folder, name: str, extracts: dict, populations) -> str:
    text = {
        "name": name,
        "quarter": "2026/27 Q2",
        "extracts": extracts,
        "populations": str(populations),
        "output": str(folder / name),
        "formats": ["html"],
        "providers": ["ZH8"],
        "jobs": 1,
    }
    path = folder / f"{name}.yaml"
    path.write_text(json.dumps(text), encoding="utf-8")  # JSON is YAML
    return path


def test_a_run_of_a_spark_path_writes_the_tables_of_the_same_file_run_locally(
    spark, extract, synthetic_set, tmp_path
):
    populations = synthetic_set.populations
    by_spark = run_audit(
        write_params(tmp_path, "spark", {"spark": {"path": str(extract)}}, populations), progress=False
    )
    local = run_audit(write_params(tmp_path, "local", {"files": [str(extract)]}, populations), progress=False)
    tables = sorted(path.relative_to(local.output) for path in (local.output / "tables").rglob("*.csv"))
    assert tables, "the local run wrote no table files"
    assert (
        sorted(p.relative_to(by_spark.output) for p in (by_spark.output / "tables").rglob("*.csv")) == tables
    )
    for table in tables:
        assert (by_spark.output / table).read_bytes() == (local.output / table).read_bytes(), table
    assert by_spark.reconciliation.split(" (")[0] == local.reconciliation.split(" (")[0]
    assert any("classified by Spark" in note for note in by_spark.notes)
    # Recorded as a database source is: its name and a hash of what was read, never kept by a partial run.
    basis = json.loads((by_spark.output / "internal" / "run.json").read_text(encoding="utf-8"))["basis"]
    assert basis["database"] is True
    assert [name for name, _ in basis["inputs"]].count(f"spark {extract}") == 1
    kept = pd.read_parquet(by_spark.output / "internal" / "classified_spells.parquet")
    assert len(kept) < len(pd.read_parquet(local.output / "internal" / "classified_spells.parquet"))


def test_a_spark_block_with_both_a_table_and_a_path_is_one_line(tmp_path):
    path = write_params(tmp_path, "both", {"spark": {"table": "spells", "path": "x.parquet"}}, "p.csv")
    with pytest.raises(ParamsError) as raised:
        load_params(path)
    assert "extracts.spark: give exactly one of table: or path:" in str(raised.value)
    assert "\n" not in str(raised.value)


def test_a_spark_path_that_does_not_exist_is_one_line(spark, tmp_path):
    rule = load_rule()
    with pytest.raises(ExtractError, match=r"nowhere\.parquet: Spark cannot read it") as raised:
        classify_spark(
            Spark(path=str(tmp_path / "nowhere.parquet")),
            rule=rule,
            keep=audit_prefilter(rule, load_code_lists()),
            parts=tmp_path / "parts",
        )
    assert "\n" not in str(raised.value)
    assert not (tmp_path / "parts").exists()


def test_an_error_in_a_worker_comes_back_as_its_one_line(spark, extract, tmp_path):
    # A column of lists passes the driver's header checks; the workers' reader refuses it.
    table = pq.read_table(extract).slice(0, 50)
    nested = table.append_column("Comments", pa.array([["a", "b"]] * table.num_rows))
    path = tmp_path / "nested.parquet"
    pq.write_table(nested, path)
    rule = load_rule()
    with pytest.raises(ExtractError, match=r"nested\.parquet: column Comments holds lists") as raised:
        classify_spark(
            Spark(path=str(path)),
            rule=rule,
            keep=audit_prefilter(rule, load_code_lists()),
            parts=tmp_path / "parts",
        )
    assert "\n" not in str(raised.value)
    assert not (tmp_path / "parts").exists()

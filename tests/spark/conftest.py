"""The Spark tests' session: one local Spark (``local[2]``) for the whole test run.

Without pyspark or a Java runtime these tests are skipped with the reason — except under
``CI=true``, where they fail: CI installs both (``.ci/run``, ``make test``) and must really run
them.
"""

from __future__ import annotations

import os
import shutil
from importlib.util import find_spec

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

# Small Arrow batches, so that every DataFrame here reaches the workers as several batches and
# batch-by-batch classification is what is compared with the local engine.
BATCH_ROWS = 1_000


def missing() -> str | None:
    """Return what the Spark tests lack (pyspark, Java), or None."""
    if find_spec("pyspark") is None:
        return 'pyspark is not installed: pip install -e ".[dev,spark]"'
    if not os.environ.get("JAVA_HOME") and shutil.which("java") is None:
        return "no Java runtime (java on PATH or JAVA_HOME): apt-get install default-jre-headless"
    return None


@pytest.fixture(scope="session")
def spark():
    lacking = missing()
    if lacking is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI must run the Spark tests, but {lacking}")
        pytest.skip(lacking)
    from rfd_lib.spark import session

    spark = session("local[2]")
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(BATCH_ROWS))
    yield spark
    spark.stop()


def spark_frame(spark, table: pa.Table, partitions: int = 2):
    """Return ``table`` as a Spark DataFrame with a ``_row`` column (its position) to sort back by."""
    numbered = table.append_column("_row", pa.array(range(table.num_rows), pa.int64()))
    return spark.createDataFrame(numbered).repartition(partitions)


def draw(strategy: st.SearchStrategy[list[dict]], at_least: int) -> list[dict]:
    """Return at least ``at_least`` spells drawn by hypothesis from ``strategy`` (lists of spells).

    The spells are drawn first and classified by Spark in one job afterwards: a Spark job per
    hypothesis example would take minutes.
    """
    drawn: list[dict] = []

    @settings(
        max_examples=100,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(spells: list[dict]) -> None:
        drawn.extend(spells)

    while len(drawn) < at_least:
        collect()
    return drawn

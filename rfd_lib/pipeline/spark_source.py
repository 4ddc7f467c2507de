"""An audit run's extract read, checked and classified in Spark: :func:`classify_spark`.

The Spark workers run, on each Arrow batch of the source, the same two pure steps the local
batch-wise reader runs (:func:`rfd_lib.extracts.scan.read_batch`, then
:func:`rfd_lib.pipeline.streaming.classify_batch`) — not a port of them — in one ``mapInArrow``
job. Each batch comes back to the driver as one small row: the spells the audit's pre-filter
keeps, the quarantined rows, the batch's extent and its share of the tallies and identifiers.
The driver streams those rows (``toLocalIterator``: a partition at a time) into the same
:class:`~rfd_lib.extracts.scan.ScanTally` and :class:`~rfd_lib.pipeline.streaming.Gathered` as a
local run, so everything after is the local run's code. pyspark is imported on first use.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from rfd_lib.engine.prefilter import Prefilter
from rfd_lib.engine.rule import Rule
from rfd_lib.errors import ExtractError
from rfd_lib.extracts.csv_source import RawTable, check_header
from rfd_lib.extracts.profiles import Profile, choose_profile, load_profile, missing_columns, missing_error
from rfd_lib.extracts.scan import ScanTally, SpellBatch, read_batch
from rfd_lib.extracts.sources import NO_REJECTS, flat_values
from rfd_lib.extracts.spell_schema import SpellSchema, load_spell_schema
from rfd_lib.pipeline.params import Spark
from rfd_lib.pipeline.streaming import Gathered, Streamed, classify_batch

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

# The row number column added to the source (its name is one no extract uses).
ROW = "__rfd_audit_row"
# The worker's one column: a batch's results, pickled (read back only by this module, on the driver).
PAYLOAD = "payload"
# The quarantine travels once, in the ClassifiedBatch; the BatchRead's copy is left behind.
NO_QUARANTINE = pa.table({})
# Source number of the one source a Spark run reads, for the tally.
ONLY_SOURCE = 0
# What a worker has unpickled once: the rule, pre-filter, profile and schema, by the sha256 of the pickle.
_SETUPS: dict[str, tuple[Rule, Prefilter, Profile, SpellSchema]] = {}


def classify_spark(
    spark_params: Spark,
    *,
    rule: Rule,
    keep: Prefilter,
    parts: Path,
    period_date: str = "discharge_date",
    profile: str | os.PathLike[str] | None = None,
    allow_duplicate_spells: bool = False,
) -> Streamed:
    """Return the Spark source read, checked and classified by Spark's workers, keeping what ``keep`` keeps.

    The same :class:`~rfd_lib.pipeline.streaming.Streamed` as
    :func:`~rfd_lib.pipeline.streaming.classify_extracts` gives for a file, but for two things:
    a Spark source's "row" (``source_row``, and the rows findings and the quarantine name) is
    ``monotonically_increasing_id() + 1`` — unique and increasing, not the position in the
    source (it jumps between partitions); and only the spells ``keep`` keeps are written to
    ``parts`` (the run's classified spells file holds those), while every spell is counted
    (``spells_read``, the extent, the reconciliation). The profile is ``profile`` or detected
    from the source's columns on the driver; an episode-level profile is refused (its episodes
    must be rolled up together, which batches spread over workers cannot do). Raises as
    :func:`~rfd_lib.extracts.reading.load_extracts` does, a worker's error as its one line
    (:func:`rfd_lib.spark.spark_errors`); on an error ``parts`` is removed.
    """
    from rfd_lib.spark import session, spark_errors
    from rfd_lib.spark.runtime import pyspark_module, quiet_pandas_warning

    functions = pyspark_module("pyspark.sql.functions")
    types = pyspark_module("pyspark.sql.types")
    shown = spark_params.shown
    schema = load_spell_schema()
    tally = ScanTally(schema, allow_duplicate_spells=allow_duplicate_spells)
    parts.mkdir(parents=True, exist_ok=True)
    gathered = Gathered(parts)
    try:
        spark = session(spark_params.master)
        df = _read(spark, spark_params)
        names = [name.strip() for name in df.columns]
        check_header(shown, names)
        used = _profile(profile, names, shown, tally.notes)
        numbered = df.toDF(*names).withColumn(ROW, functions.monotonically_increasing_id() + 1)
        setup = pickle.dumps((rule, keep, used, schema))
        worker = functools.partial(
            _worker,
            key=hashlib.sha256(setup).hexdigest(),
            setup=setup,
            source=shown,
            period_date=period_date,
            csv=spark_params.path is not None and spark_params.format.lower() == "csv",
        )
        out = types.StructType([types.StructField(PAYLOAD, types.BinaryType(), False)])
        with spark_errors(), quiet_pandas_warning():
            # One partition at a time reaches the driver: memory holds a partition's results.
            for row in numbered.mapInArrow(worker, out).toLocalIterator(prefetchPartitions=False):
                read, batch, spells_read = pickle.loads(row[PAYLOAD])
                tally.add(ONLY_SOURCE, read)
                gathered.add_kept(batch, spells_read=spells_read)
        tally.end_source(shown, used)
        return gathered.streamed(tally.summary())
    except BaseException:
        gathered.abandon()
        raise


def _read(spark, source: Spark) -> DataFrame:
    """Return the Spark DataFrame of ``source``: a table, or a path in its format (a CSV all text).

    Raises ExtractError (one line) where Spark cannot find or read it.
    """
    from rfd_lib.spark.runtime import pyspark_module

    exceptions = pyspark_module("pyspark.errors")
    try:
        if source.table is not None:
            return spark.table(source.table)
        options = dict(source.options)
        if source.format.lower() == "csv":
            # Every column as text, as the local reader reads a CSV: a code such as 01 keeps its zero.
            options = {"header": "true", **options, "inferSchema": "false"}
        return spark.read.format(source.format).options(**options).load(source.path)
    except (exceptions.AnalysisException, exceptions.IllegalArgumentException) as error:
        first = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
        raise ExtractError(
            f"{source.shown}: Spark cannot read it ({first})",
            hint="check the table name, or the path, format and options in extracts: spark:",
        ) from None


def _profile(given: str | os.PathLike[str] | None, names: list[str], shown: str, notes: list[str]) -> Profile:
    """Return the profile given or detected from ``names``, noting how it was chosen; refuse episodes."""
    if given is not None:
        used = load_profile(given)
        if missing_columns(used, names):
            raise missing_error(used, names, shown)
        notes.append(f"{shown}: column profile '{used.name}' ({used.description}) as given")
    else:
        used, message = choose_profile(names, shown)
        notes.append(message)
    if used.episodes is not None:
        raise ExtractError(
            f"{shown}: profile '{used.name}' holds episodes, which a Spark run cannot roll up to spells",
            hint="give Spark a spell-level source, or read the extract with extracts: files:",
        )
    return used


def _worker(
    batches: Iterator[pa.RecordBatch], *, key: str, setup: bytes, source: str, period_date: str, csv: bool
) -> Iterator[pa.RecordBatch]:
    """Return (in a worker) one row per Arrow batch: its BatchRead, kept spells and counts, pickled."""
    found = _SETUPS.get(key)
    if found is None:
        found = _SETUPS[key] = pickle.loads(setup)
    rule, keep, profile, schema = found
    for batch in batches:
        table = pa.Table.from_batches([batch])
        rows = np.asarray(table.column(ROW).to_numpy(), dtype=np.int64)
        table = flat_values(table.drop_columns([ROW]), source)
        if csv:
            table = _nulls(table, profile.null_values)
        read = read_batch(RawTable(source, table, rows, NO_REJECTS), profile, schema)
        classified = classify_batch(read.batch, rule, keep, period_date)
        spells_read = classified.classified.num_rows
        # Only what the driver needs travels: the classified table of every spell stays here.
        classified = dataclasses.replace(classified, classified=classified.classified.slice(0, 0))
        light = dataclasses.replace(read, batch=SpellBatch(read.batch.spells.slice(0, 0), NO_QUARANTINE))
        payload = pickle.dumps((light, classified, spells_read), protocol=pickle.HIGHEST_PROTOCOL)
        yield pa.RecordBatch.from_arrays([pa.array([payload], pa.binary())], names=[PAYLOAD])


def _nulls(table: pa.Table, null_values: tuple[str, ...]) -> pa.Table:
    """Return ``table`` with the profile's null values (exactly as written) as NULL, as a local CSV read."""
    values = pa.array(list(null_values), pa.string())
    columns = []
    for column in table.columns:
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            column = pc.if_else(pc.is_in(column, pc.cast(values, column.type)), None, column)
        columns.append(column)
    return pa.table(columns, names=table.column_names)

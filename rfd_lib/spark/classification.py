"""``classify`` on a Spark DataFrame: the engine's ``classify_table`` on each Arrow batch, in the workers.

``mapInArrow`` hands each Python worker its partition as Arrow record batches; the worker runs
the compiled rule on them with :func:`rfd_lib.engine.classification.classify_table` — the same
code as the local :func:`rfd_lib.classify`, not a port of the rule to Spark SQL — and never
touches pandas (PySpark 4 does not fully support pandas 3). The rule is compiled once on the
driver (a rule error stops there, before any job) and unpickled once per worker process.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import pickle
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pyarrow as pa

from rfd_lib import errors
from rfd_lib.engine.classification import classify_table, match_columns
from rfd_lib.engine.rule import OUTPUT_COLUMNS, load_rule
from rfd_lib.spark.runtime import column_reference, pyspark_module, quiet_pandas_warning

if TYPE_CHECKING:
    import os

    from pyspark.sql import DataFrame

    from rfd_lib.engine.rule import Rule

# The line a worker's traceback ends with when rfd_lib raised: "rfd_lib.errors.DataError: ...".
_WORKER_ERROR = re.compile(r"^rfd_lib\.errors\.(\w+): (.*)$", re.MULTILINE)
# Rules unpickled in this (worker) process, by the sha256 of their pickle.
_RULES: dict[str, Rule] = {}


def classify(
    df: DataFrame,
    rule: Rule | str | os.PathLike[str] = "2K_RFD_back",
    *,
    all_criteria: bool = False,
) -> DataFrame:
    """Return ``df`` with the columns :func:`rfd_lib.classify` adds, worked out in Spark's workers.

    The result is lazy, as every Spark DataFrame: it has ``df``'s columns and then
    ``ebi_category`` (string), one nullable boolean per criterion (named as the rule names it)
    and ``reason`` (string), with the values the local engine gives spell for spell. Column names
    are matched ignoring case, as classify does. A missing, clashing or wrongly typed column, or
    a rule that cannot be loaded, raises here (ColumnError, RuleError); a value SQL Server could
    not convert raises DataError when the result is computed — through :func:`collect_arrow`, or
    inside :func:`spark_errors`, as a one-line error (otherwise as Spark's PythonException).
    """
    types = pyspark_module("pyspark.sql.types")
    compiled = load_rule(rule)
    # Names, clashes and types checked on the driver by the engine itself, on no rows (limit 0):
    # a bad column fails here, before any rows are read, with the same message as locally.
    columns = match_columns(df.columns, compiled)
    with spark_errors():
        empty = df.select(*(df[column_reference(name)] for name in columns.values())).limit(0).toArrow()
    classify_table(empty, compiled, all_criteria=all_criteria)
    added = [
        types.StructField(OUTPUT_COLUMNS[0], types.StringType(), True),
        *(types.StructField(c.name, types.BooleanType(), True) for c in compiled.criteria),
        types.StructField(OUTPUT_COLUMNS[1], types.StringType(), True),
    ]
    schema = types.StructType([*df.schema.fields, *added])
    payload = pickle.dumps(compiled)
    worker = functools.partial(
        _classify_batches,
        key=hashlib.sha256(payload).hexdigest(),
        payload=payload,
        all_criteria=all_criteria,
    )
    with quiet_pandas_warning():
        return df.mapInArrow(worker, schema)


def collect_arrow(df: DataFrame) -> pa.Table:
    """Return every row of ``df`` as an Arrow table on the driver (``df.toArrow()``).

    An rfd_lib error raised in a worker (a DataError while classifying) is raised here as the
    same one-line error instead of Spark's traceback (see :func:`spark_errors`).
    """
    with spark_errors():
        return df.toArrow()


@contextlib.contextmanager
def spark_errors() -> Iterator[None]:
    """Return a context in which an rfd_lib error raised in a Spark worker is re-raised as itself.

    Spark reports a worker's exception on the driver as a PythonException holding the worker's
    traceback; inside this context, when that traceback ends in an rfd_lib error (DataError,
    ColumnError, ...), the same error with the same one-line message and hint is raised instead.
    Use it around any action on :func:`classify`'s result (``count``, ``write``, ``collect``,
    ``toLocalIterator`` — whose failed job arrives as py4j's Py4JJavaError holding the same
    traceback).
    """
    exceptions = pyspark_module("pyspark.errors")
    java = pyspark_module("py4j.protocol").Py4JJavaError
    try:
        yield
    except (exceptions.PythonException, java) as error:
        found = _rfd_error(str(error))
        if found is None:
            raise
        raise found from None


def _rfd_error(traceback: str) -> errors.RfdAuditError | None:
    """Return the rfd_lib error a worker's ``traceback`` ends with, rebuilt, or None."""
    matches = list(_WORKER_ERROR.finditer(traceback))
    if not matches:
        return None
    name, text = matches[-1].groups()
    kind = getattr(errors, name, None)
    if not (isinstance(kind, type) and issubclass(kind, errors.RfdAuditError)):
        return None
    message, _, hint = text.partition(" HINT: ")
    return kind(message, hint=hint or None)


def _classify_batches(
    batches: Iterator[pa.RecordBatch], *, key: str, payload: bytes, all_criteria: bool
) -> Iterator[pa.RecordBatch]:
    """Return (in a worker) each batch with the verdict's columns added; ``reason`` as plain text."""
    rule = _RULES.get(key)
    if rule is None:
        rule = _RULES[key] = pickle.loads(payload)
    for number, batch in enumerate(batches, start=1):
        try:
            table = classify_table(batch, rule, all_criteria=all_criteria)
        except errors.RfdAuditError as error:
            # A row number means the row of this batch: say which batch, where Spark lets us.
            where = f"Spark partition {_partition()}, Arrow batch {number}"
            raise type(error)(f"{where}: {error.message}", hint=error.hint) from None
        position = table.schema.get_field_index(OUTPUT_COLUMNS[1])
        reason = table.column(position).cast(pa.string())
        yield from table.set_column(position, OUTPUT_COLUMNS[1], reason).to_batches()


def _partition() -> int | str:
    """Return the number of the partition this worker's task reads ("?" outside a task)."""
    context = pyspark_module("pyspark").TaskContext.get()
    return context.partitionId() if context is not None else "?"

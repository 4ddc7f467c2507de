"""The engine's pre-filter as a Spark condition, so Spark drops rows before a Python worker sees them."""

from __future__ import annotations

import functools
import operator
from collections.abc import Mapping
from typing import TYPE_CHECKING

from rfd_lib.engine.prefilter import Contains, Prefilter, _resolve
from rfd_lib.spark.runtime import column_reference, pyspark_module

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame


def prefilter(df: DataFrame, prefilter: Prefilter, names: Mapping[str, str] | None = None) -> DataFrame:
    """Return ``df`` with only the rows :meth:`Prefilter.mask` keeps (lazy, as Spark DataFrames are).

    The condition is built from ``prefilter``'s clauses as Spark Column expressions, with the
    mask's meaning: a text column, upper-cased and with its dots removed, contains one of the
    stems (NULL: it does not); a whole-number column is read as its digits; a column of any other
    type keeps every row. ``names`` maps a canonical column to ``df``'s name for it (matched
    ignoring case and blanks, as the mask matches them); raises ColumnError for a column ``df``
    lacks. A pre-filter that keeps everything returns ``df`` itself.

    Spark upper-cases as Java does, the mask as Arrow does: they differ only on the few letters
    Java writes as two (ß as SS, ligatures, some Greek), where Spark may keep a row the mask
    drops; with stems of ASCII characters, as every code list's are, Spark never drops a row
    the mask keeps, so the filter stays a superset of the rule's spells.
    """
    pyspark_module("pyspark.sql")  # the one-line error where pyspark is missing, before anything else
    if prefilter.keep_all:
        return df
    folded = {column: _folded(df, _resolve(df, column, names)) for column in prefilter.columns}
    clauses = [
        functools.reduce(operator.and_, (_holds(folded[c.column], c) for c in clause))
        for clause in prefilter.clauses
    ]
    return df.filter(functools.reduce(operator.or_, clauses))


def _folded(df: DataFrame, name: str) -> Column | None:
    """Return column ``name`` as the mask reads it: text, upper-cased, dots removed (None: keep all)."""
    functions = pyspark_module("pyspark.sql.functions")
    types = pyspark_module("pyspark.sql.types")
    kind = df.schema[name].dataType
    column = functions.col(column_reference(name))
    if isinstance(kind, (types.IntegralType, types.NullType)):
        column = column.cast("string")
    elif not isinstance(kind, (types.StringType, types.VarcharType, types.CharType)):
        return None
    return functions.upper(functions.replace(column, functions.lit("."), functions.lit("")))


def _holds(values: Column | None, condition: Contains) -> Column:
    """Return where ``values`` holds one of the condition's stems; NULL counts as not holding."""
    functions = pyspark_module("pyspark.sql.functions")
    if values is None:
        return functions.lit(True)
    found = functools.reduce(operator.or_, (values.contains(stem) for stem in condition.stems))
    return functions.coalesce(found, functions.lit(False))

"""Evaluate an expression tree over the spells, vectorised, with SQL's three-valued logic.

Predicates give a :class:`Truth` (TRUE / FALSE / UNKNOWN per row). ``AND`` and ``OR`` evaluate
their operands one after another, each only on the rows whose result is still open: an ``AND``
drops a row at its first FALSE, an ``OR`` at its first TRUE. :func:`plan` orders those operands
by how often each was TRUE on a sample of the spells, so the most selective goes first. Order
never changes a result — AND and OR are commutative in SQL, and nothing here has side effects.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from rfd_lib.engine import expressions as ir
from rfd_lib.engine import sqlserver
from rfd_lib.errors import DataError

Rows = np.ndarray | None  # positions of the rows to evaluate; None means every row
SAMPLE_SIZE = 2048


@dataclass(frozen=True)
class Truth:
    """Three-valued result per row: ``true`` where TRUE, ``null`` where UNKNOWN, FALSE elsewhere."""

    true: np.ndarray
    null: np.ndarray

    @property
    def false(self) -> np.ndarray:
        """Return the mask of rows that are FALSE."""
        return ~(self.true | self.null)

    def negate(self) -> Truth:
        """Return NOT of this truth (UNKNOWN stays UNKNOWN)."""
        return Truth(self.false, self.null)


@dataclass(frozen=True)
class Spells:
    """The columns a rule reads, as Arrow arrays of equal length, keyed by the rule's names."""

    columns: dict[str, pa.Array]
    size: int

    def get(self, name: str, rows: Rows) -> pa.Array:
        """Return column ``name`` restricted to ``rows``."""
        column = self.columns[name]
        return column if rows is None else column.take(rows)


def count(spells: Spells, rows: Rows) -> int:
    """Return how many rows ``rows`` selects."""
    return spells.size if rows is None else len(rows)


def evaluate(node: ir.Predicate, spells: Spells, rows: Rows = None) -> Truth:
    """Return the truth of predicate ``node`` on ``rows`` of ``spells`` (in the order of ``rows``).

    Raises DataError naming the rule line and the spell's row where SQL Server would stop.
    """
    try:
        return _evaluate(node, spells, rows)
    except sqlserver.UnconvertibleValue as error:
        raise _located(error, node, rows) from None


def _located(error: sqlserver.UnconvertibleValue, node: ir.Predicate, rows: Rows) -> DataError:
    """Return the error as the analyst needs it: the rule line, and the row or the constant at fault."""
    columns = ", ".join(ir.columns_of(node))
    constants = [item for item in _constants(node) if isinstance(item, str)]
    culprit = (
        next((c for c in constants if not sqlserver.converts_to_number(c)), None) if error.to_number else None
    )
    if culprit is not None:
        return DataError(
            f"rule line {node.line}: the constant {culprit!r} is compared with numbers in {columns}, "
            "and SQL Server would stop converting it",
            hint="these columns should hold text: read the extract so that codes stay text",
        )
    row = error.position if rows is None else int(rows[error.position])
    return DataError(
        f"rule line {node.line}: row {row + 1:,} of the spells {error.problem} (columns: {columns})",
        hint="correct the extract, or read it with rfd_lib's reader, which reports such values"
        if error.to_number
        else None,
    )


def _constants(node: ir.Predicate) -> list[ir.LiteralValue]:
    """Return the constants ``node`` compares, directly or as an ISNULL/COALESCE argument.

    Constants inside other functions or sub-conditions are not included.
    """
    match node:
        case ir.Comparison(_, left, right):
            operands = [left, right]
        case ir.Between(subject, low, high):
            operands = [subject, low, high]
        case ir.InList(subject, items):
            operands = [subject, *items]
        case _:
            operands = []
    return [constant for operand in operands for constant in _operand_constants(operand)]


def _operand_constants(operand: ir.Value) -> list[ir.LiteralValue]:
    if isinstance(operand, ir.Literal):
        return [operand.value]
    if isinstance(operand, ir.Coalesce):
        return [constant for arg in operand.args for constant in _operand_constants(arg)]
    return []


def _evaluate(node: ir.Predicate, spells: Spells, rows: Rows) -> Truth:
    match node:
        case ir.And(operands) | ir.Or(operands):
            return _connective(isinstance(node, ir.And), operands, spells, rows)
        case ir.Not(operand):
            return evaluate(operand, spells, rows).negate()
        case ir.Comparison(op, left, right):
            return _from_arrow(sqlserver.compare(op, value(left, spells, rows), value(right, spells, rows)))
        case ir.Between(subject, low, high):
            subject_values = value(subject, spells, rows)
            above = _from_arrow(sqlserver.compare(">=", subject_values, value(low, spells, rows)))
            below = _from_arrow(sqlserver.compare("<=", subject_values, value(high, spells, rows)))
            return _and(above, below)
        case ir.IsNull(subject):
            nulls = sqlserver.null_mask(value(subject, spells, rows))
            return Truth(nulls, np.zeros_like(nulls))
        case ir.InList(subject, items):
            return Truth(*sqlserver.is_in(value(subject, spells, rows), [i.value for i in items]))
        case ir.Like(subject, pattern):
            return Truth(*sqlserver.like(value(subject, spells, rows), pattern))
    raise AssertionError(f"the compiler let through {type(node).__name__}")


def value(node: ir.Value, spells: Spells, rows: Rows) -> pa.Array:
    """Return the values of value-node ``node`` on ``rows`` of ``spells``."""
    match node:
        case ir.Column(name):
            return spells.get(name, rows)
        case ir.Literal(constant):
            return _constant(constant, count(spells, rows))
        case ir.Function(name, arg, params):
            return sqlserver.apply_function(name, value(arg, spells, rows), params)
        case ir.Coalesce(args, isnull):
            return sqlserver.coalesce([value(arg, spells, rows) for arg in args], isnull)
    raise AssertionError(f"the compiler let through {type(node).__name__}")


def _constant(constant: ir.LiteralValue, size: int) -> pa.Array:
    if constant is None:
        return pa.nulls(size, pa.large_string())
    if isinstance(constant, str):
        return pa.repeat(pa.scalar(constant, pa.large_string()), size)
    if isinstance(constant, int):
        return pa.repeat(pa.scalar(constant, pa.int64()), size)
    return pa.repeat(pa.scalar(float(constant), pa.float64()), size)


def _from_arrow(result: pa.Array) -> Truth:
    return Truth(*sqlserver.truth_masks(result))


def _and(left: Truth, right: Truth) -> Truth:
    false = left.false | right.false
    null = (left.null | right.null) & ~false
    return Truth(~false & ~null, null)


def _connective(is_and: bool, operands: tuple[ir.Predicate, ...], spells: Spells, rows: Rows) -> Truth:
    """Evaluate AND / OR, each operand only on the rows it can still decide."""
    size = count(spells, rows)
    decided = np.zeros(size, dtype=bool)  # rows already FALSE (for AND) or TRUE (for OR)
    unknown = np.zeros(size, dtype=bool)
    open_rows: np.ndarray | None = None  # positions within `rows`; None means all of them
    for operand in operands:
        subset = rows if open_rows is None else (open_rows if rows is None else rows[open_rows])
        truth = evaluate(operand, spells, subset)
        settles = truth.false if is_and else truth.true
        where = slice(None) if open_rows is None else open_rows
        decided[where] |= settles
        unknown[where] |= truth.null
        open_rows = np.flatnonzero(~decided)
        if not open_rows.size:
            break
    unknown &= ~decided
    settled_value = ~decided if is_and else decided
    return Truth(settled_value & ~unknown, unknown)


def plan(node: ir.Predicate, spells: Spells) -> ir.Predicate:
    """Return ``node`` with every AND's operands most-selective first and every OR's most-likely first.

    Selectivity is the share of TRUE on an evenly spaced sample of at most SAMPLE_SIZE spells;
    ties keep the published order, and so does a node whose sample holds an unconvertible value.
    """
    sample = sample_rows(spells)
    return _reorder(node, spells, sample) if sample.size else node


def sample_rows(spells: Spells) -> np.ndarray:
    """Return the positions of an evenly spaced sample of at most SAMPLE_SIZE spells."""
    return np.unique(np.linspace(0, spells.size - 1, min(spells.size, SAMPLE_SIZE)).astype(np.int64))


def _reorder(node: ir.Predicate, spells: Spells, sample: np.ndarray) -> ir.Predicate:
    match node:
        case ir.And(operands) | ir.Or(operands):
            children = [_reorder(operand, spells, sample) for operand in operands]
            try:
                rates = [evaluate(child, spells, sample).true.sum() for child in children]
            except DataError:
                # A value SQL Server could not convert: the sample must not decide whether the run
                # stops, so keep the published order and let evaluation meet it (or not) as it would.
                return dataclasses.replace(node, operands=tuple(children))
            sign = 1 if isinstance(node, ir.And) else -1
            order = sorted(range(len(children)), key=lambda i: (sign * rates[i], i))
            return dataclasses.replace(node, operands=tuple(children[i] for i in order))
        case ir.Not(operand):
            return dataclasses.replace(node, operand=_reorder(operand, spells, sample))
    return node

"""The expression tree a rule compiles to: the small subset of T-SQL that rule files may use.

Nodes are immutable. Value nodes (:class:`Column`, :class:`Literal`, :class:`Function`,
:class:`Coalesce`) evaluate to a column of text or numbers; predicate nodes evaluate to SQL's
three-valued TRUE / FALSE / UNKNOWN. ``line`` is the node's line in the rule file, for errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from rfd_lib.engine.like import LikePattern

LiteralValue = str | int | Decimal | None


@dataclass(frozen=True)
class Column:
    """A column of the spells, by the name the SQL uses (any table alias dropped)."""

    name: str
    line: int


@dataclass(frozen=True)
class Literal:
    """A constant: text, an integer, a decimal, or NULL."""

    value: LiteralValue
    line: int


@dataclass(frozen=True)
class Function:
    """LEFT, RIGHT, SUBSTRING, UPPER, LTRIM, RTRIM or LEN of ``arg``; ``params`` are its integer arguments."""

    name: str
    arg: Value
    params: tuple[int, ...]
    line: int


@dataclass(frozen=True)
class Coalesce:
    """COALESCE(…) or ISNULL(a, b): the first argument that is not NULL.

    ``isnull`` records which: SQL Server types ISNULL by its first argument, COALESCE by precedence.
    """

    args: tuple[Value, ...]
    isnull: bool
    line: int


@dataclass(frozen=True)
class Comparison:
    """``left <op> right`` with op one of ``=``, ``<>``, ``<``, ``<=``, ``>``, ``>=``."""

    op: str
    left: Value
    right: Value
    line: int


@dataclass(frozen=True)
class Like:
    """``value LIKE pattern`` (NOT LIKE is :class:`Not` of this)."""

    value: Value
    pattern: LikePattern
    line: int


@dataclass(frozen=True)
class InList:
    """``value IN (items…)`` (NOT IN is :class:`Not` of this)."""

    value: Value
    items: tuple[Literal, ...]
    line: int


@dataclass(frozen=True)
class Between:
    """``value BETWEEN low AND high``, both ends included."""

    value: Value
    low: Value
    high: Value
    line: int


@dataclass(frozen=True)
class IsNull:
    """``value IS NULL`` (IS NOT NULL is :class:`Not` of this)."""

    value: Value
    line: int


@dataclass(frozen=True)
class Not:
    """``NOT operand``."""

    operand: Predicate
    line: int


@dataclass(frozen=True)
class And:
    """``a AND b AND …``; the evaluator may reorder operands (it cannot change the result)."""

    operands: tuple[Predicate, ...]
    line: int


@dataclass(frozen=True)
class Or:
    """``a OR b OR …``; the evaluator may reorder operands (it cannot change the result)."""

    operands: tuple[Predicate, ...]
    line: int


Value = Column | Literal | Function | Coalesce
Predicate = Comparison | Like | InList | Between | IsNull | Not | And | Or


def columns_of(node: Value | Predicate) -> list[str]:
    """Return the column names ``node`` reads, in order of first appearance."""
    found: list[str] = []
    stack: list[object] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, Column):
            if current.name not in found:
                found.append(current.name)
        elif isinstance(current, tuple):
            stack.extend(reversed(current))
        elif hasattr(current, "__dataclass_fields__"):
            stack.extend(reversed([getattr(current, f) for f in current.__dataclass_fields__]))
    return found

"""A pre-filter: a cheap test that keeps every spell a rule's scope (and the audit) could use.

:func:`rule_prefilter` derives it from a compiled rule's scope criteria — the expression trees
the compiler builds from sqlglot's tree of the published SQL and the evaluator runs — never from
a list typed by hand. A :class:`Prefilter` is a disjunction of clauses, each a conjunction of
:class:`Contains` conditions: "the column, upper-cased and with its dots removed, contains one of
these stems". It is used three ways, all meaning the same: :meth:`Prefilter.mask` over a pandas
DataFrame or an Arrow table of raw text columns, :meth:`Prefilter.where` as a sqlglot condition
(T-SQL with :meth:`Prefilter.where_sql`) over an extract's own column names, and (later) as a
Spark Column expression built the same way.

Why it is a superset (it never drops a spell the exact evaluation makes TRUE)
----------------------------------------------------------------------------
For a predicate P, :func:`necessary` returns a condition N such that P TRUE implies N TRUE on
the same spell — or None, "no condition found", which keeps every spell:

* ``f(column) LIKE pattern``, f a chain of LEFT, RIGHT, SUBSTRING, LTRIM, RTRIM and UPPER: a
  match means the upper-cased value of f(column) holds one of the pattern's stems
  (:func:`rfd_lib.engine.like.stems`); each of those functions returns a piece of its argument
  (UPPER maps each character to one character), so the upper-cased column holds it too;
* ``f(column) IN ('a', …)`` and ``f(column) = 'a'`` with text constants none of which SQL Server
  could convert to a number: TRUE means f(column) equals one of them ignoring case and trailing
  blanks (a number column would stop on the conversion, and count nothing), so the upper-cased
  column holds one of them, blanks trimmed;
* ISNULL / COALESCE of such columns: the value is one of theirs, so one of them holds a stem;
  a constant among the arguments gives None;
* ``A AND B``: both are TRUE, so each one's condition holds, and so does their conjunction;
* ``A OR B``: one is TRUE, so the disjunction of their conditions holds; None if either is None;
* anything else — NOT, NOT LIKE, IS [NOT] NULL, BETWEEN, ``<``, ``<>``, LEN, a comparison of
  numbers — gives None.

Removing every dot from the value and from the stems keeps containment (``V48.5`` still holds
``V485`` afterwards), so the pre-filter also keeps dotted codes, which the rule does not count:
a superset may keep more. Where the scope yields None, the pre-filter keeps every spell
(``keep_all``) and says which criterion made it so. Characters are compared after the upper
casing the evaluator itself uses; SQL Server's collation expansions are outside rfd_lib's
evaluation too (README, "known limits"), and a LIKE range never feeds a stem.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from rfd_lib.engine import expressions as ir
from rfd_lib.engine.like import stems
from rfd_lib.engine.rule import Rule, load_rule
from rfd_lib.engine.sqlserver import converts_to_number
from rfd_lib.errors import ColumnError

# Functions whose text is a piece of their argument's (UPPER: the same characters upper-cased).
_PIECE_OF_ARGUMENT = frozenset({"LEFT", "RIGHT", "SUBSTRING", "LTRIM", "RTRIM", "UPPER"})
# A conjunction of two disjunctions multiplies out; beyond this many clauses keep one side only.
MAX_CLAUSES = 16
# Stems written as LIKE '%…%' in SQL (readable); any other character uses CHARINDEX, which has no
# wildcards to escape and means the same in every dialect sqlglot writes.
_PLAIN_STEM = re.compile(r"^[A-Z0-9 ,|]+$")


@dataclass(frozen=True)
class Contains:
    """``column``, upper-cased with its dots removed, contains one of ``stems`` (NULL: it does not)."""

    column: str
    stems: tuple[str, ...]

    def implies(self, other: Contains) -> bool:
        """Return whether every value this condition keeps is kept by ``other`` too."""
        return self.column == other.column and all(
            any(wanted in stem for wanted in other.stems) for stem in self.stems
        )


Clause = tuple[Contains, ...]  # all of its conditions hold


@dataclass(frozen=True)
class Prefilter:
    """Keep a spell where any clause holds (a clause holds where all its conditions do).

    ``keep_all`` keeps every spell: no condition could be derived, and ``why`` says what stood in
    the way. Build one with :func:`rule_prefilter` and :meth:`union`.
    """

    clauses: tuple[Clause, ...] = ()
    keep_all: bool = False
    why: str = ""

    def __post_init__(self) -> None:
        if not self.keep_all and not self.clauses:
            raise ValueError("a pre-filter that keeps nothing is never derived: give clauses or keep_all")

    @property
    def columns(self) -> tuple[str, ...]:
        """Return the canonical columns the pre-filter reads, in order of first use."""
        seen = dict.fromkeys(c.column for clause in self.clauses for c in clause)
        return () if self.keep_all else tuple(seen)

    @property
    def stems(self) -> dict[str, tuple[str, ...]]:
        """Return, per column read, every stem looked for in it (sorted)."""
        found: dict[str, set[str]] = {}
        for clause in () if self.keep_all else self.clauses:
            for condition in clause:
                found.setdefault(condition.column, set()).update(condition.stems)
        return {column: tuple(sorted(values)) for column, values in found.items()}

    def union(self, other: Prefilter) -> Prefilter:
        """Return the pre-filter keeping what either keeps."""
        if self.keep_all or other.keep_all:
            return Prefilter(keep_all=True, why=self.why or other.why)
        return Prefilter(_simplify(self.clauses + other.clauses))

    def mask(self, data: pd.DataFrame | pa.Table, names: Mapping[str, str] | None = None) -> np.ndarray:
        """Return a boolean array, one per row of ``data``: True where the pre-filter keeps the row.

        ``data`` holds raw columns (text; a whole-number column is read as its digits, any other
        type keeps every row); ``names`` maps a canonical column to ``data``'s name for it (an
        extract's, through its profile), matched ignoring case; unnamed columns are looked up
        under their canonical names. Raises ColumnError for a column ``data`` does not have.
        """
        size = data.num_rows if isinstance(data, pa.Table) else len(data)
        if self.keep_all:
            return np.ones(size, dtype=bool)
        values = {column: _raw_column(data, _resolve(data, column, names)) for column in self.columns}
        folded: dict[str, pa.Array] = {}
        kept = np.zeros(size, dtype=bool)
        for clause in self.clauses:
            # A condition looks at the rows every one before it in its clause held on (the column
            # with the fewest bytes first: a primary code before the list of them all); a few
            # rows are looked at alone, many through the whole column, folded once.
            rows = np.arange(size)
            for condition in sorted(clause, key=lambda c: _bytes(values[c.column])):
                column = values[condition.column]
                if column is None:
                    continue  # a column of another type: every row holds on it
                if len(rows) * 4 < size:
                    held = _contains(_folded(column.take(rows)), condition.stems)
                else:
                    if condition.column not in folded:
                        folded[condition.column] = _folded(column)
                    held = _contains(folded[condition.column], condition.stems)[rows]
                rows = rows[held]
            kept[rows] = True
        return kept

    def where(self, names: Mapping[str, str] | None = None) -> exp.Expression | None:
        """Return the pre-filter as a sqlglot condition over the columns ``names`` gives (None: keep all).

        Each condition is ``UPPER(REPLACE(column, '.', '')) LIKE '%STEM%'`` (``CHARINDEX`` for a
        stem with characters LIKE treats specially), the clauses joined with OR and AND: a NULL
        column makes a condition UNKNOWN, which a WHERE clause does not keep, as :meth:`mask`
        does not. Column names are quoted identifiers.
        """
        if self.keep_all:
            return None
        names = names or {}

        def column(canonical: str) -> exp.Column:
            return exp.column(names.get(canonical, canonical), quoted=True)

        clauses = [exp.and_(*(_condition_sql(column(c.column), c) for c in one)) for one in self.clauses]
        return exp.or_(*clauses) if len(clauses) > 1 else clauses[0]

    def where_sql(self, names: Mapping[str, str] | None = None, dialect: str = "tsql") -> str | None:
        """Return :meth:`where` as SQL text of ``dialect`` (T-SQL by default), or None to keep all."""
        condition = self.where(names)
        return None if condition is None else condition.sql(dialect=dialect)


def rule_prefilter(rule: Rule | str = "2K_RFD_back") -> Prefilter:
    """Return the pre-filter that keeps every spell meeting the rule's scope criteria (a superset).

    ``keep_all`` when no scope criterion gives a condition (see the module's docstring).
    """
    compiled = load_rule(rule)
    found = [(criterion, necessary(criterion.expression)) for criterion in compiled.scope]
    usable = [clauses for _, clauses in found if clauses is not None]
    if not usable:
        names = "; ".join(criterion.name for criterion, _ in found)
        return Prefilter(keep_all=True, why=f"rule {compiled.name}: no code condition in its scope ({names})")
    return Prefilter(_conjunction(usable))


def necessary(node: ir.Predicate) -> tuple[Clause, ...] | None:
    """Return clauses (a disjunction) one of which holds wherever ``node`` is TRUE, or None."""
    match node:
        case ir.Like(subject, pattern):
            return _single(subject, _clean(stems(pattern.pattern)))
        case ir.InList(subject, items):
            return _single(subject, _equal_stems([item.value for item in items]))
        case ir.Comparison("=", left, right):
            if isinstance(right, ir.Literal):
                return _single(left, _equal_stems([right.value]))
            if isinstance(left, ir.Literal):
                return _single(right, _equal_stems([left.value]))
            return None
        case ir.And(operands):
            usable = [c for c in (necessary(operand) for operand in operands) if c is not None]
            return _conjunction(usable) if usable else None
        case ir.Or(operands):
            parts = [necessary(operand) for operand in operands]
            if any(part is None for part in parts):
                return None
            return _simplify(tuple(itertools.chain.from_iterable(p for p in parts if p is not None)))
    return None


def _single(subject: ir.Value, wanted: tuple[str, ...]) -> tuple[Clause, ...] | None:
    """Return one single-condition clause per column ``subject``'s text can come from."""
    columns = _source_columns(subject)
    if not wanted or columns is None:
        return None
    return _simplify(tuple((Contains(column, wanted),) for column in columns))


def _source_columns(subject: ir.Value) -> list[str] | None:
    """Return the columns whose text holds ``subject``'s (a piece of one of them), or None."""
    match subject:
        case ir.Column(name):
            return [name]
        case ir.Function(name, arg) if name in _PIECE_OF_ARGUMENT:
            return _source_columns(arg)
        case ir.Coalesce(args):
            found = [_source_columns(arg) for arg in args]
            if any(columns is None for columns in found):
                return None
            return list(dict.fromkeys(c for columns in found if columns is not None for c in columns))
    return None


def _equal_stems(items: list[ir.LiteralValue]) -> tuple[str, ...]:
    """Return the stems of an equality with ``items``: () unless all are text no number could equal."""
    present = [item for item in items if item is not None]
    if not present or not all(isinstance(item, str) and not converts_to_number(item) for item in present):
        return ()
    return _clean(tuple(str(item).upper() for item in present))


def _clean(found: tuple[str, ...]) -> tuple[str, ...]:
    """Return stems with dots removed and end blanks trimmed; () if any is left empty.

    Trimming leaves a piece of the stem, so containment still follows; an empty stem would
    say nothing, so it says nothing for the whole list.
    """
    cleaned = [stem.replace(".", "").strip(" ") for stem in found]
    if not cleaned or any(not stem for stem in cleaned):
        return ()
    return tuple(sorted(set(cleaned)))


def _conjunction(parts: list[tuple[Clause, ...]]) -> tuple[Clause, ...]:
    """Return the disjunction of clauses equivalent to AND of ``parts`` (or the narrowest part alone).

    AND of disjunctions multiplies out; past MAX_CLAUSES the part with fewest clauses is kept alone,
    still a necessary condition, only a wider one.
    """
    if np.prod([len(part) for part in parts]) > MAX_CLAUSES:
        return min(parts, key=len)
    product = tuple(
        tuple(dict.fromkeys(itertools.chain.from_iterable(choice))) for choice in itertools.product(*parts)
    )
    return _simplify(product)


def _simplify(clauses: tuple[Clause, ...]) -> tuple[Clause, ...]:
    """Return ``clauses`` without those another clause already keeps, like clauses merged.

    Two clauses that differ only in one condition on the same column become one with both
    conditions' stems (``(P∋a ∧ S) ∨ (P∋b ∧ S)`` is ``P∋{a,b} ∧ S``). Neither step changes
    which spells are kept.
    """
    merged = list(dict.fromkeys(tuple(sorted(set(clause), key=_order)) for clause in clauses))
    while True:
        merged = [
            clause
            for index, clause in enumerate(merged)
            if not any(_clause_implies(clause, other) for other in merged[:index] + merged[index + 1 :])
        ]
        pair = next(
            (
                (first, second, joined)
                for first, second in itertools.combinations(range(len(merged)), 2)
                if (joined := _merge(merged[first], merged[second])) is not None
            ),
            None,
        )
        if pair is None:
            return tuple(merged)
        first, second, joined = pair
        merged[first] = joined
        del merged[second]


def _order(condition: Contains) -> tuple[str, tuple[str, ...]]:
    return condition.column, condition.stems


def _merge(one: Clause, other: Clause) -> Clause | None:
    """Return the merge of two clauses differing in one same-column condition, or None."""
    if len(one) != len(other):
        return None
    differing = [(a, b) for a, b in zip(one, other, strict=True) if a != b]
    if len(differing) != 1 or differing[0][0].column != differing[0][1].column:
        return None
    a, b = differing[0]
    joined = Contains(a.column, tuple(sorted(set(a.stems) | set(b.stems))))
    return tuple(sorted([joined if c == a else c for c in one], key=_order))


def _clause_implies(clause: Clause, other: Clause) -> bool:
    """Return whether ``clause`` holding means ``other`` holds (each of other's conditions follows)."""
    return all(any(mine.implies(theirs) for mine in clause) for theirs in other)


def _resolve(data: pd.DataFrame | pa.Table, column: str, names: Mapping[str, str] | None) -> str:
    """Return the name ``data`` gives canonical ``column`` (matched ignoring case and blanks)."""
    wanted = (names or {}).get(column, column)
    present = [str(name) for name in (data.column_names if isinstance(data, pa.Table) else data.columns)]
    for name in present:
        if name.strip().casefold() == wanted.strip().casefold():
            return name
    raise ColumnError(
        f"the spells have no column {wanted!r}, which the pre-filter reads"
        + (f" (the rule's {column})" if wanted != column else ""),
        hint="pass the extract's names for the rule's columns (its column profile)",
    )


def _raw_column(data: pd.DataFrame | pa.Table, name: str) -> pa.Array | None:
    """Return a column as Arrow text (a whole number as its digits); None where it is not text."""
    values = data.column(name) if isinstance(data, pa.Table) else pa.array(data[name], from_pandas=True)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    if pa.types.is_integer(values.type) or pa.types.is_null(values.type):
        return values.cast(pa.large_string())
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        return None  # a column of another type: keep every row rather than guess its text
    return values


def _bytes(values: pa.Array | None) -> int:
    return 0 if values is None else values.nbytes


def _folded(values: pa.Array) -> pa.Array:
    """Return text as the pre-filter compares it: upper case, without dots."""
    return pc.utf8_upper(pc.replace_substring(values, ".", ""))


def _contains(values: pa.Array, wanted: tuple[str, ...]) -> np.ndarray:
    """Return where folded ``values`` hold one of ``wanted`` (NULL: False)."""
    # One plain search per stem is far quicker than one regular expression of them all.
    hit = np.zeros(len(values), dtype=bool)
    for stem in wanted:
        found = pc.fill_null(pc.match_substring(values, stem), False)
        hit |= np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)
    return hit


def _condition_sql(column: exp.Column, condition: Contains) -> exp.Expression:
    """Return ``condition`` on ``column`` as SQL: one test per stem, joined by OR."""
    folded = exp.Upper(this=exp.func("REPLACE", column, exp.Literal.string("."), exp.Literal.string("")))
    tests: list[exp.Expression] = []
    for stem in condition.stems:
        if _PLAIN_STEM.match(stem):
            tests.append(exp.Like(this=folded.copy(), expression=exp.Literal.string(f"%{stem}%")))
        else:
            position = exp.StrPosition(this=folded.copy(), substr=exp.Literal.string(stem))
            tests.append(exp.GT(this=position, expression=exp.Literal.number(0)))
    return exp.paren(exp.or_(*tests)) if len(tests) > 1 else tests[0]

"""Compile a rule file's WHEN and WHERE fragments into expression trees, one per criterion.

sqlglot's T-SQL dialect parses the text; this module turns its tree into :mod:`rfd_lib.engine.expressions`.

A *criterion* is a top-level conjunct of the WHEN or of the WHERE clause, as the published text
groups it: ``(A AND (B OR C)) AND D`` has two criteria, ``(A AND (B OR C))`` and ``D``. A criterion
is named by the ``--`` comment just before it, else by its own SQL. The ``1=1`` idiom that opens a
WHERE clause is not a criterion.

Only the constructs listed in ``SUPPORTED`` compile; anything else raises :class:`RuleError`
naming the construct and its line, when the rule is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from rfd_lib.engine import expressions as ir
from rfd_lib.engine.like import LikePatternError, compile_like
from rfd_lib.engine.rule_file import RuleText
from rfd_lib.errors import RuleError

SUPPORTED = (
    "AND, OR, NOT, parentheses; LIKE / NOT LIKE with a quoted pattern; IN / NOT IN a list of "
    "constants; BETWEEN; =, <>, <, <=, >, >=; IS [NOT] NULL; ISNULL, COALESCE; LEFT, RIGHT, "
    "SUBSTRING, UPPER, LTRIM, RTRIM, LEN; column names with or without a table alias; -- comments"
)

_COMPARISONS = {exp.EQ: "=", exp.NEQ: "<>", exp.LT: "<", exp.LTE: "<=", exp.GT: ">", exp.GTE: ">="}
_TEXT_FUNCTIONS = {exp.Upper: "UPPER", exp.Length: "LEN"}


@dataclass(frozen=True)
class Criterion:
    """One criterion: its name, the clause it came from, its SQL, line and expression tree."""

    name: str
    section: str
    sql: str
    line: int
    expression: ir.Predicate


def compile_rule(text: RuleText) -> list[Criterion]:
    """Return the criteria of the rule text, WHEN's first then WHERE's, in published order."""
    when_sql = "SELECT CASE " + _keep_lines(text.text, *text.when) + " END"
    when_tree = _parse(text, when_sql)
    case = when_tree.expressions[0] if len(when_tree.expressions) == 1 else None
    if not isinstance(case, exp.Case) or len(case.args.get("ifs") or []) != 1 or case.args.get("default"):
        raise RuleError(f"{text.path}: the WHEN clause must be a single WHEN … THEN '<category>'")
    criteria = _criteria(text, "WHEN", case.args["ifs"][0].this)
    if text.where is not None:
        where_tree = _parse(text, "SELECT 1 " + _keep_lines(text.text, *text.where))
        _refuse_extra_clauses(text, where_tree)
        criteria += _criteria(text, "WHERE", where_tree.args["where"].this)
    return criteria


def _keep_lines(source: str, start: int, end: int) -> str:
    """Return ``source[start:end]`` preceded by blanks that keep every line number as in the file."""
    return "".join("\n" if ch == "\n" else " " for ch in source[:start]) + source[start:end]


def _parse(text: RuleText, sql: str) -> exp.Select:
    try:
        tree = sqlglot.parse_one(sql, read="tsql")
    except ParseError as error:
        first = error.errors[0] if error.errors else {}
        where = f":{first['line']}" if first.get("line") else ""
        detail = first.get("description") or str(error)
        raise RuleError(f"{text.path}{where}: cannot parse the SQL: {detail}".replace("\n", " ")) from error
    if not isinstance(tree, exp.Select):
        raise RuleError(f"{text.path}: cannot parse the SQL as a WHEN or WHERE clause")
    return tree


def _refuse_extra_clauses(text: RuleText, tree: exp.Select) -> None:
    extra = [key for key, value in tree.args.items() if value and key not in ("expressions", "where")]
    if extra:
        raise RuleError(f"{text.path}: unsupported SQL after the WHERE condition: {extra[0].upper()}")


def _criteria(text: RuleText, section: str, condition: exp.Expression) -> list[Criterion]:
    """Split ``condition`` at its top-level ANDs and compile each part into a criterion."""
    conjuncts: list[tuple[exp.Expression, list[str]]] = []
    node = condition
    # sqlglot builds a left-deep chain and hangs a '-- comment' on the AND just after it.
    while isinstance(node, exp.And):
        conjuncts.append((node.expression, list(node.comments or []) + list(node.expression.comments or [])))
        node = node.this
    conjuncts.append((node, list(node.comments or []) or [text.leading_comments.get(section, "")]))
    conjuncts.reverse()
    compiler = _Compiler(text)
    criteria = []
    for conjunct, comments in conjuncts:
        expression = compiler.predicate(conjunct)
        if _is_true_constant(conjunct):
            continue
        sql = _render(conjunct)
        name = " ".join(c.strip() for c in comments if c.strip()) or sql
        criteria.append(Criterion(name, section, sql, _line(conjunct), expression))
    return criteria


def _is_true_constant(node: exp.Expression) -> bool:
    """Return whether ``node`` is ``n = n`` for a number n (the ``WHERE 1=1`` idiom)."""
    return (
        isinstance(node, exp.EQ)
        and isinstance(node.this, exp.Literal)
        and isinstance(node.expression, exp.Literal)
        and not node.this.is_string
        and not node.expression.is_string
        and Decimal(node.this.name) == Decimal(node.expression.name)
    )


def _render(node: exp.Expression) -> str:
    """Return the SQL of ``node`` as sqlglot prints it, without its outer parentheses."""
    while isinstance(node, exp.Paren):
        node = node.this
    plain = node.copy().transform(lambda n: n.this if _is_implicit_cast(n) else n)
    return plain.sql(dialect="tsql")


def _is_implicit_cast(node: exp.Expression) -> bool:
    """Sqlglot wraps the argument of LEFT/RIGHT/LEN in CAST(… AS TEXT); the rule did not write it."""
    return (
        isinstance(node, exp.Cast)
        and isinstance(node.parent, (exp.Left, exp.Right, exp.Length))
        and node.to.is_type(exp.DataType.Type.TEXT)
    )


def _line(node: exp.Expression) -> int:
    """Return the line where ``node`` starts, from the positions sqlglot kept for its tokens."""
    positions = [n.meta for n in node.walk() if n.meta.get("line")]
    if not positions:
        return 0
    return min(positions, key=lambda meta: meta.get("start", 0))["line"]


class _Compiler:
    """Translate sqlglot nodes into expression-tree nodes, refusing what is not supported."""

    def __init__(self, text: RuleText) -> None:
        self.text = text

    def refuse(self, node: exp.Expression, why: str = "unsupported SQL") -> RuleError:
        sql = _render(node)
        shown = sql if len(sql) <= 60 else sql[:57] + "…"
        return RuleError(
            f"{self.text.path}:{_line(node)}: {why}: {shown} ({type(node).__name__})",
            hint=f"rule files may use {SUPPORTED}",
        )

    def predicate(self, node: exp.Expression) -> ir.Predicate:
        line = _line(node)
        if isinstance(node, exp.Paren):
            return self.predicate(node.this)
        if isinstance(node, (exp.And, exp.Or)):
            operands = tuple(self.predicate(part) for part in node.flatten())
            return ir.And(operands, line) if isinstance(node, exp.And) else ir.Or(operands, line)
        if isinstance(node, exp.Not):
            return ir.Not(self.predicate(node.this), line)
        if type(node) in _COMPARISONS:
            op = _COMPARISONS[type(node)]
            return ir.Comparison(op, self.value(node.this), self.value(node.expression), line)
        if isinstance(node, exp.Like):
            return self._negated(node, self._like(node), line)
        if isinstance(node, exp.In):
            if node.args.get("query") or node.args.get("unnest") or node.args.get("field"):
                raise self.refuse(node, "IN takes a list of constants, not a query")
            items = tuple(self.literal(item) for item in node.expressions)
            return self._negated(node, ir.InList(self.value(node.this), items, line), line)
        if isinstance(node, exp.Between):
            between = ir.Between(
                self.value(node.this), self.value(node.args["low"]), self.value(node.args["high"]), line
            )
            return self._negated(node, between, line)
        if isinstance(node, exp.Is):
            if not isinstance(node.expression, exp.Null):
                raise self.refuse(node, "IS is only supported as IS NULL / IS NOT NULL")
            return self._negated(node, ir.IsNull(self.value(node.this), line), line)
        if isinstance(node, (exp.Column, exp.Literal, exp.Func)):
            raise self.refuse(node, "a value where a condition is expected")
        raise self.refuse(node)

    def _negated(self, node: exp.Expression, inner: ir.Predicate, line: int) -> ir.Predicate:
        return ir.Not(inner, line) if node.args.get("negate") else inner

    def _like(self, node: exp.Like) -> ir.Like:
        pattern = node.expression
        while isinstance(pattern, exp.Paren):
            pattern = pattern.this
        if not (isinstance(pattern, exp.Literal) and pattern.is_string):
            raise self.refuse(node, "a LIKE pattern must be a quoted string")
        try:
            compiled = compile_like(pattern.name)
        except LikePatternError as error:
            raise self.refuse(node, str(error)) from error
        return ir.Like(self.value(node.this), compiled, _line(node))

    def value(self, node: exp.Expression) -> ir.Value:
        line = _line(node)
        if isinstance(node, exp.Paren):
            return self.value(node.this)
        if _is_implicit_cast(node):
            return self.value(node.this)
        if isinstance(node, exp.Column):
            if not isinstance(node.this, exp.Identifier):
                raise self.refuse(node)
            return ir.Column(node.name, line)
        if isinstance(node, (exp.Literal, exp.Null, exp.Neg)):
            return self.literal(node)
        if isinstance(node, exp.Coalesce):
            args = tuple(self.value(arg) for arg in [node.this, *node.expressions])
            isnull = bool(node.args.get("is_null"))
            if isnull and len(args) != 2:
                raise self.refuse(node, "ISNULL takes exactly two arguments")
            return ir.Coalesce(args, isnull, line)
        if isinstance(node, (exp.Left, exp.Right)):
            name = "LEFT" if isinstance(node, exp.Left) else "RIGHT"
            return ir.Function(name, self.value(node.this), (self.count(node, node.expression),), line)
        if isinstance(node, exp.Substring):
            start, length = node.args.get("start"), node.args.get("length")
            if start is None or length is None:
                raise self.refuse(node, "SUBSTRING takes three arguments")
            params = (self.integer(node, start), self.count(node, length))
            return ir.Function("SUBSTRING", self.value(node.this), params, line)
        if type(node) in _TEXT_FUNCTIONS:
            return ir.Function(_TEXT_FUNCTIONS[type(node)], self.value(node.this), (), line)
        if isinstance(node, exp.Trim):
            position = node.args.get("position")
            if node.expression is not None or position not in ("LEADING", "TRAILING"):
                raise self.refuse(node)
            name = "LTRIM" if position == "LEADING" else "RTRIM"
            return ir.Function(name, self.value(node.this), (), line)
        raise self.refuse(node)

    def literal(self, node: exp.Expression) -> ir.Literal:
        line = _line(node)
        while isinstance(node, exp.Paren):
            node = node.this
        if isinstance(node, exp.Null):
            return ir.Literal(None, line)
        sign = 1
        if isinstance(node, exp.Neg):
            sign, node = -1, node.this
        if isinstance(node, exp.Literal):
            if node.is_string:
                if sign < 0:
                    raise self.refuse(node, "a minus sign before text")
                return ir.Literal(node.name, line)
            number = Decimal(node.name) * sign
            return ir.Literal(
                int(number) if number == number.to_integral_value() and "." not in node.name else number, line
            )
        raise self.refuse(node, "a constant is expected here")

    def integer(self, owner: exp.Expression, node: exp.Expression) -> int:
        value = self.literal(node).value
        if not isinstance(value, int):
            raise self.refuse(owner, "the position and length arguments must be whole numbers")
        return value

    def count(self, owner: exp.Expression, node: exp.Expression) -> int:
        value = self.integer(owner, node)
        if value < 0:
            # SQL Server raises "Invalid length parameter" for this at run time.
            raise self.refuse(owner, "a negative length")
        return value

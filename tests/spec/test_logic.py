"""Three-valued logic: AND, OR, NOT, precedence and parentheses, as in SQL Server.

TRUE, FALSE and UNKNOWN are spelled ``t = 1``, ``f = 1`` and ``u = 1`` over columns holding 1, 0
and NULL.
"""

import pytest

from tests.spec.conftest import NULL_NUMBER

T, F, U = "t = 1", "f = 1", "u = 1"
COLUMNS = {"t": 1, "f": 0, "u": NULL_NUMBER}

AND = [
    # left  right  expected
    (T,     T,     True),
    (T,     F,     False),
    (T,     U,     None),
    (F,     T,     False),
    (F,     F,     False),
    (F,     U,     False),
    (U,     T,     None),
    (U,     F,     False),
    (U,     U,     None),
]  # fmt: skip

OR = [
    # left  right  expected
    (T,     T,     True),
    (T,     F,     True),
    (T,     U,     True),
    (F,     T,     True),
    (F,     F,     False),
    (F,     U,     None),
    (U,     T,     True),
    (U,     F,     None),
    (U,     U,     None),
]  # fmt: skip

NOT = [(T, False), (F, True), (U, None)]


@pytest.mark.parametrize(("left", "right", "expected"), AND)
def test_and(sql, left, right, expected):
    assert sql(f"{left} AND {right}", **COLUMNS) is expected


@pytest.mark.parametrize(("left", "right", "expected"), OR)
def test_or(sql, left, right, expected):
    assert sql(f"{left} OR {right}", **COLUMNS) is expected


@pytest.mark.parametrize(("operand", "expected"), NOT)
def test_not(sql, operand, expected):
    assert sql(f"NOT {operand}", **COLUMNS) is expected


PRECEDENCE = [
    # case                                          condition                              expected
    ("AND binds tighter than OR",                   f"{F} AND {F} OR {T}",                 True),
    ("parentheses override precedence",             f"{F} AND ({F} OR {T})",               False),
    ("the cancer-exclusion shape: A AND B OR C",    f"{F} AND {T} AND {T} OR {U}",         None),
    ("NOT binds tighter than AND",                  f"NOT {F} AND {F}",                    False),
    ("NOT of a parenthesised group",                f"NOT ({F} AND {F})",                  True),
    ("a comment inside a condition is ignored",     f"{T} -- a comment\nAND {T}",          True),
    ("long chains keep UNKNOWN unless one is FALSE", f"{T} AND {U} AND {T} AND {T}",       None),
    ("long chains are FALSE at any FALSE",          f"{U} AND {T} AND {T} AND {F}",        False),
]  # fmt: skip


@pytest.mark.parametrize(
    ("condition", "expected"), [c[1:] for c in PRECEDENCE], ids=[c[0] for c in PRECEDENCE]
)
def test_precedence(sql, condition, expected):
    assert sql(condition, **COLUMNS) is expected

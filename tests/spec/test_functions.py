"""LEFT, RIGHT, SUBSTRING, UPPER, LTRIM, RTRIM, LEN, ISNULL, COALESCE and column references."""

import pytest

from tests.spec.conftest import NULL_NUMBER

FUNCTIONS = [
    # case                                               condition                            values                                    expected
    ("LEFT takes the first characters",                  "LEFT(x, 4) = 'M545'",               {"x": "M5450"},                           True),
    ("LEFT of an X-padded code drops the X",             "LEFT(x, 4) = 'M545'",               {"x": "M545X"},                           True),
    ("LEFT of a short value is the whole value",         "LEFT(x, 4) = 'M54'",                {"x": "M54"},                             True),
    ("LEFT counts a leading blank",                      "LEFT(x, 4) = ' M54'",               {"x": " M545"},                           True),
    ("LEFT of a dotted code keeps the dot",              "LEFT(x, 4) = 'M54.'",               {"x": "M54.5"},                           True),
    ("LEFT(x, 0) is empty",                              "LEFT(x, 0) = ''",                   {"x": "M545"},                            True),
    ("LEFT of NULL is NULL",                             "LEFT(x, 4) IS NULL",                {"x": None},                              True),
    ("LEFT of an empty string is empty, not NULL",       "LEFT(x, 4) IS NULL",                {"x": ""},                                False),
    ("RIGHT takes the last characters",                  "RIGHT(x, 2) = '45'",                {"x": "M545"},                            True),
    ("RIGHT keeps trailing blanks (which = ignores)",     "RIGHT(x, 1) = ''",                  {"x": "M545 "},                           True),
    ("RIGHT of a short value is the whole value",        "RIGHT(x, 9) = 'M545'",              {"x": "M545"},                            True),
    ("RIGHT(x, 0) is empty",                             "LEN(RIGHT(x, 0)) = 0",              {"x": "M545"},                            True),
    ("RIGHT of NULL is NULL",                            "RIGHT(x, 2) IS NULL",               {"x": None},                              True),
    ("SUBSTRING counts from 1",                          "SUBSTRING(x, 2, 3) = '545'",        {"x": "M5450"},                           True),
    ("SUBSTRING from 0 counts position 0 in its length", "SUBSTRING(x, 0, 2) = 'M'",          {"x": "M545"},                            True),
    ("SUBSTRING past the end is empty",                  "SUBSTRING(x, 9, 2) = ''",           {"x": "M545"},                            True),
    ("SUBSTRING of NULL is NULL",                        "SUBSTRING(x, 1, 2) IS NULL",        {"x": None},                              True),
    ("UPPER changes nothing a CI comparison can see",    "UPPER(x) = 'm545'",                 {"x": "m545"},                            True),
    ("UPPER of NULL is NULL",                            "UPPER(x) IS NULL",                  {"x": None},                              True),
    ("LTRIM removes leading blanks",                     "LTRIM(x) LIKE '2%'",                {"x": "  21"},                            True),
    ("LTRIM keeps trailing blanks",                      "LEN(LTRIM(x)) = 2",                 {"x": " 21 "},                            True),
    ("RTRIM removes trailing blanks",                    "RIGHT(RTRIM(x), 1) = '1'",          {"x": "21  "},                            True),
    ("LTRIM of NULL is NULL",                            "LTRIM(x) IS NULL",                  {"x": None},                              True),
    ("LEN ignores trailing blanks",                      "LEN(x) = 4",                        {"x": "M545  "},                          True),
    ("LEN counts leading blanks",                        "LEN(x) = 5",                        {"x": " M545"},                           True),
    ("LEN of an empty string is 0",                      "LEN(x) = 0",                        {"x": ""},                                True),
    ("LEN of NULL is NULL",                              "LEN(x) IS NULL",                    {"x": None},                              True),
    ("LEN of a number counts its digits",                "LEN(n) = 3",                        {"n": 120},                               True),
    ("ISNULL takes its first argument when present",     "ISNULL(a, b) = 45",                 {"a": 45, "b": 999},                      True),
    ("ISNULL falls back to its second argument",         "ISNULL(a, b) = 999",                {"a": NULL_NUMBER, "b": 999},             True),
    ("ISNULL of two NULLs is NULL",                      "ISNULL(a, b) IS NULL",              {"a": NULL_NUMBER, "b": NULL_NUMBER},     True),
    ("ISNULL keeps an empty string",                     "ISNULL(x, 'fallback') = ''",        {"x": ""},                                True),
    ("ISNULL with a constant fallback",                  "ISNULL(x, 'none') = 'NONE'",        {"x": None},                              True),
    ("COALESCE takes the first non-NULL of many",        "COALESCE(a, b, c) = 3",             {"a": NULL_NUMBER, "b": NULL_NUMBER, "c": 3}, True),
    ("COALESCE of all NULLs is NULL",                    "COALESCE(a, b) IS NULL",            {"a": NULL_NUMBER, "b": NULL_NUMBER},     True),
    ("functions nest",                                   "LEFT(UPPER(LTRIM(x)), 4) IN ('M545')", {"x": "  m5450"},                      True),
    ("a table alias prefix is ignored",                  "APCS.x = 'a'",                      {"x": "a"},                               True),
    ("a table alias in any case",                        "apcs.x = 'a' AND Apcs.x = 'a'",     {"x": "a"},                               True),
    ("column names ignore case, as SQL Server's do",     "X = 'a'",                           {"x": "a"},                               True),
    ("a [bracketed] column name",                        "[x] = 'a'",                         {"x": "a"},                               True),
]  # fmt: skip


@pytest.mark.parametrize(
    ("condition", "values", "expected"), [c[1:] for c in FUNCTIONS], ids=[c[0] for c in FUNCTIONS]
)
def test_function(sql, condition, values, expected):
    assert sql(condition, **values) is expected

"""Translate a T-SQL ``LIKE`` pattern into an RE2 regular expression, with SQL Server's meaning.

SQL Server (``varchar`` data, default collation ``Latin1_General_CI_AS``) matches ``LIKE`` as follows,
and the regex returned here reproduces it when searched in the *upper-cased* value:

* ``%`` is any run of characters (none included), ``_`` exactly one character;
* ``[abc]`` one of the listed characters, ``[a-c]`` a range, ``[^abc]`` / ``[^a-c]`` none of them;
  ``[%]``, ``[_]`` and ``[[]`` stand for the literal character;
* comparison ignores case (so the pattern is upper-cased, and so is the value before matching);
* trailing blanks of the *value* are not significant: ``'M545  ' LIKE 'M545'`` is true; blanks in the
  pattern and leading blanks of the value are significant.

Worked examples (more in ``tests/spec/test_like.py``)::

    '%V48[57]%'  ->  'V48[57]'            searched anywhere; required literal '48'
    '2%'         ->  '^2'                 anchored at the start only
    'M54_'       ->  '^M54. *$'           one character, then only trailing blanks

Patterns whose SQL Server meaning depends on collation order rather than on the characters
written — a range other than digit-to-digit or letter-to-letter, a reversed range — and patterns
SQL Server itself reads in more than one way (an unclosed ``[``, an empty ``[]``) are refused
with :class:`LikePatternError`, so that a typo fails when the rule is loaded instead of silently
matching nothing.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

# Characters that upper-casing leaves alone and that have no case partner: a run of them in the
# pattern must appear verbatim in the raw value, so a case-sensitive substring search on it is an
# exact pre-filter that needs no upper-casing of the (large) column.
_CASELESS = frozenset(string.digits + string.punctuation + " ")


# A range inside a translated class, e.g. the 0-9 or A-Z of '[^0-9A-Z]'. _check_range admits only
# digit-to-digit and letter-to-letter ranges, and a literal hyphen is translated as '\-', so an
# unescaped hyphen between two such characters is always a range.
_RANGE = re.compile(r"[0-9A-Z]-[0-9A-Z]")


class LikePatternError(ValueError):
    """A LIKE pattern that SQL Server would read ambiguously or by collation order."""


@dataclass(frozen=True)
class LikePattern:
    """A compiled ``LIKE`` pattern.

    ``regex`` is searched (not full-matched) in the upper-cased value; ``required`` is a literal,
    made only of caseless characters, that every matching value contains (``""`` when the pattern
    has none), used as a cheap pre-filter. ``ascii_only`` is true when the pattern has a range
    (``x-y`` inside brackets, negated or not): SQL Server takes a range's members from collation
    order, which places accented letters inside a letter range (``'é' LIKE '[a-z]'``) and
    superscripts and fractions inside ``[0-9]`` (``'²' LIKE '[0-9]'``), so the evaluator refuses
    non-ASCII values for such a pattern rather than answer differently. A set without a range
    (``[57]``) does not set it.
    """

    pattern: str
    regex: str
    required: str
    ascii_only: bool


def compile_like(pattern: str) -> LikePattern:
    """Return the :class:`LikePattern` for a T-SQL ``LIKE`` pattern (raises LikePatternError)."""
    pieces, literal_runs = _translate(pattern)
    anchored_start = not pattern.startswith("%")
    anchored_end = not pattern.endswith("%")
    # A leading/trailing % is dropped: an unanchored search already allows any prefix/suffix.
    while pieces and pieces[0] == ".*":
        pieces.pop(0)
    while pieces and pieces[-1] == ".*":
        pieces.pop()
    body = "".join(pieces)
    regex = "(?s)" + ("^" if anchored_start else "") + body + (" *$" if anchored_end else "")
    return LikePattern(
        pattern=pattern,
        regex=regex,
        required=_longest_caseless(literal_runs),
        ascii_only=any(_RANGE.search(piece) for piece in pieces if piece.startswith("[")),
    )


def _translate(pattern: str) -> tuple[list[str], list[str]]:
    """Return the regex pieces of ``pattern`` and its runs of literal characters."""
    pieces: list[str] = []
    runs: list[str] = []
    run = ""
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "[":
            close = pattern.find("]", i + 1)
            if close == -1:
                raise LikePatternError(f"unclosed '[' at position {i + 1} of LIKE pattern {pattern!r}")
            body = pattern[i + 1 : close]
            # '[%]', '[_]', '[[]' and other one-character classes are literal characters.
            if len(body) == 1 and body != "^":
                run += body.upper()
                pieces.append(_escape(_upper_one(body, pattern)))
            else:
                runs.append(run)
                run = ""
                pieces.append(_character_class(body, pattern))
            i = close + 1
            continue
        if char in "%_":
            runs.append(run)
            run = ""
            if char == "_":
                pieces.append(".")
            elif not pieces or pieces[-1] != ".*":
                pieces.append(".*")
        else:
            upper = _upper_one(char, pattern)
            run += upper
            pieces.append(_escape(upper))
        i += 1
    runs.append(run)
    return pieces, runs


def _character_class(body: str, pattern: str) -> str:
    """Return the RE2 class for the inside of a T-SQL ``[...]`` (without the brackets)."""
    negate = body.startswith("^")
    if negate:
        body = body[1:]
    if not body:
        raise LikePatternError(
            f"empty character class '[{'^' if negate else ''}]' in LIKE pattern {pattern!r}"
        )
    members: list[str] = []
    i = 0
    while i < len(body):
        # A '-' first or last in the class is a literal hyphen, as in SQL Server.
        if i + 2 < len(body) and body[i + 1] == "-":
            low, high = _upper_one(body[i], pattern), _upper_one(body[i + 2], pattern)
            _check_range(low, high, body[i : i + 3], pattern)
            members.append(f"{_class_escape(low)}-{_class_escape(high)}")
            i += 3
        else:
            members.append(_class_escape(_upper_one(body[i], pattern)))
            i += 1
    return "[" + ("^" if negate else "") + "".join(members) + "]"


def _check_range(low: str, high: str, written: str, pattern: str) -> None:
    """Refuse a range whose members SQL Server takes from collation order, not code points."""
    same_kind = (low.isdigit() and high.isdigit()) or (
        low in string.ascii_uppercase and high in string.ascii_uppercase
    )
    if not same_kind:
        raise LikePatternError(
            f"range [{written}] in LIKE pattern {pattern!r} depends on collation order; "
            "list the characters instead"
        )
    if low > high:
        raise LikePatternError(f"reversed range [{written}] in LIKE pattern {pattern!r} matches nothing")


def _upper_one(char: str, pattern: str) -> str:
    """Upper-case one character, refusing those whose upper case is several characters (ß)."""
    upper = char.upper()
    if len(upper) != 1:
        raise LikePatternError(
            f"character {char!r} in LIKE pattern {pattern!r} has no single-character upper case"
        )
    return upper


def _escape(char: str) -> str:
    """Escape one character for RE2 (which refuses escapes of letters, digits and blanks)."""
    return "\\" + char if char in "\\.^$|?*+()[]{}" else char


def _class_escape(char: str) -> str:
    return "\\" + char if char in "\\]^-[" else char


def _longest_caseless(runs: list[str]) -> str:
    """Return the longest stretch of caseless characters inside the literal runs."""
    best = ""
    for run in runs:
        current = ""
        for char in run:
            current = current + char if char in _CASELESS else ""
            if len(current) > len(best):
                best = current
    return best


STEM_LIMIT = 32


def stems(pattern: str, limit: int = STEM_LIMIT) -> tuple[str, ...]:
    """Return strings, one of which the upper-cased value contains wherever it matches ``pattern``.

    ``pattern`` is a T-SQL ``LIKE`` pattern that :func:`compile_like` accepts. A match lays the
    pattern's characters over the value (upper-cased, as :mod:`rfd_lib.engine.sqlserver` matches
    it) in order, each ``%`` and ``_`` standing for characters of its own: so between two
    wildcards, each literal character is a character of the value, and a set such as ``[57]``
    is one of its members, side by side. The stems are the expansions of the longest such run
    whose expansions number at most ``limit`` (``'%V48[57]%'`` gives ``V485`` and ``V487``); ``()``
    when the pattern has no literal character. A range (``[1-3]``) or a negated set (``[^57]``)
    ends a run, as a wildcard does: which characters SQL Server places in a range is a matter of
    collation order, so a stem never relies on it.
    """
    runs: list[list[str]] = [[]]
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "[":
            close = pattern.find("]", i + 1)
            members = _set_members(pattern[i + 1 : close])
            if members is None:
                runs.append([])
            else:
                runs[-1].append(members)
            i = close + 1
            continue
        if char in "%_":
            runs.append([])
        else:
            runs[-1].append(char.upper())
        i += 1
    best: tuple[int, int] = (0, 0)  # (length, -expansions): longer first, then fewer
    chosen: list[str] = []
    for run in runs:
        for start in range(len(run)):
            expansions = 1
            for end in range(start + 1, len(run) + 1):
                expansions *= len(run[end - 1])
                if expansions > limit:
                    break
                if (end - start, -expansions) > best:
                    best, chosen = (end - start, -expansions), run[start:end]
    if not chosen:
        return ()
    expanded = [""]
    for members in chosen:
        expanded = [prefix + member for prefix in expanded for member in members]
    return tuple(sorted(set(expanded)))


def _set_members(body: str) -> str | None:
    """Return the upper-cased members of a ``[...]`` set, or None for a negated set or a range."""
    if body.startswith("^") and len(body) > 1:
        return None
    if len(body) > 1 and re.search(r".-.", body):
        return None
    return "".join(sorted({char.upper() for char in body}))

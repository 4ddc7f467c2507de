"""SQL Server's meaning of values, comparisons, functions and LIKE, on Arrow arrays.

The semantics are those of ``varchar`` data under the default collation ``Latin1_General_CI_AS``:

* text compares case-insensitively and ignoring trailing blanks (``'02 ' = '02'``, ``'m545' = 'M545'``);
  leading blanks count; an empty string is a value, not NULL;
* any function of NULL is NULL, and any comparison with NULL is UNKNOWN;
* where text meets a number, the text is converted to a number, as SQL Server's type precedence
  does (``'02' = 2`` is TRUE), and text that SQL Server could not convert raises :class:`DataError`;
  a blank string converts to 0 for a whole number, as ``CAST('' AS int)`` does;
* ``ISNULL(a, b)`` has the type of ``a`` (``ISNULL(int_column, 120.5)`` is the int 120, truncated),
  ``COALESCE`` the type of highest precedence among its arguments;
* ``LEFT``/``RIGHT``/``SUBSTRING`` count characters, ``LEN`` ignores trailing blanks,
  ``LTRIM``/``RTRIM`` remove spaces only.

Where SQL Server's answer depends on collation *order* beyond ASCII letters, digits and blanks
(``<`` between texts with punctuation or accents; a LIKE range such as ``[a-z]`` or ``[0-9]``
against non-ASCII text, where accented letters, superscripts and fractions may sort inside it),
these functions raise :class:`DataError` instead of answering differently.
Values are Arrow arrays: text as ``string``/``large_string``, numbers as ``int64`` or ``float64``.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from rfd_lib.engine.like import LikePattern
from rfd_lib.errors import DataError


class UnconvertibleValue(DataError):
    """A value SQL Server could not evaluate; ``position`` indexes the array that held it.

    ``to_number`` marks a failed conversion of text to a number, where the text may be a constant
    of the rule rather than a value of the spells. The evaluator, which knows which spells the
    array came from, turns this into a DataError naming the spell's row or the constant.
    """

    def __init__(self, position: int, problem: str, *, to_number: bool = False) -> None:
        self.position = position
        self.problem = problem
        self.to_number = to_number
        super().__init__(problem)


def null_mask(values: pa.Array) -> np.ndarray:
    """Return a boolean mask of where ``values`` is NULL, read from its validity bitmap."""
    if values.null_count == 0:
        return np.zeros(len(values), dtype=bool)
    if values.null_count == len(values):
        return np.ones(len(values), dtype=bool)
    return ~_bits(values.buffers()[0], values.offset, len(values))


def truth_masks(result: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Return the (TRUE, NULL) masks of a boolean array, read from its bitmaps."""
    null = null_mask(result)
    if not len(result) or null.all():
        return np.zeros(len(result), dtype=bool), null
    return _bits(result.buffers()[1], result.offset, len(result)) & ~null, null


def _bits(buffer: pa.Buffer, offset: int, length: int) -> np.ndarray:
    """Return ``length`` bits of an Arrow bitmap from bit ``offset``, as booleans."""
    packed = np.frombuffer(buffer, dtype=np.uint8)
    return np.unpackbits(packed, count=offset + length, bitorder="little")[offset:].view(bool)


def _first(mask: pa.Array) -> int | None:
    """Return the position of the first TRUE in a boolean array (NULL counts as FALSE), or None."""
    hits = pc.indices_nonzero(pc.fill_null(mask, False))
    return hits[0].as_py() if len(hits) else None


_WHOLE = r"^ *[+-]?[0-9]+ *$"
_DECIMAL = r"^ *[+-]?([0-9]+\.?[0-9]*|\.[0-9]+) *$"
_ORDERABLE = r"^[0-9A-Z ]*$"

_ARROW_COMPARE = {
    "=": pc.equal,
    "<>": pc.not_equal,
    "<": pc.less,
    "<=": pc.less_equal,
    ">": pc.greater,
    ">=": pc.greater_equal,
}


def is_text(values: pa.Array) -> bool:
    """Return whether ``values`` holds text (an all-NULL column counts as text)."""
    return (
        pa.types.is_string(values.type)
        or pa.types.is_large_string(values.type)
        or pa.types.is_null(values.type)
    )


def as_text(values: pa.Array) -> pa.Array:
    """Return ``values`` as text, converting numbers the way SQL Server converts int to varchar."""
    if is_text(values):
        return values.cast(pa.large_string()) if pa.types.is_null(values.type) else values
    if pa.types.is_floating(values.type):
        fractional = _first(pc.not_equal(values, pc.trunc(values)))
        if fractional is not None:
            raise UnconvertibleValue(
                fractional, "holds a number with a fractional part where text is compared"
            )
        values = values.cast(pa.int64())
    return values.cast(pa.large_string())


def as_number(values: pa.Array, whole: bool) -> pa.Array:
    """Return ``values`` as float64, converting text as SQL Server converts varchar to int/decimal."""
    if not is_text(values):
        return values.cast(pa.float64())
    values = as_text(values)
    blank = pc.equal(pc.utf8_trim(values, " "), "")
    convertible = pc.match_substring_regex(values, _WHOLE if whole else _DECIMAL)
    if whole:
        convertible = pc.or_(convertible, blank)
    bad = _first(pc.invert(convertible))
    if bad is not None:
        target = "a whole number" if whole else "a decimal number"
        raise UnconvertibleValue(
            bad,
            f"holds text that cannot be converted to {target}, where SQL Server would stop "
            "with a conversion error too",
            to_number=True,
        )
    trimmed = pc.if_else(blank, "0", pc.utf8_trim(values, " "))
    return pc.cast(trimmed, pa.float64())


def converts_to_number(text: str) -> bool:
    """Return whether SQL Server could convert the constant ``text`` to a number."""
    return re.fullmatch(_DECIMAL, text) is not None or not text.strip(" ")


def is_whole(values: pa.Array) -> bool:
    """Return whether a numeric array's type is a whole-number type."""
    return pa.types.is_integer(values.type)


def fold(values: pa.Array) -> pa.Array:
    """Return the collation key of text: upper case, trailing blanks removed."""
    return pc.utf8_upper(pc.utf8_rtrim(values, " "))


def compare(op: str, left: pa.Array, right: pa.Array) -> pa.Array:
    """Return ``left <op> right`` as SQL Server evaluates it (boolean, NULL where UNKNOWN)."""
    if is_text(left) and is_text(right):
        left, right = fold(left), fold(right)
        if op not in ("=", "<>"):
            _refuse_collation_order(left)
            _refuse_collation_order(right)
    else:
        whole = (is_text(left) or is_whole(left)) and (is_text(right) or is_whole(right))
        left, right = as_number(left, whole), as_number(right, whole)
    return _ARROW_COMPARE[op](left, right)


def is_in(values: pa.Array, items: list[object]) -> tuple[np.ndarray, np.ndarray]:
    """Return (true, null) masks of ``values IN (items)``; a NULL item makes a miss UNKNOWN."""
    present = [item for item in items if item is not None]
    if is_text(values) and all(isinstance(item, str) for item in present):
        keys = fold(values)
        wanted = fold(pa.array(present, pa.large_string()))
    else:
        whole = is_text(values) or is_whole(values)
        whole = whole and all(isinstance(item, (int, str)) for item in present)
        keys = as_number(values, whole)
        wanted = as_number(_literal_array(present), whole)
    null = null_mask(values)
    true = truth_masks(pc.is_in(keys, value_set=wanted))[0] & ~null
    if len(present) < len(items):
        null = null | ~true
    return true, null


def _literal_array(items: list[object]) -> pa.Array:
    """Return constants as one array: text if all are text, else numbers (text left to convert)."""
    if all(isinstance(item, str) for item in items):
        return pa.array(items, pa.large_string())
    if any(isinstance(item, str) for item in items):
        return pa.array([str(item) for item in items], pa.large_string())
    return pa.array([float(item) for item in items], pa.float64())


def _refuse_collation_order(values: pa.Array) -> None:
    outside = _first(pc.invert(pc.match_substring_regex(values, _ORDERABLE)))
    if outside is not None:
        raise UnconvertibleValue(
            outside,
            "holds text with characters other than letters, digits and blanks, whose order "
            "depends on SQL Server's collation, which rfd_lib does not emulate",
        )


def apply_function(name: str, values: pa.Array, params: tuple[int, ...]) -> pa.Array:
    """Return ``name(values, *params)`` for LEFT, RIGHT, SUBSTRING, UPPER, LTRIM, RTRIM, LEN."""
    text = as_text(values)
    if name == "LEFT":
        return pc.utf8_slice_codeunits(text, 0, params[0])
    if name == "RIGHT":
        count = params[0]
        return pc.utf8_slice_codeunits(text, -count) if count else pc.utf8_slice_codeunits(text, 0, 0)
    if name == "SUBSTRING":
        # 1-based; a start before 1 still counts towards the length, as in SQL Server.
        start, length = params
        return pc.utf8_slice_codeunits(text, max(start - 1, 0), max(start - 1 + length, 0))
    if name == "UPPER":
        return pc.utf8_upper(text)
    if name == "LTRIM":
        return pc.utf8_ltrim(text, " ")
    if name == "RTRIM":
        return pc.utf8_rtrim(text, " ")
    if name == "LEN":
        return pc.utf8_length(pc.utf8_rtrim(text, " ")).cast(pa.int64())
    raise AssertionError(f"the compiler let through an unknown function {name}")


def coalesce(arrays: list[pa.Array], isnull: bool) -> pa.Array:
    """Return the first non-NULL of ``arrays`` row by row, typed as ISNULL or COALESCE types it.

    ``ISNULL(a, b)`` has the type of ``a``: ``b`` is converted to it where ``a`` is NULL (the only
    rows that reach ``b``), so ``ISNULL(int_column, 120.5)`` is the int 120 and ``ISNULL(text, 5)``
    the text ``'5'``. An untyped all-NULL ``a`` takes ``b``'s type, as a NULL constant does.
    ``COALESCE`` has the type of highest precedence among all its arguments.
    """
    if isnull and not pa.types.is_null(arrays[0].type):
        return _isnull(*arrays)
    if all(is_text(array) for array in arrays):
        unified = [as_text(array) for array in arrays]
    elif all(is_whole(array) or pa.types.is_null(array.type) for array in arrays):
        unified = [array.cast(pa.int64()) for array in arrays]
    else:
        whole = all(is_text(array) or is_whole(array) for array in arrays)
        unified = [as_number(array, whole) for array in arrays]
    return pc.coalesce(*unified)


def _isnull(check: pa.Array, replacement: pa.Array) -> pa.Array:
    """Return ``ISNULL(check, replacement)``, typed as ``check``."""
    reached = pc.if_else(pc.is_null(check), replacement, pa.scalar(None, replacement.type))
    if is_text(check):
        converted = as_text(reached)
    elif is_whole(check):
        converted = as_whole(reached)
    else:
        converted = as_number(reached, whole=False)
    return pc.coalesce(check, converted)


def as_whole(values: pa.Array) -> pa.Array:
    """Return ``values`` as int64, converting as SQL Server converts to int.

    Text must spell a whole number (as in :func:`as_number`); a decimal or float is truncated
    toward zero (``CAST(120.5 AS int)`` is 120, ``CAST(-7.9 AS int)`` is -7).
    """
    if is_whole(values) or pa.types.is_null(values.type):
        return values.cast(pa.int64())
    truncated = as_number(values, whole=True) if is_text(values) else pc.trunc(values)
    in_range = pc.and_(pc.greater_equal(truncated, -(2.0**63)), pc.less(truncated, 2.0**63))
    outside = _first(pc.invert(in_range))
    if outside is not None:
        raise UnconvertibleValue(outside, "holds a number too large to convert to a whole number")
    return truncated.cast(pa.int64())


def like(values: pa.Array, pattern: LikePattern) -> tuple[np.ndarray, np.ndarray]:
    """Return (true, null) masks of ``values LIKE pattern``.

    A substring search for the pattern's required caseless literal picks the candidate rows first;
    only those are upper-cased and matched with the regex.
    """
    text = as_text(values)
    null = null_mask(text)
    true = np.zeros(len(text), dtype=bool)
    if pattern.required:
        candidates = pc.indices_nonzero(pc.match_substring(text, pattern.required))
        if len(candidates):
            positions = candidates.to_numpy()
            try:
                true[positions] = _regex(text.take(candidates), pattern)
            except UnconvertibleValue as error:
                raise UnconvertibleValue(int(positions[error.position]), error.problem) from None
    else:
        true[:] = _regex(text, pattern)
    return true, null


def _regex(text: pa.Array, pattern: LikePattern) -> np.ndarray:
    non_ascii = _first(pc.invert(pc.string_is_ascii(text))) if pattern.ascii_only else None
    if non_ascii is not None:
        raise UnconvertibleValue(
            non_ascii,
            f"holds non-ASCII text, and LIKE {pattern.pattern!r} has a range, inside which SQL "
            "Server's collation also places characters such as accented letters or superscript "
            "digits; rfd_lib does not emulate that",
        )
    matched = pc.match_substring_regex(pc.utf8_upper(text), pattern.regex)
    return truth_masks(matched)[0]

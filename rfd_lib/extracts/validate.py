"""Type an extract's columns and sort its problems into the unusable and the implausible.

:func:`convert` turns each canonical column into its type (text, whole number, date) and returns
the rows that cannot be used, each with its reasons: a value that is not of its type, a NULL
where the schema forbids it, a code that has lost its leading zero, a code column holding a
non-ASCII character (SQL Server's answer for it cannot be emulated exactly). :func:`findings`
flags what is usable but implausible, one boolean per spell and check, for the report. Everything
is vectorised over Arrow arrays; messages name columns as the extract names them, never values.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from rfd_lib.arrow_text import any_byte
from rfd_lib.errors import ExtractError
from rfd_lib.extracts.spell_schema import Column, SpellSchema

NORMALISED = "normalised:"
# Control characters other than tab and line breaks (a row with a line break is set aside apart).
CONTROL = "[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]"
WHOLE_NUMBER = r"^[+-]?[0-9]{1,9}(\.0*)?$"
TIME_OF_DAY = r"^(\S+)[ T][0-9]{1,2}:[0-9]{2}(:[0-9]{2}(\.[0-9]*)?)?$"


@dataclass(frozen=True)
class Problem:
    """Rows that cannot be used, and why (a reason without values, shared by all of them)."""

    reason: str
    rows: np.ndarray  # bool mask
    # For a lost leading zero: the column, and how many values it has (a column that lost every
    # one was read as numbers: the reader stops, once it has seen the whole source).
    column: str | None = None
    present: int = 0


@dataclass(frozen=True)
class Finding:
    """A data-quality check: which spells it flags, on which column, and what it means."""

    check: str
    column: str
    description: str
    spells: np.ndarray  # bool mask


def convert(
    columns: dict[str, pa.Array], schema: SpellSchema, names: dict[str, str], source: str
) -> tuple[dict[str, pa.Array], list[Problem]]:
    """Return the canonical columns typed, and the problems that make rows unusable.

    Columns the schema does not know (those a profile keeps) come back as text, unchecked. A
    ``normalised`` column comes back folded (:func:`fold_codes`), with a boolean column
    ``normalised:<column>`` beside it marking the rows it changed (for :func:`findings`).
    ``names`` gives each canonical column's name in the extract, for messages. Raises
    :class:`ExtractError` when a whole code column has lost its leading zeros (the export, not a
    row, is at fault).
    """
    # Arrow's kernels release the GIL, so the columns are checked side by side.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        done = list(pool.map(lambda item: _convert_column(*item, schema, names, source), columns.items()))
    typed = {canonical: values for canonical, values, _, _ in done}
    for *_, extra in done:
        typed.update(extra)
    problems = [problem for _, _, found, _ in done for problem in found]
    return typed, [problem for problem in problems if problem.rows.any()]


def _convert_column(
    canonical: str, values: pa.Array, schema: SpellSchema, names: dict[str, str], source: str
) -> tuple[str, pa.Array, list[Problem], dict[str, pa.Array]]:
    """Return a column typed, its problems, and a ``normalised:`` mask of the codes it changed."""
    values = _plain(values)
    if canonical not in schema.columns:
        # A column the profile keeps for the report (a site name, say) is carried as text, unchecked.
        return canonical, _as_text(values), [], {}
    spec = schema.columns[canonical]
    name = names.get(canonical, canonical)
    problems: list[Problem] = []
    extra: dict[str, pa.Array] = {}
    if spec.type == "integer":
        typed, bad = _whole_numbers(values)
        problems.append(Problem(f"{name} is not a whole number", bad))
    elif spec.type == "date":
        typed, bad = _dates(values, schema.date_formats)
        problems.append(Problem(f"{name} is not a date (expected e.g. 2025-01-31)", bad))
        earliest, latest = schema.earliest_date, schema.latest_date()
        outside = pc.or_(pc.less(typed, pa.scalar(earliest)), pc.greater(typed, pa.scalar(latest)))
        problems.append(
            Problem(f"{name} is before {earliest} or after {latest}: not a date of a spell", _true(outside))
        )
    else:
        typed = _as_text(values)
        if spec.type in ("code", "code_list"):
            problems.append(Problem(f"{name} holds a character that is not ASCII", _non_ascii(typed)))
            problems.append(Problem(f"{name} holds a control character (a NUL byte?)", _control(typed)))
        if spec.normalised:
            if _folded_already(typed):
                extra[f"{NORMALISED}{canonical}"] = pa.repeat(pa.scalar(False), len(typed))
            else:
                folded = fold_codes(typed)
                extra[f"{NORMALISED}{canonical}"] = pc.fill_null(pc.not_equal(folded, typed), False)
                typed = folded
        if spec.shape_required:
            shape = schema.shapes[spec.shape]
            pattern = f"^(?:{shape.pattern})$"
            wrong = _by_value(typed, lambda text: pc.invert(pc.match_substring_regex(text, pattern)))
            problems.append(Problem(f"{name} is not shaped like an {shape.description}", _true(wrong)))
        if spec.codes:
            lost, present = _lost_zero(typed, spec)
            problems.append(Problem(f"{name} has lost a leading zero", lost, name, present))
    if not spec.nullable:
        problems.append(Problem(f"{name} is empty", _null(typed)))
    return canonical, typed, problems, extra


def findings(
    spells: dict[str, pa.Array], schema: SpellSchema, names: dict[str, str], *, unique: bool = True
) -> list[Finding]:
    """Return every data-quality check that flags at least one spell of the typed ``spells``.

    ``unique=False`` leaves out the duplicate checks: a caller reading batch by batch finds
    repeated values across all of them (:mod:`rfd_lib.extracts.duplicate_ids`).
    """
    checked = [(canonical, values) for canonical, values in spells.items() if canonical in schema.columns]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        per_column = pool.map(
            lambda item: _column_findings(
                item[0], names.get(item[0], item[0]), item[1], schema.columns[item[0]], schema
            ),
            checked,
        )
        unique = {
            canonical: pool.submit(_duplicated, spells[canonical])
            for canonical, spec in schema.columns.items()
            if unique and spec.unique and canonical in spells
        }
        found: list[Finding] = [finding for column in per_column for finding in column]
        duplicates = {canonical: future.result() for canonical, future in unique.items()}
    if "admission_date" in spells and "discharge_date" in spells:
        before = pc.less(spells["discharge_date"], spells["admission_date"])
        found.append(
            Finding(
                "discharge_before_admission", "discharge_date", "discharged before admitted", _true(before)
            )
        )
    for column, changed in spells.items():
        if column.startswith(NORMALISED):
            name = names.get(column[len(NORMALISED) :], column[len(NORMALISED) :])
            description = (
                f"{name} written with blanks around it or in lower case (read as upper case, trimmed)"
            )
            found.append(Finding("code_normalised", name, description, _true(changed)))
    for canonical, flagged in duplicates.items():
        name = names.get(canonical, canonical)
        found.append(Finding(f"duplicate_{canonical}", name, f"{name} shared with another spell", flagged))
    return [finding for finding in found if finding.spells.any()]


def _column_findings(
    canonical: str, name: str, values: pa.Array, spec: Column, schema: SpellSchema
) -> list[Finding]:
    found = []
    if spec.type == "integer":
        number = values
        unknown = _true(pc.is_in(number, pa.array(spec.unknown, number.type))) if spec.unknown else None
        if unknown is not None:
            found.append(
                Finding(
                    "age_unknown", name, f"{name} is {'/'.join(map(str, spec.unknown))} (not known)", unknown
                )
            )
        infant = (
            _true(pc.greater_equal(number, spec.infant_codes_from))
            if spec.infant_codes_from is not None
            else None
        )
        if infant is not None:
            found.append(
                Finding(
                    "age_infant_code",
                    name,
                    f"{name} is an infant age code ({spec.infant_codes_from}+)",
                    infant,
                )
            )
        if spec.plausible is not None:
            low, high = spec.plausible
            outside = _true(pc.or_(pc.less(number, low), pc.greater(number, high)))
            for flagged in (unknown, infant):
                if flagged is not None:
                    outside &= ~flagged
            found.append(Finding("age_implausible", name, f"{name} outside {low}-{high}", outside))
    if spec.shape is not None and not spec.shape_required:
        shape = schema.shapes[spec.shape]
        pattern = shape.pattern if spec.type == "code" else _list_pattern(shape.pattern)
        anchored = f"^ *(?:{pattern}) *$"
        wrong = _by_value(
            values, lambda text: pc.invert(pc.match_substring_regex(text, anchored, ignore_case=True))
        )
        found.append(
            Finding("code_shape", name, f"{name} is not shaped like an {shape.description}", _true(wrong))
        )
    if spec.codes:
        codes = pa.array(list(spec.codes), pa.large_string())
        unknown_code = _unless_listed(
            values,
            list(spec.codes),
            lambda text: pc.invert(pc.is_in(pc.utf8_upper(pc.utf8_rtrim(text, " ")), codes)),
        )
        found.append(
            Finding("unknown_code", name, f"{name} is not one of its {len(spec.codes)} codes", unknown_code)
        )
    return found


def fold_codes(values: pa.Array) -> pa.Array:
    """Return codes as SQL Server compares them, written one way: blanks trimmed, upper case.

    SQL Server ignores trailing blanks and (in the usual collation) case; a leading blank is a
    typing slip too. The same rule for one code is :func:`rfd_lib.pipeline.params.fold_code`.
    """
    return pc.utf8_upper(pc.utf8_trim_whitespace(values))


def _folded_already(text: pa.Array | pa.ChunkedArray) -> bool:
    """Return True when :func:`fold_codes` would change no value of ``text`` (False may be wrong).

    It can change a value only through a lower-case letter, a blank or other white space, or a
    character that is not ASCII: when no byte of the column is one, the codes are written one
    way already, found by a byte scan instead of two string kernels and a comparison.
    """
    return not any_byte(
        text, lambda byte: (byte <= 0x20) | (byte >= 0x7F) | ((byte >= 0x61) & (byte <= 0x7A))
    )


# A column is evaluated once per distinct value when its first chunk holds at most one distinct
# value in this many: codes repeat (a few thousand OPCS-4 and ICD-10 codes over millions of
# spells), and a regular expression costs far more per value than the hashing that finds them.
DISTINCT_SHARE = 4


def _by_value(
    values: pa.Array | pa.ChunkedArray, kernel: Callable[[pa.Array], pa.Array]
) -> pa.Array | pa.ChunkedArray:
    """Return ``kernel(values)`` for an element-wise ``kernel``, worked out once per distinct value.

    Each chunk is dictionary-encoded (NULL as a value of its own, so the kernel decides what NULL
    gives, as it would row by row), the kernel runs on the chunk's distinct values and its result
    is taken back to the rows. Where values seldom repeat, the kernel simply runs on every row.
    """
    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    if not chunks or not len(chunks[0]):
        return kernel(values)
    first = pc.dictionary_encode(chunks[0], null_encoding="encode")
    if len(first.dictionary) * DISTINCT_SHARE > len(chunks[0]):
        return kernel(values)
    results = []
    for position, chunk in enumerate(chunks):
        encoded = first if position == 0 else pc.dictionary_encode(chunk, null_encoding="encode")
        results.append(pc.take(kernel(encoded.dictionary), encoded.indices))
    if not isinstance(values, pa.ChunkedArray):
        return results[0]
    return pa.chunked_array(results, type=results[0].type)


def _unless_listed(
    values: pa.Array | pa.ChunkedArray, codes: list[str], test: Callable[[pa.Array], pa.Array]
) -> np.ndarray:
    """Return the rows where boolean ``test`` is TRUE, run only on values other than ``codes``.

    ``test`` must be FALSE for a code written as listed (upper case, no blanks, ASCII), which
    most values are: one exact look-up clears them, and the trimming and folding ``test`` does
    is left to the few others (to every value when they are not few).
    """
    plain = [code for code in codes if code.isascii() and code == code.upper().strip(" ")]
    if not plain:
        return _true(test(values))
    others = np.flatnonzero(~_true(pc.is_in(values, pa.array(plain, pa.large_string()))))
    if len(others) * 2 > len(values):
        return _true(test(values))
    flagged = np.zeros(len(values), dtype=bool)
    if len(others):
        flagged[others] = _true(test(_one(values).take(pa.array(others))))
    return flagged


def _list_pattern(code: str) -> str:
    """Return the regex of a SUS+ code list: episodes after '||', codes separated by ','."""
    item = rf"\s*(?:{code})?\s*"
    return rf"(?:\|\||,)?{item}(?:(?:\|\||,){item})*"


def _plain(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Return ``values`` with dictionaries decoded; chunks are kept (combining them copies)."""
    if pa.types.is_dictionary(values.type):
        values = pc.cast(values, values.type.value_type)
    return values


def _one(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Return ``values`` as a single array (for the kernels that need one; slow paths only)."""
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    return values


def _as_text(values: pa.Array) -> pa.Array:
    """Return ``values`` as text; a whole float loses its '.0' as a database or Excel would print it."""
    kind = values.type
    if pa.types.is_large_string(kind):
        return values
    if pa.types.is_floating(kind):
        # Beyond 2**53 a float is not an exact whole number, and int64 may not hold it.
        whole = pc.and_(pc.equal(pc.floor(values), values), pc.less(pc.abs(values), 2.0**53))
        if pc.all(pc.or_kleene(whole, pc.is_null(values))).as_py():
            values = pc.cast(values, pa.int64())
    return pc.cast(values, pa.large_string())


def _whole_numbers(values: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Return (Int64 array, rows whose value is not a whole number)."""
    kind = values.type
    if pa.types.is_integer(kind) or pa.types.is_null(kind):
        return pc.cast(values, pa.int64()), np.zeros(len(values), dtype=bool)
    if pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        number = pc.cast(values, pa.float64())
        bad = pc.or_(pc.not_equal(pc.floor(number), number), pc.greater(pc.abs(number), 1e9))
        bad_rows = _true(bad)
        return pc.cast(pc.if_else(pa.array(bad_rows), None, number), pa.int64()), bad_rows
    text = _as_text(values)
    try:  # fastest path: digits alone, with no blank or empty value to clear first, cast at once
        return pc.cast(text, pa.int64()), np.zeros(len(values), dtype=bool)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    text = pc.utf8_trim_whitespace(text)
    blank = pc.equal(text, "")
    try:  # fast path: a clean column casts at once
        return pc.cast(pc.if_else(blank, None, text), pa.int64()), np.zeros(len(values), dtype=bool)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        text, blank = _one(text), _one(blank)
    good = pc.match_substring_regex(text, WHOLE_NUMBER)
    bad_rows = _true(pc.and_(pc.invert(good), pc.invert(blank)))
    # Arrow's cast reads neither a leading '+' nor a trailing '.0'.
    digits = pc.replace_substring_regex(text, r"^\+|\.0*$", "")
    number = pc.cast(pc.if_else(pc.and_(good, pc.invert(blank)), digits, None), pa.int64())
    return number, bad_rows


def _dates(values: pa.Array, formats: tuple[str, ...]) -> tuple[pa.Array, np.ndarray]:
    """Return (date32 array, rows whose value is not a real date in one of ``formats``)."""
    kind = values.type
    if pa.types.is_date(kind) or pa.types.is_null(kind):
        return pc.cast(values, pa.date32()), np.zeros(len(values), dtype=bool)
    if pa.types.is_timestamp(kind):
        return pc.cast(pc.floor_temporal(values, unit="day"), pa.date32()), np.zeros(len(values), dtype=bool)
    # A number is a date as written (20250131): Arrow would count days or milliseconds from 1970.
    values = _as_text(values)
    # Fast path: Arrow's strict ISO casts read a clean column at once, or fail as a whole.
    for kind in (pa.date32(), pa.timestamp("ms")):
        try:
            return pc.cast(pc.cast(values, kind), pa.date32()), np.zeros(len(values), dtype=bool)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    text = pc.utf8_trim_whitespace(_one(_as_text(values)))
    text = pc.if_else(pc.equal(text, ""), None, text)
    timed = pc.fill_null(pc.match_substring(text, ":"), False)
    day = pc.replace_with_mask(
        text, timed, pc.replace_substring_regex(pc.filter(text, timed), TIME_OF_DAY, r"\1")
    )
    result = pa.nulls(len(values), pa.date32())
    for fmt in formats:
        # Each format is tried only on the rows no earlier format could read.
        todo = pc.and_(pc.is_valid(day), pc.is_null(result))
        if not pc.any(todo).as_py():
            break
        parsed = _real_dates(pc.filter(day, todo), fmt)
        result = pc.replace_with_mask(result, todo, parsed)
    bad = _true(pc.and_(pc.is_valid(text), pc.is_null(result)))
    return result, bad


def _real_dates(text: pa.Array, fmt: str) -> pa.Array:
    """Return the dates ``text`` holds in format ``fmt``; NULL where it holds none or an unreal one."""
    parts = pc.extract_regex(text, _format_regex(fmt))
    year, month, dom = (pc.cast(pc.struct_field(parts, key), pa.int32()) for key in ("y", "m", "d"))
    iso = pc.binary_join_element_wise(
        pc.cast(year, pa.large_string()),
        pc.utf8_lpad(pc.cast(month, pa.large_string()), 2, "0"),
        pc.utf8_lpad(pc.cast(dom, pa.large_string()), 2, "0"),
        pa.scalar("-", pa.large_string()),
    )
    stamp = pc.strptime(iso, format="%Y-%m-%d", unit="s", error_is_null=True)
    # Arrow's strptime rolls 31 February over into 3 March: a real date keeps its day and month.
    real = pc.and_(pc.equal(pc.day(stamp), dom), pc.equal(pc.month(stamp), month))
    return pc.if_else(real, pc.cast(stamp, pa.date32()), pa.scalar(None, pa.date32()))


def _format_regex(fmt: str) -> str:
    fields = {"%Y": "(?P<y>[0-9]{4})", "%m": "(?P<m>[0-9]{1,2})", "%d": "(?P<d>[0-9]{1,2})"}
    pieces = re.split(r"(%[Ymd])", fmt)
    return "^" + "".join(fields.get(piece, re.escape(piece)) for piece in pieces) + "$"


def _non_ascii(text: pa.Array) -> np.ndarray:
    """Return rows whose text holds a character that is not ASCII (looked for by value only if any may)."""
    if not any_byte(text, lambda byte: byte >= 0x80):
        return np.zeros(len(text), dtype=bool)
    return _true(pc.invert(pc.string_is_ascii(text)))


def _lost_zero(text: pa.Array, spec: Column) -> tuple[np.ndarray, int]:
    """Return rows whose code is a listed code without its leading zero (2 for 02), and the values present."""
    codes = list(spec.codes or {})
    stripped = sorted({code.lstrip("0") for code in codes if code.startswith("0")} - set(codes))
    if not stripped:
        return np.zeros(len(text), dtype=bool), 0
    without = pa.array(stripped, pa.large_string())
    lost = _unless_listed(text, codes, lambda values: pc.is_in(pc.utf8_trim(values, " "), without))
    return lost, len(text) - text.null_count


def lost_every_zero(column: str, source: str) -> ExtractError:
    """Return the error for a column whose every value has lost its leading zero."""
    return ExtractError(
        f"{source}: every value of column {column} has lost its leading zero (e.g. 2 for 02)",
        hint="the extract was saved through a spreadsheet or read as numbers; export the column as text",
    )


def _control(text: pa.Array) -> np.ndarray:
    """Return rows whose text holds a control character (looked for value by value only if any may)."""
    # Any byte below a space, or DEL: a necessary condition, two comparisons a byte.
    if not any_byte(text, lambda byte: (byte < 0x20) | (byte == 0x7F)):
        return np.zeros(len(text), dtype=bool)
    return _true(pc.match_substring_regex(text, CONTROL))


def _null(values: pa.Array) -> np.ndarray:
    return np.asarray(pc.is_null(values).to_numpy(zero_copy_only=False), dtype=bool)


def _true(mask: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Return TRUE rows of a boolean array as a numpy mask (NULL is not TRUE)."""
    return np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=bool)


def _duplicated(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Return rows whose non-NULL value occurs more than once."""
    try:  # identifiers are usually digits: sorting numbers is far cheaper than hashing text
        numbers = pc.cast(values, pa.int64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        counts = pc.value_counts(values)
        repeated = pc.filter(counts.field("values"), pc.greater(counts.field("counts"), 1))
        return _true(pc.is_in(values, repeated)) if len(repeated) else np.zeros(len(values), dtype=bool)
    present = pc.drop_null(numbers).to_numpy()
    if np.all(present[1:] > present[:-1]):
        # Strictly increasing (an extract in identifier order): no number can occur twice.
        return np.zeros(len(values), dtype=bool)
    ordered = np.sort(present)
    repeated = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])
    if not len(repeated):
        return np.zeros(len(values), dtype=bool)
    return _true(pc.is_in(numbers, pa.array(repeated)))

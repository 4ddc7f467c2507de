"""The shortcuts typing and findings take on clean columns give what the row-by-row checks give.

Each shortcut (a byte scan, a check per distinct value, an exact look-up of listed codes, a cast
without trimming, identifiers in order) is taken on one column and not on another that differs
by one value, and both must come out as the checks value by value say.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rfd_lib.arrow_text import BYTE_WINDOW, any_byte
from rfd_lib.extracts import validate
from rfd_lib.extracts.spell_schema import load_spell_schema

SCHEMA = load_spell_schema()


def chunked(values: list[str | None], size: int = 40) -> pa.ChunkedArray:
    """Return ``values`` as large strings in chunks of ``size`` (the CSV reader's blocks, in small)."""
    pieces = [values[start : start + size] for start in range(0, len(values), size)] or [[]]
    return pa.chunked_array([pa.array(piece, pa.large_string()) for piece in pieces], pa.large_string())


def converted(canonical: str, values: list[str | None]) -> tuple[pa.ChunkedArray, dict[str, list[int]]]:
    """Return one column typed by :func:`validate.convert` and its problems' rows by reason."""
    typed, problems = validate.convert({canonical: chunked(values)}, SCHEMA, {}, "extract.csv")
    rows = {problem.reason: np.flatnonzero(problem.rows).tolist() for problem in problems}
    return typed, rows


def flagged(canonical: str, values: list[str | None]) -> dict[str, list[int]]:
    """Return the findings on one typed column: check -> flagged rows."""
    typed, _ = converted(canonical, values)
    return {
        finding.check: np.flatnonzero(finding.spells).tolist()
        for finding in validate.findings(typed, SCHEMA, {})
    }


# any_byte ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("where", [0, BYTE_WINDOW - 1, BYTE_WINDOW, 3 * BYTE_WINDOW + 5])
def test_a_byte_is_found_in_any_window(where):
    text = "A" * (3 * BYTE_WINDOW + 10)
    text = text[:where] + "\n" + text[where + 1 :]
    values = pa.chunked_array([pa.array(["B"], pa.large_string()), pa.array([text], pa.large_string())])
    assert any_byte(values, lambda byte: byte == 0x0A)
    assert not any_byte(values, lambda byte: byte == 0x0D)


def test_no_bytes_means_no_byte_found():
    assert not any_byte(pa.array([None, ""], pa.large_string()), lambda byte: byte >= 0)


# one check per distinct value ---------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from(["V485", "v485 ", "Z676", "", None, "C50.1", "M545"]), max_size=200),
    st.lists(st.text(alphabet="AV48 5.", max_size=5) | st.none(), max_size=60),
)
def test_a_check_per_distinct_value_gives_the_row_by_row_answer(repeated, varied):
    pattern = "^ *(?:[A-Z][0-9]{2}[0-9]?) *$"

    def kernel(text: pa.Array) -> pa.Array:
        return pc.match_substring_regex(text, pattern, ignore_case=True)

    def listed(text: pa.Array) -> pa.Array:  # NULL is FALSE here, not NULL: the kernel decides
        return pc.is_in(text, pa.array(["V485", "Z676"], pa.large_string()))

    for check in (kernel, listed):
        for values in (chunked(repeated), chunked(varied, 7), chunked(repeated + varied, 30)):
            assert validate._by_value(values, check).to_pylist() == check(values).to_pylist()
        plain = pa.array(repeated, pa.large_string())
        assert validate._by_value(plain, check).to_pylist() == check(plain).to_pylist()


def test_a_shape_finding_on_repeated_codes_flags_only_the_misshapen():
    values = ["V485", "Z676", "V48.5", "v485 ", None, "V485", "X"] * 20
    found = flagged("Primary_Spell_Procedure", values)
    assert found["code_shape"] == [row for row, value in enumerate(values) if value in ("V48.5", "X")]


# codes written as listed ------------------------------------------------------------------------


def test_listed_codes_clear_at_once_and_the_rest_are_checked_trimmed_and_folded():
    values = ["01", "02", "01", "02 ", "2a", "2A", None, "7", "01"] * 10
    found = flagged("Administrative_Category", values)
    # '02 ' is 02 as SQL Server compares it; NULL and 7 are not among the codes, nor 2A here.
    assert found["unknown_code"] == [
        row for row, value in enumerate(values) if value in (None, "7", "2a", "2A")
    ]
    method = ["11", "2a", "21 "] * 10
    assert "unknown_code" not in flagged("Admission_Method", method)


def test_a_code_that_lost_its_zero_is_found_among_listed_codes():
    values = ["01", "02", " 2 ", "01", "2"] * 10
    _, rows = converted("Administrative_Category", values)
    assert rows["Administrative_Category has lost a leading zero"] == [
        row for row, value in enumerate(values) if value.strip() == "2"
    ]
    _, clean = converted("Administrative_Category", ["01", "02"] * 10)
    assert "Administrative_Category has lost a leading zero" not in clean


# provider codes already written one way ---------------------------------------------------------


@pytest.mark.parametrize(
    ("odd", "read_as"), [("zt0", "ZT0"), (" ZT0", "ZT0"), ("ZT0\t", "ZT0"), ("ZT0\u00a0", "ZT0")]
)
def test_provider_codes_are_folded_unless_already_written_one_way(odd, read_as):
    typed, _ = converted("provider_code", ["ZT0", "RXX01"] * 10)
    assert typed["provider_code"].to_pylist() == ["ZT0", "RXX01"] * 10
    assert not pc.any(typed["normalised:provider_code"]).as_py()
    typed, _ = converted("provider_code", ["ZT0", odd, "RXX01"])
    assert typed["provider_code"].to_pylist() == ["ZT0", read_as, "RXX01"]
    assert typed["normalised:provider_code"].to_pylist() == [False, True, False]


def test_a_code_with_a_character_not_ascii_is_unusable_and_others_are_not():
    _, rows = converted("Primary_Spell_Procedure", ["V485", "V48\u00e5", None])
    assert rows == {"Primary_Spell_Procedure holds a character that is not ASCII": [1]}
    assert converted("Primary_Spell_Procedure", ["V485", None])[1] == {}


# whole numbers ----------------------------------------------------------------------------------


def test_ages_cast_at_once_when_clean_and_trimmed_otherwise():
    typed, rows = converted("Age_At_Start_of_Spell_SUS", ["42", "007", "-1", "120"])
    assert typed["Age_At_Start_of_Spell_SUS"].to_pylist() == [42, 7, -1, 120]
    assert rows == {}
    typed, rows = converted("Age_At_Start_of_Spell_SUS", ["42", " 43", "+44", "45.0", "", "4 6"])
    assert typed["Age_At_Start_of_Spell_SUS"].to_pylist() == [42, 43, 44, 45, None, None]
    assert rows == {"Age_At_Start_of_Spell_SUS is not a whole number": [5]}


# duplicate identifiers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ids", "duplicated"),
    [
        (["1", "2", "10", None, "11"], []),  # in order: nothing to sort
        (["1", "2", "2", "3"], [1, 2]),  # in order, but one twice
        (["3", "1", "2", "1"], [1, 3]),  # out of order
        (["A1", "B2", "A1"], [0, 2]),  # not numbers
    ],
)
def test_duplicate_identifiers_are_found_in_order_or_not(ids, duplicated):
    assert np.flatnonzero(validate._duplicated(chunked(ids, 2))).tolist() == duplicated

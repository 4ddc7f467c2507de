"""Spec tests: readable truth tables of what SQL Server gives, checked through ``classify``.

Each case is a SQL condition and the values of the columns it reads. The ``sql`` fixture writes
the condition as a one-criterion rule file (``WHEN (condition) THEN 'T'``), classifies a one-row
frame with ``all_criteria=True`` and returns the criterion's value: True, False or None (UNKNOWN).
Python ``str`` / ``None`` values become a text column, ``int`` values a nullable Int64 column;
pass a pandas array to choose another type (``NULL_NUMBER`` is a whole-number NULL,
``NULL_DECIMAL`` a decimal NULL).
"""

from __future__ import annotations

import itertools

import pandas as pd
import pytest

from rfd_lib import classify, load_rule

NULL_NUMBER = pd.array([None], dtype="Int64")
NULL_DECIMAL = pd.array([None], dtype="Float64")


def _column(value: object) -> object:
    if isinstance(value, pd.api.extensions.ExtensionArray):
        return value
    if isinstance(value, bool):
        raise TypeError("spec values are text, whole numbers or None")
    if isinstance(value, int):
        return pd.array([value], dtype="Int64")
    if isinstance(value, float):
        return pd.array([value], dtype="Float64")
    return pd.array([value], dtype="string")


@pytest.fixture
def sql(tmp_path):
    counter = itertools.count()

    def evaluate(condition: str, **values: object) -> bool | None:
        path = tmp_path / f"case_{next(counter)}.sql"
        path.write_text(f"WHEN ({condition})\nTHEN 'T'\n", encoding="utf-8")
        frame = pd.DataFrame({"row": [1], **{name: _column(value) for name, value in values.items()}})
        (criterion,) = load_rule(path).criteria
        result = classify(frame, path, all_criteria=True)[criterion.name].iloc[0]
        return None if result is pd.NA else bool(result)

    return evaluate


def quote(text: str) -> str:
    """Return ``text`` as a T-SQL string literal."""
    return "'" + text.replace("'", "''") + "'"

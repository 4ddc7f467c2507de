"""The populations file's optional adult population (19+): read, checked, and refused in one line.

``adult_population`` is the part of the catchment aged 19 and over (the ages the rule counts). It
is checked as the catchment is (digits only, above 0, at most 100 million) and must not be above
the provider's catchment; a blank one is allowed: the adult figure is not known for that provider
(and the rates then use the catchment for every provider, see ``tests/spec/test_rates.py``).
"""

from __future__ import annotations

import pandas as pd
import pytest

from rfd_lib.errors import RfdAuditError
from rfd_lib.extracts.populations import PopulationError, read_populations

HEADER = "provider_code,provider_name,catchment_population,adult_population\n"


def _write(tmp_path, text: str):
    path = tmp_path / "populations_2026.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_an_adult_population_is_read_as_a_whole_number_and_a_blank_as_unknown(tmp_path):
    path = _write(
        tmp_path,
        HEADER
        + "RA1,Synthetic Alpha,250000,197500\nRB2,Synthetic Beta,150000,\nRC3,Synthetic Gamma,80000, 80000 \n",
    )
    frame = read_populations(path)
    assert str(frame["adult_population"].dtype) == "Int64"
    assert frame["adult_population"].tolist() == [197_500, pd.NA, 80_000]  # all adults is allowed
    assert frame["catchment_population"].tolist() == [250_000, 150_000, 80_000]


def test_without_the_column_the_file_reads_as_before(tmp_path):
    frame = read_populations(_write(tmp_path, "provider_code,catchment_population\nRA1,250000\n"))
    assert "adult_population" not in frame.columns


ADULT_ERRORS = [
    # case                               rows after the header                          words in the one-line message
    ("a decimal adult population",       "RA1,A,250000,197500.5\n",                      ["line 2", "adult_population is not a whole number"]),
    ("a thousands separator",            'RA1,A,250000,"197,500"\n',                     ["line 2", "adult_population is not a whole number"]),
    ("a negative adult population",      "RA1,A,250000,197500\nRB2,B,100,-5\n",          ["line 3", "adult_population is not a whole number"]),
    ("a share, not a number of people",  "RA1,A,250000,79%\n",                           ["line 2", "adult_population is not a whole number"]),
    ("a zero adult population",          "RA1,A,250000,0\n",                             ["line 2", "adult_population must be above 0"]),
    ("more adults than people",          "RA1,A,250000,197500\nRB2,B,150000,150001\n",   ["line 3", "adult_population is above catchment_population", "19+"]),
    ("an absurd adult population",       "RA1,A,250000,1" + "0" * 12 + "\n",            ["line 2", "adult_population is above 100,000,000"]),
    ("a bad catchment is still found",   "RA1,A,,197500\n",                              ["line 2", "catchment_population is blank"]),
]  # fmt: skip


@pytest.mark.parametrize(("case", "rows", "words"), ADULT_ERRORS, ids=[row[0] for row in ADULT_ERRORS])
def test_a_bad_adult_population_is_one_line_naming_the_file_line_and_column(tmp_path, case, rows, words):
    with pytest.raises(PopulationError) as caught:
        read_populations(_write(tmp_path, HEADER + rows))
    message = str(caught.value)
    assert isinstance(caught.value, RfdAuditError)
    assert "\n" not in message and "populations_2026.csv" in message
    for word in words:
        assert word in message, (case, message)

"""Rates per 100,000 catchment population, their exact Poisson intervals, and the populations file.

Garwood's exact interval for k events at level 1 − α:

    lower = chi2.ppf(α/2, 2k) / 2      (0 when k = 0)
    upper = chi2.ppf(1 − α/2, 2k + 2) / 2

and a rate's interval is the count's interval over the population, times 100,000.
"""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from rfd_lib.errors import RfdAuditError
from rfd_lib.extracts.populations import PopulationError, read_populations
from rfd_lib.metrics.rates import exact_poisson_interval, rates

# Published values (Garwood 1936; the same in e.g. the PHE technical guide's table), 4 decimals.
GARWOOD = [
    # level   k    lower     upper
    (0.95,    0,   0.0000,   3.6889),
    (0.95,    1,   0.0253,   5.5716),
    (0.95,    2,   0.2422,   7.2247),
    (0.95,    5,   1.6235,  11.6683),
    (0.95,   10,   4.7954,  18.3904),
    (0.95,   30,  20.2409,  42.8269),
    (0.998,   0,   0.0000,   6.9078),
    (0.998,   1,   0.0010,   9.2334),
    (0.998,  10,   2.9605,  24.1340),
]  # fmt: skip


@pytest.mark.parametrize(("level", "k", "lower", "upper"), GARWOOD)
def test_garwood_interval_matches_the_published_table(level, k, lower, upper):
    got_lower, got_upper = exact_poisson_interval([k], level)
    assert got_lower[0] == pytest.approx(lower, abs=5e-5)
    assert got_upper[0] == pytest.approx(upper, abs=5e-5)


@pytest.mark.parametrize("level", [0.8, 0.95, 0.998])
def test_garwood_interval_is_the_chi_square_formula(level):
    k = np.arange(0, 200)
    alpha = 1 - level
    lower, upper = exact_poisson_interval(k, level)
    assert lower[0] == 0.0
    np.testing.assert_allclose(lower[1:], stats.chi2.ppf(alpha / 2, 2 * k[1:]) / 2, rtol=1e-12)
    np.testing.assert_allclose(upper, stats.chi2.ppf(1 - alpha / 2, 2 * k + 2) / 2, rtol=1e-12)


def test_garwood_interval_has_its_defining_tail_probabilities():
    # Exact means: a mean at the upper limit gives P(Y <= k) = 2.5 %, one at the lower limit P(Y >= k) = 2.5 %.
    k = np.arange(1, 80)
    lower, upper = exact_poisson_interval(k, 0.95)
    np.testing.assert_allclose(stats.poisson.cdf(k, upper), 0.025, rtol=1e-8)
    np.testing.assert_allclose(stats.poisson.sf(k - 1, lower), 0.025, rtol=1e-8)


def test_missing_counts_give_nan_and_the_shape_is_kept():
    lower, upper = exact_poisson_interval(pd.Series([10, None, 0], dtype="Int64"))
    assert np.isnan(lower[1]) and np.isnan(upper[1])
    assert (
        lower[0] == pytest.approx(4.7954, abs=5e-5)
        and lower[2] == 0.0
        and upper[2] == pytest.approx(3.6889, abs=5e-5)
    )
    lower, upper = exact_poisson_interval(np.array([[1, 2], [3, 4]]))
    assert lower.shape == upper.shape == (2, 2)
    assert np.isnan(exact_poisson_interval([None, pd.NA])[0]).all()


@pytest.mark.parametrize(
    ("counts", "level", "words"),
    [
        ([1, -1], 0.95, "negative"),
        ([1.5], 0.95, "whole numbers"),
        ([np.inf], 0.95, "whole numbers"),
        (["ten"], 0.95, "whole numbers"),
        ([1], 0.0, "between 0 and 1"),
        ([1], 1.0, "between 0 and 1"),
        ([1], 95, "between 0 and 1"),
        ([1], "0.95", "between 0 and 1"),
    ],
)
def test_bad_arguments_are_refused(counts, level, words):
    with pytest.raises(ValueError, match=words):
        exact_poisson_interval(counts, level)


# A worked example. RA1 has 200,000 people, RB2 50,000; ZX9 is not in the populations file.
#   RA1 2025/26 Q1: 30 spells -> 30 / 200,000 x 100,000 = 15.0; Garwood(30) = 20.2409 .. 42.8269,
#                   halved (x 100,000 / 200,000) -> 10.1204 .. 21.4134
#   RB2 2025/26 Q1:  0 spells -> 0.0; Garwood(0) = 0 .. 3.6889, doubled (x 100,000 / 50,000) -> 0 .. 7.3778
#   RB2 2025/26 Q2: suppressed (<NA>) -> no rate, "count suppressed"
#   ZX9 2025/26 Q1:  4 spells but no population -> no rate, "no population for ZX9"
#   ZX9 2025/26 Q2: both
#   RA1 2025/26 Q2: 10 spells -> 5.0; Garwood(10) / 2 = 2.3977 .. 9.1952
WORKED = [
    # code   quarter        spells  population  rate   lower    upper    note
    ("RA1",  "2025/26 Q1",  30,     200_000,    15.0,  10.1204, 21.4134, None),
    ("RB2",  "2025/26 Q1",  0,      50_000,     0.0,   0.0,     7.3778,  None),
    ("RB2",  "2025/26 Q2",  None,   50_000,     None,  None,    None,    "count suppressed"),
    ("ZX9",  "2025/26 Q1",  4,      None,       None,  None,    None,    "no population for ZX9"),
    ("ZX9",  "2025/26 Q2",  None,   None,       None,  None,    None,    "count suppressed; no population for ZX9"),
    ("RA1",  "2025/26 Q2",  10,     200_000,    5.0,   2.3977,  9.1952,  None),
]  # fmt: skip

POPULATIONS = pd.DataFrame(
    {
        "provider_code": pd.array(["RA1", "RB2", "RC3"], dtype="string"),
        "catchment_population": pd.array([200_000, 50_000, 75_000], dtype="Int64"),
    }
)


def _worked_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "provider_code": pd.array([row[0] for row in WORKED], dtype="string"),
            "quarter": pd.array([row[1] for row in WORKED], dtype="string"),
            "spells": pd.array([row[2] for row in WORKED], dtype="Int64"),
        },
        index=pd.Index([10, 11, 12, 13, 14, 15], name="row"),
    )


def test_rates_worked_example():
    out = rates(_worked_table(), POPULATIONS)
    for i, (code, _quarter, _spells, population, rate, lower, upper, note) in enumerate(WORKED):
        row = out.iloc[i]
        assert row["provider_code"] == code
        if population is None:
            assert row["population"] is pd.NA
        else:
            assert row["population"] == population
        for column, expected in (("rate", rate), ("rate_lower", lower), ("rate_upper", upper)):
            if expected is None:
                assert row[column] is pd.NA, (code, column)
            else:
                assert row[column] == pytest.approx(expected, abs=5e-5), (code, column)
        assert (row["rate_note"] is pd.NA) if note is None else (row["rate_note"] == note)


def test_rates_keep_the_table_rows_order_index_and_columns():
    table = _worked_table()
    out = rates(table, POPULATIONS)
    assert list(out.index) == list(table.index) and out.index.name == "row"
    assert list(out.columns) == [
        "provider_code", "quarter", "spells", "population", "rate", "rate_lower", "rate_upper", "rate_note",
    ]  # fmt: skip
    pd.testing.assert_frame_equal(out[table.columns], table)
    assert str(out["population"].dtype) == "Int64"
    assert all(str(out[name].dtype) == "Float64" for name in ("rate", "rate_lower", "rate_upper"))
    assert isinstance(out["rate_note"].dtype, pd.StringDtype)
    assert "rate" not in table.columns  # the input is not changed


def test_rates_per_other_denominators_and_levels():
    table = pd.DataFrame({"provider_code": ["RA1"], "admissions": [10]})
    out = rates(table, POPULATIONS, count="admissions", per=1_000, level=0.998)
    # 10 / 200,000 x 1,000 = 0.05; Garwood 99.8 % (10) = 2.9605 .. 24.1340, over 200 -> 0.0148 .. 0.1207
    assert out["rate"].iloc[0] == pytest.approx(0.05)
    assert out["rate_lower"].iloc[0] == pytest.approx(2.9605 / 200, abs=1e-6)
    assert out["rate_upper"].iloc[0] == pytest.approx(24.1340 / 200, abs=1e-6)


@pytest.mark.parametrize(
    ("table", "populations", "words"),
    [
        (pd.DataFrame({"provider_code": ["RA1"]}), POPULATIONS, "no column 'spells'"),
        (pd.DataFrame({"provider_code": ["RA1"], "spells": [-2]}), POPULATIONS, "negative"),
        (pd.DataFrame({"provider_code": ["RA1"], "spells": [2.5]}), POPULATIONS, "whole numbers"),
        (pd.DataFrame({"provider_code": [None], "spells": [2]}), POPULATIONS, "without a provider_code"),
        (pd.DataFrame({"provider_code": ["RA1"], "spells": [2], "rate": [1.0]}), POPULATIONS, "overwrite"),
        (
            pd.DataFrame({"provider_code": ["RA1"], "spells": [2]}),
            pd.DataFrame({"provider_code": ["RA1", "RA1"], "catchment_population": [1, 2]}),
            "more than once",
        ),
        (
            pd.DataFrame({"provider_code": ["RA1"], "spells": [2]}),
            pd.DataFrame({"provider_code": ["RA1"], "catchment_population": [0]}),
            "above 0",
        ),
        (
            pd.DataFrame({"provider_code": ["RA1"], "spells": [2]}),
            POPULATIONS.drop(columns="catchment_population"),
            "populations has no column",
        ),
    ],
)
def test_rates_refuse_bad_input(table, populations, words):
    with pytest.raises(ValueError, match=words):
        rates(table, populations)


def test_rates_refuse_a_bad_per():
    with pytest.raises(ValueError, match="per must be above 0"):
        rates(pd.DataFrame({"provider_code": ["RA1"], "spells": [2]}), POPULATIONS, per=0)


def _write(tmp_path, text: str, name: str = "populations.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_read_populations_reads_codes_as_text(tmp_path):
    path = _write(
        tmp_path,
        "\ufeffprovider_code,provider_name,catchment_population\n"
        "RA1,Synthetic Alpha NHS Trust,250000\n"
        '0012 ,"Synthetic Beta, Gamma and Delta",  1480000\n'
        "1e5,Synthetic Epsilon,150000\n",
    )
    frame = read_populations(path)
    # never 12 or 100000.0; upper-cased and trimmed as the extract's codes are
    assert list(frame["provider_code"]) == ["RA1", "0012", "1E5"]
    assert list(frame["provider_name"])[1] == "Synthetic Beta, Gamma and Delta"
    assert list(frame["catchment_population"]) == [250_000, 1_480_000, 150_000]
    assert isinstance(frame["provider_code"].dtype, pd.StringDtype)
    assert str(frame["catchment_population"].dtype) == "Int64"


def test_read_populations_without_names_feeds_rates(tmp_path):
    path = _write(tmp_path, "provider_code,catchment_population\nRA1,200000\n")
    out = rates(pd.DataFrame({"provider_code": ["RA1", "ZX9"], "spells": [30, 1]}), read_populations(path))
    assert out["rate"].iloc[0] == pytest.approx(15.0)
    assert out["rate_note"].iloc[1] == "no population for ZX9"


POPULATION_FILE_ERRORS = [
    # case                          file text                                                          words in the one-line message
    ("no population column",        "provider_code,population\nRA1,100\n",                             ["no column catchment_population"]),
    ("no code column",              "code,catchment_population\nRA1,100\n",                            ["no column provider_code"]),
    ("a decimal population",        "provider_code,catchment_population\nRA1,100\nRB2,12.5\n",         ["line 3", "not a whole number"]),
    ("a population in words",       "provider_code,catchment_population\nRA1,many\n",                  ["line 2", "not a whole number"]),
    ("a thousands separator",       'provider_code,catchment_population\nRA1,"250,000"\n',             ["line 2", "not a whole number"]),
    ("a negative population",       "provider_code,catchment_population\nRA1,100\nRB2,-5\n",           ["line 3", "not a whole number"]),
    ("a zero population",           "provider_code,catchment_population\nRA1,100\nRB2,0\n",            ["line 3", "above 0"]),
    ("a blank population",          "provider_code,catchment_population\nRA1,\n",                      ["line 2", "blank"]),
    ("a blank code",                "provider_code,catchment_population\nRA1,100\n ,200\n",            ["line 3", "provider_code is blank"]),
    ("a provider listed twice",     "provider_code,catchment_population\nRA1,100\nRB2,5\nRA1,100\n",  ["lines 2, 4", "listed 2 times"]),
    ("a provider in two cases",     "provider_code,catchment_population\nRA1,100\nra1 ,5\n",         ["lines 2, 3", "listed 2 times"]),
    ("a header and nothing else",   "provider_code,catchment_population\n",                            ["no providers"]),
    ("blank lines still count",     "provider_code,catchment_population\nRA1,100\n\n,\nRB2,x\n",       ["line 5", "not a whole number"]),
    ("only blank lines",            "provider_code,catchment_population\n\n\n",                        ["no providers"]),
    ("an empty file",               "",                                                                ["cannot read"]),
    ("a population of 10^30",       "provider_code,catchment_population\nRA1,100\nRB2,1" + "0" * 30 + "\n", ["line 3", "above 100,000,000"]),
    ("just above 100 million",      "provider_code,catchment_population\nRA1,100000001\n",           ["line 2", "above 100,000,000"]),
    ("a provider listed 1000 times", "provider_code,catchment_population\n" + "RA1,100\n" * 1000,    ["lines 2, 3, 4, 5, 6, … (1,000 in all)", "listed 1000 times"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "text", "words"), POPULATION_FILE_ERRORS, ids=[row[0] for row in POPULATION_FILE_ERRORS]
)
def test_populations_file_errors_are_one_line_naming_the_file_and_row(tmp_path, case, text, words):
    path = _write(tmp_path, text, name="pop_2025.csv")
    with pytest.raises(PopulationError) as caught:
        read_populations(path)
    message = str(caught.value)
    assert isinstance(caught.value, RfdAuditError)
    assert "\n" not in message
    assert "pop_2025.csv" in message
    for word in words:
        assert word in message, (case, message)


def test_a_missing_populations_file_is_a_population_error(tmp_path):
    with pytest.raises(PopulationError, match=r"missing\.csv: cannot read"):
        read_populations(tmp_path / "missing.csv")

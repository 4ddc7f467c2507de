"""Rates per 100,000 people a year, their exact Poisson intervals, and the populations file.

Garwood's exact interval for k events at level 1 − α:

    lower = chi2.ppf(α/2, 2k) / 2      (0 when k = 0)
    upper = chi2.ppf(1 − α/2, 2k + 2) / 2

A rate is annualised from the quarter: the quarter's count over its person-years (the population
× ¼), times 100,000, i.e. count × 4 / population × 100,000; its interval is the count's interval
over the same person-years. The population is the adult one (19+) when the populations file
gives it for every provider, otherwise the whole catchment for all. A published (rounded) count
c stands for the true counts c − 2 … c + 2, and the interval runs from the lower limit of the
lowest to the upper limit of the highest.
"""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from rfd_lib.engine.classification import classify
from rfd_lib.errors import RfdAuditError
from rfd_lib.extracts.populations import PopulationError, read_populations
from rfd_lib.metrics.audit import audit_metrics
from rfd_lib.metrics.disclosure import CIRCULATION, INTERNAL, Disclosure, protect
from rfd_lib.metrics.rates import (
    Denominator,
    exact_poisson_interval,
    rate_denominator,
    rates,
    true_count_range,
)

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


# A worked example, a quarter's counts. RA1 has 200,000 people, RB2 50,000; ZX9 is not in the
# populations file. A quarter is ¼ year, so RA1 has 50,000 person-years in it and RB2 12,500.
#   RA1 2025/26 Q1: 30 spells -> 30 / 50,000 x 100,000 = 60.0 a year (the quarter's 15.0 x 4);
#                   Garwood(30) = 20.2409 .. 42.8269, x 100,000 / 50,000 -> 40.4818 .. 85.6538
#   RB2 2025/26 Q1:  0 spells -> 0.0; Garwood(0) = 0 .. 3.6889, x 100,000 / 12,500 -> 0 .. 29.5112
#   RB2 2025/26 Q2: suppressed (<NA>) -> no rate, "count suppressed"
#   ZX9 2025/26 Q1:  4 spells but no population -> no rate, "no population for ZX9"
#   ZX9 2025/26 Q2: both
#   RA1 2025/26 Q2: 10 spells -> 20.0; Garwood(10) x 2 = 9.5908 .. 36.7808
WORKED = [
    # code   quarter        spells  population  rate   lower    upper    note
    ("RA1",  "2025/26 Q1",  30,     200_000,    60.0,  40.4818, 85.6538, None),
    ("RB2",  "2025/26 Q1",  0,      50_000,     0.0,   0.0,     29.5112, None),
    ("RB2",  "2025/26 Q2",  None,   50_000,     None,  None,    None,    "count suppressed"),
    ("ZX9",  "2025/26 Q1",  4,      None,       None,  None,    None,    "no population for ZX9"),
    ("ZX9",  "2025/26 Q2",  None,   None,       None,  None,    None,    "count suppressed; no population for ZX9"),
    ("RA1",  "2025/26 Q2",  10,     200_000,    20.0,  9.5908,  36.7808, None),
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
                assert row[column] == pytest.approx(expected, abs=5e-4), (code, column)
        assert (row["rate_note"] is pd.NA) if note is None else (row["rate_note"] == note)


def test_rates_keep_the_table_rows_order_index_and_columns():
    table = _worked_table()
    out = rates(table, POPULATIONS)
    assert list(out.index) == list(table.index) and out.index.name == "row"
    assert list(out.columns) == [
        "provider_code", "quarter", "spells", "population", "denominator", "rate", "rate_lower", "rate_upper",
        "rate_note",
    ]  # fmt: skip
    assert set(out["denominator"]) == {"catchment_population"}  # the file gives no adult population
    pd.testing.assert_frame_equal(out[table.columns], table)
    assert str(out["population"].dtype) == "Int64"
    assert all(str(out[name].dtype) == "Float64" for name in ("rate", "rate_lower", "rate_upper"))
    assert isinstance(out["rate_note"].dtype, pd.StringDtype)
    assert "rate" not in table.columns  # the input is not changed


def test_rates_per_other_denominators_periods_and_levels():
    table = pd.DataFrame({"provider_code": ["RA1"], "admissions": [10]})
    # A year's count (years=1): 10 / 200,000 x 1,000 = 0.05;
    # Garwood 99.8 % (10) = 2.9605 .. 24.1340, over 200 -> 0.0148 .. 0.1207
    out = rates(table, POPULATIONS, count="admissions", per=1_000, level=0.998, years=1)
    assert out["rate"].iloc[0] == pytest.approx(0.05)
    assert out["rate_lower"].iloc[0] == pytest.approx(2.9605 / 200, abs=1e-6)
    assert out["rate_upper"].iloc[0] == pytest.approx(24.1340 / 200, abs=1e-6)
    # The same 10 over a quarter is a year's 40: 10 / (200,000 x 0.25) x 1,000 = 0.2.
    quarter = rates(table, POPULATIONS, count="admissions", per=1_000, level=0.998)
    assert quarter["rate"].iloc[0] == pytest.approx(0.2)
    assert quarter["rate_upper"].iloc[0] == pytest.approx(24.1340 / 50, abs=1e-6)


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
    with pytest.raises(ValueError, match="years must be above 0"):
        rates(pd.DataFrame({"provider_code": ["RA1"], "spells": [2]}), POPULATIONS, years=0)


# --- which population: adults (19+) when known for every provider ------------------------------
#
# RA1 has 200,000 people of whom 160,000 adults; RB2 50,000 and 40,000; RC3 75,000 and no adult
# figure. The rule counts adults only, so the adult population is the denominator when every
# provider rated has one:
#   RA1, 30 counted RFDs in a quarter: 30 / (160,000 x 0.25) x 100,000 = 75.0 a year per 100,000
#     adults (60.0 per 100,000 of the whole catchment); Garwood(30) x 100,000 / 40,000 = 50.6023 .. 107.0673
#   RB2, 12: 12 / 10,000 x 100,000 = 120.0 (96.0 of the catchment)
# Rate RC3 as well and the adult figure is missing for one of them: every rate then uses the
# catchment, so that all compare alike (RA1 back to 60.0).
WITH_ADULTS = pd.DataFrame(
    {
        "provider_code": pd.array(["RA1", "RB2", "RC3"], dtype="string"),
        "catchment_population": pd.array([200_000, 50_000, 75_000], dtype="Int64"),
        "adult_population": pd.array([160_000, 40_000, None], dtype="Int64"),
    }
)


def test_rates_are_per_adults_when_every_provider_rated_has_an_adult_population():
    table = pd.DataFrame({"provider_code": ["RA1", "RB2", "ZX9"], "spells": [30, 12, 5]})
    out = rates(table, WITH_ADULTS)
    # ZX9 is not in the file: it has no rate either way and does not decide the denominator.
    assert out["denominator"].tolist() == ["adult_population"] * 3
    assert out["population"].tolist()[:2] == [160_000, 40_000]
    assert out["rate"].tolist()[:2] == pytest.approx([75.0, 120.0])
    assert out["rate_lower"].iloc[0] == pytest.approx(20.2409 * 2.5, abs=5e-4)
    assert out["rate_upper"].iloc[0] == pytest.approx(42.8269 * 2.5, abs=5e-4)
    assert out["rate_note"].iloc[2] == "no population for ZX9"


def test_rates_use_the_catchment_for_all_when_one_provider_lacks_an_adult_population():
    table = pd.DataFrame({"provider_code": ["RA1", "RB2", "RC3"], "spells": [30, 12, 15]})
    out = rates(table, WITH_ADULTS)
    assert out["denominator"].tolist() == ["catchment_population"] * 3
    assert out["population"].tolist() == [200_000, 50_000, 75_000]
    assert out["rate"].tolist() == pytest.approx([60.0, 96.0, 80.0])
    assert rate_denominator(WITH_ADULTS, ["RA1", "RB2", "RC3"]) == Denominator(
        "catchment_population", ("RC3",)
    )
    assert rate_denominator(WITH_ADULTS, ["RA1", "RB2"]) == Denominator("adult_population")
    # No adult column at all: the catchment, and no provider singled out.
    assert rate_denominator(POPULATIONS, ["RA1"]) == Denominator("catchment_population")


# --- the interval of a rounded count -----------------------------------------------------------
#
# Published counts are rounded to the nearest 5 (counts of 1 to 7 suppressed, a 0 is a 0), so a
# published c is a true c - 2 .. c + 2, never 1 to 7:
TRUE_COUNTS = [
    # policy                                   published  lowest  highest
    (CIRCULATION,                              0,         0,      0),
    (CIRCULATION,                              10,        8,      12),
    (CIRCULATION,                              15,        13,     17),
    (CIRCULATION,                              1000,      998,    1002),
    (Disclosure(rounding=10),                  10,        8,      14),    # 5 .. 14, but 5 to 7 are suppressed
    (Disclosure(rounding=10),                  20,        15,     24),
    (INTERNAL,                                 10,        10,     10),    # true counts
    (None,                                     12,        12,     12),
]  # fmt: skip


@pytest.mark.parametrize(("policy", "published", "lowest", "highest"), TRUE_COUNTS)
def test_a_published_count_stands_for_the_true_counts_that_round_to_it(policy, published, lowest, highest):
    low, high = true_count_range([published], policy)
    assert (low[0], high[0]) == (lowest, highest)
    if policy is not None and policy.circulating and published:
        # Each of them, and nothing just outside, is published as `published` (a 1 to 7 as <NA>).
        true = list(range(lowest - 1, highest + 2))
        shown = protect(pd.DataFrame({"n": true}), ["n"], policy=policy)["n"].fillna(-1).tolist()
        assert [t for t, s in zip(true, shown, strict=True) if s == published] == list(
            range(lowest, highest + 1)
        )


# RA1 (200,000 people) publishes 10 counted RFDs in a quarter: a true 8 to 12. At 95 %:
#   lower(8) = 3.4538 events, upper(12) = 20.9616 events; over 50,000 person-years x 100,000:
#   rate 20.0 a year, interval 6.9076 .. 41.9232 (a true 10 alone: 9.5908 .. 36.7808).
# A published 0 is a true 0: 0 .. 3.6889 x 2 = 7.3778, as before.
def test_the_interval_of_a_published_count_spans_every_true_count_it_allows():
    table = pd.DataFrame(
        {"provider_code": ["RA1", "RA1", "RA1"], "spells": pd.array([10, 0, None], dtype="Int64")}
    )
    out = rates(table, POPULATIONS, policy=CIRCULATION)
    assert out["rate"].iloc[0] == pytest.approx(20.0)
    assert out["rate_lower"].iloc[0] == pytest.approx(6.9076, abs=5e-4)
    assert out["rate_upper"].iloc[0] == pytest.approx(41.9232, abs=5e-4)
    assert (out["rate_lower"].iloc[1], out["rate_upper"].iloc[1]) == (0.0, pytest.approx(7.3778, abs=5e-4))
    assert out["rate"].iloc[2] is pd.NA and out["rate_note"].iloc[2] == "count suppressed"
    # Internal mode: the count is the true count, and the interval its own.
    internal = rates(table, POPULATIONS, policy=INTERNAL)
    assert internal["rate_lower"].iloc[0] == pytest.approx(9.5908, abs=5e-4)
    assert internal["rate_upper"].iloc[0] == pytest.approx(36.7808, abs=5e-4)
    # It holds every true count's own interval: 8's lower limit to 12's upper.
    for true in range(8, 13):
        lower, upper = exact_poisson_interval([true])
        assert out["rate_lower"].iloc[0] <= lower[0] * 2 and upper[0] * 2 <= out["rate_upper"].iloc[0]


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
    assert out["rate"].iloc[0] == pytest.approx(60.0)  # 30 in a quarter, over 200,000 people
    assert out["denominator"].iloc[0] == "catchment_population"
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


# --- one date decides a spell's quarter: the discharge date (expectations.period_date) ----------
#
# One provider, RXA; every spell an elective NHS RFD on an adult with back pain (counted):
#   spell  admitted     discharged   quarter (by discharge)
#   R1     2025-03-30   2025-04-02   2025/26 Q1 (admitted in 2024/25 Q4)
#   R2     2025-05-05   2025-05-05   2025/26 Q1
#   R3     2025-06-29   2025-07-01   2025/26 Q2 (admitted in Q1)
#   R4 …   2025-06-30   (none)       none: still in hospital, counted in the notes
# The quarters charted are 2025/26 Q1 and Q2, the first to the last discharge's quarter; R1 and
# R3 each fall in one quarter, their discharge's, in the counts and in the range alike. By
# admission date instead (period_date: admission_date) the quarters are 2024/25 Q4 and 2025/26
# Q1, R1 is Q4's and R3 and every R4 Q1's.
DATED = [
    # spell  admitted      discharged
    ("R1",   "2025-03-30", "2025-04-02"),
    ("R2",   "2025-05-05", "2025-05-05"),
    ("R3",   "2025-06-29", "2025-07-01"),
]  # fmt: skip


def _rfd_spells(open_spells: int) -> pd.DataFrame:
    """Return the spells above with ``open_spells`` copies of R4 (admitted 30 June, not discharged)."""
    rows = DATED + [(f"R4-{n}", "2025-06-30", None) for n in range(open_spells)]
    n = len(rows)
    text = lambda value: pd.Series([value] * n, dtype="string")  # noqa: E731
    return pd.DataFrame(
        {
            "spell_id": pd.Series([row[0] for row in rows], dtype="string"),
            "provider_code": text("RXA"),
            "patient_id": pd.Series([f"P{i}" for i in range(n)], dtype="string"),
            "admission_date": pd.to_datetime([row[1] for row in rows]),
            "discharge_date": pd.to_datetime([row[2] for row in rows]),
            "patient_classification": text("1"),
            "Primary_Spell_Procedure": text("V485"),
            "Any_Spell_Procedure": text("||V485,Z676"),
            "Primary_Spell_Diagnosis": text("M545"),
            "Any_Spell_Diagnosis": text("||M545"),
            "Age_At_Start_of_Spell_SUS": pd.Series([50] * n, dtype="Int64"),
            "Der_Age_at_CDS_Activity_Date": pd.Series([50] * n, dtype="Int64"),
            "Admission_Method": text("11"),
            "Administrative_Category": text("01"),
        }
    )


def _counted(audit) -> dict[str, int]:
    return dict(zip(audit.volumes["quarter"], audit.volumes["counted"], strict=True))


def test_a_spell_is_in_its_discharge_quarter_and_the_quarters_are_the_discharges():
    audit = audit_metrics(classify(_rfd_spells(1)), policy=INTERNAL)
    assert audit.quarters == ["2025/26 Q1", "2025/26 Q2"] and audit.quarter == "2025/26 Q2"
    assert _counted(audit) == {"2025/26 Q1": 2, "2025/26 Q2": 1}  # R1 + R2, then R3
    assert audit.volumes["rfd_coded"].sum() == 3  # R4 is in no quarter
    assert audit.notes[0] == (
        "Quarters are NHS financial quarters of each spell's discharge date; the extract covers "
        "2025/26 Q1 to 2025/26 Q2."
    )
    assert (
        "RFD-coded spells with no discharge date yet (a patient may still be in hospital), so in no "
        "quarter and not in these figures: 1."
    ) in audit.notes


def test_by_admission_date_the_quarters_and_the_counts_move_together():
    from rfd_lib.metrics.expectations import load_expectations

    by_admission = load_expectations().model_copy(update={"period_date": "admission_date"})
    audit = audit_metrics(classify(_rfd_spells(1)), policy=INTERNAL, expectations=by_admission)
    assert audit.quarters == ["2024/25 Q4", "2025/26 Q1"]
    assert _counted(audit) == {"2024/25 Q4": 1, "2025/26 Q1": 3}  # R1; R2, R3 and R4
    assert not any("no admission date" in note for note in audit.notes)


@pytest.mark.parametrize(
    ("open_spells", "policy", "said"),
    [
        (1, INTERNAL, "1"),
        (3, CIRCULATION, "1–7"),  # a small count, as a circulated table would hide it
        (12, INTERNAL, "12"),
        (12, CIRCULATION, "10"),  # rounded to 5, like any other count
        (0, CIRCULATION, None),  # none: no note
    ],
)
def test_the_notes_count_the_spells_with_no_discharge_date_yet(open_spells, policy, said):
    audit = audit_metrics(classify(_rfd_spells(open_spells)), policy=policy)
    undated = [note for note in audit.notes if "no discharge date yet" in note]
    assert len(undated) == (0 if said is None else 1)
    if said is not None:
        assert undated[0].endswith(f"not in these figures: {said}.")

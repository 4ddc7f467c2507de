"""Rates per 100,000 people a year, annualised from the quarter, with exact Poisson intervals.

Which population
    The rule counts adults only (aged 19 to 120), so a rate is per 100,000 *adults* (aged 19 and
    over: the populations file's ``adult_population``) whenever the file gives an adult
    population for every provider rated. When it gives none, the rate is per 100,000 of the whole
    catchment population (all ages), and says so: with about four in five people adults, such a
    rate is about a fifth lower than the adult rate. When it gives one for some providers only,
    every rate uses the whole catchment: rates are compared (the funnel plot, the league table),
    and a comparison must divide every provider by the same kind of population, or those with an
    adult figure would look about a quarter higher than those without. :func:`rate_denominator`
    makes the choice, the same for the rates, the funnel and the expected-rate check; the
    ``denominator`` column names it and the audit's notes say it.

The unit: per year, annualised from the quarter
    A rate is events per ``per`` people per year: the count over the person-years of its period,
    the population × ``years`` (¼ for a quarter), which for a quarter is its count × 4 per
    ``per`` people. Annualising the quarter rather than adding up the rolling four quarters
    (``rolling_quarters``), because the report is about the quarter audited: its counts, checks
    and funnel are that quarter's, and a rolling total would mix in three earlier quarters, so a
    change in the quarter audited would show at a quarter of its size. A rolling total is also
    unknown until the fourth quarter of the data and whenever one of its quarters is suppressed,
    and the sum of four rounded counts is uncertain by ±8 where one is by ±2. The cost is that an
    annualised quarter carries the quarter's season and its own Poisson noise: the interval says
    how much. Quarters are 90 to 92 days, so × 4 is within 1.5 % of annualising by days. The
    expected rate of the checks (``expected_rate_per_100000``) is in the same unit.

The interval, honest about rounding
    Garwood's (1936) exact interval for a Poisson count ``k``, from the chi-square relation of
    the Poisson and gamma tails::

        lower = chi2.ppf(α/2, 2k) / 2        (0 when k = 0)
        upper = chi2.ppf(1 − α/2, 2k + 2) / 2

    with α = 1 − level. It is the interval of R's ``poisson.test`` and of the Public Health
    England technical guide on confidence intervals ("exact" method), and it never falls below
    zero; for k = 10 at 95 % it is 4.7954 to 18.3904 (Garwood's table). A rate's interval is the
    count's interval over the person-years: the population is taken as known, not estimated.

    A count published under a circulation policy is rounded (to 5 by default), so the true count
    is any the rounding maps to it: a published 10 is a true 8 to 12. The interval then runs
    from the lower limit of the lowest true count to the upper limit of the highest
    (:func:`true_count_range`): for a published 10 at 95 %, from lower(8) = 3.4538 to upper(12)
    = 20.9616 events, where a true 10 alone gives 4.7954 to 18.3904. It covers the true rate at
    least as often as the level says, whichever true count it was. A published 0 is a true 0
    (zeros are not rounded), and counts 1 to the threshold are suppressed, so a published count
    never stands for one of those. In internal mode the counts are true counts, and the interval
    is the count's own.

A count may be ``<NA>`` because disclosure control suppressed it, and a provider may be missing
from the populations file: neither raises nor drops the row; the rate is ``<NA>`` and
``rate_note`` says why.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rfd_lib.extracts.populations import ADULT_POPULATION, POPULATION_COLUMNS
from rfd_lib.metrics.disclosure import Disclosure

__all__ = ["Denominator", "exact_poisson_interval", "rate_denominator", "rates", "true_count_range"]

RATE_COLUMNS = ("population", "denominator", "rate", "rate_lower", "rate_upper", "rate_note")
CATCHMENT_POPULATION = "catchment_population"
# The person-years of a quarter's population: a quarter's rate × 4 is a rate per year.
QUARTER_YEARS = 0.25


@dataclass(frozen=True)
class Denominator:
    """Which population the rates divide by, and why (see the module docstring).

    ``column`` is ``"adult_population"`` or ``"catchment_population"``. ``without_adult`` lists
    the providers rated with no adult population when others have one: the reason every rate
    uses the catchment (empty when the file gives adult populations for all or for none).
    """

    column: str
    without_adult: tuple[str, ...] = ()

    @property
    def adult(self) -> bool:
        """Return True when the rates are per adults (19+)."""
        return self.column == ADULT_POPULATION


def rate_denominator(populations: pd.DataFrame, providers: Iterable[str]) -> Denominator:
    """Return the population the rates of ``providers`` divide by: adults (19+) if known for all.

    ``populations`` is what :func:`rfd_lib.extracts.populations.read_populations` returns. The
    adult population is used when the file has an ``adult_population`` column and it gives a
    value for every one of ``providers`` the file lists; otherwise the catchment (all ages) is
    used for every provider, so that all rates compare. Providers the file does not list have no
    rate either way and do not decide.
    """
    if ADULT_POPULATION not in populations.columns:
        return Denominator(CATCHMENT_POPULATION)
    wanted = pd.Series(list(providers), dtype="string").dropna().unique()
    listed = populations[populations["provider_code"].astype("string").isin(wanted)]
    known = listed[ADULT_POPULATION].notna()
    if len(listed) and known.all():
        return Denominator(ADULT_POPULATION)
    without = sorted(listed.loc[~known, "provider_code"].astype(str)) if known.any() else []
    return Denominator(CATCHMENT_POPULATION, tuple(without))


def true_count_range(counts: object, policy: Disclosure | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Return the lowest and highest true count each published count can stand for.

    ``policy`` is the disclosure policy the counts were published under; ``None`` or an internal
    policy means they are true counts (both ends are the count). Under circulation, a published
    0 is a true 0, and a published ``c`` > 0 is a count the rounding (to the nearest
    ``policy.rounding``, halves up) maps to ``c``, and above ``policy.threshold`` (smaller counts
    are suppressed): with rounding 5 and threshold 7, ``c − 2`` to ``c + 2`` (10 is 8 to 12, 0 is
    0). A missing (suppressed) count gives ``NaN`` at both ends. Raises ``ValueError`` for a
    count that is negative or fractional.
    """
    k = _counts_array(counts, "counts")
    if policy is None or not policy.circulating:
        return k.copy(), k.copy()
    step = policy.rounding
    # c stands for the whole numbers v with c - step/2 <= v < c + step/2.
    lowest = np.where(k > 0, np.maximum(k - step // 2, policy.threshold + 1), k)
    highest = np.where(k > 0, k + (step + 1) // 2 - 1, k)
    return lowest, highest


def exact_poisson_interval(counts: object, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Return the exact (Garwood) Poisson confidence interval of each count, as ``(lower, upper)``.

    ``counts`` is anything array-like of whole numbers ≥ 0 (a list, a numpy array, a pandas
    ``Int64`` column); a missing count (``<NA>``, ``None``, ``NaN``) gives ``NaN`` at both ends.
    The two float arrays have the shape of ``counts``. Raises ``ValueError`` if ``level`` is not
    strictly between 0 and 1, or a count is negative, fractional or infinite.
    """
    _check_level(level)
    from scipy import stats  # imported when used: report kernels only read rates, quickly

    k = _counts_array(counts, "counts")
    alpha = 1.0 - level
    with np.errstate(invalid="ignore"):
        # chi2 with 0 degrees of freedom is undefined; the lower limit of k = 0 is 0 by definition.
        lower = np.where(k == 0, 0.0, stats.chi2.ppf(alpha / 2, np.where(k > 0, 2 * k, np.nan)) / 2)
        upper = stats.chi2.ppf(1 - alpha / 2, 2 * k + 2) / 2
    return np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)


def rates(
    table: pd.DataFrame,
    populations: pd.DataFrame,
    count: str = "spells",
    per: float = 100_000,
    level: float = 0.95,
    *,
    years: float = QUARTER_YEARS,
    policy: Disclosure | None = None,
) -> pd.DataFrame:
    """Return ``table`` with each row's rate per ``per`` people a year and its exact interval.

    ``table`` has a ``provider_code`` column, the ``count`` column (whole numbers over a period
    of ``years`` years, a quarter by default; ``<NA>`` where disclosure control suppressed the
    count) and any other columns, such as ``quarter``, which are kept as they are, in the same
    order and with the same index. ``populations`` has ``provider_code``,
    ``catchment_population`` and optionally ``adult_population`` (as :func:`read_populations`
    returns); :func:`rate_denominator` chooses which one every row divides by. ``policy`` is the
    disclosure policy the counts were published under (``None``: true counts), which widens the
    interval to every true count a rounded count allows (:func:`true_count_range`).

    Added columns: ``population`` (``Int64``, the population divided by), ``denominator`` (text,
    the same in every row: ``"adult_population"`` or ``"catchment_population"``), ``rate``,
    ``rate_lower`` and ``rate_upper`` (``Float64``, per ``per`` people per year: the count over
    ``population × years``; the interval at ``level`` by :func:`exact_poisson_interval`) and
    ``rate_note`` (text): ``<NA>`` where there is a rate, otherwise why not — ``"count
    suppressed"``, ``"no population for ZX9"`` or both, separated by ``"; "``. Raises
    ``ValueError`` for a missing column, a column the result would overwrite, a blank provider
    code, a provider listed twice in ``populations``, a population ≤ 0, a count that is negative
    or fractional, ``per`` or ``years`` ≤ 0 or ``level`` outside (0, 1).
    """
    _check_level(level)
    if not per > 0:
        raise ValueError(f"per must be above 0, not {per!r}")
    if not (isinstance(years, int | float) and years > 0):
        raise ValueError(f"years must be above 0 (a quarter is 0.25), not {years!r}")
    _require_columns(table, ("provider_code", count), "table")
    _require_columns(populations, POPULATION_COLUMNS, "populations")
    clashes = [name for name in RATE_COLUMNS if name in table.columns]
    if clashes:
        raise ValueError(f"table already has column(s) {', '.join(clashes)}, which rates() would overwrite")
    codes = table["provider_code"]
    if codes.isna().any():
        raise ValueError(f"table has {int(codes.isna().sum())} row(s) without a provider_code")

    denominator = rate_denominator(populations, codes)
    population = codes.astype(str).map(_population_lookup(populations, denominator.column)).astype("Int64")
    k = _counts_array(table[count], f"column {count!r}")
    lowest, highest = true_count_range(k, policy)
    lower = exact_poisson_interval(lowest, level)[0]
    upper = exact_poisson_interval(highest, level)[1]
    person_years = population.to_numpy(dtype=float, na_value=np.nan) * years / per

    out = table.copy()
    out["population"] = population
    out["denominator"] = pd.Series(denominator.column, index=table.index, dtype="string")
    with np.errstate(invalid="ignore"):
        out["rate"] = pd.array(k / person_years, dtype="Float64")
        out["rate_lower"] = pd.array(lower / person_years, dtype="Float64")
        out["rate_upper"] = pd.array(upper / person_years, dtype="Float64")
    out["rate_note"] = _notes(np.isnan(k), population.isna().to_numpy(), codes)
    return out


def _check_level(level: float) -> None:
    if not (isinstance(level, int | float) and 0 < level < 1):
        raise ValueError(f"level must be strictly between 0 and 1 (e.g. 0.95), not {level!r}")


def _require_columns(frame: pd.DataFrame, names: Sequence[str], what: str) -> None:
    missing = [name for name in names if name not in frame.columns]
    if missing:
        raise ValueError(f"{what} has no column {', '.join(map(repr, missing))}")


def _counts_array(counts: object, what: str) -> np.ndarray:
    """Return ``counts`` as a float array with NaN for missing values, after checking them."""
    if isinstance(counts, np.ndarray) and counts.dtype.kind in "iuf":
        values = counts.astype(float)
    else:
        scalar = np.ndim(counts) == 0
        try:
            values = pd.array([counts] if scalar else counts).to_numpy(dtype=float, na_value=np.nan)
        except (TypeError, ValueError):
            raise ValueError(f"{what}: counts must be whole numbers") from None
        if scalar:
            values = values.reshape(())
    present = values[~np.isnan(values)]
    if np.isinf(present).any() or (present != np.floor(present)).any():
        raise ValueError(f"{what}: counts must be whole numbers")
    if (present < 0).any():
        raise ValueError(f"{what}: counts cannot be negative")
    return values


def _population_lookup(populations: pd.DataFrame, column: str = CATCHMENT_POPULATION) -> pd.Series:
    """Return the population in ``column`` by provider code, after checking codes and populations."""
    codes = populations["provider_code"]
    if codes.isna().any():
        raise ValueError("populations has a row without a provider_code")
    if codes.duplicated().any():
        raise ValueError(f"populations lists provider {codes[codes.duplicated()].iloc[0]} more than once")
    values = pd.to_numeric(populations[column]).to_numpy(dtype=float, na_value=np.nan)
    present = values[~np.isnan(values)]
    if (present <= 0).any() or (present != np.floor(present)).any():
        raise ValueError(f"populations: every {column} must be a whole number above 0")
    return pd.Series(values, index=codes.astype(str).to_numpy())


def _notes(suppressed: np.ndarray, no_population: np.ndarray, codes: pd.Series) -> pd.Series:
    """Return the note saying why each row has no rate, ``<NA>`` where it has one."""
    missing = "no population for " + codes.astype(str).to_numpy(dtype=object)
    note = np.where(
        suppressed & no_population,
        "count suppressed; " + missing,
        np.where(suppressed, "count suppressed", np.where(no_population, missing, None)),
    )
    return pd.Series(note, index=codes.index, dtype="string")

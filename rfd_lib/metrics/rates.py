"""Rates per 100,000 catchment population with exact Poisson confidence intervals.

The interval is Garwood's (1936) exact interval for a Poisson count ``k``, from the chi-square
relation of the Poisson and gamma tails::

    lower = chi2.ppf(α/2, 2k) / 2        (0 when k = 0)
    upper = chi2.ppf(1 − α/2, 2k + 2) / 2

with α = 1 − level. It is the interval of R's ``poisson.test`` and of the Public Health England
technical guide on confidence intervals ("exact" method), and it never falls below zero; for
k = 10 at 95 % it is 4.7954 to 18.3904 (Garwood's table). A rate's interval is the count's interval
divided by the population: the population is taken as known, not estimated.

The population is the provider's catchment population, read from the populations file by
:func:`rfd_lib.extracts.populations.read_populations`. A rate is events in the period of the count
(a quarter, a year) per ``per`` people; it is not annualised. A count may be ``<NA>`` because
disclosure control suppressed it, and a provider may be missing from the populations file:
neither raises nor drops the row; the rate is ``<NA>`` and ``rate_note`` says why.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from rfd_lib.extracts.populations import POPULATION_COLUMNS

__all__ = ["exact_poisson_interval", "rates"]

RATE_COLUMNS = ("population", "rate", "rate_lower", "rate_upper", "rate_note")


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
) -> pd.DataFrame:
    """Return ``table`` with each row's rate per ``per`` catchment population and its exact interval.

    ``table`` has a ``provider_code`` column, the ``count`` column (whole numbers; ``<NA>`` where
    disclosure control suppressed the count) and any other columns, such as ``quarter``, which are
    kept as they are, in the same order and with the same index. ``populations`` has
    ``provider_code`` and ``catchment_population`` (as :func:`read_populations` returns).

    Added columns: ``population`` (``Int64``, the catchment population), ``rate``, ``rate_lower``
    and ``rate_upper`` (``Float64``, per ``per`` people, the interval at ``level`` by
    :func:`exact_poisson_interval`) and ``rate_note`` (text): ``<NA>`` where there is a rate,
    otherwise why not — ``"count suppressed"``, ``"no population for ZX9"`` or both, separated by
    ``"; "``. Raises ``ValueError`` for a missing column, a column the result would overwrite, a
    blank provider code, a provider listed twice in ``populations``, a population ≤ 0, a count
    that is negative or fractional, ``per`` ≤ 0 or ``level`` outside (0, 1).
    """
    _check_level(level)
    if not per > 0:
        raise ValueError(f"per must be above 0, not {per!r}")
    _require_columns(table, ("provider_code", count), "table")
    _require_columns(populations, POPULATION_COLUMNS, "populations")
    clashes = [name for name in RATE_COLUMNS if name in table.columns]
    if clashes:
        raise ValueError(f"table already has column(s) {', '.join(clashes)}, which rates() would overwrite")
    codes = table["provider_code"]
    if codes.isna().any():
        raise ValueError(f"table has {int(codes.isna().sum())} row(s) without a provider_code")

    population = codes.astype(str).map(_population_lookup(populations)).astype("Int64")
    k = _counts_array(table[count], f"column {count!r}")
    lower, upper = exact_poisson_interval(k, level)
    denominator = population.to_numpy(dtype=float, na_value=np.nan) / per

    out = table.copy()
    out["population"] = population
    with np.errstate(invalid="ignore"):
        out["rate"] = pd.array(k / denominator, dtype="Float64")
        out["rate_lower"] = pd.array(lower / denominator, dtype="Float64")
        out["rate_upper"] = pd.array(upper / denominator, dtype="Float64")
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


def _population_lookup(populations: pd.DataFrame) -> pd.Series:
    """Return catchment population by provider code, after checking codes and populations."""
    codes = populations["provider_code"]
    if codes.isna().any():
        raise ValueError("populations has a row without a provider_code")
    if codes.duplicated().any():
        raise ValueError(f"populations lists provider {codes[codes.duplicated()].iloc[0]} more than once")
    values = pd.to_numeric(populations["catchment_population"]).to_numpy(dtype=float, na_value=np.nan)
    present = values[~np.isnan(values)]
    if (present <= 0).any() or (present != np.floor(present)).any():
        raise ValueError("populations: every catchment_population must be a whole number above 0")
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

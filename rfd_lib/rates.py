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
:func:`read_populations`. A rate is events in the period of the count (a quarter, a year) per
``per`` people; it is not annualised. A count may be ``<NA>`` because disclosure control
suppressed it, and a provider may be missing from the populations file: neither raises nor drops
the row; the rate is ``<NA>`` and ``rate_note`` says why.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from rfd_lib.errors import RfdAuditError
from rfd_lib.yaml_model import listed

__all__ = ["PopulationError", "check_populations", "exact_poisson_interval", "rates", "read_populations"]

RATE_COLUMNS = ("population", "rate", "rate_lower", "rate_upper", "rate_note")
POPULATION_COLUMNS = ("provider_code", "catchment_population")
# England's population is about 57 million: a larger catchment is a typing mistake (or a hostile file).
MAX_POPULATION = 100_000_000


class PopulationError(RfdAuditError):
    """The populations file cannot be used (missing column, bad population, provider listed twice)."""


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


def read_populations(path: str | Path) -> pd.DataFrame:
    """Return the populations file at ``path`` as a frame, one row per provider.

    The file is a CSV with a header and the columns ``provider_code``, ``catchment_population``
    and, optionally, ``provider_name`` (other columns are kept). Every value is read as text, so
    codes are never turned into numbers; blanks around values are removed. The frame has
    ``provider_code`` and ``provider_name`` as text and ``catchment_population`` as ``Int64``.
    Blank lines are skipped. Raises :class:`PopulationError`, one line naming the file and the
    line of the file (the header is line 1; blank lines count), if the file cannot be read or has
    no rows, a column is missing, a provider code is blank, a population is blank, not a whole
    number, ≤ 0 or above :data:`MAX_POPULATION`, or a provider is listed twice.
    """
    path = Path(path)
    try:
        frame = pd.read_csv(
            path, dtype=str, keep_default_na=False, skip_blank_lines=False, encoding="utf-8-sig"
        )
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        reason = str(error).replace("\n", " ")
        raise PopulationError(f"{path}: cannot read the populations file ({reason})") from None
    frame.columns = [str(name).strip() for name in frame.columns]
    missing = [name for name in POPULATION_COLUMNS if name not in frame.columns]
    if missing:
        raise PopulationError(
            f"{path}: no column {' or '.join(missing)} in the header",
            hint="the header needs provider_code, catchment_population and optionally provider_name",
        )
    for name in frame.columns:
        frame[name] = frame[name].str.strip()
    # Blank lines are read as empty rows, not skipped, so that line numbers stay those of the file.
    line = np.arange(2, len(frame) + 2)  # the header is line 1
    empty = (frame == "").all(axis=1).to_numpy()
    frame, line = frame[~empty].reset_index(drop=True), line[~empty]
    if frame.empty:
        raise PopulationError(f"{path}: the file has a header but no providers")

    codes = frame["provider_code"].str.upper()  # as the extract's codes are read (validate.fold_codes)
    blank = (codes == "").to_numpy()
    if blank.any():
        raise PopulationError(f"{path}: line {line[blank][0]}: provider_code is blank")

    text = frame["catchment_population"]
    # Whole numbers written plainly ("250000"): no sign, separator, decimal point or exponent.
    whole = text.str.fullmatch(r"[0-9]+").to_numpy(dtype=bool)
    if not whole.all():
        first = line[~whole][0]
        what = "blank" if text[~whole].iloc[0] == "" else "not a whole number"
        raise PopulationError(
            f"{path}: line {first}: catchment_population is {what}",
            hint="write each population as digits only, e.g. 250000",
        )
    # More than nine significant digits is above MAX_POPULATION, and would overflow Int64 past 19.
    implausible = text.str.lstrip("0").str.len().gt(len(str(MAX_POPULATION))).to_numpy(dtype=bool)
    population = pd.to_numeric(text.where(~implausible, "0")).astype("Int64")
    implausible = implausible | (population > MAX_POPULATION).to_numpy(dtype=bool)
    if implausible.any():
        raise PopulationError(
            f"{path}: line {line[implausible][0]}: catchment_population is above {MAX_POPULATION:,}",
            hint="a catchment population is the people a provider serves, at most a few million",
        )
    positive = (population > 0).to_numpy(dtype=bool)
    if not positive.all():
        raise PopulationError(f"{path}: line {line[~positive][0]}: catchment_population must be above 0")

    repeated = codes.duplicated(keep=False).to_numpy()
    if repeated.any():
        first_code = codes[repeated].iloc[0]
        lines = line[(codes == first_code).to_numpy()]
        raise PopulationError(
            f"{path}: lines {listed(list(lines))}: the same provider_code is listed {len(lines)} times",
            hint="keep one row per provider",
        )

    frame["provider_code"] = codes.astype("string")
    if "provider_name" in frame.columns:
        frame["provider_name"] = frame["provider_name"].astype("string")
    frame["catchment_population"] = population
    return frame


def check_populations(populations: pd.DataFrame, providers: Iterable[str], source: str | Path) -> list[str]:
    """Return the extract's ``providers`` that ``populations`` does not list, sorted.

    ``populations`` is what :func:`read_populations` returned for the file ``source``. Raises
    :class:`PopulationError` (one line naming ``source``) when none of ``providers`` is listed:
    no rate could be given, so the file is almost certainly the wrong one. Codes are compared
    exactly, as :func:`rates` looks them up.
    """
    wanted = pd.Series(list(providers), dtype="string").dropna().drop_duplicates().sort_values()
    missing = wanted[~wanted.isin(populations["provider_code"].astype("string"))].tolist()
    if len(wanted) and len(missing) == len(wanted):
        raise PopulationError(
            f"{source}: none of the extract's {len(missing)} provider(s) ({listed(missing)}) is in this file",
            hint="is it the right populations file? its provider_code column must hold the extract's codes",
        )
    return missing


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

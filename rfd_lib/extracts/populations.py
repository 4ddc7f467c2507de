"""The populations file: each provider's catchment population (and name), read and checked.

A CSV with a header and the columns ``provider_code``, ``catchment_population`` and, optionally,
``adult_population`` and ``provider_name``. The catchment population is everyone a provider
serves (all ages); the adult population is the part of it aged 19 and over, the ages the rule
counts (19–120), and rates use it when every provider has one (:mod:`rfd_lib.metrics.rates`). A
blank adult population is allowed (not known for that provider). Age bands are not read: a rate
by age band would need the spells by band too, and one adult denominator answers the rule. It
is an input like the extracts, so it is read here, in the extracts layer; the rates use what
:func:`read_populations` returns.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from rfd_lib.errors import RfdAuditError
from rfd_lib.yaml_model import listed

POPULATION_COLUMNS = ("provider_code", "catchment_population")
# Optional: the people aged 19 and over in the catchment (the rule counts adults, 19-120).
ADULT_POPULATION = "adult_population"
# England's population is about 57 million: a larger catchment is a typing mistake (or a hostile file).
MAX_POPULATION = 100_000_000


class PopulationError(RfdAuditError):
    """The populations file cannot be used (missing column, bad population, provider listed twice)."""


def read_populations(path: str | Path) -> pd.DataFrame:
    """Return the populations file at ``path`` as a frame, one row per provider.

    The file is a CSV with a header and the columns ``provider_code``, ``catchment_population``
    and, optionally, ``adult_population`` and ``provider_name`` (other columns are kept). Every
    value is read as text, so codes are never turned into numbers; blanks around values are
    removed. The frame has ``provider_code`` and ``provider_name`` as text and the populations
    as ``Int64`` (a blank adult population ``<NA>``). Blank lines are skipped. Raises
    :class:`PopulationError`, one line naming the file, the line of the file (the header is line
    1; blank lines count) and the column, if the file cannot be read or has no rows, a column is
    missing, a provider code is blank, a catchment population is blank, a population is not a
    whole number, ≤ 0 or above :data:`MAX_POPULATION`, an adult population is above its
    catchment population, or a provider is listed twice.
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
            hint=(
                "the header needs provider_code, catchment_population and optionally "
                "adult_population and provider_name"
            ),
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

    population = _populations(frame, "catchment_population", line, path)
    if ADULT_POPULATION in frame.columns:
        adults = _populations(frame, ADULT_POPULATION, line, path, blank=True)
        larger = (adults > population).fillna(False).to_numpy(dtype=bool)
        if larger.any():
            raise PopulationError(
                f"{path}: line {line[larger][0]}: {ADULT_POPULATION} is above catchment_population",
                hint="the adults (19 and over) are part of the catchment: give the people aged 19+ only",
            )
        frame[ADULT_POPULATION] = adults

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


def _populations(
    frame: pd.DataFrame, column: str, line: np.ndarray, path: Path, *, blank: bool = False
) -> pd.Series:
    """Return ``column`` as ``Int64`` whole numbers from 1 to :data:`MAX_POPULATION`, or raise.

    ``blank``: a blank value is allowed and read as ``<NA>`` (not known for that provider).
    """
    text = frame[column]
    empty = (text == "").to_numpy(dtype=bool) if blank else np.zeros(len(text), dtype=bool)
    # Whole numbers written plainly ("250000"): no sign, separator, decimal point or exponent.
    whole = text.str.fullmatch(r"[0-9]+").to_numpy(dtype=bool) | empty
    if not whole.all():
        first = line[~whole][0]
        what = "blank" if text[~whole].iloc[0] == "" else "not a whole number"
        raise PopulationError(
            f"{path}: line {first}: {column} is {what}",
            hint="write each population as digits only, e.g. 250000",
        )
    # More than nine significant digits is above MAX_POPULATION, and would overflow Int64 past 19.
    implausible = text.str.lstrip("0").str.len().gt(len(str(MAX_POPULATION))).to_numpy(dtype=bool)
    population = pd.to_numeric(text.where(~(implausible | empty), "0")).astype("Int64")
    implausible = implausible | (population > MAX_POPULATION).to_numpy(dtype=bool)
    if implausible.any():
        raise PopulationError(
            f"{path}: line {line[implausible][0]}: {column} is above {MAX_POPULATION:,}",
            hint="a population is the people a provider serves, at most a few million",
        )
    positive = (population > 0).to_numpy(dtype=bool) | empty
    if not positive.all():
        raise PopulationError(f"{path}: line {line[~positive][0]}: {column} must be above 0")
    return population.mask(empty)


def check_populations(populations: pd.DataFrame, providers: Iterable[str], source: str | Path) -> list[str]:
    """Return the extract's ``providers`` that ``populations`` does not list, sorted.

    ``populations`` is what :func:`read_populations` returned for the file ``source``. Raises
    :class:`PopulationError` (one line naming ``source``) when none of ``providers`` is listed:
    no rate could be given, so the file is almost certainly the wrong one. Codes are compared
    exactly, as :func:`rfd_lib.metrics.rates.rates` looks them up.
    """
    wanted = pd.Series(list(providers), dtype="string").dropna().drop_duplicates().sort_values()
    missing = wanted[~wanted.isin(populations["provider_code"].astype("string"))].tolist()
    if len(wanted) and len(missing) == len(wanted):
        raise PopulationError(
            f"{source}: none of the extract's {len(missing)} provider(s) ({listed(missing)}) is in this file",
            hint="is it the right populations file? its provider_code column must hold the extract's codes",
        )
    return missing

"""Link a patient's spells over time: a block before an RFD, and an RFD soon after another.

Both work on pseudonymised patient identifiers within one provider's extract (a patient treated
at two providers is two patients here, as the extracts are per provider). Dates are the spells'
admission dates: a procedure is done on admission for day cases, which RFD nearly always is.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd


def block_before(
    rfd: pd.DataFrame, blocks: pd.DataFrame, *, months: int, data_start: pd.Timestamp
) -> pd.DataFrame:
    """Return, per RFD spell, whether the patient had a block in the ``months`` before it.

    ``rfd`` and ``blocks`` have ``provider_code``, ``patient_id`` and ``admission_date``; the
    result has ``rfd``'s index and columns ``prior_block`` (boolean; ``<NA>`` where it cannot be
    assessed) and ``prior_block_note``. It cannot be assessed without a patient identifier, or
    when the look-back starts before ``data_start`` and no block was found (the block may predate
    the extract). A block on the day of the RFD counts (same-day block and denervation is coded so).
    """
    window_start = rfd["admission_date"] - pd.DateOffset(months=months)
    latest = _latest_before(rfd, blocks)
    found = latest.ge(window_start) & latest.le(rfd["admission_date"])
    found = found.fillna(False).astype(bool)
    unknown_patient = rfd["patient_id"].isna()
    truncated = window_start.lt(data_start) & ~found
    prior = pd.Series(found, index=rfd.index, dtype="boolean")
    prior[unknown_patient | truncated] = pd.NA
    note = pd.Series(pd.NA, index=rfd.index, dtype="string")
    note[truncated] = "look-back starts before the extract"
    note[unknown_patient] = "no patient identifier"
    return pd.DataFrame({"prior_block": prior, "prior_block_note": note})


def intervals(rfd: pd.DataFrame, *, months: int, data_start: pd.Timestamp) -> pd.DataFrame:
    """Return, per RFD spell, the days since the patient's previous RFD and whether that is a repeat.

    ``repeat`` is True when the previous RFD was fewer than ``months`` calendar months before;
    ``<NA>`` without a patient identifier, or with no earlier RFD when the look-back starts before
    ``data_start`` (an earlier one may predate the extract). ``days_since_previous`` is ``<NA>``
    for a patient's first RFD in the data.
    """
    keyed = rfd[["provider_code", "patient_id", "admission_date"]].copy()
    keyed["_row"] = np.arange(len(keyed))
    ordered = keyed.dropna(subset=["patient_id"]).sort_values(
        ["provider_code", "patient_id", "admission_date", "_row"]
    )
    previous = ordered.groupby(["provider_code", "patient_id"], sort=False)["admission_date"].shift()
    days = (ordered["admission_date"] - previous).dt.days
    since = pd.Series(pd.NA, index=rfd.index, dtype="Int64")
    since.iloc[ordered["_row"].to_numpy()] = days.astype("Int64").to_numpy()
    previous_date = pd.Series(pd.NaT, index=rfd.index, dtype=rfd["admission_date"].dtype)
    previous_date.iloc[ordered["_row"].to_numpy()] = previous.to_numpy()
    window_start = rfd["admission_date"] - pd.DateOffset(months=months)
    repeat = previous_date.gt(window_start).astype("boolean")
    first_seen = previous_date.isna()
    repeat[first_seen] = False
    repeat[first_seen & window_start.lt(data_start)] = pd.NA
    repeat[rfd["patient_id"].isna()] = pd.NA
    return pd.DataFrame({"days_since_previous": since, "repeat": repeat})


def _latest_before(rfd: pd.DataFrame, blocks: pd.DataFrame) -> pd.Series:
    """Return, per RFD, the latest block date on or before it for the same patient (NaT if none)."""
    left = rfd[["provider_code", "patient_id", "admission_date"]].copy()
    left["_row"] = np.arange(len(left))
    left = left.dropna(subset=["patient_id", "admission_date"]).sort_values("admission_date")
    right = (
        blocks[["provider_code", "patient_id", "admission_date"]]
        .dropna()
        .rename(columns={"admission_date": "block_date"})
        .sort_values("block_date")
    )
    right["admission_date"] = right["block_date"]
    matched = pd.merge_asof(
        left, right, on="admission_date", by=["provider_code", "patient_id"], direction="backward"
    )
    latest = pd.Series(pd.NaT, index=rfd.index, dtype=rfd["admission_date"].dtype)
    latest.iloc[matched["_row"].to_numpy()] = matched["block_date"].to_numpy()
    return latest


# Bands of months between a patient's denervations; the policy's 16 months is a boundary.
INTERVAL_BANDS = (0, 6, 12, 16, 24, 36)


def interval_bands(days: pd.Series, bands: tuple[int, ...] = INTERVAL_BANDS) -> pd.Series:
    """Return the band of months each interval falls in ('6-12 months', '36+ months'), ordered.

    Months are days / 30.44 (a mean month); ``<NA>`` stays missing.
    """
    labels = [f"{low}-{high} months" for low, high in itertools.pairwise(bands)] + [f"{bands[-1]}+ months"]
    months = days.astype("Float64") / 30.44
    cut = pd.cut(months.astype(float), [*bands, np.inf], right=False, labels=labels)
    return cut

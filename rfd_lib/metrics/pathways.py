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

    ``rfd`` and ``blocks`` have ``provider_code``, ``patient_id`` and ``admission_date``; ``rfd``
    may have ``block_in_spell`` (a medial branch block coded among the RFD spell's own
    procedures). The result has ``rfd``'s index and columns ``prior_block`` (boolean; ``<NA>``
    where it cannot be assessed) and ``prior_block_note``. A block in the same spell is before
    the RFD (a spell's procedures carry no times, and a block is not done after the
    denervation it tests for), so that RFD has a prior block even without a patient identifier.
    Otherwise it cannot be assessed without a patient identifier, or when the look-back starts
    before ``data_start`` and no block was found (the block may predate the extract). A block on
    the day of the RFD counts (same-day block and denervation is coded so).
    """
    window_start = rfd["admission_date"] - pd.DateOffset(months=months)
    latest = _latest_before(rfd, blocks)
    found = latest.ge(window_start) & latest.le(rfd["admission_date"])
    found = found.fillna(False).astype(bool)
    in_spell = (
        rfd["block_in_spell"].fillna(False).astype(bool)
        if "block_in_spell" in rfd
        else pd.Series(False, index=rfd.index)
    )
    found = found | in_spell
    unknown_patient = rfd["patient_id"].isna() & ~in_spell
    truncated = window_start.lt(data_start) & ~found
    prior = pd.Series(found, index=rfd.index, dtype="boolean")
    prior[unknown_patient | truncated] = pd.NA
    note = pd.Series(pd.NA, index=rfd.index, dtype="string")
    note[truncated] = "look-back starts before the extract"
    note[unknown_patient] = "no patient identifier"
    return pd.DataFrame({"prior_block": prior, "prior_block_note": note})


def intervals(rfd: pd.DataFrame, *, months: int, data_start: pd.Timestamp) -> pd.DataFrame:
    """Return, per RFD spell, the days since the patient's previous RFD and whether it is a repeat.

    ``days_since_previous`` is the days since the patient's previous RFD on any side (``<NA>``
    for a patient's first RFD in the data). Where ``rfd`` has ``left`` and ``right`` (the sides
    its laterality codes say; neither: no side coded), a repeat is on the same side: an RFD is a
    repeat when an earlier one fewer than ``months`` calendar months before shares a side with
    it (bilateral is both), or when it or that earlier one has no side coded (then any side
    counts, as without laterality at all, and ``repeat_without_side`` is True). So a left RFD
    then a right one weeks later is staged treatment, not a repeat; a bilateral one then a left
    one is. ``repeat`` is ``<NA>`` without a patient identifier, or with no earlier RFD when the
    look-back starts before ``data_start`` (an earlier one may predate the extract); an RFD
    with an earlier one is assessed on what the extract shows, so one whose only earlier RFD
    in the window is on the other side is not a repeat even where the window starts before the
    extract.
    """
    keyed = rfd[["provider_code", "patient_id", "admission_date"]].copy()
    keyed["_row"] = np.arange(len(keyed))
    left = _side(rfd, "left")
    right = _side(rfd, "right")
    keyed["_left"], keyed["_right"] = left, right
    ordered = keyed.dropna(subset=["patient_id", "admission_date"]).sort_values(
        ["admission_date", "provider_code", "patient_id", "_row"]
    )
    # Each RFD's position in time (ties by row): "earlier" is a smaller position, never itself.
    ordered["_at"] = np.arange(len(ordered), dtype=np.int64)
    sided = ordered["_left"] | ordered["_right"]

    def latest(candidates: pd.Series) -> np.ndarray:
        """Return, per RFD (by row), the date of the patient's latest earlier RFD among ``candidates``."""
        right_side = ordered.loc[candidates, ["provider_code", "patient_id", "_at", "admission_date"]]
        matched = pd.merge_asof(
            ordered[["provider_code", "patient_id", "_at", "_row"]],
            right_side.rename(columns={"admission_date": "_earlier"}),
            on="_at",
            by=["provider_code", "patient_id"],
            allow_exact_matches=False,
        )
        dates = pd.Series(pd.NaT, index=rfd.index, dtype=rfd["admission_date"].dtype)
        dates.iloc[matched["_row"].to_numpy()] = matched["_earlier"].to_numpy()
        return dates

    every = pd.Series(True, index=ordered.index)
    previous_date = latest(every)
    window_start = rfd["admission_date"] - pd.DateOffset(months=months)
    within = {
        name: latest(candidates).gt(window_start).fillna(False).to_numpy(dtype=bool)
        for name, candidates in (("left", ordered["_left"]), ("right", ordered["_right"]), ("none", ~sided))
    }
    has_side = left | right
    any_side = previous_date.gt(window_start).fillna(False).to_numpy(dtype=bool)
    by_side = (left & within["left"]) | (right & within["right"])
    without_side = ~by_side & np.where(has_side, within["none"], any_side)
    since = (rfd["admission_date"] - previous_date).dt.days.astype("Int64")
    repeat = pd.Series(by_side | without_side, index=rfd.index, dtype="boolean")
    first_seen = previous_date.isna()
    repeat[first_seen & window_start.lt(data_start)] = pd.NA
    repeat[rfd["patient_id"].isna()] = pd.NA
    judged_without = pd.Series(without_side, index=rfd.index, dtype="boolean").mask(repeat.isna())
    return pd.DataFrame(
        {"days_since_previous": since, "repeat": repeat, "repeat_without_side": judged_without}
    )


def _side(rfd: pd.DataFrame, side: str) -> np.ndarray:
    """Return, per RFD, whether its laterality codes say ``side`` (False where not known)."""
    if side not in rfd:
        return np.zeros(len(rfd), dtype=bool)
    return rfd[side].fillna(False).to_numpy(dtype=bool)


def therapeutic_blocks(blocks: pd.DataFrame, rfd: pd.DataFrame, *, months: int, min_blocks: int) -> pd.Series:
    """Return, per block spell, whether it completes repeated blocks with no RFD after them.

    ``blocks`` and ``rfd`` have ``provider_code``, ``patient_id`` and ``admission_date``. A block
    is True when the patient has no RFD on or after its day (in the extract: an RFD on the same
    day follows its block) and at least ``min_blocks`` block spells (this one included) in the
    ``months`` calendar months up to it, all after the patient's last RFD: blocks given again
    and again with no denervation after them, which the national list of injections for low
    back pain says not to offer as a treatment. A block before an RFD, however many, is
    diagnostic. ``<NA>`` without a patient identifier. A block late in the extract may yet be
    followed by an RFD after it ends: the check counts what the extract shows.
    """
    keys = ["provider_code", "patient_id"]
    result = pd.Series(pd.NA, index=blocks.index, dtype="boolean")
    known = blocks.dropna(subset=["patient_id", "admission_date"])
    if known.empty:
        return result
    last_rfd = rfd.dropna(subset=["patient_id", "admission_date"]).groupby(keys)["admission_date"].max()
    frame = known[[*keys, "admission_date"]].merge(
        last_rfd.rename("_last_rfd").reset_index(), on=keys, how="left"
    )
    frame.index = known.index
    day = frame["admission_date"].to_numpy(dtype="datetime64[D]").astype(np.int64)
    start = (frame["admission_date"] - pd.DateOffset(months=months)).to_numpy(dtype="datetime64[D]")
    after_rfd = frame["_last_rfd"].to_numpy(dtype="datetime64[D]").astype(np.int64) + 1
    no_rfd = frame["_last_rfd"].isna().to_numpy()
    lowest = np.where(no_rfd, start.astype(np.int64), np.maximum(start.astype(np.int64), after_rfd))
    # Blocks in order of (patient, day) on one axis: a patient's blocks in [lowest, day] by searchsorted.
    patient = frame.groupby(keys, sort=False).ngroup().to_numpy(dtype=np.int64)
    span = int(max(day.max(), lowest.max()) - min(day.min(), lowest.min())) + 2
    base = min(day.min(), lowest.min())
    key = patient * span + (day - base)
    order = np.sort(key)
    up_to = np.searchsorted(order, key, side="right")
    below = np.searchsorted(order, patient * span + (np.maximum(lowest, base) - base), side="left")
    repeated = (up_to - below) >= min_blocks
    ends_unfollowed = no_rfd | (after_rfd <= day)
    result.loc[frame.index] = repeated & ends_unfollowed
    return result


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

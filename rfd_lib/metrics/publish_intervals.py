"""Repeat RFDs by interval band, as published: protected within the provider and with the window's counts.

The bands (counted RFDs of the last quarters by months since the patient's previous RFD) split
the window's RFDs with a previous one, which lie between the window's repeats (the repeat check's
numerators) and the RFDs it could assess (its denominators): complementary suppression within
the provider, two bands more where one of those counts is suppressed and the bands as published
could bound it, and no bands at all where the window's counts could bound a suppressed band.
The rest of the audit's tables are published by :mod:`rfd_lib.metrics.publish`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rfd_lib.metrics.check_kinds import CheckKind
from rfd_lib.metrics.disclosure import Disclosure, protect

KEYS = ["provider_code", "quarter"]


def published_intervals(
    intervals: pd.DataFrame, policy: Disclosure, *, checks: pd.DataFrame, volumes: pd.DataFrame
) -> pd.DataFrame:
    """Return repeat RFDs by interval band, protected within each provider and with the window's counts.

    The bands split a provider's counted RFDs with a previous RFD over the window's quarters: at
    least its repeats (the repeat check's numerators), at most the RFDs it could assess for a
    repeat (its denominators) and its counted RFDs (``checks`` and ``volumes``: the published
    tables, for the window's quarters). So the bands get complementary suppression within the
    provider, as if their total were published; where a repeat count or counted RFDs of the
    window are suppressed and the bands, as published, could bound them (:func:`_window`), at
    least two bands counting 8 or more are suppressed, the smallest first; and where the window's
    counts, as published, could bound a suppressed band, the provider's bands are not shown at
    all (``<NA>``, not flagged): "too few to show". Every decision is taken on published figures
    only, so that it tells a reader nothing more.
    """
    out = protect(intervals, ["spells"], within=["provider_code"], policy=policy)
    if not policy.circulating:
        return out
    window = _window(checks, volumes, policy)
    bands = _bands(out, policy).join(window, how="left")
    # The bands could bound a hidden repeat count (from above) or a hidden denominator, unassessed
    # or counted count (from below): a reader would learn it is not 7, or not 1.
    binds = (bands["hidden_repeats"] & (bands["high"] - bands["repeats_low"] < 6)) | (
        bands["hidden_assessable"] & (bands["assessable_high"] - bands["low"] < 6)
    )
    _hide_two_bands(out, intervals, binds[binds].index, policy)
    # The window could bound a hidden band: from above, or from below when it is hidden alone.
    bands = _bands(out, policy).join(window, how="left")
    gone = bands["hidden"].gt(0) & (
        (bands["assessable_high"] - bands["low"] < 6)
        | (bands["hidden"].eq(1) & (bands["repeats_low"] - bands["shown_high"] > 1))
    )
    rows = out["provider_code"].isin(gone[gone].index).to_numpy()
    out.loc[rows, "spells"] = pd.NA
    out.loc[rows, "spells_suppressed"] = False
    return out


def _bounds(values: pd.Series, hidden: pd.Series, policy: Disclosure, hidden_high: float) -> pd.DataFrame:
    """Return the least and most each published count can be: +-2, 0, or 1..``hidden_high`` if hidden."""
    shown = values.astype("Float64").fillna(0).to_numpy(dtype=float)
    flag = hidden.fillna(False).to_numpy(dtype=bool)
    half = policy.rounding // 2
    low = np.where(flag, 1, np.where(shown > 0, shown - half, 0))
    high = np.where(flag, hidden_high, np.where(shown > 0, shown + half, 0))
    return pd.DataFrame({"low": low, "high": high}, index=values.index)


def _bands(out: pd.DataFrame, policy: Disclosure) -> pd.DataFrame:
    """Return, per provider, the least and most its bands can add up to, and how many are hidden."""
    hidden = out["spells_suppressed"].astype(bool)
    bounds = _bounds(out["spells"], hidden, policy, np.inf)
    frame = bounds.assign(
        provider_code=out["provider_code"].to_numpy(),
        hidden=hidden.astype(int).to_numpy(),
        shown_high=bounds["high"].where(~hidden, 0),
    )
    return frame.groupby("provider_code")[["low", "high", "hidden", "shown_high"]].sum()


def _window(checks: pd.DataFrame, volumes: pd.DataFrame, policy: Disclosure) -> pd.DataFrame:
    """Return, per provider, what the window's published repeat counts and counted RFDs say of the bands.

    ``repeats_low``: the least the repeats can add up to; ``assessable_high``: the most the RFDs
    assessable for a repeat can (counted RFDs where a quarter's are not shown; a hidden one 7 at
    most, as a reader might take it; a denominator of counted less 5, counted less 1); and whether
    a repeat count (``hidden_repeats``), or a denominator, unassessed or counted count
    (``hidden_assessable``), is suppressed.
    """
    repeat = checks[checks["kind"].eq(CheckKind.REPEAT)]
    rows = repeat[KEYS].merge(volumes[[*KEYS, "counted", "counted_suppressed"]], on=KEYS, how="left")
    counted = _bounds(rows["counted"], rows["counted_suppressed"], policy, policy.threshold)
    repeats = _bounds(repeat["numerator"], repeat["numerator_suppressed"], policy, np.inf)
    assessable = _bounds(repeat["denominator"], repeat["denominator_suppressed"], policy, policy.threshold)
    derived = (repeat["unassessed_suppressed"] & ~repeat["denominator_suppressed"]).to_numpy(dtype=bool)
    most = np.where(derived, counted["high"].to_numpy() - 1, assessable["high"].to_numpy())
    most = np.where(repeat["denominator"].isna() & ~repeat["denominator_suppressed"], counted["high"], most)
    frame = pd.DataFrame(
        {
            "provider_code": repeat["provider_code"].to_numpy(),
            "repeats_low": np.where(
                repeat["numerator"].isna() & ~repeat["numerator_suppressed"], 0, repeats["low"]
            ),
            "assessable_high": np.minimum(most, counted["high"].to_numpy()),
            "hidden_repeats": repeat["numerator_suppressed"].to_numpy(dtype=bool),
            "hidden_assessable": (
                repeat[["denominator_suppressed", "unassessed_suppressed"]].any(axis=1).to_numpy(dtype=bool)
                | rows["counted_suppressed"].fillna(False).to_numpy(dtype=bool)
            ),
        }
    )
    return frame.groupby("provider_code").agg(
        repeats_low=("repeats_low", "sum"),
        assessable_high=("assessable_high", "sum"),
        hidden_repeats=("hidden_repeats", "any"),
        hidden_assessable=("hidden_assessable", "any"),
    )


def _hide_two_bands(
    out: pd.DataFrame, intervals: pd.DataFrame, providers: pd.Index, policy: Disclosure
) -> None:
    """Suppress the smallest non-zero bands of ``providers`` until two or more, counting 8 or more, are."""
    values = intervals["spells"].fillna(0).to_numpy(dtype=np.int64)
    hidden = out["spells_suppressed"].to_numpy(dtype=bool)
    provider = out["provider_code"]
    frame = pd.DataFrame(
        {
            "provider": provider.to_numpy(),
            "value": values,
            "hidden": hidden,
            "candidate": ~hidden & (values > 0) & provider.isin(providers).to_numpy(),
            "position": np.arange(len(out)),
        }
    )
    count = frame.groupby("provider")["hidden"].transform("sum").to_numpy()
    total = frame["value"].where(frame["hidden"], 0).groupby(frame["provider"]).transform("sum").to_numpy()
    ranked = frame[frame["candidate"]].sort_values(["provider", "value", "position"], kind="stable")
    before = ranked.groupby("provider")["value"].cumsum() - ranked["value"]
    order = ranked.groupby("provider").cumcount()
    rows = ranked.index.to_numpy()
    needed = (count[rows] + order.to_numpy() < 2) | (total[rows] + before.to_numpy() <= policy.threshold)
    out.loc[rows[needed], "spells"] = pd.NA
    out.loc[rows[needed], "spells_suppressed"] = True

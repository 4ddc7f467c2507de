"""The audit's tables as they may be published: disclosure control applied before anything is derived.

Each function takes a raw table from :mod:`rfd_lib.metrics.volumes` or
:mod:`rfd_lib.metrics.checks` and returns
it protected by a :class:`~rfd_lib.metrics.disclosure.Disclosure` policy (counts rounded, small ones
``<NA>`` with a ``<count>_suppressed`` flag). Each published count is published once, the same
in every table and chart: the volumes' counts each on their own, the waterfall's reasons with
complementary suppression among themselves, the checks' denominators taken from the volumes.
Shares, statuses, rates and the funnel are then worked out from published counts only. The SPC
charts are the exception: their limits and signals come from the true counts, and
:mod:`rfd_lib.metrics.spc_disclosure` publishes only what disclosure control allows of them. In
internal mode the counts are as they are and the flags all False.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rfd_lib.metrics.check_kinds import CheckKind
from rfd_lib.metrics.checks import look_back_notes
from rfd_lib.metrics.disclosure import Disclosure, as_text, protect
from rfd_lib.metrics.expectations import Check, Expectations
from rfd_lib.metrics.status import Status

KEYS = ["provider_code", "quarter"]
TOO_FEW = "too few to judge (a suppressed count)"
WORST_CASE = "status judged on the largest count * can hide"
# The kinds whose denominator is a count of spells (the others divide by a mean or a population).
COUNTS_SPELLS = [kind.value for kind in CheckKind if kind.counts_spells]


def published_volumes(volumes: pd.DataFrame, policy: Disclosure) -> pd.DataFrame:
    """Return the volumes with each count protected on its own; ``not_counted`` is not published.

    RFD-coded spells, counted spells, patients and day cases are different measures of the same
    quarter (each a subset of another, none the sum of published parts), so each is protected on
    its own and rounded independently, as HES publications round theirs: they may not add up.
    Counted spells are the audit's headline (rates, the funnel, the SPC charts), so they are
    never hidden to protect another cell; the spells not counted are published only as the
    waterfall's reasons (:func:`published_waterfall`).
    """
    counts = ["rfd_coded", "counted", "patients_coded", "patients_counted", "day_cases"]
    return protect(volumes[[*KEYS, *counts]], counts, policy=policy)


def published_waterfall(waterfall: pd.DataFrame, volumes: pd.DataFrame, policy: Disclosure) -> pd.DataFrame:
    """Return the waterfall with its reasons protected within provider and quarter.

    ``volumes`` is :func:`published_volumes`'s table: the first step (RFD-coded) and the last
    (counted) are its published counts, so a reader sees one figure for each everywhere. The
    reasons between them are protected together, with complementary suppression among
    themselves; rounded independently, the steps may not add up to the RFD-coded total.
    """
    last = waterfall["step"].max()
    reasons = waterfall[waterfall["step"].between(1, last - 1)]
    protected = protect(reasons, ["spells"], within=KEYS, policy=policy)
    ends = waterfall[waterfall["step"].isin([0, last])].drop(columns="spells")
    joined = ends.merge(volumes, on=KEYS, how="left")
    first = joined["step"].eq(0).to_numpy()
    ends = ends.assign(
        spells=pd.array(np.where(first, joined["rfd_coded"], joined["counted"]), dtype="Int64"),
        spells_suppressed=np.where(first, joined["rfd_coded_suppressed"], joined["counted_suppressed"]),
    )
    table = pd.concat([protected, ends], ignore_index=True)
    return table.sort_values([*KEYS, "step"], kind="stable").reset_index(drop=True)


def published_intervals(intervals: pd.DataFrame, policy: Disclosure) -> pd.DataFrame:
    """Return repeat RFDs by interval band, each count protected (no total is published)."""
    return protect(intervals, ["spells"], policy=policy)


def published_checks(
    checks: pd.DataFrame, volumes: pd.DataFrame, expectations: Expectations, policy: Disclosure
) -> pd.DataFrame:
    """Return the checks with published counts, and each share and status worked out from them.

    ``checks`` is :func:`rfd_lib.metrics.checks.restricted_use_checks`'s counts; this is the one
    place a check's share and status are worked out. ``volumes`` is :func:`published_volumes`'s
    table, whose RFD-coded and counted spells are the denominators of the restriction and
    day-case checks, so one count is published one way only.
    Where a count is suppressed the share is ``<NA>`` and the status is the worst one the count's
    possible values (1 to the threshold) allow, so a suppressed breach still shows amber or red.
    """
    kind = checks["kind"]
    counts = checks.assign(
        denominator=checks["denominator"].where(kind.isin(COUNTS_SPELLS)).round().astype("Int64")
    )
    out = protect(counts, ["numerator", "denominator", "unassessed"], policy=policy)
    # The note said how many were left out: say it again with the published count.
    left_out = out["unassessed"].fillna(0).gt(0) | out["unassessed_suppressed"]
    shown = as_text(out["unassessed"], out["unassessed_suppressed"])
    out["note"] = out["note"].mask(left_out, look_back_notes(shown))
    # Published counts, or a mean or population for the last two checks.
    out["denominator"] = out["denominator"].astype("Float64")
    # The same spells as the published volumes, not rounded a second time.
    same = {CheckKind.RESTRICTION: "rfd_coded", CheckKind.DAY_CASE: "counted"}
    for check, column in same.items():
        rows = kind.eq(check).to_numpy()
        joined = checks.loc[rows, KEYS].merge(volumes, on=KEYS, how="left")
        out.loc[rows, "denominator"] = joined[column].to_numpy()
        out.loc[rows, "denominator_suppressed"] = joined[f"{column}_suppressed"].to_numpy()
    for check in (CheckKind.CHANGE_FROM_BASELINE, CheckKind.EXPECTED_RATE):
        # Counted RFDs, again as the volumes publish them; the denominator is not a count.
        rows = kind.eq(check).to_numpy()
        joined = checks.loc[rows, KEYS].merge(volumes, on=KEYS, how="left")
        assessable = checks.loc[rows, "status"].ne(Status.NOT_ASSESSABLE).fillna(True).to_numpy()
        out.loc[rows, "numerator"] = np.where(assessable, joined["counted"].to_numpy(), pd.NA)
        out.loc[rows, "numerator_suppressed"] = joined["counted_suppressed"].to_numpy() & assessable
        out.loc[rows, "denominator"] = checks.loc[rows, "denominator"].to_numpy()
    rows = kind.eq(CheckKind.CHANGE_FROM_BASELINE).to_numpy()
    baseline = sorted(volumes["quarter"].unique())[: expectations.baseline_quarters]
    published = volumes[volumes["quarter"].isin(baseline)].groupby("provider_code")["counted"]
    # The baseline is a mean of published counts; a suppressed one leaves it unknown.
    mean = published.mean().where(published.count() == len(baseline))
    out.loc[rows, "denominator"] = out.loc[rows, "provider_code"].map(mean).round(1).to_numpy()
    unknown = (
        rows
        & out["provider_code"].map(mean).isna().to_numpy()
        & out["status"].ne(Status.NOT_ASSESSABLE).fillna(True).to_numpy(dtype=bool)
    )
    out.loc[unknown, "note"] = "a baseline quarter's count is suppressed"
    out.insert(out.columns.get_loc("status"), "share", _shares(out, kind, expectations))
    out["status"] = checks["status"].astype("string")
    for check in CheckKind:
        rows = kind.eq(check) & out["status"].ne(Status.NOT_ASSESSABLE).fillna(True)
        out.loc[rows, "status"] = _status(out[rows], expectations.checks.of(check), check, policy).to_numpy()
    too_few = out["status"].eq(Status.NOT_ASSESSABLE) & checks["status"].ne(Status.NOT_ASSESSABLE).fillna(
        True
    )
    out.loc[too_few, "note"] = (TOO_FEW + "; " + out.loc[too_few, "note"]).fillna(TOO_FEW)
    worst = out["numerator_suppressed"].astype(bool) & out["status"].ne(Status.NOT_ASSESSABLE).fillna(False)
    out.loc[worst, "note"] = (WORST_CASE + "; " + out.loc[worst, "note"]).fillna(WORST_CASE)
    return out


def _shares(out: pd.DataFrame, kind: pd.Series, expectations: Expectations) -> pd.Series:
    numerator = out["numerator"].astype("Float64")
    denominator = out["denominator"].astype("Float64")
    share = numerator / denominator.mask(denominator.eq(0))
    share = share.mask(kind.eq(CheckKind.CHANGE_FROM_BASELINE), share - 1)
    if expectations.expected_rate_per_100000 is not None:
        rate = numerator / denominator * 100_000 / expectations.expected_rate_per_100000 - 1
        share = share.mask(kind.eq(CheckKind.EXPECTED_RATE), rate)
    else:
        share = share.mask(kind.eq(CheckKind.EXPECTED_RATE))
    return share


def _status(rows: pd.DataFrame, threshold: Check, kind: CheckKind, policy: Disclosure) -> pd.Series:
    """Return each row's status; a suppressed count is judged at its worst possible value.

    Where more is better and the denominator itself is suppressed, the worst value is a guess
    about a handful of spells, so the row is "not assessable" instead (:data:`TOO_FEW`).
    """
    share = rows["share"].astype("Float64")
    hidden = rows["numerator_suppressed"].to_numpy(dtype=bool)
    if hidden.any() and kind.counts_spells:
        denominator = rows["denominator"].astype("Float64")
        denominator_hidden = rows["denominator_suppressed"].to_numpy(dtype=bool)
        # Numerator 1..threshold; a hidden denominator is at least the numerator, at most the threshold.
        low_den = pd.Series(np.where(denominator_hidden, 1, denominator.fillna(1)), index=rows.index)
        high_den = pd.Series(
            np.where(denominator_hidden, policy.threshold, denominator.fillna(1)), index=rows.index
        )
        worst = (policy.threshold / low_den).clip(upper=1) if threshold.good == "low" else 1 / high_den
        share = share.mask(hidden, worst)
    status = threshold.status(share)
    if threshold.good == "high":
        status = status.mask(rows["denominator_suppressed"].to_numpy(dtype=bool), Status.NOT_ASSESSABLE)
    return status

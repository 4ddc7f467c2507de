"""The audit's tables as they may be published: disclosure control applied before anything is derived.

Each function takes a raw table from :mod:`rfd_lib.metrics.volumes` or
:mod:`rfd_lib.metrics.checks` and returns
it protected by a :class:`~rfd_lib.metrics.disclosure.Disclosure` policy (counts rounded, small ones
``<NA>`` with a ``<count>_suppressed`` flag). A true count is published one way only, the same in
every table and chart, and counts that add up are protected together, across tables:

* **Counted RFDs** are protected on their own and never hidden to protect another cell (they are
  the headline of rates, the funnel and the SPC charts).
* **The waterfall**: its reasons (each spell under the first restriction it fails) are protected
  each on their own, and **RFD-coded spells are its total**: counted and the reasons as published,
  suppressed ones left out (rule 5 of :mod:`rfd_lib.metrics.disclosure`). No RFD-coded count is
  rounded from the raw data, so "RFD-coded less counted" never bounds a hidden reason.
* **The pathway checks** (prior block, repeat): counted = assessed + unassessed. The denominator
  (assessed) is published as the published counted RFDs less the unassessed count as published,
  so that the two checks' counts added up never pin the counted RFDs (and through them the other
  check's hidden unassessed count) closer than their own rounding. When the unassessed count is
  suppressed, the denominator is the published counted RFDs less 5 — what a reader could tell
  anyway, the middle of the 1 to 7 — and its status is judged on the worst denominator the
  hidden count allows. The numerator is shown no higher than its denominator. When the
  denominator is 1 to 7, the unassessed count is hidden with it.
  When counted RFDs are themselves suppressed, how many could not be assessed is not shown.
* **Repeat intervals** (counted RFDs of the last quarters by months since the previous RFD) lie
  between the window's repeats and its assessable RFDs: complementary suppression within the
  provider; two bands more where one of those counts is suppressed and the bands, as published,
  could bound it; no bands at all where the window's counts could bound a suppressed band
  (:mod:`rfd_lib.metrics.publish_intervals`).
* **Day cases** are the volumes' day cases, protected once.
* **Repeats judged without a side** (the repeat check's ``without_side``, a part of its
  numerator) are protected on their own, and hidden too (unless 0) wherever the numerator is
  suppressed or published no higher than a derived denominator: shown beside them, they would
  bound it from below.
* **Therapeutic blocks** count patients (numerator at most the denominator), each protected on
  its own.
* **RFD without a lumbar site code**: the spells are protected on their own; the denominator
  (those spells and the RFD-coded ones) is their total as published: the RFD-coded spells as
  the volumes publish them plus the numerator as published, suppressed ones left out, as the
  waterfall's total is. Rounded on its own, it would bound a suppressed numerator by difference.
* **RFD-coded spells with a primary diagnosis outside the list** are exactly the failures of the
  rule's diagnosis restriction, so the check publishes no count of its own: its numerator is
  that restriction's failures as the waterfall publishes them (the first reason when the
  diagnosis is the rule's first restriction, as in 2K_RFD_back) and its denominator the volumes'
  RFD-coded spells. It is kept, rather than left to the waterfall, because it is judged (red,
  amber, green, as data quality) where the waterfall's steps are context only.

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
from rfd_lib.metrics.definition import restriction_measure
from rfd_lib.metrics.disclosure import Disclosure, DisclosureError, add_totals, as_text, protect
from rfd_lib.metrics.expectations import Check, Expectations
from rfd_lib.metrics.status import Status
from rfd_lib.wording import say

KEYS = ["provider_code", "quarter"]
# The kinds whose denominator is a count of spells (the others divide by a mean or a population).
COUNTS_SPELLS = [kind.value for kind in CheckKind if kind.counts_spells]


def published_volumes(
    volumes: pd.DataFrame, policy: Disclosure, *, waterfall: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Return the volumes with each count protected on its own; ``not_counted`` is not published.

    Counted spells, patients and day cases are different measures of the same quarter (each a
    subset of another, none the sum of published parts), so each is protected on its own and
    rounded independently, as HES publications round theirs: they may not add up. Counted spells
    are the audit's headline (rates, the funnel, the SPC charts), so they are never hidden to
    protect another cell. RFD-coded spells are the total of ``waterfall`` (the raw table of
    :func:`rfd_lib.metrics.volumes.waterfall`) as :func:`published_waterfall` publishes it: counted
    plus the reasons shown (see the module's docstring); the spells not counted are published only
    as those reasons. ``waterfall`` is required in circulation mode.
    """
    counts = ["counted", "patients_coded", "patients_counted", "day_cases"]
    out = protect(volumes[[*KEYS, "rfd_coded", *counts]], counts, policy=policy)
    if not policy.circulating:
        out.insert(out.columns.get_loc("rfd_coded") + 1, "rfd_coded_suppressed", False)
        return out
    if waterfall is None:
        raise DisclosureError(
            "RFD-coded spells are published as the waterfall's total: give the raw waterfall",
            hint="published_volumes(volumes, policy, waterfall=rfd_lib.metrics.volumes.waterfall(...))",
        )
    total = _waterfall_total(waterfall, out, policy)
    joined = out[KEYS].merge(total, on=KEYS, how="left")
    out["rfd_coded"] = joined["spells"].astype("Int64").to_numpy()
    out.insert(
        out.columns.get_loc("rfd_coded") + 1, "rfd_coded_suppressed", joined["spells_suppressed"].to_numpy()
    )
    return out


def _reasons(waterfall: pd.DataFrame, policy: Disclosure) -> pd.DataFrame:
    """Return the waterfall's reasons (the steps between RFD-coded and counted), each protected on its own."""
    last = waterfall["step"].max()
    reasons = waterfall[waterfall["step"].between(1, last - 1)]
    # No complementary suppression: the only total of these cells ever published is their sum as shown.
    return protect(reasons, ["spells"], policy=policy)


def _waterfall_total(waterfall: pd.DataFrame, volumes: pd.DataFrame, policy: Disclosure) -> pd.DataFrame:
    """Return RFD-coded spells per provider and quarter: counted plus the reasons, as published."""
    counted = volumes[[*KEYS, "counted", "counted_suppressed"]].rename(
        columns={"counted": "spells", "counted_suppressed": "spells_suppressed"}
    )
    parts = pd.concat([_reasons(waterfall, policy)[[*KEYS, "spells", "spells_suppressed"]], counted])
    totals = add_totals(parts.assign(part="part"), ["spells"], within=KEYS, label={"part": "total"})
    return totals[totals["part"] == "total"][[*KEYS, "spells", "spells_suppressed"]]


def published_waterfall(
    waterfall: pd.DataFrame,
    volumes: pd.DataFrame,
    policy: Disclosure,
    *,
    restrictions: list[str] | None = None,
) -> pd.DataFrame:
    """Return the waterfall with its reasons protected each on their own, and its ends from ``volumes``.

    ``volumes`` is :func:`published_volumes`'s table: the first step (RFD-coded, the waterfall's
    total as published) and the last (counted) are its published counts, so a reader sees one
    figure for each everywhere, and the steps add up: RFD-coded is counted plus the reasons shown.
    ``restrictions`` names the rule's restrictions in the steps' order: each reason's row then
    carries its ``measure`` (:func:`rfd_lib.metrics.definition.restriction_measure`), as the table
    files name it.
    """
    last = waterfall["step"].max()
    protected = _reasons(waterfall, policy)
    ends = waterfall[waterfall["step"].isin([0, last])].drop(columns="spells")
    joined = ends.merge(volumes, on=KEYS, how="left")
    first = joined["step"].eq(0).to_numpy()
    ends = ends.assign(
        spells=pd.array(np.where(first, joined["rfd_coded"], joined["counted"]), dtype="Int64"),
        spells_suppressed=np.where(first, joined["rfd_coded_suppressed"], joined["counted_suppressed"]),
    )
    table = pd.concat([protected, ends], ignore_index=True)
    table = table.sort_values([*KEYS, "step"], kind="stable").reset_index(drop=True)
    if restrictions is not None:
        names = {n + 1: restriction_measure(name) for n, name in enumerate(restrictions)}
        table["measure"] = table["step"].map(names).astype("string")
    return table


def published_checks(
    checks: pd.DataFrame,
    volumes: pd.DataFrame,
    expectations: Expectations,
    policy: Disclosure,
    *,
    waterfall: pd.DataFrame | None = None,
    diagnosis: str | None = None,
) -> pd.DataFrame:
    """Return the checks with published counts, and each share and status worked out from them.

    ``checks`` is :func:`rfd_lib.metrics.checks.restricted_use_checks`'s counts; this is the one
    place a check's share and status are worked out. ``volumes`` is :func:`published_volumes`'s
    table, whose RFD-coded and counted spells are the denominators of the diagnosis-outside-list
    and day-case checks and whose day cases are the day-case check's numerator, so one count is
    published one way only; the pathway checks are protected with the counted RFDs they split
    (see the module's docstring). ``waterfall`` is :func:`published_waterfall`'s table (with its
    restrictions named; required in circulation mode) and ``diagnosis`` names the rule's
    primary-diagnosis restriction (:func:`rfd_lib.metrics.activity.diagnosis_restriction`):
    the ``rfd_diagnosis_outside_list`` check's spells are that restriction's failures, published
    as the waterfall publishes them (required in circulation mode when that check has counts).
    Where a count is suppressed the share is ``<NA>`` and the status is the worst one the count's
    possible values allow (1 to the threshold), so a suppressed breach still shows amber or red.
    """
    kind = checks["kind"]
    counts = checks.assign(
        denominator=checks["denominator"].where(kind.isin(COUNTS_SPELLS)).round().astype("Int64")
    )
    out = protect(counts, ["numerator", "denominator", "unassessed", "without_side"], policy=policy)
    largest = pd.Series(float(policy.threshold), index=out.index)
    counted_less = np.zeros(len(out), dtype=bool)
    if policy.circulating:
        outside = kind.eq(CheckKind.RFD_DIAGNOSIS_OUTSIDE_LIST) & checks["numerator"].notna()
        if outside.any() and (waterfall is None or "measure" not in waterfall.columns):
            raise DisclosureError(
                "the diagnosis-outside-list check is published with the waterfall's reasons: give it",
                hint="published_checks(..., waterfall=published_waterfall(..., restrictions=[...]))",
            )
        if diagnosis is None and outside.any():
            raise DisclosureError(
                "the diagnosis-outside-list check is published as the waterfall's diagnosis step: name it",
                hint="published_checks(..., diagnosis=rfd_lib.metrics.activity.diagnosis_restriction(rule))",
            )
        if outside.any():
            largest = _follow_the_waterfall(out, checks, waterfall, policy, diagnosis)
        counted_less = _pathways_with_counted(out, checks, volumes, policy)
        _hide_without_side(out, checks, counted_less)
    # The note said how many were left out: say it again with the published count.
    left_out = out["unassessed"].fillna(0).gt(0) | out["unassessed_suppressed"]
    shown = as_text(out["unassessed"], out["unassessed_suppressed"])
    out["note"] = out["note"].mask(left_out, look_back_notes(shown))
    without = out["without_side"].fillna(0).gt(0) | out["without_side_suppressed"]
    said = as_text(out["without_side"], out["without_side_suppressed"]).map(
        lambda count: say("checks.notes.without_side", count=count)
    )
    out.loc[without, "note"] = (out.loc[without, "note"] + "; " + said[without]).fillna(said[without])
    less = say("checks.notes.counted_less", rounding=policy.rounding)
    out.loc[counted_less, "note"] = out.loc[counted_less, "note"] + "; " + less
    # Published counts, or a mean or population for the last two checks.
    out["denominator"] = out["denominator"].astype("Float64")
    # The same spells as the published volumes, not rounded a second time.
    same = {
        CheckKind.DAY_CASE: "counted",
        CheckKind.RFD_DIAGNOSIS_OUTSIDE_LIST: "rfd_coded",
    }
    for check, column in same.items():
        rows = kind.eq(check).to_numpy()
        joined = checks.loc[rows, KEYS].merge(volumes, on=KEYS, how="left")
        out.loc[rows, "denominator"] = joined[column].to_numpy()
        out.loc[rows, "denominator_suppressed"] = joined[f"{column}_suppressed"].to_numpy()
    _total_with_rfd_coded(out, checks, volumes)
    # Day cases: the volumes' day cases (the same spells), where the extract can tell them.
    rows = (kind.eq(CheckKind.DAY_CASE) & checks["numerator"].notna()).to_numpy()
    joined = checks.loc[rows, KEYS].merge(volumes, on=KEYS, how="left")
    out.loc[rows, "numerator"] = joined["day_cases"].to_numpy()
    out.loc[rows, "numerator_suppressed"] = joined["day_cases_suppressed"].to_numpy()
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
    derived = pd.Series(counted_less, index=out.index)
    for check in CheckKind:
        rows = kind.eq(check) & out["status"].ne(Status.NOT_ASSESSABLE).fillna(True)
        judged = _status(
            out[rows], expectations.checks.of(check), check, policy, largest[rows], derived[rows]
        )
        out.loc[rows, "status"] = judged.to_numpy()
    too_few = out["status"].eq(Status.NOT_ASSESSABLE) & checks["status"].ne(Status.NOT_ASSESSABLE).fillna(
        True
    )
    too_few_note = say("checks.notes.too_few")
    out.loc[too_few, "note"] = (too_few_note + "; " + out.loc[too_few, "note"]).fillna(too_few_note)
    judged = out["status"].ne(Status.NOT_ASSESSABLE).fillna(False)
    worst = out["numerator_suppressed"].astype(bool) & judged
    worst_note = say("checks.notes.worst_case")
    out.loc[worst, "note"] = (worst_note + "; " + out.loc[worst, "note"]).fillna(worst_note)
    worst = derived & judged & ~out["numerator_suppressed"].astype(bool)
    worst_note = say("checks.notes.worst_denominator")
    out.loc[worst, "note"] = (worst_note + "; " + out.loc[worst, "note"]).fillna(worst_note)
    # Why the prior-block check says "coded", beside it wherever it is shown.
    coded = kind.eq(CheckKind.PRIOR_BLOCK).to_numpy()
    coded_note = say("checks.notes.coded_blocks")
    out.loc[coded, "note"] = (out.loc[coded, "note"] + "; " + coded_note).fillna(coded_note)
    return out


def _total_with_rfd_coded(out: pd.DataFrame, checks: pd.DataFrame, volumes: pd.DataFrame) -> None:
    """Publish the RFD-without-site denominator (in ``out``): RFD-coded plus its numerator, as published.

    Suppressed parts are left out, and the total is suppressed only when a part is and no part
    shown is above 0 (the rule of :func:`rfd_lib.metrics.disclosure.add_totals`).
    """
    rows = (checks["kind"].eq(CheckKind.RFD_WITHOUT_LUMBAR_SITE) & checks["denominator"].notna()).to_numpy()
    if not rows.any():
        return
    joined = checks.loc[rows, KEYS].merge(volumes, on=KEYS, how="left")
    coded = joined["rfd_coded"].astype("Float64").fillna(0).to_numpy(dtype=float)
    coded_hidden = joined["rfd_coded_suppressed"].fillna(False).to_numpy(dtype=bool)
    numerator = out.loc[rows, "numerator"].astype("Float64").fillna(0).to_numpy(dtype=float)
    numerator_hidden = out.loc[rows, "numerator_suppressed"].to_numpy(dtype=bool)
    hidden = (coded_hidden | numerator_hidden) & ~((coded > 0) | (numerator > 0))
    out.loc[rows, "denominator"] = np.where(hidden, np.nan, coded + numerator)
    out.loc[rows, "denominator_suppressed"] = hidden


def _hide_without_side(out: pd.DataFrame, checks: pd.DataFrame, counted_less: np.ndarray) -> None:
    """Hide the repeats judged without a side (in ``out``) wherever the repeats are hidden or capped.

    They are a part of the repeat numerator, so shown beside a suppressed or capped numerator
    they would bound it from below (and, through it, the counts it is tied to).
    """
    repeat = checks["kind"].eq(CheckKind.REPEAT).to_numpy()
    raw = checks["without_side"].fillna(0).to_numpy() > 0
    tied = out["numerator_suppressed"].to_numpy(dtype=bool) | counted_less
    hide = repeat & raw & tied & ~out["without_side_suppressed"].to_numpy(dtype=bool)
    out.loc[hide, "without_side"] = pd.NA
    out.loc[hide, "without_side_suppressed"] = True


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


def _status(
    rows: pd.DataFrame,
    threshold: Check,
    kind: CheckKind,
    policy: Disclosure,
    largest: pd.Series,
    derived: pd.Series,
) -> pd.Series:
    """Return each row's status; a suppressed count is judged at its worst possible value.

    ``largest`` is the largest value each row's numerator can have when it is suppressed (the
    threshold, unless it is hidden with reasons of the waterfall). ``derived`` marks the rows
    whose denominator is the counted RFDs less the rounding, beside a suppressed unassessed count
    (1 to the threshold): they are judged on the worst denominator that count allows. Where more
    is better and the denominator itself is suppressed, the worst value is a guess about a
    handful of spells, so the row is "not assessable" instead (the wording file's ``checks.notes.too_few``).
    """
    share = rows["share"].astype("Float64")
    if derived.any():
        # counted = denominator shown + rounding; the true denominator is counted less 1..threshold.
        counted = rows["denominator"].astype("Float64") + policy.rounding
        worst = counted - (1 if threshold.good == "high" else policy.threshold)
        worst = worst.mask(worst.lt(1), 1)
        share = share.mask(derived.to_numpy(), (rows["numerator"].astype("Float64") / worst).clip(upper=1))
    hidden = rows["numerator_suppressed"].to_numpy(dtype=bool)
    if hidden.any() and kind.counts_spells:
        denominator = rows["denominator"].astype("Float64")
        denominator_hidden = rows["denominator_suppressed"].to_numpy(dtype=bool)
        # Numerator 1..threshold; a hidden denominator is at least the numerator, at most the threshold.
        largest = float(policy.threshold)
        low_den = pd.Series(np.where(denominator_hidden, 1, denominator.fillna(1)), index=rows.index)
        high_den = pd.Series(
            np.where(denominator_hidden, policy.threshold, denominator.fillna(1)), index=rows.index
        )
        worst = (largest / low_den).clip(upper=1) if threshold.good == "low" else 1 / high_den
        share = share.mask(hidden, worst)
    status = threshold.status(share)
    if threshold.good == "high":
        status = status.mask(rows["denominator_suppressed"].to_numpy(dtype=bool), Status.NOT_ASSESSABLE)
    return status


def _follow_the_waterfall(
    out: pd.DataFrame,
    checks: pd.DataFrame,
    waterfall: pd.DataFrame,
    policy: Disclosure,
    diagnosis: str | None = None,
) -> pd.Series:
    """Publish each restriction's failures (in ``out``) with the waterfall's reasons; return their maxima.

    The rows are the diagnosis-outside-list check's (the failures of restriction ``diagnosis``).
    The first restriction's failures are its first reason, published as the waterfall publishes
    it. A later restriction's failures number at most the reasons up to it, so where one of those is
    suppressed they are suppressed too (unless they are 0, which bounds nothing); their largest
    possible value is then the most those reasons can hold, as published.
    """
    largest = pd.Series(float(policy.threshold), index=out.index)
    names = pd.Series(pd.NA, index=checks.index, dtype="string")
    if diagnosis is not None:
        outside = checks["kind"].eq(CheckKind.RFD_DIAGNOSIS_OUTSIDE_LIST) & checks["numerator"].notna()
        names = names.mask(outside, restriction_measure(diagnosis))
    rows = names.notna().to_numpy()
    if not rows.any():
        return largest
    reasons = waterfall[waterfall["measure"].notna()].sort_values([*KEYS, "step"], kind="stable")
    shown = reasons["spells"].astype("Float64").fillna(0).to_numpy(dtype=float)
    hidden = reasons["spells_suppressed"].to_numpy(dtype=bool)
    # The most each reason can hold as published: its rounded value + 2, or the threshold if hidden.
    most = np.where(hidden, policy.threshold, np.where(shown > 0, shown + policy.rounding // 2, 0))
    reasons = reasons.assign(_most=most, _hidden=hidden.astype(int))
    grouped = reasons.groupby(KEYS, sort=False)
    reasons["_up_to"] = grouped["_most"].cumsum()
    reasons["_hidden_up_to"] = grouped["_hidden"].cumsum()
    first_step = reasons["step"].eq(reasons.groupby(KEYS)["step"].transform("min"))
    joined = (
        checks.loc[rows, [*KEYS, "numerator"]]
        .assign(measure=names[rows])
        .merge(
            reasons.assign(_first=first_step)[
                [*KEYS, "measure", "spells", "spells_suppressed", "_up_to", "_hidden_up_to", "_first"]
            ],
            on=[*KEYS, "measure"],
            how="left",
        )
    )
    index = out.index[rows]
    first = joined["_first"].fillna(False).to_numpy(dtype=bool)
    out.loc[index[first], "numerator"] = joined.loc[first, "spells"].to_numpy()
    out.loc[index[first], "numerator_suppressed"] = joined.loc[first, "spells_suppressed"].to_numpy()
    cascade = (
        joined["_hidden_up_to"].fillna(0).gt(0).to_numpy() & joined["numerator"].fillna(0).gt(0).to_numpy()
    )
    out.loc[index[cascade], "numerator"] = pd.NA
    out.loc[index[cascade], "numerator_suppressed"] = True
    largest.loc[index[cascade]] = joined.loc[cascade, "_up_to"].astype(float).to_numpy()
    return largest


def _pathways_with_counted(
    out: pd.DataFrame, checks: pd.DataFrame, volumes: pd.DataFrame, policy: Disclosure
) -> np.ndarray:
    """Protect each pathway check's counts (in ``out``) with the counted RFDs they split.

    Returns the rows whose denominator is published as counted less the rounding.

    counted = assessed (the denominator) + unassessed, and counted is published on its own. A
    denominator of 1 to the threshold hides the unassessed count with it. A shown denominator is
    published as the published counted less the unassessed count as published, or less 5 where
    that is suppressed (1 to the threshold): a reader learns nothing from counted less it, nor, by
    adding a check's two counts, anything about counted that its own rounding hides. The
    numerator is shown no higher (hidden, with the denominator, when that would be a small count).
    """
    kind = checks["kind"]
    rows = (kind.isin([CheckKind.PRIOR_BLOCK, CheckKind.REPEAT]) & checks["denominator"].notna()).to_numpy()
    derived = np.zeros(len(out), dtype=bool)
    if not rows.any():
        return derived
    index = out.index[rows]
    joined = checks.loc[index, KEYS].merge(volumes, on=KEYS, how="left")
    # Suppressed counted RFDs: how many could not be assessed is not shown (assessed and not, each
    # 1 or more when shown as *, would tell a reader counted is at least 2).
    small = joined["counted_suppressed"].to_numpy(dtype=bool)
    out.loc[index[small], "unassessed"] = pd.NA
    out.loc[index[small], "unassessed_suppressed"] = False
    out.loc[index[small], "note"] = say("checks.notes.not_shown_unassessed")
    part = out.loc[index]
    raw_unassessed = checks.loc[index, "unassessed"].fillna(0).to_numpy()
    raw_numerator = checks.loc[index, "numerator"].fillna(0).to_numpy()
    denominator_hidden = part["denominator_suppressed"].to_numpy(dtype=bool)
    unassessed_hidden = part["unassessed_suppressed"].to_numpy(dtype=bool)
    # A hidden denominator hides the unassessed count with it (it would be counted less the other).
    hide_unassessed = denominator_hidden & ~unassessed_hidden & (raw_unassessed > 0) & ~small
    out.loc[index[hide_unassessed], "unassessed"] = pd.NA
    out.loc[index[hide_unassessed], "unassessed_suppressed"] = True
    # The denominator is the published counted less the unassessed count as published (less the
    # rounding where that is hidden): two pathway checks split the same counted RFDs, and their
    # rounded denominators and unassessed counts added up would pin counted closer than its own
    # rounding, and with it the other check's hidden unassessed count.
    counted = joined["counted"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    unassessed = out.loc[index, "unassessed"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    less = counted - np.where(unassessed_hidden, policy.rounding, np.nan_to_num(unassessed))
    shown = ~denominator_hidden & (part["denominator"].fillna(0).to_numpy() > 0) & ~small
    relink = shown & ~np.isnan(less)
    too_small = relink & ~(less > policy.threshold)
    keep = relink & ~too_small
    out.loc[index[keep], "denominator"] = less[keep].astype(np.int64)
    out.loc[index[too_small], "denominator"] = pd.NA
    out.loc[index[too_small], "denominator_suppressed"] = True
    hide_unassessed = too_small & ~unassessed_hidden & (raw_unassessed > 0)
    out.loc[index[hide_unassessed], "unassessed"] = pd.NA
    out.loc[index[hide_unassessed], "unassessed_suppressed"] = True
    denominator_hidden = denominator_hidden | too_small
    # The numerator: hidden with its denominator (unless 0), and never shown above it.
    hide_numerator = denominator_hidden & (raw_numerator > 0)
    out.loc[index[hide_numerator], "numerator"] = pd.NA
    out.loc[index[hide_numerator], "numerator_suppressed"] = True
    numerator = out.loc[index, "numerator"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    capped = keep & (numerator > less)
    out.loc[index[capped], "numerator"] = less[capped].astype(np.int64)
    # Judged on the worst denominator the hidden count allows (the shown one is exact as published).
    derived[np.flatnonzero(rows)[keep & unassessed_hidden]] = True
    return derived

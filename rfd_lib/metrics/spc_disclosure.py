"""XmR charts fit to circulate: limits and signals from the true counts, points as published.

An XmR chart of published counts misleads: rounding to 5 flattens a trend (true 11 … 19 over
eight quarters is a trend; published 10, 10, 15, 15, 15, 15, 20, 20 is not), a suppressed quarter
becomes a gap that hides a fall, and a total of rounded cells with the suppressed ones left out
runs below the true total by an amount that moves with how many are suppressed. So the chart is
worked out from the true counts (:func:`rfd_lib.metrics.spc.xmr`), and what a reader is shown is
protected separately:

* **Points** are the counts as the audit's tables publish them: rounded to the nearest 5, or,
  where suppressed, a band "1–7" at its place, coloured by the signal of its true count (it is
  part of every rule: a hidden 4 can be the point below the lower limit). A provider's points
  are its published cells, so the chart adds no new count.
* **Mean and limits** are worked out from the true counts and published rounded to whole
  numbers: counts are whole, the points are shown to the nearest 5 so a line finer than a whole
  number adds nothing a reader can use, and the mean then gives the true sum only to within the
  number of quarters, n (±n/2). Before they are published, :func:`summary_rounding` checks
  that they narrow no point. A reader knows each published point (a rounded count ``p`` is one
  of ``p-2 … p+2``, and more than 7; a suppressed one is 1 … 7; a 0 is 0), and, from the rounded
  mean and limits, a window for the true mean, ``mean + 2.66 × mR-bar`` and ``mean - 2.66 ×
  mR-bar``. For every point and every value it may have (1 … 7 for a suppressed one; ``p-2 …
  p+2`` for one rounded to ``p``, since a mean that pinned a rounded count would let a reader
  subtract it from another table's count), the guard looks for a whole series a reader cannot
  tell from the true one: every point within what is published, that point at that value, and a
  mean and limits that round to the published ones (a greedy search over one- and two-point
  changes, from the true series; each series it finds is checked exactly, so a "safe" answer is
  always proved, and a search that finds none counts as unsafe). If a value has no such series,
  the mean and limits are rounded to the nearest 5, then 10, and otherwise not published at all;
  the caption says which. The moving ranges, mR-bar and the 2-sigma lines are not published
  (the limits give mR-bar).
* **Totals over providers** (the summary's all-provider trend) are the true totals, rounded
  once to 5, not sums of rounded cells. A total next to the providers' published cells of its
  quarter can expose a suppressed one (with two providers, one of them suppressed, the total less
  the other's rounded count is within a few). :func:`quarter_total` therefore publishes a
  quarter's total only if, knowing it, every suppressed cell of that quarter can still be each of
  1 … 7, and every rounded cell each value it may stand for (interval arithmetic: the other
  cells' possible sum is an unbroken range). Otherwise the point is shown as the range the cells
  allow (their published bounds added up) and the caption names the quarter. Whether a total is
  published must not itself be a clue, so the totals that are withheld are fixed from the
  published cells alone, before the true total is looked at: the rounded totals that would
  narrow a cell, any that could be 1 … 7, and then more, one at a time, until every cell can
  still be each of its values among the totals withheld. With two providers that is every total;
  with the demo's twenty, none. The total series' own mean and limits then go through
  :func:`summary_rounding` as above, its points being the totals a reader cannot tell apart.

In internal mode the XmR is that of the true counts, as :func:`~rfd_lib.metrics.spc.xmr` gives it.
What remains (the signals themselves, series checked one at a time) is listed under "Not covered"
in :mod:`rfd_lib.metrics.disclosure`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial

import numpy as np
import pandas as pd

from rfd_lib.metrics.disclosure import CIRCULATION, FLAG_SUFFIX, Disclosure, DisclosureError
from rfd_lib.metrics.spc import LIMIT_SIGMAS, MR_OUTLIER, Publication, TooFewValues, XmR, xmr
from rfd_lib.metrics.spc_by_provider import summary_row, summary_table
from rfd_lib.metrics.spc_words import format_number, variation_summary

# The mean and limits are published rounded to the first of these that narrows no suppressed point.
SUMMARY_ROUNDINGS = (1, 5, 10)
# A bound on the witness search's steps (each one strictly nearer the published summary).
_MAX_STEPS = 200

Stats = Callable[[np.ndarray], np.ndarray]
# A suppressed point and, for each value it may have, the values its point of the series may then
# take: (position, [values when the cell is 1, when it is 2, ...]).
Target = tuple[int, list[np.ndarray]]


def published_xmr(
    true: pd.Series,
    published: pd.Series,
    suppressed: pd.Series,
    *,
    policy: Disclosure = CIRCULATION,
    floor: float | None = 0,
    screen_outliers: bool = True,
    baseline_points: int | None = None,
    **options,
) -> XmR:
    """Return the XmR chart of the ``true`` counts as it may be circulated under ``policy``.

    ``true`` is one series of true counts per period (whole numbers, none missing); ``published``
    and ``suppressed`` are the same cells as a table publishes them (:func:`~rfd_lib.metrics.
    disclosure.protect`: the rounded count, and the ``<count>_suppressed`` flag), indexed alike.
    Limits, signals, icons and summary come from ``true``; the points, mean and limits shown are
    as the module's docstring says, and :attr:`XmR.publication` says what they are. In internal
    mode the result is ``xmr(true)``. The other options go to :func:`~rfd_lib.metrics.spc.xmr`.
    Raises :class:`~rfd_lib.metrics.disclosure.DisclosureError` when a suppressed count is not 1
    to the threshold (the band "1–7" would be wrong), ValueError when the published cells are not
    those of ``true``, and :class:`~rfd_lib.metrics.spc.TooFewValues` as ``xmr`` does.
    """
    settings = {"floor": floor, "screen_outliers": screen_outliers, "baseline_points": baseline_points}
    result = xmr(true.astype("Float64"), **settings, **options)
    if not policy.circulating:
        return result
    y = _whole(true, "true")
    hidden = suppressed.reindex(true.index).fillna(False).to_numpy(dtype=bool)
    values = published.reindex(true.index).astype("Float64").fillna(0).to_numpy(dtype=float)
    allowed = _boxes(y, values, hidden, policy)
    # Every value a published cell may stand for must stay possible too, not only the suppressed
    # ones: a mean that pins a rounded count (20 -> 18 or 19) lets a reader difference it against
    # another table's count (counted less assessed = a suppressed unassessed count).
    targets = [(int(t), [np.array([v]) for v in box]) for t, box in enumerate(allowed) if len(box) > 1]
    stats = partial(_summaries, **settings)
    rounding = summary_rounding(y, allowed, targets, stats)
    publication = Publication(policy.rounding, policy.threshold, rounding)
    low = np.where(hidden, 1.0, np.nan)
    high = np.where(hidden, float(policy.threshold), np.nan)
    texts = [
        f"1–{policy.threshold}" if hide else _about(value) for value, hide in zip(values, hidden, strict=True)
    ]
    return _published_view(
        result, y, np.where(hidden, np.nan, values), hidden, low, high, texts, stats, publication
    )


def published_xmr_by(
    table: pd.DataFrame,
    *,
    value: str,
    true: str,
    by: str = "provider_code",
    period: str = "quarter",
    policy: Disclosure = CIRCULATION,
    **options,
) -> pd.DataFrame:
    """Return :func:`~rfd_lib.metrics.spc_by_provider.xmr_by`'s table of each ``by`` group's circulated chart.

    ``table`` is long, one row per group and period, with the published ``value`` column, its
    ``<value>_suppressed`` flag, and the ``true`` counts. Each row summarises
    :func:`published_xmr`: ``latest_value`` is the published count (NaN when suppressed), ``mean``,
    ``lower`` and ``upper`` as published (NaN when not), ``mean_moving_range`` NaN; icons, signals
    and summaries from the true counts. In internal mode, the true counts' chart.
    """
    flag = f"{value}{FLAG_SUFFIX}"
    rows = []
    for group, rows_of in _groups(table, by, period):
        row: dict[str, object] = {by: group, "periods": len(rows_of), "values": len(rows_of)}
        try:
            result = published_xmr(rows_of[true], rows_of[value], rows_of[flag], policy=policy, **options)
        except TooFewValues as error:
            rows.append({**row, "summary": f"No XmR chart: {error}."})
            continue
        rows.append({**row, **summary_row(result)})
    return summary_table(rows, by)


def total_xmr(
    table: pd.DataFrame,
    *,
    value: str,
    true: str,
    by: str = "provider_code",
    period: str = "quarter",
    policy: Disclosure = CIRCULATION,
    floor: float | None = 0,
    screen_outliers: bool = True,
    baseline_points: int | None = None,
    **options,
) -> XmR:
    """Return the XmR chart of the true total over every ``by`` group per period, as it may circulate.

    ``table`` is as for :func:`published_xmr_by`. Each period's point is the true total rounded
    once to the policy's rounding, or, where :func:`quarter_total` withholds it, the range the
    groups' published cells allow; mean, limits and summary as for :func:`published_xmr`. In
    internal mode, ``xmr`` of the true totals.
    """
    settings = {"floor": floor, "screen_outliers": screen_outliers, "baseline_points": baseline_points}
    flag = f"{value}{FLAG_SUFFIX}"
    wide = {
        column: table.pivot(index=period, columns=by, values=column).sort_index()
        for column in (true, value, flag)
    }
    totals = pd.Series(
        np.array([_whole(row, "true").sum() for _, row in wide[true].iterrows()], dtype=float),
        index=wide[true].index,
    )
    result = xmr(totals, **settings, **options)
    if not policy.circulating:
        return result
    n = len(totals)
    values, low, high = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    allowed, targets, texts, unpublished = [], [], [], []
    for t, quarter in enumerate(totals.index):
        hidden = wide[flag].loc[quarter].fillna(False).to_numpy(dtype=bool)
        cells = wide[value].loc[quarter].astype("Float64").fillna(0).to_numpy(dtype=float)
        boxes = _boxes(_whole(wide[true].loc[quarter], "true"), cells, hidden, policy)
        total = quarter_total(boxes, hidden, int(totals.iloc[t]), policy)
        allowed.append(total.allowed)
        targets += [(t, sets) for sets in (*total.if_cell, *total.if_shown)]
        if total.published is None:
            low[t], high[t] = total.allowed_range
            texts.append(f"{int(low[t]):,}–{int(high[t]):,}")
            unpublished.append(str(quarter))
        else:
            values[t] = total.published
            texts.append(_about(total.published))
    stats = partial(_summaries, **settings)
    y = totals.to_numpy(dtype=np.int64)
    publication = Publication(
        policy.rounding,
        policy.threshold,
        summary_rounding(y, allowed, targets, stats),
        True,
        tuple(unpublished),
    )
    suppressed = np.isnan(values)
    return _published_view(result, y, values, suppressed, low, high, texts, stats, publication)


@dataclass(frozen=True)
class QuarterTotal:
    """One period's total over providers as it may be published, and what a reader then knows.

    ``published`` is the true total rounded once, or None when it is withheld; ``allowed`` the
    totals a reader cannot rule out (given the cells and what is published); ``allowed_range``
    the range the cells allow (how a withheld total is drawn); ``if_cell`` one list per
    suppressed cell: for each value 1 … threshold the cell may have, the totals then allowed;
    ``if_shown`` the same per rounded cell, for each value it may stand for.
    """

    published: int | None
    allowed: np.ndarray
    allowed_range: tuple[int, int]
    if_cell: list[list[np.ndarray]]
    if_shown: list[list[np.ndarray]] = ()


def quarter_total(
    boxes: Sequence[np.ndarray], hidden: np.ndarray, truth: int, policy: Disclosure
) -> QuarterTotal:
    """Return how the total ``truth`` of one period's cells is published (see the module's docstring).

    ``boxes`` holds, per cell, the true counts a reader cannot rule out from its published value
    (:func:`cell_values`; 1 … threshold where ``hidden``). Which rounded totals are withheld is
    decided from the boxes alone: those that would leave a suppressed cell fewer than all of
    1 … threshold, or a rounded cell fewer than all the values it may stand for, those that could
    be 1 … threshold themselves, then more (one rounded total in an offending range at a time)
    until each cell can still be each of its values among the withheld ones. The total is published, rounded
    once, unless it is one of them. ``if_cell`` and ``if_shown`` give, per suppressed and per
    rounded cell, the totals then allowed at each of its values (the mean and limits' guard).
    """
    low = np.array([int(box.min()) for box in boxes], dtype=np.int64)
    high = np.array([int(box.max()) for box in boxes], dtype=np.int64)
    bottom, top = int(low.sum()), int(high.sum())
    totals = np.arange(bottom, top + 1)
    window = _round_int(totals, policy.rounding)
    # The totals a cell allows at each of its values: v + the others' range. A suppressed cell must
    # stay each of 1 … threshold, and a rounded one each value it may stand for: a total that pins
    # a rounded count lets a reader difference it against another table's count.
    ranges = [
        [(v + bottom - low[i], v + top - high[i]) for v in range(1, policy.threshold + 1)]
        for i in np.flatnonzero(hidden)
    ]
    shown = [
        [(v + bottom - low[i], v + top - high[i]) for v in boxes[i]]
        for i in np.flatnonzero(~hidden)
        if len(boxes[i]) > 1
    ]
    withheld = set(window[(totals >= 1) & (totals <= policy.threshold)].tolist())
    for w in np.unique(window):
        inside = totals[window == w]
        if any(not _meets(inside, span) for spans in (*ranges, *shown) for span in spans):
            withheld.add(int(w))
    changed = bool(withheld)
    while changed:
        changed = False
        among = totals[np.isin(window, list(withheld))]
        for spans in (*ranges, *shown):
            for first, last in spans:
                if not _meets(among, (first, last)):
                    # Withhold one rounded total more, the one nearest the middle of the range
                    # (withholding every one of them would leave no total to publish).
                    middle = min(max((first + last) // 2, bottom), top)
                    withheld.add(int(window[middle - bottom]))
                    changed = True
                    among = totals[np.isin(window, list(withheld))]
    rounded = int(_round_int(np.array([truth]), policy.rounding)[0])
    published = None if rounded in withheld else rounded
    allowed = totals[np.isin(window, list(withheld))] if published is None else totals[window == published]
    if_cell = [[allowed[(allowed >= first) & (allowed <= last)] for first, last in spans] for spans in ranges]
    if_shown = [[allowed[(allowed >= first) & (allowed <= last)] for first, last in spans] for spans in shown]
    return QuarterTotal(published, allowed, (bottom, top), if_cell, if_shown)


def cell_values(published: float, policy: Disclosure) -> np.ndarray:
    """Return the true counts a published (not suppressed) count may stand for under ``policy``.

    A count rounded to ``p`` was ``p - rounding/2`` up to below ``p + rounding/2`` (halves up),
    and is 0 or above the threshold (1 … threshold would be suppressed): 15 → 13 … 17, 10 → 8 … 12,
    0 → 0. In internal mode a count is itself.
    """
    if not policy.circulating:
        return np.array([int(published)])
    half = policy.rounding / 2
    values = np.arange(max(math.ceil(published - half), 0), math.ceil(published + half))
    return values[(values == 0) | (values > policy.threshold)]


def summary_rounding(
    y: np.ndarray, allowed: Sequence[np.ndarray], targets: Sequence[Target], stats: Stats
) -> int | None:
    """Return the first of :data:`SUMMARY_ROUNDINGS` at which the mean and limits narrow no target.

    ``y`` is the true series, ``allowed`` each point's values a reader cannot rule out from what is
    published, ``stats`` the (mean, upper, lower) of series (:func:`_summaries`). At a rounding,
    a target (a suppressed point) is safe when, for each of its values, a series exists within
    ``allowed`` with that point among the values given for it, whose mean and limits round to
    the true series'. None: no rounding is safe, so the mean and limits are not published.
    """
    if not targets:
        return SUMMARY_ROUNDINGS[0]
    y = np.asarray(y, dtype=float)
    for rounding in SUMMARY_ROUNDINGS:
        goal = _round_half_up(stats(y[None, :])[0], rounding)
        if all(
            _has_witness(y, allowed, position, values, goal, rounding, stats)
            for position, sets in targets
            for values in sets
        ):
            return rounding
    return None


# --- helpers -----------------------------------------------------------------------------------


def _boxes(
    true: np.ndarray, published: np.ndarray, hidden: np.ndarray, policy: Disclosure
) -> list[np.ndarray]:
    """Return, per cell, the true counts a reader cannot rule out from it as published.

    Raises :class:`~rfd_lib.metrics.disclosure.DisclosureError` when a suppressed count is not 1 to
    the threshold (the chart's band "1–7" would be wrong), and ValueError when a published count
    is not its true count as published.
    """
    if ((true[hidden] < 1) | (true[hidden] > policy.threshold)).any():
        raise DisclosureError(
            f"a suppressed count in the chart is not 1 to {policy.threshold}",
            hint="the SPC charts draw every suppressed count as a band from 1 to the threshold: "
            "protect their series cell by cell, with no complementary suppression",
        )
    boxes = [
        np.arange(1, policy.threshold + 1) if hide else cell_values(value, policy)
        for value, hide in zip(published, hidden, strict=True)
    ]
    if any(count not in box for count, box in zip(true, boxes, strict=True)):
        raise ValueError("the published counts are not these true counts as published")
    return boxes


def _published_view(
    result: XmR,
    y: np.ndarray,
    values: np.ndarray,
    suppressed: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    texts: list[str],
    stats: Stats,
    publication: Publication,
) -> XmR:
    """Return ``result`` (the true counts' chart) with what a circulated chart shows in its place."""
    rounding = publication.summary_rounding
    if rounding is None:
        mean = upper = lower = np.nan
    else:
        mean, upper, lower = (
            float(x) for x in _round_half_up(stats(np.asarray(y, dtype=float)[None, :])[0], rounding)
        )
    points = result.points.copy()
    points["value"], points["suppressed"] = values, suppressed
    points["range_low"], points["range_high"] = low, high
    points["mean"], points["upper"], points["lower"] = mean, upper, lower
    points[["moving_range", "upper_2s", "lower_2s"]] = np.nan
    observed = result.points["value"].notna().to_numpy()
    summary = variation_summary(
        result.points,
        observed,
        result.unit,
        shown=pd.Series(texts),
        limits=None if rounding is None else (upper, lower),
        hidden=np.asarray(suppressed, dtype=bool),
    )
    return replace(
        result,
        points=points,
        mean=mean,
        mean_moving_range=np.nan,
        upper=upper,
        lower=lower,
        upper_2s=np.nan,
        lower_2s=np.nan,
        summary=summary,
        publication=publication,
    )


def _summaries(
    series: np.ndarray, *, floor: float | None, screen_outliers: bool, baseline_points: int | None
) -> np.ndarray:
    """Return each row's (mean, upper limit, lower limit) as :func:`~rfd_lib.metrics.spc.xmr` sets them.

    ``series`` holds complete series, one a row; the limits follow the same mR-bar, screening,
    baseline and floor as ``xmr``.
    """
    base = series[:, :baseline_points] if baseline_points else series
    mean = base.mean(axis=1)
    ranges = np.abs(np.diff(base, axis=1))
    spread = ranges.mean(axis=1)
    if screen_outliers:
        keep = ranges < MR_OUTLIER * spread[:, None]
        screened = np.where(keep, ranges, 0).sum(axis=1) / np.maximum(keep.sum(axis=1), 1)
        spread = np.where(spread > 0, screened, spread)
    upper, lower = mean + LIMIT_SIGMAS * spread, mean - LIMIT_SIGMAS * spread
    if floor is not None:
        lower = np.maximum(lower, floor)
    return np.stack([mean, upper, lower], axis=1)


def _has_witness(
    y: np.ndarray,
    allowed: Sequence[np.ndarray],
    position: int,
    values: np.ndarray,
    goal: np.ndarray,
    rounding: int,
    stats: Stats,
) -> bool:
    """Return True if a series within ``allowed``, with ``values`` at ``position``, has summary ``goal``.

    A greedy search from ``y`` (the true series, whose summary is ``goal``): the point at
    ``position`` moved to the nearest of ``values``, then, step by step, the change of one point
    (or, when none helps, of two points at once, to any of their values) that brings the summary
    nearest ``goal``, for as long as that gets nearer. A series is accepted only when its summary
    rounds exactly to ``goal``, so True is always proved; False may be a series the search
    missed (the caller then rounds more coarsely, which is safe).
    """
    if len(values) == 0:
        return False
    if np.isin(y[position], values):
        return True
    options = [np.asarray(values if t == position else allowed[t], dtype=float) for t in range(len(y))]
    current = y.astype(float)
    current[position] = options[position][np.argmin(np.abs(options[position] - y[position]))]
    best = _distance(stats(current[None, :]), goal, rounding)[0]
    singles = _moves(options, 1)
    pairs = None
    for _ in range(_MAX_STEPS):
        if best == 0:
            return True
        for moves in (singles, pairs):
            if moves is None:
                moves = pairs = _moves(options, 2)
            candidates = _apply(current, moves)
            distance = _distance(stats(candidates), goal, rounding)
            pick = int(np.argmin(distance))
            if distance[pick] < best:
                current, best = candidates[pick], distance[pick]
                break
        else:
            return False
    return best == 0


def _moves(options: Sequence[np.ndarray], size: int) -> tuple[np.ndarray, np.ndarray]:
    """Return every change of ``size`` (1 or 2) points to any of their options: (positions, values)."""
    slots = np.concatenate([np.full(len(o), t) for t, o in enumerate(options)])
    choices = np.concatenate(options)
    if size == 1:
        return slots[:, None], choices[:, None]
    first, second = np.nonzero(slots[:, None] < slots[None, :])
    return np.stack([slots[first], slots[second]], axis=1), np.stack(
        [choices[first], choices[second]], axis=1
    )


def _apply(current: np.ndarray, moves: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Return one copy of ``current`` per move, with the move's points set to its values."""
    positions, values = moves
    candidates = np.repeat(current[None, :], len(positions), axis=0)
    rows = np.arange(len(positions))[:, None]
    candidates[rows, positions] = values
    return candidates


def _distance(summaries: np.ndarray, goal: np.ndarray, rounding: int) -> np.ndarray:
    """Return how far each row's summary is from rounding to ``goal`` (0 exactly when it does)."""
    off = _round_half_up(summaries, rounding) != goal
    gap = np.maximum(goal - rounding / 2 - summaries, summaries - (goal + rounding / 2))
    return np.where(off, np.maximum(gap, 0) + 1e-9, 0).sum(axis=1)


def _about(value: float) -> str:
    """Return a published (rounded) count as a summary quotes it: "about 30"; a 0 is exact."""
    return "0" if value == 0 else f"about {format_number(value)}"


def _meets(totals: np.ndarray, span: tuple[int, int]) -> bool:
    """Return True if any of ``totals`` lies in the closed range ``span``."""
    return bool(((totals >= span[0]) & (totals <= span[1])).any())


def _round_half_up(values: np.ndarray, base: int) -> np.ndarray:
    return np.floor(np.asarray(values, dtype=float) / base + 0.5) * base


def _round_int(values: np.ndarray, base: int) -> np.ndarray:
    # As the disclosure rule rounds a count: nearest multiple of base, halves up, in integers.
    return (2 * values + base) // (2 * base) * base


def _whole(values: pd.Series, name: str) -> np.ndarray:
    numbers = pd.to_numeric(values).astype("Float64")
    if numbers.isna().any() or numbers.mod(1).ne(0).any() or numbers.lt(0).any():
        raise ValueError(f"{name} counts must be whole numbers of 0 or more, none missing")
    return numbers.to_numpy(dtype=np.int64)


def _groups(table: pd.DataFrame, by: str, period: str):
    """Yield each ``by`` group of ``table`` (in sorted order) indexed by ``period`` in time order."""
    if table.duplicated([by, period]).any():
        raise ValueError(f"more than one row for a {by} and {period}: aggregate first")
    for group, rows in table.groupby(by, sort=True):
        yield group, rows.set_index(period).sort_index()

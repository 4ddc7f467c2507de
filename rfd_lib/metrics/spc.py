"""Statistical process control: XmR charts with NHS England's Making Data Count rules.

:func:`xmr` takes one provider's series (a value per period, in time order) and returns an
:class:`XmR`: the limits, the four special-cause rules point by point, the variation and
assurance icons a Making Data Count (MDC) reader knows, and a summary in words for a report (the
latest point's verdict, then every point the chart flags, named).
:func:`xmr_by` does the same for every provider of a long table and returns one row each, for
league tables. :func:`rfd_lib.charts.spc.spc_chart` draws the chart.

Definitions
-----------
They follow NHS-R's ``NHSRplotthedots`` package, which implements MDC's "plot the dots" logic
(``R/ptd_spc_standard.R``, ``R/ptd_calculate_point_type.R``, ``R/ptd_calculate_assurance_type.R``,
``R/geom_ptd_icon.R``):

* moving range: ``|x[t] - x[t-1]|`` between neighbouring periods; mean moving range (mR-bar): their
  mean. Moving ranges of ``3.267 × mR-bar`` or more (D4 for pairs: the upper limit of the moving
  range chart) are screened out and mR-bar recomputed (``screen_outliers``, on by default in
  plotthedots too), so one wild jump does not widen the limits that should catch it;
* process limits: ``mean ± 2.66 × mR-bar`` (3 sigma, sigma estimated as mR-bar / 1.128); the
  "2 sigma" lines ``mean ± (2/3) × 2.66 × mR-bar``;
* beyond the limits: strictly above the upper or strictly below the lower limit (a point exactly on
  a limit is not beyond it);
* run: 7 or more consecutive points on the same side of the mean; a point exactly on the mean
  breaks the run. Every point of the run is flagged;
* trend: 7 or more consecutive points each strictly higher (or each strictly lower) than the one
  before; two equal neighbours break the trend. Every point of the trend is flagged;
* two of three: of 3 consecutive points, at least 2 lie beyond a 2-sigma line but not beyond a
  process limit (plotthedots' "close to limits"), and all 3 lie on the same side of the mean.
  The close points of such a triple are flagged. A point beyond a process limit does not count
  towards the 2 (it is a signal of its own);
* a point flagged by several rules takes, for its colour, the first of: beyond the limits, trend,
  two of three, run. Its direction is its side of the mean, or for a trend the trend's direction;
  with ``improvement`` "increase" an upward signal is improvement and a downward one concern (the
  reverse for "decrease"); with "neither" it is "neither" (purple in MDC);
* variation icon: from the most recent point, as MDC and plotthedots do;
* assurance icon (needs a target and an improvement direction): a target beyond the upper limit
  is consistently failed when higher is better (consistently met when lower is better), beyond
  the lower limit the reverse, and a target between the limits (or on one) is hit and miss.

Missing values (NA or NaN) are missing points, never zeros. plotthedots
expects no gaps and does not define them; here, a moving range needs both neighbours (none is
computed across a gap, as plotthedots' ``diff`` gives), and the rules read the observed points
in order with the gap skipped, so a missing point neither breaks nor extends a run, trend or
triple. The latest point for the icons is the latest observed one. The audit's charts have no
gaps: they are worked out from the true counts, where a quarter with no spells is a 0.

Where these charts differ from the Making Data Count Excel tools and from plotthedots
-------------------------------------------------------------------------------------
* **Moving-range outliers are screened** (above), as plotthedots does by default
  (``screen_outliers = TRUE``, after Nelson 1982 and Provost & Murray 2011). The MDC Excel tools
  do not screen: every moving range counts, so a wild jump widens the limits, sometimes enough
  to hide itself (plotthedots' vignette "Deviations from Excel defaults", its deviation 1; the
  spec tests' 11, 9, 11, 9, 20, 20, 20, 20). The audit's charts take it from
  ``params/expectations.yaml`` (``trends: screen_moving_range_outliers``, on by default); set it
  to false to match the Excel tools.
* **A constant series** (every moving range 0, e.g. a provider with no facet joint injections in
  any quarter) has mR-bar 0 and zero-width limits here, and no signal. Screening in plotthedots
  keeps only ranges below 3.267 × 0, i.e. none, so its mR-bar and limits are NaN there.
* **The lower limits are clipped at 0** for counts (``floor``). Neither plotthedots nor the Excel
  tools clip (the vignette's example prints lower limits of -0.72, and -3.06 as Excel gives it);
  no signal changes (a count cannot lie below 0), only the line drawn and the number printed.
* **Gaps** are allowed (above); plotthedots and the Excel tools expect none.
* **A baseline** (``baseline_points``, plotthedots' ``fix_after_n_points``) but no rebasing into
  separate phases, no trajectory, and limits from all points by default, as both do.
* **A tie after a trend**: where a trend point's next step is flat, plotthedots takes that step's
  sign 0 as "Decreasing"; here the point keeps the direction of the step before it (the one
  deliberate difference in the rules, tested against a transcription of plotthedots).
* **What a circulated chart shows**: Excel and plotthedots chart the values they are given. The
  audit's circulated charts work out the mean, the limits and every point's signal from the
  true counts but draw the points as published (rounded to 5; a suppressed count as a band "1–7"
  in the colour of its signal), and publish the mean and limits rounded, only as coarsely as
  disclosure control needs (:mod:`rfd_lib.metrics.spc_disclosure`). :class:`Publication` says
  what an :class:`XmR` shows.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

Improvement = Literal["increase", "decrease", "neither"]

LIMIT_SIGMAS = 2.66  # 3 / d2, d2 = 1.128 for moving ranges of 2
TWO_SIGMA = 2 * LIMIT_SIGMAS / 3
MR_OUTLIER = 3.267  # D4 for moving ranges of 2
RUN_LENGTH = 7
TREND_LENGTH = 7
MIN_POINTS_FOR_LIMITS = 12  # plotthedots warns below this; MDC prefers 15-20

_DIRECTIONS = {"increase": 1, "decrease": -1, "neither": 0}
# What each rule says of a point, upward first (the order is the colouring precedence).
_SIGNALS = {
    "beyond": ("above upper limit", "below lower limit"),
    "trend": ("increasing trend", "decreasing trend"),
    "two_of_three": ("two of three near upper limit", "two of three near lower limit"),
    "run": ("run above mean", "run below mean"),
}
_HIGH_SIGNALS = {up for up, _ in _SIGNALS.values()}


class TooFewValues(ValueError):
    """The data, not the arguments, are too short for limits (``xmr_by`` reports it per provider)."""


@dataclass(frozen=True)
class Publication:
    """How a circulated :class:`XmR` shows its figures (None on an XmR of the values themselves).

    The mean, the limits and every point's signal were worked out from the true counts. Points
    are shown as published: rounded to the nearest ``rounding``, or, where suppressed, as the band
    ``range_low`` to ``range_high`` of their row (1 to ``threshold`` for a provider's count).
    ``summary_rounding``: the mean and limits are rounded to the nearest this (1: whole numbers),
    or None when they are not published at all (even rounded they would narrow a suppressed
    count). ``totals``: each point is a total over providers, rounded once; ``unpublished`` names
    the periods whose total is not published, drawn as the range the providers' published counts
    allow.
    """

    rounding: int
    threshold: int
    summary_rounding: int | None
    totals: bool = False
    unpublished: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class XmR:
    """An XmR chart's numbers, point by point and in summary.

    ``points`` has one row per period, in order: ``period``, ``value`` (NaN when missing or
    suppressed), ``suppressed`` (True for a point shown as a band, not a value), ``range_low`` and
    ``range_high`` (that band, e.g. 1 and 7; NaN for other points), ``mean``, ``moving_range``,
    ``upper``, ``lower``, ``upper_2s``, ``lower_2s``, the rule flags ``beyond_limits``, ``run``,
    ``trend``, ``two_of_three``, ``special_cause`` (any of them), ``variation`` ("improvement",
    "concern", "neither", "common cause"; missing for a missing point) and ``signal`` (the rule
    that colours the point, in words, e.g. "run above mean").

    ``publication`` is None when the values are the values charted (:func:`xmr`; internal mode).
    On a circulated chart (:mod:`rfd_lib.metrics.spc_disclosure`) it says what is shown: the
    points as published, the mean and limits rounded (NaN when not published) and the moving
    ranges, mR-bar and 2-sigma lines not at all (NaN); the rule flags, variation, signals, icons
    and summary are those of the true counts.
    """

    points: pd.DataFrame
    mean: float
    mean_moving_range: float
    upper: float
    lower: float
    upper_2s: float
    lower_2s: float
    variation_icon: str
    assurance_icon: str | None
    note: str | None
    summary: str
    improvement: Improvement
    target: float | None
    unit: str
    baseline_points: int | None
    publication: Publication | None = None

    @property
    def latest(self) -> pd.Series:
        """Return the row of ``points`` of the most recent observed (or suppressed) period."""
        observed = self.points["value"].notna() | self.points["suppressed"]
        return self.points.loc[observed[observed].index[-1]]

    @property
    def assurance_summary(self) -> str | None:
        """Return the assurance verdict as one plain-English sentence, or None without a target."""
        if self.assurance_icon is None:
            return None
        target = _number(self.target)
        where = {
            "pass": "consistently meet",
            "fail": "consistently fail",
            "hit_and_miss": "sometimes meet and sometimes miss",
        }[self.assurance_icon]
        if not (math.isfinite(self.upper) and math.isfinite(self.lower)):
            return f"The process will {where} the target of {target}."
        if self.target > self.upper:
            position = f"it is above the upper limit ({_number(self.upper)})"
        elif self.target < self.lower:
            position = f"it is below the lower limit ({_number(self.lower)})"
        else:
            position = f"it lies between the limits ({_number(self.lower)} to {_number(self.upper)})"
        return f"The process will {where} the target of {target}: {position}."


def xmr(
    values: pd.Series,
    *,
    improvement: Improvement = "neither",
    target: float | None = None,
    baseline_points: int | None = None,
    floor: float | None = 0,
    screen_outliers: bool = True,
    unit: str | None = None,
) -> XmR:
    """Return the XmR chart of ``values`` under Making Data Count's rules (see the module doc).

    ``values`` is indexed by period label in time order (e.g. "2024/25 Q3"); NA / NaN is a missing
    point. ``improvement`` says which direction is better; ``target`` adds the assurance icon.
    ``baseline_points`` computes the mean and limits from the first that many periods only (the
    rules still read every point against them). ``floor`` clips the lower limits (0 for counts;
    None for values that can be negative). ``screen_outliers`` drops moving ranges of 3.267 × mR-bar
    or more before the limits are set, as plotthedots does by default. ``unit`` names a period in
    the summary ("quarter", "month"); by default it is read from the labels. Raises ValueError
    for an unknown direction, a bad baseline, a target without a direction, or fewer than 2 values.
    """
    if improvement not in _DIRECTIONS:
        raise ValueError(f"improvement must be 'increase', 'decrease' or 'neither', not {improvement!r}")
    if target is not None and improvement == "neither":
        raise ValueError("a target needs improvement='increase' or 'decrease' to say which side is good")
    if target is not None and not math.isfinite(target):
        raise ValueError(f"target must be a finite number, not {target!r}")
    if not isinstance(values, pd.Series):
        raise ValueError(f"values must be a pandas Series indexed by period, not {type(values).__name__}")
    if values.index.has_duplicates:
        raise ValueError("values has a period more than once: give one value per period")
    try:
        y = values.to_numpy(dtype="float64", na_value=np.nan)
    except (TypeError, ValueError) as error:
        raise ValueError(f"values must be numbers (NA for a missing point): {error}") from None
    if np.isinf(y).any():
        raise ValueError("values must be finite numbers or NA, not infinite")
    n = len(y)
    if baseline_points is not None and not 2 <= baseline_points <= n:
        raise ValueError(f"baseline_points must be from 2 to the {n} periods given, not {baseline_points}")
    unit = unit or _unit(values.index)
    observed = ~np.isnan(y)
    if observed.sum() < 2:
        raise TooFewValues(f"an XmR chart needs at least 2 values; got {int(observed.sum())} of {n} {unit}s")

    mean, mean_mr, used = _centre_and_spread(y[: baseline_points or n], screen_outliers, unit)
    upper, lower = mean + LIMIT_SIGMAS * mean_mr, mean - LIMIT_SIGMAS * mean_mr
    upper_2s, lower_2s = mean + TWO_SIGMA * mean_mr, mean - TWO_SIGMA * mean_mr
    if floor is not None:
        lower, lower_2s = max(lower, floor), max(lower_2s, floor)

    rules = _rules(y[observed], mean, upper, lower, upper_2s, lower_2s, _DIRECTIONS[improvement])
    points = pd.DataFrame(
        {
            "period": values.index,
            "value": y,
            "suppressed": False,
            "range_low": np.nan,
            "range_high": np.nan,
            "mean": mean,
            "moving_range": np.concatenate([[np.nan], np.abs(np.diff(y))]),
            "upper": upper,
            "lower": lower,
            "upper_2s": upper_2s,
            "lower_2s": lower_2s,
        }
    )
    for name, column in rules.items():
        full = np.full(n, None if column.dtype == object else False, dtype=column.dtype)
        full[observed] = column
        points[name] = pd.Series(full, dtype="str") if column.dtype == object else full

    latest = points.loc[np.flatnonzero(observed)[-1]]
    variation_icon = _variation_icon(latest)
    assurance_icon = None if target is None else _assurance_icon(target, upper, lower, improvement)
    note = None
    if used < MIN_POINTS_FOR_LIMITS:
        note = f"fewer than {MIN_POINTS_FOR_LIMITS} points: limits are indicative"
    return XmR(
        points=points,
        mean=mean,
        mean_moving_range=mean_mr,
        upper=upper,
        lower=lower,
        upper_2s=upper_2s,
        lower_2s=lower_2s,
        variation_icon=variation_icon,
        assurance_icon=assurance_icon,
        note=note,
        summary=_summary(points, observed, unit),
        improvement=improvement,
        target=None if target is None else float(target),
        unit=unit,
        baseline_points=baseline_points,
    )


def xmr_by(
    table: pd.DataFrame,
    *,
    by: str = "provider_code",
    period: str = "quarter",
    value: str = "spells",
    **options,
) -> pd.DataFrame:
    """Return one row per ``by`` group (provider) summarising its XmR chart, for league tables.

    ``table`` is long: one row per provider and period. Periods are put in time order by sorting
    the labels (an ordered categorical keeps its own order); each provider is charted over every
    period of the table, so a period with no row for that provider is a missing point, not a zero.
    ``options`` go to :func:`xmr`. Columns: the ``by`` column, ``periods``, ``values`` (observed),
    ``latest_period``, ``latest_value``, ``mean``, ``mean_moving_range``, ``lower``, ``upper``,
    ``special_cause_points``, ``variation_icon``, ``assurance_icon``, ``note``, ``summary``.
    A provider with too few values for limits gets a row with no limits and says so in ``summary``.
    """
    missing = [column for column in (by, period, value) if column not in table.columns]
    if missing:
        raise ValueError(f"xmr_by: table has no column {', '.join(map(repr, missing))}")
    if table.duplicated([by, period]).any():
        raise ValueError(f"xmr_by: more than one row for a {by} and {period}: aggregate first")
    wide = table.pivot(index=period, columns=by, values=value).sort_index()
    unit = options.pop("unit", None) or _unit(wide.index)
    rows = []
    for group, series in wide.items():
        row: dict[str, object] = {by: group, "periods": len(series), "values": int(series.notna().sum())}
        try:
            result = xmr(series, unit=unit, **options)
        except TooFewValues as error:
            rows.append({**row, "summary": f"No XmR chart: {error}."})
            continue
        rows.append({**row, **summary_row(result)})
    return summary_table(rows, by)


def summary_row(result: XmR) -> dict[str, object]:
    """Return the league-table columns of one chart (:func:`xmr_by`'s, from ``latest_period`` on)."""
    latest = result.latest
    return {
        "latest_period": latest["period"],
        "latest_value": latest["value"],
        "mean": result.mean,
        "mean_moving_range": result.mean_moving_range,
        "lower": result.lower,
        "upper": result.upper,
        "special_cause_points": int(result.points["special_cause"].sum()),
        "variation_icon": result.variation_icon,
        "assurance_icon": result.assurance_icon,
        "note": result.note,
        "summary": result.summary,
    }


def summary_table(rows: list[dict[str, object]], by: str) -> pd.DataFrame:
    """Return :func:`xmr_by`'s table from its rows (one per group, as :func:`summary_row` fills them)."""
    columns = [by, "periods", "values", "latest_period", "latest_value", "mean", "mean_moving_range", "lower"]
    columns += ["upper", "special_cause_points", "variation_icon", "assurance_icon", "note", "summary"]
    summary = pd.DataFrame(rows, columns=columns)
    summary["special_cause_points"] = summary["special_cause_points"].astype("Int64")
    for text in ("variation_icon", "assurance_icon", "note", "summary"):
        summary[text] = summary[text].astype("str")
    return summary


def _centre_and_spread(base: np.ndarray, screen_outliers: bool, unit: str) -> tuple[float, float, int]:
    """Return the mean, the (screened) mean moving range and the count of values they rest on."""
    moving_ranges = np.abs(np.diff(base))
    moving_ranges = moving_ranges[~np.isnan(moving_ranges)]
    if len(moving_ranges) == 0:
        raise TooFewValues(f"an XmR chart needs 2 values in neighbouring {unit}s to measure variation")
    mean_mr = moving_ranges.mean()
    # A constant series has mR-bar 0, and "mR < 3.267 × 0" would screen out every range.
    if screen_outliers and mean_mr > 0:
        mean_mr = moving_ranges[moving_ranges < MR_OUTLIER * mean_mr].mean()
    return float(np.nanmean(base)), float(mean_mr), int((~np.isnan(base)).sum())


def _rules(
    y: np.ndarray,
    mean: float,
    upper: float,
    lower: float,
    upper_2s: float,
    lower_2s: float,
    direction: int,
) -> dict[str, np.ndarray]:
    """Return the rule flags, variation and signal of the observed points ``y`` (gaps removed)."""
    side = np.sign(y - mean).astype(int)
    beyond = (y > upper) | (y < lower)
    close = ~beyond & ((y > upper_2s) | (y < lower_2s))

    run = _members(_streak_ends(side, RUN_LENGTH), RUN_LENGTH)

    steps = np.sign(np.diff(y)).astype(int)
    trend = _members(np.concatenate([[False], _streak_ends(steps, TREND_LENGTH - 1)]), TREND_LENGTH)
    # A trend point's direction is that of the step after it when that step is in the trend too,
    # else the step before (as plotthedots does), so a peak between two trends joins the later one.
    step_after = np.concatenate([steps, [0]])
    step_before = np.concatenate([[0], steps])
    in_next = trend & np.concatenate([trend[1:], [False]])
    trend_direction = np.where(in_next & (step_after != 0), step_after, step_before)

    two_of_three = np.zeros(len(y), dtype=bool)
    if len(y) >= 3:
        triples = (sliding_window_view(close, 3).sum(axis=1) >= 2) & (
            np.abs(sliding_window_view(side, 3).sum(axis=1)) == 3
        )
        # pad so that every point sees the (up to) three triples it belongs to
        padded = np.concatenate([[False, False], triples, [False, False]])
        in_triple = sliding_window_view(padded, 3).any(axis=1)
        two_of_three = close & in_triple

    special = beyond | trend | two_of_three | run
    signal_direction = np.select([beyond, trend, two_of_three, run], [side, trend_direction, side, side], 0)
    up = signal_direction > 0
    rules = [beyond, trend, two_of_three, run]
    signal = np.select(
        [flag & up for flag in rules] + rules,
        [up_words for up_words, _ in _SIGNALS.values()] + [down for _, down in _SIGNALS.values()],
        "",
    ).astype(object)
    signal[~special] = None
    if direction == 0:
        variation = np.where(special, "neither", "common cause")
    else:
        good = signal_direction * direction > 0
        variation = np.where(special, np.where(good, "improvement", "concern"), "common cause")
    return {
        "beyond_limits": beyond,
        "run": run,
        "trend": trend,
        "two_of_three": two_of_three,
        "special_cause": special,
        "variation": variation.astype(object),
        "signal": signal,
    }


def _streak_ends(signs: np.ndarray, length: int) -> np.ndarray:
    """Return True where ``signs`` ends ``length`` equal, non-zero values in a row."""
    ends = np.zeros(len(signs), dtype=bool)
    if len(signs) >= length:
        windows = sliding_window_view(signs, length)
        ends[length - 1 :] = (windows.min(axis=1) == windows.max(axis=1)) & (windows[:, 0] != 0)
    return ends


def _members(ends: np.ndarray, length: int) -> np.ndarray:
    """Return True for every point of a ``length``-point window that ends where ``ends`` is True."""
    padded = np.concatenate([ends, np.zeros(length - 1, dtype=bool)])
    return sliding_window_view(padded, length).any(axis=1)


def _variation_icon(latest: pd.Series) -> str:
    """Return the MDC variation icon name for the most recent point."""
    if not latest["special_cause"]:
        return "common_cause"
    height = "high" if latest["signal"] in _HIGH_SIGNALS else "low"
    return f"{latest['variation']}_{height}"


def _assurance_icon(target: float, upper: float, lower: float, improvement: Improvement) -> str:
    """Return "pass", "fail" or "hit_and_miss" for a target against the process limits."""
    higher_is_better = improvement == "increase"
    if target > upper:
        return "fail" if higher_is_better else "pass"
    if target < lower:
        return "pass" if higher_is_better else "fail"
    return "hit_and_miss"


def _summary(
    points: pd.DataFrame,
    observed: np.ndarray,
    unit: str,
    *,
    shown: pd.Series | None = None,
    limits: tuple[float, float] | None = (np.nan, np.nan),
    hidden: np.ndarray | None = None,
) -> str:
    """Return the verdict on the variation, led by the most recent observed point, naming every flagged point.

    By default the sentence quotes the latest value and the limit it is beyond. A circulated
    chart passes what it shows instead: ``shown``, each point as text (e.g. "15", "1–7"), and
    ``limits``, the published (upper, lower), or None when they are not published. When the
    chart flags points the first sentence does not describe (an earlier point beyond a limit, a
    longer trend), a second sentence counts them all and names each, rule by rule, so the words
    match every point the chart colours. ``hidden`` marks the points a circulated chart shows as
    a band (suppressed counts, unpublished totals): among the earlier points they are named by
    their band only, never as beyond or near a limit, which would narrow the band.
    """
    seen = points[observed]
    latest = seen.iloc[-1]
    label, units = latest["period"], f"{unit}s"
    texts = _shown_values(points, observed, shown)
    if not latest["special_cause"]:
        earlier = seen[seen["special_cause"]]
        if earlier.empty:
            missing = len(points) - len(seen)
            gaps = f" ({missing} missing)" if missing else ""
            return f"Common cause variation: no signal of change over {len(points)} {units}{gaps}."
        count = f"{len(earlier)} earlier {unit if len(earlier) == 1 else units}"
        named = _flagged_in_words(seen, texts, units, limits, _observed(hidden, observed))
        return (
            f"Common cause variation at the latest {unit} ({label}), after special cause variation "
            f"in {count}: {named}."
        )
    lead = {
        "improvement": "Special cause of improvement",
        "concern": "Special cause of concern",
        "neither": "Special cause variation (neither improvement nor concern)",
    }[latest["variation"]]
    signal = latest["signal"]
    values = seen["value"].to_numpy(dtype=float)
    flags = seen[["beyond_limits", "trend", "two_of_three", "run"]].to_numpy(dtype=bool)
    covered = np.zeros(len(seen), dtype=bool)  # the points the first sentence describes
    if signal in _SIGNALS["beyond"]:
        detail = f"{label} ({texts[-1]}) is {signal.replace(' ', ' the ', 1)}"
        detail += _limit(latest, signal in _HIGH_SIGNALS, limits)
        covered[-1] = True
    elif signal.endswith("trend"):
        length = _tail_streak(np.sign(np.diff(values))) + 1
        rising = "a rising" if signal.startswith("increasing") else "a falling"
        detail = f"{rising} trend over {length} {units} ending {label}"
        covered[-length:] = flags[-length:, 1]
    elif signal.startswith("two of three"):
        side = "upper" if "upper" in signal else "lower"
        detail = f"2 of the last 3 {units} are near the {side} limit (beyond 2 sigma), ending {label}"
        covered[-3:] = flags[-3:, 2]
    else:
        length = _tail_streak(np.sign(values - latest["mean"]))
        side = signal.removeprefix("run ").replace("mean", "the mean")
        detail = f"a run of {length} {units} {side} ending {label}"
        covered[-length:] = flags[-length:, 3]
    verdict = f"{lead}: {detail}."
    special = seen["special_cause"].to_numpy(dtype=bool)
    if not (special & ~covered).any():
        return verdict
    named = _flagged_in_words(seen, texts, units, limits, _observed(hidden, observed))
    return f"{verdict} Special cause variation in {special.sum()} of {len(seen)} {units}: {named}."


def _shown_values(points: pd.DataFrame, observed: np.ndarray, shown: pd.Series | None) -> list[str]:
    """Return each observed point's value as a sentence quotes it: as shown, or the value itself."""
    if shown is not None:
        return [str(text) for text in shown.iloc[np.flatnonzero(observed)]]
    return [_number(value) for value in points["value"].to_numpy(dtype=float)[observed]]


def _observed(hidden: np.ndarray | None, observed: np.ndarray) -> np.ndarray:
    """Return ``hidden`` for the observed points only (all False when nothing is hidden)."""
    return np.zeros(int(observed.sum()), dtype=bool) if hidden is None else np.asarray(hidden, bool)[observed]


def _limit(point: pd.Series, high: bool, limits: tuple[float, float] | None) -> str:
    """Return " (limit)" for a point beyond a limit: the point's own, the published one, or "" if withheld."""
    if limits is None:
        return ""
    upper, lower = (point["upper"], point["lower"]) if np.isnan(limits[0]) else limits
    return f" ({_number(upper if high else lower)})"


def _flagged_in_words(
    seen: pd.DataFrame,
    texts: list[str],
    units: str,
    limits: tuple[float, float] | None,
    hidden: np.ndarray,
) -> str:
    """Return every special-cause point of ``seen`` (the observed points) named, rule by rule.

    Points beyond a limit are named one by one with their value and the limit; a trend or a run
    as its span ("a rising trend over 8 quarters, A to B"); points near a limit (two of three)
    by name; a point shown as a band (``hidden``) by its band alone. A point flagged by several
    rules is named under each, so none is left out.
    """
    periods = seen["period"].astype(str).to_numpy()
    values = seen["value"].to_numpy(dtype=float)
    high = (values > seen["mean"].to_numpy(dtype=float)).tolist()
    parts = []
    banded = np.flatnonzero(hidden & seen["special_cause"].to_numpy(dtype=bool))
    beyond = np.flatnonzero(seen["beyond_limits"].to_numpy(dtype=bool) & ~hidden)
    if len(beyond):
        named = [
            f"{periods[i]} ({texts[i]}) {'above the upper' if high[i] else 'below the lower'} limit"
            + _limit(seen.iloc[i], high[i], limits)
            for i in beyond
        ]
        parts.append(_and(named))
    steps = np.sign(np.diff(values))
    for start, end in _spans(seen["trend"].to_numpy(dtype=bool)):
        # Two trends can meet at a peak or a trough: split where the steps change direction.
        turns = [start, *(start + 1 + np.flatnonzero(np.diff(steps[start:end]) != 0)), end]
        for first, last in itertools.pairwise(turns):
            rising = "a rising" if steps[first] > 0 else "a falling"
            span = f"{periods[first]} to {periods[last]}"
            parts.append(f"{rising} trend over {last - first + 1} {units}, {span}")
    close = np.flatnonzero(seen["two_of_three"].to_numpy(dtype=bool) & ~hidden)
    for side in (True, False):
        near = [periods[i] for i in close if high[i] == side]
        if near:
            where = "upper" if side else "lower"
            parts.append(f"{_and(near)} near the {where} limit (beyond 2 sigma)")
    sides = np.sign(values - seen["mean"].to_numpy(dtype=float))
    for start, end in _spans(seen["run"].to_numpy(dtype=bool), sides):
        where = "above" if sides[start] > 0 else "below"
        parts.append(
            f"a run of {end - start + 1} {units} {where} the mean, {periods[start]} to {periods[end]}"
        )
    if len(banded):
        how = "as a band in its signal's colour" if len(banded) == 1 else "as bands in their signals' colours"
        parts.append(f"{_and([f'{periods[i]} ({texts[i]})' for i in banded])}, shown {how}")
    return "; ".join(parts)


def _spans(flags: np.ndarray, keys: np.ndarray | None = None) -> list[tuple[int, int]]:
    """Return (first, last) of each stretch of True ``flags`` in a row (split where ``keys`` changes)."""
    keys = np.zeros(len(flags)) if keys is None else keys
    edges = np.flatnonzero(np.diff(np.concatenate([[False], flags, [False]]).astype(int)))
    spans = []
    for start, stop in zip(edges[::2], edges[1::2], strict=True):
        cuts = [start, *(start + 1 + np.flatnonzero(np.diff(keys[start:stop]) != 0)), stop]
        spans += [(int(a), int(b) - 1) for a, b in itertools.pairwise(cuts)]
    return spans


def _and(items: list[str]) -> str:
    """Return ``items`` as a list in words: "A", "A and B", "A, B and C"."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _tail_streak(signs: np.ndarray) -> int:
    """Return how many values at the end of ``signs`` equal the last one."""
    breaks = np.flatnonzero(signs != signs[-1])
    return len(signs) - (breaks[-1] + 1 if len(breaks) else 0)


def _unit(index: pd.Index) -> str:
    """Return "quarter", "month" or "period": what the period labels of ``index`` look like."""
    if isinstance(index, pd.PeriodIndex):
        return {"Q": "quarter", "M": "month"}.get(index.freqstr[0], "period")
    labels = [str(label) for label in index]
    if all(re.search(r"Q[1-4]\b", label) for label in labels):
        return "quarter"
    month = r"^\d{4}-\d{2}$|^(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]* \d{4}$"
    if all(re.search(month, label) for label in labels):
        return "month"
    return "period"


def _number(value: float) -> str:
    """Return ``value`` for a sentence: whole numbers as they are, others to 3 significant figures."""
    if not math.isfinite(value):
        return f"{value:g}"
    if float(value).is_integer():
        return f"{int(value):,}"
    decimals = max(0, 2 - math.floor(math.log10(abs(value))))
    text = f"{value:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if decimals else text

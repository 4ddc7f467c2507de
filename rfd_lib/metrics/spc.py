"""Statistical process control: XmR charts with NHS England's Making Data Count rules.

:func:`xmr` takes one provider's series (a value per period, in time order) and returns an
:class:`XmR`: the limits, the four special-cause rules point by point, the variation and
assurance icons a Making Data Count (MDC) reader knows, and a summary in words for a report (the
latest point's verdict, then every point the chart flags, named, written by
:mod:`rfd_lib.metrics.spc_words`). :func:`rfd_lib.metrics.spc_by_provider.xmr_by` charts every
provider of a long table and returns one row each, for league tables;
:func:`rfd_lib.charts.spc.spc_chart` draws the chart.

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

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from rfd_lib.metrics.spc_words import HIGH_SIGNALS, SIGNALS, format_number, period_unit, variation_summary

Improvement = Literal["increase", "decrease", "neither"]

LIMIT_SIGMAS = 2.66  # 3 / d2, d2 = 1.128 for moving ranges of 2
TWO_SIGMA = 2 * LIMIT_SIGMAS / 3
MR_OUTLIER = 3.267  # D4 for moving ranges of 2
RUN_LENGTH = 7
TREND_LENGTH = 7
MIN_POINTS_FOR_LIMITS = 12  # plotthedots warns below this; MDC prefers 15-20

_DIRECTIONS = {"increase": 1, "decrease": -1, "neither": 0}


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
        target = format_number(self.target)
        where = {
            "pass": "consistently meet",
            "fail": "consistently fail",
            "hit_and_miss": "sometimes meet and sometimes miss",
        }[self.assurance_icon]
        if not (math.isfinite(self.upper) and math.isfinite(self.lower)):
            return f"The process will {where} the target of {target}."
        if self.target > self.upper:
            position = f"it is above the upper limit ({format_number(self.upper)})"
        elif self.target < self.lower:
            position = f"it is below the lower limit ({format_number(self.lower)})"
        else:
            position = (
                f"it lies between the limits ({format_number(self.lower)} to {format_number(self.upper)})"
            )
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
    unit = unit or period_unit(values.index)
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
        summary=variation_summary(points, observed, unit),
        improvement=improvement,
        target=None if target is None else float(target),
        unit=unit,
        baseline_points=baseline_points,
    )


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
        [up_words for up_words, _ in SIGNALS.values()] + [down for _, down in SIGNALS.values()],
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
    height = "high" if latest["signal"] in HIGH_SIGNALS else "low"
    return f"{latest['variation']}_{height}"


def _assurance_icon(target: float, upper: float, lower: float, improvement: Improvement) -> str:
    """Return "pass", "fail" or "hit_and_miss" for a target against the process limits."""
    higher_is_better = improvement == "increase"
    if target > upper:
        return "fail" if higher_is_better else "pass"
    if target < lower:
        return "pass" if higher_is_better else "fail"
    return "hit_and_miss"

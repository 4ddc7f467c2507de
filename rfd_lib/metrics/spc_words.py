"""An XmR chart in words: the signal names, the summary sentence and numbers as a sentence quotes them.

:mod:`rfd_lib.metrics.spc` works out the chart (limits, the rules point by point, the icons) and
names each flagged point's signal from :data:`SIGNALS`; :func:`variation_summary` turns its
points into the verdict a report prints (the latest point's verdict, then every point the chart
flags, named), for the true counts or, on a circulated chart, as published
(:mod:`rfd_lib.metrics.spc_disclosure`). :func:`format_number` is how every figure of an SPC
sentence or caption is written (:mod:`rfd_lib.charts.spc` too); :func:`period_unit` names a period
("quarter", "month") from its labels.
"""

from __future__ import annotations

import itertools
import math
import re

import numpy as np
import pandas as pd

# What each rule says of a point, upward first (the order is the colouring precedence).
SIGNALS = {
    "beyond": ("above upper limit", "below lower limit"),
    "trend": ("increasing trend", "decreasing trend"),
    "two_of_three": ("two of three near upper limit", "two of three near lower limit"),
    "run": ("run above mean", "run below mean"),
}
# The upward signal of each rule: a point flagged by one lies above the mean (or rises).
HIGH_SIGNALS = {up for up, _ in SIGNALS.values()}


def variation_summary(
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
    if signal in SIGNALS["beyond"]:
        detail = f"{label} ({texts[-1]}) is {signal.replace(' ', ' the ', 1)}"
        detail += _limit(latest, signal in HIGH_SIGNALS, limits)
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
    return [format_number(value) for value in points["value"].to_numpy(dtype=float)[observed]]


def _observed(hidden: np.ndarray | None, observed: np.ndarray) -> np.ndarray:
    """Return ``hidden`` for the observed points only (all False when nothing is hidden)."""
    return np.zeros(int(observed.sum()), dtype=bool) if hidden is None else np.asarray(hidden, bool)[observed]


def _limit(point: pd.Series, high: bool, limits: tuple[float, float] | None) -> str:
    """Return " (limit)" for a point beyond a limit: the point's own, the published one, or "" if withheld."""
    if limits is None:
        return ""
    upper, lower = (point["upper"], point["lower"]) if np.isnan(limits[0]) else limits
    return f" ({format_number(upper if high else lower)})"


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


def period_unit(index: pd.Index) -> str:
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


def format_number(value: float) -> str:
    """Return ``value`` as text for a sentence or a caption.

    Whole numbers are written as they are, with thousands separators ("1,234"); others to 3
    significant figures, trailing zeros dropped ("4.68", "15.3", "0.5"); NaN and infinities as
    Python writes them ("nan", "inf").
    """
    if not math.isfinite(value):
        return f"{value:g}"
    if float(value).is_integer():
        return f"{int(value):,}"
    decimals = max(0, 2 - math.floor(math.log10(abs(value))))
    text = f"{value:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if decimals else text

"""Charts of one provider's RFD activity: volumes by quarter, the waterfall, repeat intervals.

Each takes a table from :mod:`rfd_lib.metrics.volumes` — protected by :mod:`rfd_lib.metrics.disclosure` when
the chart is for circulation — and returns a :class:`~rfd_lib.charts.house_style.Chart`. A suppressed
count (``<NA>``) is drawn as no bar with a ``*`` above it, and the caption says so.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rfd_lib.charts.house_style import NHS, Chart, data_text, finish, house_style, new_chart

# Said when a caller gives no footnote (its Disclosure's), e.g. for a table protected elsewhere.
SUPPRESSED_NOTE = "* a small count, suppressed to protect confidentiality"


def volume_chart(volumes: pd.DataFrame, provider: str, *, footnote: str | None = None) -> Chart:
    """Return the bars of ``provider``'s RFD-coded spells per quarter, with those counted in front."""
    rows = volumes[volumes["provider_code"] == provider].sort_values("quarter")
    if rows.empty:
        raise ValueError(f"no volumes for provider {provider}")
    quarters = rows["quarter"].tolist()
    coded = rows["rfd_coded"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    counted = rows["counted"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    with house_style():
        figure, axes = new_chart()
        x = np.arange(len(quarters))
        # Counted spells are a subset of RFD-coded ones: drawn in front, not stacked on top.
        axes.bar(x, np.nan_to_num(coded), width=0.8, color=NHS["light_blue"], label="RFD-coded spells")
        axes.bar(x, np.nan_to_num(counted), width=0.5, color=NHS["blue"], label="counted as 2K_RFD_back")
        _mark_suppressed(axes, x, coded, counted)
        axes.set_xticks(x, quarters, rotation=45, ha="right")
        axes.set_ylabel("RFD spells (count)")
        _counts_axis(axes.set_ylim, coded, counted)
        axes.set_xlabel("financial quarter")
        axes.legend(loc="upper left")
    latest = rows.iloc[-1]
    caption = (
        f"RFD-coded spells at {provider} each quarter from {quarters[0]} to {quarters[-1]} (light blue), "
        f"and in front of them those the national rule counts (blue). In {latest['quarter']}: "
        f"{_count(latest['rfd_coded'])} RFD-coded, {_count(latest['counted'])} counted."
    )
    caption = _noted(caption, footnote, coded, counted)
    return finish(figure, axes, f"RFD spells at {data_text(provider)} by quarter", caption)


def waterfall_chart(
    waterfall: pd.DataFrame, provider: str, quarter: str, *, footnote: str | None = None
) -> Chart:
    """Return the horizontal waterfall of ``provider``'s RFD-coded spells in ``quarter``, by reason."""
    rows = waterfall[
        (waterfall["provider_code"] == provider) & (waterfall["quarter"] == quarter)
    ].sort_values("step")
    if rows.empty:
        raise ValueError(f"no waterfall for provider {provider} in {quarter}")
    labels = rows["label"].tolist()
    values = rows["spells"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    # Each reason removes its spells from what is left, so its bar starts where the last ended.
    reasons = np.nan_to_num(values[1:-1])
    left = np.concatenate([[0.0], np.nan_to_num(values[0]) - np.cumsum(reasons), [0.0]])
    starts = np.concatenate([[0.0], left[1:-1], [0.0]])
    widths = np.concatenate([[np.nan_to_num(values[0])], reasons, [np.nan_to_num(values[-1])]])
    colours = [NHS["dark_blue"]] + [NHS["orange"]] * len(reasons) + [NHS["blue"]]
    with house_style():
        figure, axes = new_chart(height="tall")
        y = np.arange(len(labels))[::-1]
        axes.barh(y, widths, left=starts, color=colours)
        for position, start, width, value in zip(y, starts, widths, values, strict=True):
            axes.text(
                start + width, position, f" {_count(value)}", va="center", fontsize=8, color=NHS["dark_grey"]
            )
        axes.set_yticks(y, [_wrap(label) for label in labels])
        axes.set_xlabel("RFD spells (count)")
        _counts_axis(axes.set_xlim, values)
        axes.grid(axis="y", visible=False)
    caption = (
        f"Of {_count(values[0])} RFD-coded spells at {provider} in {quarter}, {_count(values[-1])} were "
        "counted as 2K_RFD_back. Each orange bar is the spells set aside by one restriction of the "
        "national rule, each spell under the first restriction it does not meet, in the rule's order: "
        + "; ".join(
            f"{label} {_count(value)}" for label, value in zip(labels[1:-1], values[1:-1], strict=True)
        )
        + "."
    )
    caption = _noted(caption, footnote, values)
    return finish(figure, axes, f"RFD-coded spells at {data_text(provider)} not counted, {quarter}", caption)


def interval_chart(
    intervals: pd.DataFrame, provider: str, *, policy_months: int = 16, footnote: str | None = None
) -> Chart:
    """Return the bars of ``provider``'s repeat RFDs by months since the patient's previous RFD."""
    rows = intervals[intervals["provider_code"] == provider]
    if rows.empty:
        raise ValueError(f"no repeat intervals for provider {provider}")
    bands = rows["band"].tolist()
    values = rows["spells"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    lows = np.array([int(band.split("-")[0].split("+")[0]) for band in bands])
    soon = lows < policy_months
    with house_style():
        figure, axes = new_chart(height="short")
        x = np.arange(len(bands))
        axes.bar(x, np.nan_to_num(values), color=np.where(soon, NHS["orange"], NHS["blue"]))
        _mark_suppressed(axes, x, values)
        axes.set_xticks(x, bands)
        axes.set_xlabel("months since the patient's previous RFD")
        axes.set_ylabel("repeat RFDs (count)")
        _counts_axis(axes.set_ylim, values)
    total_soon = np.nansum(values[soon])
    caption = (
        f"Repeat RFDs at {provider} by the time since the same patient's previous RFD; orange bars are "
        f"sooner than the {policy_months} months local policy typically expects "
        f"({_count(total_soon)} in all, suppressed bands not included)."
    )
    caption = _noted(caption, footnote, values)
    return finish(figure, axes, f"Time between repeat RFDs at {data_text(provider)}", caption)


def _noted(caption: str, footnote: str | None, *series: np.ndarray) -> str:
    """Return ``caption`` with the disclosure footnote appended when a value is suppressed."""
    if any(np.isnan(values).any() for values in series):
        return f"{caption} {(footnote or SUPPRESSED_NOTE).rstrip('.')}."
    return caption


def _counts_axis(set_limits, *series: np.ndarray) -> None:
    """Start a count axis at 0, and give it a height of 1 when nothing above 0 is shown."""
    top = np.nanmax(np.concatenate([np.nan_to_num(values) for values in series]), initial=0.0)
    if top > 0:
        set_limits(0, None)
    else:
        set_limits(0, 1)


def _mark_suppressed(axes, x: np.ndarray, *series: np.ndarray) -> None:
    hidden = np.logical_or.reduce([np.isnan(values) for values in series])
    top = np.nansum(np.vstack(series), axis=0)
    for position in x[hidden]:
        axes.annotate(
            "*", (position, top[position]), ha="center", va="bottom", fontsize=11, color=NHS["dark_grey"]
        )


def _count(value: object) -> str:
    return "*" if pd.isna(value) else f"{int(value):,}"


def _wrap(label: str, width: int = 34) -> str:
    words, lines, line = label.split(), [], ""
    for word in words:
        if line and len(line) + len(word) + 1 > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "\n".join([*lines, line])

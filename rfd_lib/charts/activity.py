"""Charts of one provider's RFD activity: volumes by quarter, the waterfall, repeat intervals.

Each takes a table from :mod:`rfd_lib.metrics.volumes` — protected by :mod:`rfd_lib.metrics.disclosure` when
the chart is for circulation — and returns a :class:`~rfd_lib.charts.house_style.Chart`. A suppressed
count (``<NA>``) is drawn as no bar with a ``*`` above it, and the caption says so.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rfd_lib.charts.house_style import NHS, Chart, data_text, finish, house_style, new_chart
from rfd_lib.wording import say


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
        coded_label, counted_label = say("charts.volume.coded_legend"), say("charts.volume.counted_legend")
        axes.bar(x, np.nan_to_num(coded), width=0.8, color=NHS["light_blue"], label=coded_label)
        axes.bar(x, np.nan_to_num(counted), width=0.5, color=NHS["blue"], label=counted_label)
        _mark_suppressed(axes, x, coded, counted)
        axes.set_xticks(x, quarters, rotation=45, ha="right")
        axes.set_ylabel(say("charts.volume.y_axis"))
        _counts_axis(axes.set_ylim, coded, counted)
        axes.set_xlabel(say("charts.volume.x_axis"))
        axes.legend(loc="upper left")
    latest = rows.iloc[-1]
    caption = say(
        "charts.volume.caption",
        provider=provider,
        first=quarters[0],
        last=quarters[-1],
        quarter=latest["quarter"],
        coded=_count(latest["rfd_coded"]),
        counted=_count(latest["counted"]),
    )
    caption = _noted(caption, footnote, coded, counted)
    return finish(figure, axes, say("charts.volume.title", provider=data_text(provider)), caption)


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
        axes.set_xlabel(say("charts.waterfall.x_axis"))
        _counts_axis(axes.set_xlim, values)
        axes.grid(axis="y", visible=False)
    reasons = "; ".join(
        say("charts.waterfall.reason", label=label, count=_count(value))
        for label, value in zip(labels[1:-1], values[1:-1], strict=True)
    )
    caption = say(
        "charts.waterfall.caption",
        provider=provider,
        quarter=quarter,
        coded=_count(values[0]),
        counted=_count(values[-1]),
        reasons=reasons,
    )
    caption = _noted(caption, footnote, values)
    title = say("charts.waterfall.title", provider=data_text(provider), quarter=quarter)
    return finish(figure, axes, title, caption)


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
        axes.set_xlabel(say("charts.interval.x_axis"))
        axes.set_ylabel(say("charts.interval.y_axis"))
        _counts_axis(axes.set_ylim, values)
    total_soon = np.nansum(values[soon])
    caption = say(
        "charts.interval.caption", provider=provider, months=policy_months, sooner=_count(total_soon)
    )
    caption = _noted(caption, footnote, values)
    return finish(figure, axes, say("charts.interval.title", provider=data_text(provider)), caption)


def _noted(caption: str, footnote: str | None, *series: np.ndarray) -> str:
    """Return ``caption`` with the disclosure footnote appended when a value is suppressed."""
    if any(np.isnan(values).any() for values in series):
        return f"{caption} {(footnote or say('charts.suppressed_note')).rstrip('.')}."
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

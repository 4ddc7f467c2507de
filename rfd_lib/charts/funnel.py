"""The funnel plot: each provider's rate against its catchment population, with the peer rate and limits.

Drawn in the house style (:mod:`rfd_lib.charts.house_style`) from a
:class:`rfd_lib.metrics.funnel.FunnelResult`:
the statistics, the limits and which providers are outside them all come from :func:`funnel`, so
the chart, its caption and the report's tables cannot disagree. The x axis is the catchment
population in thousands (linear: the funnel's narrowing is the point), the y axis the rate per
``per`` people from 0. The widest limits are solid and the narrower ones dashed (then dotted);
providers outside the widest limits are coloured, drawn as triangles pointing the way they lie
(so the chart reads in grey print too) and labelled with their code.
"""

from __future__ import annotations

from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter

from rfd_lib.charts.house_style import NHS, Chart, data_text, finish, house_style, new_chart
from rfd_lib.metrics.funnel import FunnelResult, format_rate, level_label
from rfd_lib.wording import say

__all__ = ["funnel_chart"]

LIMIT_STYLES = ("solid", "dashed", "dotted", "dashdot")  # widest first
# How the caption names each style of line (keys of params/wording.yaml).
LIMIT_WORDS = {
    "solid": "charts.funnel.line.solid",
    "dashed": "charts.funnel.line.dashed",
    "dotted": "charts.funnel.line.dotted",
    "dashdot": "charts.funnel.line.dashdot",
}
# Each kind of point's look, and its legend label (a key of params/wording.yaml).
POINTS = {
    "within": {"color": NHS["mid_grey"], "marker": "o", "label": "charts.funnel.within_legend"},
    "above": {"color": NHS["orange"], "marker": "^", "label": "charts.funnel.above_legend"},
    "below": {"color": NHS["purple"], "marker": "v", "label": "charts.funnel.below_legend"},
}
# What the caption says of the providers on each side of the widest limits.
OUTSIDE_WORDS = {"above": "charts.funnel.caption.above", "below": "charts.funnel.caption.below"}


def funnel_chart(
    result: FunnelResult,
    *,
    title: str | None = None,
    period_label: str = "2025/26 Q1",
    rate_unit: str | None = None,
    highlight: str | None = None,
    population_label: str | None = None,
) -> Chart:
    """Return the funnel plot of ``result`` as a :class:`~rfd_lib.charts.house_style.Chart`.

    ``highlight`` is a provider to ring and label (``gid`` ``highlight-<code>``), for its own report.
    ``rate_unit`` names the rates (the y axis), by default the wording file's
    ``charts.funnel.default_rate_unit`` ("RFD spells per 100,000 population"); ``population_label``
    names the populations (the x axis), by default ``charts.funnel.x_axis``.

    ``title`` defaults to one that names the measure, the period and how many providers are
    outside the widest limits. The caption (also the alt text) says what the points and lines
    are, the peer rate, the method and adjustment (``result.method``), which providers are above
    and below the widest limits with their rates, and which were left out and why. Lines carry
    matplotlib ids (``gid``): ``target``, ``limit-95-lower``, ``limit-95-upper``, …; outlier
    labels ``label-<code>``.
    """
    providers = result.providers
    widest = level_label(result.widest)
    widest_level = f"{result.widest * 100:g}"  # the level as the wording's {level}: 99.8
    per_text = result.per_label
    if rate_unit is None:
        rate_unit = say("charts.funnel.default_rate_unit")
    if title is None:
        outside_text = _count_outside(len(result.outside), len(providers), widest_level)
        title = say("charts.funnel.title", rate_unit=rate_unit, period=period_label, outside=outside_text)
    styles = dict(zip(sorted(result.levels, reverse=True), LIMIT_STYLES, strict=False))

    with house_style():
        figure, axes = new_chart("normal")
        curve_x = result.curve["population"].to_numpy() / 1000
        for level in sorted(result.levels, reverse=True):
            label = level_label(level)
            for side in ("lower", "upper"):
                axes.plot(
                    curve_x,
                    result.curve[f"{side}_{label}"].to_numpy(),
                    color=NHS["blue"],
                    linestyle=styles.get(level, "dashdot"),
                    linewidth=1.1,
                    gid=f"limit-{label}-{side}",
                    label=say("charts.funnel.limits_legend", level=f"{level * 100:g}")
                    if side == "upper"
                    else "_nolegend_",
                )
        axes.axhline(
            result.target,
            color=NHS["dark_grey"],
            linewidth=1.4,
            gid="target",
            label=say("charts.funnel.peer_rate_legend", rate=format_rate(result.target), per=per_text),
        )

        x = providers["population"].to_numpy(dtype=float) / 1000
        y = providers["rate"].to_numpy(dtype=float)
        where = providers[f"position_{widest}"].to_numpy(dtype=object)
        for position, look in POINTS.items():
            mask = where == position
            if not mask.any():
                continue
            axes.scatter(
                x[mask],
                y[mask],
                s=28 if position == "within" else 42,
                color=look["color"],
                marker=look["marker"],
                edgecolors="white",
                linewidths=0.6,
                zorder=3,
                label=say(look["label"], level=widest_level),
            )
        for code, direction in result.outside.items():
            row = (providers["provider_code"] == code).to_numpy()
            axes.annotate(
                data_text(code),
                (x[row][0], y[row][0]),
                xytext=(5, 4 if direction == "above" else -10),
                textcoords="offset points",
                fontsize=8,
                fontweight="bold",
                color=POINTS[direction]["color"],
                gid=f"label-{code}",
            )

        chosen = (providers["provider_code"] == highlight).to_numpy()
        if highlight is not None and chosen.any():
            axes.scatter(
                x[chosen],
                y[chosen],
                s=160,
                facecolors="none",
                edgecolors=NHS["dark_blue"],
                linewidths=1.6,
                zorder=4,
                label=say("charts.funnel.highlight_legend", provider=data_text(highlight)),
                gid=f"highlight-{highlight}",
            )
            if highlight not in result.outside:
                axes.annotate(
                    data_text(highlight),
                    (x[chosen][0], y[chosen][0]),
                    xytext=(7, 5),
                    textcoords="offset points",
                    fontsize=8,
                    fontweight="bold",
                    color=NHS["dark_blue"],
                )

        axes.set_xlabel(population_label or say("charts.funnel.x_axis"))
        axes.set_ylabel(rate_unit)
        axes.set_ylim(bottom=0)
        axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
        handles, labels = axes.get_legend_handles_labels()
        order = sorted(range(len(handles)), key=lambda i: not isinstance(handles[i], Line2D))
        # Below the axes, so the plot keeps the full A4 text width.
        figure.legend(
            [handles[i] for i in order],
            [labels[i] for i in order],
            loc="outside lower center",
            ncols=3,
        )
        caption = _caption(result, period_label, rate_unit, per_text, styles, widest_level)
        if highlight is not None and chosen.any():
            caption += " " + say("charts.funnel.caption.highlight", provider=highlight)
        return finish(figure, axes, title, caption)


def _caption(
    result: FunnelResult,
    period_label: str,
    rate_unit: str,
    per_text: str,
    styles: dict[float, str],
    widest_level: str,
) -> str:
    """Return the caption: how to read the chart and what it shows, sensible without it."""
    providers = result.providers
    lines = " and ".join(
        say(
            "charts.funnel.caption.limit_lines",
            line=say(LIMIT_WORDS[styles.get(level, "dashdot")]),
            level=f"{level * 100:g}",
        )
        for level in sorted(result.levels)
    )
    each = (
        say("charts.funnel.caption.points", count=len(providers))
        if len(providers) > 1
        else say("charts.funnel.caption.one_point")
    )
    parts = [
        say(
            "charts.funnel.caption.reading",
            points=each,
            rate_unit=rate_unit,
            period=period_label,
            rate=format_rate(result.target),
            per=per_text,
            lines=lines,
        ),
        say("charts.funnel.caption.method", method=result.method),
    ]
    rates = dict(zip(providers["provider_code"].astype(str), providers["rate"], strict=True))
    for direction in ("above", "below"):
        codes = [code for code, where in result.outside.items() if where == direction]
        if codes:
            listed = ", ".join(
                say(
                    "charts.funnel.caption.outside_provider",
                    code=code,
                    rate=format_rate(rates[code]),
                    per=per_text,
                )
                for code in codes
            )
            parts.append(say(OUTSIDE_WORDS[direction], level=widest_level, providers=listed))
    if not result.outside:
        parts.append(say("charts.funnel.caption.none_outside", level=widest_level))
    if result.excluded:
        left_out = ", ".join(
            say("charts.funnel.caption.not_shown_provider", code=code, reason=why)
            for code, why in result.excluded.items()
        )
        parts.append(say("charts.funnel.caption.not_shown", providers=left_out))
    return " ".join(parts)


def _count_outside(outside: int, compared: int, level: str) -> str:
    if outside == 0:
        return say("charts.funnel.title_none_outside", level=level)
    return say("charts.funnel.title_some_outside", outside=outside, compared=compared, level=level)

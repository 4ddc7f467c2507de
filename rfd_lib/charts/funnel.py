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

__all__ = ["funnel_chart"]

LIMIT_STYLES = ("solid", "dashed", "dotted", "dashdot")  # widest first
LIMIT_WORDS = {"solid": "solid", "dashed": "dashed", "dotted": "dotted", "dashdot": "dash-dotted"}
POINTS = {
    "within": {"color": NHS["mid_grey"], "marker": "o", "label": "Within the {level} % limits"},
    "above": {"color": NHS["orange"], "marker": "^", "label": "Above the {level} % limits"},
    "below": {"color": NHS["purple"], "marker": "v", "label": "Below the {level} % limits"},
}


def funnel_chart(
    result: FunnelResult,
    *,
    title: str | None = None,
    period_label: str = "2025/26 Q1",
    rate_unit: str = "RFD spells per 100,000 population",
    highlight: str | None = None,
) -> Chart:
    """Return the funnel plot of ``result`` as a :class:`~rfd_lib.charts.house_style.Chart`.

    ``highlight`` is a provider to ring and label (``gid`` ``highlight-<code>``), for its own report.

    ``title`` defaults to one that names the measure, the period and how many providers are
    outside the widest limits. The caption (also the alt text) says what the points and lines
    are, the peer rate, the method and adjustment (``result.method``), which providers are above
    and below the widest limits with their rates, and which were left out and why. Lines carry
    matplotlib ids (``gid``): ``target``, ``limit-95-lower``, ``limit-95-upper``, …; outlier
    labels ``label-<code>``.
    """
    providers = result.providers
    widest = level_label(result.widest)
    widest_text = f"{result.widest * 100:g} %"
    per_text = result.per_label
    outside_text = _count_outside(len(result.outside), len(providers), widest_text)
    if title is None:
        title = f"{rate_unit} by size of catchment, {period_label}: {outside_text}"
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
                    label=f"{level * 100:g} % limits" if side == "upper" else "_nolegend_",
                )
        axes.axhline(
            result.target,
            color=NHS["dark_grey"],
            linewidth=1.4,
            gid="target",
            label=f"Peer rate, {format_rate(result.target)} {per_text}",
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
                label=look["label"].format(level=f"{result.widest * 100:g}"),
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
                label=f"This report: {data_text(highlight)}",
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

        axes.set_xlabel("Catchment population (thousands of people)")
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
        caption = _caption(result, period_label, rate_unit, per_text, styles, widest_text)
        if highlight is not None and chosen.any():
            caption += f" {highlight}, the provider of this report, is ringed."
        return finish(figure, axes, title, caption)


def _caption(
    result: FunnelResult,
    period_label: str,
    rate_unit: str,
    per_text: str,
    styles: dict[float, str],
    widest_text: str,
) -> str:
    """Return the caption: how to read the chart and what it shows, sensible without it."""
    providers = result.providers
    lines = " and ".join(
        f"{LIMIT_WORDS[styles.get(level, 'dashdot')]} lines the {level * 100:g} % limits"
        for level in sorted(result.levels)
    )
    each = (
        f"Each point is one of {len(providers)} providers"
        if len(providers) > 1
        else "The point is one provider"
    )
    parts = [
        f"{each}: its {rate_unit} in {period_label} "
        f"against its catchment population. The horizontal line is the peer rate, "
        f"{format_rate(result.target)} {per_text} (all these providers' events over all their "
        f"people); {lines}, which narrow as the population grows.",
        f"Method: {result.method}",
    ]
    rates = dict(zip(providers["provider_code"].astype(str), providers["rate"], strict=True))
    for direction in ("above", "below"):
        codes = [code for code, where in result.outside.items() if where == direction]
        if codes:
            listed = ", ".join(f"{code} ({format_rate(rates[code])} {per_text})" for code in codes)
            parts.append(f"{direction.capitalize()} the {widest_text} limits: {listed}.")
    if not result.outside:
        parts.append(f"No provider is outside the {widest_text} limits.")
    if result.excluded:
        left_out = ", ".join(f"{code} ({why})" for code, why in result.excluded.items())
        parts.append(f"Not shown: {left_out}.")
    return " ".join(parts)


def _count_outside(outside: int, compared: int, widest_text: str) -> str:
    if outside == 0:
        return f"no provider outside the {widest_text} limits"
    return f"{outside} of {compared} providers outside the {widest_text} limits"

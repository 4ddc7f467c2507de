"""The XmR chart in the house style, with Making Data Count's variation and assurance icons.

The icons are drawn as plain matplotlib shapes (a ring in MDC's colour with a letter, and for
variation a little row of dots), not the PNG/SVG files MDC and NHSRplotthedots ship, so the
chart needs no image files and stays sharp in a PDF.

A circulated chart (an :class:`~rfd_lib.metrics.spc.XmR` with a ``publication``) draws what
:mod:`rfd_lib.metrics.spc_disclosure` publishes: each point as published, a suppressed one as a
band ("1–7") at its place in the colour of its signal, the mean and limits rounded (no lines
when they are not published), and a caption that says so.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, Patch, Rectangle

from rfd_lib.charts.house_style import NHS, VARIATION, Chart, finish, house_style, new_chart
from rfd_lib.metrics.spc import LIMIT_SIGMAS, XmR
from rfd_lib.metrics.spc_disclosure import SUMMARY_ROUNDINGS
from rfd_lib.metrics.spc_words import format_number
from rfd_lib.wording import say

# Point colours by variation, as MDC colours them.
POINT_COLOURS = {
    "improvement": VARIATION["improvement"],
    "concern": VARIATION["concern"],
    "neither": VARIATION["neither"],
    "common cause": VARIATION["common"],
}
ICON_COLOURS = {
    "common_cause": VARIATION["common"],
    "improvement": VARIATION["improvement"],
    "concern": VARIATION["concern"],
    "neither": VARIATION["neither"],
    "pass": VARIATION["improvement"],
    "fail": VARIATION["concern"],
    "hit_and_miss": VARIATION["common"],
}
ASSURANCE_LETTERS = {"pass": "P", "fail": "F", "hit_and_miss": "?"}
# Each kind of variation's legend label and its colour in words (keys of params/wording.yaml).
LEGEND_WORDS = {
    "improvement": "charts.spc.legend.improvement",
    "concern": "charts.spc.legend.concern",
    "neither": "charts.spc.legend.neither",
    "common cause": "charts.spc.legend.common_cause",
}
VARIATION_WORDS = {
    "improvement": "charts.spc.colour.improvement",
    "concern": "charts.spc.colour.concern",
    "neither": "charts.spc.colour.neither",
    "common cause": "charts.spc.colour.common_cause",
}
# Room above the data for the icons, as a share of the data's height.
_HEADROOM = 0.45
# Half the width of a suppressed point's band, in periods.
_BAND = 0.18


def spc_chart(result: XmR, *, title: str, value_label: str) -> Chart:
    """Return the XmR chart of ``result`` as a :class:`~rfd_lib.charts.house_style.Chart`.

    ``title`` says what the chart shows; ``value_label`` is the y-axis label with its unit (e.g.
    "RFD spells per quarter (count)"). The mean is a solid line, the process limits dashed grey,
    a target (if any) dotted red; points are coloured by variation; a missing point is a gap, a
    suppressed one a band labelled with its range ("1–7"). The variation and assurance icons sit
    in the top-right corner. The caption (the alt text) gives the mean, the limits, what the points
    are, the variation verdict and the assurance verdict in words.
    """
    points = result.points
    x = np.arange(len(points))
    values = points["value"].to_numpy(dtype=float)
    seen = ~np.isnan(values)
    hidden = points["suppressed"].to_numpy(dtype=bool)
    labels = [str(period) for period in points["period"]]
    with house_style():
        figure, axes = new_chart("normal")
        axes.plot(x, values, color=NHS["mid_grey"], linewidth=1, zorder=2, gid="series")
        handles = []
        if np.isfinite(result.mean):
            handles.append(
                axes.axhline(
                    result.mean,
                    color=NHS["dark_grey"],
                    linewidth=1.3,
                    label=say("charts.spc.mean_legend"),
                    gid="mean",
                )
            )
        if np.isfinite(result.upper):
            handles.append(
                axes.axhline(
                    result.upper,
                    color=NHS["mid_grey"],
                    linewidth=1,
                    linestyle="--",
                    label=say("charts.spc.limits_legend"),
                    gid="upper",
                )
            )
            axes.axhline(result.lower, color=NHS["mid_grey"], linewidth=1, linestyle="--", gid="lower")
        if result.target is not None:
            handles.append(
                axes.axhline(
                    result.target,
                    color=NHS["red"],
                    linewidth=1.2,
                    linestyle=":",
                    label=say("charts.spc.target_legend"),
                    gid="target",
                )
            )
        colours = [POINT_COLOURS[variation] for variation in points["variation"][seen]]
        axes.scatter(
            x[seen], values[seen], c=colours, s=30, zorder=3, edgecolors="white", linewidths=0.6, gid="points"
        )
        _draw_bands(axes, x[hidden], points[hidden])
        present = [kind for kind in POINT_COLOURS if (points["variation"][seen | hidden] == kind).any()]
        handles += [
            Line2D(
                [],
                [],
                linestyle="",
                marker="o",
                markersize=5,
                color=POINT_COLOURS[kind],
                label=say(LEGEND_WORDS[kind]),
            )
            for kind in present
        ]
        if hidden.any():
            label = (
                say("charts.spc.legend.unpublished_total")
                if result.publication.totals
                else say("charts.spc.legend.suppressed", threshold=result.publication.threshold)
            )
            handles.append(Patch(facecolor=NHS["pale_grey"], edgecolor=NHS["mid_grey"], label=label))
        if result.baseline_points is not None and result.baseline_points < len(points):
            axes.axvline(result.baseline_points - 0.5, color=NHS["mid_grey"], linewidth=0.8, linestyle=":")
            axes.annotate(
                say("charts.spc.baseline_ends"),
                (result.baseline_points - 0.5, 1),
                xycoords=("data", "axes fraction"),
                xytext=(-3, -3),
                textcoords="offset points",
                ha="right",
                va="top",
                fontsize=7,
                color=NHS["dark_grey"],
            )
        _period_axis(axes, x, labels, result.unit)
        axes.set_ylabel(value_label)
        bands = points.loc[hidden, ["range_low", "range_high"]].to_numpy(dtype=float).ravel()
        _leave_headroom(axes, np.concatenate([values[seen], bands]), result)
        columns = len(handles) if len(handles) <= 4 else 3  # one row while it fits across A4
        figure.legend(handles=handles, loc="outside lower center", ncol=columns)
        _draw_icons(axes, result.variation_icon, result.assurance_icon)
        return finish(figure, axes, title, caption(result, value_label))


def caption(result: XmR, value_label: str) -> str:
    """Return the caption (alt text) of the chart of ``result``: what it shows and what it found."""
    points = result.points
    first, last = points["period"].iloc[0], points["period"].iloc[-1]
    basis = (
        say("charts.spc.caption.basis_baseline", count=result.baseline_points, unit=result.unit)
        if result.baseline_points
        else say("charts.spc.caption.basis_all")
    )
    present = [say(VARIATION_WORDS[kind]) for kind in VARIATION_WORDS if (points["variation"] == kind).any()]
    assurance = result.assurance_summary or say("charts.spc.caption.no_assurance")
    parts = [
        say(
            "charts.spc.caption.span",
            value_label=value_label,
            count=len(points),
            unit=result.unit,
            first=first,
            last=last,
        ),
    ]
    if result.publication is None:
        parts.append(
            say(
                "charts.spc.caption.limits",
                mean=format_number(result.mean),
                lower=format_number(result.lower),
                upper=format_number(result.upper),
                sigmas=LIMIT_SIGMAS,
                spread=format_number(result.mean_moving_range),
                basis=basis,
            )
        )
    else:
        parts += _published_caption(result, basis)
    if result.target is not None:
        parts.append(say("charts.spc.caption.target", target=format_number(result.target)))
    parts += [
        say("charts.spc.caption.colours", colours=", ".join(present)),
        say("charts.spc.caption.variation", summary=result.summary),
        say("charts.spc.caption.assurance", assurance=assurance),
    ]
    if result.note:
        parts.append(say("charts.spc.caption.note", note=f"{result.note[0].upper()}{result.note[1:]}"))
    return " ".join(parts)


def _published_caption(result: XmR, basis: str) -> list[str]:
    """Return the sentences of a circulated chart's caption: its mean and limits, and what its points are."""
    publication = result.publication
    rounding = publication.summary_rounding
    if rounding is None:
        parts = [say("charts.spc.caption.limits_withheld", rounding=SUMMARY_ROUNDINGS[-1])]
    else:
        rounded = (
            say("charts.spc.caption.rounded_whole")
            if rounding == 1
            else say("charts.spc.caption.rounded_coarse", rounding=rounding)
        )
        parts = [
            say(
                "charts.spc.caption.limits_published",
                mean=format_number(result.mean),
                lower=format_number(result.lower),
                upper=format_number(result.upper),
                sigmas=LIMIT_SIGMAS,
                basis=basis,
                rounded=rounded,
            )
        ]
    if publication.totals:
        parts.append(say("charts.spc.caption.shown_totals", rounding=publication.rounding))
        if publication.unpublished:
            periods = ", ".join(publication.unpublished)
            parts.append(say("charts.spc.caption.unpublished_totals", periods=periods))
    else:
        parts.append(
            say(
                "charts.spc.caption.shown_counts",
                rounding=publication.rounding,
                threshold=publication.threshold,
            )
        )
    return parts


def _draw_bands(axes: Axes, x: np.ndarray, points) -> None:
    """Draw each suppressed point as a band over the values it may have, labelled, in its signal's colour."""
    for at, (_, point) in zip(x, points.iterrows(), strict=True):
        colour = POINT_COLOURS[point["variation"]]
        low, high = point["range_low"], point["range_high"]
        axes.add_patch(
            Rectangle(
                (at - _BAND, low),
                2 * _BAND,
                high - low,
                facecolor=colour,
                edgecolor=colour,
                alpha=0.45,
                linewidth=1,
                zorder=3,
                gid="suppressed",
            )
        )
        axes.annotate(
            f"{int(low):,}–{int(high):,}",
            (at, high),
            xytext=(0, 2),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=7,
            color=NHS["dark_grey"],
            gid="suppressed_label",
        )


def _period_axis(axes: Axes, x: np.ndarray, labels: list[str], unit: str) -> None:
    """Label the x axis with the periods, thinned and turned when they would not fit across A4."""
    step = max(1, int(np.ceil(len(labels) / 24)))
    axes.set_xticks(x[::step], labels[::step])
    if len(labels[::step]) * (max(map(len, labels)) + 2) > 110:
        for label in axes.get_xticklabels():
            label.set_rotation(45)
            label.set_horizontalalignment("right")
            label.set_rotation_mode("anchor")
    axes.set_xlim(-0.5, len(labels) - 0.5)
    axes.set_xlabel(unit.capitalize())
    axes.grid(axis="x", visible=False)


def _leave_headroom(axes: Axes, values: np.ndarray, result: XmR) -> None:
    """Set the y range to show the data, limits and target, with room at the top for the icons."""
    levels = [level for level in (*values, result.upper, result.lower, result.mean) if np.isfinite(level)]
    if result.target is not None:
        levels.append(result.target)
    low, high = min(levels), max(levels)
    span = (high - low) or max(abs(high), 1.0)
    bottom = low - 0.05 * span
    if not result.lower < 0 and low >= 0:
        bottom = max(bottom, 0 - 0.02 * span)
    axes.set_ylim(bottom, high + _HEADROOM * span)


def _draw_icons(axes: Axes, variation_icon: str, assurance_icon: str | None) -> None:
    """Draw the variation icon, then the assurance icon (if any), in the top-right corner."""
    icons = axes.inset_axes((0.78, 0.74, 0.215, 0.25), zorder=5)
    icons.set_xlim(0, 2.2)
    icons.set_ylim(0, 1)
    icons.set_aspect("equal", anchor="NE")
    icons.set_axis_off()
    icons.set_gid("icons")
    # Variation then assurance, left to right, as MDC's summary tables read; alone, it sits in the corner.
    _variation_icon(icons, (0.5, 0.5) if assurance_icon else (1.7, 0.5), variation_icon)
    if assurance_icon:
        _assurance_icon(icons, (1.7, 0.5), assurance_icon)


def _ring(axes: Axes, centre: tuple[float, float], colour: str, gid: str) -> None:
    """Draw an MDC icon's white disc with a coloured ring."""
    axes.add_patch(Circle(centre, 0.46, facecolor="white", edgecolor=colour, linewidth=2.2, gid=gid))


def _variation_icon(axes: Axes, centre: tuple[float, float], icon: str) -> None:
    """Draw a variation icon: a ring, H or L for a special cause, and a row of dots."""
    kind, _, height = icon.rpartition("_") if icon != "common_cause" else ("common_cause", "", "")
    colour = ICON_COLOURS[kind]
    _ring(axes, centre, colour, f"variation_icon:{icon}")
    cx, cy = centre
    dots_x = cx + np.linspace(-0.26, 0.26, 5)
    if kind == "common_cause":
        dots_y = cy + np.array([-0.05, 0.05, -0.05, 0.05, -0.05])
        axes.plot(dots_x, dots_y, color=colour, linewidth=1, marker="o", markersize=2.2)
        return
    letter = "H" if height == "high" else "L"
    axes.text(cx, cy + 0.13, letter, color=colour, ha="center", va="center", fontsize=9, fontweight="bold")
    rise = 0.1 if height == "high" else -0.1
    dots_y = cy - 0.2 + np.array([0, 0, 0, rise, rise])
    axes.plot(dots_x, dots_y, color=VARIATION["common"], linewidth=0.8)
    axes.plot(dots_x[:3], dots_y[:3], linestyle="", marker="o", markersize=2.2, color=VARIATION["common"])
    axes.plot(dots_x[3:], dots_y[3:], linestyle="", marker="o", markersize=2.6, color=colour)


def _assurance_icon(axes: Axes, centre: tuple[float, float], icon: str) -> None:
    """Draw an assurance icon: a ring with P (pass), F (fail) or ? (hit and miss)."""
    colour = ICON_COLOURS[icon]
    _ring(axes, centre, colour, f"assurance_icon:{icon}")
    axes.text(
        *centre,
        ASSURANCE_LETTERS[icon],
        color=colour,
        ha="center",
        va="center",
        fontsize=11,
        fontweight="bold",
    )

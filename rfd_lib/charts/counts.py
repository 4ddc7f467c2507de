"""A bar chart of published counts by a grouping: the chart of an analyst's own table.

:func:`count_bar_chart` draws counts already protected by :mod:`rfd_lib.metrics.disclosure`
(``<NA>`` where suppressed: no bar, a ``*`` above its place) in the house style, and its caption
lists every figure as published, so it reads without the picture (it is the alt text too),
then the disclosure footnote.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rfd_lib.charts.activity import _count, _counts_axis, _mark_suppressed, _noted
from rfd_lib.charts.house_style import NHS, Chart, data_text, finish, house_style, new_chart
from rfd_lib.wording import say


def count_bar_chart(
    labels: Sequence[object],
    values: np.ndarray,
    *,
    title: str,
    caption: str,
    value_label: str,
    footnote: str | None = None,
) -> Chart:
    """Return a bar per label of published ``values`` (NaN where suppressed), captioned with each figure.

    ``footnote`` (the disclosure footnote, which also says counts are rounded) ends the caption.
    """
    values = np.asarray(values, dtype=float)
    names = [data_text(label) for label in labels]
    with house_style():
        figure, axes = new_chart(height="short")
        x = np.arange(len(names))
        axes.bar(x, np.nan_to_num(values), color=NHS["blue"])
        _mark_suppressed(axes, x, values)
        axes.set_xticks(
            x, names, rotation=45 if len(names) > 6 else 0, ha="right" if len(names) > 6 else "center"
        )
        axes.set_ylabel(data_text(value_label, 40))
        _counts_axis(axes.set_ylim, values)
        axes.grid(axis="x", visible=False)
    figures = "; ".join(
        say("charts.counts.figure", label=name, count=_count(value))
        for name, value in zip(names, values, strict=True)
    )
    text = " ".join(part for part in (caption.strip(), say("charts.counts.figures", figures=figures)) if part)
    # Internal mode has no footnote: a suppressed value cannot occur, but say so if one does.
    text = f"{text} {footnote}" if footnote else _noted(text, None, values)
    return finish(figure, axes, title, text)

"""The reports' tables and headline figures as HTML, from published figures only.

Every count goes through :func:`rfd_lib.metrics.disclosure.as_text` (``*`` where suppressed) and sits in
a cell of class ``count``, so a test can check every count a report shows; statuses sit in cells
of class ``rag-red`` … ``rag-na`` with their word, colour never the only signal. Tables are
pandas Stylers rendered to HTML with every value escaped.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np
import pandas as pd

from rfd_lib.metrics.disclosure import as_text
from rfd_lib.metrics.status import Status
from rfd_lib.wording import WordingError, wording
from rfd_lib.yaml_model import quoted


class Fragment(str):
    """A piece of report HTML; a notebook cell ending in one shows it as HTML."""

    def _repr_html_(self) -> str:
        return str(self)


def headline(figures: Sequence[tuple[str, str]]) -> Fragment:
    """Return a row of headline boxes, one per (value as text, label)."""
    boxes = "".join(
        f'<div class="figure"><span class="value">{html.escape(value)}</span>'
        f'<span class="label">{html.escape(label)}</span></div>'
        for value, label in figures
    )
    return Fragment(f'<div class="headline">{boxes}</div>')


def paragraphs(texts: Sequence[str], css: str = "") -> Fragment:
    """Return each text as an escaped paragraph (with class ``css`` when given)."""
    attribute = f' class="{css}"' if css else ""
    return Fragment("".join(f"<p{attribute}>{html.escape(text)}</p>" for text in texts if text))


def table(
    frame: pd.DataFrame,
    *,
    classes: pd.DataFrame | None = None,
    caption: str | None = None,
    footnote: str | None = None,
) -> Fragment:
    """Return ``frame`` (all text) as an HTML table with per-cell ``classes`` and an optional footnote.

    ``classes`` has ``frame``'s shape and columns and holds each cell's CSS class ("" for none).
    """
    styler = frame.style.hide(axis="index").format(escape="html")
    if classes is not None:
        styler = styler.set_td_classes(classes)
    if caption:
        styler = styler.set_caption(html.escape(caption))
    styler = styler.set_table_attributes('class="report-table"')
    note = f'<p class="note">{html.escape(footnote)}</p>' if footnote else ""
    return Fragment(styler.to_html() + note)


def percent(values: pd.Series, digits: int = 0) -> pd.Series:
    """Return shares as text percentages (``12 %``); ``–`` where the share is unknown."""
    numbers = pd.to_numeric(values, errors="coerce").astype("Float64") * 100
    text = numbers.round(digits).map(lambda v: "–" if pd.isna(v) else f"{v:,.{digits}f} %")
    return text.astype("string")


def signed_percent(values: pd.Series) -> pd.Series:
    """Return ratios minus one as signed percentages (``+25 %``, ``−10 %``); ``–`` where unknown."""
    numbers = pd.to_numeric(values, errors="coerce").astype("Float64") * 100
    text = numbers.round(0).map(lambda v: "–" if pd.isna(v) else f"{v:+,.0f} %".replace("-", "−"))
    return text.astype("string")


def decimal(values: pd.Series, digits: int = 1) -> pd.Series:
    """Return numbers as text with ``digits`` decimals and thousands separators; ``–`` where missing."""
    numbers = pd.to_numeric(values, errors="coerce").astype("Float64")
    return numbers.map(lambda v: "–" if pd.isna(v) else f"{v:,.{digits}f}").astype("string")


def counts(values: pd.Series, suppressed: pd.Series | None = None) -> pd.Series:
    """Return published counts as text: ``*`` where suppressed, ``–`` where not applicable."""
    flags = suppressed if suppressed is not None else pd.Series(False, index=values.index)
    return as_text(values, flags.fillna(False).astype(bool))


def one_count(value: object, suppressed: object) -> str:
    """Return one published count as text (``*`` when suppressed)."""
    return counts(pd.Series([value], dtype="Int64"), pd.Series([bool(suppressed)])).iat[0]


def status_classes(statuses: pd.Series) -> pd.Series:
    """Return the CSS class of each status cell (``rag-red``, …; ``rag-na`` when not assessable)."""
    return (
        statuses.map({status.value: status.css_class for status in Status})
        .fillna(Status.NOT_ASSESSABLE.css_class)
        .astype("string")
    )


def any_suppressed(*flags: pd.Series) -> bool:
    """Return True when any of the flags is set (so the table needs the disclosure footnote)."""
    return bool(np.any([np.asarray(flag.fillna(False), dtype=bool).any() for flag in flags]))


def headed(
    frame: pd.DataFrame, classes: pd.DataFrame, headings: dict[str, tuple[str, str]]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return ``frame`` and its cell ``classes`` with each column id renamed to its printed heading.

    ``headings`` maps a column id to (wording key, heading). Two columns headed alike would make
    one table cell stand for two, so that raises :class:`WordingError` naming the file and key.
    """
    seen: dict[str, str] = {}
    for key, heading in headings.values():
        if heading in seen:
            keys = key if seen[heading] == key else f"{seen[heading]} and {key}"
            raise WordingError(
                f"{wording().path}: {keys}: two columns of one table are headed {quoted(heading)}",
                hint="give each column of a table its own heading (a check's needs its {number})",
            )
        seen[heading] = key
    names = {column: heading for column, (_, heading) in headings.items()}
    return frame.rename(columns=names), classes.rename(columns=names)

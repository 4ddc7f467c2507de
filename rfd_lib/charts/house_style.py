"""One look for every chart in the audit: NHS colours, A4-readable sizes, titles and captions.

Every plotting function in rfd_lib draws inside :func:`house_style`, starts from
:func:`new_chart` and returns the :class:`Chart` of :func:`finish`, so a report can place the
figure, its caption and its alt text without knowing how it was drawn. Figures are made without
pyplot: no global state, nothing to close, safe in parallel workers and without a screen.
"""

from __future__ import annotations

import contextlib
import re
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from rfd_lib.metrics.status import Status

# NHS identity colours (https://www.england.nhs.uk/nhsidentity/identity-guidelines/colours/).
NHS = {
    "blue": "#005EB8",
    "dark_blue": "#003087",
    "bright_blue": "#0072CE",
    "light_blue": "#41B6E6",
    "aqua_blue": "#00A9CE",
    "dark_grey": "#425563",
    "mid_grey": "#768692",
    "pale_grey": "#E8EDEE",
    "green": "#009639",
    "light_green": "#78BE20",
    "warm_yellow": "#FFB81C",
    "orange": "#ED8B00",
    "red": "#DA291C",
    "purple": "#330072",
    "pink": "#AE2573",
}
# Red/amber/green for the restricted-use checks (amber is NHS warm yellow).
RAG = {
    Status.GREEN: NHS["green"],
    Status.AMBER: NHS["warm_yellow"],
    Status.RED: NHS["red"],
    Status.NOT_ASSESSABLE: NHS["mid_grey"],
}
# Making Data Count's variation colours: improvement blue, concern orange, common cause grey.
VARIATION = {"improvement": "#289DE0", "concern": "#FAB428", "common": "#7B7D7D", "neither": "#361475"}

# A4 portrait with 20 mm margins leaves a 170 mm (6.7 in) text width.
FULL_WIDTH_IN = 6.7
HEIGHT_IN = {"short": 2.6, "normal": 3.6, "tall": 5.2}

RC = {
    "font.family": "sans-serif",
    "font.sans-serif": ["Arial", "Liberation Sans", "DejaVu Sans"],
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 9,
    "axes.edgecolor": NHS["dark_grey"],
    "axes.labelcolor": NHS["dark_grey"],
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": NHS["pale_grey"],
    "grid.linewidth": 0.8,
    "xtick.color": NHS["dark_grey"],
    "ytick.color": NHS["dark_grey"],
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "axes.prop_cycle": mpl.cycler(color=[NHS[c] for c in ("blue", "orange", "green", "pink", "aqua_blue")]),
    "figure.dpi": 150,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
    # Chart text holds provider codes from the data: a "$" there must be drawn, not parsed as maths.
    "text.parse_math": False,
}
# Characters of the bold 10 pt title that fit the 6.7 in A4 text width; longer titles wrap.
TITLE_WIDTH = 78
# The longest value from the data (e.g. a provider code) a chart draws; longer ones are cut.
DATA_TEXT_WIDTH = 24
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass
class Chart:
    """A finished figure with the words a report prints beside it.

    ``title`` says what the chart shows (it is also drawn above the axes); ``caption`` says how
    to read it and what it found, and must make sense without the picture (it is the alt text).
    """

    figure: Figure
    title: str
    caption: str

    @property
    def alt_text(self) -> str:
        """Return the text a screen reader or a text-only copy of the report uses for the chart."""
        return f"{self.title}. {self.caption}"

    def png(self) -> bytes:
        """Return the figure as PNG bytes at the house resolution."""
        import io

        buffer = io.BytesIO()
        with house_style():
            self.figure.savefig(buffer, format="png")
        return buffer.getvalue()

    def _repr_html_(self) -> str:
        """Return the chart as an HTML figure: the PNG embedded, its alt text and its caption.

        A notebook cell ending in a Chart shows this. There is deliberately no ``_repr_png_``:
        IPython would draw the figure a second time for it.
        """
        import base64
        import html

        data = base64.b64encode(self.png()).decode("ascii")
        return (
            f'<figure class="chart"><img src="data:image/png;base64,{data}" '
            f'alt="{html.escape(self.alt_text)}"><figcaption>{html.escape(self.caption)}</figcaption></figure>'
        )


@contextlib.contextmanager
def house_style() -> Iterator[None]:
    """Draw everything made inside this block in the house style (matplotlib rc settings)."""
    with mpl.rc_context(RC):
        yield


def new_chart(height: str = "normal", width: float = 1.0) -> tuple[Figure, Axes]:
    """Return an empty figure and its axes; ``width`` is a share of the A4 text width.

    Call it inside :func:`house_style`.
    """
    figure = Figure(figsize=(FULL_WIDTH_IN * width, HEIGHT_IN[height]), layout="constrained")
    return figure, figure.add_subplot()


def data_text(value: object, width: int = DATA_TEXT_WIDTH) -> str:
    """Return ``value`` (a provider code or name from the data) as a chart may draw it.

    Control characters (a NUL byte, a line break) become ``?`` and a value longer than ``width``
    characters is cut with an ellipsis, so no value can break a chart's layout or make it
    unreadable. A ``$`` or a backslash needs nothing: house-style figures never parse text as maths.
    """
    text = _CONTROL.sub("?", str(value))
    return text if len(text) <= width else text[: width - 1] + "…"


def finish(figure: Figure, axes: Axes, title: str, caption: str) -> Chart:
    """Return the :class:`Chart` of ``figure``, with ``title`` drawn above ``axes`` (wrapped to fit)."""
    with house_style():
        axes.set_title(textwrap.fill(title, TITLE_WIDTH))
    return Chart(figure, title, caption)

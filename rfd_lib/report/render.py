"""Render an executed report notebook as one self-contained HTML file: outputs only, no code.

The page is nbconvert's ``HTMLExporter`` with the ``rfd_report`` template packaged beside this
module (``templates/rfd_report``): an NHS-blue header, a Contents list, the notebook's outputs
and a Provenance table, with its style sheet inlined and nothing fetched from the network, so
the file can be e-mailed, archived or printed to PDF (:mod:`rfd_lib.report.pdf`) as it is.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat
from bs4 import BeautifulSoup, Tag
from nbconvert import HTMLExporter
from nbconvert.preprocessors import Preprocessor
from traitlets.config import Config

from rfd_lib.atomic import write_atomically
from rfd_lib.errors import RfdAuditError
from rfd_lib.metrics.status import Status
from rfd_lib.report.marking import css_string

TEMPLATES = Path(__file__).parent / "templates"
TEMPLATE_NAME = "rfd_report"
# papermill tags its injected cell "injected-parameters"; neither parameter cell is for readers.
REMOVE_CELL_TAGS = frozenset({"remove_cell", "parameters", "injected-parameters"})
REMOVE_INPUT_TAGS = frozenset({"remove_input"})
RAG_CLASSES = tuple(status.css_class for status in Status)
# Attributes through which a browser fetches something (an <a href> is followed, not fetched).
_FETCHING = ("src", "srcset", "href", "data", "poster", "background")
_CSS_FETCH = re.compile(r"@import|url\(\s*(?!['\"]?\s*(?:data:|#))", re.IGNORECASE)


class RenderError(RfdAuditError):
    """A notebook cannot be rendered as a self-contained HTML report."""


@dataclass(frozen=True)
class ReportContext:
    """What the report says about itself: its header, its banner and its provenance rows.

    ``banner`` (e.g. "contains unsuppressed figures — do not circulate") shows at the top of
    the screen page and on every printed page; ``provenance`` is a tuple of (label, value) rows.
    """

    title: str
    subtitle: str
    run_date: str
    banner: str | None = None
    provenance: tuple[tuple[str, str], ...] = ()
    # The run's protective marking (e.g. OFFICIAL-SENSITIVE), at the top and bottom of every page.
    marking: str | None = None


class _DropQuietOutputs(Preprocessor):
    """Drop stderr streams (warnings) and code cells left with nothing to show."""

    def preprocess(self, nb, resources):
        """Return the notebook without stderr outputs or output-less code cells, and resources."""
        kept = []
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs = [
                    o
                    for o in cell.get("outputs", [])
                    if not (o.output_type == "stream" and o.name == "stderr")
                ]
                if not cell.outputs:
                    continue
            kept.append(cell)
        nb.cells = kept
        return nb, resources


def render_html(
    notebook: str | os.PathLike[str] | nbformat.NotebookNode,
    target: str | os.PathLike[str],
    context: ReportContext,
) -> Path:
    """Write the executed notebook as one self-contained HTML report at target (atomically) and return target.

    Code never reaches the report: every code input and prompt is left out, cells tagged
    ``remove_cell``, ``parameters`` or ``injected-parameters`` are dropped whole, and stderr
    (warnings) is not shown. Raises :class:`RenderError` if the notebook cannot be read or the
    page would need to fetch anything (an image or style sheet not embedded in the notebook).
    """
    nb, folder = _read(notebook)
    resources = {"rfd": _template_values(context), "metadata": {"path": str(folder)}}
    body, _ = _exporter().from_notebook_node(nb, resources=resources)
    html = _finish(body)
    target = Path(target)
    write_atomically(target, html)
    return target


def _read(notebook: str | os.PathLike[str] | nbformat.NotebookNode) -> tuple[nbformat.NotebookNode, Path]:
    if isinstance(notebook, nbformat.NotebookNode):
        return notebook, Path.cwd()
    path = Path(notebook)
    try:
        return nbformat.read(path, as_version=4), path.parent
    except FileNotFoundError:
        raise RenderError(f"{path}: no such notebook", hint="run the report notebook first") from None
    except (OSError, ValueError) as error:  # nbformat's NotJSONError and validation errors are ValueErrors
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise RenderError(f"{path}: not a readable notebook ({reason[:200]})") from None


def _exporter() -> HTMLExporter:
    config = Config()
    config.TagRemovePreprocessor.enabled = True
    config.TagRemovePreprocessor.remove_cell_tags = set(REMOVE_CELL_TAGS)
    config.TagRemovePreprocessor.remove_input_tags = set(REMOVE_INPUT_TAGS)
    exporter = HTMLExporter(
        config=config,
        extra_template_basedirs=[str(TEMPLATES)],
        template_name=TEMPLATE_NAME,
        # Every input goes, tagged or not: a forgotten remove_input tag must not leak code.
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        # Markdown images (![](chart.png)) become data URIs, so the file stands alone.
        embed_images=True,
    )
    exporter.register_preprocessor(_DropQuietOutputs(), enabled=True)
    return exporter


def _template_values(context: ReportContext) -> dict[str, object]:
    return {
        "title": context.title,
        "subtitle": context.subtitle,
        "run_date": context.run_date,
        "banner": context.banner or None,
        "provenance": tuple((str(label), str(value)) for label, value in context.provenance),
        "css_short_title": _css_string(_short(context.title, 90)),
        "css_banner": _css_string(context.banner or ""),
        "marking": context.marking or None,
        "css_marking": _css_string(context.marking or ""),
        # On paper the top margin box holds the marking and the banner, when both are set.
        "css_top": _css_string(" · ".join(text for text in (context.marking, context.banner) if text)),
    }


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


_css_string = css_string


def _finish(html: str) -> str:
    soup = BeautifulSoup(html, features="html.parser")
    for link in soup.select("a.anchor-link"):
        # The pilcrow links are for notebooks; on paper they are stray characters.
        link.decompose()
    _unique_ids(soup)
    _fill_contents(soup)
    _badge_rag_cells(soup)
    _align_number_headers(soup)
    _check_self_contained(soup)
    return str(soup)


def _unique_ids(soup: BeautifulSoup) -> None:
    # nbconvert derives heading ids from their text, so two "Trend" sections would share one.
    seen: set[str] = set()
    for element in soup.find_all(True):
        wanted = element.get("id")
        if element.name in ("h2", "h3") and not wanted:
            wanted = re.sub(r"[^\w-]+", "-", element.get_text(" ", strip=True)).strip("-") or "section"
        if not wanted:
            continue
        unique, n = wanted, 2
        while unique in seen:
            unique, n = f"{wanted}-{n}", n + 1
        seen.add(unique)
        element["id"] = unique


def _fill_contents(soup: BeautifulSoup) -> None:
    nav = soup.find("nav", class_="contents")
    main = soup.find("main")
    if nav is None or main is None:
        return
    headings = main.find_all(["h2", "h3"])
    if not headings:
        nav.decompose()
        return
    top = soup.new_tag("ol")
    nav.append(top)
    current: Tag | None = None  # the h2 entry that h3 entries nest under
    for heading in headings:
        item = soup.new_tag("li")
        anchor = soup.new_tag("a", href=f"#{heading['id']}")
        anchor.string = heading.get_text(" ", strip=True)
        item.append(anchor)
        if heading.name == "h3" and current is not None:
            if current.ol is None:
                current.append(soup.new_tag("ol"))
            current.ol.append(item)
        else:
            top.append(item)
            current = item if heading.name == "h2" else None


def _badge_rag_cells(soup: BeautifulSoup) -> None:
    # A table cell cannot be a rounded badge itself, so its words go in one.
    for cell in soup.find_all(["td", "th"], class_=list(RAG_CLASSES)):
        badge = soup.new_tag("span", attrs={"class": "rag-badge"})
        for child in list(cell.contents):
            badge.append(child.extract())
        cell.append(badge)


def _align_number_headers(soup: BeautifulSoup) -> None:
    # pandas classes body cells only; a column of numbers reads better under a right-aligned header.
    for table in soup.find_all("table"):
        header_rows = table.thead.find_all("tr") if table.thead else []
        body_rows = table.tbody.find_all("tr") if table.tbody else []
        if len(header_rows) != 1 or not body_rows:
            continue
        headers = header_rows[0].find_all(["th", "td"], recursive=False)
        rows = [row.find_all(["th", "td"], recursive=False) for row in body_rows]
        if any(len(cells) != len(headers) for cells in rows) or any(h.get("colspan") for h in headers):
            continue
        for column, header in enumerate(headers):
            if all(set(cells[column].get("class", [])) & {"count", "number"} for cells in rows):
                header["class"] = [*header.get("class", []), "number"]


def _check_self_contained(soup: BeautifulSoup) -> None:
    for element in soup.find_all(True):
        for attribute in _FETCHING:
            value = element.get(attribute)
            if value is None or (element.name == "a" and attribute == "href"):
                continue
            value = (" ".join(value) if isinstance(value, list) else str(value)).strip()
            if value and not value.startswith(("data:", "#")):
                raise RenderError(
                    f"the report would fetch {_short(value, 80)!r} (<{element.name} {attribute}=...>)",
                    hint="embed images as data: URIs (e.g. house_style Chart) so the report stands alone",
                )
    for style in soup.find_all("style"):
        if _CSS_FETCH.search(style.get_text()):
            raise RenderError(
                "a <style> in the report imports or fetches a file", hint="inline the CSS and images"
            )

"""Open a rendered report in a real headless Chromium (playwright) and say what the reader would see."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from rfd_lib.report.pdf import find_chromium

CHROMIUM = find_chromium()
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium-family browser found (install chromium, or set RFD_AUDIT_CHROMIUM to Chrome or Edge)",
)


@dataclass(frozen=True)
class PageReport:
    """What a browser made of a page: errors, fetches off the machine, images, overflow, screenshot."""

    console_errors: tuple[str, ...]
    page_errors: tuple[str, ...]
    external_requests: tuple[str, ...]  # anything not file: or data:, i.e. a fetch from the network
    images: int
    images_loaded: int  # complete with naturalWidth > 0
    overflows_horizontally: bool
    screenshot: Path
    probes: dict[str, object]  # the value of each probe expression, by name


def open_page(
    html_path: str | os.PathLike[str],
    screenshot_path: str | os.PathLike[str],
    probes: dict[str, str] | None = None,
) -> PageReport:
    """Return what headless Chromium saw when it loaded html_path, with a full-page screenshot saved.

    ``probes`` maps names to JavaScript expressions evaluated in the loaded page (e.g. a computed
    style); their values come back in ``PageReport.probes``.
    """
    from playwright.sync_api import sync_playwright

    if CHROMIUM is None:
        pytest.skip("no Chromium-family browser found")
    console_errors: list[str] = []
    page_errors: list[str] = []
    external: list[str] = []
    screenshot = Path(screenshot_path)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: page_errors.append(str(e)))
            page.on(
                "request",
                lambda r: external.append(r.url) if not r.url.startswith(("file:", "data:")) else None,
            )
            page.goto(Path(html_path).resolve().as_uri(), wait_until="load")
            loaded = page.eval_on_selector_all(
                "img", "imgs => imgs.map(i => i.complete && i.naturalWidth > 0)"
            )
            overflows = page.evaluate(
                "() => document.documentElement.scrollWidth > document.documentElement.clientWidth"
            )
            probed = {
                name: page.evaluate(f"() => ({expression})") for name, expression in (probes or {}).items()
            }
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    return PageReport(
        console_errors=tuple(console_errors),
        page_errors=tuple(page_errors),
        external_requests=tuple(external),
        images=len(loaded),
        images_loaded=sum(bool(x) for x in loaded),
        overflows_horizontally=bool(overflows),
        screenshot=screenshot,
        probes=probed,
    )


def widths(
    html_path: str | os.PathLike[str], width: int, height: int, media: str = "screen"
) -> dict[str, int]:
    """Return how wide the page and each horizontally scrolling box are at a ``width`` × ``height`` viewport.

    ``media`` "print" lays the page out as printed (``@media print``), at the viewport's width
    (give the printable width of the paper). The result has ``page`` (the document's scroll
    width) and, for every element that scrolls sideways, ``overflow: <tag.class>`` (its scroll
    width beyond its box, in px); a page that needs no horizontal scroll has only ``page``.
    """
    from playwright.sync_api import sync_playwright

    if CHROMIUM is None:
        pytest.skip("no Chromium-family browser found")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.emulate_media(media=media)
            page.goto(Path(html_path).resolve().as_uri(), wait_until="load")
            return page.evaluate(
                """() => {
                    const found = {page: document.documentElement.scrollWidth};
                    for (const box of document.querySelectorAll('body *')) {
                        if (box.scrollWidth > box.clientWidth + 1 && getComputedStyle(box).overflowX !== 'visible') {
                            found[`overflow: ${box.tagName.toLowerCase()}.${box.className}`] =
                                box.scrollWidth - box.clientWidth;
                        }
                    }
                    return found;
                }"""
            )
        finally:
            browser.close()

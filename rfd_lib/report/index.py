"""The run's ``index.html``: every report of one audit run, its headline numbers and RAG statuses.

It is the page an analyst opens first and takes to a governance meeting, so it stands alone: no
scripts, no fonts or images fetched, CSS inline, a Content-Security-Policy that forbids fetching
anything, readable on screen and printed on A4 (landscape). Every value is escaped by Jinja's
autoescape; links are relative paths, checked and percent-encoded here.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path, PurePosixPath
from urllib.parse import quote, urlsplit

import jinja2

from rfd_lib.atomic import write_atomically
from rfd_lib.metrics.changes import changes_in_words, previous_quarter, status_changes
from rfd_lib.metrics.status import Status
from rfd_lib.report.marking import css_string
from rfd_lib.report.outcome import NOT_MADE, SUMMARY, Report
from rfd_lib.report.saved_audit import GUIDANCE, AuditRun
from rfd_lib.report.tables import counts, decimal
from rfd_lib.wording import say
from rfd_lib.yaml_model import listed, quoted

_NUMBER = re.compile(r"^[<>≈~]?\s*[-+−]?[\d,]*\.?\d+\s*%?$")
# Suppressed (*) and not-applicable (–) cells stand in for numbers: they must not left-align a numeric column.
_PLACEHOLDERS = {"*", "–", "-", "—", ""}
_TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class IndexEntry:
    """One provider's line on the index: its reports, headline figures and check statuses."""

    provider_code: str
    provider_name: str
    html: str | None  # link to the provider's HTML report, relative to the index; None if it failed
    pdf: str | None  # link to its PDF, relative to the index; None if not produced
    headline: tuple[tuple[str, str], ...]  # (label, value as text), e.g. ("counted RFDs", "555")
    statuses: tuple[tuple[str, str], ...]  # (check label, status), status one of Status
    failed: str | None = None  # why the report failed, one line, with the failed notebook's path
    # The date of the earlier run whose report this is, when a partial run kept it; None: this run's.
    made_on: str | None = None


def write_index(
    target: str | os.PathLike[str],
    *,
    title: str,
    subtitle: str,
    run_date: str,
    summary_html: str | None,
    summary_pdf: str | None,
    entries: Sequence[IndexEntry],
    banner: str | None = None,
    notes: Sequence[str] = (),
    footnote: str | None = None,
    tables: Sequence[str] = (),
    partial: str | None = None,
    summary_note: str | None = None,
    marking: str | None = None,
) -> Path:
    """Write the run's index page at ``target`` and return ``target`` as a :class:`Path`.

    Links (``summary_html``, ``summary_pdf``, each entry's ``html`` and ``pdf``, and ``tables``:
    the table files for analysts, each linked by its name) are file paths
    relative to the index, not URLs: they are percent-encoded here, and an absolute path or a URL
    raises ``ValueError`` (the run's folder must work wherever it is copied). ``banner`` is a red
    strip under the header (internal runs: unsuppressed figures); ``notes`` and ``footnote`` (the
    disclosure statement) follow the table. ``partial`` is a strip under the header saying the
    index lacks some of the run's providers; ``summary_note`` says where the summary report
    comes from (a partial run). ``marking`` (the run's protective marking) is printed at the top
    and bottom of the page, and of every printed page. Headline and check columns are the union of the
    entries' labels, in the order first met. The page is written to a temporary file in the same
    folder and renamed over ``target``, so a reader never sees half a page.
    """
    target = Path(target)
    checks = _labels(entry.statuses for entry in entries)
    template = _environment().get_template("index.html.j2")
    page = template.render(
        title=title,
        subtitle=subtitle,
        run_date=run_date,
        banner=banner,
        partial=partial,
        summary={"html": _href(summary_html), "pdf": _href(summary_pdf), "note": summary_note},
        headline=_headline_columns(entries),
        checks=checks,
        rows=[_row(entry, checks) for entry in entries],
        tally=_tally(entries),
        legend=[(status.letter, status.css_class, status.badge, status.meaning) for status in Status],
        notes=list(notes),
        footnote=footnote,
        tables=[(PurePosixPath(link.replace("\\", "/")).name, _href(link)) for link in tables],
        marking=marking,
        css_marking=css_string(marking or ""),
    )
    write_atomically(target, page)
    return target


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        # The template is named *.html.j2, which select_autoescape's defaults would not escape.
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "html.j2"), default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _labels(pairs_per_entry) -> list[str]:
    """Return every label of the (label, value) pairs, each once, in the order first met."""
    return list(dict.fromkeys(label for pairs in pairs_per_entry for label, _ in pairs))


def _headline_columns(entries: Sequence[IndexEntry]) -> list[tuple[str, bool]]:
    """Return (label, numeric) per headline column; numeric columns (every value a number) align right."""
    values: dict[str, list[str]] = {}
    for entry in entries:
        for label, value in entry.headline:
            values.setdefault(label, []).append(value)
    return [
        (label, all(str(v).strip() in _PLACEHOLDERS or _NUMBER.match(str(v).strip()) for v in column))
        for label, column in values.items()
    ]


def _row(entry: IndexEntry, checks: list[str]) -> dict:
    """Return what the template prints for one entry: links, headline cells and badges."""
    statuses = dict(entry.statuses)
    for label, status in entry.statuses:
        if status not in set(Status):
            raise ValueError(
                f"{entry.provider_code}: check {label!r} has status {status!r}; "
                f"expected one of {[str(status) for status in Status]}"
            )
    return {
        "code": entry.provider_code,
        "name": entry.provider_name,
        "html": _href(entry.html),
        "pdf": _href(entry.pdf),
        "failed": entry.failed,
        "kept": None if entry.made_on is None else say("run_index.kept", date=entry.made_on),
        # A failed report with no figures gets one wide cell for its reason (it holds a long path).
        "failed_wide": entry.failed is not None and not entry.headline and not entry.statuses,
        "headline": dict(entry.headline),
        # The badge's letter is always printed, so colour is never the only signal; the check and
        # its status in words are its title and accessible name.
        "badges": {
            label: (Status(status).letter, Status(status).css_class, status)
            for label, status in statuses.items()
            if label in checks
        },
        # How many of its checks are red and amber: the provider's line read at a glance.
        "red": sum(status == Status.RED for status in statuses.values()),
        "amber": sum(status == Status.AMBER for status in statuses.values()),
    }


def _tally(entries: Sequence[IndexEntry]) -> dict[str, int]:
    """Return the counts printed above the table: reports, failures and statuses by colour."""
    tally = {"providers": len(entries), "failed": sum(entry.failed is not None for entry in entries)}
    for status in Status:
        tally[status.value] = sum(s == status for entry in entries for _, s in entry.statuses)
    return tally


def _href(link: str | None) -> str | None:
    """Return a relative file path as a percent-encoded href; refuse URLs and absolute paths."""
    if link is None:
        return None
    posix = link.replace("\\", "/")
    parts = urlsplit(posix)
    if not posix or parts.scheme or parts.netloc or PurePosixPath(posix).is_absolute():
        raise ValueError(f"{link!r}: links on the index must be paths relative to it, not URLs")
    return quote(posix, safe="/")


def run_title(quarter: str, name: str) -> str:
    """Return the title of run ``name``'s index page for ``quarter``."""
    return say("run_index.title", quarter=quarter, run=name)


def run_subtitle(quarter: str) -> str:
    """Return the subtitle every page of a run for ``quarter`` carries: the quarter and the guidance."""
    return say("run_index.subtitle", quarter=quarter, guidance=GUIDANCE)


def write_run_index(
    run: AuditRun,
    reports: list[Report],
    output: Path,
    notes: list[str],
    interrupted: bool,
    *,
    tables: Sequence[Path] = (),
    kept: Sequence[IndexEntry] = (),
    summary_kept: IndexEntry | None = None,
    partial: str | None = None,
    summary_note: str | None = None,
    dropped: Sequence[str] = (),
) -> Path:
    """Write the run's ``index.html`` in ``output`` and return its path.

    Each provider's line has its headline figures, its checks' statuses and links to its report,
    or why it failed; the notes say what was not made (an interrupted run), which PDFs could not
    be printed and what the audit noted. ``tables`` are the run's table files (in ``output``),
    linked from the page, the workbook first. A partial run adds the lines ``kept`` from an
    earlier run (in code order with its own), ``summary_kept`` (the earlier summary, when this run
    did not make one), the ``partial`` banner, the ``summary_note`` and a note per report
    ``dropped``.
    """
    audit = run.audit
    by_name = {report.name: report for report in reports}
    summary = by_name.get(SUMMARY)
    entries = report_entries(run, reports, output)
    if kept:
        entries = sorted([*entries, *kept], key=lambda entry: entry.provider_code)
    summary_html = _link(summary.html, output) if summary else summary_kept and summary_kept.html
    summary_pdf = _link(summary.pdf, output) if summary else summary_kept and summary_kept.pdf
    stopped = [report.name for report in reports if report.error == NOT_MADE]
    problems = [
        say(
            "run_index.notes.report_failed",
            report=quoted(report.name),
            error=report.error,
            notebook=_link(report.executed, output),
        )
        for report in reports
        if report.error and report.error != NOT_MADE
    ]
    problems += [
        say("run_index.notes.no_pdf", report=quoted(report.name), error=report.pdf_error)
        for report in reports
        if report.pdf_error
    ]
    if interrupted:
        problems.insert(0, say("run_index.notes.interrupted", count=len(stopped), reports=listed(stopped)))
    return write_index(
        output / "index.html",
        title=run_title(audit.quarter, run.name),
        subtitle=run_subtitle(audit.quarter),
        run_date=run.run_date,
        summary_html=summary_html or None,
        summary_pdf=summary_pdf or None,
        entries=entries,
        banner=audit.policy.banner,
        notes=[*notes, *audit.notes, *dropped, *problems],
        footnote=audit.policy.footnote,
        tables=[_link(path, output) for path in sorted(tables, key=lambda path: path.suffix != ".xlsx")],
        partial=partial,
        summary_note=summary_note,
        marking=run.marking,
    )


def report_entries(run: AuditRun, reports: Sequence[Report], output: Path) -> list[IndexEntry]:
    """Return the index line of each provider report of ``reports`` (the summary has none), in order."""
    return [_entry(run, report.name, report, output) for report in reports if report.name != SUMMARY]


def _entry(run: AuditRun, code: str, report: Report, output: Path) -> IndexEntry:
    """Return provider ``code``'s line on the index."""
    audit = run.audit
    volume = audit.volumes[
        (audit.volumes["provider_code"] == code) & (audit.volumes["quarter"] == audit.quarter)
    ]
    rate = audit.rates[(audit.rates["provider_code"] == code) & (audit.rates["quarter"] == audit.quarter)]
    checks = audit.checks[
        (audit.checks["provider_code"] == code) & (audit.checks["quarter"] == audit.quarter)
    ]
    statuses = tuple(zip(checks["short"], checks["status"].fillna(Status.NOT_ASSESSABLE), strict=True))
    # What changed since the previous quarter, in a few words ("2 new red, 1 resolved").
    previous = previous_quarter(audit.quarters, audit.quarter)
    changed = say("run_index.headline.no_previous_quarter")
    if previous is not None:
        moved = status_changes(audit.checks[audit.checks["provider_code"] == code], audit.quarter, previous)
        changed = changes_in_words(moved).iat[0] if len(moved) else say("changes.none")
    return IndexEntry(
        provider_code=code,
        provider_name=run.provider_name(code),
        html=_link(report.html, output),
        pdf=_link(report.pdf, output),
        headline=(
            (
                say("run_index.headline.counted"),
                counts(volume["counted"], volume["counted_suppressed"]).iat[0],
            ),
            (say("run_index.headline.rate", per=run.rate_per()), decimal(rate["rate"]).iat[0]),
            (
                say("run_index.headline.funnel"),
                say("shared.funnel_not_compared") if audit.funnel is None else audit.funnel.position(code),
            ),
            (say("run_index.headline.changes"), changed),
        ),
        statuses=statuses,
        failed=say("run_index.report_failed", error=report.error, notebook=_link(report.executed, output))
        if report.error
        else None,
    )


def _link(path: Path | None, output: Path) -> str | None:
    """Return ``path`` relative to the run's folder, as the index links to it."""
    return None if path is None else path.relative_to(output).as_posix()

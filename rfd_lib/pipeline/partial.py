"""A partial run (``--providers`` a subset) keeps the earlier reports that are still valid.

``rfd-audit run params.yaml --providers ZA1`` makes ZA1's report. The other providers' reports of
an earlier run into the same folder are still right if that run read exactly what this one reads,
so they stay, linked from the index with the headline figures and statuses that run worked out
(it recorded them in ``internal/run.json``), and marked with the date of that run. "Exactly what
this one reads" is the run's :class:`Basis`: the quarter, the disclosure mode, the rule file and
every input file by its sha256 — the extracts (or the database query), the populations, the
expectations, the code lists and the wording. The provider reports do not depend on which
providers were asked for: every run audits every provider of the extracts, and each report places
its provider among all of them.

A report made from another basis is removed, and the index says which and why, one line each. A
report whose file has gone is not linked. When the index still lacks some of the run's providers
(a first partial run, say), it carries a banner, "Partial run: N of M providers", naming what is
missing and the command that makes everything. The summary report covers every provider: a
partial run keeps the earlier summary of the same basis rather than remaking it, and the index
says whether the summary is this run's or kept.

The earlier run's record is read once, before anything is removed, while the folder is held
(:func:`rfd_lib.pipeline.output_folder.hold_output_folder`): no other run can change it meanwhile.
A run records its basis, what it kept and the files it may write from the moment it starts, so
one killed outright is merged with (and its half-made files removed) by the next run as well.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from rfd_lib.pipeline.output_folder import previous_record, previous_reports, report_stem
from rfd_lib.pipeline.provenance import Provenance
from rfd_lib.report.index import IndexEntry
from rfd_lib.report.outcome import SUMMARY
from rfd_lib.wording import say


@dataclass(frozen=True)
class Basis:
    """What a run's reports were made from: two runs with equal bases make the same reports."""

    quarter: str
    disclosure: str
    rule_sha256: str
    inputs: tuple[tuple[str, str], ...]  # (file name, sha256) of every input, as the provenance lists them
    # Spells read from a database (or Spark): its rows can change under the same query, so no report is kept.
    database: bool = False
    # The protective marking every page carries: a report kept under another marking would be mismarked.
    marking: str | None = None

    @classmethod
    def of(
        cls,
        quarter: str,
        disclosure: str,
        provenance: Provenance,
        *,
        database: bool = False,
        marking: str | None = None,
    ) -> Basis:
        """Return the basis of a run of ``quarter`` in ``disclosure`` mode reading ``provenance``'s inputs."""
        inputs = tuple(sorted(provenance.inputs))
        return cls(quarter, disclosure, provenance.rule_sha256, inputs, database, marking)

    def same_as(self, earlier: Basis | None) -> bool:
        """Return whether reports made from ``earlier`` are those this basis makes (never for a database)."""
        return earlier is not None and not self.database and not earlier.database and earlier == self

    def record(self) -> dict[str, object]:
        """Return the basis as JSON-safe data for the run record."""
        return {**asdict(self), "inputs": [list(pair) for pair in self.inputs]}

    @classmethod
    def from_record(cls, data: object) -> Basis | None:
        """Return the basis a run record holds, or None when there is none or it is not readable."""
        try:
            inputs = tuple((str(name), str(digest)) for name, digest in data["inputs"])
            database = data.get("database") is True
            marking = data.get("marking")
            return cls(
                str(data["quarter"]),
                str(data["disclosure"]),
                str(data["rule_sha256"]),
                inputs,
                database,
                None if marking is None else str(marking),
            )
        except (TypeError, KeyError, ValueError):
            return None

    def differences(self, earlier: Basis) -> list[str]:
        """Return what differs in ``earlier`` from this basis, in words ("expectations.yaml has changed")."""
        found = [say("run_index.dropped.database")] if self.database or earlier.database else []
        if earlier.quarter != self.quarter:
            found.append(say("run_index.dropped.quarter", quarter=earlier.quarter))
        if earlier.disclosure != self.disclosure:
            found.append(say("run_index.dropped.disclosure", mode=earlier.disclosure))
        if earlier.rule_sha256 != self.rule_sha256:
            found.append(say("run_index.dropped.rule"))
        if earlier.marking != self.marking:
            found.append(
                say("run_index.dropped.marking", marking=earlier.marking)
                if earlier.marking
                else say("run_index.dropped.no_marking")
            )
        now, then = dict(self.inputs), dict(earlier.inputs)
        changed = sorted(name for name in now.keys() & then.keys() if now[name] != then[name])
        found += [say("run_index.dropped.changed", file=name) for name in changed]
        found += [say("run_index.dropped.added", file=name) for name in sorted(now.keys() - then.keys())]
        found += [say("run_index.dropped.removed", file=name) for name in sorted(then.keys() - now.keys())]
        return found


@dataclass(frozen=True)
class Kept:
    """An earlier report kept on this run's index: its line as that run worked it out, and its date."""

    entry: IndexEntry
    run_date: str


@dataclass(frozen=True)
class Merge:
    """What a run does with the earlier run's reports in its folder."""

    kept: tuple[Kept, ...] = ()  # provider reports kept, in the earlier index's order
    summary: Kept | None = None  # the summary kept (its entry's html / pdf), or None: this run makes it
    dropped: tuple[str, ...] = ()  # one line per provider whose report is removed, saying why
    remove: tuple[Path, ...] = ()  # the earlier run's report files to delete
    earlier_notebooks: frozenset[str] = field(default_factory=frozenset)  # executed notebooks to keep

    @property
    def kept_codes(self) -> tuple[str, ...]:
        """Return the codes of the providers whose earlier reports are kept."""
        return tuple(kept.entry.provider_code for kept in self.kept)


def plan_merge(output: Path, basis: Basis, chosen: Sequence[str], run_providers: Sequence[str]) -> Merge:
    """Return what to keep of, and remove from, the earlier run in ``output`` for a run of ``chosen``.

    ``chosen`` are the providers this run reports on; ``run_providers`` those a run of the same
    parameters without ``--providers`` would (a run of all of them remakes everything, summary
    included). An earlier report is kept when its run had this ``basis``, this run does not
    remake it and its files are all in ``output``; one made from another basis is removed, with
    a line saying why. Nothing is removed here: see :attr:`Merge.remove`.
    """
    record = previous_record(output)
    if not record:
        return Merge()
    earlier = Basis.from_record(record.get("basis"))
    run_date = str(record.get("run_date", "")) or say("run_index.kept_unknown_date")
    same = basis.same_as(earlier)
    reasons = (
        say("run_index.dropped.unrecorded")
        if earlier is None
        else "; ".join(basis.differences(earlier))
        if not same
        else ""
    )
    kept, dropped = [], []

    def drop(code: str, date: str, reason: str) -> None:
        dropped.append(say("run_index.notes.dropped", provider=code, date=date, reason=reason))

    for entry in _entries(record.get("index")):
        code = entry.entry.provider_code
        if code in chosen:
            continue  # this run remakes it
        if not same:
            drop(code, entry.run_date, reasons)
        elif not _on_disk(entry.entry, output):
            drop(code, entry.run_date, say("run_index.dropped.missing"))
        else:
            kept.append(entry)
    if "index" not in record:  # a record from before runs kept their index lines
        for code in _made(record.get("reports")):
            if code not in chosen:
                drop(code, run_date, reasons or say("run_index.dropped.unrecorded"))
    summary = _summary(record.get("summary"), run_date)
    partial = not set(run_providers) <= set(chosen)
    if not (same and partial and summary is not None and _on_disk(summary.entry, output)):
        summary = None
    keep = {output / link for item in [*kept, summary] if item for link in _links(item.entry)}
    recorded = [
        *(link for item in _entries(record.get("index")) for link in _links(item.entry)),
        *(_links(found.entry) if (found := _summary(record.get("summary"), run_date)) else []),
        *(record.get("planned") if isinstance(record.get("planned"), list) else []),
    ]
    listed = [*previous_reports(output), *_files(output, recorded)]
    remove = tuple(dict.fromkeys(path for path in listed if path not in keep))
    notebooks = {report_stem(item.entry.provider_code) for item in kept}
    return Merge(
        kept=tuple(kept),
        summary=summary,
        dropped=tuple(dropped),
        remove=remove,
        earlier_notebooks=frozenset(notebooks | ({SUMMARY} if summary else set())),
    )


def still_on_disk(merge: Merge, output: Path) -> Merge:
    """Return ``merge`` without the kept reports whose files have gone since it was planned."""
    kept = tuple(kept for kept in merge.kept if _on_disk(kept.entry, output))
    summary = merge.summary if merge.summary and _on_disk(merge.summary.entry, output) else None
    return replace(merge, kept=kept, summary=summary)


def index_record(entries: Iterable[IndexEntry], run_date: str, kept: Sequence[Kept]) -> list[dict]:
    """Return the index lines to record: this run's made reports (dated ``run_date``) and the kept ones.

    A line whose report failed or was not made is not recorded: there is nothing to keep.
    """
    made = [Kept(entry, run_date) for entry in entries if entry.failed is None and entry.html]
    return [_entry_record(item) for item in [*kept, *made]]


def kept_summary_record(merge: Merge) -> dict | None:
    """Return the run record's summary for the summary ``merge`` keeps, or None when it keeps none."""
    kept = merge.summary
    return None if kept is None else summary_record(kept.entry.html, kept.entry.pdf, kept.run_date)


def summary_record(html: str | None, pdf: str | None, run_date: str) -> dict | None:
    """Return the summary's files and date for the run record, or None when there is no summary."""
    if not html:
        return None
    return {"html": html, "pdf": pdf, "run_date": run_date}


def planned_files(stems: Iterable[str], formats: Iterable[str]) -> list[str]:
    """Return the report files a run of reports named ``stems`` may write (recorded before it starts)."""
    suffixes = [f".{kind}" for kind in ("html", "pdf") if kind in set(formats) or kind == "html"]
    return [f"{stem}{suffix}" for stem in stems for suffix in suffixes]


def _entry_record(kept: Kept) -> dict:
    return {**asdict(kept.entry), "run_date": kept.run_date}


def _entries(data: object) -> list[Kept]:
    """Return the index lines a run record holds; an unreadable line is left out (and so not kept)."""
    found = []
    for item in data if isinstance(data, list) else []:
        try:
            entry = IndexEntry(
                provider_code=str(item["provider_code"]),
                provider_name=str(item["provider_name"]),
                html=_link(item["html"]),
                pdf=_link(item.get("pdf")),
                headline=tuple((str(label), str(value)) for label, value in item["headline"]),
                statuses=tuple((str(label), str(status)) for label, status in item["statuses"]),
                made_on=str(item["run_date"]),
            )
        except (TypeError, KeyError, ValueError):
            continue
        if entry.html:
            found.append(Kept(entry, str(item["run_date"])))
    return found


def _summary(data: object, run_date: str) -> Kept | None:
    """Return the summary a run record holds, as a Kept without figures; None when there is none."""
    if not isinstance(data, dict) or not _link(data.get("html")):
        return None
    date = str(data.get("run_date") or run_date)
    entry = IndexEntry(SUMMARY, "", _link(data.get("html")), _link(data.get("pdf")), (), (), made_on=date)
    return Kept(entry, date)


def _link(value: object) -> str | None:
    """Return a recorded link if it is a plain file name in the run's folder, else None."""
    if not isinstance(value, str) or not value or Path(value).name != value or value in (".", ".."):
        return None
    return value


def _links(entry: IndexEntry) -> list[str]:
    return [link for link in (entry.html, entry.pdf) if link]


def _on_disk(entry: IndexEntry, output: Path) -> bool:
    """Return whether every file ``entry`` links is in ``output``."""
    return bool(entry.html) and all((output / link).is_file() for link in _links(entry))


def _files(output: Path, names: Iterable[object]) -> list[Path]:
    """Return the files of ``names`` (links a run record holds) that are in ``output``."""
    return [output / name for name in names if _link(name) and (output / name).is_file()]


def _made(reports: object) -> list[str]:
    """Return the names of the provider reports an older run record lists as made."""
    return [
        str(report["name"])
        for report in (reports if isinstance(reports, list) else [])
        if isinstance(report, dict) and report.get("name") not in (None, SUMMARY) and not report.get("error")
    ]

"""Run a quarterly audit from its parameter file: classify once, then every report in parallel.

:func:`run_audit` is what ``rfd-audit run PARAMS.yaml`` calls. It takes the output folder for
itself (:mod:`rfd_lib.pipeline.output_folder`: refused if it is not this run's, locked against a second run),
reads and classifies the extracts once, works out the audit
(:func:`rfd_lib.metrics.audit.audit_metrics`) and saves it with its provenance; then worker
processes (:mod:`rfd_lib.pipeline.workers`) execute the summary notebook and one provider notebook per
provider with papermill, render each to HTML and print it to PDF. A report that fails does not
stop the others: it is listed at the end with the executed notebook that shows the error. Last
comes ``index.html``, linking every report.

Layout of a run's output folder (``reports/<name>/`` by default)::

    index.html                    start here: every report with its headline figures
    summary.html, summary.pdf     all providers compared
    <provider>.html, .pdf         one per provider (a code that is not plain letters and digits
                                  gets a safe name: see rfd_lib.pipeline.output_folder.report_stem)
    tables/                       every figure the reports show, as tidy CSV files and tables.xlsx
                                  (rfd_lib.report.table_files; INTERNAL-*.csv in internal mode)
    internal/                     NOT for circulation: classified spells, quarantine, findings,
                                  the saved audit, executed notebooks, run.json, and
                                  case_lists/ (patient-level case lists for local review:
                                  rfd_lib.report.case_lists), written in every mode

Every file meant to be read is written whole or not at all (a temporary file renamed into place).
From the moment the inputs are accepted, ``internal/run.json`` and ``index.html`` say the run has
not finished; they are replaced when it ends, with what was made. Interrupted (Ctrl-C, SIGTERM),
the run stops its workers, marks the reports it did not make and raises :class:`RunInterrupted`;
killed outright, it leaves the "not finished" index, and its workers stop by themselves. The files
the workers read (the saved audit, the kernel specification) are private to the run.
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
import shutil
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from rfd_lib import config
from rfd_lib.atomic import write_atomically
from rfd_lib.engine.rule import Rule, load_rule
from rfd_lib.errors import RunInterrupted
from rfd_lib.extracts.populations import check_populations, read_populations
from rfd_lib.metrics.activity import label_activity
from rfd_lib.metrics.audit import AuditMetrics, audit_metrics
from rfd_lib.metrics.case_lists import case_lists
from rfd_lib.metrics.code_lists import CodeLists, load_code_lists
from rfd_lib.metrics.disclosure import CIRCULATION, INTERNAL
from rfd_lib.metrics.expectations import Expectations, load_expectations
from rfd_lib.metrics.extent import SpellExtent
from rfd_lib.pipeline.output_folder import (
    RUN_RECORD,
    hold_output_folder,
    remove_leftovers,
    report_stems,
)
from rfd_lib.pipeline.params import ParamsError, RunParams, fold_code, load_params, resolve_paths
from rfd_lib.pipeline.partial import (
    Basis,
    Merge,
    index_record,
    kept_summary_record,
    plan_merge,
    planned_files,
    still_on_disk,
    summary_record,
)
from rfd_lib.pipeline.provenance import Provenance, collect_provenance, providers_by_file
from rfd_lib.pipeline.run_extracts import (
    database_source,
    files_read,
    read_run_extracts,
    reconciliation_line,
    run_inputs,
    unread_sources,
)
from rfd_lib.pipeline.streaming import write_streamed
from rfd_lib.pipeline.workers import ReportTask, make_reports
from rfd_lib.report.case_lists import FOLDER as CASE_LISTS
from rfd_lib.report.case_lists import write_case_lists
from rfd_lib.report.index import report_entries, run_subtitle, run_title, write_index, write_run_index
from rfd_lib.report.outcome import SUMMARY, Report
from rfd_lib.report.pages import provider_title
from rfd_lib.report.pdf import find_chromium
from rfd_lib.report.render import ReportContext
from rfd_lib.report.saved_audit import AuditRun, long_date, provider_names, save_run
from rfd_lib.report.table_files import table_files
from rfd_lib.wording import say, wording
from rfd_lib.yaml_model import listed

PROVIDER_NOTEBOOK = "provider_audit.ipynb"
TABLES = "tables"  # the folder of table files in the run's output folder
SUMMARY_NOTEBOOK = "summary.ipynb"


@dataclass(frozen=True)
class RunResult:
    """What :func:`run_audit` produced: the index, each report, and what went wrong."""

    output: Path
    index: Path
    reports: tuple[Report, ...]
    notes: tuple[str, ...] = ()
    seconds: dict[str, float] = field(default_factory=dict)
    reconciliation: str = ""  # rows read = accepted + quarantined, for the analyst (not the index)
    interrupted: bool = False
    # Per extract file: its column profile and rows read = accepted + quarantined (counts only).
    extracts: tuple[str, ...] = ()
    tables: tuple[Path, ...] = ()  # the table files for analysts (tables/), the workbook last
    # Patient-level case lists for local review (internal/case_lists/): NOT for circulation.
    case_lists: tuple[Path, ...] = ()
    # A partial run: the providers whose earlier reports (same inputs) it kept, whether it kept the
    # earlier summary, and a line per earlier report it removed (other inputs) saying why.
    kept: tuple[str, ...] = ()
    summary_kept: bool = False
    dropped: tuple[str, ...] = ()

    @property
    def failures(self) -> tuple[Report, ...]:
        """Return the reports that were not made."""
        return tuple(report for report in self.reports if report.error)

    @property
    def pdf_failures(self) -> tuple[Report, ...]:
        """Return the reports made as HTML whose PDF could not be printed."""
        return tuple(report for report in self.reports if report.pdf_error)


def run_audit(
    params: RunParams | str | os.PathLike[str],
    *,
    jobs: int | None = None,
    providers: Sequence[str] | None = None,
    formats: Sequence[str] | None = None,
    progress: bool = True,
    notebooks: str | os.PathLike[str] | None = None,
) -> RunResult:
    """Run the audit ``params`` describes (a :class:`RunParams` or a parameter file) and return the result.

    ``jobs``, ``providers`` and ``formats`` override the parameter file; ``notebooks`` is the folder
    of the two report notebooks (default: the repository's ``notebooks/``). Raises
    :class:`~rfd_lib.pipeline.params.ParamsError`, :class:`~rfd_lib.pipeline.output_folder.RunFolderError` (or
    another one-line error of rfd_lib) before any report is written when the inputs or the output
    folder cannot be used, and :class:`RunInterrupted` after writing the index when Ctrl-C or
    SIGTERM stopped the run; a failed report does not raise: see :attr:`RunResult.failures`.
    """
    started = time.perf_counter()
    params = resolve_paths(params) if isinstance(params, RunParams) else load_params(params)
    with hold_output_folder(params.output_dir, params.name) as output, _stop_on_sigterm():
        result = _run(
            params,
            output,
            jobs=jobs or params.jobs,
            providers=providers,
            formats=list(formats or params.formats),
            progress=progress,
            notebooks=Path(notebooks or config.NOTEBOOKS_DIR),
            started=started,
        )
    if result.interrupted:
        made = len(result.reports) - len(result.failures)
        raise RunInterrupted(
            f"interrupted: {made} of {len(result.reports)} reports made; {result.index} marks the rest",
            hint="run the same command again to make them all",
        )
    return result


@contextmanager
def _stop_on_sigterm() -> Iterator[None]:
    """Treat SIGTERM as Ctrl-C while the run lasts, so both stop it the same clean way."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run(
    params: RunParams,
    output: Path,
    *,
    jobs: int,
    providers: Sequence[str] | None,
    formats: list[str],
    progress: bool,
    notebooks: Path,
    started: float,
) -> RunResult:
    """Run the audit into ``output`` (held by this run) and return the result."""
    internal = output / "internal"
    notes: list[str] = []
    inputs = run_inputs(params, internal)
    rule = load_rule(params.rule)
    expectations_file, code_lists_file = _reference_files(params)
    expectations = load_expectations(expectations_file, rule=rule)
    code_lists = load_code_lists(code_lists_file)
    wording()  # a broken wording file stops the run here, before the extracts are read
    extract, read_notes = read_run_extracts(params, inputs.sources, internal, rule, code_lists, expectations)
    notes += read_notes
    # Checked on the spells read, before anything is written.
    chosen = _providers(params, extract.extent.providers, providers)
    stems = report_stems(chosen)
    quarter = _quarter(params, extract.extent, expectations.period_date)
    population_file = Path(params.populations) if params.populations else inputs.populations
    populations = read_populations(population_file) if population_file else None
    if populations is not None:
        unlisted = check_populations(populations, extract.extent.providers, population_file)
        if unlisted:
            notes.append(
                f"{Path(population_file).name} gives no population for {listed(unlisted)}: no rate or "
                "funnel position is shown for them."
            )

    # Hashed before anything is removed: what the earlier run read decides which of its reports stay.
    provenance = collect_provenance(
        rule_file=rule.path,
        inputs=[
            *inputs.files,
            *filter(None, [population_file, expectations_file, code_lists_file, config.WORDING]),
        ],
        params_file=params.source,
        database=database_source(params),
        holds=providers_by_file(extract.extent.providers_by_source(), inputs.files),
    )
    run_providers = [fold_code(code) for code in params.providers] or extract.extent.providers
    basis = Basis.of(
        quarter,
        params.disclosure,
        provenance,
        # A Spark source, as a database, may change under the same name: no earlier report is kept.
        database=params.extracts.database is not None or params.extracts.spark is not None,
        marking=params.protective_marking,
    )
    merge = plan_merge(output, basis, chosen, run_providers)
    work = _begin(params, output, internal, quarter, merge, basis, [*stems.values(), SUMMARY], formats)
    try:
        classified = extract.spells
        written = write_streamed(extract, internal / "classified_spells.parquet")
        audit = audit_metrics(
            classified,
            extent=extract.extent,
            quarter=quarter,
            populations=populations,
            expectations=expectations,
            code_lists=code_lists,
            rule=rule,
            policy=INTERNAL if params.disclosure == "internal" else CIRCULATION,
        )
        classified_seconds = time.perf_counter() - started
        run = AuditRun(
            audit=audit,
            name=params.name,
            provider_names=provider_names(populations),
            provenance=provenance.rows(),
            run_date=long_date(date.today()),
            spells_file=str(written.spells.resolve()),
            rule=str(rule.path),
            marking=params.protective_marking,
        )
        # The workers read a copy private to this run; internal/audit_run.pkl is for analysts.
        saved = save_run(run, work / "audit_run.pkl")
        save_run(run, internal / "audit_run.pkl")
        tables = table_files(audit, run.provider_names, output / TABLES)
        cases = _case_lists(classified, rule, code_lists, expectations, audit, internal, extract.extent)
        notes += unread_sources(extract)

        chromium = None
        if "pdf" in formats:
            chromium = find_chromium(params.chromium)
            if chromium is None:
                notes.append(
                    "No Chromium, Chrome or Edge was found, so the reports are HTML only. Install one "
                    "(Debian: apt-get install chromium) or set `chromium:` in the parameter file."
                )
        tasks = _tasks(run, stems, saved, output, internal, work, notebooks, formats, chromium, provenance)
        if merge.summary is not None:
            tasks = tasks[1:]  # the earlier summary of the same inputs is kept: it covers every provider
        reports, interrupted = make_reports(tasks, jobs, progress, output)
    finally:
        shutil.rmtree(work.parent, ignore_errors=True)  # no other run writes here: the folder is held
    merge = still_on_disk(merge, output)  # an index never links a report that is not in the folder
    partial, summary_note = _partial_words(params, run, reports, merge, chosen, run_providers)
    index = write_run_index(
        run,
        reports,
        output,
        notes,
        interrupted,
        tables=tables,
        kept=[kept.entry for kept in merge.kept],
        summary_kept=merge.summary.entry if merge.summary else None,
        partial=partial,
        summary_note=summary_note,
        dropped=merge.dropped,
    )
    seconds = {"classify_and_audit": round(classified_seconds, 2)}
    seconds["total"] = round(time.perf_counter() - started, 2)
    result = RunResult(
        output,
        index,
        tuple(reports),
        tuple(notes),
        seconds,
        reconciliation_line(extract, written),
        interrupted,
        extracts=files_read(extract, given=params.extracts.profile is not None),
        tables=tuple(tables),
        case_lists=tuple(cases),
        kept=merge.kept_codes,
        summary_kept=merge.summary is not None,
        dropped=merge.dropped,
    )
    summary = next((report for report in reports if report.name == SUMMARY), None)
    links = (
        summary_record(_relative(summary.html, output), _relative(summary.pdf, output), run.run_date)
        if summary is not None and not summary.error
        else kept_summary_record(merge)
    )
    state = {
        "basis": basis.record(),
        "run_date": run.run_date,
        "index": index_record(report_entries(run, reports, output), run.run_date, merge.kept),
        "summary": links or None,
    }
    _write_run_record(params, internal, "interrupted" if interrupted else "finished", result, state)
    return result


def _begin(
    params: RunParams,
    output: Path,
    internal: Path,
    quarter: str,
    merge: Merge,
    basis: Basis,
    stems: list[str],
    formats: list[str],
) -> Path:
    """Clear the earlier run's reports but those ``merge`` keeps, record this run as not finished.

    Returns the run's private folder (under ``internal/work/``).

    From here on, ``internal/run.json`` and ``index.html`` say the run has not finished, so a
    run killed outright is never mistaken for a complete one. The record already holds the
    run's basis, the reports it keeps and the files it may write, so the next run, even after
    this one is killed, keeps what is still valid and removes the rest.
    """
    remove_leftovers(output, merge.remove)  # every earlier report file but those kept
    shutil.rmtree(output / TABLES, ignore_errors=True)  # the earlier run's: this folder is held as ours
    for folder in ("work", CASE_LISTS):
        shutil.rmtree(internal / folder, ignore_errors=True)
    # The executed notebooks of the reports kept stay with them; the rest are the earlier run's.
    for executed in (internal / "notebooks").glob("*.ipynb"):
        if executed.stem not in merge.earlier_notebooks:
            executed.unlink(missing_ok=True)
    work = internal / "work" / f"{os.getpid()}-{secrets.token_hex(4)}"
    work.mkdir(parents=True)
    started = datetime.now().strftime("%H:%M on %d %B %Y")
    state = {
        "basis": basis.record(),
        "run_date": long_date(date.today()),
        "index": index_record([], "", merge.kept),
        "summary": kept_summary_record(merge),
        "planned": planned_files(stems, formats),
    }
    _write_run_record(params, internal, "running", state=state)
    write_index(
        output / "index.html",
        title=run_title(quarter, params.name),
        subtitle=run_subtitle(quarter),
        run_date=long_date(date.today()),
        summary_html=None,
        summary_pdf=None,
        entries=[],
        marking=params.protective_marking,
        notes=[
            f"This run started at {started} and had not finished when this page was written. If no "
            "rfd-audit run is still writing to this folder, it was interrupted: run it again."
        ],
    )
    return work


def _case_lists(
    classified: pd.DataFrame,
    rule: Rule,
    code_lists: CodeLists,
    expectations: Expectations,
    audit: AuditMetrics,
    internal: Path,
    extent: SpellExtent,
) -> list[Path]:
    """Write the case lists of every provider audited under ``internal/case_lists/``; return the files.

    They select from the same labelled activity the checks count (patient level, so never kept
    in the saved audit), over the checks and quarters the audit publishes.
    """
    activity = label_activity(classified, rule, code_lists, expectations, data_start=extent.first_admission)
    lists = case_lists(activity, classified, audit.checks, expectations)
    return write_case_lists(lists, internal / CASE_LISTS, report_stems(audit.providers))


def _reference_files(params: RunParams) -> tuple[Path, Path]:
    """Return the expectations and code-list files the run uses (the packaged ones by default)."""
    return (
        Path(params.expectations) if params.expectations else config.EXPECTATIONS,
        Path(params.code_lists) if params.code_lists else config.CODE_LISTS,
    )


def _providers(params: RunParams, present: list[str], override: Sequence[str] | None) -> list[str]:
    """Return the providers to report on, of ``present`` (those in the extracts).

    Raises ParamsError for one given twice or not in the data.
    """
    # Codes are compared as the extracts' codes were read (blanks trimmed, upper case).
    wanted = [fold_code(code) for code in override or params.providers] or present
    twice = sorted(code for code, times in Counter(wanted).items() if times > 1)
    if twice:
        raise ParamsError(f"{params.source}: providers: {listed(twice)} given more than once")
    unknown = sorted(set(wanted) - set(present))
    if unknown:
        raise ParamsError(
            f"{params.source}: providers: {listed(unknown)} not in the extracts",
            hint=f"the extracts have {listed(present)}",
        )
    return wanted


def _quarter(params: RunParams, extent: SpellExtent, period_date: str) -> str:
    """Return the quarter audited (of ``period_date``); ParamsError when the data does not cover it."""
    try:
        covered = extent.quarters(period_date)
    except ValueError as error:
        raise ParamsError(f"{params.source}: {error}: nothing to audit") from None
    if params.quarter is None:
        return covered[-1]
    if params.quarter not in covered:
        raise ParamsError(
            f"{params.source}: quarter: {params.quarter} is not in the extracts, "
            f"which cover {covered[0]} to {covered[-1]}"
        )
    return params.quarter


def _tasks(
    run: AuditRun,
    stems: dict[str, str],
    saved: Path,
    output: Path,
    internal: Path,
    work: Path,
    notebooks: Path,
    formats: list[str],
    chromium: Path | None,
    provenance: Provenance,
) -> list[ReportTask]:
    """Return the summary's task first (it is the slowest), then one per provider in ``stems``.

    The summary's provenance lists every input; a provider's, its own (Provenance.rows).
    """
    from rfd_lib.report.notebook_runner import kernel_folder

    kernels = kernel_folder(work / "jupyter")
    audit = run.audit
    subtitle = run_subtitle(audit.quarter)
    common = dict(run_date=run.run_date, banner=audit.policy.banner, marking=run.marking)

    def task(name: str, stem: str, notebook: str, parameters: dict[str, str], title: str) -> ReportTask:
        rows = provenance.rows(parameters.get("provider"))
        return ReportTask(
            name=name,
            notebook=notebooks / notebook,
            parameters={"audit_file": str(saved.resolve()), **parameters},
            executed=internal / "notebooks" / f"{stem}.ipynb",
            html=output / f"{stem}.html" if "html" in formats or "pdf" in formats else None,
            pdf=output / f"{stem}.pdf" if "pdf" in formats and chromium else None,
            context=ReportContext(title=title, subtitle=subtitle, provenance=rows, **common),
            chromium=chromium,
            kernels=kernels,
        )

    tasks = [task(SUMMARY, SUMMARY, SUMMARY_NOTEBOOK, {}, "RFD audit: all providers")]
    for code, stem in stems.items():
        tasks.append(task(code, stem, PROVIDER_NOTEBOOK, {"provider": code}, provider_title(run, code)))
    return tasks


def _partial_words(
    params: RunParams,
    run: AuditRun,
    reports: list[Report],
    merge: Merge,
    chosen: Sequence[str],
    run_providers: Sequence[str],
) -> tuple[str | None, str | None]:
    """Return the index's partial-run banner (None when every provider of the run is on it) and summary note.

    The summary note (None for a run of every provider that kept nothing) says whether the
    summary report, which covers every provider, is this run's or kept from an earlier run.
    """
    shown = sorted(set(chosen) | set(merge.kept_codes))
    missing = [code for code in run_providers if code not in shown]
    banner = None
    if missing:
        command = f"rfd-audit run {params.source.name if params.source else '<parameter file>'}"
        if len(missing) <= 10:  # fewer: the command names them; more: it makes every report
            command += " --providers " + " ".join(shlex.quote(code) for code in missing)
        banner = say(
            "run_index.partial.banner",
            shown=len(set(shown) & set(run_providers)),
            total=len(run_providers),
            providers=listed(shown),
            missing=listed(missing),
            command=command,
        )
    if set(run_providers) <= set(chosen) and not merge.kept:
        return banner, None
    count = len(run.audit.providers)
    if merge.summary is not None:
        return banner, say("run_index.partial.summary_kept", date=merge.summary.run_date, count=count)
    made = any(report.name == SUMMARY and not report.error for report in reports)
    return banner, say("run_index.partial.summary_made", count=count) if made else None


def _relative(path: Path | None, output: Path) -> str | None:
    """Return a report file's name in the run's folder, as the run record keeps it."""
    return None if path is None else path.relative_to(output).as_posix()


def _write_run_record(
    params: RunParams,
    internal: Path,
    status: str,
    result: RunResult | None = None,
    state: dict[str, object] | None = None,
) -> None:
    """Write ``internal/run.json``: status, parameters (no secret), timings and each report (no data).

    ``state`` adds what a later partial run needs (:mod:`rfd_lib.pipeline.partial`): the run's
    basis, the index line of every report on its index, its summary and, while it runs, the
    files it may write.
    """
    record: dict[str, object] = {
        "status": status,
        "params": params.for_record(),
        "params_file": str(params.source),
        "written": datetime.now().isoformat(timespec="seconds"),
        **(state or {}),
    }
    if result is not None:
        record["seconds"] = result.seconds
        record["reports"] = [
            {key: (str(value) if isinstance(value, Path) else value) for key, value in asdict(report).items()}
            for report in result.reports
        ]
        record["notes"] = list(result.notes)
        record["tables"] = [str(path) for path in result.tables]
        record["case_lists"] = [str(path) for path in result.case_lists]
    write_atomically(internal.parent / RUN_RECORD, json.dumps(record, indent=1))

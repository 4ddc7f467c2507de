"""Run a quarterly audit from its parameter file: classify once, then every report in parallel.

:func:`run_audit` is what ``rfd-audit run PARAMS.yaml`` calls. It reads and classifies the
extracts once, works out the audit (:func:`rfd_lib.audit_metrics.audit_metrics`) and saves it
with its provenance in the run's ``internal/`` folder; then worker processes execute the summary
notebook and one provider notebook per provider with papermill, render each to HTML and print
it to PDF. A report that fails does not stop the others: it is listed at the end with the
executed notebook that shows the error. Last comes ``index.html``, linking every report.

Layout of a run's output folder (``reports/<name>/`` by default)::

    index.html                    start here: every report with its headline figures
    summary.html, summary.pdf     all providers compared
    <provider>.html, .pdf         one per provider
    internal/                     NOT for circulation: classified spells, quarantine, findings,
                                  the saved audit, executed notebooks, run.json

Every file meant to be read is written whole or not at all (a temporary file renamed into place),
so a killed run leaves the last complete report, never half of one.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from rfd_lib import config
from rfd_lib.atomic import write_atomically
from rfd_lib.audit_metrics import AuditMetrics, audit_metrics
from rfd_lib.code_lists import load_code_lists
from rfd_lib.disclosure import CIRCULATION, INTERNAL
from rfd_lib.expectations import Expectations, load_expectations
from rfd_lib.extract import load_extracts
from rfd_lib.index_page import IndexEntry, write_index
from rfd_lib.outputs import write_classified
from rfd_lib.pdf import find_chromium, print_pdf
from rfd_lib.provenance import collect_provenance
from rfd_lib.rates import read_populations
from rfd_lib.render import ReportContext, render_html
from rfd_lib.report_pages import ProviderPage
from rfd_lib.report_run import GUIDANCE, AuditRun, long_date, provider_names, save_run
from rfd_lib.report_tables import counts, decimal
from rfd_lib.rule import load_rule
from rfd_lib.run_params import ParamsError, RunParams, load_params
from rfd_lib.sources import expand_sources
from rfd_lib.volumes import audit_quarters

PROVIDER_NOTEBOOK = "provider_audit.ipynb"
SUMMARY_NOTEBOOK = "summary.ipynb"


@dataclass(frozen=True)
class Report:
    """One report of a run: where its files are, how long it took, and the error if it failed."""

    name: str  # provider code, or "summary"
    executed: Path
    html: Path | None = None
    pdf: Path | None = None
    seconds: float = 0.0
    error: str | None = None


@dataclass(frozen=True)
class RunResult:
    """What :func:`run_audit` produced: the index, each report, and what went wrong."""

    output: Path
    index: Path
    reports: tuple[Report, ...]
    notes: tuple[str, ...] = ()
    seconds: dict[str, float] = field(default_factory=dict)
    reconciliation: str = ""  # rows read = accepted + quarantined, for the analyst (not the index)

    @property
    def failures(self) -> tuple[Report, ...]:
        """Return the reports that failed."""
        return tuple(report for report in self.reports if report.error)


@dataclass(frozen=True)
class _Task:
    name: str
    notebook: Path
    parameters: dict[str, str]
    executed: Path
    html: Path | None
    pdf: Path | None
    context: ReportContext
    chromium: Path | None
    kernels: Path


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
    :class:`~rfd_lib.run_params.ParamsError` (or another one-line error of rfd_lib) before any
    report is written when the inputs cannot be used; a failed report does not raise: see
    :attr:`RunResult.failures`.
    """
    started = time.perf_counter()
    if not isinstance(params, RunParams):
        params = load_params(params)
    jobs = jobs or params.jobs
    formats = list(formats or params.formats)
    output, internal = params.output_dir, params.output_dir / "internal"
    internal.mkdir(parents=True, exist_ok=True)
    notes: list[str] = []

    inputs = _extract_sources(params, internal)
    rule = load_rule(params.path(params.rule) if params.rule.endswith(".sql") else params.rule)
    expectations = load_expectations(*_given(params, "expectations"), rule=rule)
    code_lists = load_code_lists(*_given(params, "code_lists"))
    extract = load_extracts(
        inputs.sources,
        params.extracts.profile,
        delimiter=params.extracts.delimiter,
        encoding=params.extracts.encoding,
        sheet=params.extracts.sheet,
        query=_query(params),
    )
    # Checked on the spells read, before anything is written.
    chosen = _providers(params, extract.spells, providers)
    quarter = _quarter(params, extract.spells)
    population_file = params.path(params.populations) if params.populations else inputs.populations
    populations = read_populations(population_file) if population_file else None
    written = write_classified(extract, internal / "classified_spells.parquet", rule.path)
    classified = written.classified
    audit = audit_metrics(
        classified,
        quarter=quarter,
        populations=populations,
        expectations=expectations,
        code_lists=code_lists,
        rule=rule.path,
        policy=INTERNAL if params.disclosure == "internal" else CIRCULATION,
    )
    classified_seconds = time.perf_counter() - started
    provenance = collect_provenance(
        rule_file=rule.path,
        inputs=[*inputs.files, *filter(None, [population_file, *_reference_files(params)])],
        params_file=params.source,
        database=_database(params),
    )
    run = AuditRun(
        audit=audit,
        name=params.name,
        provider_names=provider_names(populations),
        provenance=provenance.rows(),
        run_date=long_date(date.today()),
        repeat_within_months=expectations.repeat_within_months,
    )
    saved = save_run(run, internal / "audit_run.pkl")

    chromium = None
    if "pdf" in formats:
        chromium = find_chromium(params.path(params.chromium) if params.chromium else None)
        if chromium is None:
            notes.append(
                "No Chromium, Chrome or Edge was found, so the reports are HTML only. Install one "
                "(Debian: apt-get install chromium) or set `chromium:` in the parameter file."
            )
    tasks = _tasks(
        run, chosen, saved, output, internal, Path(notebooks or config.NOTEBOOKS_DIR), formats, chromium
    )
    reports = _execute_all(tasks, jobs, progress)
    index = _write_index(run, reports, output, expectations, notes)
    seconds = {"classify_and_audit": round(classified_seconds, 2)}
    seconds["total"] = round(time.perf_counter() - started, 2)
    totals = extract.reconciliation[["rows_read", "rows_accepted", "rows_quarantined"]].sum()
    reconciliation = (
        f"{totals['rows_read']:,} rows read = {totals['rows_accepted']:,} accepted + "
        f"{totals['rows_quarantined']:,} quarantined"
        + (f" (reasons in {written.quarantine})" if written.quarantine is not None else "")
    )
    result = RunResult(output, index, tuple(reports), tuple(notes), seconds, reconciliation)
    _write_run_record(result, params, internal)
    return result


@dataclass(frozen=True)
class _Inputs:
    sources: list[str | Path]
    files: list[Path]
    populations: Path | None


def _extract_sources(params: RunParams, internal: Path) -> _Inputs:
    """Return the extracts to read (writing the synthetic set first when asked) and their files."""
    if params.extracts.synthetic:
        from rfd_lib.synthetic import write_extracts

        made = write_extracts(internal / "synthetic-extracts")
        return _Inputs(list(made.extracts), list(made.extracts), made.populations)
    if params.extracts.database:
        return _Inputs([params.extracts.database.url], [], None)
    paths = [params.path(file) for file in params.extracts.files]
    # The files the reader will read, folders expanded as it expands them: these are hashed.
    return _Inputs(list(paths), [Path(file) for file in expand_sources(paths)], None)


def _given(params: RunParams, *keys: str) -> list[Path]:
    return [params.path(getattr(params, key)) for key in keys if getattr(params, key)]


def _reference_files(params: RunParams) -> list[Path]:
    """Return the expectations and code-list files the run uses (the packaged ones by default)."""
    return [
        params.path(params.expectations) if params.expectations else config.EXPECTATIONS,
        params.path(params.code_lists) if params.code_lists else config.CODE_LISTS,
    ]


def _query(params: RunParams) -> str | None:
    database = params.extracts.database
    if database is None:
        return None
    query = database.query.strip()
    return str(params.path(query)) if query.endswith(".sql") else query


def _database(params: RunParams) -> tuple[str, str] | None:
    database = params.extracts.database
    if database is None:
        return None
    query = _query(params) or ""
    text = Path(query).read_text(encoding="utf-8") if query.endswith(".sql") else query
    return database.url, text


def _providers(params: RunParams, spells: pd.DataFrame, override: Sequence[str] | None) -> list[str]:
    """Return the providers to report on; ParamsError naming any the data does not have."""
    present = sorted(spells["provider_code"].dropna().unique())
    wanted = list(override or params.providers) or present
    unknown = [code for code in wanted if code not in present]
    if unknown:
        raise ParamsError(
            f"{params.source}: providers: {', '.join(unknown)} not in the extracts",
            hint=f"the extracts have {', '.join(present)}",
        )
    return wanted


def _quarter(params: RunParams, spells: pd.DataFrame) -> str:
    """Return the quarter audited; ParamsError when the data does not cover it."""
    try:
        covered = audit_quarters(spells)
    except ValueError:
        raise ParamsError(f"{params.source}: the extracts have no dated spells to audit") from None
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
    providers: list[str],
    saved: Path,
    output: Path,
    internal: Path,
    notebooks: Path,
    formats: list[str],
    chromium: Path | None,
) -> list[_Task]:
    """Return the summary's task first (it is the slowest), then one per provider."""
    from rfd_lib.notebook_runner import kernel_folder

    kernels = kernel_folder(internal / "jupyter")
    audit = run.audit
    subtitle = f"Financial quarter {audit.quarter} · {GUIDANCE}"
    common = dict(run_date=run.run_date, banner=audit.policy.banner, provenance=run.provenance)

    def task(name: str, notebook: str, parameters: dict[str, str], title: str) -> _Task:
        return _Task(
            name=name,
            notebook=notebooks / notebook,
            parameters={"audit_file": str(saved.resolve()), **parameters},
            executed=internal / "notebooks" / f"{name}.ipynb",
            html=output / f"{name}.html" if "html" in formats or "pdf" in formats else None,
            pdf=output / f"{name}.pdf" if "pdf" in formats and chromium else None,
            context=ReportContext(title=title, subtitle=subtitle, **common),
            chromium=chromium,
            kernels=kernels,
        )

    tasks = [task("summary", SUMMARY_NOTEBOOK, {}, "RFD audit: all providers")]
    for code in providers:
        title = ProviderPage(run, code).title
        tasks.append(task(code, PROVIDER_NOTEBOOK, {"provider": code}, title))
    return tasks


def _quiet_worker(logs: str) -> None:
    """Send a worker's stderr (and so its kernels' and Chromium's chatter) to a log in ``logs``."""
    Path(logs).mkdir(parents=True, exist_ok=True)
    log = open(Path(logs) / f"worker-{os.getpid()}.log", "ab")  # noqa: SIM115 - lives as long as the worker
    os.dup2(log.fileno(), 2)


def _execute_all(tasks: list[_Task], jobs: int, progress: bool) -> list[Report]:
    """Run every task in ``jobs`` worker processes and return their reports in task order."""
    done: dict[str, Report] = {}
    bar = tqdm(total=len(tasks), desc="reports", unit="report", disable=not progress)
    # spawn: the same on Windows laptops as on Linux, and no forked copy of pyarrow's threads.
    context = multiprocessing.get_context("spawn")
    logs = str(tasks[0].executed.parent.parent / "logs")
    workers = min(jobs, len(tasks))
    options = dict(mp_context=context, initializer=_quiet_worker, initargs=(logs,))
    with ProcessPoolExecutor(workers, **options) as pool:
        futures = {pool.submit(_one_report, task): task for task in tasks}
        for future in as_completed(futures):
            task = futures[future]
            try:
                done[task.name] = future.result()
            except Exception as error:  # a worker that died: record it, keep going
                done[task.name] = Report(task.name, task.executed, error=f"{type(error).__name__}: {error}")
            bar.set_postfix_str(task.name)
            bar.update()
    bar.close()
    return [done[task.name] for task in tasks]


def _one_report(task: _Task) -> Report:
    """Execute, render and print one report (in a worker process); failures come back as text."""
    from papermill.exceptions import PapermillExecutionError

    from rfd_lib.errors import RfdAuditError
    from rfd_lib.notebook_runner import execute

    started = time.perf_counter()
    try:
        execute(task.notebook, task.executed, task.parameters, kernels=task.kernels, reuse_kernel=True)
        html = render_html(task.executed, task.html, task.context) if task.html else None
        pdf = print_pdf(html, task.pdf, task.chromium) if task.pdf and html else None
    except PapermillExecutionError as error:
        reason = f"{error.ename}: {str(error.evalue).splitlines()[0] if error.evalue else ''}"
        return Report(task.name, task.executed, seconds=time.perf_counter() - started, error=reason)
    except RfdAuditError as error:
        return Report(task.name, task.executed, seconds=time.perf_counter() - started, error=str(error))
    return Report(task.name, task.executed, html, pdf, time.perf_counter() - started)


def _write_index(
    run: AuditRun, reports: list[Report], output: Path, expectations: Expectations, notes: list[str]
) -> Path:
    """Write ``index.html`` with each provider's headline figures and statuses; return its path."""
    audit = run.audit
    by_name = {report.name: report for report in reports}
    summary = by_name["summary"]
    entries = [
        _entry(run, code, report, output, expectations)
        for code, report in by_name.items()
        if code != "summary"
    ]
    failed_notes = [
        f"{report.name}: {report.error} (see {_link(report.executed, output)})"
        for report in reports
        if report.error
    ]
    return write_index(
        output / "index.html",
        title=f"RFD audit {audit.quarter}: {run.name}",
        subtitle=f"Financial quarter {audit.quarter} · {GUIDANCE}",
        run_date=run.run_date,
        summary_html=_link(summary.html, output),
        summary_pdf=_link(summary.pdf, output),
        entries=entries,
        banner=audit.policy.banner,
        notes=[*notes, *audit.notes, *failed_notes],
        footnote=audit.policy.footnote,
    )


def _entry(run: AuditRun, code: str, report: Report, output: Path, expectations: Expectations) -> IndexEntry:
    audit: AuditMetrics = run.audit
    page = ProviderPage(run, code)
    volume = audit.volumes[
        (audit.volumes["provider_code"] == code) & (audit.volumes["quarter"] == audit.quarter)
    ]
    rate = audit.rates[(audit.rates["provider_code"] == code) & (audit.rates["quarter"] == audit.quarter)]
    checks = audit.checks[
        (audit.checks["provider_code"] == code) & (audit.checks["quarter"] == audit.quarter)
    ]
    labels = {f"restriction: {name}": r.label for name, r in expectations.restrictions.items()}
    statuses = tuple(
        (labels.get(check, check.replace("_", " ")), status if status else "not assessable")
        for check, status in zip(checks["check"], checks["status"].fillna("not assessable"), strict=True)
    )
    return IndexEntry(
        provider_code=code,
        provider_name=run.provider_name(code),
        html=_link(report.html, output),
        pdf=_link(report.pdf, output),
        headline=(
            ("counted RFDs", counts(volume["counted"], volume["counted_suppressed"]).iat[0]),
            ("rate per 100,000", decimal(rate["rate"]).iat[0]),
            ("funnel", page.funnel_position()),
        ),
        statuses=statuses,
        failed=f"{report.error} (executed notebook: {_link(report.executed, output)})"
        if report.error
        else None,
    )


def _link(path: Path | None, output: Path) -> str | None:
    return None if path is None else path.relative_to(output).as_posix()


def _write_run_record(result: RunResult, params: RunParams, internal: Path) -> None:
    """Write ``internal/run.json``: parameters, timings and each report's outcome (no data)."""
    record = {
        "params": params.model_dump(mode="json"),
        "params_file": str(params.source),
        "seconds": result.seconds,
        "reports": [
            {key: (str(value) if isinstance(value, Path) else value) for key, value in asdict(report).items()}
            for report in result.reports
        ],
        "notes": list(result.notes),
    }
    write_atomically(internal / "run.json", json.dumps(record, indent=1))

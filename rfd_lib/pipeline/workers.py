"""The worker processes that make the reports, and how they end with the run, however it ends.

A worker runs notebooks in a Jupyter kernel and prints PDFs with Chromium: both are its child
processes, and a kernel starts in a session of its own, so neither dies by itself when the run
does. Three ends are handled:

* **The run is killed** (``kill -9``, a closed terminal): each worker watches its parent's
  sentinel from a thread and, the moment it fires, kills its own children, deletes its temporary
  ``*.partial`` files and exits. No worker goes on writing reports after its run is gone.
* **Ctrl-C or SIGTERM**: the workers ignore SIGINT (a terminal sends it to every process of the
  run); the main process decides, and :func:`stop_workers` kills each worker's process tree.
* **A worker dies**: the pool reports it on that worker's report; the others go on.

:func:`make_reports` runs a list of :class:`ReportTask` in such workers: each is executed with
papermill, rendered to HTML and printed to PDF, and comes back as a :class:`Report`.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import psutil
from tqdm import tqdm

from rfd_lib.errors import RfdAuditError
from rfd_lib.pipeline.output_folder import remove_leftovers
from rfd_lib.report.analyst import unprotected_cell
from rfd_lib.report.outcome import NOT_MADE, Report
from rfd_lib.report.pdf import PdfError, print_pdf
from rfd_lib.report.render import ReportContext, render_html


@dataclass(frozen=True)
class ReportTask:
    """One report to make: the notebook, its parameters, and where each of its files goes."""

    name: str
    notebook: Path
    parameters: dict[str, str]
    executed: Path
    html: Path | None
    pdf: Path | None
    context: ReportContext
    chromium: Path | None
    kernels: Path


def make_reports(
    tasks: list[ReportTask], jobs: int, progress: bool, output: Path
) -> tuple[list[Report], bool]:
    """Run every task in ``jobs`` worker processes; return their reports in order, and whether interrupted.

    On Ctrl-C or SIGTERM the workers are stopped and the tasks not done come back as not made.
    """
    done: dict[str, Report] = {}
    bar = tqdm(total=len(tasks), desc="reports", unit="report", disable=not progress)
    # spawn: the same on Windows laptops as on Linux, and no forked copy of pyarrow's threads.
    context = multiprocessing.get_context("spawn")
    logs = str(tasks[0].executed.parent.parent / "logs")
    pool = ProcessPoolExecutor(
        min(jobs, len(tasks)), mp_context=context, initializer=start_worker, initargs=(logs, str(output))
    )
    interrupted = False
    try:
        futures = {pool.submit(_one_report, task): task for task in tasks}
        for future in as_completed(futures):
            task = futures[future]
            try:
                done[task.name] = future.result()
            except Exception as error:  # a worker that died: record it, keep going
                done[task.name] = Report(task.name, task.executed, error=f"{type(error).__name__}: {error}")
            bar.set_postfix_str(task.name)
            bar.update()
    except KeyboardInterrupt:
        interrupted = True
        stop_workers(pool)
        remove_leftovers(output)
    finally:
        pool.shutdown(wait=not interrupted, cancel_futures=True)
        bar.close()
    return [
        done.get(task.name) or Report(task.name, task.executed, error=NOT_MADE) for task in tasks
    ], interrupted


def _one_report(task: ReportTask) -> Report:
    """Execute, render and print one report (in a worker process); failures come back as text."""
    from papermill.exceptions import PapermillExecutionError

    from rfd_lib.report.notebook_runner import execute

    started = time.perf_counter()
    try:
        execute(task.notebook, task.executed, task.parameters, kernels=task.kernels, reuse_kernel=True)
        # Also stopped where the cell itself could not fail (a figure shown after the cell ran).
        refused = unprotected_cell(task.executed)
        if refused:
            return Report(task.name, task.executed, seconds=time.perf_counter() - started, error=refused)
        html = render_html(task.executed, task.html, task.context) if task.html else None
    except PapermillExecutionError as error:
        # A cell the disclosure guard stopped is named by its number and first line.
        reason = unprotected_cell(task.executed) or (
            f"{error.ename}: {str(error.evalue).splitlines()[0] if error.evalue else ''}"
        )
        return Report(task.name, task.executed, seconds=time.perf_counter() - started, error=reason)
    except RfdAuditError as error:
        return Report(task.name, task.executed, seconds=time.perf_counter() - started, error=str(error))
    try:
        pdf = print_pdf(html, task.pdf, task.chromium) if task.pdf and html else None
    except (PdfError, RfdAuditError) as error:
        return Report(
            task.name, task.executed, html, seconds=time.perf_counter() - started, pdf_error=str(error)
        )
    return Report(task.name, task.executed, html, pdf, time.perf_counter() - started)


def start_worker(logs: str, output: str) -> None:
    """Prepare a worker process (the pool's initializer): its log, its signals, its parent watch.

    The worker's stderr (and so its kernels' and Chromium's chatter) goes to a log in ``logs``;
    ``output`` is where its temporary files may be left if it has to stop mid-report.
    """
    Path(logs).mkdir(parents=True, exist_ok=True)
    log = open(Path(logs) / f"worker-{os.getpid()}.log", "ab")  # noqa: SIM115 - lives as long as the worker
    os.dup2(log.fileno(), 2)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_end_with, args=(parent.sentinel, output), daemon=True).start()


def _end_with(sentinel: int, output: str) -> None:
    """Wait until the parent process is gone, then end this worker and everything it started."""
    multiprocessing.connection.wait([sentinel])
    kill_tree(os.getpid(), including_root=False)
    for partial in Path(output).glob(f".*.{os.getpid()}.*partial"):
        partial.unlink(missing_ok=True)
    os._exit(1)


def kill_tree(pid: int, *, including_root: bool = True) -> None:
    """Kill process ``pid``'s descendants (kernels, browsers) and, if ``including_root``, ``pid``."""
    try:
        root = psutil.Process(pid)
        doomed = root.children(recursive=True) + ([root] if including_root else [])
    except psutil.NoSuchProcess:
        return
    for process in doomed:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    psutil.wait_procs(doomed, timeout=5)


def stop_workers(pool: ProcessPoolExecutor) -> None:
    """Cancel what ``pool`` has not started and kill every worker with what it started."""
    # The executor offers no public way to stop running workers before Python 3.14; their process
    # ids are all that is needed, and `_processes` has held them since Python 3.2.
    workers = list(getattr(pool, "_processes", {}) or {})
    pool.shutdown(wait=False, cancel_futures=True)
    for pid in workers:
        kill_tree(pid)

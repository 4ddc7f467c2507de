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
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import psutil


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

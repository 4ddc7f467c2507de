"""Execute report notebooks with papermill in a kernel that runs this very interpreter.

Three things are dealt with here. A kernel found by name may be another Python (one installed
with ``--user``, or a conda base): :func:`kernel_folder` writes a kernelspec, :data:`KERNEL_NAME`,
whose ``argv`` is ``sys.executable``, and the runner points ``JUPYTER_PATH`` at it. Kernels
started at the same moment can race for the same TCP ports ("Address already in use"): the
kernels here talk over IPC sockets in a private temporary folder instead. And starting a kernel
and importing pandas and matplotlib into it costs about two seconds, a third of a report: with
``reuse_kernel=True`` a worker process keeps one kernel for all the notebooks it runs, clearing
its namespace (``%reset -f``) before each, through papermill's engine interface
(:class:`WorkerKernelEngine`). A kernel that died is replaced.
"""

from __future__ import annotations

import json
import multiprocessing.util
import os
import shutil
import sys
import tempfile
from pathlib import Path

import papermill
from jupyter_client import BlockingKernelClient
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines

KERNEL_NAME = "rfd-audit"


# (process id, folder) of this process's kernel sockets. Not an environment variable: a worker
# process inherits the environment, and two kernels sharing a folder answer each other's clients.
_sockets: tuple[int, str] | None = None


def _socket_folder(fresh: bool) -> str:
    """Return this process's private socket folder, made anew when ``fresh`` or not yet made here."""
    global _sockets
    if fresh or _sockets is None or _sockets[0] != os.getpid():
        # Short and private: a Unix socket path must stay under ~100 characters.
        _sockets = (os.getpid(), tempfile.mkdtemp(prefix="rfdk-"))
    return _sockets[1]


class IpcKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel listens on IPC sockets in the folder :func:`execute` made."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        # IPC sockets are Unix-only; on Windows the kernel keeps TCP (ports race there, rarely).
        if os.name == "posix":
            self.transport = "ipc"
            self.ip = os.path.join(_socket_folder(fresh=False), "kernel")


class WorkerKernelEngine(NBClientEngine):
    """papermill's nbclient engine with one kernel kept per process between notebooks."""

    kernel: IpcKernelManager | None = None

    @classmethod
    def execute_managed_notebook(cls, nb_man, kernel_name, **kwargs):
        """Execute ``nb_man``'s notebook in this process's kernel (started on first use); return it."""
        kwargs.pop("input_path", None)
        timeout = kwargs.pop("execution_timeout", None)
        kwargs.pop("timeout", None)
        kwargs.pop("start_timeout", None)
        kwargs.pop("startup_timeout", None)
        if cls.kernel is not None:
            cls._reset()
        else:
            cls.kernel = IpcKernelManager(kernel_name=kernel_name)
            # A worker ends with os._exit, which skips atexit: Finalize runs before it.
            multiprocessing.util.Finalize(cls, cls.shutdown, exitpriority=10)
        client = PapermillNotebookClient(
            nb_man, km=cls.kernel, kernel_name=kernel_name, timeout=timeout, startup_timeout=60, **kwargs
        )
        try:
            return client.execute()
        except BaseException:
            cls.shutdown()  # the next notebook gets a fresh kernel, whatever state this one left
            raise
        finally:
            if client.kc is not None:
                client.kc.stop_channels()

    @classmethod
    def _reset(cls) -> None:
        """Clear the kept kernel's namespace, or replace the kernel if it does not answer."""
        connection = BlockingKernelClient()
        connection.load_connection_info(cls.kernel.get_connection_info())
        connection.start_channels()
        try:
            connection.wait_for_ready(timeout=30)
            reply = connection.execute_interactive("%reset -f", timeout=30, store_history=False)
            if reply["content"]["status"] != "ok":
                raise RuntimeError("the kernel could not clear its namespace")
        except (RuntimeError, TimeoutError):
            cls.shutdown()
        finally:
            connection.stop_channels()

    @classmethod
    def shutdown(cls) -> None:
        """Stop this process's kept kernel, if any."""
        kernel, cls.kernel = cls.kernel, None
        if kernel is not None and kernel.has_kernel:
            run_sync(kernel.shutdown_kernel)(now=True)
        if kernel is not None and _sockets is not None and _sockets[0] == os.getpid():
            shutil.rmtree(_sockets[1], ignore_errors=True)


papermill_engines.register("rfd-audit-worker", WorkerKernelEngine)


def kernel_folder(root: str | os.PathLike[str]) -> Path:
    """Write the :data:`KERNEL_NAME` kernelspec (this interpreter) under ``root`` and return ``root``.

    ``root`` then goes on ``JUPYTER_PATH`` (its ``kernels/`` folder holds the spec).
    """
    # Absolute: papermill runs the notebook from another working directory.
    root = Path(root).resolve()
    spec = root / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True, exist_ok=True)
    kernel = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": f"rfd-audit (Python {sys.version_info.major}.{sys.version_info.minor})",
        "language": "python",
        # Charts are drawn without a screen; no GUI event loop is wanted.
        "env": {"MPLBACKEND": "Agg", "PYDEVD_DISABLE_FILE_VALIDATION": "1"},
    }
    (spec / "kernel.json").write_text(json.dumps(kernel, indent=1), encoding="utf-8")
    return root


def execute(
    notebook: str | os.PathLike[str],
    output: str | os.PathLike[str],
    parameters: dict[str, object],
    *,
    kernels: str | os.PathLike[str],
    timeout: float = 600,
    reuse_kernel: bool = False,
) -> Path:
    """Execute ``notebook`` with ``parameters`` into ``output`` and return ``output``.

    ``kernels`` is a folder made by :func:`kernel_folder`; ``reuse_kernel`` keeps the kernel for
    the next notebook this process runs (see the module's docstring). Raises papermill's
    ``PapermillExecutionError`` when a cell fails; ``output`` then holds the notebook as far as
    it ran, with the error, for the analyst to open.
    """
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        [str(kernels), *filter(None, os.environ.get("JUPYTER_PATH", "").split(os.pathsep))]
    )
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    folder = _socket_folder(fresh=not reuse_kernel or WorkerKernelEngine.kernel is None)
    try:
        papermill.execute_notebook(
            _literal(notebook),
            _literal(output),
            parameters=parameters,
            kernel_name=KERNEL_NAME,
            cwd=str(output.parent),
            progress_bar=False,
            log_output=False,
            execution_timeout=timeout,
            kernel_manager_class=IpcKernelManager,
            # Saved once at the end, not after every cell (each save rewrites every embedded chart).
            request_save_on_cell_execute=False,
            shutdown_kernel="immediate",
            engine_name="rfd-audit-worker" if reuse_kernel else None,
        )
    finally:
        if not reuse_kernel or WorkerKernelEngine.kernel is None:
            shutil.rmtree(folder, ignore_errors=True)
    return output


def _literal(path: str | os.PathLike[str]) -> str:
    """Return ``path`` as papermill takes it literally (it fills ``{name}`` in paths from parameters)."""
    return str(path).replace("{", "{{").replace("}", "}}")

"""Execute one report notebook with papermill in a kernel that runs this very interpreter.

Two things go wrong with notebooks run in parallel on analysts' machines, and this module is
where they are dealt with. A kernel found by name may be another Python (one installed with
``--user``, or a conda base): :func:`kernel_folder` writes a kernelspec, :data:`KERNEL_NAME`,
whose ``argv`` is ``sys.executable``, and the runner points ``JUPYTER_PATH`` at it. And kernels
started at the same moment can race for the same TCP ports ("Address already in use"): the
kernels here talk over IPC sockets in a private temporary folder instead.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import papermill
from jupyter_client.manager import AsyncKernelManager

KERNEL_NAME = "rfd-audit"


SOCKETS = "RFD_AUDIT_KERNEL_SOCKETS"  # the folder :func:`execute` made for this process's kernel


class IpcKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel listens on IPC sockets in the folder :func:`execute` made."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.transport = "ipc"
        self.ip = os.path.join(os.environ[SOCKETS], "kernel")


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
) -> Path:
    """Execute ``notebook`` with ``parameters`` into ``output`` and return ``output``.

    ``kernels`` is a folder made by :func:`kernel_folder`. Raises papermill's
    ``PapermillExecutionError`` when a cell fails; ``output`` then holds the notebook as far as
    it ran, with the error, for the analyst to open.
    """
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        [str(kernels), *filter(None, os.environ.get("JUPYTER_PATH", "").split(os.pathsep))]
    )
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    # Short and private: a Unix socket path must stay under ~100 characters.
    os.environ[SOCKETS] = tempfile.mkdtemp(prefix="rfdk-")
    try:
        papermill.execute_notebook(
            str(notebook),
            str(output),
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
        )
    finally:
        shutil.rmtree(os.environ.pop(SOCKETS), ignore_errors=True)
    return output

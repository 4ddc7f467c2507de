"""The built-in synthetic set as the audit sees it, and the audit a notebook opened by hand shows.

:func:`demo_data` is the one road from the synthetic set to classified spells (written, read back
through the real reader, classified): the demo command and the tests take it. A notebook's
``audit_file`` parameter names a run saved by ``rfd-audit run`` (the run fills it in); left
empty, as when an analyst opens the notebook by hand, :func:`load_run` reads the newest run under
``reports/`` (or the one its ``run_name`` parameter names), found through :mod:`rfd_lib.config`.
:func:`demo_run` audits the synthetic set without a run.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from rfd_lib import config
from rfd_lib.engine.classification import classify
from rfd_lib.errors import RfdAuditError
from rfd_lib.extracts.populations import read_populations
from rfd_lib.extracts.reading import Extract, load_extracts
from rfd_lib.metrics.audit import audit_metrics
from rfd_lib.report.saved_audit import AuditRun, long_date, provider_names
from rfd_lib.report.saved_audit import load_run as load_saved_run
from rfd_lib.synthetic import SyntheticSet, write_extracts


@dataclass(frozen=True)
class DemoData:
    """The synthetic set written, read and classified: its files, the extract and the populations."""

    written: SyntheticSet
    extract: Extract
    classified: pd.DataFrame
    populations: pd.DataFrame


def demo_data(
    folder: str | os.PathLike[str],
    *,
    seed: int = 2025,
    scale: float = 1.0,
    rule: str | os.PathLike[str] = "2K_RFD_back",
    skip: Iterable[str | os.PathLike[str]] = (),
) -> DemoData:
    """Return the synthetic set written to ``folder``, read back through the real reader, classified.

    ``skip`` names files in ``folder`` the reader must pass over (an output written there).
    """
    written = write_extracts(Path(folder), seed=seed, scale=scale)
    extract = load_extracts(written.extracts, skip=skip)
    return DemoData(written, extract, classify(extract.spells, rule), read_populations(written.populations))


def load_run(path: str | os.PathLike[str] | None, run_name: str = "") -> AuditRun:
    """Return the :class:`AuditRun` saved at ``path``, or else the run named ``run_name``, or else the newest.

    Runs are looked for under the reports folder (:func:`rfd_lib.config.saved_runs`); with none
    there, or none of that name, raises :class:`RfdAuditError` in one line.
    """
    if path:
        return load_saved_run(path)
    return load_saved_run(find_run(run_name))


def find_run(run_name: str = "") -> Path:
    """Return the saved audit of the run ``run_name`` under the reports folder (``""``: the newest run)."""
    runs = config.saved_runs()
    folders = " or ".join(str(folder) for folder in config.report_folders())
    if run_name:
        named = [path for path in runs if path.parents[1].name == run_name]
        if not named:
            known = ", ".join(sorted({path.parents[1].name for path in runs})) or "none"
            raise RfdAuditError(
                f"no audit run named {run_name!r} in {folders} (runs there: {known})",
                hint="leave run_name empty for the newest run, or run `make report` first",
            )
        return named[0]
    if not runs:
        raise RfdAuditError(
            f"no audit run yet in {folders}", hint="run `make report` first (or rfd-audit run PARAMS.yaml)"
        )
    return runs[0]


def demo_run(seed: int = 2025) -> AuditRun:
    """Return the synthetic set's audit (made in a temporary folder; it keeps no spells for page.spells)."""
    with tempfile.TemporaryDirectory(prefix="rfd-demo-") as folder:
        data = demo_data(folder, seed=seed)
    return AuditRun(
        audit=audit_metrics(data.classified, populations=data.populations),
        name="demo (synthetic data, run by hand)",
        provider_names=provider_names(data.populations),
        provenance=(("data", f"built-in synthetic set, seed {seed} (no real patients)"),),
        run_date=long_date(date.today()),
    )

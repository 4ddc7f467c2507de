"""The audit a report notebook shows when it is opened by hand: a given run, or the demo's.

A notebook's ``audit_file`` parameter names a run saved by ``rfd-audit run``; left empty, the
notebook audits the built-in synthetic set, made here in a temporary folder.
"""

from __future__ import annotations

import os
import tempfile
from datetime import date

from rfd_lib.engine.classification import classify
from rfd_lib.extracts.populations import read_populations
from rfd_lib.extracts.reading import load_extracts
from rfd_lib.metrics.audit import audit_metrics
from rfd_lib.report.saved_audit import AuditRun, long_date, provider_names
from rfd_lib.report.saved_audit import load_run as load_saved_run
from rfd_lib.synthetic import write_extracts


def load_run(path: str | os.PathLike[str] | None) -> AuditRun:
    """Return the :class:`AuditRun` saved at ``path``; ``""`` or None gives :func:`demo_run`."""
    return load_saved_run(path) if path else demo_run()


def demo_run(seed: int = 2025) -> AuditRun:
    """Return the built-in synthetic set's audit (made in a temporary folder), for notebooks run by hand."""
    with tempfile.TemporaryDirectory(prefix="rfd-demo-") as folder:
        written = write_extracts(folder, seed=seed)
        extract = load_extracts(written.extracts)
        populations = read_populations(written.populations)
    audit = audit_metrics(classify(extract.spells), populations=populations)
    return AuditRun(
        audit=audit,
        name="demo (synthetic data, run by hand)",
        provider_names=provider_names(populations),
        provenance=(("data", f"built-in synthetic set, seed {seed} (no real patients)"),),
        run_date=long_date(date.today()),
    )

"""What every report of one audit run is drawn from, saved once and read by each notebook.

:func:`rfd_lib.pipeline.runner.run_audit` works out the audit (:func:`rfd_lib.metrics.audit.audit_metrics`)
once, wraps it with the provider names, the provenance and the run date as an :class:`AuditRun`,
and saves it in the run's internal folder; each notebook reads it back with :func:`load_run`.
It holds published (disclosure-controlled) figures, never spells, and, for the SPC charts
alone, the true counts per provider and quarter they are worked out from (``spc_true_counts``:
never shown, never to be written out), and where the run's classified spells are (the
notebooks' ``page.spells``: :mod:`rfd_lib.report.analyst`). (A notebook opened by hand reads the
newest run: :mod:`rfd_lib.pipeline.demo`.)
"""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from rfd_lib.atomic import write_atomically
from rfd_lib.errors import RfdAuditError
from rfd_lib.metrics.audit import AuditMetrics
from rfd_lib.wording import say

SPELLS_FILE = "classified_spells.parquet"  # in a run's internal folder, beside audit_run.pkl
GUIDANCE = "NHS England Evidence-Based Interventions: lumbar radiofrequency facet joint denervation"
# What the rates are per, and the funnel plot's x axis, by the population they divide by.
RATE_PER = {
    "adult_population": "shared.rate_per.adult_population",
    "catchment_population": "shared.rate_per.catchment_population",
}
POPULATION_AXIS = {
    "adult_population": "shared.population_axis.adult_population",
    "catchment_population": "shared.population_axis.catchment_population",
}


@dataclass(frozen=True)
class AuditRun:
    """The audit's figures (:class:`AuditMetrics`) with what the reports print around them."""

    audit: AuditMetrics
    name: str  # the run's name, from its parameter file
    provider_names: dict[str, str]
    provenance: tuple[tuple[str, str], ...]
    run_date: str  # e.g. "25 November 2026"
    # The run's classified spells (internal/classified_spells.parquet: patient level, for the
    # notebooks' page.spells) and the rule that classified them; empty when not saved.
    spells_file: str = ""
    rule: str = "2K_RFD_back"
    marking: str | None = None  # the run's protective marking (protective_marking:), on every page

    def provider_name(self, code: str) -> str:
        """Return the provider's name, or its code when the populations file gives none."""
        return self.provider_names.get(code) or code

    def rate_per(self) -> str:
        """Return what every rate of the run is per, e.g. "per 100,000 adults (19+) per year"."""
        return say(RATE_PER[self.audit.rate_denominator])

    def population_axis(self) -> str:
        """Return the funnel plot's x axis: the population the rates are per."""
        return say(POPULATION_AXIS[self.audit.rate_denominator])


def save_run(run: AuditRun, target: str | os.PathLike[str]) -> Path:
    """Write ``run`` to ``target`` whole or not at all and return its path."""
    return write_atomically(target, pickle.dumps(run, protocol=pickle.HIGHEST_PROTOCOL))


def load_run(path: str | os.PathLike[str]) -> AuditRun:
    """Return the :class:`AuditRun` saved at ``path``.

    Only runs this tool saved in its own internal folder should be loaded (a pickle file).
    """
    path = Path(path)
    if not path.is_file():
        raise RfdAuditError(f"{path}: no such audit run", hint="run `rfd-audit run PARAMS.yaml` first")
    with path.open("rb") as handle:
        run = pickle.load(handle)
    if not isinstance(run, AuditRun):
        raise RfdAuditError(f"{path}: not an audit run saved by rfd-audit")
    # A run folder moved or copied (or saved before runs recorded it): its spells are beside it.
    beside = path.resolve().parent / SPELLS_FILE
    if not (run.spells_file and Path(run.spells_file).is_file()) and beside.is_file():
        run = replace(run, spells_file=str(beside))
    return run


def provider_names(populations) -> dict[str, str]:
    """Return provider code → name from a populations table (codes without a name are left out)."""
    if populations is None or "provider_name" not in populations.columns:
        return {}
    named = populations.dropna(subset=["provider_name"])
    return dict(zip(named["provider_code"], named["provider_name"], strict=True))


def long_date(day: date) -> str:
    """Return a date as a report prints it: ``25 November 2026``."""
    return f"{day.day} {day:%B %Y}"

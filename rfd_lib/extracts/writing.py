"""Write a run's results all at once or not at all: classified spells, quarantine, findings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from rfd_lib.atomic import WriteError, partial_path
from rfd_lib.errors import RfdAuditError
from rfd_lib.extracts.reading import Extract
from rfd_lib.extracts.safe_csv import write_csv

COMPANIONS = ("quarantine.csv", "findings.csv")  # written beside the classified spells


@dataclass(frozen=True)
class Written:
    """Where a run's files went."""

    spells: Path
    quarantine: Path | None
    findings: Path


def beside(output: Path, suffix: str) -> Path:
    """Return the path of a companion file of ``output`` (e.g. ``spells.quarantine.csv``)."""
    return output.with_name(f"{output.stem}.{suffix}")


def write_classified(classified: pd.DataFrame, extract: Extract, output: Path) -> Written:
    """Write the ``classified`` spells (Parquet) and ``extract``'s quarantine and findings (CSV).

    The CSV files are safe to open in a spreadsheet (:mod:`rfd_lib.extracts.safe_csv`).

    Every file is written to a temporary name first and renamed only when all are complete, so a
    failed run leaves no partial output; a quarantine file from an earlier run is removed when
    this run quarantines nothing.
    """
    if output.suffix.lower() != ".parquet":
        raise RfdAuditError(f"{output}: the output must be a .parquet file")
    output.parent.mkdir(parents=True, exist_ok=True)
    quarantine = beside(output, "quarantine.csv") if len(extract.quarantine) else None
    findings = beside(output, "findings.csv")
    pending: list[tuple[Path, Path]] = []
    try:
        pending.append(_partial(output, lambda p: classified.to_parquet(p, index=False)))
        if quarantine is not None:
            pending.append(_partial(quarantine, lambda p: write_csv(extract.quarantine, p)))
        pending.append(_partial(findings, lambda p: write_csv(extract.findings, p)))
    except BaseException:
        for partial, _ in pending:
            partial.unlink(missing_ok=True)
        raise
    for partial, final in pending:
        partial.replace(final)
    if quarantine is None:
        beside(output, "quarantine.csv").unlink(missing_ok=True)
    return Written(output, quarantine, findings)


def _partial(final: Path, write: object) -> tuple[Path, Path]:
    """Write ``final``'s content to a temporary file of this call's own; return (it, ``final``)."""
    partial = partial_path(final)
    try:
        write(partial)  # type: ignore[operator]
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise WriteError(
            f"{final}: cannot be written ({error.strerror or error})", hint="check there is space"
        ) from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return partial, final


def reconciliation_text(reconciliation: pd.DataFrame) -> str:
    """Return the reconciliation as a table with a total row: rows read = accepted + quarantined."""
    table = reconciliation.copy()
    total = table[["rows_read", "rows_accepted", "rows_quarantined", "spells"]].sum()
    table.loc[len(table)] = {"source": "total", "profile": "", **total.to_dict()}
    return table.to_string(index=False)

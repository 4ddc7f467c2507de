"""What became of each report of a run: its files, its time, and what went wrong, if anything."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SUMMARY = "summary"  # the all-providers report's name; a provider's report is named by its code
NOT_MADE = "not made: the run was interrupted first"


@dataclass(frozen=True)
class Report:
    """One report of a run: where its files are, how long it took, and what went wrong, if anything.

    ``error`` is set when no report was made; ``pdf_error`` when the HTML report was made but
    its PDF could not be printed.
    """

    name: str  # provider code, or "summary"
    executed: Path
    html: Path | None = None
    pdf: Path | None = None
    seconds: float = 0.0
    error: str | None = None
    pdf_error: str | None = None

"""Every path rfd-audit reads or writes by default, in one place.

Output paths are relative to the working directory (the repository root when run through
``make``); ``RFD_AUDIT_REPORTS`` moves the output folder, e.g. to a secure share on a national
platform. Parameters and reference data (column profiles, the spell schema) are read from the
repository's ``params/`` folder, or from ``RFD_AUDIT_PARAMS`` when that is set; so are the
reports' sentences (``params/wording.yaml``).

A notebook opened by hand finds the runs saved so far with :func:`saved_runs`: under
``RFD_AUDIT_REPORTS`` when set (read when called), otherwise under ``reports/`` in the working
directory and in the repository (JupyterLab starts a notebook's kernel in ``notebooks/``).
"""

from __future__ import annotations

import os
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
# A checkout reads the repository's params/; an installed wheel its packaged copy.
_DEFAULT_PARAMS = (
    REPOSITORY / "params" if (REPOSITORY / "params").is_dir() else Path(__file__).parent / "params"
)
# The report notebooks analysts edit; an installed wheel carries a copy.
NOTEBOOKS_DIR = (
    REPOSITORY / "notebooks" if (REPOSITORY / "notebooks").is_dir() else Path(__file__).parent / "notebooks"
)
REPORTS_DIR = Path(os.environ.get("RFD_AUDIT_REPORTS", "reports"))
EXAMPLE_DIR = REPORTS_DIR / "example"
SYNTHETIC_DIR = REPORTS_DIR / "synthetic-extracts"
DEMO_OUTPUT = REPORTS_DIR / "demo" / "classified_spells.parquet"
PARAMS_DIR = Path(os.environ.get("RFD_AUDIT_PARAMS", _DEFAULT_PARAMS))
PROFILES_DIR = PARAMS_DIR / "profiles"
SPELL_SCHEMA = PARAMS_DIR / "spell_schema.yaml"
CODE_LISTS = PARAMS_DIR / "code_lists.yaml"
EXPECTATIONS = PARAMS_DIR / "expectations.yaml"
WORDING = PARAMS_DIR / "wording.yaml"
# Where a run keeps the audit its notebooks read, inside its output folder.
AUDIT_RUN_FILE = Path("internal") / "audit_run.pkl"


def report_folders() -> list[Path]:
    """Return the folders holding runs: ``RFD_AUDIT_REPORTS``, or ``reports/`` here and in the repository."""
    configured = os.environ.get("RFD_AUDIT_REPORTS")
    if configured:
        return [Path(configured)]
    folders = [Path("reports").resolve(), REPOSITORY / "reports"]
    return list(dict.fromkeys(folders))


def saved_runs() -> list[Path]:
    """Return the saved audits in :func:`report_folders` (``<run>/internal/audit_run.pkl``), newest first."""
    found = {
        path.resolve()
        for folder in report_folders()
        for path in folder.glob(f"*/{AUDIT_RUN_FILE.as_posix()}")
    }
    return sorted(found, key=lambda path: path.stat().st_mtime_ns, reverse=True)

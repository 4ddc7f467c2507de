"""Every path rfd-audit reads or writes by default, in one place.

Output paths are relative to the working directory (the repository root when run through
``make``); ``RFD_AUDIT_REPORTS`` moves the output folder, e.g. to a secure share on a national
platform. Parameters and reference data (column profiles, the spell schema) are read from the
repository's ``params/`` folder, or from ``RFD_AUDIT_PARAMS`` when that is set; so are the
reports' sentences (``params/wording.yaml``).
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

"""Every path rfd-audit reads or writes by default, in one place.

Paths are relative to the working directory (the repository root when run through ``make``);
``RFD_AUDIT_REPORTS`` moves the output folder, e.g. to a secure share on a national platform.
"""

from __future__ import annotations

import os
from pathlib import Path

REPORTS_DIR = Path(os.environ.get("RFD_AUDIT_REPORTS", "reports"))
EXAMPLE_DIR = REPORTS_DIR / "example"
PARAMS_DIR = Path("params")

"""A run's parameter file for the integration tests: three providers of a small synthetic set, HTML only."""

from __future__ import annotations

import json
from pathlib import Path

CODES = ("ZF6", "ZH8", "ZK1")


def params_file(folder: Path, folder_of_extracts: Path, name: str = "q2", **change: object) -> Path:
    """Write ``<folder>/<name>.yaml`` for CODES' extracts in ``folder_of_extracts`` (and ``change``); return its path."""
    text = {
        "name": name,
        "quarter": "2026/27 Q2",
        "extracts": {"files": [str(folder_of_extracts / f"{code}.csv") for code in CODES]},
        "populations": str(folder_of_extracts / "populations.csv"),
        "output": str(folder / name),
        "formats": ["html"],
        "jobs": 2,
        **change,
    }
    path = folder / f"{name}.yaml"
    path.write_text(json.dumps(text), encoding="utf-8")  # JSON is YAML
    return path

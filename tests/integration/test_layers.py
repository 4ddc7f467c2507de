"""The layers hold: import-linter's contracts (pyproject.toml) pass, and an upward import breaks them.

``make lint`` runs ``lint-imports``; these tests run it too, on the package as it is and on a
copy with one upward import added, so a contract that silently checks nothing (a renamed layer,
a typo in a module name) fails here instead of passing forever.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.paths import ROOT

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint(folder: Path) -> subprocess.CompletedProcess[str]:
    """Return lint-imports' result on the rfd_lib package and pyproject.toml in ``folder``."""
    environment = {**os.environ, "PYTHONPATH": str(folder)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", str(folder / "pyproject.toml")],
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def copy(tmp_path) -> Path:
    shutil.copytree(ROOT / "rfd_lib", tmp_path / "rfd_lib", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_package_keeps_its_layers(copy):
    result = lint(copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "upward"),
    [
        ("engine/rule.py", "rfd_lib.metrics.status"),  # the engine reaching up to the metrics
        ("metrics/checks.py", "rfd_lib.report.tables"),  # metrics reaching up to the report
        ("report/pages.py", "rfd_lib.synthetic.example"),  # the report using synthetic data
    ],
)
def test_an_upward_import_breaks_a_contract(copy, module, upward):
    path = copy / "rfd_lib" / module
    path.write_text(path.read_text(encoding="utf-8") + f"\nimport {upward}  # noqa\n", encoding="utf-8")
    result = lint(copy)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout and upward in result.stdout
